#!/usr/bin/env python3
"""mscli against the official clients, curl, aria2c and wget2 on one loopback hub (make bench).

The hub emulator answers the ModelScope and Hugging Face APIs and redirects
every file to nginx (302), as the real hubs redirect to their CDNs.  Every
tool fetches the same files through the hub: mscli, the official ModelScope
client (modelscope_hub's compat.snapshot_download, source in MSHUB_SRC) and
huggingface_hub's snapshot_download (source in HFHUB_SRC, on the emulator's
Hugging Face side), curl, aria2c and wget2.  A client whose source is absent
is skipped with a note.

Workloads (--workloads): big (4 x 512 MiB shards and 3 small files), small
(2000 x 64 KiB files in 20 directories, written to a journaled ext4 the bench
makes when --dir is on an ext4 without a journal: see SmallFs) and huge (one
2 GiB file), each over
HTTP/1.1 and over TLS, nginx offering HTTP/2 (--proto; its certificate is signed
by a CA the bench makes).  Tools alternate within each round and every timed run is
preceded by writing and deleting a scratch file of the same size (on this kind
of VM the first writer into fresh memory is 5-10x slower), then a sync.  Per tool, medians
over rounds: wall, MB/s, files/s, client CPU s, server CPU s (nginx and the hub
emulator), peak RSS, the CDN connections nginx saw, when the first CDN request
started, a warm re-run (the tools with a cache) and mscli's ratio against
each.  Per leg the floors: reading the bytes over loopback (net), one core of
SHA-256, and the 2-core verified floor max(net wall, (net CPU + SHA-256 CPU) /
cores).  The big HTTP leg adds a resume after kill -9 at 50% and, with --legs,
the cache legs (verify, export, import) and the local-dir leg (the small workload
again, each client writing into a plain directory: mscli --local-dir, the official
clients' local_dir=).  With --upload: the upload leg
(bench_upload.py).  --report prints README's tables from a result.json.
"""
import argparse
import glob
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
from certs import CA  # noqa: E402
from nginx import Nginx  # noqa: E402

MB = 1000 * 1000
REPO = "bench/model"
PY = "/usr/bin/python3"
SHIM = os.path.join(ROOT, "tests", "official", "pyshim")
OFFICIAL = os.environ.get("MSCLI_OFFICIAL", "/work/official")
CACHED = ("mscli", "alt", "ms-hub", "hf")  # the tools with a cache: they get a warm re-run
BUDGET = 8                                 # mscli's connection budget (--max-workers)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def write_shard(path, mib, i):
    """mib MiB of random bytes, cheaply varied so that no two MiB (nor two shards) are equal."""
    with open(path, "wb") as f:
        block = os.urandom(1 << 20)
        for k in range(mib):
            f.write(block[:-8] + k.to_bytes(4, "little") + i.to_bytes(4, "little"))


def workload_files(a, w):
    """{relative path: size} of workload w."""
    if w == "big":
        files = {"model-%05d-of-%05d.safetensors" % (i + 1, a.shards, ): a.shard_mb << 20
                 for i in range(a.shards)}
        for j in range(a.small):
            files[["config.json", "tokenizer.json", "README.md",
                   "generation_config.json"][j % 4]] = 2048 + 1000 * j
        return files
    if w == "small":
        # *.safetensors: LFS on the Hugging Face side too, so both hubs send every file
        # to the CDN (as real hubs do for the files of a large dataset)
        return {"data/%02d/part-%05d.safetensors" % (k // 100, k): a.file_kib << 10
                for k in range(a.files)}
    if w == "huge":
        return {"model-q8_0.gguf": a.huge_mb << 20}
    raise ValueError(w)


def make_fixture(d, files):
    """Writes what is missing and deletes what another run's parameters left (the hub
    serves every file in d); returns the names in order and the total bytes."""
    for dirpath, _, names in os.walk(d):
        for n in names:
            p = os.path.join(dirpath, n)
            if os.path.relpath(p, d).replace(os.sep, "/") not in files:
                os.unlink(p)
    for i, (name, size) in enumerate(files.items()):
        p = os.path.join(d, name)
        if os.path.exists(p) and os.path.getsize(p) == size:
            continue
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if size >= 1 << 20 and size % (1 << 20) == 0:
            log("bench: writing fixture %s (%d MiB)" % (name, size >> 20))
            write_shard(p, size >> 20, i)
        else:
            with open(p, "wb") as f:
                f.write(os.urandom(size))
    return list(files), sum(files.values())


def start_hub(fixture, cdn):
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "hub", "hubemu.py"),
                          "--port", "0", "--serve-dir", fixture, "--repo", REPO,
                          "--cdn-base", cdn],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    while True:
        line = p.stdout.readline()
        if not line:
            raise RuntimeError("hub emulator exited")
        m = re.match(r"HUBEMU_URL=(\S+)", line)
        if m:
            return p, m.group(1)


def timed(cmd, env=None, cwd=None):
    """Run under /usr/bin/time: (wall s, cpu s, peak RSS KiB)."""
    t0 = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "TIME %U %S %M"] + cmd, env=env, cwd=cwd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    m = re.search(r"TIME ([\d.]+) ([\d.]+) (\d+)", r.stderr)
    if r.returncode != 0 or not m:
        raise RuntimeError("%s failed (%d): %s" % (cmd[0], r.returncode, r.stderr[-2000:]))
    return wall, float(m.group(1)) + float(m.group(2)), int(m.group(3))


