"""The upload side of the hub emulator (hubemu.py): repo creation, LFS batch,
blob / part PUTs on the storage host, multipart completion, commits.

Standard library only.  hubemu.py imports this module and calls its hooks:
route_hub() before its own hub routing, route_storage() before its CDN routing,
read_body() to read a request body (for the drop_upload fault), emu_control()
for /_hubemu/ paths; its Hub class inherits UploadMixin (the Python API below).
This module never imports hubemu (which may be running as __main__): the
content classes it needs are taken from the module the Hub/Handler came from.

ModelScope (modelscope-protocol.md, "MS"): POST /api/v1/models (JSON),
POST /api/v1/datasets (multipart form), POST /api/v1/repos/{models|datasets}/
{o}/{n}/info/lfs/objects/batch, PUT <href> on the storage host, POST
/api/v1/repos/{models|datasets}/{o}/{n}/commit/{branch} (MS §2.15, §2.16).

Hugging Face (hf-protocol.md, "HF"): POST /api/repos/create, POST
/api/validate-yaml, POST /api/{type}s/{repo}/preupload/{rev}, POST|DELETE
/api/{type}s/{repo}/branch/{branch}, POST {prefix}{repo}.git/info/lfs/objects/
batch (basic and multipart), PUT part / object URLs on the storage host, POST
the completion URL, POST {prefix}{repo}.git/info/lfs/objects/verify, POST
/api/{type}s/{repo}/commit/{rev} (NDJSON) (HF §1.7, §1.9, §4).

See README.md ("Upload side") for the URL shapes, knobs and faults.
"""
import base64
import email.parser
import email.policy
import hashlib
import hmac
import json
import math
import os
import re
import socket
import sys
import time
import urllib.parse
import uuid

# fault kinds this module adds to hubemu.FAULT_KINDS
FAULT_KINDS = ("drop_upload", "commit_lost", "hold_upload")

STORAGE_PREFIX = "/lfs-upload/"

# The .gitattributes a new Hugging Face repo starts with (the Hub's template).
HF_GITATTRIBUTES = "".join("%s filter=lfs diff=lfs merge=lfs -text\n" % p for p in (
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib",
    "*.lfs.*", "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot",
    "*.parquet", "*.pb", "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors",
    "saved_model/**/*", "*.tar.*", "*.tar", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip",
    "*.zst", "*tfevents*"))
HF_DATASET_GITATTRIBUTES = HF_GITATTRIBUTES + "".join(
    "%s filter=lfs diff=lfs merge=lfs -text\n" % p for p in (
        "*.lz4", "*.mds", "*.pcm", "*.sam", "*.raw", "*.aac", "*.flac", "*.mp3", "*.ogg",
        "*.wav", "*.bmp", "*.gif", "*.png", "*.tiff", "*.jpg", "*.jpeg", "*.webp", "*.mp4",
        "*.webm"))

MIB = 1024 * 1024
UPLOAD_DEFAULTS = {
    # HF: LFS objects of at least this size get the multipart transfer when
    # the client offers it ([inferred]: huggingface.js needed multipart for
    # files "above 10MB"); chunk_size of the parts
    "hf_multipart_threshold": 10 * 1000 * 1000,
    "hf_chunk_size": 10 * 1000 * 1000,
    # HF: add a "verify" action to upload actions (HF §4.2)
    "hf_lfs_verify": True,
    # HF preupload: "lfs" at or above this size (HF §4.1, [inferred])
    "hf_lfs_threshold": 10 * MIB,
    # HF commit: a regular ("file") entry larger than this is rejected
    "hf_regular_max": 10 * MIB,
}

MS_EXISTS = {"model": 10010101001, "dataset": 10020101001}      # MS §1.5, §2.15
MS_EXISTS_MESSAGE = "该名称已被注册使用，请重新命名"
MS_NOT_ON_BRANCH = "You can only create or edit files when you are on a branch"
HF_LFS_MISSING = ("Your push was rejected because an LFS pointer pointed to a file that does "
                  "not exist. For instance, this can happen if you used git push --no-verify "
                  "to push your changes. Offending file: - %s")


def _mod(obj):
    """The module (hubemu or __main__) whose classes obj's class lives beside."""
    return sys.modules[type(obj).__module__]


def _now():
    return time.time()


# ============================================================ records

class LfsUpload:
    """One upload href handed out by an LFS batch answer, and what happened to it.

    kind ("ms"/"hf"), repo (id), type, oid, size, user, transfer ("basic" or
    "multipart"), chunk_size and parts (multipart), puts (the PUT Requests of
    a basic upload), part_requests ({part number: [Request, ...]}),
    complete (the object was stored through it), verified (HF verify called),
    completion (the completion Request), max_parts_in_flight."""

    def __init__(self, kind, repo, rtype, oid, size, user, transfer, chunk_size=None, parts=0):
        self.id = uuid.uuid4().hex
        self.kind, self.repo, self.type = kind, repo, rtype
        self.oid, self.size, self.user = oid, size, user
        self.transfer = transfer
        self.chunk_size = chunk_size
        self.parts = parts
        self.puts = []
        self.part_requests = {}
        self.part_data = {}
        self.part_etags = {}
        self.complete = False
        self.verified = False
        self.completion = None
        self.created = _now()

    @property
    def part_puts(self):
        return [r for n in sorted(self.part_requests) for r in self.part_requests[n]]

    @property
    def max_parts_in_flight(self):
        """Most part PUTs of this object in progress at one moment (from the
        arrival of each request's headers to the moment its answer's headers
        were sent: stamped before the client can have read them, so a client
        that waits for each answer is never counted twice, however the
        server's threads are scheduled)."""
        spans = [(r.time, r.answered or r.end or _now()) for r in self.part_puts]
        events = sorted([(t, 1) for t, _ in spans] + [(e, -1) for _, e in spans])
        cur = best = 0
        for _, d in events:
            cur += d
            best = max(best, cur)
        return best

    def as_dict(self):
        return {"kind": self.kind, "repo": self.repo, "type": self.type, "oid": self.oid,
                "size": self.size, "user": self.user, "transfer": self.transfer,
                "chunk_size": self.chunk_size, "parts": self.parts,
                "part_puts": len(self.part_puts), "puts": len(self.puts),
                "complete": self.complete, "verified": self.verified,
                "max_parts_in_flight": self.max_parts_in_flight}

    def __repr__(self):
        return "<LfsUpload %s %s %s %s %d%s>" % (self.kind, self.repo, self.transfer,
                                                 self.oid[:12], self.size,
                                                 " complete" if self.complete else "")


class UploadCommit:
    """A commit made through a commit endpoint (not the initial commit of a
    created repo, not Repo.commit_files called by a test)."""

    def __init__(self, kind, repo, rtype, branch, commit, parent, message, added, deleted,
                 user, pr=None):
        self.kind, self.repo, self.type, self.branch = kind, repo, rtype, branch
        self.commit, self.parent, self.message = commit, parent, message
        self.added, self.deleted = added, deleted     # {path: "lfs"|"regular"}, [path]
        self.user, self.pr, self.time = user, pr, _now()

    def as_dict(self):
        return {"kind": self.kind, "repo": self.repo, "type": self.type, "branch": self.branch,
                "commit": self.commit, "parent": self.parent, "message": self.message,
                "added": self.added, "deleted": self.deleted, "user": self.user, "pr": self.pr}

    def __repr__(self):
        return "<UploadCommit %s %s@%s %s>" % (self.kind, self.repo, self.branch, self.commit[:12])


