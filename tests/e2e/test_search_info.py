"""mscli search and mscli info on both hubs, against the emulator's search and
repo-info endpoints (tests/hub/emu_search.py): pages followed to --limit,
--author/--filter/--sort sent to the hub, --type dataset, the three output
forms (a table on a terminal, tab-separated lines into a pipe, --json), and
info of a model, a dataset, a branch, a tag and a commit id with sizes and
hashes checked against what the emulator holds -- the same list as
`download --dry-run`."""
import os

from support import Case, blob, git_sha1, sha256

import emu_search

HF = ("--hub", "hf")
ALPHA = "mscli-demo/search-alpha"
# search-alpha's files on its default branch, tag v1.0 and branch dev (emu_search.add_search_samples)
ALPHA_FILES = emu_search.sample_files(ALPHA)
ALPHA_V1 = emu_search.sample_files(ALPHA, "v1.0")
ALPHA_DEV = dict(emu_search.sample_files(ALPHA, "dev"), **{"dev.txt": b"dev\n"})


def ids(result):
    """The first column of tab-separated lines."""
    return [l.split("\t")[0] for l in result.lines]


class SearchCase(Case):
    cdn = False

    def setUp(self):
        super().setUp()
        emu_search.add_search_samples(self.hub)

    def search(self, *args, hub="ms", **kw):
        return self.ok(*((HF if hub == "hf" else ()) + ("search",) + args), **kw)

    def info(self, *args, hub="ms", **kw):
        return self.ok(*((HF if hub == "hf" else ()) + ("info",) + args), **kw)

    def search_requests(self, hub, type="model"):
        path = ("/api/%ss" if hub == "hf" else "/openapi/v1/%ss") % type
        return [r for r in self.hub.requests(server="hub", path=path) if r.path == path]

    def run_on_tty(self, *args, cols=100):
        """mscli with stdout on a pseudo-terminal of `cols` columns: (rc, stdout, stderr)."""
        rc, out, err = self.tty_run(*args, cols=cols, stream="stdout")
        return rc, out.decode().replace("\r\n", "\n"), err.decode()


