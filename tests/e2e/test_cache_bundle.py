"""mscli cache export / import: bundles for offline machines.  Round trips into an
empty cache on another HOME (offline download prints the same path, with no request),
deterministic bytes, pipes, merging, and hostile bundles refused with nothing written
outside the cache and nothing half-imported."""
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import unittest

from cache_helpers import HF_MAIN, HF_V1, MS_FILES, CacheCase, etag
from support import BIN, VALGRIND, command, git_sha1, sha256

# A wrapper whose only child is mscli: RUSAGE_CHILDREN's ru_maxrss is mscli's peak (KiB).
PEAK = ("import resource, subprocess, sys\n"
        "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
        "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


class Roundtrip(CacheCase):
    def other_machine(self):
        """Another HOME with empty caches: the environment for the import side."""
        home = os.path.join(self.tmp, "home2")
        os.makedirs(home)
        env = {"HOME": home, "MODELSCOPE_CACHE": os.path.join(home, "ms"),
               "HF_HUB_CACHE": os.path.join(home, "hf"), "HF_HOME": os.path.join(home, "hfh")}
        return env

    def test_export_import_into_an_empty_cache_then_offline(self):
        self.fill()
        self.ok("--hub", "hf", "download", "org/toy", "--revision", "v1")
        bundle = os.path.join(self.tmp, "b.tar.zst")
        r = self.ok("cache", "export", "org/tiny.v1", "datasets/org/data", "hf:org/toy",
                    "-o", bundle)
        self.assertEqual(r.lines, [bundle])
        env = self.other_machine()
        self.hub.clear_log()
        r = self.ok("cache", "import", bundle, env=env)
        self.assertEqual(r.lines, [os.path.join(env["MODELSCOPE_CACHE"], "models/org/tiny___v1"),
                                   os.path.join(env["MODELSCOPE_CACHE"], "datasets/org/data"),
                                   os.path.join(env["HF_HUB_CACHE"], "models--org--toy")])
        # the same paths, relative to each cache, with no request at all
        for args, root in ((("download", "org/tiny.v1"), "MODELSCOPE_CACHE"),
                           (("download", "--type", "dataset", "org/data"), "MODELSCOPE_CACHE"),
                           (("--hub", "hf", "download", "org/toy"), "HF_HUB_CACHE"),
                           (("--hub", "hf", "download", "org/toy", "--revision", "v1"),
                            "HF_HUB_CACHE")):
            here = self.ok("--offline", *args).lines[0]
            there = self.ok("--offline", *args, env=env).lines[0]
            src_root = self.cache if root == "MODELSCOPE_CACHE" else self.hfcache
            self.assertEqual(os.path.relpath(there, env[root]), os.path.relpath(here, src_root))
        self.assertEqual(self.hub.log, [])
        # byte for byte the layouts (links, refs, index files, records)
        for rel, root in (("models/org/tiny___v1", "MODELSCOPE_CACHE"),
                          ("models/org/tiny.v1", "MODELSCOPE_CACHE"),
                          (".mscli/models/org/tiny.v1", "MODELSCOPE_CACHE"),
                          ("models--org--toy", "HF_HUB_CACHE")):
            src = os.path.join(self.cache if root == "MODELSCOPE_CACHE" else self.hfcache, rel)
            dst = os.path.join(env[root], rel)
            if os.path.islink(src):
                self.assertEqual(os.readlink(dst), os.readlink(src))
            else:
                self.assertEqual(self.tree(dst), self.tree(src), rel)
        self.ok("cache", "verify", env=env)
        o = self.ls(env=env)[("hf", "model", "org/toy")]
        self.assertEqual(sorted(v["refs"] for v in o["revisions"]), [["main"], ["v1"]])
        # nothing of the staging is left
        self.assertFalse(os.path.exists(os.path.join(env["HF_HUB_CACHE"], ".locks", ".mscli")))
        self.assertFalse(os.path.exists(os.path.join(env["MODELSCOPE_CACHE"], ".mscli", "tmp")))

    def test_bytes_are_deterministic_and_formats_follow_the_name(self):
        self.fill()
        a, b = os.path.join(self.tmp, "a.tar.zst"), os.path.join(self.tmp, "b.tar.zst")
        self.ok("cache", "export", "hf:org/toy", "ms:org/tiny.v1", "-o", a)
        for d, _, files in os.walk(self.hfcache):  # new times change nothing
            for n in files:
                os.utime(os.path.join(d, n), (1, 1), follow_symlinks=False)
        self.ok("cache", "export", "ms:org/tiny.v1", "hf:org/toy", "-o", b)
        with open(a, "rb") as f, open(b, "rb") as g:
            za, zb = f.read(), g.read()
        self.assertEqual(za, zb)
        self.assertEqual(za[:4], b"\x28\xb5\x2f\xfd")  # zstd frame
        for name, mode in (("c.tar", "r:"), ("c.tar.gz", "r:gz")):
            p = os.path.join(self.tmp, name)
            self.ok("cache", "export", "hf:org/toy", "-o", p)
            with tarfile.open(p, mode) as t:
                members = t.getmembers()
            self.assertEqual(members[0].name, "mscli-bundle.json")
            names = [m.name for m in members[1:]]
            self.assertEqual(names, sorted(names))
            self.assertTrue(all(m.mtime == 0 and m.uid == 0 and m.gid == 0 for m in members))
            blobs = [m.name for m in members if "/blobs/" in m.name]
            self.assertEqual(len(blobs), len(set(blobs)))
            self.assertEqual(sorted(os.path.basename(b) for b in blobs),
                             sorted(etag(p, d) for p, d in HF_MAIN.items()))
        with open(os.path.join(self.tmp, "c.tar.gz"), "rb") as f:
            self.assertEqual(f.read(2), b"\x1f\x8b")

    def test_through_a_pipe(self):
        self.fill()
        env = self.other_machine()
        e = dict(self.env)
        exp = subprocess.Popen(command(["cache", "export", "hf:org/toy", "-o", "-"]),
                               env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        e.update(env)
        imp = subprocess.run(command(["cache", "import", "-"]), env=e, stdin=exp.stdout,
                             capture_output=True)
        exp.stdout.close()
        exp.wait()
        self.assertEqual(exp.returncode, 0, exp.stderr.read())
        self.assertEqual(imp.returncode, 0, imp.stderr)
        self.assertEqual(self.ok("--offline", "--hub", "hf", "download", "org/toy", env=env).lines,
                         [os.path.join(env["HF_HUB_CACHE"], "models--org--toy", "snapshots",
                                       self.hf_model.commit)])
        self.fails(2, "cache", "export", "hf:org/toy")  # where to?

    def test_import_merges_without_touching_other_repos_or_revisions(self):
        self.ok("--hub", "hf", "download", "org/toy", "--revision", "v1")
        bundle = os.path.join(self.tmp, "v1.tar")
        self.ok("cache", "export", "hf:org/toy", "--revision", "v1", "-o", bundle)
        shutil.rmtree(self.hfcache)
        self.fill()  # main of org/toy, and the others
        before = self.tree(self.cache)
        main_ref = os.path.join(self.hf_folder(), "refs", "main")
        self.ok("cache", "import", bundle)
        self.assertEqual(self.tree(self.cache), before)  # --hub-less: the ModelScope cache untouched
        with open(main_ref) as f:
            self.assertEqual(f.read(), self.hf_model.commit)
        o = self.ls()[("hf", "model", "org/toy")]
        self.assertEqual(sorted(v["refs"] for v in o["revisions"]), [["main"], ["v1"]])
        self.ok("cache", "verify")
        self.hub.clear_log()
        self.ok("--offline", "--hub", "hf", "download", "org/toy", "--revision", "v1")
        self.assertEqual(self.hub.log, [])

    def test_export_stops_at_a_corrupt_file(self):
        self.ok("--hub", "hf", "download", "org/toy")
        self.flip_byte(os.path.join(self.hf_folder(), "blobs",
                                    etag("model.safetensors", HF_MAIN["model.safetensors"])))
        out = os.path.join(self.tmp, "x.tar.zst")
        r = self.fails(4, "cache", "export", "hf:org/toy", "-o", out)
        self.assertIn("verify --repair", r.err)
        self.assertEqual([n for n in os.listdir(self.tmp) if n.startswith("x.tar")], [])

    def test_export_refuses_files_with_no_recorded_hash(self):
        # the old modelscope client's layout records no hashes: a corrupt file would be
        # bundled and certified by the manifest
        d = self.make_ms_official("org/tiny.v1", MS_FILES)
        self.flip_byte(os.path.join(d, "model.safetensors"), 99)
        out = os.path.join(self.tmp, "x.tar.zst")
        r = self.fails(2, "cache", "export", "org/tiny.v1", "-o", out)
        self.assertIn("4 file(s) of org/tiny.v1 have no hash", r.err)
        self.assertIn("'model.safetensors'", r.err)
        self.assertIn("'mscli download org/tiny.v1'", r.err)
        self.assertEqual([n for n in os.listdir(self.tmp) if n.startswith("x.tar")], [])
        # mscli download checks them against the hub (fetching the bad one) and records
        self.ok("download", "org/tiny.v1")
        self.ok("cache", "export", "org/tiny.v1", "-o", out)


@unittest.skipIf(VALGRIND, "valgrind's own memory would be measured")
class Memory(CacheCase):
    """Export and import stream: a bundle of a few hundred MiB within 64 MiB of resident
    memory (under AddressSanitizer, whose shadow memory and redzones come on top, twice
    that)."""

    def peak_mib(self, *args, env=None):
        p = subprocess.run([sys.executable, "-c", PEAK] + command(list(args)),
                           env=dict(self.env, **(env or {})), capture_output=True, timeout=300)
        rc, kib = map(int, p.stdout.split())
        self.assertEqual(rc, 0, p.stderr.decode())
        return kib / 1024

    def test_export_and_import_of_256_mib_within_64_mib(self):
        with open(BIN, "rb") as f:
            ceiling = 128 if b"__asan_init" in f.read() else 64
        chunk = os.urandom(1 << 20)  # incompressible, as weights are; 256 distinct MiB
        self.make_hf_official("org/big", {"w.safetensors": b"".join(
            bytes([i]) + chunk[1:] for i in range(256))}, "d" * 40)
        home = os.path.join(self.tmp, "home2")
        for ext in (".tar.zst", ".tar"):
            with self.subTest(ext=ext):
                bundle = os.path.join(self.tmp, "b" + ext)
                peak = self.peak_mib("cache", "export", "hf:org/big", "-o", bundle)
                self.assertLess(peak, ceiling, "export%s: peak RSS %.1f MiB" % (ext, peak))
                shutil.rmtree(home, ignore_errors=True)
                peak = self.peak_mib("cache", "import", bundle,
                                     env={"HF_HUB_CACHE": os.path.join(home, "hf"),
                                          "MODELSCOPE_CACHE": os.path.join(home, "ms")})
                self.assertLess(peak, ceiling, "import%s: peak RSS %.1f MiB" % (ext, peak))
                self.assertEqual(os.path.getsize(os.path.join(
                    home, "hf", "models--org--big", "snapshots", "d" * 40, "w.safetensors")),
                    256 << 20)
                os.unlink(bundle)


# ---- hostile bundles ----

HUB_FOLDER = "hf/models--evil--repo"
COMMIT = "e" * 40


def member(name, data=b"", kind=tarfile.REGTYPE, link="", mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.linkname = link
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    return ti, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def good_members():
    data = b"hello weights\n"
    blob = sha256(data)
    files = [member("%s/blobs/%s" % (HUB_FOLDER, blob), data),
             member("%s/refs/main" % HUB_FOLDER, COMMIT.encode()),
             member("%s/snapshots/%s/w.bin" % (HUB_FOLDER, COMMIT), kind=tarfile.SYMTYPE,
                    link="../../blobs/" + blob)]
    return files


def manifest_for(members, **lie):
    entries = []
    for ti, f in members:
        if ti.type == tarfile.SYMTYPE:
            entries.append({"path": ti.name, "link": ti.linkname})
        elif ti.type == tarfile.REGTYPE:
            data = f.getvalue()
            entries.append({"path": ti.name, "size": lie.get("size", len(data)),
                            "sha256": lie.get("sha256", sha256(data))})
    return {"format": "mscli-bundle", "version": 1,
            "repos": [{"hub": "hf", "type": "model", "id": "evil/repo", "revisions": [],
                       "entries": entries}]}


def write_bundle(path, members, manifest=None, extra=(), lie_all=False, **lie):
    m = manifest if manifest is not None else manifest_for(
        members if lie_all else [x for x in members if x not in extra])
    if lie and not lie_all:
        m = manifest_for(members[:1], **lie)
        m["repos"][0]["entries"] += manifest_for(members[1:])["repos"][0]["entries"]
    body = json.dumps(m).encode()
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        ti, f = member("mscli-bundle.json", body)
        t.addfile(ti, f)
        for ti, f in members:
            if f:
                f.seek(0)
            t.addfile(ti, f)


class HostileCase(CacheCase):
    """A cache holding org/toy that no refused bundle may change."""

    def setUp(self):
        super().setUp()
        self.ok("--hub", "hf", "download", "org/toy")  # a cache that must stay as it is
        self.bundle = os.path.join(self.tmp, "evil.tar")

    def refused(self, code, *want):
        before = self.tree(self.tmp)
        r = self.fails(code, "cache", "import", self.bundle)
        errs = [l for l in r.err.splitlines() if l.startswith("mscli: error:")]
        self.assertEqual(len(errs), 1, r)
        if os.environ.get("SHOW_ERRORS"):
            print(self.id().split(".")[-1], errs[0])
        for w in want:
            self.assertIn(w, errs[0])
        self.assertEqual(self.tree(self.tmp), before)  # nothing written, anywhere
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "evil")))
        self.assertNotIn(("hf", "model", "evil/repo"), self.ls())
        return r


