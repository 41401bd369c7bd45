"""`mscli cache` against the official clients (check-official-cache.sh).

1. huggingface_hub's scan_cache_dir() and `mscli --json cache ls` agree on the
   same HF cache: per repo the files, the size on disk (blobs shared between
   revisions once), the last access and modification, and per revision the
   commit, refs, files and size -- for repos mscli downloaded and for one
   huggingface_hub itself downloaded into that cache.
2. A bundle made by `mscli cache export`, imported into an empty cache on
   another HOME: huggingface_hub (HF_HUB_OFFLINE=1) and modelscope (both
   generations, local_files_only) load the repos from it, and the emulator
   sees no request.
3. What `ms-hub download` writes (modelscope_hub's own layout,
   <owner>--<name>/snapshots/master): `mscli cache ls` lists it with the files
   and size `ms cache scan` counts, `cache verify --online` finds it clean,
   `cache rm -y` removes it and `ms cache scan` no longer shows it.

Runs the clients from their source (HFHUB_SRC, MSHUB_SRC, MSOLD_SRC; each part
skipped when unset) on Debian's python3; needs MSCLI_BIN.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "hub"))
from hubemu import Hub, _sample_files  # noqa: E402
from check import same_tree  # noqa: E402  (check.py: the official clients read mscli's caches)

MSCLI = os.environ.get("MSCLI_BIN") or os.path.join(ROOT, "mscli")
PY = "/usr/bin/python3"
FILES = _sample_files()
V1 = dict(FILES, **{"README.md": b"# tiny model, v1\n", "extra/notes.txt": b"v1 only\n"})
DATASET = {"data/train.jsonl": b'{"text": "hello"}\n' * 100, "README.md": b"# tiny dataset\n"}
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def py(code, env, src, *args):
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    e.update(env)
    e["PYTHONPATH"] = src + os.pathsep + os.path.join(HERE, "pyshim")
    p = subprocess.run([PY, "-c", code] + list(args), env=e, capture_output=True, text=True,
                       timeout=300)
    return p.returncode, p.stdout, p.stderr


def mscli(args, env):
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    e.update(env)
    p = subprocess.run([MSCLI] + args, env=e, capture_output=True, text=True, timeout=300)
    if p.returncode:
        print(p.stderr)
    return p.returncode, p.stdout


SCAN = r"""
import json, sys
from huggingface_hub import scan_cache_dir
info = scan_cache_dir(sys.argv[1])
out = []
for r in info.repos:
    out.append({"id": r.repo_id, "type": r.repo_type, "files": r.nb_files,
                "size": r.size_on_disk, "last_accessed": r.last_accessed,
                "last_modified": r.last_modified,
                "revisions": sorted([{"commit": v.commit_hash, "refs": sorted(v.refs),
                                      "files": v.nb_files, "size": v.size_on_disk}
                                     for v in r.revisions], key=lambda v: v["commit"])})
