"""The transfer engine: ranges, the connection budget, TLS and HTTP/2 with
nginx as the CDN, a server that ignores Range in the middle of ranges."""
import os
import resource
import sys
import time
import unittest

from support import ROOT, SLOW, VALGRIND, Case, FileRef, blob, sha256, write_files

sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
from nginx import Nginx  # noqa: E402

RANGED = {"MSCLI_RANGE_THRESHOLD": "2M", "MSCLI_CHUNK_SIZE": "1M"}


class IdleConnections(Case):
    def test_connections_servers_close_while_idle_are_replaced(self):
        """Between transfers the engine leaves a kept-alive socket in its epoll set
        (dormant).  A server that closes it meanwhile must not stall the next transfer,
        whose new socket often gets the same descriptor number."""
        files = {"f%d.bin" % i: blob(20_000, 70 + i) for i in range(6)}
        files.update({"a_slow.bin": blob(300_000, 77), "m_slow.bin": blob(300_000, 78)})
        self.hub.add_ms_repo("acme/idle", files=files)
        self.hub.idle_timeout = 0.3              # seconds: each slow file takes ~1 s
        self.hub.fault("trickle", path="_slow.bin", rate=300_000, times=None)
        t0, r0 = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
        r = self.ok("download", "acme/idle", "--max-workers", "1", "--stall-timeout", "60")
        took, r1 = time.monotonic() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
        for name, data in files.items():
            with open(os.path.join(self.ms_repo_dir("acme/idle"), name), "rb") as f:
                self.assertEqual(sha256(f.read()), sha256(data), name)
        # the hub closed the connection mscli kept while a slow file came: it took another
        self.assertGreaterEqual(len({q.peer for q in self.hub.log if q.server == "hub"}), 2)
        # and nothing waited for the stall timeout, or was tried again
        self.assertNotIn("retrying", r.err)
        self.assertLess(took, 30 * SLOW)
        # a closed socket left in the set would wake the loop again and again (1.5 CPU
        # seconds of ~2 in a run that did so); the slow files leave it idle most of the time
        if not VALGRIND:
            self.assertLess(cpu, took / 2, "CPU %.2f s in %.2f s" % (cpu, took))


