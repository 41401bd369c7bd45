"""mscli upload on both hubs, end to end against the emulator's upload side
(tests/hub/emu_upload.py): round trips, what is never published, what is
not sent again, resuming, commits that lose their answer, the errors and
their exit codes, and that no credential reaches the storage host."""
import json
import os
import re
import signal
import time

from support import Case, blob, git_sha1, sha256, write_files

MIB = 1024 * 1024

# what a folder upload must never publish (relative to the folder)
NEVER = {
    ".git/HEAD": b"ref: refs/heads/main\n",
    "sub/.git/config": b"[core]\n",
    ".cache/huggingface/download/x.metadata": b"meta\n",
    ".cache/modelscope/download/x.metadata": b"meta\n",       # mscli's --local-dir records
    ".cache/modelscope/listing-master.json": b"{}",
    "._____temp/model.safetensors": b"partial",
    ".msc": b"\x80\x02].",
    ".mv": b"Revision:master",
    ".mdl": b"\x80\x02}.",
    ".mscli/listing-master.json": b"{}",
}


def tree(files):
    return {p: d for p, d in files.items()}


class UploadTests:
    """Tests both hubs share; a subclass says which hub (kind, token, hub args)."""

    kind = token = None
    hub_args = ()

    def setUp(self):
        super().setUp()
        self.files = {
            "README.md": b"# a fine-tune\n",
            "config.json": b'{"hidden_size": 64}\n',
            "model.safetensors": blob(3 * MIB + 17, seed=1),
            "sub/data.bin": b"\0" + blob(200000, seed=2),
            "sub/notes.txt": b"notes\n" * 50,
            "train.log": b"loss 0.1\n",
        }

    # --- helpers ---
    def write(self, root, files):
        return write_files(root, files)

    def folder(self, name="src", extra=None):
        files = dict(self.files)
        files.update(extra or {})
        return self.write(os.path.join(self.tmp, name), files)

    def cli(self, *args, token=True, **kw):
        pre = list(self.hub_args) + (["--token", self.token] if token else [])
        return self.mscli(*(pre + list(args)), **kw)

    def upload(self, *args, **kw):
        r = self.cli("upload", *args, **kw)
        self.assertEqual(r.rc, 0, r)
        return r

    def upload_fails(self, code, *args, **kw):
        r = self.cli("upload", *args, **kw)
        self.assertEqual(r.rc, code, r)
        self.assertTrue([l for l in r.err.splitlines() if l.startswith("mscli: error:")], r)
        return r

    def download(self, repo, rtype="model", token=True):
        dest = os.path.join(self.tmp, "dl-%d" % time.monotonic_ns())
        args = ["download", repo, "--local-dir", dest]
        if rtype != "model":
            args += ["--type", rtype]
        r = self.cli(*args, token=token)
        return r, dest

    def assert_downloaded(self, repo, expect, prefix="", rtype="model"):
        r, dest = self.download(repo, rtype)
        self.assertEqual(r.rc, 0, r)
        for p, d in expect.items():
            path = os.path.join(dest, prefix, p)
            self.assertTrue(os.path.isfile(path), "%s missing after a download" % path)
            with open(path, "rb") as f:
                self.assertEqual(f.read(), d, p)
        return dest

    def commits(self, repo):
        return self.hub.upload_commits(kind=self.kind, repo=repo)

    def stored_objects(self, repo):
        return [u for u in self.hub.lfs_uploads(kind=self.kind, repo=repo) if u.complete]

    def no_credential_on_storage(self):
        seen = self.hub.credentials_seen(server="cdn")
        self.assertEqual(seen, [], "a credential reached the storage host")

    # --- round trips ---
    def test_folder_round_trip_with_path_in_repo_message_exclude(self):
        src = self.folder(extra=NEVER)
        r = self.upload("alice/ft", src, "weights", "-m", "first fine-tune", "--exclude",
                        "*.log")
        commits = self.commits("alice/ft")
        self.assertEqual(len(commits), 1, commits)
        c = commits[0]
        self.assertEqual(c.message.split("\n")[0], "first fine-tune")
        self.assertEqual(r.lines, [l for l in r.lines if "/commit/" in l])
        self.assertIn(c.commit, r.out)
        want = {p: d for p, d in self.files.items() if p != "train.log"}
        self.assertEqual(sorted(p for p in c.added if p.startswith("weights/")),
                         sorted("weights/" + p for p in want))
        self.assertEqual(c.added["weights/model.safetensors"], "lfs")
        self.assertEqual(c.added["weights/sub/data.bin"], "lfs")
        self.assertEqual(c.added["weights/config.json"], "regular")
        self.assert_downloaded("alice/ft", want, "weights")
        self.no_credential_on_storage()

    def test_single_file_to_its_name_and_to_a_path(self):
        path = self.write(os.path.join(self.tmp, "one"), {"w.bin": blob(50000, seed=3)})
        self.upload("alice/one", os.path.join(path, "w.bin"))
        self.upload("alice/one", os.path.join(path, "w.bin"), "deep/er/copy.bin")
        self.assert_downloaded("alice/one", {"w.bin": blob(50000, seed=3),
                                             "deep/er/copy.bin": blob(50000, seed=3)})
        # the second commit reused the object: one PUT for both paths
        self.assertEqual(len(self.stored_objects("alice/one")), 1)

    def test_never_published(self):
        src = self.folder(extra=NEVER)
        self.upload("alice/clean", src)
        added = self.commits("alice/clean")[0].added
        for p in NEVER:
            self.assertNotIn(p, added)
        self.assertIn("train.log", added)

    def test_json_events(self):
        src = self.folder()
        r = self.upload("--json", "alice/js", src)
        ev = r.json()
        hashed = {e["path"] for e in ev if e["event"] == "hashed"}
        uploaded = {e["path"]: e for e in ev if e["event"] == "uploaded"}
        self.assertEqual(hashed, set(self.files))
        self.assertEqual(set(uploaded), set(self.files))
        self.assertEqual(uploaded["model.safetensors"]["sha256"],
                         sha256(self.files["model.safetensors"]))
        self.assertTrue(uploaded["model.safetensors"]["lfs"])
        done = ev[-1]
        self.assertEqual((done["event"], done["status"], done["changed"]), ("done", "ok", True))
        self.assertEqual(done["commit"], self.commits("alice/js")[0].commit)
        self.assertIn(done["commit"], done["url"])
        # the same folder again: every file skipped as unchanged, no commit
        r = self.upload("--json", "alice/js", src)
        ev = r.json()
        skipped = {e["path"] for e in ev if e["event"] == "skipped"}
        self.assertEqual(skipped, set(self.files))
        self.assertFalse([e for e in ev if e["event"] == "uploaded"])
        self.assertEqual((ev[-1]["changed"], ev[-1]["commits"]), (False, 0))

    def test_same_folder_again_sends_nothing_and_makes_no_commit(self):
        src = self.folder()
        self.upload("alice/again", src)
        puts = len(self.hub.requests(server="cdn", method="PUT"))
        n = len(self.commits("alice/again"))
        r = self.upload("alice/again", src)
        self.assertEqual(len(self.commits("alice/again")), n)
        self.assertEqual(len(self.hub.requests(server="cdn", method="PUT")), puts)
        self.assertIn("nothing to commit", r.err)
        self.assertTrue(r.out.strip(), "no URL printed")
        # one changed file: one commit with that file only
        with open(os.path.join(src, "config.json"), "wb") as f:
            f.write(b'{"hidden_size": 128}\n')
        self.upload("alice/again", src)
        self.assertEqual(set(self.commits("alice/again")[-1].added) - {".gitattributes"},
                         {"config.json"})

    def test_object_the_hub_has_is_not_sent(self):
        src = self.folder()
        self.upload("alice/first", src)
        puts = len(self.hub.requests(server="cdn", method="PUT"))
        # another repo, the same bytes: the hub has the objects
        self.upload("alice/second", src)
        self.assertEqual(len(self.hub.requests(server="cdn", method="PUT")), puts)
        self.assert_downloaded("alice/second", self.files)

    def test_duplicate_content_goes_once(self):
        d = blob(2 * MIB, seed=9)
        src = self.write(os.path.join(self.tmp, "dup"), {"a.bin": d, "b/c.bin": d})
        self.upload("alice/dup", src)
        self.assertEqual(len(self.hub.lfs_uploads(kind=self.kind, repo="alice/dup")), 1)
        self.assert_downloaded("alice/dup", {"a.bin": d, "b/c.bin": d})

    def test_symlinks_inside_followed_outside_refused(self):
        src = self.folder()
        os.symlink("config.json", os.path.join(src, "alias.json"))
        os.symlink("sub", os.path.join(src, "sublink"))
        self.upload("alice/links", src)
        added = self.commits("alice/links")[0].added
        self.assertIn("alias.json", added)
        outside = os.path.join(self.tmp, "secret.txt")
        with open(outside, "w") as f:
            f.write("do not publish\n")
        os.symlink(outside, os.path.join(src, "leak.txt"))
        r = self.upload_fails(2, "alice/links2", src)
        self.assertIn("leak.txt", r.err)
        self.assertIn("outside", r.err)
        self.assertIsNone(self.hub.get_repo(self.kind, "alice/links2"),
                          "the repo was created before the walk failed")

    def test_dataset(self):
        src = self.folder()
        self.upload("--type", "dataset", "alice/corpus", src)
        self.assertEqual(self.hub.get_repo(self.kind, "alice/corpus", type="dataset").type,
                         "dataset")
        self.assert_downloaded("alice/corpus", self.files, rtype="dataset")

    # --- resuming ---
    def test_network_lost_midway_then_run_again_sends_only_the_rest(self):
        files = {"w%d.bin" % i: blob(MIB + i, seed=20 + i) for i in range(4)}
        src = self.write(os.path.join(self.tmp, "four"), files)
        self.hub.fault("drop_upload", times=None, server="cdn", method="PUT", skip=2, after=1000)
        r = self.upload_fails(3, "--retries", "1", "--max-workers", "1", "alice/four", src)
        self.assertEqual(self.commits("alice/four"), [])
        stored = {u.oid for u in self.stored_objects("alice/four")}
        self.assertEqual(len(stored), 2, r)
        self.hub.clear_faults()
        self.hub.clear_log()
        self.upload("alice/four", src)
        sent = {r.file_path for r in self.hub.requests(server="cdn", method="PUT")}
        self.assertEqual(sent, {sha256(d) for d in files.values()} - stored)
        self.assert_downloaded("alice/four", files)

    def test_killed_midway_then_run_again_sends_only_the_rest(self):
        files = {"w%d.bin" % i: blob(MIB + i, seed=40 + i) for i in range(4)}
        src = self.write(os.path.join(self.tmp, "four"), files)
        self.hub.fault("hold_upload", times=None, server="cdn", method="PUT", skip=2, seconds=60)
        p = self.spawn(*self.hub_args, "--token", self.token, "upload", "--max-workers", "1",
                       "alice/killed", src)
        self.wait_for(lambda: len(self.stored_objects("alice/killed")) == 2, 60,
                      "two objects stored")
        self.wait_for(lambda: len(self.hub.requests(server="cdn", method="PUT")) >= 2, 10,
                      "a third PUT held")
        time.sleep(0.3)
        p.send_signal(signal.SIGKILL)
        p.communicate()
        stored = {u.oid for u in self.stored_objects("alice/killed")}
        self.assertEqual(len(stored), 2)
        self.hub.clear_faults()
        self.hub.clear_log()
        self.upload("alice/killed", src)
        sent = [r.file_path for r in self.hub.requests(server="cdn", method="PUT")]
        self.assertEqual(sorted(sent), sorted({sha256(d) for d in files.values()} - stored))
        self.assertEqual(len(self.commits("alice/killed")), 1)
        self.assert_downloaded("alice/killed", files)

    def test_hashing_starts_while_the_hub_is_asked(self):
        # A file whose digest its size tells (Hugging Face: 10 MiB or more is an LFS
        # object; ModelScope: every file) is hashed while the hub answers the account,
        # repo and plan calls.  The hub holds its first POST (the repo's creation) for
        # 5 s; a second into the hold the file is rewritten (same size, other bytes).
        # Hashed early, the old bytes' digest no longer matches what would be sent, and
        # the upload refuses (nothing stored); hashed only after the plan, it would
        # quietly send the new bytes.  (How the bytes are read, copied or mapped, does
        # not matter here.)
        big = blob(12 * MIB + 3, seed=30)
        src = self.write(os.path.join(self.tmp, "early"), {"big.safetensors": big,
                                                           "a.txt": b"a\n"})
        self.hub.fault("hold_upload", server="hub", method="POST", seconds=5)
        p = self.spawn(*self.hub_args, "--token", self.token, "upload", "alice/early", src)
        deadline = time.monotonic() + 20
        while (p.poll() is None and not self.hub.requests(server="hub", method="GET")
               and time.monotonic() < deadline):
            time.sleep(0.01)
        time.sleep(1.0)  # into the hold: 12 MiB hash in milliseconds (seconds under valgrind)
        answered = bool(self.hub.requests(server="hub", method="POST"))
        other = blob(len(big), seed=31)
        with open(os.path.join(src, "big.safetensors"), "r+b") as f:
            f.write(other)
        out, err = p.communicate()
        self.assertFalse(answered, "the held POST was answered before the file was rewritten")
        self.assertNotEqual(p.returncode, 0, "the file was hashed after the hub answered")
        self.assertIn(b"changed while it was", err, err)
        self.assertEqual(len(self.stored_objects("alice/early")), 0)
        # run again on the still file: the new bytes go, and come back
        self.upload("alice/early", src)
        self.assert_downloaded("alice/early", {"big.safetensors": other, "a.txt": b"a\n"})

    def test_expired_upload_url_is_asked_for_again(self):
        src = self.folder()
        # the storage refuses the first PUT as a signed URL past its time would
        self.hub.fault("status", server="cdn", method="PUT", code=403,
                       body=b"<Error><Code>AccessDenied</Code>"
                            b"<Message>Request has expired</Message></Error>")
        r = self.upload("-v", "alice/expired", src)
        self.assertIn("expired", r.err)
        batches = [q for q in self.hub.requests(server="hub", method="POST")
                   if q.path.endswith("/objects/batch")]
        puts = self.hub.requests(server="cdn", method="PUT")
        refused = [q for q in puts if q.status == 403]
        self.assertEqual(len(refused), 1, r)

        def obj(q):   # the object a signed URL is for: its path without the signature part
            return q.path.split("?")[0].rsplit("/", 1)[0]
        again = [q for q in puts if obj(q) == obj(refused[0])]
        self.assertEqual([q.status for q in again], [403, 200])
        # sent again to a new URL, which the hub gave in a batch asked after the refusal;
        # how the two objects share batches depends on when each is hashed (one batch
        # each on a slow machine): one batch more than that, no more
        self.assertNotEqual(again[0].path, again[1].path)
        self.assertTrue(refused[0].time < batches[-1].time < again[1].time, r)
        self.assertIn(len(batches), (2, 3), r)
        # two objects, one refused once: an object already stored is not sent again
        self.assertEqual(len(puts), 3)
        self.assert_downloaded("alice/expired", self.files)

    # --- commits that lose their answer ---
    def test_commit_answer_lost_is_not_sent_again(self):
        src = self.folder()
        self.hub.fault("commit_lost", path="/commit/")
        r = self.upload("-v", "alice/lost", src)
        self.assertEqual(len(self.commits("alice/lost")), 1, r)
        self.assertIn("landed", r.err)
        self.assertIn(self.commits("alice/lost")[0].commit, r.out)
        self.assert_downloaded("alice/lost", self.files)

    def test_commit_refused_before_it_lands_is_sent_again(self):
        src = self.folder()
        self.hub.fault("status", path="/commit/", code=503)
        r = self.upload("-v", "alice/503", src)
        self.assertEqual(len(self.commits("alice/503")), 1, r)
        self.assertIn("did not land", r.err)

    # --- repos, visibility, namespaces ---
    def test_private_repo_is_not_readable_anonymously(self):
        src = self.folder()
        r = self.upload("--private", "alice/secret", src)
        self.assertIn("private", r.err)
        self.assertTrue(self.hub.get_repo(self.kind, "alice/secret").private)
        r, dest = self.download("alice/secret", token=False)
        self.assertNotEqual(r.rc, 0, r)
        self.assertFalse(os.path.exists(os.path.join(dest, "config.json")))
        self.assert_downloaded("alice/secret", self.files)

    def test_private_never_rescopes_an_existing_repo(self):
        src = self.folder()
        self.upload("alice/public", src)
        with open(os.path.join(src, "config.json"), "wb") as f:
            f.write(b"{}\n")
        r = self.upload("--private", "alice/public", src)
        self.assertIn("visibility is unchanged", r.err)
        self.assertFalse(self.hub.get_repo(self.kind, "alice/public").private)

    def test_other_namespace_is_refused(self):
        src = self.folder()
        r = self.upload_fails(6, "bob/theirs", src)
        self.assertIn("bob", r.err)
        self.assertIsNone(self.hub.get_repo(self.kind, "bob/theirs"))
        self.assertEqual(self.hub.requests(server="cdn"), [])

    def test_org_namespace_is_allowed(self):
        self.hub.orgs = {"acme": {"alice"}}
        src = self.folder()
        self.upload("acme/shared", src)
        self.assert_downloaded("acme/shared", self.files)

    # --- errors and exit codes ---
    def test_usage_errors(self):
        src = self.folder()
        r = self.upload_fails(2, "alice/x", os.path.join(self.tmp, "missing"))
        self.assertIn("missing", r.err)
        self.upload_fails(2, "alice/x", src, "/abs/path")
        self.upload_fails(2, "alice/x", src, "a/../../b")
        os.chmod(os.path.join(src, "config.json"), 0)
        if os.geteuid() != 0:  # root reads anything
            r = self.upload_fails(2, "alice/x", src)
            self.assertIn("config.json", r.err)
        self.assertIsNone(self.hub.get_repo(self.kind, "alice/x"))

    def test_no_token_says_how_to_log_in(self):
        src = self.folder()
        r = self.cli("upload", "alice/x", src, token=False)
        self.assertEqual(r.rc, 6, r)
        self.assertIn("mscli login", r.err)

    def test_network_gone_after_retries(self):
        src = self.folder()
        self.hub.fault("drop_upload", times=None, server="cdn", method="PUT")
        r = self.upload_fails(3, "--retries", "2", "alice/net", src)
        self.assertIn("uploading '", r.err)
        # retried: each object was tried three times
        puts = self.hub.requests(server="cdn", method="PUT")
        self.assertGreaterEqual(len(puts), 3)
        self.assertEqual(self.commits("alice/net"), [])

    def test_a_failing_storage_is_a_retry_line_per_round_not_per_file(self):
        src = self.folder("many", {"w%02d.bin" % i: blob(3 * MIB, seed=40 + i) for i in range(12)})
        self.hub.fault("status", server="cdn", method="PUT", code=500, times=None)
        r = self.upload_fails(1, "--retries", "2", "alice/many", src)
        retries = [l for l in r.err.splitlines() if l.startswith("mscli: retrying")]
        self.assertTrue(retries, r)
        self.assertLess(len(retries), 24, r)
        # one line counts the files of a round ("retrying 14 files (tries 2 to 3 of 3, ...")
        self.assertTrue(any(re.match(r"mscli: retrying \d+ files \(tr", l) for l in retries), r)
        self.assertEqual(self.commits("alice/many"), [])


