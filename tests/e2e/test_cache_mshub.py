"""mscli cache on modelscope_hub's layout (modelscope >= 1.38, `ms download`):
B/{models|datasets}/<owner>--<name>/snapshots/<revision>/<path>, partials next to
their file, per-file flocks in B/.lock/, no hashes (reference §4.2, _download.py)."""
import fcntl
import os
import time

from cache_helpers import DS_FILES, MS_FILES, CacheCase


def lock_name(kind, repo_id, path):
    """_lock_path: <type>_<owner>___<name>_<path, '/' -> '___', '.' -> '_'>.lock"""
    return "%s_%s_%s.lock" % (kind, repo_id.replace("/", "___"),
                              path.replace("/", "___").replace(".", "_"))


class MsHubCase(CacheCase):
    def make_mshub(self, repo_id, files, revision="master", kind="model", root=None,
                   partials=None):
        """What `ms download` leaves: plain files in the snapshot, a lock file per file
        (filelock never deletes them), partials as given ({name: bytes})."""
        root = root or self.cache
        folder = os.path.join(root, kind + "s", repo_id.replace("/", "--"))
        snap = os.path.join(folder, "snapshots", revision)
        for p, data in dict(files, **(partials or {})).items():
            os.makedirs(os.path.dirname(os.path.join(snap, p)), exist_ok=True)
            with open(os.path.join(snap, p), "wb") as f:
                f.write(data)
        os.makedirs(os.path.join(root, ".lock"), exist_ok=True)
        for p in files:
            open(os.path.join(root, ".lock", lock_name(kind, repo_id, p)), "w").close()
        return folder

    def lock(self, repo_id, path, kind="model", root=None):
        f = open(os.path.join(root or self.cache, ".lock", lock_name(kind, repo_id, path)), "w")
        fcntl.flock(f, fcntl.LOCK_EX)
        self.addCleanup(f.close)
        return f

    def ls_layout(self, *args, **kw):
        r = self.ok("--json", "cache", "ls", *args, **kw)
        return {(o["layout"], o["type"], o["id"]): o for o in r.json()}


PARTIALS = {"model.safetensors.incomplete": b"p" * 3000,
            "big.bin_0_1048575": b"r" * 2000, "big.bin_1048576_1500000": b"s" * 1000,
            "big.bin.parallel_tmp": b"t" * 500}


