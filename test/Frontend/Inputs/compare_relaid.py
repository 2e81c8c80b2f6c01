#!/usr/bin/env python3
"""Compares qopt-import's re-laid AutoAWQ / GPTQ tensors with qopt's own.

Usage: compare_relaid.py RELAID.safetensors STORE_DIR

Every LAYER.qweight and LAYER.zero_points of the re-laid store must equal
the qopt weight store's byte for byte, and LAYER.scales must equal the
store's rounded to fp16 (what the checkpoint holds). Prints the count.

A GPTQ act-order down_proj (make_int4_checkpoint.py --act-order) is re-laid
with its channels sorted by group, which gives qopt's values back, and an
int32 LAYER.input_permutation; the checkpoint moved the rows of the block's
gate_proj and up_proj to where the permutation says, so row perm[j] of
theirs must be qopt's row j. Prints how many permutations there are.
"""
import array
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "Inputs"))
import safetensors_io  # noqa: E402


relaid = safetensors_io.read_file(sys.argv[1])
store = safetensors_io.read_dir(sys.argv[2])
perms = {}
for name in [n for n in relaid if n.endswith(".input_permutation")]:
    dtype, shape, raw = relaid.pop(name)
    perm = list(array.array("i", raw))
    if dtype != "I32" or sorted(perm) != list(range(shape[0])):
        sys.exit(name + ": not an int32 permutation")
    perms[name[:-len(".down_proj.input_permutation")]] = perm


def moved_back(name, tensor):
    """A gate / up tensor of an act-order block with its rows put back."""
    dtype, shape, raw = tensor
    perm = perms.get(name.rsplit(".", 2)[0])
    if perm is None or ".down_proj." in name:
        return tensor
    width = len(raw) // shape[0]
    return dtype, shape, b"".join(
        raw[p * width:(p + 1) * width] for p in perm)


relaid = {n: moved_back(n, t) for n, t in relaid.items()}
if set(relaid) != set(store):
    sys.exit("tensor names differ: %s" % sorted(set(relaid) ^ set(store))[:4])
for name in sorted(relaid):
    got, want = relaid[name], store[name]
    if got[:2] != want[:2]:
        sys.exit("%s is %s %s, qopt's is %s %s" % (name, *got[:2], *want[:2]))
    if name.endswith(".scales"):
        rounded = array.array("f", (
            struct.unpack("<e", struct.pack("<e", s))[0]
            for s in array.array("f", want[2])))
        if array.array("f", got[2]) != rounded:
            sys.exit(name + ": not qopt's scales rounded to fp16")
    elif got[2] != want[2]:
        sys.exit(name + ": differs from qopt's")
print("%d tensors equal (scales as fp16)" % len(relaid))
if perms:
    print("%d act-order permutations" % len(perms))
