"""Search and repo-info endpoints of the hub emulator (hubemu.py), both hubs.

hubemu.py's handlers delegate here; nothing in this module imports hubemu (it
works the same when hubemu runs as a script).  Sources, cited as in hubemu.py:
modelscope-protocol.md (MS §2.3, §2.4, §2.10, §2.14), hf-protocol.md (HF §1.4,
§1.6, §6), plus two primary sources the notes do not quote:

* [MS-OAS] the ModelScope OpenAPI description that modelscope_hub ships as
  tests/data/openapi.json (1.1.0+master.20260813): /models and /datasets take
  search, owner, sort (default|downloads|likes|last_modified), page_number,
  page_size (1..50), page_number * page_size <= 3000, filter.task,
  filter.library, filter.model_type, filter.custom_tag, filter.license,
  filter.deploy (datasets: filter.task, filter.license); items and errors
  ({"success": false, "code": "InputParameterError" | "ResourceNotFound" |
  "InvalidAuthentication", "message", "request_id"}) as built below; item tags
  are prefixed ("license:…", "task:…", "library:…", "model_type:…",
  "deploy:…", "custom_tag:…").
* [HFH-tests] huggingface_hub's production tests (test_hf_api.py): default
  dataset listings carry `author`; `expand` keeps `_id`, `id` and the asked
  properties and answers 400 to an unknown one; cardData only with full=True;
  gated=true keeps "auto"/"manual" repos; and PR #3630: the API does not sort
  ascending (direction is ignored), PR #2655: sort keys are camelCase
  (created_at is not one).

Per-repo metadata: Hub.add_hf_repo / add_ms_repo pass their extra keyword
arguments to set_meta (HF_DEFAULTS / MS_DEFAULTS list them).
"""
import base64
import datetime
import json
import urllib.parse
import uuid

# ============================================================ metadata

HF_DEFAULTS = {
    "downloads": 0, "likes": 0, "trending_score": 0, "downloads_all_time": None,
    "repo_tags": None,            # the Hub's "tags" (git tags are add_hf_repo(tags=...))
    "pipeline_tag": None, "library_name": None,
    "created_at": None,           # epoch seconds, ISO 8601 text or datetime; default EPOCH
    "last_modified": None,        # default: the default branch's commit time
    "author": None,               # default: the namespace of the id
    "card_data": None, "description": "", "citation": "", "disabled": False,
}
MS_DEFAULTS = {
    "downloads": 0, "likes": 0,
    "tasks": None,                # ["text-generation"]
    "license": "Apache License 2.0",
    "library": None,              # ["pytorch", "safetensors"] (filter.library)
    "model_type": None,           # "qwen2" (filter.model_type)
    "custom_tags": None,          # ["llm"] (filter.custom_tag; legacy "Tags")
    "deploy": None,               # ["swingdeploy"] (filter.deploy)
    "created_at": None, "last_modified": None,
    "display_name": None,         # OpenAPI display_name, legacy ChineseName
    "description": "", "gated": False, "params": 0, "login_required": False,
    "author": None,               # legacy CreatedBy (default: the owner)
}
_LIST_KEYS = ("repo_tags", "tasks", "library", "custom_tags", "deploy")
_TIME_KEYS = ("created_at", "last_modified")


def _epoch(v):
    if v is None:
        return None
    if isinstance(v, bool):
        raise TypeError("a time must be epoch seconds, ISO 8601 text or a datetime")
    if isinstance(v, (int, float)):
        return int(v)
    if isinstance(v, str):
        v = datetime.datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return int(v.timestamp())
    raise TypeError("a time must be epoch seconds, ISO 8601 text or a datetime")


def set_meta(repo, meta):
    """Store search metadata on a repo (keyword arguments of add_*_repo)."""
    defaults = HF_DEFAULTS if repo.hub_kind == "hf" else MS_DEFAULTS
    unknown = sorted(set(meta) - set(defaults))
    if unknown:
        raise TypeError("add_%s_repo() got unexpected keyword argument(s): %s"
                        % (repo.hub_kind, ", ".join(unknown)))
    m = dict(getattr(repo, "meta", None) or {})
    for k, v in meta.items():
        if k in _TIME_KEYS:
            v = _epoch(v)
        elif k in _LIST_KEYS:
            v = [v] if isinstance(v, str) else [str(x) for x in (v or [])]
        m[k] = v
    repo.meta = m
    return m


