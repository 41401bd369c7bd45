#!/usr/bin/env bash
# Do the official clients download the right bytes from the loopback emulator?
#
#   MSHUB_SRC=<modelscope_hub>/src HFHUB_SRC=<huggingface_hub>/src \
#       bash tests/official/check-official-clients.sh
#
# Starts `tests/hub/hubemu.py --sample` (CDN redirects on) and runs, on Debian's
# /usr/bin/python3 (requests, httpx, click, filelock, tqdm, yaml):
#   modelscope_hub (MSHUB_SRC): `ms-hub download` (--local-dir, a tag, a
#       dataset) and compat.snapshot_download into a MODELSCOPE_CACHE;
#   modelscope 1.37.1 (MSOLD_SRC, a directory holding its `modelscope`
#       package): `modelscope download` of a model, a dataset and a file at a
#       tag, and hub.snapshot_download into a MODELSCOPE_CACHE;
#   huggingface_hub (HFHUB_SRC): `hf download --cache-dir`, hf_hub_download of
#       a regular and an LFS file, snapshot_download of a dataset;
# and replays modelscope <= 1.37's request sequence by hand (curl-like), to
# check the shapes it reads.  Every file is compared with the emulator's
# bytes; no credential may reach the CDN.  Stage 2, when an mscli binary is at
# hand (MSCLI_BIN or ./mscli): the official clients read mscli's caches
# (check.py).  Any source dir may be left unset; with none the check is skipped.
# The clients' source is never part of this repository: fetch it yourself.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=/usr/bin/python3
SHIM=$ROOT/tests/official/pyshim        # filelock 3.9 vs huggingface_hub (official-clients.md)

if [ -z "${MSHUB_SRC:-}" ] && [ -z "${HFHUB_SRC:-}" ] && [ -z "${MSOLD_SRC:-}" ]; then
    echo "check-official: set MSHUB_SRC (modelscope_hub/src), MSOLD_SRC (modelscope 1.37.1)" \
         "and/or HFHUB_SRC (huggingface_hub/src) to run the official clients; skipped"
    exit 0
fi
for d in ${MSHUB_SRC:+"$MSHUB_SRC"} ${MSOLD_SRC:+"$MSOLD_SRC"} ${HFHUB_SRC:+"$HFHUB_SRC"}; do
    [ -d "$d" ] || { echo "check-official: no such directory: $d" >&2; exit 2; }
done

work=$(mktemp -d /tmp/mscli-official.XXXXXX)
mkdir -p "$work/home"
$PY tests/hub/hubemu.py --sample >"$work/hub.out" 2>"$work/hub.err" &
hub=$!
trap 'kill $hub 2>/dev/null; wait $hub 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q '^HUBEMU_CDN=' "$work/hub.out" && break; sleep 0.1; done
URL=$(sed -n 's/^HUBEMU_URL=//p' "$work/hub.out")
CDN=$(sed -n 's/^HUBEMU_CDN=//p' "$work/hub.out")
if [ -z "$URL" ] || [ -z "$CDN" ]; then
    echo "check-official: the emulator did not start" >&2
    cat "$work/hub.err" >&2
    exit 1
fi
echo "== emulator at $URL, CDN at $CDN (work dir $work)"

