# -*- Python -*-
# lit configuration for qopt's GoogleTest suites: every test case of every
# *Tests binary under build/unittests is one lit test.

import os

import lit.formats

config.name = "QOPT-Unit"
config.suffixes = []
config.test_exec_root = os.path.join(config.qopt_obj_root, "unittests")
config.test_source_root = config.test_exec_root
config.test_format = lit.formats.GoogleTest(".", "Tests")
# Tests that read the shared reference data find it from the source tree.
config.environment["QOPT_SOURCE_DIR"] = config.qopt_src_root
