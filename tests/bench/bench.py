#!/usr/bin/env python3
"""mscli against curl, aria2c and wget2 on one loopback hub (make bench).

The hub emulator answers the ModelScope API and redirects every file to
nginx (302), as the real hub redirects to its CDN.  Every tool fetches the
same URLs through the hub.  Tools alternate within each round and every
timed run is preceded by writing and deleting a scratch file of the same
size (on this kind of VM the first writer into fresh memory is 5-10x slower).
Reports MB/s, CPU seconds and peak RSS per tool (median over rounds), the
machine's floor, a warm re-run and a resume after kill -9 at 50%.
With --upload: the upload leg (bench_upload.py), mscli against the official
clients' uploads.
"""
import argparse
import hashlib
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

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
from nginx import Nginx  # noqa: E402

MB = 1000 * 1000
REPO = "bench/model"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def write_shard(path, mib, i):
    """mib MiB of random bytes, cheaply varied so that no two MiB (nor two shards) are equal."""
    with open(path, "wb") as f:
        block = os.urandom(1 << 20)
        for k in range(mib):
            f.write(block[:-8] + k.to_bytes(4, "little") + i.to_bytes(4, "little"))


def make_fixture(d, shards, shard_mb, small):
    os.makedirs(d, exist_ok=True)
    names = []
    for i in range(shards):
        name = "model-%05d-of-%05d.safetensors" % (i + 1, shards)
        names.append(name)
        p = os.path.join(d, name)
        want = shard_mb << 20
        if os.path.exists(p) and os.path.getsize(p) == want:
            continue
        log("bench: writing fixture %s (%d MiB)" % (name, shard_mb))
        write_shard(p, shard_mb, i)
    for j in range(small):
        name = ["config.json", "tokenizer.json", "README.md", "generation_config.json"][j % 4]
        names.append(name)
        with open(os.path.join(d, name), "wb") as f:
            f.write(os.urandom(2048 + 1000 * j))
    total = sum(os.path.getsize(os.path.join(d, n)) for n in names)
    return names, total


def start_hub(fixture, cdn):
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "hub", "hubemu.py"),
                          "--port", "0", "--serve-dir", fixture, "--repo", REPO,
                          "--cdn-base", cdn],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = None
    while True:
        line = p.stdout.readline()
        if not line:
            raise RuntimeError("hub emulator exited")
        m = re.match(r"HUBEMU_URL=(\S+)", line)
        if m:
            url = m.group(1)
            break
    return p, url


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
    """Write and delete a file of size bytes: hands the VM's memory back warm."""
    p = os.path.join(dirpath, "scratch.bin")
    with open(p, "wb") as f:
        block = b"\0" * (1 << 20)
        for _ in range(size >> 20):
            f.write(block)
    os.unlink(p)


def clean(p):
    shutil.rmtree(p, ignore_errors=True)
    os.makedirs(p)


