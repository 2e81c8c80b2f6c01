#!/usr/bin/env python3
"""Checks on the files of an IR output, for the atomicity tests.

  output_files.py sums IR
      Prints the SHA-256 of IR and of every file it references (each
      qopt.weight_store path, and the shards of a .index.json), one per line.
  output_files.py kill-mid-run IR WEIGHTS_DIR -- COMMAND...
      Runs COMMAND (which writes IR) and SIGKILLs it as soon as it has started
      writing side stores (a new entry appears in WEIGHTS_DIR), retrying with
      shorter polls when the run finished first. Fails when it never managed
      to kill a run mid-way.
"""
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time


def referenced(ir):
    base = os.path.dirname(os.path.abspath(ir))
    text = open(ir).read()
    files = []
    for path in re.findall(r'qopt\.weight_store @\S+ "([^"]+)"', text):
        full = os.path.normpath(os.path.join(base, path))
        files.append(full)
        if full.endswith(".index.json"):
            shards = set(json.load(open(full))["weight_map"].values())
            files += [os.path.join(os.path.dirname(full), s) for s in shards]
    return sorted(set(files))


def sums(ir):
    for path in [ir] + referenced(ir):
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
        print(digest, os.path.basename(path))


def kill_mid_run(ir, weights, command):
    for attempt in range(8):
        before = set(os.listdir(weights)) if os.path.isdir(weights) else set()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        poll = 0.01 / (attempt + 1)
        while proc.poll() is None:
            now = set(os.listdir(weights)) if os.path.isdir(weights) else set()
            if now - before:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(poll)
        code = proc.wait()
        if code == -signal.SIGKILL:
            print("killed mid-run after writing started")
            return 0
        print("run finished before the kill (exit %d), retrying" % code,
              file=sys.stderr)
    print("error: never managed to kill the run mid-way", file=sys.stderr)
    return 1


def main():
    if sys.argv[1] == "sums":
        sums(sys.argv[2])
        return 0
    if sys.argv[1] == "kill-mid-run" and sys.argv[4] == "--":
        return kill_mid_run(sys.argv[2], sys.argv[3], sys.argv[5:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
