"""mscli download from Hugging Face (or a mirror): the HF cache layout that
huggingface_hub and transformers read offline, integrity, auth, errors."""
import json
import os
import signal
import subprocess
import time

from support import SLOW, Case, blob, git_sha1, sha256

REGULAR = {"config.json": b'{"model_type": "toy"}\n', "README.md": b"# toy\n",
           "tokenizer/vocab.txt": b"a\nb\n"}
LFS = {"model.safetensors": blob(2_200_000, 51), "onnx/deep/model.onnx.bin": blob(1_100_000, 52)}
FILES = dict(REGULAR, **LFS)


def is_lfs(path, size):
    return path in LFS


class HF(Case):
    def setUp(self):
        super().setUp()
        self.repo = self.hub.add_hf_repo("org/toy", files=FILES, lfs=is_lfs)
        self.hfcache = os.path.join(self.tmp, "hfcache")
        self.env["HF_HUB_CACHE"] = self.hfcache
        self.folder = os.path.join(self.hfcache, "models--org--toy")

    def snap(self, commit=None):
        return os.path.join(self.folder, "snapshots", commit or self.repo.commit)

    def assert_snapshot(self, files=FILES, commit=None):
        for p, data in files.items():
            link = os.path.join(self.snap(commit), p)
            self.assertTrue(os.path.islink(link), link)
            target = os.readlink(link)
            self.assertFalse(os.path.isabs(target), target)
            etag = sha256(data) if p in LFS else git_sha1(data)
            self.assertEqual(target, "../" * (p.count("/") + 2) + "blobs/" + etag)
            with open(link, "rb") as f:
                self.assertEqual(f.read(), data)

    def test_layout(self):
        r = self.ok("--hub", "hf", "download", "org/toy")
        self.assertEqual(r.lines, [self.snap()])
        self.assert_snapshot()
        with open(os.path.join(self.folder, "refs", "main"), "rb") as f:
            self.assertEqual(f.read(), self.repo.commit.encode())  # 40 hex, no newline
        blobs = sorted(os.listdir(os.path.join(self.folder, "blobs")))
        self.assertEqual(blobs, sorted([sha256(v) for v in LFS.values()] +
                                       [git_sha1(v) for v in REGULAR.values()]))
        with open(os.path.join(self.hfcache, "CACHEDIR.TAG")) as f:
            self.assertTrue(f.read().startswith("Signature: 8a477f597d28d172789f06886806bc55"))
        with open(os.path.join(self.folder, "trees", self.repo.commit + ".json")) as f:
            tree = json.load(f)
        self.assertEqual(tree["format_version"], 1)
        self.assertEqual(sorted(tree["files"]), sorted(FILES))
        self.assertEqual(tree["files"]["model.safetensors"]["lfs_sha256"],
                         sha256(LFS["model.safetensors"]))
        self.assertEqual(tree["files"]["config.json"]["blob_id"], git_sha1(REGULAR["config.json"]))
        for d, _, names in os.walk(self.hfcache):
            for n in names:
                self.assertFalse(n.endswith(".incomplete"), os.path.join(d, n))
                self.assertFalse(n.endswith(".mscli-resume"), os.path.join(d, n))
        self.assertTrue(os.path.isdir(os.path.join(self.hfcache, ".locks", "models--org--toy")))

    def test_warm_runs(self):
        self.ok("--hub", "hf", "download", "org/toy")
        self.hub.clear_log()
        r = self.ok("--hub", "hf", "download", "org/toy")
        self.assertEqual(r.lines, [self.snap()])
        self.assertEqual([q.path for q in self.hub.log], ["/api/models/org/toy/revision/main"])
        self.assertEqual(self.hub.body_bytes(), 0)
        # by commit: no request at all
        self.hub.clear_log()
        r = self.ok("--hub", "hf", "download", "org/toy", "--revision", self.repo.commit)
        self.assertEqual(r.lines, [self.snap()])
        self.assertEqual(self.hub.log, [])
        r = self.ok("--hub", "hf", "download", "org/toy", "config.json", "--revision", self.repo.commit)
        self.assertEqual(self.hub.log, [])
        self.assertEqual(r.lines, [os.path.join(self.snap(), "config.json")])

    def test_single_file_is_one_head_and_follows_relative_redirects(self):
        r = self.ok("--hub", "hf", "download", "org/toy", "config.json")
        self.assertEqual(r.lines, [os.path.join(self.snap(), "config.json")])
        heads = [q for q in self.hub.log if q.method == "HEAD"]
        self.assertEqual(heads[0].path, "/org/toy/resolve/main/config.json")
        # a compressed HEAD answer would not carry the file's size (HF §1.3)
        self.assertEqual(heads[0].headers.get("accept-encoding"), "identity")
        self.assertTrue(heads[1].path.startswith("/api/resolve-cache/"), heads[1].raw_path)
        self.assertEqual(os.listdir(os.path.join(self.folder, "blobs")), [git_sha1(REGULAR["config.json"])])
        # no tree was fetched: no trees/ file may claim what it does not know
        self.assertFalse(os.path.exists(os.path.join(self.folder, "trees")))
        # the GET goes where the HEADs ended, as hf_hub_download's: 3 requests in all
        self.assertEqual([(q.method, q.path.split("/")[2] if q.path.startswith("/api/") else "")
                          for q in self.hub.log],
                         [("HEAD", ""), ("HEAD", "resolve-cache"), ("GET", "resolve-cache")])
        self.hub.clear_log()
        r = self.ok("--hub", "hf", "download", "org/toy", "model.safetensors")
        self.assert_snapshot({"model.safetensors": LFS["model.safetensors"]})
        # LFS: the HEAD's 302 names the CDN; the GET goes straight there, without the token
        self.assertEqual([(q.method, q.server) for q in self.hub.log],
                         [("HEAD", "hub"), ("GET", "cdn")])
        # an expired CDN URL from the HEAD sends the GET back to the hub for a fresh one
        self.hub.clear_log()
        self.hub.fault("expire_cdn", path="model.onnx.bin", after=0, times=1)
        self.ok("--hub", "hf", "download", "org/toy", "onnx/deep/model.onnx.bin")
        self.assert_snapshot({"onnx/deep/model.onnx.bin": LFS["onnx/deep/model.onnx.bin"]})
        self.assertEqual([(q.method, q.server, q.status) for q in self.hub.log],
                         [("HEAD", "hub", 302), ("GET", "cdn", 403), ("GET", "hub", 302),
                          ("GET", "cdn", 200)])

    def test_single_file_by_commit_already_in_the_snapshot_makes_no_request(self):
        c = self.repo.commit
        r = self.ok("--hub", "hf", "download", "org/toy", "model.safetensors", "--revision", c)
        self.assertFalse(os.path.exists(os.path.join(self.folder, "trees")))
        self.hub.clear_log()
        r = self.ok("--hub", "hf", "--json", "download", "org/toy", "model.safetensors",
                    "--revision", c)
        self.assertEqual(self.hub.log, [])
        f = [e for e in r.json() if e["event"] == "file"]
        self.assertEqual(f[0]["status"], "cached")
        self.assertEqual(f[0]["sha256"], sha256(LFS["model.safetensors"]))
        self.assertEqual(f[0]["local_path"], os.path.join(self.snap(), "model.safetensors"))
        # another file of that commit is not there yet: it is asked for
        self.ok("--hub", "hf", "download", "org/toy", "config.json", "--revision", c)
        self.assertTrue(self.hub.log)
        self.assert_snapshot({"config.json": REGULAR["config.json"],
                              "model.safetensors": LFS["model.safetensors"]})

    def test_hub_selection(self):
        self.ok("download", "hf:org/toy", "config.json")
        self.ok("download", "org/toy", "README.md", env={"MSCLI_HUB": "hf"})
        self.ok("download", "https://huggingface.co/org/toy", "tokenizer/vocab.txt",
                "--endpoint", self.hub.url)
        self.assert_snapshot(REGULAR)
        self.fails(2, "--hub", "modelscope", "download", "hf:org/toy")

    def test_urls_name_mirror_revision_and_file(self):
        env = {"HF_ENDPOINT": "http://127.0.0.1:9"}  # nothing listens: the URL's host must win
        # a mirror's URL (any host, once the hub is chosen) is the endpoint
        r = self.ok("--hub", "hf", "download", self.hub.url + "/org/toy", env=env)
        self.assertEqual(r.lines, [self.snap()])
        self.assert_snapshot()
        # .../blob/<rev>/<file> and .../resolve/<rev>/<file> name one file at a revision
        r = self.ok("download", self.hub.url + "/org/toy/blob/main/tokenizer/vocab.txt",
                    "-o", "-", env=dict(env, MSCLI_HUB="hf"))
        self.assertEqual(r.out.encode(), REGULAR["tokenizer/vocab.txt"])
        dest = os.path.join(self.tmp, "cfg.json")
        self.ok("--hub", "hf", "download", self.hub.url + "/org/toy/resolve/main/config.json",
                "-o", dest, env=env)
        with open(dest, "rb") as f:
            self.assertEqual(f.read(), REGULAR["config.json"])
        got = [q.path for q in self.hub.log if q.method in ("GET", "HEAD")]
        self.assertIn("/org/toy/resolve/main/config.json", got)
        # the revision from the URL is used: an unknown one is exit 5
        self.fails(5, "--hub", "hf", "download", self.hub.url + "/org/toy/tree/nope", env=env)
        # a URL that names a file takes no FILE besides
        self.fails(2, "--hub", "hf", "download", self.hub.url + "/org/toy/blob/main/README.md",
                   "config.json", env=env)
        # --endpoint still wins over the URL's host
        self.fails(3, "--hub", "hf", "--endpoint", "http://127.0.0.1:9", "download",
                   self.hub.url + "/org/toy", "--retries", "0")
        # an unknown host without --hub is refused, not guessed
        r = self.fails(2, "download", self.hub.url + "/org/toy")
        self.assertIn("--hub", r.err)

    def test_long_and_unicode_file_names(self):
        long = "long/" + "n" * 250 + ".bin"   # a legal 254-byte name
        files = {long: b"y", "数据/文件 1.txt": b"x", "q?x#y+&.txt": b"q"}
        self.hub.add_hf_repo("org/names", files=files)
        r = self.ok("--hub", "hf", "download", "org/names")
        for p, data in files.items():
            with open(os.path.join(r.lines[0], p), "rb") as f:
                self.assertEqual(f.read(), data)
        # --local-dir keeps <path>.metadata beside it, as hf does: a 254-byte name cannot
        # have one; one clear error naming the path (it used to be an empty message)
        r = self.fails(8, "--hub", "hf", "download", "org/names", long,
                       "--local-dir", os.path.join(self.tmp, "ld"))
        self.assertIn("File name too long", r.err)

    def test_datasets(self):
        self.hub.add_hf_repo("org/ds", type="dataset", files={"data/x.parquet": blob(5000, 3)})
        r = self.ok("download", "hf:datasets/org/ds")
        ds = os.path.join(self.hfcache, "datasets--org--ds")
        self.assertTrue(r.lines[0].startswith(os.path.join(ds, "snapshots")))
        self.ok("--hub", "hf", "download", "--type", "dataset", "org/ds")
        r = self.ok("--hub", "hf", "download", "datasets/org/ds")  # as the web path reads
        self.assertTrue(r.lines[0].startswith(os.path.join(ds, "snapshots")))
        self.ok("download", "https://huggingface.co/datasets/org/ds", "--endpoint", self.hub.url)

    def test_tree_pages_are_followed(self):
        self.hub.hf_tree_page_size = 2
        self.ok("--hub", "hf", "download", "org/toy")
        self.assert_snapshot()
        pages = [q for q in self.hub.log if "/tree/" in q.path]
        self.assertGreaterEqual(len(pages), 3)
        self.assertTrue(any("cursor" in q.query for q in pages))

    def test_token_sources_and_no_token_to_the_cdn(self):
        self.hub.add_hf_repo("org/private", files=FILES, lfs=is_lfs, private=True)
        r = self.fails(5, "--hub", "hf", "download", "org/private")
        self.assertIn("token", r.err)
        tokfile = os.path.join(self.tmp, "tok")
        with open(tokfile, "w") as f:
            f.write("hf_goodtoken\n")
        os.makedirs(os.path.join(self.home, "hf"), exist_ok=True)
        with open(os.path.join(self.home, "hf", "token"), "w") as f:
            f.write("hf_goodtoken")
        for env, args in [({}, ["--token", "hf_goodtoken"]), ({"HF_TOKEN": "hf_goodtoken"}, []),
                          ({"HUGGING_FACE_HUB_TOKEN": "hf_goodtoken"}, []),
                          ({"HF_TOKEN_PATH": tokfile}, []), ({}, [])]:
            with self.subTest(env=env, args=args):
                self.hub.clear_log()
                self.ok("--hub", "hf", "download", "--force", "org/private", *args, env=env)
                hub_reqs = [q for q in self.hub.log if q.server == "hub"]
                cdn_reqs = [q for q in self.hub.log if q.server == "cdn"]
                self.assertTrue(cdn_reqs)
                for q in hub_reqs:
                    self.assertEqual(q.headers.get("authorization"), "Bearer hf_goodtoken", q)
                for q in cdn_reqs:
                    self.assertNotIn("authorization", q.headers)
        # HF_HUB_DISABLE_IMPLICIT_TOKEN: the token file is not used
        self.fails(5, "--hub", "hf", "download", "--force", "org/private",
                   env={"HF_HUB_DISABLE_IMPLICIT_TOKEN": "1"})

    def test_gated(self):
        g = self.hub.add_hf_repo("org/gated", files=REGULAR, gated=True)
        r = self.fails(6, "--hub", "hf", "download", "org/gated", "config.json")
        self.assertIn("restricted", r.err)
        r = self.fails(6, "--hub", "hf", "--token", "hf_goodtoken", "download", "org/gated")
        self.assertIn("authorized list", r.err)
        self.assertIn("gated repo also needs access", r.err)
        self.assertNotIn("MODELSCOPE", r.err)  # the hint names this hub's token sources
        # a refused file leaves no empty partial or resume state behind
        self.assert_tree_has_no(self.hfcache, lambda p: "incomplete" in p or "resume" in p,
                                "litter after a 403")
        r = self.fails(6, "--hub", "hf", "download", "org/gated")
        self.assertIn("no token was sent", r.err)
        self.assert_tree_has_no(self.hfcache, lambda p: "incomplete" in p or "resume" in p,
                                "litter after a 401")
        g.gated_allow.add("alice")
        self.ok("--hub", "hf", "--token", "hf_goodtoken", "download", "org/gated")

    def test_not_found_and_no_exist(self):
        r = self.fails(5, "--hub", "hf", "download", "org/nothing")
        self.assertIn("org/nothing", r.err)
        self.assertNotIn("--type dataset", r.err)
        self.hub.add_hf_repo("org/a-dataset", type="dataset", files={"x.csv": b"1\n"})
        r = self.fails(5, "--hub", "hf", "download", "org/a-dataset")
        self.assertIn("(there is a dataset org/a-dataset: add --type dataset)", r.err)
        self.fails(5, "--hub", "hf", "download", "org/toy", "--revision", "nope")
        self.fails(5, "--hub", "hf", "download", "org/toy", "missing.json")
        r = self.fails(5, "--hub", "hf", "download", "org/toy", "tokenizer")
        self.assertIn("('tokenizer' is a folder: add a '/')", r.err)
        r = self.fails(5, "--hub", "hf", "download", "org/toy", "missing.json")
        self.assertNotIn("folder", r.err)
        marker = os.path.join(self.folder, ".no_exist", self.repo.commit, "missing.json")
        self.assertTrue(os.path.isfile(marker))
        self.assertEqual(os.path.getsize(marker), 0)
        # readers reach .no_exist/<commit> through the ref: it is written with the marker
        with open(os.path.join(self.folder, "refs", "main"), "rb") as f:
            self.assertEqual(f.read(), self.repo.commit.encode())
        # --dry-run changes nothing, not even a marker
        self.fails(5, "--hub", "hf", "download", "org/toy", "other.json", "--dry-run")
        self.assertFalse(os.path.exists(os.path.join(os.path.dirname(marker), "other.json")))

    def test_revision_names_cannot_leave_the_cache(self):
        for rev in ("../../../../escape", "/tmp/abs", "a//b", "refs/../x"):
            r = self.fails(2, "--hub", "hf", "download", "org/toy", "--revision", rev)
            self.assertIn("not a revision name", r.err)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "escape")))
        self.assertEqual(self.hub.log, [])

    def test_nothing_to_download_into_a_fresh_cache(self):
        r = self.ok("--hub", "hf", "download", "org/toy", "--include", "nomatch*")
        self.assertEqual(r.lines, [self.snap()])
        self.assertTrue(os.path.isdir(self.snap()))
        with open(os.path.join(self.folder, "refs", "main"), "rb") as f:
            self.assertEqual(f.read(), self.repo.commit.encode())

    def test_corruption_in_transit_is_caught_for_both_kinds(self):
        for path in ("model.safetensors", "config.json"):
            with self.subTest(path=path):
                self.hub.fault("corrupt", path=path, times=1)
                self.ok("--hub", "hf", "download", "org/toy", path, "--force")
                self.assert_snapshot({path: FILES[path]})
                gets = [q for q in self.hub.log if q.method == "GET" and q.file_path == path
                        and q.status in (200, 206)]
                self.assertEqual(len(gets), 2)
                self.hub.clear_log()

    def test_wrong_hashes_are_exit_4(self):
        self.hub.add_hf_repo("org/bad", files=FILES, lfs=is_lfs,
                             sha256_override={"model.safetensors": "cd" * 32, "config.json": "ef" * 20})
        r = self.fails(4, "--hub", "hf", "download", "org/bad", "model.safetensors")
        self.assertIn("cd" * 32, r.err)
        r = self.fails(4, "--hub", "hf", "download", "org/bad", "config.json")
        self.assertIn("ef" * 20, r.err)
        self.assertIn("git-sha1", r.err)
        bad = os.path.join(self.hfcache, "models--org--bad")
        for d, _, names in os.walk(bad):
            for n in names:
                self.assertFalse(n.startswith("cd" * 32) or n.startswith("ef" * 20),
                                 os.path.join(d, n))

    def test_mirror_without_x_repo_commit(self):
        self.hub.fault("no_repo_commit", times=None)
        r = self.fails(1, "--hub", "hf", "download", "org/toy", "config.json")
        self.assertIn("X-Repo-Commit", r.err)

    def test_rate_limit_header(self):
        self.hub.fault("status", code=429, headers={"RateLimit": '"api";r=0;t=1',
                                                    "RateLimit-Policy": '"fixed window";"api";q=500;w=300'},
                       path="/revision/", times=1)
        import time
        t0 = time.monotonic()
        self.ok("--hub", "hf", "download", "org/toy")
        self.assertGreaterEqual(time.monotonic() - t0, 2.0)  # t + 1 seconds

    def test_expired_cdn_url(self):
        big = blob(30_000_000, 53)
        self.hub.add_hf_repo("org/big", files={"w.safetensors": big}, lfs=lambda p, s: True)
        self.hub.fault("expire_cdn", path="w.safetensors", after=8_000_000, times=1)
        self.ok("--hub", "hf", "download", "org/big",
                env={"MSCLI_RANGE_THRESHOLD": "4M", "MSCLI_CHUNK_SIZE": "2M"})
        resolves = [q for q in self.hub.log if q.server == "hub" and "/resolve/" in q.path]
        self.assertGreaterEqual(len(resolves), 2)
        self.assertLess(self.hub.body_bytes("w.safetensors"), 1.3 * len(big))

    def test_blobs_are_shared_between_revisions(self):
        self.ok("--hub", "hf", "download", "org/toy")
        self.repo.branches["dev"] = self.repo.commit
        other = self.hub.add_hf_repo("org/toy2", files=FILES, lfs=is_lfs, branches={"v2": None})
        self.hub.clear_log()
        self.ok("--hub", "hf", "download", "org/toy", "--revision", "dev")
        self.assertEqual(self.hub.body_bytes(), 0)
        with open(os.path.join(self.folder, "refs", "dev"), "rb") as f:
            self.assertEqual(f.read(), self.repo.commit.encode())
        del other

    def test_disable_symlinks(self):
        self.ok("--hub", "hf", "download", "org/toy", env={"HF_HUB_DISABLE_SYMLINKS": "1"})
        for p, data in FILES.items():
            fp = os.path.join(self.snap(), p)
            self.assertFalse(os.path.islink(fp))
            with open(fp, "rb") as f:
                self.assertEqual(f.read(), data)

    def test_offline(self):
        self.ok("--hub", "hf", "download", "org/toy")
        self.hub.clear_log()
        r = self.ok("--hub", "hf", "--offline", "download", "org/toy")
        self.assertEqual(r.lines, [self.snap()])
        r = self.ok("--hub", "hf", "download", "org/toy", "config.json", env={"HF_HUB_OFFLINE": "1"})
        self.assertEqual(r.lines, [os.path.join(self.snap(), "config.json")])
        self.ok("--hub", "hf", "download", "org/toy", env={"TRANSFORMERS_OFFLINE": "1"})
        self.assertEqual(self.hub.log, [])
        # a hand-made ref with a newline is tolerated when reading
        with open(os.path.join(self.folder, "refs", "main"), "w") as f:
            f.write(self.repo.commit + "\n")
        self.ok("--hub", "hf", "--offline", "download", "org/toy")
        os.unlink(os.path.join(self.snap(), "README.md"))
        r = self.fails(7, "--hub", "hf", "--offline", "download", "org/toy")
        self.assertIn("README.md", r.err)
        self.fails(7, "--hub", "hf", "--offline", "download", "org/other")
        self.assertEqual(self.hub.log, [])

    def test_local_dir(self):
        ld = os.path.join(self.tmp, "ld")
        r = self.ok("--hub", "hf", "download", "org/toy", "--local-dir", ld)
        self.assertEqual(r.lines, [ld])
        for p, data in FILES.items():
            fp = os.path.join(ld, p)
            self.assertFalse(os.path.islink(fp))
            with open(fp, "rb") as f:
                self.assertEqual(f.read(), data)
            with open(os.path.join(ld, ".cache", "huggingface", "download", p + ".metadata")) as f:
                commit, etag, ts = f.read().split("\n")[:3]
            self.assertEqual(commit, self.repo.commit)
            self.assertEqual(etag, sha256(data) if p in LFS else git_sha1(data))
            float(ts)
        with open(os.path.join(ld, ".cache", "huggingface", ".gitignore")) as f:
            self.assertEqual(f.read().strip(), "*")
        self.assertFalse(os.path.exists(self.hfcache))
        self.hub.clear_log()
        self.ok("--hub", "hf", "download", "org/toy", "--local-dir", ld)
        self.assertEqual(self.hub.body_bytes(), 0)
        # a file edited after download is fetched again
        with open(os.path.join(ld, "README.md"), "wb") as f:
            f.write(b"# edited\n")
        self.ok("--hub", "hf", "download", "org/toy", "--local-dir", ld)
        with open(os.path.join(ld, "README.md"), "rb") as f:
            self.assertEqual(f.read(), REGULAR["README.md"])
        # one file by commit hash (no tree kept), then edited to another size: fetched again
        ld2 = os.path.join(self.tmp, "ld2")
        for _ in range(2):
            self.ok("--hub", "hf", "download", "org/toy", "config.json", "--local-dir", ld2,
                    "--revision", self.repo.commit)
            with open(os.path.join(ld2, "config.json"), "rb") as f:
                self.assertEqual(f.read(), REGULAR["config.json"])
            with open(os.path.join(ld2, "config.json"), "wb") as f:
                f.write(b"{}")
        self.hub.clear_log()
        self.ok("--hub", "hf", "--offline", "download", "org/toy", "--local-dir", ld)
        self.assertEqual(self.hub.log, [])

    def test_kill_and_resume(self):
        big = blob(9_000_000, 54)
        self.hub.add_hf_repo("org/kill", files={"w.safetensors": big}, lfs=lambda p, s: True)
        for env in ({}, {"MSCLI_RANGE_THRESHOLD": "1M", "MSCLI_CHUNK_SIZE": "512K"}):
            with self.subTest(env=env):
                self.hub.clear_log()
                self.hub.fault("trickle", path="w.safetensors", rate=2_000_000, times=None)
                p = self.spawn("--hub", "hf", "download", "org/kill", "--force", env=env)
                self.wait_for(lambda: self.hub.body_bytes("w.safetensors") > 3_000_000, 60, "bytes")
                p.send_signal(signal.SIGKILL)
                p.communicate()  # reaps it and closes its pipes
                blobs = os.path.join(self.hfcache, "models--org--kill", "blobs")
                partial = [n for n in os.listdir(blobs) if n.endswith(".mscli.incomplete")]
                self.assertEqual(len(partial), 1, os.listdir(blobs))
                self.hub.clear_faults()
                self.ok("--hub", "hf", "download", "org/kill", env=env)
                self.assertLess(self.hub.body_bytes("w.safetensors"), 1.5 * len(big))
                self.assertEqual(os.listdir(blobs), [sha256(big)])
                os.unlink(os.path.join(blobs, sha256(big)))

    def test_a_killed_replacement_leaves_nothing_after_the_next_run(self):
        # a new snapshot entry takes its name at once; replacing one goes through
        # "<name>.mscli-tmp", which a kill could leave: the next replacement takes it over
        self.ok("--hub", "hf", "download", "org/toy")
        stale = [os.path.join(self.snap(), p + ".mscli-tmp") for p in ("config.json",
                                                                     "onnx/deep/model.onnx.bin")]
        os.symlink("../../blobs/gone", stale[0])
        with open(stale[1], "wb") as f:
            f.write(b"half")
        self.age(*stale)
        self.ok("--hub", "hf", "download", "org/toy", "--force")
        self.assert_snapshot()
        for p in stale:
            self.assertFalse(os.path.lexists(p), p)
        left = [n for _, _, ns in os.walk(self.folder) for n in ns if "tmp" in n]
        self.assertEqual(left, [])
        self.ok("cache", "verify", "--hub", "hf")
        # until then the cache commands know them for what they are: partials, not files
        os.symlink("../../blobs/gone", stale[0])
        with open(stale[1], "wb") as f:
            f.write(b"half")
        stale.append(os.path.join(self.folder, "refs", "main.mscli-tmp"))
        with open(stale[2], "w") as f:
            f.write(self.repo.commit)
        r = self.ok("--json", "cache", "ls", "--hub", "hf")
        repo = json.loads(r.lines[0])
        self.assertTrue(repo["incomplete"], r.lines)
        self.assertEqual(repo["files"], len(FILES))
        self.assertEqual([x["refs"] for x in repo["revisions"]], [["main"]])
        self.ok("cache", "verify", "--hub", "hf")
        # no lock tells prune whether a download is between making one and renaming it:
        # one younger than a minute may be that, and stays
        self.ok("cache", "prune", "--hub", "hf")
        for p in stale:
            self.assertTrue(os.path.lexists(p), p)
        self.age(*stale)
        self.ok("cache", "prune", "--hub", "hf")
        for p in stale:
            self.assertFalse(os.path.lexists(p), p)
        self.assert_snapshot()
        r = self.ok("--json", "cache", "ls", "--hub", "hf")
        self.assertFalse(json.loads(r.lines[0])["incomplete"], r.lines)
        # a fresh one may be another download's, between its link and its rename: left
        # alone, and this run replaces the entry through a name of its own
        with open(stale[0], "w") as f:
            f.write("live")
        self.ok("--hub", "hf", "download", "org/toy", "--force")
        self.assert_snapshot()
        with open(stale[0]) as f:
            self.assertEqual(f.read(), "live")
        left = [n for _, _, ns in os.walk(self.folder) for n in ns if "tmp" in n]
        self.assertEqual(left, ["config.json.mscli-tmp"])

    def test_partial_of_a_file_changed_upstream_is_removed(self):
        old, new = blob(6_000_000, 55), blob(6_000_000, 56)
        repo = self.hub.add_hf_repo("org/moving", files={"w.bin": old, "c.json": b"{}"},
                                    lfs=lambda p, s: p.endswith(".bin"))
        self.hub.fault("trickle", path="w.bin", rate=2_000_000, times=None)
        p = self.spawn("--hub", "hf", "download", "org/moving")
        self.wait_for(lambda: self.hub.body_bytes("w.bin") > 2_000_000, 60, "bytes")
        p.send_signal(signal.SIGKILL)
        p.communicate()  # reaps it and closes its pipes
        blobs = os.path.join(self.hfcache, "models--org--moving", "blobs")
        locks = os.path.join(self.hfcache, ".locks", "models--org--moving")
        self.assertIn(sha256(old) + ".mscli.incomplete", os.listdir(blobs))
        self.assertIn(sha256(old) + ".mscli-resume", os.listdir(locks))
        self.hub.clear_faults()
        repo.commit_files({"w.bin": new})
        # a single file by HEAD does not know the whole tree: the old partial stays
        self.ok("--hub", "hf", "download", "org/moving", "c.json")
        self.assertIn(sha256(old) + ".mscli.incomplete", os.listdir(blobs))
        # the whole tree does: no stray .incomplete after success
        self.ok("--hub", "hf", "download", "org/moving")
        self.assertEqual(sorted(os.listdir(blobs)), sorted([sha256(new), git_sha1(b"{}")]))
        self.assertFalse([n for n in os.listdir(locks) if n.endswith(".mscli-resume")])

    def test_concurrent_processes(self):
        self.hub.fault("trickle", path="model.safetensors", rate=3_000_000, times=None)
        p1 = self.spawn("--hub", "hf", "download", "org/toy")
        p2 = self.spawn("--hub", "hf", "download", "org/toy")
        for p in (p1, p2):
            out, err = p.communicate(timeout=120 * SLOW)
            self.assertEqual(p.returncode, 0, err)
            self.assertEqual(out.decode().strip(), self.snap())
        self.assert_snapshot()
        self.assertLess(self.hub.body_bytes(), 1.3 * sum(len(v) for v in FILES.values()))
        # the same into one --local-dir: the second takes what the first put there
        self.hub.clear_log()
        ld = os.path.join(self.tmp, "ld")
        ps = [self.spawn("--hub", "hf", "download", "org/toy", "--local-dir", ld)
              for _ in range(2)]
        for p in ps:
            out, err = p.communicate(timeout=120 * SLOW)
            self.assertEqual(p.returncode, 0, err)
            self.assertEqual(out.decode().strip(), ld)
        for path, data in FILES.items():
            with open(os.path.join(ld, path), "rb") as f:
                self.assertEqual(f.read(), data)
        self.assertLess(self.hub.body_bytes(), 1.3 * sum(len(v) for v in FILES.values()))

    def test_cache_location_from_the_environment(self):
        del self.env["HF_HUB_CACHE"]
        del self.env["HF_HOME"]
        xdg = os.path.join(self.tmp, "xdg")
        r = self.ok("--hub", "hf", "download", "org/toy", "config.json", env={"XDG_CACHE_HOME": xdg})
        self.assertTrue(r.lines[0].startswith(os.path.join(xdg, "huggingface", "hub", "models--org--toy")))
        legacy = os.path.join(self.tmp, "legacy")
        r = self.ok("--hub", "hf", "download", "org/toy", "config.json",
                    env={"HUGGINGFACE_HUB_CACHE": legacy})
        self.assertTrue(r.lines[0].startswith(os.path.join(legacy, "models--org--toy")))
        home = os.path.join(self.tmp, "hfhome")
        r = self.ok("--hub", "hf", "download", "org/toy", "config.json", env={"HF_HOME": home})
        self.assertTrue(r.lines[0].startswith(os.path.join(home, "hub", "models--org--toy")))
        r = self.ok("--hub", "hf", "download", "org/toy", "config.json")
        self.assertTrue(r.lines[0].startswith(os.path.join(self.home, ".cache", "huggingface", "hub")))
        # ~ and $VAR are expanded, as huggingface_hub does (not a literal './~' directory)
        r = self.ok("--hub", "hf", "download", "org/toy", "config.json", env={"HF_HOME": "~/hf2"})
        self.assertTrue(r.lines[0].startswith(os.path.join(self.home, "hf2", "hub", "models--org--toy")))
        r = self.ok("--hub", "hf", "download", "org/toy", "config.json",
                    env={"HF_HUB_CACHE": "${MSCLI_TEST_ROOT}/c3", "MSCLI_TEST_ROOT": self.tmp})
        self.assertTrue(r.lines[0].startswith(os.path.join(self.tmp, "c3", "models--org--toy")))

    def test_download_timeout_variable_is_the_stall_timeout(self):
        import time
        self.hub.fault("stall", path="model.safetensors", after=50_000, seconds=30, times=1)
        t0 = time.monotonic()
        self.ok("--hub", "hf", "download", "org/toy", env={"HF_HUB_DOWNLOAD_TIMEOUT": "1"})
        self.assertLess(time.monotonic() - t0, 15 * SLOW)
        self.assert_snapshot()

    def test_json_reports_git_sha1_for_regular_files(self):
        r = self.ok("--hub", "hf", "--json", "download", "org/toy")
        files = {e["path"]: e for e in r.json() if e["event"] == "file"}
        self.assertEqual(files["model.safetensors"]["sha256"], sha256(LFS["model.safetensors"]))
        self.assertEqual(files["config.json"]["git_sha1"], git_sha1(REGULAR["config.json"]))
        self.assertIsNone(files["config.json"]["sha256"])
