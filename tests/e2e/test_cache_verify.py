"""mscli cache verify: every cached file re-hashed with no request; corrupt, missing
and unexpected files named; exit 4; --repair downloads exactly what is bad; caches of
the official clients checked by what their layout records, or with --online."""
import os
import re

from cache_helpers import HF_MAIN, HF_V1, MS_FILES, CacheCase, etag


class Verify(CacheCase):
    def test_clean_cache_with_no_request(self):
        self.fill()
        self.hub.clear_log()
        r = self.ok("cache", "verify")
        self.assertEqual(r.out, "")
        self.assertIn("0 corrupt, 0 missing", r.err)
        self.assertEqual(self.hub.log, [])

    def test_flipped_byte_modelscope_found_and_repaired(self):
        self.ok("download", "org/tiny.v1")
        target = os.path.join(self.ms_repo_dir("org/tiny.v1"), "model.safetensors")
        self.flip_byte(target, 12345)
        r = self.fails(4, "cache", "verify")
        self.assertIn("corrupt", r.out)
        self.assertIn("model.safetensors", r.out)
        self.assertEqual(len(r.lines), 1, r)  # only that file
        self.hub.clear_log()
        r = self.ok("cache", "verify", "--repair")
        self.assertIn("repaired", r.out)
        with open(target, "rb") as f:
            self.assertEqual(f.read(), MS_FILES["model.safetensors"])
        # exactly the bad file was fetched
        fetched = [q.path for q in self.hub.log if q.file_path]
        self.assertEqual({q.file_path for q in self.hub.log if q.file_path},
                         {"model.safetensors"}, fetched)
        self.ok("cache", "verify", "ms:org/tiny.v1")

    def test_flipped_byte_in_a_blob_two_revisions_share(self):
        self.ok("--hub", "hf", "download", "org/toy")
        self.ok("--hub", "hf", "download", "org/toy", "--revision", "v1")
        blob = os.path.join(self.hf_folder(), "blobs", etag("config.json", HF_MAIN["config.json"]))
        self.flip_byte(blob, 3)
        r = self.fails(4, "--json", "cache", "verify", "hf:org/toy")
        bad = self.jsonl(r, "file")
        self.assertEqual(len(bad), 1)  # one blob, hashed once, whatever shares it
        self.assertEqual(bad[0]["status"], "corrupt")
        self.assertEqual(bad[0]["path"], "config.json")
        self.assertEqual(bad[0]["local_path"], blob)
        self.assertEqual(bad[0]["algorithm"], "git-sha1")
        done = self.done(r)
        self.assertEqual((done["corrupt"], done["missing"], done["exit_code"]), (1, 0, 4))
        self.ok("cache", "verify", "--repair")
        with open(blob, "rb") as f:
            self.assertEqual(f.read(), HF_MAIN["config.json"])
        for commit, files in ((self.hf_model.commit, HF_MAIN),
                              (self.hf_model.branches["v1"], HF_V1)):
            for p, data in files.items():
                with open(os.path.join(self.hf_snap(commit), p), "rb") as f:
                    self.assertEqual(f.read(), data)
        self.ok("cache", "verify")

    def test_missing_and_unexpected(self):
        self.ok("download", "org/tiny.v1")
        self.ok("--hub", "hf", "download", "org/toy")
        d = self.ms_repo_dir("org/tiny.v1")
        os.unlink(os.path.join(d, "sub/vocab.txt"))
        with open(os.path.join(d, "stray.bin"), "wb") as f:
            f.write(b"not from the hub")
        blobs = os.path.join(self.hf_folder(), "blobs")
        os.unlink(os.path.join(blobs, etag("README.md", HF_MAIN["README.md"])))
        with open(os.path.join(blobs, "0" * 40), "wb") as f:
            f.write(b"orphan")
        r = self.fails(4, "cache", "verify")
        lines = sorted(l.split()[0] + " " + l.split()[2].rstrip(":") for l in r.lines)
        self.assertEqual(lines, ["missing README.md", "missing sub/vocab.txt",
                                 "unexpected blobs/" + "0" * 40, "unexpected stray.bin"])
        self.ok("cache", "verify", "--repair")
        with open(os.path.join(d, "sub/vocab.txt"), "rb") as f:
            self.assertEqual(f.read(), MS_FILES["sub/vocab.txt"])
        self.assertTrue(os.path.exists(os.path.join(d, "stray.bin")))  # not ours to remove
        # unexpected files alone are reported, and are no failure
        r = self.ok("cache", "verify")
        self.assertEqual(len(r.lines), 2)

    def test_huggingface_hub_cache_is_checked_by_its_blob_names(self):
        commit = "b" * 40
        folder = self.make_hf_official("org/off", HF_MAIN, commit)
        self.ok("cache", "verify", "hf:org/off")
        self.flip_byte(os.path.join(folder, "blobs", etag("model.safetensors",
                                                           HF_MAIN["model.safetensors"])), 99)
        r = self.fails(4, "cache", "verify")
        self.assertIn("model.safetensors", r.out)
        self.assertIn("the blob's name", r.out)

    def test_a_file_lost_from_a_snapshot_with_a_tree(self):
        self.ok("--hub", "hf", "download", "org/toy")
        link = os.path.join(self.hf_snap(self.hf_model.commit), "tok/vocab.txt")
        os.unlink(link)
        r = self.fails(4, "cache", "verify")
        self.assertEqual([l.split()[:3] for l in r.lines if "unexpected" not in l],
                         [["missing", "hf:org/toy", "tok/vocab.txt"]])  # its blob: unused
        self.ok("cache", "verify", "--repair")
        with open(link, "rb") as f:
            self.assertEqual(f.read(), HF_MAIN["tok/vocab.txt"])
        self.ok("cache", "verify")
        # what a download filtered out is not lost: no blob of it was ever there
        self.ok("cache", "rm", "-y", "hf:org/toy")
        self.ok("--hub", "hf", "download", "org/toy", "--include", "*.json")
        self.assertEqual(self.ok("cache", "verify").out, "")

    def test_huggingface_hub_cache_without_trees(self):
        # hf_hub_download / transformers write no trees/: a lost file is not seen offline,
        # and verify says so; --online lists the revision and finds it; --repair fetches it
        commit = self.hf_model.commit
        self.make_hf_official("org/toy", {p: d for p, d in HF_MAIN.items()
                                          if p != "tok/vocab.txt"}, commit)
        os.unlink(os.path.join(self.hf_snap(commit), "README.md"))  # its blob stays
        self.hub.clear_log()
        r = self.ok("cache", "verify")
        self.assertRegex(r.err, r"hf:org/toy: revision %s: completeness could not be "
                                r"checked.*--online" % commit[:7])
        self.assertEqual(self.hub.log, [])
        r = self.fails(4, "cache", "verify", "--online")
        self.assertEqual([l.split()[:3] for l in r.lines if "unexpected" not in l],
                         [["missing", "hf:org/toy", "README.md"]])
        self.assertNotIn("completeness", r.err)
        # a file hf_hub_download never fetched is said, not a fault
        self.assertIn("1 file(s) of the hub's listing of %s were never downloaded" % commit[:7],
                      r.err)
        self.assertEqual([q.path for q in self.hub.log if "/tree/" in q.path],
                         [q.path for q in self.hub.log][-1:])  # one listing, no file data
        self.hub.clear_log()
        self.ok("cache", "verify", "--online", "--repair")
        with open(os.path.join(self.hf_snap(commit), "README.md"), "rb") as f:
            self.assertEqual(f.read(), HF_MAIN["README.md"])
        self.assertEqual({q.file_path for q in self.hub.log if q.file_path}, {"README.md"})
        self.assertFalse(os.path.exists(os.path.join(self.hf_snap(commit), "tok/vocab.txt")))

    def test_modelscope_cache_of_another_client(self):
        d = self.make_ms_official("org/tiny.v1", MS_FILES)
        self.hub.clear_log()
        r = self.ok("cache", "verify")
        self.assertIn("could not be checked", r.err)
        self.assertIn("--online", r.err)
        self.assertEqual(self.hub.log, [])
        r = self.flip_then_online(os.path.join(d, "config.json"), 2, "config.json")
        self.assertIn("the hub's listing", r.out)
        self.assertNotIn("could not be checked", r.err)
        listings = [q for q in self.hub.log if "/repo/files" in q.path or "/revisions" in q.path]
        self.assertTrue(listings)
        self.ok("cache", "verify", "--online", "--repair")
        with open(os.path.join(d, "config.json"), "rb") as f:
            self.assertEqual(f.read(), MS_FILES["config.json"])

    def test_progress_bar_on_a_terminal_only(self):
        self.fill()
        rc, err, out = self.tty_run("cache", "verify", cols=80, stream="stderr")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, b"")
        text = re.sub(rb"\x1b\[[0-9;]*[A-Za-z]", b"", err).replace(b"\r", b"\n").decode()
        bars = [l for l in text.split("\n") if l.startswith("verify ")]
        self.assertTrue(bars, text)
        m = re.match(r"^verify (\d+)/(\d+) files .*100% .*MiB/", bars[-1])
        self.assertTrue(m and m.group(1) == m.group(2), bars[-1])
        for l in bars:
            self.assertLess(len(l.rstrip()), 80, repr(l))
        self.assertIn("%s ok, 0 corrupt" % m.group(1), text)
        # not with --no-progress, not into a pipe
        rc, err, out = self.tty_run("--no-progress", "cache", "verify", cols=80)
        self.assertNotIn(b"\x1b[", err)
        self.assertNotIn(b"verify %s/" % m.group(1).encode(), err)
        self.assertNotIn("\x1b[", self.ok("cache", "verify").err)

    def test_one_revision(self):
        self.ok("--hub", "hf", "download", "org/toy")
        self.ok("--hub", "hf", "download", "org/toy", "--revision", "v1")
        blob = os.path.join(self.hf_folder(), "blobs",
                            etag("model.safetensors", HF_MAIN["model.safetensors"]))
        self.flip_byte(blob)
        self.ok("cache", "verify", "hf:org/toy", "--revision", "v1")  # main's weights differ
        self.fails(4, "cache", "verify", "hf:org/toy@main")
        self.fails(7, "cache", "verify", "hf:org/toy", "--revision", "v9")
        self.fails(2, "cache", "verify", "--revision", "v1")
