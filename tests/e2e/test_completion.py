"""Shell completion as a user meets it: a real interactive bash (and zsh) on a
pseudo-terminal, TAB pressed, the command line read back."""
import os
import pty
import re
import select
import shutil
import subprocess
import time
import unittest

from support import BIN, ROOT, VALGRIND, Case

ESC = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r|\x07")


class Shell:
    def __init__(self, argv, cwd, env):
        self.master, slave = pty.openpty()
        self.p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd,
                                  env=env, start_new_session=True)
        os.close(slave)
        self.buf = b""

    def read(self, seconds=1.0):
        end = time.time() + seconds
        while time.time() < end:
            r, _, _ = select.select([self.master], [], [], 0.05)
            if r:
                try:
                    self.buf += os.read(self.master, 65536)
                except OSError:
                    break
        return ESC.sub(b"", self.buf).decode("utf-8", "replace")

    def read_until(self, done, seconds=15.0):
        """Reads until done(text) holds (or seconds pass): no guess at how long a shell takes."""
        end = time.time() + seconds
        text = self.read(0)
        while not done(text) and time.time() < end:
            text = self.read(0.1)
        return text

    def ready(self):
        """Waits until the shell has read its start-up files and runs commands."""
        self.send("echo rea''dy-$((6*7))\n")  # the echo of the typed line does not match
        self.read_until(lambda text: "ready-42" in text)
        self.buf = b""

    def send(self, text):
        os.write(self.master, text.encode())

    def close(self):
        self.p.kill()
        self.p.wait()
        os.close(self.master)


@unittest.skipIf(VALGRIND, "interactive shells time out under valgrind")
class Completion(Case):
    def setUp(self):
        super().setUp()
        self.bin = os.path.join(self.tmp, "bin")
        os.makedirs(self.bin)
        os.symlink(BIN, os.path.join(self.bin, "mscli"))
        self.work = os.path.join(self.tmp, "work")
        os.makedirs(os.path.join(self.work, "my models", "inner"))
        open(os.path.join(self.work, "only-file.txt"), "w").close()
        self.shell_env = dict(self.env, PATH=self.bin + ":" + self.env["PATH"],
                              ASAN_OPTIONS="detect_leaks=0", TERM="xterm", PS1="$ ")

    def bash(self):
        sh = Shell(["bash", "--norc", "--noprofile", "-i"], self.work, self.shell_env)
        self.addCleanup(sh.close)
        sh.send("source %s/completions/mscli.bash\n" % ROOT)
        sh.read(0.5)
        return sh

    def complete(self, sh, line, expect=None):
        """The screen after line and TAB; with expect, as soon as it shows expect."""
        sh.buf = b""
        sh.send(line + "\t")
        out = sh.read(1.5) if expect is None else sh.read_until(lambda t: expect in t)
        sh.send("\x15")  # ^U: clear the line for the next case
        sh.read(0.2)
        return out

    def test_bash_paths_with_spaces_and_directories(self):
        sh = self.bash()
        # a directory with a space: quoted, and a '/' instead of a space after it
        self.assertIn("--local-dir my\\ models/", self.complete(sh, "mscli download --local-dir my"))
        # --opt=<TAB> completes the value
        self.assertIn("--local-dir=my\\ models/",
                      self.complete(sh, "mscli download --local-dir=my"))
        # -o offers files; --cache-dir only directories
        self.assertIn("-o only-file.txt", self.complete(sh, "mscli download -o only"))
        self.assertNotIn("only-file", self.complete(sh, "mscli --cache-dir only"))

    def test_bash_commands_options_and_values(self):
        sh = self.bash()
        self.assertIn("mscli download", self.complete(sh, "mscli downl"))
        self.assertIn("--include", self.complete(sh, "mscli download --incl"))
        self.assertIn("--type dataset", self.complete(sh, "mscli download --type data"))
        self.assertIn("--hub hf", self.complete(sh, "mscli --hub h"))

    @unittest.skipUnless(shutil.which("zsh"), "zsh is not installed")
    def test_zsh(self):
        env = dict(self.shell_env, ZDOTDIR=self.tmp)
        with open(os.path.join(self.tmp, ".zshrc"), "w") as f:
            f.write("fpath=(%s/completions $fpath)\nautoload -Uz compinit\ncompinit -u\n"
                    "PS1='$ '\n" % ROOT)
        sh = Shell(["zsh", "-i"], self.work, env)
        self.addCleanup(sh.close)
        sh.ready()  # compinit done: a TAB sent earlier meets no completion
        self.assertIn("--local-dir=my\\ models/",
                      self.complete(sh, "mscli download --local-dir=my",
                                    expect="--local-dir=my\\ models/"))
        self.assertIn("--include", self.complete(sh, "mscli download --incl",
                                                 expect="--include"))

    def test_scripts_pass_shellcheck(self):
        if not shutil.which("shellcheck"):
            self.skipTest("shellcheck is not installed")
        p = subprocess.run(["shellcheck", "-s", "bash", os.path.join(ROOT, "completions",
                                                                     "mscli.bash")],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stdout)