class Bench:
    def __init__(self, a):
        self.a = a
        self.work = a.dir
        self.fixture = os.path.join(self.work, "fixture")
        self.out = os.path.join(self.work, "out")
        self.names, self.total = make_fixture(self.fixture, a.shards, a.shard_mb, a.small)
        self.nginx = Nginx(self.fixture, tls=a.tls, http2=a.tls)
        self.hub_proc, self.hub = start_hub(self.fixture, self.nginx.url)
        self.mscli = os.path.abspath(a.mscli)
        self.env = dict(os.environ)
        if self.nginx.cert:
            self.env["CURL_CA_BUNDLE"] = self.nginx.cert
        self.urls = ["%s/api/v1/models/%s/repo?Revision=master&FilePath=%s" % (self.hub, REPO, n)
                     for n in self.names]

    def close(self):
        self.hub_proc.terminate()
        self.nginx.stop()

    # --- the tools ---
    def run_mscli(self, dest):
        return timed([self.mscli, "-q", "--no-progress", "--endpoint", self.hub, "--cache-dir", dest,
                      "download", REPO] + self.a.mscli_args, env=self.env)

    def run_alt(self, dest):
        """Another mscli build, for a paired comparison (--alt)."""
        return timed([os.path.abspath(self.a.alt), "-q", "--no-progress", "--endpoint", self.hub,
                      "--cache-dir", dest, "download", REPO] + self.a.mscli_args, env=self.env)

    def run_curl(self, dest):
        # one file at a time, as a shell loop would (a single curl process, sequential)
        cmd = ["curl", "-sS", "-f", "-L"]
        if self.nginx.cert:
            cmd += ["--cacert", self.nginx.cert]
        for n, u in zip(self.names, self.urls):
            cmd += ["-o", os.path.join(dest, n), u]
        return timed(cmd)

    def run_aria2c(self, dest):
        listing = os.path.join(self.work, "aria2-input.txt")
        with open(listing, "w") as f:
            for n, u in zip(self.names, self.urls):
                f.write("%s\n  out=%s\n" % (u, n))
        cmd = ["aria2c", "-q", "-x8", "-s8", "-j4", "--file-allocation=none", "-d", dest,
               "-i", listing, "--allow-overwrite=true", "--auto-file-renaming=false"]
        if self.nginx.cert:
            cmd += ["--ca-certificate=" + self.nginx.cert]
        return timed(cmd)

    def run_wget2(self, dest):
        cmd = ["wget2", "-q", "--max-threads=%d" % max(4, len(self.names)), "-P", dest,
               "--no-robots", "--no-config"]
        if self.nginx.cert:
            cmd += ["--ca-certificate=" + self.nginx.cert]
        listing = os.path.join(self.work, "wget2-input.txt")
        with open(listing, "w") as f:
            f.write("\n".join(self.urls) + "\n")
        # wget2 names files from the redirect target, which is the repo path on nginx
        cmd += ["--trust-server-names", "-i", listing]
        return timed(cmd)

    # --- floors ---
    def floors(self):
        shards = [os.path.join(self.fixture, n) for n in self.names]
        direct = ["%s/%s" % (self.nginx.url, n) for n in self.names]
        cmd = ["curl", "-sS", "-f"]
        if self.nginx.cert:
            cmd += ["--cacert", self.nginx.cert]
        for u in direct:
            cmd += ["-o", "/dev/null", u]
        subprocess.run(cmd, check=True)  # warm the page cache
        net = min(timed(cmd)[0] for _ in range(2))
        sha = min(timed(["openssl", "dgst", "-sha256"] + shards)[0] for _ in range(2))
        dest = os.path.join(self.out, "floor")
        clean(dest)
        scratch(self.out, self.total)
        t0 = time.monotonic()
        for s in shards:
            subprocess.run(["dd", "if=" + s, "of=" + os.path.join(dest, os.path.basename(s)),
                            "bs=1M", "status=none"], check=True)
        write = time.monotonic() - t0
        clean(dest)
        f = {"loopback_read": self.total / net / MB, "sha256_one_core": self.total / sha / MB,
             "write_1mib_blocks": self.total / write / MB}
        f["floor"] = min(f.values())
        return f

    def verify(self, tool, dest):
        """Outside the timing: every tool must have produced the right bytes."""
        for n in self.names:
            cands = [os.path.join(dest, n), os.path.join(dest, "models", "bench", "model", n)]
            if tool == "alt":
                cands.append(os.path.join(dest, "models", "bench", "model", n))
            p = next((c for c in cands if os.path.exists(c)), None)
            if p is None or os.path.getsize(p) != os.path.getsize(os.path.join(self.fixture, n)):
                raise RuntimeError("%s did not produce %s correctly" % (tool, n))

    def rounds(self):
        tools = [t for t in self.a.tools.split(",") if t]
        res = {t: [] for t in tools}
        # one untimed run first: on this kind of VM the first writer into fresh
        # memory is much slower than any later one, whichever tool it is
        dest = os.path.join(self.out, "warmup")
        clean(dest)
        getattr(self, "run_" + tools[0])(dest)
        clean(dest)
        for r in range(self.a.rounds):
            order = tools[r % len(tools):] + tools[:r % len(tools)]
            for t in order:
                dest = os.path.join(self.out, t)
                clean(dest)
                scratch(self.out, self.total)
                server = [self.nginx.proc.pid] + children(self.nginx.proc.pid)
                s0 = proc_cpu(server)
                wall, cpu, rss = getattr(self, "run_" + t)(dest)
                srv = proc_cpu(server) - s0
                self.verify(t, dest)
                res[t].append((wall, cpu, rss, srv))
                log("bench: round %d %-7s %7.0f MB/s  cpu %5.2fs  nginx cpu %5.2fs  rss %6.1f MiB" %
                    (r + 1, t, self.total / wall / MB, cpu, srv, rss / 1024))
                if t not in ("mscli",):
                    clean(dest)
        return res

    def warm_rerun(self):
        dest = os.path.join(self.out, "mscli")
        r = subprocess.run([self.mscli, "-v", "--no-progress", "--endpoint", self.hub, "--cache-dir",
                            dest, "download", REPO], env=self.env, capture_output=True, text=True)
        reqs = len(re.findall(r"^mscli: > ", r.stderr, re.M))
        wall, cpu, rss = timed([self.mscli, "-q", "--endpoint", self.hub, "--cache-dir", dest,
                                "download", REPO], env=self.env)
        return {"seconds": wall, "cpu_seconds": cpu, "requests": reqs, "peak_rss_mib": rss / 1024}

    def resume(self):
        dest = os.path.join(self.out, "resume")
        clean(dest)
        scratch(self.out, self.total)
        before = self.nginx.bytes_sent()
        p = subprocess.Popen([self.mscli, "-q", "--endpoint", self.hub, "--cache-dir", dest,
                              "download", REPO] + self.a.mscli_args, env=self.env)
        while p.poll() is None and self.nginx.bytes_sent() - before < self.total // 2:
            time.sleep(0.005)
        p.send_signal(signal.SIGKILL)
        p.wait()
        first = self.nginx.bytes_sent() - before
        t0 = time.monotonic()
        subprocess.run([self.mscli, "-q", "--endpoint", self.hub, "--cache-dir", dest, "download",
                        REPO] + self.a.mscli_args, env=self.env, check=True,
                       stdout=subprocess.DEVNULL)
        second = self.nginx.bytes_sent() - before - first
        shutil.rmtree(dest, ignore_errors=True)
        return {"killed_after_bytes": first, "refetched_bytes": second,
                "total_bytes": self.total, "both_runs_over_size": (first + second) / self.total,
                "second_run_seconds": time.monotonic() - t0}


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--shard-mb", type=int, default=512, help="MiB per shard")
    ap.add_argument("--small", type=int, default=3, help="small files besides the shards")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tools", default="mscli,curl,aria2c,wget2")
    ap.add_argument("--dir", default=os.environ.get("BENCH_DIR", "/tmp/mscli-bench"))
    ap.add_argument("--mscli", default=os.path.join(ROOT, "mscli"))
    ap.add_argument("--mscli-args", default="", help="extra download options for mscli")
    ap.add_argument("--tls", action="store_true", help="nginx over TLS with HTTP/2")
    ap.add_argument("--alt", help="another mscli binary, measured in the same rounds as 'alt'")
    ap.add_argument("--json", default=os.path.join(ROOT, "tests", "bench", "out", "result.json"))
    ap.add_argument("--legs", default="download,verify,bundle",
                    help="which legs: download (the tools above), verify, bundle")
    ap.add_argument("--upload", action="store_true",
                    help="the upload leg instead (bench_upload.py): mscli against hf upload "
                    "and ms-hub upload")
    ap.add_argument("--upload-shards", type=int, default=3)
    ap.add_argument("--upload-shard-mb", type=int, default=1024, help="MiB per shard")
    ap.add_argument("--upload-small", type=int, default=1000, help="small files in the folder")
    ap.add_argument("--upload-tools", default="mscli-hf,hf,mscli-ms,ms-hub")
    a = ap.parse_args()
    if a.upload:
        import bench_upload
        return bench_upload.main(a)
    a.mscli_args = a.mscli_args.split()
    if a.alt and "alt" not in a.tools.split(","):
        a.tools += ",alt"
    legs = a.legs.split(",")
    b = Bench(a)
    verify = export = imported = sizes = None
    res, floors, warm, resume = {}, None, None, None
    try:
        if "download" in legs:
            floors = b.floors()
            log("bench: floor %.0f MB/s (loopback read %.0f, sha256 %.0f, write %.0f)" %
                (floors["floor"], floors["loopback_read"], floors["sha256_one_core"],
                 floors["write_1mib_blocks"]))
            res = b.rounds()
            warm = b.warm_rerun() if "mscli" in res else None
            resume = b.resume() if "mscli" in res else None
        if "verify" in legs or "bundle" in legs:
            c = CacheLegs(b)
            if "verify" in legs:
                verify = c.verify(a.rounds)
            if "bundle" in legs:
                export, imported, sizes = c.bundle(a.rounds)
    finally:
        b.close()
    summary = {}
    for t, runs in res.items():
        wall = statistics.median(r[0] for r in runs)
        summary[t] = {"mb_per_s": b.total / wall / MB, "seconds": wall,
                      "cpu_seconds": statistics.median(r[1] for r in runs),
                      "peak_rss_mib": max(r[2] for r in runs) / 1024,
                      "server_cpu_seconds": statistics.median(r[3] for r in runs),
                      "verifies_sha256": t in ("mscli", "alt")}
    ref = summary.get("mscli", {}).get("mb_per_s")
    print("\nmscli benchmark: %d x %d MiB + %d small files (%.0f MB), %d round(s), %s%s" %
          (a.shards, a.shard_mb, a.small, b.total / MB, a.rounds,
           "https+h2" if a.tls else "http/1.1", " " + " ".join(a.mscli_args) if a.mscli_args else ""))
    print("machine: %s, %d cores, %s" % (platform.platform(), os.cpu_count(), cpu_model()))
    if floors:
        print("floor: %.0f MB/s (loopback read %.0f, sha256 one core %.0f, 1 MiB writes %.0f)\n" %
              (floors["floor"], floors["loopback_read"], floors["sha256_one_core"],
               floors["write_1mib_blocks"]))
    if summary:
        print("%-8s %9s %9s %9s %9s %10s %s" % ("tool", "MB/s", "CPU s", "nginx s", "RSS MiB",
                                             "mscli is", "verifies"))
    for t, s in summary.items():
        ratio = ref / s["mb_per_s"] if ref else float("nan")
        print("%-8s %9.0f %9.2f %9.2f %9.1f %9.2fx %s" % (t, s["mb_per_s"], s["cpu_seconds"],
                                                        s["server_cpu_seconds"],
                                                        s["peak_rss_mib"], ratio,
                                                        "sha256" if s["verifies_sha256"] else "no"))
    if verify:
        print_legs("cache verify (the same %.0f MB, warm page cache):" % (b.total / MB), verify,
                   "mscli cache verify")
    if export:
        print_legs("cache export (bundle %.0f MB; tar's %.0f MB):" %
                   (sizes["mscli"] / MB, sizes["tar"] / MB), export, "mscli cache export")
        print_legs("cache import (every file hashed; tar only unpacks):", imported,
                   "mscli cache import")
    if ref:
        m = summary["mscli"]
        cores = os.cpu_count()
        need = m["cpu_seconds"] + m["server_cpu_seconds"]
        print("\nmscli: %.0f%% of the floor; it needs %.2f CPU s and nginx %.2f for the %.0f MB: "
              "with %d cores no schedule beats %.0f MB/s (%.0f%% of the floor)" %
              (100 * ref / floors["floor"], m["cpu_seconds"], m["server_cpu_seconds"],
               b.total / MB, cores, b.total / (need / cores) / MB,
               100 * b.total / (need / cores) / MB / floors["floor"]))
    if warm:
        print("warm re-run: %.3f s, %d request(s), %.2f CPU s" %
              (warm["seconds"], warm["requests"], warm["cpu_seconds"]))
    if resume:
        print("resume after kill -9 at %.0f%%: second run fetched %.1f%% of the bytes "
              "(both runs: %.2fx the size)" %
              (100 * resume["killed_after_bytes"] / b.total,
               100 * resume["refetched_bytes"] / b.total, resume["both_runs_over_size"]))
    os.makedirs(os.path.dirname(a.json), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump({"params": {"shards": a.shards, "shard_mib": a.shard_mb, "small": a.small,
                              "rounds": a.rounds, "tls": a.tls, "mscli_args": a.mscli_args},
                   "bytes": b.total, "machine": {"platform": platform.platform(),
                                                 "cpus": os.cpu_count(), "cpu": cpu_model()},
                   "floor": floors, "tools": summary, "warm_rerun": warm, "resume": resume,
                   "cache_verify": verify, "cache_export": export, "cache_import": imported,
                   "bundle_bytes": sizes},
                  f, indent=2)
    print("\nwrote " + a.json)


if __name__ == "__main__":
    sys.exit(main())
