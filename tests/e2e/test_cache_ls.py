"""mscli cache ls and cache path: both hubs, caches of mscli and of the official
clients, shared blobs counted once, partials and incomplete snapshots flagged."""
import os
import time

from cache_helpers import DS_FILES, HF_MAIN, HF_V1, MS_FILES, CacheCase, etag


class Ls(CacheCase):
    def test_both_hubs_json(self):
        self.fill()
        r = self.ok("--json", "cache", "ls")
        objs = r.json()
        self.assertEqual([(o["hub"], o["type"], o["id"]) for o in objs],
                         [("modelscope", "model", "org/tiny.v1"),
                          ("modelscope", "dataset", "org/data"), ("hf", "model", "org/toy")])
        ms = objs[0]
        for key in ("hub", "type", "id", "revisions", "files", "size", "last_used", "path",
                    "incomplete"):
            self.assertIn(key, ms)
        self.assertEqual(ms["files"], len(MS_FILES))
        self.assertEqual(ms["size"], sum(len(v) for v in MS_FILES.values()))
        self.assertEqual(ms["path"], self.ms_repo_dir("org/tiny.v1"))
        self.assertEqual([v["revision"] for v in ms["revisions"]], ["master"])
        self.assertFalse(ms["incomplete"])
        self.assertAlmostEqual(ms["last_used"], time.time(), delta=120)
        self.assertEqual(objs[1]["size"], sum(len(v) for v in DS_FILES.values()))
        hf = objs[2]
        self.assertEqual(hf["path"], self.hf_folder())
        self.assertEqual(hf["revisions"][0]["revision"], self.hf_model.commit)
        self.assertEqual(hf["revisions"][0]["refs"], ["main"])
        self.assertEqual(hf["size"], sum(len(v) for v in HF_MAIN.values()))
        # --hub narrows, REPO narrows
        self.assertEqual(list(self.ls("--hub", "hf")), [("hf", "model", "org/toy")])
        self.assertEqual(list(self.ls("org/data")), [("modelscope", "dataset", "org/data")])
        self.assertEqual(list(self.ls("hf:org/toy")), [("hf", "model", "org/toy")])
        self.fails(7, "cache", "ls", "org/nothing")

    def test_hf_blobs_shared_by_revisions_count_once(self):
        self.ok("--hub", "hf", "download", "org/toy")
        self.ok("--hub", "hf", "download", "org/toy", "--revision", "v1")
        o = self.ls()[("hf", "model", "org/toy")]
        distinct = {etag(p, d): len(d) for p, d in list(HF_MAIN.items()) + list(HF_V1.items())}
        self.assertEqual(o["files"], len(distinct))  # 6 blobs, not 8 entries
        self.assertEqual(o["size"], sum(distinct.values()))
        revs = {tuple(v["refs"]): v for v in o["revisions"]}
        self.assertEqual(set(revs), {("main",), ("v1",)})
        self.assertEqual(revs[("v1",)]["size"], sum(len(d) for d in HF_V1.values()))
        self.assertEqual(revs[("v1",)]["files"], len(HF_V1))
        self.assertEqual(revs[("v1",)]["revision"], self.hf_model.branches["v1"])

    def test_table_when_piped_is_tab_separated(self):
        self.fill()
        lines = self.ok("cache", "ls").lines
        self.assertEqual(len(lines), 3)
        cells = [l.split("\t") for l in lines]
        self.assertEqual(cells[2][:3], ["org/toy", "hf", "model"])
        self.assertEqual(cells[0][5], str(sum(len(v) for v in MS_FILES.values())))  # bytes
        self.assertRegex(cells[0][6], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_partials_and_incomplete_snapshots_are_flagged(self):
        self.ok("download", "org/tiny.v1", "--include", "*.json")
        self.ok("--hub", "hf", "download", "org/toy")
        part = os.path.join(self.hf_folder(), "blobs", "f" * 64 + ".incomplete")
        with open(part, "wb") as f:
            f.write(b"x" * 1000)
        objs = self.ls()
        ms, hf = objs[("modelscope", "model", "org/tiny.v1")], objs[("hf", "model", "org/toy")]
        self.assertTrue(ms["incomplete"])  # the listing has files the folder lacks
        self.assertFalse(ms["revisions"][0]["complete"])
        self.assertEqual(ms["files"], 1)
        self.assertTrue(hf["incomplete"])
        self.assertEqual(hf["partials"], 1)
        self.assertEqual(hf["partial_size"], 1000)
        self.assertTrue(hf["revisions"][0]["complete"])
        # a partial is no file of the repo
        self.assertEqual(hf["size"], sum(len(v) for v in HF_MAIN.values()))
        # a snapshot entry whose blob is gone
        os.unlink(os.path.join(self.hf_folder(), "blobs", etag("README.md", HF_MAIN["README.md"])))
        os.unlink(part)
        hf = self.ls()[("hf", "model", "org/toy")]
        self.assertTrue(hf["incomplete"])
        self.assertFalse(hf["revisions"][0]["complete"])

    def test_caches_of_the_official_clients(self):
        commit = "a" * 40
        self.make_hf_official("org/off", HF_MAIN, commit, refs=("main", "refs/pr/1"))
        self.make_ms_official("org/old.model", MS_FILES, revision="v2")
        objs = self.ls()
        hf = objs[("hf", "model", "org/off")]
        self.assertEqual(hf["revisions"][0]["refs"], ["main", "refs/pr/1"])
        self.assertEqual(hf["files"], len(HF_MAIN))
        self.assertFalse(hf["revisions"][0]["listed"])  # no trees/<commit>.json
        self.assertFalse(hf["incomplete"])
        ms = objs[("modelscope", "model", "org/old.model")]
        self.assertEqual(ms["revisions"][0]["revision"], "v2")
        self.assertEqual(ms["files"], len(MS_FILES))
        self.assertEqual(ms["size"], sum(len(v) for v in MS_FILES.values()))
        self.assertFalse(ms["revisions"][0]["listed"])

    def test_old_modelscope_client_cache_with_a_file_gone(self):
        # what .msc lists must be there: ls agrees with path and verify
        d = self.make_ms_official("org/tiny.v1", MS_FILES)
        self.assertFalse(self.ls()[("modelscope", "model", "org/tiny.v1")]["incomplete"])
        self.ok("cache", "path", "org/tiny.v1")
        os.unlink(os.path.join(d, "sub/vocab.txt"))
        o = self.ls()[("modelscope", "model", "org/tiny.v1")]
        self.assertTrue(o["incomplete"])
        self.assertFalse(o["revisions"][0]["complete"])
        self.assertIn("incomplete", self.ok("cache", "ls").out)
        self.fails(7, "cache", "path", "org/tiny.v1")
        self.fails(4, "cache", "verify", "org/tiny.v1")

    def test_nothing_cached(self):
        r = self.ok("cache", "ls")
        self.assertEqual(r.out, "")
        # an empty answer says where it looked: both hubs' roots, or the one --cache-dir
        self.assertIn("nothing cached in %s, %s" % (self.cache, self.hfcache), r.err)
        self.assertIn("nothing cached in %s\n" % self.hfcache,
                      self.ok("--hub", "hf", "cache", "ls").err)
        self.assertEqual(self.ok("-q", "cache", "ls").err, "")
        self.assertEqual(self.ok("--json", "cache", "ls").out, "")
        self.assertFalse(os.path.exists(self.cache))  # looking creates nothing
        self.assertFalse(os.path.exists(self.hfcache))


LONG_ID = "some-organisation/" + "a-rather-long-model-name-with-a-suffix-" * 2 + "instruct-v2"


class LsOnATerminal(CacheCase):
    """The table fitted to the terminal: a long id is shortened before the facts beside it
    go, STATUS is the last to go, REVISIONS is whole when there is room."""

    def table(self, cols):
        rc, out, err = self.tty_run("cache", "ls", cols=cols, stream="stdout")
        self.assertEqual(rc, 0, err)
        lines = out.decode().replace("\r\n", "\n").splitlines()
        for l in lines:
            self.assertLessEqual(len(l), cols, l)
        return lines

    def test_long_id_at_80_100_200_columns(self):
        self.ok("--hub", "hf", "download", "org/toy")
        self.ok("--hub", "hf", "download", "org/toy", "--revision", "v1")
        folder = self.make_hf_official(LONG_ID, HF_MAIN, "c" * 40)
        os.unlink(os.path.join(folder, "blobs", etag("README.md", HF_MAIN["README.md"])))
        revs = "main@%s v1@%s" % (self.hf_model.commit[:7], self.hf_model.branches["v1"][:7])
        for cols in (80, 100, 200):
            with self.subTest(cols=cols):
                head, toy, long = self.table(cols)
                for c in ("REPO", "HUB", "TYPE", "REVISIONS", "FILES", "SIZE", "STATUS"):
                    self.assertIn(c, head.split())
                self.assertTrue(long.rstrip().endswith("1 broken"), long)
                if cols == 200:
                    self.assertIn("LAST USED", head)
                    self.assertTrue(long.startswith(LONG_ID + "  "), long)
                else:
                    self.assertRegex(long, r"^some-organisation/a-rat.*\.\.\.  hf ")
                if cols >= 100:
                    self.assertIn("LAST USED", head)
                    self.assertIn(revs, toy)  # REVISIONS takes the room left


class Path(CacheCase):
    def test_path_is_what_download_prints_with_no_request(self):
        self.fill()
        self.ok("--hub", "hf", "download", "org/toy", "--revision", "v1")
        want = self.ok("--offline", "download", "org/tiny.v1").lines[0]
        self.hub.clear_log()
        self.assertEqual(self.ok("cache", "path", "org/tiny.v1").lines, [want])
        self.assertEqual(self.ok("cache", "path", "ms:org/tiny.v1", "sub/vocab.txt").lines,
                         [os.path.join(want, "sub/vocab.txt")])
        self.assertEqual(self.ok("cache", "path", "hf:org/toy").lines,
                         [self.hf_snap(self.hf_model.commit)])
        self.assertEqual(self.ok("cache", "path", "hf:org/toy@v1").lines,
                         [self.hf_snap(self.hf_model.branches["v1"])])
        self.assertEqual(self.ok("cache", "path", "hf:org/toy", "--revision", "v1",
                                 "config.json").lines,
                         [os.path.join(self.hf_snap(self.hf_model.branches["v1"]), "config.json")])
        self.assertEqual(self.ok("cache", "path", "--type", "dataset", "org/data").lines,
                         [self.ms_repo_dir("org/data", "datasets")])
        self.assertEqual(self.hub.log, [])

    def test_not_cached_or_incomplete_is_exit_7(self):
        self.ok("download", "org/tiny.v1", "--include", "*.json")
        self.ok("--hub", "hf", "download", "org/toy")
        self.fails(7, "cache", "path", "org/nothing")
        self.fails(7, "cache", "path", "ms:org/tiny.v1")  # not every file of master is there
        self.ok("cache", "path", "ms:org/tiny.v1", "config.json")
        self.fails(7, "cache", "path", "ms:org/tiny.v1", "model.safetensors")
        self.fails(7, "cache", "path", "hf:org/toy", "--revision", "v1")
        self.fails(7, "cache", "path", "hf:org/toy", "no-such-file")

    def test_a_repo_in_two_hubs_must_be_named(self):
        self.ok("download", "org/tiny.v1")
        self.hub.add_hf_repo("org/tiny.v1", files={"a.txt": b"a"})
        self.ok("--hub", "hf", "download", "org/tiny.v1")
        r = self.fails(2, "cache", "path", "org/tiny.v1")
        self.assertIn("hf:org/tiny.v1", r.err)
        self.assertIn("modelscope:org/tiny.v1", r.err)
        self.ok("--hub", "hf", "cache", "path", "org/tiny.v1")

    def complete(self, *words):
        return self.ok("__complete", *words, fast_retry=False).lines

    def test_completion_offers_cached_ids(self):
        self.fill()
        out = self.complete("bash", "cache", "rm", "")
        self.assertEqual(out, ["org/data", "org/tiny.v1", "org/toy"])
        out = self.complete("bash", "--hub", "hf", "cache", "verify", "x", "")
        self.assertEqual(out, ["org/toy"])
        out = self.complete("fish", "cache", "export", "hf:")
        self.assertEqual(out, ["hf:org/toy"])
        self.assertIn("prune", self.complete("bash", "cache", ""))