class Ls(MsHubCase):
    def test_listed_with_its_layout_beside_mscli_s_own(self):
        folder = self.make_mshub("org/tiny.v1", MS_FILES)
        self.make_mshub("org/tiny.v1", {"config.json": b"{}"}, revision="v1")
        self.make_mshub("org/data", DS_FILES, kind="dataset")
        self.ok("download", "--type", "dataset", "org/data")  # mscli's (OLD) layout, same root
        objs = self.ls_layout()
        self.assertEqual(set(objs), {("modelscope_hub", "model", "org/tiny.v1"),
                                     ("modelscope_hub", "dataset", "org/data"),
                                     ("modelscope", "dataset", "org/data")})
        m = objs[("modelscope_hub", "model", "org/tiny.v1")]
        self.assertEqual(m["hub"], "modelscope")
        self.assertEqual(m["path"], folder)
        self.assertEqual([v["revision"] for v in m["revisions"]], ["master", "v1"])
        self.assertEqual(m["revisions"][0]["path"], os.path.join(folder, "snapshots", "master"))
        self.assertEqual(m["revisions"][0]["files"], len(MS_FILES))
        self.assertEqual(m["files"], len(MS_FILES) + 1)
        self.assertEqual(m["size"], sum(len(v) for v in MS_FILES.values()) + 2)
        self.assertFalse(m["incomplete"])
        self.assertFalse(m["revisions"][0]["listed"])
        self.assertGreater(m["last_used"], time.time() - 3600)
        for o in self.ok("--json", "cache", "ls").json():
            self.assertIn(o["layout"], ("modelscope", "modelscope_hub", "huggingface"))
        # piped: tab-separated, the layout last
        rows = [ln.split("\t") for ln in self.ok("cache", "ls").out.splitlines()]
        self.assertIn(["org/tiny.v1", "modelscope", "model", "master v1", str(len(MS_FILES) + 1)],
                      [row[:5] for row in rows])
        self.assertEqual(sorted(row[-1] for row in rows),
                         ["modelscope", "modelscope_hub", "modelscope_hub"])
        self.assertNotIn("snapshots", self.ok("cache", "ls").out.replace(folder, ""))

    def test_partials_flag_it_incomplete(self):
        self.make_mshub("org/tiny.v1", MS_FILES, partials=PARTIALS)
        m = self.ls_layout()[("modelscope_hub", "model", "org/tiny.v1")]
        self.assertTrue(m["incomplete"])
        self.assertEqual(m["partials"], len(PARTIALS))
        self.assertEqual(m["partial_size"], sum(len(v) for v in PARTIALS.values()))
        self.assertEqual(m["files"], len(MS_FILES))
        self.assertFalse(m["revisions"][0]["complete"])

    def test_default_roots_without_modelscope_cache(self):
        del self.env["MODELSCOPE_CACHE"]
        env = None
        base = os.path.join(self.home, ".cache", "modelscope")
        self.make_mshub("org/tiny.v1", MS_FILES, root=base)
        self.make_ms_official("org/old", MS_FILES, root=os.path.join(base, "hub"))
        objs = self.ls_layout(env=env)
        self.assertEqual(objs[("modelscope_hub", "model", "org/tiny.v1")]["path"],
                         os.path.join(base, "models", "org--tiny.v1"))
        self.assertIn(("modelscope", "model", "org/old"), objs)
        self.assertEqual(len(objs), 2)
        # --cache-dir names the root of both layouts
        objs = self.ls_layout("--cache-dir", base, env=env)
        self.assertEqual(set(objs), {("modelscope_hub", "model", "org/tiny.v1")})


    def test_completion_offers_its_ids(self):
        self.make_mshub("org/tiny.v1", MS_FILES)
        self.make_mshub("org/data", DS_FILES, kind="dataset")
        out = self.ok("__complete", "bash", "cache", "rm", "", fast_retry=False).lines
        self.assertEqual(out, ["org/data", "org/tiny.v1"])


class Path(MsHubCase):
    def test_snapshot_and_file(self):
        folder = self.make_mshub("org/tiny.v1", MS_FILES, partials=PARTIALS)
        snap = os.path.join(folder, "snapshots", "master")
        self.assertEqual(self.ok("cache", "path", "org/tiny.v1").out.strip(), snap)
        self.assertEqual(self.ok("cache", "path", "org/tiny.v1", "sub/vocab.txt").out.strip(),
                         os.path.join(snap, "sub", "vocab.txt"))
        self.fails(7, "cache", "path", "org/tiny.v1", "big.bin")  # only partials of it
        self.fails(7, "cache", "path", "org/tiny.v1", "--revision", "v9")
        self.make_mshub("org/tiny.v1", {"a.txt": b"a"}, revision="v1")
        self.assertEqual(self.ok("cache", "path", "org/tiny.v1@v1", "a.txt").out.strip(),
                         os.path.join(folder, "snapshots", "v1", "a.txt"))
        j = self.ok("--json", "cache", "path", "org/tiny.v1").json()[0]
        self.assertEqual(j["layout"], "modelscope_hub")

    def test_in_both_layouts_path_is_mscli_s_and_rm_takes_both(self):
        folder = self.make_mshub("org/tiny.v1", MS_FILES)
        self.ok("download", "org/tiny.v1")
        objs = self.ls_layout("org/tiny.v1")
        self.assertEqual(set(objs), {("modelscope", "model", "org/tiny.v1"),
                                     ("modelscope_hub", "model", "org/tiny.v1")})
        # modelscope_hub itself reads the folder of the older layout when it is there
        self.assertEqual(self.ok("cache", "path", "org/tiny.v1").out.strip(),
                         self.ms_repo_dir("org/tiny.v1"))
        r = self.ok("cache", "rm", "org/tiny.v1", "-y")
        self.assertIn(folder, r.out)
        self.assertIn(self.ms_repo_dir("org/tiny.v1"), r.out)
        self.assertFalse(os.path.exists(folder))
        self.assertFalse(os.path.exists(self.ms_repo_dir("org/tiny.v1")))
        self.assertEqual(self.ls_layout(), {})


