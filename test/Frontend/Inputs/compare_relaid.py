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


def read_safetensors(path, into):
    data = open(path, "rb").read()
    n = struct.unpack_from("<Q", data)[0]
    for k, v in json.loads(data[8:8 + n]).items():
        if k != "__metadata__":
            b, e = v["data_offsets"]
            into[k] = (v["dtype"], v["shape"], data[8 + n + b:8 + n + e])


relaid, store = {}, {}
read_safetensors(sys.argv[1], relaid)
for f in os.listdir(sys.argv[2]):
    if f.endswith(".safetensors"):
        read_safetensors(os.path.join(sys.argv[2], f), store)
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