class Hostile(HostileCase):
    def test_a_good_bundle_of_this_kind_is_taken(self):
        write_bundle(self.bundle, good_members())
        self.ok("cache", "import", self.bundle)
        self.assertIn(("hf", "model", "evil/repo"), self.ls())
        with open(os.path.join(self.hf_folder("evil/repo"), "snapshots", COMMIT, "w.bin"),
                  "rb") as f:
            self.assertEqual(f.read(), b"hello weights\n")

    def test_traversal(self):
        ms = good_members() + [member("hf/../../evil", b"x")]
        write_bundle(self.bundle, ms, manifest=manifest_for(good_members()))
        self.refused(1, "'hf/../../evil'")
        write_bundle(self.bundle, ms)  # listed in the manifest too
        self.refused(1, "unsafe path")

    def test_absolute_path(self):
        evil = os.path.join(self.tmp, "evil")
        ms = good_members() + [member(evil, b"x")]
        write_bundle(self.bundle, ms, manifest=manifest_for(good_members()))
        self.refused(1)
        write_bundle(self.bundle, ms)
        self.refused(1)

    def test_symlink_escapes(self):
        for target in ("../../../../../../../etc/passwd", "/etc/passwd",
                       "../../../models--org--toy/blobs/" + etag("config.json",
                                                                 HF_MAIN["config.json"])):
            ms = good_members() + [member("%s/snapshots/%s/x" % (HUB_FOLDER, COMMIT),
                                          kind=tarfile.SYMTYPE, link=target)]
            write_bundle(self.bundle, ms)
            self.refused(1, "symlink")
        # a file below a symlink would be written through it
        ms = good_members() + [
            member("%s/snapshots/%s/d" % (HUB_FOLDER, COMMIT), kind=tarfile.SYMTYPE,
                   link="../../blobs"),
            member("%s/snapshots/%s/d/f" % (HUB_FOLDER, COMMIT), b"through")]
        write_bundle(self.bundle, ms)
        self.refused(1, "below a symlink")

    def test_hard_link_device_fifo_setuid(self):
        cases = [(member("%s/blobs/h" % HUB_FOLDER, kind=tarfile.LNKTYPE,
                         link="%s/refs/main" % HUB_FOLDER), "hard link"),
                 (member("%s/blobs/dev" % HUB_FOLDER, kind=tarfile.CHRTYPE), "device"),
                 (member("%s/blobs/fifo" % HUB_FOLDER, kind=tarfile.FIFOTYPE), "FIFO"),
                 (member("%s/blobs/suid" % HUB_FOLDER, b"#!/bin/sh\n", mode=0o4755), "set-id")]
        for m, why in cases:
            ms = good_members() + [m]
            write_bundle(self.bundle, ms, manifest=manifest_for(good_members()))
            self.refused(1, why)

    def test_hash_mismatch_is_exit_4_and_nothing_imported(self):
        ms = good_members()
        write_bundle(self.bundle, ms, sha256="0" * 64)
        self.refused(4, "corrupt")

    def test_manifest_that_lies_about_sizes(self):
        write_bundle(self.bundle, good_members(), size=5)
        self.refused(1, "not what its manifest says")
        # the header and the manifest agree, the bytes do not: caught by the hash
        ms = good_members()
        m = manifest_for(ms)
        m["repos"][0]["entries"][0]["size"] = 3
        ti, f = ms[0]
        ti.size = 3
        write_bundle(self.bundle, ms, manifest=m)
        self.refused(4)

    def test_entry_missing_from_the_manifest_or_the_archive(self):
        ms = good_members()
        write_bundle(self.bundle, ms + [member("%s/blobs/extra" % HUB_FOLDER, b"x")],
                     manifest=manifest_for(ms))
        self.refused(1, "not in its manifest")
        write_bundle(self.bundle, ms[:2], manifest=manifest_for(ms))
        self.refused(1, "incomplete")

    def test_truncated_archive(self):
        write_bundle(self.bundle, good_members() + [member("%s/blobs/big" % HUB_FOLDER,
                                                           os.urandom(300_000))])
        with open(self.bundle, "r+b") as f:
            f.truncate(200_000)
        self.refused(1, "bundle")

    def test_not_a_bundle(self):
        with open(self.bundle, "wb") as f:
            f.write(os.urandom(5000))
        self.refused(1)
        with tarfile.open(self.bundle, "w") as t:
            ti, f = member("README", b"hi")
            t.addfile(ti, f)
        self.refused(1, "not an mscli bundle")
        write_bundle(self.bundle, good_members(), manifest={"format": "mscli-bundle",
                                                            "version": 99, "repos": []})
        self.refused(1, "version")

    def test_bad_repo_ids_in_the_manifest(self):
        for rid in ("../x", "a/b/c", "a@main", ""):
            m = manifest_for(good_members())
            m["repos"][0]["id"] = rid
            write_bundle(self.bundle, good_members(), manifest=m)
            self.refused(1, "manifest")

    def test_names_beyond_name_max_or_path_max(self):
        long_name = "%s/snapshots/%s/%s" % (HUB_FOLDER, COMMIT, "n" * 256)
        deep = "%s/snapshots/%s/%s/f" % (HUB_FOLDER, COMMIT, "/".join(["d" * 200] * 21))
        for name in (long_name, deep):
            with self.subTest(len=len(name)):
                ms = good_members() + [member(name, b"x")]
                write_bundle(self.bundle, ms, manifest=manifest_for(good_members()))
                self.refused(1, "refusing the bundle")
                write_bundle(self.bundle, ms)  # in the manifest too
                self.refused(1, "unsafe path")

    def test_a_refused_bundle_leaves_an_empty_cache_empty(self):
        home = os.path.join(self.tmp, "home2")
        os.makedirs(home)
        env = {"HOME": home, "MODELSCOPE_CACHE": os.path.join(home, "ms"),
               "HF_HUB_CACHE": os.path.join(home, "hf"), "HF_HOME": os.path.join(home, "hfh")}
        for lie in ({"sha256": "0" * 64}, {}):
            ms = good_members()
            if not lie:  # staged whole, refused at the end: a ref to no commit of it
                ms[1] = member("%s/refs/main" % HUB_FOLDER, b"f" * 40)
            write_bundle(self.bundle, ms, **lie)
            self.fails(4 if lie else 1, "cache", "import", self.bundle, env=env)
            self.assertEqual(os.listdir(home), [])

    def test_a_zstd_bundle_is_checked_the_same(self):
        if not shutil.which("zstd"):
            self.skipTest("no zstd command")
        write_bundle(self.bundle, good_members(), sha256="1" * 64)
        subprocess.run(["zstd", "-q", "-f", self.bundle, "-o", self.bundle + ".zst"], check=True)
        os.unlink(self.bundle)
        self.bundle += ".zst"
        self.refused(4)


