#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check that analyzer/'s include arrows run one way.

usage: analyzer/layout-check.py [ANALYZER_DIR]     (default: analyzer)

The layers, lowest first; a file may include its own layer's headers and
those of the layers below it, never above:

  status.h   the exit statuses (a leaf: includes nothing of the analyzer)
  vmx/       what the SDM says: exit reasons, qualifications, names
  decode/    the reader's interface and both decoders (libbabeltrace2, fast)
  engine/    qualification-aware statistics, alignment, replay, diff, the
             histogram engines
  verbs/     the command line, output writers, the babeltrace2 plugin

Analyzer headers are included by their folder ("decode/reader.h"), so the
arrow is visible in the line itself; a bare "reader.h" is refused, and so is
a C file outside the four folders.  Prints one line per violation and exits
1 when there is any, 2 on bad usage, 0 otherwise.
"""
import os
import re
import sys

LAYERS = ["vmx", "decode", "engine", "verbs"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def rank_of(path):
    """Layer index of a header path relative to analyzer/, None if not ours."""
    if path == "status.h":
        return -1
    top = path.split("/", 1)[0]
    return LAYERS.index(top) if top in LAYERS and "/" in path else None


def check(root):
    bad = []
    ours = set()
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(".h"):
                ours.add(os.path.basename(f))
    for dirpath, _, files in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            rel = f if rel_dir == "." else os.path.join(rel_dir, f)
            if rel == "status.h":
                me = -1
            elif rel_dir in LAYERS:
                me = LAYERS.index(rel_dir)
            else:
                bad.append(f"{rel}: outside the layers ({', '.join(LAYERS)})")
                continue
            with open(os.path.join(dirpath, f), encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    inc = m.group(1)
                    r = rank_of(inc)
                    if r is None:
                        if "/" not in inc and inc in ours:
                            bad.append(f"{rel}:{n}: \"{inc}\" without its folder")
                        continue
                    if r > me:
                        bad.append(f"{rel}:{n}: \"{inc}\" is above "
                                   f"{'status.h' if me < 0 else LAYERS[me] + '/'}")
    return bad


def main(argv):
    if len(argv) > 2:
        print("usage: layout-check.py [ANALYZER_DIR]", file=sys.stderr)
        return 2
    root = argv[1] if len(argv) == 2 else "analyzer"
    if not os.path.isdir(root):
        print(f"layout-check: {root}: no such folder", file=sys.stderr)
        return 2
    bad = check(root)
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
