#!/usr/bin/env python3
"""rms_norm + per-token quantize: qopt's kernels beside PyTorch in one run.

  torch-norm-bench.py QOPT.csv [--iterations N] [--flush-mb N] > TABLE.md

QOPT.csv is what `qopt-kernel-check BUNDLE --family=rms_norm --bench=...`
prints (kernel, kind = output type, n = row length, b_scale = the output's
scale, m, us). Rows with a per-token scale are compared with:

  copy           dst.copy_(src) of 1 GiB (read + write): the bandwidth the
                 kernel is measured against
  torch.compile  the same function (float32 rows, bf16 weight; the sum of
                 squares, x * rsqrt(mean + eps) * w, max|y| / qmax, y / s
                 rounded and saturated) under torch.compile
  bf16 rows      the same function on bf16 rows under torch.compile (the
                 issue's anchor; half the bytes of qopt's float32 rows)

Each is timed like qopt's kernels: CUDA events around the call, `flush-mb`
MB written before each launch. Bytes of a launch: the rows read, the
quantized rows and their scales written, the weight read.
"""
import sys

import torch

from benchutil import header, setup, timed


def norm_quant(x, w, eps: float, qmax: float, fp8: bool):
    xf = x.float()
    var = xf.pow(2).mean(-1, keepdim=True)
    y = w.float() * (xf * torch.rsqrt(var + eps))
    amax = y.abs().amax(-1, keepdim=True)
    ok = (amax > 0) & torch.isfinite(amax)
    s = torch.where(ok, amax / qmax, torch.ones_like(amax))
    if fp8:
        q = (y / s).clamp(-448.0, 448.0).to(torch.float8_e4m3fn)
    else:
        q = torch.round(y / s).clamp(-qmax, qmax).to(torch.int8)
    return q, s


def main():
    a, flush, rows = setup()
    rows = [r for r in rows
            if r["b_scale"] == "per_token" and r["kind"] in ("i8", "f8e4m3")]

    src = torch.empty(1 << 30, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    copy_us = timed(lambda: dst.copy_(src), flush, a.iterations)
    copy_tbs = 2 * src.numel() / copy_us / 1e6
    del src, dst
    header()
    print("device-to-device copy of 1 GiB: %.1f us, %.2f TB/s (read + write)"
          % (copy_us, copy_tbs))
    print()
    print("| out | M x N | qopt us | qopt TB/s | of copy | torch.compile f32 us "
          "| torch.compile / qopt | torch.compile bf16 rows us |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    compiled = torch.compile(norm_quant, dynamic=False)
    for r in rows:
        m, n, us = int(r["m"]), int(r["n"]), float(r["us"])
        fp8 = r["kind"] == "f8e4m3"
        qmax = 448.0 if fp8 else 127.0
        nbytes = m * n * 4 + m * n * 1 + m * 4 + n * 2
        tbs = nbytes / us / 1e6
        w = torch.rand(n, device="cuda", dtype=torch.bfloat16) + 0.5
        x = torch.randn(m, n, device="cuda", dtype=torch.float32)
        t32 = timed(lambda: compiled(x, w, 1e-5, qmax, fp8), flush, a.iterations)
        xb = x.to(torch.bfloat16)
        del x
        t16 = timed(lambda: compiled(xb, w, 1e-5, qmax, fp8), flush, a.iterations)
        del xb
        torch.cuda.empty_cache()
        print("| %s | %d x %d | %.1f | %.2f | %.0f %% | %.1f | %.2f | %.1f |" % (
            r["kind"], m, n, us, tbs, 100.0 * tbs / copy_tbs, t32, t32 / us,
            t16))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
