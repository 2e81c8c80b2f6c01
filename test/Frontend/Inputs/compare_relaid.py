#!/usr/bin/env python3
"""Compares qopt-import's re-laid AutoAWQ / GPTQ tensors with qopt's own.

Usage: compare_relaid.py RELAID.safetensors STORE_DIR

Every LAYER.qweight and LAYER.zero_points of the re-laid store must equal
the qopt weight store's byte for byte, and LAYER.scales must equal the
store's rounded to fp16 (what the checkpoint holds). Prints the count.
"""
import array
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "Inputs"))
import safetensors_io  # noqa: E402


relaid = safetensors_io.read_file(sys.argv[1])
store = safetensors_io.read_dir(sys.argv[2])
if set(relaid) != set(store):
    sys.exit("tensor names differ: %s" % sorted(set(relaid) ^ set(store))[:4])
for name in sorted(relaid):
    got, want = relaid[name], store[name]
    if got[:2] != want[:2]:
        sys.exit("%s is %s %s, qopt's is %s %s" % (name, *got[:2], *want[:2]))
    if name.endswith(".scales"):
        rounded = array.array("f", (
            struct.unpack("<e", struct.pack("<e", s))[0]
            for s in array.array("f", want[2])))
        if array.array("f", got[2]) != rounded:
            sys.exit(name + ": not qopt's scales rounded to fp16")
    elif got[2] != want[2]:
        sys.exit(name + ": differs from qopt's")
print("%d tensors equal (scales as fp16)" % len(relaid))