def meta(repo):
    """The repo's metadata with defaults (repos made elsewhere have none)."""
    d = dict(HF_DEFAULTS if repo.hub_kind == "hf" else MS_DEFAULTS)
    d.update(getattr(repo, "meta", None) or {})
    for k in _LIST_KEYS:
        if k in d:
            d[k] = list(d[k] or [])
    return d


def owner_of(repo):
    return repo.id.split("/", 1)[0] if "/" in repo.id else None


def created(repo):
    c = meta(repo)["created_at"]
    return c if c is not None else min(s.created_at for s in repo.snapshots.values())


def modified(repo, snap=None):
    """lastModified: metadata (or the head commit's time) at the default
    branch's head; the commit's own time at any other revision."""
    if snap is None or snap.commit == repo.commit:
        m = meta(repo)["last_modified"]
        return m if m is not None else repo.snapshots[repo.commit].created_at
    return snap.created_at


def listed(repo, user):
    """Searches show public repos, and private ones to their owner only."""
    return not repo.private or (user is not None and user == owner_of(repo))


def hf_iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")


def ms_iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def _truthy(v):
    return v is not None and str(v).strip().lower() in ("1", "true", "yes", "on")


def _first(q, *keys):
    for k in keys:
        if q.get(k):
            return q[k][0]
    return None


def _small_text(snap, path, limit=1 << 20):
    c = snap.files.get(path)
    if c is None or c.size > limit:
        return None
    return c.read(0, c.size).decode("utf-8", "replace")


def _used(snap):
    return sum(c.size for c in snap.files.values())


def _sort_desc(repos, key):
    """Sort by key, descending; ties by id, ascending."""
    repos.sort(key=lambda r: r.id)
    repos.sort(key=key, reverse=True)
    return repos


# ============================================================ Hugging Face

def hf_author(repo):
    a = meta(repo)["author"]
    return a if a is not None else owner_of(repo)


def hf_tags(repo):
    """The Hub's tags: repo_tags, plus library_name and pipeline_tag."""
    m = meta(repo)
    tags = list(m["repo_tags"])
    for t in (m["library_name"], m["pipeline_tag"]):
        if t and t not in tags:
            tags.append(t)
    return tags


def hf_gated(repo):
    return repo.gated if isinstance(repo.gated, str) else ("manual" if repo.gated else False)


def _hf_siblings(h, repo, snap, blobs):
    """siblings: rfilename, and with blobs=true size, blobId (git sha1 / LFS
    pointer sha1) and lfs {sha256, size, pointerSize} (HF §1.4)."""
    tree = {}
    if blobs:                                    # hashes only when asked
        tree = {e["path"]: e for e in h.hf_tree_entries(repo, snap) if e["type"] == "file"}
    out = []
    for p in sorted(snap.files):
        s = {"rfilename": p}
        e = tree.get(p)
        if e:
            s["size"] = e["size"]
            s["blobId"] = e["oid"]
            if "lfs" in e:
                s["lfs"] = {"sha256": e["lfs"]["oid"], "size": e["lfs"]["size"],
                            "pointerSize": e["lfs"]["pointerSize"]}
        out.append(s)
    out.extend({"rfilename": e["path"]} for e in repo.extra_tree_entries)
    return out


def _hf_config(snap):
    text = _small_text(snap, "config.json")
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        return None
    return {k: doc[k] for k in ("architectures", "model_type") if k in doc}


_ABSENT = object()


def _or_absent(v):
    return _ABSENT if v is None else v

