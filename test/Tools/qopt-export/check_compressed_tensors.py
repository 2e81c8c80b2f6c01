#!/usr/bin/env python3
"""Checks a compressed-tensors checkpoint that qopt-export wrote.

Usage: check_compressed_tensors.py DIR ORIGINAL_CHECKPOINT_DIR [smoothed]

Checks config.json's quantization_config against compressed-tensors' field
rules (only keys the library defines, values of the right kinds), that the
index lists every tensor of every shard, each quantized linear's tensors
(names, dtypes, shapes), and, for layers whose weight was not smoothed,
that weight x weight_scale reproduces the original float weight within half
a quantization step (the first 16 rows of each layer; not for a `smoothed`
model, whose weights are not the checkpoint's). Prints one summary line; exits 1 on the first problem.
Standard library only.
"""
import array
import json
import math
import os
import struct
import sys

out_dir, orig_dir = sys.argv[1], sys.argv[2]
smoothed = sys.argv[3:] == ["smoothed"]
CONFIG_KEYS = {"quant_method", "format", "quantization_status",
               "config_groups", "ignore", "kv_cache_scheme"}
SCHEME_KEYS = {"targets", "weights", "input_activations",
               "output_activations"}
ARGS_KEYS = {"num_bits", "type", "symmetric", "strategy", "group_size",
             "block_structure", "dynamic", "observer", "actorder"}
STRATEGIES = {"tensor", "channel", "group", "block", "token"}


def fail(msg):
    sys.exit("check_compressed_tensors: " + msg)


def load_index(d):
    with open(os.path.join(d, "model.safetensors.index.json")) as f:
        return json.load(f)["weight_map"]


def read_header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        return header, 8 + n


def tensors_of(d):
    """name -> (dtype, shape, file, offset, nbytes) over the index's shards."""
    out = {}
    for shard in sorted(set(load_index(d).values())):
        path = os.path.join(d, shard)
        header, base = read_header(path)
        for name, t in header.items():
            if name == "__metadata__":
                continue
            b, e = t["data_offsets"]
            out[name] = (t["dtype"], t["shape"], path, base + b, e - b)
    return out


def read_bytes(t):
    dtype, shape, path, off, n = t
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(n)


def values(t):
    dtype = t[0]
    raw = read_bytes(t)
    if dtype == "INT4":  # pack-quantized words: 8 per int32, value + 8
        words = array.array("i", raw)
        return [((wd >> (4 * j)) & 0xF) - 8 for wd in words for j in range(8)]
    if dtype == "F32":
        return list(array.array("f", raw))
    if dtype == "BF16":
        return [struct.unpack("<f", b"\0\0" + raw[i:i + 2])[0]
                for i in range(0, len(raw), 2)]
    if dtype == "I8":
        return list(array.array("b", raw))
    if dtype == "F8_E4M3":
        return [e4m3(b) for b in raw]
    fail("unexpected dtype " + dtype)


def e4m3(b):
    s = -1.0 if b & 0x80 else 1.0
    e, m = (b >> 3) & 0xF, b & 7
    if e == 0:
        return s * m / 8 * 2.0 ** -6
    return s * (1 + m / 8) * 2.0 ** (e - 7)


with open(os.path.join(out_dir, "config.json")) as f:
    config = json.load(f)
q = config.get("quantization_config")
if not isinstance(q, dict):
    fail("config.json has no quantization_config")
if set(q) != CONFIG_KEYS:
    fail("quantization_config keys %s, expected %s" % (sorted(q), sorted(CONFIG_KEYS)))
if q["quant_method"] != "compressed-tensors" or q["quantization_status"] != "compressed":
    fail("quant_method / quantization_status")
if q["format"] not in ("int-quantized", "float-quantized", "pack-quantized"):
    fail("format " + str(q["format"]))
if not isinstance(q["ignore"], list) or "lm_head" not in q["ignore"]:
    fail("ignore must list lm_head")
groups = q["config_groups"]
if len(groups) != 1:
    fail("one config group expected")
scheme = next(iter(groups.values()))
if set(scheme) != SCHEME_KEYS or scheme["targets"] != ["Linear"]:
    fail("scheme keys / targets")
for role in ("weights", "input_activations"):
    a = scheme[role]
    if a is None:
        continue
    if not set(a) <= ARGS_KEYS:
        fail("%s has keys beyond QuantizationArgs: %s" % (role, sorted(set(a) - ARGS_KEYS)))
    if a["type"] not in ("int", "float") or a["strategy"] not in STRATEGIES:
        fail(role + " type / strategy")
    if a["type"] == "float" and a["num_bits"] != 8:
        fail(role + ": float is 8 bits")
    if a["strategy"] == "group" and not a["group_size"]:
        fail(role + ": group strategy without group_size")
    if a["strategy"] == "block" and len(a["block_structure"] or []) != 2:
        fail(role + ": block strategy without block_structure")
    if a["strategy"] == "token" and not a["dynamic"]:
        fail(role + ": token strategy is dynamic")
