#!/usr/bin/env python3
"""Inspects safetensors files (or sharded *.safetensors.index.json stores)
for the pipeline, GPTQ/AWQ and calibration tests.

Usage:
  pipeline_tensors.py list PATH
      One line per tensor, in name order: NAME DTYPE [SHAPE].
  pipeline_tensors.py summary PATH NAME...
      For each named tensor: NAME DTYPE [SHAPE] finite=yes|no
      min=M max=M (values decoded as numbers; packed int4x2 U8 bytes as
      their signed nibbles).
  pipeline_tensors.py compare A B NAME...
      For each named tensor: 'NAME identical' or 'NAME differs (N of T
      elements)'; the shapes and dtypes must match.
  pipeline_tensors.py ratio A NAME_A B NAME_B
      The element-wise ratios A / B (same shape), rounded to 4 significant
      digits, as 'ratio R at N elements: I0 I1 ...' lines (the first 8
      indices), most frequent first.
"""
import json
import math
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dump_weights import decode, read_file  # noqa: E402


def read_store(path):
    if not path.endswith(".json"):
        return read_file(path)
    with open(path) as f:
        index = json.load(f)
    base = os.path.dirname(path)
    tensors = {}
    for shard in sorted(set(index["weight_map"].values())):
        tensors.update(read_file(os.path.join(base, shard)))
    missing = set(index["weight_map"]) - set(tensors)
    if missing:
        sys.exit(f"{path}: the index names tensors no shard has: {sorted(missing)}")
    return tensors


def shape_str(shape):
    return "[" + ", ".join(map(str, shape)) + "]"


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "list":
        tensors = read_store(args[0])
        for name in sorted(tensors):
            dtype, shape, _ = tensors[name]
            print(name, dtype, shape_str(shape))
    elif cmd == "summary":
        tensors = read_store(args[0])
        for name in args[1:]:
            dtype, shape, data = tensors[name]
            values = decode(dtype, data)
            finite = all(math.isfinite(v) for v in values)
            print(f"{name} {dtype} {shape_str(shape)} "
                  f"finite={'yes' if finite else 'no'} "
                  f"min={min(values):g} max={max(values):g}")
    elif cmd == "compare":
        a, b = read_store(args[0]), read_store(args[1])
        for name in args[2:]:
            da, sa, ra = a[name]
            db, sb, rb = b[name]
            if (da, sa) != (db, sb):
                sys.exit(f"{name}: {da} {sa} vs {db} {sb}")
            va, vb = decode(da, ra), decode(db, rb)
            n = sum(1 for x, y in zip(va, vb) if x != y)
            print(f"{name} identical" if n == 0 else
                  f"{name} differs ({n} of {len(va)} elements)")
    elif cmd == "ratio":
        da, sa, ra = read_store(args[0])[args[1]]
        db, sb, rb = read_store(args[2])[args[3]]
        if sa != sb:
            sys.exit(f"shapes differ: {sa} vs {sb}")
        groups = {}
        for i, (x, y) in enumerate(zip(decode(da, ra), decode(db, rb))):
            r = float(f"{x / y:.4g}") if y != 0 else (0.0 if x == 0 else math.inf)
            groups.setdefault(r, []).append(i)
        for r, idx in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0])):
            print(f"ratio {r:g} at {len(idx)} elements: " + " ".join(map(str, idx[:8])))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