# property -> value (h, repo, snap, rtype, meta, blobs); _ABSENT or None-when-omitted
_HF_PROPS = {
    "_id": lambda h, r, s, t, m, b: "%024x" % r.numeric_id,
    "id": lambda h, r, s, t, m, b: r.id,
    "modelId": lambda h, r, s, t, m, b: r.id,
    "author": lambda h, r, s, t, m, b: hf_author(r),
    "sha": lambda h, r, s, t, m, b: s.commit,
    "lastModified": lambda h, r, s, t, m, b: hf_iso(modified(r, s)),
    "createdAt": lambda h, r, s, t, m, b: hf_iso(created(r)),
    "private": lambda h, r, s, t, m, b: bool(r.private),
    "gated": lambda h, r, s, t, m, b: hf_gated(r),
    "disabled": lambda h, r, s, t, m, b: bool(m["disabled"]),
    "downloads": lambda h, r, s, t, m, b: m["downloads"],
    "downloadsAllTime": lambda h, r, s, t, m, b: (m["downloads_all_time"]
                                                  if m["downloads_all_time"] is not None
                                                  else m["downloads"]),
    "likes": lambda h, r, s, t, m, b: m["likes"],
    "trendingScore": lambda h, r, s, t, m, b: m["trending_score"],
    "tags": lambda h, r, s, t, m, b: hf_tags(r),
    "pipeline_tag": lambda h, r, s, t, m, b: m["pipeline_tag"] if m["pipeline_tag"] else _ABSENT,
    "library_name": lambda h, r, s, t, m, b: m["library_name"] if m["library_name"] else _ABSENT,
    "cardData": lambda h, r, s, t, m, b: dict(m["card_data"] or {}),
    "config": lambda h, r, s, t, m, b: _or_absent(_hf_config(s)),
    "siblings": lambda h, r, s, t, m, b: _hf_siblings(h, r, s, b),
    "spaces": lambda h, r, s, t, m, b: [],
    "childrenModelCount": lambda h, r, s, t, m, b: 0,
    "usedStorage": lambda h, r, s, t, m, b: _used(s),
    "mainSize": lambda h, r, s, t, m, b: _used(s),
    "description": lambda h, r, s, t, m, b: m["description"],
    "citation": lambda h, r, s, t, m, b: m["citation"],
    "paperswithcode_id": lambda h, r, s, t, m, b: None,
    "xetEnabled": lambda h, r, s, t, m, b: False,
}

# what `expand` accepts (huggingface_hub ExpandModelProperty_T / ExpandDatasetProperty_T,
# plus xetEnabled that older upload code asks for); others answer 400
HF_EXPAND = {
    "model": {"author", "baseModels", "cardData", "childrenModelCount", "config", "createdAt",
              "disabled", "downloads", "downloadsAllTime", "evalResults", "gated", "gguf",
              "inference", "inferenceProviderMapping", "lastModified", "library_name", "likes",
              "mask_token", "model-index", "pipeline_tag", "private", "resourceGroup",
              "safetensors", "sha", "siblings", "spaces", "tags", "transformersInfo",
              "trendingScore", "usedStorage", "widgetData", "xetEnabled"},
    "dataset": {"author", "cardData", "citation", "createdAt", "description", "disabled",
                "downloads", "downloadsAllTime", "gated", "lastModified", "likes", "mainSize",
                "paperswithcode_id", "private", "resourceGroup", "sha", "siblings", "tags",
                "trendingScore", "usedStorage", "xetEnabled"},
}

# key sets of the answers
HF_INFO_KEYS = {
    "model": ["_id", "id", "author", "sha", "lastModified", "createdAt", "private", "gated",
              "disabled", "downloads", "likes", "tags", "pipeline_tag", "library_name",
              "cardData", "config", "siblings", "spaces", "usedStorage", "modelId"],
    "dataset": ["_id", "id", "author", "sha", "lastModified", "createdAt", "private", "gated",
                "disabled", "downloads", "likes", "tags", "cardData", "siblings", "usedStorage",
                "description", "citation", "paperswithcode_id"],
}
# listings (HF §6.1, captured): no sha/lastModified/author for models without full
HF_LIST_KEYS = {
    "model": ["_id", "id", "likes", "trendingScore", "private", "downloads", "tags",
              "pipeline_tag", "library_name", "createdAt", "modelId"],
    "dataset": ["_id", "id", "author", "sha", "lastModified", "private", "gated", "disabled",
                "likes", "trendingScore", "tags", "description", "downloads", "createdAt"],
}
HF_LIST_FULL_KEYS = {
    "model": ["_id", "id", "author", "gated", "lastModified", "likes", "trendingScore",
              "private", "sha", "downloads", "tags", "pipeline_tag", "library_name",
              "createdAt", "modelId", "siblings"],
    "dataset": HF_LIST_KEYS["dataset"] + ["cardData", "siblings"],
}
# sort keys the API takes (camelCase only, HF §6.1), all descending
HF_SORT = {
    "downloads": lambda r: meta(r)["downloads"],
    "likes": lambda r: meta(r)["likes"],
    "lastModified": lambda r: modified(r),
    "createdAt": lambda r: created(r),
    "trendingScore": lambda r: meta(r)["trending_score"],
}


