"""Self-tests of the emulator's search and repo-info endpoints (emu_search.py).

    python3 -m unittest discover -s tests/hub -v

Hugging Face /api/models|datasets (search, author, filter, sort, limit, Link
pages, full/expand), repo info by branch/tag/commit; ModelScope
/openapi/v1/models|datasets (filters, sort, paging limits), the legacy lists
and info; private repos in searches; what the hub received (hub.requests()).
Standard library only; nothing is followed implicitly.
"""
import datetime
import hashlib
import http.client
import json
import os
import string
import sys
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import hubemu  # noqa: E402
from hubemu import Hub  # noqa: E402


def get(url, method="GET", headers=None, body=None):
    """(status, lower-cased headers, parsed JSON or raw bytes)."""
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        target = u.path + ("?" + u.query if u.query else "")
        target = urllib.parse.quote(target, safe=string.punctuation)   # non-ASCII only
        c.request(method, target, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        h = {k.lower(): v for k, v in r.getheaders()}
        try:
            data = json.loads(data)
        except ValueError:
            pass
        return r.status, h, data
    finally:
        c.close()


def next_link(headers):
    link = headers.get("link")
    if not link:
        return None
    assert link.startswith("<") and link.endswith('>; rel="next"'), link
    return link[1:link.index(">")]


def hf_pages(url, headers=None):
    """Follow Link rel="next" like huggingface_hub's paginate(): (items, pages, urls)."""
    items, urls = [], []
    while url:
        urls.append(url)
        st, h, body = get(url, headers=headers)
        assert st == 200, (st, body)
        items += body
        url = next_link(h)
    return items, len(urls), urls


def iso_epoch(s):
    return int(datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())


HF_AUTH = {"Authorization": "Bearer hf_goodtoken"}   # user alice
MS_AUTH = {"Authorization": "Bearer ms-goodtoken"}   # user alice


class HFSearch(unittest.TestCase):
    def setUp(self):
        self.hub = Hub(cdn=False)
        self.addCleanup(self.hub.stop)
        self.hub.tokens["hf_bobtoken"] = "bob"
        h = self.hub
        h.add_hf_repo("org/alpha-7b", files={"config.json": b'{"model_type": "llama"}'},
                      downloads=500, likes=7, trending_score=3, pipeline_tag="text-generation",
                      library_name="transformers", repo_tags=["pytorch", "en"],
                      created_at="2024-03-01T10:00:00Z", last_modified=1736497800)
        h.add_hf_repo("org/Beta-Classifier", files={"README.md": b"# b\n"}, downloads=50,
                      likes=90, trending_score=9, pipeline_tag="text-classification",
                      library_name="transformers", repo_tags=["pytorch"],
                      created_at=datetime.datetime(2024, 5, 2, tzinfo=datetime.timezone.utc),
                      last_modified="2024-06-01T00:00:00Z")
        h.add_hf_repo("org/gamma-gguf", files={"m.gguf": b"g" * 10}, downloads=5000, likes=1,
                      trending_score=1, pipeline_tag="text-generation", library_name="gguf",
                      repo_tags=["gguf"], created_at="2023-12-24T00:00:00Z",
                      last_modified="2025-03-03T00:00:00Z", gated="auto")
        h.add_hf_repo("other/delta", files={"a.txt": b"a"}, downloads=10, likes=3,
                      pipeline_tag="text-generation", library_name="transformers",
                      repo_tags=["pytorch"], created_at="2024-08-08T00:00:00Z")
        h.add_hf_repo("alice/secret-llm", files={"a.txt": b"s"}, private=True,
                      pipeline_tag="text-generation", downloads=1)
        h.add_hf_repo("bob/hidden", files={"a.txt": b"h"}, private=True, downloads=2)
        h.add_hf_repo("org/corpus", type="dataset", files={"d.jsonl": b"{}\n"}, downloads=80,
                      likes=4, description="A corpus.",
                      repo_tags=["task_categories:text-generation", "language:en"])
        h.add_hf_repo("other/dialogs", type="dataset", files={"d.jsonl": b"{}\n"}, downloads=300,
                      repo_tags=["task_categories:text-classification", "language:zh"])
        h.add_hf_repo("alice/private-data", type="dataset", files={"d": b"x"}, private=True)

    def ids(self, query, kind="models", headers=None):
        st, h, body = get(self.hub.url + "/api/%s?%s" % (kind, query), headers=headers)
        self.assertEqual(st, 200, body)
        return [m["id"] for m in body]

    def test_pagination_past_one_page(self):
        self.hub.add_repos("hf", 7, owner="bulk", name="m-{i:02d}")
        self.hub.hf_list_page_size = 3
        items, pages, urls = hf_pages(self.hub.url + "/api/models?author=bulk&sort=downloads")
        self.assertEqual(pages, 3)
        self.assertEqual(sorted(m["id"] for m in items), ["bulk/m-%02d" % i for i in range(7)])
        self.assertEqual(len({m["id"] for m in items}), 7)            # no repeats
        for u in urls[1:]:              # absolute, every param kept, an opaque cursor
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(u).query)
            self.assertTrue(u.startswith(self.hub.url + "/api/models?"))
            self.assertEqual((q["author"], q["sort"]), (["bulk"], ["downloads"]))
            self.assertIn("cursor", q)
        st, h, body = get(urls[-1])
        self.assertNotIn("link", h)     # the last page has no Link
        st, _, _ = get(self.hub.url + "/api/models?cursor=!!notacursor")
        self.assertEqual(st, 400)

    def test_limit_is_the_page_size_and_spans_pages(self):
        self.hub.add_repos("hf", 7, owner="bulk")
        self.hub.hf_list_page_size = 3
        st, h, body = get(self.hub.url + "/api/models?author=bulk&limit=2")
        self.assertEqual(len(body), 2)                 # limit below the cap: pages of 2
        self.assertIn("limit=2", next_link(h))
        # limit=5 over a cap of 3: pages of 3, Link followed; a client stops at 5
        items, pages, urls = hf_pages(self.hub.url + "/api/models?author=bulk&limit=5")
        self.assertEqual((len(items), pages), (7, 3))
        self.assertTrue(all("limit=5" in u for u in urls[1:]))
        self.hub.hf_list_page_size = 1000
        st, h, body = get(self.hub.url + "/api/models?author=bulk&limit=5")
        self.assertEqual(len(body), 5)
        self.assertIn("link", h)
        self.assertEqual(get(self.hub.url + "/api/models?limit=0")[0], 400)

    def test_search_author_filter(self):
        self.assertEqual(self.ids("search=BETA"), ["org/Beta-Classifier"])  # case-insensitive
        self.assertEqual(sorted(self.ids("search=a")), sorted(
            ["org/alpha-7b", "org/Beta-Classifier", "org/gamma-gguf", "other/delta"]))
        self.assertEqual(self.ids("search=org&search=gguf"), ["org/gamma-gguf"])  # AND
        self.assertEqual(self.ids("search=org/alpha"), ["org/alpha-7b"])
        self.assertEqual(self.ids("author=other"), ["other/delta"])
        self.assertEqual(self.ids("author=nobody"), [])
        self.assertEqual(sorted(self.ids("filter=pytorch")), sorted(
            ["org/alpha-7b", "org/Beta-Classifier", "other/delta"]))
        self.assertEqual(self.ids("filter=pytorch&filter=en"), ["org/alpha-7b"])  # AND
        # library_name and pipeline_tag are tags too
        self.assertEqual(self.ids("filter=gguf&filter=text-generation"), ["org/gamma-gguf"])
        self.assertEqual(sorted(self.ids("pipeline_tag=text-generation&author=org")),
                         ["org/alpha-7b", "org/gamma-gguf"])
        self.assertEqual(self.ids("gated=true"), ["org/gamma-gguf"])
        self.assertNotIn("org/gamma-gguf", self.ids("gated=false"))
        self.assertEqual(self.ids("filter=language:en", kind="datasets"), ["org/corpus"])
        self.assertEqual(self.ids("author=other", kind="datasets"), ["other/dialogs"])
        self.assertEqual(self.ids("search=corp", kind="datasets"), ["org/corpus"])

    def test_sort_is_descending(self):
        self.assertEqual(self.ids("author=org&sort=downloads"),
                         ["org/gamma-gguf", "org/alpha-7b", "org/Beta-Classifier"])
        self.assertEqual(self.ids("author=org&sort=likes"),
                         ["org/Beta-Classifier", "org/alpha-7b", "org/gamma-gguf"])
        self.assertEqual(self.ids("author=org&sort=lastModified"),
                         ["org/gamma-gguf", "org/alpha-7b", "org/Beta-Classifier"])
        self.assertEqual(self.ids("author=org&sort=createdAt"),
                         ["org/Beta-Classifier", "org/alpha-7b", "org/gamma-gguf"])
        self.assertEqual(self.ids("author=org&sort=trendingScore"),
                         ["org/Beta-Classifier", "org/alpha-7b", "org/gamma-gguf"])
        self.assertEqual(self.ids("author=org"),        # no sort: trending, as on the Hub
                         ["org/Beta-Classifier", "org/alpha-7b", "org/gamma-gguf"])
        # direction is ignored (the API has no ascending sort; huggingface_hub #3630)
        self.assertEqual(self.ids("author=org&sort=downloads&direction=1"),
                         self.ids("author=org&sort=downloads&direction=-1"))
        self.assertEqual(self.ids("sort=downloads", kind="datasets"),
                         ["other/dialogs", "org/corpus"])
        for bad in ("last_modified", "created_at", "nope"):    # camelCase only (#2655)
            st, h, body = get(self.hub.url + "/api/models?sort=" + bad)
            self.assertEqual(st, 400, bad)
            self.assertIn("error", body)

    def test_item_fields(self):
        st, _, body = get(self.hub.url + "/api/models?search=alpha")
        item = body[0]
        self.assertEqual(set(item), {"_id", "id", "likes", "trendingScore", "private",
                                     "downloads", "tags", "pipeline_tag", "library_name",
                                     "createdAt", "modelId"})
        self.assertEqual((item["downloads"], item["likes"], item["trendingScore"]), (500, 7, 3))
        self.assertEqual(item["tags"], ["pytorch", "en", "transformers", "text-generation"])
        self.assertEqual(item["createdAt"], "2024-03-01T10:00:00.000Z")
        self.assertRegex(item["_id"], r"^[0-9a-f]{24}$")
        st, _, body = get(self.hub.url + "/api/models?search=delta&full=true")
        item = body[0]
        for k in ("author", "gated", "lastModified", "sha", "siblings"):
            self.assertIn(k, item)
        self.assertEqual(item["siblings"], [{"rfilename": "a.txt"}])    # no sizes in listings
        self.assertEqual(item["sha"], self.hub.repos[("hf", "model", "other/delta")].commit)
        st, _, body = get(self.hub.url + "/api/models?search=gamma&expand=gated&expand=sha")
        self.assertEqual(set(body[0]), {"_id", "id", "gated", "sha"})
        self.assertEqual(body[0]["gated"], "auto")
        st, _, body = get(self.hub.url + "/api/models?search=gamma&expand[]=downloadsAllTime")
        self.assertEqual(body[0]["downloadsAllTime"], 5000)
        self.assertEqual(get(self.hub.url + "/api/models?expand=foo")[0], 400)
        self.assertEqual(get(self.hub.url + "/api/models?expand=sha&full=true")[0], 400)
        st, _, body = get(self.hub.url + "/api/models?search=alpha&config=true&cardData=true")
        self.assertEqual(body[0]["config"], {"model_type": "llama"})
        self.assertEqual(body[0]["cardData"], {})
        # datasets: author, sha, lastModified and description without full
        st, _, body = get(self.hub.url + "/api/datasets?search=corpus")
        item = body[0]
        self.assertEqual(set(item), {"_id", "id", "author", "sha", "lastModified", "private",
                                     "gated", "disabled", "likes", "trendingScore", "tags",
                                     "description", "downloads", "createdAt"})
        self.assertEqual((item["author"], item["description"]), ("org", "A corpus."))
        st, _, body = get(self.hub.url + "/api/datasets?search=corpus&full=true")
        self.assertEqual(body[0]["siblings"], [{"rfilename": "d.jsonl"}])
        self.assertIn("cardData", body[0])

    def test_private_repos_in_searches(self):
        anon = self.ids("search=e")
        self.assertNotIn("alice/secret-llm", anon)
        self.assertNotIn("bob/hidden", anon)
        mine = self.ids("search=e", headers=HF_AUTH)
        self.assertIn("alice/secret-llm", mine)         # the owner sees it
        self.assertNotIn("bob/hidden", mine)            # not someone else's
        self.assertIn("bob/hidden", self.ids("search=hidden", headers={
            "Authorization": "Bearer hf_bobtoken"}))
        self.assertEqual(self.ids("author=alice", kind="datasets"), [])
        self.assertEqual(self.ids("author=alice", kind="datasets", headers=HF_AUTH),
                         ["alice/private-data"])
        st, h, body = get(self.hub.url + "/api/models", headers={"Authorization": "Bearer bad"})
        self.assertEqual(st, 401)
        st, _, body = get(self.hub.url + "/api/models?search=secret&expand=private",
                          headers=HF_AUTH)
        self.assertEqual(body[0]["private"], True)

    def test_the_hub_received_the_query(self):
        self.hub.clear_log()
        get(self.hub.url + "/api/models?search=a&author=org&filter=pytorch&filter=en"
            "&sort=downloads&limit=3&full=true")
        r = self.hub.requests(path="/api/models")[-1]
        self.assertEqual((r.method, r.status), ("GET", 200))
        self.assertEqual(r.query["filter"], ["pytorch", "en"])
        self.assertEqual((r.query["search"], r.query["author"], r.query["sort"], r.query["limit"]),
                         (["a"], ["org"], ["downloads"], ["3"]))
        st, _, log = get(self.hub.url + "/_hubemu/log")          # also for scripts
        self.assertEqual(log[-1]["query"]["filter"], ["pytorch", "en"])


