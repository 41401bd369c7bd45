#!/usr/bin/env bash
# Can the official clients search the loopback emulator and read its repo info?
#
#   HFHUB_SRC=<huggingface_hub>/src MSHUB_SRC=<modelscope_hub>/src \
#   MSOLD_SRC=<dir holding modelscope 1.37.1's `modelscope` package> \
#       bash tests/official/check-official-search.sh
#
# Starts `tests/hub/hubemu.py --sample --hf-list-page-size 2` (so a handful of
# repos spans several Link pages) and runs, on Debian's /usr/bin/python3:
#   huggingface_hub (HFHUB_SRC): HfApi.list_models / list_datasets (search,
#       author, filter, pipeline_tag, sort, limit over pages, full, expand, a
#       private repo with and without a token), model_info / dataset_info (a
#       branch, a tag, a commit id, files_metadata=True), `hf models ls` and
#       `hf datasets ls`;
#   modelscope_hub (MSHUB_SRC): HubApi.list_repos (owner, search, sort,
#       filters, pages, private), get_repo, `ms-hub list` (a page, --all) and
#       `ms-hub info`;
#   modelscope 1.37.1 (MSOLD_SRC): HubApi.list_models (PUT /api/v1/models/),
#       get_model (with a Revision), list_datasets (OpenAPI, author=),
#       model_info / dataset_info;
# and checks what they return against the sample data (tests/hub/emu_search.py
# SEARCH_SAMPLES) and that the query parameters reached the emulator.  Any
# source dir may be left unset; with none the check is skipped.  The clients'
# source is never part of this repository.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=/usr/bin/python3
SHIM=$ROOT/tests/official/pyshim        # filelock 3.9 vs huggingface_hub (official-clients.md)

if [ -z "${MSHUB_SRC:-}" ] && [ -z "${HFHUB_SRC:-}" ] && [ -z "${MSOLD_SRC:-}" ]; then
    echo "check-official-search: set HFHUB_SRC, MSHUB_SRC and/or MSOLD_SRC; skipped"
    exit 0
fi
for d in ${MSHUB_SRC:+"$MSHUB_SRC"} ${MSOLD_SRC:+"$MSOLD_SRC"} ${HFHUB_SRC:+"$HFHUB_SRC"}; do
    [ -d "$d" ] || { echo "check-official-search: no such directory: $d" >&2; exit 2; }
done

work=$(mktemp -d /tmp/mscli-search.XXXXXX)
mkdir -p "$work/home"
$PY tests/hub/hubemu.py --sample --hf-list-page-size 2 >"$work/hub.out" 2>"$work/hub.err" &
hub=$!
trap 'kill $hub 2>/dev/null; wait $hub 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q '^HUBEMU_URL=' "$work/hub.out" && break; sleep 0.1; done
URL=$(sed -n 's/^HUBEMU_URL=//p' "$work/hub.out")
if [ -z "$URL" ]; then
    echo "check-official-search: the emulator did not start" >&2
    cat "$work/hub.err" >&2
    exit 1
fi
echo "== emulator at $URL (HF list pages of 2; work dir $work)"

# Helpers shared by the checks below (plain stdlib; the clients are imported by each check).
cat >"$work/common.py" <<'EOF'
import json, os, subprocess, sys, urllib.request
sys.path.insert(0, os.path.join(os.environ["ROOT"], "tests", "hub"))
import emu_search                                   # the sample data (no client import)
URL = os.environ["URL"]
failures = 0

def ok(cond, what, detail=""):
    global failures
    if cond:
        print("ok   " + what)
    else:
        failures += 1
        print("FAIL %s%s" % (what, (": %s" % detail) if detail != "" else ""))

def log():
    with urllib.request.urlopen(URL + "/_hubemu/log", timeout=10) as r:
        return json.load(r)

def clear():
    urllib.request.urlopen(urllib.request.Request(URL + "/_hubemu/clear-log", data=b"",
                                                  method="POST"), timeout=10).read()