def hf_props(h, repo, snap, rtype, keys, blobs=False):
    m = meta(repo)
    out = {}
    for k in keys:
        f = _HF_PROPS.get(k)
        if f is None:
            continue
        v = f(h, repo, snap, rtype, m, blobs)
        if v is not _ABSENT:
            out[k] = v
    return out


def _hf_expand(h, rtype):
    """The expand list (expand= or expand[]=), or None after a 400."""
    q = h.req.query
    expand = [e for e in q.get("expand", []) + q.get("expand[]", []) if e]
    bad = [e for e in expand if e not in HF_EXPAND[rtype]]
    if bad:
        h.hf_error(400, None, '"expand" must be one of: %s (got %s)'
                   % (", ".join(sorted(HF_EXPAND[rtype])), ", ".join(bad)))
        return None
    return expand


def hf_info(h, repo, snap, rtype):
    """The repo info document (HF §1.4), for the default key set or `expand`."""
    q = h.req.query
    expand = [e for e in q.get("expand", []) + q.get("expand[]", []) if e]
    keys = (["_id", "id"] + expand) if expand else HF_INFO_KEYS[rtype]
    return hf_props(h, repo, snap, rtype, keys, blobs=_truthy(_first(q, "blobs")))


def hf_repo_info(h, repo, snap, rtype):
    """GET /api/{models|datasets}/{repo}[/revision/{rev}]: 400 on an unknown expand."""
    if _hf_expand(h, rtype) is None:
        return None
    return h.send_json(200, hf_info(h, repo, snap, rtype), shape="hf")


def _cursor(n):
    return base64.urlsafe_b64encode(json.dumps({"offset": n}).encode()).decode().rstrip("=")


def _uncursor(c):
    doc = json.loads(base64.urlsafe_b64decode(c + "=" * (-len(c) % 4)).decode())
    n = int(doc["offset"])
    if n < 0:
        raise ValueError("negative offset")
    return n


def hf_list(h, rtype):
    """GET /api/models|datasets (HF §6): search (repeatable, AND), author,
    filter (repeatable, AND, tags), pipeline_tag, gated, sort (descending),
    limit, full, cardData, config, expand; pages of min(limit,
    hub.hf_list_page_size) linked by Link: <…&cursor=…>; rel="next"."""
    hub, q = h.hub, h.req.query
    tok = h.token()
    if tok and tok not in hub.tokens:
        return h.hf_error(401, None, "Invalid credentials in Authorization header")
    expand = _hf_expand(h, rtype)
    if expand is None:
        return None
    full, card, config = (_truthy(_first(q, k)) for k in ("full", "cardData", "config"))
    if expand and (full or card or config):
        return h.hf_error(400, None, "expand cannot be used with full, config or cardData")
    sort = _first(q, "sort")
    if sort and sort not in HF_SORT:
        return h.hf_error(400, None, "Invalid sort parameter: %s (one of %s)"
                          % (sort, ", ".join(HF_SORT)))
    try:
        limit = int(_first(q, "limit")) if _first(q, "limit") else None
        if limit is not None and limit < 1:
            raise ValueError(limit)
        offset = _uncursor(_first(q, "cursor")) if _first(q, "cursor") else 0
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return h.hf_error(400, None, "Invalid limit or cursor")
    searches = [s.lower() for s in q.get("search", []) if s]
    author = (_first(q, "author") or "").lower()
    filters = [f for f in q.get("filter", []) + q.get("filter[]", []) if f]
    pipeline = _first(q, "pipeline_tag")
    gated = _first(q, "gated")
    user = h.user()
    repos = []
    for r in hub.repos.values():
        if r.hub_kind != "hf" or r.type != rtype or not listed(r, user):
            continue
        if any(s not in r.id.lower() for s in searches):
            continue
        if author and (owner_of(r) or "").lower() != author:
            continue
        tags = hf_tags(r)
        if any(f not in tags for f in filters):
            continue
        if pipeline and meta(r)["pipeline_tag"] != pipeline:
            continue
        if gated is not None and bool(r.gated) != _truthy(gated):
            continue
        repos.append(r)
    _sort_desc(repos, HF_SORT[sort or "trendingScore"])
    size = max(1, int(hub.hf_list_page_size))
    if limit:
        size = min(size, limit)
    page = repos[offset:offset + size]
    if expand:
        keys = ["_id", "id"] + expand
    else:
        keys = list((HF_LIST_FULL_KEYS if full else HF_LIST_KEYS)[rtype])
        if card and "cardData" not in keys:
            keys.append("cardData")
        if config and rtype == "model":
            keys.append("config")
    items = [hf_props(h, r, r.snapshot(), rtype, keys) for r in page]
    headers = {}
    if offset + size < len(repos):
        nq = [(k, v) for k, vs in q.items() if k != "cursor" for v in vs]
        nq.append(("cursor", _cursor(offset + size)))
        headers["Link"] = '<%s%s?%s>; rel="next"' % (
            hub.url, h.raw_path_only(), urllib.parse.urlencode(nq))
    return h.send_json(200, items, headers, shape="hf")


