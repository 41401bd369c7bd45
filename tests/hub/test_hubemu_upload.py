"""Self-tests of the emulator's upload side (emu_upload.py), standard library only.

    python3 -m unittest discover -s tests/hub -p 'test_hubemu_upload.py' -v

Raw HTTP (http.client, nothing followed implicitly) against both hubs: login
and whoami, repo creation, the LFS batch with dedup, blob / part PUTs on the
storage host, multipart completion, commits and their read-back through the
download endpoints, permissions, branches, and the upload faults.
"""
import base64
import hashlib
import http.client
import json
import os
import socket
import sys
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import emu_upload  # noqa: E402
from hubemu import Hub  # noqa: E402


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def git_sha1(b):
    return hashlib.sha1(b"blob %d\0" % len(b) + b).hexdigest()


def blob(n, seed=0):
    out = bytearray()
    h = hashlib.sha256(b"upload%d" % seed).digest()
    while len(out) < n:
        h = hashlib.sha256(h).digest()
        out += h * 64
    return bytes(out[:n])


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<%d %r %r>" % (self.status, self.headers, self.body[:300])


def call(url, method="GET", headers=None, body=None, timeout=10):
    """One request, no redirect following; headers lower-cased."""
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        c.request(method, u.path + ("?" + u.query if u.query else ""), body=body,
                  headers=headers or {})
        r = c.getresponse()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        c.close()


def fetch(url, headers=None):
    """GET following redirects; credentials are dropped when the host changes."""
    for _ in range(5):
        r = call(url, headers=headers)
        if r.status not in (301, 302, 303, 307, 308):
            return r
        nxt = urllib.parse.urljoin(url, r.headers["location"])
        if urllib.parse.urlsplit(nxt).netloc != urllib.parse.urlsplit(url).netloc:
            headers = {}
        url = nxt
    raise AssertionError("redirect loop")


MS_TOK = {"Authorization": "Bearer ms-goodtoken"}
MS_COOKIE = {"Cookie": "m_session_id=ms-goodtoken"}
HF_TOK = {"Authorization": "Bearer hf_goodtoken"}


def js(obj):
    return json.dumps(obj).encode()


def ndjson(*items):
    return b"".join(json.dumps(i).encode() + b"\n" for i in items)


def multipart(fields):
    boundary = "hubemuboundary42"
    out = b""
    for k, v in fields.items():
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                % (boundary, k, v)).encode()
    out += ("--%s--\r\n" % boundary).encode()
    return out, "multipart/form-data; boundary=" + boundary


# ====================================================================== ModelScope