TOY_FOLDER = "hf/models--org--toy"


def toy_members(blob_name, data, ref=COMMIT.encode(), path="config.json"):
    """A bundle for org/toy itself: one blob named blob_name holding data, a snapshot
    linking to it and refs/main holding ref."""
    return [member("%s/blobs/%s" % (TOY_FOLDER, blob_name), data),
            member("%s/refs/main" % TOY_FOLDER, ref),
            member("%s/snapshots/%s/%s" % (TOY_FOLDER, COMMIT, path), kind=tarfile.SYMTYPE,
                   link="../../blobs/" + blob_name)]


def toy_manifest(members, algo="sha256"):
    m = manifest_for(members)
    m["repos"][0]["id"] = "org/toy"
    for e in m["repos"][0]["entries"]:
        if "sha256" in e and algo != "sha256":
            ti, f = next(x for x in members if x[0].name == e["path"])
            del e["sha256"]
            e[algo] = git_sha1(f.getvalue())
    return m


class HostileToOtherRevisions(HostileCase):
    """Bundles that would replace what the cache holds of other repos or revisions: a
    blob's name is the hash of its bytes, a blob is never replaced, a ref names a commit
    the bundle carries, and a repo's entries stay in its own folder."""

    def refused_and_cache_intact(self, code, *want):
        self.refused(code, *want)
        self.ok("cache", "verify")
        self.ok("--hub", "hf", "--offline", "download", "org/toy")

    def test_a_blob_whose_name_is_not_the_hash_of_its_bytes(self):
        shared = etag("config.json", HF_MAIN["config.json"])  # main and v1 both use it
        self.ok("--hub", "hf", "download", "org/toy", "--revision", "v1")
        for algo in ("sha256", "git-sha1"):  # the manifest tells the truth either way
            ms = toy_members(shared, b'{"model_type": "evil!!"}\n')
            write_bundle(self.bundle, ms, manifest=toy_manifest(ms, algo))
            self.refused_and_cache_intact(4, shared, "not named by the hash")

    def test_a_cached_blob_is_never_replaced(self):
        # the bundle is right; the cache's copy of the same blob is not: refused, kept
        shared = etag("config.json", HF_MAIN["config.json"])
        ms = toy_members(shared, HF_MAIN["config.json"])
        write_bundle(self.bundle, ms, manifest=toy_manifest(ms, "git-sha1"))
        blob = os.path.join(self.hf_folder(), "blobs", shared)
        self.flip_byte(blob, 3)
        self.refused(4, blob)
        # the same blob, intact in the cache: the import takes the rest and keeps it
        self.ok("cache", "verify", "--repair")
        before = os.stat(blob)
        self.ok("cache", "import", self.bundle)
        self.assertEqual(os.stat(blob).st_ino, before.st_ino)
        self.ok("cache", "verify")

    def test_a_ref_that_is_not_a_commit_of_the_bundle(self):
        for ref in (b"../../../../../../etc/passwd", b"../snapshots/" + COMMIT.encode(),
                    b"f" * 40, b""):
            ms = good_members()
            ms[1] = member("%s/refs/main" % HUB_FOLDER, ref)
            write_bundle(self.bundle, ms)
            self.refused(1, "refs/main", "commit")

    def test_an_entry_in_another_repos_folder(self):
        # evil/repo's manifest carries a file of org/toy's: refused, not skipped
        ms = good_members() + [member("%s/blobs/%s" % (TOY_FOLDER, "a" * 64), b"x")]
        write_bundle(self.bundle, ms)
        self.refused(1, "models--org--toy/blobs", "outside the folder of its repo")
        ms = good_members() + [member("hf/.locks/models--org--toy/x.lock", b"x")]
        write_bundle(self.bundle, ms)
        self.refused(1, "outside the folder of its repo")

    def test_a_file_outside_the_layout(self):
        ms = good_members() + [member("%s/hooks/post" % HUB_FOLDER, b"#!/bin/sh\n")]
        write_bundle(self.bundle, ms)
        self.refused(1, "not a part of")
        ms = good_members() + [member("%s/snapshots/main/w.bin" % HUB_FOLDER, b"x")]
        write_bundle(self.bundle, ms)
        self.refused(1, "snapshot of a commit")


