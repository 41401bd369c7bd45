"""mscli download from ModelScope: layout, warm runs, offline, selection, output."""
import json
import os
import pickle
import struct
import subprocess
import time

import official
from support import VALGRIND, Case, FileRef, blob, command, sha256, strace_works

FILES = {
    "config.json": b'{"architectures": ["Toy"]}\n',
    "README.md": b"# toy\n",
    "tokenizer/vocab.txt": b"a\nb\nc\n",
    "weights/model-00001-of-00002.safetensors": blob(2_500_000, 1),
    "weights/model-00002-of-00002.safetensors": blob(1_200_000, 2),
    "empty.txt": b"",
}


def msc_bytes(entries):
    """The .msc bytes modelscope-protocol.md §4.1 specifies (protocol 2, no memo)."""
    def s(v):
        b = v.encode()
        return b"X" + struct.pack("<I", len(b)) + b
    out = b"\x80\x02]("
    for path, rev in entries:
        out += b"}(" + s("Path") + s(path) + s("Revision") + s(rev) + b"u"
    return out + b"e."


class Snapshot(Case):
    def setUp(self):
        super().setUp()
        self.repo = self.hub.add_ms_repo("acme/Toy-1.5B.v2", files=FILES)

    def test_layout_both_clients_read(self):
        r = self.ok("download", "acme/Toy-1.5B.v2")
        d = self.ms_repo_dir("acme/Toy-1.5B.v2")
        self.assertEqual(r.lines, [d])
        for path, data in FILES.items():
            with open(os.path.join(d, path), "rb") as f:
                self.assertEqual(f.read(), data, path)
        # .msc: one {Path, Revision} per file, Revision the file's commit from the listing
        listing = {e["Path"]: e for e in self.hub_listing("acme/Toy-1.5B.v2")}
        msc = self.read_pickle(os.path.join(d, ".msc"))
        self.assertEqual(sorted(e["Path"] for e in msc), sorted(FILES))
        for e in msc:
            self.assertEqual(set(e), {"Path", "Revision"})
            self.assertEqual(e["Revision"], listing[e["Path"]]["Revision"])
        # exact bytes: protocol 2, no memo, in the order written
        with open(os.path.join(d, ".msc"), "rb") as f:
            raw = f.read()
        self.assertEqual(raw, msc_bytes([(e["Path"], e["Revision"]) for e in msc]))
        self.assertEqual(self.read_pickle(os.path.join(d, ".mdl")), {"id": "acme/Toy-1___5B___v2"})
        with open(os.path.join(d, ".mdl"), "rb") as f:
            self.assertEqual(f.read(), b"\x80\x02}(X\x02\x00\x00\x00idX\x14\x00\x00\x00"
                             b"acme/Toy-1___5B___v2u.")
        with open(os.path.join(d, ".mv")) as f:
            mv = f.read()
        self.assertRegex(mv, r"^Revision:master,CreatedAt:\d+$")
        self.assertNotEqual(mv, "Revision:master,CreatedAt:0")
        # the dotted name links to the masked directory
        link = os.path.join(self.cache, "models", "acme", "Toy-1.5B.v2")
        self.assertTrue(os.path.islink(link))
        self.assertEqual(os.path.realpath(link), os.path.realpath(d))
        # the lock the official client uses, and no partials left behind
        self.assertTrue(os.path.exists(os.path.join(self.cache, ".lock", "acme___Toy-1.5B.v2")))
        temp = os.path.join(self.cache, "models", "._____temp")
        self.assertFalse(os.path.exists(os.path.join(temp, "acme")), os.listdir(temp)
                         if os.path.exists(temp) else None)

    def hub_listing(self, repo_id):
        import urllib.request
        url = "%s/api/v1/models/%s/repo/files?Revision=master&Recursive=True" % (self.hub.url, repo_id)
        with urllib.request.urlopen(url) as resp:
            return [e for e in json.load(resp)["Data"]["Files"] if e["Type"] == "blob"]

    def traced(self, syscalls, *args):
        """Run mscli under strace (skip the test where it cannot): the calls it made."""
        if not strace_works() or VALGRIND:
            self.skipTest("needs strace")
        log = os.path.join(self.tmp, "trace")
        # LeakSanitizer does not run under ptrace
        env = dict(self.env, LSAN_OPTIONS="detect_leaks=0")
        # -y: a descriptor argument shows its path (openat of a partial through its directory)
        p = subprocess.run(["strace", "-f", "-qq", "-y", "-o", log, "-e", "trace=" + syscalls] +
                           command(list(args)), env=env, capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(log) as f:
            return f.read().splitlines()

    def test_nothing_waits_for_the_disk_before_the_first_file(self):
        """A cold download syncs no file before it opens its first partial (its first
        file request follows): the records written before it (listing, .mdl) are not
        synced; the index (.msc) is, after."""
        calls = self.traced("fsync,fdatasync,sync_file_range,syncfs,openat",
                            "download", "acme/Toy-1.5B.v2")
        partial = [i for i, c in enumerate(calls) if "._____temp/acme/" in c and "O_CREAT" in c]
        synced = [i for i, c in enumerate(calls) if "sync" in c.split("(")[0]]
        self.assertTrue(partial, calls)
        self.assertTrue(synced, calls)  # the index is synced, later
        self.assertGreater(min(synced), min(partial), calls[max(0, min(synced) - 2):min(synced) + 1])
        mdl = os.path.join(self.ms_repo_dir("acme/Toy-1.5B.v2"), ".mdl")
        self.assertEqual(self.read_pickle(mdl), {"id": "acme/Toy-1___5B___v2"})

    def test_many_files_cost_no_epoll_or_stat_calls_each(self):
        """200 small files over kept-alive connections: the engine leaves a connection's
        socket in its epoll set between transfers (no EPOLL_CTL_DEL/ADD pair per file),
        a new partial is made with O_EXCL, so it needs no fstat to be known empty, and
        partials are opened and renamed through their directories' descriptors."""
        files = {"d/f%03d.bin" % i: blob(3000, 300 + i) for i in range(200)}
        self.hub.add_ms_repo("acme/many", files=files)
        calls = self.traced("epoll_ctl,fstat,newfstatat,statx,openat,rename,renameat,renameat2",
                            "download", "acme/many")
        ctl = [c for c in calls if "epoll_ctl(" in c]
        partials = [c for c in calls if "._____temp/acme/many/d/" in c and "O_CREAT" in c]
        self.assertEqual(len(partials), 200, partials[:3])
        self.assertTrue(all("O_EXCL" in c for c in partials), partials[:3])
        # no walk of the whole path: openat(<dir>, "fNNN.bin"), renameat(<dir>, .., <dir>, ..)
        self.assertFalse([c for c in partials if "AT_FDCWD" in c], partials[:3])
        moves = [c for c in calls if "rename" in c.split("(")[0] and "acme/many/d" in c]
        self.assertEqual(len(moves), 200, moves[:3])
        self.assertFalse([c for c in moves if "AT_FDCWD" in c or "rename(" in c], moves[:3])
        # a few per connection (8 per host at most, hub and CDN), not two per file
        self.assertLess(len(ctl), 100, ctl[:20])
        stats = [c for c in calls if "stat" in c.split("(")[0]]
        self.assertLess(len(stats), 100, stats[:20])
        d = self.ms_repo_dir("acme/many")
        for name, data in files.items():
            with open(os.path.join(d, name), "rb") as f:
                self.assertEqual(f.read(), data, name)

    def test_local_dir_records_cost_no_sync_or_directory_walk_per_file(self):
        """--local-dir keeps a .metadata per file (huggingface_hub's layout).  It is a
        record, written unsynced (a journal commit per file made 2000 small files 2.6
        times slower), its directory made once per run, and the end-of-run look for
        another revision's files does not read back what this run just wrote."""
        files = {"d%d/f%03d.bin" % (i % 4, i): blob(3000, 500 + i) for i in range(120)}
        self.hub.add_ms_repo("acme/ld", files=files)
        d = os.path.join(self.tmp, "ld")
        calls = self.traced("fsync,fdatasync,openat,mkdir,mkdirat,linkat,rename,renameat,"
                            "newfstatat,statx,lstat,stat", "download", "acme/ld",
                            "--local-dir", d)
        name = [c.split("(")[0].split()[-1] for c in calls]
        meta = [c for c in calls if ".metadata" in c]
        self.assertEqual(len([c for c in meta if "linkat(" in c or "rename" in c]), 120,
                         meta[:3])
        self.assertEqual([c for c in meta if "openat(" in c], [])  # none read back
        # records and locks made through their directory's descriptor (strace -y shows
        # it as 5</dir>), not by a path walked whole each time; the end-of-run look for
        # another commit's records takes their type from the directory, no stat
        locks = [c for c in calls if ".lock" in c and "openat(" in c]
        unnamed = [c for c in calls if "O_TMPFILE" in c and "/download/" in c]
        self.assertEqual(len(locks), 120, locks[:3])
        self.assertEqual(len(unnamed), 120, unnamed[:3])
        for c in meta + locks + unnamed:
            self.assertNotIn('"' + d, c)
        self.assertEqual([c for c, n in zip(calls, name) if "stat" in n and
                          (".metadata" in c or ".lock" in c)], [])
        synced = [c for c, n in zip(calls, name) if n.endswith("sync")]
        # once a run (.gitignore, CACHEDIR.TAG, .msc, .mv), not once a file
        self.assertLessEqual(len(synced), 4, synced)
        # 4 directories, under the folder and under its .cache/modelscope/download
        mkdirs = [c for c, n in zip(calls, name) if n.startswith("mkdir")]
        self.assertLess(len(mkdirs), 40, mkdirs[:20])
        for p, data in files.items():
            with open(os.path.join(d, p), "rb") as f:
                self.assertEqual(f.read(), data, p)
            with open(os.path.join(d, ".cache", "modelscope", "download", p + ".metadata")) as f:
                self.assertEqual(f.read().split("\n")[1], sha256(data), p)
        # a warm run reads each record once (the lookup), not again at the end
        calls = self.traced("openat", "download", "acme/ld", "--local-dir", d)
        reads = [c for c in calls if ".metadata" in c and "O_RDONLY" in c]
        self.assertEqual(len(reads), 120, reads[:3])
        # a record that does not parse (a power cut) is made again, the file kept
        bad = os.path.join(d, ".cache", "modelscope", "download", "d0", "f000.bin.metadata")
        open(bad, "w").close()
        before = os.stat(os.path.join(d, "d0", "f000.bin")).st_mtime_ns
        self.ok("download", "acme/ld", "--local-dir", d)
        self.assertEqual(os.stat(os.path.join(d, "d0", "f000.bin")).st_mtime_ns, before)
        with open(bad) as f:
            self.assertEqual(f.read().split("\n")[1], sha256(files["d0/f000.bin"]))

    def test_warm_rerun_is_one_listing_request(self):
        self.ok("download", "acme/Toy-1.5B.v2")
        d = self.ms_repo_dir("acme/Toy-1.5B.v2")
        stamp = {p: os.stat(os.path.join(d, p)).st_mtime_ns for p in FILES}
        self.hub.clear_log()
        r = self.ok("download", "acme/Toy-1.5B.v2")
        self.assertEqual(r.lines, [d])
        self.assertEqual(len(self.hub.log), 1, [x.path for x in self.hub.log])
        self.assertIn("/repo/files", self.hub.log[0].path)
        self.assertEqual(self.hub.body_bytes(), 0)
        self.assertEqual(stamp, {p: os.stat(os.path.join(d, p)).st_mtime_ns for p in FILES})

    def test_a_killed_index_write_leaves_nothing_after_the_next_run(self):
        # .msc is replaced through ".msc.mscli-tmp", which a kill between its two steps
        # would leave; the next write of .msc takes it over
        self.ok("download", "acme/Toy-1.5B.v2")
        d = self.ms_repo_dir("acme/Toy-1.5B.v2")
        stale = os.path.join(d, ".msc.mscli-tmp")
        with open(stale, "wb") as f:
            f.write(b"\x80\x02]")
        self.age(stale)
        self.ok("download", "acme/Toy-1.5B.v2", "--force")
        self.assertFalse(os.path.exists(stale))
        self.assertEqual(sorted(e["Path"] for e in self.read_pickle(os.path.join(d, ".msc"))),
                         sorted(FILES))
        self.assertEqual(sorted(n for n in os.listdir(d) if n.startswith(".")),
                         [".mdl", ".msc", ".mv"])
        self.ok("cache", "verify")
        # until then the cache commands know it for what it is: a partial, not a file
        with open(stale, "wb") as f:
            f.write(b"\x80\x02]")
        r = self.ok("--json", "cache", "ls")
        self.assertTrue(json.loads(r.lines[0])["incomplete"], r.lines)
        self.ok("cache", "verify")
        self.ok("cache", "prune")
        self.assertFalse(os.path.exists(stale))
        r = self.ok("--json", "cache", "ls")
        self.assertFalse(json.loads(r.lines[0])["incomplete"], r.lines)

    def test_offline_makes_no_request(self):
        self.ok("download", "acme/Toy-1.5B.v2")
        self.hub.clear_log()
        d = self.ms_repo_dir("acme/Toy-1.5B.v2")
        r = self.ok("--offline", "download", "acme/Toy-1.5B.v2")
        self.assertEqual(r.lines, [d])
        r = self.ok("download", "acme/Toy-1.5B.v2", "config.json", env={"MSCLI_OFFLINE": "1"})
        self.assertEqual(r.lines, [os.path.join(d, "config.json")])
        self.assertEqual(self.hub.log, [])
        # something missing: exit 7, naming it
        os.unlink(os.path.join(d, "README.md"))
        r = self.fails(7, "--offline", "download", "acme/Toy-1.5B.v2")
        self.assertIn("README.md", r.err)
        r = self.fails(7, "--offline", "download", "acme/Other")
        self.assertIn("acme/Other", r.err)
        self.assertEqual(self.hub.log, [])

    def test_single_file_prints_its_path(self):
        r = self.ok("download", "acme/Toy-1.5B.v2", "tokenizer/vocab.txt")
        d = self.ms_repo_dir("acme/Toy-1.5B.v2")
        self.assertEqual(r.lines, [os.path.join(d, "tokenizer", "vocab.txt")])
        # nothing of mscli's in the folder a loader gets: its state is in <cache>/.mscli/
        self.assertEqual(sorted(os.listdir(d)), sorted([".msc", ".mdl", ".mv", "tokenizer"]))
        self.assertTrue(os.path.exists(os.path.join(self.cache, ".mscli", "models", "acme",
                                                    "Toy-1.5B.v2", "listing-master.json")))
        msc = self.read_pickle(os.path.join(d, ".msc"))
        self.assertEqual([e["Path"] for e in msc], ["tokenizer/vocab.txt"])

    def test_urls(self):
        env = {"MODELSCOPE_ENDPOINT": "http://127.0.0.1:9"}  # the URL's host must win
        d = self.ms_repo_dir("acme/Toy-1.5B.v2")
        r = self.ok("--hub", "modelscope", "download",
                    self.hub.url + "/models/acme/Toy-1.5B.v2/file/view/master/README.md", env=env)
        self.assertEqual(r.lines, [os.path.join(d, "README.md")])
        r = self.ok("download", self.hub.url + "/models/acme/Toy-1.5B.v2",
                    env=dict(env, MSCLI_HUB="modelscope"))
        self.assertEqual(r.lines, [d])
        for p, data in FILES.items():
            with open(os.path.join(d, p), "rb") as f:
                self.assertEqual(f.read(), data, p)
        # the home site's URL keeps the endpoint from the environment
        self.ok("download", "https://modelscope.cn/models/acme/Toy-1.5B.v2", "config.json")

    def test_modelscope_cli_spelling(self):
        # as copied from a model page: modelscope download --model o/n [FILE] --local_dir DIR
        r = self.ok("download", "--model", "acme/Toy-1.5B.v2", "README.md", "config.json",
                    "--local_dir", "ld", cwd=self.tmp)
        ld = os.path.join(self.tmp, "ld")
        self.assertEqual(r.lines, [ld])
        self.assertEqual(sorted(p for p in os.listdir(ld) if not p.startswith(".")),
                         ["README.md", "config.json"])
        self.hub.add_ms_repo("acme/ds.v1", type="dataset", files={"t.csv": b"a,b\n"})
        r = self.ok("download", "--dataset", "acme/ds.v1", "--cache_dir", "c", "--repo_type",
                    "dataset", cwd=self.tmp)
        self.assertEqual(r.lines, [self.ms_repo_dir("acme/ds.v1", "datasets",
                                                    root=os.path.join(self.tmp, "c"))])
        self.fails(2, "download", "--model", "acme/a", "--dataset", "acme/b")

    def test_output_path_is_checked_before_the_download(self):
        self.hub.clear_log()
        r = self.fails(8, "download", "acme/Toy-1.5B.v2", "config.json", "-o",
                       os.path.join(self.tmp, "nodir", "c.json"))
        self.assertIn(os.path.join(self.tmp, "nodir"), r.err)
        r = self.fails(2, "download", "acme/Toy-1.5B.v2", "config.json", "-o", self.tmp)
        self.assertIn("is a directory", r.err)
        self.assertEqual(self.hub.log, [])  # nothing was asked of the hub
        self.assertFalse(os.path.exists(self.cache))

    def test_a_folder_named_without_its_slash(self):
        r = self.fails(5, "download", "acme/Toy-1.5B.v2", "tokenizer")
        self.assertIn("'tokenizer' (a folder: add a '/')", r.err)
        r = self.ok("download", "acme/Toy-1.5B.v2", "tokenizer/", "config.json", "config.json")
        d = self.ms_repo_dir("acme/Toy-1.5B.v2")
        self.assertEqual(sorted(e["Path"] for e in self.read_pickle(os.path.join(d, ".msc"))),
                         ["config.json", "tokenizer/vocab.txt"])

    def test_several_files_and_missing_file(self):
        r = self.ok("download", "acme/Toy-1.5B.v2", "config.json", "README.md")
        self.assertEqual(r.lines, [self.ms_repo_dir("acme/Toy-1.5B.v2")])
        r = self.fails(5, "download", "acme/Toy-1.5B.v2", "config.json", "nope.bin")
        self.assertIn("nope.bin", r.err)

    def test_a_file_in_the_way_of_a_folder_fails_that_file_only(self):
        # the folders a file needs are made at its turn: the others still arrive
        d = self.ms_repo_dir("acme/Toy-1.5B.v2")
        os.makedirs(d)
        with open(os.path.join(d, "tokenizer"), "w") as f:
            f.write("in the way")
        r = self.fails(1, "download", "acme/Toy-1.5B.v2")
        self.assertEqual(len(r.errors), 1, r)
        self.assertIn("cannot create directory 'tokenizer' below '%s'" % d, r.err)
        self.assertIn("Not a directory", r.err)
        for p in FILES:
            if not p.startswith("tokenizer/"):
                with open(os.path.join(d, p), "rb") as f:
                    self.assertEqual(f.read(), FILES[p], p)
        with open(os.path.join(d, "tokenizer")) as f:
            self.assertEqual(f.read(), "in the way")  # never replaced
        listed = {e["Path"] for e in self.read_pickle(os.path.join(d, ".msc"))}
        self.assertNotIn("tokenizer/vocab.txt", listed)
        self.assertIn("config.json", listed)

    def test_include_exclude(self):
        self.ok("download", "acme/Toy-1.5B.v2", "--include", "*.json,*.md", "--include", "tokenizer/",
                "--exclude", "README*")
        d = self.ms_repo_dir("acme/Toy-1.5B.v2")
        got = sorted(e["Path"] for e in self.read_pickle(os.path.join(d, ".msc")))
        self.assertEqual(got, ["config.json", "tokenizer/vocab.txt"])
        # '*' crosses '/', like Python's fnmatch in the official client
        self.ok("download", "acme/Toy-1.5B.v2", "--include", "*.safetensors")
        got = sorted(e["Path"] for e in self.read_pickle(os.path.join(d, ".msc")))
        self.assertIn("weights/model-00001-of-00002.safetensors", got)
        # several patterns after one flag, as modelscope's CLI takes them; the repo id
        # after them is no pattern (no * ? [)
        r = self.ok("--json", "download", "--exclude", "weights/*", "tokenizer/*",
                    "acme/Toy-1.5B.v2", "--include", "*.json", "*.md", "--dry-run")
        planned = sorted(e["path"] for e in r.json() if e["event"] == "plan")
        self.assertEqual(planned, ["README.md", "config.json"])

    def test_local_dir(self):
        ld = os.path.join(self.tmp, "local")
        r = self.ok("download", "acme/Toy-1.5B.v2", "--local-dir", ld)
        self.assertEqual(r.lines, [ld])
        for path, data in FILES.items():
            with open(os.path.join(ld, path), "rb") as f:
                self.assertEqual(f.read(), data)
        # the user's folder holds the repo's files, mscli's bookkeeping in .cache/modelscope/
        # and the index modelscope 1.37 keeps in a local_dir (.msc, .mv; loaders and both
        # hubs' uploads skip all three), nothing else
        self.assertEqual(sorted(os.listdir(ld)), sorted({p.split("/")[0] for p in FILES} |
                                                        {".cache", ".msc", ".mv"}))
        self.assertEqual(os.listdir(os.path.join(ld, ".cache")), ["modelscope"])
        self.assertTrue(os.path.exists(os.path.join(ld, ".cache", "modelscope",
                                                    "listing-master.json")))
        self.assertFalse(os.path.exists(self.cache))
        # .msc: every file by path and its commit from the listing, as modelscope 1.37 keys
        # them (it fetches again what its index lacks); .mv: the revision and its date
        listing = {e["Path"]: e["Revision"] for e in self.hub_listing("acme/Toy-1.5B.v2")}
        msc = self.read_pickle(os.path.join(ld, ".msc"))
        self.assertEqual({e["Path"]: e["Revision"] for e in msc}, listing)
        with open(os.path.join(ld, ".mv")) as f:
            self.assertRegex(f.read(), r"^Revision:master,CreatedAt:[1-9]\d*$")
        stamps = [os.stat(os.path.join(ld, n)).st_mtime_ns for n in (".msc", ".mv")]
        self.hub.clear_log()
        self.ok("download", "acme/Toy-1.5B.v2", "--local-dir", ld)
        self.assertEqual(self.hub.body_bytes(), 0)
        # a warm run rewrites neither
        self.assertEqual([os.stat(os.path.join(ld, n)).st_mtime_ns for n in (".msc", ".mv")],
                         stamps)
        # a folder from before the index: the next run writes it, fetching nothing
        os.unlink(os.path.join(ld, ".msc"))
        os.unlink(os.path.join(ld, ".mv"))
        self.hub.clear_log()
        self.ok("download", "acme/Toy-1.5B.v2", "--local-dir", ld)
        self.assertEqual(self.hub.body_bytes(), 0)
        self.assertEqual({e["Path"]: e["Revision"]
                          for e in self.read_pickle(os.path.join(ld, ".msc"))}, listing)
        self.assertTrue(os.path.exists(os.path.join(ld, ".mv")))
        self.fails(2, "download", "acme/Toy-1.5B.v2", "--local-dir", ld, "--cache-dir", self.cache)

    def test_local_dir_is_not_fetched_again_by_modelscope_1_37(self):
        # modelscope <= 1.37 trusts its .msc index in a local_dir and fetches everything the
        # index lacks (it never looks at the files themselves): online, against this hub,
        # it finds every file mscli put there and fetches none
        src = os.environ.get("MSOLD_SRC")
        if not (src and os.path.isdir(src) and os.path.exists(official.PY)):
            self.skipTest("modelscope not checked: set MSOLD_SRC (as make check-official)")
        ld = os.path.join(self.tmp, "local")
        self.ok("download", "acme/Toy-1.5B.v2", "--local-dir", ld)
        self.hub.clear_log()
        home = os.path.join(self.tmp, "old-home")
        os.makedirs(home)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
               "PYTHONPATH": src + os.pathsep + official.SHIM, "LC_ALL": "C.UTF-8",
               "MODELSCOPE_ENDPOINT": self.hub.url, "MODELSCOPE_CACHE": os.path.join(home, "c")}
        p = subprocess.run([official.PY, "-c",
                            "import sys\nfrom modelscope.hub.snapshot_download import "
                            "snapshot_download\nprint(snapshot_download(sys.argv[1], "
                            "local_dir=sys.argv[2], endpoint=sys.argv[3]))",
                            "acme/Toy-1.5B.v2", ld, self.hub.url],
                           env=env, capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assertEqual(self.hub.body_bytes(), 0, "modelscope 1.37 fetched files again")
        for path, data in FILES.items():
            with open(os.path.join(ld, path), "rb") as f:
                self.assertEqual(f.read(), data)

    def test_relative_directories_are_printed_absolute(self):
        r = self.ok("download", "acme/Toy-1.5B.v2", "--local-dir", "./ld/", cwd=self.tmp)
        self.assertEqual(r.lines, [os.path.join(self.tmp, "ld")])
        r = self.ok("download", "acme/Toy-1.5B.v2", "config.json", "--cache-dir", "c",
                    cwd=self.tmp)
        self.assertEqual(r.lines, [os.path.join(self.ms_repo_dir("acme/Toy-1.5B.v2",
                                                                 root=os.path.join(self.tmp, "c")),
                                                "config.json")])
        r = self.ok("--json", "download", "acme/Toy-1.5B.v2", "config.json",
                    env={"MODELSCOPE_CACHE": "rel"}, cwd=self.tmp)
        local = [e["local_path"] for e in r.json() if e["event"] == "file"]
        self.assertEqual(local, [os.path.join(self.ms_repo_dir(
            "acme/Toy-1.5B.v2", root=os.path.join(self.tmp, "rel")), "config.json")])

    def test_json_lines(self):
        r = self.ok("--json", "download", "acme/Toy-1.5B.v2")
        events = r.json()
        # one "transfer" object before the first start: what is to be fetched
        kinds = [e["event"] for e in events]
        self.assertEqual(kinds.count("transfer"), 1)
        self.assertLess(kinds.index("transfer"), kinds.index("start"))
        t = events[kinds.index("transfer")]
        self.assertEqual((t["files"], t["bytes"]),
                         (len(FILES), sum(len(v) for v in FILES.values())))
        files = [e for e in events if e["event"] == "file"]
        self.assertEqual(sorted(e["path"] for e in files), sorted(FILES))
        for e in files:
            self.assertEqual(e["status"], "downloaded")
            self.assertIs(e["verified"], True)
            self.assertEqual(e["sha256"], sha256(FILES[e["path"]]))
            self.assertEqual(e["size"], len(FILES[e["path"]]))
            self.assertTrue(os.path.isfile(e["local_path"]))
        self.assertEqual(events[-1]["event"], "done")
        self.assertEqual(events[-1]["status"], "ok")
        self.assertEqual(events[-1]["path"], self.ms_repo_dir("acme/Toy-1.5B.v2"))
        r = self.ok("--json", "download", "acme/Toy-1.5B.v2")
        self.assertEqual({e["status"] for e in r.json() if e["event"] == "file"}, {"cached"})
        # progress and info go to stderr, never into the JSON stream
        for line in r.lines:
            json.loads(line)

    def test_listing_without_a_hash_is_size_checked_and_said_so(self):
        self.hub.add_ms_repo("acme/nohash", files={"a.bin": b"abc", "b.txt": b"de", "c": b"f"},
                             sha256_override={"a.bin": None, "b.txt": None})
        r = self.ok("--json", "download", "acme/nohash")
        self.assertIn("2 file(s) of acme/nohash have no hash", r.err)
        self.assertIn("checked by size only", r.err)
        files = {e["path"]: e for e in r.json() if e["event"] == "file"}
        self.assertIs(files["a.bin"]["verified"], False)
        self.assertEqual(files["a.bin"]["sha256"], sha256(b"abc"))  # what arrived
        self.assertIs(files["c"]["verified"], True)
        with open(os.path.join(self.ms_repo_dir("acme/nohash"), "a.bin"), "rb") as f:
            self.assertEqual(f.read(), b"abc")

    def test_dry_run_writes_nothing(self):
        r = self.ok("download", "acme/Toy-1.5B.v2", "--dry-run")
        self.assertIn("would download 6 of 6 files", r.out)
        self.assertFalse(os.path.exists(self.cache))
        self.assertEqual(self.hub.body_bytes(), 0)

    def test_output_stdout_and_path(self):
        data = FILES["weights/model-00001-of-00002.safetensors"]
        r = self.mscli("download", "acme/Toy-1.5B.v2", "weights/model-00001-of-00002.safetensors",
                       "-o", "-")
        self.assertEqual(r.rc, 0, r)
        p = __import__("subprocess").run(
            __import__("support").command(["--retry-delay", "0.05", "download", "acme/Toy-1.5B.v2",
                                           "weights/model-00001-of-00002.safetensors", "-o", "-"]),
            env=self.env, capture_output=True)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stdout, data)
        out = os.path.join(self.tmp, "copy.bin")
        r = self.ok("download", "acme/Toy-1.5B.v2", "config.json", "-o", out)
        self.assertEqual(r.lines, [out])
        with open(out, "rb") as f:
            self.assertEqual(f.read(), FILES["config.json"])
        self.fails(2, "download", "acme/Toy-1.5B.v2", "-o", out)
        # stdout is the file or JSON lines, never both
        r = self.fails(2, "--json", "download", "acme/Toy-1.5B.v2", "config.json", "-o", "-")
        self.assertIn("--json and -o -", r.err)
        self.assertEqual(r.json()[-1]["exit_code"], 2)
        # a failed copy prints no path
        os.makedirs(os.path.join(self.tmp, "adir", "config.json"))
        r = self.mscli("download", "acme/Toy-1.5B.v2", "config.json", "-o",
                       os.path.join(self.tmp, "adir", "config.json"))
        self.assertNotEqual(r.rc, 0, r)
        self.assertEqual(r.out, "")
        # a reader that stops early (| head -c 10) is not an error
        sp = __import__("subprocess")
        prod = sp.Popen(__import__("support").command(
            ["download", "acme/Toy-1.5B.v2", "weights/model-00001-of-00002.safetensors", "-o", "-"]),
            env=self.env, stdout=sp.PIPE, stderr=sp.PIPE)
        prod.stdout.read(10)
        prod.stdout.close()
        err = prod.stderr.read().decode()
        prod.stderr.close()
        self.assertEqual(prod.wait(timeout=60), 0, err)
        self.assertNotIn("error", err)

    def test_revision_and_tag(self):
        self.hub.add_ms_repo("acme/tagged", files={"a.txt": b"A"}, tags={"v1.0": None})
        r = self.ok("download", "acme/tagged", "--revision", "v1.0")
        d = self.ms_repo_dir("acme/tagged")
        with open(os.path.join(d, ".mv")) as f:
            self.assertTrue(f.read().startswith("Revision:v1.0,CreatedAt:"))
        self.assertTrue(any(q.query.get("Revision") == ["v1.0"] for q in self.hub.log
                            if q.path.endswith("/repo")), [q.raw_path for q in self.hub.log])

    def test_not_found(self):
        r = self.fails(5, "download", "acme/nothing-here")
        self.assertIn("acme/nothing-here", r.err)
        self.assertNotIn("--type dataset", r.err)
        # a dataset asked for as a model: the error says so
        self.hub.add_ms_repo("acme/a-dataset", type="dataset", files={"x.csv": b"1\n"})
        r = self.fails(5, "download", "acme/a-dataset")
        self.assertIn("(there is a dataset acme/a-dataset: add --type dataset)", r.err)
        # --json: the failure is the last JSON line too
        r = self.fails(5, "--json", "download", "acme/nothing-here")
        done = r.json()[-1]
        self.assertEqual((done["event"], done["status"], done["exit_code"], done["code"]),
                         ("done", "error", 5, "not_found"))
        self.assertIn("acme/nothing-here", done["message"])
        r = self.fails(5, "download", "acme/Toy-1.5B.v2", "--revision", "no-such-branch")
        self.assertIn("no revision 'no-such-branch' (branches: master; tags: none)", r.err)

    def test_unknown_revision_with_an_empty_listing_is_not_success(self):
        """A hub that lists nothing for a revision it does not have (rather than 404)."""
        self.hub.add_ms_repo("acme/empty-rev", files={"a.txt": b"a"}, tags={"v1": None})
        self.hub.fault("status", code=200, path="/repo/files", times=1,
                       headers={"Content-Type": "application/json"},
                       body='{"Code": 200, "Success": true, "Data": {"Files": []}}')
        r = self.fails(5, "download", "acme/empty-rev", "--revision", "v2")
        self.assertIn("branches: master; tags: v1", r.err)
        # an empty listing for a revision that exists is fine: nothing to download
        self.hub.fault("status", code=200, path="/repo/files", times=1,
                       headers={"Content-Type": "application/json"},
                       body='{"Code": 200, "Success": true, "Data": {"Files": []}}')
        self.ok("download", "acme/empty-rev", "--revision", "v1")

    def test_a_password_in_the_endpoint_is_never_shown(self):
        url = self.hub.url.replace("http://", "http://user:S3cretPw@")
        r = self.mscli("-v", "--retries", "0", "--endpoint", url, "download", "acme/nothing-here")
        self.assertEqual(r.rc, 5, r)
        self.assertIn("user:***@", r.err)
        self.assertNotIn("S3cretPw", r.err + r.out)

    def test_usage_errors(self):
        self.fails(2, "download")
        self.fails(2, "download", "not-a-repo")
        self.fails(2, "download", "acme/x", "--type", "space")
        self.fails(2, "download", "acme/x", "../etc/passwd")
        self.fails(2, "nosuchcommand")
        self.fails(2, "download", "acme/x", env={"MSCLI_HUB": "github"})
        r = self.ok("download", "--help")
        self.assertIn("--include", r.out)
        self.assertEqual(self.ok("--help", "download").out, r.out)
        self.assertEqual(self.ok("help", "download").out, r.out)
        r = self.fails(2, "help", "nosuch")
        self.assertIn("'nosuch' is not an mscli command", r.err)
        r = self.fails(2, "--bogus")
        self.assertIn("unknown option '--bogus' (see 'mscli --help')", r.err)
        r = self.ok("--help")
        self.assertIn("download", r.out)
        # --json: even a usage error ends with its "done" object
        r = self.fails(2, "--json", "download", "not-a-repo")
        self.assertEqual(r.json()[-1]["code"], "usage")
        # -q is errors only: no warnings
        r = self.ok("-q", "download", "acme/Toy-1.5B.v2", "config.json", "--include", "*.json")
        self.assertEqual(r.err, "")
        self.assertRegex(self.ok("--version").out, r"^mscli \d+\.\d+")


