"""Reads safetensors files for qopt's test scripts (standard library only).

A tensor is (dtype, shape, raw bytes). Import it from a script with
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), RELATIVE))
    import safetensors_io
where RELATIVE leads to test/Inputs.
"""
import json
import os
import struct


def read_file(path, into=None):
    """The tensors of one safetensors file, added to `into` if given."""
    into = {} if into is None else into
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack_from("<Q", data)
    for name, info in json.loads(data[8:8 + n]).items():
        if name != "__metadata__":
            b, e = info["data_offsets"]
            into[name] = (info["dtype"], info["shape"], data[8 + n + b:8 + n + e])
    return into


def read_dir(path):
    """The tensors of every *.safetensors file in a directory (a qopt weight
    store or a single-file checkpoint)."""
    tensors = {}
    for name in sorted(os.listdir(path)):
        if name.endswith(".safetensors"):
            read_file(os.path.join(path, name), tensors)
    return tensors


def read_checkpoint(path):
    """The tensors of a checkpoint directory with model.safetensors.index.json."""
    with open(os.path.join(path, "model.safetensors.index.json")) as f:
        index = json.load(f)
    tensors = {}
    for shard in sorted(set(index["weight_map"].values())):
        read_file(os.path.join(path, shard), tensors)
    return tensors
