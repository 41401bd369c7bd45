"""The crash battery.  For each hub, downloads killed with SIGKILL at random moments
-- spread over the whole run, so that kills land in the listing, the transfers, the
verification, the renames and the index writes (a slow listing and trickled bodies
stretch the run; each kill's aftermath on disk says where it landed) -- each followed
by a normal run: every time, the final cache is complete and correct (byte for byte,
`cache verify`, an offline run that makes no request), the official clients read it
offline, and the bytes fetched twice stay within what was in flight when the process
died.  Moments too short for a timer to land in -- the rename of a verified file into
place, the index write (.mv, refs/main), each rename of an import -- are hit on
purpose: strace (when installed) injects the SIGKILL at that system call.  The same
for `upload` (the branch ends with every file, in one commit; no stored object is sent
again) and `cache import` (a killed import leaves every repo as it was or whole, and
the next one completes; one over an older copy leaves it entirely old or entirely
new).  SIGINT and SIGTERM exit 130 / 143
with the partials kept, and the next run resumes them.

The kill moments come from a fixed seed, printed with the results; replay a failure
with MSCLI_CRASH_SEED=<seed> (and MSCLI_CRASH_KILLS=<n> for more or fewer kills).
"""
import collections
import os
import random
import signal
import subprocess
import sys
import time

import official
from support import SLOW, VALGRIND, Case, blob, command, sha256, strace_works, write_files

SEED = int(os.environ.get("MSCLI_CRASH_SEED", "1414"))
# under valgrind (make valgrind) each run is ~20x slower: a few kills check the normal
# runs' memory, the full battery is make test's
KILLS = int(os.environ.get("MSCLI_CRASH_KILLS") or (3 if VALGRIND else 20))
KIB = 1024
# Ranges of 512 KiB above 1 MiB; three files or ranges at once: what a killed run can
# lose is what its three connections had received but not yet written
RANGED = {"MSCLI_RANGE_THRESHOLD": "1M", "MSCLI_CHUNK_SIZE": "512K"}
AT_ONCE = ["--max-workers", "3", "--connections", "3"]
IN_FLIGHT = 3 * 512 * KIB + 512 * KIB   # three connections' buffers, and socket slack
RATE = 1_500_000                         # bytes per second per transfer


def files_for(seed):
    """Files of several sizes: ranged ones, whole ones, small ones."""
    out = {"big-%d.safetensors" % i: blob(1_400_000 + i * 7_000, seed + i) for i in range(2)}
    out.update({"shard-%02d.bin" % i: blob(300_000 + i * 11_000, seed + 10 + i)
                for i in range(8)})
    out.update({"config.json": b'{"seed": %d}\n' % seed, "README.md": b"# crash\n",
                "tok/vocab.txt": b"a\nb\n" * 500})
    return out


def kill_moments(rng, total, n):
    """n moments in [0, total): one in each of n equal slices, then a few moved to the
    first and last tenth, where the listing and the index writes are."""
    moments = [total * (i + rng.random()) / n for i in range(n)]
    for i in range(0, n, 7):
        moments[i] = total * 0.1 * rng.random()
    for i in range(3, n, 7):
        moments[i] = total * (0.9 + 0.12 * rng.random())
    rng.shuffle(moments)
    return moments



