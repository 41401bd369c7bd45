"""Progress bars: on a terminal, per file and total, with rate and ETA; never elsewhere."""
import os
import re

from support import Case, blob, sha256

BIG = blob(6_000_000, 11)
ESC = re.compile(rb"\x1b\[[0-9;]*[A-Za-z]")


class Progress(Case):
    def setUp(self):
        super().setUp()
        self.hub.add_ms_repo("acme/slow", files={"config.json": b"{}\n", "weights.bin": BIG})
        # about three seconds: several redraws, each with a measured rate
        self.hub.fault("trickle", path="weights.bin", rate=2_000_000, times=None)

    def run_on_tty(self, *args, cols=100):
        """Run mscli with stderr on a pseudo-terminal of `cols` columns; stdout is a pipe."""
        rc, err, out = self.tty_run(*args, cols=cols, stream="stderr")
        return rc, out.decode(), err

    def assert_bars_fit(self, lines, cols):
        bars = [l for l in lines if re.search(r" \d+% ", l)]
        self.assertTrue(bars)
        for l in bars:
            self.assertLess(len(l.rstrip()), cols, repr(l))

    def test_bars_with_rate_and_eta_per_file_and_total(self):
        rc, out, err = self.run_on_tty("download", "acme/slow", cols=100)
        self.assertEqual(rc, 0, err)
        # stdout stays clean for scripts: the path and nothing else
        self.assertEqual(out.strip(), self.ms_repo_dir("acme/slow"))
        text = ESC.sub(b"", err).replace(b"\r", b"").decode()
        lines = [l for l in text.split("\n") if l.strip()]
        per_file = [l for l in lines if l.startswith("weights.bin")]
        total = [l for l in lines if l.startswith("total ")]
        self.assertTrue(per_file, text)
        self.assertTrue(total, text)
        # a rate and a time left on the file's own line, and on the total line
        rate_eta = re.compile(r"\d+(\.\d+)? [KMG]i?B/s ETA \d+:\d\d")
        self.assertTrue(any(rate_eta.search(l) for l in per_file), per_file)
        self.assertTrue(any(rate_eta.search(l) for l in total), total)
        self.assertTrue(any(re.search(r"total \d/2 files", l) for l in total), total)
        # sizes on the file line: done / total
        self.assertTrue(any(re.search(r"MiB/5\.7 MiB", l) for l in per_file), per_file)
        # no bar is wider than the terminal (a wrapped line breaks the redraw)
        self.assert_bars_fit(lines, 100)
        with open(os.path.join(self.ms_repo_dir("acme/slow"), "weights.bin"), "rb") as f:
            self.assertEqual(sha256(f.read()), sha256(BIG))

    def test_narrow_terminal_never_wraps(self):
        rc, _, err = self.run_on_tty("download", "acme/slow", cols=50)
        self.assertEqual(rc, 0, err)
        text = ESC.sub(b"", err).replace(b"\r", b"").decode()
        lines = [l for l in text.split("\n") if l.strip()]
        self.assertTrue(any(l.startswith("total ") for l in lines), text)
        self.assert_bars_fit(lines, 50)

    def test_progress_into_a_log_is_plain_lines(self):
        # --progress with stderr not a terminal (a CI log): a plain line every 5 s
        self.hub.clear_faults()
        self.hub.fault("trickle", path="weights.bin", rate=900_000, times=None)
        r = self.ok("--progress", "download", "acme/slow")
        self.assertNotIn("\x1b[", r.err)
        lines = [l for l in r.err.splitlines() if re.match(r"mscli: \d/2 files, \d+%, ", l)]
        self.assertTrue(lines, r.err)
        self.assertRegex(lines[0], r"MiB/5\.7 MiB \d+(\.\d+)? [KM]i?B/s ETA \d+:\d\d$")
        self.assertEqual(r.lines, [self.ms_repo_dir("acme/slow")])

    def test_no_bars_when_asked_or_not_a_terminal(self):
        rc, _, err = self.run_on_tty("--no-progress", "download", "acme/slow")
        self.assertEqual(rc, 0, err)
        self.assertNotIn(b"ETA", err)
        self.assertNotIn(b"\x1b[", err)
        self.hub.clear_faults()
        r = self.ok("download", "acme/slow", "--force")
        self.assertNotIn("ETA", r.err)
        self.assertNotIn("\x1b[", r.err)