def asked(path):
    """Queries of the GET requests on `path` since the last clear()."""
    return [r["query"] for r in log() if r["path"] == path and r["method"] == "GET"]

def sample(rid, rtype="model"):
    """(hf metadata, ms metadata, private) of a search sample."""
    for i, t, hf, ms, private in emu_search.SEARCH_SAMPLES:
        if (i, t) == (rid, rtype):
            return hf, ms, private
    raise KeyError(rid)

def epoch(v):
    return emu_search._epoch(v)

def cli(code, *args):
    """Run a client CLI (python -c code ARGS...) in this environment: (rc, output)."""
    p = subprocess.run([sys.executable, "-c", code] + list(args), capture_output=True,
                       text=True, timeout=300)
    return p.returncode, p.stdout + p.stderr

def done():
    sys.exit(1 if failures else 0)
EOF
export ROOT URL

failures=0
run_check() {   # run_check NAME ENV... -- the python on stdin
    local name=$1; shift
    if env "$@" HOME="$work/home" $PY - ; then :; else
        echo "FAIL $name: some checks failed (above)"
        failures=$((failures + 1))
    fi
}

# ---------------------------------------------------------------- Hugging Face
if [ -n "${HFHUB_SRC:-}" ]; then
    echo "== huggingface_hub ($HFHUB_SRC, $(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$HFHUB_SRC/huggingface_hub/__init__.py"))"
    run_check huggingface_hub PYTHONPATH="$HFHUB_SRC:$SHIM:$work" HF_ENDPOINT="$URL" \
        HF_HUB_DISABLE_XET=1 HF_HUB_DISABLE_TELEMETRY=1 HF_HOME="$work/home/hf" HF_TOKEN= <<'EOF'
import datetime, hashlib
from common import *
from huggingface_hub import HfApi
api = HfApi(endpoint=URL, token=False)
mine = HfApi(endpoint=URL, token="hf_goodtoken")
utc = datetime.timezone.utc
def ids(items):
    return [m.id for m in items]

clear()
got = list(api.list_models(search="search", sort="downloads", limit=3))
q = asked("/api/models")
ok(ids(got) == ["mscli-demo/search-gamma", "mscli-demo/search-alpha", "mscli-demo/search-beta"],
   "list_models(search, sort=downloads, limit=3): the 3 most downloaded", ids(got))
ok(len(q) == 2 and all(x.get("search") == ["search"] and x.get("sort") == ["downloads"]
                       and x.get("limit") == ["3"] for x in q) and "cursor" in q[1],
   "  ... over 2 Link pages of 2, search/sort/limit on each request", q)
hf, _, _ = sample("mscli-demo/search-alpha")
a = got[1]
ok((a.downloads, a.likes, a.trending_score, a.pipeline_tag, a.library_name) ==
   (hf["downloads"], hf["likes"], hf["trending_score"], hf["pipeline_tag"], hf["library_name"])
   and a.created_at == datetime.datetime.fromtimestamp(epoch(hf["created_at"]), utc)
   and set(hf["repo_tags"]) <= set(a.tags) and a.sha is None and a.siblings is None,
   "  ... items carry the sample's metadata (no sha/siblings without full)", vars(a))

clear()
got = ids(api.list_models(author="mscli-demo"))
ok(sorted(got) == ["mscli-demo/search-alpha", "mscli-demo/search-beta",
                   "mscli-demo/search-gamma", "mscli-demo/tiny-model"],
   "list_models(author=mscli-demo): all 4, no limit", got)
ok([x.get("author") for x in asked("/api/models")] == [["mscli-demo"]] * 2,
   "  ... 2 pages, author on each", asked("/api/models"))

clear()
got = ids(api.list_models(filter=["pytorch", "en"]))
ok(sorted(got) == ["mscli-demo/search-alpha", "mscli-demo/search-beta"],
   "list_models(filter=[pytorch, en]): both tags", got)
