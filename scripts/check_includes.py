#!/usr/bin/env python3
"""Fails when a file includes against the direction of the pipeline.

    cli -> agent -> {probes, analyzers, sinks, presets} -> model -> base

Each component below may include only itself and what its entry lists
(docs/architecture.md). Usage: check_includes.py [ROOT] | --self-test
"""
import os
import re
import sys
import tempfile

ALLOWED = {
    "base": {"base"},
    "bpf": {"bpf"},
    "symbols": {"symbols", "base"},
    "userspace/model": {"userspace/model", "base", "bpf"},
    "userspace/probes": {"userspace/probes", "userspace/model", "symbols", "base", "bpf"},
    "userspace/analyzers/budgets": {"userspace/analyzers/budgets", "userspace/model", "base"},
    "userspace/analyzers/memory": {"userspace/analyzers/memory", "userspace/model", "base"},
    "userspace/analyzers/recommendations": {"userspace/analyzers/recommendations", "userspace/model",
                                            "base"},
    "userspace/sinks": {"userspace/sinks", "userspace/model", "base"},
    "userspace/presets": {"userspace/presets", "userspace/analyzers/budgets", "userspace/model",
                          "symbols", "base"},
    "userspace/agent": {"userspace/agent", "userspace/probes", "userspace/sinks",
                        "userspace/model", "symbols", "base", "bpf"},
    # The top may include everything.
    "userspace/cli": None,
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def component(path):
    """The longest ALLOWED key that `path` (relative to the root) lies under."""
    best = None
    for key in ALLOWED:
        if path == key or path.startswith(key + "/"):
            if best is None or len(key) > len(best):
                best = key
    return best


def check(root):
    problems = []
    for top in ("base", "bpf", "symbols", "userspace"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                if not name.endswith((".h", ".cc", ".c")):
                    continue
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root)
                owner = component(rel)
                if owner is None:
                    problems.append(f"{rel}: not in any component of the layout; add it to "
                                    "scripts/check_includes.py and docs/architecture.md")
                    continue
                allowed = ALLOWED[owner]
                if allowed is None:
                    continue
                with open(full, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                for m in INCLUDE.finditer(text):
                    inc = m.group(1)
                    target = component(inc)
                    if target is None:
                        continue  # generated (*.skel.h) or local to the folder
                    if target not in allowed:
                        line = text.count("\n", 0, m.start()) + 1
                        problems.append(f"{rel}:{line}: includes {inc}: {owner} may include only "
                                        f"{', '.join(sorted(allowed))}")
    return problems


def self_test():
    """A planted wrong include must be caught, and a right one must not."""
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "userspace/model"))
        os.makedirs(os.path.join(root, "userspace/agent"))
        with open(os.path.join(root, "userspace/agent/agent.h"), "w") as f:
            f.write('#include "userspace/model/snapshot.h"\n')
        with open(os.path.join(root, "userspace/model/snapshot.h"), "w") as f:
            f.write('#include <string>\n')
        if check(root):
            print("self-test: a right include was flagged", file=sys.stderr)
            return 1
        with open(os.path.join(root, "userspace/model/snapshot.h"), "a") as f:
            f.write('#include "userspace/agent/agent.h"\n')
        found = check(root)
        if len(found) != 1 or "userspace/model/snapshot.h:2: includes userspace/agent/agent.h" \
                not in found[0]:
            print(f"self-test: the planted include was not reported as expected: {found}",
                  file=sys.stderr)
            return 1
    print("self-test: the planted wrong include was reported")
    return 0


def main(argv):
    if len(argv) > 1 and argv[1] == "--self-test":
        return self_test()
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    problems = check(root)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"check_includes: {len(problems)} includes against the layout", file=sys.stderr)
        return 1
    print("check_includes: every include points down the pipeline")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
