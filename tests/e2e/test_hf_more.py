"""mscli download from Hugging Face: what the ModelScope tests cover for their
hub, on the HF side -- file selection, --dry-run, -o, unsafe and malformed
listings, CDN faults (disconnects, ignored Range, bad Content-Range) and the
documented exit codes (DESIGN.md)."""
import os
import resource
import shutil
import signal
import subprocess
import sys
import unittest
import urllib.request

from support import ROOT, SLOW, Case, blob, command, git_sha1, sha256

sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
from nginx import free_port  # noqa: E402

REGULAR = {
    "config.json": b'{"model_type": "toy"}\n',
    "README.md": b"# toy\n",
    "tokenizer/vocab.txt": b"a\nb\nc\n",
    "tokenizer.json": blob(600_000, 61),        # regular (< 1 MiB): served by resolve-cache
}
LFS = {
    "model.safetensors": blob(1_500_000, 62),   # LFS: 302 to the CDN
    "sub/weights.bin": blob(1_100_000, 63),     # LFS by size (>= 1 MiB)
}
FILES = dict(REGULAR, **LFS)
H = ("--hub", "hf")


def etag(path, data):
    return sha256(data) if path in LFS else git_sha1(data)


class HFCase(Case):
    def setUp(self):
        super().setUp()
        self.repo = self.hub.add_hf_repo("org/toy", files=FILES)
        self.hfcache = os.path.join(self.tmp, "hfcache")
        self.env["HF_HUB_CACHE"] = self.hfcache
        self.folder = os.path.join(self.hfcache, "models--org--toy")
        self.blobs = os.path.join(self.folder, "blobs")

    def snap(self, path=None):
        d = os.path.join(self.folder, "snapshots", self.repo.commit)
        return os.path.join(d, path) if path else d

    def snapshot_files(self):
        out = set()
        for d, _, names in os.walk(self.snap()):
            for n in names:
                out.add(os.path.relpath(os.path.join(d, n), self.snap()))
        return out

    def assert_file(self, path, data=None):
        data = FILES[path] if data is None else data
        with open(self.snap(path), "rb") as f:
            self.assertEqual(sha256(f.read()), sha256(data), path)
        self.assertTrue(os.path.isfile(os.path.join(self.blobs, etag(path, data))), path)

    def assert_no_partials(self):
        for d, _, names in os.walk(self.hfcache):
            for n in names:
                self.assertFalse(n.endswith(".incomplete"), os.path.join(d, n))

    def file_gets(self, path, server=None):
        return [q for q in self.hub.log if q.method == "GET" and q.file_path == path
                and q.status in (200, 206, 416, 429, 503)
                and (server is None or q.server == server)]

    def json_files(self, r):
        return {e["path"]: e for e in r.json() if e["event"] == "file"}

    def raw(self, *args, timeout=60, preexec_fn=None):
        """mscli with stdout as bytes (for -o -)."""
        p = subprocess.run(command(["--retry-delay", "0.05"] + list(args)), env=self.env,
                           capture_output=True, timeout=timeout * SLOW, preexec_fn=preexec_fn)
        err = p.stderr.decode("utf-8", "replace")
        self.assertNotIn("AddressSanitizer", err)
        self.assertNotIn("runtime error", err)
        return p.returncode, p.stdout, err

    def within(self, seconds, *args):
        """mscli that must end within `seconds` (a hang is a failure, not an error)."""
        try:
            return self.mscli(*args, timeout=seconds)
        except subprocess.TimeoutExpired:
            self.fail("mscli %s did not finish within %s s" % (" ".join(args), seconds))

    def tree_of(self, top):
        out = set()
        for d, dirs, names in os.walk(top):
            for n in dirs + names:
                out.add(os.path.relpath(os.path.join(d, n), top))
        return out