ok(asked("/api/models")[0].get("filter") == ["pytorch", "en"], "  ... filter sent repeated")
got = ids(api.list_models(pipeline_tag="text-classification"))
ok(got == ["mscli-demo/search-beta"], "list_models(pipeline_tag=text-classification)", got)
for sort, want in (("likes", ["mscli-demo/search-beta", "mscli-demo/search-alpha",
                              "other-org/search-delta", "mscli-demo/search-gamma"]),
                   ("last_modified", ["mscli-demo/search-gamma", "mscli-demo/search-alpha",
                                      "other-org/search-delta", "mscli-demo/search-beta"]),
                   ("created_at", ["other-org/search-delta", "mscli-demo/search-beta",
                                   "mscli-demo/search-alpha", "mscli-demo/search-gamma"]),
                   ("trending_score", ["mscli-demo/search-beta", "mscli-demo/search-alpha",
                                       "mscli-demo/search-gamma", "other-org/search-delta"])):
    got = ids(api.list_models(search="search", sort=sort))
    ok(got == want, "list_models(sort=%s): descending" % sort, got)

full = list(api.list_models(author="other-org", full=True))
info = api.model_info("other-org/search-delta")
ok(ids(full) == ["other-org/search-delta"] and full[0].sha == info.sha
   and [s.rfilename for s in full[0].siblings] == ["README.md", "config.json"]
   and full[0].siblings[0].size is None and full[0].author == "other-org",
   "list_models(full=True): sha, author, siblings without sizes", vars(full[0]))
ex = list(api.list_models(search="search-beta", expand=["likes", "downloadsAllTime"]))
ok(len(ex) == 1 and ex[0].likes == 90 and ex[0].downloads_all_time == 50 and ex[0].downloads is None,
   "list_models(expand=[likes, downloadsAllTime]): only those", vars(ex[0]) if ex else ex)

ok(ids(api.list_models(search="private")) == [], "a private model is not in an anonymous search")
ok(ids(mine.list_models(search="private")) == ["alice/search-private"],
   "  ... and is in its owner's search")

got = list(api.list_datasets(search="search", sort="downloads"))
ok(ids(got) == ["other-org/search-dialogs", "mscli-demo/search-corpus"]
   and got[0].author == "other-org" and got[1].description == "A sample corpus."
   and got[1].downloads == 80 and got[1].sha is not None,
   "list_datasets(search, sort=downloads): order, author, description, sha", ids(got))
ok(ids(api.list_datasets(language="en")) == ["mscli-demo/search-corpus"],
   "list_datasets(language=en) -> filter=language:en")
ok(ids(mine.list_datasets(author="alice")) == ["alice/search-private-data"]
   and ids(api.list_datasets(author="alice")) == [], "a private dataset: its owner only")
fd = {d.id: d for d in api.list_datasets(author="mscli-demo", full=True)}
cd = fd["mscli-demo/search-corpus"].card_data if "mscli-demo/search-corpus" in fd else None
ok(len(fd) == 2 and all(d.siblings for d in fd.values()) and cd is not None
   and cd.license == "cc-by-4.0" and cd.language == ["en"],
   "list_datasets(full=True): cardData and siblings", fd)
ok(all(d.card_data is None for d in api.list_datasets(author="mscli-demo")),
   "  ... no cardData without full")

# repo info: the default branch, a branch, a tag, a commit id, files_metadata
def git_sha1(b):
    return hashlib.sha1(b"blob %d\0" % len(b) + b).hexdigest()
refs = api.list_repo_refs("mscli-demo/search-alpha")
tag = {t.name: t.target_commit for t in refs.tags}
br = {b.name: b.target_commit for b in refs.branches}
i = api.model_info("mscli-demo/search-alpha")
ok(i.sha == br["main"] and i.downloads == 500 and i.likes == 7 and i.pipeline_tag == "text-generation"
   and i.library_name == "transformers" and i.author == "mscli-demo"
   and i.last_modified == datetime.datetime.fromtimestamp(epoch(hf["last_modified"]), utc)
   and i.config == {"architectures": ["TinyForCausalLM"], "model_type": "tiny"},
   "model_info: sha of main and the sample's metadata", vars(i))