class TestModelScopeUpload(UploadTests, Case):
    kind, token = "ms", "ms-goodtoken"

    def test_lfs_by_size_and_suffix_as_the_official_clients(self):
        src = self.write(os.path.join(self.tmp, "kinds"), {
            "big.txt": b"x" * (MIB + 1), "small.txt": b"x" * 100, "w.PT": b"weights",
            "data.jsonl": b"{}\n"})
        self.upload("alice/kinds", src)
        added = self.commits("alice/kinds")[0].added
        self.assertEqual(added, {"big.txt": "lfs", "small.txt": "regular", "w.PT": "lfs",
                                 "data.jsonl": "regular"})
        self.upload("--type", "dataset", "alice/kinds-ds", src)
        added = self.hub.upload_commits(kind="ms", repo="alice/kinds-ds")[0].added
        self.assertEqual(added["data.jsonl"], "lfs")  # a dataset suffix

    def test_a_missing_branch_cannot_be_made(self):
        src = self.folder()
        self.upload("alice/br", src)
        r = self.upload_fails(5, "--revision", "dev", "alice/br", src)
        self.assertIn("dev", r.err)

    def test_more_files_than_one_commit_takes(self):
        files = {"f/%03d.txt" % i: b"%d\n" % i for i in range(300)}
        src = self.write(os.path.join(self.tmp, "many"), files)
        r = self.upload("alice/many", src)
        commits = self.commits("alice/many")
        self.assertEqual(len(commits), 2, r)
        self.assertEqual(sum(len(c.added) for c in commits), 300)
        self.assertIn("(part 2/2)", commits[1].message)
        self.assert_downloaded("alice/many", files)