class Selection(HFCase):
    def test_include_exclude_globs(self):
        r = self.ok(*H, "--json", "download", "org/toy", "--include", "*.json",
                    "--include", "tokenizer/", "--exclude", "README*", "--exclude", "config*")
        self.assertEqual(set(self.json_files(r)), {"tokenizer.json", "tokenizer/vocab.txt"})
        self.assertEqual(self.snapshot_files(), {"tokenizer.json", "tokenizer/vocab.txt"})
        # files that are not selected are not even resolved
        asked = {q.file_path for q in self.hub.log if "/resolve/" in q.path}
        self.assertEqual(asked, {"tokenizer.json", "tokenizer/vocab.txt"})
        self.assertEqual(self.hub.body_bytes(), len(FILES["tokenizer.json"]) +
                         len(FILES["tokenizer/vocab.txt"]))
        # a comma-separated --include is split; --exclude wins over --include
        r = self.ok(*H, "--json", "download", "org/toy", "--include", "*.md,config.json",
                    "--exclude", "*.md")
        self.assertEqual(set(self.json_files(r)), {"config.json"})
        # '*' crosses '/' (fnmatch, like huggingface_hub); a '/' pattern is a folder
        r = self.ok(*H, "--json", "download", "org/toy", "--include", "*.bin")
        self.assertEqual(set(self.json_files(r)), {"sub/weights.bin"})
        self.assert_file("sub/weights.bin")
        # patterns are case-sensitive: nothing matches, nothing is fetched
        self.hub.clear_log()
        r = self.ok(*H, "download", "org/toy", "--include", "*.JSON")
        self.assertIn("nothing to download", r.err)
        self.assertEqual(r.lines, [self.snap()])
        self.assertEqual(self.hub.body_bytes(), 0)
        self.assertEqual(self.snapshot_files(), {"tokenizer.json", "tokenizer/vocab.txt",
                                                 "config.json", "sub/weights.bin"})
        for p in self.snapshot_files():
            self.assert_file(p)

    def test_explicit_files(self):
        r = self.ok(*H, "download", "org/toy", "config.json", "sub/weights.bin")
        self.assertEqual(r.lines, [self.snap()])      # several FILEs: the snapshot directory
        self.assertEqual(self.snapshot_files(), {"config.json", "sub/weights.bin"})
        self.assert_file("config.json")
        self.assert_file("sub/weights.bin")
        # a FILE ending in '/' is a folder ('tokenizer/' is not 'tokenizer.json');
        # --include is ignored when FILEs are given, with a warning
        r = self.ok(*H, "--json", "download", "org/toy", "tokenizer/", "--include", "*.md")
        self.assertIn("ignored", r.err)
        self.assertEqual(set(self.json_files(r)), {"tokenizer/vocab.txt"})
        self.assertFalse(os.path.lexists(self.snap("README.md")))
        self.assertFalse(os.path.lexists(self.snap("tokenizer.json")))
        # one FILE the repo does not have: exit 5 naming it, nothing fetched
        self.hub.clear_log()
        r = self.fails(5, *H, "download", "org/toy", "README.md", "nope.bin")
        self.assertIn("nope.bin", r.err)
        self.assertEqual(self.hub.body_bytes(), 0)
        self.assertFalse(os.path.lexists(self.snap("README.md")))
        self.assertTrue(os.path.isfile(os.path.join(self.folder, ".no_exist", self.repo.commit,
                                                    "nope.bin")))


