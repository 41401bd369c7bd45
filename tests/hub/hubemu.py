#!/usr/bin/env python3
"""A loopback emulator of the ModelScope and Hugging Face hubs, for tests.

Python 3 standard library only (Debian 12's python3.11 is enough).  It follows
the research notes in /work/shared/reference (cited below as MS §x for
modelscope-protocol.md and HF §x for hf-protocol.md): the endpoints, envelopes,
headers and redirects the official clients rely on, plus scriptable faults
(status codes, disconnects, ignored or wrong ranges, corrupt bytes, trickles and
stalls, expiring CDN URLs, malformed or huge JSON).

Two servers run on ephemeral loopback ports: the hub (http://127.0.0.1:P1) and
a "CDN" under another host name (http://localhost:P2) that file downloads are
redirected to, so a client has to drop its credentials on the way (HF §1.3
step B).  Nothing here ever emits an Xet header or field (HF §1.3, §9.1).

    from hubemu import Hub, FileRef
    with Hub() as hub:
        hub.add_ms_repo("owner/name", files={"config.json": b"{}"})
        hub.fault("disconnect", path="config.json", after=1)
        ... run a client against hub.url ...
        hub.log, hub.body_bytes("config.json")

See README.md next to this file for the API, the fault list and the CLI.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import socketserver
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:                                             # search and repo-info endpoints
    import emu_search
except ImportError:                              # imported from elsewhere: it is next to us
    sys.path.append(os.path.dirname(os.path.abspath(__file__)))
    import emu_search

try:                                             # the upload side (emu_upload.py)
    import emu_upload
except ImportError:                              # imported from elsewhere: it is next to us
    sys.path.append(os.path.dirname(os.path.abspath(__file__)))
    import emu_upload

__all__ = ["Hub", "FileRef", "Fault", "Request", "Repo"]

DEFAULT_TOKENS = {"ms-goodtoken": "alice", "hf_goodtoken": "alice"}
EPOCH = 1726842501          # "created" time of every first commit (MS §2.5 example)

# MS §2.16: suffixes the ModelScope uploaders store as LFS (model list).
MS_LFS_SUFFIXES = (".7z", ".arrow", ".bin", ".bz2", ".ckpt", ".ftz", ".gz", ".h5", ".joblib",
                   ".mlmodel", ".model", ".msgpack", ".npy", ".npz", ".onnx", ".ot", ".parquet",
                   ".pb", ".pickle", ".pkl", ".pt", ".pth", ".rar", ".safetensors", ".tar",
                   ".tflite", ".tgz", ".wasm", ".xz", ".zip", ".zst")


def _debug():
    """HUBEMU_DEBUG=1: access log and tracebacks on stderr (read at each use)."""
    return bool(os.environ.get("HUBEMU_DEBUG"))


def _ms_lfs_rule(path, size):
    return size > 1024 * 1024 or path.lower().endswith(MS_LFS_SUFFIXES)


def _hf_lfs_rule(path, size):
    return size >= 1024 * 1024 or path.endswith(".safetensors")


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def git_blob_sha1(data):
    """git hash-object: sha1(b"blob <len>\\0" + data) (HF §3)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256, size):
    """The git-lfs pointer text whose blob sha1 is a LFS file's tree oid (HF §3)."""
    return ("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n"
            % (sha256, size)).encode()


def _iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))


def _truthy(v, default=False):
    """Booleans in queries: true/True/1 and false/False/0 (HF §1.0, MS §2.8)."""
    if v is None:
        return default
    return str(v).strip().lower() in ("1", "true", "yes", "on")


# ============================================================ file contents

class FileRef:
    """A repo file whose bytes live on disk.  Served with sendfile when no fault
    touches the body.  size and sha256 may be given; otherwise they (and the git
    blob sha1) are computed lazily, once, in one pass over the file."""

    def __init__(self, path, size=None, sha256=None):
        self.path = os.path.abspath(path)
        self._size = size
        self._sha256 = sha256
        self._sha1 = None
        self._lock = threading.Lock()

    @property
    def size(self):
        if self._size is None:
            self._size = os.path.getsize(self.path)
        return self._size

    def _hash(self):
        with self._lock:
            if self._sha1 is not None:
                return
            h256, h1 = hashlib.sha256(), hashlib.sha1(b"blob %d\0" % self.size)
            with open(self.path, "rb") as f:
                while True:
                    b = f.read(1 << 22)
                    if not b:
                        break
                    h256.update(b)
                    h1.update(b)
            if self._sha256 is None:
                self._sha256 = h256.hexdigest()
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

    def fingerprint(self):
        """Something that changes with the content, without hashing it (commit ids)."""
        return self._sha256 or "%s:%d" % (self.path, self.size)

    def read(self, start, end):
        with open(self.path, "rb") as f:
            f.seek(start)
            return f.read(end - start)

    def __repr__(self):
        return "FileRef(%r)" % self.path


class _Bytes:
    """In-memory file contents."""

    def __init__(self, data):
        self.data = bytes(data)
        self.size = len(self.data)
        self._sha256 = self._sha1 = None

    @property
    def sha256(self):
        if self._sha256 is None:
            self._sha256 = _sha256(self.data)
        return self._sha256

    @property
    def git_sha1(self):
        if self._sha1 is None:
            self._sha1 = git_blob_sha1(self.data)
        return self._sha1

    def fingerprint(self):
        return self.sha256

    def read(self, start, end):
        return self.data[start:end]


def _content(v):
    if isinstance(v, (FileRef, _Bytes)) or hasattr(v, "fingerprint"):  # emu_upload.PartsRef
        return v
    if isinstance(v, str):
        v = v.encode()
    return _Bytes(v)


