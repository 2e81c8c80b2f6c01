#!/usr/bin/env python3
"""Writes a token tensor to a safetensors file for qopt-run tests.

Usage: write_tokens.py OUT.safetensors NAME DTYPE SHAPE VALUES

DTYPE is I32 or I64, SHAPE a comma-separated list (e.g. 2,5), VALUES a
comma-separated list of as many integers. Standard library only.
"""
import json
import struct
import sys

out, name, dtype, shape, values = sys.argv[1:6]
shape = [int(d) for d in shape.split(",")]
values = [int(v) for v in values.split(",") if v]
count = 1
for d in shape:
    count *= d
if count != len(values):
    sys.exit("shape %s needs %d values, got %d" % (shape, count, len(values)))
fmt = {"I32": "i", "I64": "q"}[dtype]
body = struct.pack("<%d%s" % (len(values), fmt), *values)
header = json.dumps({name: {"dtype": dtype, "shape": shape,
                            "data_offsets": [0, len(body)]}}).encode()
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header + body)