HF_REPO_FILES = {"config.json": b'{"model_type": "toy"}\n', "model.safetensors": b"s" * 3000,
                 "big.bin": b"b" * (1 << 20)}


class HFInfo(unittest.TestCase):
    def setUp(self):
        self.hub = Hub(cdn=False)
        self.addCleanup(self.hub.stop)
        self.repo = self.hub.add_hf_repo(
            "org/toy", files=HF_REPO_FILES, tags={"v1.0": {"config.json": b'{"v": 1}'}},
            branches={"dev": {"dev.txt": b"dev"}, "refs/pr/1": None}, downloads=42, likes=5,
            pipeline_tag="text-generation", library_name="transformers", repo_tags=["pytorch"],
            created_at="2024-01-01T00:00:00Z", last_modified="2025-02-02T02:02:02Z", gated=True)
        self.ds = self.hub.add_hf_repo("org/data", type="dataset", files={"a.csv": b"1,2\n"},
                                       description="Some data.", citation="@misc{x}",
                                       card_data={"license": "mit"})

    def info(self, path, headers=None):
        st, h, body = get(self.hub.url + path, headers=headers)
        self.assertEqual(st, 200, body)
        return body

    def test_info_fields(self):
        d = self.info("/api/models/org/toy")
        self.assertEqual((d["id"], d["modelId"], d["author"], d["sha"]),
                         ("org/toy", "org/toy", "org", self.repo.commit))
        self.assertEqual((d["downloads"], d["likes"], d["gated"], d["private"]),
                         (42, 5, "manual", False))
        self.assertEqual((d["pipeline_tag"], d["library_name"]), ("text-generation", "transformers"))
        self.assertEqual(d["tags"], ["pytorch", "transformers", "text-generation"])
        self.assertEqual((d["createdAt"], d["lastModified"]),
                         ("2024-01-01T00:00:00.000Z", "2025-02-02T02:02:02.000Z"))
        self.assertEqual(d["config"], {"model_type": "toy"})
        self.assertEqual(sorted(s["rfilename"] for s in d["siblings"]), sorted(HF_REPO_FILES))
        self.assertEqual(d["usedStorage"], sum(len(v) for v in HF_REPO_FILES.values()))
        d = self.info("/api/datasets/org/data")
        self.assertEqual((d["description"], d["citation"], d["cardData"]),
                         ("Some data.", "@misc{x}", {"license": "mit"}))
        self.assertNotIn("modelId", d)

    def test_info_by_branch_tag_commit(self):
        tag = self.info("/api/models/org/toy/revision/v1.0")
        self.assertEqual(tag["sha"], self.repo.tags["v1.0"])
        self.assertEqual([s["rfilename"] for s in tag["siblings"]], ["config.json"])
        # another revision: its own commit time, not the repo's lastModified
        self.assertNotEqual(tag["lastModified"], "2025-02-02T02:02:02.000Z")
        dev = self.info("/api/models/org/toy/revision/dev")
        self.assertEqual((dev["sha"], [s["rfilename"] for s in dev["siblings"]]),
                         (self.repo.branches["dev"], ["dev.txt"]))
        by_commit = self.info("/api/models/org/toy/revision/" + self.repo.tags["v1.0"])
        self.assertEqual(by_commit["sha"], self.repo.tags["v1.0"])
        for pr in ("refs%2Fpr%2F1", "refs/pr/1"):
            self.assertEqual(self.info("/api/models/org/toy/revision/" + pr)["sha"],
                             self.repo.commit)
        main = self.info("/api/models/org/toy/revision/main")
        self.assertEqual(main["lastModified"], "2025-02-02T02:02:02.000Z")
        st, h, body = get(self.hub.url + "/api/models/org/toy/revision/nope")
        self.assertEqual((st, h["x-error-code"]), (404, "RevisionNotFound"))
        st, h, body = get(self.hub.url + "/api/models/org/none")
        self.assertEqual((st, h["x-error-code"]), (401, "RepoNotFound"))
        st, h, body = get(self.hub.url + "/api/models/org/none", headers=HF_AUTH)
        self.assertEqual((st, h["x-error-code"]), (404, "RepoNotFound"))

    def test_files_metadata(self):
        d = self.info("/api/models/org/toy/revision/main?blobs=true")
        sib = {s["rfilename"]: s for s in d["siblings"]}
        cfg = HF_REPO_FILES["config.json"]
        self.assertEqual(sib["config.json"]["blobId"],
                         hashlib.sha1(b"blob %d\0" % len(cfg) + cfg).hexdigest())
        self.assertNotIn("lfs", sib["config.json"])
        for p in ("model.safetensors", "big.bin"):
            data = HF_REPO_FILES[p]
            self.assertEqual(sib[p]["size"], len(data))
            self.assertEqual(sib[p]["lfs"]["sha256"], hashlib.sha256(data).hexdigest())
            self.assertEqual(sib[p]["lfs"]["size"], len(data))
            ptr = ("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n"
                   % (hashlib.sha256(data).hexdigest(), len(data))).encode()
            self.assertEqual(sib[p]["lfs"]["pointerSize"], len(ptr))
            self.assertEqual(sib[p]["blobId"], hashlib.sha1(b"blob %d\0" % len(ptr) + ptr).hexdigest())
        d = self.info("/api/datasets/org/data?blobs=True")
        self.assertEqual(d["siblings"][0]["size"], 4)

    def test_expand(self):
        d = self.info("/api/models/org/toy?expand=downloads&expand=trendingScore&expand=gated")
        self.assertEqual(d, {"_id": d["_id"], "id": "org/toy", "downloads": 42,
                             "trendingScore": 0, "gated": "manual"})
        d = self.info("/api/datasets/org/data?expand[]=mainSize&expand[]=description")
        self.assertEqual((d["mainSize"], d["description"]), (4, "Some data."))
        st, h, body = get(self.hub.url + "/api/models/org/toy?expand=mainSize")   # datasets only
        self.assertEqual(st, 400)
        self.assertIn("error", body)

    def test_private_info(self):
        self.hub.add_hf_repo("alice/priv", files={"a": b"a"}, private=True)
        self.assertEqual(get(self.hub.url + "/api/models/alice/priv")[0], 401)
        self.assertEqual(self.info("/api/models/alice/priv", headers=HF_AUTH)["private"], True)