print(json.dumps({"repos": out, "warnings": [str(w) for w in info.warnings]}))
"""


def agree(src, cache, home, what):
    rc, out, err = py(SCAN, {"HOME": home}, src, cache)
    check(rc == 0, "scan_cache_dir() runs (%s)" % err.strip()[-300:])
    if rc:
        return
    scan = json.loads(out)
    check(not scan["warnings"], "%s: scan_cache_dir() has no warning %s" % (what, scan["warnings"]))
    rc, ls = mscli(["--json", "--cache-dir", cache, "--hub", "hf", "cache", "ls"], {"HOME": home})
    ours = {(o["type"], o["id"]): o for o in map(json.loads, ls.splitlines())}
    theirs = {(r["type"], r["id"]): r for r in scan["repos"]}
    check(rc == 0 and set(ours) == set(theirs),
          "%s: the same repos (%s / %s)" % (what, sorted(ours), sorted(theirs)))
    for key in sorted(set(ours) & set(theirs)):
        o, t = ours[key], theirs[key]
        mine = sorted([{"commit": v["revision"], "refs": sorted(v["refs"]), "files": v["files"],
                        "size": v["size"]} for v in o["revisions"]], key=lambda v: v["commit"])
        check(o["files"] == t["files"] and o["size"] == t["size"],
              "%s %s: files %d/%d, size %d/%d" % (what, key[1], o["files"], t["files"],
                                                  o["size"], t["size"]))
        check(int(o["last_used"]) == int(t["last_accessed"]) and
              int(o["last_modified"]) == int(t["last_modified"]),
              "%s %s: last used %d/%d, modified %d/%d" % (
                  what, key[1], o["last_used"], t["last_accessed"], o["last_modified"],
                  t["last_modified"]))
        check(mine == t["revisions"], "%s %s: revisions %s / %s" % (what, key[1], mine,
                                                                     t["revisions"]))


def huggingface(src, hub, tmp, home):
    print("== huggingface_hub: scan_cache_dir() agrees with cache ls; it reads an imported bundle")
    cache = os.path.join(tmp, "hf-cache")
    env = {"HF_ENDPOINT": hub.url, "HF_HUB_CACHE": cache, "HOME": home}
    for args in (["download", "mscli-demo/tiny-model"],
                 ["download", "mscli-demo/tiny-model", "--revision", "v1"],
                 ["download", "--type", "dataset", "mscli-demo/tiny-dataset"]):
        rc, _ = mscli(["-q", "--hub", "hf"] + args, env)
        check(rc == 0, "mscli --hub hf " + " ".join(args))
    agree(src, cache, home, "mscli's cache")
    # a repo huggingface_hub downloads itself, into the same cache
    rc, out, err = py("import sys\nfrom huggingface_hub import snapshot_download\n"
                      "print(snapshot_download('mscli-demo/other', cache_dir=sys.argv[1]))",
                      {"HF_ENDPOINT": hub.url, "HOME": home}, src, cache)
    check(rc == 0, "huggingface_hub downloads into the same cache (%s)" % err.strip()[-300:])
    agree(src, cache, home, "with huggingface_hub's repo")
    rc, _ = mscli(["--cache-dir", cache, "cache", "verify"], {"HOME": home})
    check(rc == 0, "cache verify: huggingface_hub's repo is checked by its blob names")
    # export -> import on another HOME -> huggingface_hub offline, no request
    bundle = os.path.join(tmp, "hf.tar.zst")
    rc, _ = mscli(["--cache-dir", cache, "cache", "export", "hf:mscli-demo/tiny-model",
                   "hf:datasets/mscli-demo/tiny-dataset", "-o", bundle], {"HOME": home})
    check(rc == 0, "cache export")
    home2 = os.path.join(tmp, "home-hf2")
    os.makedirs(home2)
    cache2 = os.path.join(home2, ".cache", "huggingface", "hub")
    rc, _ = mscli(["cache", "import", bundle], {"HOME": home2})
    check(rc == 0 and os.path.isdir(cache2), "cache import into an empty HOME")
    hub.clear_log()
    off = {"HOME": home2, "HF_HUB_OFFLINE": "1", "HF_ENDPOINT": hub.url}
    for rev, files in (("main", FILES), ("v1", V1)):
        rc, out, err = py("import sys\nfrom huggingface_hub import snapshot_download\n"
                          "print(snapshot_download('mscli-demo/tiny-model', revision=sys.argv[1]))",
                          off, src, rev)
        got = out.strip().splitlines()[-1] if out.strip() else ""
        check(rc == 0 and same_tree(got, files) is None,
              "HF_HUB_OFFLINE=1 snapshot_download(revision=%r) after import (%s)"
              % (rev, err.strip()[-300:] if rc else got))
    rc, out, err = py("from huggingface_hub import hf_hub_download\n"
                      "print(hf_hub_download('mscli-demo/tiny-dataset', 'data/train.jsonl', "
                      "repo_type='dataset'))", off, src)
    got = out.strip().splitlines()[-1] if out.strip() else ""
    check(rc == 0 and os.path.isfile(got) and open(got, "rb").read() == DATASET["data/train.jsonl"],
          "HF_HUB_OFFLINE=1 hf_hub_download of the dataset (%s)" % (err.strip()[-300:] if rc else got))
    check(len(hub.log) == 0, "no request reached the hub (%d)" % len(hub.log))
    agree(src, cache2, home2, "the imported cache")


def modelscope(src, old, hub, tmp, home):
    print("== modelscope reads an imported bundle with local_files_only")
    cache = os.path.join(tmp, "ms-cache")
    env = {"MODELSCOPE_ENDPOINT": hub.url, "MODELSCOPE_CACHE": cache, "HOME": home}
    for args in (["download", "mscli-demo/tiny-model"], ["download", "mscli-demo/Tiny-1.5B.v2"],
                 ["download", "--type", "dataset", "mscli-demo/tiny.dataset"]):
        rc, _ = mscli(["-q"] + args, env)
        check(rc == 0, "mscli " + " ".join(args))
    bundle = os.path.join(tmp, "ms.tar")
    rc, _ = mscli(["cache", "export", "ms:mscli-demo/tiny-model", "ms:mscli-demo/Tiny-1.5B.v2",
                   "ms:datasets/mscli-demo/tiny.dataset", "-o", bundle], env)
    check(rc == 0, "cache export")
    home2 = os.path.join(tmp, "home-ms2")
    os.makedirs(home2)
    rc, _ = mscli(["cache", "import", bundle], {"HOME": home2})
    cache2 = os.path.join(home2, ".cache", "modelscope", "hub")
    check(rc == 0 and os.path.isdir(cache2), "cache import into an empty HOME")
    hub.clear_log()
    off = {"HOME": home2, "MODELSCOPE_ENDPOINT": hub.url}
    calls = []
    if old:
        calls += [(old, "modelscope 1.37",
                   "from modelscope.hub.snapshot_download import snapshot_download as s\n"
                   "print(s(%r, local_files_only=True%s))")]
    if src:
        calls += [(src, "modelscope_hub",
                   "from modelscope_hub.compat import snapshot_download as s\n"
                   "print(s(%r, local_files_only=True%s))")]
    for path, who, code in calls:
        for rid, kw, files in (("mscli-demo/tiny-model", "", FILES),
                               ("mscli-demo/Tiny-1.5B.v2", "", FILES),
                               ("mscli-demo/tiny.dataset", ", repo_type='dataset'", DATASET)):
            rc, out, err = py(code % (rid, kw), off, path)
            got = out.strip().splitlines()[-1] if out.strip() else ""
            check(rc == 0 and same_tree(got, files) is None,
                  "%s snapshot_download(%r, local_files_only=True) after import (%s)"
                  % (who, rid, err.strip()[-300:] if rc else got))
    check(len(hub.log) == 0, "no request reached the hub (%d)" % len(hub.log))


MS_HUB = "import sys\nfrom modelscope_hub.cli.main import run_cmd\n" \
         "sys.argv = ['ms-hub'] + sys.argv[1:]\nrun_cmd()"
MS_SCAN = r"""
import json, sys
from modelscope_hub._cache_manager import scan_cache
print(json.dumps([{"id": r.repo_id, "type": str(getattr(r.repo_type, "value", r.repo_type)),
                   "files": r.nb_files, "size": r.size_on_disk, "path": r.local_path}
                  for r in scan_cache(sys.argv[1]).repos]))
