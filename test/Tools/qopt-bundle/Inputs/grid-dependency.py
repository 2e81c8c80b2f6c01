"""Classifies the kernels of a bundle's kernels.ptx by what comes before
their griddepcontrol.wait: nothing that touches global memory ("waiting
first"), only L2 prefetches of weights ("prefetching first"), or anything
else ("other"); and prints the manifest's grid_dependency."""
import json
import re
import sys

bundle = sys.argv[1]
manifest = json.load(open(bundle + "/manifest.json"))
ptx = open(bundle + "/kernels.ptx").read()
print("manifest grid_dependency:", manifest.get("grid_dependency"))

# Global (or generic) memory: loads, stores, atomics and asynchronous copies
# that are not to or from shared, local or parameter space.
memory = re.compile(
    r"^\s*(@!?%p\d+\s+)?(ld|st|atom|red|cp\.async|ldu)\.(?!param|shared|local|bulk\.prefetch)")
prefetch = re.compile(r"^\s*(@!?%p\d+\s+)?cp\.async\.bulk\.prefetch\.L2")
counts = {"waiting": 0, "prefetching": 0, "other": 0}
gemv = 0
entries = re.split(r"^\.visible \.entry ", ptx, flags=re.M)[1:]
for entry in entries:
    name = entry.split("(", 1)[0]
    body = entry.split("{", 1)[1].splitlines()
    kind = "other"
    prefetched = False
    for line in body:
        if "griddepcontrol.wait" in line:
            kind = "prefetching" if prefetched else "waiting"
            break
        if prefetch.match(line):
            prefetched = True
        elif memory.match(line):
            break
    counts[kind] += 1
    gemv += "_gemv" in name
print("kernels: %d, waiting before any memory access: %d (after prefetching "
      "weights: %d), other: %d"
      % (len(entries), counts["waiting"] + counts["prefetching"],
         counts["prefetching"], counts["other"]))
print("gemv kernels:", gemv)
print("griddepcontrol instructions:", ptx.count("griddepcontrol."))
