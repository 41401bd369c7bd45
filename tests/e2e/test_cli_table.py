"""What the command table promises (issue 8): a nested verb is named as the user
typed it, and the legacy spellings are accepted but never offered."""
import os
import re

from support import Case

LEGACY = ("--local_dir", "--cache_dir", "--repo_type")


class CommandTable(Case):
    def test_a_nested_verbs_usage_error_names_its_parent(self):
        r = self.fails(2, "cache", "rm")
        self.assertIn("cache rm: too few arguments (mscli cache rm REPO", r.err)
        r = self.fails(2, "cache", "export")
        self.assertIn("cache export: too few arguments (mscli cache export REPO...", r.err)
        r = self.fails(2, "cache", "path", "a/b", "f", "extra")
        self.assertIn("cache path: unexpected argument 'extra' (mscli cache path REPO", r.err)
        r = self.fails(2, "cache", "rm", "--bogus")
        self.assertIn("cache rm: unknown option '--bogus' (see 'mscli cache rm --help')",
                      r.err)
        # a command without a parent is named alone
        r = self.fails(2, "download")
        self.assertIn("download: which repo? (mscli download REPO", r.err)

    def test_legacy_spellings_are_accepted_but_hidden(self):
        # the option lists of the help show none of them
        for args in (("download", "--help"), ("--help",)):
            out = self.ok(*args, fast_retry=False).out
            listed = re.findall(r"^\s+(?:-\w, )?(--[\w-]+)", out, re.M)
            self.assertIn("--local-dir" if args[0] == "download" else "--cache-dir", listed)
            for old in LEGACY:
                self.assertNotIn(old, listed, args)
        # nor do the completions, which shells call with the word typed so far
        for word, new in (("--loc", "--local-dir"), ("--cache", "--cache-dir"),
                          ("--repo", None), ("--", "--type")):
            got = self.ok("__complete", "bash", "download", word, fast_retry=False).lines
            if new:
                self.assertIn(new, got, word)
            for old in LEGACY:
                self.assertNotIn(old, got, word)
        # and they still work
        self.hub.add_ms_repo("acme/ds", type="dataset", files={"t.csv": b"a,b\n"})
        r = self.ok("download", "acme/ds", "--repo_type", "dataset", "--local_dir", "ld",
                    cwd=self.tmp)
        self.assertEqual(r.lines, [os.path.join(self.tmp, "ld")])
        with open(os.path.join(self.tmp, "ld", "t.csv"), "rb") as f:
            self.assertEqual(f.read(), b"a,b\n")
        r = self.ok("download", "acme/ds", "--repo_type", "dataset", "--cache_dir", "c",
                    cwd=self.tmp)
        self.assertEqual(r.lines, [self.ms_repo_dir("acme/ds", "datasets",
                                                    root=os.path.join(self.tmp, "c"))])
