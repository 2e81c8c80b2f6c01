#!/usr/bin/env python3
"""Writes an AutoAWQ or GPTQ checkpoint of a qopt W4A16 model's values.

Usage: make_int4_checkpoint.py SRC_CKPT STORE_DIR DST FORMAT [--damage D]
                                [--act-order SEED]

SRC_CKPT is the float checkpoint the model came from (config, tokenizer,
embeddings, norms), STORE_DIR the qopt weight store of its W4A16 layers
(LAYER.qweight uint8 [N, K/2], int4x2: two signed values per byte, the even
k in the low nibble; LAYER.scales f32 [N, G]; LAYER.zero_points i32 [N, G]
when asymmetric). FORMAT is one of
  awq      AutoAWQ GEMM: qweight int32 [K, N/8] packed along N in the order
           0 2 4 6 1 3 5 7, qzeros int32 [G, N/8] alike, scales fp16 [G, N]
  gptq     GPTQ v1: qweight int32 [K/8, N] packed along K, qzeros int32
           [G, N/8] packed along N holding zero - 1, scales fp16 [G, N],
           g_idx int32 [K] (desc_act true: g_idx = k / g, as act-order
           checkpoints whose order is the identity store it)
  gptq_v2  the same with the zero points as they are
Values are stored unsigned (value + 8, zero point + 8). Scales are rounded
to fp16, as these formats store them.

--act-order SEED (GPTQ) writes every mlp.down_proj as an act-order layer of
the same model: its input channels are dealt into the groups at random
(seeded), each group's channels in increasing order, and stored where they
land, with g_idx naming their group; the rows of gate_proj and up_proj are
moved the same way, so the checkpoint computes what the qopt model does.

--damage writes a bad checkpoint: qzeros-shape (layer 0's q_proj qzeros one
row short), g-idx (g_idx[0] moved to group 1: group 0 one channel short),
g-idx-range (g_idx[0] outside the groups), zero-15 (GPTQ v1 zero point
nibble 15).
Standard library only.
"""
import array
import json
import os
import random
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "Inputs"))
import safetensors_io  # noqa: E402

src, store_dir, dst, fmt = sys.argv[1:5]
options = dict(zip(sys.argv[5::2], sys.argv[6::2]))
damage = options.get("--damage", "")
act_order = options.get("--act-order")


store = safetensors_io.read_dir(store_dir)
ckpt = safetensors_io.read_checkpoint(src)
config = json.load(open(os.path.join(src, "config.json")))

LO = bytes(((b & 15) ^ 8) for b in range(256))  # signed nibble -> value + 8
HI = bytes(((b >> 4) ^ 8) for b in range(256))


def nibble_pairs(lo, hi):
    """Bytes lo[i] | hi[i] << 4 of two sequences of values below 16."""
    x = int.from_bytes(lo, "little") | (int.from_bytes(hi, "little") << 4)
    return x.to_bytes(len(lo), "little")


def words(b0, b1, b2, b3):
    """int32 words whose bytes are b0[i], b1[i], b2[i], b3[i]."""
    out = bytearray(4 * len(b0))
    out[0::4], out[1::4], out[2::4], out[3::4] = b0, b1, b2, b3
    return bytes(out)


def pack_along_n(cols, order):
    """[rows][N] values -> int32 words, column 8j + order[i] in nibble i."""
    out = bytearray()
    for c in cols:
        n = [c[o::8] for o in order]
        out += words(nibble_pairs(n[0], n[1]), nibble_pairs(n[2], n[3]),
                     nibble_pairs(n[4], n[5]), nibble_pairs(n[6], n[7]))
    return bytes(out)


def act_order_perm(k, group_size, seed):
    """perm[j]: the checkpoint channel of qopt's channel j (groups dealt at
    random, each group's channels increasing)."""
    rng = random.Random(seed)
    deal = list(range(k))
    rng.shuffle(deal)
    return [c for b in range(0, k, group_size)
            for c in sorted(deal[b:b + group_size])]


def move_rows(data, rows, perm):
    """`data` (bytes or an array) of `rows` equal rows, row j moved to row
    perm[j]."""
    width = len(data) // rows
    out = [None] * rows
    for j, p in enumerate(perm):
        out[p] = data[j * width:(j + 1) * width]
    moved = data[:0]
    for r in out:
        moved += r
    return moved