class DryRun(HFCase):
    def assert_no_file_requests(self):
        for q in self.hub.log:
            self.assertTrue(q.server == "hub" and (q.path.startswith("/api/models/") or
                                                   q.method == "HEAD"), q)
        self.assertEqual(self.hub.body_bytes(), 0)

    def test_dry_run_writes_and_fetches_nothing(self):
        r = self.ok(*H, "download", "org/toy", "--dry-run")
        self.assertEqual(r.lines[-1], "[dry-run] would download 6 of 6 files (3.1 MiB)")
        planned = {l.split()[-1]: l.split()[0] for l in r.lines[:-1]}
        self.assertEqual(planned, {p: "download" for p in FILES})
        self.assertFalse(os.path.exists(self.hfcache))
        self.assert_no_file_requests()
        # what is cached is shown as cached; --include applies
        self.ok(*H, "download", "org/toy", "config.json")
        self.hub.clear_log()
        r = self.ok(*H, "download", "org/toy", "--dry-run", "--include", "*.json")
        planned = {l.split()[-1]: l.split()[0] for l in r.lines[:-1]}
        self.assertEqual(planned, {"config.json": "cached", "tokenizer.json": "download"})
        self.assertTrue(r.lines[-1].startswith("[dry-run] would download 1 of 2 files"), r)
        self.assert_no_file_requests()
        # --json: one "plan" object per file, then "done"
        r = self.ok(*H, "--json", "download", "org/toy", "--dry-run")
        events = r.json()
        plan = {e["path"]: e for e in events if e["event"] == "plan"}
        self.assertEqual(set(plan), set(FILES))
        self.assertEqual(plan["config.json"]["status"], "cached")
        self.assertEqual(plan["model.safetensors"]["status"], "would_download")
        self.assertEqual(plan["model.safetensors"]["sha256"], sha256(LFS["model.safetensors"]))
        self.assertEqual(plan["sub/weights.bin"]["size"], len(LFS["sub/weights.bin"]))
        self.assertEqual(events[-1]["event"], "done")
        self.assertTrue(events[-1]["dry_run"])
        self.assertEqual(events[-1]["would_download"], 5)
        self.assertFalse([e for e in events if e["event"] == "file"])
        self.assertEqual(os.listdir(self.blobs), [git_sha1(REGULAR["config.json"])])
        self.assert_no_file_requests()

    def test_dry_run_of_one_file_local_dir_and_output(self):
        ld = os.path.join(self.tmp, "ld")
        out = os.path.join(self.tmp, "out.bin")
        r = self.ok(*H, "download", "org/toy", "model.safetensors", "--dry-run", "-o", out)
        self.assertEqual(r.lines[-1], "[dry-run] would download 1 of 1 files (1.4 MiB)")
        r = self.ok(*H, "download", "org/toy", "--dry-run", "--local-dir", ld)
        self.assertIn("would download 6 of 6", r.out)
        self.assertFalse(os.path.exists(out))
        self.assertFalse(os.path.exists(ld))
        self.assertFalse(os.path.exists(self.hfcache))
        self.assert_no_file_requests()

    # The dry run's "done" carries what man/mscli.1 (OUTPUT) lists for every "done".
    def test_dry_run_json_done_has_the_documented_fields(self):
        r = self.ok(*H, "--json", "download", "org/toy", "--dry-run")
        done = r.json()[-1]
        self.assertEqual(done["event"], "done")
        self.assertEqual((done.get("status"), done.get("repo"), done.get("revision")),
                         ("ok", "org/toy", "main"))

    # --offline --dry-run shows the plan (once it printed the snapshot path instead).
    def test_dry_run_offline_shows_the_plan(self):
        self.ok(*H, "download", "org/toy", "config.json", "README.md")
        r = self.ok(*H, "--offline", "download", "org/toy", "config.json", "--dry-run")
        self.assertIn("[dry-run]", r.out)


