# -*- Python -*-
# lit configuration for qopt's regression tests.

import os
import shutil
import sys

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "QOPT"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
# A sanitized build (scripts/test.sh --sanitize) runs the long end-to-end
# sweeps on a smaller scale (REQUIRES / UNSUPPORTED: sanitized).
if getattr(config, "qopt_sanitize", ""):
    config.available_features.add("sanitized")
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py",
                   "lit.site.cfg.py", "embedding-project"]

config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qopt_obj_root, "test")

config.environment["FILECHECK_OPTS"] = "--enable-var-scope --dump-input=fail"
# OpenBLAS picks its kernels by the CPU it finds; pinning them makes the
# executors' float32 sums (and the perplexities the tests compare) the same
# on every x86-64 machine with AVX2, not only on the one they were measured on.
config.environment["OPENBLAS_CORETYPE"] = os.environ.get("OPENBLAS_CORETYPE",
                                                         "Haswell")

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
# Scripts that tests run (test/Tools/qopt-bundle/check-scheme.py) call the
# tools by name.
llvm_config.with_environment("PATH", config.qopt_tools_dir, append_path=True)

config.substitutions.append(("%qopt_src_root", config.qopt_src_root))
config.substitutions.append(("%qopt_obj_root", config.qopt_obj_root))
config.substitutions.append(("%cmake_command", config.cmake_command))
config.substitutions.append(("%cmake_generator", config.cmake_generator))
config.substitutions.append(("%cxx", config.cxx_compiler))
config.substitutions.append(("%cc", config.c_compiler))
config.substitutions.append(("%mlir_dir", config.mlir_dir))
config.substitutions.append(("%python", sys.executable))
# The fake CUDA driver libraries of unittests/Runtime/FakeCudaDriver.cpp.
config.substitutions.append(
    ("%fake_libcuda_partial",
     os.path.join(config.qopt_obj_root, "lib", "libqopt-fake-cuda-partial.so")))
config.substitutions.append(
    ("%fake_libcuda",
     os.path.join(config.qopt_obj_root, "lib", "libqopt-fake-cuda.so")))
# The shared reference models and data (beside the repository unless
# configured with -DQOPT_SHARED_DIR=...).
config.substitutions.append(
    ("%shared_models", os.path.join(config.qopt_shared_dir, "models")))
config.substitutions.append(
    ("%shared_data", os.path.join(config.qopt_shared_dir, "data")))
config.environment["QOPT_SHARED_DATA"] = os.path.join(config.qopt_shared_dir,
                                                    "data")

tool_dirs = [config.qopt_tools_dir, config.llvm_tools_dir]
tools = [ToolSubst(t, unresolved="fatal")
         for t in ["qopt", "qopt-calibrate", "qopt-import", "qopt-run", "qopt-tokenize",
                   "qopt-make-test-model", "qopt-cuda-info", "qopt-bundle",
                   "qopt-kernel-check", "qopt-export"]]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# llama.cpp's reader (test/Tools/qopt-export/gguf-llama-cpp.test) is
# installed from npm by the test itself: npm needs its configuration and the
# network settings of the machine.
if shutil.which("npm") and shutil.which("node"):
    config.available_features.add("npm")
    llvm_config.with_system_environment(
        ["HOME", "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY",
         "HTTPS_PROXY", "NO_PROXY", "npm_config_registry",
         "NPM_CONFIG_REGISTRY", "npm_config_cache", "NPM_CONFIG_CACHE"])
config.substitutions.append(
    ("%node_llama_cpp_dir", os.path.join(config.qopt_obj_root, "node-llama-cpp")))

# GPU tests need a CUDA device; CI machines have none.
if shutil.which("nvidia-smi") and os.environ.get("QOPT_ENABLE_CUDA_TESTS"):
    config.available_features.add("cuda")

# GPU code generation: %extract_ptx prints the PTX of the gpu.binary ops that
# qopt --qopt-gpu-to-ptx writes; tests that assemble it with %ptxas (the CUDA
# toolkit's, from PATH or /usr/local/cuda/bin) say REQUIRES: ptxas.
config.substitutions.append(
    ("%extract_ptx", "%s %s" % (sys.executable, os.path.join(
        config.qopt_src_root, "test", "tools", "qopt-extract-ptx",
        "qopt-extract-ptx.py"))))
ptxas = shutil.which("ptxas") or shutil.which(
    "ptxas", path=os.path.join(os.sep, "usr", "local", "cuda", "bin"))
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
# %simt_ptx_<chip>: lowers a module with a gpu.module of CUDA-core kernels to
# PTX for <chip> (mlir-opt, then the PTX text out of the gpu.binary).
ptx_of = os.path.join(config.qopt_src_root, "test", "Conversion", "KernelToGPU",
                      "Inputs", "ptx-of.py")
for chip in ["sm_80", "sm_89", "sm_90a"]:
    config.substitutions.append((
        "%simt_ptx_" + chip,
        "mlir-opt --convert-scf-to-cf "
        "--nvvm-attach-target='chip={0} features=+ptx84' "
        "--convert-gpu-to-nvvm='use-bare-ptr-memref-call-conv=1' "
        "--convert-vector-to-llvm --convert-nvvm-to-llvm "
        "--reconcile-unrealized-casts --gpu-module-to-binary=format=isa "
        "| '{1}' '{2}'".format(chip, sys.executable, ptx_of)))