"""


def modelscope_hub_layout(src, hub, tmp, home):
    print("== modelscope_hub's own layout: cache ls, verify --online, rm agree with ms-hub")
    cache = os.path.join(tmp, "mshub-cache")
    env = {"MODELSCOPE_ENDPOINT": hub.url, "MODELSCOPE_CACHE": cache, "HOME": home}
    for args in (["download", "mscli-demo/tiny-model"],
                 ["download", "mscli-demo/tiny.dataset", "--repo-type", "dataset"]):
        rc, out, err = py(MS_HUB, env, src, *args)
        check(rc == 0, "ms-hub " + " ".join(args) + (" (%s)" % err.strip()[-300:] if rc else ""))
    folder = os.path.join(cache, "models", "mscli-demo--tiny-model")
    check(os.path.isdir(os.path.join(folder, "snapshots", "master")),
          "ms-hub wrote <owner>--<name>/snapshots/master")
    rc, out, err = py(MS_SCAN, env, src, cache)
    theirs = {(r["type"], r["id"]): r for r in json.loads(out)} if rc == 0 else {}
    rc, ls = mscli(["--json", "cache", "ls"], env)
    ours = {(o["type"], o["id"]): o for o in map(json.loads, ls.splitlines())}
    check(rc == 0 and set(ours) == set(theirs) and len(ours) == 2,
          "cache ls lists what ms cache scan lists (%s / %s)" % (sorted(ours), sorted(theirs)))
    for key in sorted(set(ours) & set(theirs)):
        o, t = ours[key], theirs[key]
        want = FILES if key[0] == "model" else DATASET
        check(o["layout"] == "modelscope_hub" and o["path"] == t["path"] and
              [v["revision"] for v in o["revisions"]] == ["master"] and not o["incomplete"],
              "%s: layout modelscope_hub, its folder, revision master, complete" % key[1])
        check(o["files"] == t["files"] == len(want) and
              o["size"] == t["size"] == sum(len(v) for v in want.values()),
              "%s: files %d/%d, size %d/%d" % (key[1], o["files"], t["files"], o["size"],
                                                t["size"]))
    hub.clear_log()
    rc, _ = mscli(["cache", "verify", "--online"], env)
    check(rc == 0 and len(hub.log) > 0, "cache verify --online: clean, against the listing")
    locks = os.path.join(cache, ".lock")

    def model_locks():
        return [n for n in os.listdir(locks) if n.startswith("model_mscli-demo___tiny-model_")]
    check(len(model_locks()) == len(FILES), "ms-hub left a lock file per file (%s)"
          % model_locks())
    rc, _ = mscli(["cache", "rm", "-y", "mscli-demo/tiny-model"], env)
    check(rc == 0 and not os.path.exists(folder) and not model_locks(),
          "cache rm -y removes the folder and its lock files")
    rc, out, err = py(MS_HUB, env, src, "cache", "scan")
    check(rc == 0 and "mscli-demo/tiny-model" not in out + err and
          "mscli-demo/tiny.dataset" in out + err,
          "ms cache scan no longer shows it, still shows the dataset")


def main():
    hf, ms, old = (os.environ.get(k) for k in ("HFHUB_SRC", "MSHUB_SRC", "MSOLD_SRC"))
    if not (hf or ms or old):
        print("check-official-cache: set HFHUB_SRC, MSHUB_SRC and/or MSOLD_SRC; skipped")
        return 0
    if not os.access(MSCLI, os.X_OK):
        print("check-official-cache: no mscli binary at %s (set MSCLI_BIN)" % MSCLI)
        return 1
    tmp = tempfile.mkdtemp(prefix="mscli-official-cache-")
    home = os.path.join(tmp, "home")
    os.makedirs(home)
    hub = Hub(cdn=True)
    hub.add_hf_repo("mscli-demo/tiny-model", files=FILES, branches={"v1": V1})
    hub.add_hf_repo("mscli-demo/other", files={"config.json": b'{"other": 1}\n',
                                               "w.safetensors": b"\1" * 200_000})
    hub.add_hf_repo("mscli-demo/tiny-dataset", type="dataset", files=DATASET)
    hub.add_ms_repo("mscli-demo/tiny-model", files=FILES)
    hub.add_ms_repo("mscli-demo/Tiny-1.5B.v2", files=FILES)
    hub.add_ms_repo("mscli-demo/tiny.dataset", type="dataset", files=DATASET)
    try:
        if hf:
            huggingface(hf, hub, tmp, home)
        if ms or old:
            modelscope(ms, old, hub, tmp, home)
        if ms:
            modelscope_hub_layout(ms, hub, tmp, home)
    finally:
        hub.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("check-official-cache: %s" % ("all passed" if not failures else
                                        "%d failed" % len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
