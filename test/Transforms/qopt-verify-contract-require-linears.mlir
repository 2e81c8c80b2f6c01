// RUN: qopt %s "--qopt-verify-contract=stage=quantized require-quantized-linears=true" -verify-diagnostics
// RUN: qopt %s --qopt-verify-contract=stage=quantized | FileCheck %s --check-prefix=LAX

// LAX: qopt.linear
func.func @float_linear_left(%x: tensor<?x16xf32>, %w: tensor<8x16xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{violates the 'quantized' contract: float linear layer left unquantized}}
  %y = qopt.linear %x, %w {role = #qopt<role q_proj>} : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