# ============================================================ the Hub API

class UploadMixin:
    """Upload state and helpers of the Hub (hubemu.Hub inherits this)."""

    def _upload_init(self, orgs=None, read_only_tokens=None, upload_base=None, upload_dir=None,
                     **knobs):
        unknown = set(knobs) - set(UPLOAD_DEFAULTS)
        if unknown:
            raise TypeError("unknown Hub option(s): %s" % ", ".join(sorted(unknown)))
        for k, v in UPLOAD_DEFAULTS.items():
            setattr(self, k, knobs.get(k, v))
        # org name -> set of member user names (both hubs)
        self.orgs = {k: set(v) for k, v in (orgs or {}).items()}
        self.read_only_tokens = set(read_only_tokens or ())
        self.lfs_store = {"ms": {}, "hf": {}}    # kind -> {sha256: bytes}
        # storage on a real server (nginx with PUT, the benchmark): hrefs point at
        # upload_base, whose files are upload_dir; objects there are trusted by size
        self.upload_base = upload_base.rstrip("/") if upload_base else None
        self.upload_dir = upload_dir
        self._lfs_uploads = {}                   # id -> LfsUpload (insertion order)
        self._upload_commits = []

    # --- permissions ---
    def can_write(self, user, namespace):
        """May `user` create / commit in `namespace` (own name, or an org of hub.orgs)?"""
        return bool(user) and (namespace == user or user in self.orgs.get(namespace, ()))

    def _hf_orgs(self, user):
        return [{"type": "org", "id": hashlib.sha1(o.encode()).hexdigest()[:24], "name": o,
                 "fullname": o.title(), "email": None, "canPay": False, "avatarUrl": "",
                 "periodEnd": None, "roleInOrg": "write"}
                for o in sorted(self.orgs) if user in self.orgs[o]]

    def _token_role(self, token):
        return "read" if token in self.read_only_tokens else "write"

    # --- LFS objects ---
    def add_lfs_object(self, kind, data):
        """Put bytes into a hub's LFS storage (as if uploaded earlier); returns the oid."""
        oid = hashlib.sha256(data).hexdigest()
        with self.lock:
            self.lfs_store[kind][oid] = bytes(data)
        return oid

    def lfs_object(self, kind, oid):
        """The bytes of a stored LFS object (uploaded, or an LFS file of any repo), or None."""
        c = self._lfs_content(kind, oid)
        return None if c is None else (c if isinstance(c, bytes) else c.read(0, c.size))

    def _lfs_content(self, kind, oid, size=None):
        """bytes (store) or a repo content object with that sha256 (and size), or None."""
        with self.lock:
            data = self.lfs_store[kind].get(oid)
            if data is not None:
                got = len(data) if isinstance(data, bytes) else data.size
                return data if size is None or got == size else None
            repos = [r for r in self.repos.values() if r.hub_kind == kind]
        found = self._stored_on_disk(kind, oid, size)
        if found is not None:
            return found
        for r in repos:
            for snap in list(r.snapshots.values()):
                for p, c in list(snap.files.items()):
                    if (size is None or c.size == size) and r.is_lfs(p, c) and c.sha256 == oid:
                        return c
        return None

    def _stored_on_disk(self, kind, oid, size):
        """upload_dir: an object a basic PUT left at its href's path (size checked only)."""
        if not self.upload_dir:
            return None
        for up in self.lfs_uploads(kind, oid):
            path = os.path.join(self.upload_dir, STORAGE_PREFIX.strip("/"), kind, oid, up.id)
            if up.transfer == "basic" and os.path.isfile(path) and \
                    (size is None or os.path.getsize(path) == size) and \
                    os.path.getsize(path) == up.size:
                c = _mod(self).FileRef(path, up.size, oid)
                with self.lock:
                    self.lfs_store[kind][oid] = c
                    up.complete = True
                return c
        return None

    def lfs_uploads(self, kind=None, oid=None, repo=None, complete=None):
        """LfsUpload records (every upload href handed out), oldest first."""
        with self.lock:
            ups = list(self._lfs_uploads.values())
        return [u for u in ups if (kind is None or u.kind == kind) and (oid is None or u.oid == oid)
                and (repo is None or u.repo == repo)
                and (complete is None or u.complete == complete)]

    # --- commits ---
    def upload_commits(self, kind=None, repo=None, branch=None, type=None):
        """UploadCommit records of the commit endpoints, oldest first."""
        with self.lock:
            cs = list(self._upload_commits)
        return [c for c in cs if (kind is None or c.kind == kind) and (repo is None or c.repo == repo)
                and (branch is None or c.branch == branch) and (type is None or c.type == type)]

    def commit_count(self, repo, branch=None, kind=None, type=None):
        """How many commits the commit endpoints made (on one branch, or all)."""
        return len(self.upload_commits(kind, repo, branch, type))

    def get_repo(self, kind, repo_id, type="model"):
        return self.repos.get((kind, type, repo_id))

    def file_bytes(self, kind, repo_id, path, revision=None, type="model"):
        """The bytes of a repo file at a revision (default branch), or None."""
        repo = self.get_repo(kind, repo_id, type)
        snap = repo.resolve(revision or repo.default_branch) if repo else None
        c = snap.files.get(path) if snap else None
        return None if c is None else c.read(0, c.size)

    # --- credentials ---
    def credentials_seen(self, server=None, method=None, path=None):
        """Logged requests that carried a credential: an Authorization header, an
        m_session_id cookie, or a known token anywhere in a header or the URL."""
        toks = [t for t in self.tokens if t]
        out = []
        for r in self.requests(server=server, method=method, path=path):
            h = r.headers
            if ("authorization" in h or "m_session_id" in h.get("cookie", "")
                    or any(t in v for v in h.values() for t in toks)
                    or any(t in r.raw_path for t in toks)):
                out.append(r)
        return out


# ============================================================ small helpers

def _json(h):
    """The request body as JSON (whatever the Content-Type), or None."""
    try:
        return json.loads(h.req.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


def _form(h):
    """multipart/form-data or urlencoded fields as {name: str}; None if neither."""
    ctype = h.headers.get("Content-Type") or ""
    body = h.req.body or b""
    if ctype.lower().startswith("multipart/form-data"):
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body)
        if not msg.is_multipart():
            return None
        out = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                out[name] = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
        return out
    if ctype.lower().startswith("application/x-www-form-urlencoded"):
        return {k: v[-1] for k, v in urllib.parse.parse_qs(
            body.decode("utf-8", "replace"), keep_blank_values=True).items()}
    return None


def _clean_path(p):
    """A repo path as the hubs store it, or None when it is unsafe/invalid."""
    if not isinstance(p, str):
        return None
    p = p.strip()
    while p.startswith("./"):
        p = p[2:]
    p = p.lstrip("/")
    parts = p.split("/")
    if not p or p.endswith("/") or any(x in ("", ".", "..", ".git") for x in parts) or "\0" in p:
        return None
    return p


