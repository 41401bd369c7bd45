"""TLS with a private CA.  nginx serves the files the hub redirects to (the CDN) over
HTTPS with HTTP/2, with certificates from a CA this test makes with openssl: downloads
work with every way of giving the CA (--cacert, CURL_CA_BUNDLE, REQUESTS_CA_BUNDLE,
SSL_CERT_FILE, SSL_CERT_DIR) in their order of precedence, and fail cleanly -- exit 3,
one line naming the host, the reason and how to give a CA, no retry -- without it, for
another host name, and when the certificate has expired."""
import ctypes
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
import unittest

from support import (ROOT, SLOW, VALGRIND, Case, FileRef, blob, command, strace_works,
                     write_files)

sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
from certs import CA, WithCA  # noqa: E402
from nginx import Nginx  # noqa: E402

RANGED = {"MSCLI_RANGE_THRESHOLD": "2M", "MSCLI_CHUNK_SIZE": "1M"}


class Opens:
    """Counts the times a file is opened (inotify IN_OPEN), by anyone, while watched.
    Closes are watched too: inotify merges an event into an identical one still unread."""

    IN_CLOSE_NOWRITE, IN_OPEN, IN_NONBLOCK = 0x10, 0x20, 0o4000

    def __init__(self, path):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(self.IN_NONBLOCK)
        if self.fd < 0 or self.libc.inotify_add_watch(
                self.fd, os.fsencode(path), self.IN_OPEN | self.IN_CLOSE_NOWRITE) < 0:
            raise OSError(ctypes.get_errno(), "inotify on %s" % path)

    def count(self):
        n = 0
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return n
            while buf:  # struct inotify_event: wd, mask, cookie, len, name[len]
                _, mask, _, size = struct.unpack_from("iIII", buf)
                n += bool(mask & self.IN_OPEN)
                buf = buf[16 + size:]

    def close(self):
        os.close(self.fd)


