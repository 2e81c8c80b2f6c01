#!/usr/bin/env python3
"""PyTorch beside qopt's GEMM kernels, in the same run on the same GPU.

  torch-gemm-bench.py QOPT.csv [--iterations N] [--flush-mb N] > TABLE.md

QOPT.csv is what `qopt-kernel-check BUNDLE --bench=...` prints (kernel, kind,
n, k, gated, b_scale, group, m, us). For each row this times PyTorch's
counterpart on the same shape, timed the same way (CUDA events around the
GEMM alone, `flush-mb` MB written before each launch so that the weights
are not in the L2):

  bf16           x @ w.t()                   (bf16, cuBLAS)
  s8             torch._int_mm(x, w.t())     (int8 -> int32; M padded to 32,
                                              the smallest it takes)
  e4m3           torch._scaled_mm(x, w.t(), rowwise scales, bf16 out)
                 (M padded to a multiple of 16); the 128x128-block kind
                 gets the same rowwise baseline
  w8a16, w4a16   x @ w.t() in bf16 (the dequantized GEMM), and for w4a16
                 torch._weight_int4pack_mm where this PyTorch has it

A gated GEMM (gate and up of the MLP in one kernel) is compared with one
GEMM of 2N columns. Prints a Markdown table: qopt's time and TFLOP/s,
PyTorch's time, and the speed ratio (PyTorch time / qopt time: above 1,
qopt is faster).
"""
import sys

import torch

from benchutil import header, setup, timed


def baselines(kind, m, n, k):
    """(name, callable) pairs for one GEMM of m x n x k."""
    dev = "cuda"
    out = []
    x = torch.randn(m, k, device=dev, dtype=torch.bfloat16)
    w = torch.randn(n, k, device=dev, dtype=torch.bfloat16) / k ** 0.5
    if kind in ("bf16", "w8a16", "w4a16"):
        out.append(("x @ w.t() bf16", lambda: x @ w.t()))
    if kind == "s8":
        mp = max(m, 32)
        xi = torch.randint(-127, 128, (mp, k), device=dev, dtype=torch.int8)
        wi = torch.randint(-127, 128, (n, k), device=dev, dtype=torch.int8)
        label = "torch._int_mm" + (" (M=%d)" % mp if mp != m else "")
        out.append((label, lambda: torch._int_mm(xi, wi.t())))
    if kind == "e4m3":
        mp = (m + 15) // 16 * 16
        xf = torch.randn(mp, k, device=dev).to(torch.float8_e4m3fn)
        wf = torch.randn(n, k, device=dev).to(torch.float8_e4m3fn)
        sa = torch.rand(mp, 1, device=dev, dtype=torch.float32)
        sb = torch.rand(1, n, device=dev, dtype=torch.float32)
        label = "torch._scaled_mm rowwise" + (" (M=%d)" % mp if mp != m else "")
        out.append((label, lambda: torch._scaled_mm(
            xf, wf.t(), scale_a=sa, scale_b=sb, out_dtype=torch.bfloat16)))
    if kind == "w4a16" and hasattr(torch, "_weight_int4pack_mm"):
        try:
            q = torch.randint(0, 16, (n, k), device=dev, dtype=torch.int32)
            packed = torch._convert_weight_to_int4pack(
                ((q[:, 1::2] << 4) | q[:, ::2]).to(torch.uint8), 8)
            sz = torch.rand(k // 128, n, 2, device=dev, dtype=torch.bfloat16)
            fn = lambda: torch._weight_int4pack_mm(x, packed, 128, sz)
            fn()
            out.append(("torch._weight_int4pack_mm", fn))
        except Exception as e:  # noqa: BLE001 - report and go on
            print("note: _weight_int4pack_mm unavailable: %s" %
                  str(e).splitlines()[0], file=sys.stderr)
    return out


def main():
    a, flush, rows = setup()
    header()
    print("| qopt kernel | B scales | N x K | M | qopt us | qopt TFLOP/s "
          "| PyTorch | PyTorch us | PyTorch / qopt time |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    cache = {}
    for r in rows:
        kind, m = r["kind"], int(r["m"])
        n, k, gated = int(r["n"]), int(r["k"]), r["gated"] == "1"
        us = float(r["us"])
        cols = 2 * n if gated else n
        flops = 2.0 * m * cols * k
        key = (kind, m, cols, k)
        if key not in cache:
            cache[key] = [(name, timed(fn, flush, a.iterations))
                          for name, fn in baselines(kind, m, cols, k)]
            torch.cuda.empty_cache()
        label = "%s%s (%s)" % (kind, " gated" if gated else "", r["kernel"])
        scale = r["b_scale"] + ("/%s" % r["group"] if r["group"] != "0" else "")
        for name, tus in cache[key]:
            print("| %s | %s | %d x %d | %d | %.1f | %.1f | %s | %.1f | %.2f |" % (
                label, scale, cols, k, m, us, flops / us / 1e6, name, tus,
                tus / us))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