def _is_oid(v):
    return isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v) is not None


def _is_size(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _new_content(h, data, lfs):
    """A hubemu content object for bytes, flagged LFS or regular (Repo.is_lfs reads the flag)."""
    m = _mod(h)
    if isinstance(data, bytes):
        c = m._Bytes(data)
    elif isinstance(data, m.FileRef):
        c = m.FileRef(data.path, data.size, data.sha256)
    elif isinstance(data, PartsRef):
        c = PartsRef(data.paths, data.sha256)
    else:
        c = m._Bytes(data.read(0, data.size))
    c.lfs = bool(lfs)
    return c


def _storage_base(hub):
    """Where upload hrefs point: the CDN server (another host name) when there is one."""
    if hub.upload_base:
        return hub.upload_base
    if hub.cdn and not hub.cdn_base and hub.cdn_url:
        return hub.cdn_url
    return hub.url


class PartsRef:
    """An object stored as the part files of a multipart upload (upload_dir): read
    across them, never copied; its sha256 is trusted, the git sha1 read when asked."""

    def __init__(self, paths, sha256):
        self.paths = list(paths)
        self.sizes = [os.path.getsize(p) for p in self.paths]
        self.size = sum(self.sizes)
        self.sha256 = sha256
        self._sha1 = None

    @property
    def git_sha1(self):
        if self._sha1 is None:
            h = hashlib.sha1(b"blob %d\0" % self.size)
            for p in self.paths:
                with open(p, "rb") as f:
                    for b in iter(lambda: f.read(1 << 22), b""):
                        h.update(b)
            self._sha1 = h.hexdigest()
        return self._sha1

    def fingerprint(self):
        return self.sha256

    def read(self, start, end):
        out, off = [], 0
        for p, n in zip(self.paths, self.sizes):
            if end > off and start < off + n:
                with open(p, "rb") as f:
                    f.seek(max(start - off, 0))
                    out.append(f.read(min(end, off + n) - max(start, off)))
            off += n
        return b"".join(out)


def _storage_on_hub(hub):
    return _storage_base(hub) == hub.url


def _sign(hub, *parts):
    return hmac.new(hub._secret, ("upload|" + "|".join(str(p) for p in parts)).encode(),
                    hashlib.sha256).hexdigest()


def _signed(hub, url, *parts):
    expires = str(int(_now()) + int(hub.cdn_ttl))
    return "%s?Expires=%s&Signature=%s" % (url, expires, _sign(hub, *(parts + (expires,))))


def _check_sig(h, *parts):
    """None when the Expires/Signature query is valid, else a reason."""
    q = h.req.query
    expires = (q.get("Expires") or [""])[0]
    sig = (q.get("Signature") or [""])[0]
    if not expires.isdigit() or not hmac.compare_digest(sig, _sign(h.hub, *(parts + (expires,)))):
        return "signature"
    if int(expires) < _now():
        return "expired"
    return None


def _s3_error(h, status, code, message):
    body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s"
            "</Message><RequestId>%s</RequestId><HostId>hubemu-storage</HostId></Error>\n"
            % (code, message, uuid.uuid4().hex.upper()[:24])).encode()
    return h.send_raw(status, {"Content-Type": "application/xml"}, body) or True


