// Errors of qopt-quantize-kv-cache. The model has two attention layers and
// no calibration statistics.

// Static scales without statistics: the error names the layer and says to
// calibrate (or to use dynamic scales or a scales file).
// RUN: qopt %s --qopt-quantize-kv-cache=granularity=tensor -verify-diagnostics -o /dev/null
// RUN: qopt %s --qopt-quantize-kv-cache="granularity=head dtype=f8E4M3FN" -verify-diagnostics -o /dev/null
// RUN: rm -f %t.nostats.mlir
// RUN: not qopt %s --qopt-quantize-kv-cache=granularity=tensor -o %t.nostats.mlir 2>&1 | FileCheck %s --check-prefix=NOSTATS
// RUN: not test -e %t.nostats.mlir
// NOSTATS: error: qopt-quantize-kv-cache: attention layer 0 has no calibration statistics for its keys and values; run qopt-calibrate on the model first (or use granularity=token, or scales=FILE)

// Neither dynamic schemes nor a scales file need statistics.
// RUN: qopt %s --qopt-quantize-kv-cache | FileCheck %s --check-prefix=OK
// RUN: echo '{"kv_cache": {"dtype": "int8", "scaling_factor": {"0": {"0": 0.5, "1": 0.25}}}}' > %t.good.json
// RUN: qopt %s --qopt-quantize-kv-cache="granularity=tensor scales=%t.good.json" | FileCheck %s --check-prefix=OK
// OK-COUNT-2: qopt.attention {{.*}}key_scheme = #qopt.scheme<i8,

// Bad option values.
// RUN: not qopt %s --qopt-quantize-kv-cache=dtype=i4 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not qopt %s --qopt-quantize-kv-cache=dtype=f8E5M2 2>&1 | FileCheck %s --check-prefix=DTYPE-E5
// RUN: not qopt %s --qopt-quantize-kv-cache=granularity=channel 2>&1 | FileCheck %s --check-prefix=GRAN
// RUN: not qopt %s --kv-cache=granularity=group 2>&1 | FileCheck %s --check-prefix=GRAN-GROUP
// DTYPE: for the --dtype option: 'i4' is not a valid value (valid values: i8, f8E4M3FN)
// DTYPE-E5: for the --dtype option: 'f8E5M2' is not a valid value (valid values: i8, f8E4M3FN)
// GRAN: for the --granularity option: 'channel' is not a valid value (valid values: token, head, tensor)
// GRAN-GROUP: for the --granularity option: 'group' is not a valid value (valid values: token, head, tensor)

// Aliases users type are accepted, in passes and pipelines alike.
// RUN: qopt %s --qopt-quantize-kv-cache="dtype=fp8 granularity=per-token" | FileCheck %s --check-prefix=ALIAS-F8
// RUN: qopt %s --kv-cache="dtype=e4m3 granularity=per-token" | FileCheck %s --check-prefix=ALIAS-F8
// RUN: qopt %s --kv-cache=dtype=int8 | FileCheck %s --check-prefix=ALIAS-I8
// ALIAS-F8-COUNT-2: qopt.attention {{.*}}key_scheme = #qopt.scheme<f8E4M3FN, #qopt.per_token, sym, dynamic>
// ALIAS-I8-COUNT-2: qopt.attention {{.*}}key_scheme = #qopt.scheme<i8, #qopt.per_token, sym, dynamic>

// A scales file gives static scales: one per layer (granularity=tensor) or
// per-head lists (granularity=head) of one scale per KV head.
// RUN: not qopt %s --qopt-quantize-kv-cache="scales=%t.good.json" 2>&1 | FileCheck %s --check-prefix=TOKEN
// TOKEN: error: qopt-quantize-kv-cache: scales= gives static scales; use granularity=tensor (or head, for per-head lists)
// RUN: not qopt %s --qopt-quantize-kv-cache="granularity=head scales=%t.good.json" 2>&1 | FileCheck %s --check-prefix=HEAD -DFILE=%t.good.json
// HEAD: error: qopt-quantize-kv-cache: [[FILE]]: scaling_factor["0"] entry "0" must map a layer index to a list of positive scales, one per KV head (granularity=head)
// RUN: echo '{"kv_cache": {"dtype": "int8", "scaling_factor": {"0": {"0": [0.5, 1], "1": [0.25]}}}}' > %t.heads.json
// RUN: not qopt %s --qopt-quantize-kv-cache="granularity=head scales=%t.heads.json" 2>&1 | FileCheck %s --check-prefix=HEADS -DFILE=%t.heads.json
// HEADS: error: qopt-quantize-kv-cache: [[FILE]]: layer 1 has 1 scales but 2 KV heads
// RUN: not qopt %s --qopt-quantize-kv-cache="granularity=tensor scales=%t.heads.json" 2>&1 | FileCheck %s --check-prefix=LIST -DFILE=%t.heads.json
// LIST: error: qopt-quantize-kv-cache: [[FILE]]: scaling_factor["0"] entry "0" must map a layer index to a positive scale (granularity=tensor; a list of per-head scales needs granularity=head)

