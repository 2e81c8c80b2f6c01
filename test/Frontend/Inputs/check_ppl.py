#!/usr/bin/env python3
"""Checks a qopt-run --ppl output against an expected perplexity.

Usage: check_ppl.py OUTPUT_FILE EXPECTED MAX_REL_DIFF

EXPECTED is a number, FILE.json:KEY (a number in a JSON object), or another
output file with a "perplexity:" line.

Prints the perplexity and its relative difference; exits 1 when the
difference is larger than MAX_REL_DIFF or the output has no perplexity.
"""
import json
import re
import sys

path, expected, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])


def perplexity_in(path):
    with open(path) as f:
        m = re.search(r"^perplexity: ([0-9.]+)$", f.read(), re.M)
    if not m:
        sys.exit("no 'perplexity:' line in " + path)
    return float(m.group(1))


if ".json:" in expected:
    file, key = expected.rsplit(":", 1)
    with open(file) as f:
        expected = json.load(f)[key]
    expected = float(expected)
else:
    try:
        expected = float(expected)
    except ValueError:
        expected = perplexity_in(expected)
ppl = perplexity_in(path)
diff = ppl / expected - 1
print("perplexity %.4f, expected %.4f: %+.4f %%" % (ppl, expected, diff * 100))
sys.exit(0 if abs(diff) <= tol else 1)
