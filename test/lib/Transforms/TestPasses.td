//===- TestPasses.td - qopt's test-only passes -------------*- tablegen -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Passes that exist for tests and evaluations only. They are registered by
// the qopt tool (under the qopt-test- prefix) and never by
// registerAllPasses(), so embedders do not get them.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_TEST_TRANSFORMS_TESTPASSES_TD
#define QOPT_TEST_TRANSFORMS_TESTPASSES_TD

include "mlir/Pass/PassBase.td"

def QoptTestInjectOutliers
    : Pass<"qopt-test-inject-outliers", "::mlir::ModuleOp"> {
  let summary = "Makes an equivalent model with outlier activation channels";
  let description = [{
    An evaluation aid for smoothing: in every normalization group (q/k/v
    after the input norm, gate/up after the post-attention norm) it
    multiplies `channels` evenly spaced channels of the norm weight by
    `factor` and divides the matching weight columns of the linears by
    `factor`. The model computes the same function (up to float rounding),
    but those activation channels are `factor` times larger, like the
    outlier channels of large LLMs that make per-tensor activation
    quantization fail and that SmoothQuant migrates into the weights.
    Calibration statistics, when present, are scaled too (their Hessians
    are dropped, as smoothing does). The rewritten weights go to a side
    store (`@outliers`).
  }];
  let options = [
    Option<"channels", "channels", "int64_t", /*default=*/"4",
           "Outlier channels per normalization group">,
    Option<"factor", "factor", "double", /*default=*/"50.0",
           "How much larger the outlier channels become">,
    Option<"weightsOut", "weights-out", "std::string", /*default=*/"\"\"",
           "Directory of the side store (default: beside the -o file)">,
  ];
}

#endif // QOPT_TEST_TRANSFORMS_TESTPASSES_TD