class Ranges(Case):
    def test_large_file_comes_in_ranges(self):
        big = blob(12_000_000, 61)
        self.hub.add_ms_repo("acme/r", files={"big.bin": big, "small.txt": b"s"})
        self.ok("download", "acme/r", "--connections", "4", env=RANGED)
        with open(os.path.join(self.ms_repo_dir("acme/r"), "big.bin"), "rb") as f:
            self.assertEqual(sha256(f.read()), sha256(big))
        ranges = sorted(q.range for q in self.hub.log if q.server == "cdn" and q.file_path == "big.bin")
        self.assertEqual(len(ranges), 12)  # 12 chunks of 1 MB (MiB-sized chunks: 12 requests)
        self.assertIn("bytes=0-1048575", ranges)
        self.assertEqual(self.hub.body_bytes("big.bin"), len(big))
        # the hub was asked once: every range went straight to the CDN URL
        self.assertEqual(len([q for q in self.hub.log if q.server == "hub"
                              and q.query.get("FilePath") == ["big.bin"]]), 1)

    def test_connection_budget(self):
        files = {"a.bin": blob(6_000_000, 62), "b.bin": blob(6_000_000, 63)}
        files.update({"s%d.txt" % i: b"x" * 1000 for i in range(6)})
        self.hub.add_ms_repo("acme/b", files=files)
        self.hub.fault("trickle", server="cdn", rate=20_000_000, times=None)
        self.ok("download", "acme/b", "--max-workers", "3", "--connections", "3", env=RANGED)
        self.assertLessEqual(self.hub.max_concurrent("cdn"), 3)
        self.assertGreaterEqual(self.hub.max_concurrent("cdn"), 2)
        self.hub.clear_log()
        self.ok("download", "acme/b", "--force", "--max-workers", "1", "--connections", "1",
                env=RANGED)
        self.assertEqual(self.hub.max_concurrent("cdn"), 1)

    def test_two_large_files_share_the_budget_between_the_hashing_threads(self):
        """Each file is hashed by one thread as its prefix lands: with two hashing threads,
        two large files come side by side at half the connections each, not one after
        the other with all of them (whose hashing would then run on alone at the end)."""
        files = {"a.bin": blob(12_000_000, 65), "b.bin": blob(24_000_000, 66)}
        self.hub.add_ms_repo("acme/two", files=files)
        # slow enough that every range a file may have is in flight at once
        self.hub.fault("trickle", server="cdn", rate=20_000_000 // SLOW, times=None)

        def cdn(name):
            return [q for q in self.hub.log if q.server == "cdn" and q.file_path == name]

        def most_at_once(reqs):
            events = sorted([(q.time, 1) for q in reqs] + [(q.end, -1) for q in reqs])
            cur = best = 0
            for _, d in events:
                cur += d
                best = max(best, cur)
            return best

        for threads, a_most in (("2", 4), ("1", 8)):
            self.hub.clear_log()
            self.ok("download", "acme/two", "--force", "--max-workers", "8", "--connections",
                    "8", env=dict(RANGED, MSCLI_HASH_THREADS=threads))
            for name, data in files.items():
                with open(os.path.join(self.ms_repo_dir("acme/two"), name), "rb") as f:
                    self.assertEqual(sha256(f.read()), sha256(data), name)
            a, b = cdn("a.bin"), cdn("b.bin")
            self.assertEqual((len(a), len(b)), (12, 23))  # MiB chunks
            self.assertEqual(most_at_once(a), a_most, threads)
            if threads == "2":  # b came while a was still coming
                self.assertLess(min(q.time for q in b), max(q.time for q in a))
            self.assertLessEqual(self.hub.max_concurrent("cdn"), 8)

    def test_server_ignores_range_midway(self):
        big = blob(8_000_000, 64)
        self.hub.add_ms_repo("acme/ir", files={"big.bin": big})
        self.hub.fault("ignore_range", path="big.bin", times=1)
        r = self.ok("-v", "download", "acme/ir", env=RANGED)
        self.assertIn("ignores Range", r.err)
        with open(os.path.join(self.ms_repo_dir("acme/ir"), "big.bin"), "rb") as f:
            self.assertEqual(sha256(f.read()), sha256(big))

    def test_resume_keeps_chunk_state_across_option_changes(self):
        """A ranged partial is finished with the layout it was started in."""
        import signal
        big = blob(10_000_000, 65)
        self.hub.add_ms_repo("acme/opt", files={"big.bin": big})
        self.hub.fault("trickle", path="big.bin", rate=3_000_000, times=None)
        p = self.spawn("download", "acme/opt", env=RANGED)
        self.wait_for(lambda: self.hub.body_bytes("big.bin") > 4_000_000, 60, "bytes")
        p.send_signal(signal.SIGKILL)
        p.communicate()  # reaps it and closes its pipes
        self.hub.clear_faults()
        self.ok("download", "acme/opt", "--connections", "1")
        with open(os.path.join(self.ms_repo_dir("acme/opt"), "big.bin"), "rb") as f:
            self.assertEqual(sha256(f.read()), sha256(big))
        self.assertLess(self.hub.body_bytes("big.bin"), 1.5 * len(big))


@unittest.skipUnless(Nginx.available(), "nginx is not installed")
class NginxCDN(Case):
    cdn = False

    def setUp(self):
        super().setUp()
        self.files = {"w.bin": blob(9_000_000, 71), "sub/c.json": b'{"x": 1}\n'}
        self.root = write_files(os.path.join(self.tmp, "www"), self.files)

    def serve(self, tls, http2=False):
        n = Nginx(self.root, tls=tls, http2=http2)
        self.addCleanup(n.stop)
        self.hub.stop()
        from hubemu import Hub
        self.hub = Hub(cdn_base=n.url)
        self.addCleanup(self.hub.stop)
        self.env["MODELSCOPE_ENDPOINT"] = self.hub.url
        self.hub.add_ms_repo("acme/cdn", files={p: FileRef(os.path.join(self.root, p))
                                                 for p in self.files})
        return n

    def check_files(self):
        d = self.ms_repo_dir("acme/cdn")
        for p, data in self.files.items():
            with open(os.path.join(d, p), "rb") as f:
                self.assertEqual(f.read(), data)

    def test_plain_http(self):
        n = self.serve(tls=False)
        self.ok("download", "acme/cdn", env=RANGED)
        self.check_files()
        log = n.access_log()
        self.assertTrue(any(r[2] == 206 for r in log), log)
        self.assertTrue(all(r[5] == "-" for r in log))  # no Authorization reached the CDN

    def test_tls_verified_and_http2(self):
        n = self.serve(tls=True, http2=True)
        # TLS verification is on: an unknown CA is refused, clearly, without retrying forever
        r = self.fails(3, "--retries", "1", "download", "acme/cdn")
        self.assertRegex(r.err, "(?i)certificate")
        self.ok("download", "acme/cdn", env=dict(RANGED, CURL_CA_BUNDLE=n.cert))
        self.check_files()
        # the server offers HTTP/2 (ALPN); a big file's ranges and the small files go
        # over HTTP/1.1, a kept connection per transfer: fewer connections than requests
        served = [r for r in n.access_log() if r[2] in (200, 206)]
        self.assertEqual({r[6] for r in served}, {"HTTP/1.1"})
        self.assertTrue(any(r[2] == 206 for r in served if r[1].endswith("/w.bin")), served)
        self.assertTrue(any(r[1].endswith("/c.json") for r in served), served)
        _, conns = n.conn_log()
        self.assertLess(len({c for c, _ in conns}), len(conns))