class Dataset(Case):
    def test_paged_dataset(self):
        # 450 files: three pages of 200 (the last one short)
        files = {"data/part-%04d.jsonl" % i: b'{"i": %d}\n' % i for i in range(450)}
        files["README.md"] = b"# ds\n"
        self.hub.add_ms_repo("acme/ds.v1", type="dataset", files=files)
        r = self.ok("download", "acme/ds.v1", "--type", "dataset")
        d = self.ms_repo_dir("acme/ds.v1", kind="datasets")
        self.assertEqual(r.lines, [d])
        self.assertEqual(len(self.read_pickle(os.path.join(d, ".msc"))), 451)
        for p, data in files.items():
            with open(os.path.join(d, p), "rb") as f:
                self.assertEqual(f.read(), data)
        with open(os.path.join(d, ".mv")) as f:
            self.assertEqual(f.read(), "master")
        pages = [q for q in self.hub.log if q.path.endswith("/repo/tree")]
        self.assertGreaterEqual(len(pages), 3)
        self.assertFalse(os.path.lexists(os.path.join(self.cache, "datasets", "acme", "ds.v1")))
        # a dataset URL selects the type by itself
        self.hub.clear_log()
        self.ok("download", "https://www.modelscope.cn/datasets/acme/ds.v1",
                "--endpoint", self.hub.url)
        self.assertEqual(self.hub.body_bytes(), 0)
        # into a --local-dir: modelscope 1.37's index there too; a dataset's .mv is the
        # bare revision, and its date is not asked for
        ld = os.path.join(self.tmp, "ds-local")
        self.hub.clear_log()
        self.ok("download", "acme/ds.v1", "--type", "dataset", "--local-dir", ld)
        self.assertEqual(len(self.read_pickle(os.path.join(ld, ".msc"))), 451)
        with open(os.path.join(ld, ".mv")) as f:
            self.assertEqual(f.read(), "master")
        self.assertFalse([q for q in self.hub.log if "/revisions" in q.path or
                          "/commits" in q.path], [q.path for q in self.hub.log])


