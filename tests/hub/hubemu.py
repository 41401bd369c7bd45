#!/usr/bin/env python3
"""A loopback emulator of the ModelScope and Hugging Face hubs, for tests.

Standard library only.  Faithful to ../../../shared/reference notes
(modelscope-protocol.md §2 and §8, hf-protocol.md §1 and §9.1): the real
endpoints, envelopes, headers and redirects the official clients rely on,
plus scriptable faults (disconnects, ignored Range, 429/503 with
Retry-After, corrupt bytes, stalls, expiring CDN URLs, bad JSON).

Two servers: the hub (http://127.0.0.1:P1) and a "CDN" on another host
name (http://localhost:P2) that the hub redirects file downloads to, so a
client must drop its credentials on the way.

    from hubemu import Hub, FileRef
    with Hub() as hub:
        hub.add_ms_repo("owner/name", files={"config.json": b"{}"})
        hub.fault("disconnect", path="config.json", after=1)
        ... run a client against hub.url ...
        hub.log, hub.body_bytes("config.json")

Run it as a program for `make demo` and the benchmark (see --help).
"""
import argparse
import base64
import hashlib
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_TOKENS = {"ms-goodtoken": "alice", "hf_goodtoken": "alice"}


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _git_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _commit_for(seed):
    return hashlib.sha1(seed.encode()).hexdigest()


class FileRef:
    """A repo file whose bytes live on disk (served with sendfile)."""

    def __init__(self, path, size=None, sha256=None):
        self.path = os.path.abspath(path)
        self._size = size
        self._sha256 = sha256
        self._sha1 = None

    @property
    def size(self):
        if self._size is None:
            self._size = os.path.getsize(self.path)
        return self._size

    def _hash(self):
        h256, h1 = hashlib.sha256(), hashlib.sha1(b"blob %d\0" % self.size)
        with open(self.path, "rb") as f:
            while True:
                b = f.read(1 << 22)
                if not b:
                    break
                h256.update(b)
                h1.update(b)
        self._sha256 = self._sha256 or h256.hexdigest()
        self._sha1 = h1.hexdigest()

    @property
    def sha256(self):
        if self._sha256 is None:
            self._hash()
        return self._sha256

    @property
    def git_sha1(self):
        if self._sha1 is None:
            self._hash()
        return self._sha1

    def read(self, start, end):
        with open(self.path, "rb") as f:
            f.seek(start)
            return f.read(end - start)


class _Bytes:
    def __init__(self, data):
        self.data = data
        self.size = len(data)
        self.sha256 = _sha256(data)
        self.git_sha1 = _git_sha1(data)

    def read(self, start, end):
        return self.data[start:end]


def _content(v):
    return v if isinstance(v, FileRef) else _Bytes(v)


class Request:
    """One request as the emulator saw it."""

    def __init__(self, server, method, raw_path, headers):
        self.server = server
        self.method = method
        self.raw_path = raw_path
        u = urllib.parse.urlsplit(raw_path)
        self.path = urllib.parse.unquote(u.path)
        self.query = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.range = self.headers.get("range")
        self.status = None
        self.body_bytes = 0      # content bytes of a repo file actually written
        self.file_path = None    # the repo file this request served, if any
        self.time = time.time()  # when it arrived
        self.end = None          # when the answer was complete

    def __repr__(self):
        return "<%s %s %s -> %s>" % (self.server, self.method, self.raw_path, self.status)


class Fault:
    def __init__(self, kind, times, path, server, method, params):
        self.kind, self.times, self.path = kind, times, path
        self.server, self.method, self.params = server, method, params
        self.fired = 0

    def matches(self, req, kind):
        if kind != self.kind or (self.times is not None and self.fired >= self.times):
            return False
        if self.server and self.server != req.server:
            return False
        if self.method and self.method != req.method:
            return False
        if self.path and self.path not in req.path and self.path not in (req.file_path or ""):
            return False
        return True


class Repo:
    def __init__(self, hub, kind, repo_id, rtype, files, revision="master", tags=None,
                 branches=None, private=False, gated=False, extra_entries=None,
                 sha256_override=None, lfs=None, extra_tree_entries=None):
        self.hub_kind = kind                    # "ms" or "hf"
        self.id = repo_id
        self.type = rtype                       # "model" or "dataset"
        self.files = {p: _content(v) for p, v in files.items()}
        self.private = private
        self.gated = gated
        self.gated_allow = set()
        self.extra_entries = list(extra_entries or [])
        self.extra_tree_entries = list(extra_tree_entries or [])
        self.sha256_override = dict(sha256_override or {})
        self.numeric_id = 1000 + len(hub.repos)
        self.commit = _commit_for("%s:%s:%s" % (kind, rtype, repo_id))
        self.default_branch = revision
        self.branches = {revision: self.commit}
        for b in (branches or {}):
            self.branches[b] = self.commit
        self.tags = {t: self.commit for t in (tags or {})}
        self.created_at = 1726842501
        self.lfs_rule = lfs or (lambda path, size: size >= 1024 * 1024 or
                                path.endswith((".safetensors", ".bin", ".gguf", ".pt")))

    # per-file commit id (ModelScope "Revision" of a file)
    def file_commit(self, path):
        return _commit_for("%s@%s" % (self.commit, path))

    def resolve(self, rev):
        if rev in self.branches:
            return self.branches[rev]
        if rev in self.tags:
            return self.tags[rev]
        if re.fullmatch(r"[0-9a-f]{40}", rev or "") and rev == self.commit:
            return rev
        return None

    def dirs(self):
        out = set()
        for p in self.files:
            parts = p.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                out.add("/".join(parts[:i]))
        return sorted(out)

    def is_lfs(self, path):
        return self.lfs_rule(path, self.files[path].size)


