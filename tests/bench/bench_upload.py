"""The upload leg of the benchmark (bench.py --upload): mscli against the
official clients, uploading the same folder to the same loopback hub.

The folder has large LFS files and many small ones.  The hub emulator hands
out upload URLs on nginx (its dav module takes the PUTs, as a storage host
would), and finds the objects in nginx's directory afterwards.  Every run
gets a fresh hub and an empty storage, so no run profits from another's
objects.  Measured: wall time, CPU seconds (user + system) and peak RSS of
the client, median over rounds; mscli against `hf upload` (huggingface_hub)
on the Hugging Face protocol and `ms-hub upload` (modelscope_hub) on
ModelScope's.  The official clients run from their source the way
tests/official/*.sh run them; a client whose source is absent is skipped
with a note.  Before each run a file of the folder's size is written and
deleted where nginx writes (on this kind of VM the first writer into fresh
memory is 5-10x slower; bench.py does the same).  The server's CPU seconds
(nginx taking the PUTs, the hub emulator answering the API) are measured beside
the client's: the two share the machine's cores.  modelscope 1.37 is not
measured: it insists on a JSON answer to its blob PUT, which no storage host
but ModelScope's own gives.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
sys.path.insert(0, HERE)
from nginx import Nginx  # noqa: E402
# bench.py imports this module in main
from bench import children, page_reporting, proc_cpu, scratch, write_shard  # noqa: E402

MB = 1000 * 1000
PY = "/usr/bin/python3"
SHIM = os.path.join(ROOT, "tests", "official", "pyshim")
OFFICIAL = os.environ.get("MSCLI_OFFICIAL", "/work/official")
HFHUB_SRC = os.environ.get("HFHUB_SRC", os.path.join(OFFICIAL, "hfhub", "src"))
MSHUB_SRC = os.environ.get("MSHUB_SRC", os.path.join(OFFICIAL, "mshub", "src"))

# tool -> (hub kind, what it is compared with)
TOOLS = {"mscli-hf": ("hf", None), "hf": ("hf", "mscli-hf"),
         "mscli-ms": ("ms", None), "ms-hub": ("ms", "mscli-ms")}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def make_folder(d, shards, shard_mb, small):
    """shards large *.safetensors (random, LFS on both hubs) and small text files (inline)."""
    os.makedirs(os.path.join(d, "tokenizer"), exist_ok=True)
    # what an earlier run with other parameters left would be uploaded too: only this run's
    want = {"model-%05d-of-%05d.safetensors" % (i + 1, shards) for i in range(shards)}
    want |= {"part-%04d.json" % j for j in range(small)}
    for dp, _, ns in os.walk(d):
        for n in ns:
            if n not in want:
                os.unlink(os.path.join(dp, n))
    for i in range(shards):
        p = os.path.join(d, "model-%05d-of-%05d.safetensors" % (i + 1, shards))
        if os.path.exists(p) and os.path.getsize(p) == shard_mb << 20:
            continue
        log("bench: writing %s (%d MiB)" % (p, shard_mb))
        write_shard(p, shard_mb, i)
    for j in range(small):
        p = os.path.join(d, "tokenizer", "part-%04d.json" % j)
        if not os.path.exists(p):
            with open(p, "w") as f:  # text: regular files on both hubs
                f.write(json.dumps({"id": j, "pad": os.urandom(1000 + 17 * j % 9000).hex()}))
    names = [os.path.join(dp, n) for dp, _, ns in os.walk(d) for n in ns
             if n != ".ms_upload_cache"]
    return len(names), sum(os.path.getsize(n) for n in names)


def timed(cmd, env):
    t0 = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "TIME %U %S %M"] + cmd, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    m = re.search(r"TIME ([\d.]+) ([\d.]+) (\d+)", r.stderr)
    if r.returncode != 0 or not m:
        raise RuntimeError("%s failed (%d): %s" % (cmd[:3], r.returncode, r.stderr[-3000:]))
    return wall, float(m.group(1)) + float(m.group(2)), int(m.group(3))


class Hub:
    """hubemu.py with its upload storage on nginx."""

    def __init__(self, nginx, store):
        shutil.rmtree(store, ignore_errors=True)
        os.makedirs(store)
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "tests", "hub", "hubemu.py"), "--port", "0",
             "--upload-base", nginx.url, "--upload-dir", store],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("hub emulator exited")
            m = re.match(r"HUBEMU_URL=(\S+)", line)
            if m:
                self.url = m.group(1)
                break

    def commits(self):
        with urllib.request.urlopen(self.url + "/_hubemu/commits") as r:
            return json.load(r)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        self.proc.stdout.close()


class UploadBench:
    def __init__(self, a):
        self.a = a
        self.work = os.path.join(a.dir, "upload")
        self.folder = os.path.join(self.work, "folder")
        self.store = os.path.join(self.work, "store")
        self.nfiles, self.total = make_folder(self.folder, a.upload_shards, a.upload_shard_mb,
                                              a.upload_small)
        self.nginx = Nginx(self.work, upload_root=self.store)
        self.mscli = os.path.abspath(a.mscli)
        self.tools = [t for t in a.upload_tools.split(",") if t]
        self.skipped = {}
        for t, src in (("hf", HFHUB_SRC), ("ms-hub", MSHUB_SRC)):
            if t in self.tools and not os.path.isdir(src):
                self.skipped[t] = "its source is not at %s" % src
                self.tools.remove(t)

    def close(self):
        self.nginx.stop()

    def env(self, hub, home):
        e = dict(os.environ)
        e.update({"HOME": home, "HF_HOME": os.path.join(home, "hf"), "HF_ENDPOINT": hub.url,
                  "MODELSCOPE_ENDPOINT": hub.url, "HF_HUB_DISABLE_XET": "1",
                  "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1"})
        return e

    def command(self, tool, repo):
        if tool == "mscli-hf":
            return [self.mscli, "-q", "--hub", "hf", "--token", "hf_goodtoken", "upload", repo,
                    self.folder]
        if tool == "mscli-ms":
            return [self.mscli, "-q", "--token", "ms-goodtoken", "upload", repo, self.folder]
        if tool == "hf":
            return ["env", "PYTHONPATH=%s:%s" % (HFHUB_SRC, SHIM), "HF_TOKEN=hf_goodtoken", PY,
                    "-m", "huggingface_hub.cli.hf", "upload", repo, self.folder]
        if tool == "ms-hub":
            return ["env", "PYTHONPATH=%s:%s" % (MSHUB_SRC, SHIM), PY, "-c",
                    "import sys\nfrom modelscope_hub.cli.main import run_cmd\n"
                    "sys.argv = ['ms-hub'] + sys.argv[1:]\nsys.exit(run_cmd())",
                    "upload", repo, self.folder, "--token", "ms-goodtoken", "--disable-tqdm"]
        raise ValueError(tool)

    def one(self, tool, rnd):
        """A timed run on a fresh hub and an empty storage; checks the commit after."""
        hub = Hub(self.nginx, self.store)
        home = os.path.join(self.work, "home-" + tool)
        shutil.rmtree(home, ignore_errors=True)
        os.makedirs(home)
        # modelscope_hub resumes from a cache it leaves in the folder: no run may use another's
        cache = os.path.join(self.folder, ".ms_upload_cache")
        if os.path.exists(cache):
            os.unlink(cache)
        repo = "alice/bench-%s-%d" % (tool, rnd)
        # as for downloads: the first writer into fresh memory is 5-10x slower on this kind
        # of VM, and nginx writes every byte uploaded; hand the memory back warm first
        scratch(self.work, self.total)
        # and every client reads the folder from the page cache, not the first one from disk
        for dp, _, ns in os.walk(self.folder):
            for n in ns:
                with open(os.path.join(dp, n), "rb") as f:
                    while f.read(1 << 20):
                        pass
        servers = [self.nginx.proc.pid] + children(self.nginx.proc.pid) + [hub.proc.pid]
        try:
            srv0 = proc_cpu(servers)
            wall, cpu, rss = timed(self.command(tool, repo), self.env(hub, home))
            srv = round(proc_cpu(servers) - srv0, 2)
            added = [p for c in hub.commits() if c["repo"] == repo for p in c["added"]]
            if len(set(added) - {".gitattributes"}) != self.nfiles:
                raise RuntimeError("%s committed %d of %d files" % (tool, len(added), self.nfiles))
        finally:
            hub.stop()
            shutil.rmtree(self.store, ignore_errors=True)
            if os.path.exists(cache):
                os.unlink(cache)
        return wall, cpu, rss, srv

    def rounds(self):
        res = {t: [] for t in self.tools}
        for r in range(self.a.rounds):
            order = self.tools[r % len(self.tools):] + self.tools[:r % len(self.tools)]
            for t in order:
                wall, cpu, rss, srv = self.one(t, r)
                res[t].append((wall, cpu, rss, srv))
                log("bench: upload round %d %-8s %7.0f MB/s  %6.2fs  cpu %6.2fs  srv %6.2fs  "
                    "rss %6.1f MiB"
                    % (r + 1, t, self.total / wall / MB, wall, cpu, srv, rss / 1024))
        return res


def main(a):
    b = UploadBench(a)
    try:
        res = b.rounds()
    finally:
        b.close()
    summary = {}
    for t, runs in res.items():
        wall = statistics.median(r[0] for r in runs)
        summary[t] = {"mb_per_s": b.total / wall / MB, "seconds": wall,
                      "cpu_seconds": statistics.median(r[1] for r in runs),
                      "server_cpu_seconds": statistics.median(r[3] for r in runs),
                      "peak_rss_mib": max(r[2] for r in runs) / 1024}
    print("\nmscli upload benchmark: %d x %d MiB + %d small files (%d files, %.0f MB), %d "
          "round(s); storage on nginx" % (a.upload_shards, a.upload_shard_mb, a.upload_small,
                                          b.nfiles, b.total / MB, a.rounds))
    print("server CPU (srv s) = nginx taking the PUTs + the hub emulator")
    reporting = page_reporting()
    if reporting:
        print("this VM reports free memory to its host (page reporting, %s): nginx's first "
              "writes into it are slow, and vary" % reporting)
    print("%-9s %5s %9s %9s %9s %9s %9s %s" % ("tool", "hub", "MB/s", "seconds", "CPU s", "srv s",
                                                "RSS MiB", "mscli is"))
    for t, s in summary.items():
        kind, vs = TOOLS[t]
        ratio = ("%.2fx faster" % (s["seconds"] / summary[vs]["seconds"])
                 if vs in summary else "")
        print("%-9s %5s %9.0f %9.2f %9.2f %9.2f %9.1f %s"
              % (t, kind, s["mb_per_s"], s["seconds"], s["cpu_seconds"],
                 s["server_cpu_seconds"], s["peak_rss_mib"], ratio))
    for t, why in b.skipped.items():
        print("%s: not measured, %s" % (t, why))
    print("modelscope 1.37: not measured (it wants a JSON answer to its blob PUT)")
    out = os.path.join(os.path.dirname(a.json), "upload.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"params": {"shards": a.upload_shards, "shard_mib": a.upload_shard_mb,
                              "small": a.upload_small, "rounds": a.rounds},
                   "files": b.nfiles, "bytes": b.total, "tools": summary,
                   "skipped": b.skipped}, f, indent=2)
    print("\nwrote " + out)
    return 0