// The file's dtype must be the pass's.
// RUN: echo '{"kv_cache": {"dtype": "float8_e4m3fn", "scaling_factor": {"0": {"0": 0.5, "1": 0.25}}}}' > %t.f8.json
// RUN: not qopt %s --qopt-quantize-kv-cache="granularity=tensor scales=%t.f8.json" 2>&1 | FileCheck %s --check-prefix=WRONG-DTYPE -DFILE=%t.f8.json
// RUN: not qopt %s --qopt-quantize-kv-cache="granularity=tensor dtype=f8E4M3FN scales=%t.good.json" 2>&1 | FileCheck %s --check-prefix=WRONG-DTYPE2 -DFILE=%t.good.json
// RUN: echo '{"kv_cache": {"scaling_factor": {"0": {"0": 0.5, "1": 0.25}}}}' > %t.nodtype.json
// RUN: not qopt %s --qopt-quantize-kv-cache="granularity=tensor scales=%t.nodtype.json" 2>&1 | FileCheck %s --check-prefix=NO-DTYPE -DFILE=%t.nodtype.json
// WRONG-DTYPE: error: qopt-quantize-kv-cache: [[FILE]]: kv_cache.dtype is "float8_e4m3fn" but the pass quantizes to "int8"
// WRONG-DTYPE2: error: qopt-quantize-kv-cache: [[FILE]]: kv_cache.dtype is "int8" but the pass quantizes to "float8_e4m3fn"
// NO-DTYPE: error: qopt-quantize-kv-cache: [[FILE]]: kv_cache.dtype is missing but the pass quantizes to "int8"

// The file must name exactly the model's layers.
// RUN: echo '{"kv_cache": {"dtype": "int8", "scaling_factor": {"0": {"0": 0.5}}}}' > %t.missing.json
// RUN: not qopt %s --qopt-quantize-kv-cache="granularity=tensor scales=%t.missing.json" 2>&1 | FileCheck %s --check-prefix=MISSING -DFILE=%t.missing.json
// RUN: echo '{"kv_cache": {"dtype": "int8", "scaling_factor": {"0": {"0": 0.5, "1": 0.25, "2": 1.0}}}}' > %t.extra.json
// RUN: not qopt %s --qopt-quantize-kv-cache="granularity=tensor scales=%t.extra.json" 2>&1 | FileCheck %s --check-prefix=EXTRA -DFILE=%t.extra.json
// MISSING: error: qopt-quantize-kv-cache: [[FILE]]: no scale for layer 1 (the model has 2 layers)
// EXTRA: error: qopt-quantize-kv-cache: [[FILE]]: has a scale for layer 2, which the model does not have (it has 2 layers)

// One tensor-parallel rank only, and it must be "0".
// RUN: echo '{"kv_cache": {"dtype": "int8", "scaling_factor": {"0": {"0": 0.5, "1": 0.25}, "1": {"0": 0.5, "1": 0.25}}}}' > %t.tp2.json
// RUN: not qopt %s --qopt-quantize-kv-cache="granularity=tensor scales=%t.tp2.json" 2>&1 | FileCheck %s --check-prefix=TP -DFILE=%t.tp2.json
// RUN: echo '{"kv_cache": {"dtype": "int8", "scaling_factor": {"1": {"0": 0.5, "1": 0.25}}}}' > %t.rank1.json
// RUN: not qopt %s --qopt-quantize-kv-cache="granularity=tensor scales=%t.rank1.json" 2>&1 | FileCheck %s --check-prefix=TP -DFILE=%t.rank1.json
// TP: error: qopt-quantize-kv-cache: [[FILE]]: scaling_factor must hold exactly tensor-parallel rank "0" (qopt compiles for one GPU)