# ============================================================ ModelScope

def ms_tags(repo):
    """OpenAPI item tags, prefixed as in [MS-OAS] (datasets: license, task, custom_tag)."""
    m = meta(repo)
    tags = ["license:" + m["license"]] if m["license"] else []
    if repo.type == "model":
        if m["model_type"]:
            tags.append("model_type:" + m["model_type"])
        tags += ["library:" + x for x in m["library"]]
    tags += ["task:" + x for x in m["tasks"]]
    if repo.type == "model":
        tags += ["deploy:" + x for x in m["deploy"]]
    tags += ["custom_tag:" + x for x in m["custom_tags"]]
    return tags


def ms_openapi_item(repo, detail=False):
    """One model / dataset of /openapi/v1/{models|datasets} ([MS-OAS] Model,
    Dataset; ModelDetail / DatasetDetail add readme)."""
    m = meta(repo)
    owner, name = repo.id.split("/", 1)
    snap = repo.snapshot()
    item = {"id": repo.id, "display_name": m["display_name"] or name,
            "description": m["description"], "downloads": m["downloads"], "likes": m["likes"],
            "license": m["license"], "tasks": list(m["tasks"]),
            "created_at": ms_iso(created(repo)), "last_modified": ms_iso(modified(repo)),
            "file_size": _used(snap)}
    if repo.type == "model":
        item["params"] = m["params"]
    item.update({"tags": ms_tags(repo), "private": bool(repo.private), "gated": bool(m["gated"])})
    if repo.type == "dataset":
        item["login_required"] = bool(m["login_required"])
    if detail:
        item["readme"] = _small_text(snap, "README.md")
    return item


def ms_info(repo):
    """Legacy Data of GET /api/v1/{models|datasets}/{o}/{n} (MS §2.3, §2.10)."""
    m = meta(repo)
    owner, name = repo.id.split("/", 1)
    snap = repo.snapshot()
    made, mod = created(repo), modified(repo)
    info = {"Id": repo.numeric_id, "Name": name, "Path": owner, "Owner": owner,
            "ChineseName": m["display_name"] or "", "Visibility": 1 if repo.private else 5,
            "IsPublished": 1, "IsOnline": 1, "AlreadyStar": False,
            "License": m["license"], "Description": m["description"],
            "Downloads": m["downloads"], "Stars": m["likes"], "Likes": m["likes"],
            "Tags": list(m["custom_tags"]), "Tasks": [{"name": t} for t in m["tasks"]],
            "CreatedTime": made, "LastUpdatedTime": mod,
            "CreatedAt": made, "UpdatedAt": mod, "LastModified": mod,
            "Revision": repo.default_branch, "ProtectedMode": 1 if m["gated"] else 2,
            "IsAccessible": True, "ReadMeContent": _small_text(snap, "README.md") or "",
            "Organization": {"Name": owner}, "CreatedBy": m["author"] or owner}
    if repo.type == "model":
        info["ModelType"] = [m["model_type"]] if m["model_type"] else []
        info["Architectures"] = list((_hf_config(snap) or {}).get("architectures") or [])
    else:
        info["Type"] = 2                         # DatasetFormations: native (MS §2.10)
        info["Namespace"] = owner
        info["GmtCreate"] = made
    return info


