#!/usr/bin/env python3
"""Makes a variant of a Hugging Face checkpoint directory for importer tests.

Usage: checkpoint_variant.py SRC_DIR DST_DIR KIND [ARG...]

The variant links every file of SRC_DIR into DST_DIR, then damages or
rewrites one piece according to KIND. Standard library only. KINDs with
arguments:
  config-set KEY=JSON...   sets config.json keys (JSON null removes the key)
  tokenizer FILE           replaces tokenizer.json by FILE
  extra-tensor NAME        adds an F32 [2] tensor NAME to the smallest shard
  rename-tensor OLD NEW    renames tensor OLD (in its shard and the index)
  quant-set PATH=JSON...   sets a key of quantization_config by its dotted
                           path (a.b.c); JSON null removes the key
KINDs without: to-float16 (every BF16 tensor as F16, config dtype
float16), scales-to-bf16 (every F32 weight_scale / input_scale as BF16,
rounded to nearest even, as llm-compressor stores them), and the damages
below.
"""
import json
import os
import struct
import sys

src, dst, kind = sys.argv[1], sys.argv[2], sys.argv[3]
args = sys.argv[4:]
os.makedirs(dst, exist_ok=True)
for name in os.listdir(src):
    target = os.path.join(dst, name)
    if not os.path.lexists(target):
        os.symlink(os.path.abspath(os.path.join(src, name)), target)


def replace(name, data):
    path = os.path.join(dst, name)
    os.unlink(path)
    with open(path, "wb") as f:
        f.write(data)


def read(name):
    with open(os.path.join(src, name), "rb") as f:
        return f.read()


def smallest_shard():
    index = json.loads(read("model.safetensors.index.json"))
    shards = sorted(set(index["weight_map"].values()))
    return min(shards, key=lambda s: os.path.getsize(os.path.join(src, s)))


def split(data):
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), data[8 + n:]


def join(header, body):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


config = json.loads(read("config.json"))
if kind == "old-style-config":
    theta = config.pop("rope_parameters")["rope_theta"]
    config["rope_theta"] = theta
    config["torch_dtype"] = config.pop("dtype")
    replace("config.json", json.dumps(config, indent=2).encode())
elif kind == "malformed-config":
    replace("config.json", b'{"model_type": "llama", ')
elif kind == "unsupported-arch":
    config["model_type"] = "gpt_neox"
    replace("config.json", json.dumps(config).encode())
elif kind == "missing-tensor":
    config["num_hidden_layers"] += 1
    replace("config.json", json.dumps(config).encode())
elif kind == "config-set":
    for arg in args:
        key, value = arg.split("=", 1)
        config[key] = json.loads(value)
        if config[key] is None:
            del config[key]
    replace("config.json", json.dumps(config, indent=2).encode())
elif kind == "tokenizer":
    with open(args[0], "rb") as f:
        replace("tokenizer.json", f.read())
elif kind == "quant-set":
    for arg in args:
        path, value = arg.split("=", 1)
        keys = path.split(".")
        node = config["quantization_config"]
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = json.loads(value)
        if node[keys[-1]] is None:
            del node[keys[-1]]
    replace("config.json", json.dumps(config, indent=2).encode())
elif kind in ("scales-to-bf16", "to-float16"):
    import array

    def convert(name, dtype, data):
        """The tensor's new dtype and bytes (None: unchanged)."""
        if kind == "scales-to-bf16" and dtype == "F32" and name.endswith(
                (".weight_scale", ".input_scale")):
            bits = array.array("I", data)  # round to nearest even
            return "BF16", array.array("H", (
                ((x + 0x7FFF + ((x >> 16) & 1)) >> 16) & 0xFFFF
                for x in bits)).tobytes()
        if kind == "to-float16" and dtype == "BF16":
            wide = array.array("I", (h << 16 for h in array.array("H", data)))
            values = array.array("f", wide.tobytes())
            return "F16", struct.pack("<%de" % len(values), *values)
        return None

    for shard in sorted(set(json.loads(
            read("model.safetensors.index.json"))["weight_map"].values())):
        header, body = split(read(shard))
        out = bytearray()
        for name in sorted((k for k in header if k != "__metadata__"),
                           key=lambda k: header[k]["data_offsets"][0]):
            info = header[name]
            b, e = info["data_offsets"]
            data = body[b:e]
            changed = convert(name, info["dtype"], data)
            if changed:
                info["dtype"], data = changed
            info["data_offsets"] = [len(out), len(out) + len(data)]
            out += data
        replace(shard, join(header, bytes(out)))
    if kind == "to-float16":
        config["dtype"] = "float16"
        replace("config.json", json.dumps(config, indent=2).encode())
elif kind == "rename-tensor":
    old, new = args
    index = json.loads(read("model.safetensors.index.json"))
    shard = index["weight_map"].pop(old)
    index["weight_map"][new] = shard
    replace("model.safetensors.index.json", json.dumps(index).encode())
    header, body = split(read(shard))
    header[new] = header.pop(old)
    replace(shard, join(header, body))
elif kind == "malformed-index":
    replace("model.safetensors.index.json", b'{"weight_map": ')
else:
    shard = smallest_shard()
    data = read(shard)
    header, body = split(data)
    names = sorted(k for k in header if k != "__metadata__")
    a, b = names[0], names[1]
    if kind == "truncated-shard":
        data = data[: len(data) // 2]
    elif kind == "header-too-long":
        data = struct.pack("<Q", len(data) + 100) + data[8:]
    elif kind == "offsets-out-of-range":
        begin, end = header[a]["data_offsets"]
        header[a]["data_offsets"] = [begin + len(body), end + len(body)]
        data = join(header, body)
    elif kind == "overlapping":
        header[b]["dtype"] = header[a]["dtype"]
        header[b]["shape"] = header[a]["shape"]
        header[b]["data_offsets"] = header[a]["data_offsets"]
        data = join(header, body)
    elif kind == "unknown-dtype":
        header[a]["dtype"] = "F7"
        data = join(header, body)
    elif kind == "shape-mismatch":
        header[a]["shape"] = [1, 1]
        data = join(header, body)
    elif kind == "extra-tensor":
        header[args[0]] = {"dtype": "F32", "shape": [2],
                           "data_offsets": [len(body), len(body) + 8]}
        data = join(header, body + struct.pack("<2f", 1.0, 2.0))
    else:
        sys.exit("unknown variant " + kind)
    replace(shard, data)
