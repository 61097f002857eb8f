#!/usr/bin/env python3
"""Runs clang's thread-safety analysis over every C++ file of the tree.

    scripts/thread-safety-check.py BUILD_DIR [-j N]

BUILD_DIR is a clang build directory (scripts/sanitize.sh's build-asan) whose generated
Thrift headers exist. Each of our translation units in its compile_commands.json is compiled
again with -fsyntax-only: the analysis lives in clang's front end, so no code is generated
and the whole tree is checked in a fraction of a build, while the sanitizer build compiles
only the targets it runs. The flags are the build's own (-Wthread-safety
-Werror=thread-safety from CMakeLists.txt). Exits 1 naming every file that fails.
"""
import argparse
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys


def syntax_only(entry):
    args = entry.get("arguments") or shlex.split(entry["command"])
    out = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "-o":
            skip = True
            continue
        if a in ("-c",) or a.startswith("-fsanitize") or a.startswith("-MD") or a.startswith("-MF"):
            if a == "-MF":
                skip = True
            continue
        out.append(a)
    return out + ["-fsyntax-only"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build_dir")
    ap.add_argument("-j", type=int, default=os.cpu_count() or 1)
    opts = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(opts.build_dir, "compile_commands.json")) as f:
        entries = json.load(f)
    ours = [e for e in entries
            if os.path.abspath(e["file"]).startswith(root + os.sep)
            and not os.path.abspath(e["file"]).startswith(os.path.abspath(opts.build_dir) + os.sep)
            and e["file"].endswith(".cc")]
    if not "clang" in os.path.basename((ours[0].get("arguments") or shlex.split(ours[0]["command"]))[0]):
        sys.exit(f"thread-safety-check: {opts.build_dir} is not a clang build")
    # Each file once per set of defines: a file compiled into two targets with other
    # defines is other code to the analysis (journal.cc with -DQJ_SIM_PLANTS holds the
    # simulator's planted-bug functions, which no other variant compiles).
    seen, todo = set(), []
    for e in ours:
        args = e.get("arguments") or shlex.split(e["command"])
        key = (e["file"], tuple(a for a in args if a.startswith(("-D", "-U"))))
        if key not in seen:
            seen.add(key)
            todo.append(e)

    def run(e):
        p = subprocess.run(syntax_only(e), cwd=e["directory"], capture_output=True, text=True)
        return e["file"], p.returncode, p.stderr

    failed = []
    with concurrent.futures.ThreadPoolExecutor(opts.j) as ex:
        for path, rc, err in ex.map(run, todo):
            if rc != 0:
                failed.append(os.path.relpath(path, root))
                sys.stderr.write(err)
    if failed:
        print(f"thread-safety-check: {len(failed)} of {len(todo)} translation units fail:", *failed,
              sep="\n  ")
        return 1
    print(f"thread-safety-check: {len(todo)} translation units pass clang's -Wthread-safety")
    return 0


if __name__ == "__main__":
    sys.exit(main())
