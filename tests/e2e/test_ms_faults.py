"""Faults a real network and a real hub produce, and what mscli makes of them."""
import os
import signal
import subprocess
import time
import unittest

from support import SLOW, Case, blob, sha256

BIG = blob(6_000_000, 7)
FILES = {"config.json": b'{"a": 1}\n', "model.bin": BIG}


class Faults(Case):
    def setUp(self):
        super().setUp()
        self.hub.add_ms_repo("acme/toy", files=FILES)
        self.dir = self.ms_repo_dir("acme/toy")

    def assert_complete(self):
        for p, data in FILES.items():
            with open(os.path.join(self.dir, p), "rb") as f:
                self.assertEqual(sha256(f.read()), sha256(data), p)

    def file_gets(self, path="model.bin"):
        return [q for q in self.hub.log if q.method == "GET" and
                (q.query.get("FilePath") == [path] or q.path.endswith("/" + path))]

    def test_disconnect_midway_resumes_with_range(self):
        self.hub.fault("disconnect", path="model.bin", after=1_000_000, times=2)
        self.ok("download", "acme/toy")
        self.assert_complete()
        ranges = [q.range for q in self.file_gets() if q.server == "cdn"]
        self.assertTrue(any(r and r.startswith("bytes=") and not r.startswith("bytes=0-")
                            for r in ranges), ranges)
        # resumed, not refetched: well under twice the file
        self.assertLess(self.hub.body_bytes("model.bin"), 1.5 * len(BIG))

    def test_server_ignores_range(self):
        self.hub.fault("disconnect", path="model.bin", after=2_000_000, times=1)
        self.hub.fault("ignore_range", path="model.bin", times=1)
        self.ok("download", "acme/toy")
        self.assert_complete()

    def test_bad_content_range_is_not_trusted(self):
        self.hub.fault("disconnect", path="model.bin", after=1_000_000, times=1)
        self.hub.fault("bad_content_range", path="model.bin", times=1)
        self.ok("download", "acme/toy")
        self.assert_complete()

    def test_retry_after_is_honoured(self):
        self.hub.fault("status", code=429, headers={"Retry-After": "1"}, path="model.bin", times=1)
        self.hub.fault("status", code=503, headers={"Retry-After": "1"}, path="/repo/files", times=1)
        t0 = time.monotonic()
        self.ok("download", "acme/toy")
        self.assertGreaterEqual(time.monotonic() - t0, 2.0)
        self.assert_complete()

    def test_persistent_503_is_exit_1(self):
        self.hub.fault("status", code=503, path="model.bin", times=None)
        r = self.fails(1, "--retries", "2", "download", "acme/toy")
        self.assertIn("503", r.err)
        self.assertIn("model.bin", r.err)
        self.assertIn("after 3 attempts", r.err)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "model.bin")))
        self.assertEqual(len([q for q in self.file_gets() if q.status == 503]), 3)

    def test_a_lasting_503_from_the_api_says_how_many_tries(self):
        self.hub.fault("status", code=503, path="/repo/files", times=None)
        r = self.fails(1, "--retries", "1", "--retry-delay", "0.1", "download", "acme/toy")
        self.assertIn("HTTP 503", r.err)
        self.assertIn("(after 2 attempts)", r.err)

    def test_persistent_429_is_exit_3(self):
        self.hub.fault("status", code=429, path="/repo/files", times=None)
        self.fails(3, "--retries", "1", "download", "acme/toy")

    def test_no_server_is_exit_3(self):
        self.hub.stop()
        r = self.fails(3, "--retries", "1", "download", "acme/toy")
        self.assertIn(self.hub.url, r.err)

    def test_corrupt_in_transit_is_refetched_once(self):
        self.hub.fault("corrupt", path="model.bin", times=1)
        self.ok("download", "acme/toy")
        self.assert_complete()
        self.assertEqual(len([q for q in self.file_gets() if q.server == "cdn"]), 2)

    def test_wrong_sha256_is_exit_4_and_nothing_installed(self):
        self.hub.add_ms_repo("acme/bad", files=FILES, sha256_override={"model.bin": "ab" * 32})
        r = self.fails(4, "download", "acme/bad")
        self.assertIn("ab" * 32, r.err)
        self.assertIn(sha256(BIG), r.err)
        d = self.ms_repo_dir("acme/bad")
        self.assertFalse(os.path.exists(os.path.join(d, "model.bin")))
        # the good file is in place and indexed; the bad one in neither place
        self.assertTrue(os.path.exists(os.path.join(d, "config.json")))
        msc = self.read_pickle(os.path.join(d, ".msc"))
        self.assertEqual([e["Path"] for e in msc], ["config.json"])
        self.assert_tree_has_no(os.path.join(self.cache, "models", "._____temp"),
                                lambda p: p.endswith("model.bin"), "bad partial kept")
        gets = [q for q in self.hub.log if q.method == "GET" and q.server == "cdn"
                and q.path.endswith("model.bin")]
        self.assertEqual(len(gets), 2)  # one retry, then give up

    def test_wrong_sha256_of_an_empty_file_is_exit_4(self):
        # nothing to fetch again for an empty file: the retry once waited for ever
        self.hub.add_ms_repo("acme/bad0", files={"e.txt": b"", "a": b"a"},
                             sha256_override={"e.txt": "ab" * 32})
        r = self.fails(4, "download", "acme/bad0", timeout=20)
        self.assertIn("ab" * 32, r.err)

    def test_stall_counts_as_a_failure(self):
        self.hub.fault("stall", path="model.bin", after=100_000, seconds=30, times=1)
        r = self.ok("-v", "--stall-timeout", "2", "download", "acme/toy")
        self.assertIn("no data for 2 s", r.err)
        self.assert_complete()
        # "no byte for 2 s" means 2 s: not curl's averaged low-speed check (~5 s late)
        gets = [q for q in self.hub.log if q.method == "GET" and q.server == "cdn"
                and q.path.endswith("model.bin")]
        self.assertGreaterEqual(len(gets), 2)
        gap = gets[1].time - gets[0].time
        self.assertGreaterEqual(gap, 2.0)
        self.assertLess(gap, 2.0 + 2 * SLOW)

    def test_slow_trickle_still_completes(self):
        self.hub.add_ms_repo("acme/slow", files={"a.bin": blob(60_000, 3)})
        self.hub.fault("trickle", path="a.bin", rate=100_000, times=1)
        self.ok("download", "acme/slow")

    def test_unsafe_paths_are_refused_before_writing(self):
        for bad in ["../escape.txt", "/etc/evil", "a/../../x", "ok/\x1b[31mred", "a//b", ".msc"]:
            with self.subTest(path=bad):
                self.hub.add_ms_repo("acme/evil", files={"good.txt": b"g"},
                                     extra_entries=[{"Path": bad, "Name": "x", "Type": "blob",
                                                     "Size": 3, "Revision": "0" * 40,
                                                     "Sha256": sha256(b"bad")}])
                r = self.fails(1, "download", "acme/evil")
                self.assertIn("unsafe path", r.err)
                self.assertFalse(os.path.exists(os.path.join(self.cache, "models", "acme", "evil")))
                self.assertFalse(os.path.exists(os.path.join(self.tmp, "escape.txt")))
                self.assertFalse(os.path.exists(os.path.join(self.cache, "escape.txt")))
                self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
        # a --local-dir keeps modelscope's index in .msc and .mv: a repo file of that name
        # is refused there too, before anything is written
        ld = os.path.join(self.tmp, "ld")
        for bad in [".msc", ".mv", ".cache/modelscope/listing-master.json"]:
            with self.subTest(local_dir=bad):
                self.hub.add_ms_repo("acme/evil", files={"good.txt": b"g"},
                                     extra_entries=[{"Path": bad, "Name": "x", "Type": "blob",
                                                     "Size": 3, "Revision": "0" * 40,
                                                     "Sha256": sha256(b"bad")}])
                r = self.fails(1, "download", "acme/evil", "--local-dir", ld)
                self.assertIn("unsafe path '%s'" % bad, r.err)
                self.assertFalse(os.path.exists(ld))

    def test_a_file_and_a_directory_of_the_same_name_are_refused_before_writing(self):
        self.hub.add_ms_repo("acme/clash", files={"a": b"file", "a/b.txt": b"inside"})
        r = self.fails(1, "download", "acme/clash")
        self.assertIn("both a file 'a' and 'a/b.txt'", r.err)
        self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
        self.assertEqual(self.hub.body_bytes(), 0)
        self.assertFalse(os.path.exists(os.path.join(self.cache, "models", "acme", "clash")))

    def test_malformed_and_oversized_json(self):
        self.hub.fault("malformed_json", path="/repo/files", times=1)
        r = self.fails(1, "download", "acme/toy")
        self.assertIn("malformed JSON", r.err)
        self.hub.fault("oversized_json", path="/repo/files", mb=80, times=1)
        r = self.fails(1, "download", "acme/toy")
        self.assertIn("larger than", r.err)
        self.assertFalse(os.path.exists(self.dir))

    def test_private_repo_and_token_stays_on_the_hub(self):
        self.hub.add_ms_repo("acme/private", files=FILES, private=True)
        r = self.fails(6, "download", "acme/private")
        self.assertIn("no token was sent: run 'mscli login', give --token or set "
                      "MODELSCOPE_API_TOKEN", r.err)
        self.assertNotIn("HF_TOKEN", r.err)
        r = self.fails(6, "--token", "ms-wrong", "download", "acme/private")
        self.assertIn("check the token", r.err)
        self.hub.clear_log()
        r = self.ok("-v", "--token", "ms-goodtoken", "download", "acme/private")
        self.assertNotIn("ms-goodtoken", r.err)  # -v redacts it
        hub_reqs = [q for q in self.hub.log if q.server == "hub"]
        cdn_reqs = [q for q in self.hub.log if q.server == "cdn"]
        self.assertTrue(hub_reqs and cdn_reqs)
        for q in hub_reqs:
            self.assertEqual(q.headers.get("authorization"), "Bearer ms-goodtoken")
            self.assertIn("m_session_id=ms-goodtoken", q.headers.get("cookie", ""))
        for q in cdn_reqs:
            self.assertNotIn("authorization", q.headers)
            self.assertNotIn("ms-goodtoken", q.headers.get("cookie", ""))
        # the same through the environment
        self.ok("download", "--force", "acme/private", env={"MODELSCOPE_API_TOKEN": "ms-goodtoken"})

    def test_expired_cdn_url_is_resolved_again(self):
        big = blob(40_000_000, 9)
        self.hub.add_ms_repo("acme/big", files={"big.bin": big})
        self.hub.fault("expire_cdn", path="big.bin", after=10_000_000, times=1)
        self.ok("download", "acme/big", env={"MSCLI_RANGE_THRESHOLD": "8M", "MSCLI_CHUNK_SIZE": "2M"})
        with open(os.path.join(self.ms_repo_dir("acme/big"), "big.bin"), "rb") as f:
            self.assertEqual(sha256(f.read()), sha256(big))
        resolves = [q for q in self.hub.log if q.server == "hub" and q.query.get("FilePath") == ["big.bin"]]
        self.assertGreaterEqual(len(resolves), 2)
        self.assertLess(self.hub.body_bytes("big.bin"), 1.3 * len(big))