for rev, files in (("v1.0", emu_search.sample_files("mscli-demo/search-alpha", "v1.0")),
                   ("dev", dict(emu_search.sample_files("mscli-demo/search-alpha", "dev"),
                                **{"dev.txt": b"dev\n"}))):
    i = api.model_info("mscli-demo/search-alpha", revision=rev, files_metadata=True)
    want = {p: (len(b), git_sha1(b)) for p, b in files.items()}
    got = {s.rfilename: (s.size, s.blob_id) for s in i.siblings}
    ok(i.sha == (tag.get(rev) or br.get(rev)) and got == want and all(s.lfs is None for s in i.siblings),
       "model_info(revision=%s, files_metadata=True): its commit, sizes and blob ids" % rev, got)
i = api.model_info("mscli-demo/search-alpha", revision=tag["v1.0"])
ok(i.sha == tag["v1.0"], "model_info(revision=<commit id>)")
i = api.model_info("mscli-demo/tiny-model", files_metadata=True)
st = {s.rfilename: s for s in i.siblings}["model.safetensors"]
ok(st.lfs is not None and st.lfs.size == st.size == 3 * 1024 * 1024 and len(st.lfs.sha256) == 64,
   "model_info(files_metadata=True): lfs {sha256, size} of an LFS file", st)
d = api.dataset_info("mscli-demo/search-corpus", files_metadata=True)
ok(d.downloads == 80 and d.description == "A sample corpus."
   and {s.rfilename: s.size for s in d.siblings} == {"README.md": 52, "data/train.jsonl": 15},
   "dataset_info(files_metadata=True)", vars(d))

# the CLI (hf models ls / hf datasets ls)
hf_cli = "import sys, runpy; sys.argv = ['hf'] + sys.argv[1:]; runpy.run_module('huggingface_hub.cli.hf', run_name='__main__')"
rc, out = cli(hf_cli, "models", "ls", "--search", "search", "--sort", "downloads", "--limit", "3",
              "--format", "json")
try:
    got = [m["id"] for m in json.loads(out[out.index("["):])]
except ValueError:
    got = out
ok(rc == 0 and got == ["mscli-demo/search-gamma", "mscli-demo/search-alpha",
                       "mscli-demo/search-beta"], "hf models ls --search --sort downloads --limit 3",
   got)
rc, out = cli(hf_cli, "datasets", "ls", "--author", "other-org", "--format", "json")
ok(rc == 0 and '"other-org/search-dialogs"' in out and "mscli-demo" not in out,
   "hf datasets ls --author other-org", out[-300:])
done()
EOF
fi

# ---------------------------------------------------------------- modelscope_hub
if [ -n "${MSHUB_SRC:-}" ]; then
    echo "== modelscope_hub ($MSHUB_SRC, $(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$MSHUB_SRC/modelscope_hub/version.py"))"
    run_check modelscope_hub PYTHONPATH="$MSHUB_SRC:$work" MODELSCOPE_ENDPOINT="$URL" \
        MODELSCOPE_API_TOKEN= <<'EOF'
from common import *
from modelscope_hub import HubApi
api = HubApi(endpoint=URL)
mine = HubApi(endpoint=URL, token="ms-goodtoken")
def ids(page):
    return [r.repo_id for r in page.items]

clear()
p1 = api.list_repos("model", owner="mscli-demo", sort="downloads", page_size=2)
p2 = api.list_repos("model", owner="mscli-demo", sort="downloads", page_size=2, page_number=2)
ok(ids(p1) + ids(p2) == ["mscli-demo/search-gamma", "mscli-demo/search-alpha",
                         "mscli-demo/search-beta", "mscli-demo/tiny-model"]
   and (p1.total_count, p1.page_size, p1.has_next, p2.has_next) == (4, 2, True, False),
   "list_repos(owner, sort=downloads, page_size=2): two pages", (ids(p1), ids(p2)))
