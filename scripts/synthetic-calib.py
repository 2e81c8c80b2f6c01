#!/usr/bin/env python3
"""Gives every observer of a model synthetic statistics (absmax 1 per
channel, 4096 tokens), for benchmarks of models the CPU executor cannot
calibrate (an 8B-shaped checkpoint: it would hold float32 weights). The
passes then stream and quantize the real weights; accuracy is not measured.

  synthetic-calib.py MODEL.obs.mlir (qopt --qopt-insert-observers) OUT.mlir
"""
import re
import sys

src, dst = sys.argv[1], sys.argv[2]
out = []
for line in open(src):
    m = re.search(r'qopt\.observe .*\{(.*)\} : tensor<\?x(\d+)xf32>', line)
    if m:
        n = m.group(2)
        stats = ('stats = #qopt.stats<absmax = dense<1.000000e+00> : '
                 'tensor<%sxf32>, num_tokens = 4096>' % n)
        line = line.replace('{' + m.group(1) + '}',
                            '{' + m.group(1) + ', ' + stats + '}', 1)
    out.append(line)
open(dst, 'w').writelines(out)