class MSUpload(unittest.TestCase):
    def setUp(self):
        self.hub = Hub(cdn=True, orgs={"acme": {"alice"}})
        self.addCleanup(self.hub.stop)
        self.u = self.hub.url

    def create(self, name="alice/new", vis=5, headers=MS_TOK, **extra):
        owner, n = name.split("/")
        body = dict({"Path": owner, "Name": n, "Visibility": vis, "License": "Apache-2.0"}, **extra)
        return call(self.u + "/api/v1/models", "POST", headers, js(body))

    def batch(self, repo, objects, kind="models", headers=MS_TOK):
        return call("%s/api/v1/repos/%s/%s/info/lfs/objects/batch" % (self.u, kind, repo), "POST",
                    headers, js({"operation": "upload", "objects": objects}))

    def commit(self, repo, actions, rev="master", kind="models", headers=MS_TOK, msg="up"):
        return call("%s/api/v1/repos/%s/%s/commit/%s" % (self.u, kind, repo, rev), "POST",
                    headers, js({"commit_message": msg, "actions": actions}))

    @staticmethod
    def normal(path, data):
        return {"action": "create", "path": path, "type": "normal", "size": len(data),
                "sha256": "", "content": base64.b64encode(data).decode(), "encoding": "base64"}

    @staticmethod
    def lfs(path, data):
        return {"action": "create", "path": path, "type": "lfs", "size": len(data),
                "sha256": sha256(data), "content": "", "encoding": ""}

    def put_blob(self, repo, data, kind="models"):
        r = self.batch(repo, [{"oid": sha256(data), "size": len(data)}], kind)
        self.assertEqual(r.status, 200, r)
        obj = r.json()["Data"]["objects"][0]
        if "actions" in obj:
            r = call(obj["actions"]["upload"]["href"], "PUT", {}, data)
            self.assertEqual((r.status, r.json()["Code"]), (200, 200), r)
        return obj

    def dl(self, repo, path, rev="master", kind="models", headers=None):
        return fetch("%s/api/v1/%s/%s/repo?Revision=%s&FilePath=%s" % (
            self.u, kind, repo, rev, urllib.parse.quote_plus(path)), headers)

    def files(self, repo, rev="master", headers=None):
        r = call("%s/api/v1/models/%s/repo/files?Revision=%s&Recursive=True" % (self.u, repo, rev),
                 headers=headers)
        self.assertEqual(r.status, 200, r)
        return {f["Path"]: f for f in r.json()["Data"]["Files"] if f["Type"] == "blob"}

    def test_login_and_whoami_for_every_known_token(self):
        self.hub.tokens["ms-bobtoken"] = "bob"
        for tok, user in (("ms-goodtoken", "alice"), ("ms-bobtoken", "bob")):
            r = call(self.u + "/api/v1/login", "POST", body=js({"AccessToken": tok}))
            self.assertEqual((r.status, r.json()["Data"]["Username"]), (200, user))
            self.assertTrue(r.headers["set-cookie"].startswith("m_session_id=%s;" % tok))
            r = call(self.u + "/openapi/v1/users/me", headers={"Authorization": "Bearer " + tok})
            self.assertEqual(r.json()["data"]["username"], user)

    def test_create_model_exists_visibility_and_namespaces(self):
        r = self.create()
        self.assertEqual((r.status, r.json()["Code"], r.json()["Success"]), (200, 200, True), r)
        self.assertEqual(r.json()["Data"]["Path"], "alice")
        self.assertIsInstance(r.json()["Data"]["Id"], int)
        self.assertEqual(call(self.u + "/api/v1/models/alice/new").status, 200)
        r = self.create()                                          # MS §2.15: exists
        self.assertEqual(r.status, 400)
        self.assertEqual((r.json()["Code"], r.json()["Message"]), (10010101001, "该名称已被注册使用，请重新命名"))
        self.assertEqual(self.create("alice/anon", headers={}).status, 401)
        self.assertEqual(self.create("alice/bad", headers={"Authorization": "Bearer nope"}).status, 403)
        self.assertEqual(self.create("bob/theirs").status, 403)     # another user's namespace
        self.assertEqual(self.create("acme/org-model").status, 200)  # an org alice is in
        self.assertEqual(self.create("alice/vis", vis=7).status, 400)
        self.assertEqual(self.create("alice/bad name").status, 400)
        # cookie auth and a body without Content-Type (modelscope <= 1.37)
        r = call(self.u + "/api/v1/models", "POST", MS_COOKIE,
                 b'{"Path": "alice", "Name": "cookie", "Visibility": 5}')
        self.assertEqual(r.status, 200, r)

    def test_private_repo_is_not_readable_anonymously(self):
        self.assertEqual(self.create("alice/secret", vis=1).status, 200)
        self.assertEqual(self.create("alice/internal", vis=3).status, 200)
        for name in ("secret", "internal"):
            self.assertEqual(call(self.u + "/api/v1/models/alice/" + name).status, 401)
            r = call(self.u + "/api/v1/models/alice/" + name, headers=MS_TOK)
            self.assertEqual((r.status, r.json()["Data"]["Visibility"]), (200, 1))
        self.put_blob("alice/secret", b"\x00weights" * 1000)
        self.assertEqual(self.commit("alice/secret", [self.lfs("w.bin", b"\x00weights" * 1000)]).status, 200)
        self.assertEqual(self.dl("alice/secret", "w.bin").status, 401)
        self.assertEqual(self.dl("alice/secret", "w.bin", headers=MS_TOK).body, b"\x00weights" * 1000)

    def test_create_dataset_multipart_form(self):
        body, ctype = multipart({"Owner": "alice", "Name": "ds", "Visibility": "5",
                                 "License": "Apache-2.0", "ChineseName": "", "Description": ""})
        r = call(self.u + "/api/v1/datasets", "POST", dict(MS_TOK, **{"Content-Type": ctype}), body)
        self.assertEqual(r.status, 200, r)
        r = call(self.u + "/api/v1/datasets/alice/ds")
        self.assertEqual((r.status, r.json()["Data"]["Type"]), (200, 2))
        r = call(self.u + "/api/v1/datasets", "POST", dict(MS_TOK, **{"Content-Type": ctype}), body)
        self.assertEqual((r.status, r.json()["Code"]), (400, 10020101001))
        r = call(self.u + "/api/v1/datasets", "POST", MS_TOK, js({"Owner": "alice", "Name": "j"}))
        self.assertEqual(r.status, 400)                     # datasets need a multipart form
        body, ctype = multipart({"Owner": "bob", "Name": "ds", "Visibility": "5"})
        r = call(self.u + "/api/v1/datasets", "POST", dict(MS_TOK, **{"Content-Type": ctype}), body)
        self.assertEqual(r.status, 403)

    def test_batch_put_commit_and_download_back(self):
        self.create()
        weights, text = blob(300_000, 1), b'{"hidden": 8}\n'
        r = self.batch("alice/new", [{"oid": sha256(weights), "size": len(weights)}])
        self.assertEqual((r.status, r.json()["Code"]), (200, 200), r)
        obj = r.json()["Data"]["objects"][0]
        href = obj["actions"]["upload"]["href"]
        self.assertTrue(href.startswith(self.hub.cdn_url + "/"), href)   # the storage host
        self.assertNotEqual(urllib.parse.urlsplit(href).netloc, urllib.parse.urlsplit(self.u).netloc)
        r = call(href, "PUT", {}, weights)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["Code"], r.json()["Success"]), (200, True))
        self.assertEqual(self.hub.lfs_object("ms", sha256(weights)), weights)
        r = self.commit("alice/new", [self.normal("config.json", text), self.lfs("w/model.bin", weights)])
        self.assertEqual(r.status, 200, r)
        oid = r.json()["Data"]["oid"]
        repo = self.hub.get_repo("ms", "alice/new")
        self.assertEqual(repo.branches["master"], oid)
        files = self.files("alice/new")
        self.assertEqual(set(files), {"config.json", "w/model.bin"})
        self.assertEqual((files["w/model.bin"]["IsLFS"], files["w/model.bin"]["Size"],
                          files["w/model.bin"]["Sha256"]), (True, len(weights), sha256(weights)))
        self.assertEqual((files["config.json"]["IsLFS"], files["config.json"]["Sha256"]),
                         (False, sha256(text)))
        r = call("%s/api/v1/models/alice/new/repo?Revision=master&FilePath=w%%2Fmodel.bin" % self.u)
        self.assertEqual(r.status, 302)
        self.assertEqual(self.dl("alice/new", "w/model.bin").body, weights)
        self.assertEqual(self.dl("alice/new", "config.json").body, text)
        self.assertEqual(self.dl("alice/new", "config.json", rev=oid).body, text)
        self.assertEqual(self.hub.file_bytes("ms", "alice/new", "w/model.bin"), weights)
        self.assertEqual(self.hub.commit_count("alice/new", "master"), 1)
        rec = self.hub.upload_commits(repo="alice/new")[0]
        self.assertEqual((rec.commit, rec.added), (oid, {"config.json": "regular", "w/model.bin": "lfs"}))
        up = self.hub.lfs_uploads("ms", sha256(weights))
        self.assertEqual(len(up), 1)
        self.assertEqual((up[0].transfer, up[0].complete, len(up[0].puts)), ("basic", True, 1))
        r = call(self.u + "/api/v1/models/alice/new/revisions")
        self.assertEqual(r.json()["Data"]["RevisionMap"]["Branches"][0]["CommitId"], oid)
        r = call(self.u + "/api/v1/models/alice/new/commits?Ref=master")
        self.assertEqual(r.json()["Data"]["Commit"][0]["Id"], oid)
        self.assertEqual(self.hub.credentials_seen(server="cdn"), [])

    def test_dedup_across_repos_and_preexisting_files(self):
        self.create("alice/a")
        self.create("alice/b")
        data = blob(100_000, 2)
        self.assertIn("actions", self.put_blob("alice/a", data))
        r = self.batch("alice/b", [{"oid": sha256(data), "size": len(data)}])
        self.assertEqual(r.json()["Data"]["objects"], [{"oid": sha256(data), "size": len(data)}])
        self.assertEqual(self.commit("alice/b", [self.lfs("x.bin", data)]).status, 200)
        self.assertEqual(self.dl("alice/b", "x.bin").body, data)
        # an LFS file of a repo added by a test is "already on the server" too
        old = blob(50_000, 3)
        self.hub.add_ms_repo("acme/old", files={"big.bin": old})
        r = self.batch("alice/b", [{"oid": sha256(old), "size": len(old)}])
        self.assertNotIn("actions", r.json()["Data"]["objects"][0])
        self.assertEqual(self.commit("alice/b", [self.lfs("copy.bin", old)]).status, 200)
        self.assertEqual(self.dl("alice/b", "copy.bin").body, old)
        self.assertEqual(self.hub.commit_count("alice/b"), 2)

    def test_put_is_verified_and_signed(self):
        self.create()
        data = blob(20_000, 4)
        obj = self.batch("alice/new", [{"oid": sha256(data), "size": len(data)}]).json()["Data"]["objects"][0]
        href = obj["actions"]["upload"]["href"]
        r = call(href, "PUT", {}, data[:-1] + b"x")                  # wrong bytes
        self.assertEqual((r.status, r.json()["Code"], r.json()["Success"]), (400, 400, False))
        r = call(href, "PUT", {}, data[:-1])                          # wrong size
        self.assertEqual(r.status, 400)
        self.assertIsNone(self.hub.lfs_object("ms", sha256(data)))
        r = self.commit("alice/new", [self.lfs("x.bin", data)])       # never uploaded
        self.assertEqual(r.status, 400)
        self.assertIn("not uploaded", r.json()["Message"])
        self.assertEqual(self.hub.commit_count("alice/new"), 0)
        r = call(href.replace("Signature=", "Signature=0"), "PUT", {}, data)
        self.assertEqual(r.status, 403)
        self.assertIn(b"SignatureDoesNotMatch", r.body)
        self.assertEqual(call(href, "GET").status, 403)
        self.hub.cdn_ttl = -10
        obj = self.batch("alice/new", [{"oid": sha256(data), "size": len(data)}]).json()["Data"]["objects"][0]
        r = call(obj["actions"]["upload"]["href"], "PUT", {}, data)
        self.assertEqual(r.status, 403)
        self.assertIn(b"Request has expired", r.body)
        r = call(href, "PUT", {}, data)                               # the first href still works
        self.assertEqual(r.status, 200, r)
        r = self.batch("alice/new", [{"oid": "XYZ", "size": 1}])
        self.assertEqual(r.status, 400)

    def test_commit_branches_tags_and_deletes(self):
        repo = self.hub.add_ms_repo("alice/toy", files={"a.txt": b"a", "b.txt": b"b"}, tags=["v1"])
        r = self.commit("alice/toy", [self.normal("c.txt", b"c")], rev="dev")
        self.assertEqual(r.status, 400)                               # not a branch: not created
        self.assertEqual(r.json(), {"message": emu_upload.MS_NOT_ON_BRANCH})
        self.assertEqual(self.commit("alice/toy", [self.normal("c.txt", b"c")], rev="v1").status, 400)
        self.assertNotIn("dev", repo.branches)
        repo.add_branch("dev")
        r = self.commit("alice/toy", [self.normal("c.txt", b"c")], rev="dev")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(self.files("alice/toy", "dev")), {"a.txt", "b.txt", "c.txt"})
        self.assertEqual(set(self.files("alice/toy")), {"a.txt", "b.txt"})
        before = self.files("alice/toy")
        r = self.commit("alice/toy", [{"action": "delete", "path": "a.txt", "type": "normal",
                                       "size": 0, "sha256": "", "content": "", "encoding": ""},
                                      self.normal("b.txt", b"B2")])
        self.assertEqual(r.status, 200, r)
        after = self.files("alice/toy")
        self.assertEqual(set(after), {"b.txt"})
        self.assertNotEqual(after["b.txt"]["Revision"], before["b.txt"]["Revision"])
        self.assertEqual(self.dl("alice/toy", "b.txt").body, b"B2")
        r = self.commit("alice/toy", [{"action": "delete", "path": "nope.txt"}])
        self.assertEqual(r.status, 400)
        self.assertEqual(self.commit("alice/toy", []).status, 400)
        self.assertEqual(self.commit("alice/toy", [self.normal("../evil", b"x")]).status, 400)
        bad = self.normal("c.txt", b"c")
        bad["size"] = 5
        self.assertEqual(self.commit("alice/toy", [bad]).status, 400)
        self.assertEqual((self.hub.commit_count("alice/toy", "master"),
                          self.hub.commit_count("alice/toy", "dev")), (1, 1))
        # a re-commit of the same content still makes a commit: the client must skip it
        self.assertEqual(self.commit("alice/toy", [self.normal("b.txt", b"B2")]).status, 200)
        self.assertEqual(self.hub.commit_count("alice/toy", "master"), 2)

    def test_write_permissions(self):
        self.hub.add_ms_repo("mscli-demo/tiny", files={"a.txt": b"a"})
        self.hub.tokens["ms-readonly"] = "alice"
        self.hub.read_only_tokens.add("ms-readonly")
        data = b"\x00" * 10
        act = [self.normal("x.txt", b"x")]
        self.assertEqual(self.batch("mscli-demo/tiny", [{"oid": sha256(data), "size": 10}]).status, 403)
        self.assertEqual(self.commit("mscli-demo/tiny", act).status, 403)
        self.assertEqual(self.commit("mscli-demo/tiny", act, headers={}).status, 401)
        self.assertEqual(self.commit("alice/none", act).status, 404)
        self.hub.add_ms_repo("alice/mine", files={})
        self.assertEqual(self.commit("alice/mine", act, headers={"Authorization": "Bearer x"}).status, 403)
        self.assertEqual(self.commit("alice/mine", act, headers={"Authorization": "Bearer ms-readonly"}).status, 403)
        self.assertEqual(self.commit("alice/mine", act, headers=MS_COOKIE).status, 200)

    def test_dataset_upload_and_tree(self):
        body, ctype = multipart({"Owner": "alice", "Name": "ds", "Visibility": "5"})
        call(self.u + "/api/v1/datasets", "POST", dict(MS_TOK, **{"Content-Type": ctype}), body)
        rows = b'{"t": 1}\n' * 5000
        self.put_blob("alice/ds", rows, kind="datasets")
        r = self.commit("alice/ds", [self.lfs("data/train.jsonl", rows), self.normal("README.md", b"# d\n")],
                        kind="datasets")
        self.assertEqual(r.status, 200, r)
        r = call(self.u + "/api/v1/datasets/alice/ds/repo/tree?Revision=master&Root=/&Recursive=True")
        paths = {f["Path"]: f for f in r.json()["Data"]["Files"] if f["Type"] == "blob"}
        self.assertEqual(paths["data/train.jsonl"]["Sha256"], sha256(rows))
        self.assertEqual(self.dl("alice/ds", "data/train.jsonl", kind="datasets").body, rows)

    def test_credentials_seen(self):
        self.create()
        data = blob(1000, 5)
        obj = self.batch("alice/new", [{"oid": sha256(data), "size": len(data)}]).json()["Data"]["objects"][0]
        self.assertEqual(len(self.hub.credentials_seen(server="hub")), 2)
        self.assertEqual(self.hub.credentials_seen(server="cdn"), [])
        call(obj["actions"]["upload"]["href"], "PUT", MS_COOKIE, data)     # what ms clients do
        seen = self.hub.credentials_seen(server="cdn")
        self.assertEqual([(r.method, r.status) for r in seen], [("PUT", 200)])