def _glob_regex(pat):
    """A gitignore / gitattributes glob as a regex over a whole repo path."""
    anchored = "/" in pat.rstrip("/")
    pat = pat.strip("/")
    out, i = "", 0
    while i < len(pat):
        if pat.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pat.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pat[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pat[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pat.startswith("[[:space:]]", i):
            out, i = out + r"\s", i + 11
        elif pat[i] == "[" and "]" in pat[i + 2:]:
            j = pat.index("]", i + 2)
            body = pat[i + 1:j]
            if body.startswith("!"):
                body = "^" + body[1:]
            out, i = out + "[" + body.replace("\\", "\\\\") + "]", j + 1
        elif pat[i] == "\\" and i + 1 < len(pat):
            out, i = out + re.escape(pat[i + 1]), i + 2
        else:
            out, i = out + re.escape(pat[i]), i + 1
    return re.compile(("" if anchored else "(?:.*/)?") + out + r"\Z")


def gitattributes_lfs(text, path):
    """Does .gitattributes `text` put `path` under filter=lfs (last match wins)?"""
    lfs = False
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        pat, attrs = fields[0], fields[1:]
        if not _glob_regex(pat).match(path):
            continue
        for a in attrs:
            if a == "filter=lfs":
                lfs = True
            elif a.startswith("filter=") or a in ("-filter", "!filter"):
                lfs = False
    return lfs


def gitignore_match(text, path):
    """Is `path` ignored by the .gitignore `text` (a file or one of its directories)?"""
    parts = path.split("/")
    candidates = [("/".join(parts[:i]), True) for i in range(1, len(parts))] + [(path, False)]
    ignored = False
    for line in (text or "").splitlines():
        line = line.rstrip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        if neg:
            line = line[1:]
        dir_only = line.endswith("/")
        rx = _glob_regex(line)
        for cand, is_dir in candidates:
            if (is_dir or not dir_only) and rx.match(cand):
                ignored = not neg
                break
    return ignored


def _lfs_track_line(path):
    esc = re.sub(r"([*?\[\]\\])", r"\\\1", path).replace(" ", "[[:space:]]")
    return "%s filter=lfs diff=lfs merge=lfs -text\n" % esc


def _record_commit(h, repo, branch, parent, commit, message, added, deleted, user, pr=None):
    rec = UploadCommit(repo.hub_kind, repo.id, repo.type, branch, commit, parent, message,
                       added, deleted, user, pr)
    with h.hub.lock:
        h.hub._upload_commits.append(rec)
    return rec


def _commit_lost(h):
    """commit_lost fault: the commit has landed; lose or spoil its answer.
    True when the fault fired (the answer, if any, is sent)."""
    f = h.hub._take(h.req, "commit_lost")
    if not f:
        return False
    code = f.params.get("code")
    if code is None:
        h._hangup(bool(f.params.get("rst")))    # raises: no answer at all
    h.send_text(int(code), f.params.get("body", "injected failure after the commit landed\n"),
                dict(f.params.get("headers") or {}))
    return True


# ============================================================ hooks

def read_body(h):
    """Read the request body; the drop_upload fault reads `after` bytes of it
    and hangs up (a connection dropped mid-upload); hold_upload waits
    `seconds` before reading it (cut short by hub.stop())."""
    req, hub = h.req, h.hub
    has_body = int(h.headers.get("Content-Length") or 0) > 0 or \
        "chunked" in (h.headers.get("Transfer-Encoding") or "").lower()
    if not has_body or req.path.startswith("/_hubemu/"):
        return h._read_body()
    hold = hub._take(req, "hold_upload")
    if hold:                                     # a slow storage host: the body waits
        hub._stopping.wait(float(hold.params.get("seconds", 30)))
    f = hub._take(req, "drop_upload")
    if not f:
        return h._read_body()
    after = int(f.params.get("after", 0))
    n = int(h.headers.get("Content-Length") or 0)
    want = min(after, n) if n else after
    data = h.rfile.read(want) if want > 0 else b""
    req.body = data
    with hub.lock:
        hub.log.append(req)
    req.end = _now()
    try:
        if f.params.get("rst"):
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    b"\x01\x00\x00\x00\x00\x00\x00\x00")
        else:
            h.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    raise OSError("drop_upload fault")


def emu_control(h):
    """GET /_hubemu/uploads, GET /_hubemu/commits, POST /_hubemu/config (upload knobs)."""
    hub, p = h.hub, h.req.path
    if p == "/_hubemu/uploads" and h.command == "GET":
        out = [u.as_dict() for u in hub.lfs_uploads()]
    elif p == "/_hubemu/commits" and h.command == "GET":
        out = [c.as_dict() for c in hub.upload_commits()]
    elif p == "/_hubemu/config" and h.command == "POST":
        try:
            cfg = json.loads(h.req.body or b"{}")
        except ValueError:
            cfg = None
        if not isinstance(cfg, dict) or set(cfg) - set(UPLOAD_DEFAULTS) - {"orgs"}:
            h.send_raw(400, {"Content-Type": "text/plain"}, b"known keys: %s\n"
                       % ", ".join(sorted(UPLOAD_DEFAULTS)).encode())
            return True
        for k, v in cfg.items():
            if k == "orgs":
                hub.orgs = {o: set(m) for o, m in v.items()}
            else:
                setattr(hub, k, v)
        out = {k: getattr(hub, k) for k in UPLOAD_DEFAULTS}
    else:
        return False
    h.send_raw(200, {"Content-Type": "application/json"}, json.dumps(out).encode())
    return True


def route_hub(h):
    """The hub's upload endpoints; True when the request was answered here."""
    p = h.req.path
    if p.startswith(STORAGE_PREFIX):
        return _storage_on_hub(h.hub) and route_storage(h)
    segs = [urllib.parse.unquote(s) for s in h.raw_path_only().strip("/").split("/")]
    if segs[:2] == ["api", "v1"]:
        return _route_ms(h, segs)
    if segs[:1] == ["api"]:
        return _route_hf_api(h, segs)
    for i, s in enumerate(segs):
        if s.endswith(".git") and len(s) > 4 and segs[i + 1:i + 3] == ["info", "lfs"]:
            return _route_hf_git(h, segs, i)
    return False


def route_storage(h):
    """PUT {storage}/lfs-upload/{ms|hf}/{oid}/{id}[/{part}]?Expires=&Signature= ."""
    req, hub = h.req, h.hub
    if not req.path.startswith(STORAGE_PREFIX):
        return False
    segs = req.path[len(STORAGE_PREFIX):].split("/")
    if len(segs) not in (3, 4) or segs[0] not in ("ms", "hf"):
        return _s3_error(h, 404, "NoSuchKey", "The specified key does not exist.")
    kind, oid, uid = segs[:3]
    part = segs[3] if len(segs) == 4 else ""
    req.file_path = oid
    with hub.lock:
        up = hub._lfs_uploads.get(uid)
    if up is None or up.kind != kind or up.oid != oid:
        return _s3_error(h, 404, "NoSuchUpload", "The specified upload does not exist.")
    if h.command != "PUT":
        return _s3_error(h, 403, "SignatureDoesNotMatch", "The request signature we calculated "
                         "does not match the signature you provided.")
    bad = _check_sig(h, uid, part)
    if bad == "signature":
        return _s3_error(h, 403, "SignatureDoesNotMatch", "The request signature we calculated "
                         "does not match the signature you provided.")
    if bad == "expired":
        return _s3_error(h, 403, "AccessDenied", "Request has expired")
    body = req.body or b""
    if part:                                     # one part of a multipart upload
        if not part.isdigit() or not 1 <= int(part) <= up.parts:
            return _s3_error(h, 400, "InvalidArgument", "Part number must be an integer "
                             "between 1 and %d" % up.parts)
        n = int(part)
        etag = hashlib.md5(body).hexdigest()
        with hub.lock:
            up.part_requests.setdefault(n, []).append(req)
            up.part_data[n] = body
            up.part_etags[n] = etag
        h.send_raw(200, {"ETag": '"%s"' % etag})
        return True
    with hub.lock:
        up.puts.append(req)
    ok = len(body) == up.size and hashlib.sha256(body).hexdigest() == oid
    if ok:
        with hub.lock:
            hub.lfs_store[kind][oid] = body
            up.complete = True
    if kind == "ms":                             # MS §2.16 step 4: a JSON answer
        if not ok:
            h.ms_envelope(400, message="the uploaded blob does not match: expected sha256 %s and "
                          "size %d, got %s and %d" % (oid, up.size,
                                                     hashlib.sha256(body).hexdigest(), len(body)))
            return True
        h.ms_envelope(200)
        return True
    if not ok:
        return _s3_error(h, 400, "BadDigest", "The sha256 or size you specified did not match "
                         "what we received.")
    h.send_raw(200, {"ETag": '"%s"' % hashlib.md5(body).hexdigest()})
    return True


# ============================================================ ModelScope

def _route_ms(h, segs):
    cmd = h.command
    if cmd == "POST" and segs[2:] in (["models"], ["datasets"]):
        return _ms_create(h, segs[2][:-1]) or True
    if len(segs) >= 7 and segs[2] == "repos" and segs[3] in ("models", "datasets"):
        rtype, owner, name, rest = segs[3][:-1], segs[4], segs[5], segs[6:]
        if rest == ["info", "lfs", "objects", "batch"] and cmd == "POST":
            return _ms_batch(h, rtype, owner, name) or True
        if rest[0] == "commit" and cmd == "POST":
            return _ms_commit(h, rtype, owner, name, "/".join(rest[1:]) or "master") or True
    return False


def _ms_user(h):
    """(user, None) or (None, error sent): 401 without a token, 403 with an unknown one."""
    tok = h.token()
    if not tok:
        return None, h.ms_envelope(401, message="用户未登录") or 1
    user = h.hub.tokens.get(tok)
    if not user:
        return None, h.ms_envelope(403, message="the token does not exist or is invalid") or 1
    return user, None


def _ms_may_write(h, user, owner, rtype):
    hub = h.hub
    if h.token() in hub.read_only_tokens or not hub.can_write(user, owner):
        h.ms_envelope(403, message="permission denied: %s may not write to the %s namespace %s"
                      % (user, rtype, owner))
        return False
    return True


def _ms_create(h, rtype):
    """MS §2.15: model JSON {Path, Name, Visibility, License, ...}; dataset
    multipart form {Owner, Name, Visibility, License, ...}."""
    hub = h.hub
    user, err = _ms_user(h)
    if err:
        return
    if rtype == "dataset":
        fields = _form(h)
        if fields is None:
            return h.ms_envelope(400, message="the dataset must be created with a "
                                 "multipart/form-data body")
        owner = fields.get("Owner")
    else:
        fields = _json(h)
        if not isinstance(fields, dict):
            return h.ms_envelope(400, message="invalid JSON body")
        owner = fields.get("Path")
    name = fields.get("Name")
    if not isinstance(owner, str) or not owner or not isinstance(name, str) or \
            not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", name or ""):
        return h.ms_envelope(400, message="invalid %s owner or name: %r / %r" % (rtype, owner, name))
    try:
        vis = int(fields.get("Visibility") if fields.get("Visibility") not in (None, "") else 5)
    except (TypeError, ValueError):
        vis = -1
    if vis not in (1, 3, 5):
        return h.ms_envelope(400, message="invalid Visibility %r (1 private, 3 internal, 5 public)"
                             % fields.get("Visibility"))
    if not _ms_may_write(h, user, owner, rtype):
        return
    repo_id = "%s/%s" % (owner, name)
    with hub.lock:
        if h.ms_find(rtype, owner, name) is not None:
            return h.ms_envelope(400, message=MS_EXISTS_MESSAGE, extra={"Code": MS_EXISTS[rtype]})
        repo = hub.add_ms_repo(repo_id, type=rtype, files={}, private=vis in (1, 3))
    repo.visibility = vis
    repo.created_by = user
    repo.license = fields.get("License")
    return h.ms_envelope(200, h.ms_info(repo))


def _ms_target(h, rtype, owner, name):
    """(repo, user) when the token may write to an existing repo, else (None, None)
    after an error answer."""
    user, err = _ms_user(h)
    if err:
        return None, None
    repo = h.ms_find(rtype, owner, name)
    if repo is None:
        h.ms_envelope(404, message="模型不存在" if rtype == "model" else "数据集不存在")
        return None, None
    if not _ms_may_write(h, user, owner, rtype):
        return None, None
    return repo, user


def _ms_batch(h, rtype, owner, name):
    """MS §2.16 step 3: objects the hub has (any repo) come back without actions."""
    hub = h.hub
    repo, user = _ms_target(h, rtype, owner, name)
    if repo is None:
        return
    body = _json(h)
    objs = body.get("objects") if isinstance(body, dict) else None
    if not isinstance(objs, list) or (body.get("operation") or "upload") != "upload":
        return h.ms_envelope(400, message="expected {\"operation\": \"upload\", \"objects\": [...]}")
    out = []
    for o in objs:
        oid = o.get("oid") if isinstance(o, dict) else None
        size = o.get("size") if isinstance(o, dict) else None
        if not _is_oid(oid) or not _is_size(size):
            return h.ms_envelope(400, message="invalid object %r: oid must be a sha256 (64 lower-case "
                                 "hex digits) and size a non-negative integer" % (o,))
        if hub._lfs_content("ms", oid, size) is not None:
            out.append({"oid": oid, "size": size})
            continue
        up = LfsUpload("ms", repo.id, rtype, oid, size, user, "basic")
        with hub.lock:
            hub._lfs_uploads[up.id] = up
        href = _signed(hub, "%s%sms/%s/%s" % (_storage_base(hub), STORAGE_PREFIX, oid, up.id),
                       up.id, "")
        out.append({"oid": oid, "size": size, "actions": {"upload": {"href": href}}})
    return h.ms_envelope(200, {"objects": out})


def _ms_commit(h, rtype, owner, name, branch):
    """MS §2.16 step 5: {"commit_message", "actions": [{action, path, type, size,
    sha256, content, encoding}]} -> a new commit on an existing branch."""
    hub = h.hub
    repo, user = _ms_target(h, rtype, owner, name)
    if repo is None:
        return
    body = _json(h)
    if not isinstance(body, dict) or not isinstance(body.get("actions"), list):
        return h.ms_envelope(400, message="expected {\"commit_message\", \"actions\": [...]}")
    if not body["actions"]:
        return h.ms_envelope(400, message="no actions to commit")
    if branch not in repo.branches:              # a tag or nothing: what the hub answers
        return h.send_json(400, {"message": MS_NOT_ON_BRANCH})
    message = body.get("commit_message") or "Upload to %s" % repo.id
    changes, added, deleted = {}, {}, []
    with hub.lock:
        current = repo.snapshots[repo.branches[branch]].files
    for a in body["actions"]:
        if not isinstance(a, dict):
            return h.ms_envelope(400, message="invalid action %r" % (a,))
        act, path = a.get("action"), _clean_path(a.get("path"))
        if path is None:
            return h.ms_envelope(400, message="invalid path %r" % (a.get("path"),))
        if act in ("create", "update"):
            kind = a.get("type") or "normal"
            size = a.get("size")
            if kind == "lfs":
                oid = (a.get("sha256") or "").lower()
                if not _is_oid(oid):
                    return h.ms_envelope(400, message="lfs action for %s needs its sha256" % path)
                blob = hub._lfs_content("ms", oid, size if _is_size(size) else None)
                if blob is None:
                    return h.ms_envelope(400, message="LFS object %s (%s) is not uploaded: upload "
                                         "the blob first" % (oid, path))
                changes[path] = _new_content(h, blob, True)
                added[path] = "lfs"
            elif kind == "normal":
                raw = a.get("content") or ""
                try:
                    data = base64.b64decode(raw, validate=True) if a.get("encoding") == "base64" \
                        else raw.encode()
                except (ValueError, TypeError):
                    return h.ms_envelope(400, message="content of %s is not valid base64" % path)
                if _is_size(size) and size != len(data):
                    return h.ms_envelope(400, message="size of %s is %d, the content has %d bytes"
                                         % (path, size, len(data)))
                changes[path] = _new_content(h, data, False)
                added[path] = "regular"
            else:
                return h.ms_envelope(400, message="unknown type %r for %s" % (kind, path))
        elif act == "delete":
            if path not in current and changes.get(path) is None:
                return h.ms_envelope(400, message="A file with this name doesn't exist")
            changes[path] = None
            added.pop(path, None)
            deleted.append(path)
        else:
            return h.ms_envelope(400, message="unknown action %r" % (act,))
    with hub.lock:
        if branch not in repo.branches:
            return h.send_json(400, {"message": MS_NOT_ON_BRANCH})
        parent = repo.branches[branch]
        commit = repo.commit_files(changes, branch=branch, message=message)
        _record_commit(h, repo, branch, parent, commit, message, added, deleted, user)
    if _commit_lost(h):
        return
    snap = repo.snapshots[commit]
    return h.ms_envelope(200, {"oid": commit, "Id": commit, "ShortId": commit[:8],
                               "Title": message, "Message": message, "Branch": branch,
                               "CommittedDate": snap.created_at})


# ============================================================ Hugging Face

def _hf_url(hub, repo):
    return "%s/%s%s" % (hub.url, "datasets/" if repo.type == "dataset" else "", repo.id)


def _hf_user(h, lfs=False):
    """(user, None) or (None, error sent): 401 without a token or with a bad one."""
    err = (lambda s, m: _lfs_err(h, s, m)) if lfs else (lambda s, m: h.hf_error(s, None, m))
    tok = h.token()
    if tok and tok not in h.hub.tokens:
        return None, err(401, "Invalid credentials in Authorization header") or 1
    if not tok:
        return None, err(401, "Invalid username or password.") or 1
    return h.hub.tokens[tok], None


def _hf_target(h, repo, need="write", lfs=False):
    """The user when the token may write to (or, need="read", open a PR on) repo;
    else None after an error answer."""
    err = (lambda s, c, m: _lfs_err(h, s, m)) if lfs else h.hf_error
    user, e = _hf_user(h, lfs)
    if e:
        return None
    if repo is None:
        err(404, "RepoNotFound", "Repository not found")
        return None
    ns = repo.id.split("/")[0] if "/" in repo.id else None
    if h.token() in h.hub.read_only_tokens:
        err(403, None, "You don't have the rights to write to %s: this token is read-only" % repo.id)
        return None
    if need == "write" and not h.hub.can_write(user, ns):
        err(403, None, "You don't have the rights to write to %s" % repo.id)
        return None
    return user


def _lfs_err(h, status, message):
    body = json.dumps({"message": message, "request_id": uuid.uuid4().hex}).encode()
    return h.send_raw(status, {"Content-Type": "application/vnd.git-lfs+json",
                               "X-Error-Message": message}, body) or True


def _route_hf_api(h, segs):
    cmd = h.command
    if segs == ["api", "repos", "create"] and cmd == "POST":
        return _hf_create(h) or True
    if segs == ["api", "validate-yaml"] and cmd == "POST":
        return h.send_json(200, {"errors": [], "warnings": []}, shape="hf") or True
    if len(segs) < 5 or segs[1] not in ("models", "datasets", "spaces"):
        return False
    rtype = segs[1][:-1]
    repo, rest = h.hf_find(rtype, segs[2:])
    op = rest[0] if rest else None
    if op in ("preupload", "commit") and cmd == "POST":
        rev, _ = h._rev_and_rest(rest[1:])
        fn = _hf_preupload if op == "preupload" else _hf_commit
        return fn(h, repo, rev or (repo.default_branch if repo else "main")) or True
    if op == "branch" and cmd in ("POST", "DELETE") and len(rest) >= 2:
        return _hf_branch(h, repo, "/".join(rest[1:])) or True
    return False


def _hf_create(h):
    """HF §1.9: {"name", "organization", "type", "visibility"|"private"}; 409 when it exists."""
    hub = h.hub
    body = _json(h)
    if not isinstance(body, dict):
        return h.hf_error(400, None, "Invalid JSON body")
    user, err = _hf_user(h)
    if err:
        return
    name, org = body.get("name"), body.get("organization")
    rtype = body.get("type") or "model"
    if rtype not in ("model", "dataset"):
        return h.hf_error(400, None, "Invalid repo type %r (this emulator has models and datasets)"
                          % (rtype,))
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}", name) \
            or ".." in name or name.endswith((".git", ".")):
        return h.hf_error(400, None, "Invalid repo name %r" % (name,))
    ns = org or user
    if h.token() in hub.read_only_tokens or not hub.can_write(user, ns):
        return h.hf_error(403, None, "You don't have the rights to create a %s under the namespace "
                          "\"%s\"" % (rtype, ns))
    vis = body.get("visibility")
    private = vis == "private" if vis is not None else bool(body.get("private"))
    repo_id = "%s/%s" % (ns, name)
    m = _mod(h)
    with hub.lock:
        existing = hub.repos.get(("hf", rtype, repo_id))
        if existing is not None:
            url = _hf_url(hub, existing)
            msg = "You already created this %s repo" % rtype
            return h.send_raw(409, {"Content-Type": "application/json; charset=utf-8",
                                    "X-Error-Message": msg},
                              json.dumps({"error": msg, "url": url}).encode())
        ga = m._Bytes((HF_DATASET_GITATTRIBUTES if rtype == "dataset" else HF_GITATTRIBUTES).encode())
        ga.lfs = False
        repo = hub.add_hf_repo(repo_id, type=rtype, files={".gitattributes": ga}, private=private)
    repo.created_by = user
    return h.send_json(200, {"url": _hf_url(hub, repo), "name": repo_id,
                             "id": "%024x" % repo.numeric_id}, shape="hf")