class KillAndResume(Case):
    def run_killed(self, env, size, seed):
        data = blob(size, seed)
        self.hub.add_ms_repo("acme/kill", files={"w.bin": data})
        # slow enough that the kill lands in the middle
        self.hub.fault("trickle", path="w.bin", rate=2_000_000, times=None)
        p = self.spawn("download", "acme/kill", env=env)
        temp = os.path.join(self.cache, "models", "._____temp", "acme", "kill")

        def progressed():
            return self.hub.body_bytes("w.bin") > size // 3
        self.wait_for(progressed, 60, "a third of the file")
        p.send_signal(signal.SIGKILL)
        p.communicate()  # reaps it and closes its pipes
        first = self.hub.body_bytes("w.bin")
        self.assertTrue(os.path.exists(os.path.join(temp, "w.bin")), "partial kept")
        self.hub.clear_faults()
        self.ok("download", "acme/kill", env=env)
        total = self.hub.body_bytes("w.bin")
        with open(os.path.join(self.ms_repo_dir("acme/kill"), "w.bin"), "rb") as f:
            self.assertEqual(sha256(f.read()), sha256(data))
        self.assertLess(total, 1.5 * size, "fetched %d of %d over both runs (first %d)" %
                        (total, size, first))
        self.assertFalse(os.path.exists(temp))

    def test_single_stream(self):
        self.run_killed({}, 8_000_000, 11)

    def test_ranged(self):
        self.run_killed({"MSCLI_RANGE_THRESHOLD": "1M", "MSCLI_CHUNK_SIZE": "512K"}, 12_000_000, 12)

    def test_interrupt_keeps_partials(self):
        data = blob(4_000_000, 13)
        self.hub.add_ms_repo("acme/int", files={"w.bin": data})
        self.hub.fault("trickle", path="w.bin", rate=1_000_000, times=None)
        p = self.spawn("download", "acme/int")
        self.wait_for(lambda: self.hub.body_bytes("w.bin") > 500_000, 30, "bytes")
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30 * SLOW)
        self.assertEqual(p.returncode, 130, err)
        self.assertIn(b"resume", err)
        temp = os.path.join(self.cache, "models", "._____temp", "acme", "int", "w.bin")
        self.assertGreater(os.path.getsize(temp), 0)
        self.hub.clear_faults()
        self.ok("download", "acme/int")

    def test_small_file_interrupted_resumes_from_its_partial(self):
        """A small file (at most 1 MiB) has no resume state: its partial's length is its
        progress.  SIGINT and SIGTERM keep the bytes received; the next run asks for the
        rest with a Range from that length; kill -9 still ends in a correct cache."""
        data = blob(900_000, 14)
        self.hub.add_ms_repo("acme/small", files={"s.bin": data})
        temp = os.path.join(self.cache, "models", "._____temp", "acme", "small", "s.bin")
        state = os.path.join(self.cache, "models", "._____temp", "acme", "small",
                             ".mscli-state")
        dest = os.path.join(self.ms_repo_dir("acme/small"), "s.bin")
        for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGKILL, -9)):
            with self.subTest(signal=sig.name):
                if os.path.exists(dest):
                    os.unlink(dest)
                self.hub.clear_log()
                self.hub.fault("trickle", path="s.bin", rate=300_000, times=None)
                p = self.spawn("download", "acme/small")
                self.wait_for(lambda: self.hub.body_bytes("s.bin") > 300_000, 30, "bytes")
                p.send_signal(sig)
                out, err = p.communicate(timeout=30 * SLOW)
                self.assertEqual(p.returncode, code, err)
                self.hub.clear_faults()
                kept = os.path.getsize(temp) if os.path.exists(temp) else 0
                if sig != signal.SIGKILL:
                    self.assertGreater(kept, 0, "the partial keeps what arrived")
                    self.assertFalse(os.listdir(state) if os.path.isdir(state) else [],
                                     "no resume state for a small file")
                self.hub.clear_log()
                self.ok("download", "acme/small")
                with open(dest, "rb") as f:
                    self.assertEqual(sha256(f.read()), sha256(data))
                ranges = [q.range for q in self.hub.log if q.method == "GET" and
                          q.server == "cdn" and q.path.endswith("/s.bin")]
                if kept:
                    self.assertEqual(ranges, ["bytes=%d-" % kept])
                    self.assertLessEqual(self.hub.body_bytes("s.bin"), len(data) - kept)
                self.assertFalse(os.path.exists(temp))