def _openapi_error(h, status, code, message):
    return h.send_json(status, {"success": False, "code": code, "message": message,
                                "request_id": str(uuid.uuid4())})


def _ms_bad_token(h):
    tok = h.token()
    if tok and tok not in h.hub.tokens:
        _openapi_error(h, 401, "InvalidAuthentication",
                       "Invalid authentication, please check your Authorization header")
        return True
    return False


def ms_openapi_get(h, rtype, owner, name):
    """GET /openapi/v1/{models|datasets}/{o}/{n} (MS §2.4): the item + readme;
    404 ResourceNotFound when missing, or private without a known token."""
    if _ms_bad_token(h):
        return None
    repo = h.ms_find(rtype, owner, name)
    if repo is None or (repo.private and not h.user()):
        return _openapi_error(h, 404, "ResourceNotFound",
                              "Resource not found: %s %s/%s" % (rtype, owner, name))
    return h.openapi(200, ms_openapi_item(repo, detail=True))


MS_SORT = {
    "default": None,                             # [inferred] the emulator's: by id
    "downloads": lambda r: meta(r)["downloads"],
    "likes": lambda r: meta(r)["likes"],
    "last_modified": lambda r: modified(r),
}
MS_FILTERS = {"model": ("task", "library", "model_type", "custom_tag", "license", "deploy"),
              "dataset": ("task", "license")}


def _ms_match(repo, key, value):
    m = meta(repo)
    v = value.strip().lower()
    if key == "license":
        return (m["license"] or "").lower() == v
    if key == "model_type":
        return (m["model_type"] or "").lower() == v
    field = {"task": "tasks", "library": "library", "custom_tag": "custom_tags",
             "deploy": "deploy"}[key]
    return v in [x.lower() for x in m[field]]


def ms_openapi_list(h, rtype):
    """GET /openapi/v1/{models|datasets} (MS §2.14, [MS-OAS])."""
    hub, q = h.hub, h.req.query
    if _ms_bad_token(h):
        return None

    def bad(param, why):
        return _openapi_error(h, 400, "InputParameterError",
                              "Input parameter '%s' is invalid: %s" % (param, why))

    cap = int(getattr(hub, "ms_list_max_page_size", 50))
    try:
        page = int(_first(q, "page_number") or 1)
    except ValueError:
        return bad("page_number", "must be an integer")
    try:
        size = int(_first(q, "page_size") or 10)
    except ValueError:
        return bad("page_size", "must be an integer")
    if page < 1:
        return bad("page_number", "must be at least 1")
    if size < 1 or size > cap:
        return bad("page_size", "must be between 1 and %d" % cap)
    if page * size > 3000:
        return bad("page_number", "page_number * page_size must not exceed 3000")
    sort = _first(q, "sort") or "default"
    if sort not in MS_SORT:
        return bad("sort", "must be one of %s" % ", ".join(MS_SORT))
    owner = _first(q, "owner", "author")
    search = (_first(q, "search") or "").strip().lower()
    filters = [(k[7:], vs[0]) for k, vs in q.items()
               if k.startswith("filter.") and k[7:] in MS_FILTERS[rtype] and vs and vs[0]]
    user = h.user()
    repos = []
    for r in hub.repos.values():
        if r.hub_kind != "ms" or r.type != rtype or not listed(r, user):
            continue
        if owner and owner_of(r) != owner:
            continue
        if search:
            name = r.id.split("/", 1)[1]
            hay = (r.id, name, owner_of(r), meta(r)["display_name"] or "")
            if not any(search in x.lower() for x in hay):
                continue
        if not all(_ms_match(r, k, v) for k, v in filters):
            continue
        repos.append(r)
    repos.sort(key=lambda r: r.id)
    if MS_SORT[sort]:
        _sort_desc(repos, MS_SORT[sort])
    items = [ms_openapi_item(r) for r in repos[(page - 1) * size:page * size]]
    return h.openapi(200, {rtype + "s": items, "total_count": len(repos),
                           "page_number": page, "page_size": size})