def _hf_branch(h, repo, branch):
    """POST /api/{type}s/{repo}/branch/{branch} {"startingPoint"}; DELETE removes it."""
    hub = h.hub
    user = _hf_target(h, repo)
    if user is None:
        return
    if h.command == "DELETE":
        with hub.lock:
            if branch not in repo.branches:
                return h.hf_error(404, "RevisionNotFound", "Invalid rev id: %s" % branch)
            if branch == repo.default_branch:
                return h.hf_error(403, None, "Cannot delete the default branch")
            del repo.branches[branch]
        return h.send_json(200, {}, shape="hf")
    body = _json(h)
    start = body.get("startingPoint") if isinstance(body, dict) else None
    with hub.lock:
        if branch in repo.branches or branch in repo.tags:
            return h.hf_error(409, None, "Reference already exists: refs/heads/%s" % branch)
        snap = repo.resolve(start or repo.default_branch)
        if snap is None:
            return h.hf_error(404, "RevisionNotFound", "Invalid rev id: %s" % start)
        repo.branches[branch] = snap.commit
    return h.send_json(200, {}, shape="hf")


def _hf_preupload(h, repo, rev):
    """HF §4.1: uploadMode lfs/regular, shouldIgnore, oid of the remote file."""
    hub = h.hub
    create_pr = h.req.query.get("create_pr", [""])[0] not in ("", "0", "false", "False")
    if _hf_target(h, repo, "read" if create_pr else "write") is None:
        return
    snap = repo.resolve(rev)
    if snap is None:
        return h.hf_error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
    body = _json(h)
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(files, list):
        return h.hf_error(400, None, "Invalid body: expected {\"files\": [...]}")
    ga = snap.files.get(".gitattributes")
    ga_text = ga.read(0, ga.size).decode("utf-8", "replace") if ga else ""
    gi_text = body.get("gitIgnore")
    if not isinstance(gi_text, str):
        gi = snap.files.get(".gitignore")
        gi_text = gi.read(0, gi.size).decode("utf-8", "replace") if gi else ""
    out = []
    for f in files:
        path = _clean_path(f.get("path")) if isinstance(f, dict) else None
        size = f.get("size") if isinstance(f, dict) else None
        if path is None or not _is_size(size):
            return h.hf_error(400, None, "Invalid file entry %r" % (f,))
        try:
            sample = base64.b64decode(f.get("sample") or "")
        except (ValueError, TypeError):
            sample = b""
        lfs = gitattributes_lfs(ga_text, path) or size >= int(hub.hf_lfs_threshold) \
            or b"\0" in sample
        e = {"path": f["path"], "uploadMode": "lfs" if lfs else "regular",
             "shouldIgnore": gitignore_match(gi_text, path)}
        c = snap.files.get(path)
        if c is not None:
            e["oid"] = c.sha256 if repo.is_lfs(path, c) else c.git_sha1
        out.append(e)
    return h.send_json(200, {"files": out, "commitOid": snap.commit}, shape="hf")