tensors = {}
layers = sorted(k[:-len(".qweight")] for k in store if k.endswith(".qweight"))
group_size = None
perms = {}
for layer in layers:
    _, (n, half), raw = store[layer + ".qweight"]
    k = 2 * half
    vals = bytearray(n * k)
    vals[0::2], vals[1::2] = raw.translate(LO), raw.translate(HI)
    _, (_, groups), sraw = store[layer + ".scales"]
    group_size = k // groups
    scales = array.array("f", sraw)
    if layer + ".zero_points" in store:
        zp = array.array("i", store[layer + ".zero_points"][2])
        zeros = bytes(z + 8 for z in zp)
    else:
        zeros = bytes([8]) * (n * groups)
    block = layer.rsplit(".", 1)[0]  # model.layers.L.mlp
    perm = None  # this layer's input channels, act-order
    if act_order is not None and block.endswith(".mlp"):
        if block not in perms:
            down_k = store[block + ".down_proj.qweight"][1][1] * 2
            down_groups = store[block + ".down_proj.scales"][1][1]
            perms[block] = act_order_perm(down_k, down_k // down_groups,
                                          "%s/%s" % (act_order, block))
        if layer.endswith(".down_proj"):
            perm = perms[block]
            inv = [0] * k
            for j, p in enumerate(perm):
                inv[p] = j
            vals = bytearray(b"".join(
                bytes(vals[r * k + inv[c]] for c in range(k))
                for r in range(n)))
        else:  # gate_proj, up_proj: their rows are down_proj's channels
            vals = move_rows(vals, n, perms[block])
            scales = move_rows(scales, n, perms[block])
            zeros = move_rows(zeros, n, perms[block])
    # [G, N] fp16 scales and [G][N] zero points, transposed from [N, G].
    tensors[layer + ".scales"] = ("F16", [groups, n], b"".join(
        struct.pack("<%de" % n, *scales[g::groups]) for g in range(groups)))
    zcols = [zeros[g::groups] for g in range(groups)]
    if fmt == "awq":
        cols = [bytes(vals[r::k]) for r in range(k)]  # [K][N]
        order = [0, 2, 4, 6, 1, 3, 5, 7]
        tensors[layer + ".qweight"] = ("I32", [k, n // 8],
                                       pack_along_n(cols, order))
        zrows = groups - 1 if damage == "qzeros-shape" and \
            layer.endswith("layers.0.self_attn.q_proj") else groups
        tensors[layer + ".qzeros"] = ("I32", [zrows, n // 8],
                                      pack_along_n(zcols[:zrows], order))
    else:
        # qweight [K/8, N]: word (i, c) holds k = 8i + j in nibble j.
        out = array.array("I", bytes(4 * (k // 8) * n))
        for c in range(n):
            row = vals[c * k:(c + 1) * k]
            out[c::n] = array.array("I", nibble_pairs(row[0::2], row[1::2]))
        tensors[layer + ".qweight"] = ("I32", [k // 8, n], out.tobytes())
        if fmt == "gptq":  # v1: zero point - 1, four bits
            zcols = [bytes((z - 1) & 15 for z in c) for c in zcols]
            if damage == "zero-15":
                zcols[0] = bytes([15]) + zcols[0][1:]
        tensors[layer + ".qzeros"] = ("I32", [groups, n // 8],
                                      pack_along_n(zcols, range(8)))
        g_idx = [i // group_size for i in range(k)]
        if perm is not None:
            for j, p in enumerate(perm):
                g_idx[p] = j // group_size
        if damage == "g-idx":
            g_idx[0] = 1
        elif damage == "g-idx-range":
            g_idx[0] = groups
        tensors[layer + ".g_idx"] = ("I32", [k],
                                     struct.pack("<%di" % k, *g_idx))
quantized = {layer + ".weight" for layer in layers}
for name, t in ckpt.items():
    if name not in quantized:
        tensors[name] = t

os.makedirs(dst, exist_ok=True)
header, body = {"__metadata__": {"format": "pt"}}, bytearray()
for name in sorted(tensors):
    dtype, shape, raw = tensors[name]
    header[name] = {"dtype": dtype, "shape": shape,
                    "data_offsets": [len(body), len(body) + len(raw)]}
    body += raw
text = json.dumps(header).encode()
with open(os.path.join(dst, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + body)
if fmt == "awq":
    q = {"quant_method": "awq", "bits": 4, "group_size": group_size,
         "zero_point": True, "version": "gemm",
         "modules_to_not_convert": None}
else:
    q = {"quant_method": "gptq", "bits": 4, "group_size": group_size,
         "desc_act": True, "sym": all(l + ".zero_points" not in store
                                      for l in layers),
         "static_groups": False, "true_sequential": True,
         "damp_percent": 0.01,
         "checkpoint_format": "gptq_v2" if fmt == "gptq_v2" else "gptq"}
config["quantization_config"] = q
config["dtype"] = "float16" if fmt != "awq" else config.get("dtype")
with open(os.path.join(dst, "config.json"), "w") as f:
    json.dump(config, f, indent=2)
for name in ("tokenizer.json", "tokenizer_config.json",
             "generation_config.json"):
    if os.path.exists(os.path.join(src, name)) and \
            not os.path.lexists(os.path.join(dst, name)):
        os.symlink(os.path.abspath(os.path.join(src, name)),
                   os.path.join(dst, name))