w, x = scheme["weights"], scheme["input_activations"]

tensors = tensors_of(out_dir)
index = load_index(out_dir)
if set(index) != set(tensors):
    fail("the index and the shards disagree")
orig = tensors_of(orig_dir)
quantized, checked = 0, 0
for name in sorted(tensors):
    if not name.endswith(".weight_scale"):
        continue
    layer = name[: -len(".weight_scale")]
    st = tensors[name]
    if q["format"] == "pack-quantized":
        wt, shp = tensors[layer + ".weight_packed"], tensors[layer + ".weight_shape"]
        if shp[0] != "I64" or shp[1] != [2]:
            fail(layer + ".weight_shape is not I64 [2]")
        n, k = struct.unpack("<2q", read_bytes(shp))
        if wt[0] != "I32" or wt[1] != [n, k // 8] or w["num_bits"] != 4:
            fail("%s.weight_packed is %s %s, expected I32 [%d, %d]" % (layer, wt[0], wt[1], n, k // 8))
        wt = ("INT4", [n, k]) + wt[2:]
    else:
        wt = tensors[layer + ".weight"]
        n, k = wt[1]
        want = {"int": "I8", "float": "F8_E4M3"}[w["type"]]
        if wt[0] != want:
            fail("%s.weight is %s, expected %s" % (layer, wt[0], want))
    shape = {"tensor": [1], "channel": [n, 1]}.get(w["strategy"])
    if w["strategy"] == "group":
        shape = [n, k // w["group_size"]]
    if w["strategy"] == "block":
        br, bc = w["block_structure"]
        shape = [-(-n // br), -(-k // bc)]
    if st[1] != shape:
        fail("%s is %s, expected %s" % (name, st[1], shape))
    if (layer + ".weight_zero_point" in tensors) == w["symmetric"]:
        fail(layer + ": weight_zero_point present iff asymmetric")
    zv = None
    if not w["symmetric"]:
        zt = tensors[layer + ".weight_zero_point"]
        if q["format"] == "pack-quantized":
            # Packed along N: row 8r + i of group g in bits 4i of word
            # (r, g), as value + 8.
            want = ("I32", [-(-n // 8), shape[1]])
            if tuple(zt[:2]) != want:
                fail("%s.weight_zero_point is %s %s, expected %s %s" % (
                    layer, zt[0], zt[1], *want))
            words = array.array("i", read_bytes(zt))
            zv = [0] * (n * shape[1])
            for r in range(want[1][0]):
                for g in range(shape[1]):
                    for i in range(8):
                        if 8 * r + i < n:
                            zv[(8 * r + i) * shape[1] + g] = (
                                (words[r * shape[1] + g] >> (4 * i)) & 0xF) - 8
        else:
            if tuple(zt[:2]) != ("I8", shape):
                fail("%s.weight_zero_point is %s %s, expected I8 %s" % (
                    layer, zt[0], zt[1], shape))
            zv = values(zt)
    static = x is not None and not x["dynamic"]
    if (layer + ".input_scale" in tensors) != static:
        fail(layer + ": input_scale present iff static activations")
    if static and tensors[layer + ".input_scale"][1] != [1]:
        fail(layer + ".input_scale is not [1]")
    quantized += 1
    # Dequantize against the original weight (unsmoothed layers only: their
    # original is the checkpoint's weight).
    ow = orig.get(layer + ".weight")
    if ow is None or smoothed:
        continue
    qv, sv, fv = values(wt), values(st), values(ow)
    cols = len(sv) // n if len(sv) > 1 else 1
    for r in range(min(n, 16)):
        for c in range(k):
            if w["strategy"] == "tensor":
                s = sv[0]
            elif w["strategy"] == "channel":
                s = sv[r]
            elif w["strategy"] == "group":
                s = sv[r * cols + c // w["group_size"]]
            else:
                s = sv[(r // br) * cols + c // bc]
            z = 0
            if zv is not None:
                z = zv[r * cols + c // w["group_size"]] \
                    if w["strategy"] == "group" else zv[r]
            deq, orig_v = (qv[r * k + c] - z) * s, fv[r * k + c]
            # Half a step of the integer grid; for e4m3, half its relative
            # step (2^-4) of the value, or of the subnormal step.
            tol = s / 2 if w["type"] == "int" else max(abs(orig_v) / 16, s * 2.0 ** -9) + 1e-12
            if abs(deq - orig_v) > tol * (1 + 1e-3):
                fail("%s[%d, %d]: %g x %g = %g, original %g" % (layer, r, c, qv[r * k + c], s, deq, orig_v))
    checked += 1
print("ok: %s, %d quantized layers (%d dequantized against the original), "
      "%d tensors in %d shards, ignore %s" % (
          q["format"], quantized, checked, len(tensors),
          len(set(index.values())), q["ignore"]))