def _lfs_pointer(sha, size):
    return ("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n" % (sha, size)).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # clients that hang up mid-body are normal here
        if os.environ.get("HUBEMU_DEBUG"):
            super().handle_error(request, client_address)


class _Abort(Exception):
    """Stop handling: the connection was closed on purpose."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hubemu/1.0"

    def log_message(self, fmt, *args):
        if os.environ.get("HUBEMU_DEBUG"):
            sys.stderr.write("hubemu: " + (fmt % args) + "\n")

    # --- plumbing ---
    @property
    def hub(self):
        return self.server.hub

    def _start(self):
        self.req = Request(self.server.role, self.command, self.path, self.headers)
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        # logged at once, so body_bytes() sees a transfer while it is running
        with self.hub.lock:
            self.hub.log.append(self.req)

    def _finish(self):
        self.req.end = time.time()

    def do_GET(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def _dispatch(self):
        self._start()
        try:
            f = self.hub._take_fault(self.req, "status")
            if f:
                hdrs = dict(f.params.get("headers") or {})
                body = f.params.get("body", "injected failure %d" % f.params.get("code", 503))
                self.send_text(f.params.get("code", 503), body, hdrs)
            elif self.server.role == "cdn":
                self.route_cdn()
            else:
                self.route_hub()
        except _Abort:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            self._finish()

    def send_raw(self, status, headers, body=b""):
        self.req.status = status
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, str(v))
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-Id", uuid.uuid4().hex)
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def send_text(self, status, text, headers=None):
        h = {"Content-Type": "text/plain; charset=utf-8"}
        h.update(headers or {})
        self.send_raw(status, h, text.encode() if isinstance(text, str) else text)

    def send_json(self, status, obj, headers=None):
        h = {"Content-Type": "application/json; charset=utf-8"}
        h.update(headers or {})
        if self.hub._take_fault(self.req, "malformed_json"):
            return self.send_raw(200, h, b'{"Code": 200, "Success": true, "Data": {"Files": [{"Pa')
        f = self.hub._take_fault(self.req, "oversized_json")
        if f:
            return self._send_oversized(h, f.params.get("mb", 80))
        self.send_raw(status, h, json.dumps(obj).encode())

    def _send_oversized(self, h, mb):
        head, tail = b'{"Code": 200, "Success": true, "Data": {"Files": [], "Pad": "', b'"}}'
        pad = mb * 1000 * 1000
        self.req.status = 200
        self.send_response(200)
        for k, v in h.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(head) + pad + len(tail)))
        self.end_headers()
        if self.command == "HEAD":
            return
        self.wfile.write(head)
        chunk = b"x" * (1 << 20)
        left = pad
        while left:
            n = min(left, len(chunk))
            self.wfile.write(chunk[:n])
            left -= n
        self.wfile.write(tail)

    # --- auth ---
    def token(self):
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == "m_session_id":
                return v
        return None

    def user(self):
        tok = self.token()
        return self.hub.tokens.get(tok) if tok else None

    # --- files with Range and faults ---
    def serve_file(self, repo, path, headers=None, content=None):
        """200/206/416 for a repo file, applying the body faults that match."""
        c = content or repo.files[path]
        self.req.file_path = path
        h = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
        h.update(headers or {})
        hub, req = self.hub, self.req
        if req.server == "cdn":
            f = hub._take_fault(req, "expire_cdn", start=self._range_start(c.size))
            if f:
                return self.send_raw(403, {"Content-Type": "application/xml"},
                                     b"<?xml version='1.0'?><Error><Code>AccessDenied</Code>"
                                     b"<Message>Request has expired</Message></Error>")
        rng = None if hub._take_fault(req, "ignore_range") else self._parse_range(c.size)
        if rng == "bad":
            return self.send_raw(416, {"Content-Range": "bytes */%d" % c.size})
        if rng:
            start, end = rng
            status = 206
            cr_start = start
            if hub._take_fault(req, "bad_content_range"):
                cr_start = start + 7 if start + 7 <= end else max(0, start - 7)
            h["Content-Range"] = "bytes %d-%d/%d" % (cr_start, end - 1, c.size)
        else:
            start, end, status = 0, c.size, 200
        h["Content-Length"] = str(end - start)
        req.status = status
        self.send_response(status)
        for k, v in h.items():
            self.send_header(k, str(v))
        self.end_headers()
        if self.command == "HEAD":
            return
        self._write_body(c, start, end)

    def _range_start(self, size):
        r = self._parse_range(size)
        return r[0] if isinstance(r, tuple) else 0

    def _parse_range(self, size):
        v = self.headers.get("Range")
        if not v:
            return None
        m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", v)
        if not m or (not m.group(1) and not m.group(2)):
            return None
        if not m.group(1):  # suffix range
            n = int(m.group(2))
            return (max(0, size - n), size) if n else "bad"
        start = int(m.group(1))
        end = int(m.group(2)) + 1 if m.group(2) else size
        end = min(end, size)
        if start >= size or end <= start:
            return "bad"
        return start, end

    def _write_body(self, c, start, end):
        hub, req = self.hub, self.req
        disc = hub._take_fault(req, "disconnect")
        stall = hub._take_fault(req, "stall")
        corrupt = hub._take_fault(req, "corrupt")
        trickle = hub._take_fault(req, "trickle")
        limit = end - start
        if disc:
            limit = min(limit, disc.params.get("after", 0))
        if stall:
            limit = min(limit, stall.params.get("after", 0))
        plain = not (corrupt or trickle) and isinstance(c, FileRef)
        pos = start
        if plain and limit:
            with open(c.path, "rb") as fh:
                sent = 0
                while sent < limit:
                    n = self.connection.sendfile(fh, offset=pos + sent, count=limit - sent)
                    if not n:
                        break
                    sent += n
                    req.body_bytes += n
            pos += sent
        else:
            piece = 16384 if trickle else 1 << 20
            flip_at = start + (end - start) // 2
            while pos < start + limit:
                n = min(piece, start + limit - pos)
                data = c.read(pos, pos + n)
                if corrupt and pos <= flip_at < pos + n:
                    b = bytearray(data)
                    b[flip_at - pos] ^= 0xFF
                    data = bytes(b)
                self.wfile.write(data)
                req.body_bytes += len(data)
                pos += n
                if trickle:
                    time.sleep(n / float(trickle.params.get("rate", 100000)))
        if stall:
            time.sleep(stall.params.get("seconds", 30))
        if disc or stall:
            self._hangup()

    def _hangup(self):
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise _Abort()

    # --- CDN ---
    def route_cdn(self):
        # /f/<opaque>/<path>?Expires=..&Signature=..
        parts = self.req.path.split("/", 3)
        if len(parts) < 4 or parts[1] != "f" or parts[2] not in self.hub.cdn_objects:
            return self.send_text(404, "NoSuchKey")
        repo, path = self.hub.cdn_objects[parts[2]]
        if path not in repo.files:
            return self.send_text(404, "NoSuchKey")
        etag = repo.files[path].sha256
        self.serve_file(repo, path, {"ETag": '"%s"' % etag, "Cache-Control": "public, max-age=31536000"})

    def cdn_url(self, repo, path):
        hub = self.hub
        if hub.cdn_base:
            return "%s/%s" % (hub.cdn_base, urllib.parse.quote(path))
        key = hub._cdn_key(repo, path)
        return "%s/f/%s/%s?Expires=%d&Signature=%s" % (
            hub.cdn_url, key, urllib.parse.quote(path), int(time.time()) + 3600,
            hashlib.sha256(("%s%s" % (key, path)).encode()).hexdigest()[:32])

    # --- hub routing ---
    def route_hub(self):
        p = self.req.path
        if p.startswith("/api/v1/") or p.startswith("/openapi/v1/"):
            return self.route_ms()
        if p == "/api/whoami-v2":
            u = self.user()
            if not u:
                return self.send_json(401, {"error": "Invalid user token."})
            return self.send_json(200, {"type": "user", "id": "u1", "name": u, "fullname": u,
                                        "email": u + "@example.com", "orgs": [],
                                        "auth": {"type": "access_token",
                                                 "accessToken": {"displayName": "t", "role": "read"}}})
        if p.startswith("/api/resolve-cache/"):
            return self.hf_resolve_cache()
        if p.startswith("/api/"):
            return self.route_hf_api()
        if "/resolve/" in p:
            return self.hf_resolve()
        return self.send_text(404, "Not Found")

    # ===================== ModelScope =====================
    def ms_envelope(self, status, data=None, message="success", code=None):
        body = {"Code": code if code is not None else status, "Success": status == 200,
                "Message": message, "RequestId": uuid.uuid4().hex}
        if data is not None:
            body["Data"] = data
        return self.send_json(status, body)

    def ms_repo(self, rtype, owner, name, by_id=False):
        """The repo and an error already sent (None) when access fails."""
        hub = self.hub
        repo = None
        if by_id:
            repo = next((r for r in hub.repos.values() if r.hub_kind == "ms" and
                         str(r.numeric_id) == owner and r.type == rtype), None)
        else:
            repo = hub.repos.get(("ms", rtype, "%s/%s" % (owner, name)))
        if repo is None:
            self.ms_envelope(404, message="模型不存在" if rtype == "model" else "数据集不存在")
            return None
        if repo.private:
            tok = self.token()
            if not tok:
                self.ms_envelope(401, message="用户未登录")
                return None
            if tok not in hub.tokens:
                self.ms_envelope(403, message="the token does not exist or is invalid")
                return None
        return repo

    def ms_entry(self, repo, path):
        c = repo.files[path]
        return {"CommitMessage": "upload", "CommittedDate": repo.created_at,
                "CommitterName": "emu", "InCheck": False, "IsLFS": repo.is_lfs(path),
                "Mode": "33188", "Name": path.rsplit("/", 1)[-1], "Path": path,
                "Revision": repo.file_commit(path),
                "Sha256": repo.sha256_override.get(path, c.sha256), "Size": c.size,
                "Type": "blob"}

    def ms_entries(self, repo, root="", recursive=True):
        out = []
        root = root.strip("/")
        for d in repo.dirs():
            if root and not (d + "/").startswith(root + "/"):
                continue
            if not recursive and d.count("/") != (root.count("/") + 1 if root else 0):
                continue
            out.append({"Name": d.rsplit("/", 1)[-1], "Path": d, "Type": "tree", "Size": 0,
                        "Revision": repo.commit, "Sha256": None, "IsLFS": False})
        for p in sorted(repo.files):
            if root and not p.startswith(root + "/"):
                continue
            if not recursive and p.count("/") != (root.count("/") + 1 if root else 0):
                continue
            out.append(self.ms_entry(repo, p))
        out.extend(repo.extra_entries)
        return out

    def route_ms(self):
        q = self.req.query
        p = self.req.path
        seg = p.strip("/").split("/")
        if p == "/api/v1/login" and self.command == "POST":
            try:
                tok = json.loads(self.body or b"{}").get("AccessToken")
            except ValueError:
                tok = None
            u = self.hub.tokens.get(tok)
            if not u:
                return self.ms_envelope(401, message="invalid token")
            exp = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30 * 86400))
            body = {"Code": 200, "Success": True, "Message": "success", "RequestId": uuid.uuid4().hex,
                    "Data": {"AccessToken": "git-" + tok, "Username": u, "Email": u + "@example.com"}}
            return self.send_json(200, body, {"Set-Cookie": "m_session_id=%s; Path=/; Expires=%s" % (tok, exp)})
        if p == "/openapi/v1/users/me":
            u = self.user()
            if not u:
                return self.send_json(401, {"success": False, "code": "Unauthorized",
                                            "message": "not logged in", "request_id": uuid.uuid4().hex})
            return self.send_json(200, {"success": True, "request_id": uuid.uuid4().hex,
                                        "data": {"id": 1, "username": u, "email": u + "@example.com"}})
        if p == "/api/v1/repos/internalAccelerationInfo":
            return self.ms_envelope(404, message="not found")
        # /openapi/v1/{models|datasets}/{o}/{n}
        if seg[:2] == ["openapi", "v1"] and len(seg) == 5 and seg[2] in ("models", "datasets"):
            rtype = seg[2][:-1]
            repo = self.hub.repos.get(("ms", rtype, "%s/%s" % (seg[3], seg[4])))
            if repo is None or (repo.private and not self.user()):
                return self.send_json(404, {"success": False, "code": "NotFound",
                                            "message": "not found", "request_id": uuid.uuid4().hex})
            return self.send_json(200, {"success": True, "request_id": uuid.uuid4().hex,
                                        "data": {"id": repo.id, "private": repo.private,
                                                 "downloads": 0, "likes": 0, "tags": []}})
        if seg[:2] != ["api", "v1"] or len(seg) < 4 or seg[2] not in ("models", "datasets"):
            return self.ms_envelope(404, message="no such endpoint")
        rtype = seg[2][:-1]
        # dataset tree by numeric id: /api/v1/datasets/{Id}/repo/tree
        if rtype == "dataset" and seg[3].isdigit() and seg[4:6] == ["repo", "tree"]:
            repo = self.ms_repo(rtype, seg[3], None, by_id=True)
            return repo and self.ms_tree(repo)
        if len(seg) < 5:
            return self.ms_envelope(404, message="no such endpoint")
        repo = self.ms_repo(rtype, seg[3], seg[4])
        if repo is None:
            return
        rest = seg[5:]
        if not rest:
            info = {"Id": repo.numeric_id, "Name": seg[4], "Path": seg[3], "Owner": seg[3],
                    "Visibility": 1 if repo.private else 5, "License": "Apache License 2.0",
                    "Downloads": 0, "Description": "", "Tags": [], "ChineseName": "",
                    "Revision": repo.default_branch, "CreatedTime": repo.created_at,
                    "LastUpdatedTime": repo.created_at}
            if rtype == "dataset":
                info["Type"] = 2
            return self.ms_envelope(200, info)
        if rest == ["revisions"]:
            tags = sorted(repo.tags, reverse=True)
            return self.ms_envelope(200, {"RevisionMap": {
                "Branches": [{"Revision": b, "CreatedAt": repo.created_at, "CommitId": c}
                             for b, c in repo.branches.items()],
                "Tags": [{"Revision": t, "CreatedAt": repo.created_at + 100 + i}
                         for i, t in enumerate(tags)]}})
        if rest == ["repo", "files"]:
            rev = (q.get("Revision") or [repo.default_branch])[0] or repo.default_branch
            if repo.resolve(rev) is None:
                return self.ms_envelope(404, message="Revision %s not found" % rev)
            recursive = (q.get("Recursive") or ["False"])[0].lower() in ("true", "1")
            root = (q.get("Root") or [""])[0]
            return self.ms_envelope(200, {"Files": self.ms_entries(repo, root, recursive)})
        if rest == ["repo", "tree"]:
            return self.ms_tree(repo)
        if rest == ["repo"]:
            rev = (q.get("Revision") or [repo.default_branch])[0] or repo.default_branch
            path = (q.get("FilePath") or [""])[0]
            self.req.file_path = path
            if repo.resolve(rev) is None:
                return self.ms_envelope(404, message="Revision %s not found" % rev)
            extra = {e["Path"]: e for e in repo.extra_entries}
            if path in extra:
                return self.serve_file(repo, path, content=_Bytes(b"bad"))
            if path not in repo.files:
                return self.ms_envelope(404, message="file %s not found" % path)
            if self.hub.cdn:
                url = self.cdn_url(repo, path)
                return self.send_raw(302, {"Location": url, "Content-Type": "text/plain"},
                                     ("Found. Redirecting to %s" % url).encode())
            return self.serve_file(repo, path)
        return self.ms_envelope(404, message="no such endpoint")

    def ms_tree(self, repo):
        """Dataset tree, paged: PageNumber/PageSize (§2.11)."""
        q = self.req.query
        rev = (q.get("Revision") or [repo.default_branch])[0] or repo.default_branch
        if repo.resolve(rev) is None:
            return self.ms_envelope(404, message="Revision %s not found" % rev)
        recursive = (q.get("Recursive") or ["False"])[0].lower() in ("true", "1")
        root = (q.get("Root") or ["/"])[0]
        entries = self.ms_entries(repo, "" if root in ("", "/") else root, recursive)
        page = int((q.get("PageNumber") or ["1"])[0])
        size = int((q.get("PageSize") or ["100"])[0])
        chunk = entries[(page - 1) * size:page * size]
        return self.ms_envelope(200, {"Files": chunk})

    # ===================== Hugging Face =====================
    def hf_error(self, status, code, message, commit=None):
        h = {"X-Error-Code": code, "X-Error-Message": message}
        if commit:
            h["X-Repo-Commit"] = commit
        if self.req.path.startswith("/api/"):
            return self.send_json(status, {"error": message}, h)
        return self.send_text(status, message, h)

    def hf_access(self, repo):
        """None when allowed, else the error already sent."""
        tok = self.token()
        user = self.hub.tokens.get(tok) if tok else None
        if repo is None or (repo.private and not user):
            if tok and user:
                return self.hf_error(404, "RepoNotFound", "Repository not found")
            return self.hf_error(401, "RepoNotFound",
                                 "Repository Not Found for url: %s" % self.req.raw_path)
        return None

    def hf_gate(self, repo):
        if not repo.gated:
            return None
        tok = self.token()
        user = self.hub.tokens.get(tok) if tok else None
        if not user:
            return self.hf_error(401, "GatedRepo", "Access to model %s is restricted. You must have "
                                 "access to it and be authenticated to access it. Please log in." % repo.id)
        if user not in repo.gated_allow:
            return self.hf_error(403, "GatedRepo", "Access to model %s is restricted and you are not "
                                 "in the authorized list. Visit https://huggingface.co/%s to ask for "
                                 "access." % (repo.id, repo.id))
        return None

    def _hf_find(self, rtype, segs):
        """Longest match of repo id among segs: 2 segments, else 1."""
        hub = self.hub
        if len(segs) >= 2 and ("hf", rtype, "/".join(segs[:2])) in hub.repos:
            return hub.repos[("hf", rtype, "/".join(segs[:2]))], segs[2:]
        if segs and ("hf", rtype, segs[0]) in hub.repos:
            return hub.repos[("hf", rtype, segs[0])], segs[1:]
        return None, segs[2:] if len(segs) >= 2 else []

    def hf_tree_entries(self, repo, prefix=""):
        out = []
        for d in repo.dirs():
            if prefix and not d.startswith(prefix + "/"):
                continue
            out.append({"type": "directory", "oid": _commit_for("tree:" + d), "size": 0, "path": d})
        for p in sorted(repo.files):
            if prefix and not p.startswith(prefix + "/"):
                continue
            c = repo.files[p]
            e = {"type": "file", "size": c.size, "path": p}
            if repo.is_lfs(p):
                sha = repo.sha256_override.get(p, c.sha256)
                ptr = _lfs_pointer(sha, c.size)
                e["oid"] = _git_sha1(ptr)
                e["lfs"] = {"oid": sha, "size": c.size, "pointerSize": len(ptr)}
            else:
                e["oid"] = repo.sha256_override.get(p, c.git_sha1)
            out.append(e)
        out.extend(repo.extra_tree_entries)
        return out

    def route_hf_api(self):
        raw = urllib.parse.urlsplit(self.req.raw_path).path
        segs = [urllib.parse.unquote(s) for s in raw.strip("/").split("/")]
        if len(segs) < 3 or segs[1] not in ("models", "datasets", "spaces"):
            return self.send_json(404, {"error": "not found"})
        rtype = segs[1][:-1]
        repo, rest = self._hf_find(rtype, segs[2:])
        err = self.hf_access(repo)
        if err is not None or repo is None:
            return
        q = self.req.query
        if not rest or rest[0] == "revision":
            rev = rest[1] if len(rest) > 1 else repo.default_branch
            commit = repo.resolve(rev)
            if commit is None:
                return self.hf_error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
            expand = q.get("expand") or []
            info = {"_id": "%024x" % repo.numeric_id, "id": repo.id, "sha": commit}
            if expand:
                return self.send_json(200, {k: v for k, v in info.items()
                                            if k in ("_id", "id") or k in expand})
            blobs = (q.get("blobs") or ["false"])[0].lower() in ("1", "true")
            sib = []
            for p in sorted(repo.files):
                s = {"rfilename": p}
                if blobs:
                    c = repo.files[p]
                    s.update({"size": c.size, "blobId": c.git_sha1})
                    if repo.is_lfs(p):
                        s["lfs"] = {"sha256": c.sha256, "size": c.size,
                                    "pointerSize": len(_lfs_pointer(c.sha256, c.size))}
                sib.append(s)
            info.update({"author": repo.id.split("/")[0] if "/" in repo.id else None,
                         "lastModified": "2025-01-01T00:00:00.000Z", "private": repo.private,
                         "gated": "manual" if repo.gated else False, "disabled": False,
                         "downloads": 0, "likes": 0, "tags": [], "siblings": sib,
                         "createdAt": "2024-01-01T00:00:00.000Z"})
            return self.send_json(200, info)
        if rest[0] == "tree":
            rev = rest[1] if len(rest) > 1 else repo.default_branch
            commit = repo.resolve(rev)
            if commit is None:
                return self.hf_error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
            prefix = "/".join(rest[2:])
            recursive = (q.get("recursive") or ["false"])[0].lower() in ("1", "true")
            entries = self.hf_tree_entries(repo, prefix)
            if not recursive:
                depth = prefix.count("/") + 1 if prefix else 0
                entries = [e for e in entries if e["path"].count("/") == depth]
            if prefix and not entries:
                return self.hf_error(404, "EntryNotFound", "%s does not exist on %s" % (prefix, rev))
            cursor = int((q.get("cursor") or ["0"])[0] or 0)
            size = self.hub.hf_tree_page_size
            page = entries[cursor:cursor + size]
            headers = {}
            if cursor + size < len(entries):
                nq = dict((k, v[0]) for k, v in q.items())
                nq["cursor"] = str(cursor + size)
                headers["Link"] = '<%s%s?%s>; rel="next"' % (self.hub.url, raw,
                                                              urllib.parse.urlencode(nq))
            return self.send_json(200, page, headers)
        if rest[0] == "paths-info" and self.command == "POST":
            rev = rest[1] if len(rest) > 1 else repo.default_branch
            if repo.resolve(rev) is None:
                return self.hf_error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
            ctype = self.headers.get("Content-Type") or ""
            if "json" in ctype:
                paths = json.loads(self.body or b"{}").get("paths", [])
            else:
                paths = urllib.parse.parse_qs(self.body.decode()).get("paths", [])
            entries = {e["path"]: e for e in self.hf_tree_entries(repo)}
            return self.send_json(200, [entries[p] for p in paths if p in entries])
        if rest[0] == "refs":
            return self.send_json(200, {"branches": [{"name": b, "ref": "refs/heads/" + b,
                                                      "targetCommit": c}
                                                     for b, c in repo.branches.items()],
                                        "converts": [], "tags": [{"name": t, "ref": "refs/tags/" + t,
                                                                  "targetCommit": c}
                                                                 for t, c in repo.tags.items()]})
        return self.send_json(404, {"error": "not found"})

    def hf_parse_resolve(self, raw):
        """(rtype, repo segments, rev, path) from /[datasets/]{repo}/resolve/{rev}/{path}."""
        segs = raw.strip("/").split("/")
        rtype = "model"
        if segs[0] in ("datasets", "spaces"):
            rtype = segs[0][:-1]
            segs = segs[1:]
        i = segs.index("resolve")
        repo_segs = [urllib.parse.unquote(s) for s in segs[:i]]
        rev = urllib.parse.unquote(segs[i + 1]) if len(segs) > i + 1 else ""
        path = urllib.parse.unquote("/".join(segs[i + 2:]))
        return rtype, repo_segs, rev, path

    def hf_resolve(self):
        raw = urllib.parse.urlsplit(self.req.raw_path).path
        try:
            rtype, repo_segs, rev, path = self.hf_parse_resolve(raw)
        except (ValueError, IndexError):
            return self.send_text(404, "Not Found")
        self.req.file_path = path
        repo, rest = self._hf_find(rtype, repo_segs)
        if repo is not None and rest:
            repo = None
        if self.hf_access(repo) is not None or repo is None:
            return
        if self.hf_gate(repo) is not None:
            return
        commit = repo.resolve(rev)
        if commit is None:
            return self.hf_error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
        no_commit = self.hub._take_fault(self.req, "no_repo_commit")
        if path not in repo.files:
            return self.hf_error(404, "EntryNotFound", "Entry not found", None if no_commit else commit)
        c = repo.files[path]
        base = {} if no_commit else {"X-Repo-Commit": commit}
        if repo.is_lfs(path):
            sha = repo.sha256_override.get(path, c.sha256)
            url = self.cdn_url(repo, path) if self.hub.cdn else None
            if url is None:
                h = dict(base, **{"ETag": '"%s"' % sha, "X-Linked-Etag": '"%s"' % sha,
                                  "X-Linked-Size": c.size})
                return self.serve_file(repo, path, h)
            body = ("Found. Redirecting to %s" % url).encode()
            h = dict(base, **{"Location": url, "X-Linked-Etag": '"%s"' % sha, "X-Linked-Size": c.size,
                              "ETag": '"%s"' % _commit_for("etag:" + sha)[:32],
                              "Content-Type": "text/plain; charset=utf-8"})
            return self.send_raw(302, h, body)
        # regular file: a relative 307 to resolve-cache, as the Hub answers now
        etag = repo.sha256_override.get(path, c.git_sha1)
        loc = "/api/resolve-cache/%ss/%s/%s/%s?%s&etag=%%22%s%%22" % (
            rtype, repo.id, commit, urllib.parse.quote(path),
            urllib.parse.quote(raw, safe="") + "=", etag)
        body = ("Temporary Redirect. Redirecting to %s" % loc).encode()
        h = dict(base, **{"Location": loc, "Content-Type": "text/plain; charset=utf-8"})
        return self.send_raw(307, h, body)

    def hf_resolve_cache(self):
        raw = urllib.parse.urlsplit(self.req.raw_path).path
        segs = raw.strip("/").split("/")  # api resolve-cache {type}s {repo...} {commit} {path...}
        try:
            rtype = segs[2][:-1]
            rest = [urllib.parse.unquote(s) for s in segs[3:]]
            repo, rest2 = self._hf_find(rtype, rest)
            commit, path = rest2[0], "/".join(rest2[1:])
        except (IndexError, ValueError):
            return self.send_text(404, "Not Found")
        self.req.file_path = path
        if self.hf_access(repo) is not None or repo is None:
            return
        if self.hf_gate(repo) is not None:
            return
        if repo.resolve(commit) is None or path not in repo.files:
            return self.hf_error(404, "EntryNotFound", "Entry not found", repo.commit)
        etag = repo.sha256_override.get(path, repo.files[path].git_sha1)
        h = {"ETag": '"%s"' % etag}
        if not self.hub._take_fault(self.req, "no_repo_commit"):
            h["X-Repo-Commit"] = repo.commit
        return self.serve_file(repo, path, h)


class Hub:
    def __init__(self, cdn=True, host="127.0.0.1", cdn_host="localhost", port=0, cdn_port=0,
                 cdn_base=None):
        self.lock = threading.Lock()
        self.repos = {}
        self.faults = []
        self.log = []
        self.tokens = dict(DEFAULT_TOKENS)
        self.cdn = cdn or bool(cdn_base)
        self.cdn_base = cdn_base.rstrip("/") if cdn_base else None
        self.cdn_objects = {}
        self.hf_tree_page_size = 1000
        self._hub = self._serve(host, port, "hub")
        self.url = "http://%s:%d" % (host, self._hub.server_address[1])
        self._cdn = None
        self.cdn_url = None
        if cdn and not cdn_base:
            self._cdn = self._serve("127.0.0.1", cdn_port, "cdn")
            self.cdn_url = "http://%s:%d" % (cdn_host, self._cdn.server_address[1])

    def _serve(self, host, port, role):
        srv = _Server((host, port), Handler)
        srv.hub = self
        srv.role = role
        t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        t.start()
        srv.thread = t
        return srv

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        for srv in (self._hub, self._cdn):
            if srv is not None and not getattr(srv, "stopped", False):
                srv.stopped = True
                srv.shutdown()
                srv.server_close()

    # --- repos ---
    def add_ms_repo(self, repo_id, type="model", files=None, revision="master", tags=None,
                    private=False, extra_entries=None, sha256_override=None, branches=None):
        r = Repo(self, "ms", repo_id, type, files or {}, revision=revision, tags=tags,
                 branches=branches, private=private, extra_entries=extra_entries,
                 sha256_override=sha256_override)
        self.repos[("ms", type, repo_id)] = r
        return r

    def add_hf_repo(self, repo_id, type="model", files=None, lfs=None, branches=None, tags=None,
                    private=False, gated=False, revision="main", sha256_override=None,
                    extra_tree_entries=None):
        r = Repo(self, "hf", repo_id, type, files or {}, revision=revision, tags=tags,
                 branches=branches, private=private, gated=gated, lfs=lfs,
                 sha256_override=sha256_override, extra_tree_entries=extra_tree_entries)
        self.repos[("hf", type, repo_id)] = r
        return r

    def _cdn_key(self, repo, path):
        key = hashlib.sha1(("%s|%s|%s" % (repo.hub_kind, repo.id, path)).encode()).hexdigest()[:16]
        self.cdn_objects[key] = (repo, path)
        return key

    # --- faults and log ---
    def fault(self, kind, times=1, path=None, server=None, method=None, **params):
        f = Fault(kind, times, path, server, method, params)
        with self.lock:
            self.faults.append(f)
        return f

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def _take_fault(self, req, kind, start=None):
        with self.lock:
            for f in self.faults:
                if not f.matches(req, kind):
                    continue
                if kind == "expire_cdn" and start is not None and start < f.params.get("after", 0):
                    continue
                f.fired += 1
                return f
        return None

    def clear_log(self):
        with self.lock:
            self.log = []

    def max_concurrent(self, server=None):
        """Most requests that were in flight at the same moment (connection budget)."""
        with self.lock:
            spans = [(r.time, r.end or time.time()) for r in self.log
                     if server is None or r.server == server]
        events = sorted([(t, 1) for t, _ in spans] + [(e, -1) for _, e in spans])
        cur = best = 0
        for _, d in events:
            cur += d
            best = max(best, cur)
        return best

    def body_bytes(self, file_path=None):
        with self.lock:
            return sum(r.body_bytes for r in self.log
                       if file_path is None or r.file_path == file_path)


def _sample_files():
    rnd = hashlib.sha256(b"mscli-demo").digest()
    weights = bytearray()
    while len(weights) < 3 * 1024 * 1024:
        rnd = hashlib.sha256(rnd).digest()
        weights += rnd * 32
    return {
        "config.json": json.dumps({"architectures": ["TinyForCausalLM"], "hidden_size": 64,
                                   "num_hidden_layers": 2, "vocab_size": 256}, indent=2).encode() + b"\n",
        "README.md": b"# tiny-model\n\nA sample repository served by the mscli hub emulator.\n",
        "tokenizer.json": json.dumps({"version": "1.0", "model": {"type": "BPE", "vocab": {}}}).encode(),
        "model.safetensors": bytes(weights[:3 * 1024 * 1024]),
    }


def main():
    ap = argparse.ArgumentParser(description="Loopback ModelScope / Hugging Face hub emulator.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cdn-port", type=int, default=0)
    ap.add_argument("--no-cdn", action="store_true", help="serve files from the hub itself")
    ap.add_argument("--sample", action="store_true",
                    help="add mscli-demo/tiny-model (ModelScope and Hugging Face)")
    ap.add_argument("--serve-dir", help="serve every file under DIR as --repo")
    ap.add_argument("--repo", default="bench/model")
    ap.add_argument("--type", default="model", choices=["model", "dataset"])
    ap.add_argument("--hub", default="both", choices=["ms", "hf", "both"])
    ap.add_argument("--cdn-base", help="redirect file downloads to URL/<path> (e.g. nginx)")
    a = ap.parse_args()
    hub = Hub(cdn=not a.no_cdn, host=a.host, port=a.port, cdn_port=a.cdn_port, cdn_base=a.cdn_base)
    if a.sample:
        files = _sample_files()
        hub.add_ms_repo("mscli-demo/tiny-model", files=files)
        hub.add_hf_repo("mscli-demo/tiny-model", files=files)
        hub.add_ms_repo("mscli-demo/tiny-dataset", type="dataset",
                        files={"data/train.jsonl": b'{"text": "hello"}\n' * 100,
                               "README.md": b"# tiny dataset\n"})
    if a.serve_dir:
        files = {}
        for dirpath, _, names in os.walk(a.serve_dir):
            for n in names:
                full = os.path.join(dirpath, n)
                files[os.path.relpath(full, a.serve_dir)] = FileRef(full)
        for f in files.values():  # hash now, not during the first request
            _ = f.sha256
        if a.hub in ("ms", "both"):
            hub.add_ms_repo(a.repo, type=a.type, files=files)
        if a.hub in ("hf", "both"):
            hub.add_hf_repo(a.repo, type=a.type, files=files)
    print("HUBEMU_URL=%s" % hub.url)
    if hub.cdn_url:
        print("HUBEMU_CDN=%s" % hub.cdn_url)
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    while not stop.wait(0.5):
        pass
    hub.stop()


if __name__ == "__main__":
    main()
