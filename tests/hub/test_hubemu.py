"""Self-tests of the hub emulator (standard library only).

    python3 -m unittest discover -s tests/hub -v        (about 10 s)

Shapes of both hubs' answers, paging, Range, redirects, errors and every
fault kind, checked with http.client so nothing is followed implicitly.
"""
import hashlib
import http.client
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import hubemu  # noqa: E402
from hubemu import FileRef, Hub  # noqa: E402


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def git_sha1(b):
    return hashlib.sha1(b"blob %d\0" % len(b) + b).hexdigest()


def blob(n, seed=0):
    out = bytearray()
    h = hashlib.sha256(b"seed%d" % seed).digest()
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
        return "<%d %r %r>" % (self.status, self.headers, self.body[:200])


def call(url, method="GET", headers=None, body=None, timeout=10):
    """One request, no redirect following; headers lower-cased."""
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        target = u.path + ("?" + u.query if u.query else "")
        c.request(method, target, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        c.close()


def follow(hub, url, headers=None, method="GET", drop_auth=True):
    """Follow redirects like a careful client: no credentials to another host."""
    for _ in range(5):
        r = call(url, method, headers)
        if r.status not in (301, 302, 303, 307, 308):
            return r
        nxt = urllib.parse.urljoin(url, r.headers["location"])
        if drop_auth and urllib.parse.urlsplit(nxt).netloc != urllib.parse.urlsplit(url).netloc:
            headers = {k: v for k, v in (headers or {}).items()
                       if k.lower() not in ("authorization", "cookie")}
        url = nxt
    raise AssertionError("redirect loop")


BIG = blob(300_000, 1)
MS_FILES = {"config.json": b'{"a": 1}\n', "README.md": b"# hi\n", "w/model.bin": BIG,
            "w/sub/x.txt": b"x" * 10, "with space.txt": b"spaced"}


class MS(unittest.TestCase):
    def setUp(self):
        self.hub = Hub(cdn=True)
        self.addCleanup(self.hub.stop)
        self.repo = self.hub.add_ms_repo("acme/toy", files=MS_FILES, tags=["v1.0", "v2.0"])
        self.api = self.hub.url + "/api/v1/models/acme/toy"

    def dl(self, path, rev="master", kind="models", repo="acme/toy"):
        return "%s/api/v1/%s/%s/repo?Revision=%s&FilePath=%s" % (
            self.hub.url, kind, repo, urllib.parse.quote_plus(rev), urllib.parse.quote_plus(path))

    def test_login_and_whoami(self):
        r = call(self.hub.url + "/api/v1/login", "POST", body=json.dumps({"AccessToken": "ms-goodtoken"}))
        self.assertEqual(r.status, 200)
        d = r.json()
        self.assertEqual((d["Code"], d["Success"], d["Data"]["Username"]), (200, True, "alice"))
        self.assertIn("AccessToken", d["Data"])
        self.assertIn("Email", d["Data"])
        self.assertRegex(r.headers["set-cookie"], r"^m_session_id=ms-goodtoken; Path=/; Expires=")
        r = call(self.hub.url + "/api/v1/login", "POST", body=b'{"AccessToken": "nope"}')
        self.assertEqual((r.status, r.json()["Code"]), (401, 401))
        r = call(self.hub.url + "/openapi/v1/users/me", headers={"Authorization": "Bearer ms-goodtoken"})
        self.assertEqual(r.json()["data"]["username"], "alice")
        self.assertTrue(r.json()["success"])
        self.assertEqual(call(self.hub.url + "/openapi/v1/users/me").status, 401)

    def test_info_and_errors(self):
        r = call(self.api)
        d = r.json()
        self.assertEqual((r.status, d["Code"], d["Success"]), (200, 200, True))
        for k in ("Id", "Name", "Path", "Visibility", "License", "Downloads", "Description", "Tags"):
            self.assertIn(k, d["Data"])
        self.assertIsInstance(d["Data"]["Id"], int)
        r = call(self.hub.url + "/api/v1/models/acme/none")
        self.assertEqual((r.status, r.json()["Code"], r.json()["Message"]), (404, 404, "模型不存在"))
        self.assertIn("RequestId", r.json())
        r = call(self.hub.url + "/api/v1/datasets/acme/none")
        self.assertEqual((r.status, r.json()["Message"]), (404, "数据集不存在"))
        r = call(self.hub.url + "/openapi/v1/models/acme/toy")
        self.assertEqual(r.json()["data"]["id"], "acme/toy")
        self.assertEqual(call(self.hub.url + "/openapi/v1/models/acme/none").status, 404)
        r = call(self.hub.url + "/openapi/v1/models?owner=acme&page_number=1&page_size=10")
        self.assertEqual([m["id"] for m in r.json()["data"]["models"]], ["acme/toy"])
        self.assertEqual(r.json()["data"]["total_count"], 1)
        r = call(self.hub.url + "/api/v1/repos/internalAccelerationInfo")
        self.assertEqual(r.status, 404)

    def test_revisions(self):
        d = call(self.api + "/revisions").json()["Data"]["RevisionMap"]
        self.assertEqual([b["Revision"] for b in d["Branches"]], ["master"])
        self.assertEqual([t["Revision"] for t in d["Tags"]], ["v2.0", "v1.0"])  # newest first
        for e in d["Branches"] + d["Tags"]:
            self.assertIsInstance(e["CreatedAt"], int)
        self.assertGreater(d["Tags"][0]["CreatedAt"], d["Tags"][1]["CreatedAt"])
        end = d["Tags"][1]["CreatedAt"]
        d = call(self.api + "/revisions?EndTime=%d" % end).json()["Data"]["RevisionMap"]
        self.assertEqual([t["Revision"] for t in d["Tags"]], ["v1.0"])

    def test_listing_shape(self):
        r = call(self.api + "/repo/files?Revision=master&Recursive=True", headers={"Snapshot": "True"})
        files = r.json()["Data"]["Files"]
        blobs = {f["Path"]: f for f in files if f["Type"] == "blob"}
        trees = sorted(f["Path"] for f in files if f["Type"] == "tree")
        self.assertEqual(sorted(blobs), sorted(MS_FILES))
        self.assertEqual(trees, ["w", "w/sub"])
        for p, f in blobs.items():
            for k in ("Name", "Path", "Type", "Size", "Sha256", "Revision", "IsLFS",
                      "CommittedDate", "CommitMessage", "Mode", "InCheck"):
                self.assertIn(k, f)
            self.assertEqual(f["Size"], len(MS_FILES[p]))
            self.assertEqual(f["Sha256"], sha256(MS_FILES[p]))
            self.assertRegex(f["Revision"], r"^[0-9a-f]{40}$")
            self.assertEqual(f["Name"], p.rsplit("/", 1)[-1])
        self.assertTrue(blobs["w/model.bin"]["IsLFS"])
        self.assertFalse(blobs["config.json"]["IsLFS"])
        top = call(self.api + "/repo/files?Revision=master&Recursive=false").json()["Data"]["Files"]
        self.assertEqual(sorted(f["Path"] for f in top),
                         ["README.md", "config.json", "w", "with space.txt"])
        sub = call(self.api + "/repo/files?Revision=master&Recursive=True&Root=w").json()["Data"]["Files"]
        self.assertEqual(sorted(f["Path"] for f in sub), ["w/model.bin", "w/sub", "w/sub/x.txt"])
        r = call(self.api + "/repo/files?Revision=nope&Recursive=True")
        self.assertEqual((r.status, r.json()["Code"]), (404, 404))
        self.assertIn("nope", r.json()["Message"])

    def test_listing_follows_changes_made_after_it_was_served(self):
        """The encoded listing is reused; what tests change on the repo still shows."""
        url = self.api + "/repo/files?Revision=master&Recursive=True"
        first = call(url).json()
        again = call(url).json()
        self.assertNotEqual(first["RequestId"], again["RequestId"])
        self.assertEqual(first["Data"], again["Data"])
        self.repo.sha256_override["config.json"] = "0" * 64
        self.repo.extra_entries.append({"Path": "late.txt", "_content": b"late"})
        files = {f["Path"]: f for f in call(url).json()["Data"]["Files"]}
        self.assertEqual(files["config.json"]["Sha256"], "0" * 64)
        self.assertEqual(files["late.txt"]["Size"], 4)
        del self.repo.sha256_override["config.json"]
        files = {f["Path"]: f for f in call(url).json()["Data"]["Files"]}
        self.assertEqual(files["config.json"]["Sha256"], sha256(MS_FILES["config.json"]))

    def test_revisions_by_tag_commit_and_file_revision(self):
        old = self.repo.commit
        files = call(self.api + "/repo/files?Revision=master&Recursive=True").json()["Data"]["Files"]
        rev_cfg = next(f["Revision"] for f in files if f["Path"] == "config.json")
        rev_readme = next(f["Revision"] for f in files if f["Path"] == "README.md")
        new = self.repo.commit_files({"config.json": b'{"a": 2}\n'})
        self.assertNotEqual(new, old)
        files = call(self.api + "/repo/files?Revision=master&Recursive=True").json()["Data"]["Files"]
        got = {f["Path"]: f["Revision"] for f in files}
        self.assertNotEqual(got["config.json"], rev_cfg)   # touched by the new commit
        self.assertEqual(got["README.md"], rev_readme)      # last touched before
        self.assertEqual(follow(self.hub, self.dl("config.json")).body, b'{"a": 2}\n')
        for rev in ("v1.0", old, rev_cfg):                  # tag, commit, file revision: old bytes
            self.assertEqual(follow(self.hub, self.dl("config.json", rev)).body, b'{"a": 1}\n', rev)
        self.assertEqual(call(self.dl("config.json", "0" * 40)).status, 404)

    def test_tag_with_its_own_files(self):
        self.hub.add_ms_repo("acme/tagged", files={"a.txt": b"new"}, tags={"v0": {"a.txt": b"old"}})
        self.assertEqual(follow(self.hub, self.dl("a.txt", "v0", repo="acme/tagged")).body, b"old")
        self.assertEqual(follow(self.hub, self.dl("a.txt", repo="acme/tagged")).body, b"new")

    def test_download_redirect_and_ranges(self):
        r = call(self.dl("w/model.bin"))
        self.assertEqual(r.status, 302)
        loc = r.headers["location"]
        self.assertTrue(loc.startswith(self.hub.cdn_url + "/ms/"), loc)
        self.assertTrue(self.hub.cdn_url.startswith("http://localhost:"))
        self.assertRegex(loc, r"\?Expires=\d+&Signature=[0-9a-f]+$")
        full = call(loc)
        self.assertEqual((full.status, full.body), (200, BIG))
        self.assertEqual(full.headers["content-length"], str(len(BIG)))
        for rng, (a, b) in [("bytes=10-19", (10, 20)), ("bytes=299990-", (299990, 300000)),
                            ("bytes=299990-999999", (299990, 300000)), ("bytes=-5", (299995, 300000))]:
            r = call(loc, headers={"Range": rng})
            self.assertEqual(r.status, 206, rng)
            self.assertEqual(r.body, BIG[a:b], rng)
            self.assertEqual(r.headers["content-range"], "bytes %d-%d/%d" % (a, b - 1, len(BIG)))
        r = call(loc, headers={"Range": "bytes=300000-"})
        self.assertEqual((r.status, r.headers["content-range"]), (416, "bytes */300000"))
        r = call(loc, "HEAD")
        self.assertEqual((r.status, r.headers["content-length"], r.body), (200, "300000", b""))
        self.assertEqual(call(self.dl("w/model.bin"), "HEAD").status, 302)
        # form decoding: '+' is a space
        self.assertEqual(follow(self.hub, self.dl("with space.txt")).body, b"spaced")
        self.assertEqual(call(self.dl("missing.txt")).status, 404)
        self.assertEqual(call(self.api + "/repo?Revision=master").status, 404)  # no FilePath
        self.assertEqual(call(self.dl("config.json", "nope")).status, 404)

    def test_signed_urls(self):
        loc = call(self.dl("config.json")).headers["location"]
        bad = re.sub(r"Signature=[0-9a-f]{4}", "Signature=0000", loc)
        r = call(bad)
        self.assertEqual(r.status, 403)
        self.assertIn(b"SignatureDoesNotMatch", r.body)
        self.hub.cdn_ttl = -10
        r = call(call(self.dl("config.json")).headers["location"])
        self.assertEqual(r.status, 403)
        self.assertIn(b"expired", r.body)

    def test_no_cdn(self):
        hub = Hub(cdn=False)
        self.addCleanup(hub.stop)
        self.assertIsNone(hub.cdn_url)
        hub.add_ms_repo("acme/toy", files=MS_FILES)
        url = "%s/api/v1/models/acme/toy/repo?Revision=master&FilePath=w%%2Fmodel.bin" % hub.url
        r = call(url, headers={"Range": "bytes=5-9"})
        self.assertEqual((r.status, r.body), (206, BIG[5:10]))
        self.assertEqual(call(url).body, BIG)

    def test_dataset_tree_paging(self):
        files = {"d/%02d.txt" % i: b"%d" % i for i in range(5)}
        files["README.md"] = b"r"
        repo = self.hub.add_ms_repo("acme/ds.v1", type="dataset", files=files)
        info = call(self.hub.url + "/api/v1/datasets/acme/ds.v1").json()["Data"]
        self.assertEqual(info["Id"], repo.numeric_id)
        self.assertIn("Type", info)
        for base in ("/api/v1/datasets/acme/ds.v1", "/api/v1/datasets/%d" % repo.numeric_id):
            got, page = [], 1
            while True:
                r = call("%s%s/repo/tree?Revision=master&Root=/&Recursive=True&PageNumber=%d&PageSize=3"
                         % (self.hub.url, base, page))
                chunk = r.json()["Data"]["Files"]
                got += chunk
                if len(chunk) < 3:
                    break
                page += 1
            self.assertEqual(page, 3)  # 7 entries (a tree entry counts): 3 + 3 + 1
            self.assertEqual(sorted(f["Path"] for f in got if f["Type"] == "blob"), sorted(files))
        url = ("%s/api/v1/datasets/acme/ds.v1/repo?Source=SDK&Revision=master&FilePath=d%%2F03.txt"
               "&View=False" % self.hub.url)
        self.assertEqual(follow(self.hub, url).body, b"3")

    def test_private_repo_and_auth_stays_on_the_hub(self):
        self.hub.add_ms_repo("acme/priv", files={"a.bin": b"secret"}, private=True)
        api = self.hub.url + "/api/v1/models/acme/priv"
        self.assertEqual(call(api).status, 401)
        self.assertEqual(call(api, headers={"Cookie": "m_session_id=ms-bad"}).status, 403)
        self.assertEqual(call(api, headers={"Authorization": "Bearer ms-bad"}).status, 403)
        self.assertEqual(call(api, headers={"Cookie": "m_session_id=ms-goodtoken"}).status, 200)
        self.hub.clear_log()
        auth = {"Authorization": "Bearer ms-goodtoken", "Cookie": "m_session_id=ms-goodtoken"}
        r = follow(self.hub, self.dl("a.bin", repo="acme/priv"), headers=auth)
        self.assertEqual(r.body, b"secret")
        cdn = [q for q in self.hub.log if q.server == "cdn"]
        self.assertEqual(len(cdn), 1)
        self.assertNotIn("authorization", cdn[0].headers)
        self.assertNotIn("m_session_id", cdn[0].headers.get("cookie", ""))
        self.assertEqual(self.hub.log[0].headers["authorization"], "Bearer ms-goodtoken")

    def test_extra_entries_and_sha_override(self):
        self.hub.add_ms_repo("acme/evil", files={"good.txt": b"g"},
                             extra_entries=[{"Path": "../evil.txt", "Size": 5}],
                             sha256_override={"good.txt": "ab" * 32})
        files = call(self.hub.url + "/api/v1/models/acme/evil/repo/files?Revision=master&Recursive=True"
                     ).json()["Data"]["Files"]
        by = {f["Path"]: f for f in files}
        self.assertEqual(by["good.txt"]["Sha256"], "ab" * 32)
        evil = by["../evil.txt"]
        self.assertEqual((evil["Type"], evil["Size"], evil["Name"]), ("blob", 5, "evil.txt"))
        body = follow(self.hub, self.dl("../evil.txt", repo="acme/evil")).body
        self.assertEqual((len(body), sha256(body)), (5, evil["Sha256"]))

    def test_commits(self):
        self.repo.commit_files({"new.txt": b"n"}, message="add new")
        d = call(self.api + "/commits?Ref=master&PageNumber=1&PageSize=50").json()
        self.assertEqual(d["TotalCount"], 2)
        self.assertEqual(d["Data"]["Commit"][0]["Title"], "add new")


HF_FILES = {"config.json": b'{"model_type": "toy"}\n', "model.safetensors": blob(200_000, 2),
            "sub/dir/tok.json": b"{}", "big.bin": blob(1_100_000, 3)}


class HF(unittest.TestCase):
    def setUp(self):
        self.hub = Hub(cdn=True)
        self.addCleanup(self.hub.stop)
        self.repo = self.hub.add_hf_repo("org/toy", files=HF_FILES, branches={"refs/pr/1": None})

    def u(self, path):
        return self.hub.url + path

    def test_info(self):
        r = call(self.u("/api/models/org/toy"))
        d = r.json()
        self.assertEqual(r.status, 200)
        self.assertEqual((d["id"], d["sha"], d["private"], d["gated"]), ("org/toy", self.repo.commit, False, False))
        self.assertRegex(d["lastModified"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$")
        self.assertEqual(sorted(s["rfilename"] for s in d["siblings"]), sorted(HF_FILES))
        self.assertNotIn("size", d["siblings"][0])
        d = call(self.u("/api/models/org/toy/revision/main?blobs=true")).json()
        sib = {s["rfilename"]: s for s in d["siblings"]}
        self.assertEqual(sib["config.json"]["blobId"], git_sha1(HF_FILES["config.json"]))
        st = HF_FILES["model.safetensors"]
        self.assertEqual(sib["model.safetensors"]["lfs"]["sha256"], sha256(st))
        self.assertEqual(sib["model.safetensors"]["size"], len(st))
        d = call(self.u("/api/models/org/toy/revision/refs%2Fpr%2F1")).json()
        self.assertEqual(d["sha"], self.repo.commit)
        d = call(self.u("/api/models/org/toy?expand=sha&expand=private")).json()
        self.assertEqual(sorted(d), ["_id", "id", "private", "sha"])
        r = call(self.u("/api/models/org/toy/revision/nope"))
        self.assertEqual((r.status, r.headers["x-error-code"]), (404, "RevisionNotFound"))
        d = call(self.u("/api/models/org/toy/revision/" + self.repo.commit)).json()
        self.assertEqual(d["sha"], self.repo.commit)

    def test_tree_shapes_and_pagination(self):
        self.hub.hf_tree_page_size = 2
        url, entries, pages = self.u("/api/models/org/toy/tree/main?recursive=true&expand=false"), [], 0
        while url:
            r = call(url)
            pages += 1
            entries += r.json()
            m = re.match(r'<([^>]+)>; rel="next"', r.headers.get("link", ""))
            url = m.group(1) if m else None
            if url:
                self.assertTrue(url.startswith(self.hub.url + "/api/models/org/toy/tree/main?"))
                self.assertIn("cursor=", url)
                self.assertIn("recursive=true", url)
        self.assertEqual(pages, 3)  # 4 files + 2 directories
        by = {e["path"]: e for e in entries}
        self.assertEqual(sorted(by), sorted(list(HF_FILES) + ["sub", "sub/dir"]))
        self.assertEqual(by["sub"]["type"], "directory")
        cfg = by["config.json"]
        self.assertEqual((cfg["type"], cfg["oid"], cfg["size"]),
                         ("file", git_sha1(HF_FILES["config.json"]), len(HF_FILES["config.json"])))
        self.assertNotIn("lfs", cfg)
        st = HF_FILES["model.safetensors"]
        lfs = by["model.safetensors"]
        pointer = ("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n"
                   % (sha256(st), len(st))).encode()
        self.assertEqual(lfs["oid"], git_sha1(pointer))
        self.assertEqual(lfs["lfs"], {"oid": sha256(st), "size": len(st), "pointerSize": len(pointer)})
        self.assertIn("lfs", by["big.bin"])  # >= 1 MiB
        self.hub.hf_tree_page_size = 1000
        top = call(self.u("/api/models/org/toy/tree/main")).json()
        self.assertEqual(sorted(e["path"] for e in top), ["big.bin", "config.json", "model.safetensors", "sub"])
        sub = call(self.u("/api/models/org/toy/tree/main/sub%2Fdir")).json()
        self.assertEqual([e["path"] for e in sub], ["sub/dir/tok.json"])
        r = call(self.u("/api/models/org/toy/tree/main/nothing"))
        self.assertEqual((r.status, r.headers["x-error-code"]), (404, "EntryNotFound"))
        r = call(self.u("/api/models/org/toy/tree/nope"))
        self.assertEqual(r.headers["x-error-code"], "RevisionNotFound")

    def test_paths_info_and_refs(self):
        form = "paths=config.json&paths=sub&paths=missing&expand=false"
        r = call(self.u("/api/models/org/toy/paths-info/main"), "POST", body=form,
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual([(e["path"], e["type"]) for e in r.json()],
                         [("config.json", "file"), ("sub", "directory")])
        r = call(self.u("/api/models/org/toy/paths-info/main"), "POST",
                 body=json.dumps({"paths": ["model.safetensors"]}),
                 headers={"Content-Type": "application/json"})
        self.assertIn("lfs", r.json()[0])
        d = call(self.u("/api/models/org/toy/refs?include_prs=1")).json()
        self.assertEqual(d["branches"], [{"name": "main", "ref": "refs/heads/main",
                                          "targetCommit": self.repo.commit}])
        self.assertEqual([p["name"] for p in d["pullRequests"]], ["refs/pr/1"])

    def test_resolve_regular_file(self):
        url = self.u("/org/toy/resolve/main/config.json")
        r = call(url, "HEAD")
        self.assertEqual(r.status, 307)
        loc = r.headers["location"]
        self.assertTrue(loc.startswith("/api/resolve-cache/models/org/toy/%s/config.json?" % self.repo.commit), loc)
        self.assertIn("etag=%22" + git_sha1(HF_FILES["config.json"]) + "%22", loc)
        self.assertEqual(r.headers["x-repo-commit"], self.repo.commit)
        r = call(self.u(loc), "HEAD")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["etag"], '"%s"' % git_sha1(HF_FILES["config.json"]))
        self.assertEqual(r.headers["x-repo-commit"], self.repo.commit)
        self.assertEqual(r.headers["content-length"], str(len(HF_FILES["config.json"])))
        self.assertEqual(r.headers["accept-ranges"], "bytes")
        self.assertEqual(follow(self.hub, url).body, HF_FILES["config.json"])
        r = call(self.u(loc), headers={"Range": "bytes=2-5"})
        self.assertEqual((r.status, r.body), (206, HF_FILES["config.json"][2:6]))
        # the PR ref, quoted or not, and a nested path
        self.assertEqual(call(self.u("/org/toy/resolve/refs%2Fpr%2F1/config.json"), "HEAD").status, 307)
        self.assertEqual(follow(self.hub, self.u("/org/toy/resolve/main/sub/dir/tok.json")).body, b"{}")

    def test_resolve_lfs_file(self):
        st = HF_FILES["model.safetensors"]
        r = call(self.u("/org/toy/resolve/main/model.safetensors"), "HEAD")
        self.assertEqual(r.status, 302)
        self.assertTrue(r.headers["location"].startswith(self.hub.cdn_url + "/"))
        self.assertEqual(r.headers["x-linked-etag"], '"%s"' % sha256(st))
        self.assertEqual(r.headers["x-linked-size"], str(len(st)))
        self.assertEqual(r.headers["x-repo-commit"], self.repo.commit)
        self.assertNotEqual(r.headers["etag"].strip('"'), sha256(st))
        r = call(self.u("/org/toy/resolve/main/model.safetensors"))
        self.assertTrue(r.body.startswith(b"Found. Redirecting to http://localhost:"))
        cdn = r.headers["location"]
        r = call(cdn, headers={"Range": "bytes=100-"})
        self.assertEqual((r.status, r.body), (206, st[100:]))
        self.assertEqual(call(cdn, headers={"Range": "bytes=0-0"}).body, st[:1])
        r = call(cdn, headers={"Range": "bytes=999999-"})
        self.assertEqual((r.status, r.headers["content-range"]), (416, "bytes */%d" % len(st)))
        r = call(cdn, "HEAD")
        self.assertEqual((r.status, r.headers["etag"]), (200, '"%s"' % sha256(st)))

    def test_datasets_and_no_cdn(self):
        hub = Hub(cdn=False)
        self.addCleanup(hub.stop)
        hub.add_hf_repo("org/ds", type="dataset", files={"data/x.parquet": b"p" * 10,
                                                       "w.safetensors": b"s" * 20})
        r = call(hub.url + "/datasets/org/ds/resolve/main/w.safetensors")
        self.assertEqual((r.status, r.body), (200, b"s" * 20))
        self.assertEqual(r.headers["x-linked-etag"], '"%s"' % sha256(b"s" * 20))
        r = call(hub.url + "/datasets/org/ds/resolve/main/data/x.parquet", "HEAD")
        self.assertTrue(r.headers["location"].startswith("/api/resolve-cache/datasets/org/ds/"))
        self.assertEqual(call(hub.url + "/api/datasets/org/ds").json()["id"], "org/ds")
        self.assertEqual(call(hub.url + "/api/models/org/ds").status, 401)

    def test_errors(self):
        r = call(self.u("/org/nothing/resolve/main/x"))
        self.assertEqual((r.status, r.headers["x-error-code"]), (401, "RepoNotFound"))
        r = call(self.u("/api/models/org/nothing"), headers={"Authorization": "Bearer hf_goodtoken"})
        self.assertEqual((r.status, r.headers["x-error-code"]), (404, "RepoNotFound"))
        self.assertIn("error", r.json())
        r = call(self.u("/org/toy/resolve/main/missing.json"), "HEAD")
        self.assertEqual((r.status, r.headers["x-error-code"], r.headers["x-repo-commit"]),
                         (404, "EntryNotFound", self.repo.commit))
        self.assertEqual(r.headers["x-error-message"], "Entry not found")
        r = call(self.u("/org/toy/resolve/nope/config.json"), "HEAD")
        self.assertEqual(r.headers["x-error-code"], "RevisionNotFound")
        r = call(self.u("/api/models/org/toy"), headers={"Authorization": "Bearer hf_bad"})
        self.assertEqual((r.status, r.headers["x-error-message"]),
                         (401, "Invalid credentials in Authorization header"))
        self.hub.add_hf_repo("org/priv", files={"a.txt": b"a"}, private=True)
        r = call(self.u("/org/priv/resolve/main/a.txt"))
        self.assertEqual((r.status, r.headers["x-error-code"]), (401, "RepoNotFound"))
        r = follow(self.hub, self.u("/org/priv/resolve/main/a.txt"),
                   headers={"Authorization": "Bearer hf_goodtoken"})
        self.assertEqual(r.body, b"a")
        g = self.hub.add_hf_repo("org/gated", files={"a.txt": b"a"}, gated=True)
        self.assertEqual(call(self.u("/api/models/org/gated")).json()["gated"], "manual")
        r = call(self.u("/org/gated/resolve/main/a.txt"), "HEAD")
        self.assertEqual((r.status, r.headers["x-error-code"]), (401, "GatedRepo"))
        self.assertIn("Please log in", r.headers["x-error-message"])
        tok = {"Authorization": "Bearer hf_goodtoken"}
        r = call(self.u("/org/gated/resolve/main/a.txt"), "HEAD", headers=tok)
        self.assertEqual((r.status, r.headers["x-error-code"]), (403, "GatedRepo"))
        self.assertIn("authorized list", r.headers["x-error-message"])
        g.gated_allow.add("alice")
        self.assertEqual(follow(self.hub, self.u("/org/gated/resolve/main/a.txt"), headers=tok).body, b"a")

    def test_whoami(self):
        r = call(self.u("/api/whoami-v2"), headers={"Authorization": "Bearer hf_goodtoken"})
        self.assertEqual(r.json()["name"], "alice")
        self.assertEqual(call(self.u("/api/whoami-v2")).status, 401)

    def test_never_xet(self):
        for path, method in [("/org/toy/resolve/main/model.safetensors", "HEAD"),
                             ("/org/toy/resolve/main/big.bin", "GET"),
                             ("/org/toy/resolve/main/config.json", "HEAD"),
                             ("/api/models/org/toy/tree/main?recursive=true", "GET"),
                             ("/api/models/org/toy?blobs=true", "GET")]:
            r = follow(self.hub, self.u(path), method=method)
            text = (json.dumps(r.headers) + (r.body.decode("latin-1") if "api" in path else "")).lower()
            self.assertNotIn("xet", text, path)

    def test_sha_override_and_extra_entries(self):
        self.hub.add_hf_repo("org/bad", files={"w.safetensors": b"w" * 10},
                             sha256_override={"w.safetensors": "cd" * 32},
                             extra_tree_entries=[{"path": "../../evil", "size": 4}])
        r = call(self.u("/org/bad/resolve/main/w.safetensors"), "HEAD")
        self.assertEqual(r.headers["x-linked-etag"], '"%s"' % ("cd" * 32))
        tree = {e["path"]: e for e in call(self.u("/api/models/org/bad/tree/main?recursive=1")).json()}
        self.assertEqual(tree["w.safetensors"]["lfs"]["oid"], "cd" * 32)
        self.assertEqual((tree["../../evil"]["type"], tree["../../evil"]["size"]), ("file", 4))


class Faults(unittest.TestCase):
    def setUp(self):
        self.hub = Hub(cdn=True)
        self.addCleanup(self.hub.stop)
        self.repo = self.hub.add_ms_repo("acme/f", files={"a.bin": BIG, "c.json": b"{}"})
        self.hf = self.hub.add_hf_repo("org/f", files={"a.safetensors": BIG, "c.json": b"{}"})
        self.listing = self.hub.url + "/api/v1/models/acme/f/repo/files?Revision=master&Recursive=True"

    def get(self, loc):
        """GET loc on a connection of its own: (connection, response), the body unread."""
        u = urllib.parse.urlsplit(loc)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
        c.request("GET", u.path + "?" + u.query)
        return c, c.getresponse()

    def cdn(self, path="a.bin"):
        r = call("%s/api/v1/models/acme/f/repo?Revision=master&FilePath=%s" % (self.hub.url, path))
        return r.headers["location"]

    def test_status(self):
        f = self.hub.fault("status", code=503, headers={"Retry-After": "1"}, path="/repo/files")
        r = call(self.listing)
        self.assertEqual((r.status, r.headers["retry-after"]), (503, "1"))
        self.assertEqual(call(self.listing).status, 200)   # times=1
        self.assertEqual(f.fired, 1)
        # on a file GET (matched by its FilePath) and on a HF resolve HEAD
        self.hub.fault("status", code=500, path="a.bin", server="hub")
        self.assertEqual(call("%s/api/v1/models/acme/f/repo?Revision=master&FilePath=a.bin"
                              % self.hub.url).status, 500)
        self.hub.fault("status", code=429, headers={"RateLimit": '"resolvers";r=0;t=1'},
                       path="a.safetensors", method="HEAD", times=None)
        for _ in range(2):
            r = call(self.hub.url + "/org/f/resolve/main/a.safetensors", "HEAD")
            self.assertEqual((r.status, r.headers["ratelimit"]), (429, '"resolvers";r=0;t=1'))
        self.assertEqual(call(self.hub.url + "/org/f/resolve/main/a.safetensors").status, 302)

    def test_times_count_only_matching_requests(self):
        f = self.hub.fault("status", code=502, times=2, server="cdn")
        self.assertEqual(call(self.listing).status, 200)   # the hub: not counted
        loc = self.cdn()
        self.assertEqual([call(loc).status for _ in range(3)], [502, 502, 200])
        self.assertEqual(f.fired, 2)
        self.assertTrue(f.exhausted)

    def test_disconnect(self):
        self.hub.fault("disconnect", path="a.bin", after=1000)
        loc = self.cdn()
        c, r = self.get(loc)
        self.assertEqual(r.getheader("Content-Length"), str(len(BIG)))  # the full length
        with self.assertRaises(http.client.IncompleteRead) as cm:
            r.read()
        self.assertEqual(len(cm.exception.partial), 1000)
        c.close()
        self.assertEqual(call(loc).body, BIG)
        q = [q for q in self.hub.log if q.server == "cdn"]
        self.assertEqual((q[0].body_bytes, q[0].faults), (1000, ["disconnect"]))

    def test_ignore_range(self):
        self.hub.fault("ignore_range", path="a.bin")
        loc = self.cdn()
        self.assertEqual(call(loc).status, 200)             # no Range: not consumed
        r = call(loc, headers={"Range": "bytes=100-"})
        self.assertEqual((r.status, r.body), (200, BIG))
        r = call(loc, headers={"Range": "bytes=100-"})
        self.assertEqual((r.status, r.body), (206, BIG[100:]))

    def test_bad_content_range(self):
        self.hub.fault("bad_content_range", path="a.bin")
        r = call(self.cdn(), headers={"Range": "bytes=1000-1999"})
        self.assertEqual((r.status, r.body), (206, BIG[1000:2000]))
        self.assertEqual(r.headers["content-range"], "bytes 1007-1999/300000")

    def test_corrupt(self):
        self.hub.fault("corrupt", path="a.bin")
        body = call(self.cdn()).body
        self.assertEqual(len(body), len(BIG))
        self.assertEqual(sum(1 for x, y in zip(body, BIG) if x != y), 1)
        self.assertEqual(call(self.cdn()).body, BIG)

    def test_corrupt_file_ref(self):
        with tempfile.NamedTemporaryFile() as t:
            t.write(BIG)
            t.flush()
            ref = FileRef(t.name)
            self.hub.add_ms_repo("acme/disk", files={"d.bin": ref})
            url = "%s/api/v1/models/acme/disk/repo?Revision=master&FilePath=d.bin" % self.hub.url
            self.assertEqual(follow(self.hub, url).body, BIG)   # sendfile
            self.assertEqual(ref.sha256, sha256(BIG))
            self.hub.fault("corrupt", path="d.bin", at=5)
            body = follow(self.hub, url).body
            self.assertEqual((body[5], body[:5] + body[6:]), (BIG[5] ^ 0xFF, BIG[:5] + BIG[6:]))
            self.assertEqual(follow(self.hub, url, headers={"Range": "bytes=7-"}).body, BIG[7:])

    def test_trickle(self):
        self.hub.fault("trickle", path="a.bin", rate=1_000_000)
        t0 = time.monotonic()
        self.assertEqual(call(self.cdn()).body, BIG)
        self.assertGreater(time.monotonic() - t0, 0.25)     # 300 KB at 1 MB/s
        self.hub.fault("trickle", path="c.json", rate=20)   # tiny pieces at a low rate
        t0 = time.monotonic()
        self.assertEqual(call(self.cdn("c.json")).body, b"{}")
        self.assertGreater(time.monotonic() - t0, 0.08)

    def test_stall(self):
        self.hub.fault("stall", path="a.bin", after=500, seconds=0.6)
        loc = self.cdn()
        t0 = time.monotonic()
        c, r = self.get(loc)
        with self.assertRaises(http.client.IncompleteRead) as cm:
            r.read()
        self.assertEqual(len(cm.exception.partial), 500)
        self.assertGreater(time.monotonic() - t0, 0.55)
        c.close()

    def test_malformed_and_oversized_json(self):
        self.hub.fault("malformed_json", path="/repo/files")
        r = call(self.listing)
        self.assertEqual(r.status, 200)
        with self.assertRaises(ValueError):
            json.loads(r.body)
        self.hub.fault("oversized_json", path="/tree/", mb=2)
        r = call(self.hub.url + "/api/models/org/f/tree/main")
        self.assertGreater(len(r.body), 2_000_000)
        self.assertIsInstance(json.loads(r.body), list)
        self.hub.fault("oversized_json", path="/repo/files", mb=1)
        self.assertGreater(len(json.loads(call(self.listing).body)["Data"]["Pad"]), 999_999)

    def raw(self, url, at_least=None):
        """Send a GET on a raw socket: the socket, or (at_least) the first that many
        bytes of the answer, the socket closed."""
        u = urllib.parse.urlsplit(url)
        s = socket.create_connection((u.hostname, u.port), timeout=5)
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" %
                  (u.path + ("?" + u.query if u.query else "")).encode())
        if at_least is None:
            return s
        got = b""
        while len(got) < at_least:
            got += s.recv(65536)
        s.close()
        return got

    def test_hang(self):
        self.hub.fault("hang", path="/repo/files", seconds=0.5)
        s = self.raw(self.listing)
        t0 = time.monotonic()
        self.assertEqual(s.recv(100), b"")                  # nothing, then the close
        self.assertGreater(time.monotonic() - t0, 0.45)
        s.close()
        self.assertEqual(call(self.listing).status, 200)

    def test_endless_headers(self):
        for line in (False, True):
            self.hub.fault("endless_headers", path="/repo/files", line=line)
            got = self.raw(self.listing, 2_000_000)
            self.assertTrue(got.startswith(b"HTTP/1.1 200 OK\r\n"))
            self.assertNotIn(b"\r\n\r\n", got)              # the headers never end
            self.assertEqual(got.count(b"\r\n") > 1000, not line)

    def test_lying_length(self):
        self.hub.fault("lying_length", path="a.bin", length=10_000_000)
        loc = self.cdn()
        c, r = self.get(loc)
        self.assertEqual(r.getheader("Content-Length"), "10000000")
        body = r.read(len(BIG) + 1000)
        self.assertEqual(body, BIG + b"\0" * 1000)         # the bytes, then zeros
        c.close()
        self.assertEqual(call(loc).body, BIG)

    def test_endless_json(self):
        self.hub.fault("oversized_json", path="/repo/files", endless=True)
        got = self.raw(self.listing, 3_000_000)
        self.assertIn(b"Transfer-Encoding: chunked", got)
        self.assertIn(b'"Path": "pad"', got[-100_000:])

    def test_body_faults_on_a_listing(self):
        self.hub.fault("disconnect", path="/repo/files", after=10)
        with self.assertRaises(http.client.IncompleteRead):
            call(self.listing)

    def test_expire_cdn(self):
        self.hub.fault("expire_cdn", path="a.bin", after=1000, times=None)
        loc = self.cdn()
        self.assertEqual(call(loc, headers={"Range": "bytes=0-999"}).status, 206)
        r = call(loc, headers={"Range": "bytes=1000-"})
        self.assertEqual(r.status, 403)
        self.assertIn(b"<Code>AccessDenied</Code>", r.body)
        self.hub.clear_faults()
        self.assertEqual(call(loc, headers={"Range": "bytes=1000-"}).status, 206)

    def test_no_repo_commit(self):
        self.hub.fault("no_repo_commit", times=None)
        r = call(self.hub.url + "/org/f/resolve/main/a.safetensors", "HEAD")
        self.assertNotIn("x-repo-commit", r.headers)
        self.assertIn("x-linked-etag", r.headers)
        r = follow(self.hub, self.hub.url + "/org/f/resolve/main/c.json", method="HEAD")
        self.assertEqual(r.status, 200)
        self.assertNotIn("x-repo-commit", r.headers)

    def test_unknown_kind(self):
        with self.assertRaises(ValueError):
            self.hub.fault("explode")


class LogAndServer(unittest.TestCase):
    def setUp(self):
        self.hub = Hub(cdn=True)
        self.addCleanup(self.hub.stop)
        self.hub.add_ms_repo("acme/l", files={"d/a b.bin": BIG, "c.json": b"{}"})

    def test_log_records(self):
        url = "%s/api/v1/models/acme/l/repo?Revision=master&FilePath=d%%2Fa+b.bin" % self.hub.url
        follow(self.hub, url, headers={"Range": "bytes=0-99", "Authorization": "Bearer x"})
        hub_q, cdn_q = self.hub.log
        self.assertEqual((hub_q.server, hub_q.method, hub_q.path, hub_q.status),
                         ("hub", "GET", "/api/v1/models/acme/l/repo", 302))
        self.assertEqual(hub_q.query, {"Revision": ["master"], "FilePath": ["d/a b.bin"]})
        self.assertTrue(hub_q.raw_path.endswith("FilePath=d%2Fa+b.bin"))
        self.assertEqual(hub_q.headers["authorization"], "Bearer x")
        self.assertEqual((hub_q.file_path, hub_q.body_bytes), ("d/a b.bin", 0))
        self.assertEqual((cdn_q.server, cdn_q.status, cdn_q.range, cdn_q.body_bytes),
                         ("cdn", 206, "bytes=0-99", 100))
        self.assertTrue(cdn_q.path.endswith("/d/a b.bin"))   # decoded
        self.assertNotIn("authorization", cdn_q.headers)
        self.assertEqual(self.hub.body_bytes(), 100)
        self.assertEqual(self.hub.body_bytes("d/a b.bin"), 100)
        self.assertEqual(self.hub.body_bytes("c.json"), 0)
        call(self.hub.url + "/api/v1/models/acme/l/repo/files?Recursive=True")
        self.assertEqual(self.hub.body_bytes(), 100)         # listings are not file bodies
        self.assertGreater(self.hub.log[-1].response_bytes, 0)
        self.hub.clear_log()
        self.assertEqual((self.hub.log, self.hub.body_bytes()), ([], 0))

    def test_keep_alive(self):
        u = urllib.parse.urlsplit(self.hub.url)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
        for _ in range(3):
            c.request("GET", "/api/v1/models/acme/l/repo/files?Recursive=True")
            r = c.getresponse()
            self.assertEqual(r.version, 11)
            self.assertIsNotNone(r.getheader("Content-Length"))
            r.read()
            c.request("HEAD", "/api/v1/models/acme/l")
            r = c.getresponse()
            r.read()
        c.close()
        self.assertEqual(len({id(q) for q in self.hub.log}), 6)

    def test_client_hangs_up_quietly(self):
        old, sys.stderr = sys.stderr, io.StringIO()
        try:
            hub = Hub(cdn=False)
            hub.add_ms_repo("acme/big", files={"w.bin": blob(8_000_000, 9)})
            s = socket.create_connection(("127.0.0.1", int(hub.url.rsplit(":", 1)[1])))
            s.sendall(b"GET /api/v1/models/acme/big/repo?Revision=master&FilePath=w.bin HTTP/1.1\r\n"
                      b"Host: x\r\n\r\n")
            s.recv(1000)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
            time.sleep(0.3)
            hub.stop()
            err = sys.stderr.getvalue()
        finally:
            sys.stderr = old
        self.assertEqual(err, "")

    def test_stop_cuts_a_stall(self):
        hub = Hub(cdn=False)
        hub.add_ms_repo("acme/s", files={"w.bin": BIG})
        hub.fault("stall", after=10, seconds=30)
        u = urllib.parse.urlsplit(hub.url)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        c.request("GET", "/api/v1/models/acme/s/repo?Revision=master&FilePath=w.bin")
        r = c.getresponse()
        t0 = time.monotonic()
        hub.stop()
        with self.assertRaises((http.client.IncompleteRead, ConnectionError)):
            r.read()
        self.assertLess(time.monotonic() - t0, 3)
        c.close()


class CLI(unittest.TestCase):
    def start(self, *args):
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "hubemu.py")] + list(args),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(p.stderr.close)
        self.addCleanup(p.stdout.close)
        self.addCleanup(p.wait)
        self.addCleanup(p.kill)
        out = {}
        for _ in range(2):
            line = p.stdout.readline()
            k, _, v = line.strip().partition("=")
            out[k] = v
            if "--no-cdn" in args:
                break
        return p, out

    def test_sample_and_sigterm(self):
        p, out = self.start("--sample")
        self.assertRegex(out["HUBEMU_URL"], r"^http://127\.0\.0\.1:\d+$")
        self.assertRegex(out["HUBEMU_CDN"], r"^http://localhost:\d+$")
        files = call(out["HUBEMU_URL"] + "/api/v1/models/mscli-demo/tiny-model/repo/files"
                     "?Revision=master&Recursive=True").json()["Data"]["Files"]
        sample = hubemu._sample_files()
        self.assertEqual(sorted(f["Path"] for f in files), sorted(sample))
        self.assertGreater(len(sample["model.safetensors"]), 3_000_000)
        body = follow(None, out["HUBEMU_URL"] + "/mscli-demo/tiny-model/resolve/main/model.safetensors").body
        self.assertEqual(body, sample["model.safetensors"])
        self.assertEqual(call(out["HUBEMU_URL"] + "/api/datasets/mscli-demo/tiny-dataset").status, 200)
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(5), 0)
        self.assertEqual(p.stderr.read(), "")

    def test_serve_dir_and_cdn_base(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "sub"))
            with open(os.path.join(d, "sub", "w.bin"), "wb") as f:
                f.write(b"weights")
            p, out = self.start("--serve-dir", d, "--repo", "bench/m", "--hub", "ms",
                                "--cdn-base", "http://127.0.0.1:9/root")
            url = out["HUBEMU_URL"] + "/api/v1/models/bench/m/repo?Revision=master&FilePath=sub%2Fw.bin"
            r = call(url)
            self.assertEqual((r.status, r.headers["location"]), (302, "http://127.0.0.1:9/root/sub/w.bin"))
            files = call(out["HUBEMU_URL"] + "/api/v1/models/bench/m/repo/files?Recursive=True"
                         ).json()["Data"]["Files"]
            self.assertEqual([f["Sha256"] for f in files if f["Type"] == "blob"], [sha256(b"weights")])
            p.send_signal(signal.SIGINT)
            self.assertEqual(p.wait(5), 0)


if __name__ == "__main__":
    unittest.main()