class TestHuggingFaceUpload(UploadTests, Case):
    kind, token = "hf", "hf_goodtoken"
    hub_args = ("--hub", "hf")

    def test_large_files_go_multipart_with_parallel_parts(self):
        self.hub.hf_multipart_threshold = MIB
        self.hub.hf_chunk_size = 256 * 1024
        # each PUT takes a while: parts sent one after the other would never overlap
        self.hub.fault("hold_upload", times=None, server="cdn", method="PUT", seconds=0.2)
        big = blob(3 * MIB + 5, seed=7)
        src = self.write(os.path.join(self.tmp, "mp"), {"model.safetensors": big,
                                                        "small.bin": blob(1000, seed=8)})
        self.upload("alice/mp", src)
        ups = {u.oid: u for u in self.hub.lfs_uploads(kind="hf", repo="alice/mp")}
        mp = ups[sha256(big)]
        self.assertEqual((mp.transfer, mp.parts, mp.complete, mp.verified),
                         ("multipart", 13, True, True))
        self.assertGreater(mp.max_parts_in_flight, 1, "the parts went one after the other")
        self.assertEqual(ups[sha256(blob(1000, seed=8))].transfer, "basic")
        # the completion carried no credential either (a signed URL)
        self.assertIsNone(mp.completion.headers.get("authorization"))
        self.no_credential_on_storage()
        self.assert_downloaded("alice/mp", {"model.safetensors": big})

    def test_a_large_file_the_plan_keeps_regular_is_named_by_its_git_sha1(self):
        # Hashed early as an LFS object (the hub keeps no regular file of 10 MiB); a hub
        # that does keep it regular gets its git blob SHA-1, hashed again, inline.
        self.hub.hf_lfs_threshold = self.hub.hf_regular_max = 20 * MIB
        text = b"a line of text\n" * (11 * MIB // 15)
        src = self.write(os.path.join(self.tmp, "reg"), {"notes.txt": text})
        r = self.upload("--json", "alice/reg", src)
        up = [e for e in r.json() if e["event"] == "uploaded"]
        self.assertEqual([(e["path"], e["lfs"], e.get("git_sha1")) for e in up],
                         [("notes.txt", False, git_sha1(text))])
        self.assertEqual(self.commits("alice/reg")[0].added, {"notes.txt": "regular"})
        self.assertEqual(self.stored_objects("alice/reg"), [])
        self.assert_downloaded("alice/reg", {"notes.txt": text})

    def test_revision_creates_the_branch_from_main(self):
        src = self.folder()
        self.upload("alice/br", src)
        main = self.hub.get_repo("hf", "alice/br").branches["main"]
        with open(os.path.join(src, "config.json"), "wb") as f:
            f.write(b'{"dev": true}\n')
        r = self.upload("--revision", "dev", "alice/br", src)
        self.assertIn("created the branch", r.err)
        repo = self.hub.get_repo("hf", "alice/br")
        self.assertEqual(repo.branches["main"], main)
        self.assertEqual(self.hub.file_bytes("hf", "alice/br", "config.json", revision="dev"),
                         b'{"dev": true}\n')
        self.assertEqual(list(self.commits("alice/br")[-1].added), ["config.json"])

    def test_hub_rejecting_a_file_gives_its_message(self):
        self.hub.hf_regular_max = 1000
        src = self.write(os.path.join(self.tmp, "rej"), {"notes.txt": b"a" * 5000})
        r = self.upload_fails(1, "alice/rej", src)
        self.assertIn("larger than", r.err)
        self.assertIn("notes.txt", r.err)

    def test_gitignore_of_the_repo_is_honoured(self):
        src = self.folder(extra={".gitignore": b"*.log\n"})
        r = self.upload("--json", "alice/gi", src)
        skipped = {e["path"]: e["reason"] for e in r.json() if e["event"] == "skipped"}
        self.assertEqual(skipped, {"train.log": "ignored"})
        self.assertNotIn("train.log", self.commits("alice/gi")[0].added)


class TestUploadProgress(Case):
    """On a terminal: a hashing bar first, then the transfer bars; stdout keeps the URL only."""

    def test_hashing_then_transfer_bars(self):
        import re
        import test_progress  # its pty runner (a module attribute: not collected twice)
        src = os.path.join(self.tmp, "src")
        os.makedirs(src)
        with open(os.path.join(src, "w.bin"), "wb") as f:
            f.write(blob(6 * MIB, seed=5))
        self.hub.fault("hold_upload", server="cdn", method="PUT", seconds=1)
        rc, out, err = test_progress.Progress.run_on_tty(
            self, "--token", "ms-goodtoken", "upload", "alice/bars", src)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.splitlines(), [l for l in out.splitlines() if "/commit/" in l])
        text = test_progress.ESC.sub(b"", err).replace(b"\r", b"").decode()
        lines = [l for l in text.split("\n") if l.strip()]
        hashing = [i for i, l in enumerate(lines) if l.startswith("hashing 1 file ")]
        sending = [i for i, l in enumerate(lines) if re.match(r"w\.bin +\[", l)]
        self.assertTrue(hashing, text)
        self.assertTrue(sending, text)
        self.assertLess(hashing[0], sending[0])
        self.assertTrue(any(re.search(r"\d+% .*/6\.0 MiB", lines[i]) for i in sending), text)
