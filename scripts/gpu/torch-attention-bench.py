#!/usr/bin/env python3
"""Decode attention: qopt's kernels beside PyTorch's SDPA in one run.

  torch-attention-bench.py QOPT.csv [--iterations N] [--flush-mb N] > TABLE.md

QOPT.csv is what `qopt-kernel-check BUNDLE --family=attention --bench=1
--max-seq-len=S` prints: one row per attention kernel and cache length
(kernel, kind = the key cache's storage, n / k = query / kv heads, group =
head dimension, m, us, seq = cached positions read). Each row is compared
with torch.nn.functional.scaled_dot_product_attention on a bf16 cache of
the same shape (one query token, GQA through enable_gqa), timed the same
way: CUDA events around the call, `flush-mb` MB written before each launch
so that the cache comes from HBM. Bandwidth: the cache bytes read (keys and
values, and per-token scales) over the time.
"""
import sys

import torch
import torch.nn.functional as F

from benchutil import header, setup, timed

BYTES = {"f32": 4, "bf16": 2, "f16": 2, "i8": 1, "f8e4m3": 1, "e4m3": 1}


def main():
    a, flush, rows = setup()
    header()
    print("| qopt kernel | KV cache | heads / kv heads x d | S | qopt us | qopt TB/s "
          "| SDPA bf16 us | SDPA TB/s | SDPA / qopt |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    cache = {}
    for r in rows:
        heads, kv, d = int(r["n"]), int(r["k"]), int(r["group"])
        s, m, us = int(r["seq"]), int(r["m"]), float(r["us"])
        elem = BYTES.get(r["kind"], 2)
        scales = 2 * s * 4 if r["b_scale"] == "per_token" else 0
        nbytes = 2 * s * kv * d * elem + scales
        key = (heads, kv, d, s, m)
        if key not in cache:
            q = torch.randn(1, heads, m, d, device="cuda", dtype=torch.bfloat16)
            k = torch.randn(1, kv, s, d, device="cuda", dtype=torch.bfloat16)
            v = torch.randn(1, kv, s, d, device="cuda", dtype=torch.bfloat16)
            fn = lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
            cache[key] = timed(fn, flush, a.iterations)
            del q, k, v
        tus = cache[key]
        sdpa_bytes = 2 * s * kv * d * 2
        print("| %s | %s %s | %d / %d x %d | %d | %.1f | %.2f | %.1f | %.2f | %.2f |" % (
            r["kernel"], r["kind"], r["b_scale"], heads, kv, d, s, us,
            nbytes / us / 1e6, tus, sdpa_bytes / tus / 1e6, tus / us))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
