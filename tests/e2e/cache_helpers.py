"""What the `mscli cache` tests share: caches made by `mscli download` against the
emulator, and caches made by hand in the official clients' layouts."""
import json
import os
import pickle

from support import Case, blob, git_sha1, sha256

MS_FILES = {"config.json": b'{"a": 1}\n', "README.md": b"# tiny\n",
            "model.safetensors": blob(1_500_000, 1), "sub/vocab.txt": b"a\nb\nc\n"}
DS_FILES = {"README.md": b"# data\n", "data/train.jsonl": b'{"x": 1}\n' * 50}
HF_MAIN = {"config.json": b'{"model_type": "toy"}\n', "README.md": b"# toy\n",
           "model.safetensors": blob(1_200_000, 2), "tok/vocab.txt": b"x\ny\n"}
# v1 shares config.json and tok/vocab.txt with main; the weights and README differ
HF_V1 = {"config.json": HF_MAIN["config.json"], "README.md": b"# toy v1\n",
         "model.safetensors": blob(1_100_000, 3), "tok/vocab.txt": HF_MAIN["tok/vocab.txt"]}


def hf_lfs(path, size):
    return path.endswith(".safetensors")


def etag(path, data):
    return sha256(data) if hf_lfs(path, len(data)) else git_sha1(data)


class CacheCase(Case):
    def setUp(self):
        super().setUp()
        self.hfcache = os.path.join(self.tmp, "hfcache")
        self.env["HF_HUB_CACHE"] = self.hfcache
        self.ms_model = self.hub.add_ms_repo("org/tiny.v1", files=MS_FILES)
        self.ms_data = self.hub.add_ms_repo("org/data", type="dataset", files=DS_FILES)
        self.hf_model = self.hub.add_hf_repo("org/toy", files=HF_MAIN, lfs=hf_lfs,
                                             branches={"v1": HF_V1})

    # --- caches written by mscli ---
    def fill(self):
        self.ok("download", "org/tiny.v1")
        self.ok("download", "--type", "dataset", "org/data")
        self.ok("--hub", "hf", "download", "org/toy")

    def hf_folder(self, repo_id="org/toy", kind="models"):
        return os.path.join(self.hfcache, "%s--%s" % (kind, repo_id.replace("/", "--")))

    def hf_snap(self, commit, repo_id="org/toy"):
        return os.path.join(self.hf_folder(repo_id), "snapshots", commit)

    def ls(self, *args, **kw):
        r = self.ok("--json", "cache", "ls", *args, **kw)
        return {(o["hub"], o["type"], o["id"]): o for o in r.json()}

    # --- caches written by the official clients (hand-made, byte for byte) ---
    def make_hf_official(self, repo_id, files, commit, refs=("main",), kind="models"):
        """huggingface_hub's layout: blobs named by etag, relative links, refs; no trees."""
        folder = self.hf_folder(repo_id, kind)
        for p, data in files.items():
            b = os.path.join(folder, "blobs", etag(p, data))
            os.makedirs(os.path.dirname(b), exist_ok=True)
            with open(b, "wb") as f:
                f.write(data)
            link = os.path.join(folder, "snapshots", commit, p)
            os.makedirs(os.path.dirname(link), exist_ok=True)
            if not os.path.lexists(link):
                os.symlink("../" * (p.count("/") + 2) + "blobs/" + etag(p, data), link)
        for ref in refs:
            r = os.path.join(folder, "refs", ref)
            os.makedirs(os.path.dirname(r), exist_ok=True)
            with open(r, "w") as f:
                f.write(commit)
        return folder

    def make_ms_official(self, repo_id, files, revision="master", kind="models", root=None):
        """modelscope's layout: files in place, .msc pickle, .mdl, .mv; no mscli records."""
        owner, name = repo_id.split("/")
        d = self.ms_repo_dir(repo_id, kind, root)
        os.makedirs(d, exist_ok=True)
        for p, data in files.items():
            os.makedirs(os.path.dirname(os.path.join(d, p)), exist_ok=True)
            with open(os.path.join(d, p), "wb") as f:
                f.write(data)
        with open(os.path.join(d, ".msc"), "wb") as f:
            pickle.dump([{"Path": p, "Revision": "c" * 40} for p in files], f, protocol=4)
        with open(os.path.join(d, ".mdl"), "wb") as f:
            pickle.dump({"id": "%s/%s" % (owner, name.replace(".", "___"))}, f, protocol=4)
        with open(os.path.join(d, ".mv"), "w") as f:
            f.write("Revision:%s,CreatedAt:1700000000" % revision)
        return d

    def flip_byte(self, path, at=10):
        with open(path, "r+b") as f:
            f.seek(at)
            c = f.read(1)
            f.seek(at)
            f.write(bytes([c[0] ^ 0xFF]))

    def flip_then_online(self, path, at, name):
        """A byte of path flipped: unseen with no hash recorded (exit 0), found by
        `cache verify --online` (exit 4, name on stdout) with no file data fetched."""
        self.flip_byte(path, at)
        self.ok("cache", "verify")  # nothing to compare with offline: said, not failed
        self.hub.clear_log()
        r = self.fails(4, "cache", "verify", "--online")
        self.assertIn(name, r.out)
        self.assertFalse([q for q in self.hub.log if q.file_path])  # listings only
        return r

    def tree(self, top):
        """Every path below top with its kind and content (links by target): a snapshot."""
        out = {}
        for d, dirs, files in os.walk(top):
            for n in dirs + files:
                p = os.path.join(d, n)
                rel = os.path.relpath(p, top)
                if os.path.islink(p):
                    out[rel] = ("link", os.readlink(p))
                elif os.path.isdir(p):
                    out[rel] = ("dir",)
                else:
                    with open(p, "rb") as f:
                        out[rel] = ("file", sha256(f.read()))
        return out

    def done(self, r):
        return [o for o in r.json() if o.get("event") == "done"][-1]

    def jsonl(self, r, event):
        return [o for o in r.json() if o.get("event") == event]


def read_json(path):
    with open(path) as f:
        return json.load(f)
