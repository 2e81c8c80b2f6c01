//===- FlagValues.cpp - Numbers from command-line flag values -------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/FlagValues.h"

#include <cerrno>
#include <cstdlib>

bool qrt::parseIntFlag(const std::string &flag, const std::string &text,
                       int64_t &out, std::string &error) {
  errno = 0;
  char *end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end || errno) {
    error = flag + ": '" + text + "' is not an integer";
    return false;
  }
  out = v;
  return true;
}

bool qrt::parseDoubleFlag(const std::string &flag, const std::string &text,
                          double &out, std::string &error) {
  errno = 0;
  char *end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end || errno) {
    error = flag + ": '" + text + "' is not a number";
    return false;
  }
  out = v;
  return true;
}

bool qrt::parseBackendFlag(const std::string &text, std::string &out,
                           std::string &error) {
  if (text != "cpu" && text != "cuda") {
    error = "--backend: unknown backend '" + text + "' (cpu, cuda)";
    return false;
  }
  out = text;
  return true;
}
