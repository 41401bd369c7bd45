#!/usr/bin/env python3
"""The architecture, checked (`make lint`): README.md ("Design") says which
layer each module is in and what each may use.  This script holds the
code to it:

  1. a module includes only headers of its own layer or of layers below;
  2. the engine knows nothing of hubs, stores or repos; http knows no hub;
  3. no cycle among the modules (a module is its .c and its .h: one node);
  4. nothing outside the hub and store modules names a hub (no hub branch):
     not its symbol, not its name compared with a string ("hf"), not its place
     in the registry (ms_hubs[1]);
  5. only the render layer and the commands write to stdout or stderr;
  6. README's Design section names every module in the row of its layer.

Run from the project root: python3 tests/tools/check-layers.py
(--self-test: check that planted violations of 4 are found, then exit)
"""
import os
import re
import sys

LAYERS = ["base", "services", "operations", "render", "commands"]

# module -> layer (a module is include/mscli/<m>.h with src/<m>.c, or a .c alone)
MODULES = {
    "base": """common alloc strbuf redact err log fs fs-memo env parse clock index json hash
               pathsafe lock filter pickle resume version base64 ini""",
    "services": """http http-net url proxy repo hub hub-modelscope hub-hf store store-ms store-ms-cache store-ms-swap store-mshub store-hf
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

# Private parts of a module: one node with their parent in the cycle check (3), as their
# two halves call each other by design and nothing outside the parent may use them.
#   engine-kind: the engine loop's interface to its job kinds (engine-get, engine-put); a
#     header only, the engine's own inside, told apart so that a kind sees no more.
#   upload-send: hashing and sending the LFS objects, split off upload.c for its size; it
#     reports each file through upload.c's upload_report and works on struct ms_upload.
PART_OF = {"engine-kind": "engine", "upload-send": "upload"}

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
    "url": {"hub", "store", "repo"},
    "proxy": {"hub", "store", "repo"},
}

# files that may name the hubs or ask which hub it is
HUB_FILES = re.compile(r"^src/(hub|store)(-[a-z-]+)?\.c$")
HUB_NAMES = re.compile(r"\bms_hub_(modelscope|hf)\b|ms_hub_find\(\s*\"|MS_HUB_[A-Z]")
# a hub by its place in the registry: generic code loops over ms_hubs[] or asks ms_hub_find
HUB_INDEX = re.compile(r"\bms_hubs\s*\[\s*[0-9]")
# the names a hub goes by; the hub files' own .name and aliases are added to these
HUB_LITERALS = {"hf", "ms", "modelscope", "huggingface", "hugging face", "hugging_face"}
# a string compared: its arguments are searched for a hub's name
STR_COMPARE = re.compile(r"\b(?:str(?:n)?(?:case)?cmp|memcmp|strstr|strcasestr|ms_str\w*eq\w*)\s*\(")

PRINTS = re.compile(r"\b(printf|puts|putchar|perror)\s*\(|\bstd(out|err)\b")
MAY_PRINT = {"src/alloc.c"}  # out of memory: nothing else is left to print it


# one pass, so that "hf://" is a string and not a comment
TOKENS = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|/\*.*?\*/|//[^\n]*', re.S)


def strip_comments(text, keep_strings=False):
    def blank(m):
        t = m.group(0)
        if t.startswith("/"):
            return "\n" * t.count("\n")
        return t if keep_strings or t.startswith("'") else '""'
    return TOKENS.sub(blank, text)


def design_rows(readme="README.md"):
    """6: the modules each layer's row of README's Design table names ({layer: set})."""
    text = open(readme).read()
    start = text.find("\n## Design")
    end = text.find("\n## ", start + 1)
    rows = {}
    for line in text[start:end if end > 0 else None].split("\n"):
        cells = line.split("|")
        if start >= 0 and len(cells) > 3 and cells[1].strip() in LAYERS:
            rows[cells[1].strip()] = {re.sub(r"\.[ch]$", "", n)
                                      for n in re.findall(r"`([\w.-]+)`", cells[2])}
    return rows


def design_errors(rows):
    return ["README.md: the Design section does not name module '%s' in the %s row" %
            (m, layer) for m, layer in sorted(LAYER_OF.items()) if m not in rows.get(layer, ())]


def add_dep(deps, module, inc):
    """The edge module -> inc of the module graph (a .c and its .h are one node)."""
    node, dep = PART_OF.get(module, module), PART_OF.get(inc, inc)
    if node != dep:
        deps.setdefault(node, set()).add(dep)


def cycles(deps):
    """3: the cycles of the module graph (depth-first search)."""
    found, state = [], {}

    def visit(m, stack):
        state[m] = 1
        for d in sorted(deps.get(m, ())):
            if state.get(d) == 1:
                found.append("include cycle: %s" % " -> ".join(stack[stack.index(d):] + [d]))
            elif not state.get(d):
                visit(d, stack + [d])
        state[m] = 2

    for m in sorted(deps):
        if not state.get(m):
            visit(m, [m])
    return found


def hub_literals():
    """HUB_LITERALS and the names and aliases the hub files declare."""
    names = set(HUB_LITERALS)
    for f in os.listdir("src"):
        if f.startswith("hub-") and f.endswith(".c"):
            text = open(os.path.join("src", f)).read()
            names.update(re.findall(r'\.name\s*=\s*"([^"]+)"', text))
            for body in re.findall(r"\w*aliases\[\]\s*=\s*\{([^}]*)\}", text):
                names.update(re.findall(r'"([^"]+)"', body))
    return {n.lower() for n in names}


def call_args(code, start):
    """The text between the parenthesis at code[start - 1] and its match."""
    depth, i = 1, start
    while i < len(code) and depth:
        depth += {"(": 1, ")": -1}.get(code[i], 0)
        i += 1
    return code[start:i - 1]


def hub_branches(path, text, literals):
    """Rule 4 for one generic file: the places that ask which hub it is."""
    found = set()
    for n, line in enumerate(strip_comments(text).split("\n"), 1):
        if HUB_NAMES.search(line) or HUB_INDEX.search(line):
            found.add(n)
    # strings kept: a name compared may span lines, so the whole call is read
    code = strip_comments(text, keep_strings=True)
    for m in STR_COMPARE.finditer(code):
        args = call_args(code, m.end())
        if any(s.lower().rstrip(":/") in literals
               for s in re.findall(r'"((?:\\.|[^"\\])*)"', args)):
            found.add(code.count("\n", 0, m.start()) + 1)
    lines = code.split("\n")
    return ["%s:%d: names a hub outside the hub and store modules: %s" %
            (path, n, lines[n - 1].strip()) for n in sorted(found)]


# Planted violations (--self-test): each line of BAD must be found, nothing of GOOD.
SELF_TEST_BAD = """
if (!strcmp(h->name, "hf")) x();
if (strcasecmp(ctx->hub->name, "ModelScope") == 0) y();
if (!strncmp(repo->hub->name,
             "huggingface", 11)) z();
const struct ms_hub *hf = ms_hubs[1];
if (hub == ms_hubs [0]) w();
if (hub == &ms_hub_hf) v();
if (h->kind == MS_HUB_HF) u();
h = ms_hub_find("ms");
if (!strcmp(prefix, "hf://")) t();
"""
SELF_TEST_GOOD = """
/* strcmp(h->name, "hf") in a comment, and ms_hubs[1] */
for (size_t i = 0; ms_hubs[i]; i++) printf("%s", ms_hubs[i]->name);
if (!strcmp(name, "main")) x(); // !strcmp(h->name, "hf")
ms_info("see 'hf://o/n' or --hub hf");
const char *u = "http://x"; if (!strcmp(a, b)) y();
"""


def self_test():
    literals = hub_literals()
    bad = hub_branches("bad.c", SELF_TEST_BAD, literals)
    good = hub_branches("good.c", SELF_TEST_GOOD, literals)
    want = [n for n, line in enumerate(SELF_TEST_BAD.split("\n"), 1)
            if line and not line.startswith(" ")]
    got = [int(e.split(":")[1]) for e in bad]
    errors = ["self-test: line %d of the planted violations is not found: %s" %
              (n, SELF_TEST_BAD.split("\n")[n - 1]) for n in want if n not in got]
    errors += ["self-test: a false alarm: " + e for e in good]
    # a cycle through a .c file (archive.c -> archive-manifest.h, archive-manifest.c ->
    # archive.c's function) is one; a private part (PART_OF) is its parent
    deps = {}
    for module, inc in (("archive", "archive-manifest"), ("archive-manifest", "archive"),
                        ("engine", "engine-kind"), ("engine-kind", "engine"),
                        ("engine-get", "engine-kind"), ("cache", "archive")):
        add_dep(deps, module, inc)
    found = cycles(deps)
    if found != ["include cycle: archive -> archive-manifest -> archive"]:
        errors.append("self-test: the planted cycles give %r" % found)
    # a module README does not name, or names in another layer's row
    rows = {layer: set(LAYER_OF) for layer in LAYERS}
    rows["services"] = rows["services"] - {"proxy"}
    rows["base"] = rows["base"] - {"common"}
    found = design_errors(rows)
    if len(found) != 2 or "'common'" not in found[0] or "'proxy'" not in found[1]:
        errors.append("self-test: the planted README gaps give %r" % found)
    for e in errors:
        print(e)
    if not errors:
        print("ok   layers self-test: %d planted hub branches, a cycle and README gaps found, "
              "no false alarm" % len(want))
    return 1 if errors else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    literals = hub_literals()
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
            add_dep(deps, module, inc)
            if LAYERS.index(LAYER_OF[inc]) > LAYERS.index(LAYER_OF[module]):
                errors.append("%s: %s (%s) includes %s.h from the %s layer above it" %
                              (path, module, LAYER_OF[module], inc, LAYER_OF[inc]))
            if inc in FORBIDDEN.get(module, ()):
                errors.append("%s: %s must not know %s.h" % (path, module, inc))
        code = strip_comments(text)
        if path.startswith("src/") and not HUB_FILES.match(path):
            errors += hub_branches(path, text, literals)
        if (path.startswith("src/") and LAYER_OF[module] not in ("render", "commands")
                and path not in MAY_PRINT):
            for n, line in enumerate(code.split("\n"), 1):
                if PRINTS.search(line):
                    errors.append("%s:%d: prints outside the render layer: %s" %
                                  (path, n, line.strip()))
    errors += cycles(deps)
    errors += design_errors(design_rows())
    for e in errors:
        print(e)
    if not errors:
        print("ok   layers: %d modules in %d layers, no cycle, no hub branch outside "
              "hub-*/store-*, no printing below render, each named in README's Design" %
              (len(LAYER_OF), len(LAYERS)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
