#!/usr/bin/env python3
"""Lays out a checkpoint like a Hugging Face cache: every file of SRC is
copied to ROOT/blobs/<sha256> and linked from ROOT/snapshots/abc/<name> by
the relative symlink ../../blobs/<sha256>.

  make_hf_snapshot.py SRC ROOT
"""
import hashlib
import os
import shutil
import sys

src, root = sys.argv[1], sys.argv[2]
blobs = os.path.join(root, "blobs")
snapshot = os.path.join(root, "snapshots", "abc")
os.makedirs(blobs, exist_ok=True)
os.makedirs(snapshot, exist_ok=True)
for name in sorted(os.listdir(src)):
    data = open(os.path.join(src, name), "rb").read()
    digest = hashlib.sha256(data).hexdigest()
    shutil.copyfile(os.path.join(src, name), os.path.join(blobs, digest))
    os.symlink(os.path.join("..", "..", "blobs", digest),
               os.path.join(snapshot, name))
