"""mscli login / whoami / logout on both hubs: where the token is stored (the
files the official clients read), their modes, the ways a token comes in
(--token, a pipe, a no-echo prompt on a terminal), refused tokens stored
nowhere, precedence, and the official clients reading what mscli stored."""
import os
import pickle
import pty
import select
import stat
import subprocess
import time

from support import Case, command

OFFICIAL = os.environ.get("MSCLI_OFFICIAL", "/work/official")
HFHUB_SRC = os.environ.get("HFHUB_SRC", os.path.join(OFFICIAL, "hfhub", "src"))
MSHUB_SRC = os.environ.get("MSHUB_SRC", os.path.join(OFFICIAL, "mshub", "src"))
MSOLD_SRC = os.environ.get("MSOLD_SRC", os.path.join(OFFICIAL, "msold"))
SHIM = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "official",
                    "pyshim")
PY = "/usr/bin/python3"  # the interpreter the official clients were checked with


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class LoginCase(Case):
    def official(self, src, code, env=None):
        """Run code with an official client's source on the path; skip when it is absent."""
        if not os.path.isdir(src):
            self.skipTest("official client source not at %s" % src)
        e = dict(self.env)
        e.update({"PYTHONPATH": src + ":" + SHIM, "HF_HUB_DISABLE_TELEMETRY": "1"})
        e.update(env or {})
        p = subprocess.run([PY, "-c", code], env=e, capture_output=True, text=True, timeout=120)
        return p

    def prompt_login(self, args, token):
        """Run mscli with a terminal for stdin and stderr; type token at the prompt.
        Returns (exit code, everything the terminal showed)."""
        master, slave = pty.openpty()
        p = subprocess.Popen(command(args), env=self.env, stdin=slave, stderr=slave,
                             stdout=subprocess.PIPE)
        os.close(slave)
        shown, typed = b"", False
        deadline = time.time() + 60
        while time.time() < deadline:
            r, _, _ = select.select([master], [], [], 0.1)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                shown += chunk
            if not typed and b"Token (input hidden): " in shown:
                os.write(master, token.encode() + b"\n")
                typed = True
            if p.poll() is not None and not r:
                break
        p.wait(10)
        os.close(master)
        p.stdout.close()
        self.assertTrue(typed, "no prompt shown: %r" % shown)
        return p.returncode, shown.decode("utf-8", "replace")


