//===- FlagValues.h - Numbers from command-line flag values -----*- C++ -*-===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What the runtime's tools (qopt-run's bundle mode, qopt-kernel-check) read
// from their flags' values: the whole text as one number, or a message
// naming the flag and the text.
//
//===----------------------------------------------------------------------===//

#ifndef QOPT_RUNTIME_FLAGVALUES_H
#define QOPT_RUNTIME_FLAGVALUES_H

#include <cstdint>
#include <string>

namespace qrt {

/// `text` as a decimal integer; otherwise false with
/// "FLAG: 'TEXT' is not an integer".
bool parseIntFlag(const std::string &flag, const std::string &text,
                  int64_t &out, std::string &error);

/// `text` as a number; otherwise false with "FLAG: 'TEXT' is not a number".
bool parseDoubleFlag(const std::string &flag, const std::string &text,
                     double &out, std::string &error);

/// A --backend value: "cpu" or "cuda"; otherwise false with
/// "--backend: unknown backend 'TEXT' (cpu, cuda)".
bool parseBackendFlag(const std::string &text, std::string &out,
                      std::string &error);

} // namespace qrt

#endif // QOPT_RUNTIME_FLAGVALUES_H