class LegacyCache(Case):
    def test_reads_a_cache_written_by_python(self):
        """An .msc pickled by CPython (protocol 4, memo, 1500 entries) counts as cached."""
        files = {"f%04d.txt" % i: b"%d" % i for i in range(1500)}
        self.hub.add_ms_repo("acme/many", files=files)
        self.ok("download", "acme/many")
        d = self.ms_repo_dir("acme/many")
        msc = self.read_pickle(os.path.join(d, ".msc"))
        with open(os.path.join(d, ".msc"), "wb") as f:
            pickle.dump(msc, f, protocol=4)
        self.hub.clear_log()
        self.ok("download", "acme/many")
        self.assertEqual(self.hub.body_bytes(), 0)
        # offline without our listing record: the index is all there is, with a warning
        os.unlink(os.path.join(self.cache, ".mscli", "models", "acme", "many",
                               "listing-master.json"))
        r = self.ok("--offline", "download", "acme/many")
        self.assertIn("cannot tell whether the snapshot is complete", r.err)
        # named files are there or not: no such doubt
        r = self.ok("--offline", "download", "acme/many", "f0001.txt")
        self.assertNotIn("cannot tell", r.err)

    def test_adopts_files_the_index_does_not_know(self):
        self.hub.add_ms_repo("acme/adopt", files=FILES)
        self.ok("download", "acme/adopt")
        d = self.ms_repo_dir("acme/adopt")
        os.unlink(os.path.join(d, ".msc"))
        self.hub.clear_log()
        self.ok("download", "acme/adopt")
        self.assertEqual(self.hub.body_bytes(), 0)  # hashed, matched, indexed
        self.assertEqual(len(self.read_pickle(os.path.join(d, ".msc"))), len(FILES))
        # a file changed by hand is fetched again
        with open(os.path.join(d, "config.json"), "wb") as f:
            f.write(b'{"architectures": ["Evil"]}\n')
        os.unlink(os.path.join(d, ".msc"))
        self.hub.clear_log()
        self.ok("download", "acme/adopt")
        self.assertEqual(self.hub.body_bytes(), len(FILES["config.json"]))
        with open(os.path.join(d, "config.json"), "rb") as f:
            self.assertEqual(f.read(), FILES["config.json"])