# ====================================================================== Hugging Face

class HFUpload(unittest.TestCase):
    def setUp(self):
        self.hub = Hub(cdn=True, orgs={"acme": {"alice"}})
        self.addCleanup(self.hub.stop)
        self.u = self.hub.url

    def create(self, name, org=None, rtype=None, headers=HF_TOK, **extra):
        body = dict({"name": name, "organization": org}, **extra)
        if rtype:
            body["type"] = rtype
        return call(self.u + "/api/repos/create", "POST", dict(headers, **{"Content-Type": "application/json"}),
                    js(body))

    def batch(self, repo, objects, prefix="", transfers=("basic", "multipart"), ref="main",
              headers=HF_TOK):
        body = {"operation": "upload", "transfers": list(transfers), "hash_algo": "sha256",
                "objects": objects}
        if ref is not None:
            body["ref"] = {"name": ref}
        return call("%s/%s%s.git/info/lfs/objects/batch" % (self.u, prefix, repo), "POST",
                    dict(headers, **{"Accept": "application/vnd.git-lfs+json",
                                     "Content-Type": "application/vnd.git-lfs+json"}), js(body))

    def preupload(self, repo, files, rev="main", kind="models", headers=HF_TOK, **extra):
        body = dict({"files": [{"path": p, "size": len(d), "sample": base64.b64encode(d[:512]).decode()}
                               for p, d in files]}, **extra)
        return call("%s/api/%s/%s/preupload/%s" % (self.u, kind, repo, urllib.parse.quote(rev, safe="")),
                    "POST", headers, js(body))

    def commit(self, repo, ops, rev="main", kind="models", headers=HF_TOK, summary="Upload",
               query="", parent=None):
        head = {"summary": summary, "description": ""}
        if parent:
            head["parentCommit"] = parent
        body = ndjson({"key": "header", "value": head}, *ops)
        return call("%s/api/%s/%s/commit/%s%s" % (self.u, kind, repo, urllib.parse.quote(rev, safe=""),
                                                  query), "POST",
                    dict(headers, **{"Content-Type": "application/x-ndjson"}), body)

    @staticmethod
    def file(path, data):
        return {"key": "file", "value": {"content": base64.b64encode(data).decode(), "path": path,
                                         "encoding": "base64"}}

    @staticmethod
    def lfs(path, data):
        return {"key": "lfsFile", "value": {"path": path, "algo": "sha256", "oid": sha256(data),
                                            "size": len(data)}}

    def upload_basic(self, repo, data, prefix=""):
        r = self.batch(repo, [{"oid": sha256(data), "size": len(data)}], prefix)
        self.assertEqual(r.status, 200, r)
        obj = r.json()["objects"][0]
        if "actions" in obj:
            r = call(obj["actions"]["upload"]["href"], "PUT", {}, data)
            self.assertEqual(r.status, 200, r)
            self.assertTrue(r.headers["etag"])
        return obj

    def tree(self, repo, rev="main", kind="models"):
        r = call("%s/api/%s/%s/tree/%s?recursive=true" % (self.u, kind, repo, urllib.parse.quote(rev, safe="")))
        self.assertEqual(r.status, 200, r)
        return {e["path"]: e for e in r.json() if e["type"] == "file"}

    def resolve(self, repo, path, rev="main", prefix="", headers=None):
        return fetch("%s/%s%s/resolve/%s/%s" % (self.u, prefix, repo, urllib.parse.quote(rev, safe=""),
                                               urllib.parse.quote(path)), headers)

    def test_whoami_roles_and_orgs(self):
        r = call(self.u + "/api/whoami-v2", headers=HF_TOK)
        d = r.json()
        self.assertEqual((r.status, d["name"], d["auth"]["accessToken"]["role"]), (200, "alice", "write"))
        self.assertEqual([o["name"] for o in d["orgs"]], ["acme"])
        self.hub.tokens["hf_readonly"] = "alice"
        self.hub.read_only_tokens.add("hf_readonly")
        r = call(self.u + "/api/whoami-v2", headers={"Authorization": "Bearer hf_readonly"})
        self.assertEqual(r.json()["auth"]["accessToken"]["role"], "read")
        self.assertEqual(call(self.u + "/api/whoami-v2").status, 401)

    def test_create_repo(self):
        r = self.create("new")
        self.assertEqual(r.status, 200, r)
        d = r.json()
        self.assertEqual((d["name"], d["url"]), ("alice/new", self.u + "/alice/new"))
        tree = self.tree("alice/new")
        self.assertEqual(list(tree), [".gitattributes"])               # the Hub's initial commit
        ga = self.resolve("alice/new", ".gitattributes").body
        self.assertIn(b"*.safetensors filter=lfs diff=lfs merge=lfs -text", ga)
        r = self.create("new")
        self.assertEqual(r.status, 409)
        self.assertEqual(r.json()["error"], "You already created this model repo")
        self.assertEqual(self.create("new", headers={}).status, 401)
        self.assertEqual(self.create("x", headers={"Authorization": "Bearer nope"}).status, 401)
        self.assertEqual(self.create("x", org="bob").status, 403)
        self.assertEqual(self.create("x", org="acme").status, 200)
        self.assertEqual(self.create("bad/name").status, 400)
        r = self.create("ds", rtype="dataset", private=True)
        self.assertEqual((r.status, r.json()["url"]), (200, self.u + "/datasets/alice/ds"))
        r = call(self.u + "/api/datasets/alice/ds")
        self.assertEqual((r.status, r.headers.get("x-error-code")), (401, "RepoNotFound"))
        r = call(self.u + "/api/datasets/alice/ds", headers=HF_TOK)
        self.assertEqual((r.status, r.json()["private"]), (200, True))
        self.assertEqual(self.create("vis", visibility="private").status, 200)
        self.assertTrue(self.hub.get_repo("hf", "alice/vis").private)
        self.assertEqual(call(self.u + "/api/validate-yaml", "POST", HF_TOK,
                              js({"content": "# hi", "repoType": "model"})).status, 200)

    def test_preupload(self):
        self.create("new")
        self.hub.get_repo("hf", "alice/new").commit_files(
            {"old.txt": b"old\n", ".gitignore": b"*.log\nbuild/\n"})
        text, binary, big = b"hello\n", b"\x00\x01" * 300, b"a" * (11 * 1024 * 1024)
        r = self.preupload("alice/new", [("README.md", text), ("w.safetensors", text), ("b.dat", binary),
                                         ("big.txt", big), ("old.txt", b"old\n"), ("x.log", text),
                                         ("build/out.txt", text)])
        self.assertEqual(r.status, 200, r)
        d = {f["path"]: f for f in r.json()["files"]}
        self.assertEqual({p: f["uploadMode"] for p, f in d.items()},
                         {"README.md": "regular", "w.safetensors": "lfs", "b.dat": "lfs",
                          "big.txt": "lfs", "old.txt": "regular", "x.log": "regular",
                          "build/out.txt": "regular"})
        self.assertEqual({p for p, f in d.items() if f["shouldIgnore"]}, {"x.log", "build/out.txt"})
        self.assertEqual(d["old.txt"]["oid"], git_sha1(b"old\n"))
        self.assertNotIn("oid", d["README.md"])
        self.assertEqual(r.json()["commitOid"], self.hub.get_repo("hf", "alice/new").commit)
        r = self.preupload("alice/new", [("x.log", text)], gitIgnore="")
        self.assertFalse(r.json()["files"][0]["shouldIgnore"])
        r = self.preupload("alice/new", [("a", text)], rev="nobranch")
        self.assertEqual((r.status, r.headers["x-error-code"]), (404, "RevisionNotFound"))
        self.assertEqual(self.preupload("alice/new", [("a", text)], headers={}).status, 401)

    def test_basic_upload_commit_and_download_back(self):
        self.create("new")
        weights, text, data = blob(200_000, 6), b"# Model\n", b"\x00" + blob(5000, 7)
        obj = self.upload_basic("alice/new", weights)
        href = obj["actions"]["upload"]["href"]
        self.assertTrue(href.startswith(self.hub.cdn_url + "/"), href)
        self.assertTrue(obj["authenticated"])
        v = obj["actions"]["verify"]
        r = call(v["href"], "POST", HF_TOK, js({"oid": sha256(weights), "size": len(weights)}))
        self.assertEqual(r.status, 200, r)
        self.upload_basic("alice/new", data)
        r = self.commit("alice/new", [self.file("README.md", text), self.lfs("model.safetensors", weights),
                                      self.lfs("data/blob.dat", data)], summary="Upload model")
        self.assertEqual(r.status, 200, r)
        d = r.json()
        oid = d["commitOid"]
        self.assertEqual(d["commitUrl"], "%s/alice/new/commit/%s" % (self.u, oid))
        self.assertNotIn("pullRequestUrl", d)
        repo = self.hub.get_repo("hf", "alice/new")
        self.assertEqual(repo.branches["main"], oid)
        tree = self.tree("alice/new")
        self.assertEqual(tree["model.safetensors"]["lfs"]["oid"], sha256(weights))
        self.assertEqual(tree["data/blob.dat"]["lfs"]["size"], len(data))
        self.assertEqual((tree["README.md"]["oid"], "lfs" in tree["README.md"]), (git_sha1(text), False))
        r = call("%s/alice/new/resolve/main/model.safetensors" % self.u, "HEAD")
        self.assertEqual((r.status, r.headers["x-linked-etag"]), (302, '"%s"' % sha256(weights)))
        self.assertTrue(r.headers["location"].startswith(self.hub.cdn_url))
        self.assertEqual(call("%s/alice/new/resolve/main/README.md" % self.u, "HEAD").status, 307)
        for path, want in (("model.safetensors", weights), ("README.md", text), ("data/blob.dat", data)):
            self.assertEqual(self.resolve("alice/new", path).body, want, path)
        # an LFS path no .gitattributes pattern covers is added to it, as the Hub does
        ga = self.resolve("alice/new", ".gitattributes").body.decode()
        self.assertIn("data/blob.dat filter=lfs diff=lfs merge=lfs -text", ga)
        self.assertEqual(ga.count("model.safetensors"), 0)
        ups = self.hub.lfs_uploads("hf", sha256(weights))
        self.assertEqual((ups[0].transfer, ups[0].complete, ups[0].verified), ("basic", True, True))
        self.assertEqual(self.hub.credentials_seen(server="cdn"), [])
        # a second upload of the same files: preupload reports the remote oids
        r = self.preupload("alice/new", [("README.md", text), ("model.safetensors", weights)])
        oids = {f["path"]: f["oid"] for f in r.json()["files"]}
        self.assertEqual(oids, {"README.md": git_sha1(text), "model.safetensors": sha256(weights)})
        r = self.batch("alice/new", [{"oid": sha256(weights), "size": len(weights)}])
        self.assertEqual(r.json()["objects"], [{"oid": sha256(weights), "size": len(weights)}])
        self.assertEqual(self.hub.commit_count("alice/new", "main", kind="hf"), 1)

    def test_dataset_prefix(self):
        self.create("ds", rtype="dataset")
        rows = blob(70_000, 8)
        self.upload_basic("alice/ds", rows, prefix="datasets/")
        r = self.commit("alice/ds", [self.lfs("train.bin", rows)], kind="datasets")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["commitUrl"], "%s/datasets/alice/ds/commit/%s" % (self.u, r.json()["commitOid"]))
        self.assertEqual(self.resolve("alice/ds", "train.bin", prefix="datasets/").body, rows)

    def test_multipart_parallel_parts(self):
        self.create("new")
        self.hub.hf_multipart_threshold = 1000
        self.hub.hf_chunk_size = 4096
        data = blob(10_000, 9)
        r = self.batch("alice/new", [{"oid": sha256(data), "size": len(data)}])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["transfer"], "multipart")
        up = r.json()["objects"][0]["actions"]["upload"]
        hdr = up["header"]
        self.assertEqual(hdr["chunk_size"], "4096")
        keys = sorted(k for k in hdr if k.isdigit())
        self.assertEqual(keys, ["00001", "00002", "00003"])
        for k in keys:
            self.assertTrue(hdr[k].startswith(self.hub.cdn_url + "/"))
        self.assertTrue(up["href"].startswith(self.u + "/alice/new.git/info/lfs/complete_multipart/"))
        parts = [data[i:i + 4096] for i in range(0, len(data), 4096)]
        # send all three part requests' headers first, then the bodies: in flight together
        conns = []
        for k, part in zip(keys, parts):
            u = urllib.parse.urlsplit(hdr[k])
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            c.putrequest("PUT", u.path + "?" + u.query)
            c.putheader("Content-Length", str(len(part)))
            c.endheaders()
            c.send(part[:100])
            conns.append((c, part))
        time.sleep(0.3)                                  # every server thread has its request
        etags = []
        for c, part in conns:
            c.send(part[100:])
        for c, part in conns:
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
            etags.append(r.getheader("ETag"))
            c.close()
        self.assertTrue(all(etags))
        body = {"oid": sha256(data), "parts": [{"partNumber": i + 1, "etag": e} for i, e in enumerate(etags)]}
        lfs_headers = {"Accept": "application/vnd.git-lfs+json",
                       "Content-Type": "application/vnd.git-lfs+json"}
        bad = dict(body, parts=body["parts"][:2])
        self.assertEqual(call(up["href"], "POST", lfs_headers, js(bad)).status, 400)
        bad = dict(body, parts=[dict(p, etag='"0"') for p in body["parts"]])
        self.assertEqual(call(up["href"], "POST", lfs_headers, js(bad)).status, 400)
        self.assertIsNone(self.hub.lfs_object("hf", sha256(data)))
        r = call(up["href"], "POST", lfs_headers, js(body))               # no credential: signed URL
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.hub.lfs_object("hf", sha256(data)), data)
        rec = self.hub.lfs_uploads("hf", sha256(data))[0]
        self.assertEqual((rec.transfer, rec.parts, rec.complete, rec.chunk_size), ("multipart", 3, True, 4096))
        self.assertEqual(rec.max_parts_in_flight, 3)
        self.assertEqual(len(rec.part_puts), 3)
        r = self.commit("alice/new", [self.lfs("big.bin", data)])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.resolve("alice/new", "big.bin").body, data)
        self.assertEqual(self.hub.credentials_seen(server="cdn"), [])

    def test_multipart_sequential_and_corrupt_parts(self):
        self.create("new")
        self.hub.hf_multipart_threshold, self.hub.hf_chunk_size = 1, 3000
        data = blob(7000, 10)
        up = self.batch("alice/new", [{"oid": sha256(data), "size": len(data)}]).json()["objects"][0]
        hdr = up["actions"]["upload"]["header"]
        etags = []
        for i, k in enumerate(sorted(k for k in hdr if k.isdigit())):
            part = data[i * 3000:(i + 1) * 3000]
            if i == 1:
                part = part[:-1] + b"!"                                  # a corrupt part
            r = call(hdr[k], "PUT", {}, part)
            etags.append(r.headers["etag"])
        body = {"oid": sha256(data), "parts": [{"partNumber": i + 1, "etag": e} for i, e in enumerate(etags)]}
        r = call(up["actions"]["upload"]["href"], "POST", {}, js(body))
        self.assertEqual(r.status, 400)
        self.assertIn(b"does not match", r.body)
        rec = self.hub.lfs_uploads("hf", sha256(data))[0]
        self.assertEqual((rec.max_parts_in_flight, rec.complete), (1, False))
        # a client that offers only "basic" gets a basic href whatever the size
        r = self.batch("alice/new", [{"oid": sha256(data), "size": len(data)}], transfers=["basic"])
        self.assertEqual(r.json()["transfer"], "basic")
        self.assertNotIn("header", r.json()["objects"][0]["actions"]["upload"])
        self.assertEqual(call(r.json()["objects"][0]["actions"]["upload"]["href"], "PUT", {}, data).status, 200)
        self.assertEqual(self.hub.lfs_uploads("hf", sha256(data), complete=True)[0].transfer, "basic")

    def test_commit_errors(self):
        self.create("new")
        repo = self.hub.get_repo("hf", "alice/new")
        head = repo.commit
        r = self.commit("alice/new", [self.lfs("x.bin", b"never uploaded")])
        self.assertEqual(r.status, 400)
        self.assertIn("LFS pointer pointed to a file that does not exist", r.headers["x-error-message"])
        r = self.commit("alice/new", [{"key": "deletedFile", "value": {"path": "nope"}}])
        self.assertEqual((r.status, r.headers["x-error-code"]), (404, "EntryNotFound"))
        self.assertIn("A file with this name doesn't exist", r.headers["x-error-message"])
        self.hub.hf_regular_max = 100
        self.assertEqual(self.commit("alice/new", [self.file("big.txt", b"a" * 101)]).status, 400)
        r = self.commit("alice/new", [self.file("a.txt", b"a")], parent="0" * 40)
        self.assertEqual(r.status, 412)
        r = self.commit("alice/new", [self.file("a.txt", b"a")], rev="nobranch")
        self.assertEqual((r.status, r.headers["x-error-code"]), (404, "RevisionNotFound"))
        self.assertEqual(self.commit("alice/new", [self.file("../a", b"a")]).status, 400)
        self.assertEqual(self.commit("alice/new", [self.file("a.txt", b"a")], headers={}).status, 401)
        self.assertEqual(self.commit("alice/none", [self.file("a.txt", b"a")]).status, 404)
        self.hub.add_hf_repo("bob/theirs", files={"a": b"a"})
        self.assertEqual(self.commit("bob/theirs", [self.file("a.txt", b"a")]).status, 403)
        self.assertEqual(self.batch("bob/theirs", [{"oid": sha256(b"z"), "size": 1}]).status, 403)
        self.assertEqual(repo.commit, head)
        self.assertEqual(self.hub.commit_count("alice/new"), 0)
        r = self.commit("alice/new", [self.file("a.txt", b"a")], parent=head[:7])
        self.assertEqual(r.status, 200, r)

    def test_branches_and_pull_requests(self):
        self.create("new")
        repo = self.hub.get_repo("hf", "alice/new")
        r = call(self.u + "/api/models/alice/new/branch/dev", "POST", HF_TOK, js({}))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(call(self.u + "/api/models/alice/new/branch/dev", "POST", HF_TOK, js({})).status, 409)
        r = self.commit("alice/new", [self.file("dev.txt", b"dev")], rev="dev")
        self.assertEqual(r.status, 200, r)
        self.assertIn("dev.txt", self.tree("alice/new", "dev"))
        self.assertNotIn("dev.txt", self.tree("alice/new"))
        # a PR: allowed on someone else's public repo, lands on refs/pr/1
        self.hub.add_hf_repo("bob/theirs", files={"a.txt": b"a"})
        r = self.commit("bob/theirs", [self.file("fix.txt", b"fix")], query="?create_pr=1")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["pullRequestUrl"], self.u + "/bob/theirs/discussions/1")
        theirs = self.hub.get_repo("hf", "bob/theirs")
        self.assertEqual(theirs.branches["refs/pr/1"], r.json()["commitOid"])
        self.assertNotIn("fix.txt", theirs.files)
        self.assertIn("fix.txt", self.tree("bob/theirs", "refs/pr/1"))
        r = self.commit("bob/theirs", [self.file("fix2.txt", b"2")], query="?create_pr=1")
        self.assertTrue(r.json()["pullRequestUrl"].endswith("/discussions/2"))
        r = call(self.u + "/api/models/bob/theirs/refs?include_prs=1")
        self.assertEqual(sorted(p["name"] for p in r.json()["pullRequests"]), ["refs/pr/1", "refs/pr/2"])
        self.assertEqual(self.hub.commit_count("bob/theirs", "refs/pr/1"), 1)
        r = call(self.u + "/api/models/alice/new/branch/dev", "DELETE", HF_TOK)
        self.assertEqual(r.status, 200)
        self.assertNotIn("dev", repo.branches)
        self.assertEqual(call(self.u + "/api/models/alice/new/branch/main", "DELETE", HF_TOK).status, 403)

    def test_legacy_json_commit_and_deleted_folder(self):
        self.create("new")
        body = js({"summary": "old style", "files": [{"path": "d/a.txt", "content": base64.b64encode(b"a").decode(),
                                                      "encoding": "base64"},
                                                     {"path": "d/b.txt", "content": base64.b64encode(b"b").decode(),
                                                      "encoding": "base64"}]})
        r = call(self.u + "/api/models/alice/new/commit/main", "POST",
                 dict(HF_TOK, **{"Content-Type": "application/json"}), body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(self.tree("alice/new")), {".gitattributes", "d/a.txt", "d/b.txt"})
        r = self.commit("alice/new", [{"key": "deletedFolder", "value": {"path": "d/"}}])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(self.tree("alice/new")), {".gitattributes"})


