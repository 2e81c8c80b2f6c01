//===- qopt-run.cpp - Run a compiled-model bundle (no MLIR) ---------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The runtime's own qopt-run, built by the standalone runtime build: the
// bundle mode of qopt's qopt-run (qopt-runtime/BundleMain.h) and nothing
// else.
//
//===----------------------------------------------------------------------===//

#include "qopt-runtime/BundleMain.h"

int main(int argc, char **argv) { return qrt::runBundleMain(argc, argv); }
