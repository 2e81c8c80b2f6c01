#!/usr/bin/env python3
"""Prints the tensors of a safetensors file or sharded index, one a line:

    NAME DTYPE [SHAPE] v0 v1 ...

in name order. Floats print with '%g'; F8_E4M3 values are decoded to
floats; U8 (packed int4x2) bytes print as unpacked signed nibbles, low
nibble first, prefixed by 'int4:'; I32 tensors named '*.qweight'
(int4x8_offset packing) print as their unpacked int4 values, prefixed by
'int4x8_offset:'.

Usage: dump_weights.py PATH [NAME...] (only the named tensors when names
are given).
"""
import json
import os
import struct
import sys


def e4m3fn(b):
    sign = -1.0 if b & 0x80 else 1.0
    exp = (b >> 3) & 0xF
    mant = b & 0x7
    if exp == 0xF and mant == 0x7:
        return float("nan")
    if exp == 0:
        return sign * mant / 8.0 * 2.0 ** -6
    return sign * (1.0 + mant / 8.0) * 2.0 ** (exp - 7)


def bf16(raw):
    (v,) = struct.unpack("<f", struct.pack("<I", raw << 16))
    return v


def fmt(v):
    if isinstance(v, int):
        return str(v)
    return "%g" % v


def decode(dtype, data):
    if dtype == "F32":
        return list(struct.unpack(f"<{len(data) // 4}f", data))
    if dtype == "BF16":
        return [bf16(r) for r in struct.unpack(f"<{len(data) // 2}H", data)]
    if dtype == "F16":
        return list(struct.unpack(f"<{len(data) // 2}e", data))
    if dtype == "I32":
        return list(struct.unpack(f"<{len(data) // 4}i", data))
    if dtype == "I8":
        return list(struct.unpack(f"<{len(data)}b", data))
    if dtype == "F8_E4M3":
        return [e4m3fn(b) for b in data]
    if dtype == "U8":
        out = []
        for b in data:
            for nib in (b & 0xF, b >> 4):
                out.append(nib - 16 if nib >= 8 else nib)
        return out
    raise SystemExit("unsupported dtype " + dtype)


def read_file(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        out[name] = (e["dtype"], e["shape"], body[b:end])
    return out


def main():
    path = sys.argv[1]
    tensors = {}
    if path.endswith(".json"):
        with open(path) as f:
            index = json.load(f)
        base = os.path.dirname(path)
        for shard in sorted(set(index["weight_map"].values())):
            tensors.update(read_file(os.path.join(base, shard)))
    else:
        tensors = read_file(path)
    names = sys.argv[2:] or sorted(tensors)
    for name in names:
        dtype, shape, data = tensors[name]
        values = decode(dtype, data)
        prefix = "int4: " if dtype == "U8" else ""
        if dtype == "I32" and name.endswith(".qweight"):
            values = [((v & 0xFFFFFFFF) >> (4 * i) & 0xF) - 8
                      for v in values for i in range(8)]
            prefix = "int4x8_offset: "
        print(name, dtype, "[" + ", ".join(map(str, shape)) + "]",
              prefix + " ".join(fmt(v) for v in values))


if __name__ == "__main__":
    main()
