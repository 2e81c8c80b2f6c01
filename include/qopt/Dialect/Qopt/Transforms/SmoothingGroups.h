//===- SmoothingGroups.h - Linears sharing a smoothable input ---*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// SmoothQuant and AWQ both migrate a per-channel factor s from an activation
// into the weights that read it: `X W^T = (X / s) (W s)^T`, with the division
// folded into the activation's producer. This file finds those groups
// structurally and applies a factor to one.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_TRANSFORMS_SMOOTHINGGROUPS_H
#define QOPT_DIALECT_QOPT_TRANSFORMS_SMOOTHINGGROUPS_H

#include "qopt/Dialect/Qopt/IR/QoptOps.h"

#include <string>
#include <vector>

namespace mlir {
namespace qopt {
class WeightReader;
class WeightWriter;

/// How the division by s is folded into the producer of the activation.
enum class ProducerKind { Norm, ValueToOutput, UpToDown };

/// Linears reading one activation, and where that activation comes from.
struct SmoothGroup {
  Value input;                   // the value the linears read
  ObserveOp observer;            // its observer (null when not observed)
  SmallVector<LinearOp> linears; // the consumers (weights * s)
  ProducerKind kind = ProducerKind::Norm;
  Operation *norm = nullptr; // Norm: rms_norm / layer_norm
  LinearOp producer;         // ValueToOutput / UpToDown: rows / s
  AttentionOp attention;     // ValueToOutput
  ObserveOp valueObserver;   // ValueToOutput: the observer of V, if any

  /// Channels of the producer's rows (equal to the consumers' input
  /// channels except for grouped-query ValueToOutput groups).
  int64_t producerChannels() const;
  /// The producer row that consumer input channel j reads.
  int64_t producerChannel(int64_t j) const;
};

/// The groups of `module` in program order: linears (other than the LM
/// head) with weight expressions, reading one activation whose producer can
/// absorb a division.
std::vector<SmoothGroup> collectSmoothingGroups(ModuleOp module);

/// Rewrites `group` with factors `s` (one per consumer input channel; for a
/// ValueToOutput group, equal across the channels that share a producer
/// row): consumer weights become scale_channels(W, s), the producer is
/// divided by s, and observer statistics are divided by s (their Hessian
/// dropped). Factor vectors go to `writer`'s side store.
LogicalResult applySmoothing(SmoothGroup &group, const std::vector<double> &s,
                             WeightReader &reader, WeightWriter &writer,
                             std::string &error);

} // namespace qopt
} // namespace mlir

#endif // QOPT_DIALECT_QOPT_TRANSFORMS_SMOOTHINGGROUPS_H
