#!/usr/bin/env python3
"""Compares the calibration statistics of two qopt IR files, observer by
observer (matched by label). Reads dense attributes printed as decimal
lists, splats or hex blobs ("0x..." little-endian f32).

Usage: pipeline_stats.py A.mlir B.mlir

For each field (absmax, min, max) prints one line:

  FIELD: N observers, C channels: E equal, L lower, H higher

counting channels where A's value is equal to, lower than or higher than
B's; an observer of A missing from B, or of another size, is an error.
"""
import re
import struct
import sys

sys.dont_write_bytecode = True  # keep the source tree clean

OBSERVER = re.compile(r'qopt\.observe %\S+ \{label = "([^"]+)".*?stats = #qopt\.stats<(.*?)num_tokens')
FIELD = re.compile(r'\b(absmax|min|max) = dense<([^>]*)> : tensor<(\d+)xf32>')


def values(body, count):
    body = body.strip()
    if body.startswith('"0x'):
        raw = bytes.fromhex(body.strip('"')[2:])
        vals = list(struct.unpack(f"<{len(raw) // 4}f", raw))
    else:
        vals = [float(v) for v in body.strip("[]").split(",")]
    if len(vals) == 1:
        vals *= count
    if len(vals) != count:
        sys.exit(f"{len(vals)} values for tensor<{count}xf32>")
    return vals


def parse(path):
    out = {}
    with open(path) as f:
        for line in f:
            m = OBSERVER.search(line)
            if m:
                out[m.group(1)] = {name: values(body, int(count))
                                   for name, body, count in FIELD.findall(m.group(2))}
    return out


def main():
    a, b = parse(sys.argv[1]), parse(sys.argv[2])
    if not a:
        sys.exit("no calibrated observers in " + sys.argv[1])
    for field in ("absmax", "min", "max"):
        eq = lo = hi = channels = 0
        for label, fields in sorted(a.items()):
            va, vb = fields[field], b.get(label, {}).get(field)
            if vb is None or len(vb) != len(va):
                sys.exit(f"{label}: no matching {field} in {sys.argv[2]}")
            for x, y in zip(va, vb):
                channels += 1
                eq += x == y
                lo += x < y
                hi += x > y
        print(f"{field}: {len(a)} observers, {channels} channels: "
              f"{eq} equal, {lo} lower, {hi} higher")


if __name__ == "__main__":
    main()