class Verify(MsHubCase):
    def test_not_checkable_offline_online_finds_a_flipped_byte(self):
        folder = self.make_mshub("org/tiny.v1", MS_FILES, partials=PARTIALS)
        self.hub.clear_log()
        r = self.ok("cache", "verify", "org/tiny.v1")
        self.assertIn("%d file(s) could not be checked" % len(MS_FILES), r.err)
        self.assertIn("modelscope_hub's layout records no hashes", r.err)
        self.assertIn("--online", r.err)
        self.assertEqual(self.hub.log, [])
        self.ok("cache", "verify", "--online", "org/tiny.v1")
        snap = os.path.join(folder, "snapshots", "master")
        r = self.flip_then_online(os.path.join(snap, "model.safetensors"), 100,
                                  "model.safetensors")
        self.assertNotIn("config.json", r.out)
        self.assertNotIn("--repair", r.err)  # it could not: see below
        r = self.fails(4, "--json", "cache", "verify", "--online", "org/tiny.v1")
        bad = [o for o in r.json() if o.get("status") == "corrupt"]
        self.assertEqual([o["path"] for o in bad], ["model.safetensors"])
        # --repair cannot write that layout: it says so, and the file is left
        r = self.fails(4, "cache", "verify", "--online", "--repair", "org/tiny.v1")
        self.assertIn("ms download org/tiny.v1 --force", r.err)
        self.assertFalse([q for q in self.hub.log if q.file_path])

    def test_a_file_the_hub_does_not_list_is_unexpected(self):
        folder = self.make_mshub("org/tiny.v1", dict(MS_FILES, **{"stray.txt": b"x"}))
        r = self.ok("cache", "verify", "--online")
        self.assertIn("stray.txt", r.err + r.out)
        self.assertTrue(os.path.exists(os.path.join(folder, "snapshots", "master", "stray.txt")))


class Rm(MsHubCase):
    def test_one_revision_then_the_repo_with_its_lock_files(self):
        folder = self.make_mshub("org/tiny.v1", MS_FILES)
        self.make_mshub("org/tiny.v1", {"a.txt": b"a"}, revision="v1")
        self.make_mshub("org/other", {"config.json": b"{}"})
        self.make_mshub("org/tiny.v1_x", {"b.txt": b"b"})  # its locks start like ours
        locks = os.path.join(self.cache, ".lock")
        others = sorted([lock_name("model", "org/other", "config.json"),
                         lock_name("model", "org/tiny.v1_x", "b.txt")])
        before = self.tree(self.tmp)
        r = self.ok("cache", "rm", "org/tiny.v1", "--revision", "v1", "--dry-run")
        self.assertIn(os.path.join(folder, "snapshots", "v1"), r.out)
        self.assertEqual(self.tree(self.tmp), before)
        self.fails(2, "cache", "rm", "org/tiny.v1")  # stdin is no terminal: -y
        self.fails(7, "cache", "rm", "org/tiny.v1", "--revision", "v9", "-y")
        r = self.ok("cache", "rm", "org/tiny.v1@v1", "-y")
        self.assertFalse(os.path.exists(os.path.join(folder, "snapshots", "v1")))
        self.assertTrue(os.path.isdir(os.path.join(folder, "snapshots", "master")))
        objs = self.ls_layout()
        self.assertEqual([v["revision"] for v in
                          objs[("modelscope_hub", "model", "org/tiny.v1")]["revisions"]],
                         ["master"])
        r = self.ok("cache", "rm", "ms:org/tiny.v1", "-y")
        self.assertIn(folder, r.out)
        self.assertFalse(os.path.exists(folder))
        self.assertEqual(sorted(os.listdir(locks)), others)
        self.assertEqual(set(self.ls_layout()), {("modelscope_hub", "model", "org/other"),
                                                 ("modelscope_hub", "model", "org/tiny.v1_x")})

    def test_a_lock_held_by_a_download_keeps_everything(self):
        folder = self.make_mshub("org/tiny.v1", MS_FILES, partials=PARTIALS)
        self.lock("org/tiny.v1", "model.safetensors")
        before = self.tree(self.tmp)
        r = self.fails(1, "cache", "rm", "org/tiny.v1", "-y")
        self.assertIn("being downloaded", r.err)
        self.assertEqual(self.tree(self.tmp), before)
        self.assertTrue(os.path.isdir(folder))

    def test_symlinks_are_not_followed(self):
        outside = os.path.join(self.tmp, "outside")
        os.makedirs(outside)
        with open(os.path.join(outside, "keep.txt"), "w") as f:
            f.write("keep")
        folder = self.make_mshub("org/tiny.v1", MS_FILES)
        os.symlink(outside, os.path.join(folder, "snapshots", "master", "link"))
        self.ok("cache", "rm", "org/tiny.v1", "-y")
        self.assertFalse(os.path.lexists(folder))
        self.assertTrue(os.path.exists(os.path.join(outside, "keep.txt")))