class InterruptWhileWaiting(Case):
    def test_ctrl_c_during_a_retry_wait(self):
        """Ctrl-C is not held up by a long Retry-After on the listing."""
        self.hub.add_ms_repo("acme/wait", files={"a.txt": b"a"})
        self.hub.fault("status", code=503, headers={"Retry-After": "30"}, path="/repo/files",
                       times=None)
        p = self.spawn("download", "acme/wait")
        self.wait_for(lambda: any("/repo/files" in q.path for q in self.hub.log), 20, "listing")
        time.sleep(0.3)
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=20 * SLOW)
        self.assertEqual(p.returncode, 130, err)
        self.assertLess(time.monotonic() - t0, 5 * SLOW)


class Concurrency(Case):
    def test_two_processes_same_repo(self):
        files = {"a.bin": blob(3_000_000, 21), "b.bin": blob(2_000_000, 22), "c.txt": b"c"}
        self.hub.add_ms_repo("acme/both", files=files)
        self.hub.fault("trickle", path=".bin", rate=4_000_000, times=None)
        p1 = self.spawn("download", "acme/both")
        p2 = self.spawn("download", "acme/both")
        o1, e1 = p1.communicate(timeout=120 * SLOW)
        o2, e2 = p2.communicate(timeout=120 * SLOW)
        self.assertEqual(p1.returncode, 0, e1)
        self.assertEqual(p2.returncode, 0, e2)
        d = self.ms_repo_dir("acme/both")
        self.assertEqual(o1.decode().strip(), d)
        self.assertEqual(o2.decode().strip(), d)
        for p, data in files.items():
            with open(os.path.join(d, p), "rb") as f:
                self.assertEqual(f.read(), data)
        msc = self.read_pickle(os.path.join(d, ".msc"))
        self.assertEqual(sorted(e["Path"] for e in msc), sorted(files))
        # the second waited and found the files: each fetched once
        self.assertLess(self.hub.body_bytes(), 1.2 * sum(len(v) for v in files.values()))


