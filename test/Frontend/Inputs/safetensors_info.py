#!/usr/bin/env python3
"""Prints 'NAME DTYPE [SHAPE]' for each tensor of a safetensors file."""
import json
import struct
import sys

with open(sys.argv[1], "rb") as f:
    (n,) = struct.unpack("<Q", f.read(8))
    header = json.loads(f.read(n))
for name in sorted(k for k in header if k != "__metadata__"):
    entry = header[name]
    print(name, entry["dtype"], "[" + ", ".join(map(str, entry["shape"])) + "]")