@unittest.skipUnless(Nginx.available() and shutil.which("openssl"), "needs nginx and openssl")
class PrivateCA(WithCA, Case):
    cdn = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_ca = CA(os.path.join(cls.pki, "other"), name="another CA")
        cls.good = cls.ca.issue()
        cls.wrong_host = cls.ca.issue(names=("files.example.com",))
        cls.expired = cls.ca.issue(expired=True)
        cls.ca_dir = cls.ca.hashed_dir(os.path.join(cls.pki, "hashed"))

    def setUp(self):
        super().setUp()
        self.files = {"w.bin": blob(5_000_000, 81), "sub/c.json": b'{"x": 1}\n'}
        self.root = write_files(os.path.join(self.tmp, "www"), self.files)

    def serve(self, cert):
        """nginx over HTTPS (HTTP/2) with cert, and a hub that redirects every file there."""
        self.nginx = Nginx(self.root, http2=True, cert=cert)
        self.addCleanup(self.nginx.stop)
        self.hub.stop()
        from hubemu import Hub
        self.hub = Hub(cdn_base=self.nginx.url)
        self.addCleanup(self.hub.stop)
        self.env["MODELSCOPE_ENDPOINT"] = self.env["HF_ENDPOINT"] = self.hub.url
        refs = {p: FileRef(os.path.join(self.root, p)) for p in self.files}
        self.hub.add_ms_repo("acme/tls", files=refs)
        # every file LFS: each one goes to the CDN, as on the Hub
        self.hub.add_hf_repo("org/tls", files=refs, lfs=lambda path, size: True)

    def cache_dir(self, name):
        return os.path.join(self.tmp, "cache-" + name)

    def check_files(self, folder):
        for p, data in self.files.items():
            path = os.path.join(folder, p)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), data, path)

    def download(self, name, *args, env=None, hub="ms"):
        repo = "acme/tls" if hub == "ms" else "hf:org/tls"
        return self.mscli("--cache-dir", self.cache_dir(name), *args, "download", repo,
                          env=dict(RANGED, **(env or {})))

    def assert_clean_failure(self, r, *phrases):
        """Exit 3, one error line naming the host and the phrases, and no retry."""
        self.assertEqual(r.rc, 3, r)
        self.assertEqual(len(r.errors), 1, r)
        self.assertIn("localhost:%d" % self.nginx.port, r.errors[0])
        for p in phrases:
            self.assertIn(p, r.errors[0])
        self.assertNotIn("retrying", r.err)

    def test_every_way_of_giving_the_ca(self):
        self.serve(self.good)
        ways = {"--cacert": (["--cacert", self.ca.cert], {}),
                "CURL_CA_BUNDLE": ([], {"CURL_CA_BUNDLE": self.ca.cert}),
                "REQUESTS_CA_BUNDLE": ([], {"REQUESTS_CA_BUNDLE": self.ca.cert}),
                "SSL_CERT_FILE": ([], {"SSL_CERT_FILE": self.ca.cert}),
                "SSL_CERT_DIR": ([], {"SSL_CERT_DIR": self.ca_dir})}
        for name, (args, env) in ways.items():
            with self.subTest(way=name):
                r = self.download(name, *args, env=env)
                self.assertEqual(r.rc, 0, r)
                self.check_files(r.lines[0])
        # Hugging Face through the same CDN
        r = self.download("hf", "--cacert", self.ca.cert, hub="hf")
        self.assertEqual(r.rc, 0, r)
        self.check_files(r.lines[0])
        served = [l for l in self.nginx.access_log() if l[2] in (200, 206)]
        self.assertGreaterEqual(len(served), 6 * len(self.files))
        self.assertTrue(any(l[2] == 206 for l in served))  # w.bin came in ranges
        # nginx offers HTTP/2; the ranges and the small files alike go over HTTP/1.1
        self.assertEqual({l[6] for l in served}, {"HTTP/1.1"})

    @unittest.skipIf(VALGRIND, "strace under valgrind traces valgrind")
    def test_records_are_read_ahead(self):
        """Over TLS a connection is read many records at a time (MSCLI_TLS_READ_AHEAD),
        where libcurl alone makes two recv() per 16 KiB record, and the records read ahead
        that wake no socket still reach the file: every download completes, the last
        records of every response included.  MSCLI_TLS_READ_AHEAD=0 shows the count
        without it."""
        if not strace_works():
            self.skipTest("strace cannot trace here")
        self.files = {"big.bin": blob(6_000_000, 7)}
        self.files.update({"s/%03d.json" % i: blob(3000 + 977 * i, i) for i in range(40)})
        self.root = write_files(os.path.join(self.tmp, "www"), self.files)
        self.serve(self.good)
        records = sum(-(-len(d) // 16384) for d in self.files.values())
        counts = {}
        for ahead in ("128K", "0"):
            trace = os.path.join(self.tmp, "strace-" + ahead)
            env = dict(self.env, MSCLI_TLS_READ_AHEAD=ahead, **RANGED)
            # LeakSanitizer cannot run under ptrace: the rest of ASan still does
            env["ASAN_OPTIONS"] = ":".join(
                o for o in (env.get("ASAN_OPTIONS"), "detect_leaks=0") if o)
            p = subprocess.run(
                ["strace", "-f", "-qq", "-e", "trace=recvfrom,recvmsg,read", "-o", trace]
                + command(["--cacert", self.ca.cert, "--cache-dir",
                           self.cache_dir(ahead), "download", "acme/tls"]),
                env=env, capture_output=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr.decode())
            self.check_files(p.stdout.decode().splitlines()[0])
            with open(trace) as f:
                counts[ahead] = sum("recvfrom(" in line and "EAGAIN" not in line
                                    for line in f)
        self.assertGreaterEqual(counts["0"], 2 * records, counts)
        self.assertLess(counts["128K"], records // 2, counts)

    def test_the_ca_file_is_read_once_per_run(self):
        """Not once per TLS connection (libcurl's way when a CA directory is set too, as
        Debian's libcurl has by default): ~19 ms of CPU each for a system bundle."""
        self.files = {"f%02d.bin" % i: blob(1_000_000 + i, i) for i in range(12)}
        self.root = write_files(os.path.join(self.tmp, "www"), self.files)
        self.serve(self.good)
        bundle = os.path.join(self.tmp, "bundle.pem")
        shutil.copy(self.ca.cert, bundle)
        offset = 0
        for name, env in (("file", {"CURL_CA_BUNDLE": bundle}),
                          ("file+dir", {"CURL_CA_BUNDLE": bundle, "SSL_CERT_DIR": self.ca_dir})):
            with self.subTest(way=name):
                opens = Opens(bundle)
                self.addCleanup(opens.close)
                r = self.mscli("--cache-dir", self.cache_dir(name), "download", "acme/tls",
                               "--max-workers", "4", env=env)
                self.assertEqual(r.rc, 0, r)
                self.check_files(r.lines[0])
                conns = {c for c, _ in self.nginx.conn_log(offset)[1]}
                offset = self.nginx.conn_log()[0]
                self.assertGreaterEqual(len(conns), 2, conns)  # more than one TLS connection
                self.assertEqual(opens.count(), 1)

    def test_precedence(self):
        """--cacert, then CURL_CA_BUNDLE, REQUESTS_CA_BUNDLE, SSL_CERT_FILE: the first one
        set is the CA file; SSL_CERT_DIR adds a directory to it."""
        self.serve(self.good)
        good, other = self.ca.cert, self.other_ca.cert
        order = ["CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"]
        r = self.download("opt", "--cacert", good, env={v: other for v in order})
        self.assertEqual(r.rc, 0, r)
        r = self.download("opt-bad", "--cacert", other, env={v: good for v in order})
        self.assert_clean_failure(r, "'%s' (--cacert)" % other)
        for i, var in enumerate(order):
            with self.subTest(var=var):
                later = {v: other for v in order[i + 1:]}
                r = self.download(var, env=dict(later, **{var: good}))
                self.assertEqual(r.rc, 0, r)
                env = {v: good for v in order[i + 1:]}
                env[var] = other
                r = self.download(var + "-bad", env=env)
                self.assert_clean_failure(r, "'%s' (%s)" % (other, var))
        # empty is unset: it never turns verification off (as it did in old requests)
        r = self.download("empty", env={"CURL_CA_BUNDLE": "", "REQUESTS_CA_BUNDLE": ""})
        self.assert_clean_failure(r, "does not verify with the system's CAs")
        r = self.download("empty-next", env={"CURL_CA_BUNDLE": "", "SSL_CERT_FILE": good})
        self.assertEqual(r.rc, 0, r)
        # a directory adds to the file: the right CA in either is enough
        r = self.download("dir", env={"SSL_CERT_FILE": other, "SSL_CERT_DIR": self.ca_dir})
        self.assertEqual(r.rc, 0, r)

    def test_ssl_cert_dir_with_two_directories(self):
        """SSL_CERT_DIR is a list, as OpenSSL reads it: the right CA in either directory
        is enough, in neither is a clean failure."""
        self.serve(self.good)
        other = self.other_ca.hashed_dir(os.path.join(self.tmp, "other-hashed"))
        for name, dirs in (("first", [self.ca_dir, other]), ("second", [other, self.ca_dir])):
            with self.subTest(order=name):
                r = self.download("dirs-" + name, env={"SSL_CERT_DIR": ":".join(dirs)})
                self.assertEqual(r.rc, 0, r)
                self.check_files(r.lines[0])
        r = self.download("dirs-none", env={"SSL_CERT_DIR": other + ":" + self.tmp})
        self.assert_clean_failure(r, "does not verify", "SSL_CERT_DIR " + other)

    def test_the_hub_api_over_https(self):
        """The hub itself over HTTPS with the private CA (the emulator behind nginx), as
        every real hub is: the listing, the API and the files all verify with it."""
        self.serve(self.good)
        api = Nginx(self.root, cert=self.good, proxy_to=self.hub.url)
        self.addCleanup(api.stop)
        env = {"MODELSCOPE_ENDPOINT": api.url, "HF_ENDPOINT": api.url}
        for hub in ("ms", "hf"):
            with self.subTest(hub=hub):
                r = self.download("api-" + hub, "--cacert", self.ca.cert, env=env, hub=hub)
                self.assertEqual(r.rc, 0, r)
                self.check_files(r.lines[0])
        asked = [l for l in api.access_log() if l[2] == 200]
        self.assertTrue(any(l[1].startswith("/api/") for l in asked), asked)
        r = self.download("api-none", env=env)
        self.assertEqual(r.rc, 3, r)
        self.assertEqual(len(r.errors), 1, r)
        self.assertIn("localhost:%d" % api.port, r.errors[0])
        self.assertIn("does not verify", r.errors[0])

    def test_a_handshake_that_never_finishes(self):
        """A CDN that takes the connection and never says a word of TLS: exit 3 within
        --connect-timeout (the handshake is part of connecting), the host named."""
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        self.addCleanup(s.close)
        host = "localhost:%d" % s.getsockname()[1]
        self.hub.stop()
        from hubemu import Hub
        self.hub = Hub(cdn_base="https://" + host)
        self.addCleanup(self.hub.stop)
        self.env["MODELSCOPE_ENDPOINT"] = self.env["HF_ENDPOINT"] = self.hub.url
        self.hub.add_ms_repo("acme/tls", files=self.files)
        self.hub.add_hf_repo("org/tls", files=self.files, lfs=lambda path, size: True)
        for hub in ("ms", "hf"):
            with self.subTest(hub=hub):
                t0 = time.monotonic()
                r = self.download("mute-" + hub, "--connect-timeout", "2", "--retries", "1",
                                  "--cacert", self.ca.cert, hub=hub)
                self.assertEqual(r.rc, 3, r)
                self.assertLess(time.monotonic() - t0, 20 * SLOW)
                self.assertEqual(len(r.errors), 1, r)
                self.assertIn(host, r.errors[0])

    def test_without_the_ca(self):
        self.serve(self.good)
        t0 = time.monotonic()
        r = self.download("none", "--retries", "3")
        self.assert_clean_failure(r, "does not verify with the system's CAs",
                                  "unable to get local issuer certificate", "--cacert FILE",
                                  "SSL_CERT_DIR")
        self.assertLess(time.monotonic() - t0, 20 * SLOW)
        # nothing was kept where a loader would look, nor as a partial
        self.assertEqual(self.hub.body_bytes(), 0)
        self.assertFalse(os.path.exists(os.path.join(self.cache_dir("none"), "models", "acme",
                                                     "tls", "w.bin")))
        r = self.download("none-hf", hub="hf")
        self.assert_clean_failure(r, "does not verify", "--cacert FILE")

    def test_a_certificate_failure_stops_the_run(self):
        """Every other file goes to the same CDN with the same CAs: the first failure ends
        the run (before, 2000 files made 2000 handshakes, 43 s, to say the same)."""
        self.files = {"f%02d.bin" % i: blob(1000 + i, i) for i in range(40)}
        self.root = write_files(os.path.join(self.tmp, "www"), self.files)
        self.serve(self.good)
        self.hub.clear_log()
        r = self.mscli("--cache-dir", self.cache_dir("many"), "download", "acme/tls",
                       "--max-workers", "2")
        self.assert_clean_failure(r, "does not verify")
        # the files in flight fail with it ("and N more"), the rest are stopped
        stopped = re.search(r"(\d+) other file\(s\) were stopped: they would fail the same "
                            r"way", r.err)
        more = re.search(r"\(and (\d+) more file\(s\) failed the same way\)", r.err)
        self.assertTrue(stopped, r)
        self.assertEqual(int(stopped.group(1)) + (int(more.group(1)) if more else 0), 39, r)
        asked = [q for q in self.hub.log if q.file_path]
        self.assertLessEqual(len(asked), 4, asked)  # not 40

    def test_an_upload_stops_at_a_storage_certificate_failure(self):
        """The objects' PUTs go to one storage host with one CA set: the first that does
        not verify ends the upload, not one handshake per object."""
        store = os.path.join(self.tmp, "store")
        self.nginx = Nginx(self.root, http2=True, cert=self.good, upload_root=store,
                           error_level="info")
        self.addCleanup(self.nginx.stop)
        self.hub.stop()
        from hubemu import Hub
        self.hub = Hub(upload_base=self.nginx.url, upload_dir=store)
        self.addCleanup(self.hub.stop)
        src = write_files(os.path.join(self.tmp, "src"),
                          {"w%02d.safetensors" % i: blob(5000 + i, i) for i in range(30)})
        r = self.mscli("--endpoint", self.hub.url, "--token", "ms-goodtoken", "upload",
                       "alice/tls-up", src, "--max-workers", "2")
        self.assert_clean_failure(r, "does not verify")
        self.assertLessEqual(self.nginx.handshake_failures(), 4)  # not 30
        self.assertEqual(self.hub.upload_commits(repo="alice/tls-up"), [])

    def test_another_host_name(self):
        self.serve(self.wrong_host)
        r = self.download("host", "--cacert", self.ca.cert)
        self.assert_clean_failure(r, "is for another host name", "'localhost'")

    def test_expired_certificate(self):
        self.serve(self.expired)
        r = self.download("expired", "--cacert", self.ca.cert)
        self.assert_clean_failure(r, "validity dates", "expired")

    def test_a_ca_that_cannot_be_read_is_a_usage_error(self):
        self.serve(self.good)
        missing = os.path.join(self.tmp, "missing.pem")
        for args, env, says in ((["--cacert", missing], {}, "--cacert"),
                                ([], {"REQUESTS_CA_BUNDLE": missing}, "REQUESTS_CA_BUNDLE"),
                                ([], {"SSL_CERT_FILE": self.tmp}, "is a directory"),
                                ([], {"SSL_CERT_DIR": missing}, "SSL_CERT_DIR")):
            with self.subTest(says=says):
                self.hub.clear_log()
                r = self.download("bad", *args, env=env)
                self.assertEqual(r.rc, 2, r)
                self.assertIn(says, r.errors[0])
                self.assertEqual(self.hub.log, [])     # said before any request
        # offline, no CA is needed: a stale variable does not get in the way
        self.assertEqual(self.download("warm", "--cacert", self.ca.cert).rc, 0)
        r = self.download("warm", "--offline", env={"SSL_CERT_FILE": missing})
        self.assertEqual(r.rc, 0, r)

    def test_help_and_verbose(self):
        out = self.ok("--help").out
        self.assertIn("--cacert FILE", out)
        for var in ("https_proxy", "no_proxy", "REQUESTS_CA_BUNDLE", "SSL_CERT_DIR"):
            self.assertIn(var, out)
        self.serve(self.good)
        r = self.download("v", "-v", env={"CURL_CA_BUNDLE": self.ca.cert})
        self.assertEqual(r.rc, 0, r)
        self.assertIn("> GET https://localhost:%d/" % self.nginx.port, r.err)