q = asked("/openapi/v1/models")
ok([(x.get("owner"), x.get("sort"), x.get("page_number"), x.get("page_size")) for x in q] ==
   [(["mscli-demo"], ["downloads"], ["1"], ["2"]), (["mscli-demo"], ["downloads"], ["2"], ["2"])],
   "  ... owner/sort/page_number/page_size reached the hub", q)
_, ms, _ = sample("mscli-demo/search-alpha")
a = p1.items[1]
ok((a.downloads, a.likes, a.license, a.tasks, a.display_name, a.private, a.gated) ==
   (500, 7, "Apache License 2.0", ["text-generation"], "Search Alpha", False, False)
   and a.visibility == 5 and int(a.last_modified.timestamp()) == epoch(ms["last_modified"])
   and "library:pytorch" in a.tags and "custom_tag:llm" in a.tags,
   "  ... items carry the sample's metadata", a)

clear()
got = ids(api.list_repos("model", search="search", task="text-generation", library="pytorch"))
ok(got == ["mscli-demo/search-alpha", "other-org/search-delta"],
   "list_repos(search, task=, library=): filter.task and filter.library", got)
ok(asked("/openapi/v1/models")[0].get("filter.task") == ["text-generation"]
   and asked("/openapi/v1/models")[0].get("filter.library") == ["pytorch"],
   "  ... sent as filter.task= / filter.library=")
got = ids(api.list_repos("model", search="search", sort="likes"))
ok(got == ["mscli-demo/search-beta", "mscli-demo/search-alpha", "other-org/search-delta",
           "mscli-demo/search-gamma"], "list_repos(sort=likes)", got)
got = ids(api.list_repos("model", license="MIT License"))
ok(got == ["mscli-demo/search-beta"], "list_repos(license=MIT License)", got)
got = ids(api.list_repos("dataset", sort="downloads"))
ok(got == ["other-org/search-dialogs", "mscli-demo/search-corpus", "mscli-demo/tiny-dataset"],
   "list_repos(dataset, sort=downloads)", got)
ok(ids(api.list_repos("model", owner="alice")) == [], "a private model is not in an anonymous list")
ok(ids(mine.list_repos("model", owner="alice")) == ["alice/search-private"]
   and mine.list_repos("model", owner="alice").items[0].visibility == 1,
   "  ... and is in its owner's, as private")

r = api.get_repo("mscli-demo/search-alpha", "model")
ok((r.repo_id, r.downloads, r.likes, r.description, r.tasks) ==
   ("mscli-demo/search-alpha", 500, 7, "A sample model for search tests.", ["text-generation"]),
   "get_repo(model)", r)
r = api.get_repo("mscli-demo/search-corpus", "dataset")
ok((r.downloads, r.license, r.login_required) == (80, "cc-by-4.0", False), "get_repo(dataset)", r)
ok(not api.repo_exists("mscli-demo/nothing", "model"), "repo_exists on a missing model")

ms_cli = "import sys\nfrom modelscope_hub.cli.main import run_cmd\nsys.argv = ['ms-hub'] + sys.argv[1:]\nrun_cmd()"
rc, out = cli(ms_cli, "list", "--repo-type", "model", "--owner", "mscli-demo", "--page-size", "2")
ok(rc == 0 and "page 1 / total 4 (page_size=2)" in out and "mscli-demo/search-alpha" in out
   and "mscli-demo/search-gamma" not in out, "ms-hub list --owner --page-size 2", out[-400:])
rc, out = cli(ms_cli, "list", "--repo-type", "dataset", "--all", "--page-size", "2")
ok(rc == 0 and "total 3 repos" in out and "other-org/search-dialogs" in out
   and "alice/" not in out, "ms-hub list --repo-type dataset --all (pages of 2)", out[-400:])
