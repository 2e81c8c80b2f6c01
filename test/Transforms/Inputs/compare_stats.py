#!/usr/bin/env python3
"""Compares the calibration statistics of two qopt IR files.

Usage: compare_stats.py A.mlir B.mlir REL_TOLERANCE

For every observer label present in A, compares absmax, min and max with
B's, element by element, within REL_TOLERANCE relative to the larger
magnitude (absolutely for values near 0). Prints one line per observer,
'LABEL same' or 'LABEL differs: FIELD ...', and exits 1 if any differs.
"""
import re
import sys

OBSERVER = re.compile(r'label = "([^"]+)", stats = #qopt\.stats<(.*?)num_tokens')
FIELD = re.compile(r'(absmax|min|max) = dense<(\[[^>]*\]|[^>\[]+)> : tensor<(\d+)x')


def parse(path):
    out = {}
    with open(path) as f:
        for line in f:
            m = OBSERVER.search(line)
            if not m:
                continue
            fields = {}
            for name, body, count in FIELD.findall(m.group(2)):
                values = [float(v) for v in body.strip("[]").split(",")]
                if len(values) == 1:
                    values *= int(count)
                fields[name] = values
            out[m.group(1)] = fields
    return out


def main():
    a, b, tol = parse(sys.argv[1]), parse(sys.argv[2]), float(sys.argv[3])
    bad = False
    for label in sorted(a):
        diffs = []
        for name, va in sorted(a[label].items()):
            vb = b.get(label, {}).get(name)
            if vb is None or len(vb) != len(va) or any(
                    abs(x - y) > tol * max(abs(x), abs(y), 1e-3)
                    for x, y in zip(va, vb)):
                diffs.append(f"{name} {va} vs {vb}")
        if diffs:
            bad = True
            print(label, "differs:", "; ".join(diffs))
        else:
            print(label, "same")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