class Prune(MsHubCase):
    def test_incomplete_removes_partials_nobody_writes(self):
        folder = self.make_mshub("org/tiny.v1", MS_FILES, partials=PARTIALS)
        snap = os.path.join(folder, "snapshots", "master")
        # a range part that a download is merging now stays
        self.lock("org/tiny.v1", "big.bin")
        r = self.ok("cache", "prune", "--incomplete")
        self.assertIn("being downloaded", r.err)
        self.assertFalse(os.path.exists(os.path.join(snap, "model.safetensors.incomplete")))
        for p in ("big.bin_0_1048575", "big.bin_1048576_1500000", "big.bin.parallel_tmp"):
            self.assertTrue(os.path.exists(os.path.join(snap, p)), p)
        for p in MS_FILES:
            self.assertTrue(os.path.exists(os.path.join(snap, p)), p)
        m = self.ls_layout()[("modelscope_hub", "model", "org/tiny.v1")]
        self.assertEqual(m["partials"], 3)

    def test_lru_and_age_take_its_repos_too(self):
        old = self.make_mshub("org/old", {"w.bin": b"o" * 4000})
        new = self.make_mshub("org/new", {"w.bin": b"n" * 4000})
        past = time.time() - 40 * 86400
        for d, dirs, files in os.walk(old):
            for n in files + dirs + ["."]:
                os.utime(os.path.join(d, n), (past, past))
        r = self.ok("cache", "prune", "--max-size", "5000")
        self.assertIn(old, r.out)
        self.assertFalse(os.path.exists(old))
        self.assertTrue(os.path.exists(new))
        past = time.time() - 10 * 86400
        for d, dirs, files in os.walk(new):
            for n in files + dirs + ["."]:
                os.utime(os.path.join(d, n), (past, past))
        self.ok("cache", "prune", "--older-than", "30d")
        self.assertTrue(os.path.exists(new))
        self.ok("cache", "prune", "--older-than", "7d")
        self.assertFalse(os.path.exists(new))


class Export(MsHubCase):
    def test_refused_with_one_line(self):
        folder = self.make_mshub("org/tiny.v1", MS_FILES)
        out = os.path.join(self.tmp, "b.tar.zst")
        r = self.fails(2, "cache", "export", "org/tiny.v1", "-o", out)
        self.assertIn("modelscope_hub's layout", r.err)
        self.assertIn(folder, r.err)
        self.assertEqual(len(r.errors), 1)
        self.assertFalse(os.path.exists(out))
        self.assertEqual(os.listdir(self.tmp).count("b.tar.zst"), 0)
        # in both layouts: mscli's folder is what goes into the bundle
        self.ok("download", "org/tiny.v1")
        self.ok("cache", "export", "org/tiny.v1", "-o", out)
        self.assertTrue(os.path.getsize(out) > 0)