rc, out = cli(ms_cli, "info", "mscli-demo/search-beta", "--repo-type", "model")
ok(rc == 0 and "downloads  : 50" in out and "likes      : 90" in out and "MIT License" in out,
   "ms-hub info", out[-400:])
done()
EOF
fi

# ---------------------------------------------------------------- modelscope 1.37
if [ -n "${MSOLD_SRC:-}" ]; then
    echo "== modelscope $(sed -n "s/^__version__ = '\(.*\)'/\1/p" "$MSOLD_SRC/modelscope/version.py" 2>/dev/null) ($MSOLD_SRC)"
    run_check modelscope PYTHONPATH="$MSOLD_SRC:$SHIM:$work" <<'EOF'
import datetime, json
from common import *
from modelscope.hub.api import HubApi
api = HubApi(endpoint=URL)

clear()
d = api.list_models("mscli-demo", page_number=1, page_size=2)
ok(d["TotalCount"] == 4 and [m["Name"] for m in d["Models"]] == ["search-alpha", "search-beta"],
   "list_models(owner, page_size=2): PUT /api/v1/models/", d)
puts = [r for r in log() if r["method"] == "PUT" and r["path"] == "/api/v1/models/"]
ok(len(puts) == 1, "  ... one PUT to /api/v1/models/")
_, ms, _ = sample("mscli-demo/search-alpha")
m = api.get_model("mscli-demo/search-alpha")
ok((m["Downloads"], m["Likes"], m["Tags"], m["Tasks"], m["ChineseName"], m["LastUpdatedTime"]) ==
   (500, 7, ["llm"], [{"name": "text-generation"}], "Search Alpha", epoch(ms["last_modified"])),
   "get_model: the sample's metadata", m)
m = api.get_model("mscli-demo/search-alpha", revision="v1.0")
ok(m["Name"] == "search-alpha" and any(r["query"].get("Revision") == ["v1.0"] for r in log()),
   "get_model(revision=v1.0): ?Revision= sent")
clear()
d = api.list_datasets("other-org", sort="downloads", search="search")
ok([x["id"] for x in d["datasets"]] == ["other-org/search-dialogs"] and d["total_count"] == 1,
   "list_datasets(owner, sort, search): OpenAPI", d)
q = asked("/openapi/v1/datasets")
ok(q and q[0].get("author") == ["other-org"] and q[0].get("sort") == ["downloads"],
   "  ... sent author= and sort=", q)
mi = api.model_info("mscli-demo/search-alpha")
revs = json.loads(urllib.request.urlopen(URL + "/api/v1/models/mscli-demo/search-alpha/revisions").read())
master = [b["CommitId"] for b in revs["Data"]["RevisionMap"]["Branches"] if b["Revision"] == "master"]
ok((mi.downloads, mi.likes, mi.tags, mi.author) == (500, 7, ["llm"], "mscli-demo")
   and [mi.sha] == master and sorted(s.rfilename for s in mi.siblings) == ["README.md", "config.json"]
   and int(mi.created_at.timestamp()) == epoch(ms["created_at"]),
   "model_info: metadata, sha of master, siblings", vars(mi))
di = api.dataset_info("mscli-demo/search-corpus")
ok((di.downloads, di.likes, di.tags, di.author) == (80, 4, ["corpus"], "mscli-demo")
   and "data/train.jsonl" in [s.rfilename for s in di.siblings],
   "dataset_info: metadata, siblings", vars(di))
done()
EOF
fi

if [ -s "$work/hub.err" ]; then
    echo "FAIL the emulator wrote to stderr:"
    head -n 20 "$work/hub.err"
    failures=$((failures + 1))
fi

echo
if [ $failures -eq 0 ]; then
    echo "check-official-search: all passed"
else
    echo "check-official-search: $failures failed"
fi
[ $failures -eq 0 ]
