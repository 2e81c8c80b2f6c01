#!/usr/bin/env python3
"""Compares two float tensors element by element.

Usage: compare_tensors.py A.safetensors B.safetensors NAME TOLERANCE

Prints 'max |a - b| <= TOLERANCE' when every element of tensor NAME of A
is within TOLERANCE of the one of B, 'max |a - b| = D > TOLERANCE'
otherwise (and exits 1). Also prints 'identical' when no element differs
at all, 'not identical' otherwise.
"""
import os
import struct
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dump_weights import decode, read_file  # noqa: E402


def main():
    a_path, b_path, name, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    da, sa, ra = read_file(a_path)[name]
    db, sb, rb = read_file(b_path)[name]
    if sa != sb:
        sys.exit(f"shapes differ: {sa} vs {sb}")
    a, b = decode(da, ra), decode(db, rb)
    diff = max(abs(x - y) for x, y in zip(a, b))
    print("identical" if diff == 0 else "not identical")
    if diff <= tol:
        print(f"max |a - b| <= {sys.argv[4]}")
        return
    print(f"max |a - b| = {diff:g} > {sys.argv[4]}")
    sys.exit(1)


if __name__ == "__main__":
    main()