class DiskFull(Case):
    def test_disk_full_is_exit_8_and_keeps_the_partial(self):
        mnt = self.small_tmpfs("3m")
        # more than fits: the reservation fails before any byte is fetched
        self.hub.add_ms_repo("acme/huge", files={"w.bin": blob(5_000_000, 31)})
        r = self.fails(8, "--cache-dir", mnt, "download", "acme/huge")
        self.assertIn("w.bin", r.err)
        # a write that fails midway (the filesystem fills behind the reservation)
        self.hub.add_ms_repo("acme/fits", files={"a.bin": blob(1_500_000, 32),
                                                 "b.bin": blob(1_500_000, 33)})
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:
            f.write(b"\0" * 1_000_000)
        r = self.fails(8, "--cache-dir", mnt, "download", "acme/fits")
        self.assertRegex(r.err, "No space left|cannot allocate")


class FileSizeLimit(Case):
    def test_write_failure_is_exit_8_and_the_partial_is_kept(self):
        """RLIMIT_FSIZE makes the disk "full" (EFBIG) without any mount.  A partial
        from an earlier run survives the failure and is resumed afterwards.  (On
        tmpfs the reservation fails at once; on ext4 the writes fail at the
        limit: either way exit 8 and nothing already on disk is lost.)"""
        import resource
        from support import command
        size = 3_000_000
        self.hub.add_ms_repo("acme/lim", files={"w.bin": blob(size, 41)})
        partial = os.path.join(self.cache, "models", "._____temp", "acme", "lim", "w.bin")
        # an earlier run, killed midway, leaves a partial
        self.hub.fault("trickle", path="w.bin", rate=1_000_000, times=None)
        p = self.spawn("download", "acme/lim")
        self.wait_for(lambda: os.path.exists(partial) and os.path.getsize(partial) > 800_000,
                      60, "a partial")
        p.send_signal(signal.SIGKILL)
        p.communicate()  # reaps it and closes its pipes
        self.hub.clear_faults()
        have = os.path.getsize(partial)

        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (have + 100_000, have + 100_000))
        r = subprocess.run(command(["download", "acme/lim"]), env=self.env, capture_output=True,
                           preexec_fn=limit, timeout=60 * SLOW)
        self.assertEqual(r.returncode, 8, r.stderr)
        self.assertIn(b"w.bin", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.ms_repo_dir("acme/lim"), "w.bin")))
        kept = os.path.getsize(partial)
        self.assertGreaterEqual(kept, have)
        self.assertLessEqual(kept, have + 100_000)
        # the next run fetches only the rest
        self.hub.clear_log()
        self.ok("download", "acme/lim")
        self.assertEqual(self.hub.body_bytes("w.bin"), size - kept)
