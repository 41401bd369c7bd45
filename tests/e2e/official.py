"""The official clients read caches mscli wrote, offline: run from their source, as
tests/official/check.py runs them, on Debian's python3 (with tests/official/pyshim).
Their source is never part of this repository: it is found through MSHUB_SRC
(modelscope_hub's src/), MSOLD_SRC (a directory holding modelscope 1.37's package)
and HFHUB_SRC (huggingface_hub's src/), and where those are not set the tests that
use this skip that part, with a note, and keep the rest."""
import json
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SHIM = os.path.join(ROOT, "tests", "official", "pyshim")
PY = "/usr/bin/python3"

SOURCES = {"modelscope_hub": "MSHUB_SRC", "modelscope": "MSOLD_SRC",
           "huggingface_hub": "HFHUB_SRC"}
HUB_CLIENTS = {"ms": ("modelscope_hub", "modelscope"), "hf": ("huggingface_hub",)}

# one process per client for all the caches: each call is what a loader does offline
SCRIPT = r'''
import json, os, sys
name, repo_id, caches = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
if name == "modelscope_hub":
    from modelscope_hub.compat import snapshot_download
    def find(c):
        return snapshot_download(repo_id, cache_dir=c, local_files_only=True)
elif name == "modelscope":
    from modelscope.hub.snapshot_download import snapshot_download
    def find(c):
        os.environ["MODELSCOPE_CACHE"] = c   # read at each call by modelscope 1.37
        return snapshot_download(repo_id, local_files_only=True)
else:
    from huggingface_hub import snapshot_download
    def find(c):
        return snapshot_download(repo_id, cache_dir=c, local_files_only=True)
out = {}
for c in caches:
    try:
        out[c] = find(c)
    except Exception as e:
        out[c] = "%s: %s" % (type(e).__name__, e)
print("RESULT " + json.dumps(out))
'''


def clients(hub):
    """[(client, source directory or None)] of a hub ("ms" or "hf")."""
    out = []
    for name in HUB_CLIENTS[hub]:
        src = os.environ.get(SOURCES[name])
        out.append((name, src if src and os.path.isdir(src) and os.path.exists(PY) else None))
    return out


def snapshot_offline(name, src, repo_id, caches, home):
    """{cache: the folder the client's snapshot_download(local_files_only=True) gives, or
    its error}, with no network: the endpoints point nowhere."""
    os.makedirs(home, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
           "PYTHONPATH": src + os.pathsep + SHIM, "HF_HUB_OFFLINE": "1",
           "HF_HUB_DISABLE_TELEMETRY": "1", "HF_ENDPOINT": "http://127.0.0.1:9",
           "MODELSCOPE_ENDPOINT": "http://127.0.0.1:9", "LC_ALL": "C.UTF-8"}
    p = subprocess.run([PY, "-c", SCRIPT, name, repo_id, json.dumps(caches)], env=env,
                       capture_output=True, text=True, timeout=600)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise AssertionError("%s did not run:\n%s" % (name, p.stderr[-2000:]))