class Battery(Case):
    def setUp(self):
        super().setUp()
        self.rng = random.Random("%s-%d" % (self.id(), SEED))
        self.record = []

    def report(self, what, extra=""):
        """One line with the seed and where the kills landed (on stderr, with -v or not)."""
        where = collections.Counter(f for state, _ in self.record for f in state)
        sys.stderr.write("\n  %s: %d kills, seed %d (MSCLI_CRASH_SEED): %s%s\n" % (
            what, len(self.record), SEED,
            ", ".join("%s %d" % kv for kv in sorted(where.items())), extra))

    def killed(self, args, delay, env=None):
        """Start mscli, SIGKILL it after delay seconds: its exit code (None when it was
        still running) and stderr."""
        p = self.spawn(*args, env=env)
        try:
            p.wait(delay)
            rc = p.returncode               # it finished first
        except subprocess.TimeoutExpired:   # still running
            p.send_signal(signal.SIGKILL)
            rc = None
        out, err = p.communicate(timeout=120 * SLOW)
        # what it had sent is answered (and logged) before anything is counted
        self.assertTrue(self.hub.wait_idle(30 * SLOW), "the hub's connections stay open")
        return rc, err.decode("utf-8", "replace")

    def killed_at(self, args, path, env=None):
        """Run mscli and SIGKILL it as it is about to rename path or link a file onto it
        (strace injects the signal: a moment too short for a timer to hit): its exit
        code (None when it was killed) and stderr."""
        calls = "rename,renameat,renameat2,link,linkat"
        # LeakSanitizer does not run under ptrace
        e = dict(self.env, LSAN_OPTIONS="detect_leaks=0", **(env or {}))
        p = subprocess.run(["strace", "-f", "-qq", "-o", os.devnull, "-P", path,
                            "-e", "trace=" + calls, "-e", "inject=%s:signal=KILL" % calls] +
                           command(["--retry-delay", "0.05"] + list(args)), env=e,
                           capture_output=True, timeout=120 * SLOW)
        self.assertTrue(self.hub.wait_idle(30 * SLOW), "the hub's connections stay open")
        killed = p.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL)
        return None if killed else p.returncode, p.stderr.decode("utf-8", "replace")

    def where(self, i, delay):
        return "kill %d at %.3f s (MSCLI_CRASH_SEED=%d)" % (i, delay, SEED)

    # --- downloads ---
    def slow_down(self, listing_paths):
        """A listing that takes a while, and every body trickled."""
        for p in listing_paths:
            self.hub.fault("trickle", path=p, rate=20_000, times=None)
        self.hub.fault("trickle", rate=RATE, times=None)

    def ms_state(self, cache, files):
        """Where a kill landed, from what it left: nothing on disk yet (the listing),
        partials (transfers), a partial of full size (its verification), files in place
        that .msc does not list yet (installs), all in place with .msc or .mv behind
        (the index), or done.  One kill may show several."""
        d = self.ms_repo_dir("acme/crash", root=cache)
        temp = os.path.join(cache, "models", "._____temp", "acme", "crash")
        partials = {os.path.relpath(os.path.join(r, n), temp): os.path.getsize(
            os.path.join(r, n)) for r, _, ns in os.walk(temp) for n in ns
            if ".mscli-state" not in r}
        placed = {p for p in files if os.path.isfile(os.path.join(d, p))}
        msc = os.path.join(d, ".msc")
        indexed = {e["Path"] for e in self.read_pickle(msc)} if os.path.exists(msc) else set()
        flags = set()
        if partials:
            flags.add("transfer")
        if any(partials.get(p) == len(data) for p, data in files.items()):
            flags.add("verify")
        if placed - indexed and len(placed) < len(files):
            flags.add("install")
        if len(placed) == len(files):
            flags.add("done" if indexed >= placed and os.path.exists(os.path.join(d, ".mv"))
                      else "index")
        return flags or {"listing"}

    def hf_state(self, cache, files, commit):
        """As ms_state, for the blobs, the snapshot's links and the ref."""
        folder = os.path.join(cache, "models--acme--crash")
        blobs = os.path.join(folder, "blobs")
        names = os.listdir(blobs) if os.path.isdir(blobs) else []
        partial = [os.path.getsize(os.path.join(blobs, n)) for n in names
                   if n.endswith(".incomplete")]
        snap = os.path.join(folder, "snapshots", commit)
        linked = [p for p in files if os.path.isfile(os.path.join(snap, p))]
        flags = set()
        if partial:
            flags.add("transfer")
        if set(partial) & {len(d) for d in files.values()}:
            flags.add("verify")
        if len(names) > len(partial) and len(linked) < len(files):
            flags.add("install")
        if len(linked) == len(files):
            flags.add("done" if os.path.exists(os.path.join(folder, "refs", "main"))
                      else "index")
        return flags or {"listing"}

    def check_complete(self, args, cache_env, folder, files, why):
        """Every byte right; the cache verifies; offline, the same path with no request."""
        for p, data in files.items():
            path = os.path.join(folder, p)
            self.assertTrue(os.path.isfile(path), "%s: %s missing" % (why, p))
            with open(path, "rb") as f:
                self.assertEqual(sha256(f.read()), sha256(data), "%s: %s" % (why, p))
        self.hub.clear_log()
        r = self.mscli("--offline", *args, env=cache_env)
        self.assertEqual((r.rc, r.lines), (0, [folder]), "%s\n%r" % (why, r))
        self.assertEqual(self.hub.log, [], why)
        r = self.mscli("cache", "verify", env=cache_env)
        self.assertEqual(r.rc, 0, "%s\n%r" % (why, r))
        for root, _, names in os.walk(os.path.dirname(os.path.dirname(folder))):
            for n in names:
                self.assertFalse(n.endswith(".incomplete"), "%s: %s left" % (why, n))

    def download_battery(self, hub):
        files = files_for(7 if hub == "ms" else 8)
        size = sum(len(d) for d in files.values())
        if hub == "ms":
            self.hub.add_ms_repo("acme/crash", files=files)
            args, listing = ["download", "acme/crash"] + AT_ONCE, ["/repo/files"]
        else:
            repo = self.hub.add_hf_repo("acme/crash", files=files)
            args, listing = ["--hub", "hf", "download", "acme/crash"] + AT_ONCE, ["/revision/",
                                                                                 "/tree/"]

        def env_for(cache):
            key = "MODELSCOPE_CACHE" if hub == "ms" else "HF_HUB_CACHE"
            return dict(RANGED, **{key: cache})

        def folder_of(cache):
            if hub == "ms":
                return self.ms_repo_dir("acme/crash", root=cache)
            return os.path.join(cache, "models--acme--crash", "snapshots", repo.commit)

        # how long an undisturbed run takes, the same way
        self.slow_down(listing)
        t0 = time.monotonic()
        self.ok(*args, env=env_for(os.path.join(self.tmp, "calibrate")))
        total = time.monotonic() - t0
        caches, refetched = [], []

        def kill_and_rerun(i, why, kill):
            cache = os.path.join(self.tmp, "cache-%s" % i)
            self.hub.clear_faults()
            self.slow_down(listing)
            self.hub.clear_log()
            rc, err = kill(cache)
            self.assertIn(rc, (None, 0), "%s: %s" % (why, err))
            first = self.hub.body_bytes()
            state = (self.ms_state(cache, files) if hub == "ms"
                     else self.hf_state(cache, files, repo.commit))
            self.record.append((state, why))
            state = "+".join(sorted(state))
            self.hub.clear_faults()
            self.hub.clear_log()
            r = self.mscli(*args, env=env_for(cache))
            self.assertEqual(r.rc, 0, "%s (%s)\n%r" % (why, state, r))
            self.assertEqual(r.lines, [folder_of(cache)], why)
            twice = first + self.hub.body_bytes() - size
            refetched.append(twice)
            self.check_complete(args, env_for(cache), folder_of(cache), files,
                                "%s (%s)" % (why, state))
            self.assertLessEqual(twice, IN_FLIGHT, "%s (%s): %d bytes fetched twice" %
                                 (why, state, twice))
            caches.append(cache)

        for i, delay in enumerate(kill_moments(self.rng, total, KILLS)):
            kill_and_rerun(i, self.where(i, delay), lambda cache: self.killed(
                args, delay, env=env_for(cache)))
        # moments too short for a timer to hit, each on purpose: a file renamed into
        # place after its verification (strace matches a rename by its first path: the
        # partial), and the index (.mv, refs/main) written
        big = sha256(files["big-0.safetensors"])
        deliberate = {
            "install": lambda c: (os.path.join(c, "models", "._____temp", "acme", "crash",
                                               "big-0.safetensors") if hub == "ms" else
                                  os.path.join(c, "models--acme--crash", "blobs",
                                               big + ".mscli.incomplete")),
            "index": lambda c: (os.path.join(folder_of(c), ".mv") if hub == "ms" else
                                os.path.join(c, "models--acme--crash", "refs", "main"))}
        if not strace_works() or VALGRIND:
            deliberate = {}
        for what, path in deliberate.items():
            kill_and_rerun(what, "killed at the %s" % what, lambda cache, path=path:
                           self.killed_at(args, path(cache), env=env_for(cache)))
        self.report("%s download" % hub, "; at most %d KiB fetched twice" %
                    (max(refetched) // KIB))
        landed = set().union(*(s for s, _ in self.record))
        if KILLS >= 10 and deliberate:  # every moment the issue names ("install": the rename)
            self.assertLessEqual({"listing", "transfer", "verify", "install", "index"}, landed,
                                 self.record)
        elif KILLS >= 10:  # the kills are spread: they hit the main phases
            self.assertLessEqual({"listing", "transfer", "install"}, landed, self.record)
        self.official_read_offline(hub, caches, files)

    def official_read_offline(self, hub, caches, files):
        """The official clients, from their source, find every file offline."""
        for name, src in official.clients(hub):
            with self.subTest(client=name):
                if not src:
                    self.skipTest("%s not checked: set %s to its source (as for make "
                                  "check-official)" % (name, official.SOURCES[name]))
                found = official.snapshot_offline(name, src, "acme/crash", caches,
                                                  os.path.join(self.tmp, "official"))
                for cache in caches:
                    got = found.get(cache, "")
                    self.assertTrue(os.path.isdir(got), "%s in %s: %s" % (name, cache, got))
                    for p, data in files.items():
                        with open(os.path.join(got, p), "rb") as f:
                            self.assertEqual(f.read(), data, "%s: %s in %s" % (name, p, got))

    def test_modelscope_download(self):
        self.download_battery("ms")

    def test_huggingface_download(self):
        self.download_battery("hf")

    # --- signals that let mscli finish cleanly ---
    def test_sigint_and_sigterm_keep_partials_and_resume(self):
        files = files_for(9)
        size = sum(len(d) for d in files.values())
        self.hub.add_ms_repo("acme/crash", files=files)
        self.hub.add_hf_repo("acme/crash", files=files)
        for hub, args in (("ms", ["download", "acme/crash"]),
                          ("hf", ["--hub", "hf", "download", "acme/crash"])):
            for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
                with self.subTest(hub=hub, signal=sig.name):
                    cache = os.path.join(self.tmp, "sig-%s-%s" % (hub, sig.name))
                    env = dict(RANGED, MODELSCOPE_CACHE=cache, HF_HUB_CACHE=cache)
                    self.hub.clear_faults()
                    self.hub.fault("trickle", rate=RATE, times=None)
                    self.hub.clear_log()
                    p = self.spawn(*(args + AT_ONCE), env=env)
                    self.wait_for(lambda: self.hub.body_bytes() > size // 2, 60, "bytes")
                    p.send_signal(sig)
                    out, err = p.communicate(timeout=60 * SLOW)
                    self.assertEqual(p.returncode, code, err)
                    self.assertIn(b"run the same command again to resume", err)
                    self.assertTrue(self.hub.wait_idle(30 * SLOW))
                    first = self.hub.body_bytes()
                    kept = [n for r, _, ns in os.walk(cache) for n in ns
                            if "temp" in r or n.endswith(".incomplete")]
                    self.assertTrue(kept, "partials kept")
                    self.hub.clear_faults()
                    self.hub.clear_log()
                    r = self.ok(*args, env=env)
                    # a clean stop writes what it received: nothing is fetched twice
                    # but what was still in the sockets
                    self.assertLessEqual(first + self.hub.body_bytes() - size, 512 * KIB)
                    for p_, data in files.items():
                        with open(os.path.join(r.lines[0], p_), "rb") as f:
                            self.assertEqual(f.read(), data)

    # --- uploads ---
    def upload_battery(self, kind, token, hub_args):
        src_files = {}
        objects, stored_before, commits = 0, 0, 0

        def folder(i):
            files = {"w%d.safetensors" % k: blob(250_000 + k * 1000, 1000 * i + k)
                     for k in range(6)}
            files.update({"README.md": b"# run %d\n" % i, "config.json": b'{"i": %d}\n' % i})
            src_files[i] = files
            return write_files(os.path.join(self.tmp, "up-%d" % i), files)

        def stored(repo):
            return {u.oid for u in self.hub.lfs_uploads(kind=kind, repo=repo) if u.complete}

        def upload_args(i, src):
            return list(hub_args) + ["--token", token, "upload", "--max-workers", "2",
                                     "alice/crash-%d" % i, src]

        # a slow storage host: every PUT waits a little before its body is read; and a hub
        # whose POSTs (create, batch, preupload, commit) take a while, so that kills land
        # before the first object too, however fast the hashing (a release build hashes
        # these 1.5 MB and sends its first PUT within ~15 ms of launch)
        hold = dict(server="cdn", method="PUT", seconds=0.15, times=None)
        hub_hold = dict(server="hub", method="POST", seconds=0.08, times=None)

        def slow():
            self.hub.clear_faults()
            self.hub.fault("hold_upload", **hold)
            self.hub.fault("hold_upload", **hub_hold)

        slow()
        t0 = time.monotonic()
        self.ok(*upload_args(99, folder(99)))
        total = time.monotonic() - t0
        for i, delay in enumerate(kill_moments(self.rng, total, KILLS)):
            why = self.where(i, delay)
            src, repo = folder(i), "alice/crash-%d" % i
            lfs = {sha256(d) for p, d in src_files[i].items() if p.endswith(".safetensors")}
            slow()
            rc, err = self.killed(upload_args(i, src), delay)
            self.assertIn(rc, (None, 0), "%s: %s" % (why, err))
            have = stored(repo) & lfs
            landed = len(self.hub.upload_commits(kind=kind, repo=repo))
            state = ("committed" if landed else "sending" if have else "hashing")
            self.record.append(({state}, delay))
            self.hub.clear_faults()
            self.hub.clear_log()
            r = self.mscli(*upload_args(i, src))
            self.assertEqual(r.rc, 0, "%s (%s)\n%r" % (why, state, r))
            # what the hub had is not sent again; what it lacked is, once
            sent = [q.file_path for q in self.hub.requests(server="cdn", method="PUT")]
            self.assertEqual(sorted(sent), sorted(lfs - have), "%s (%s)" % (why, state))
            self.assertEqual(len(self.hub.upload_commits(kind=kind, repo=repo)), 1,
                             "%s (%s): one commit" % (why, state))
            for p, data in src_files[i].items():
                self.assertEqual(self.hub.file_bytes(kind, repo, p), data,
                                 "%s (%s): %s" % (why, state, p))
            objects += len(lfs)
            stored_before += len(have)
            commits += bool(landed)
        self.report("%s upload" % kind, "; %d of %d objects stored before the kill, %d "
                    "commits landed before it" % (stored_before, objects, commits))
        if KILLS >= 10:
            self.assertLessEqual({"hashing", "sending"}, set().union(*(
                s for s, _ in self.record)), self.record)

    def test_modelscope_upload(self):
        self.upload_battery("ms", "ms-goodtoken", ())

    def test_huggingface_upload(self):
        self.upload_battery("hf", "hf_goodtoken", ("--hub", "hf"))

    def test_upload_sigint_and_sigterm(self):
        for kind, token, hub_args in (("ms", "ms-goodtoken", []),
                                      ("hf", "hf_goodtoken", ["--hub", "hf"])):
            for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
                with self.subTest(hub=kind, signal=sig.name):
                    self.upload_signalled(kind, token, hub_args, sig, code)

    def upload_signalled(self, kind, token, hub_args, sig, code):
        """Stopped by sig once an object is stored: exit code, and the next run sends
        only what the hub lacks."""
        files = {"w%d.safetensors" % k: blob(300_000, 50 + k + code) for k in range(4)}
        src = write_files(os.path.join(self.tmp, "sig-up-%s-%d" % (kind, code)), files)
        repo = "alice/sig-%d" % code
        args = hub_args + ["--token", token, "upload", "--max-workers", "1", repo, src]
        self.hub.clear_faults()
        self.hub.fault("hold_upload", server="cdn", method="PUT", seconds=0.4, times=None)
        p = self.spawn(*args)
        self.wait_for(lambda: any(u.complete for u in self.hub.lfs_uploads(
            kind=kind, repo=repo)), 60, "an object stored")
        p.send_signal(sig)
        out, err = p.communicate(timeout=60 * SLOW)
        self.assertEqual(p.returncode, code, err)
        self.assertTrue(self.hub.wait_idle(30 * SLOW))
        have = {u.oid for u in self.hub.lfs_uploads(kind=kind, repo=repo) if u.complete}
        self.assertTrue(have)
        self.assertEqual(self.hub.upload_commits(kind=kind, repo=repo), [])
        self.hub.clear_faults()
        self.hub.clear_log()
        self.ok(*args)
        sent = {q.file_path for q in self.hub.requests(server="cdn", method="PUT")}
        self.assertEqual(sent, {sha256(d) for d in files.values()} - have)
        self.assertEqual(len(self.hub.upload_commits(kind=kind, repo=repo)), 1)
        for p_, data in files.items():
            self.assertEqual(self.hub.file_bytes(kind, repo, p_), data)

    # --- cache import ---
    def visible(self, env):
        """What a loader could see in the caches: every file outside mscli's staging."""
        out = {}
        for root in (env["MODELSCOPE_CACHE"], env["HF_HUB_CACHE"]):
            for r, dirs, names in os.walk(root):
                rel = os.path.relpath(r, root)
                if rel.split(os.sep)[0] in (".mscli", ".locks", ".lock"):
                    continue
                for n in names:
                    p = os.path.join(r, n)
                    if os.path.islink(p):
                        out[os.path.relpath(p, root)] = os.readlink(p)
                    else:
                        with open(p, "rb") as f:
                            out[os.path.relpath(p, root)] = f.read()
        return out

    def test_cache_import(self):
        ms = {"org/m%d" % k: files_for(20 + k) for k in range(2)}
        hf = {"org/h%d" % k: files_for(30 + k) for k in range(2)}
        for rid, files in ms.items():
            self.hub.add_ms_repo(rid, files=files)
            self.ok("download", rid)
        hf_commits = {}
        for rid, files in hf.items():
            hf_commits[rid] = self.hub.add_hf_repo(rid, files=files).commit
            self.ok("--hub", "hf", "download", rid, env={"HF_HUB_CACHE": os.path.join(
                self.tmp, "hfsrc")})
        bundle = os.path.join(self.tmp, "bundle.tar.zst")
        self.ok("cache", "export", *ms, *["hf:" + r for r in hf], "-o", bundle,
                env={"HF_HUB_CACHE": os.path.join(self.tmp, "hfsrc")})

        def env_for(i):
            d = os.path.join(self.tmp, "imp-%d" % i)
            return {"MODELSCOPE_CACHE": os.path.join(d, "ms"),
                    "HF_HUB_CACHE": os.path.join(d, "hf")}

        def whole_or_absent(env, why):
            """Each repo a loader can see is all there, or not there at all."""
            seen = self.visible(env)
            for rid, files in ms.items():
                d = os.path.relpath(self.ms_repo_dir(rid, root=env["MODELSCOPE_CACHE"]),
                                    env["MODELSCOPE_CACHE"])
                mine = {k for k in seen if k.startswith(d + os.sep)}
                if mine:
                    for p, data in files.items():
                        self.assertEqual(seen.get(os.path.join(d, p)), data, "%s: %s %s" %
                                         (why, rid, p))
                    self.assertIn(os.path.join(d, ".msc"), seen, why)
            for rid, files in hf.items():
                folder = "models--" + rid.replace("/", "--")
                snap = os.path.join(env["HF_HUB_CACHE"], folder, "snapshots",
                                    hf_commits[rid])
                if os.path.isdir(snap) or os.path.exists(os.path.join(
                        env["HF_HUB_CACHE"], folder, "refs", "main")):
                    for p, data in files.items():
                        with open(os.path.join(snap, p), "rb") as f:
                            self.assertEqual(f.read(), data, "%s: %s %s" % (why, rid, p))
            return seen

        t0 = time.monotonic()
        self.ok("cache", "import", bundle, env=env_for(99))
        total = time.monotonic() - t0
        for i, delay in enumerate(kill_moments(self.rng, total, KILLS)):
            why = self.where(i, delay)
            env = env_for(i)
            rc, err = self.killed(["cache", "import", bundle], delay, env=env)
            self.assertIn(rc, (None, 0), "%s: %s" % (why, err))
            seen = whole_or_absent(env, why)
            self.record.append(({"nothing visible" if not seen else "some repos" if
                                 len(seen) < len(self.visible(env_for(99))) else "all"},
                                delay))
            r = self.mscli("cache", "verify", env=env)
            self.assertEqual(r.rc, 0, "%s\n%r" % (why, r))
            r = self.mscli("cache", "import", bundle, env=env)
            self.assertEqual(r.rc, 0, "%s\n%r" % (why, r))
            self.assertEqual(self.visible(env), self.visible(env_for(99)), why)
            r = self.mscli("cache", "verify", env=env)
            self.assertEqual(r.rc, 0, "%s\n%r" % (why, r))
        self.report("cache import")
        # what a killed import staged, a prune takes back
        for i in range(KILLS):
            env = env_for(i)
            self.ok("cache", "prune", "--incomplete", env=env)
            for scratch in (os.path.join(env["MODELSCOPE_CACHE"], ".mscli", "tmp"),
                            os.path.join(env["HF_HUB_CACHE"], ".locks", ".mscli")):
                self.assertEqual(os.listdir(scratch) if os.path.isdir(scratch) else [], [],
                                 scratch)
        caches = [env_for(i)["MODELSCOPE_CACHE"] for i in range(KILLS)]
        for rid in ms:
            self.official_read_offline_ms(rid, caches, ms[rid])
        caches = [env_for(i)["HF_HUB_CACHE"] for i in range(KILLS)]
        for name, src in official.clients("hf"):
            with self.subTest(client=name):
                if not src:
                    self.skipTest("%s not checked: set %s" % (name, official.SOURCES[name]))
                for rid in hf:
                    found = official.snapshot_offline(name, src, rid, caches,
                                                      os.path.join(self.tmp, "off"))
                    for c in caches:
                        self.assertTrue(os.path.isdir(found.get(c, "")), found.get(c))

    def official_read_offline_ms(self, rid, caches, files):
        for name, src in official.clients("ms"):
            with self.subTest(client=name, repo=rid):
                if not src:
                    self.skipTest("%s not checked: set %s" % (name, official.SOURCES[name]))
                found = official.snapshot_offline(name, src, rid, caches,
                                                  os.path.join(self.tmp, "off"))
                for c in caches:
                    got = found.get(c, "")
                    for p, data in files.items():
                        with open(os.path.join(got, p), "rb") as f:
                            self.assertEqual(f.read(), data, "%s %s %s" % (name, c, p))

    def test_import_sigint_and_sigterm(self):
        files = {"w%d.bin" % k: blob(8_000_000, 70 + k) for k in range(3)}
        self.hub.add_ms_repo("org/big", files=files)
        self.ok("download", "org/big")
        bundle = os.path.join(self.tmp, "big.tar.zst")
        self.ok("cache", "export", "org/big", "-o", bundle)
        for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
            with self.subTest(signal=sig.name):
                d = os.path.join(self.tmp, "sig-imp-%d" % code)
                env = {"MODELSCOPE_CACHE": os.path.join(d, "ms"),
                       "HF_HUB_CACHE": os.path.join(d, "hf")}
                scratch = os.path.join(env["MODELSCOPE_CACHE"], ".mscli", "tmp")

                def staging():
                    return any(ns for _, _, ns in os.walk(scratch))
                p = self.spawn("cache", "import", bundle, env=env)
                self.wait_for(staging, 60, "the import to stage a file")
                p.send_signal(sig)
                out, err = p.communicate(timeout=60 * SLOW)
                self.assertEqual(p.returncode, code, err)
                self.assertIn(b"nothing was imported", err)
                # as it was: nothing a loader sees, nothing staged left behind
                self.assertEqual(self.visible(env), {})
                self.assertFalse(staging())
                r = self.ok("cache", "import", bundle, env=env)
                for p_, data in files.items():
                    with open(os.path.join(r.lines[0], p_), "rb") as f:
                        self.assertEqual(f.read(), data)

    # --- cache import over an older copy ---
    # `cache import` over a cache that holds an older copy of the same repo (same
    # revision name, other bytes): killed at random moments, and at each rename it makes
    # (strace injects the SIGKILL there), the repo stays entirely the old copy or becomes
    # entirely the new one -- by bytes, and as `--offline download` and `cache verify` say
    # -- and the next import completes it.
    RID = "org/m.v"  # a dotted name: the folder is m___v, with a link beside it

    def two_bundles(self):
        self.v = {}
        for n in (1, 2):
            self.v[n] = {"w%d.safetensors" % k: blob(900_000, 100 * n + k) for k in range(3)}
            self.v[n]["config.json"] = b'{"v": %d}\n' % n
            self.hub.add_ms_repo(self.RID, files=self.v[n])
            src = os.path.join(self.tmp, "src-%d" % n)
            self.ok("download", self.RID, env={"MODELSCOPE_CACHE": src})
            self.ok("cache", "export", self.RID, "-o", self.over_bundle(n),
                    env={"MODELSCOPE_CACHE": src})

    def over_bundle(self, n):
        return os.path.join(self.tmp, "v%d.tar" % n)

    def over_fresh(self, name):
        """A cache holding v1, imported."""
        env = {"MODELSCOPE_CACHE": os.path.join(self.tmp, name, "ms"),
               "HF_HUB_CACHE": os.path.join(self.tmp, name, "hf")}
        self.ok("cache", "import", self.over_bundle(1), env=env)
        return env

    def over_which(self, env, why):
        """1 or 2: the version the repo is, whole; and every reader says so."""
        folder = self.ms_repo_dir(self.RID, root=env["MODELSCOPE_CACHE"])
        have = {}
        for r, _, names in os.walk(folder):
            for n in names:
                rel = os.path.relpath(os.path.join(r, n), folder)
                if rel not in (".msc", ".mdl", ".mv"):
                    with open(os.path.join(r, n), "rb") as f:
                        have[rel] = f.read()
        got = [n for n in (1, 2) if have == self.v[n]]
        self.assertEqual(len(got), 1, "%s: mixed: %s" % (why, {p: [
            n for n in (1, 2) if self.v[n].get(p) == d] for p, d in have.items()}))
        link = os.path.join(os.path.dirname(folder), "m.v")
        self.assertEqual(os.readlink(link), "m___v", why)
        self.hub.clear_log()
        r = self.mscli("--offline", "download", self.RID, env=env)
        self.assertEqual((r.rc, r.lines), (0, [folder]), "%s\n%r" % (why, r))
        r = self.mscli("cache", "verify", env=env)
        self.assertEqual(r.rc, 0, "%s\n%r" % (why, r))
        self.assertEqual(self.hub.log, [], why)
        return got[0]

    def over_completes(self, env, why):
        self.ok("cache", "import", self.over_bundle(2), env=env)
        self.assertEqual(self.over_which(env, why + ", then imported"), 2)

    def test_import_over_older_killed_at_random(self):
        self.two_bundles()
        env = self.over_fresh("calibrate")
        t0 = time.monotonic()
        self.ok("cache", "import", self.over_bundle(2), env=env)
        total = time.monotonic() - t0
        caches = []
        for i, delay in enumerate(kill_moments(self.rng, total, KILLS)):
            why = self.where(i, delay)
            env = self.over_fresh("imp-%d" % i)
            rc, err = self.killed(["cache", "import", self.over_bundle(2)], delay, env=env)
            self.assertIn(rc, (None, 0), "%s: %s" % (why, err))
            self.record.append(({"v%d" % self.over_which(env, why)}, delay))
            self.over_completes(env, why)
            caches.append(env["MODELSCOPE_CACHE"])
        self.report("cache import over v1")
        self.official_read_offline_ms(self.RID, caches, self.v[2])

    def test_import_over_older_killed_at_each_rename(self):
        if not strace_works() or VALGRIND:
            self.skipTest("strace injects the kills")
        self.two_bundles()
        # each rename(2), each renameat2(2) (the exchanges); and each rename(2) of a
        # filesystem without RENAME_EXCHANGE, where the old folder is moved aside first
        for call, extra in (("rename", []), ("renameat2", []),
                            ("rename", ["-e", "inject=renameat2:error=EINVAL"])):
            for n in range(1, 100):
                why = "killed at %s %d%s" % (call, n, " (no exchange)" if extra else "")
                env = self.over_fresh("at-%s-%d-%d" % (call, n, len(extra)))
                # LeakSanitizer does not run under ptrace
                e = dict(self.env, LSAN_OPTIONS="detect_leaks=0", **env)
                p = subprocess.run(["strace", "-f", "-qq", "-o", os.devnull, "-e",
                                    "trace=rename,renameat2", "-e",
                                    "inject=%s:signal=KILL:when=%d" % (call, n)] + extra +
                                   command(["cache", "import", self.over_bundle(2)]), env=e,
                                   capture_output=True, timeout=120 * SLOW)
                if p.returncode == 0:
                    break   # fewer calls than n: every one was a kill point
                self.assertIn(p.returncode, (-signal.SIGKILL, 128 + signal.SIGKILL),
                              (why, p.stderr))
                folder = self.ms_repo_dir(self.RID, root=env["MODELSCOPE_CACHE"])
                if extra and not os.path.isdir(folder):
                    state = "aside"  # the next run under the repo's lock puts it back
                else:
                    state = "v%d" % self.over_which(env, why)
                self.record.append(({state}, "%s %d" % (call, n)))
                self.over_completes(env, why)
        self.report("cache import over v1, at each rename")
        landed = collections.Counter(next(iter(s)) for s, _ in self.record)
        self.assertGreaterEqual(landed["v1"], 4, self.record)
        self.assertGreaterEqual(landed["v2"], 2, self.record)