class HostileModelScope(HostileCase):
    """The same checks on bundles of the ModelScope layout."""

    def ms_bundle(self, members, **lie):
        m = manifest_for(members, **lie)
        m["repos"][0].update(hub="modelscope", id="evil/repo")
        write_bundle(self.bundle, members, manifest=m)

    def refused(self, code, *want):
        r = super().refused(code, *want)
        self.assertFalse(os.path.exists(self.ms_repo_dir("evil/repo")))
        return r

    def test_good_then_escapes_and_a_wrong_hash(self):
        good = [member("modelscope/models/evil/repo/w.bin", b"weights\n")]
        self.ms_bundle(good)
        self.ok("cache", "import", self.bundle)
        self.ok("cache", "rm", "-y", "evil/repo")
        self.ms_bundle(good + [member("modelscope/models/evil/../../../x", b"x")])
        self.refused(1, "unsafe path")
        self.ms_bundle(good + [member("modelscope/models/org/toy/w.bin", b"x")])
        self.refused(1, "outside the folder of its repo")
        self.ms_bundle(good + [member("modelscope/.lock/evil___repo", b"x")])
        self.refused(1, "outside the folder of its repo")
        self.ms_bundle(good + [member("modelscope/models/evil/repo/l", kind=tarfile.SYMTYPE,
                                      link="../../../../etc/passwd")])
        self.refused(1, "symlink")
        self.ms_bundle(good, sha256="0" * 64)
        self.refused(4, "corrupt")