def ms_legacy_list(h, rtype):
    """MS §2.14: PUT /api/v1/models/ {"Path": owner, "PageNumber", "PageSize"}
    (Data.{Models, TotalCount}) and GET /api/v1/datasets?owner=&PageNumber=&PageSize=
    (Data = [...], TotalCount/PageNumber/PageSize at the top; a page past the
    end is a 400 whose message names fromIndex/toIndex)."""
    q = h.req.query
    if rtype == "model" and h.command == "PUT":
        try:
            body = json.loads(h.req.body or b"{}")
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        owner = body.get("Path") or ""
        try:
            page, size = int(body.get("PageNumber") or 1), int(body.get("PageSize") or 10)
        except (TypeError, ValueError):
            return h.ms_envelope(400, message="invalid PageNumber or PageSize")
    elif rtype == "dataset" and h.command in ("GET", "HEAD"):
        owner = (q.get("owner") or [""])[0]
        page, size = h._page(q, "PageNumber", "PageSize", 50)
    else:
        return h.ms_envelope(405, message="method %s not supported here" % h.command)
    page, size = max(1, page), max(1, size)
    user = h.user()
    repos = sorted((r for r in h.hub.repos.values()
                    if r.hub_kind == "ms" and r.type == rtype and listed(r, user)
                    and (not owner or owner_of(r) == owner)), key=lambda r: r.id)
    start = (page - 1) * size
    if rtype == "dataset" and start > len(repos):
        return h.ms_envelope(400, message="fromIndex(%d) > toIndex(%d)" % (start, len(repos)))
    items = [ms_info(r) for r in repos[start:start + size]]
    if rtype == "model":
        return h.ms_envelope(200, {"Models": items, "TotalCount": len(repos)})
    return h.ms_envelope(200, items, extra={"TotalCount": len(repos), "PageNumber": page,
                                            "PageSize": size})


# ============================================================ helpers for tests

def add_repos(hub, which, count, owner="org", type="model", name="repo-{i:03d}", files=None,
              private=False, **meta_kw):
    """count small repos on "ms", "hf" or "both", named owner/name.format(i=i);
    any metadata value may be a function of i.  Returns the repos made."""
    if which not in ("ms", "hf", "both"):
        raise ValueError("which must be 'ms', 'hf' or 'both'")
    out = []
    for i in range(count):
        rid = "%s/%s" % (owner, name.format(i=i))
        fs = files(i) if callable(files) else (files if files is not None
                                                 else {"README.md": b"# %s\n" % rid.encode()})
        kw = {k: (v(i) if callable(v) else v) for k, v in meta_kw.items()}
        if which in ("ms", "both"):
            out.append(hub.add_ms_repo(rid, type=type, files=dict(fs), private=private, **kw))
        if which in ("hf", "both"):
            out.append(hub.add_hf_repo(rid, type=type, files=dict(fs), private=private, **kw))
    return out


