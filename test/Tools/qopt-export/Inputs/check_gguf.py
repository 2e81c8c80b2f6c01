#!/usr/bin/env python3
"""Reads a GGUF file the way llama.cpp's gguf reader does and prints it.

Usage: check_gguf.py FILE.gguf [--against STORE.safetensors]

Prints each metadata key (arrays as their element type and length) and each
tensor (name, ggml type, dimensions). Fails when the file is malformed: bad
magic or version, a truncated field, tensor data outside the file or not
aligned, a block type whose size does not match its dimensions.

With --against, the Q8_0 / Q4_0 tensors are decoded, the llama.cpp rope row
order of attn_q / attn_k undone, and their int values and fp16 scales
compared with the qopt weight store's `LAYER.qweight` / `LAYER.scales`
(int values must be equal, scales equal to the store's rounded to fp16).
"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                "Inputs"))
import safetensors_io  # noqa: E402

GGML = {0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18),
        8: ("Q8_0", 32, 34), 30: ("BF16", 1, 2)}
SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f",
          7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
NAMES = {0: "u8", 1: "i8", 2: "u16", 3: "i16", 4: "u32", 5: "i32", 6: "f32",
         7: "bool", 8: "string", 10: "u64", 11: "i64", 12: "f64"}


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            sys.exit("truncated at byte %d" % self.pos)
        v = struct.unpack_from(fmt, self.data, self.pos)[0]
        self.pos += size
        return v

    def string(self):
        n = self.take("<Q")
        if self.pos + n > len(self.data):
            sys.exit("truncated string at byte %d" % self.pos)
        s = self.data[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.take("<I"), self.take("<Q")
            return ("array", et, [self.value(et) for _ in range(n)])
        if t not in SCALAR:
            sys.exit("unknown value type %d" % t)
        return self.take(SCALAR[t])


def read_gguf(path):
    data = open(path, "rb").read()
    r = Reader(data)
    if data[:4] != b"GGUF":
        sys.exit("bad magic")
    r.pos = 4
    version, tensors, kvs = r.take("<I"), r.take("<Q"), r.take("<Q")
    if version != 3:
        sys.exit("version %d, not 3" % version)
    meta = {}
    for _ in range(kvs):
        key = r.string()
        meta[key] = (r.take("<I"),)
        meta[key] = (meta[key][0], r.value(meta[key][0]))
    infos = []
    for _ in range(tensors):
        name = r.string()
        dims = [r.take("<Q") for _ in range(r.take("<I"))]
        infos.append((name, dims, r.take("<I"), r.take("<Q")))
    align = meta.get("general.alignment", (4, 32))[1]
    start = (r.pos + align - 1) // align * align
    out = {}
    for name, dims, t, off in infos:
        if t not in GGML:
            sys.exit("%s: unknown ggml type %d" % (name, t))
        tname, block, bsize = GGML[t]
        if dims[0] % block or off % align:
            sys.exit("%s: misaligned" % name)
        count = 1
        for d in dims:
            count *= d
        size = count // block * bsize
        if start + off + size > len(data):
            sys.exit("%s: data past the end of the file" % name)
        out[name] = (tname, dims, data[start + off:start + off + size])
    return meta, out


def decode_blocks(tname, dims, raw):
    """int values (row-major [N, K]) and scales of a Q8_0 / Q4_0 tensor."""
    k, rows = dims[0], dims[1]
    bsize = 34 if tname == "Q8_0" else 18
    vals, scales = [], []
    for b in range(k // 32 * rows):
        blk = raw[b * bsize:(b + 1) * bsize]
        scales.append(struct.unpack_from("<e", blk)[0])
        if tname == "Q8_0":
            vals.extend(struct.unpack_from("<32b", blk, 2))
        else:
            q = blk[2:]
            vals.extend([(x & 15) - 8 for x in q] + [(x >> 4) - 8 for x in q])
    return vals, scales


def unpermute(rows_list, heads):
    """Undoes llama.cpp's rope row order: row 2i + j of a head came from
    Hugging Face row j * d / 2 + i."""
    n = len(rows_list)
    d = n // heads
    out = [None] * n
    for h in range(heads):
        for i in range(d // 2):
            for j in range(2):
                out[h * d + j * d // 2 + i] = rows_list[h * d + 2 * i + j]
    return out


def main():
    meta, tensors = read_gguf(sys.argv[1])
    for key in sorted(meta):
        t, v = meta[key]
        if t == 9:
            print("%s: [%s x %d]" % (key, NAMES.get(v[1], v[1]), len(v[2])))
        elif t == 6:
            print("%s: %g" % (key, v))
        else:
            print("%s: %s" % (key, v))
    for name in sorted(tensors):
        tname, dims, _ = tensors[name]
        print("tensor %s %s %s" % (name, tname, "x".join(map(str, dims))))
    if len(sys.argv) < 4 or sys.argv[2] != "--against":
        return
    store = safetensors_io.read_file(sys.argv[3])
    layer_names = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
                   "attn_v": "self_attn.v_proj",
                   "attn_output": "self_attn.o_proj",
                   "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
                   "ffn_down": "mlp.down_proj"}
    heads = meta["llama.attention.head_count"][1]
    kv_heads = meta["llama.attention.head_count_kv"][1]
    checked = 0
    for name, (tname, dims, raw) in sorted(tensors.items()):
        if tname not in ("Q8_0", "Q4_0"):
            continue
        _, layer, kind, _ = name.split(".")
        label = "model.layers.%s.%s" % (layer, layer_names[kind])
        vals, scales = decode_blocks(tname, dims, raw)
        k, n = dims
        rows = [vals[r * k:(r + 1) * k] for r in range(n)]
        srows = [scales[r * k // 32:(r + 1) * k // 32] for r in range(n)]
        if kind in ("attn_q", "attn_k"):
            h = heads if kind == "attn_q" else kv_heads
            rows, srows = unpermute(rows, h), unpermute(srows, h)
        dtype, shape, qraw = store[label + ".qweight"]
        if tname == "Q8_0":
            want = list(struct.unpack("<%db" % (n * k), qraw))
        else:  # int4x2: two per byte, the even k in the low nibble
            want = []
            for x in qraw:
                lo, hi = x & 15, x >> 4
                want += [lo - 16 if lo > 7 else lo, hi - 16 if hi > 7 else hi]
        got = [v for row in rows for v in row]
        if got != want:
            sys.exit("%s: int values differ from %s.qweight" % (name, label))
        sdtype, _, sraw = store[label + ".scales"]
        ws = struct.unpack("<%df" % (len(sraw) // 4), sraw)
        want_s = [struct.unpack("<e", struct.pack("<e", s))[0] for s in ws]
        if [s for row in srows for s in row] != want_s:
            sys.exit("%s: scales differ from %s.scales" % (name, label))
        checked += 1
    print("checked %d quantized tensors against the store: equal" % checked)


main()
