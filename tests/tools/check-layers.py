#!/usr/bin/env python3
"""The architecture, checked (`make lint`): README.md ("Design") says which
layer each module is in and what each may use.  This script holds the
code to it:

  1. a module includes only headers of its own layer or of layers below;
  2. the engine knows nothing of hubs, stores or repos; http knows no hub;
  3. no include cycle among the headers;
  4. nothing outside the hub and store modules names a hub (no hub branch);
  5. only the render layer and the commands write to stdout or stderr.

Run from the project root: python3 tests/tools/check-layers.py
"""
import os
import re
import sys

LAYERS = ["base", "services", "operations", "render", "commands"]

# module -> layer (a module is include/mscli/<m>.h with src/<m>.c, or a .c alone)
MODULES = {
    "base": """common alloc strbuf redact err log fs env parse clock index json hash
               pathsafe lock filter pickle resume version base64 ini""",
    "services": """http http-net proxy repo hub hub-modelscope hub-hf store store-ms store-ms-cache store-ms-swap store-mshub store-hf
                   store-hf-tree store-hf-cache store-hf-remove store-localdir engine engine-kind
                   engine-get engine-get-file engine-get-conn engine-put writer hasher hashfiles
                   hashpool commit hub-hf-auth hub-hf-upload hub-ms-auth hub-ms-upload""",
    "operations": """select download search info cache verify archive archive-lib archive-manifest
                     archive-import upload upload-walk upload-send account""",
    "render": "render render-download render-retry render-search render-upload progress output ui table",
    "commands": """cli cmd options setup cmd-download cmd-search cmd-info cmd-cache cmd-cache-verify cmd-cache-rm
                   cmd-cache-bundle cmd-upload cmd-login complete main""",
}
LAYER_OF = {m: layer for layer, ms in MODULES.items() for m in ms.split()}

# headers a module of this group must never include
FORBIDDEN = {
    "engine": {"hub", "store", "repo", "download"},
    "engine-kind": {"hub", "store", "repo", "download"},
    "engine-get": {"hub", "store", "repo", "download"},
    "engine-get-file": {"hub", "store", "repo", "download"},
    "engine-get-conn": {"hub", "store", "repo", "download"},
    "engine-put": {"hub", "store", "repo", "download", "upload", "commit"},
    "writer": {"hub", "store", "repo", "engine"},
    "hasher": {"hub", "store", "repo", "engine"},
    "hashfiles": {"hub", "store", "repo", "engine"},
    "hashpool": {"hub", "store", "repo", "engine"},
    "http": {"hub", "store", "repo"},
    "http-net": {"hub", "store", "repo"},
    "proxy": {"hub", "store", "repo"},
}

# files that may name the hubs or ask which hub it is
HUB_FILES = re.compile(r"^src/(hub|store)(-[a-z-]+)?\.c$")
HUB_NAMES = re.compile(r"\bms_hub_(modelscope|hf)\b|ms_hub_find\(\s*\"|MS_HUB_[A-Z]")

PRINTS = re.compile(r"\b(printf|puts|putchar|perror)\s*\(|\bstd(out|err)\b")
MAY_PRINT = {"src/alloc.c"}  # out of memory: nothing else is left to print it


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)


def main():
    errors = []
    files = sorted(["src/" + f for f in os.listdir("src") if f.endswith(".c")] +
                   ["include/mscli/" + f for f in os.listdir("include/mscli")
                    if f.endswith(".h")])
    deps = {}
    for path in files:
        module = os.path.splitext(os.path.basename(path))[0]
        if module not in LAYER_OF:
            errors.append("%s: module '%s' has no layer (add it to check-layers.py "
                          "and to README's Design section)" % (path, module))
            continue
        text = open(path).read()
        for inc in re.findall(r'#include "(?:mscli/)?([\w-]+)\.h"', text):
            if inc == module or inc == "unit":
                continue
            if inc not in LAYER_OF:
                errors.append("%s: includes unknown module '%s'" % (path, inc))
                continue
            if path.endswith(".h"):
                deps.setdefault(module, set()).add(inc)
            if LAYERS.index(LAYER_OF[inc]) > LAYERS.index(LAYER_OF[module]):
                errors.append("%s: %s (%s) includes %s.h from the %s layer above it" %
                              (path, module, LAYER_OF[module], inc, LAYER_OF[inc]))
            if inc in FORBIDDEN.get(module, ()):
                errors.append("%s: %s must not know %s.h" % (path, module, inc))
        code = strip_comments(text)
        if path.startswith("src/") and not HUB_FILES.match(path) and path != "src/hub.c":
            for n, line in enumerate(code.split("\n"), 1):
                if HUB_NAMES.search(line):
                    errors.append("%s:%d: names a hub outside the hub and store modules: %s"
                                  % (path, n, line.strip()))
        if (path.startswith("src/") and LAYER_OF[module] not in ("render", "commands")
                and path not in MAY_PRINT):
            for n, line in enumerate(code.split("\n"), 1):
                if PRINTS.search(line):
                    errors.append("%s:%d: prints outside the render layer: %s" %
                                  (path, n, line.strip()))
    # 3. cycles (depth-first search over the module graph)
    state = {}

    def visit(m, stack):
        state[m] = 1
        for d in sorted(deps.get(m, ())):
            if state.get(d) == 1:
                errors.append("include cycle: %s" % " -> ".join(stack[stack.index(d):] + [d]))
            elif not state.get(d):
                visit(d, stack + [d])
        state[m] = 2

    for m in sorted(deps):
        if not state.get(m):
            visit(m, [m])
    for e in errors:
        print(e)
    if not errors:
        print("ok   layers: %d modules in %d layers, no cycle, no hub branch outside "
              "hub-*/store-*, no printing below render" % (len(LAYER_OF), len(LAYERS)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
