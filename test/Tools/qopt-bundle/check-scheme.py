#!/usr/bin/env python3
# check-scheme.py DIR NAME -- COMMAND...: runs COMMAND (which writes
# DIR/NAME.mlir), compiles it with qopt --lower-to-nvptx, writes its bundle
# with qopt-bundle, and compares the perplexity of the bundle on the
# runtime's CPU backend with the graph IR's on the CPU executor (WINDOWS
# windows of 512 tokens of eval_sotu_heldout, default 8): they must agree
# within TOLERANCE percent (default 0.1).
import os
import re
import subprocess
import sys

out_dir, name = sys.argv[1], sys.argv[2]
windows = os.environ.get("WINDOWS", "8")
tolerance = float(os.environ.get("TOLERANCE", "0.1")) / 100
command = sys.argv[sys.argv.index("--") + 1:]
tokens = os.path.join(os.environ["QOPT_SHARED_DATA"],
                      "tiny-llama-reference.safetensors") + ":eval_sotu_heldout"


def run(args):
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit("%s failed:\n%s" % (" ".join(args), done.stderr))
    return done.stdout


def ppl(text):
    m = re.search(r"^perplexity: ([0-9.]+)$", text, re.M)
    if not m:
        sys.exit("no perplexity in:\n" + text)
    return float(m.group(1))


graph = os.path.join(out_dir, name + ".mlir")
compiled = os.path.join(out_dir, name + ".nvptx.mlir")
bundle = os.path.join(out_dir, name + ".bundle")
run(command)
run(["qopt", graph, "--lower-to-nvptx=chip=sm_90a", "-o", compiled])
run(["qopt-bundle", compiled, "-o", bundle])
ppl_args = ["--backend=cpu", "--ppl", tokens, "--seq-len", "512",
            "--max-windows", windows]
g = ppl(run(["qopt-run", graph] + ppl_args))
b = ppl(run(["qopt-run", bundle] + ppl_args))
diff = b / g - 1
print("%s: graph %.4f bundle %.4f (%+.4f %%)" % (name, g, b, diff * 100))
if abs(diff) > tolerance:
    sys.exit("%s: the bundle's perplexity is %+.4f %% off the graph IR's"
             % (name, diff * 100))