class Search(SearchCase):
    def test_hf_pages_followed_and_stopped_at_the_limit(self):
        self.hub.hf_list_page_size = 3
        self.hub.add_repos("hf", 10, owner="bulk", downloads=lambda i: 100 + i)
        r = self.search("--author", "bulk", "--sort", "downloads", "--limit", "7", hub="hf")
        self.assertEqual(ids(r), ["bulk/repo-%03d" % i for i in range(9, 2, -1)])
        reqs = self.search_requests("hf")
        self.assertEqual(len(reqs), 3)              # 3 + 3 + 1 of a page of 3: no fourth page
        self.assertEqual(reqs[0].query["limit"], ["7"])
        self.assertNotIn("cursor", reqs[0].query)
        for q in (r.query for r in reqs):           # the Link URLs keep every parameter
            self.assertEqual(q["author"], ["bulk"])
            self.assertEqual(q["sort"], ["downloads"])
        self.assertIn("cursor", reqs[2].query)
        # fewer than asked for: every page, then the end
        self.hub.clear_log()
        r = self.search("--author", "bulk", "--limit", "50", hub="hf")
        self.assertEqual(sorted(ids(r)), ["bulk/repo-%03d" % i for i in range(10)])
        self.assertEqual(len(self.search_requests("hf")), 4)

    def test_ms_pages_followed_and_stopped_at_the_limit(self):
        self.hub.add_repos("ms", 120, owner="bulk", downloads=lambda i: 1000 + i)
        r = self.search("--author", "bulk", "--sort", "downloads", "--limit", "110")
        self.assertEqual(ids(r), ["bulk/repo-%03d" % i for i in range(119, 9, -1)])
        reqs = self.search_requests("ms")
        self.assertEqual([q.query["page_number"] for q in reqs], [["1"], ["2"], ["3"]])
        for q in (r.query for r in reqs):           # one page size throughout, at most 50
            self.assertEqual(q["page_size"], ["50"])
            self.assertEqual(q["owner"], ["bulk"])
            self.assertEqual(q["sort"], ["downloads"])
        # a small limit is one page of that size; more than there are ends at the last page
        self.hub.clear_log()
        self.assertEqual(len(self.search("--author", "bulk", "--limit", "5").lines), 5)
        self.assertEqual([q.query["page_size"] for q in self.search_requests("ms")], [["5"]])
        self.hub.clear_log()
        r = self.search("--author", "bulk", "--limit", "1000")
        self.assertEqual(len(r.lines), 120)
        self.assertEqual(len(self.search_requests("ms")), 3)

    def test_default_limit_is_20(self):
        self.hub.add_repos("both", 25, owner="bulk")
        for hub in ("ms", "hf"):
            with self.subTest(hub=hub):
                self.assertEqual(len(self.search("--author", "bulk", hub=hub).lines), 20)

    def test_query_author_and_filters_reach_the_hub(self):
        r = self.search("search", "--filter", "pytorch", "--filter", "en", hub="hf")
        self.assertEqual(sorted(ids(r)), [ALPHA, "mscli-demo/search-beta"])
        q = self.search_requests("hf")[-1].query
        self.assertEqual(q["filter"], ["pytorch", "en"])
        self.assertEqual(q["search"], ["search"])
        r = self.search("--author", "other-org", hub="hf")
        self.assertEqual(ids(r), ["other-org/search-delta"])
        self.assertEqual(self.search_requests("hf")[-1].query["author"], ["other-org"])
        # ModelScope: KEY:VALUE (or KEY=VALUE) is filter.KEY; a bare tag is a custom tag
        r = self.search("--filter", "task:text-generation", "--filter", "library=pytorch")
        self.assertEqual(sorted(ids(r)), [ALPHA, "other-org/search-delta"])
        q = self.search_requests("ms")[-1].query
        self.assertEqual((q["filter.task"], q["filter.library"]),
                         (["text-generation"], ["pytorch"]))
        r = self.search("--filter", "gguf")
        self.assertEqual(ids(r), ["mscli-demo/search-gamma"])
        self.assertEqual(self.search_requests("ms")[-1].query["filter.custom_tag"], ["gguf"])
        r = self.search("gamma", "--author", "mscli-demo")
        self.assertEqual(ids(r), ["mscli-demo/search-gamma"])
        q = self.search_requests("ms")[-1].query
        self.assertEqual((q["search"], q["owner"]), (["gamma"], ["mscli-demo"]))

    def test_sort_orders(self):
        expect = {
            "downloads": ["mscli-demo/search-gamma", ALPHA, "mscli-demo/search-beta"],
            "likes": ["mscli-demo/search-beta", ALPHA, "other-org/search-delta"],
            "updated": ["mscli-demo/search-gamma", ALPHA, "other-org/search-delta"],
        }
        wire = {"hf": {"downloads": "downloads", "likes": "likes", "updated": "lastModified"},
                "ms": {"downloads": "downloads", "likes": "likes", "updated": "last_modified"}}
        for hub in ("ms", "hf"):
            for sort, want in expect.items():
                with self.subTest(hub=hub, sort=sort):
                    r = self.search("search", "--sort", sort, "--limit", "3", hub=hub)
                    self.assertEqual(ids(r), want)
                    q = self.search_requests(hub)[-1].query
                    self.assertEqual(q["sort"], [wire[hub][sort]])

    def test_datasets(self):
        for hub in ("ms", "hf"):
            with self.subTest(hub=hub):
                r = self.search("--type", "dataset", "--sort", "downloads", hub=hub)
                self.assertEqual(ids(r), ["other-org/search-dialogs", "mscli-demo/search-corpus"])
                self.assertTrue(self.search_requests(hub, "dataset"))
                js = self.search("--json", "--type", "dataset", "corpus", hub=hub).json()
                self.assertEqual([(j["id"], j["type"], j["task"]) for j in js],
                                 [("mscli-demo/search-corpus", "dataset", "text-generation")])

    def test_tab_separated_into_a_pipe(self):
        for hub in ("ms", "hf"):
            with self.subTest(hub=hub):
                r = self.search("search-alpha", hub=hub)
                self.assertEqual(r.lines, ["%s\t500\t7\t2025-01-10T08:30:00Z\ttext-generation"
                                           % ALPHA])

    def test_json_fields_are_the_same_on_both_hubs(self):
        got = {}
        for hub in ("ms", "hf"):
            js = self.search("--json", "search-alpha", hub=hub).json()
            self.assertEqual(len(js), 1)
            got[hub] = js[0]
        ms, hf = got["ms"], got["hf"]
        for j, hub in ((ms, "modelscope"), (hf, "hf")):
            self.assertEqual(j["event"], "repo")
            self.assertEqual(j["hub"], hub)
            self.assertEqual(
                {k: j[k] for k in ("id", "type", "downloads", "likes", "last_modified", "task",
                                   "private", "gated")},
                {"id": ALPHA, "type": "model", "downloads": 500, "likes": 7,
                 "last_modified": "2025-01-10T08:30:00Z", "task": "text-generation",
                 "private": False, "gated": False})
        # the tags are each hub's own; raw is the hub's record as it came
        self.assertIn("task:text-generation", ms["tags"])
        self.assertIn("pytorch", hf["tags"])
        self.assertEqual(ms["raw"]["display_name"], "Search Alpha")
        self.assertEqual(ms["raw"]["last_modified"], "2025-01-10T08:30:00Z")
        self.assertEqual(hf["raw"]["lastModified"], "2025-01-10T08:30:00.000Z")
        self.assertEqual(hf["raw"]["pipeline_tag"], "text-generation")

    def test_table_on_a_terminal_fits_its_width(self):
        for hub in ("ms", "hf"):
            with self.subTest(hub=hub):
                pre = list(HF) if hub == "hf" else []
                rc, out, err = self.run_on_tty(*pre, "search", "search", "--sort", "downloads")
                self.assertEqual(rc, 0, err)
                lines = out.splitlines()
                self.assertEqual(lines[0].split(), ["ID", "DOWNLOADS", "LIKES", "UPDATED",
                                                    "TASK/TAGS"])
                self.assertEqual(lines[1].split()[:4],
                                 ["mscli-demo/search-gamma", "5000", "1", "2025-03-03"])
                # narrow: whole columns go, the ids stay whole
                rc, out, err = self.run_on_tty(*pre, "search", "search", cols=40)
                self.assertEqual(rc, 0, err)
                for l in out.splitlines():
                    self.assertLessEqual(len(l), 40, l)
                self.assertIn(ALPHA, out)
                self.assertNotIn("LIKES", out)

    def test_private_repos_need_their_owners_token(self):
        for hub, tok in (("ms", {"MODELSCOPE_API_TOKEN": "ms-goodtoken"}),
                         ("hf", {"HF_TOKEN": "hf_goodtoken"})):
            with self.subTest(hub=hub):
                self.assertNotIn("alice/search-private", ids(self.search("private", hub=hub)))
                r = self.search("private", hub=hub, env=tok)
                self.assertEqual(ids(r), ["alice/search-private"])
                self.assertTrue(self.search("private", "--json", hub=hub, env=tok)
                                .json()[0]["private"])

    def test_no_results(self):
        for hub in ("ms", "hf"):
            for fmt in ((), ("--json",)):
                with self.subTest(hub=hub, fmt=fmt):
                    r = self.search("no-such-thing", *fmt, hub=hub)
                    self.assertEqual(r.out, "")
                    self.assertIn("no models on", r.err)
                    self.assertIn("no-such-thing", r.err)

    def test_bad_values_are_usage_errors_before_any_request(self):
        bad = [("--sort", "stars"), ("--limit", "0"), ("--limit", "ten"), ("--limit", "100001"),
               ("--type", "space"), ("--filter", "")]
        for hub in ("ms", "hf"):
            for args in bad:
                with self.subTest(hub=hub, args=args):
                    self.fails(2, *((HF if hub == "hf" else ()) + ("search",) + args))
        # ModelScope takes only its own filter keys, one value each
        self.fails(2, "search", "--filter", "language:en")
        self.fails(2, "search", "--type", "dataset", "--filter", "library:pytorch")
        self.fails(2, "search", "--filter", "task:a", "--filter", "task:b")
        self.fails(2, "search", "one", "two")
        self.assertEqual(self.search_requests("ms") + self.search_requests("hf"), [])

    def test_json_failure_ends_with_a_done_object(self):
        r = self.fails(2, "--json", "search", "--filter", "language:en")
        done = r.json()[-1]
        self.assertEqual((done["event"], done["status"], done["exit_code"]), ("done", "error", 2))

    def test_rate_limit_honoured(self):
        for hub, path in (("ms", "/openapi/v1/models"), ("hf", "/api/models")):
            with self.subTest(hub=hub):
                self.hub.clear_log()
                f = self.hub.fault("status", path=path, code=429, headers={"Retry-After": "1"})
                r = self.search("search-alpha", hub=hub)
                self.assertEqual(ids(r), [ALPHA])
                self.assertTrue(f.fired)
                self.assertEqual([q.status for q in self.search_requests(hub)], [429, 200])

    def test_offline_is_refused(self):
        self.fails(7, "--offline", "search", "qwen")
        self.fails(7, "--hub", "hf", "search", "qwen", env={"HF_HUB_OFFLINE": "1"})
        self.assertEqual(self.search_requests("ms") + self.search_requests("hf"), [])

    def test_pipeline_into_info(self):
        # mscli search ... | cut -f1 | xargs -n1 mscli info
        for hub in ("ms", "hf"):
            with self.subTest(hub=hub):
                for repo_id in ids(self.search("search", "--limit", "3", hub=hub)):
                    r = self.info(repo_id, hub=hub)
                    self.assertIn("id\t%s" % repo_id, r.lines)


