//===- BundleMain.h - qopt-run for compiled-model bundles -------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The bundle mode of qopt-run, with no MLIR: qopt's own qopt-run calls it
// when its input is a bundle directory, and the runtime's standalone build
// (cmake -S runtime) makes it a qopt-run of its own.
//
//   qopt-run BUNDLE_DIR [--backend=cpu|cuda] MODE [options]
//   modes (exactly one):
//     --ppl FILE.safetensors:TENSOR [--seq-len N] [--max-windows N]
//         perplexity over non-overlapping windows of N tokens, each from
//         an empty KV cache
//     --generate "prompt" [--max-new-tokens N] [--temperature T]
//         [--top-p P] [--seed S]
//         generation from the prompt encoded by the bundle's tokenizer
//         (after the model's BOS): greedy (the bundle's next_token) unless
//         T > 0, then sampled on the host from the logits
//     --generate-ids FILE.safetensors:TENSOR [...]   the same from token ids
//     --logits FILE.safetensors:TENSOR -o OUT.safetensors
//         the logits of each sequence ([T] or [S, T]) as one F32 tensor
//         "logits" [.., T, vocab], written atomically
//     --bench [--seq-len N] [--max-new-tokens N]
//         prefill tokens/s over N tokens, decode tokens/s over
//         --max-new-tokens steps, and the time of every kernel
//   options: --max-seq-len N (KV cache rows; default: what the run needs,
//     at most the bundle's limit), --num-threads N (cpu), --device N,
//     --sync-kernels (cuda: synchronize after every kernel), --ptx (cuda:
//     ignore the cubin)
//
// Results go to stdout, progress and warnings to stderr, errors to stderr
// as "qopt-run: error: ..." with exit status 1.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_BUNDLEMAIN_H
#define QOPT_RUNTIME_BUNDLEMAIN_H

namespace qrt {

/// qopt-run's bundle mode: `argv` as main() received it (argv[0] the
/// program). Returns the exit status.
int runBundleMain(int argc, char **argv);

} // namespace qrt

#endif // QOPT_RUNTIME_BUNDLEMAIN_H
