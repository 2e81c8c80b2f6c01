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
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py",
                   "lit.site.cfg.py", "embedding-project"]

config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qopt_obj_root, "test")

config.environment["FILECHECK_OPTS"] = "--enable-var-scope --dump-input=fail"

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

config.substitutions.append(("%qopt_src_root", config.qopt_src_root))
config.substitutions.append(("%qopt_obj_root", config.qopt_obj_root))
config.substitutions.append(("%cmake_command", config.cmake_command))
config.substitutions.append(("%cmake_generator", config.cmake_generator))
config.substitutions.append(("%cxx", config.cxx_compiler))
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

tool_dirs = [config.qopt_tools_dir, config.llvm_tools_dir]
tools = [ToolSubst(t, unresolved="fatal")
         for t in ["qopt", "qopt-calibrate", "qopt-import", "qopt-run", "qopt-tokenize",
                   "qopt-make-test-model", "qopt-cuda-info"]]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# GPU tests need a CUDA device; CI machines have none.
if shutil.which("nvidia-smi") and os.environ.get("QOPT_ENABLE_CUDA_TESTS"):
    config.available_features.add("cuda")
