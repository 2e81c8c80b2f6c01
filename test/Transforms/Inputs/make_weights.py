#!/usr/bin/env python3
"""Writes a safetensors file from a JSON spec (standard library only).

Usage: make_weights.py SPEC.json OUT.safetensors

SPEC maps tensor names to {"dtype": "BF16" | "F32" | "I32", "shape": [...],
"data": [...]} where data is a flat or nested list of numbers (token ids
for I32). The float values the tests use are exact in bf16.
"""
import json
import math
import struct
import sys


def flatten(v):
    if isinstance(v, list):
        for x in v:
            yield from flatten(x)
    else:
        yield float(v)


def bf16_bytes(values):
    out = bytearray()
    for v in values:
        (bits,) = struct.unpack("<I", struct.pack("<f", v))
        # Round to nearest even on the dropped 16 bits.
        bits += 0x7FFF + ((bits >> 16) & 1)
        out += struct.pack("<H", (bits >> 16) & 0xFFFF)
    return bytes(out)


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    header, blobs, offset = {}, [], 0
    for name in sorted(spec):
        entry = spec[name]
        values = list(flatten(entry["data"]))
        count = math.prod(entry["shape"])
        if len(values) != count:
            sys.exit(f"{name}: {len(values)} values for shape {entry['shape']}")
        if entry["dtype"] == "BF16":
            blob = bf16_bytes(values)
        elif entry["dtype"] == "F32":
            blob = struct.pack(f"<{count}f", *values)
        elif entry["dtype"] == "I32":
            blob = struct.pack(f"<{count}i", *(int(v) for v in values))
        else:
            sys.exit(f"{name}: unsupported dtype {entry['dtype']}")
        header[name] = {"dtype": entry["dtype"], "shape": entry["shape"],
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(sys.argv[2], "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


if __name__ == "__main__":
    main()