def _hf_parse_commit(body):
    """(header dict, [operation dicts]) from NDJSON, or from the older JSON body."""
    text = body.decode("utf-8")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    items = [json.loads(ln) for ln in lines]
    if items and isinstance(items[0], dict) and "key" in items[0]:
        header = {}
        ops = []
        for it in items:
            if not isinstance(it, dict) or not isinstance(it.get("value"), dict):
                raise ValueError("each line must be {\"key\": ..., \"value\": {...}}")
            if it["key"] == "header":
                header = it["value"]
            else:
                ops.append((it["key"], it["value"]))
        return header, ops
    doc = json.loads(text)                      # {"summary", "files", "lfsFiles", "deletedFiles"}
    if not isinstance(doc, dict):
        raise ValueError("invalid commit body")
    header = {k: doc.get(k) for k in ("summary", "description", "parentCommit") if k in doc}
    ops = [("file", v) for v in doc.get("files") or []] + \
        [("lfsFile", v) for v in doc.get("lfsFiles") or []] + \
        [("deletedFile", v) for v in doc.get("deletedFiles") or []] + \
        [("deletedFolder", v) for v in doc.get("deletedFolders") or []]
    return header, ops


def _hf_commit(h, repo, rev):
    """HF §4.5: NDJSON header / file / lfsFile / deletedFile / deletedFolder lines."""
    hub = h.hub
    create_pr = h.req.query.get("create_pr", [""])[0] not in ("", "0", "false", "False")
    user = _hf_target(h, repo, "read" if create_pr else "write")
    if user is None:
        return
    try:
        header, ops = _hf_parse_commit(h.req.body or b"")
    except (ValueError, UnicodeDecodeError) as e:
        return h.hf_error(400, None, "Invalid commit payload: %s" % e)
    summary = header.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        return h.hf_error(400, None, "A commit summary is required")
    message = summary if not header.get("description") else \
        "%s\n\n%s" % (summary, header["description"])
    parent_req = header.get("parentCommit")
    with hub.lock:
        if create_pr:
            base = repo.resolve(parent_req) if parent_req else repo.resolve(repo.default_branch)
            if base is None:
                return h.hf_error(404, "RevisionNotFound", "Invalid rev id: %s" % parent_req)
        else:
            if rev not in repo.branches:
                if repo.resolve(rev) is not None:
                    return h.hf_error(400, None, "Invalid rev id: %s is not a branch" % rev)
                return h.hf_error(404, "RevisionNotFound", "Invalid rev id: %s" % rev)
            base = repo.snapshots[repo.branches[rev]]
            if parent_req and not base.commit.startswith(str(parent_req)):
                return h.hf_error(412, None, "A commit has happened since. Please refresh and "
                                  "try again.")
        current = dict(base.files)
    changes, added, deleted = {}, {}, []
    for key, v in ops:
        if key in ("file", "lfsFile", "deletedFile", "deletedFolder"):
            raw_path = v.get("path", "")
            path = _clean_path(raw_path.rstrip("/") if key == "deletedFolder" else raw_path)
            if path is None:
                return h.hf_error(400, None, "Invalid path %r" % (raw_path,))
        if key == "file":
            try:
                data = base64.b64decode(v.get("content") or "", validate=True) \
                    if v.get("encoding", "base64") == "base64" else (v.get("content") or "").encode()
            except (ValueError, TypeError):
                return h.hf_error(400, None, "Invalid base64 content for %s" % path)
            if len(data) > int(hub.hf_regular_max):
                return h.hf_error(400, None, "Your push was rejected because it contains files "
                                  "larger than %d MiB. Please use https://git-lfs.github.com/ to "
                                  "store large files. Offending file: - %s"
                                  % (int(hub.hf_regular_max) // MIB, path))
            changes[path] = _new_content(h, data, False)
            added[path] = "regular"
        elif key == "lfsFile":
            oid, size = v.get("oid"), v.get("size")
            if (v.get("algo") or "sha256") != "sha256" or not _is_oid(oid) or \
                    (size is not None and not _is_size(size)):
                return h.hf_error(400, None, "Invalid lfsFile entry for %s" % path)
            blob = hub._lfs_content("hf", oid, size)
            if blob is None:
                return h.hf_error(400, None, HF_LFS_MISSING % path)
            changes[path] = _new_content(h, blob, True)
            added[path] = "lfs"
        elif key == "deletedFile":
            if path not in current and changes.get(path) is None:
                return h.hf_error(404, "EntryNotFound", "A file with this name doesn't exist: %s"
                                  % path)
            changes[path] = None
            added.pop(path, None)
            deleted.append(path)
        elif key == "deletedFolder":
            under = [p for p in list(current) + list(changes) if p.startswith(path + "/")]
            if not under:
                return h.hf_error(404, "EntryNotFound", "A folder with this name doesn't exist: %s"
                                  % path)
            for p in under:
                changes[p] = None
                added.pop(p, None)
                deleted.append(p)
        else:
            return h.hf_error(400, None, "Unknown commit operation %r" % (key,))
    # LFS files no pattern covers are tracked in .gitattributes, as the Hub does
    ga = changes.get(".gitattributes", current.get(".gitattributes"))
    ga_text = ga.read(0, ga.size).decode("utf-8", "replace") if ga is not None else ""
    extra = "".join(_lfs_track_line(p) for p, mode in added.items()
                    if mode == "lfs" and not gitattributes_lfs(ga_text, p))
    if extra:
        if ga_text and not ga_text.endswith("\n"):
            ga_text += "\n"
        changes[".gitattributes"] = _new_content(h, (ga_text + extra).encode(), False)
    pr = None
    with hub.lock:
        if create_pr:
            pr = 1 + max([int(b.rsplit("/", 1)[1]) for b in repo.branches
                          if re.fullmatch(r"refs/pr/\d+", b)] or [0])
            branch = "refs/pr/%d" % pr
            repo.branches[branch] = base.commit
        else:
            branch = rev
            if repo.branches.get(branch) != base.commit:
                return h.hf_error(409, None, "A commit has happened since. Please refresh and "
                                  "try again.")
        commit = repo.commit_files(changes, branch=branch, message=message)
        _record_commit(h, repo, branch, base.commit, commit, message, added, deleted, user, pr)
    if _commit_lost(h):
        return
    prefix = "%s/%s%s" % (hub.url, "datasets/" if repo.type == "dataset" else "", repo.id)
    out = {"success": True, "commitOid": commit, "commitUrl": "%s/commit/%s" % (prefix, commit),
           "hookOutput": ""}
    if pr is not None:
        out["pullRequestUrl"] = "%s/discussions/%d" % (prefix, pr)
    return h.send_json(200, out, shape="hf")


# --- git-lfs endpoints ---

def _route_hf_git(h, segs, i):
    start, rtype = 0, "model"
    if segs[0] in ("datasets", "spaces"):
        start, rtype = 1, segs[0][:-1]
    repo_id = "/".join(segs[start:i] + [segs[i][:-4]])
    repo = h.hub.repos.get(("hf", rtype, repo_id))
    rest = segs[i + 3:]
    if h.command != "POST":
        return False
    if rest == ["objects", "batch"]:
        return _hf_batch(h, repo, rtype) or True
    if rest == ["objects", "verify"]:
        return _hf_verify(h, repo) or True
    if len(rest) == 2 and rest[0] == "complete_multipart":
        return _hf_complete(h, repo, rest[1]) or True
    return False


def _hf_batch(h, repo, rtype):
    """HF §4.2: basic (one PUT on the storage host) or multipart (chunk_size +
    part URLs, href = completion URL); present objects come back without actions."""
    hub = h.hub
    body = _json(h)
    if not isinstance(body, dict) or not isinstance(body.get("objects"), list):
        return _lfs_err(h, 422, "Invalid batch request")
    ref = body.get("ref")
    user = _hf_target(h, repo, "write" if ref is not None else "read", lfs=True)
    if user is None:
        return
    if body.get("operation") != "upload":
        return _lfs_err(h, 422, "Only the upload operation is supported here")
    if (body.get("hash_algo") or "sha256") != "sha256":
        return _lfs_err(h, 422, "Unsupported hash algorithm")
    transfers = body.get("transfers") or ["basic"]
    if "basic" not in transfers and "multipart" not in transfers:
        return _lfs_err(h, 422, "No supported transfer adapter in %r" % (transfers,))
    prefix = "%s/%s%s.git/info/lfs" % (hub.url, "datasets/" if rtype == "dataset" else "", repo.id)
    out, any_multipart = [], False
    for o in body["objects"]:
        oid = o.get("oid") if isinstance(o, dict) else None
        size = o.get("size") if isinstance(o, dict) else None
        if not _is_oid(oid) or not _is_size(size):
            out.append({"oid": oid if isinstance(oid, str) else "",
                        "size": size if _is_size(size) else 0,
                        "error": {"code": 422, "message": "Invalid object: oid must be a sha256 "
                                  "and size a non-negative integer"}})
            continue
        if hub._lfs_content("hf", oid, size) is not None:
            out.append({"oid": oid, "size": size})
            continue
        chunk = max(1, int(hub.hf_chunk_size))
        multipart = "multipart" in transfers and size >= int(hub.hf_multipart_threshold) \
            and size > 0 or "basic" not in transfers
        if multipart:
            nparts = max(1, math.ceil(size / chunk))
            up = LfsUpload("hf", repo.id, rtype, oid, size, user, "multipart", chunk, nparts)
            header = {"chunk_size": str(chunk)}
            base = "%s%shf/%s/%s" % (_storage_base(hub), STORAGE_PREFIX, oid, up.id)
            for n in range(1, nparts + 1):
                header["%05d" % n] = _signed(hub, "%s/%d" % (base, n), up.id, str(n))
            href = _signed(hub, "%s/complete_multipart/%s" % (prefix, up.id), up.id, "complete")
            actions = {"upload": {"href": href, "header": header}}
            any_multipart = True
        else:
            up = LfsUpload("hf", repo.id, rtype, oid, size, user, "basic")
            href = _signed(hub, "%s%shf/%s/%s" % (_storage_base(hub), STORAGE_PREFIX, oid, up.id),
                           up.id, "")
            actions = {"upload": {"href": href}}
        with hub.lock:
            hub._lfs_uploads[up.id] = up
        if hub.hf_lfs_verify:
            actions["verify"] = {"href": "%s/objects/verify" % prefix, "header": {}}
        out.append({"oid": oid, "size": size, "authenticated": True, "actions": actions})
    return h.send_json(200, {"transfer": "multipart" if any_multipart else "basic",
                             "objects": out, "hash_algo": "sha256"},
                       headers={"Content-Type": "application/vnd.git-lfs+json"}, shape="hf")


def _hf_complete(h, repo, uid):
    """HF §4.4: {"oid", "parts": [{"partNumber", "etag"}]} -> assemble, verify, store.
    The URL is signed: the client sends no credential here."""
    hub = h.hub
    with hub.lock:
        up = hub._lfs_uploads.get(uid)
    if up is None or up.transfer != "multipart" or repo is None or up.repo != repo.id:
        return _lfs_err(h, 404, "No such multipart upload")
    bad = _check_sig(h, uid, "complete")
    if bad:
        return _lfs_err(h, 403, "Invalid or expired completion URL (%s)" % bad)
    up.completion = h.req
    h.req.file_path = up.oid
    body = _json(h)
    if not isinstance(body, dict) or body.get("oid") != up.oid or \
            not isinstance(body.get("parts"), list):
        return _lfs_err(h, 400, "Invalid completion payload: expected {\"oid\": \"%s\", "
                        "\"parts\": [...]}" % up.oid)
    if hub.upload_dir:
        return _hf_complete_on_disk(h, up, body)
    got = {}
    for p in body["parts"]:
        n = p.get("partNumber") if isinstance(p, dict) else None
        if not isinstance(n, int) or not 1 <= n <= up.parts:
            return _lfs_err(h, 400, "Invalid part number %r" % (n,))
        got[n] = str(p.get("etag") or "").strip('"')
    with hub.lock:
        if sorted(got) != list(range(1, up.parts + 1)):
            return _lfs_err(h, 400, "Parts %s are missing from the completion request"
                            % sorted(set(range(1, up.parts + 1)) - set(got)))
        for n in range(1, up.parts + 1):
            if n not in up.part_etags:
                return _lfs_err(h, 400, "Part %d was never uploaded" % n)
            if got[n] != up.part_etags[n]:
                return _lfs_err(h, 400, "Invalid etag for part %d" % n)
        data = b"".join(up.part_data[n] for n in range(1, up.parts + 1))
    if len(data) != up.size or hashlib.sha256(data).hexdigest() != up.oid:
        return _lfs_err(h, 400, "The assembled object does not match: expected sha256 %s and size "
                        "%d, got %s and %d" % (up.oid, up.size, hashlib.sha256(data).hexdigest(),
                                               len(data)))
    with hub.lock:
        hub.lfs_store["hf"][up.oid] = data
        up.complete = True
        up.part_data = {}
    return h.send_json(200, {"oid": up.oid, "size": up.size}, shape="hf")


def _hf_complete_on_disk(h, up, body):
    """upload_dir: the parts are files the storage server wrote; sizes checked, the ETags
    only for being there (the server made them up)."""
    hub = h.hub
    base = os.path.join(hub.upload_dir, STORAGE_PREFIX.strip("/"), "hf", up.oid, up.id)
    paths = [os.path.join(base, str(n)) for n in range(1, up.parts + 1)]
    etags = {p.get("partNumber"): p.get("etag") for p in body["parts"] if isinstance(p, dict)}
    missing = [n for n in range(1, up.parts + 1) if not etags.get(n) or
               not os.path.isfile(paths[n - 1])]
    if missing:
        return _lfs_err(h, 400, "Parts %s are missing" % missing)
    obj = PartsRef(paths, up.oid)
    if obj.size != up.size:
        return _lfs_err(h, 400, "The parts hold %d bytes, not %d" % (obj.size, up.size))
    with hub.lock:
        hub.lfs_store["hf"][up.oid] = obj
        up.complete = True
    return h.send_json(200, {"oid": up.oid, "size": up.size}, shape="hf")


def _hf_verify(h, repo):
    """HF §4.3: POST {"oid", "size"} with the Hub credentials: 200 when stored."""
    hub = h.hub
    if _hf_target(h, repo, "read", lfs=True) is None:
        return
    body = _json(h)
    oid = body.get("oid") if isinstance(body, dict) else None
    size = body.get("size") if isinstance(body, dict) else None
    h.req.file_path = oid if isinstance(oid, str) else None
    if not _is_oid(oid) or not _is_size(size) or hub._lfs_content("hf", oid, size) is None:
        return _lfs_err(h, 404, "Object %s (size %r) not found" % (oid, size))
    for up in reversed(hub.lfs_uploads("hf", oid, repo.id)):
        up.verified = True
        break
    return h.send_json(200, {"oid": oid, "size": size},
                       headers={"Content-Type": "application/vnd.git-lfs+json"}, shape="hf")
