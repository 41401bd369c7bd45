"""Proxies, through a real forward proxy on loopback (tinyproxy, started here): the
hub's API (plain HTTP, forwarded) and the CDN (nginx over HTTPS with HTTP/2: a CONNECT
tunnel) reached through it as HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and their lower-case
forms say; NO_PROXY; credentials in the proxy's URL that never reach the output; and a
proxy that is down or refuses: exit 3 at once, one line that names the proxy."""
import os
import shutil
import socket
import sys
import time
import unittest

from support import ROOT, SLOW, Case, FileRef, blob, write_files

sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
from certs import WithCA  # noqa: E402
from nginx import Nginx, free_port  # noqa: E402
from tinyproxy import Tinyproxy  # noqa: E402

PROXY_VARS = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
              "ALL_PROXY", "no_proxy", "NO_PROXY", "REQUEST_METHOD")


@unittest.skipUnless(Tinyproxy.available() and Nginx.available() and shutil.which("openssl"),
                     "needs tinyproxy, nginx and openssl")
class ThroughAProxy(WithCA, Case):
    cdn = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cert = cls.ca.issue()

    def setUp(self):
        super().setUp()
        self.files = {"w.bin": blob(3_000_000, 91), "config.json": b'{"p": 1}\n'}
        self.root = root = write_files(os.path.join(self.tmp, "www"), self.files)
        self.nginx = Nginx(root, http2=True, cert=self.cert)
        self.addCleanup(self.nginx.stop)
        self.hub.stop()
        from hubemu import Hub
        self.hub = Hub(cdn_base=self.nginx.url)
        self.addCleanup(self.hub.stop)
        self.env["MODELSCOPE_ENDPOINT"] = self.env["HF_ENDPOINT"] = self.hub.url
        self.env["CURL_CA_BUNDLE"] = self.ca.cert
        refs = {p: FileRef(os.path.join(root, p)) for p in self.files}
        self.hub.add_ms_repo("acme/px", files=refs)
        self.hub.add_hf_repo("org/px", files=refs, lfs=lambda path, size: True)
        self.hub_hostport = self.hub.url.split("//")[1]
        self.cdn_hostport = "localhost:%d" % self.nginx.port
        for v in PROXY_VARS:
            self.assertNotIn(v, self.env)

    def proxy(self, **kw):
        p = Tinyproxy(**kw)
        self.addCleanup(p.stop)
        return p

    def download(self, name, *args, env=None, hub="ms", fast_retry=True):
        repo = "acme/px" if hub == "ms" else "hf:org/px"
        return self.mscli("--cache-dir", os.path.join(self.tmp, "cache-" + name), *args,
                          "download", repo, env=env, fast_retry=fast_retry)

    def check_files(self, folder):
        for p, data in self.files.items():
            with open(os.path.join(folder, p), "rb") as f:
                self.assertEqual(f.read(), data, p)

    def tunnels(self, proxy):
        return [t for m, t in proxy.requests() if m == "CONNECT"]

    def forwarded(self, proxy):
        return [t for m, t in proxy.requests() if m != "CONNECT"]

    def test_download_through_the_proxy(self):
        proxy = self.proxy()
        for name, env in (("upper", {"HTTPS_PROXY": proxy.url, "HTTP_PROXY": proxy.url}),
                          ("lower", {"https_proxy": proxy.url, "http_proxy": proxy.url}),
                          ("all", {"ALL_PROXY": proxy.url}),
                          ("all-lower", {"all_proxy": proxy.url})):
            for hub in ("ms", "hf"):
                with self.subTest(vars=name, hub=hub):
                    before = len(proxy.requests())
                    r = self.download(name + hub, "-v", env=env, hub=hub)
                    self.assertEqual(r.rc, 0, r)
                    self.check_files(r.lines[0])
                    asked = proxy.requests()[before:]
                    # the API forwarded, every file through a tunnel to the CDN
                    self.assertTrue(any(t.startswith("http://%s/api/" % self.hub_hostport)
                                        for m, t in asked if m == "GET"), asked)
                    self.assertIn(("CONNECT", self.cdn_hostport), asked)
                    # -v says what went through the proxy, and from which variable
                    via = r"through proxy http://127\.0\.0\.1:%d \((%s)\): " % (
                        proxy.port, "|".join(env))
                    self.assertRegex(r.err, via + "http://%s/api/" % self.hub_hostport)
                    self.assertRegex(r.err, via + "https://%s/" % self.cdn_hostport)
        served = [l for l in self.nginx.access_log() if l[2] in (200, 206)]
        # TLS end to end inside the tunnel, to a server that offers HTTP/2: every file
        # over HTTP/1.1 (a kept connection per transfer), small and big alike
        self.assertEqual({l[6] for l in served}, {"HTTP/1.1"})
        self.assertTrue(any(l[1].endswith("/config.json") for l in served), served)
        self.assertEqual(len(served), 8 * len(self.files))

    def test_lower_case_wins(self):
        """Both cases set to different proxies: the lower-case one is used (curl's rule),
        the upper-case one (down) never tried."""
        proxy = self.proxy()
        down = "http://127.0.0.1:%d" % free_port()
        env = {"https_proxy": proxy.url, "HTTPS_PROXY": down, "http_proxy": proxy.url,
               "HTTP_PROXY": down, "all_proxy": proxy.url, "ALL_PROXY": down}
        for hub in ("ms", "hf"):
            with self.subTest(hub=hub):
                r = self.download("lower" + hub, "-v", env=env, hub=hub)
                self.assertEqual(r.rc, 0, r)
                self.check_files(r.lines[0])
                self.assertIn("through proxy %s (http_proxy): http://" % proxy.url, r.err)
                self.assertIn("through proxy %s (https_proxy): https://" % proxy.url, r.err)
                self.assertNotIn(down, r.err)
        self.assertIn(self.cdn_hostport, self.tunnels(proxy))

    def test_no_proxy_network_range(self):
        """NO_PROXY with a CIDR range: the hub (127.0.0.1) is in it and reached directly;
        the CDN, named localhost, is not an address in the range and goes through."""
        proxy = self.proxy()
        both = {"HTTPS_PROXY": proxy.url, "HTTP_PROXY": proxy.url}
        for var in ("NO_PROXY", "no_proxy"):
            with self.subTest(var=var):
                before = len(proxy.requests())
                r = self.download("cidr" + var, env=dict(both, **{var: "10.0.0.0/8,127.0.0.0/8"}))
                self.assertEqual(r.rc, 0, r)
                self.check_files(r.lines[0])
                asked = proxy.requests()[before:]
                self.assertEqual([t for m, t in asked if m != "CONNECT"], [])
                self.assertIn(("CONNECT", self.cdn_hostport), asked)
        # a range that does not hold the hub: the API is forwarded
        before = len(proxy.requests())
        r = self.download("cidr-out", env=dict(both, NO_PROXY="127.1.0.0/16"))
        self.assertEqual(r.rc, 0, r)
        self.assertTrue(any(m == "GET" for m, _ in proxy.requests()[before:]))

    def test_no_proxy(self):
        proxy = self.proxy()
        both = {"HTTPS_PROXY": proxy.url, "HTTP_PROXY": proxy.url}
        r = self.download("hub", env=dict(both, NO_PROXY="127.0.0.1"))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.forwarded(proxy), [])              # the hub directly
        self.assertEqual(set(self.tunnels(proxy)), {self.cdn_hostport})
        # every host bypassed: a proxy that is down does not matter
        proxy.stop()
        for var in ("NO_PROXY", "no_proxy"):
            r = self.download("none" + var, env=dict(both, **{var: "localhost, .localhost,127.0.0.1"}))
            self.assertEqual(r.rc, 0, r)
            self.check_files(r.lines[0])
        r = self.download("star", env=dict(both, no_proxy="*"))
        self.assertEqual(r.rc, 0, r)
        # ... but a domain's name is not a suffix of another's
        r = self.download("suffix", env=dict(both, no_proxy="host,0.0.1"), fast_retry=False)
        self.assertEqual(r.rc, 3, r)

    def test_http_proxy_upper_case_not_under_cgi(self):
        """HTTP_PROXY counts as Python's clients take it, but not in a CGI environment,
        where a request's "Proxy:" header could have set it (httpoxy)."""
        down = "http://127.0.0.1:%d" % free_port()
        r = self.download("cgi", env={"HTTP_PROXY": down, "REQUEST_METHOD": "GET"})
        self.assertEqual(r.rc, 0, r)
        r = self.download("nocgi", env={"HTTP_PROXY": down}, fast_retry=False)
        self.assertEqual(r.rc, 3, r)
        self.assertIn("proxy %s (HTTP_PROXY)" % down, r.errors[0])

    def test_credentials_in_the_url_are_never_printed(self):
        proxy = self.proxy(user="alice", password="s3cr3t-pw")
        good = proxy.with_credentials("alice", "s3cr3t-pw")
        r = self.download("auth", "-v", env={"HTTPS_PROXY": good, "http_proxy": good})
        self.assertEqual(r.rc, 0, r)
        self.check_files(r.lines[0])
        self.assertIn("through proxy %s (http_proxy): http://" % proxy.url, r.err)
        self.assertIn("through proxy %s (HTTPS_PROXY): https://" % proxy.url, r.err)
        self.assertGreater(len(self.tunnels(proxy)), 0)
        self.assertGreater(len(self.forwarded(proxy)), 0)
        for out in (r.out, r.err):
            self.assertNotIn("s3cr3t-pw", out)
            self.assertNotIn("alice:", out)
        # none given (407), or wrong ones (tinyproxy answers those 401): the tunnel to the
        # CDN refused, with the API direct; then the API forwarded
        bad = proxy.with_credentials("alice", "wrong-pw")
        for env, says in (({"HTTPS_PROXY": proxy.url}, "wants credentials (HTTP 407 to CONNECT"),
                          ({"HTTPS_PROXY": bad}, "wants credentials (HTTP 401 to CONNECT"),
                          ({"http_proxy": proxy.url}, "HTTP 407 through proxy")):
            with self.subTest(env=env):
                t0 = time.monotonic()
                r = self.download("bad", "-v", env=env, fast_retry=False)
                self.assertEqual(r.rc, 3, r)
                self.assertLess(time.monotonic() - t0, 5 * SLOW)
                self.assertEqual(len(r.errors), 1, r)
                self.assertIn(says, r.errors[0])
                self.assertIn(proxy.url, r.errors[0])
                self.assertNotIn("wrong-pw", r.err + r.out)
        r = self.download("badfwd", "-v", env={"http_proxy": bad})
        self.assertEqual(r.rc, 3, r)
        self.assertIn("HTTP 401 through proxy %s, from the proxy itself: it wants credentials"
                      % proxy.url, r.errors[0])
        self.assertNotIn("login", r.err)
        self.assertNotIn("wrong-pw", r.err + r.out)

    def test_proxy_down(self):
        down = "http://127.0.0.1:%d" % free_port()
        for env, var in (({"HTTPS_PROXY": down, "HTTP_PROXY": down}, "HTTP_PROXY"),
                         ({"https_proxy": down}, "https_proxy")):
            with self.subTest(var=var):
                t0 = time.monotonic()
                r = self.download("down" + var, env=env, fast_retry=False)
                self.assertEqual(r.rc, 3, r)
                self.assertLess(time.monotonic() - t0, 5 * SLOW)
                self.assertEqual(len(r.errors), 1, r)
                self.assertIn("cannot connect to proxy %s (%s)" % (down, var), r.errors[0])
                self.assertNotIn("retrying", r.err)
        r = self.download("noname", env={"https_proxy": "http://no-such-proxy.invalid:3128"},
                          fast_retry=False)
        self.assertEqual(r.rc, 3, r)
        self.assertIn("cannot find proxy http://no-such-proxy.invalid:3128 (https_proxy)",
                      r.errors[0])

    def test_proxy_that_accepts_and_hangs(self):
        """A proxy that takes the connection and never answers (CONNECT or a forwarded
        request): exit 3 within the timeouts, one line naming the proxy."""
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        self.addCleanup(s.close)
        url = "http://127.0.0.1:%d" % s.getsockname()[1]
        for var, hub in (("HTTPS_PROXY", "ms"), ("https_proxy", "hf"), ("HTTP_PROXY", "ms")):
            with self.subTest(var=var, hub=hub):
                t0 = time.monotonic()
                r = self.download("hang" + var + hub, "--connect-timeout", "2",
                                  "--stall-timeout", "2", "--retries", "1",
                                  env={var: url}, hub=hub, fast_retry=True)
                self.assertEqual(r.rc, 3, r)
                self.assertLess(time.monotonic() - t0, 20 * SLOW)
                self.assertEqual(len(r.errors), 1, r)
                self.assertIn(url, r.errors[0])

    def test_a_proxy_that_is_down_stops_the_run(self):
        """The hub reached directly, every file through a proxy that is down: the first
        file's failure ends the run instead of one attempt per file."""
        many = {"m/f%02d.bin" % i: blob(2000 + i, i) for i in range(30)}
        write_files(self.root, many)
        self.hub.add_ms_repo("acme/many", files={p: FileRef(os.path.join(self.root, p))
                                                 for p in many})
        down = "http://127.0.0.1:%d" % free_port()
        self.hub.clear_log()
        r = self.mscli("--cache-dir", os.path.join(self.tmp, "cache-many"), "download",
                       "acme/many", "--max-workers", "2", env={"https_proxy": down},
                       fast_retry=False)
        self.assertEqual(r.rc, 3, r)
        self.assertEqual(len(r.errors), 1, r)
        self.assertIn("cannot connect to proxy %s (https_proxy)" % down, r.errors[0])
        self.assertIn("other file(s) were stopped", r.err)
        self.assertLessEqual(len([q for q in self.hub.log if q.file_path]), 4)  # not 30

    def test_proxy_that_refuses(self):
        # CONNECT only to port 443, as corporate proxies allow: the CDN's port is refused
        only_443 = self.proxy(connect_ports=[443])
        refuses_all = self.proxy(refuse_all=True)
        for proxy in (only_443, refuses_all):
            with self.subTest(proxy=proxy.url):
                t0 = time.monotonic()
                r = self.download("refused", env={"HTTPS_PROXY": proxy.url}, fast_retry=False)
                self.assertEqual(r.rc, 3, r)
                self.assertLess(time.monotonic() - t0, 5 * SLOW)
                self.assertEqual(len(r.errors), 1, r)
                self.assertIn("proxy %s (HTTPS_PROXY) refused to connect to %s (HTTP 403 to "
                              "CONNECT)" % (proxy.url, self.cdn_hostport), r.errors[0])
        # the API forwarded by a proxy that answers 403 itself: a proxy failure (exit 3)
        # that names the proxy, not the hub refusing a token
        for hub in ("ms", "hf"):
            with self.subTest(forwarded=hub):
                r = self.download("fwd" + hub, env={"HTTP_PROXY": refuses_all.url},
                                  fast_retry=False, hub=hub)
                self.assertEqual(r.rc, 3, r)
                self.assertEqual(len(r.errors), 1, r)
                self.assertIn("HTTP 403 through proxy %s, from the proxy itself" %
                              refuses_all.url, r.errors[0])
                self.assertNotIn("login", r.err)
                self.assertNotIn("token", r.err)