class TestHuggingFaceLogin(LoginCase):
    def hf(self, *args, **kw):
        return self.mscli("--hub", "hf", *args, **kw)

    def paths(self):
        home = self.env["HF_HOME"]
        return home, os.path.join(home, "token"), os.path.join(home, "stored_tokens")

    def test_login_files_and_modes_then_whoami_and_logout(self):
        home, token, stored = self.paths()
        r = self.hf("login", "--token", "hf_goodtoken")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.out, "")
        with open(token) as f:
            self.assertEqual(f.read(), "hf_goodtoken")  # bare, no newline
        with open(stored) as f:
            self.assertEqual(f.read(), "[hubemu]\nhf_token = hf_goodtoken\n\n")
        self.assertEqual(mode(token), 0o600)
        self.assertEqual(mode(stored), 0o600)
        self.assertEqual(mode(home), 0o700)
        self.assertFalse([n for n in os.listdir(home) if n.endswith("tmp")])  # .mscli-tmp too
        r = self.hf("whoami")
        self.assertEqual((r.rc, r.out), (0, "alice\n"), r)
        self.assertIn("saved login", r.err)
        # a login killed between writing its temporary and the rename left a copy: the
        # logout erases that too
        with open(token + ".mscli-tmp", "w") as f:
            f.write("hf_goodtoken")
        r = self.hf("logout")
        self.assertEqual(r.rc, 0, r)
        self.assertFalse(os.path.exists(token))
        self.assertFalse(os.path.exists(stored))
        self.assertEqual([n for n in os.listdir(home) if "tmp" in n], [])
        r = self.hf("whoami")
        self.assertEqual(r.rc, 6, r)
        self.assertIn("mscli login", r.err)

    def test_logout_keeps_other_stored_tokens(self):
        home, token, stored = self.paths()
        os.makedirs(home)
        with open(stored, "w") as f:
            f.write("[other]\nhf_token = hf_other\nrefresh_token = r1\nexpires_at = 17\n\n")
        self.assertEqual(self.hf("login", "--token", "hf_goodtoken").rc, 0)
        with open(stored) as f:
            text = f.read()
        self.assertIn("[other]\nhf_token = hf_other\nrefresh_token = r1", text)
        self.assertIn("[hubemu]\nhf_token = hf_goodtoken", text)
        self.assertLess(text.index("[hubemu]"), text.index("[other]"))  # sorted, as hf writes
        self.assertEqual(self.hf("logout").rc, 0)
        with open(stored) as f:
            self.assertEqual(f.read(), "[other]\nhf_token = hf_other\nrefresh_token = r1\n"
                                       "expires_at = 17\n\n")

    def test_token_from_a_pipe(self):
        r = self.hf("login", stdin=b"  hf_goodtoken  \n")
        self.assertEqual(r.rc, 0, r)
        with open(self.paths()[1]) as f:
            self.assertEqual(f.read(), "hf_goodtoken")

    def test_token_typed_at_a_prompt_is_not_echoed(self):
        rc, shown = self.prompt_login(["--hub", "hf", "login"], "hf_goodtoken")
        self.assertEqual(rc, 0, shown)
        self.assertNotIn("hf_goodtoken", shown)
        self.assertIn("logged in", shown)
        with open(self.paths()[1]) as f:
            self.assertEqual(f.read(), "hf_goodtoken")

    def test_refused_token_is_stored_nowhere(self):
        home, token, stored = self.paths()
        r = self.hf("login", "--token", "hf_bad")
        self.assertEqual(r.rc, 6, r)
        self.assertFalse(os.path.exists(token))
        self.assertFalse(os.path.exists(stored))
        # and a good login already there stays as it was
        self.assertEqual(self.hf("login", "--token", "hf_goodtoken").rc, 0)
        r = self.hf("login", stdin=b"hf_bad\n")
        self.assertEqual(r.rc, 6, r)
        with open(token) as f:
            self.assertEqual(f.read(), "hf_goodtoken")
        with open(stored) as f:
            self.assertNotIn("hf_bad", f.read())
        r = self.hf("login", stdin=b"")
        self.assertEqual(r.rc, 2, r)

    def test_precedence_option_environment_stored(self):
        self.assertEqual(self.hf("login", "--token", "hf_goodtoken").rc, 0)
        r = self.hf("whoami", env={"HF_TOKEN": "hf_bad"})
        self.assertEqual(r.rc, 6, r)
        self.assertIn("HF_TOKEN", r.err)
        r = self.hf("--token", "hf_goodtoken", "whoami", env={"HF_TOKEN": "hf_bad"})
        self.assertEqual(r.rc, 0, r)
        r = self.hf("logout", env={"HF_TOKEN": "hf_goodtoken"})
        self.assertIn("HF_TOKEN is set", r.err)

    def test_hf_token_path(self):
        path = os.path.join(self.tmp, "elsewhere", "tok")
        r = self.hf("login", "--token", "hf_goodtoken", env={"HF_TOKEN_PATH": path})
        self.assertEqual(r.rc, 0, r)
        with open(path) as f:
            self.assertEqual(f.read(), "hf_goodtoken")
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "elsewhere", "stored_tokens")))
        self.assertEqual(self.hf("whoami", env={"HF_TOKEN_PATH": path}).out, "alice\n")

    def test_stored_token_reads_private_repos(self):
        self.hub.add_hf_repo("alice/priv", files={"a.txt": b"private\n"}, private=True)
        dest = os.path.join(self.tmp, "dl")
        self.assertNotEqual(self.hf("download", "alice/priv", "--local-dir", dest).rc, 0)
        self.assertEqual(self.hf("login", "--token", "hf_goodtoken").rc, 0)
        r = self.hf("download", "alice/priv", "--local-dir", dest)
        self.assertEqual(r.rc, 0, r)
        with open(os.path.join(dest, "a.txt"), "rb") as f:
            self.assertEqual(f.read(), b"private\n")

    def test_json(self):
        r = self.hf("--json", "login", "--token", "hf_goodtoken")
        j = r.json()[0]
        self.assertEqual((j["event"], j["user"]), ("login", "alice"))
        self.assertIn(self.paths()[1], j["files"])
        j = self.hf("--json", "whoami").json()[0]
        self.assertEqual((j["event"], j["user"], j["orgs"]), ("whoami", "alice", []))

    def test_huggingface_hub_reads_what_mscli_stored(self):
        self.assertEqual(self.hf("login", "--token", "hf_goodtoken").rc, 0)
        p = self.official(HFHUB_SRC, "from huggingface_hub import get_token, HfApi\n"
                                     "print(get_token())\nprint(HfApi().whoami()['name'])",
                          env={"HF_HUB_DISABLE_XET": "1"})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split(), ["hf_goodtoken", "alice"])


