//===- ExportInternal.h - What the export formats share ---------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The exporter walks the model once and hands each quantized linear layer to
// the format (a FormatWriter), which adds its tensors and returns the
// `quantization_config` at the end. Float tensors (embeddings, norms, float
// linears) are written by the exporter itself under their Hugging Face names.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_LIB_EXPORT_EXPORTINTERNAL_H
#define QOPT_LIB_EXPORT_EXPORTINTERNAL_H

#include "qopt/Dialect/Qopt/IR/QoptOps.h"
#include "qopt/Dialect/Qopt/Transforms/WeightIO.h"
#include "qopt/Export/Export.h"

#include "qopt-runtime/Safetensors.h"

#include "llvm/Support/JSON.h"

#include <memory>
#include <vector>

namespace mlir::qopt::exporter {

/// The tensors and config being written, and how.
struct Checkpoint {
  /// The model dtype (config.json's `dtype` / `torch_dtype`): BF16, F16 or
  /// F32.
  qrt::DType modelDType = qrt::DType::BF16;
  ExportScaleType scaleType = ExportScaleType::Float32;
  std::vector<qrt::TensorData> tensors;

  /// Adds float values as the model dtype when each is exact in it, else as
  /// float32 (smoothed norms, for one, are not bf16 values).
  void addFloat(const std::string &name, std::vector<int64_t> shape,
                const std::vector<float> &values);
  /// Adds scales in the dtype the options ask for; fails (naming `layer`)
  /// when they are to be in the model dtype and are not exact in it.
  LogicalResult addScales(const std::string &name, std::vector<int64_t> shape,
                          const std::vector<float> &values,
                          const std::string &layer, std::string &error);
  /// Adds raw bytes.
  void addBytes(const std::string &name, qrt::DType dtype,
                std::vector<int64_t> shape, std::vector<uint8_t> bytes);
};

/// A quantized linear's data, read from the model.
struct QuantizedLinearData {
  std::string name; // the layer's Hugging Face prefix (its label)
  int64_t out = 0, in = 0;
  /// The weight's stored bytes (i8, float8; packed int4: two per byte, the
  /// even k in the low nibble) and its scheme.
  std::vector<uint8_t> weightBytes;
  /// How int4 weights are packed in weightBytes.
  Packing packing = Packing::None;
  QuantSchemeAttr weightScheme;
  std::vector<float> weightScales;
  std::vector<int32_t> weightZeroPoints; // empty when symmetric
  /// The input scheme (null: weight-only) and, when static, its scale and
  /// zero point.
  QuantSchemeAttr inputScheme;
  std::vector<float> inputScales;
  std::vector<int32_t> inputZeroPoints;
  std::vector<float> bias; // empty without one
};

/// The checkpoint the model was imported from: its directory and parsed
/// config.json.
struct SourceCheckpoint {
  std::string dir;
  llvm::json::Object config;
};

/// One export format.
class FormatWriter {
public:
  virtual ~FormatWriter();
  /// Whether the format is one file: writeFile is called instead of finish.
  virtual bool writesFile() const { return false; }
  /// Adds the tensors of one quantized linear; fails naming the layer when
  /// the format cannot express its scheme.
  virtual LogicalResult addLinear(const QuantizedLinearData &linear,
                                  Checkpoint &ckpt, std::string &error) = 0;
  /// Adds the KV-cache scales of one attention op (whose key / value
  /// schemes may be null); fails naming the layer when the format cannot
  /// express them.
  virtual LogicalResult addAttention(AttentionOp op, Checkpoint &ckpt,
                                     std::string &error) = 0;
  /// The `quantization_config` once every layer was added; `ignored` lists
  /// the float linear layers.
  virtual FailureOr<llvm::json::Value>
  finish(const Checkpoint &ckpt, const std::vector<std::string> &ignored,
         std::string &error);
  /// Writes the one file of a writesFile() format to `path` (atomically).
  virtual LogicalResult writeFile(Checkpoint &ckpt,
                                  const SourceCheckpoint &source,
                                  StringRef path, std::string &error);
};

std::unique_ptr<FormatWriter> createCompressedTensorsWriter();
std::unique_ptr<FormatWriter> createHfFp8Writer();
std::unique_ptr<FormatWriter> createAscendW8A8Writer();
std::unique_ptr<FormatWriter> createKVCacheScalesWriter();
std::unique_ptr<FormatWriter> createGGUFWriter(const ExportOptions &options);

/// Writes `j` (indented by 2) to `path`, atomically.
LogicalResult writeJsonFile(const std::string &path, const llvm::json::Value &j,
                            std::string &error);

/// The bytes of float32 values as `dtype` (F32, BF16 or F16), rounded to
/// nearest even; `exact` is cleared when a value changed.
std::vector<uint8_t> floatBytes(const std::vector<float> &values,
                                qrt::DType dtype, bool &exact);

} // namespace mlir::qopt::exporter

#endif // QOPT_LIB_EXPORT_EXPORTINTERNAL_H