class Info(SearchCase):
    HF_FILES = {"config.json": b'{"model_type": "toy"}\n', "README.md": b"# toy\n",
                "model.safetensors": blob(1_200_000, 71)}   # LFS on Hugging Face
    MS_FILES = {"config.json": b'{"model_type": "toy"}\n', "sub/w.bin": blob(300_000, 72)}

    def repo_json(self, *args, hub="ms"):
        js = self.info("--json", *args, hub=hub).json()
        self.assertEqual(js[0]["event"], "repo")
        self.assertTrue(all(j["event"] == "file" for j in js[1:]))
        return js[0], {j["path"]: j for j in js[1:]}

    def assert_files(self, files, want, hub):
        """Sizes, and SHA-256 (git oid for HF regular files), as the emulator has them."""
        self.assertEqual(set(files), set(want))
        for p, data in want.items():
            f = files[p]
            self.assertEqual(f["size"], len(data), p)
            lfs = hub == "hf" and (p.endswith(".safetensors") or len(data) >= 1 << 20)
            if hub == "ms" or lfs:
                self.assertEqual(f["sha256"], sha256(data), p)
            if hub == "hf" and not lfs:
                self.assertIsNone(f["sha256"], p)
                self.assertEqual(f["oid"], git_sha1(data), p)
            self.assertEqual(f["lfs"], lfs if hub == "hf" else f["lfs"], p)

    def test_hf_model(self):
        repo = self.hub.add_hf_repo("org/toy", files=self.HF_FILES, downloads=12, likes=3,
                                    pipeline_tag="text-generation",
                                    last_modified="2025-05-05T05:05:05Z")
        meta, files = self.repo_json("org/toy", hub="hf")
        self.assertEqual({k: meta[k] for k in ("id", "type", "hub", "revision", "commit",
                                                "files", "size", "downloads", "likes", "task",
                                                "last_modified", "private", "gated")},
                         {"id": "org/toy", "type": "model", "hub": "hf", "revision": "main",
                          "commit": repo.commit, "files": 3,
                          "size": sum(map(len, self.HF_FILES.values())), "downloads": 12,
                          "likes": 3, "task": "text-generation",
                          "last_modified": "2025-05-05T05:05:05Z", "private": False,
                          "gated": False})
        self.assertEqual(meta["raw"]["sha"], repo.commit)
        self.assert_files(files, self.HF_FILES, "hf")
        self.assertTrue(files["model.safetensors"]["lfs"])

    def test_ms_model(self):
        repo = self.hub.add_ms_repo("org/toy", files=self.MS_FILES, downloads=9, likes=2,
                                    tasks=["text-generation"], gated=True)
        meta, files = self.repo_json("org/toy")
        self.assertEqual((meta["id"], meta["hub"], meta["revision"], meta["commit"]),
                         ("org/toy", "modelscope", "master", repo.commit))
        self.assertEqual((meta["files"], meta["size"]),
                         (2, sum(map(len, self.MS_FILES.values()))))
        self.assertEqual((meta["downloads"], meta["likes"], meta["task"], meta["gated"]),
                         (9, 2, "text-generation", True))
        self.assertNotIn("readme", meta["raw"])
        self.assert_files(files, self.MS_FILES, "ms")

    def test_datasets(self):
        for hub in ("ms", "hf"):
            with self.subTest(hub=hub):
                meta, files = self.repo_json("--type", "dataset", "mscli-demo/search-corpus",
                                             hub=hub)
                self.assertEqual((meta["type"], meta["files"]), ("dataset", 2))
                want = {"README.md": emu_search.sample_files("mscli-demo/search-corpus")
                        ["README.md"], "data/train.jsonl": b'{"text": "hi"}\n'}
                self.assert_files(files, want, hub)
                path = "/api/datasets/" if hub == "hf" else "/openapi/v1/datasets/"
                self.assertTrue(self.hub.requests(path=path + "mscli-demo/search-corpus"))
                # a dataset URL names its type too
                r = self.ok("info", "--files", "hf:datasets/mscli-demo/search-corpus"
                            if hub == "hf" else
                            "https://modelscope.cn/datasets/mscli-demo/search-corpus")
                self.assertEqual(sorted(r.lines), ["README.md", "data/train.jsonl"])

    def test_branch_tag_and_commit(self):
        for hub in ("ms", "hf"):
            repo = self.hub.get_repo(hub, ALPHA)
            cases = [("dev", ALPHA_DEV, repo.branches["dev"]),
                     ("v1.0", ALPHA_V1, repo.tags["v1.0"]),
                     (repo.tags["v1.0"], ALPHA_V1, repo.tags["v1.0"]),
                     (None, ALPHA_FILES, repo.commit)]
            for rev, want, commit in cases:
                with self.subTest(hub=hub, rev=rev):
                    args = (ALPHA,) + (("--revision", rev) if rev else ())
                    meta, files = self.repo_json(*args, hub=hub)
                    self.assertEqual(meta["commit"], commit)
                    self.assertEqual(meta["revision"],
                                     rev or ("main" if hub == "hf" else "master"))
                    self.assert_files(files, want, hub)
                    self.assertEqual(meta["size"], sum(map(len, want.values())))
                    self.assertEqual(meta["files"], len(want))
                    # the default branch was last modified when the hub says; another
                    # revision when its commit was made
                    if rev is None:
                        self.assertEqual(meta["last_modified"], "2025-01-10T08:30:00Z")
                    else:
                        self.assertNotEqual(meta["last_modified"], "2025-01-10T08:30:00Z")

    def test_info_and_download_dry_run_agree(self):
        self.hub.add_hf_repo("org/toy", files=self.HF_FILES)
        self.hub.add_ms_repo("org/toy", files=self.MS_FILES)
        for hub in ("ms", "hf"):
            for args in (("org/toy",), (ALPHA, "--revision", "v1.0"),
                         ("--type", "dataset", "mscli-demo/search-corpus")):
                with self.subTest(hub=hub, args=args):
                    _, files = self.repo_json(*args, hub=hub)
                    pre = HF if hub == "hf" else ()
                    plan = self.ok(*pre, "--json", "download", "--dry-run", *args).json()
                    planned = {p["path"]: (p["size"], p["sha256"]) for p in plan
                               if p["event"] == "plan"}
                    self.assertEqual({p: (f["size"], f["sha256"]) for p, f in files.items()},
                                     planned)
                    done = plan[-1]
                    self.assertEqual(done["files"], len(files))
                    self.assertEqual(done["bytes"], sum(f["size"] for f in files.values()))
        # info changes nothing in the cache
        self.assertFalse(os.path.exists(os.path.join(self.cache, "models", "org")))

    def test_table_on_a_terminal_and_tab_separated_into_a_pipe(self):
        self.hub.add_hf_repo("org/toy", files=self.HF_FILES, downloads=12)
        rc, out, err = self.run_on_tty("--hub", "hf", "info", "org/toy", cols=100)
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"(?m)^id +org/toy$")
        self.assertRegex(out, r"(?m)^downloads +12$")
        self.assertRegex(out, r"(?m)^files +3$")
        self.assertRegex(out, r"(?m)^PATH +SIZE +SHA256/OID$")
        big = self.HF_FILES["model.safetensors"]
        self.assertRegex(out, r"(?m)^model\.safetensors +1\.1 MiB +%s$" % sha256(big))
        r = self.info("org/toy", hub="hf")
        self.assertIn("size\t%d" % sum(map(len, self.HF_FILES.values())), r.lines)
        self.assertIn("model.safetensors\t%d\t%s" % (len(big), sha256(big)), r.lines)
        self.assertIn("README.md\t6\t%s" % git_sha1(b"# toy\n"), r.lines)

    def test_files_only(self):
        self.hub.add_ms_repo("org/toy", files=self.MS_FILES)
        r = self.info("org/toy", "--files")
        self.assertEqual(sorted(r.lines), sorted(self.MS_FILES))
        self.fails(2, "--json", "info", "org/toy", "--files")

    def test_not_found_as_download(self):
        """The same exit code and message as download for a missing repo, a missing
        revision, a dataset named as a model, a private repo without a token."""
        cases = [("ms", ("org/none",), 5), ("hf", ("org/none",), 5),
                 ("ms", (ALPHA, "--revision", "nope"), 5),
                 ("hf", (ALPHA, "--revision", "nope"), 5),
                 ("ms", ("mscli-demo/search-corpus",), 5),
                 ("hf", ("mscli-demo/search-corpus",), 5),
                 ("ms", ("alice/search-private",), 6)]
        for hub, args, code in cases:
            with self.subTest(hub=hub, args=args):
                pre = HF if hub == "hf" else ()
                info = self.fails(code, *pre, "info", *args)
                dl = self.fails(code, *pre, "download", "--dry-run", *args)
                self.assertEqual(info.err, dl.err)
        self.assertIn("add --type dataset", self.fails(5, "info", "mscli-demo/search-corpus").err)
        r = self.fails(5, "--json", "info", "org/none")
        self.assertEqual((r.json()[-1]["event"], r.json()[-1]["exit_code"]), ("done", 5))

    def test_private_with_a_token(self):
        for hub, tok in (("ms", {"MODELSCOPE_API_TOKEN": "ms-goodtoken"}),
                         ("hf", {"HF_TOKEN": "hf_goodtoken"})):
            with self.subTest(hub=hub):
                pre = HF if hub == "hf" else ()
                js = self.ok(*pre, "--json", "info", "alice/search-private", env=tok).json()
                self.assertTrue(js[0]["private"])
                self.assertEqual(js[0]["files"], 2)

    def test_gated(self):
        # Hugging Face says "auto" or "manual", ModelScope true: both are gated: true
        self.hub.add_hf_repo("org/gated", files=self.HF_FILES, gated="manual")
        self.hub.add_ms_repo("org/gated", files=self.MS_FILES, gated=True)
        for hub in ("ms", "hf"):
            with self.subTest(hub=hub):
                meta, _ = self.repo_json("org/gated", hub=hub)
                self.assertTrue(meta["gated"])
                js = self.search("--json", "gated", hub=hub).json()
                self.assertEqual([(j["id"], j["gated"]) for j in js], [("org/gated", True)])
                self.assertRegex(self.info("org/gated", hub=hub).out, r"(?m)^gated\tyes$")

    def test_a_file_url_and_offline_are_refused(self):
        self.fails(2, "info", "https://huggingface.co/org/toy/blob/main/config.json")
        self.fails(7, "--offline", "info", ALPHA)