class Output(HFCase):
    def test_output_path(self):
        for path in ("model.safetensors", "config.json"):
            with self.subTest(path=path):
                out = os.path.join(self.tmp, "copies", path.replace("/", "_"))
                os.makedirs(os.path.dirname(out), exist_ok=True)
                with open(out, "wb") as f:
                    f.write(b"old content, replaced")
                r = self.ok(*H, "download", "org/toy", path, "-o", out)
                self.assertEqual(r.lines, [out])
                with open(out, "rb") as f:
                    self.assertEqual(f.read(), FILES[path])
                self.assert_file(path)              # and it is in the cache
        self.assertEqual(sorted(os.listdir(os.path.join(self.tmp, "copies"))),
                         ["config.json", "model.safetensors"])   # no temporaries left

    def test_output_stdout(self):
        for path in ("model.safetensors", "tokenizer/vocab.txt", "tokenizer.json"):
            with self.subTest(path=path):
                rc, out, err = self.raw(*H, "download", "org/toy", path, "-o", "-")
                self.assertEqual(rc, 0, err)
                self.assertEqual(out, FILES[path])
        # cached: streamed from the cache, no byte fetched; -q: nothing on stderr
        self.hub.clear_log()
        rc, out, err = self.raw(*H, "-q", "download", "org/toy", "model.safetensors", "-o", "-")
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out, LFS["model.safetensors"])
        self.assertEqual(self.hub.body_bytes(), 0)

    def test_output_never_carries_unverified_bytes(self):
        self.hub.add_hf_repo("org/bad", files=FILES,
                             sha256_override={"model.safetensors": "cd" * 32, "config.json": "ef" * 20})
        rc, out, err = self.raw(*H, "download", "org/bad", "model.safetensors", "-o", "-")
        self.assertEqual(rc, 4, err)
        self.assertEqual(out, b"")
        dest = os.path.join(self.tmp, "c.json")
        rc, out, err = self.raw(*H, "download", "org/bad", "config.json", "-o", dest)
        self.assertEqual(rc, 4, err)
        self.assertEqual(out, b"")
        self.assertEqual([n for n in os.listdir(self.tmp) if n.startswith("c.json")], [])

    def test_output_usage_errors(self):
        out = os.path.join(self.tmp, "x")
        self.fails(2, *H, "download", "org/toy", "-o", out)
        self.fails(2, *H, "download", "org/toy", "config.json", "README.md", "-o", out)
        self.fails(2, *H, "download", "org/toy", "tokenizer/", "-o", out)
        r = self.fails(2, *H, "--json", "download", "org/toy", "config.json", "-o", "-")
        self.assertEqual(r.json()[-1]["exit_code"], 2)
        self.assertEqual(self.hub.log, [])
        self.assertFalse(os.path.exists(out))


class UnsafeListing(HFCase):
    BAD = ["../escape.txt", "/etc/mscli-hf-evil", "a//b", "ok/\x1b[31mred", "a/../../x",
           "", "..\\x", "sub/../../escape.txt"]

    def test_unsafe_paths_in_the_tree_are_refused_before_writing(self):
        self.assertFalse(os.path.exists("/etc/mscli-hf-evil"))
        before = self.tree_of(self.tmp)
        for bad in self.BAD:
            with self.subTest(path=bad):
                self.hub.add_hf_repo("org/evil", files={"good.txt": b"g"},
                                     extra_tree_entries=[{"path": bad, "size": 3}])
                r = self.fails(1, *H, "download", "org/evil")
                self.assertIn("unsafe path", r.err)
                self.assertIn("org/evil", r.err)
                self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)   # one line
                self.assertNotIn("\x1b", r.err)                  # control bytes escaped
                self.assertEqual(self.hub.body_bytes(), 0)
                self.assertEqual(self.tree_of(self.tmp), before)  # nothing written anywhere
        self.assertFalse(os.path.exists("/etc/mscli-hf-evil"))

    def test_unsafe_paths_with_local_dir(self):
        ld = os.path.join(self.tmp, "target", "ld")
        os.makedirs(ld)
        before = self.tree_of(self.tmp)
        for bad in ["../escape.txt", "../../escape.txt", "/tmp/../escape.txt",
                    ".cache/huggingface/download/good.txt.metadata"]:
            with self.subTest(path=bad):
                self.hub.add_hf_repo("org/evil", files={"good.txt": b"g"},
                                     extra_tree_entries=[{"path": bad, "size": 3}])
                r = self.fails(1, *H, "download", "org/evil", "--local-dir", ld)
                self.assertIn("unsafe path", r.err)
                self.assertEqual(self.tree_of(self.tmp), before)
                self.assertEqual(os.listdir(ld), [])