// Entries map layer indices to positive scales.
// RUN: echo '{"kv_cache": {"dtype": "int8", "scaling_factor": {"0": {"0": 0.5, "1": -0.25}}}}' > %t.neg.json
// RUN: not qopt %s --qopt-quantize-kv-cache="granularity=tensor scales=%t.neg.json" 2>&1 | FileCheck %s --check-prefix=ENTRY1 -DFILE=%t.neg.json
// RUN: echo '{"kv_cache": {"dtype": "int8", "scaling_factor": {"0": {"zero": 0.5, "1": 0.25}}}}' > %t.key.json
// RUN: not qopt %s --qopt-quantize-kv-cache="granularity=tensor scales=%t.key.json" 2>&1 | FileCheck %s --check-prefix=ENTRY-KEY -DFILE=%t.key.json
// RUN: echo '{"kv_cache": {"dtype": "int8", "scaling_factor": {"0": {"0": "0.5", "1": 0.25}}}}' > %t.str.json
// RUN: not qopt %s --qopt-quantize-kv-cache="granularity=tensor scales=%t.str.json" 2>&1 | FileCheck %s --check-prefix=ENTRY0 -DFILE=%t.str.json
// ENTRY1: error: qopt-quantize-kv-cache: [[FILE]]: scaling_factor["0"] entry "1" must map a layer index to a positive scale
// ENTRY-KEY: error: qopt-quantize-kv-cache: [[FILE]]: scaling_factor["0"] entry "zero" must map a layer index to a positive scale
// ENTRY0: error: qopt-quantize-kv-cache: [[FILE]]: scaling_factor["0"] entry "0" must map a layer index to a positive scale

// Structure: kv_cache and scaling_factor objects.
// RUN: echo '{"dtype": "int8", "scaling_factor": {"0": {"0": 0.5, "1": 0.25}}}' > %t.nokv.json
// RUN: not qopt %s --qopt-quantize-kv-cache="granularity=tensor scales=%t.nokv.json" 2>&1 | FileCheck %s --check-prefix=NOKV -DFILE=%t.nokv.json
// RUN: echo '{"kv_cache": {"dtype": "int8"}}' > %t.nofactor.json
// RUN: not qopt %s --qopt-quantize-kv-cache="granularity=tensor scales=%t.nofactor.json" 2>&1 | FileCheck %s --check-prefix=NOFACTOR -DFILE=%t.nofactor.json
// NOKV: error: qopt-quantize-kv-cache: [[FILE]]: no "kv_cache" object
// NOFACTOR: error: qopt-quantize-kv-cache: [[FILE]]: no kv_cache.scaling_factor object

// Malformed JSON and unreadable files.
// RUN: echo '{"kv_cache": {"dtype": "int8", "scaling_factor": {"0": {"0": 0.5,}}}' > %t.bad.json
// RUN: not qopt %s --qopt-quantize-kv-cache="granularity=tensor scales=%t.bad.json" 2>&1 | FileCheck %s --check-prefix=MALFORMED -DFILE=%t.bad.json
// RUN: rm -f %t.absent.json
// RUN: not qopt %s --qopt-quantize-kv-cache="granularity=tensor scales=%t.absent.json" 2>&1 | FileCheck %s --check-prefix=UNREADABLE -DFILE=%t.absent.json
// MALFORMED: error: qopt-quantize-kv-cache: [[FILE]]: not valid JSON: {{.+}}
// UNREADABLE: error: qopt-quantize-kv-cache: [[FILE]]: cannot read: {{[Nn]}}o such file or directory

func.func @two_layers(%q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %v: tensor<?x4xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  // expected-error @+1 {{qopt-quantize-kv-cache: attention layer 0 has no calibration statistics for its keys and values; run qopt-calibrate on the model first}}
  %a0 = qopt.attention %q, %k, %v {layer = 0, num_heads = 4, num_kv_heads = 2, head_dim = 2} : (tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %a1 = qopt.attention %q, %k, %v {layer = 1, num_heads = 4, num_kv_heads = 2, head_dim = 2} : (tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  return %a0, %a1 : tensor<?x8xf32>, tensor<?x8xf32>
}
