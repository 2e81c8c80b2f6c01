#!/usr/bin/env python3
"""The table of gpu-bench.sh: qopt's bundles beside transformers.

  e2e-table.py LOG_DIR BUNDLE_DIR

Reads LOG_DIR/qopt-NAME.txt (`qopt-run --bench`), LOG_DIR/qopt-NAME.err
(the `weights:` line: what loading took) and LOG_DIR/torch.json
(torch-e2e-bench.py), and each bundle's manifest for the bytes a decode
step reads: every weight buffer but the embedding table (one row of it is
read), so the bf16 roofline is copy bandwidth / those bytes.
"""
import glob
import json
import os
import re
import sys

SIZES = {"f32": 4, "bf16": 2, "f16": 2, "i8": 1, "f8e4m3": 1, "i32": 4}


def weight_bytes(manifest):
    m = json.load(open(manifest))
    embedding = {k["args"][0] for k in m["kernels"] if k["family"] == "embedding"}
    total = 0
    for name, b in m["buffers"].items():
        if b["kind"] != "weight" or name in embedding:
            continue
        n = 1
        for d in b["shape"]:
            n *= d
        total += n // 2 if b["dtype"] == "i4x2" else n * SIZES[b["dtype"]]
    return total


def main():
    logs, bundles = sys.argv[1], sys.argv[2]
    torch = {}
    if os.path.exists(os.path.join(logs, "torch.json")):
        try:
            torch = json.load(open(os.path.join(logs, "torch.json")))
        except ValueError:
            torch = {}
    tb = torch.get("copy_tb_s")
    hf_prefill = torch.get("prefill", {}).get("tokens_per_s")
    hf_decode = {d["batch"]: d.get("tokens_per_s") for d in torch.get("decode", [])}
    rows = {}
    for b in sorted(glob.glob(os.path.join(bundles, "*.bundle"))):
        name = os.path.basename(b)[:-len(".bundle")]
        r = {"bytes": weight_bytes(os.path.join(b, "manifest.json"))}
        if not os.path.exists(os.path.join(logs, "qopt-%s.txt" % name)):
            continue
        for line in open(os.path.join(logs, "qopt-%s.txt" % name), errors="replace"):
            m = re.match(r"prefill: (\d+) tokens in ([\d.]+) ms: ([\d.]+) tokens/s", line)
            if m:
                r["prefill"] = float(m.group(3))
            m = re.match(r"decode: (\d+) tokens in ([\d.]+) ms: ([\d.]+) tokens/s \(([\d.]+) ms/token\)", line)
            if m:
                r["decode"], r["ms"] = float(m.group(3)), float(m.group(4))
        for line in open(os.path.join(logs, "qopt-%s.err" % name), errors="replace"):
            m = re.match(r"weights: (\d+) buffers from .* at load \(([\d.]+) s\)", line)
            if m:
                r["load"] = float(m.group(2))
        rows[name] = r
    base = rows.get("bf16", {})
    fmt = lambda x, f="%.1f": "-" if x is None else f % x
    ratio = lambda a, b: None if a is None or not b else a / b
    print("GPU: %s; torch %s, transformers %s; copy bandwidth %s TB/s" % (
        torch.get("gpu", "?"), torch.get("torch", "?"),
        torch.get("transformers", "?"), fmt(tb, "%.2f")))
    print()
    print("| bundle | weights read a decode step | quantized at load | prefill tokens/s | x qopt bf16 | x transformers | decode tokens/s (batch 1) | ms / token | x qopt bf16 | x transformers + compile | roofline |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, r in rows.items():
        roof = None
        if tb and r.get("decode"):
            roof = r["decode"] / (tb * 1e12 / r["bytes"])
        print("| %s | %.2f GB | %s s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, r["bytes"] / 1e9, fmt(r.get("load")), fmt(r.get("prefill"), "%.0f"),
            fmt(ratio(r.get("prefill"), base.get("prefill")), "%.2f"),
            fmt(ratio(r.get("prefill"), hf_prefill), "%.2f"),
            fmt(r.get("decode")), fmt(r.get("ms"), "%.3f"),
            fmt(ratio(r.get("decode"), base.get("decode")), "%.2f"),
            fmt(ratio(r.get("decode"), hf_decode.get(1)), "%.2f"),
            fmt(None if roof is None else 100 * roof, "%.0f %%")))
    if torch:
        print()
        print("transformers bf16: prefill %s tokens/s; decode (static cache%s): %s" % (
            fmt(hf_prefill, "%.0f"), ", torch.compile" if torch.get("compile") else "",
            ", ".join("batch %d %s" % (d["batch"], fmt(d.get("tokens_per_s")) + " tokens/s"
                      if "error" not in d else "batch %d failed (%s)" % (d["batch"], d["error"]))
                      for d in torch.get("decode", []))))
    print()
    print("qopt decodes one sequence (batch 1); batch > 1 is not implemented.")


if __name__ == "__main__":
    main()
