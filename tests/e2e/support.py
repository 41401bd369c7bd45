"""Shared set-up for the end-to-end tests: the real mscli binary against the
loopback hub emulator (tests/hub/hubemu.py)."""
import fcntl
import hashlib
import json
import os
import pickle
import pty
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "hub"))

from hubemu import Hub, FileRef  # noqa: E402

BIN = os.environ.get("MSCLI_BIN") or os.path.join(ROOT, "mscli")
VALGRIND = bool(os.environ.get("MSCLI_VALGRIND"))
# Under valgrind everything is ~20x slower; timeouts scale with it.
SLOW = 20 if VALGRIND else 1


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def git_sha1(b):
    return hashlib.sha1(b"blob %d\0" % len(b) + b).hexdigest()


def write_files(root, files):
    """files ({path: bytes}) under root; returns root."""
    for p, data in files.items():
        full = os.path.join(root, p)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
    return root


def blob(n, seed=0):
    """Deterministic pseudo-random bytes (fast enough for tens of MB)."""
    out = bytearray()
    h = hashlib.sha256(b"seed%d" % seed).digest()
    while len(out) < n:
        h = hashlib.sha256(h).digest()
        out += h * 64
    return bytes(out[:n])


class Result:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    @property
    def lines(self):
        return [l for l in self.out.splitlines() if l]

    def json(self):
        return [json.loads(l) for l in self.lines]

    @property
    def errors(self):
        """The error lines on stderr (one per cause)."""
        return [l for l in self.err.splitlines() if l.startswith("mscli: error:")]

    def __repr__(self):
        return "rc=%d\nstdout:\n%s\nstderr:\n%s" % (self.rc, self.out, self.err)


def command(args):
    cmd = [BIN] + list(args)
    if VALGRIND:
        cmd = ["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
               "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite"] + cmd
    return cmd


class Case(unittest.TestCase):
    """Each test gets a temporary HOME, cache and a fresh emulator."""

    cdn = True

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mscli-e2e-")
        self.home = os.path.join(self.tmp, "home")
        self.cache = os.path.join(self.tmp, "cache")
        os.makedirs(self.home)
        self.hub = Hub(cdn=self.cdn)
        self.addCleanup(self.hub.stop)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.home,
            "MODELSCOPE_ENDPOINT": self.hub.url,
            "MODELSCOPE_CACHE": self.cache,
            "HF_ENDPOINT": self.hub.url,
            "HF_HOME": os.path.join(self.home, "hf"),
            "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=1"),
            "UBSAN_OPTIONS": "print_stacktrace=1",
            "LC_ALL": "C",
        }

    def mscli(self, *args, env=None, timeout=120, fast_retry=True, stdin=None, cwd=None):
        e = dict(self.env)
        if env:
            e.update(env)
        pre = ["--retry-delay", "0.05"] if fast_retry else []
        p = subprocess.run(command(pre + list(args)), env=e, capture_output=True,
                           timeout=timeout * SLOW, input=stdin, cwd=cwd)
        r = Result(p.returncode, p.stdout.decode("utf-8", "replace"),
                   p.stderr.decode("utf-8", "replace"))
        self.assertNotIn("AddressSanitizer", r.err, r)
        self.assertNotIn("runtime error", r.err, r)
        self.assertNotEqual(r.rc, 99, "valgrind reported errors:\n%r" % r)
        return r

    def tty_run(self, *args, cols=100, stream="stderr", env=None):
        """Run mscli with `stream` ("stdout" or "stderr") on a pseudo-terminal of `cols`
        columns and the other one a pipe: (rc, what the terminal got, what the pipe got),
        as bytes."""
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
        streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, stream: slave}
        e = dict(self.env, **(env or {}))
        p = subprocess.Popen(command(list(args)), env=e, stdin=subprocess.DEVNULL, **streams)
        os.close(slave)
        tty = b""
        while True:
            r, _, _ = select.select([master], [], [], 60 * SLOW)
            if not r:
                p.kill()
                self.fail("no output from mscli for 60 s")
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            tty += chunk
        pipe = p.stderr if stream == "stdout" else p.stdout
        other = pipe.read()
        pipe.close()
        rc = p.wait(60 * SLOW)
        os.close(master)
        err = other if stream == "stdout" else tty
        self.assertNotIn(b"AddressSanitizer", err)
        self.assertNotIn(b"runtime error", err)
        return rc, tty, other

    def spawn(self, *args, env=None):
        e = dict(self.env)
        if env:
            e.update(env)
        return subprocess.Popen(command(["--retry-delay", "0.05"] + list(args)), env=e,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def ok(self, *args, **kw):
        r = self.mscli(*args, **kw)
        self.assertEqual(r.rc, 0, r)
        return r

    def fails(self, code, *args, **kw):
        r = self.mscli(*args, **kw)
        self.assertEqual(r.rc, code, r)
        # one clear line on stderr for the error
        self.assertTrue(r.errors, r)
        return r

    # --- helpers for the ModelScope layout ---
    def age(self, *paths, seconds=120):
        """Date paths (links themselves) seconds back: what an earlier, killed run left."""
        t = time.time() - seconds
        for p in paths:
            os.utime(p, (t, t), follow_symlinks=False)

    def ms_repo_dir(self, repo_id, kind="models", root=None):
        owner, name = repo_id.split("/")
        return os.path.join(root or self.cache, kind, owner, name.replace(".", "___"))

    def read_pickle(self, path):
        with open(path, "rb") as f:
            return pickle.load(f)

    def assert_tree_has_no(self, top, predicate, what):
        for dirpath, dirnames, filenames in os.walk(top):
            for n in filenames + dirnames:
                p = os.path.join(dirpath, n)
                self.assertFalse(predicate(p), "%s: %s" % (what, p))

    def small_tmpfs(self, size):
        """A file system of `size` ("3m") that fills up: skips the test where mount is denied."""
        mnt = os.path.join(self.tmp, "small")
        os.makedirs(mnt)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", mnt],
                          capture_output=True).returncode != 0:
            self.skipTest("cannot mount a small tmpfs here")
        self.addCleanup(subprocess.run, ["umount", "-l", mnt])
        return mnt

    def wait_for(self, cond, timeout=10.0, what="condition"):
        end = time.time() + timeout * SLOW
        while time.time() < end:
            if cond():
                return
            time.sleep(0.01)
        self.fail("timed out waiting for " + what)


_strace = None


def strace_works():
    """strace is installed and may trace here (a container can forbid ptrace)."""
    global _strace
    if _strace is None:
        _strace = bool(shutil.which("strace")) and subprocess.run(
            ["strace", "-f", "-qq", "-o", os.devnull, "true"],
            capture_output=True).returncode == 0
    return _strace