# The expected bytes: the emulator's own sample contents.
$PY - "$work/expected" <<'EOF'
import os, sys
sys.path.insert(0, "tests/hub")
import hubemu
for name, files in (("model", hubemu._sample_files()), ("dataset", hubemu._sample_dataset())):
    for path, data in files.items():
        full = os.path.join(sys.argv[1], name, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
EOF

failures=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

# same_tree EXPECTED_DIR GOT_DIR: every expected file is there with the same bytes
same_tree() {
    local exp=$1 got=$2 f
    [ -d "$got" ] || { echo "no directory '$got'"; return 1; }
    while IFS= read -r f; do
        [ -f "$got/$f" ] || { echo "missing $f"; return 1; }
        cmp -s "$exp/$f" "$got/$f" || { echo "wrong bytes in $f"; return 1; }
    done < <(cd "$exp" && find . -type f | sed 's|^\./||' | sort)
    return 0
}

# run LOG CMD...: run with a time limit, output to LOG; shows the tail on failure
run() {
    local log=$1; shift
    timeout 300 "$@" >"$log" 2>&1
    local rc=$?
    [ $rc -eq 0 ] || { echo "--- $log (rc=$rc):"; tail -n 15 "$log"; }
    return $rc
}

# check_result WHAT RC EXPECTED GOT: RC of the client, then the bytes
check_result() {
    local what=$1 rc=$2 exp=$3 got=$4 why
    if [ "$rc" -ne 0 ]; then fail "$what (client exited $rc)"; return; fi
    if why=$(same_tree "$exp" "$got"); then ok "$what"; else fail "$what: $why"; fi
}

# cdn_clean WHAT [any]: the CDN served files and saw neither Authorization nor
# m_session_id, and the hub did see credentials (unless "any")
cdn_clean() {
    local what=$1 out
    if out=$(curl -s "$URL/_hubemu/log" | $PY -c '
import json, sys
log = json.load(sys.stdin)
cdn = [r for r in log if r["server"] == "cdn" and r["method"] == "GET"]
leaks = [r["path"] for r in cdn if "authorization" in r["headers"]
         or "m_session_id" in r["headers"].get("cookie", "")]
authed = [r for r in log if r["server"] == "hub" and ("authorization" in r["headers"]
          or "m_session_id" in r["headers"].get("cookie", ""))]
print("%d CDN GETs, %d authenticated hub requests" % (len(cdn), len(authed)))
sys.exit(1 if leaks or not cdn or not (authed or sys.argv[1] == "any") else 0)' "${2:-}"); then
        ok "$what: $out, no credential at the CDN"
    else
        fail "$what: $out (a credential reached the CDN, or nothing went through it)"
    fi
    curl -s -X POST "$URL/_hubemu/clear-log" >/dev/null
}

export HOME=$work/home
mkdir -p "$work/exp-tag" && cp "$work/expected/model/config.json" "$work/exp-tag/"

# ---------------------------------------------------------------- ModelScope
if [ -n "${MSHUB_SRC:-}" ]; then
    echo "== modelscope_hub ($MSHUB_SRC, $(cd "$MSHUB_SRC" && git rev-parse --short HEAD 2>/dev/null || echo 'no git'))"
    msenv=(env PYTHONPATH="$MSHUB_SRC:$SHIM" MODELSCOPE_ENDPOINT="$URL" HOME="$work/home")
    ms_hub=("${msenv[@]}" $PY -c 'import sys
from modelscope_hub.cli.main import run_cmd
sys.argv = ["ms-hub"] + sys.argv[1:]
run_cmd()')

    curl -s -X POST "$URL/_hubemu/clear-log" >/dev/null
    run "$work/ms1.log" "${ms_hub[@]}" --token ms-goodtoken download mscli-demo/tiny-model --local-dir "$work/ms-local"
    check_result "ms-hub download --local-dir" $? "$work/expected/model" "$work/ms-local"
    cdn_clean "ms-hub download with a token"

    run "$work/ms2.log" "${msenv[@]}" MODELSCOPE_CACHE="$work/ms-cache" $PY -c '
from modelscope_hub.compat import snapshot_download
print(snapshot_download("mscli-demo/tiny-model"))'
    rc=$?
    check_result "compat.snapshot_download into MODELSCOPE_CACHE" $rc "$work/expected/model" \
        "$(tail -n 1 "$work/ms2.log")"

    run "$work/ms3.log" "${ms_hub[@]}" download mscli-demo/tiny-dataset --repo-type dataset --local-dir "$work/ms-ds"
    check_result "ms-hub download of a dataset" $? "$work/expected/dataset" "$work/ms-ds"

    run "$work/ms4.log" "${ms_hub[@]}" download mscli-demo/tiny-model config.json --revision v1.0 --local-dir "$work/ms-tag"
    check_result "ms-hub download of one file at tag v1.0" $? "$work/exp-tag" "$work/ms-tag"

fi

# ---------------------------------------------------------------- modelscope 1.37
if [ -n "${MSOLD_SRC:-}" ]; then
    echo "== modelscope $(sed -n "s/^__version__ = '\(.*\)'/\1/p" "$MSOLD_SRC/modelscope/version.py" 2>/dev/null) ($MSOLD_SRC)"
    oldenv=(env PYTHONPATH="$MSOLD_SRC:$SHIM" HOME="$work/home")
    modelscope_old=("${oldenv[@]}" $PY -c 'import sys
from modelscope.cli.cli import run_cmd
sys.argv = ["modelscope"] + sys.argv[1:]
run_cmd()')

    curl -s -X POST "$URL/_hubemu/clear-log" >/dev/null
    run "$work/old1.log" "${modelscope_old[@]}" download --model mscli-demo/tiny-model --token ms-goodtoken \
        --local_dir "$work/old-local" --endpoint "$URL"
    check_result "modelscope download --model --local_dir" $? "$work/expected/model" "$work/old-local"
    # 1.37 sets its m_session_id cookie for the domain "127.0.0.1:PORT", which
    # never matches a host, so over a non-default port it sends no credential
    cdn_clean "modelscope download with a token" any

    run "$work/old2.log" "${modelscope_old[@]}" download --dataset mscli-demo/tiny-dataset \
        --local_dir "$work/old-ds" --endpoint "$URL"
    check_result "modelscope download --dataset" $? "$work/expected/dataset" "$work/old-ds"

    # a tag: 1.37 validates it against /revisions first
    run "$work/old3.log" "${modelscope_old[@]}" download --model mscli-demo/tiny-model config.json \
        --revision v1.0 --local_dir "$work/old-tag" --endpoint "$URL"
    check_result "modelscope download of one file at tag v1.0" $? "$work/exp-tag" "$work/old-tag"

    run "$work/old4.log" "${oldenv[@]}" MODELSCOPE_CACHE="$work/old-cache" $PY -c '
import sys
from modelscope.hub.snapshot_download import snapshot_download
print(snapshot_download("mscli-demo/tiny-model", endpoint=sys.argv[1]))' "$URL"
    rc=$?
    check_result "hub.snapshot_download into MODELSCOPE_CACHE" $rc "$work/expected/model" \
        "$(tail -n 1 "$work/old4.log")"
fi

# modelscope <= 1.37's request sequence (modelscope-protocol.md §2.19), replayed
# by hand: the shapes it reads, independently of any client's source.
echo "== the modelscope <= 1.37 request sequence, by hand"
if out=$($PY - "$URL" <<'EOF' 2>&1
import hashlib, json, re, sys, urllib.parse, urllib.request
U = sys.argv[1]
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a):
        return None
plain = urllib.request.build_opener(NoRedirect)
def get(path, headers=None, follow=True, method="GET", data=None):
    req = urllib.request.Request(U + path if path.startswith("/") else path, data=data,
                                 headers=headers or {}, method=method)
    try:
        r = (urllib.request.urlopen if follow else plain.open)(req, timeout=10)
        return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()
def ok(cond, what):
    if not cond:
        raise SystemExit("OLD sequence: " + what)
# login: Data.{AccessToken,Username,Email} and Set-Cookie m_session_id (§2.1)
st, h, b = get("/api/v1/login", method="POST", data=b'{"AccessToken": "ms-goodtoken"}')
d = json.loads(b)
ok(st == 200 and d["Code"] == 200 and {"AccessToken", "Username", "Email"} <= set(d["Data"]), "login")
ok(h.get("Set-Cookie", "").startswith("m_session_id=ms-goodtoken;"), "login Set-Cookie")
ck = {"Cookie": "m_session_id=ms-goodtoken"}
st, _, _ = get("/api/v1/repos/internalAccelerationInfo")
ok(st == 404, "acceleration probe must be 404")
st, _, b = get("/api/v1/models/mscli-demo/tiny-model", ck)
d = json.loads(b)
ok(st == 200 and d["Code"] == 200 and d["Success"] and isinstance(d["Data"]["Id"], int), "model info")
st, _, b = get("/api/v1/models/mscli-demo/nothing", ck)
ok(st == 404 and json.loads(b)["Code"] == 404 and "Message" in json.loads(b), "missing model 404")
st, _, b = get("/api/v1/models/mscli-demo/tiny-model/revisions", ck)
rm = json.loads(b)["Data"]["RevisionMap"]
ok(any(x["Revision"] == "master" for x in rm["Branches"]), "master branch")
ok(all(isinstance(x["CreatedAt"], int) for x in rm["Branches"] + rm["Tags"]), "CreatedAt everywhere")
ok([x["CreatedAt"] for x in rm["Tags"]] == sorted((x["CreatedAt"] for x in rm["Tags"]), reverse=True),
   "tags newest first")
st, _, b = get("/api/v1/models/mscli-demo/tiny-model/repo/files?Revision=master&Recursive=True",
               dict(ck, Snapshot="True"))
files = [f for f in json.loads(b)["Data"]["Files"] if f["Type"] == "blob"]
keys = {"Name", "Path", "Type", "Size", "Sha256", "Revision", "IsLFS", "CommittedDate", "CommitMessage"}
ok(files and all(keys <= set(f) and re.fullmatch("[0-9a-f]{40}", f["Revision"]) for f in files),
   "listing entries")
for f in files:   # OLD always sends Range: bytes=<have>-<Size-1>, cookie jar only
    q = urllib.parse.urlencode({"Revision": "master", "FilePath": f["Path"]}, quote_via=urllib.parse.quote_plus)
    st, h, _ = get("/api/v1/models/mscli-demo/tiny-model/repo?" + q, ck, follow=False)
    ok(st == 302 and h["Location"].startswith("http://localhost:"), "302 to the CDN for " + f["Path"])
    st, h, body = get(h["Location"], {"Range": "bytes=0-%d" % (f["Size"] - 1)})
    ok(st == 206 and len(body) == f["Size"] and hashlib.sha256(body).hexdigest() == f["Sha256"],
       "ranged download of " + f["Path"])
# dataset: info for the numeric Id, paged tree by Id, download with Source/View (§2.10-2.12)
st, _, b = get("/api/v1/datasets/mscli-demo/tiny-dataset", ck)
dsid = json.loads(b)["Data"]["Id"]
entries, page = [], 1
while True:
    st, _, b = get("/api/v1/datasets/%d/repo/tree?Revision=master&Root=/&Recursive=True&PageNumber=%d"
                   "&PageSize=2" % (dsid, page), ck)
    chunk = json.loads(b)["Data"]["Files"]
    entries += chunk
    if len(chunk) < 2:
        break
    page += 1
blobs = [f for f in entries if f["Type"] == "blob"]
ok(sorted(f["Path"] for f in blobs) == ["README.md", "data/train.jsonl"], "paged dataset tree")
for f in blobs:
    st, _, body = get("/api/v1/datasets/mscli-demo/tiny-dataset/repo?" + urllib.parse.urlencode(
        {"Source": "SDK", "Revision": "master", "FilePath": f["Path"], "View": False}), ck)
    ok(st == 200 and hashlib.sha256(body).hexdigest() == f["Sha256"], "dataset file " + f["Path"])
print("login, probe, info, revisions, Snapshot listing, %d ranged files, %d dataset pages" % (
    len(files), page))
EOF
); then ok "OLD sequence: $out"; else fail "$out"; fi

# ---------------------------------------------------------------- Hugging Face
if [ -n "${HFHUB_SRC:-}" ]; then
    echo "== huggingface_hub ($HFHUB_SRC, $(cd "$HFHUB_SRC" && git rev-parse --short HEAD 2>/dev/null || echo 'no git'))"
    hfenv=(env PYTHONPATH="$HFHUB_SRC:$SHIM" HF_ENDPOINT="$URL" HF_HUB_DISABLE_XET=1
           HF_HUB_DISABLE_TELEMETRY=1 HF_HOME="$work/home/hf" HOME="$work/home")

    curl -s -X POST "$URL/_hubemu/clear-log" >/dev/null
    run "$work/hf1.log" "${hfenv[@]}" HF_TOKEN=hf_goodtoken $PY -m huggingface_hub.cli.hf \
        download mscli-demo/tiny-model --cache-dir "$work/hf-cache"
    rc=$?
    snap=$(find "$work/hf-cache/models--mscli-demo--tiny-model/snapshots" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -n 1)
    check_result "hf download --cache-dir" $rc "$work/expected/model" "${snap:-$work/none}"
    cdn_clean "hf download with a token"
    # the cache names blobs by the etags the emulator sent (hf-protocol.md §2.2, §3)
    if out=$($PY - "$work/hf-cache/models--mscli-demo--tiny-model" <<'EOF'
import hashlib, os, sys
top = sys.argv[1]
commit = open(os.path.join(top, "refs", "main")).read()
snap = os.path.join(top, "snapshots", commit)
for name in sorted(os.listdir(snap)):
    data = open(os.path.join(snap, name), "rb").read()
    blob = os.path.basename(os.readlink(os.path.join(snap, name)))
    want = hashlib.sha256(data).hexdigest() if len(data) >= 1 << 20 or name.endswith(".safetensors") \
        else hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    if blob != want:
        raise SystemExit("blob of %s is %s, expected %s" % (name, blob, want))
print("refs/main = %s, blobs named by sha256 (LFS) / git sha1" % commit[:12])
EOF
    ); then ok "hf cache layout: $out"; else fail "hf cache layout: $out"; fi

    for name in config.json model.safetensors; do
        run "$work/hf-$name.log" "${hfenv[@]}" $PY -c '
import sys
from huggingface_hub import hf_hub_download
print(hf_hub_download("mscli-demo/tiny-model", sys.argv[1], cache_dir=sys.argv[2]))' \
            "$name" "$work/hf-single"
        rc=$?
        got=$(tail -n 1 "$work/hf-$name.log")
        if [ $rc -eq 0 ] && cmp -s "$got" "$work/expected/model/$name"; then
            ok "hf_hub_download $name"
        else
            fail "hf_hub_download $name (rc=$rc, got '$got')"
        fi
    done

    run "$work/hf3.log" "${hfenv[@]}" $PY -c '
import sys
from huggingface_hub import snapshot_download
print(snapshot_download("mscli-demo/tiny-dataset", repo_type="dataset", cache_dir=sys.argv[1]))' \
        "$work/hf-ds"
    rc=$?
    check_result "snapshot_download of a dataset" $rc "$work/expected/dataset" "$(tail -n 1 "$work/hf3.log")"
fi

if [ -s "$work/hub.err" ]; then
    fail "the emulator wrote to stderr:"
    head -n 20 "$work/hub.err"
fi
kill $hub 2>/dev/null; wait $hub 2>/dev/null

# ---------------------------------------------------------------- mscli's caches
MSCLI=${MSCLI_BIN:-$ROOT/mscli}
if [ -x "$MSCLI" ]; then
    echo "== stage 2: the official clients read mscli's caches ($MSCLI)"
    MSCLI_BIN=$MSCLI $PY tests/official/check.py || failures=$((failures + 1))
else
    echo "== no mscli binary ($MSCLI): cache interoperability not checked"
fi

echo
if [ $failures -eq 0 ]; then
    echo "check-official: all passed"
else
    echo "check-official: $failures failed"
fi
[ $failures -eq 0 ]
