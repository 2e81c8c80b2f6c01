//===- TestModelInternal.h - Shared by the test-model generator -*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Private to the generator's library (QoptTestModel, in
// runtime/tools/qopt-make-test-model/): the chunked random weights that
// Weights.cpp defines and Writer.cpp streams to disk.
//
//   Spec.cpp        presets, validation, the tensor list and config.json
//   Weights.cpp     deterministic random weights and their storage types
//   Tokenizers.cpp  the SentencePiece-style and byte-level BPE tokenizers
//   Writer.cpp      the sharded safetensors checkpoint on disk
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_TOOLS_QOPT_MAKE_TEST_MODEL_TESTMODELINTERNAL_H
#define QOPT_RUNTIME_TOOLS_QOPT_MAKE_TEST_MODEL_TESTMODELINTERNAL_H

#include "TestModel.h"

#include <cstddef>
#include <cstdint>

namespace qtest {
namespace detail {

/// Elements per independently seeded chunk of a tensor. Part of the output
/// format: changing it changes every weight.
inline constexpr uint64_t kChunkElements = uint64_t(1) << 20;

/// Fills `out[i - begin]` for i in [begin, end) of chunk `chunk` of `t`
/// (indices relative to the tensor). std::mt19937_64's output sequence is
/// fixed by the C++ standard; the normal deviates come from a hand-written
/// Box-Muller transform so no library distribution is involved.
void generateChunk(uint64_t seed, const TestTensor &t, uint64_t chunk,
                   uint64_t begin, uint64_t end, float *out);

/// Stores `n` floats as `dtype` (little-endian) at `dst`.
void storeAs(DType dtype, const float *src, size_t n, uint8_t *dst);

} // namespace detail
} // namespace qtest

#endif // QOPT_RUNTIME_TOOLS_QOPT_MAKE_TEST_MODEL_TESTMODELINTERNAL_H
