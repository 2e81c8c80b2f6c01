//===- ManifestReader.h - Checked reads of manifest JSON --------*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Reads fields of manifest.json objects, each checked for presence, type
// and range, reporting the first problem as "FILE: PATH: what" where PATH
// names the field ("kernels[3] (k3_gemm): spec.n"). Internal to the bundle
// library.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_LIB_BUNDLE_MANIFESTREADER_H
#define QOPT_RUNTIME_LIB_BUNDLE_MANIFESTREADER_H

#include "qopt-runtime/BundleSpecs.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>

namespace qrt {
namespace bundle {

using json = nlohmann::json;

/// A JSON value's kind, for messages: "a string", "an integer", ...
std::string jsonKind(const json &value);

class ManifestReader {
public:
  ManifestReader(const std::string &file, std::string &error)
      : file(file), error(error) {}

  /// Sets the error "FILE: PATH: message" (or "FILE: message") and returns
  /// false.
  bool fail(const std::string &path, const std::string &message);

  /// Checks that `value` is an object whose keys are all in `allowed`.
  bool object(const json &value, const std::string &path,
              std::initializer_list<const char *> allowed);

  /// The member `key` of the object `obj`, or null (after failing) when it
  /// is missing.
  const json *member(const json &obj, const std::string &path, const char *key);

  bool integer(const json &obj, const std::string &path, const char *key,
               int64_t &out, int64_t min, int64_t max = INT64_MAX);
  bool positive(const json &obj, const std::string &path, const char *key,
                int64_t &out) {
    return integer(obj, path, key, out, 1);
  }
  bool boolean(const json &obj, const std::string &path, const char *key,
               bool &out);
  bool number(const json &obj, const std::string &path, const char *key,
              double &out);
  bool string(const json &obj, const std::string &path, const char *key,
              std::string &out);
  /// An optional string: absent or null leaves `out` empty.
  bool optionalString(const json &obj, const std::string &path, const char *key,
                      std::string &out);
  bool elemType(const json &obj, const std::string &path, const char *key,
                ElemType &out);

  /// `path` joined with `key`: "spec" + "n" -> "spec.n", and
  /// "kernels[0] (k0)" + "name" -> "kernels[0] (k0): name".
  static std::string join(const std::string &path, const char *key) {
    if (path.empty())
      return key;
    return path + (path.back() == ')' ? ": " : ".") + key;
  }

  const std::string &file;
  std::string &error;
};

/// Parses `spec` (the kernel's spec object) for `family`.
bool parseKernelSpec(ManifestReader &r, const json &spec,
                     const std::string &path, Family family, KernelSpec &out);

} // namespace bundle
} // namespace qrt

#endif // QOPT_RUNTIME_LIB_BUNDLE_MANIFESTREADER_H
