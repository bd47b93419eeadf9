#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Keep dataplane/ a stack: each file includes and calls only what lies below it.

LAYERS lists the library's files bottom first (docs/design.md, "The file
stack"). A file may include the header of a lower layer (or its own), and
call a function defined in a file of a lower layer; two files of one layer
know nothing of each other. Fails (exit 1, one line per fault) on an upward
or sideways include or call, or a file LAYERS does not place.

Usage: check-layers.py DATAPLANE_DIR
"""
import os
import re
import sys

# Bottom first. Each entry: the layer's files (a .c and the header it implements).
LAYERS = [
    ["util.c", "util.h", "dl.c", "dl.h"],
    ["state.c", "internal.h"],
    ["nl.c", "nl.h", "lease.c", "lease.h", "mem.c", "flows.c", "docker_json.c", "pathdiff.c"],
    ["netns.c", "netns.h", "docker.c", "docker_int.h", "stats.c", "capture.c"],
    ["prog.c", "prog.h", "discover.c", "trace.c"],
    ["hook.c", "hook.h", "discover_docker.c"],
    ["veth.c", "veth.h"],
    ["attach.c", "bypass.c", "bypass.h", "pingpong.c"],
    ["bypass_load.c", "doctor.c"],
    ["metrics.c", "watch.c"],
    ["metrics_http.c"],
]

# A header and the file that implements it, where the names differ.
HEADER_OF = {"internal.h": "state.c", "docker_int.h": "docker.c", "bypass.h": "bypass.c"}

COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
STRING = re.compile(r'"(?:\\.|[^"\\\n])*"')
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
DEFINITION = re.compile(r"^(?!static\b)[A-Za-z_][\w \t\*]*?\b((?:dp|dk|xdpctl)_\w+)\(", re.M)


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    root = sys.argv[1]
    rank = {}
    for i, files in enumerate(LAYERS):
        for f in files:
            rank[f] = i
    faults = []
    sources = {}
    for f in sorted(os.listdir(root)):
        if not f.endswith((".c", ".h")):
            continue
        if f not in rank:
            faults.append(f"{f}: not placed in the file stack (LAYERS in {sys.argv[0]})")
            continue
        with open(os.path.join(root, f), encoding="utf-8") as fh:
            sources[f] = fh.read()

    # Includes: only headers of a lower layer, or the file's own header.
    for f, text in sources.items():
        for inc in INCLUDE.findall(text):
            if inc not in rank:
                continue  # skeletons, xdpctl/*.h: not part of the stack
            own = f.endswith(".c") and (inc == f[:-2] + ".h" or HEADER_OF.get(inc) == f)
            if rank[inc] >= rank[f] and not own:
                faults.append(f"{f}: includes {inc}, which is not below it "
                              f"(layer {rank[inc]} >= {rank[f]})")

    # Calls: a function another file defines must be defined below the caller.
    defined = {}
    code = {}
    for f, text in sources.items():
        code[f] = STRING.sub('""', COMMENT.sub(" ", text))
        if f.endswith(".c"):
            for name in DEFINITION.findall(code[f]):
                defined.setdefault(name, f)
    for f in sources:
        if not f.endswith(".c"):
            continue
        for name, where in defined.items():
            if where == f or rank[where] < rank[f]:
                continue
            if re.search(r"\b" + name + r"\s*\(", code[f]):
                faults.append(f"{f}: calls {name}() of {where}, which is not below it "
                              f"(layer {rank[where]} >= {rank[f]})")

    for line in faults:
        print(f"FAIL layers: {line}")
    if faults:
        return 1
    print(f"PASS layers: {len(sources)} files of dataplane/ include and call only downward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
