"""mscli cache rm and cache prune: what goes (and only that), under the locks a
download takes; symlinks never followed out of the cache."""
import fcntl
import os
import pty
import subprocess
import time

from cache_helpers import HF_MAIN, HF_V1, MS_FILES, CacheCase, etag
from support import blob, command


class Rm(CacheCase):
    def test_modelscope_repo_with_link_partials_and_records(self):
        self.fill()
        d = self.ms_repo_dir("org/tiny.v1")
        link = os.path.join(self.cache, "models", "org", "tiny.v1")
        temp = os.path.join(self.cache, "models", "._____temp", "org", "tiny.v1")
        state = os.path.join(self.cache, ".mscli", "models", "org", "tiny.v1")
        self.assertTrue(os.path.islink(link))
        self.assertTrue(os.path.isdir(state))
        os.makedirs(temp)
        with open(os.path.join(temp, "model.safetensors"), "wb") as f:
            f.write(b"p" * 5000)
        before = self.tree(os.path.join(self.cache, "datasets"))
        r = self.ok("cache", "rm", "org/tiny.v1", "-y")
        for p in (d, link, temp, state):
            self.assertFalse(os.path.lexists(p), p)
            self.assertIn(p, r.out)
        self.assertIn("freed", r.out)
        self.assertEqual(self.tree(os.path.join(self.cache, "datasets")), before)
        self.assertNotIn(("modelscope", "model", "org/tiny.v1"), self.ls())
        self.assertIn(("modelscope", "dataset", "org/data"), self.ls())
        # the lock file stays (see lock.h): a waiter never locks a second inode
        self.assertTrue(os.path.exists(os.path.join(self.cache, ".lock", "org___tiny.v1")))
        self.fails(7, "cache", "rm", "ms:org/tiny.v1", "-y")

    def test_asks_unless_yes_and_dry_run_changes_nothing(self):
        self.fill()
        before = self.tree(self.tmp)
        r = self.fails(2, "cache", "rm", "hf:org/toy", stdin=b"y\n")  # stdin is no terminal
        self.assertIn("-y", r.err)
        r = self.ok("cache", "rm", "hf:org/toy", "--dry-run")
        self.assertIn("would remove", r.out)
        self.assertIn(self.hf_folder(), r.out)
        self.assertEqual(self.tree(self.tmp), before)

    def answer_on_a_terminal(self, answer, *args):
        """mscli with stdin on a pseudo-terminal that types answer: (rc, stdout, stderr)."""
        master, slave = pty.openpty()
        p = subprocess.Popen(command(list(args)), env=self.env, stdin=slave,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.close(slave)
        os.write(master, answer)
        out, err = p.communicate(timeout=60)
        os.close(master)
        self.assertNotIn(b"AddressSanitizer", err)
        return p.returncode, out.decode(), err.decode()

    def test_the_question_on_a_terminal(self):
        self.fill()
        before = self.tree(self.tmp)
        for no in (b"n\n", b"\n", b"whatever\n", b"\x04"):  # ^D: end of input
            rc, out, err = self.answer_on_a_terminal(no, "cache", "rm", "hf:org/toy")
            self.assertEqual(rc, 0, err)  # the user said no: not an error (hf cache rm)
            self.assertIn("about to remove hf:org/toy", err)
            self.assertIn(self.hf_folder(), err)
            self.assertIn("[y/N]", err)
            self.assertIn("mscli: nothing removed", err)
            self.assertNotIn("error", err)
            self.assertEqual(out, "")
            self.assertEqual(self.tree(self.tmp), before)
        rc, out, err = self.answer_on_a_terminal(b"y\n", "cache", "rm", "hf:org/toy")
        self.assertEqual(rc, 0, err)
        self.assertIn(self.hf_folder(), out)
        self.assertFalse(os.path.exists(self.hf_folder()))
        self.assertNotIn(("hf", "model", "org/toy"), self.ls())
        self.assertIn(("modelscope", "model", "org/tiny.v1"), self.ls())

    def test_rm_waits_for_a_running_download(self):
        big = blob(3_000_000, 9)
        self.hub.add_hf_repo("org/big", files={"w.safetensors": big, "c.json": b"{}"},
                             lfs=lambda p, s: p.endswith(".safetensors"))
        self.hub.fault("trickle", path="w.safetensors", rate=1_500_000, times=None)
        dl = self.spawn("--hub", "hf", "download", "org/big")
        blobs = self.hf_folder("org/big") + "/blobs"
        self.wait_for(lambda: os.path.isdir(blobs) and any(
            n.endswith(".incomplete") for n in os.listdir(blobs)), 30, "the partial")
        rm = self.spawn("cache", "rm", "-y", "hf:org/big")
        out, err = dl.communicate(timeout=120)
        self.assertEqual(dl.returncode, 0, err.decode())  # the download finished whole
        out, err = rm.communicate(timeout=60)
        self.assertEqual(rm.returncode, 0, err.decode())
        self.assertIn(b"waiting for a download to finish", err)
        self.assertFalse(os.path.exists(self.hf_folder("org/big")))
        self.assertNotIn(("hf", "model", "org/big"), self.ls())

    def test_one_hf_revision_keeps_the_blobs_the_other_uses(self):
        self.ok("--hub", "hf", "download", "org/toy")
        self.ok("--hub", "hf", "download", "org/toy", "--revision", "v1")
        v1 = self.hf_model.branches["v1"]
        folder = self.hf_folder()
        only_v1 = {etag(p, d) for p, d in HF_V1.items()} - {etag(p, d) for p, d in HF_MAIN.items()}
        self.assertEqual(len(only_v1), 2)
        r = self.ok("cache", "rm", "hf:org/toy", "--revision", "v1", "-y")
        self.assertFalse(os.path.exists(os.path.join(folder, "snapshots", v1)))
        self.assertFalse(os.path.exists(os.path.join(folder, "refs", "v1")))
        self.assertFalse(os.path.exists(os.path.join(folder, "trees", v1 + ".json")))
        blobs = set(os.listdir(os.path.join(folder, "blobs")))
        self.assertEqual(blobs, {etag(p, d) for p, d in HF_MAIN.items()})
        self.assertFalse(blobs & only_v1)
        freed = sum(len(HF_V1[p]) for p in HF_V1 if etag(p, HF_V1[p]) in only_v1)
        self.assertGreater(freed, 1_000_000)
        # main is whole: offline download and verify
        self.hub.clear_log()
        self.assertEqual(self.ok("--hub", "hf", "--offline", "download", "org/toy").lines,
                         [self.hf_snap(self.hf_model.commit)])
        self.ok("cache", "verify", "hf:org/toy")
        self.assertEqual(self.hub.log, [])
        o = self.ls()[("hf", "model", "org/toy")]
        self.assertEqual([v["refs"] for v in o["revisions"]], [["main"]])
        # the last revision takes the repo with it
        self.ok("cache", "rm", "hf:org/toy@main", "-y")
        self.assertFalse(os.path.exists(folder))
        self.assertIn("freed", r.out)

    def test_whole_hf_repo_and_its_resume_state(self):
        self.fill()
        locks = os.path.join(self.hfcache, ".locks", "models--org--toy")
        with open(os.path.join(locks, "x.mscli-resume"), "w") as f:
            f.write("{}")
        self.ok("cache", "rm", "hf:org/toy", "-y")
        self.assertFalse(os.path.exists(self.hf_folder()))
        self.assertFalse(os.path.exists(os.path.join(locks, "x.mscli-resume")))
        self.assertEqual(list(self.ls("--hub", "hf")), [])

    def test_symlinks_are_never_followed_out_of_the_cache(self):
        outside = os.path.join(self.tmp, "outside")
        os.makedirs(os.path.join(outside, "snapshots", "c" * 40))
        with open(os.path.join(outside, "precious"), "wb") as f:
            f.write(b"keep me")
        os.symlink("../../precious", os.path.join(outside, "snapshots", "c" * 40, "f"))
        os.makedirs(self.hfcache)
        os.symlink(outside, self.hf_folder("org/linked"))
        self.ok("cache", "rm", "hf:org/linked", "-y")
        self.assertFalse(os.path.lexists(self.hf_folder("org/linked")))
        self.assertTrue(os.path.exists(os.path.join(outside, "precious")))
        # a snapshot entry linking outside: the link goes, the file stays
        self.ok("--hub", "hf", "download", "org/toy")
        self.ok("--hub", "hf", "download", "org/toy", "--revision", "v1")
        snap = self.hf_snap(self.hf_model.branches["v1"])
        os.symlink(os.path.join(outside, "precious"), os.path.join(snap, "evil"))
        self.ok("cache", "rm", "hf:org/toy@v1", "-y")
        self.assertTrue(os.path.exists(os.path.join(outside, "precious")))
        # a ModelScope folder holding a link out
        self.ok("download", "org/tiny.v1")
        os.symlink(os.path.join(outside, "precious"),
                   os.path.join(self.ms_repo_dir("org/tiny.v1"), "evil"))
        self.ok("cache", "rm", "ms:org/tiny.v1", "-y")
        with open(os.path.join(outside, "precious"), "rb") as f:
            self.assertEqual(f.read(), b"keep me")


class Prune(CacheCase):
    def test_incomplete_partials_and_abandoned_imports(self):
        self.fill()
        blobs = os.path.join(self.hf_folder(), "blobs")
        locks = os.path.join(self.hfcache, ".locks", "models--org--toy")
        for name in ("a" * 64, "b" * 64):
            with open(os.path.join(blobs, name + ".mscli.incomplete"), "wb") as f:
                f.write(b"x" * 3000)
            with open(os.path.join(locks, name + ".mscli-resume"), "wb") as f:
                f.write(b"{}")
        with open(os.path.join(blobs, "c" * 40 + ".incomplete"), "wb") as f:
            f.write(b"y" * 100)  # huggingface_hub's own partial
        temp = os.path.join(self.cache, "models", "._____temp", "org", "tiny.v1")
        os.makedirs(temp)
        with open(os.path.join(temp, "model.safetensors"), "wb") as f:
            f.write(b"z" * 7000)
        staging = os.path.join(self.hfcache, ".locks", ".mscli", "import-abc123")
        os.makedirs(os.path.join(staging, "models--x--y"))
        with open(os.path.join(staging, "models--x--y", "f"), "wb") as f:
            f.write(b"w" * 10)
        # one partial a download is writing: its lock is held
        held = open(os.path.join(locks, "b" * 64 + ".lock"), "w")
        fcntl.flock(held, fcntl.LOCK_EX)
        self.addCleanup(held.close)
        before = self.tree(self.tmp)
        r = self.ok("cache", "prune", "--dry-run")
        self.assertEqual(self.tree(self.tmp), before)
        self.assertIn("would free", r.out)
        r = self.ok("--json", "cache", "prune")
        gone = {o["path"] for o in self.jsonl(r, "removed")}
        self.assertEqual(gone, {os.path.join(blobs, "a" * 64 + ".mscli.incomplete"),
                                os.path.join(blobs, "c" * 40 + ".incomplete"), temp, staging})
        self.assertEqual(self.done(r)["freed"], 3000 + 2 + 100 + 7000 + 10)
        self.assertTrue(os.path.exists(os.path.join(blobs, "b" * 64 + ".mscli.incomplete")))
        self.assertFalse(os.path.exists(os.path.join(locks, "a" * 64 + ".mscli-resume")))
        self.assertIn("left alone", r.err)
        # the repos themselves are untouched
        self.ok("cache", "verify")

    def age(self, top, days):
        t = time.time() - days * 86400
        for d, _, files in os.walk(top):
            for n in files:
                os.utime(os.path.join(d, n), (t, t), follow_symlinks=False)
        os.utime(top, (t, t))

    def test_older_than(self):
        self.fill()
        self.age(self.ms_repo_dir("org/tiny.v1"), 40)
        self.age(os.path.join(self.hf_folder(), "blobs"), 40)
        r = self.ok("cache", "prune", "--older-than", "30d")
        self.assertIn("not used for 40 days", r.out)
        self.assertEqual(list(self.ls()), [("modelscope", "dataset", "org/data")])
        self.assertFalse(os.path.exists(os.path.join(self.cache, ".mscli", "models", "org",
                                                     "tiny.v1")))  # its records went too
        self.fails(2, "cache", "prune", "--older-than", "soon")

    def test_max_size_keeps_the_most_recently_used(self):
        self.fill()
        self.ok("--hub", "hf", "download", "org/toy", "--revision", "v1")
        self.age(self.ms_repo_dir("org/data", "datasets"), 1)
        self.age(self.ms_repo_dir("org/tiny.v1"), 3)
        self.age(os.path.join(self.hf_folder(), "blobs"), 2)
        sizes = {k: v["size"] + v["partial_size"] + v["state_size"] for k, v in self.ls().items()}
        limit = sizes[("modelscope", "dataset", "org/data")] + 100
        r = self.ok("--json", "cache", "prune", "--max-size", str(limit), "--dry-run")
        self.assertEqual(len(self.ls()), 3)
        would = {o["path"] for o in self.jsonl(r, "would_remove")}
        self.assertIn(self.hf_folder(), would)
        self.assertIn(self.ms_repo_dir("org/tiny.v1"), would)
        self.ok("cache", "prune", "--max-size", str(limit))
        left = self.ls()
        self.assertEqual(list(left), [("modelscope", "dataset", "org/data")])
        total = sum(v["size"] + v["partial_size"] + v["state_size"] for v in left.values())
        self.assertLessEqual(total, limit)
        # a size that fits already removes nothing
        self.ok("cache", "prune", "--max-size", "10G")
        self.assertEqual(len(self.ls()), 1)

    def test_prune_while_downloads_run_loses_nothing(self):
        big = blob(3_000_000, 9)
        self.hub.add_hf_repo("org/big", files={"w.safetensors": big, "c.json": b"{}"},
                             lfs=lambda p, s: p.endswith(".safetensors"))
        self.hub.add_ms_repo("org/bigms", files={"w.bin": big, "c.json": b"{}"})
        self.hub.fault("trickle", path="w.safetensors", rate=1_500_000, times=None)
        self.hub.fault("trickle", path="w.bin", rate=1_500_000, times=None)
        self.fill()
        hf = self.spawn("--hub", "hf", "download", "org/big")
        ms = self.spawn("download", "org/bigms")
        hf_blobs = self.hf_folder("org/big") + "/blobs"
        ms_temp = os.path.join(self.cache, "models", "._____temp", "org", "bigms")

        def partials():
            hf_part = os.path.isdir(hf_blobs) and any(
                n.endswith(".incomplete") for n in os.listdir(hf_blobs))
            return hf_part and os.path.isdir(ms_temp) and any(
                f for _, _, fs in os.walk(ms_temp) for f in fs if f == "w.bin")

        self.wait_for(partials, 30, "both partials")
        r = self.ok("cache", "prune", "--incomplete", "--max-size", "0")
        self.assertIn("hf:org/big is being downloaded", r.err)
        self.assertIn("modelscope:org/bigms is being downloaded", r.err)
        for p in (hf, ms):
            out, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err.decode())
        self.ok("cache", "verify", "hf:org/big", "ms:org/bigms")
        with open(os.path.join(self.ms_repo_dir("org/bigms"), "w.bin"), "rb") as f:
            self.assertEqual(f.read(), big)
        # the others went (max-size 0)
        self.assertNotIn(("hf", "model", "org/toy"), self.ls())
