# Shared settings for qopt's scripts (sourced, not run).
export QOPT_LLVM_ROOT=${QOPT_LLVM_ROOT:-/usr/lib/llvm-22}
export PATH="$QOPT_LLVM_ROOT/bin:$PATH"
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/qopt-ccache}