# ====================================================================== faults and control

class UploadFaults(unittest.TestCase):
    def setUp(self):
        self.hub = Hub(cdn=True)
        self.addCleanup(self.hub.stop)
        self.u = self.hub.url
        self.hub.add_ms_repo("alice/m", files={"a.txt": b"a"})
        self.hub.add_hf_repo("alice/h", files={"a.txt": b"a"})

    def ms_hrefs(self, blobs):
        r = call(self.u + "/api/v1/repos/models/alice/m/info/lfs/objects/batch", "POST", MS_TOK,
                 js({"operation": "upload", "objects": [{"oid": sha256(b), "size": len(b)} for b in blobs]}))
        return [o["actions"]["upload"]["href"] for o in r.json()["Data"]["objects"]]

    def test_fail_the_nth_blob_put(self):
        blobs = [blob(1000, i) for i in range(3)]
        f = self.hub.fault("status", server="cdn", method="PUT", code=503, skip=1)
        got = [call(h, "PUT", {}, b).status for h, b in zip(self.ms_hrefs(blobs), blobs)]
        self.assertEqual(got, [200, 503, 200])
        self.assertEqual(f.fired, 1)
        self.assertIsNone(self.hub.lfs_object("ms", sha256(blobs[1])))
        self.assertEqual(self.hub.requests(server="cdn", method="PUT")[1].faults, ["status"])

    def test_drop_the_connection_mid_put(self):
        data = blob(2_000_000, 11)
        href, = self.ms_hrefs([data])
        f = self.hub.fault("drop_upload", server="cdn", method="PUT", after=65536)
        u = urllib.parse.urlsplit(href)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        with self.assertRaises((ConnectionError, http.client.HTTPException, socket.error)):
            c.request("PUT", u.path + "?" + u.query, body=data)
            c.getresponse().read()
        c.close()
        self.assertEqual(f.fired, 1)
        put = self.hub.requests(server="cdn", method="PUT")[0]
        self.assertEqual((put.faults, put.status, len(put.body)), (["drop_upload"], None, 65536))
        self.assertIsNone(self.hub.lfs_object("ms", sha256(data)))
        self.assertEqual(call(href, "PUT", {}, data).status, 200)         # a retry works

    def test_commit_lands_then_the_answer_is_lost(self):
        act = {"commit_message": "m", "actions": [{"action": "create", "path": "b.txt", "type": "normal",
                                                   "size": 1, "content": "Yg==", "encoding": "base64"}]}
        url = self.u + "/api/v1/repos/models/alice/m/commit/master"
        repo = self.hub.get_repo("ms", "alice/m")
        before = repo.commit
        self.hub.fault("commit_lost")
        with self.assertRaises((ConnectionError, http.client.HTTPException)):
            call(url, "POST", MS_TOK, js(act))
        self.assertNotEqual(repo.commit, before)                          # it landed
        self.assertEqual(self.hub.commit_count("alice/m"), 1)
        r = call(self.u + "/api/v1/models/alice/m/revisions")              # "read the branch head"
        self.assertEqual(r.json()["Data"]["RevisionMap"]["Branches"][0]["CommitId"], repo.commit)
        self.hub.fault("commit_lost", code=502)
        r = call(url, "POST", MS_TOK, js(act))
        self.assertEqual(r.status, 502)
        self.assertEqual(self.hub.commit_count("alice/m"), 2)
        # an HF commit answered 500 after landing; a status fault fails it before
        hf_url = self.u + "/api/models/alice/h/commit/main"
        body = ndjson({"key": "header", "value": {"summary": "s"}}, HFUpload.file("b.txt", b"b"))
        self.hub.fault("commit_lost", code=500)
        self.assertEqual(call(hf_url, "POST", HF_TOK, body).status, 500)
        self.assertEqual(self.hub.commit_count("alice/h", kind="hf"), 1)
        self.hub.fault("status", path="/commit/", code=500)
        self.assertEqual(call(hf_url, "POST", HF_TOK, body).status, 500)
        self.assertEqual(self.hub.commit_count("alice/h", kind="hf"), 1)

    def test_control_endpoints(self):
        data = blob(500, 12)
        href, = self.ms_hrefs([data])
        call(href, "PUT", {}, data)
        call(self.u + "/api/v1/repos/models/alice/m/commit/master", "POST", MS_TOK,
             js({"commit_message": "m", "actions": [MSUpload.lfs("x.bin", data)]}))
        ups = call(self.u + "/_hubemu/uploads").json()
        self.assertEqual([(u["kind"], u["oid"], u["transfer"], u["complete"]) for u in ups],
                         [("ms", sha256(data), "basic", True)])
        cs = call(self.u + "/_hubemu/commits").json()
        self.assertEqual([(c["repo"], c["branch"], c["added"]) for c in cs], [("alice/m", "master", {"x.bin": "lfs"})])
        r = call(self.u + "/_hubemu/config", "POST", body=js({"hf_multipart_threshold": 5, "hf_chunk_size": 7}))
        self.assertEqual((r.status, self.hub.hf_multipart_threshold, self.hub.hf_chunk_size), (200, 5, 7))
        self.assertEqual(call(self.u + "/_hubemu/config", "POST", body=js({"nope": 1})).status, 400)
        self.assertEqual(self.hub.requests(path="/_hubemu/"), [])

    def test_storage_on_the_hub_without_a_cdn(self):
        hub = Hub(cdn=False)
        self.addCleanup(hub.stop)
        hub.add_ms_repo("alice/m", files={})
        data = blob(800, 13)
        r = call(hub.url + "/api/v1/repos/models/alice/m/info/lfs/objects/batch", "POST", MS_TOK,
                 js({"operation": "upload", "objects": [{"oid": sha256(data), "size": len(data)}]}))
        href = r.json()["Data"]["objects"][0]["actions"]["upload"]["href"]
        self.assertTrue(href.startswith(hub.url + emu_upload.STORAGE_PREFIX))
        self.assertEqual(call(href, "PUT", {}, data).status, 200)
        self.assertEqual(call(self.u + emu_upload.STORAGE_PREFIX + "ms/x/y", "PUT", {}, b"").status, 404)

    def test_unknown_hub_option(self):
        with self.assertRaises(TypeError):
            Hub(cdn=False, hf_multipart_treshold=1)


class Patterns(unittest.TestCase):
    def test_gitattributes_and_gitignore(self):
        ga = emu_upload.HF_GITATTRIBUTES + "my[[:space:]]file.bin filter=lfs diff=lfs merge=lfs -text\n" \
            "keep.bin -filter\n"
        for path, want in (("a.safetensors", True), ("d/e/a.safetensors", True), ("saved_model/x/y", True),
                           ("x.tar.gz", True), ("README.md", False), ("my file.bin", True),
                           ("keep.bin", False), ("events.out.tfevents.1", True)):
            self.assertEqual(emu_upload.gitattributes_lfs(ga, path), want, path)
        gi = "*.log\n/top.txt\nbuild/\n!keep.log\n"
        for path, want in (("a.log", True), ("d/a.log", True), ("keep.log", False), ("top.txt", True),
                           ("d/top.txt", False), ("build/x", True), ("d/build/x", True), ("build", False)):
            self.assertEqual(emu_upload.gitignore_match(gi, path), want, path)


if __name__ == "__main__":
    unittest.main()
