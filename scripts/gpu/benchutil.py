"""What the PyTorch-beside-qopt benchmarks share: their command line, the
CSV rows of `qopt-kernel-check --bench`, and the timing method (CUDA events
around the call, `flush-mb` MB written before each launch so that its data
comes from HBM, not the L2)."""
import argparse
import csv

import torch


def setup():
    """Parses `QOPT.csv [--iterations N] [--flush-mb N]`; returns the
    arguments, the flush buffer and the CSV rows."""
    p = argparse.ArgumentParser()
    p.add_argument("csv")
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--flush-mb", type=int, default=256)
    a = p.parse_args()
    flush = torch.empty(a.flush_mb << 20, dtype=torch.uint8, device="cuda")
    with open(a.csv) as f:
        rows = list(csv.DictReader(f))
    return a, flush, rows


def header():
    print("GPU: %s, PyTorch %s" % (torch.cuda.get_device_name(), torch.__version__))
    print()


def timed(fn, flush, iterations):
    """Mean us of `fn` over `iterations` launches after one untimed."""
    fn()  # warm up (and compile / select the algorithm)
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    total = 0.0
    for _ in range(iterations):
        flush.zero_()
        start.record()
        fn()
        end.record()
        end.synchronize()
        total += start.elapsed_time(end)
    return total / iterations * 1000.0  # us
