# QOPT_SANITIZE=address,undefined (or any list clang's -fsanitize= takes):
# builds qopt's own targets (libraries, tools, GoogleTest suites) with those
# sanitizers. Every report is fatal (-fno-sanitize-recover=all), so a test
# that triggers one fails. MLIR and LLVM come from uninstrumented system
# packages and are not rebuilt. scripts/test.sh --sanitize configures a
# separate build-asan/ tree with this option and runs the whole lit suite.
set(QOPT_SANITIZE "" CACHE STRING
  "Sanitizers for qopt's own targets, e.g. address,undefined (clang only)")

if(QOPT_SANITIZE)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "QOPT_SANITIZE needs clang; configure with "
      "-DCMAKE_CXX_COMPILER=clang++-22")
  endif()
  message(STATUS "qopt: building with -fsanitize=${QOPT_SANITIZE}")
  # Line tables are enough for symbolized stacks and cost far less than -g.
  set(QOPT_SANITIZE_FLAGS
    -fsanitize=${QOPT_SANITIZE}
    -fno-sanitize-recover=all
    -fno-omit-frame-pointer
    -gline-tables-only)
  add_compile_options(${QOPT_SANITIZE_FLAGS})
  add_link_options(-fsanitize=${QOPT_SANITIZE})
endif()
