"""The user contract (issue 9): fast clear failures, honest exits, shell habits.

Each test runs the real binary the way a script or a user at a terminal does
and would fail if the behaviour it names came back."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time

from support import BIN, VALGRIND, Case, blob, command, sha256
from support import command as support_command

# "at once": well under the first retry's wait; valgrind's start-up alone takes seconds
AT_ONCE = 15 if VALGRIND else 5

FILES = {
    "config.json": b'{"a": 1}\n',
    "README.md": b"# readme\n",
    "tokenizer.json": b'{"t": 2}\n',
    "weights/w1.bin": blob(200_000, 1),
    "weights/w2.bin": blob(200_000, 2),
}


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class FailFast(Case):
    """Failures another try cannot fix end at once; the others are retried visibly."""

    def setUp(self):
        super().setUp()
        self.hub.add_ms_repo("acme/m", files=FILES)
        self.hub.add_hf_repo("org/m", files=FILES)

    def timed_fail(self, code, *args, **kw):
        t = time.time()
        r = self.fails(code, *args, **kw)
        return r, time.time() - t

    def test_unresolvable_host_fails_at_once(self):
        for hub in ("modelscope", "hf"):
            r, secs = self.timed_fail(3, "--hub", hub, "--endpoint",
                                      "http://no-such-host.invalid", "download", "acme/m",
                                      fast_retry=False)
            self.assertLess(secs, AT_ONCE)
            self.assertNotIn("retrying", r.err)
            self.assertIn("resolve", r.err)
            self.assertEqual(len(r.errors), 1, r)

    def test_tls_to_a_plain_http_port_fails_at_once(self):
        https = self.hub.url.replace("http://", "https://")
        for hub, repo in (("modelscope", "acme/m"), ("hf", "org/m")):
            r, secs = self.timed_fail(3, "--hub", hub, "--endpoint", https, "download", repo,
                                      fast_retry=False)
            self.assertLess(secs, AT_ONCE, hub)
            self.assertNotIn("retrying", r.err)

    def test_refused_connection_is_retried_with_a_line_each(self):
        url = "http://127.0.0.1:%d" % closed_port()
        r = self.fails(3, "--retries", "2", "--endpoint", url, "download", "acme/m")
        retries = [l for l in r.err.splitlines() if l.startswith("mscli: retrying")]
        self.assertEqual(len(retries), 2, r)
        self.assertIn("try 2 of 3", retries[0])
        self.assertIn("try 3 of 3", retries[1])
        self.assertIn(url, retries[0])
        # --json: one retry object each, then the done object
        r = self.fails(3, "--json", "--retries", "2", "--endpoint", url, "download", "acme/m")
        events = r.json()
        self.assertEqual([e["attempt"] for e in events if e["event"] == "retry"], [1, 2])
        self.assertEqual(events[-1]["event"], "done")
        self.assertEqual(events[-1]["exit_code"], 3)

    def test_listing_answered_503_is_retried_visibly(self):
        self.hub.fault("status", path="repo/files", code=503, times=None)
        r = self.fails(1, "--retries", "3", "download", "acme/m")
        self.assertEqual(len([l for l in r.err.splitlines() if "retrying listing" in l]), 3, r)
        self.assertIn("HTTP 503", r.err)

    def test_a_4xx_is_not_retried(self):
        for hub, repo, path in (("modelscope", "acme/m", "repo/files"),
                                ("hf", "org/m", "api/models/org/m")):
            self.hub.clear_faults()
            self.hub.clear_log()
            self.hub.fault("status", path=path, code=400, times=None)
            r = self.fails(1, "--hub", hub, "--retries", "3", "download", repo)
            self.assertNotIn("retrying", r.err)
            self.assertEqual(len(self.hub.requests(path=path)), 1, hub)


class OneCauseOneLine(Case):
    def many_failing(self):
        files = {"f%02d.txt" % i: b"x" * (i + 1) for i in range(13)}
        self.hub.add_ms_repo("acme/many", files=files)
        # every file on the CDN, as large files are
        self.hub.add_hf_repo("org/many", files=files, lfs=lambda path, size: True)
        self.hub.fault("status", server="cdn", code=500, times=None)
        return (("modelscope", "acme/many"), ("hf", "org/many"))

    @staticmethod
    def retry_lines(r):
        return [l for l in r.err.splitlines() if l.startswith("mscli: retrying")]

    def test_a_failing_cdn_is_one_error_line_with_a_count(self):
        for hub, repo in self.many_failing():
            r = self.fails(1, "--hub", hub, "--retries", "2", "download", repo)
            self.assertEqual(len(r.errors), 1, r)
            self.assertIn("and 12 more file(s) failed the same way", r.err)
            # the per-file detail is there with -v, and in --json
            r = self.fails(1, "--hub", hub, "-v", "--retries", "0", "download", repo)
            self.assertEqual(len([l for l in r.err.splitlines() if "failed: " in l]), 13, r)
            r = self.fails(1, "--hub", hub, "--json", "--retries", "2", "download", repo)
            events = r.json()
            self.assertEqual(len([e for e in events if e["event"] == "error"]), 13)
            self.assertEqual(len([e for e in events if e["event"] == "retry"]), 26)

    def test_retries_of_one_cause_are_a_line_per_round_with_default_delays(self):
        # the default delays carry jitter: the files of a round come back spread out
        for hub, repo in self.many_failing():
            r = self.fails(1, "--hub", hub, "--retries", "2", "download", repo,
                           "--max-workers", "16", fast_retry=False)
            lines = self.retry_lines(r)
            self.assertGreaterEqual(len(lines), 1, r)
            self.assertLessEqual(len(lines), 2, r)  # one per round at most
            self.assertIn("retrying 13 files", r.err)
            # the cause names the host, not one file's URL
            for l in lines:
                self.assertRegex(l, r"HTTP 500 from http://[^/ ]+$")
            # files that wait for a worker are a later batch: one more line at most
            r = self.fails(1, "--hub", hub, "--retries", "2", "download", repo,
                           "--max-workers", "8", fast_retry=False)
            self.assertLessEqual(len(self.retry_lines(r)), 3, r)

    def test_gated_repo_is_one_line(self):
        self.hub.add_hf_repo("org/gated", files=FILES, gated=True)
        r = self.fails(6, "--hub", "hf", "--token", "hf_goodtoken", "download", "org/gated")
        self.assertEqual(len(r.errors), 1, r)

    def nearly_full(self, repo, files):
        """A 3 MiB tmpfs with 1.5 MB taken, and repo on the hub."""
        mnt = self.small_tmpfs("3m")
        self.hub.add_ms_repo(repo, files=files)
        with open(os.path.join(mnt, "filler"), "wb") as f:
            f.write(b"\0" * 1_500_000)
        return mnt

    def test_full_disk_names_the_cause_once(self):
        files = {"a%d.bin" % i: blob(400_000, 40 + i) for i in range(6)}
        mnt = self.nearly_full("acme/fits", files)
        r = self.fails(8, "--cache-dir", mnt, "download", "acme/fits", "--max-workers", "1")
        errs = r.errors
        self.assertEqual(len(errs), 1, r)
        self.assertRegex(errs[0], "No space left|cannot allocate")
        for name in files:  # no "a0.bin: a0.bin: ..." any more
            self.assertNotIn("%s: %s" % (name, name), r.err)

    def test_full_disk_names_the_cause_once_on_hf(self):
        files = {"a%d.bin" % i: blob(400_000, 40 + i) for i in range(6)}
        mnt = self.nearly_full("acme/fits", files)
        self.hub.add_hf_repo("org/fits", files=files)
        r = self.fails(8, "--hub", "hf", "--cache-dir", mnt, "download", "org/fits",
                       "--max-workers", "1")
        self.assertEqual(len(r.errors), 1, r)
        self.assertRegex(r.errors[0], "No space left|cannot allocate")
        for name in files:
            self.assertNotIn("%s: %s" % (name, name), r.err)

    def test_full_disk_with_small_files_is_exit_8_too(self):
        # files under 256 KiB are not reserved: their first write meets the full disk
        files = {"s%02d.json" % i: blob(100_000, 60 + i) for i in range(20)}
        mnt = self.nearly_full("acme/small", files)
        r = self.fails(8, "--cache-dir", mnt, "download", "acme/small")
        self.assertEqual(len(r.errors), 1, r)
        self.assertRegex(r.errors[0], "No space left")
        self.assertEqual(r.out, "")
        # what is in place is whole; the rest comes once there is room
        d = self.ms_repo_dir("acme/small", root=mnt)
        placed = [p for p in files if os.path.exists(os.path.join(d, p))]
        self.assertLess(len(placed), len(files))
        for p in placed:
            with open(os.path.join(d, p), "rb") as f:
                self.assertEqual(f.read(), files[p], p)
        os.unlink(os.path.join(mnt, "filler"))
        r = self.ok("--cache-dir", mnt, "download", "acme/small")
        for p, data in files.items():
            with open(os.path.join(d, p), "rb") as f:
                self.assertEqual(f.read(), data, p)


class ScriptInput(Case):
    def setUp(self):
        super().setUp()
        self.hub.add_ms_repo("acme/m", files=FILES)

    def test_an_option_value_that_is_an_option_is_a_usage_error(self):
        r = self.fails(2, "download", "acme/m", "--exclude", "--dry-run")
        self.assertIn("'--exclude' needs a value, not the option '--dry-run'", r.err)
        self.assertEqual(self.hub.log, [])
        # '-' is a value (stdout), and --opt=--x says it is meant
        self.ok("download", "acme/m", "config.json", "-o", "-")
        self.ok("download", "acme/m", "--exclude=--odd", "--dry-run")

    def test_empty_values_are_usage_errors_before_any_request(self):
        for args in (["--local-dir", ""], ["--cache-dir", ""], ["config.json", "-o", ""],
                     ["--revision", ""]):
            r = self.fails(2, "download", "acme/m", *args)
            self.assertIn("empty", r.err)
        self.assertEqual(self.hub.log, [])
        self.assertEqual(os.listdir(self.tmp), ["home"])  # nothing written

    def test_short_option_equals_value_is_the_value(self):
        # "-o=x" is x, as argparse reads it; "-o=" is an empty value
        # (in the test's own directory: a binary without the fix writes a file named "=")
        r = self.fails(2, "download", "acme/m", "config.json", "-o=", cwd=self.tmp)
        self.assertIn("empty", r.err)
        self.assertEqual(self.hub.log, [])
        out = os.path.join(self.tmp, "c.json")
        self.ok("download", "acme/m", "config.json", "-o=" + out)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), FILES["config.json"])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "=" + out)))

    def test_tilde_is_expanded_in_options_and_variables(self):
        r = self.ok("download", "acme/m", "--cache-dir=~/c1")
        self.assertEqual(r.lines, [self.ms_repo_dir("acme/m", root=os.path.join(self.home, "c1"))])
        r = self.ok("download", "acme/m", "--local-dir=~/ld")
        self.assertEqual(r.lines, [os.path.join(self.home, "ld")])
        r = self.ok("download", "acme/m", env={"MODELSCOPE_CACHE": "~/c2"})
        self.assertEqual(r.lines, [self.ms_repo_dir("acme/m", root=os.path.join(self.home, "c2"))])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "~")))

    def test_tilde_is_expanded_in_hf_options_and_variables(self):
        self.hub.add_hf_repo("org/h", files=FILES)
        r = self.ok("--hub", "hf", "download", "org/h", "--cache-dir=~/h1")
        self.assertTrue(r.lines[0].startswith(os.path.join(self.home, "h1", "models--org--h")),
                        r)
        r = self.ok("--hub", "hf", "download", "org/h", "--local-dir=~/hld")
        self.assertEqual(r.lines, [os.path.join(self.home, "hld")])
        r = self.ok("--hub", "hf", "download", "org/h", "config.json", "-o", "~/c.json")
        with open(os.path.join(self.home, "c.json"), "rb") as f:
            self.assertEqual(f.read(), FILES["config.json"])
        r = self.ok("--hub", "hf", "download", "org/h", env={"HF_HUB_CACHE": "~/h2"})
        self.assertTrue(r.lines[0].startswith(os.path.join(self.home, "h2", "models--org--h")),
                        r)
        r = self.ok("--hub", "hf", "download", "org/h", env={"HF_HOME": "~/h3"})
        self.assertTrue(r.lines[0].startswith(os.path.join(self.home, "h3", "hub",
                                                           "models--org--h")), r)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "~")))

    def test_without_home_the_password_database_is_used(self):
        import pwd
        env = dict(self.env)
        del env["HOME"]
        del env["MODELSCOPE_CACHE"]
        p = subprocess.run(command(["--json", "download", "acme/m", "--dry-run"]), env=env,
                           capture_output=True)
        done = json.loads(p.stdout.decode().splitlines()[-1])
        home = pwd.getpwuid(os.getuid()).pw_dir
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(done["path"].startswith(os.path.join(home, ".cache", "modelscope")), done)

    def test_without_home_and_passwd_entry_the_error_says_so(self):
        import pwd
        uid = 54321
        try:
            pwd.getpwuid(uid)
            self.skipTest("uid %d has a passwd entry here" % uid)
        except KeyError:
            pass
        if os.getuid() != 0:
            self.skipTest("needs root to run as another uid")
        self.hub.add_hf_repo("org/h", files=FILES)
        env = {k: v for k, v in self.env.items()
               if k not in ("HOME", "MODELSCOPE_CACHE", "HF_HOME")}
        os.chmod(self.tmp, 0o755)

        # that uid may not reach the build (a checkout below a 0700 directory): a copy
        binary = os.path.join(self.tmp, "mscli")
        shutil.copy(BIN, binary)

        def command(args):
            cmd = support_command(args)
            cmd[cmd.index(BIN)] = binary
            return cmd

        def as_nobody():
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)

        for hub, repo in (("modelscope", "acme/m"), ("hf", "org/h")):
            p = subprocess.run(command(["--hub", hub, "download", repo, "--dry-run"]),
                               env=env, capture_output=True, preexec_fn=as_nobody, cwd="/")
            err = p.stderr.decode()
            self.assertEqual(p.returncode, 2, err)
            self.assertIn("HOME is not set and uid %d has no entry in the password database; "
                          "set HOME or --cache-dir" % uid, err)
            self.assertEqual(len([l for l in err.splitlines() if "error" in l]), 1, err)
            # a cache named on the command line needs no home
            cache = os.path.join(self.tmp, "c-" + hub)
            os.makedirs(cache)
            os.chown(cache, uid, uid)
            p = subprocess.run(command(["--hub", hub, "--cache-dir", cache, "download", repo,
                                        "--dry-run"]), env=env, capture_output=True,
                               preexec_fn=as_nobody, cwd="/")
            self.assertEqual(p.returncode, 0, p.stderr)
            # a --local-dir needs no cache, so no home either (a container's random uid)
            local = os.path.join(self.tmp, "l-" + hub)
            os.makedirs(local)
            os.chown(local, uid, uid)
            p = subprocess.run(command(["--hub", hub, "download", repo, "--local-dir", local]),
                               env=env, capture_output=True, preexec_fn=as_nobody, cwd="/")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertTrue(os.path.isfile(os.path.join(local, "config.json")), p.stderr)
            self.assertFalse(os.path.exists("/.cache/" + ("huggingface" if hub == "hf"
                                                          else "modelscope")))
            # info plans against the cache: it says so too
            p = subprocess.run(command(["--hub", hub, "info", repo]), env=env,
                               capture_output=True, preexec_fn=as_nobody, cwd="/")
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(b"HOME is not set", p.stderr)
            # and so do the cache commands, unless --cache-dir names the cache
            for args in (["cache", "ls"], ["--cache-dir", cache, "cache", "ls"]):
                p = subprocess.run(command(["--hub", hub] + args), env=env,
                                   capture_output=True, preexec_fn=as_nobody, cwd="/")
                self.assertEqual(p.returncode, 0 if "--cache-dir" in args else 2, p.stderr)
            # a login has nowhere to keep the token: it says so, not "cannot create /.cache"
            token, where = (("hf_goodtoken", "set HOME or HF_HOME or HF_TOKEN_PATH")
                            if hub == "hf" else
                            ("ms-goodtoken",
                             "set HOME or MODELSCOPE_HOME and MODELSCOPE_CREDENTIALS_PATH"))
            p = subprocess.run(command(["--hub", hub, "login", "--token", token]), env=env,
                               capture_output=True, preexec_fn=as_nobody, cwd="/")
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(where.encode(), p.stderr)
            # known before the token is sent anywhere to be stored
            self.assertEqual(self.hub.requests(path="/api/v1/login"), [])

    def test_hub_names_in_any_case_and_urls_win_over_mscli_hub(self):
        self.hub.add_hf_repo("org/h", files=FILES)
        self.ok("download", "org/h", env={"MSCLI_HUB": "HF"})
        self.ok("--hub", "HuggingFace", "download", "org/h")
        # MSCLI_HUB is a default: a ModelScope URL or prefix is still ModelScope
        r = self.ok("download", "https://modelscope.cn/models/acme/m", env={"MSCLI_HUB": "hf"})
        self.assertEqual(r.lines, [self.ms_repo_dir("acme/m")])
        self.ok("download", "ms:acme/m", env={"MSCLI_HUB": "hf"})
        # --hub is not a default: a contradiction is still an error
        self.fails(2, "--hub", "hf", "download", "https://modelscope.cn/models/acme/m")

    def test_spellings_users_paste(self):
        self.hub.add_hf_repo("org/ds", type="dataset", files=FILES)
        self.hub.add_hf_repo("org/h", files=FILES)
        r = self.ok("download", "hf://datasets/org/ds@main/README.md")
        self.assertTrue(r.lines[0].endswith("/README.md"), r)
        with open(r.lines[0], "rb") as f:
            self.assertEqual(f.read(), FILES["README.md"])
        r = self.ok("download", "hf://org/h/weights/w1.bin")
        self.assertTrue(r.lines[0].endswith("/weights/w1.bin"), r)
        # a ModelScope file page names that file
        r = self.ok("download",
                    "https://modelscope.cn/models/acme/m/file/view/master?fileName=config.json")
        self.assertEqual(r.lines, [os.path.join(self.ms_repo_dir("acme/m"), "config.json")])
        # that file alone, not the whole repo
        self.assertEqual([n for n in os.listdir(self.ms_repo_dir("acme/m")) if n[0] != "."],
                         ["config.json"])

    def test_include_takes_several_patterns_as_modelscopes_cli(self):
        # after REPO, the words after --include are patterns until the next option
        r = self.ok("--json", "download", "acme/m", "--include", "*.json", "README.md",
                    "--dry-run")
        planned = sorted(e["path"] for e in r.json() if e["event"] == "plan")
        self.assertEqual(planned, ["README.md", "config.json", "tokenizer.json"])
        # before REPO only words with * ? [ are: the repo is still the repo
        r = self.ok("--json", "download", "--include", "*.json", "acme/m", "--dry-run")
        planned = sorted(e["path"] for e in r.json() if e["event"] == "plan")
        self.assertEqual(planned, ["config.json", "tokenizer.json"])

    def test_habit_options_of_the_official_clis(self):
        r = self.ok("--format", "json", "download", "acme/m", "config.json")
        self.assertEqual(r.json()[-1]["event"], "done")
        self.ok("download", "acme/m", "--max_workers", "2", "--force_download",
                "--resume-download")
        r = self.ok("download", "acme/m", "--local-dir", os.path.join(self.tmp, "l"),
                    "--local-dir-use-symlinks", "False")
        self.assertIn("--local-dir-use-symlinks is ignored", r.err)
        r = self.fails(2, "downlaod", "acme/m")
        self.assertIn("did you mean 'download'?", r.err)

    def test_a_mistyped_verb_or_option_is_named_with_the_one_meant(self):
        for args, meant in ((["cache", "lss"], "did you mean 'ls'?"),
                            (["help", "cache", "veryfy"], None),
                            (["help", "downlod"], "did you mean 'download'?"),
                            (["download", "acme/m", "--inculde", "*.json"],
                             "did you mean '--include'?"),
                            (["download", "acme/m", "--inculde=*.json"],
                             "did you mean '--include'?"),
                            (["--endpint", "http://x", "search", "q"],
                             "did you mean '--endpoint'?"),
                            (["cache", "verify", "--repiar"], "did you mean '--repair'?")):
            if meant is None:  # help for a command whose verb is mistyped: the command's help
                self.ok(*args)
                continue
            r = self.fails(2, *args)
            self.assertIn(meant, r.err, args)
            self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
        # nothing near: no guess
        r = self.fails(2, "download", "acme/m", "--zzzzzz")
        self.assertNotIn("did you mean", r.err)
        self.assertIn("unknown option '--zzzzzz'", r.err)


class Exits(Case):
    def setUp(self):
        super().setUp()
        self.hub.add_ms_repo("acme/m", files=FILES)
        self.hub.add_hf_repo("org/h", files=FILES)

    def test_a_cache_below_a_regular_file_is_local_storage(self):
        f = os.path.join(self.tmp, "file")
        open(f, "w").close()
        self.fails(8, "--cache-dir", os.path.join(f, "cache"), "download", "acme/m")
        self.fails(8, "--hub", "hf", "--cache-dir", os.path.join(f, "cache"), "download",
                   "org/h")
        self.fails(8, "download", "acme/m", env={"HOME": f, "MODELSCOPE_CACHE": ""})

    def test_output_into_proc_is_local_storage(self):
        self.fails(8, "download", "acme/m", "config.json", "-o", "/proc/x.json")
        self.fails(8, "--hub", "hf", "download", "org/h", "config.json", "-o", "/proc/x.json")

    def test_offline_revision_never_fetched_is_exit_7_naming_it(self):
        self.ok("download", "acme/m")
        r = self.fails(7, "--offline", "download", "acme/m", "--revision", "v9")
        self.assertIn("'v9'", r.err)
        self.ok("--hub", "hf", "download", "org/h")
        r = self.fails(7, "--offline", "--hub", "hf", "download", "org/h", "--revision", "v9")
        self.assertIn("v9", r.err)

    def test_json_into_a_full_device_is_exit_8(self):
        with open("/dev/full", "w") as full:
            p = subprocess.run(command(["--json", "download", "acme/m"]), env=self.env,
                               stdout=full, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 8, p.stderr)
        self.assertIn(b"standard output", p.stderr)

    def test_stdout_into_a_full_device_is_exit_8_in_every_mode(self):
        for args in (["download", "acme/m"], ["download", "acme/m", "config.json", "-o", "-"],
                     ["--hub", "hf", "download", "org/h"],
                     ["--hub", "hf", "download", "org/h", "config.json", "-o", "-"]):
            with open("/dev/full", "w") as full:
                p = subprocess.run(command(args), env=self.env, stdout=full,
                                   stderr=subprocess.PIPE)
            self.assertEqual(p.returncode, 8, (args, p.stderr))
            self.assertIn(b"standard output", p.stderr, args)

    def test_every_usage_error_with_json_ends_with_a_done_object(self):
        for args in (["--json", "download", "acme/m", "--bogus"],
                     ["download", "--json", "acme/m", "--type", "space"],
                     ["--json", "nosuchcommand"],
                     ["--json", "download"]):
            r = self.fails(2, *args)
            done = r.json()[-1]
            self.assertEqual((done["event"], done["code"], done["exit_code"]),
                             ("done", "usage", 2), args)

    def interrupt(self, sig, hub="modelscope"):
        if hub == "hf":
            self.hub.add_hf_repo("org/slow", files={"big.bin": blob(4_000_000, 7)})
        else:
            self.hub.add_ms_repo("acme/slow", files={"big.bin": blob(4_000_000, 7)})
        self.hub.clear_faults()
        self.hub.fault("trickle", path="big.bin", rate=400_000, times=None)
        self.hub.clear_log()
        p = self.spawn("--hub", hub, "--json", "download",
                       "org/slow" if hub == "hf" else "acme/slow", "--force")
        self.wait_for(lambda: self.hub.body_bytes() > 300_000, what="bytes to flow")
        p.send_signal(sig)
        out, err = p.communicate(timeout=60)
        return p.returncode, [json.loads(l) for l in out.decode().splitlines()], err.decode()

    def test_interrupted_run_reports_the_bytes_it_fetched(self):
        for hub in ("modelscope", "hf"):
            rc, events, err = self.interrupt(signal.SIGINT, hub)
            self.assertEqual(rc, 130, err)
            done = events[-1]
            self.assertEqual(done["exit_code"], 130)
            self.assertGreater(done["bytes_fetched"], 0, hub)

    def test_sigterm_and_sighup_say_how_to_resume(self):
        rc, _, err = self.interrupt(signal.SIGTERM)
        self.assertEqual(rc, 143)
        self.assertIn("run the same command again to resume", err)
        rc, _, err = self.interrupt(signal.SIGHUP)
        self.assertEqual(rc, 129)
        self.assertIn("run the same command again to resume", err)

    def test_help_lists_every_exit_code(self):
        out = self.ok("--help").out
        for code in ("0 ok", "2 usage", "8 local storage", "130"):
            self.assertIn(code, out)


class Files(Case):
    def test_switching_revision_drops_the_old_revisions_files(self):
        repo = self.hub.add_ms_repo("acme/sw", files={"config.json": b"{}",
                                                       "model-1.safetensors": b"one",
                                                       "model-2.safetensors": b"two"},
                                    tags={"v2": {"config.json": b'{"v": 2}',
                                                 "model.safetensors": b"merged"}})
        d = self.ms_repo_dir("acme/sw")
        self.ok("download", "acme/sw")
        with open(os.path.join(d, "model-2.safetensors"), "ab") as f:
            f.write(b" edited")  # changed since it was downloaded: kept, and named
        r = self.ok("download", "acme/sw", "--revision", "v2")
        self.assertEqual(r.lines, [d])
        left = sorted(n for n in os.listdir(d) if not n.startswith("."))
        self.assertEqual(left, ["config.json", "model-2.safetensors", "model.safetensors"])
        self.assertIn("model-2.safetensors", r.err)
        self.assertIn("kept", r.err)
        self.assertEqual([e["Path"] for e in self.read_pickle(os.path.join(d, ".msc"))
                          if e["Path"] == "model-1.safetensors"], [])

    def test_switching_revision_in_a_local_dir_drops_the_old_revisions_files(self):
        v1 = {"config.json": b"{}", "model-1.safetensors": b"one", "model-2.safetensors": b"two"}
        v2 = {"config.json": b'{"v": 2}', "model.safetensors": b"merged"}
        self.hub.add_ms_repo("acme/sw", files=v1, tags={"v2": v2})
        self.hub.add_hf_repo("org/sw", files=v1, tags={"v2": v2})
        for hub, repo in (("modelscope", "acme/sw"), ("hf", "org/sw")):
            d = os.path.join(self.tmp, "ld-" + hub)
            self.ok("--hub", hub, "download", repo, "--local-dir", d)
            with open(os.path.join(d, "model-2.safetensors"), "ab") as f:
                f.write(b" edited")  # changed since it was downloaded: kept, and named
            os.utime(os.path.join(d, "model-2.safetensors"),
                     (time.time() + 5, time.time() + 5))
            r = self.ok("--hub", hub, "download", repo, "--revision", "v2", "--local-dir", d)
            self.assertEqual(r.lines, [d])
            left = sorted(n for n in os.listdir(d) if not n.startswith("."))
            self.assertEqual(left, ["config.json", "model-2.safetensors", "model.safetensors"],
                             hub)
            self.assertIn("model-2.safetensors", r.err)
            self.assertIn("kept", r.err)
            if hub == "modelscope":
                paths = [e["Path"] for e in self.read_pickle(os.path.join(d, ".msc"))]
                self.assertNotIn("model-1.safetensors", paths)
                self.assertIn("model.safetensors", paths)
            # and back: v1's files return, v2's lone file goes
            self.ok("--hub", hub, "download", repo, "--local-dir", d)
            left = sorted(n for n in os.listdir(d) if not n.startswith("."))
            self.assertEqual(left, ["config.json", "model-1.safetensors",
                                    "model-2.safetensors"], hub)

    def test_state_of_an_older_mscli_is_moved_out_of_the_folder(self):
        self.hub.add_ms_repo("acme/old", files=FILES)
        self.ok("download", "acme/old")
        d = self.ms_repo_dir("acme/old")
        new = os.path.join(self.cache, ".mscli", "models", "acme", "old", "listing-master.json")
        os.makedirs(os.path.join(d, ".mscli"))
        os.rename(new, os.path.join(d, ".mscli", "listing-master.json"))
        self.ok("--offline", "download", "acme/old")   # read where it is
        self.ok("download", "acme/old")                # then moved
        self.assertFalse(os.path.exists(os.path.join(d, ".mscli")))
        self.assertTrue(os.path.exists(new))

    def test_endpoint_password_is_never_printed(self):
        self.hub.add_ms_repo("acme/p", files=FILES)
        self.hub.add_hf_repo("org/p", files=FILES)
        url = self.hub.url.replace("http://", "http://user:s3cretpass@")
        for hub, repo in (("modelscope", "acme/p"), ("hf", "org/p")):
            for verbose in (["-v"], []):
                r = self.ok(*verbose, "--hub", hub, "--endpoint", url, "download", repo,
                            "--force")
                self.assertNotIn("s3cretpass", r.err + r.out)
                self.assertIn("downloading", r.err)
            r = self.ok("--json", "--hub", hub, "--endpoint", url, "download", repo, "--force")
            self.assertNotIn("s3cretpass", r.err + r.out)
            # in error lines, plain and --json
            r = self.fails(5, "--hub", hub, "--endpoint", url, "download", repo + "-gone")
            self.assertNotIn("s3cretpass", r.err + r.out)
            r = self.fails(5, "--json", "--hub", hub, "--endpoint", url, "download",
                           repo + "-gone")
            self.assertNotIn("s3cretpass", r.err + r.out)
        r = self.fails(3, "--endpoint", "http://user:s3cretpass@127.0.0.1:%d" % closed_port(),
                       "--retries", "1", "download", "acme/p")
        self.assertNotIn("s3cretpass", r.err + r.out)


class Terminal(Case):
    def setUp(self):
        super().setUp()
        self.hub.add_ms_repo("acme/slow", files={"config.json": b"{}\n",
                                                  "a-rather-long-name-for-weights.bin":
                                                  blob(3_000_000, 5)})
        self.hub.fault("trickle", path="weights.bin", rate=1_500_000, times=None)

    def on_tty(self, *args, cols=100, env=None):
        rc, err, _ = self.tty_run(*args, cols=cols, env=env)
        self.assertEqual(rc, 0, err)
        return err

    def test_term_dumb_gets_plain_lines(self):
        err = self.on_tty("download", "acme/slow", env={"TERM": "dumb"})
        self.assertNotIn(b"\x1b[", err)

    def test_narrow_terminals_drop_columns_never_cut_numbers(self):
        import re
        for cols in (40, 20):
            err = self.on_tty("download", "acme/slow", "--force", cols=cols)
            text = re.sub(rb"\x1b\[[0-9;]*[A-Za-z]", b"", err).replace(b"\r", b"").decode()
            bars = [l for l in text.split("\n") if re.search(r"\d+%", l)]
            self.assertTrue(bars, text)
            for l in bars:
                self.assertLess(len(l.rstrip()), cols, repr(l))
                # every number is whole: "1.2 MiB", never "1." at the end of a line
                self.assertNotRegex(l.rstrip(), r"\d\.$")
                self.assertRegex(l, r"(^|\s)\d{1,3}%")
