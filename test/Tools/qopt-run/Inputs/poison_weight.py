#!/usr/bin/env python3
"""Copies the checkpoint SRC to DST with element INDEX of tensor NAME set to
VALUE (nan or inf), in whichever shard holds it (F32, BF16 or F16).

  poison_weight.py SRC DST NAME INDEX VALUE
"""
import json
import os
import shutil
import struct
import sys

src, dst, name, index, value = sys.argv[1:6]
index = int(index)
shutil.copytree(src, dst)
shard = "model.safetensors"
idx = os.path.join(dst, "model.safetensors.index.json")
if os.path.exists(idx):
    shard = json.load(open(idx))["weight_map"][name]
path = os.path.join(dst, shard)
with open(path, "r+b") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    info = header[name]
    x = float(value)
    if info["dtype"] == "F32":
        raw = struct.pack("<f", x)
    elif info["dtype"] == "BF16":
        raw = struct.pack("<f", x)[2:]
    elif info["dtype"] == "F16":
        raw = struct.pack("<e", x)
    else:
        sys.exit("unsupported dtype " + info["dtype"])
    f.seek(8 + n + info["data_offsets"][0] + index * len(raw))
    f.write(raw)
