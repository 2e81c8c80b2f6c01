#!/usr/bin/env python3
"""Writes a small safetensors file whose tensors are given by formulas.

Usage: pipeline_write.py OUT.safetensors NAME=DTYPE[D0,D1,...]:EXPR ...

DTYPE is F32 or BF16; EXPR is a Python expression in the flat element
index i and the row and column r, c of a 2-D tensor (c = i for 1-D), e.g.
'w=BF16[8,256]:((i*7)%11-5)/8' or 'h=F32[256,256]:float(r==c)'.
"""
import json
import math
import struct
import sys

sys.dont_write_bytecode = True  # keep the source tree clean


def bf16_bytes(values):
    out = bytearray()
    for v in values:
        (bits,) = struct.unpack("<I", struct.pack("<f", v))
        bits += 0x7FFF + ((bits >> 16) & 1)  # round to nearest even
        out += struct.pack("<H", (bits >> 16) & 0xFFFF)
    return bytes(out)


def main():
    out_path, specs = sys.argv[1], sys.argv[2:]
    header, blobs, offset = {}, [], 0
    for spec in specs:
        name, rest = spec.split("=", 1)
        decl, expr = rest.split(":", 1)
        dtype, dims = decl.split("[", 1)
        shape = [int(d) for d in dims.rstrip("]").split(",") if d]
        count = math.prod(shape)
        cols = shape[-1] if shape else 1
        values = [float(eval(expr, {"math": math}, {"i": i, "r": i // cols, "c": i % cols}))
                  for i in range(count)]
        if dtype == "F32":
            blob = struct.pack(f"<{count}f", *values)
        elif dtype == "BF16":
            blob = bf16_bytes(values)
        else:
            sys.exit(f"{name}: unsupported dtype {dtype}")
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(out_path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


if __name__ == "__main__":
    main()
