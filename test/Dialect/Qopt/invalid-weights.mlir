// RUN: qopt %s -split-input-file -verify-diagnostics

func.func @unknown_store() {
  // expected-error @+1 {{'qopt.weight' op references unknown weight store @nope}}
  %w = qopt.weight @nope["w"] : tensor<4x4xbf16>
  return
}

// -----

qopt.weight_store @s "w.safetensors"
func.func @dynamic_weight() {
  // expected-error @+1 {{'qopt.weight' op weight type 'tensor<?x4xbf16>' must have a static shape}}
  %w = qopt.weight @s["w"] : tensor<?x4xbf16>
  return
}

// -----

qopt.weight_store @s "w.safetensors"
func.func @i4_weight_packing() {
  // expected-error @+1 {{'qopt.weight' op i4 weight must say how the store packs it (packing attribute)}}
  %w = qopt.weight @s["w"] : tensor<4x4xi4>
  return
}

// -----

qopt.weight_store @s "w.safetensors"
func.func @packing_non_i4() {
  // expected-error @+1 {{'qopt.weight' op packing applies only to i4 weights}}
  %w = qopt.weight @s["w"] {packing = #qopt<packing int4x2>} : tensor<4x4xi8>
  return
}

// -----

// expected-error @+1 {{'qopt.weight_store' op weight store path must not be empty}}
qopt.weight_store @s ""

// -----

func.func @store_in_function() {
  // expected-error @+1 {{'qopt.weight_store' op expects parent op 'builtin.module'}}
  qopt.weight_store @s "w.safetensors"
  return
}

// -----

// expected-note @+1 {{see existing symbol definition here}}
qopt.weight_store @s "w.safetensors"
// expected-error @+1 {{redefinition of symbol named 's'}}
qopt.weight_store @s "v.safetensors"

// -----

qopt.weight_store @s "w.safetensors"
func.func @bad_element_type() {
  // expected-error @+1 {{'qopt.weight' op result #0 must be ranked tensor of 16-bit float or bfloat16 type or 32-bit float or 8-bit signless integer or 4-bit signless integer or 32-bit signless integer or 8-bit unsigned integer or f8E4M3FN type or f8E5M2 type values, but got 'tensor<4xf64>'}}
  %w = qopt.weight @s["w"] : tensor<4xf64>
  return
}
