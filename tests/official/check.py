"""The official clients read mscli's caches (stage 2 of check-official-clients.sh).

Stage 1 (the shell script) checked that the official clients download the
right bytes from the emulator.  Here mscli downloads into fresh caches from an
in-process emulator; then, with the endpoint pointing nowhere, the official
clients must find every file offline, and online they must fetch nothing.

Runs the clients from their source (env MSHUB_SRC: modelscope_hub's src/;
MSOLD_SRC: a directory holding the `modelscope` package of v1.37.1, the
last release before the hub refactor; HFHUB_SRC: huggingface_hub's src/;
each part is skipped when unset) on Debian's python3, which has requests,
httpx, click, filelock, tqdm and yaml.  Needs the mscli binary (MSCLI_BIN).
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "hub"))
from hubemu import Hub, _sample_files  # noqa: E402

MSCLI = os.environ.get("MSCLI_BIN") or os.path.join(ROOT, "mscli")
PY = "/usr/bin/python3"
FILES = _sample_files()
DATASET = {"data/train.jsonl": b'{"text": "hello"}\n' * 100, "README.md": b"# tiny dataset\n"}
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def same_tree(d, files):
    for p, data in files.items():
        fp = os.path.join(d, p)
        if not os.path.isfile(fp):
            return "missing " + p
        with open(fp, "rb") as f:
            if hashlib.sha256(f.read()).hexdigest() != hashlib.sha256(data).hexdigest():
                return "wrong bytes in " + p
    return None


def py(code, env, src):
    e = dict(os.environ)
    e.update(env)
    e["PYTHONPATH"] = src + os.pathsep + os.path.join(HERE, "pyshim")
    e["HOME"] = env.get("HOME", e.get("HOME"))
    p = subprocess.run([PY, "-c", code], env=e, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def mscli(args, env):
    e = dict(os.environ)
    e.update(env)
    p = subprocess.run([MSCLI, "-q"] + args, env=e, capture_output=True, text=True, timeout=300)
    if p.returncode:
        print(p.stderr)
    return p.returncode, p.stdout.strip()


def main():
    ms_src, hf_src = os.environ.get("MSHUB_SRC"), os.environ.get("HFHUB_SRC")
    old_src = os.environ.get("MSOLD_SRC")
    if not ms_src and not hf_src and not old_src:
        print("check-official: set MSHUB_SRC (modelscope_hub/src), MSOLD_SRC and/or HFHUB_SRC "
              "(huggingface_hub/src) to run the official clients; skipped")
        return 0
    if not os.access(MSCLI, os.X_OK):
        print("check-official: no mscli binary at %s (set MSCLI_BIN): mscli's caches not checked"
              % MSCLI)
        return 0
    tmp = tempfile.mkdtemp(prefix="mscli-official-")
    home = os.path.join(tmp, "home")
    os.makedirs(home)
    hub = Hub(cdn=True)
    hub.add_ms_repo("mscli-demo/tiny-model", files=FILES)
    hub.add_ms_repo("mscli-demo/Tiny-1.5B.v2", files=FILES)  # dots: the masked name
    hub.add_ms_repo("mscli-demo/tiny.dataset", type="dataset", files=DATASET)
    hub.add_hf_repo("mscli-demo/tiny-model", files=FILES)
    hub.add_hf_repo("mscli-demo/tiny-dataset", type="dataset", files=DATASET)
    try:
        if ms_src:
            modelscope(ms_src, hub, tmp, home)
        if old_src:
            modelscope_old(old_src, hub, tmp, home)
        if hf_src:
            huggingface(hf_src, hub, tmp, home)
    finally:
        hub.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print("mscli's caches: %s" % ("all passed" if not failures else "%d failed" % len(failures)))
    return 1 if failures else 0


def modelscope(src, hub, tmp, home):
    print("== modelscope_hub reads mscli's cache offline")
    mcache = os.path.join(tmp, "mscli-ms-cache")
    menv = {"MODELSCOPE_ENDPOINT": hub.url, "MODELSCOPE_CACHE": mcache, "HOME": home}
    rc, mpath = mscli(["download", "mscli-demo/tiny-model"], menv)
    check(rc == 0, "mscli download (ModelScope)")
    rc, dpath = mscli(["download", "--type", "dataset", "mscli-demo/tiny.dataset"], menv)
    check(rc == 0, "mscli download of a dataset (ModelScope)")
    # no network: an unreachable endpoint, so any request would fail
    off = {"MODELSCOPE_ENDPOINT": "http://127.0.0.1:9", "MODELSCOPE_CACHE": mcache, "HOME": home}
    rc, out, err = py("from modelscope_hub.compat import snapshot_download; "
                      "print(snapshot_download('mscli-demo/tiny-model', local_files_only=True))",
                      off, src)
    got = out.strip().splitlines()[-1] if out.strip() else ""
    check(rc == 0 and same_tree(got, FILES) is None,
          "compat.snapshot_download(local_files_only=True) finds mscli's model (%s)" %
          (err.strip()[-300:] if rc else got))
    rc, _ = mscli(["download", "mscli-demo/Tiny-1.5B.v2"], menv)
    rc2, out, err = py("from modelscope_hub.compat import snapshot_download; "
                       "print(snapshot_download('mscli-demo/Tiny-1.5B.v2', local_files_only=True))",
                       off, src)
    got = out.strip().splitlines()[-1] if out.strip() else ""
    check(rc == 0 and rc2 == 0 and same_tree(got, FILES) is None,
          "... and a dotted model name (%s)" % (err.strip()[-300:] if rc2 else got))
    rc, out, err = py("from modelscope_hub.compat import snapshot_download; "
                      "print(snapshot_download('mscli-demo/tiny.dataset', repo_type='dataset', "
                      "local_files_only=True))", off, src)
    got = out.strip().splitlines()[-1] if out.strip() else ""
    check(rc == 0 and same_tree(got, DATASET) is None,
          "... and mscli's dataset (dotted name) (%s)" % (err.strip()[-300:] if rc else got))
    rc, out, err = py("from modelscope_hub.compat import model_file_download; "
                      "print(model_file_download('mscli-demo/tiny-model', 'config.json', "
                      "local_files_only=True))", off, src)
    got = out.strip().splitlines()[-1] if out.strip() else ""
    check(rc == 0 and got.endswith("config.json") and open(got, "rb").read() == FILES["config.json"],
          "compat.model_file_download(local_files_only=True) (%s)" % (err.strip()[-300:] if rc else got))
    # online, the official client finds every file cached and fetches nothing
    hub.clear_log()
    rc, out, err = py("from modelscope_hub.compat import snapshot_download; "
                      "print(snapshot_download('mscli-demo/tiny-model'))", menv, src)
    fetched = hub.body_bytes()
    check(rc == 0 and fetched == 0, "compat.snapshot_download online re-uses mscli's files "
          "(%d bytes fetched)" % fetched)
    # --local-dir: each tool takes the other's directory as up to date
    for first, second in (("mscli", "hub"), ("hub", "mscli")):
        ld = os.path.join(tmp, "ms-local-%s-first" % first)
        runs = []
        for who in (first, second):
            if who == "mscli":
                rc, _ = mscli(["download", "mscli-demo/tiny-model", "--local-dir", ld], menv)
                err = ""
            else:
                rc, out, err = py("from modelscope_hub.compat import snapshot_download; "
                                  "print(snapshot_download('mscli-demo/tiny-model', "
                                  "local_dir=%r))" % ld, menv, src)
            runs.append(rc)
            if who == first:
                hub.clear_log()  # what the second run fetches is what counts
        check(runs == [0, 0] and same_tree(ld, FILES) is None and hub.body_bytes() == 0,
              "--local-dir: %s after %s fetches nothing (%d bytes) %s"
              % (second, first, hub.body_bytes(), err.strip()[-200:]))


def modelscope_old(src, hub, tmp, home):
    """modelscope <= 1.37: the pickled .msc index decides what is cached."""
    print("== modelscope 1.37 reads mscli's cache")
    mcache = os.path.join(tmp, "mscli-old-cache")
    rc, mpath = mscli(["download", "mscli-demo/tiny-model"],
                      {"MODELSCOPE_ENDPOINT": hub.url, "MODELSCOPE_CACHE": mcache, "HOME": home})
    check(rc == 0, "mscli download (ModelScope)")
    env = {"HOME": home, "MODELSCOPE_CACHE": mcache}
    for code, what in [
        ("from modelscope.hub.snapshot_download import snapshot_download; print(snapshot_download("
         "'mscli-demo/tiny-model', local_files_only=True))", "snapshot_download(local_files_only=True)"),
        ("from modelscope.hub.file_download import model_file_download; print(model_file_download("
         "'mscli-demo/tiny-model', 'config.json', local_files_only=True))",
         "model_file_download(local_files_only=True)"),
    ]:
        rc, out, err = py(code, env, src)
        got = out.strip().splitlines()[-1] if out.strip() else ""
        ok = rc == 0 and (same_tree(got, FILES) is None if "snapshot" in what else
                          os.path.isfile(got) and open(got, "rb").read() == FILES["config.json"])
        check(ok, "%s finds mscli's files (%s)" % (what, err.strip()[-300:] if rc else got))
    rc, _ = mscli(["download", "mscli-demo/Tiny-1.5B.v2"],
                  {"MODELSCOPE_ENDPOINT": hub.url, "MODELSCOPE_CACHE": mcache, "HOME": home})
    rc2, out, err = py("from modelscope.hub.snapshot_download import snapshot_download; "
                       "print(snapshot_download('mscli-demo/Tiny-1.5B.v2', local_files_only=True))",
                       env, src)
    got = out.strip().splitlines()[-1] if out.strip() else ""
    check(rc == 0 and rc2 == 0 and same_tree(got, FILES) is None,
          "... and a dotted model name (%s)" % (err.strip()[-300:] if rc2 else got))
    hub.clear_log()
    rc, out, err = py("from modelscope.hub.snapshot_download import snapshot_download; "
                      "print(snapshot_download('mscli-demo/Tiny-1.5B.v2', endpoint=%r))" % hub.url,
                      env, src)
    check(rc == 0 and hub.body_bytes() == 0, "... online too (%d bytes fetched)" % hub.body_bytes())
    hub.clear_log()
    rc, out, err = py("from modelscope.hub.snapshot_download import snapshot_download; "
                      "print(snapshot_download('mscli-demo/tiny-model', endpoint=%r))" % hub.url,
                      env, src)
    check(rc == 0 and hub.body_bytes() == 0, "snapshot_download online re-uses mscli's files "
          "(its .msc index matches; %d bytes fetched) %s" % (hub.body_bytes(), err.strip()[-200:]))


def huggingface(src, hub, tmp, home):
    hfenv = {"HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
             "HOME": home, "HF_HOME": os.path.join(home, "hf")}
    print("== huggingface_hub reads mscli's cache offline")
    mcache = os.path.join(tmp, "mscli-hf-cache")
    menv = {"HF_ENDPOINT": hub.url, "HF_HUB_CACHE": mcache, "HOME": home}
    rc, _ = mscli(["--hub", "hf", "download", "mscli-demo/tiny-model"], menv)
    check(rc == 0, "mscli --hub hf download")
    rc, _ = mscli(["--hub", "hf", "download", "--type", "dataset", "mscli-demo/tiny-dataset"], menv)
    check(rc == 0, "mscli --hub hf download of a dataset")
    off = dict(hfenv, HF_HUB_OFFLINE="1", HF_ENDPOINT="http://127.0.0.1:9")
    for code, what, files in [
        ("from huggingface_hub import snapshot_download; print(snapshot_download("
         "'mscli-demo/tiny-model', cache_dir=%r))" % mcache, "snapshot_download offline", FILES),
        ("from huggingface_hub import snapshot_download; print(snapshot_download("
         "'mscli-demo/tiny-dataset', repo_type='dataset', cache_dir=%r))" % mcache,
         "snapshot_download of the dataset offline", DATASET),
    ]:
        rc, out, err = py(code, off, src)
        got = out.strip().splitlines()[-1] if out.strip() else ""
        check(rc == 0 and same_tree(got, files) is None, "%s finds mscli's files (%s)" %
              (what, err.strip()[-300:] if rc else got))
    for name in ("config.json", "model.safetensors"):
        rc, out, err = py("from huggingface_hub import hf_hub_download; print(hf_hub_download("
                          "'mscli-demo/tiny-model', %r, cache_dir=%r))" % (name, mcache), off, src)
        got = out.strip().splitlines()[-1] if out.strip() else ""
        check(rc == 0 and os.path.isfile(got) and open(got, "rb").read() == FILES[name],
              "hf_hub_download(%s) offline (%s)" % (name, err.strip()[-300:] if rc else "ok"))
    rc, out, err = py("from huggingface_hub import scan_cache_dir; i = scan_cache_dir(%r); "
                      "print(len(i.repos), len(i.warnings), sorted(r.repo_id for r in i.repos))" %
                      mcache, off, src)
    check(rc == 0 and out.startswith("2 0 "), "scan_cache_dir lists both repos, no warnings (%s)" %
          (out.strip() or err.strip()[-300:]))
    rc, out, err = py("import sys; from huggingface_hub.cli.hf import main; "
                      "sys.argv=['hf','cache','verify','mscli-demo/tiny-model','--cache-dir',%r]; "
                      "main()" % mcache, hfenv, src)
    check(rc == 0, "hf cache verify agrees with mscli's blobs (%s)" % (out + err).strip()[-300:])
    # online: hf finds everything cached and fetches nothing
    hub.clear_log()
    rc, out, err = py("from huggingface_hub import snapshot_download; print(snapshot_download("
                      "'mscli-demo/tiny-model', cache_dir=%r))" % mcache, hfenv, src)
    check(rc == 0 and hub.body_bytes() == 0, "snapshot_download online re-uses mscli's blobs "
          "(%d bytes fetched)" % hub.body_bytes())
    # --local-dir: both tools read each other's .cache/huggingface/download/*.metadata
    print("== --local-dir: mscli and huggingface_hub agree on what is up to date")
    ld = os.path.join(tmp, "mscli-hf-local")
    rc, _ = mscli(["--hub", "hf", "download", "mscli-demo/tiny-model", "--local-dir", ld], menv)
    hub.clear_log()
    rc2, out, err = py("from huggingface_hub import snapshot_download; print(snapshot_download("
                       "'mscli-demo/tiny-model', local_dir=%r))" % ld, hfenv, src)
    check(rc == 0 and rc2 == 0 and same_tree(ld, FILES) is None and hub.body_bytes() == 0,
          "snapshot_download(local_dir=) over mscli's --local-dir fetches nothing (%d bytes) %s"
          % (hub.body_bytes(), err.strip()[-200:] if rc2 else ""))
    ld2 = os.path.join(tmp, "hf-local")
    rc, out, err = py("from huggingface_hub import snapshot_download; print(snapshot_download("
                      "'mscli-demo/tiny-model', local_dir=%r))" % ld2, hfenv, src)
    hub.clear_log()
    rc2, _ = mscli(["--hub", "hf", "download", "mscli-demo/tiny-model", "--local-dir", ld2], menv)
    check(rc == 0 and rc2 == 0 and same_tree(ld2, FILES) is None and hub.body_bytes() == 0,
          "mscli --local-dir over huggingface_hub's fetches nothing (%d bytes) %s"
          % (hub.body_bytes(), err.strip()[-200:] if rc else ""))


if __name__ == "__main__":
    sys.exit(main())
