"""Hostile and broken servers, beyond the faults of test_ms_faults.py: one that never
answers (the connect and stall timeouts apply: exit 3), one whose headers or JSON
listing never end (memory stays bounded: exit 1), a redirect to file:// or another
scheme that is not HTTP (refused: exit 1), a Content-Length larger than the listing's
size (refused before a byte is written: exit 4)."""
import os
import socket
import subprocess
import time

from support import SLOW, VALGRIND, Case, blob, command, sha256

FILES = {"w.bin": blob(2_000_000, 101), "config.json": b'{"h": 1}\n'}


class Hostile(Case):
    def setUp(self):
        super().setUp()
        self.hub.add_ms_repo("acme/h", files=FILES)
        self.hf = self.hub.add_hf_repo("org/h", files=FILES, lfs=lambda path, size: size > 1000)

    def one_error(self, code, *args, took=None, **kw):
        """Exit code, one error line (returned), within `took` seconds."""
        t0 = time.monotonic()
        r = self.mscli(*args, **kw)
        self.assertEqual(r.rc, code, r)
        self.assertEqual(len(r.errors), 1, r)
        if took:
            self.assertLess(time.monotonic() - t0, took * SLOW, r)
        return r.errors[0]

    def peak_rss_mib(self, *args):
        """Run mscli; (exit code, stderr, its peak resident memory in MiB)."""
        p = subprocess.Popen(command(["--retries", "0"] + list(args)), env=self.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        peak = 0
        while p.poll() is None:
            try:
                with open("/proc/%d/status" % p.pid) as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            peak = max(peak, int(line.split()[1]) // 1024)
            except OSError:
                pass
            time.sleep(0.02)
        err = p.stderr.read().decode()
        p.stderr.close()
        return p.returncode, err, peak

    def test_connect_timeout(self):
        """A listener whose queue is full: the handshake never completes."""
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(0)
        self.addCleanup(s.close)
        filler = socket.create_connection(s.getsockname())  # the one place in the queue
        self.addCleanup(filler.close)
        url = "http://127.0.0.1:%d" % s.getsockname()[1]
        line = self.one_error(3, "--connect-timeout", "1", "--retries", "1", "download",
                              "acme/h", env={"MODELSCOPE_ENDPOINT": url}, took=15)
        self.assertIn("--connect-timeout 1", line)
        self.assertIn(url, line)

    def test_server_that_never_answers(self):
        # the hub reads the request and says nothing
        self.hub.fault("hang", path="/repo/files", seconds=60, times=None)
        line = self.one_error(3, "--stall-timeout", "2", "--retries", "1", "download",
                              "acme/h", took=20)
        self.assertIn("--stall-timeout 2", line)
        self.assertIn("/repo/files", line)
        # the CDN does, for every file
        self.hub.clear_faults()
        self.hub.fault("hang", server="cdn", seconds=60, times=None)
        for repo in ("acme/h", "hf:org/h"):
            line = self.one_error(3, "--stall-timeout", "2", "--retries", "1", "download",
                                  repo, took=25)
            self.assertIn("no data for 2 s (--stall-timeout)", line)

    def test_endless_headers(self):
        for line_only in (False, True):
            for where, server, repo in (("/repo/files", "hub", "acme/h"),
                                        ("w.bin", "cdn", "acme/h"),
                                        ("/tree/", "hub", "hf:org/h")):
                with self.subTest(line=line_only, where=where):
                    self.hub.clear_faults()
                    self.hub.fault("endless_headers", path=where, server=server,
                                   line=line_only, times=None)
                    line = self.one_error(1, "download", repo, took=20)
                    self.assertIn("headers larger than 256 KiB", line)
        self.hub.clear_faults()
        self.ok("download", "acme/h")

    def test_endless_json_listing(self):
        for where, repo in (("/repo/files", "acme/h"), ("/tree/", "hf:org/h")):
            with self.subTest(repo=repo):
                self.hub.clear_faults()
                self.hub.fault("oversized_json", path=where, endless=True, times=None)
                t0 = time.monotonic()
                rc, err, peak = self.peak_rss_mib("download", repo)
                self.assertEqual(rc, 1, err)
                self.assertIn("is larger than 67108864 bytes", err)
                self.assertLess(time.monotonic() - t0, 60 * SLOW)
                # 64 MiB of answer at most, and what the allocator keeps of it (valgrind
                # counts its own memory too)
                self.assertLess(peak, 1200 if VALGRIND else 400, "peak RSS %d MiB" % peak)
                self.assertEqual(self.hub.body_bytes(), 0)
        # an answer that says in advance it is too large is refused before its body
        self.hub.clear_faults()
        self.hub.clear_log()
        self.hub.fault("oversized_json", path="/repo/files", mb=1000)
        r = self.fails(1, "download", "acme/h")
        self.assertIn("is larger than", r.err)
        listing = [q for q in self.hub.log if "/repo/files" in q.path][0]
        self.assertLess(listing.response_bytes, 32 << 20)

    def test_redirect_to_another_scheme_is_refused(self):
        for target in ("file:///etc/passwd", "ftp://127.0.0.1/etc/passwd",
                       "gopher://127.0.0.1:70/x"):
            with self.subTest(target=target):
                # the hub's file URL (ModelScope), the API itself, HF's resolve
                for where, server, method, repo in (
                        ("w.bin", "hub", None, "acme/h"),
                        ("/repo/files", "hub", None, "acme/h"),
                        ("w.bin", "hub", None, "hf:org/h"),
                        ("w.bin", "hub", "HEAD", "hf:org/h")):
                    self.hub.clear_faults()
                    headers = {"Location": target}
                    if method == "HEAD":                 # all a HEAD needs to say, but where
                        headers.update({"X-Linked-Size": str(len(FILES["w.bin"])),
                                        "X-Linked-Etag": '"%s"' % sha256(FILES["w.bin"]),
                                        "X-Repo-Commit": self.hf.commit})
                    self.hub.fault("status", code=302, path=where, server=server,
                                   method=method, headers=headers, times=None, body="")
                    args = ["download", repo] + (["w.bin"] if method == "HEAD" else [])
                    line = self.one_error(1, *args, took=20)
                    self.assertIn("redirects to '%s', which is not an http(s) URL: refused"
                                  % target, line)
        self.hub.clear_faults()
        for root, _, names in os.walk(self.tmp):
            for n in names:
                with open(os.path.join(root, n), "rb") as f:
                    self.assertNotIn(b"root:x:0:0", f.read())

    def test_content_length_larger_than_the_listing(self):
        size = len(FILES["w.bin"])
        for length in (size + 1, 10 ** 12):
            with self.subTest(length=length):
                self.hub.clear_faults()
                self.hub.clear_log()
                self.hub.fault("lying_length", path="w.bin", length=length, times=None)
                line = self.one_error(4, "download", "acme/h", took=30)
                self.assertIn("size mismatch for 'w.bin': the listing says %d bytes" % size,
                              line)
                self.assertIn("Content-Length %d" % length, line)
                # refused at its first bytes, once and once more: nothing like the length
                self.assertLess(self.hub.body_bytes("w.bin"), 8 * size)
                temp = os.path.join(self.cache, "models", "._____temp", "acme", "h", "w.bin")
                self.assertLessEqual(os.path.getsize(temp) if os.path.exists(temp) else 0,
                                     size)
                self.assertFalse(os.path.exists(os.path.join(self.ms_repo_dir("acme/h"),
                                                             "w.bin")))
        self.hub.clear_faults()
        self.ok("download", "acme/h")

    def test_content_length_larger_than_the_listing_hf(self):
        """The same for Hugging Face: the tree's size against the CDN's Content-Length."""
        size = len(FILES["w.bin"])
        folder = os.path.join(self.tmp, "hf", "models--org--h")
        for length in (size + 1, 10 ** 12):
            with self.subTest(length=length):
                self.hub.clear_faults()
                self.hub.clear_log()
                self.hub.fault("lying_length", path="w.bin", length=length, times=None)
                line = self.one_error(4, "--hub", "hf", "download", "org/h", took=30,
                                      env={"HF_HUB_CACHE": os.path.join(self.tmp, "hf")})
                self.assertIn("size mismatch for 'w.bin'", line)
                self.assertIn("Content-Length %d" % length, line)
                self.assertLess(self.hub.body_bytes("w.bin"), 8 * size)
                # no blob, no link: at most a partial no larger than the file
                snap = os.path.join(folder, "snapshots", self.hf.commit, "w.bin")
                self.assertFalse(os.path.lexists(snap))
                blobs = os.path.join(folder, "blobs")
                for n in os.listdir(blobs) if os.path.isdir(blobs) else []:
                    self.assertLessEqual(os.path.getsize(os.path.join(blobs, n)), size, n)
                    if os.path.getsize(os.path.join(blobs, n)) >= size:
                        self.assertTrue(n.endswith(".incomplete"), n)
        self.hub.clear_faults()
        self.ok("--hub", "hf", "download", "org/h", env={"HF_HUB_CACHE": os.path.join(
            self.tmp, "hf")})