class SearchCap(SearchCase):
    def test_ms_stops_at_its_offset_limit(self):
        # the OpenAPI refuses page_number * page_size > 3000: the 61st page is never asked for
        self.hub.add_repos("ms", 3010, owner="bulk")
        r = self.search("--author", "bulk", "--limit", "5000")
        self.assertEqual(len(r.lines), 3000)
        self.assertIn("lists no more than 3000 results", r.err)
        reqs = self.search_requests("ms")
        self.assertEqual(len(reqs), 60)
        self.assertTrue(all(q.status == 200 for q in reqs))

    def test_a_reader_that_had_enough_is_not_an_error(self):
        # mscli search ... | head -1: the reader goes after one line of 2000 (more than a
        # pipe holds), which is how such pipelines end; under `set -o pipefail` too
        self.hub.add_repos("ms", 2000, owner="bulk")
        for args in (("--author", "bulk", "--limit", "2000"),
                     ("--json", "--author", "bulk", "--limit", "2000")):
            with self.subTest(args=args):
                p = self.spawn("search", *args)
                first = p.stdout.readline()
                p.stdout.close()
                err = p.stderr.read().decode()
                p.stderr.close()
                rc = p.wait(60)
                self.assertTrue(first.startswith(b"bulk/") or b'"bulk/' in first, first)
                self.assertEqual(rc, 0, err)
                self.assertNotIn("error", err)

    def test_rate_limit_that_does_not_end_is_exit_3(self):
        for hub, path in (("ms", "/openapi/v1/models"), ("hf", "/api/models")):
            with self.subTest(hub=hub):
                self.hub.clear_log()
                self.hub.fault("status", path=path, code=429, times=100)
                r = self.fails(3, *((HF if hub == "hf" else ()) +
                                    ("--retries", "2", "search", "search-alpha")))
                self.assertEqual(r.out, "")
                self.assertIn("429", r.err)
                self.assertEqual([q.status for q in self.search_requests(hub)], [429] * 3)