def proc_cpu(pids):
    """utime+stime in seconds of processes (the server's share of the CPU)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def scratch(dirpath, size):
    """Write and delete a file of size bytes: hands the VM's memory back warm.  Then wait
    for the disk (sync): what the kernel still had to write back or discard for it, or for
    the run before, must not compete with the timed run (in the upload leg it did: the
    same mscli took 2.7 to 5.0 s at the same CPU seconds; with the sync, 2.65-2.72 s)."""
    p = os.path.join(dirpath, "scratch.bin")
    with open(p, "wb") as f:
        block = b"\0" * (1 << 20)
        for _ in range(max(1, size >> 20)):
            f.write(block)
    os.unlink(p)
    os.sync()


def clean(p):
    shutil.rmtree(p, ignore_errors=True)
    os.makedirs(p)


def mount_of(path):
    """(device, file system type) of the mount path is on, e.g. ("/dev/vda", "ext4")."""
    r = subprocess.run(["findmnt", "-n", "-o", "SOURCE,FSTYPE", "-T", path],
                       capture_output=True, text=True)
    parts = r.stdout.split()
    return (parts[0], parts[1]) if r.returncode == 0 and len(parts) >= 2 else ("?", "?")


def ext4_without_journal(path):
    """True when path is on an ext4 mounted without a journal (as this VM's root is): ext4
    lists the device in /proc/fs/ext4, jbd2 lists only the journaled ones."""
    source, fstype = mount_of(path)
    dev = os.path.basename(source)
    return (fstype == "ext4" and os.path.isdir(os.path.join("/proc/fs/ext4", dev)) and
            not glob.glob(os.path.join("/proc/fs/jbd2", dev + "-*")))


class SmallFs:
    """Where the small workload's files are written: a journaled ext4, as users' file systems
    are.  On an ext4 without a journal (this VM's root), the inode allocator skips every inode
    deleted in the last 5-300 s and reads its inode-table block to know it: with 2000 files
    deleted before each run, that kernel time grew with every run and the same mscli measured
    0.5 to 1.6 s.  So the bench makes an ext4 image (sparse, loop-mounted: needs root) and
    writes the small workload there; otherwise it writes to --dir and says why."""

    def __init__(self, work, size_bytes, wanted):
        self.mnt = os.path.join(work, "smallfs")
        self.img = os.path.join(work, "smallfs.img")
        self.mounted = False
        self.where = os.path.join(work, "out")
        self.note = None
        if not wanted:
            return
        if not ext4_without_journal(work):
            self.note = "small files written to %s (%s)" % (self.where, mount_of(work)[1])
            return
        size = max(1 << 30, 4 * size_bytes + (256 << 20))
        subprocess.run(["umount", self.mnt], capture_output=True)
        os.makedirs(self.mnt, exist_ok=True)
        with open(self.img, "wb") as f:
            f.truncate(size)
        steps = (["mkfs.ext4", "-q", "-F", self.img], ["mount", "-o", "loop", self.img, self.mnt])
        for cmd in steps:
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                self.note = ("small files written to %s, an ext4 without a journal: '%s' "
                             "failed (%s); expect slower, order-dependent small-file runs" %
                             (self.where, " ".join(cmd[:2]),
                              (r.stderr.strip().splitlines() or ["?"])[-1]))
                os.unlink(self.img)
                return
        self.mounted = True
        self.where = os.path.join(self.mnt, "out")
        os.makedirs(self.where, exist_ok=True)
        self.note = "small files written to a journaled ext4 the bench made (%s)" % self.mnt

    def close(self):
        if self.mounted:
            subprocess.run(["umount", self.mnt], capture_output=True)
            self.mounted = False
        if os.path.exists(self.img):
            os.unlink(self.img)


def official_sources():
    """{tool: src dir} of the official clients at hand, {tool: why not} of the others."""
    have, skipped = {}, {}
    for tool, var, sub in (("ms-hub", "MSHUB_SRC", "mshub"), ("hf", "HFHUB_SRC", "hfhub")):
        src = os.environ.get(var) or os.path.join(OFFICIAL, sub, "src")
        if os.path.isdir(src):
            have[tool] = os.path.abspath(src)
        else:
            skipped[tool] = "set %s to its src/ (no directory %s)" % (var, src)
    return have, skipped


class Leg:
    """One workload over one protocol: its hub (redirecting to nginx), the tools, the floors."""

    def __init__(self, a, work, workload, nginx, ca_cert, official, out=None):
        self.a, self.workload, self.nginx, self.official = a, workload, nginx, official
        self.tls = nginx.scheme == "https"
        self.name = "%s-%s" % (workload, nginx.scheme)
        self.local_dir = False  # set for the local-dir leg: the tools write a plain directory
        self.work = work
        self.fixture = os.path.join(work, "fixture", workload)
        self.out = out or os.path.join(work, "out")
        os.makedirs(self.out, exist_ok=True)
        self.names, self.total = make_fixture(self.fixture, workload_files(a, workload))
        self.cdn = "%s/%s" % (nginx.url, workload)
        self.hub_proc, self.hub = start_hub(self.fixture, self.cdn)
        # The emulator builds a ModelScope listing once and keeps it (~10 ms of its CPU
        # for 2000 files): built here, untimed, not by whichever tool asks first (mscli,
        # first in round 1: its first CDN request took 65 and 85 ms in those rounds,
        # 40-61 and 46-47 in the others).  Both ModelScope clients ask the same query.
        with urllib.request.urlopen("%s/api/v1/models/%s/repo/files?Revision=master&"
                                    "Recursive=True" % (self.hub, REPO)) as r:
            r.read()
        self.mscli = os.path.abspath(a.mscli)
        self.home = os.path.join(work, "home")
        os.makedirs(self.home, exist_ok=True)
        self.env = dict(os.environ)
        self.env.update({"HOME": self.home, "MODELSCOPE_ENDPOINT": self.hub,
                         "HF_ENDPOINT": self.hub, "HF_HOME": os.path.join(self.home, "hf"),
                         "HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
                         "HF_HUB_DISABLE_PROGRESS_BARS": "1"})
        if ca_cert:  # every client trusts the bench's CA: curl's, requests' and httpx's way
            self.env.update({"CURL_CA_BUNDLE": ca_cert, "REQUESTS_CA_BUNDLE": ca_cert,
                             "SSL_CERT_FILE": ca_cert})
        self.ca = ca_cert
        self.urls = ["%s/api/v1/models/%s/repo?Revision=master&FilePath=%s" %
                     (self.hub, REPO, urllib.parse.quote(n, safe="")) for n in self.names]

    def close(self):
        self.hub_proc.terminate()
        self.hub_proc.wait()
        self.hub_proc.stdout.close()

    def server_pids(self):
        return [self.nginx.proc.pid] + children(self.nginx.proc.pid) + [self.hub_proc.pid]

    # --- the tools ---
    def cmd_mscli(self, dest, binary=None):
        where = ["--local-dir", dest] if self.local_dir else []
        return [os.path.abspath(binary or self.mscli), "-q", "--no-progress", "--endpoint",
                self.hub] + ([] if self.local_dir else ["--cache-dir", dest]) + [
                "download", REPO] + where + self.a.mscli_args

    def cmd_alt(self, dest):
        """Another mscli build, for a paired comparison (--alt)."""
        return self.cmd_mscli(dest, self.a.alt)

    def cmd_ms_hub(self, dest):
        # the official clients run from source as tests/official/*.sh run them
        where = "local_dir" if self.local_dir else "cache_dir"
        return ["env", "PYTHONPATH=%s:%s" % (self.official["ms-hub"], SHIM),
                "MODELSCOPE_CACHE=" + dest, PY, "-c",
                "import sys\nfrom modelscope_hub.compat import snapshot_download\n"
                "snapshot_download(sys.argv[1], %s=sys.argv[2])" % where, REPO, dest]

    def cmd_hf(self, dest):
        return ["env", "PYTHONPATH=%s:%s" % (self.official["hf"], SHIM), PY, "-c",
                "import sys\nfrom huggingface_hub import snapshot_download\n"
                "snapshot_download(sys.argv[1], %s=sys.argv[2])" %
                ("local_dir" if self.local_dir else "cache_dir"), REPO, dest]

    def cmd_curl(self, dest):
        # one file at a time, as a shell loop would (a single curl process, sequential)
        cmd = ["curl", "-sS", "-f", "-L", "--create-dirs"]
        for n, u in zip(self.names, self.urls):
            cmd += ["-o", os.path.join(dest, n), u]
        return cmd

    def cmd_aria2c(self, dest):
        listing = os.path.join(self.out, "aria2-input.txt")
        with open(listing, "w") as f:
            for n, u in zip(self.names, self.urls):
                f.write("%s\n  out=%s\n" % (u, n))
        cmd = ["aria2c", "-q", "-x8", "-s8", "-j4", "--file-allocation=none", "-d", dest,
               "-i", listing, "--allow-overwrite=true", "--auto-file-renaming=false"]
        if self.ca:
            cmd += ["--ca-certificate=" + self.ca]
        return cmd

    def cmd_wget2(self, dest):
        cmd = ["wget2", "-q", "--max-threads=%d" % max(4, min(8, len(self.names))), "-P", dest,
               "--no-robots", "--no-config"]
        if self.ca:
            cmd += ["--ca-certificate=" + self.ca]
        listing = os.path.join(self.out, "wget2-input.txt")
        with open(listing, "w") as f:
            f.write("\n".join(self.urls) + "\n")
        # wget2 names files from the redirect target, nginx's /<workload>/<path>
        cmd += ["--trust-server-names", "-x", "-nH", "--cut-dirs=1", "-i", listing]
        return cmd

    def command(self, tool, dest):
        return getattr(self, "cmd_" + tool.replace("-", "_"))(dest)

    def run_mscli(self, dest):
        """For CacheLegs: mscli's download into dest."""
        return timed(self.cmd_mscli(dest), env=self.env)

    # --- floors ---
    def floors(self):
        shards = [os.path.join(self.fixture, n) for n in self.names]
        direct = ["%s/%s" % (self.cdn, urllib.parse.quote(n)) for n in self.names]
        cmd = ["curl", "-sS", "-f"]
        for u in direct:
            cmd += ["-o", "/dev/null", u]
        subprocess.run(cmd, check=True, env=self.env)  # warm the page cache
        nets = []
        for _ in range(2):
            s0 = proc_cpu(self.server_pids())
            wall, cpu, _ = timed(cmd, env=self.env)
            nets.append((wall, cpu + proc_cpu(self.server_pids()) - s0))
        net_wall, net_cpu = min(nets)
        shas = [timed(["openssl", "dgst", "-sha256"] + shards) for _ in range(2)]
        sha_wall, sha_cpu = min(s[0] for s in shas), min(s[1] for s in shas)
        dest = os.path.join(self.out, "floor")
        clean(dest)
        scratch(self.out, self.total)
        t0 = time.monotonic()
        subprocess.run(["cp", "-r", self.fixture + "/.", dest], check=True)
        write = time.monotonic() - t0
        clean(dest)
        cores = os.cpu_count()
        two = max(net_wall, (net_cpu + sha_cpu) / cores)
        f = {"loopback_read": self.total / net_wall / MB, "net_seconds": net_wall,
             "net_cpu_seconds": net_cpu, "sha256_one_core": self.total / sha_wall / MB,
             "sha256_cpu_seconds": sha_cpu, "write": self.total / write / MB,
             "verified_floor_cores": cores, "verified_floor": self.total / two / MB,
             "verified_floor_seconds": two}
        f["floor"] = min(f["loopback_read"], f["sha256_one_core"], f["write"])
        return f

    def verify(self, tool, dest):
        """Outside the timing: every tool must have produced every file, at its size."""
        first = self.names[0]
        root = None
        for dirpath, _, _ in os.walk(dest):
            if os.path.exists(os.path.join(dirpath, first)):
                root = dirpath
                break
        for n in self.names:
            p = os.path.join(root or dest, n)
            if not os.path.exists(p) or os.path.getsize(p) != os.path.getsize(
                    os.path.join(self.fixture, n)):
                raise RuntimeError("%s did not produce %s correctly" % (tool, n))

    def clear_hub_log(self):
        """The emulator logs every request it serves, for the tests (~4000 Request objects
        per small-files run, kept for the whole bench); the bench reads nothing from it, so
        each run starts with an empty one.  Paired small-over-TLS runs: hub CPU 0.31 s per
        run against 0.36 s with the log kept.  It did not remove the drift between rounds
        (mscli 0.55, 0.66, 0.69 s in rounds 1-3 of one run): compare within a round."""
        req = urllib.request.Request(self.hub + "/_hubemu/clear-log", data=b"", method="POST")
        with urllib.request.urlopen(req) as r:
            r.read()

    def one(self, tool, dest):
        """A cold timed run (and a warm one for the tools with a cache)."""
        clean(dest)
        scratch(self.out, self.total)
        self.clear_hub_log()
        server = self.server_pids()
        s0 = proc_cpu(server)
        off, _ = self.nginx.conn_log()
        launched = time.time()
        cmd = self.command(tool, dest)
        wall, cpu, rss = timed(cmd, env=self.env)
        srv = proc_cpu(server) - s0
        _, reqs = self.nginx.conn_log(off)
        self.verify(tool, dest)
        r = {"seconds": wall, "cpu_seconds": cpu, "rss_kib": rss, "server_cpu_seconds": srv,
             "cdn_connections": len({c for c, _ in reqs}), "cdn_requests": len(reqs),
             "first_cdn_request_ms": 1000 * (min(t for _, t in reqs) - launched) if reqs else None}
        if tool in CACHED:
            wall, cpu, rss = timed(cmd, env=self.env)
            r.update({"warm_seconds": wall, "warm_cpu_seconds": cpu})
            r["rss_kib"] = max(r["rss_kib"], rss)
        return r

    def rounds(self, tools):
        res = {t: [] for t in tools}
        for rnd in range(self.a.rounds):
            order = tools[rnd % len(tools):] + tools[:rnd % len(tools)]
            for t in order:
                dest = os.path.join(self.out, t)
                r = self.one(t, dest)
                res[t].append(r)
                log("bench: %s round %d %-7s %6.2fs %6.0f MB/s cpu %5.2fs server %5.2fs "
                    "rss %5.1f MiB conns %4d%s%s" %
                    (self.name, rnd + 1, t, r["seconds"], self.total / r["seconds"] / MB,
                     r["cpu_seconds"], r["server_cpu_seconds"], r["rss_kib"] / 1024,
                     r["cdn_connections"],
                     "  first %3.0fms" % r["first_cdn_request_ms"]
                     if r.get("first_cdn_request_ms") is not None else "",
                     "  warm %.3fs" % r["warm_seconds"] if "warm_seconds" in r else ""))
                if t != "mscli":
                    shutil.rmtree(dest, ignore_errors=True)
        return res

    def summary(self, res):
        out = {}
        for t, runs in res.items():
            s = {}
            for k in runs[0]:
                vals = [r[k] for r in runs if r[k] is not None]
                if k == "rss_kib":
                    s["peak_rss_mib"] = max(vals) / 1024
                elif vals:
                    s[k] = statistics.median(vals)
            s["mb_per_s"] = self.total / s["seconds"] / MB
            s["files_per_s"] = len(self.names) / s["seconds"]
            s["cpu_ms_per_file"] = 1000 * s["cpu_seconds"] / len(self.names)
            s["verifies_sha256"] = t in ("mscli", "alt", "ms-hub")
            out[t] = s
        if "mscli" in out:
            for t, s in out.items():
                s["mscli_is"] = s["seconds"] / out["mscli"]["seconds"]
        return out

    def warm_requests(self):
        """How many requests mscli's warm re-run makes (its -v log)."""
        dest = os.path.join(self.out, "mscli")
        r = subprocess.run([self.mscli, "-v", "--no-progress", "--endpoint", self.hub,
                            "--cache-dir", dest, "download", REPO], env=self.env,
                           capture_output=True, text=True)
        return len(re.findall(r"^mscli: > ", r.stderr, re.M))

    def resume(self):
        dest = os.path.join(self.out, "resume")
        clean(dest)
        scratch(self.out, self.total)
        before = self.nginx.bytes_sent()
        p = subprocess.Popen(self.cmd_mscli(dest), env=self.env)
        while p.poll() is None and self.nginx.bytes_sent() - before < self.total // 2:
            time.sleep(0.005)
        p.send_signal(signal.SIGKILL)
        p.wait()
        first = self.nginx.bytes_sent() - before
        t0 = time.monotonic()
        subprocess.run(self.cmd_mscli(dest), env=self.env, check=True,
                       stdout=subprocess.DEVNULL)
        second = self.nginx.bytes_sent() - before - first
        shutil.rmtree(dest, ignore_errors=True)
        return {"killed_after_bytes": first, "refetched_bytes": second,
                "total_bytes": self.total, "both_runs_over_size": (first + second) / self.total,
                "second_run_seconds": time.monotonic() - t0}


def local_dir_leg(leg, tools, rec):
    """The leg's rounds again with each client writing a plain directory (the clients with
    a local_dir of their own), the leg's floors; no warm-request count (that is the
    cache's)."""
    ld = [t for t in tools if t in CACHED]
    out = {"files": rec["files"], "bytes": rec["bytes"], "floor": rec["floor"],
           "local_dir": True, "tools": {}}
    if ld:
        name = leg.name
        leg.local_dir, leg.name = True, name + "-local-dir"
        try:
            out["tools"] = leg.summary(leg.rounds(ld))
        finally:
            leg.local_dir, leg.name = False, name
    return out


def median_run(runs):
    wall = statistics.median(r[0] for r in runs)
    return {"seconds": wall, "cpu_seconds": statistics.median(r[1] for r in runs),
            "peak_rss_mib": max(r[2] for r in runs) / 1024}


class CacheLegs:
    """`mscli cache verify` against sha256sum and openssl dgst, `cache export` and
    `cache import` against tar --zstd, on the model the download rounds fetched, the
    tools alternating within each round, every one reading the same warm page cache."""

    def __init__(self, bench):
        self.b = bench
        self.src = os.path.join(bench.out, "mscli")
        self.model = os.path.join(self.src, "models", "bench", "model")
        if not all(os.path.exists(os.path.join(self.model, n)) for n in bench.names):
            clean(self.src)
            bench.run_mscli(self.src)
        self.files = [os.path.join(self.model, n) for n in bench.names]
        self.mscli = [bench.mscli, "-q", "--no-progress"]

    def warm(self):
        subprocess.run(["cat"] + self.files, stdout=subprocess.DEVNULL, check=True)

    def rounds(self, tools, rounds, before=None):
        res = {t: [] for t in tools}
        for r in range(rounds):
            order = list(tools)[r % len(tools):] + list(tools)[:r % len(tools)]
            for t in order:
                if before:
                    before(t)
                self.warm()
                res[t].append(timed(tools[t]))
                log("bench: round %d %-22s %7.0f MB/s  cpu %5.2fs  rss %6.1f MiB" %
                    (r + 1, t, self.b.total / res[t][-1][0] / MB, res[t][-1][1],
                     res[t][-1][2] / 1024))
        return {t: dict(median_run(v), mb_per_s=self.b.total / median_run(v)["seconds"] / MB)
                for t, v in res.items()}

    def verify(self, rounds):
        return self.rounds({
            "mscli cache verify": self.mscli + ["--cache-dir", self.src, "cache", "verify"],
            "sha256sum": ["sha256sum"] + self.files,
            "openssl dgst -sha256": ["openssl", "dgst", "-sha256"] + self.files}, rounds)

    def bundle(self, rounds):
        out = os.path.join(self.b.out, "bundle")
        clean(out)
        ours, theirs = os.path.join(out, "m.tar.zst"), os.path.join(out, "t.tar.zst")
        dst = os.path.join(out, "dst")

        def before(tool):
            if tool == "mscli cache export" and os.path.exists(ours):
                os.unlink(ours)
            elif tool == "tar --zstd -c" and os.path.exists(theirs):
                os.unlink(theirs)
            elif tool in ("mscli cache import", "tar --zstd -x"):
                clean(dst)  # both write every byte into an empty directory
                scratch(out, self.b.total)

        exp = self.rounds({
            "mscli cache export": self.mscli + ["--cache-dir", self.src, "cache", "export",
                                                "ms:bench/model", "-o", ours],
            "tar --zstd -c": ["tar", "--zstd", "-cf", theirs, "-C", self.src,
                              "models/bench/model"]}, rounds, before)
        imp = self.rounds({
            "mscli cache import": self.mscli + ["--cache-dir", dst, "cache", "import", ours],
            "tar --zstd -x": ["tar", "--zstd", "-xf", theirs, "-C", dst]}, rounds, before)
        sizes = {"mscli": os.path.getsize(ours), "tar": os.path.getsize(theirs)}
        shutil.rmtree(out, ignore_errors=True)
        return exp, imp, sizes


def print_legs(title, legs, ref):
    print("\n%s\n%-24s %9s %9s %9s %10s" % (title, "tool", "MB/s", "CPU s", "RSS MiB",
                                              "mscli is"))
    for t, s in legs.items():
        print("%-24s %9.0f %9.2f %9.1f %9.2fx" % (t, s["mb_per_s"], s["cpu_seconds"],
                                                  s["peak_rss_mib"],
                                                  legs[ref]["mb_per_s"] / s["mb_per_s"]))


def cpu_model():
    """The CPU's name from /proc/cpuinfo (platform.processor() is empty on Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def page_reporting():
    """'order N' when this VM hands its free memory back to the host (virtio-balloon
    free page reporting, feature bit 5), else None.  There the first write into memory
    freed a few seconds before waits for the host, so timings of fresh writes (nginx
    taking uploads, every client writing what it fetched) move between identical runs."""
    for d in glob.glob("/sys/bus/virtio/drivers/virtio_balloon/virtio*"):
        try:
            with open(os.path.join(d, "features")) as f:
                on = f.read().strip()[5:6] == "1"
            with open("/sys/module/page_reporting/parameters/page_reporting_order") as f:
                order = f.read().strip()
        except OSError:
            continue
        if on:
            return "order %s" % order
    return None


def targets(legs):
    """Issue 10's targets, as ratios within this run: [(leg, target, value, met)]."""
    out = []

    def add(leg, what, value, met):
        out.append({"leg": leg, "target": what, "value": value, "met": bool(met)})

    for name, leg in legs.items():
        t = leg["tools"]
        m = t.get("mscli")
        if not m or leg.get("local_dir"):  # no target of the issue's is about --local-dir
            continue
        w, proto = name.split("-")
        for other, need in (("ms-hub", 1.15 if w == "big" else 1.0), ("curl", 1.0)):
            if other in t and (w == "big" or (w == "huge" and proto == "https" and
                                              other == "ms-hub")):
                r = t[other]["seconds"] / m["seconds"]
                add(name, "mscli >= %.2fx %s" % (need, other), "%.2fx" % r, r >= need)
        if w == "big" and "ms-hub" in t:
            add(name, "client CPU <= ms-hub's", "%.2f vs %.2f s" % (
                m["cpu_seconds"], t["ms-hub"]["cpu_seconds"]),
                m["cpu_seconds"] <= t["ms-hub"]["cpu_seconds"])
        if w == "big" and proto == "http":
            f = leg["floor"]["verified_floor"]
            add(name, ">= 90% of the 2-core verified floor",
                "%.1f%% of %.0f MB/s" % (100 * m["mb_per_s"] / f, f), m["mb_per_s"] >= 0.9 * f)
        if w == "huge" and proto == "http":
            f = leg["floor"]["sha256_one_core"]
            add(name, "at the one-core SHA-256 floor (>= 95%)",
                "%.1f%% of %.0f MB/s" % (100 * m["mb_per_s"] / f, f), m["mb_per_s"] >= 0.95 * f)
        if w == "small":
            for other in ("ms-hub", "hf"):
                if other in t:
                    r = t[other]["seconds"] / m["seconds"]
                    add(name, "mscli >= 8x %s" % other, "%.1fx" % r, r >= 8)
            add(name, "<= 0.25 ms CPU per file", "%.2f ms" % m["cpu_ms_per_file"],
                m["cpu_ms_per_file"] <= 0.25)
            fr = m.get("first_cdn_request_ms")
            if fr is not None:
                add(name, "first request within 50 ms (the first CDN request)", "%.0f ms" % fr,
                    fr <= 50)
            add(name, "CDN connections <= 2x the budget (%d)" % (2 * BUDGET),
                "%d" % m["cdn_connections"], m["cdn_connections"] <= 2 * BUDGET)
            add(name, "warm re-run < 50 ms", "%.0f ms" % (1000 * m["warm_seconds"]),
                m["warm_seconds"] < 0.05)
        add(name, "peak RSS <= 64 MiB", "%.1f MiB" % m["peak_rss_mib"], m["peak_rss_mib"] <= 64)
    return out


def print_leg(name, leg, nfiles, total):
    f = leg["floor"]
    print("\n%s: %d file(s), %.0f MB" % (name, nfiles, total / MB))
    if f:
        print("floors: net %.0f MB/s (%.2f CPU s with nginx), SHA-256 one core %.0f MB/s "
              "(%.2f CPU s), write %.0f MB/s; %d-core verified floor %.0f MB/s (%.2f s)" %
              (f["loopback_read"], f["net_cpu_seconds"], f["sha256_one_core"],
               f["sha256_cpu_seconds"], f["write"], f["verified_floor_cores"],
               f["verified_floor"], f["verified_floor_seconds"]))
    print("%-7s %7s %6s %7s %6s %6s %6s %5s %6s %6s %7s %s" % (
        "tool", "seconds", "MB/s", "files/s", "CPU s", "srv s", "RSS", "conns", "first",
        "warm", "mscli", "verifies"))
    for t, s in leg["tools"].items():
        fr = s.get("first_cdn_request_ms")
        print("%-7s %7.2f %6.0f %7s %6.2f %6.2f %6.1f %5d %6s %6s %6.2fx %s" % (
            t, s["seconds"], s["mb_per_s"], "%.0f" % s["files_per_s"] if nfiles >= 100 else "-",
            s["cpu_seconds"],
            s["server_cpu_seconds"], s["peak_rss_mib"], s["cdn_connections"],
            "%.0fms" % fr if fr is not None else "-",
            "%.3f" % s["warm_seconds"] if "warm_seconds" in s else "-",
            s.get("mscli_is", float("nan")), "sha256" if s["verifies_sha256"] else "no"))
    m = leg["tools"].get("mscli")
    if m and f:
        print("mscli: %.0f%% of the %d-core verified floor, %.0f%% of one core of SHA-256%s%s" %
              (100 * m["mb_per_s"] / f["verified_floor"], f["verified_floor_cores"],
               100 * m["mb_per_s"] / f["sha256_one_core"],
               "; %.3f ms CPU per file" % m["cpu_ms_per_file"] if nfiles >= 100 else "",
               "; warm re-run %d request(s)" % leg["warm_requests"]
               if "warm_requests" in leg else ""))


LABELS = {"mscli": "**mscli**", "alt": "mscli (--alt)",
          "ms-hub": "ms-hub (modelscope_hub, `compat.snapshot_download`)",
          "hf": "huggingface_hub `snapshot_download`", "curl": "curl, one file at a time",
          "aria2c": "aria2c `-x8 -s8 -j4`", "wget2": "wget2 (8 threads)"}
LOCAL_DIR_LABELS = {"mscli": "**mscli** `--local-dir`",
                    "ms-hub": "ms-hub `compat.snapshot_download(local_dir=)`",
                    "hf": "huggingface_hub `snapshot_download(local_dir=)`"}
TITLES = {"big": "%(n)d files, %(mb).0f MB", "small": "%(n)d small files, "
          "%(mb).0f MB", "huge": "one file, %(mb).0f MB"}


def markdown(paths):
    """README's tables from a result.json (--report); the targets of every run given,
    one column each."""
    runs = []
    for path in paths:
        with open(path) as f:
            runs.append(json.load(f))
    res = runs[0]
    for name, leg in res["legs"].items():
        w, proto = name.split("-")[:2]
        if not leg["tools"]:
            continue
        fl = leg["floor"]
        print("\n**%s over %s%s** (%s%s)\n" % (
            w, "HTTP/1.1" if proto == "http" else "TLS (nginx offers HTTP/2)",
            ", into a local directory" if leg.get("local_dir") else "",
            TITLES[w] % {"n": leg["files"], "mb": leg["bytes"] / MB},
            "; floors: net %.0f MB/s, one core of SHA-256 %.0f, 2-core verified %.0f" % (
                fl["loopback_read"], fl["sha256_one_core"], fl["verified_floor"]) if fl else ""))
        labels = dict(LABELS, **LOCAL_DIR_LABELS) if leg.get("local_dir") else LABELS
        rate = "files/s" if w == "small" else "MB/s"
        print("| tool | seconds | %s | CPU s client / server | peak RSS MiB | CDN conns | "
              "first CDN request | warm re-run s | mscli is |" % rate)
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for t, s in leg["tools"].items():
            fr = s.get("first_cdn_request_ms")
            print("| %s | %.2f | %.0f | %.2f / %.2f | %.1f | %d | %s | %s | %s |" % (
                labels.get(t, t), s["seconds"],
                s["files_per_s"] if w == "small" else s["mb_per_s"], s["cpu_seconds"],
                s["server_cpu_seconds"], s["peak_rss_mib"], s["cdn_connections"],
                "%.0f ms" % fr if fr is not None else "",
                "%.3f" % s["warm_seconds"] if "warm_seconds" in s else "",
                "" if t == "mscli" else "%.2f\u00d7 %s" % (
                    s["mscli_is"], "faster" if s["mscli_is"] >= 1 else "(slower)")))
    print("\n| workload | target |%s\n|---|---|%s" % (
        "".join(" run %d (%d rounds) |" % (i + 1, r["params"]["rounds"])
                for i, r in enumerate(runs)), "---:|" * len(runs)))
    seen = {(x["leg"], x["target"]): {} for r in runs for x in r.get("targets", [])}
    for i, r in enumerate(runs):
        for x in r.get("targets", []):
            seen[(x["leg"], x["target"])][i] = "%s %s" % (
                x["value"], "met" if x["met"] else "**missed**")
    for (leg, what), vals in seen.items():
        print("| %s | %s |%s" % (leg, what.replace(">=", "\u2265").replace("<=", "\u2264"),
                                 "".join(" %s |" % vals.get(i, "") for i in range(len(runs)))))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", default="big,small,huge",
                    help="big (--shards x --shard-mb), small (--files x --file-kib), "
                    "huge (one --huge-mb file)")
    ap.add_argument("--proto", default="http,https",
                    help="http (HTTP/1.1), https (TLS; nginx offers HTTP/2), or both: "
                    "http,https (the default; 'both' says the same)")
    ap.add_argument("--tls", action="store_true", help="HTTPS only (--proto https)")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--shard-mb", type=int, default=512, help="MiB per shard")
    ap.add_argument("--small", type=int, default=3, help="small files besides the shards")
    ap.add_argument("--files", type=int, default=2000, help="files of the small workload")
    ap.add_argument("--file-kib", type=int, default=64, help="KiB per file of the small workload")
    ap.add_argument("--huge-mb", type=int, default=2048, help="MiB of the huge workload's file")
    ap.add_argument("--rounds", type=int, default=2,
                    help="rounds, the tools alternating (2: the defaults take ~10 minutes on "
                    "2 cores; README's figures are from 3)")
    ap.add_argument("--tools", default="mscli,ms-hub,hf,curl,aria2c,wget2",
                    help="ms-hub and hf run from MSHUB_SRC and HFHUB_SRC")
    ap.add_argument("--dir", default=os.environ.get("BENCH_DIR", "/tmp/mscli-bench"))
    ap.add_argument("--mscli", default=os.path.join(ROOT, "mscli"))
    ap.add_argument("--mscli-args", default="", help="extra download options for mscli")
    ap.add_argument("--alt", help="another mscli binary, measured in the same rounds as 'alt'")
    ap.add_argument("--json", default=os.path.join(ROOT, "tests", "bench", "out", "result.json"))
    ap.add_argument("--legs", default="download,resume,verify,bundle,local-dir",
                    help="which legs: download (the workloads above), resume, verify and "
                    "bundle (mscli's cache verify, export and import against openssl, "
                    "sha256sum and tar; on the big workload), local-dir (the small workload "
                    "into a plain directory: mscli --local-dir against the official "
                    "clients' local_dir=)")
    ap.add_argument("--report", metavar="JSON", nargs="+",
                    help="print README's tables (markdown) from a result.json, and the "
                    "targets of every result.json given; runs nothing")
    ap.add_argument("--upload", action="store_true",
                    help="the upload leg instead (bench_upload.py): mscli against hf upload "
                    "and ms-hub upload")
    ap.add_argument("--upload-shards", type=int, default=3)
    ap.add_argument("--upload-shard-mb", type=int, default=1024, help="MiB per shard")
    ap.add_argument("--upload-small", type=int, default=1000, help="small files in the folder")
    ap.add_argument("--upload-tools", default="mscli-hf,hf,mscli-ms,ms-hub")
    a = ap.parse_args()
    if a.report:
        return markdown(a.report)
    if a.upload:
        import bench_upload
        return bench_upload.main(a)
    a.mscli_args = a.mscli_args.split()
    tools = [t for t in a.tools.split(",") if t]
    if a.alt and "alt" not in tools:
        tools.append("alt")
    official, skipped = official_sources()
    for t in list(tools):
        if t in skipped:
            tools.remove(t)
            log("bench: %s not measured: %s" % (t, skipped[t]))
    skipped = {t: why for t, why in skipped.items() if t in a.tools.split(",")}
    protos = ["https"] if a.tls else [p for p in a.proto.replace("both", "http,https").split(",")
                                      if p]
    if not protos or set(protos) - {"http", "https"}:
        ap.error("--proto: http, https or both, not %r" % a.proto)
    workloads = [w for w in a.workloads.split(",") if w]
    legs_wanted = a.legs.split(",")
    work = a.dir
    os.makedirs(os.path.join(work, "fixture"), exist_ok=True)
    started = time.monotonic()
    ca = CA(os.path.join(work, "ca")) if "https" in protos else None
    servers = {}
    legs, extra, first = {}, {}, True
    smallfs = SmallFs(work, a.files * a.file_kib * 1024, "small" in workloads)
    if smallfs.note:
        log("bench: " + smallfs.note)
    try:
        for p in protos:
            if p == "https":
                servers[p] = Nginx(os.path.join(work, "fixture"), tls=True, http2=True,
                                   cert=ca.issue())
            else:
                servers[p] = Nginx(os.path.join(work, "fixture"))
        for w in workloads:
            for p in protos:
                leg = Leg(a, work, w, servers[p], ca.cert if p == "https" else None, official,
                          smallfs.where if w == "small" else None)
                try:
                    rec = {"files": len(leg.names), "bytes": leg.total, "floor": None,
                           "tools": {}}
                    if "download" in legs_wanted:
                        if first:  # untimed: the VM's first writer is slow whoever it is
                            dest = os.path.join(leg.out, "warmup")
                            clean(dest)
                            timed(leg.command(tools[0], dest), env=leg.env)
                            shutil.rmtree(dest, ignore_errors=True)
                            first = False
                        rec["floor"] = leg.floors()
                        rec["tools"] = leg.summary(leg.rounds(tools))
                        if "mscli" in tools:
                            rec["warm_requests"] = leg.warm_requests()
                    if w == "big" and p == protos[0] and "mscli" in tools:
                        if "resume" in legs_wanted:
                            extra["resume"] = leg.resume()
                        if "verify" in legs_wanted or "bundle" in legs_wanted:
                            c = CacheLegs(leg)
                            if "verify" in legs_wanted:
                                extra["cache_verify"] = c.verify(a.rounds)
                            if "bundle" in legs_wanted:
                                e, i, sizes = c.bundle(a.rounds)
                                extra.update({"cache_export": e, "cache_import": i,
                                              "bundle_bytes": sizes})
                    legs[leg.name] = rec
                    if w == "small" and "local-dir" in legs_wanted:
                        legs[leg.name + "-local-dir"] = local_dir_leg(leg, tools, rec)
                finally:
                    leg.close()
    finally:
        for s in servers.values():
            s.stop()
        smallfs.close()
    tg = targets(legs)
    print("\nmscli benchmark, %d round(s), tools alternating; %s; %.0f s in all" %
          (a.rounds, " ".join(a.mscli_args) or "default options", time.monotonic() - started))
    reporting = page_reporting()
    print("machine: %s, %d cores, %s%s" % (platform.platform(), os.cpu_count(), cpu_model(),
                                           "; free page reporting to the host, %s" % reporting
                                           if reporting else ""))
    print("server CPU (srv s) = nginx + the hub emulator; conns = CDN connections nginx saw; "
          "first = when the first CDN request started, from launch; warm = a re-run, cache "
          "full; mscli = how many times longer the tool took than mscli")
    for t, why in skipped.items():
        print("%s: not measured, %s" % (t, why))
    if smallfs.note:
        print(smallfs.note)
    for name, leg in legs.items():
        if leg["tools"]:
            print_leg(name, leg, leg["files"], leg["bytes"])
    if "cache_verify" in extra:
        print_legs("cache verify (the big workload, warm page cache):", extra["cache_verify"],
                   "mscli cache verify")
    if "cache_export" in extra:
        print_legs("cache export (bundle %.0f MB; tar's %.0f MB):" %
                   (extra["bundle_bytes"]["mscli"] / MB, extra["bundle_bytes"]["tar"] / MB),
                   extra["cache_export"], "mscli cache export")
        print_legs("cache import (every file hashed; tar only unpacks):",
                   extra["cache_import"], "mscli cache import")
    r = extra.get("resume")
    if r:
        print("\nresume after kill -9 at %.0f%%: second run fetched %.1f%% of the bytes "
              "(both runs: %.2fx the size)" %
              (100 * r["killed_after_bytes"] / r["total_bytes"],
               100 * r["refetched_bytes"] / r["total_bytes"], r["both_runs_over_size"]))
    if tg:
        print("\nissue 10's targets (this run):")
        for x in tg:
            print("  %-6s %-10s %-52s %s" % ("met" if x["met"] else "MISSED", x["leg"],
                                             x["target"], x["value"]))
    os.makedirs(os.path.dirname(a.json), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(dict({"params": {"workloads": workloads, "protocols": protos,
                                   "shards": a.shards, "shard_mib": a.shard_mb, "small": a.small,
                                   "files": a.files, "file_kib": a.file_kib,
                                   "huge_mib": a.huge_mb, "rounds": a.rounds, "tools": tools,
                                   "mscli_args": a.mscli_args},
                        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                                    "cpu": cpu_model(), "page_reporting": reporting,
                                    "load_average": os.getloadavg()},
                        "skipped": skipped, "small_files_on": smallfs.note,
                        "legs": legs, "targets": tg}, **extra),
                  f, indent=2)
    print("\nwrote " + a.json)


if __name__ == "__main__":
    sys.exit(main())
