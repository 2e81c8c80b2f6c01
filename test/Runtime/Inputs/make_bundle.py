#!/usr/bin/env python3
"""Writes a small compiled-model bundle (docs/bundle.md) by hand.

  make_bundle.py DIR [--vocab N] [--hidden N] [--max-tokens N]
                 [--max-positions N] [--version N] [--tokenizer FILE]
  make_bundle.py --ids FILE NAME=ID,ID,... [NAME=...]

The model: k_embed (a bf16 embedding table) -> k_norm (rms_norm to bf16) ->
k_head (a bf16 GEMM to the logits) -> k_argmax (the next token), with
deterministic weights (multiples of 1/64, exact in bf16). kernels.ptx names
the four entries; --tokenizer copies a tokenizer.json into the bundle. The
second form writes I32 token-id tensors to a safetensors file.
"""
import argparse
import json
import os
import random
import shutil
import struct
import sys


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype, shape, bytes)."""
    header, offset, blobs = {}, 0, []
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def bf16(values):
    return b"".join(struct.pack("<f", v)[2:] for v in values)


def write_ids(path, specs):
    tensors = []
    for spec in specs:
        name, ids = spec.split("=", 1)
        values = [int(i) for i in ids.split(",")] if ids else []
        tensors.append((name, "I32", [len(values)],
                        struct.pack("<%di" % len(values), *values)))
    write_safetensors(path, tensors)


def write_bundle(args):
    os.makedirs(args.dir, exist_ok=True)
    rnd = random.Random(1)
    vocab, hidden, max_tokens = args.vocab, args.hidden, args.max_tokens

    def values(n, lo, hi):
        return [rnd.randint(lo, hi) / 64.0 for _ in range(n)]

    table = values(vocab * hidden, -64, 64)
    norm = values(hidden, 32, 96)
    head = values(vocab * hidden, -64, 64)
    write_safetensors(os.path.join(args.dir, "weights.safetensors"), [
        ("table", "BF16", [vocab, hidden], bf16(table)),
        ("norm", "BF16", [hidden], bf16(norm)),
        ("head", "BF16", [vocab, hidden], bf16(head)),
    ])

    buffers = {
        "tokens": {"kind": "input", "dtype": "i32", "shape": [-1]},
        "positions": {"kind": "input", "dtype": "i32", "shape": [-1]},
        "table": {"kind": "weight", "dtype": "bf16", "shape": [vocab, hidden]},
        "norm": {"kind": "weight", "dtype": "bf16", "shape": [hidden]},
        "head": {"kind": "weight", "dtype": "bf16", "shape": [vocab, hidden]},
    }
    arena = 0
    for name, dtype, shape, size in [
            ("logits", "f32", [-1, vocab], 4 * max_tokens * vocab),
            ("h", "f32", [-1, hidden], 4 * max_tokens * hidden),
            ("n", "bf16", [-1, hidden], 2 * max_tokens * hidden),
            ("next", "i32", [1], 4)]:
        buffers[name] = {"kind": "arena", "dtype": dtype, "shape": shape,
                         "offset": arena}
        arena += (size + 255) // 256 * 256
    launch = {"block": [128, 1, 1], "token_tile": 1, "per_tile": 1,
              "grid_y": 1, "grid_z": 1, "shared_bytes": 0}
    tile = {"bm": 64, "bn": 64, "bk": 64, "warps_m": 2, "warps_n": 2,
            "stages": 2}
    kernels = [
        {"name": "k_embed", "family": "embedding",
         "spec": {"max_tokens": max_tokens, "vocab": vocab, "hidden": hidden,
                  "table_type": "bf16"},
         "args": ["table", "tokens", "h"], "launch": launch},
        {"name": "k_norm", "family": "rms_norm",
         "spec": {"max_tokens": max_tokens, "hidden": hidden,
                  "epsilon": 1e-5, "weight_type": "bf16", "out_type": "bf16",
                  "dynamic_per_token": False, "static_scale": False,
                  "static_asymmetric": False},
         "args": ["h", "norm", "n"], "launch": launch},
        {"name": "k_head", "family": "gemm",
         "spec": {"kind": "bf16", "max_tokens": max_tokens, "n": vocab,
                  "k": hidden, "a_scale": "none", "b_scale": "none",
                  "group_size": 0, "block_n": 0, "block_k": 0,
                  "b_zero_points": False, "int_bias": False, "bias": False,
                  "gated": False, "residual": False, "out_type": "f32",
                  "out_asymmetric": False, "tile": tile},
         "args": ["n", "head", "logits"], "launch": launch},
        {"name": "k_argmax", "family": "argmax",
         "spec": {"max_tokens": max_tokens, "vocab": vocab},
         "args": ["logits", "next"], "launch": launch},
    ]
    manifest = {
        "format": "qopt-bundle",
        "version": args.version,
        "chip": "sm_90a",
        "model": {"architecture": "llama", "vocab_size": vocab,
                  "max_position_embeddings": args.max_positions,
                  "bos_token_id": 1, "eos_token_id": 2},
        "recipe": "make_bundle.py",
        "max_tokens": max_tokens,
        "arena_bytes": arena,
        "ptx": "kernels.ptx",
        "weights": "weights.safetensors",
        "inputs": {"tokens": "tokens", "positions": "positions"},
        "outputs": {"logits": "logits", "next_token": "next"},
        "buffers": buffers,
        "kv_caches": [],
        "kernels": kernels,
        "prefill": [0, 1, 2, 3],
        "decode": [0, 1, 2, 3],
    }
    if args.tokenizer:
        shutil.copy(args.tokenizer, os.path.join(args.dir, "tokenizer.json"))
        manifest["tokenizer"] = "tokenizer.json"
    with open(os.path.join(args.dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    with open(os.path.join(args.dir, "kernels.ptx"), "w") as f:
        f.write(".version 8.4\n.target sm_90a\n")
        for k in kernels:
            f.write(".visible .entry %s()\n{}\n" % k["name"])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--ids":
        write_ids(sys.argv[2], sys.argv[3:])
        return
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--vocab", type=int, default=32000)
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--max-tokens", type=int, default=8)
    p.add_argument("--max-positions", type=int, default=1024)
    p.add_argument("--version", type=int, default=1)
    p.add_argument("--tokenizer")
    write_bundle(p.parse_args())


if __name__ == "__main__":
    main()
