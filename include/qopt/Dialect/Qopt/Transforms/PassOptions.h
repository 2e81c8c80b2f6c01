//===- PassOptions.h - Typed options of qopt's passes -----------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Pass and pipeline options that take one of a closed set of values are enum
// options. Each enum has one table of spellings (the canonical name of each
// value first, then aliases users type naturally, such as `int8` or
// `per-token`); an option adds the spellings of the values it accepts with
// `optionValues(table, {values...})`. A value outside the set is rejected by
// the option parser with a message that names the option and lists the
// valid values.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_DIALECT_QOPT_TRANSFORMS_PASSOPTIONS_H
#define QOPT_DIALECT_QOPT_TRANSFORMS_PASSOPTIONS_H

#include "qopt-runtime/QuantMath.h"
#include "qopt/Dialect/Qopt/IR/QoptDialect.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Operation.h"
#include "mlir/IR/Types.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/STLForwardCompat.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/CommandLine.h"

#include <initializer_list>
#include <string>

namespace mlir {
namespace qopt {

/// The pipeline stages whose contract qopt-verify-contract checks.
enum class ContractStage { Graph, Quantized };

/// The activations of `--smoothquant`.
enum class SmoothQuantActivations { Dynamic, StaticSym, StaticAsym };
/// The activation scales of `--fp8`.
enum class FP8Activations { Token, TensorDynamic, TensorStatic };
/// The weight quantizer of `--w4a16`.
enum class W4A16Method { RTN, AWQ, GPTQ };

/// The quantization pipelines (`qopt --smoothquant`, ...).
enum class QuantPipeline { SmoothQuant, FP8, W8A16, W4A16, KVCache };

/// One spelling of an enum option value.
template <typename E> struct OptionSpelling {
  const char *name;
  E value;
  const char *help;
};

/// An llvm::cl modifier (like cl::values) that adds the spellings of `table`
/// whose value is in `allowed` (every value when it is empty) as the literal
/// values of an enum option.
template <typename E> class OptionValues {
public:
  OptionValues(llvm::ArrayRef<OptionSpelling<E>> table,
               std::initializer_list<E> allowed)
      : table(table), allowed(allowed) {}

  template <typename Opt> void apply(Opt &option) const {
    for (const OptionSpelling<E> &s : table)
      if (allowed.empty() || llvm::is_contained(allowed, s.value))
        option.getParser().addLiteralOption(s.name, s.value, s.help);
  }

private:
  llvm::ArrayRef<OptionSpelling<E>> table;
  llvm::SmallVector<E, 6> allowed;
};

/// The spelling tables (canonical names first, then aliases).
llvm::ArrayRef<OptionSpelling<::qnum::StorageKind>> dtypeSpellings();
llvm::ArrayRef<OptionSpelling<::qnum::GranularityKind>> granularitySpellings();
llvm::ArrayRef<OptionSpelling<Packing>> packingSpellings();
llvm::ArrayRef<OptionSpelling<ScaleMode>> scaleModeSpellings();
llvm::ArrayRef<OptionSpelling<Target>> targetSpellings();
llvm::ArrayRef<OptionSpelling<ContractStage>> contractStageSpellings();
llvm::ArrayRef<OptionSpelling<SmoothQuantActivations>>
smoothQuantActivationsSpellings();
llvm::ArrayRef<OptionSpelling<FP8Activations>> fp8ActivationsSpellings();
llvm::ArrayRef<OptionSpelling<W4A16Method>> w4a16MethodSpellings();
llvm::ArrayRef<OptionSpelling<QuantPipeline>> quantPipelineSpellings();

/// The values of an option over a table (all of them when `allowed` is
/// empty).
template <typename E>
OptionValues<E> optionValues(llvm::ArrayRef<OptionSpelling<E>> table,
                             std::initializer_list<E> allowed = {}) {
  return OptionValues<E>(table, allowed);
}

/// The canonical name of a value ("i8", "channel", "sm_90a", ...).
template <typename E>
llvm::StringRef optionName(llvm::ArrayRef<OptionSpelling<E>> table,
                           llvm::type_identity_t<E> value) {
  for (const OptionSpelling<E> &s : table)
    if (s.value == value)
      return s.name;
  return "?";
}

/// Emits an error at `op`. A module is reported at its location alone: an
/// op's emitError attaches the op itself (when ops are printed on
/// diagnostics, mlir-opt's default), and a module is the whole model.
InFlightDiagnostic emitPassError(Operation *op);

/// The MLIR storage type of a dtype option value.
Type getStorageType(MLIRContext *ctx, ::qnum::StorageKind kind);

/// llvm::cl's parser of enum options (cl::parser<E>), except that a value
/// outside the set is rejected with the list of valid values.
template <typename E>
class EnumOptionParser : public llvm::cl::generic_parser_base {
protected:
  class OptionInfo : public GenericOptionInfo {
  public:
    OptionInfo(llvm::StringRef name, E v, llvm::StringRef helpStr)
        : GenericOptionInfo(name, helpStr), V(v) {}
    llvm::cl::OptionValue<E> V;
  };
  llvm::SmallVector<OptionInfo, 8> Values;

public:
  EnumOptionParser(llvm::cl::Option &o) : generic_parser_base(o) {}
  using parser_data_type = E;