class MSSearch(unittest.TestCase):
    def setUp(self):
        self.hub = Hub(cdn=False)
        self.addCleanup(self.hub.stop)
        self.hub.tokens["ms-bobtoken"] = "bob"
        h = self.hub
        h.add_ms_repo("qwen/Qwen-Alpha", files={"README.md": b"# alpha\n", "config.json": b"{}"},
                      tasks=["text-generation"], library=["pytorch", "safetensors"],
                      model_type="qwen2", custom_tags=["llm"], license="Apache License 2.0",
                      downloads=500, likes=7, params=7000, display_name="通义 Alpha",
                      description="alpha model", created_at="2024-03-01T10:00:00Z",
                      last_modified="2025-01-10T08:30:00Z")
        h.add_ms_repo("qwen/beta-cls", files={"a.txt": b"a"}, tasks=["text-classification"],
                      library=["pytorch"], model_type="bert", license="MIT License",
                      downloads=50, likes=90, created_at="2024-05-02T00:00:00Z",
                      last_modified="2024-06-01T00:00:00Z")
        h.add_ms_repo("iic/gamma", files={"a.txt": b"g"}, tasks=["text-generation"],
                      library=["gguf"], deploy=["swingdeploy"], downloads=5000, likes=1,
                      gated=True, created_at="2023-12-24T00:00:00Z",
                      last_modified="2025-03-03T00:00:00Z")
        h.add_ms_repo("alice/secret", files={"a.txt": b"s"}, private=True,
                      tasks=["text-generation"])
        h.add_ms_repo("bob/hidden", files={"a.txt": b"h"}, private=True)
        h.add_ms_repo("iic/corpus", type="dataset", files={"d.jsonl": b"{}\n"},
                      tasks=["text-generation"], license="cc-by-4.0", custom_tags=["corpus"],
                      downloads=80, likes=4, display_name="语料")
        h.add_ms_repo("qwen/dialogs", type="dataset", files={"d.jsonl": b"{}\n"},
                      tasks=["text-classification"], downloads=300, login_required=True)

    def search(self, query, kind="models", headers=None, status=200):
        st, h, body = get(self.hub.url + "/openapi/v1/%s?%s" % (kind, query), headers=headers)
        self.assertEqual(st, status, body)
        return body

    def ids(self, query, kind="models", headers=None):
        return [m["id"] for m in self.search(query, kind, headers)["data"][kind]]

    def test_search_owner_filters(self):
        self.assertEqual(self.ids("search=ALPHA"), ["qwen/Qwen-Alpha"])
        self.assertEqual(self.ids("search=qwen"), ["qwen/Qwen-Alpha", "qwen/beta-cls"])  # owner
        self.assertEqual(self.ids("search=通义"), ["qwen/Qwen-Alpha"])      # display name
        self.assertEqual(self.ids("owner=iic"), ["iic/gamma"])
        self.assertEqual(self.ids("author=iic"), ["iic/gamma"])             # OLD sends author
        self.assertEqual(self.ids("filter.task=text-generation"), ["iic/gamma", "qwen/Qwen-Alpha"])
        self.assertEqual(self.ids("filter.library=pytorch"), ["qwen/Qwen-Alpha", "qwen/beta-cls"])
        self.assertEqual(self.ids("filter.library=pytorch&filter.task=text-classification"),
                         ["qwen/beta-cls"])
        self.assertEqual(self.ids("filter.model_type=qwen2"), ["qwen/Qwen-Alpha"])
        self.assertEqual(self.ids("filter.custom_tag=llm"), ["qwen/Qwen-Alpha"])
        self.assertEqual(self.ids("filter.license=mit%20license"), ["qwen/beta-cls"])
        self.assertEqual(self.ids("filter.deploy=swingdeploy"), ["iic/gamma"])
        self.assertEqual(self.ids("filter.task=text-generation", kind="datasets"), ["iic/corpus"])
        self.assertEqual(self.ids("filter.license=cc-by-4.0", kind="datasets"), ["iic/corpus"])
        self.assertEqual(self.ids("search=语料", kind="datasets"), ["iic/corpus"])

    def test_sort(self):
        self.assertEqual(self.ids("sort=downloads"), ["iic/gamma", "qwen/Qwen-Alpha", "qwen/beta-cls"])
        self.assertEqual(self.ids("sort=likes"), ["qwen/beta-cls", "qwen/Qwen-Alpha", "iic/gamma"])
        self.assertEqual(self.ids("sort=last_modified"),
                         ["iic/gamma", "qwen/Qwen-Alpha", "qwen/beta-cls"])
        self.assertEqual(self.ids("sort=default"), ["iic/gamma", "qwen/Qwen-Alpha", "qwen/beta-cls"])
        self.assertEqual(self.ids("sort=downloads", kind="datasets"), ["qwen/dialogs", "iic/corpus"])
        body = self.search("sort=lastModified", status=400)
        self.assertEqual((body["success"], body["code"]), (False, "InputParameterError"))

    def test_paging_and_limits(self):
        self.hub.add_repos("ms", 23, owner="bulk")
        seen, page = [], 1
        while True:
            d = self.search("owner=bulk&page_size=10&page_number=%d" % page)["data"]
            self.assertEqual((d["total_count"], d["page_number"], d["page_size"]), (23, page, 10))
            seen += [m["id"] for m in d["models"]]
            if page * d["page_size"] >= d["total_count"]:
                break
            page += 1
        self.assertEqual((page, seen), (3, ["bulk/repo-%03d" % i for i in range(23)]))
        self.assertEqual(self.search("owner=bulk&page_size=10&page_number=9")["data"]["models"], [])
        d = self.search("owner=bulk")["data"]                        # defaults: 1, 10
        self.assertEqual((d["page_number"], d["page_size"], len(d["models"])), (1, 10, 10))
        self.assertEqual(len(self.search("owner=bulk&page_size=50")["data"]["models"]), 23)
        for q in ("page_size=51", "page_size=0", "page_number=0", "page_size=x",
                  "page_number=61&page_size=50", "page_number=301&page_size=10"):
            body = self.search(q, status=400)
            self.assertEqual(body["code"], "InputParameterError", q)
        self.search("page_number=60&page_size=50")                   # exactly 3000: fine
        self.hub.ms_list_max_page_size = 100
        self.search("page_size=100")

    def test_item_fields(self):
        d = self.search("owner=qwen&sort=downloads")
        self.assertTrue(d["success"])
        self.assertIn("request_id", d)
        m = d["data"]["models"][0]
        self.assertEqual(list(m), ["id", "display_name", "description", "downloads", "likes",
                                   "license", "tasks", "created_at", "last_modified", "file_size",
                                   "params", "tags", "private", "gated"])
        self.assertEqual((m["id"], m["display_name"], m["downloads"], m["likes"], m["params"]),
                         ("qwen/Qwen-Alpha", "通义 Alpha", 500, 7, 7000))
        self.assertEqual((m["created_at"], m["last_modified"], m["file_size"]),
                         ("2024-03-01T10:00:00Z", "2025-01-10T08:30:00Z", 10))
        self.assertEqual(m["tags"], ["license:Apache License 2.0", "model_type:qwen2",
                                     "library:pytorch", "library:safetensors",
                                     "task:text-generation", "custom_tag:llm"])
        self.assertEqual(self.search("owner=iic")["data"]["models"][0]["gated"], True)
        ds = self.search("search=dialogs", kind="datasets")["data"]["datasets"][0]
        self.assertEqual(set(ds), {"id", "display_name", "description", "file_size", "downloads",
                                   "likes", "license", "tasks", "created_at", "last_modified",
                                   "tags", "private", "gated", "login_required"})
        self.assertEqual((ds["login_required"], ds["display_name"]), (True, "dialogs"))
        # one repo (MS §2.4): the item + readme
        st, _, d = get(self.hub.url + "/openapi/v1/models/qwen/Qwen-Alpha")
        self.assertEqual((st, d["data"]["id"], d["data"]["readme"]),
                         (200, "qwen/Qwen-Alpha", "# alpha\n"))
        self.assertIsNone(get(self.hub.url + "/openapi/v1/models/qwen/beta-cls")[2]["data"]["readme"])
        st, _, d = get(self.hub.url + "/openapi/v1/models/qwen/none")
        self.assertEqual((st, d["success"], d["code"]), (404, False, "ResourceNotFound"))
        self.assertEqual(get(self.hub.url + "/openapi/v1/datasets/iic/corpus")[2]["data"]["id"],
                         "iic/corpus")

    def test_private_repos_in_searches(self):
        self.assertNotIn("alice/secret", self.ids("page_size=50"))
        mine = self.ids("page_size=50", headers=MS_AUTH)
        self.assertIn("alice/secret", mine)
        self.assertNotIn("bob/hidden", mine)
        self.assertIn("alice/secret", self.ids("page_size=50", headers={
            "Cookie": "m_session_id=ms-goodtoken"}))              # the cookie works too
        item = [m for m in self.search("owner=alice", headers=MS_AUTH)["data"]["models"]][0]
        self.assertTrue(item["private"])
        body = self.search("", headers={"Authorization": "Bearer ms-bad"}, status=401)
        self.assertEqual(body["code"], "InvalidAuthentication")
        # one repo: private needs a token (any known one, as the other endpoints)
        self.assertEqual(get(self.hub.url + "/openapi/v1/models/alice/secret")[0], 404)
        self.assertEqual(get(self.hub.url + "/openapi/v1/models/alice/secret",
                             headers=MS_AUTH)[0], 200)

    def test_the_hub_received_the_query(self):
        self.hub.clear_log()
        self.search("search=a&owner=qwen&sort=likes&page_number=1&page_size=5"
                    "&filter.task=text-generation&filter.library=pytorch")
        r = self.hub.requests(path="/openapi/v1/models")[-1]
        self.assertEqual((r.query["search"], r.query["owner"], r.query["sort"]),
                         (["a"], ["qwen"], ["likes"]))
        self.assertEqual((r.query["filter.task"], r.query["filter.library"]),
                         (["text-generation"], ["pytorch"]))