class MalformedListing(HFCase):
    def assert_nothing_written(self):
        self.assertFalse(os.path.exists(self.folder))
        self.assertEqual(self.hub.body_bytes(), 0)

    def test_malformed_json(self):
        for where in ("/revision/", "/tree/"):
            with self.subTest(where=where):
                self.hub.fault("malformed_json", path=where, times=1)
                r = self.fails(1, *H, "download", "org/toy")
                self.assertIn("malformed JSON", r.err)
                self.assertIn(where.strip("/"), r.err)          # names the URL
                self.assert_nothing_written()
        self.hub.fault("oversized_json", path="/tree/", mb=70, times=1)
        r = self.fails(1, *H, "download", "org/toy")
        self.assertIn("larger than", r.err)
        self.assert_nothing_written()

    def test_malformed_second_tree_page(self):
        self.hub.hf_tree_page_size = 2
        url = "%s/api/models/org/toy/tree/%s?recursive=true&expand=false" % (self.hub.url,
                                                                            self.repo.commit)
        with urllib.request.urlopen(url) as resp:
            page1, link = resp.read(), resp.headers["Link"]
        self.assertIn("cursor", link)
        self.hub.clear_log()
        # page 1 as the hub sends it (so that the fault below skips it), then a cut page 2
        self.hub.fault("status", code=200, path="/tree/", times=1, body=page1,
                       headers={"Content-Type": "application/json", "Link": link})
        self.hub.fault("malformed_json", path="/tree/", times=1)
        r = self.fails(1, *H, "download", "org/toy")
        self.assertIn("malformed JSON", r.err)
        self.assertIn("cursor=", r.err)
        self.assert_nothing_written()

    def test_well_formed_json_of_the_wrong_shape(self):
        oid = "a" * 40
        cases = [
            ("/revision/", "[]", "no commit"),
            ("/revision/", '{"id": "org/toy"}', "no commit"),
            ("/revision/", '{"id": "org/toy", "sha": "../../../../etc"}', "no commit"),
            ("/revision/", '{"id": "org/toy", "sha": 12}', "no commit"),
            ("/tree/", '{"error": "x"}', "not a list"),
            ("/tree/", '[{"type": "file", "path": "a.txt", "oid": "%s"}]' % oid, "size"),
            ("/tree/", '[{"type": "file", "path": "a.txt", "size": -5, "oid": "%s"}]' % oid, "size"),
            ("/tree/", '[{"type": "file", "path": "a.txt", "size": "5", "oid": "%s"}]' % oid, "size"),
            ("/tree/", '[{"type": "file", "path": 7, "size": 5, "oid": "%s"}]' % oid, "path"),
            ("/tree/", '[{"type": "file", "path": "a.txt", "size": 5}]', "oid"),
            ("/tree/", '[{"type": "file", "path": "a.txt", "size": 2.5, "oid": "%s"}]' % oid,
             "size"),
            ("/tree/", '[1, "x", null]', "not an object"),
        ]
        for where, body, why in cases:
            with self.subTest(body=body):
                self.hub.fault("status", code=200, path=where, times=1, body=body,
                               headers={"Content-Type": "application/json"})
                r = self.fails(1, *H, "download", "org/toy")
                self.assertIn(why, r.err)
                self.assert_nothing_written()

    # A tree "size" beyond 2^53 (1e30) is refused, not cast to uint64_t (undefined
    # behaviour, 0 on x86-64, which then ran into the empty-file hang below).
    def test_tree_size_beyond_uint64_is_refused(self):
        self.hub.fault("status", code=200, path="/tree/", times=1,
                       headers={"Content-Type": "application/json"},
                       body='[{"type": "file", "path": "a.txt", "size": 1e30, "oid": "%s"}]'
                       % ("a" * 40))
        r = self.within(4, *H, "download", "org/toy")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("size", r.err)


