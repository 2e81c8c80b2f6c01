# Prints the PTX of the first gpu.binary of an MLIR module (read from the file
# given, or stdin): the `assembly = "..."` string of the object that
# gpu-module-to-binary=format=isa produced, unescaped.
import re
import sys

text = open(sys.argv[1]).read() if len(sys.argv) > 1 else sys.stdin.read()
match = re.search(r'assembly = "((?:[^"\\]|\\.)*)"', text)
if not match:
    sys.exit("ptx-of.py: no gpu.binary assembly in the input")


def unescape(m):
    s = m.group(1)
    return s if s in ("\\", '"') else chr(int(s, 16))


sys.stdout.write(re.sub(r'\\([0-9A-Fa-f]{2}|\\|")', unescape, match.group(1)))
