#!/usr/bin/env python3
"""Relative difference of two float tensors, and a small token file.

Usage:
  relative_diff.py tokens OUT.safetensors COUNT
      writes an I32 tensor 'tokens' [1, COUNT] of spread-out token ids
  relative_diff.py compare A.safetensors B.safetensors NAME TOLERANCE
      prints 'max |a - b| / max |a| = R' and 'within TOLERANCE' when R is at
      most TOLERANCE (exit 0), 'exceeds TOLERANCE' otherwise (exit 1)
"""
import json
import os
import struct
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dump_weights import decode, read_file  # noqa: E402


def write_tokens(path, count):
    ids = [(1 + i * 7919) % 32000 for i in range(count)]
    data = struct.pack("<%di" % count, *ids)
    header = json.dumps({"tokens": {"dtype": "I32", "shape": [1, count],
                                    "data_offsets": [0, len(data)]}})
    header += " " * ((8 - len(header) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header.encode() + data)


def compare(a_path, b_path, name, tol):
    da, sa, ra = read_file(a_path)[name]
    db, sb, rb = read_file(b_path)[name]
    if sa != sb:
        sys.exit(f"shapes differ: {sa} vs {sb}")
    a, b = decode(da, ra), decode(db, rb)
    scale = max(abs(x) for x in a)
    diff = max(abs(x - y) for x, y in zip(a, b))
    rel = diff / scale if scale else diff
    print(f"max |a - b| / max |a| = {rel:.3g}")
    if rel <= tol:
        print(f"within {tol:g}")
    else:
        print(f"exceeds {tol:g}")
        sys.exit(1)


if __name__ == "__main__":
    if sys.argv[1] == "tokens":
        write_tokens(sys.argv[2], int(sys.argv[3]))
    else:
        compare(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