class MSLegacy(unittest.TestCase):
    def setUp(self):
        self.hub = Hub(cdn=False)
        self.addCleanup(self.hub.stop)
        h = self.hub
        self.m = h.add_ms_repo("acme/toy", files={"README.md": b"# toy\n"}, tags=["v1.0"],
                               tasks=["text-generation"], custom_tags=["llm", "demo"],
                               downloads=12, likes=3, display_name="玩具", gated=True,
                               description="toy", model_type="qwen2", license="MIT License",
                               created_at="2024-01-01T00:00:00Z", last_modified=1736497800,
                               author="alice")
        h.add_ms_repo("acme/plain", files={"a": b"a"})
        h.add_ms_repo("acme/secret", files={"a": b"a"}, private=True)
        h.add_ms_repo("alice/mine", files={"a": b"a"}, private=True)
        self.d = h.add_ms_repo("acme/data", type="dataset", files={"x.csv": b"1\n"}, downloads=9,
                               likes=2, custom_tags=["tabular"], created_at="2024-02-02T00:00:00Z")

    def test_model_info(self):
        st, _, d = get(self.hub.url + "/api/v1/models/acme/toy?Revision=v1.0")
        data = d["Data"]
        self.assertEqual((st, d["Code"], d["Success"]), (200, 200, True))
        self.assertEqual((data["Downloads"], data["Likes"], data["Stars"]), (12, 3, 3))
        self.assertEqual((data["Tags"], data["Tasks"]), (["llm", "demo"], [{"name": "text-generation"}]))
        self.assertEqual((data["ChineseName"], data["Description"], data["License"]),
                         ("玩具", "toy", "MIT License"))
        self.assertEqual((data["CreatedTime"], data["LastUpdatedTime"]), (1704067200, 1736497800))
        self.assertEqual((data["ProtectedMode"], data["Visibility"], data["ModelType"]),
                         (1, 5, ["qwen2"]))
        self.assertEqual((data["CreatedBy"], data["ReadMeContent"]), ("alice", "# toy\n"))
        self.assertNotIn("author", data)       # modelscope 1.37 passes author= itself
        plain = get(self.hub.url + "/api/v1/models/acme/plain")[2]["Data"]
        self.assertEqual((plain["Downloads"], plain["Tags"], plain["Tasks"], plain["ProtectedMode"],
                          plain["License"]), (0, [], [], 2, "Apache License 2.0"))
        st, _, d = get(self.hub.url + "/api/v1/models/acme/secret", headers=MS_AUTH)
        self.assertEqual(d["Data"]["Visibility"], 1)

    def test_dataset_info(self):
        d = get(self.hub.url + "/api/v1/datasets/acme/data")[2]["Data"]
        self.assertEqual((d["Id"], d["Type"], d["Downloads"], d["Likes"], d["Tags"], d["GmtCreate"]),
                         (self.d.numeric_id, 2, 9, 2, ["tabular"], 1706832000))

    def test_lists(self):
        body = json.dumps({"Path": "acme", "PageNumber": 1, "PageSize": 2})
        st, _, d = get(self.hub.url + "/api/v1/models/", "PUT", body=body)   # no Content-Type
        self.assertEqual((st, d["Data"]["TotalCount"]), (200, 2))            # not the private one
        self.assertEqual([m["Name"] for m in d["Data"]["Models"]], ["plain", "toy"])
        self.assertEqual(d["Data"]["Models"][1]["Downloads"], 12)
        st, _, d = get(self.hub.url + "/api/v1/models/", "PUT",
                       body=json.dumps({"Path": "alice"}), headers=MS_AUTH)
        self.assertEqual([m["Name"] for m in d["Data"]["Models"]], ["mine"])  # the owner's
        st, _, d = get(self.hub.url + "/api/v1/models/", "PUT", body=json.dumps({"Path": "acme"}),
                       headers=MS_AUTH)
        self.assertEqual(d["Data"]["TotalCount"], 2)                         # not alice's
        st, _, d = get(self.hub.url + "/api/v1/datasets?owner=acme&PageNumber=1&PageSize=50")
        self.assertEqual((d["TotalCount"], d["PageNumber"], d["PageSize"]), (1, 1, 50))
        self.assertEqual(d["Data"][0]["Downloads"], 9)
        st, _, d = get(self.hub.url + "/api/v1/datasets?owner=acme&PageNumber=3&PageSize=5")
        self.assertEqual(st, 400)
        self.assertIn("fromIndex", d["Message"])


