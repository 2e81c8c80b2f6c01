#!/usr/bin/env python3
# Prints the PTX of the gpu.binary ops in MLIR text (qopt --qopt-gpu-to-ptx
# output): the `assembly` string of each binary's #gpu.object, unescaped.
#
#   qopt-extract-ptx.py [--binary NAME] [--out-dir DIR] [FILE]
#
# Without --out-dir the PTX of every (or the named) binary goes to stdout;
# with it, each binary's PTX is written to DIR/NAME.ptx. It fails when no
# binary (or no binary of that name) is found.
import argparse
import os
import re
import sys

BINARY = re.compile(r'gpu\.binary\s+@([A-Za-z_][\w$.]*)')


def read_string(text, start):
    """Decodes the MLIR string literal whose opening quote is at start - 1:
    printable characters as is, \\\\ for a backslash, \\XX (two hex digits)
    for any other byte. Returns the bytes and the index after the quote."""
    out = bytearray()
    i = start
    while True:
        c = text[i]
        if c == '"':
            return bytes(out), i + 1
        if c == '\\':
            nxt = text[i + 1]
            if nxt in '\\"':
                out += nxt.encode()
                i += 2
            elif nxt == 'n':
                out += b'\n'
                i += 2
            elif nxt == 't':
                out += b'\t'
                i += 2
            else:
                out.append(int(text[i + 1:i + 3], 16))
                i += 3
            continue
        out += c.encode()
        i += 1


def binaries(text):
    """(name, ptx bytes) per gpu.binary, in order."""
    matches = list(BINARY.finditer(text))
    for n, m in enumerate(matches):
        end = matches[n + 1].start() if n + 1 < len(matches) else len(text)
        at = text.find('assembly = "', m.end(), end)
        if at < 0:
            continue
        ptx, _ = read_string(text, at + len('assembly = "'))
        yield m.group(1), ptx


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('file', nargs='?', default='-')
    parser.add_argument('--binary', help='only the gpu.binary of this name')
    parser.add_argument('--out-dir', help='write NAME.ptx files here')
    args = parser.parse_args()
    text = (sys.stdin.read() if args.file == '-' else
            open(args.file, encoding='utf-8').read())
    found = [(name, ptx) for name, ptx in binaries(text)
             if args.binary is None or name == args.binary]
    if not found:
        what = ('gpu.binary @' + args.binary) if args.binary else 'gpu.binary'
        sys.stderr.write('qopt-extract-ptx: no %s with an assembly in %s\n' %
                         (what, args.file))
        return 1
    for name, ptx in found:
        if args.out_dir:
            with open(os.path.join(args.out_dir, name + '.ptx'), 'wb') as f:
                f.write(ptx)
        else:
            sys.stdout.buffer.write(ptx)
    return 0


if __name__ == '__main__':
    sys.exit(main())