def _filler(size):
    """The bytes served for an injected listing entry (extra_entries)."""
    return (b"bad" * (size // 3 + 1))[:size]


# ============================================================ repos

class Snapshot:
    """One commit: its files and, per file, the commit that last touched it
    (ModelScope lists that as the file's "Revision", MS §2.8)."""

    def __init__(self, commit, files, file_commits, created_at, message, parent=None):
        self.commit = commit
        self.files = files
        self.file_commits = file_commits
        self.created_at = created_at
        self.message = message
        self.parent = parent


class Repo:
    """A repository of either hub.  Branches and tags map to commits; each
    commit is a Snapshot.  repo.files / repo.commit are the default branch's."""

    def __init__(self, hub, kind, repo_id, rtype, files, revision, lfs=None, private=False,
                 gated=False, extra_entries=None, extra_tree_entries=None, sha256_override=None):
        if rtype not in ("model", "dataset"):
            raise ValueError("type must be 'model' or 'dataset'")
        self.hub = hub
        self.hub_kind = kind                     # "ms" or "hf"
        self.id = repo_id
        self.type = rtype
        self.private = private
        self.gated = gated                       # HF: False | True | "auto" | "manual"
        self.gated_allow = set()                 # HF: user names approved for a gated repo
        self.extra_entries = [dict(e) for e in (extra_entries or [])]
        self.extra_tree_entries = [dict(e) for e in (extra_tree_entries or [])]
        self.sha256_override = dict(sha256_override or {})
        self.lfs_rule = lfs or (_ms_lfs_rule if kind == "ms" else _hf_lfs_rule)
        self.numeric_id = hub._next_id()         # MS dataset "Id" (MS §2.10)
        self.default_branch = revision
        self.snapshots = {}
        self.branches = {}
        self.tags = {}                           # insertion order = creation order
        self.tag_times = {}
        self._clock = EPOCH
        self.branches[revision] = self._new_snapshot(files or {}, None, "initial commit").commit

    # --- commits ---
    def _tick(self):
        self._clock += 1000
        return self._clock

    def _new_snapshot(self, files, parent, message):
        files = {p.strip("/"): _content(v) for p, v in files.items()}
        h = hashlib.sha1(("%s:%s:%s\n%s\n%s\n" % (self.hub_kind, self.type, self.id,
                                                  parent.commit if parent else "",
                                                  message)).encode())
        for p in sorted(files):
            h.update(("%s\0%s\n" % (p, files[p].fingerprint())).encode())
        commit = h.hexdigest()
        if commit in self.snapshots:
            return self.snapshots[commit]
        fc = {}
        for p, c in files.items():
            old = parent.files.get(p) if parent else None
            same = old is not None and old.fingerprint() == c.fingerprint()
            fc[p] = parent.file_commits[p] if same else hashlib.sha1(
                ("%s@%s" % (commit, p)).encode()).hexdigest()
        snap = Snapshot(commit, files, fc, self._tick() if parent or self.snapshots else EPOCH,
                        message, parent)
        self.snapshots[commit] = snap
        return snap

    def commit_files(self, files, branch=None, message="update files"):
        """A new commit on `branch` (default branch): the branch's files updated
        with `files` (a value of None deletes that path).  Returns the commit id."""
        branch = branch or self.default_branch
        parent = self.snapshots[self.branches[branch]]
        new = dict(parent.files)
        for p, v in files.items():
            if v is None:
                new.pop(p, None)
            else:
                new[p] = v
        snap = self._new_snapshot(new, parent, message)
        self.branches[branch] = snap.commit
        return snap.commit

    def add_branch(self, name, files=None):
        """Branch `name`: same content as the default branch, or its own files."""
        if files is None:
            self.branches[name] = self.commit
        else:
            self.branches[name] = self._new_snapshot(files, None, "branch " + name).commit
        return self.branches[name]

    def add_tag(self, name, files=None):
        """Tag `name` (newest so far): the default branch's content or its own files."""
        if files is None:
            self.tags[name] = self.commit
        else:
            self.tags[name] = self._new_snapshot(files, None, "tag " + name).commit
        self.tag_times[name] = self._tick()
        return self.tags[name]

    @property
    def commit(self):
        return self.branches[self.default_branch]

    @property
    def files(self):
        return self.snapshots[self.commit].files

    def snapshot(self, rev=None):
        return self.resolve(rev or self.default_branch)

    def resolve(self, rev):
        """Snapshot for a branch, a tag or a 40-hex commit id (MS also accepts a
        per-file commit id, which it lists as the file's Revision); else None."""
        if rev is None:
            return None
        if rev in self.branches:
            return self.snapshots[self.branches[rev]]
        if rev in self.tags:
            return self.snapshots[self.tags[rev]]
        if re.fullmatch(r"[0-9a-f]{40}", rev):
            if rev in self.snapshots:
                return self.snapshots[rev]
            if self.hub_kind == "ms":
                for s in self.snapshots.values():
                    if rev in s.file_commits.values():
                        return s
        return None

    def is_lfs(self, path, content):
        if getattr(content, "lfs", None) is not None:    # committed as LFS or not (emu_upload)
            return content.lfs
        return bool(self.lfs_rule(path, content.size))

    @staticmethod
    def dirs(snap):
        out = set()
        for p in snap.files:
            parts = p.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                out.add("/".join(parts[:i]))
        return sorted(out)

    def extra_content(self, path):
        """Contents for an injected (unsafe) listing entry, or None."""
        for e in self.extra_entries:
            if e.get("Path") == path:
                return _Bytes(e.get("_content", _filler(int(e.get("Size", 3) or 0))))
        for e in self.extra_tree_entries:
            if e.get("path") == path:
                return _Bytes(e.get("_content", _filler(int(e.get("size", 3) or 0))))
        return None

    def content(self, snap, path):
        c = snap.files.get(path)
        return c if c is not None else self.extra_content(path)

    def __repr__(self):
        return "<Repo %s %s %s>" % (self.hub_kind, self.type, self.id)


# ============================================================ log and faults

class Request:
    """One request as the emulator saw it (hub.log holds them in arrival order)."""

    def __init__(self, server, method, raw_path, headers):
        self.server = server                     # "hub" or "cdn"
        self.method = method
        self.raw_path = raw_path                 # as sent, with the query
        u = urllib.parse.urlsplit(raw_path)
        self.path = urllib.parse.unquote(u.path)  # decoded path, no query
        self.query = urllib.parse.parse_qs(u.query, keep_blank_values=True)  # '+' is a space
        hd = {}
        for k, v in headers.items():             # lower-case names; repeats joined
            k = k.lower()
            hd[k] = v if k not in hd else hd[k] + ("; " if k == "cookie" else ", ") + v
        self.headers = hd
        self.range = hd.get("range")
        self.body = b""                          # the request body
        self.status = None                       # status sent (None if none was)
        self.body_bytes = 0                      # bytes of a repo file's body written
        self.response_bytes = 0                  # every body byte written (JSON too)
        self.file_path = None                    # the repo file this request was about
        self.faults = []                         # kinds of the faults that fired
        self.error = None                        # traceback text of an emulator bug
        self.time = time.time()                  # arrival
        self.end = None                          # when the answer was complete
        self.answered = None                     # when its headers went out (before the
                                                 # client can have read the answer)
        self.peer = None                         # the client's port (its connection)

    def __repr__(self):
        return "<%s %s %s -> %s>" % (self.server, self.method, self.raw_path, self.status)


FAULT_KINDS = ("status", "disconnect", "ignore_range", "bad_content_range", "corrupt", "trickle",
               "stall", "malformed_json", "oversized_json", "expire_cdn", "no_repo_commit",
               "hang", "endless_headers", "lying_length") + emu_upload.FAULT_KINDS


class Fault:
    """A scripted fault.  Matches requests by kind, optional path (substring of
    the decoded request path or of the repo file path served), server, method;
    fires `times` times (None: every time), counting matching requests only."""

    def __init__(self, kind, times, path, server, method, params):
        if kind not in FAULT_KINDS:
            raise ValueError("unknown fault kind %r (one of %s)" % (kind, ", ".join(FAULT_KINDS)))
        self.kind, self.times, self.path = kind, times, path
        self.server, self.method, self.params = server, method, params
        self.fired = 0

    def matches(self, req):
        if self.times is not None and self.fired >= self.times:
            return False
        if self.server and self.server != req.server:
            return False
        if self.method and self.method.upper() != req.method:
            return False
        if self.path and self.path not in req.path and self.path not in (req.file_path or ""):
            return False
        return True

    @property
    def exhausted(self):
        return self.times is not None and self.fired >= self.times

    def __repr__(self):
        return "<Fault %s fired %d/%s path=%r server=%r %r>" % (
            self.kind, self.fired, self.times, self.path, self.server, self.params)


# ============================================================ HTTP plumbing

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def server_bind(self):
        # HTTPServer.server_bind calls getfqdn(), a DNS lookup: not here
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        # clients that hang up mid-body are normal here; say nothing
        if _debug():
            super().handle_error(request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Abort(Exception):
    """Stop handling: the connection is being closed on purpose."""


class _Range:
    """A satisfiable byte range [start, end) of a body of `size` bytes."""

    def __init__(self, start, end):
        self.start, self.end = start, end


def parse_range(value, size):
    """None (no/ignorable Range: serve 200), "bad" (416) or a _Range.
    Handles bytes=a-b (end clamped), bytes=a-, bytes=-n; a multi-range or a
    syntactically invalid header is ignored, as RFC 9110 allows."""
    if not value:
        return None
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", value)
    if not m or (not m.group(1) and not m.group(2)):
        return None
    if not m.group(1):                           # suffix: the last n bytes
        n = int(m.group(2))
        return _Range(max(0, size - n), size) if n and size else "bad"
    start = int(m.group(1))
    if m.group(2) and int(m.group(2)) < start:
        return None                              # invalid: ignore
    end = min(int(m.group(2)) + 1, size) if m.group(2) else size
    if start >= size:
        return "bad"
    return _Range(start, end)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"                # keep-alive; every answer has a length
    server_version = "hubemu/2.0"
    timeout = 120                                # idle keep-alive connections are closed
    # headers and body go out in two writes: with Nagle on, every answer on a reused
    # connection waited for the client's delayed ACK (40 ms), a cost no real hub has
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        if _debug():
            sys.stderr.write("hubemu %s: %s\n" % (self.server.role, fmt % args))

    @property
    def hub(self):
        return self.server.hub

    def setup(self):
        super().setup()
        if self.hub.idle_timeout is not None:    # a server that closes idle connections soon
            self.connection.settimeout(self.hub.idle_timeout)
        self.hub._conn_opened(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.hub._conn_closed(self.connection)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = \
        lambda self: self._dispatch()

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(n)
                self.rfile.readline(3)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _dispatch(self):
        self.req = req = Request(self.server.role, self.command, self.path, self.headers)
        req.peer = self.client_address[1]        # the client's port: one per connection
        self.extra_headers = {}
        try:
            req.body = emu_upload.read_body(self)   # the drop_upload fault
        except (ValueError, OSError):
            self.close_connection = True
            return
        if self.server.role == "hub" and req.path.startswith("/_hubemu/"):
            return self.emu_control()            # not logged, no faults
        req.file_path = self._guess_file_path()  # so faults can match it from the start
        with self.hub.lock:
            self.hub.log.append(req)             # at once: body_bytes() sees running transfers
        try:
            f = self.hub._take(req, "status")
            if f:
                code = int(f.params.get("code", 503))
                body = f.params.get("body", "injected failure: %d\n" % code)
                self.send_text(code, body, dict(f.params.get("headers") or {}))
            elif self._hostile():
                pass
            elif self.server.role == "cdn":
                self.route_cdn()
            else:
                self.route_hub()
        except _Abort:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, socket.timeout, TimeoutError):
            self.close_connection = True
        except Exception:                        # an emulator bug: answer 500, keep quiet
            req.error = traceback.format_exc()
            if _debug():
                sys.stderr.write(req.error)
            if req.status is None:
                try:
                    self.send_text(500, "hubemu internal error\n" + req.error)
                except OSError:
                    pass
            self.close_connection = True
        finally:
            req.end = time.time()

    def _hostile(self):
        """The faults of a server that answers nothing or never ends its headers: True
        when one fired (the connection is then dropped)."""
        hub, req = self.hub, self.req
        f = hub._take(req, "hang")
        if f:                                    # the request was read; no byte comes back
            hub._stopping.wait(float(f.params.get("seconds", 30)))
            self._hangup()
        f = hub._take(req, "endless_headers")
        if f:
            req.status = 200
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            pad = b"x" * 1000
            if f.params.get("line"):             # one header line that never ends
                self.wfile.write(b"X-Pad: ")
                while not hub._stopping.is_set():
                    self.wfile.write(pad * 64)
            n = 0
            while not hub._stopping.is_set():     # header lines, one after another
                self.wfile.write(b"X-Pad-%d: %s\r\n" % (n, pad))
                n += 1
            self._hangup()
        return False

    def emu_control(self):
        """GET /_hubemu/log: the request log as JSON (for the CLI mode, where a
        script cannot read hub.log); POST /_hubemu/clear-log.  Neither hub has
        a /_hubemu/ path, so this cannot shadow a real endpoint."""
        hub = self.hub
        if emu_upload.emu_control(self):         # uploads, commits, config
            return
        if self.req.path == "/_hubemu/log" and self.command in ("GET", "HEAD"):
            with hub.lock:
                log = list(hub.log)
            out = [{"server": r.server, "method": r.method, "path": r.path,
                    "raw_path": r.raw_path, "status": r.status, "range": r.range,
                    "file_path": r.file_path, "body_bytes": r.body_bytes,
                    "headers": r.headers, "faults": r.faults, "query": r.query} for r in log]
            body = json.dumps(out).encode()
            return self.send_raw(200, {"Content-Type": "application/json"}, body)
        if self.req.path == "/_hubemu/clear-log" and self.command == "POST":
            hub.clear_log()
            return self.send_raw(200, {"Content-Type": "application/json"}, b"{}")
        return self.send_text(404, "Not Found")

    def _guess_file_path(self):
        """The repo file a request is about, before routing (for fault matching)."""
        req = self.req
        if req.server == "cdn":
            parts = req.path.split("/", 3)
            obj = self.hub.cdn_objects.get(parts[2]) if len(parts) == 4 else None
            return obj[2] if obj else None
        if req.path.endswith("/repo") and req.query.get("FilePath"):
            return req.query["FilePath"][0]
        segs = [urllib.parse.unquote(s) for s in self.raw_path_only().strip("/").split("/")]
        if segs[:2] == ["api", "resolve-cache"]:
            for i in range(4, len(segs)):
                if re.fullmatch(r"[0-9a-f]{40}", segs[i]):
                    return "/".join(segs[i + 1:])
        elif segs[:1] != ["api"] and "resolve" in segs:
            return "/".join(self._rev_and_rest(segs[segs.index("resolve") + 1:])[1])
        return None

    # --- writing answers ---
    def send_head(self, status, headers, length, body=None):
        """Status line and headers; Content-Length is always `length`.  A body given here
        goes out in the same write, as real servers send a short answer: one packet, not a
        second one that every client then waits for."""
        self.req.status = status
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() != "content-length":
                self.send_header(k, str(v))
        self.send_header("Content-Length", str(length))
        if "X-Request-Id" not in headers:
            self.send_header("X-Request-Id", uuid.uuid4().hex)
        self.req.answered = time.time()          # stamped before the client can see it
        if body:
            self._headers_buffer.append(b"\r\n" + body)   # what end_headers adds, and the body
            self.flush_headers()
        else:
            self.end_headers()

    def send_raw(self, status, headers, body=b""):
        """A complete answer with no fault applied to its body (errors, redirects)."""
        sent = body if self.command != "HEAD" else b""
        self.send_head(status, headers, len(body), sent)
        self.req.response_bytes += len(sent)

    def send_text(self, status, text, headers=None):
        h = {"Content-Type": "text/plain; charset=utf-8"}
        h.update(headers or {})
        self.send_raw(status, h, text.encode() if isinstance(text, str) else text)

    def send_json(self, status, obj, headers=None, shape="ms", encoded=None):
        """JSON answer (obj, or the document already encoded).  A 200 may be replaced
        by the malformed_json/oversized_json faults, and its body is subject to the
        body faults (disconnect, ...)."""
        h = {"Content-Type": "application/json; charset=utf-8"}
        h.update(self.extra_headers)
        h.update(headers or {})
        body = (encoded if encoded is not None else json.dumps(obj, ensure_ascii=False)).encode()
        if status != 200 or self.command == "HEAD":
            return self.send_raw(status, h, body)
        hub = self.hub
        if hub._take(self.req, "malformed_json"):
            return self.send_raw(200, h, body[:max(1, len(body) // 2)])  # cut mid-document
        f = hub._take(self.req, "oversized_json")
        if f and f.params.get("endless"):
            return self._send_endless(h, shape)
        if f:
            return self._send_oversized(h, float(f.params.get("mb", 64)), shape)
        self.send_head(200, h, len(body))
        self._write_body(_Bytes(body), 0, len(body), is_file=False)

    def _send_oversized(self, h, mb, shape):
        """A valid JSON document of `mb` MB, streamed (never built in memory)."""
        if shape == "hf":
            head, tail = b'[{"type": "file", "path": "pad", "size": 0, "pad": "', b'"}]'
        else:
            head = (b'{"Code": 200, "Success": true, "Message": "success", "RequestId": "x", '
                    b'"Data": {"Files": [], "Pad": "')
            tail = b'"}}'
        pad = int(mb * 1000 * 1000)
        self.send_head(200, h, len(head) + pad + len(tail))
        self.wfile.write(head)
        chunk = b"x" * (1 << 20)
        left = pad
        while left:
            n = min(left, len(chunk))
            self.wfile.write(chunk[:n])
            self.req.response_bytes += n
            left -= n
        self.wfile.write(tail)
        self.req.response_bytes += len(head) + len(tail)

    def _send_endless(self, h, shape):
        """A JSON document that never ends: chunked, until the client hangs up."""
        h = dict(h, **{"Transfer-Encoding": "chunked"})
        self.req.status = 200
        self.send_response(200)
        for k, v in h.items():
            self.send_header(k, str(v))
        self.end_headers()
        entry = (b'{"type": "file", "path": "pad", "size": 0}, ' if shape == "hf" else
                 b'{"Path": "pad", "Name": "pad", "Type": "blob", "Size": 0}, ')
        head = b"[" if shape == "hf" else b'{"Code": 200, "Success": true, "Data": {"Files": ['
        piece, data = entry * (65536 // len(entry)), head
        while not self.hub._stopping.is_set():
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.req.response_bytes += len(data)
            data = piece
        self._hangup()

    # --- bodies, with the body faults ---
    def _write_body(self, src, start, end, is_file=True):
        """Write src[start:end], applying disconnect / stall / corrupt / trickle."""
        hub, req = self.hub, self.req
        if end <= start:
            return
        disc = hub._take(req, "disconnect")
        stall = hub._take(req, "stall")
        corrupt = hub._take(req, "corrupt")
        trickle = hub._take(req, "trickle")
        stop = end
        if disc:
            stop = min(stop, start + int(disc.params.get("after", 0)))
        if stall:
            stop = min(stop, start + int(stall.params.get("after", 0)))
        def count(n):
            # counted *before* the bytes leave, so that a client which has read
            # everything never sees a smaller hub.body_bytes(); a failed write
            # takes its share back
            req.response_bytes += n
            if is_file:
                req.body_bytes += n

        pos = start
        if isinstance(src, FileRef) and not (corrupt or trickle):
            with open(src.path, "rb") as fh:     # the fast path: sendfile
                while pos < stop:
                    want = min(stop - pos, 4 << 20)
                    count(want)
                    try:
                        n = self.connection.sendfile(fh, offset=pos, count=want)
                    except OSError:
                        count(-want)
                        raise
                    count(n - want)
                    if not n:
                        break
                    pos += n
        else:
            rate = float(trickle.params.get("rate", 100000)) if trickle else 0
            piece = max(1, min(65536, int(rate / 20))) if trickle else 1 << 20
            flip = set()
            if corrupt:
                at = corrupt.params.get("at")
                at = start + (end - start) // 2 if at is None or not start <= at < end else at
                flip = set(range(at, min(end, at + int(corrupt.params.get("n", 1)))))
            t0 = time.monotonic()
            while pos < stop:
                n = min(piece, stop - pos)
                if trickle:                      # pace: byte k leaves at t0 + k/rate
                    delay = t0 + (pos + n - start) / rate - time.monotonic()
                    if delay > 0 and hub._stopping.wait(delay):
                        self._hangup()
                data = src.read(pos, pos + n)
                if flip:
                    b = bytearray(data)
                    for i in flip:
                        if pos <= i < pos + n:
                            b[i - pos] ^= 0xFF
                    data = bytes(b)
                count(n)
                try:
                    self.wfile.write(data)
                except OSError:
                    count(-n)
                    raise
                pos += n
        if stall:
            hub._stopping.wait(float(stall.params.get("seconds", 30)))
            self._hangup()
        if disc:
            self._hangup(bool(disc.params.get("rst")))

    def _hangup(self, rst=False):
        """Close the connection now: shutdown + close (or a TCP reset)."""
        try:
            if rst:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           b"\x01\x00\x00\x00\x00\x00\x00\x00")
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise _Abort()

    def serve_content(self, content, path, headers=None):
        """200 / 206 / 416 for a file body, honouring Range and the range faults."""
        hub, req = self.hub, self.req
        req.file_path = path
        size = content.size
        h = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes"}
        h.update(headers or {})
        rng = parse_range(self.headers.get("Range"), size)
        if req.server == "cdn":
            start = rng.start if isinstance(rng, _Range) else 0
            if hub._take(req, "expire_cdn", start=start):
                return self.cdn_denied("AccessDenied", "Request has expired")
        head = self.command == "HEAD"
        if rng is not None and not head and hub._take(req, "ignore_range"):
            rng = None                           # 200 with everything, Range or not
        if rng == "bad":
            return self.send_raw(416, {"Content-Range": "bytes */%d" % size,
                                       "Content-Type": "text/plain; charset=utf-8"})
        if rng is None:
            start, end, status = 0, size, 200
        else:
            start, end, status = rng.start, rng.end, 206
            cr = start
            f = None if head else hub._take(req, "bad_content_range")
            if f:
                off = int(f.params.get("offset", 7))
                cr = start + off if start + off < end else max(0, start - off)
            h["Content-Range"] = "bytes %d-%d/%d" % (cr, end - 1, size)
        f = None if head else hub._take(req, "lying_length")
        if f:                                    # says `length`; sends the bytes, then zeros
            length = int(f.params.get("length", size + 1))
            self.send_head(status, h, length)
            self._write_body(content, start, end)
            zeros, left = b"\0" * 65536, length - (end - start)
            while left > 0 and not hub._stopping.is_set():
                self.wfile.write(zeros[:min(left, len(zeros))])
                req.response_bytes += min(left, len(zeros))
                left -= len(zeros)
            return
        self.send_head(status, h, end - start)
        if self.command != "HEAD":
            self._write_body(content, start, end)

    # --- auth ---
    def token(self):
        """Bearer token, else the m_session_id cookie (MS §1.3)."""
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            return auth[7:].strip() or None
        for part in (self.req.headers.get("cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k == "m_session_id" and v:
                return v
        return None

    def user(self):
        tok = self.token()
        return self.hub.tokens.get(tok) if tok else None

    # ======================================================= CDN
    def cdn_denied(self, code, message):
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
                "<Message>%s</Message><RequestId>%s</RequestId><HostId>hubemu-cdn</HostId>"
                "</Error>\n" % (code, message, uuid.uuid4().hex.upper()[:24])).encode()
        return self.send_raw(403, {"Content-Type": "application/xml"}, body)

    def route_cdn(self):
        """/{ms|hf}/<key>/<path>?Expires=<epoch>&Signature=<hex> (a signed URL)."""
        hub, req = self.hub, self.req
        if emu_upload.route_storage(self):       # upload PUTs (emu_upload.py)
            return
        parts = req.path.split("/", 3)
        if self.command not in ("GET", "HEAD"):
            return self.cdn_denied("MethodNotAllowed", "The specified method is not allowed")
        obj = hub.cdn_objects.get(parts[2]) if len(parts) == 4 else None
        if obj is None:
            return self.send_raw(404, {"Content-Type": "application/xml"},
                                 b"<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code></Error>\n")
        repo, commit, path = obj
        req.file_path = path
        expires = (req.query.get("Expires") or [""])[0]
        sig = (req.query.get("Signature") or [""])[0]
        if not hmac.compare_digest(sig, hub._sign(parts[2], path, expires)):
            return self.cdn_denied("SignatureDoesNotMatch", "The request signature we calculated "
                                   "does not match the signature you provided.")
        if int(expires) < time.time():
            return self.cdn_denied("AccessDenied", "Request has expired")
        content = repo.content(repo.snapshots[commit], path)
        name = path.rsplit("/", 1)[-1]
        h = {"Cache-Control": "public, max-age=31536000",
             "Last-Modified": time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                                            time.gmtime(repo.snapshots[commit].created_at))}
        if repo.hub_kind == "hf":                # cas-bridge style headers (HF §1.3)
            h["ETag"] = '"%s"' % content.sha256
            h["Content-Disposition"] = ("inline; filename*=UTF-8''%s; filename=\"%s\";"
                                        % (urllib.parse.quote(name), name))
        else:                                    # OSS style: an opaque upper-case etag
            h["ETag"] = '"%s"' % hashlib.md5(("%s%s" % (commit, path)).encode()).hexdigest().upper()
        self.serve_content(content, path, h)

    # ======================================================= hub routing
    def route_hub(self):
        if emu_upload.route_hub(self):           # create, LFS batch, commit (emu_upload.py)
            return
        p = self.req.path
        if p.startswith("/api/v1/") or p.startswith("/openapi/v1/"):
            return self.route_ms()
        if p == "/api/whoami-v2":
            return self.hf_whoami()
        if p.startswith("/api/resolve-cache/"):
            return self.hf_resolve_cache()
        if p.startswith("/api/"):
            return self.route_hf_api()
        if "/resolve/" in self.raw_path_only():
            return self.hf_resolve()
        return self.send_text(404, "Not Found")

    def raw_path_only(self):
        return urllib.parse.urlsplit(self.req.raw_path).path

    # ======================================================= ModelScope
    def ms_envelope(self, status, data=None, message="success", extra=None, raw_data=None):
        """Legacy envelope with the HTTP status mirrored in Code (MS §1.2, §8).
        raw_data: Data already encoded as JSON."""
        body = {"Code": status, "Success": status == 200, "Message": message,
                "RequestId": uuid.uuid4().hex}
        if data is not None:
            body["Data"] = data
        body.update(extra or {})
        if raw_data is None:
            return self.send_json(status, body)
        head = json.dumps(body, ensure_ascii=False)
        return self.send_json(status, None, encoded=head[:-1] + ', "Data": ' + raw_data + "}")

    def openapi(self, status, data=None, message="success", code=None):
        """OpenAPI envelope (MS §1.2)."""
        if status == 200:
            return self.send_json(200, {"success": True, "request_id": uuid.uuid4().hex,
                                        "data": data})
        return self.send_json(status, {"success": False, "code": code or str(status),
                                       "message": message, "request_id": uuid.uuid4().hex})

    def ms_find(self, rtype, owner, name=None, by_id=False):
        hub = self.hub
        if by_id:
            return next((r for r in hub.repos.values() if r.hub_kind == "ms" and r.type == rtype
                         and str(r.numeric_id) == owner), None)
        return hub.repos.get(("ms", rtype, "%s/%s" % (owner, name)))

    def ms_access(self, repo, rtype):
        """None when allowed, else the error already sent: missing → 404
        模型不存在/数据集不存在; private → 401 without a token, 403 with an
        invalid one (MS §2.3, §1.5)."""
        if repo is None:
            return self.ms_envelope(404, message="模型不存在" if rtype == "model" else "数据集不存在") or 1
        if repo.private:
            tok = self.token()
            if not tok:
                return self.ms_envelope(401, message="用户未登录") or 1
            if tok not in self.hub.tokens:
                return self.ms_envelope(403, message="the token does not exist or is invalid") or 1
        return None

    def ms_rev(self, repo):
        """Snapshot for the Revision query (default branch), or None after a 404."""
        rev = (self.req.query.get("Revision") or [""])[0] or repo.default_branch
        snap = repo.resolve(rev)
        if snap is None:
            valid = list(repo.branches) + list(repo.tags)
            self.ms_envelope(404, message="Revision %s not found in %s %s; valid revisions: %s"
                             % (rev, repo.type, repo.id, ", ".join(valid)))
        return snap

    def ms_entry(self, repo, snap, path):
        c = snap.files[path]
        fc = snap.file_commits[path]
        return {"CommitMessage": snap.message, "CommittedDate": snap.created_at,
                "CommitterName": "hubemu", "InCheck": False, "IsLFS": repo.is_lfs(path, c),
                "Mode": "33188", "Name": path.rsplit("/", 1)[-1], "Path": path, "Revision": fc,
                "Sha256": repo.sha256_override.get(path, c.sha256), "Size": c.size,
                "Type": "blob"}

    def ms_extra(self, repo, snap, e):
        """An injected entry, completed so it looks like a real one."""
        e = {k: v for k, v in e.items() if k != "_content"}
        data = repo.extra_content(e["Path"]).data
        base = {"CommitMessage": snap.message, "CommittedDate": snap.created_at,
                "CommitterName": "hubemu", "InCheck": False, "IsLFS": False, "Mode": "33188",
                "Name": e["Path"].rsplit("/", 1)[-1], "Revision": snap.commit,
                "Sha256": _sha256(data), "Size": len(data), "Type": "blob"}
        base.update(e)
        return base

    def ms_files_json(self, repo, snap, root, recursive):
        """{"Files": [...]} encoded, made once per snapshot and query while the repo's
        listing knobs stay as they are: rebuilding and encoding a 2000-file listing
        took ~10 ms of the emulator's CPU per request, on the cores the client under
        test shares (make bench)."""
        key = (snap.commit, root, recursive, id(repo.lfs_rule),
               json.dumps(repo.sha256_override, sort_keys=True),
               json.dumps(repo.extra_entries, sort_keys=True, default=repr))
        memo = repo.__dict__.setdefault("_files_json", {})
        if key not in memo:
            if len(memo) > 32:
                memo.clear()
            memo[key] = json.dumps({"Files": self.ms_entries(repo, snap, root, recursive)},
                                   ensure_ascii=False)
        return memo[key]

    def ms_entries(self, repo, snap, root="", recursive=True):
        """Files and (directory) tree entries under root (MS §2.8)."""
        root = root.strip("/")
        depth = root.count("/") + 1 if root else 0

        def wanted(p):
            if root and not p.startswith(root + "/"):
                return False
            return recursive or p.count("/") == depth

        out = []
        for d in Repo.dirs(snap):
            if wanted(d):
                out.append({"CommitMessage": snap.message, "CommittedDate": snap.created_at,
                            "CommitterName": "hubemu", "InCheck": False, "IsLFS": False,
                            "Mode": "16384", "Name": d.rsplit("/", 1)[-1], "Path": d,
                            "Revision": snap.commit, "Sha256": "", "Size": 0, "Type": "tree"})
        out.extend(self.ms_entry(repo, snap, p) for p in sorted(snap.files) if wanted(p))
        out.extend(self.ms_extra(repo, snap, e) for e in repo.extra_entries)
        return out

    def ms_info(self, repo):
        return emu_search.ms_info(repo)          # emu_search.py

    def ms_openapi_item(self, repo):
        return emu_search.ms_openapi_item(repo)  # emu_search.py

    def route_ms(self):
        q, p = self.req.query, self.req.path
        seg = [s for s in p.split("/") if s]
        cmd = self.command
        if p == "/api/v1/login" and cmd == "POST":
            return self.ms_login()
        if p == "/openapi/v1/users/me":          # MS §2.2: Bearer required
            u = self.user()
            if not u:
                return self.openapi(401, message="用户未登录", code="Unauthorized")
            return self.openapi(200, {"id": 1, "username": u, "email": u + "@example.com",
                                      "avatar_url": "", "description": ""})
        if p == "/api/v1/repos/internalAccelerationInfo":  # MS §2.13: no acceleration
            return self.ms_envelope(404, message="not found")
        if seg[:2] == ["openapi", "v1"] and len(seg) == 3 and seg[2] in ("models", "datasets"):
            return self.ms_openapi_list(seg[2][:-1])
        if seg[:2] == ["openapi", "v1"] and len(seg) == 5 and seg[2] in ("models", "datasets"):
            return emu_search.ms_openapi_get(self, seg[2][:-1], seg[3], seg[4])   # MS §2.4
        if seg[:2] != ["api", "v1"] or len(seg) < 3 or seg[2] not in ("models", "datasets"):
            return self.ms_envelope(404, message="no such endpoint: %s %s" % (cmd, p))
        rtype = seg[2][:-1]
        if len(seg) == 3:                        # legacy owner listings (MS §2.14)
            return self.ms_legacy_list(rtype)
        if rtype == "dataset" and seg[3].isdigit() and seg[4:] == ["repo", "tree"]:
            repo = self.ms_find(rtype, seg[3], by_id=True)     # by numeric Id (MS §2.11)
            return self.ms_access(repo, rtype) or self.ms_tree(repo)
        if len(seg) < 5:
            return self.ms_envelope(404, message="no such endpoint: %s %s" % (cmd, p))
        repo = self.ms_find(rtype, seg[3], seg[4])
        rest = seg[5:]
        if rest == ["repo"]:
            self.req.file_path = (q.get("FilePath") or [None])[0]
        if self.ms_access(repo, rtype):
            return
        if cmd not in ("GET", "HEAD"):
            return self.ms_envelope(405, message="method %s not supported here" % cmd)
        if not rest:                             # MS §2.3, §2.10
            return self.ms_envelope(200, self.ms_info(repo))
        if rest == ["revisions"]:
            return self.ms_revisions(repo)
        if rest == ["commits"]:
            return self.ms_commits(repo)
        if rest == ["repo", "files"]:            # MS §2.8: one unpaged response
            snap = self.ms_rev(repo)
            if snap is None:
                return
            recursive = _truthy((q.get("Recursive") or ["False"])[0])
            root = (q.get("Root") or [""])[0]
            return self.ms_envelope(200, raw_data=self.ms_files_json(repo, snap, root, recursive))
        if rest == ["repo", "tree"]:
            return self.ms_tree(repo)
        if rest == ["repo"]:
            return self.ms_download(repo)
        return self.ms_envelope(404, message="no such endpoint: %s %s" % (cmd, p))

    def ms_login(self):
        """MS §2.1: Data.{AccessToken,Username,Email} + Set-Cookie m_session_id."""
        try:
            tok = json.loads(self.req.body or b"{}").get("AccessToken")
        except (ValueError, AttributeError):
            tok = None
        u = self.hub.tokens.get(tok) if isinstance(tok, str) else None
        if not u:
            return self.ms_envelope(401, message="用户未登录")
        exp = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30 * 86400))
        self.extra_headers["Set-Cookie"] = "m_session_id=%s; Path=/; Expires=%s; HttpOnly" % (tok, exp)
        return self.ms_envelope(200, {"AccessToken": "git-" + hashlib.sha1(tok.encode()).hexdigest(),
                                      "Username": u, "Email": u + "@example.com"})

    def ms_revisions(self, repo):
        """MS §2.5: every entry has CreatedAt; tags newest first; EndTime filters tags."""
        end = (self.req.query.get("EndTime") or [""])[0]
        tags = [(t, repo.tag_times.get(t, repo.snapshots[repo.tags[t]].created_at))
                for t in reversed(list(repo.tags))]
        if end.isdigit():
            tags = [(t, at) for t, at in tags if at <= int(end)]
        return self.ms_envelope(200, {"RevisionMap": {
            "Branches": [{"Revision": b, "CreatedAt": repo.snapshots[c].created_at, "CommitId": c}
                         for b, c in repo.branches.items()],
            "Tags": [{"Revision": t, "CreatedAt": at, "CommitId": repo.tags[t]} for t, at in tags]}})

    def ms_commits(self, repo):
        """MS §2.6: Data.Commit[], TotalCount at top level."""
        q = self.req.query
        snap = repo.resolve((q.get("Ref") or [""])[0] or repo.default_branch)
        if snap is None:
            return self.ms_envelope(404, message="ref not found")
        chain = []
        while snap is not None:
            chain.append(snap)
            snap = snap.parent
        page, size = self._page(q, "PageNumber", "PageSize", 50)
        items = [{"Id": s.commit, "ShortId": s.commit[:8], "Title": s.message, "Message": s.message,
                  "AuthorName": "hubemu", "AuthorEmail": "hubemu@example.com",
                  "AuthoredDate": s.created_at, "CommitterName": "hubemu",
                  "CommitterEmail": "hubemu@example.com", "CommittedDate": s.created_at,
                  "CreatedAt": s.created_at} for s in chain[(page - 1) * size:page * size]]
        return self.ms_envelope(200, {"Commit": items}, extra={"TotalCount": len(chain)})

    @staticmethod
    def _page(q, pkey, skey, default_size):
        try:
            page = max(1, int((q.get(pkey) or ["1"])[0]))
            size = max(1, int((q.get(skey) or [str(default_size)])[0]))
        except ValueError:
            page, size = 1, default_size
        return page, size

    def ms_tree(self, repo):
        """MS §2.11: dataset tree paged by PageNumber/PageSize (a client asks for
        the next page while a page is full; tree entries count)."""
        q = self.req.query
        snap = self.ms_rev(repo)
        if snap is None:
            return
        recursive = _truthy((q.get("Recursive") or ["False"])[0])
        root = (q.get("Root") or ["/"])[0]
        entries = self.ms_entries(repo, snap, "" if root in ("", "/") else root, recursive)
        page, size = self._page(q, "PageNumber", "PageSize", 100)   # default [inferred]
        return self.ms_envelope(200, {"Files": entries[(page - 1) * size:page * size]})

    def ms_download(self, repo):
        """MS §2.9/§2.12: GET|HEAD …/repo?Revision=&FilePath= (form-decoded).
        With a CDN: 302 to a signed URL; else the bytes with Range support."""
        path = self.req.file_path
        snap = self.ms_rev(repo)
        if snap is None:
            return
        content = repo.content(snap, path) if path else None
        if content is None:
            return self.ms_envelope(404, message="file %s not found in %s at %s"
                                    % (path, repo.id, snap.commit) if path
                                    else "FilePath is required")
        url = self.hub._cdn_location(repo, snap, path)
        if url:
            return self.send_raw(302, {"Location": url, "Content-Type": "text/plain; charset=utf-8"},
                                 ("Found. Redirecting to %s" % url).encode())
        name = path.rsplit("/", 1)[-1]
        return self.serve_content(content, path, {
            "Content-Disposition": "attachment; filename=\"%s\"" % name})

    def ms_openapi_list(self, rtype):
        """MS §2.14: GET /openapi/v1/{models|datasets}?search&owner|author&sort&page_number&page_size."""
        return emu_search.ms_openapi_list(self, rtype)

    def ms_legacy_list(self, rtype):
        """MS §2.14: PUT /api/v1/models/ {"Path": owner, …} and GET /api/v1/datasets?owner=."""
        return emu_search.ms_legacy_list(self, rtype)

    # ======================================================= Hugging Face
    def hf_error(self, status, code, message, commit=None):
        """HF §1.2: X-Error-Code / X-Error-Message; JSON on /api, text elsewhere."""
        h = {"X-Error-Message": message}
        if code:
            h["X-Error-Code"] = code
        if commit and not self.hub._take(self.req, "no_repo_commit"):
            h["X-Repo-Commit"] = commit
        if self.req.path.startswith("/api/"):
            return self.send_raw(status, dict(h, **{"Content-Type": "application/json; charset=utf-8"}),
                                 json.dumps({"error": message}).encode())
        return self.send_text(status, message, h)

    def hf_access(self, repo, what="Repository"):
        """None when the repo may be read, else the error already sent (HF §1.2).
        An unknown token is rejected like the Hub does; a missing or private repo
        is a 401 RepoNotFound without a token and a 404 with one."""
        tok = self.token()
        user = self.hub.tokens.get(tok) if tok else None
        if tok and not user:
            return self.hf_error(401, None, "Invalid credentials in Authorization header") or 1
        if repo is None or (repo.private and not user):
            if user:
                return self.hf_error(404, "RepoNotFound", "Repository not found") or 1
            return self.hf_error(401, "RepoNotFound", "Repository Not Found for url: %s%s."
                                 % (self.hub.url, self.req.raw_path)) or 1
        return None

    def hf_gate(self, repo):
        """Gated repos: files need a token (401) of an approved user (403)."""
        if not repo.gated:
            return None
        user = self.user()
        kind = "dataset" if repo.type == "dataset" else "model"
        if not user:
            return self.hf_error(401, "GatedRepo", "Access to %s %s is restricted. You must have "
                                 "access to it and be authenticated to access it. Please log in."
                                 % (kind, repo.id)) or 1
        if user not in repo.gated_allow:
            return self.hf_error(403, "GatedRepo", "Access to %s %s is restricted and you are not "
                                 "in the authorized list. Visit https://huggingface.co/%s%s to ask "
                                 "for access." % (kind, repo.id,
                                                  "datasets/" if kind == "dataset" else "",
                                                  repo.id)) or 1
        return None

    def hf_find(self, rtype, segs):
        """(repo, remaining segments): ids have two segments, or one (gpt2)."""
        repos = self.hub.repos
        if len(segs) >= 2 and ("hf", rtype, "/".join(segs[:2])) in repos:
            return repos[("hf", rtype, "/".join(segs[:2]))], segs[2:]
        if segs and ("hf", rtype, segs[0]) in repos:
            return repos[("hf", rtype, segs[0])], segs[1:]
        return None, segs[2:]

    @staticmethod
    def _rev_and_rest(rest):
        """The revision at rest[0] (already %-decoded; an unquoted refs/pr/N is
        accepted too) and what follows."""
        if len(rest) >= 3 and rest[0] == "refs" and rest[1] in ("pr", "convert"):
            return "/".join(rest[:3]), rest[3:]
        return (rest[0], rest[1:]) if rest else (None, [])

    def hf_tree_entries(self, repo, snap, prefix="", expand=False):
        out = []
        for d in Repo.dirs(snap):
            if not prefix or d.startswith(prefix + "/"):
                out.append({"type": "directory", "oid": hashlib.sha1(("tree:%s:%s" % (
                    snap.commit, d)).encode()).hexdigest(), "size": 0, "path": d})
        for p in sorted(snap.files):
            if prefix and not p.startswith(prefix + "/"):
                continue
            c = snap.files[p]
            if repo.is_lfs(p, c):
                sha = repo.sha256_override.get(p, c.sha256)
                ptr = lfs_pointer(sha, c.size)
                # oid: the blob sha1 of the pointer text; size: the real size (HF §1.5, §3)
                e = {"type": "file", "oid": git_blob_sha1(ptr), "size": c.size, "path": p,
                     "lfs": {"oid": sha, "size": c.size, "pointerSize": len(ptr)}}
            else:
                e = {"type": "file", "oid": repo.sha256_override.get(p, c.git_sha1),
                     "size": c.size, "path": p}
            if expand:
                e["lastCommit"] = {"id": snap.file_commits[p], "title": snap.message,
                                   "date": _iso(snap.created_at)}
            out.append(e)
        for e in repo.extra_tree_entries:
            e = {k: v for k, v in e.items() if k != "_content"}
            data = repo.extra_content(e["path"]).data
            full = {"type": "file", "oid": git_blob_sha1(data), "size": len(data)}
            full.update(e)
            out.append(full)
        return out

    def hf_info(self, repo, snap, rtype):
        return emu_search.hf_info(self, repo, snap, rtype)

    def route_hf_api(self):
        raw = self.raw_path_only()
        segs = [urllib.parse.unquote(s) for s in raw.strip("/").split("/")]
        if len(segs) == 2 and segs[1] in ("models", "datasets"):
            return self.hf_list(segs[1][:-1])
        if len(segs) < 3 or segs[1] not in ("models", "datasets", "spaces"):
            return self.hf_error(404, None, "Sorry, we can't find the page you are looking for.")
        rtype = segs[1][:-1]
        repo, rest = self.hf_find(rtype, segs[2:])
        if self.hf_access(repo):
            return
        q = self.req.query
        op = rest[0] if rest else "revision"
        if op == "paths-info" and self.command != "POST":
            return self.hf_error(405, None, "Method not allowed")
        if op != "paths-info" and self.command not in ("GET", "HEAD"):
            return self.hf_error(405, None, "Method not allowed")
        if op == "refs":
            return self.hf_refs(repo)
        if op not in ("revision", "tree", "paths-info", "commits"):
            return self.hf_error(404, None, "Sorry, we can't find the page you are looking for.")
        rev, tail = self._rev_and_rest(rest[1:])
        rev = rev or repo.default_branch
        snap = repo.resolve(rev)
        if snap is None:                         # HF §1.4, §1.5
            return self.hf_error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
        if op == "revision":
            return emu_search.hf_repo_info(self, repo, snap, rtype)
        if op == "commits":
            return self.hf_commits(snap)
        if op == "paths-info":
            return self.hf_paths_info(repo, snap)
        # tree (HF §1.5): entries paginated with Link rel="next" (HF §1.6)
        prefix = "/".join(tail).strip("/")
        expand = _truthy((q.get("expand") or [""])[0])
        entries = self.hf_tree_entries(repo, snap, prefix, expand)
        if not _truthy((q.get("recursive") or [""])[0]):
            depth = prefix.count("/") + 1 if prefix else 0
            entries = [e for e in entries if e["path"].count("/") == depth]
        if prefix and not entries:
            return self.hf_error(404, "EntryNotFound", "%s does not exist on \"%s\"" % (prefix, rev))
        return self.hf_paged(entries, (50 if expand else 1000))

    def hf_paged(self, items, cap):
        """One page of items; Link: <absolute url with cursor>; rel="next"."""
        q = self.req.query
        size = max(1, min(int(self.hub.hf_tree_page_size), cap))
        try:
            if (q.get("limit") or [""])[0]:
                size = max(1, int(q["limit"][0]))
            cursor = int(base64.urlsafe_b64decode((q.get("cursor") or [""])[0] + "==").decode()
                         or 0) if q.get("cursor") else 0
        except (ValueError, UnicodeDecodeError):
            return self.hf_error(400, None, "Invalid cursor")
        page = items[cursor:cursor + size]
        headers = {}
        if cursor + size < len(items):
            nq = [(k, v) for k, vs in q.items() if k != "cursor" for v in vs]
            nq.append(("cursor", base64.urlsafe_b64encode(str(cursor + size).encode())
                       .decode().rstrip("=")))
            headers["Link"] = '<%s%s?%s>; rel="next"' % (self.hub.url, self.raw_path_only(),
                                                          urllib.parse.urlencode(nq))
        return self.send_json(200, page, headers, shape="hf")

    def hf_paths_info(self, repo, snap):
        """HF §1.5: form body paths=a&paths=b&expand=false, or JSON {"paths": [...]}."""
        body = self.req.body or b""
        paths, expand = [], False
        if "json" in (self.headers.get("Content-Type") or "") or body[:1] in (b"{", b"["):
            try:
                doc = json.loads(body or b"{}")
                paths = doc.get("paths", []) if isinstance(doc, dict) else []
                expand = isinstance(doc, dict) and bool(doc.get("expand"))
            except ValueError:
                return self.hf_error(400, None, "Invalid JSON body")
        else:
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
            paths = form.get("paths", []) + form.get("paths[]", [])
            expand = _truthy((form.get("expand") or [""])[0])
        entries = {e["path"]: e for e in self.hf_tree_entries(repo, snap, expand=expand)}
        out = [entries[p.strip("/")] for p in paths if isinstance(p, str) and p.strip("/") in entries]
        return self.send_json(200, out, shape="hf")

    def hf_refs(self, repo):
        """HF §1.7: branches, converts, tags (+ pullRequests with include_prs)."""
        prs = [b for b in repo.branches if b.startswith("refs/pr/")]
        body = {"branches": [{"name": b, "ref": "refs/heads/" + b, "targetCommit": c}
                             for b, c in repo.branches.items() if b not in prs],
                "converts": [],
                "tags": [{"name": t, "ref": "refs/tags/" + t, "targetCommit": c}
                         for t, c in repo.tags.items()]}
        if _truthy((self.req.query.get("include_prs") or [""])[0]):
            body["pullRequests"] = [{"name": b, "ref": b, "targetCommit": repo.branches[b]}
                                    for b in prs]
        return self.send_json(200, body, shape="hf")

    def hf_commits(self, snap):
        chain = []
        while snap is not None:
            chain.append({"id": snap.commit, "title": snap.message, "message": snap.message,
                          "authors": [{"user": "hubemu"}], "date": _iso(snap.created_at)})
            snap = snap.parent
        return self.hf_paged(chain, 1000)

    def hf_list(self, rtype):
        """GET /api/models|datasets?search&author&limit (HF §6), Link-paginated."""
        return emu_search.hf_list(self, rtype)

    def hf_whoami(self):
        """HF §1.8 (401 without or with a bad token)."""
        u = self.user()
        if not u:
            return self.hf_error(401, None, "Invalid credentials in Authorization header")
        return self.send_json(200, {
            "type": "user", "id": hashlib.sha1(u.encode()).hexdigest()[:24], "name": u,
            "fullname": u.title(), "email": u + "@example.com", "emailVerified": True,
            "isPro": False, "canPay": False, "avatarUrl": "", "periodEnd": None,
            "orgs": self.hub._hf_orgs(u),        # hub.orgs (emu_upload)
            "auth": {"type": "access_token", "accessToken": {
                "displayName": "hubemu", "role": self.hub._token_role(self.token()),
                "createdAt": _iso(EPOCH)}}}, shape="hf")

    def hf_resolve(self):
        """HF §1.3: HEAD|GET /{prefix}{repo}/resolve/{rev}/{path}.
        Regular file: 307 to a relative /api/resolve-cache/… URL.  LFS file: 302
        to the CDN with X-Linked-Etag (sha256), X-Linked-Size and an ETag that is
        not the sha256.  Missing: 404 EntryNotFound with X-Repo-Commit."""
        raw = self.raw_path_only()
        segs = [urllib.parse.unquote(s) for s in raw.strip("/").split("/")]
        rtype = "model"
        if segs and segs[0] in ("datasets", "spaces"):
            rtype, segs = segs[0][:-1], segs[1:]
        if "resolve" not in segs:
            return self.send_text(404, "Not Found")
        i = segs.index("resolve")
        repo, extra = self.hf_find(rtype, segs[:i])
        rev, tail = self._rev_and_rest(segs[i + 1:])
        path = "/".join(tail)
        self.req.file_path = path
        if extra:
            repo = None
        if self.hf_access(repo) or self.hf_gate(repo):
            return
        snap = repo.resolve(rev) if rev else None
        if snap is None:
            return self.hf_error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
        content = repo.content(snap, path) if path else None
        if content is None:
            return self.hf_error(404, "EntryNotFound", "Entry not found", snap.commit)
        h = {}
        if not self.hub._take(self.req, "no_repo_commit"):
            h["X-Repo-Commit"] = snap.commit
        if path in snap.files and repo.is_lfs(path, content):
            sha = repo.sha256_override.get(path, content.sha256)
            h.update({"X-Linked-Etag": '"%s"' % sha, "X-Linked-Size": str(content.size)})
            url = self.hub._cdn_location(repo, snap, path)
            if url is None:                      # no CDN: the hub serves the bytes
                h["ETag"] = '"%s"' % sha
                return self.serve_content(content, path, h)
            h.update({"Location": url, "Content-Type": "text/plain; charset=utf-8",
                      "ETag": '"%s"' % hashlib.sha1(("etag:%s:%s" % (snap.commit, path))
                                                    .encode()).hexdigest(),
                      "Vary": "Origin, Accept"})
            return self.send_raw(302, h, ("Found. Redirecting to %s" % url).encode())
        # regular file: a relative 307 to resolve-cache, as the Hub answers now
        etag = repo.sha256_override.get(path, content.git_sha1)
        loc = "/api/resolve-cache/%ss/%s/%s/%s?%s=&etag=%s" % (
            rtype, repo.id, snap.commit, urllib.parse.quote(path),
            urllib.parse.quote(raw, safe=""), urllib.parse.quote('"%s"' % etag, safe=""))
        h.update({"Location": loc, "Content-Type": "text/plain; charset=utf-8"})
        return self.send_raw(307, h, ("Temporary Redirect. Redirecting to %s" % loc).encode())

    def hf_resolve_cache(self):
        """/api/resolve-cache/{type}s/{repo}/{commit}/{path}: 200/206 with
        ETag "<git sha1>", X-Repo-Commit, Content-Length, Accept-Ranges."""
        segs = [urllib.parse.unquote(s) for s in self.raw_path_only().strip("/").split("/")]
        if len(segs) < 5 or segs[2] not in ("models", "datasets", "spaces"):
            return self.send_text(404, "Not Found")
        repo, rest = self.hf_find(segs[2][:-1], segs[3:])
        path = "/".join(rest[1:])
        self.req.file_path = path
        if self.hf_access(repo) or self.hf_gate(repo):
            return
        snap = repo.resolve(rest[0]) if rest else None
        if snap is None:
            return self.hf_error(404, "RevisionNotFound", "Invalid rev id: %s" % (rest[:1] or [""])[0])
        content = repo.content(snap, path) if path else None
        if content is None:
            return self.hf_error(404, "EntryNotFound", "Entry not found", snap.commit)
        sha = repo.sha256_override.get(path, content.sha256)
        lfs = path in snap.files and repo.is_lfs(path, content)
        h = {"ETag": '"%s"' % (sha if lfs else repo.sha256_override.get(path, content.git_sha1))}
        if lfs:
            h.update({"X-Linked-Etag": '"%s"' % sha, "X-Linked-Size": str(content.size)})
        if not self.hub._take(self.req, "no_repo_commit"):
            h["X-Repo-Commit"] = snap.commit
        return self.serve_content(content, path, h)


# ============================================================ the hub

class Hub(emu_upload.UploadMixin):
    """Both hubs on 127.0.0.1 plus, with cdn=True, a CDN on `localhost`.

    hub.url, hub.cdn_url, hub.tokens, hub.log, hub.hf_tree_page_size,
    hub.cdn_ttl; add_ms_repo, add_hf_repo, fault, clear_faults, clear_log,
    body_bytes, max_concurrent, stop."""

    def __init__(self, cdn=True, host="127.0.0.1", cdn_host="localhost", port=0, cdn_port=0,
                 cdn_base=None, **upload_options):
        self.lock = threading.RLock()
        self.repos = {}
        self.faults = []
        self.log = []
        self.tokens = dict(DEFAULT_TOKENS)
        self.idle_timeout = None                 # seconds a connection may wait (Handler's 120)
        self.hf_tree_page_size = 1000
        self.hf_list_page_size = 1000            # /api/models|datasets pages (emu_search.py)
        self.ms_list_max_page_size = 50          # /openapi/v1/models|datasets page_size cap
        self.cdn_ttl = 3600                      # lifetime of signed CDN URLs, seconds
        self.cdn_base = cdn_base.rstrip("/") if cdn_base else None
        self.cdn = bool(cdn or cdn_base)
        self.cdn_objects = {}
        self._upload_init(**upload_options)      # orgs, read_only_tokens, hf_* knobs (emu_upload)
        self._ids = 1000
        self._secret = os.urandom(16)
        self._stopping = threading.Event()
        self._conns = set()
        self._servers = []
        self._hub = self._serve(_Server, host, port, "hub")
        self.url = "http://%s:%d" % (host, self._hub.server_address[1])
        self.cdn_url = None
        if cdn and not cdn_base:
            srv = self._serve(_Server, "127.0.0.1", cdn_port, "cdn")
            p = srv.server_address[1]
            if cdn_host == "localhost":          # where localhost is also ::1
                try:
                    self._serve(_Server6, "::1", p, "cdn")
                except OSError:
                    pass
            self.cdn_url = "http://%s:%d" % (cdn_host, p)
        elif cdn_base:
            self.cdn_url = self.cdn_base

    def _serve(self, cls, host, port, role):
        srv = cls((host, port), Handler)
        srv.hub, srv.role = self, role
        t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                             name="hubemu-" + role, daemon=True)
        t.start()
        self._servers.append(srv)
        return srv

    def _next_id(self):
        with self.lock:
            self._ids += 1
            return self._ids

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        """Stop listening and cut every open connection (stalls end at once)."""
        self._stopping.set()
        for srv in self._servers:
            if not getattr(srv, "stopped", False):
                srv.stopped = True
                srv.shutdown()
                srv.server_close()
        with self.lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _conn_opened(self, c):
        with self.lock:
            self._conns.add(c)

    def _conn_closed(self, c):
        with self.lock:
            self._conns.discard(c)

    def wait_idle(self, timeout=10.0):
        """Wait until no connection is open, so that what a killed client had sent has
        been answered and logged: True, or False after timeout seconds."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if not self._conns:
                    return True
            time.sleep(0.01)
        return False

    # --- repos ---
    @staticmethod
    def _revs(spec):
        if spec is None:
            return {}
        if isinstance(spec, dict):
            return spec
        return {name: None for name in spec}

    def add_ms_repo(self, repo_id, type="model", files=None, revision="master", tags=None,
                    private=False, extra_entries=None, sha256_override=None, branches=None,
                    lfs=None, **meta):
        """A ModelScope repo.  tags/branches: {name: None (same content as
        `revision`) or {path: bytes|FileRef}}; tags are created in order (the
        last one is the newest).  **meta: search metadata (emu_search.MS_DEFAULTS)."""
        if "/" not in repo_id:
            raise ValueError("ModelScope repo ids are owner/name")
        r = Repo(self, "ms", repo_id, type, files or {}, revision, lfs=lfs, private=private,
                 extra_entries=extra_entries, sha256_override=sha256_override)
        emu_search.set_meta(r, meta)
        for b, f in self._revs(branches).items():
            r.add_branch(b, f)
        for t, f in self._revs(tags).items():
            r.add_tag(t, f)
        self.repos[("ms", type, repo_id)] = r
        return r

    def add_hf_repo(self, repo_id, type="model", files=None, lfs=None, branches=None,
                    private=False, gated=False, tags=None, revision="main",
                    sha256_override=None, extra_tree_entries=None, **meta):
        """A Hugging Face repo.  lfs(path, size) -> bool decides LFS files
        (default: >= 1 MiB or *.safetensors).  branches/tags as for add_ms_repo
        (a branch may be called "refs/pr/1").  repo.gated_allow: approved users.
        **meta: search metadata (emu_search.HF_DEFAULTS; the Hub's tags are repo_tags)."""
        r = Repo(self, "hf", repo_id, type, files or {}, revision, lfs=lfs, private=private,
                 gated=gated, extra_tree_entries=extra_tree_entries,
                 sha256_override=sha256_override)
        emu_search.set_meta(r, meta)
        for b, f in self._revs(branches).items():
            r.add_branch(b, f)
        for t, f in self._revs(tags).items():
            r.add_tag(t, f)
        self.repos[("hf", type, repo_id)] = r
        return r

    def add_repos(self, which, count, **kw):
        """count small repos on "ms", "hf" or "both" (emu_search.add_repos)."""
        return emu_search.add_repos(self, which, count, **kw)

    # --- CDN URLs ---
    def _sign(self, key, path, expires):
        return hmac.new(self._secret, ("%s|%s|%s" % (key, path, expires)).encode(),
                        hashlib.sha256).hexdigest()

    def _cdn_location(self, repo, snap, path):
        """Absolute signed URL of a file on the CDN, or None without a CDN."""
        if not self.cdn:
            return None
        if self.cdn_base:                        # e.g. nginx serving --serve-dir
            return "%s/%s" % (self.cdn_base, urllib.parse.quote(path))
        key = hashlib.sha1(("%s|%s|%s|%s" % (repo.hub_kind, repo.id, snap.commit, path))
                           .encode()).hexdigest()[:20]
        with self.lock:
            self.cdn_objects[key] = (repo, snap.commit, path)
        expires = str(int(time.time()) + int(self.cdn_ttl))
        return "%s/%s/%s/%s?Expires=%s&Signature=%s" % (
            self.cdn_url, repo.hub_kind, key, urllib.parse.quote(path), expires,
            self._sign(key, path, expires))

    # --- faults ---
    def fault(self, kind, times=1, path=None, server=None, method=None, **params):
        """Script a fault (see README.md); returns the Fault (f.fired counts)."""
        f = Fault(kind, times, path, server, method, params)
        with self.lock:
            self.faults.append(f)
        return f

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def _take(self, req, kind, start=None):
        """The first live fault of `kind` matching req, counted as fired."""
        with self.lock:
            for f in self.faults:
                if f.kind != kind or not f.matches(req):
                    continue
                if kind == "expire_cdn" and start is not None and start < int(f.params.get("after", 0)):
                    continue
                if getattr(f, "skipped", 0) < int(f.params.get("skip", 0) or 0):
                    f.skipped = getattr(f, "skipped", 0) + 1   # skip=N: let N go by first
                    continue
                f.fired += 1
                req.faults.append(kind)
                return f
        return None

    # --- log ---
    def clear_log(self):
        with self.lock:
            self.log = []

    def requests(self, server=None, method=None, path=None):
        """Log entries filtered like faults are matched."""
        with self.lock:
            log = list(self.log)
        return [r for r in log if (server is None or r.server == server)
                and (method is None or r.method == method.upper())
                and (path is None or path in r.path or path in (r.file_path or ""))]

    def body_bytes(self, file_path=None):
        """Content bytes of repo files sent (hub + CDN), optionally for one path."""
        with self.lock:
            return sum(r.body_bytes for r in self.log
                       if file_path is None or r.file_path == file_path)

    def max_concurrent(self, server=None):
        """Most requests in flight at one moment (a connection budget check)."""
        with self.lock:
            spans = [(r.time, r.end or time.time()) for r in self.log
                     if server is None or r.server == server]
        events = sorted([(t, 1) for t, _ in spans] + [(e, -1) for _, e in spans])
        cur = best = 0
        for _, d in events:
            cur += d
            best = max(best, cur)
        return best


# ============================================================ sample and CLI

SAMPLE_REPO = "mscli-demo/tiny-model"
SAMPLE_DATASET = "mscli-demo/tiny-dataset"


def _sample_files():
    """The sample model: config, README, tokenizer and ~3 MB of deterministic weights."""
    rnd = hashlib.sha256(b"mscli-demo").digest()
    weights = bytearray()
    while len(weights) < 3 * 1024 * 1024:
        rnd = hashlib.sha256(rnd).digest()
        weights += rnd * 32
    return {
        "config.json": json.dumps({"architectures": ["TinyForCausalLM"], "hidden_size": 64,
                                   "num_hidden_layers": 2, "vocab_size": 256},
                                  indent=2).encode() + b"\n",
        "README.md": b"# tiny-model\n\nA sample repository served by the mscli hub emulator.\n",
        "tokenizer.json": json.dumps({"version": "1.0",
                                      "model": {"type": "BPE", "vocab": {}}}).encode(),
        "model.safetensors": bytes(weights[:3 * 1024 * 1024]),
    }


def _sample_dataset():
    return {"data/train.jsonl": b'{"text": "hello"}\n' * 100, "README.md": b"# tiny dataset\n"}


def add_samples(hub):
    """--sample: the tiny model and dataset on both hubs."""
    hub.add_ms_repo(SAMPLE_REPO, files=_sample_files(), tags={"v1.0": None})
    hub.add_hf_repo(SAMPLE_REPO, files=_sample_files())
    hub.add_ms_repo(SAMPLE_DATASET, type="dataset", files=_sample_dataset())
    hub.add_hf_repo(SAMPLE_DATASET, type="dataset", files=_sample_dataset())
    emu_search.add_search_samples(hub)           # repos with search metadata


def main(argv=None):
    ap = argparse.ArgumentParser(description="Loopback ModelScope / Hugging Face hub emulator. "
                                 "Prints HUBEMU_URL=… (and HUBEMU_CDN=…), serves until SIGTERM.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cdn-port", type=int, default=0)
    ap.add_argument("--no-cdn", action="store_true", help="serve files from the hub itself")
    ap.add_argument("--sample", action="store_true",
                    help="add %s and %s (ModelScope and Hugging Face), and the search "
                    "samples (emu_search.SEARCH_SAMPLES)" % (SAMPLE_REPO, SAMPLE_DATASET))
    ap.add_argument("--serve-dir", metavar="DIR", help="serve every file under DIR as --repo")
    ap.add_argument("--repo", default="bench/model", help="repo id for --serve-dir")
    ap.add_argument("--type", default="model", choices=["model", "dataset"])
    ap.add_argument("--hub", default="both", choices=["ms", "hf", "both"])
    ap.add_argument("--cdn-base", metavar="URL",
                    help="redirect file downloads (302) to URL/<path> (e.g. nginx serving DIR)")
    ap.add_argument("--upload-base", metavar="URL",
                    help="upload hrefs point at URL (a server that takes PUTs, e.g. nginx)")
    ap.add_argument("--upload-dir", metavar="DIR",
                    help="where the --upload-base server writes (objects found there are "
                    "trusted by their size)")
    ap.add_argument("--hf-list-page-size", type=int, metavar="N",
                    help="page size of /api/models and /api/datasets (default 1000)")
    a = ap.parse_args(argv)
    hub = Hub(cdn=not a.no_cdn, host=a.host, port=a.port, cdn_port=a.cdn_port,
              cdn_base=a.cdn_base, upload_base=a.upload_base, upload_dir=a.upload_dir)
    if a.hf_list_page_size:
        hub.hf_list_page_size = a.hf_list_page_size
    if a.sample:
        add_samples(hub)
    if a.serve_dir:
        files = {}
        for dirpath, dirnames, names in os.walk(a.serve_dir):
            dirnames.sort()
            for n in sorted(names):
                full = os.path.join(dirpath, n)
                files[os.path.relpath(full, a.serve_dir).replace(os.sep, "/")] = FileRef(full)
        for f in files.values():                 # hash now, not during the first request
            f.git_sha1
        if a.hub in ("ms", "both"):
            hub.add_ms_repo(a.repo, type=a.type, files=files)
        if a.hub in ("hf", "both"):
            hub.add_hf_repo(a.repo, type=a.type, files=files)
    print("HUBEMU_URL=%s" % hub.url)
    if hub.cdn_url:
        print("HUBEMU_CDN=%s" % hub.cdn_url)
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