class Metadata(unittest.TestCase):
    def setUp(self):
        self.hub = Hub(cdn=False)
        self.addCleanup(self.hub.stop)

    def test_defaults_and_errors(self):
        r = self.hub.add_hf_repo("org/x", files={"a": b"a"})      # an existing-style call
        d = get(self.hub.url + "/api/models/org/x")[2]
        self.assertEqual((d["downloads"], d["likes"], d["tags"], d["createdAt"]),
                         (0, 0, [], "2024-09-20T14:28:21.000Z"))
        self.assertEqual(iso_epoch(d["lastModified"]), r.snapshot().created_at)
        self.assertNotIn("pipeline_tag", d)
        with self.assertRaises(TypeError):
            self.hub.add_hf_repo("org/y", dowloads=3)             # a typo is an error
        with self.assertRaises(TypeError):
            self.hub.add_ms_repo("org/y", pipeline_tag="x")       # an HF-only key
        with self.assertRaises(TypeError):
            self.hub.add_ms_repo("org/z", created_at=True)

    def test_add_repos(self):
        made = self.hub.add_repos("both", 4, owner="bulk", name="r{i}",
                                  downloads=lambda i: i * 10, private=False)
        self.assertEqual(len(made), 8)
        st, _, body = get(self.hub.url + "/api/models?author=bulk&sort=downloads")
        self.assertEqual([(m["id"], m["downloads"]) for m in body],
                         [("bulk/r3", 30), ("bulk/r2", 20), ("bulk/r1", 10), ("bulk/r0", 0)])
        ds = self.hub.add_repos("ms", 2, owner="bulk", type="dataset", files={"a": b"a"})
        self.assertEqual([r.type for r in ds], ["dataset", "dataset"])
        with self.assertRaises(ValueError):
            self.hub.add_repos("xx", 1)

    def test_samples(self):
        hubemu.add_samples(self.hub)
        tiny = self.hub.repos[("hf", "model", hubemu.SAMPLE_REPO)]
        self.assertEqual({p: c.read(0, c.size) for p, c in tiny.files.items()},
                         hubemu._sample_files())                  # unchanged
        st, _, body = get(self.hub.url + "/api/models?search=search-&sort=downloads")
        self.assertEqual([m["id"] for m in body], ["mscli-demo/search-gamma",
                                                   "mscli-demo/search-alpha",
                                                   "mscli-demo/search-beta",
                                                   "other-org/search-delta"])
        alpha = self.hub.repos[("hf", "model", "mscli-demo/search-alpha")]
        self.assertEqual(sorted(alpha.tags), ["v1.0"])
        self.assertIn("dev", alpha.branches)
        d = get(self.hub.url + "/openapi/v1/models?owner=mscli-demo&sort=downloads")[2]["data"]
        self.assertEqual([m["id"] for m in d["models"]][:2], ["mscli-demo/search-gamma",
                                                               "mscli-demo/search-alpha"])


if __name__ == "__main__":
    unittest.main()