class Integrity(HFCase):
    def test_empty_regular_file(self):
        self.hub.add_hf_repo("org/empty", files={"empty.txt": b"", "a.txt": b"a"})
        self.ok(*H, "download", "org/empty")
        snap = os.path.join(self.hfcache, "models--org--empty", "snapshots")
        (commit,) = os.listdir(snap)
        self.assertEqual(os.path.getsize(os.path.join(snap, commit, "empty.txt")), 0)
        self.assertTrue(os.readlink(os.path.join(snap, commit, "empty.txt"))
                        .endswith("blobs/" + git_sha1(b"")))

    # A 0-byte file whose listed hash does not match: exit 4 after the one retry.
    # The engine's retry of a zero-length job used to wait for ever (nothing to fetch
    # means nothing ends the wait); within() kills a hang after 4 s.
    def test_empty_file_with_a_wrong_hash_is_exit_4(self):
        self.hub.add_hf_repo("org/empty", files={"empty.txt": b"", "a.txt": b"a"},
                             sha256_override={"empty.txt": "ef" * 20})
        r = self.within(4, *H, "download", "org/empty")
        self.assertEqual(r.rc, 4, r)
        self.assertIn("ef" * 20, r.err)


class CdnFaults(HFCase):
    def test_disconnect_mid_body_resumes_with_range(self):
        for path, kw in [("model.safetensors", {}), ("sub/weights.bin", {"rst": True}),
                         ("tokenizer.json", {})]:
            with self.subTest(path=path):
                data = FILES[path]
                self.hub.fault("disconnect", path=path, after=len(data) // 3, times=2, **kw)
                self.ok(*H, "download", "org/toy", path)
                self.assert_file(path)
                gets = self.file_gets(path, "hub" if path in REGULAR else "cdn")
                self.assertEqual(len(gets), 3, gets)
                ranges = [q.range for q in gets]
                self.assertTrue(all(r and r.startswith("bytes=") and not r.startswith("bytes=0-")
                                    for r in ranges[1:]), ranges)
                # resumed, not fetched again (after a reset the emulator counts bytes
                # that its kernel dropped, so only the ranges tell)
                if not kw:
                    self.assertLess(self.hub.body_bytes(path), 1.2 * len(data))
                self.assert_no_partials()
                self.hub.clear_log()

    def test_resume_across_runs(self):
        data = LFS["model.safetensors"]
        self.hub.fault("disconnect", path="model.safetensors", server="cdn", after=500_000,
                       times=None)
        r = self.fails(3, *H, "--retries", "0", "download", "org/toy", "model.safetensors")
        self.assertIn("model.safetensors", r.err)
        partial = [n for n in os.listdir(self.blobs) if n.endswith(".incomplete")]
        self.assertEqual(len(partial), 1)
        self.assertFalse(os.path.lexists(self.snap("model.safetensors")))
        self.hub.clear_faults()
        self.hub.clear_log()
        self.ok(*H, "download", "org/toy", "model.safetensors")
        self.assert_file("model.safetensors")
        self.assertEqual([q.range for q in self.file_gets("model.safetensors", "cdn")],
                         ["bytes=500000-"])
        self.assertEqual(self.hub.body_bytes("model.safetensors"), len(data) - 500_000)
        self.assertEqual(os.listdir(self.blobs), [sha256(data)])

    def test_cdn_ignores_range(self):
        data = LFS["model.safetensors"]
        # within one run: the retry after a disconnect is answered 200 from byte 0
        self.hub.fault("disconnect", path="model.safetensors", server="cdn", after=400_000, times=1)
        self.hub.fault("ignore_range", path="model.safetensors", server="cdn", times=1)
        self.ok(*H, "download", "org/toy", "model.safetensors")
        self.assert_file("model.safetensors")
        self.assertTrue(any(q.range and q.status == 200 and "ignore_range" in q.faults
                            for q in self.file_gets("model.safetensors", "cdn")))
        # across runs: the partial of a killed run, resumed from a CDN that never honours Range
        os.unlink(os.path.join(self.blobs, sha256(data)))
        os.unlink(self.snap("model.safetensors"))
        self.hub.fault("disconnect", path="model.safetensors", server="cdn", after=600_000,
                       times=None)
        self.fails(3, *H, "--retries", "0", "download", "org/toy", "model.safetensors")
        self.hub.clear_faults()
        self.hub.clear_log()
        self.hub.fault("ignore_range", path="model.safetensors", server="cdn", times=None)
        self.ok(*H, "download", "org/toy", "model.safetensors")
        self.assert_file("model.safetensors")
        gets = self.file_gets("model.safetensors", "cdn")
        self.assertEqual(gets[0].range, "bytes=600000-")
        self.assertEqual(gets[0].status, 200)
        self.assertEqual(os.listdir(self.blobs), [sha256(data)])
        # parallel ranges from a CDN that ignores every Range
        self.hub.clear_log()
        self.hub.fault("ignore_range", path="sub/weights.bin", server="cdn", times=None)
        self.ok(*H, "download", "org/toy", "sub/weights.bin",
                env={"MSCLI_RANGE_THRESHOLD": "256K", "MSCLI_CHUNK_SIZE": "256K"})
        self.assert_file("sub/weights.bin")
        self.assertTrue(any(q.range and q.status == 200 for q in self.file_gets("sub/weights.bin")))
        self.assert_no_partials()

    def test_bad_content_range(self):
        data = LFS["model.safetensors"]
        # the resumed request is answered 206 with a Content-Range that is off by 7
        self.hub.fault("disconnect", path="model.safetensors", server="cdn", after=400_000, times=1)
        self.hub.fault("bad_content_range", path="model.safetensors", server="cdn", times=1)
        r = self.ok(*H, "download", "org/toy", "model.safetensors")
        self.assertIn("Content-Range", r.err)
        self.assert_file("model.safetensors")
        # parallel ranges, two of them answered with a wrong Content-Range
        self.hub.fault("bad_content_range", path="sub/weights.bin", server="cdn", times=2)
        self.ok(*H, "download", "org/toy", "sub/weights.bin",
                env={"MSCLI_RANGE_THRESHOLD": "256K", "MSCLI_CHUNK_SIZE": "256K"})
        self.assert_file("sub/weights.bin")
        # a 206 for the right range but of another size of file, or with no Content-Range
        for cr, why in [("bytes 500000-1499999/2500000", "size mismatch"), (None, "HTTP 206")]:
            with self.subTest(content_range=cr):
                for n in os.listdir(self.blobs):
                    if n.startswith(sha256(data)):
                        os.unlink(os.path.join(self.blobs, n))
                os.unlink(self.snap("model.safetensors"))
                self.hub.fault("disconnect", path="model.safetensors", server="cdn",
                               after=500_000, times=None)
                self.fails(3, *H, "--retries", "0", "download", "org/toy", "model.safetensors")
                self.hub.clear_faults()
                h = {"Content-Type": "application/octet-stream"}
                if cr:
                    h["Content-Range"] = cr
                self.hub.fault("status", code=206, headers=h, body=data[500_000:],
                               path="model.safetensors", server="cdn", times=1)
                r = self.ok(*H, "download", "org/toy", "model.safetensors")
                self.assertIn(why, r.err)
                self.assert_file("model.safetensors")
                self.assert_no_partials()


class ExitCodes(HFCase):
    def test_persistent_503_is_exit_1(self):
        self.hub.fault("status", code=503, path="model.safetensors", server="cdn", times=None)
        r = self.fails(1, *H, "--retries", "2", "download", "org/toy")
        self.assertIn("503", r.err)
        self.assertIn("model.safetensors", r.err)
        self.assertEqual(len([q for q in self.file_gets("model.safetensors", "cdn")
                              if q.status == 503]), 3)
        self.assertFalse(os.path.lexists(self.snap("model.safetensors")))
        self.assertFalse(os.path.exists(os.path.join(self.blobs, sha256(LFS["model.safetensors"]))))
        self.assert_file("config.json")            # the others are in place
        self.hub.clear_faults()
        for where, args in [("/tree/", []), ("/revision/", []), ("config.json", ["config.json"])]:
            with self.subTest(where=where):
                shutil.rmtree(self.hfcache, True)    # no cached tree: the listing is asked for
                self.hub.clear_log()
                self.hub.fault("status", code=503, path=where, times=None)
                r = self.fails(1, *H, "--retries", "1", "download", "org/toy", *args)
                self.assertIn("503", r.err)
                self.assertEqual(len([q for q in self.hub.log if q.status == 503]), 2)
                self.hub.clear_faults()

    def test_retry_after_is_honoured(self):
        self.hub.fault("status", code=429, headers={"Retry-After": "1"}, path="/tree/", times=1)
        self.hub.fault("status", code=429, headers={"Retry-After": "1"}, path="model.safetensors",
                       server="cdn", times=1)
        self.ok(*H, "download", "org/toy")
        for qs in ([q for q in self.hub.log if "/tree/" in q.path],
                   self.file_gets("model.safetensors", "cdn")):
            self.assertEqual([q.status for q in qs[:2]], [429, 200], qs)
            self.assertGreaterEqual(qs[1].time - qs[0].time, 0.95)   # not --retry-delay 0.05
        for p in FILES:
            self.assert_file(p)

    def test_persistent_429_is_exit_3(self):
        self.hub.fault("status", code=429, path="/tree/", times=None)
        self.fails(3, *H, "--retries", "1", "download", "org/toy")
        self.hub.clear_faults()
        self.hub.fault("status", code=429, path="model.safetensors", server="cdn", times=None)
        r = self.fails(3, *H, "--retries", "1", "download", "org/toy", "model.safetensors")
        self.assertIn("429", r.err)
        self.assertFalse(os.path.lexists(self.snap("model.safetensors")))

    def test_connection_refused_is_exit_3(self):
        # the CDN is down (the hub redirects to a port nobody listens on)
        self.hub.cdn_base = "http://127.0.0.1:%d" % free_port()
        r = self.fails(3, *H, "--retries", "1", "download", "org/toy", "model.safetensors")
        self.assertIn(self.hub.cdn_base, r.err)
        self.assertFalse(os.path.lexists(self.snap("model.safetensors")))
        # the hub itself is down: the snapshot and the one-file (HEAD) paths
        self.hub.stop()
        for args in ([], ["config.json"]):
            with self.subTest(args=args):
                r = self.fails(3, *H, "--retries", "1", "download", "org/toy", *args)
                self.assertIn(self.hub.url, r.err)

    def test_disk_full_is_exit_8(self):
        mnt = self.small_tmpfs("1m")
        r = self.fails(8, *H, "--cache-dir", mnt, "download", "org/toy", "model.safetensors")
        self.assertRegex(r.err, "No space left|cannot allocate")
        self.assertEqual(r.out, "")
        self.assertFalse(os.path.exists(os.path.join(mnt, "models--org--toy", "blobs",
                                                     sha256(LFS["model.safetensors"]))))
        # -o PATH on a full file system: exit 8, no path printed, no temporary left
        dest = os.path.join(mnt, "copy.bin")
        before = set(os.listdir(mnt))
        r = self.fails(8, *H, "download", "org/toy", "model.safetensors", "-o", dest)
        self.assertEqual(r.out, "")
        self.assertEqual(set(os.listdir(mnt)), before)
        self.assert_file("model.safetensors")      # the cache (elsewhere) has it

    def test_file_size_limit_is_exit_8(self):
        """RLIMIT_FSIZE (EFBIG): a local storage failure without any mount."""
        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))
        rc, out, err = self.raw(*H, "download", "org/toy", "model.safetensors", preexec_fn=limit)
        self.assertEqual(rc, 8, err)
        self.assertRegex(err, "File too large|cannot allocate")
        # it names the repo file, not only the blob it was writing
        # (".../blobs/<sha256>.mscli.incomplete" does not tell which file failed)
        self.assertIn("model.safetensors", err)
        self.assertEqual(out, b"")
        self.assertFalse(os.path.lexists(self.snap("model.safetensors")))
        self.ok(*H, "download", "org/toy", "model.safetensors")
        self.assert_file("model.safetensors")