  unsigned getNumOptions() const override { return unsigned(Values.size()); }
  llvm::StringRef getOption(unsigned n) const override {
    return Values[n].Name;
  }
  llvm::StringRef getDescription(unsigned n) const override {
    return Values[n].HelpStr;
  }
  const llvm::cl::GenericOptionValue &
  getOptionValue(unsigned n) const override {
    return Values[n].V;
  }

  /// Returns true on error.
  bool parse(llvm::cl::Option &o, llvm::StringRef, llvm::StringRef arg, E &v) {
    for (const OptionInfo &info : Values)
      if (info.Name == arg) {
        v = info.V.getValue();
        return false;
      }
    // The canonical names: the first spelling of each value.
    std::string valid;
    for (size_t i = 0, e = Values.size(); i != e; ++i) {
      E value = Values[i].V.getValue();
      if (llvm::any_of(llvm::ArrayRef(Values).take_front(i),
                       [&](const OptionInfo &prev) {
                         return prev.V.getValue() == value;
                       }))
        continue;
      valid += (valid.empty() ? "" : ", ") + Values[i].Name.str();
    }
    return o.error("'" + arg +
                   "' is not a valid value (valid values: " + valid + ")");
  }

  template <typename DT>
  void addLiteralOption(llvm::StringRef name, const DT &v,
                        llvm::StringRef helpStr) {
    Values.push_back(OptionInfo(name, static_cast<E>(v), helpStr));
    AddLiteralOption(Owner, name);
  }
};

} // namespace qopt
} // namespace mlir

/// Every enum option of qopt uses EnumOptionParser.
#define QOPT_ENUM_OPTION_PARSER(E)                                             \
  namespace llvm {                                                             \
  namespace cl {                                                               \
  template <> class parser<E> : public ::mlir::qopt::EnumOptionParser<E> {     \
  public:                                                                      \
    parser(Option &o) : ::mlir::qopt::EnumOptionParser<E>(o) {}                \
  };                                                                           \
  }                                                                            \
  }
QOPT_ENUM_OPTION_PARSER(::qnum::StorageKind)
QOPT_ENUM_OPTION_PARSER(::qnum::GranularityKind)
QOPT_ENUM_OPTION_PARSER(::mlir::qopt::Packing)
QOPT_ENUM_OPTION_PARSER(::mlir::qopt::ScaleMode)
QOPT_ENUM_OPTION_PARSER(::mlir::qopt::Target)
QOPT_ENUM_OPTION_PARSER(::mlir::qopt::ContractStage)
QOPT_ENUM_OPTION_PARSER(::mlir::qopt::SmoothQuantActivations)
QOPT_ENUM_OPTION_PARSER(::mlir::qopt::FP8Activations)
QOPT_ENUM_OPTION_PARSER(::mlir::qopt::W4A16Method)
QOPT_ENUM_OPTION_PARSER(::mlir::qopt::QuantPipeline)
#undef QOPT_ENUM_OPTION_PARSER

#endif // QOPT_DIALECT_QOPT_TRANSFORMS_PASSOPTIONS_H
