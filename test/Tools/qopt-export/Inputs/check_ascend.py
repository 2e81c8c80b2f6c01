#!/usr/bin/env python3
"""Checks an ascend-w8a8 export against msModelSlim's W8A8 table and qopt.

Usage: check_ascend.py DIR float16|bfloat16 STORE_DIR

DIR is qopt-export's output, STORE_DIR the weight stores of the exported
model (its rtn-*.safetensors: LAYER.qweight int8 and LAYER.scales f32; and
zp-*.safetensors: LAYER.int_bias, qopt's own integer bias). Checks, field by
field, for each quantized MatMul:
  weight int8 [n, k]          equal to qopt's int8 weights
  input_scale, input_offset   [1] in the model dtype; the offset an integer
  quant_bias int32 [n]        -input_offset * sum_k weight[n, k], and
                              equal to qopt's int_bias
  deq_scale [n]               int64 with float32 bits in the low 32 (float16
                              models) or float32 (bfloat16 models), equal to
                              float32(input_scale * weight_scale[n])
and that config.json's quantization_config has "model_quant_type": "W8A8"
and one entry per stored tensor ("W8A8" for the five above, "FLOAT" for the
rest), nothing more. Then, on fresh random int8 activations, that
(x_q . weight[n] + quant_bias[n]) * deq_scale[n] reproduces the float64
dequantized product (x_q - offset) * input_scale . weight[n] * scale[n]
(relative error below 1e-6). Prints one line per check.
"""
import json
import os
import random
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                "Inputs"))
import safetensors_io  # noqa: E402

out_dir, dtype, store_dir = sys.argv[1:4]
model_dtype = {"float16": "F16", "bfloat16": "BF16"}[dtype]


def values(t):
    dt, shape, raw = t
    fmt = {"I8": "b", "I32": "i", "I64": "q", "F32": "f", "F16": "e"}.get(dt)
    if dt == "BF16":
        return [struct.unpack("<f", b"\0\0" + raw[i:i + 2])[0]
                for i in range(0, len(raw), 2)]
    return list(struct.unpack("<%d%s" % (len(raw) // struct.calcsize(fmt), fmt),
                              raw))


def fail(msg):
    sys.exit("FAIL: " + msg)


tensors = safetensors_io.read_checkpoint(out_dir)
store = safetensors_io.read_dir(store_dir)
config = json.load(open(os.path.join(out_dir, "config.json")))
q = config["quantization_config"]
if q.get("model_quant_type") != "W8A8":
    fail("model_quant_type is %r" % q.get("model_quant_type"))
entries = {k: v for k, v in q.items() if k != "model_quant_type"}
if set(entries) != set(tensors):
    fail("config entries %s differ from the tensors %s" % (
        sorted(set(entries) ^ set(tensors))[:4], ""))

layers = sorted(k[:-len(".deq_scale")] for k in tensors
                if k.endswith(".deq_scale"))
suffixes = [".weight", ".input_scale", ".input_offset", ".quant_bias",
            ".deq_scale"]
for name, kind in entries.items():
    quantized = any(name == l + s for l in layers for s in suffixes)
    if kind != ("W8A8" if quantized else "FLOAT"):
        fail("%s is %r in quantization_config" % (name, kind))
print("config: model_quant_type W8A8, %d entries, %d W8A8" % (
    len(entries), sum(v == "W8A8" for v in entries.values())))

rng = random.Random()
worst = 0.0
for layer in layers:
    w = tensors[layer + ".weight"]
    n, k = w[1]
    expect = {".weight": ("I8", [n, k]), ".input_scale": (model_dtype, [1]),
              ".input_offset": (model_dtype, [1]), ".quant_bias": ("I32", [n]),
              ".deq_scale": ("I64" if dtype == "float16" else "F32", [n])}
    for s, (dt, shape) in expect.items():
        got = tensors[layer + s][:2]
        if list(got) != [dt, shape]:
            fail("%s%s is %s %s, the table says %s %s" % (
                layer, s, got[0], got[1], dt, shape))
    if w[2] != store[layer + ".qweight"][2]:
        fail(layer + ".weight differs from qopt's int8 weights")
    weight = values(w)
    scale_x = values(tensors[layer + ".input_scale"])[0]
    offset = values(tensors[layer + ".input_offset"])[0]
    if offset != int(offset):
        fail(layer + ".input_offset is not an integer")
    offset = int(offset)
    qbias = values(tensors[layer + ".quant_bias"])
    rowsum = [sum(weight[r * k:(r + 1) * k]) for r in range(n)]
    if qbias != [-offset * s for s in rowsum]:
        fail(layer + ".quant_bias is not -input_offset * sum_k weight")
    if qbias != values(store[layer + ".int_bias"]):
        fail(layer + ".quant_bias differs from qopt's int_bias")
    deq = values(tensors[layer + ".deq_scale"])
    if dtype == "float16":
        if any(d >> 32 for d in deq):
            fail(layer + ".deq_scale has high bits set")
        deq = [struct.unpack("<f", struct.pack("<I", d))[0] for d in deq]
    scales = values(store[layer + ".scales"])
    want = [struct.unpack("<f", struct.pack("<f", scale_x * s))[0]
            for s in scales]
    if deq != want:
        fail(layer + ".deq_scale is not float32(input_scale * weight_scale)")
    # Ascend's computation against the dequantized product, on fresh random
    # int8 activations, for a few rows.
    x = [rng.randint(-128, 127) for _ in range(k)]
    for r in rng.sample(range(n), 4):
        row = weight[r * k:(r + 1) * k]
        acc = sum(a * b for a, b in zip(x, row))
        ascend = (acc + qbias[r]) * deq[r]
        ref = sum((a - offset) * scale_x * b * scales[r]
                  for a, b in zip(x, row))
        err = abs(ascend - ref) / max(abs(ref), 1e-30)
        worst = max(worst, err)
print("%d layers: fields as the table says; int8 GEMM + quant_bias, times "
      "deq_scale, is the dequantized product (worst relative error %s)" % (
          len(layers), "below 1e-6" if worst < 1e-6 else "%.2e" % worst))