# --sample: repos with metadata for search/info checks (the tiny model and
# dataset are unchanged).  (id, type, hf metadata, ms metadata, private)
SEARCH_SAMPLES = [
    ("mscli-demo/search-alpha", "model",
     dict(pipeline_tag="text-generation", library_name="transformers",
          repo_tags=["pytorch", "safetensors", "en", "license:apache-2.0"], downloads=500, likes=7,
          trending_score=3, created_at="2024-03-01T10:00:00Z", last_modified="2025-01-10T08:30:00Z"),
     dict(tasks=["text-generation"], library=["pytorch", "safetensors"], model_type="qwen2",
          custom_tags=["llm"], downloads=500, likes=7, params=500000,
          display_name="Search Alpha", description="A sample model for search tests.",
          created_at="2024-03-01T10:00:00Z", last_modified="2025-01-10T08:30:00Z"), False),
    ("mscli-demo/search-beta", "model",
     dict(pipeline_tag="text-classification", library_name="transformers",
          repo_tags=["pytorch", "en"], downloads=50, likes=90, trending_score=9,
          created_at="2024-05-02T00:00:00Z", last_modified="2024-06-01T00:00:00Z"),
     dict(tasks=["text-classification"], library=["pytorch"], model_type="bert",
          license="MIT License", downloads=50, likes=90,
          created_at="2024-05-02T00:00:00Z", last_modified="2024-06-01T00:00:00Z"), False),
    ("mscli-demo/search-gamma", "model",
     dict(pipeline_tag="text-generation", library_name="gguf", repo_tags=["gguf"],
          downloads=5000, likes=1, trending_score=1,
          created_at="2023-12-24T00:00:00Z", last_modified="2025-03-03T00:00:00Z"),
     dict(tasks=["text-generation"], library=["gguf"], custom_tags=["llm", "gguf"],
          deploy=["swingdeploy"], downloads=5000, likes=1,
          created_at="2023-12-24T00:00:00Z", last_modified="2025-03-03T00:00:00Z"), False),
    ("other-org/search-delta", "model",
     dict(pipeline_tag="text-generation", library_name="transformers", repo_tags=["pytorch"],
          downloads=10, likes=3, created_at="2024-08-08T00:00:00Z",
          last_modified="2024-08-09T00:00:00Z"),
     dict(tasks=["text-generation"], library=["pytorch"], downloads=10, likes=3,
          created_at="2024-08-08T00:00:00Z", last_modified="2024-08-09T00:00:00Z"), False),
    ("alice/search-private", "model",
     dict(pipeline_tag="text-generation", library_name="transformers", downloads=1, likes=0),
     dict(tasks=["text-generation"], downloads=1, likes=0), True),
    ("mscli-demo/search-corpus", "dataset",
     dict(repo_tags=["task_categories:text-generation", "language:en", "size_categories:n<1K"],
          downloads=80, likes=4, description="A sample corpus.",
          card_data={"license": "cc-by-4.0", "language": ["en"],
                     "task_categories": ["text-generation"]},
          created_at="2024-02-02T00:00:00Z", last_modified="2024-11-11T00:00:00Z"),
     dict(tasks=["text-generation"], license="cc-by-4.0", custom_tags=["corpus"], downloads=80,
          likes=4, description="A sample corpus.",
          created_at="2024-02-02T00:00:00Z", last_modified="2024-11-11T00:00:00Z"), False),
    ("other-org/search-dialogs", "dataset",
     dict(repo_tags=["task_categories:text-classification", "language:zh"], downloads=300,
          likes=2, created_at="2024-04-04T00:00:00Z", last_modified="2024-04-05T00:00:00Z"),
     dict(tasks=["text-classification"], downloads=300, likes=2,
          created_at="2024-04-04T00:00:00Z", last_modified="2024-04-05T00:00:00Z"), False),
    ("alice/search-private-data", "dataset", dict(downloads=2), dict(downloads=2), True),
]


def sample_files(repo_id, version="main"):
    return {"README.md": ("# %s\n\nA search sample (%s).\n" % (repo_id, version)).encode(),
            "config.json": json.dumps({"architectures": ["TinyForCausalLM"],
                                       "model_type": "tiny"}).encode() + b"\n"}


def add_search_samples(hub):
    """The search samples on both hubs.  On both, mscli-demo/search-alpha has a
    tag v1.0 and a branch dev with files of their own (info by branch, tag and
    commit)."""
    for rid, rtype, hf, ms, private in SEARCH_SAMPLES:
        files = sample_files(rid)
        if rtype == "dataset":
            files = {"README.md": files["README.md"], "data/train.jsonl": b'{"text": "hi"}\n'}
        revs = {}
        if rid == "mscli-demo/search-alpha":
            revs = dict(tags={"v1.0": sample_files(rid, "v1.0")},
                        branches={"dev": dict(sample_files(rid, "dev"), **{"dev.txt": b"dev\n"})})
        hub.add_hf_repo(rid, type=rtype, files=dict(files), private=private, **dict(revs, **hf))
        hub.add_ms_repo(rid, type=rtype, files=dict(files), private=private, **dict(revs, **ms))