class TestModelScopeLogin(LoginCase):
    def creds(self, base=None):
        d = os.path.join(base or self.home, ".modelscope", "credentials")
        return d, os.path.join(d, "cookies"), os.path.join(d, "git_token"), os.path.join(d, "user")

    def test_login_writes_the_cookie_jar_both_clients_read(self):
        d, cookies, git_token, user = self.creds()
        r = self.mscli("login", "--token", "ms-goodtoken")
        self.assertEqual(r.rc, 0, r)
        for p in (cookies, git_token, user):
            self.assertEqual(mode(p), 0o600, p)
        self.assertEqual(mode(d), 0o700)
        # what both clients do with it: unpickle a RequestsCookieJar
        p = subprocess.run([PY, "-c", "import pickle,sys\n"
                            "j = pickle.load(open(sys.argv[1], 'rb'))\n"
                            "print(type(j).__name__)\n"
                            "for c in j: print(c.name, c.value, c.domain, c.is_expired())",
                            cookies], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split("\n")[:2],
                         ["RequestsCookieJar", "m_session_id ms-goodtoken 127.0.0.1 False"])
        with open(user) as f:
            self.assertEqual(f.read(), "alice:alice@example.com")
        r = self.mscli("whoami")
        self.assertEqual((r.rc, r.out), (0, "alice\n"), r)
        with open(git_token + ".mscli-tmp", "w") as f:  # what a killed login left
            f.write("ms-goodtoken")
        r = self.mscli("logout")
        self.assertEqual(r.rc, 0, r)
        for p in (cookies, git_token, user):
            self.assertFalse(os.path.exists(p), p)
        self.assertEqual(os.listdir(d), [])
        self.assertEqual(self.mscli("whoami").rc, 6)

    def test_both_credentials_folders_when_they_differ(self):
        home = os.path.join(self.tmp, "mshome")
        old = os.path.join(self.tmp, "oldcreds")
        env = {"MODELSCOPE_HOME": home, "MODELSCOPE_CREDENTIALS_PATH": old}
        r = self.mscli("login", "--token", "ms-goodtoken", env=env)
        self.assertEqual(r.rc, 0, r)
        for d in (os.path.join(home, "credentials"), old):
            self.assertTrue(os.path.exists(os.path.join(d, "cookies")), d)
        self.assertEqual(self.mscli("whoami", env={"MODELSCOPE_CREDENTIALS_PATH": old}).rc, 0)
        self.assertEqual(self.mscli("logout", env=env).rc, 0)
        for d in (os.path.join(home, "credentials"), old):
            self.assertFalse(os.path.exists(os.path.join(d, "cookies")), d)

    def test_refused_token_is_stored_nowhere(self):
        d, cookies, _, _ = self.creds()
        r = self.mscli("login", "--token", "ms-bad")
        self.assertEqual(r.rc, 6, r)
        self.assertFalse(os.path.exists(cookies))

    def test_expired_login_is_no_login(self):
        d, cookies, _, _ = self.creds()
        self.assertEqual(self.mscli("login", "--token", "ms-goodtoken").rc, 0)
        # rewritten by Python (protocol 4, memo, frames) with the cookie expired
        p = subprocess.run([PY, "-c", "import pickle,sys\n"
                            "j = pickle.load(open(sys.argv[1], 'rb'))\n"
                            "for c in j: c.expires = 1000\n"
                            "pickle.dump(j, open(sys.argv[1], 'wb'))", cookies],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = self.mscli("whoami")
        self.assertEqual(r.rc, 6, r)

    def test_precedence_and_private_downloads(self):
        self.hub.add_ms_repo("alice/priv", files={"a.txt": b"private\n"}, private=True)
        dest = os.path.join(self.tmp, "dl")
        self.assertNotEqual(self.mscli("download", "alice/priv", "--local-dir", dest).rc, 0)
        self.assertEqual(self.mscli("login", stdin=b"ms-goodtoken\n").rc, 0)
        r = self.mscli("download", "alice/priv", "--local-dir", dest)
        self.assertEqual(r.rc, 0, r)
        r = self.mscli("whoami", env={"MODELSCOPE_API_TOKEN": "ms-bad"})
        self.assertEqual(r.rc, 6, r)
        self.assertIn("MODELSCOPE_API_TOKEN", r.err)
        r = self.mscli("--token", "ms-goodtoken", "whoami", env={"MODELSCOPE_API_TOKEN": "ms-bad"})
        self.assertEqual(r.rc, 0, r)

    def test_token_typed_at_a_prompt(self):
        rc, shown = self.prompt_login(["login"], "ms-goodtoken")
        self.assertEqual(rc, 0, shown)
        self.assertNotIn("ms-goodtoken", shown)
        self.assertTrue(os.path.exists(self.creds()[1]))

    def test_modelscope_hub_reads_what_mscli_stored(self):
        self.assertEqual(self.mscli("login", "--token", "ms-goodtoken").rc, 0)
        p = self.official(MSHUB_SRC, "import sys\nfrom modelscope_hub.cli.main import run_cmd\n"
                                     "sys.argv = ['ms-hub', 'whoami']\nsys.exit(run_cmd())")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("alice", p.stdout)

    def test_modelscope_1_37_reads_what_mscli_stored(self):
        self.assertEqual(self.mscli("login", "--token", "ms-goodtoken").rc, 0)
        p = self.official(MSOLD_SRC, "from modelscope.hub.api import HubApi\n"
                                     "api = HubApi()\n"
                                     "print(api._build_bearer_headers()['Authorization'])")
        if p.returncode and "ModuleNotFoundError" in p.stderr:
            self.skipTest("modelscope 1.37 does not import here: " + p.stderr.splitlines()[-1])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Bearer ms-goodtoken", p.stdout)
