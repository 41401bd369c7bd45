#!/usr/bin/env bash
# Can the official clients upload to the loopback emulator, and read back what they uploaded?
#
#   HFHUB_SRC=<huggingface_hub>/src MSHUB_SRC=<modelscope_hub>/src MSOLD_SRC=<modelscope 1.37.1> \
#       bash tests/official/check-official-upload.sh
#
# Starts `tests/hub/hubemu.py --sample` (storage on the CDN host; HF multipart
# forced for objects >= 1 MiB with 1 MiB parts through POST /_hubemu/config)
# and runs, on Debian's /usr/bin/python3:
#   huggingface_hub (HFHUB_SRC, HF_HUB_DISABLE_XET=1): HfApi.whoami,
#       create_repo (private, exist_ok), upload_folder (basic and multipart LFS,
#       regular files), upload_file, upload_folder again (no new commit),
#       `hf upload --revision dev` (creates the branch), upload_file with
#       create_pr=True on a repo alice cannot write, a dataset; then
#       snapshot_download / hf_hub_download of each and a byte comparison;
#   modelscope_hub (MSHUB_SRC): HubApi.login / whoami, create_repo (private,
#       exists -> AlreadyExistsError), upload_folder, upload_file, upload_folder
#       again (no new commit), a dataset; `ms-hub download` of each;
#   modelscope 1.37.1 (MSOLD_SRC, a directory holding its `modelscope`
#       package): HubApi.login, create_repo (private), upload_folder,
#       upload_file, a dataset; snapshot_download / dataset_snapshot_download.
# It also checks what reached the storage host: no credential from
# huggingface_hub; both ModelScope clients send theirs on purpose (their blob
# PUT adds Bearer and/or the m_session_id cookie, modelscope-protocol.md §1.3),
# which is reported, not failed.  Any source dir may be left unset; with none
# the check is skipped.  The clients' source is never part of this repository.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PY=/usr/bin/python3
SHIM=$ROOT/tests/official/pyshim        # filelock 3.9 vs huggingface_hub (official-clients.md)

if [ -z "${MSHUB_SRC:-}" ] && [ -z "${HFHUB_SRC:-}" ] && [ -z "${MSOLD_SRC:-}" ]; then
    echo "check-official-upload: set HFHUB_SRC (huggingface_hub/src), MSHUB_SRC (modelscope_hub/src)" \
         "and/or MSOLD_SRC (modelscope 1.37.1) to run the official clients; skipped"
    exit 0
fi
for d in ${MSHUB_SRC:+"$MSHUB_SRC"} ${MSOLD_SRC:+"$MSOLD_SRC"} ${HFHUB_SRC:+"$HFHUB_SRC"}; do
    [ -d "$d" ] || { echo "check-official-upload: no such directory: $d" >&2; exit 2; }
done

work=$(mktemp -d /tmp/mscli-upload.XXXXXX)
mkdir -p "$work/home"
$PY tests/hub/hubemu.py --sample >"$work/hub.out" 2>"$work/hub.err" &
hub=$!
trap 'kill $hub 2>/dev/null; wait $hub 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q '^HUBEMU_CDN=' "$work/hub.out" && break; sleep 0.1; done
URL=$(sed -n 's/^HUBEMU_URL=//p' "$work/hub.out")
CDN=$(sed -n 's/^HUBEMU_CDN=//p' "$work/hub.out")
if [ -z "$URL" ] || [ -z "$CDN" ]; then
    echo "check-official-upload: the emulator did not start" >&2
    cat "$work/hub.err" >&2
    exit 1
fi
echo "== emulator at $URL, storage (CDN) at $CDN (work dir $work)"
MIB=1048576
curl -sf -X POST "$URL/_hubemu/config" \
    -d "{\"hf_multipart_threshold\": $MIB, \"hf_chunk_size\": $MIB}" >/dev/null ||
    { echo "check-official-upload: POST /_hubemu/config failed" >&2; exit 1; }

# What gets uploaded: a folder (text files, a 3 MiB + 17 B *.safetensors, a
# binary *.bin in a subdirectory) and one more file.  exp/ is what a download
# of the repo must hold.
$PY - "$work" <<'EOF'
import hashlib, os, sys
w = sys.argv[1]
def blob(n, seed):
    out, h = bytearray(), hashlib.sha256(seed).digest()
    while len(out) < n:
        h = hashlib.sha256(h).digest()
        out += h * 64
    return bytes(out[:n])
files = {"README.md": b"# uploaded by an official client\n",
         "config.json": b'{"hidden_size": 64}\n',
         "sub/notes.txt": b"notes\n" * 100,
         "model.safetensors": blob(3 * 1048576 + 17, b"weights"),
         "sub/data.bin": b"\0" + blob(200000, b"data")}
for top in ("src", "exp"):
    for p, d in files.items():
        full = os.path.join(w, top, p)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        open(full, "wb").write(d)
open(os.path.join(w, "single.bin"), "wb").write(blob(12345, b"single"))
open(os.path.join(w, "exp", "single.bin"), "wb").write(blob(12345, b"single"))
EOF
mkdir -p "$work/exp-ds" && cp -r "$work/src/." "$work/exp-ds/"

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

# check_step WHAT RC LOG: the client's exit status, and the last line of its output
check_step() {
    if [ "$2" -eq 0 ]; then ok "$1: $(tail -n 1 "$3")"; else fail "$1 (client exited $2)"; fi
}

# check_result WHAT RC EXPECTED GOT: RC of the client, then the bytes
check_result() {
    local what=$1 rc=$2 exp=$3 got=$4 why
    if [ "$rc" -ne 0 ]; then fail "$what (client exited $rc)"; return; fi
    if why=$(same_tree "$exp" "$got"); then ok "$what"; else fail "$what: $why"; fi
}

# emu PYTHON-EXPR: evaluate with `log`, `uploads` and `commits` (the emulator's
# records) bound; prints the value, exits 1 when it is falsy
emu() {
    $PY - "$URL" "$1" <<'EOF'
import json, sys, urllib.request
get = lambda p: json.load(urllib.request.urlopen(sys.argv[1] + p))
log, uploads, commits = get("/_hubemu/log"), get("/_hubemu/uploads"), get("/_hubemu/commits")
cred = lambda r: "authorization" in r["headers"] or "m_session_id" in r["headers"].get("cookie", "")
v = eval("(" + sys.argv[2] + "\n)")
print(v)
sys.exit(0 if v else 1)
EOF
}

# storage WHAT none|report: the PUTs that reached the storage host since the
# last clear, and the credentials they carried (none allowed, or reported)
storage() {
    local what=$1 mode=$2 out
    out=$($PY - "$URL" <<'EOF'
import json, sys, urllib.request
log = json.load(urllib.request.urlopen(sys.argv[1] + "/_hubemu/log"))
puts = [r for r in log if r["server"] == "cdn" and r["method"] == "PUT"]
cred = [r for r in puts if "authorization" in r["headers"] or "m_session_id" in r["headers"].get("cookie", "")]
kinds = sorted({k for r in cred for k in (["Authorization"] if "authorization" in r["headers"] else [])
                + (["m_session_id cookie"] if "m_session_id" in r["headers"].get("cookie", "") else [])})
bad = [r["path"] for r in puts if r["status"] != 200]
print("%d PUTs on the storage host (%d not 200), %d with a credential %s" % (
    len(puts), len(bad), len(cred), "(" + ", ".join(kinds) + ")" if kinds else ""))
sys.exit(2 if not puts or bad else 1 if cred else 0)
EOF
    )
    local rc=$?
    if [ $rc -eq 0 ]; then ok "$what: $out"
    elif [ $rc -eq 1 ] && [ "$mode" = report ]; then ok "$what: $out -- sent by the client on purpose"
    else fail "$what: $out"
    fi
    clear_log
}

# clear_log: empty the emulator's log, after checking it for 500s (emulator bugs)
clear_log() {
    local out
    out=$(emu '[r["method"] + " " + r["path"] for r in log if r["status"] == 500]') &&
        fail "the emulator answered 500 (an emulator bug): $out"
    curl -s -X POST "$URL/_hubemu/clear-log" >/dev/null
}

export HOME=$work/home

# ---------------------------------------------------------------- Hugging Face
if [ -n "${HFHUB_SRC:-}" ]; then
    echo "== huggingface_hub ($HFHUB_SRC, $(cd "$HFHUB_SRC" && git rev-parse --short HEAD 2>/dev/null || echo 'no git'))"
    hfenv=(env PYTHONPATH="$HFHUB_SRC:$SHIM" HF_ENDPOINT="$URL" HF_HUB_DISABLE_XET=1
           HF_HUB_DISABLE_TELEMETRY=1 HF_HUB_DISABLE_PROGRESS_BARS=1 HF_HOME="$work/home/hf"
           HOME="$work/home" HF_TOKEN=hf_goodtoken)
    cp -r "$work/src" "$work/hf-src"
    clear_log

    run "$work/hf1.log" "${hfenv[@]}" $PY - "$work/hf-src" "$work/single.bin" <<'EOF'
import sys
from huggingface_hub import HfApi
api = HfApi()
assert api.whoami()["name"] == "alice"
url = api.create_repo("up-model", private=True)
assert api.create_repo("up-model", exist_ok=True) == url
api.upload_folder(repo_id="alice/up-model", folder_path=sys.argv[1])
api.upload_file(path_or_fileobj=sys.argv[2], path_in_repo="single.bin", repo_id="alice/up-model")
print("created %s, uploaded the folder and single.bin" % url)
EOF
    check_step "HfApi.create_repo(private) + upload_folder + upload_file" $? "$work/hf1.log"
    if out=$(emu '[(u["parts"], u["verified"]) for u in uploads if u["kind"] == "hf"
                   and u["transfer"] == "multipart" and u["complete"]] == [(4, True)]
                  and sorted(u["size"] for u in uploads if u["kind"] == "hf"
                             and u["transfer"] == "basic" and u["complete"]) == [12345, 200001]
                  and "most parts in flight: %d" % max(u["max_parts_in_flight"] for u in uploads)'); then
        ok "huggingface_hub: model.safetensors went multipart (4 parts, completed, verified), the .bin files basic; $out"
    else
        fail "huggingface_hub: the expected multipart/basic uploads: $out"
    fi
    n1=$(emu 'len([c for c in commits if c["repo"] == "alice/up-model" and c["branch"] == "main"])')
    run "$work/hf2.log" "${hfenv[@]}" $PY - "$work/hf-src" <<'EOF'
import sys
from huggingface_hub import HfApi
print(HfApi().upload_folder(repo_id="alice/up-model", folder_path=sys.argv[1]))
EOF
    rc=$?
    n2=$(emu 'len([c for c in commits if c["repo"] == "alice/up-model" and c["branch"] == "main"])')
    if [ $rc -eq 0 ] && [ "$n1" = 2 ] && [ "$n2" = 2 ]; then
        ok "upload_folder of the same folder again: no new commit ($n2 on main)"
    else
        fail "upload_folder again (rc=$rc, commits on main $n1 -> $n2, expected 2 -> 2)"
    fi

    run "$work/hf3.log" "${hfenv[@]}" $PY -m huggingface_hub.cli.hf upload alice/up-model \
        "$work/hf-src/sub" sub --revision dev
    check_step "hf upload --revision dev (a new branch)" $? "$work/hf3.log"
    run "$work/hf4.log" "${hfenv[@]}" $PY - "$work/single.bin" <<'EOF'
import sys
from huggingface_hub import HfApi
ci = HfApi().upload_file(path_or_fileobj=sys.argv[1], path_in_repo="pr/single.bin",
                         repo_id="mscli-demo/tiny-model", create_pr=True)
assert ci.pr_revision == "refs/pr/1", ci
print("PR", ci.pr_url)
EOF
    check_step "upload_file(create_pr=True) to a repo alice cannot write" $? "$work/hf4.log"
    run "$work/hf5.log" "${hfenv[@]}" $PY - "$work/hf-src" <<'EOF'
import sys
from huggingface_hub import HfApi
api = HfApi()
api.create_repo("up-data", repo_type="dataset")
print(api.upload_folder(repo_id="alice/up-data", repo_type="dataset", folder_path=sys.argv[1]))
EOF
    check_step "create_repo + upload_folder of a dataset" $? "$work/hf5.log"
    storage "huggingface_hub uploads (every one above)" none

    # read everything back with the same client
    run "$work/hf6.log" "${hfenv[@]}" $PY -c '
import sys
from huggingface_hub import snapshot_download
print(snapshot_download("alice/up-model", cache_dir=sys.argv[1]))' "$work/hf-cache"
    check_result "snapshot_download of the private model" $? "$work/exp" "$(tail -n 1 "$work/hf6.log")"
    run "$work/hf7.log" "${hfenv[@]}" $PY -c '
import sys
from huggingface_hub import snapshot_download
print(snapshot_download("alice/up-model", revision="dev", cache_dir=sys.argv[1]))' "$work/hf-cache"
    check_result "snapshot_download --revision dev" $? "$work/exp" "$(tail -n 1 "$work/hf7.log")"
    run "$work/hf8.log" "${hfenv[@]}" $PY -c '
import sys
from huggingface_hub import hf_hub_download
print(hf_hub_download("mscli-demo/tiny-model", "pr/single.bin", revision="refs/pr/1", cache_dir=sys.argv[1]))' \
        "$work/hf-cache"
    rc=$?
    if [ $rc -eq 0 ] && cmp -s "$(tail -n 1 "$work/hf8.log")" "$work/single.bin"; then
        ok "hf_hub_download of the PR's file at refs/pr/1"
    else
        fail "hf_hub_download at refs/pr/1 (rc=$rc)"
    fi
    run "$work/hf9.log" "${hfenv[@]}" $PY -c '
import sys
from huggingface_hub import snapshot_download
print(snapshot_download("alice/up-data", repo_type="dataset", cache_dir=sys.argv[1]))' "$work/hf-cache"
    check_result "snapshot_download of the dataset" $? "$work/exp-ds" "$(tail -n 1 "$work/hf9.log")"
    clear_log
fi

# ---------------------------------------------------------------- modelscope_hub
if [ -n "${MSHUB_SRC:-}" ]; then
    echo "== modelscope_hub ($MSHUB_SRC, $(cd "$MSHUB_SRC" && git rev-parse --short HEAD 2>/dev/null || echo 'no git'))"
    msenv=(env PYTHONPATH="$MSHUB_SRC:$SHIM" MODELSCOPE_ENDPOINT="$URL" HOME="$work/home/ms")
    mkdir -p "$work/home/ms"
    cp -r "$work/src" "$work/ms-src"
    cp -r "$work/src" "$work/ms-src-ds"
    clear_log

    run "$work/ms1.log" "${msenv[@]}" $PY - "$work/ms-src" "$work/single.bin" <<'EOF'
import sys
from modelscope_hub import HubApi
from modelscope_hub.errors import AlreadyExistsError
api = HubApi()
assert api.login("ms-goodtoken").username == "alice"
api = HubApi(token="ms-goodtoken")
api.create_repo("alice/hub-model", "model", visibility="private")
try:
    api.create_repo("alice/hub-model", "model")
    raise SystemExit("a second create_repo did not raise")
except AlreadyExistsError:
    pass
api.upload_folder(repo_id="alice/hub-model", repo_type="model", folder_path=sys.argv[1])
api.upload_file(repo_id="alice/hub-model", repo_type="model", path_or_fileobj=sys.argv[2],
                path_in_repo="single.bin")
print("login, create_repo(private), AlreadyExistsError, upload_folder, upload_file")
EOF
    check_step "HubApi.login + create_repo + upload_folder + upload_file" $? "$work/ms1.log"
    storage "modelscope_hub uploads" report
    n1=$(emu 'len([c for c in commits if c["repo"] == "alice/hub-model"])')
    run "$work/ms2.log" "${msenv[@]}" $PY - "$work/ms-src" <<'EOF'
import sys
from modelscope_hub import HubApi
print(HubApi(token="ms-goodtoken").upload_folder(repo_id="alice/hub-model", repo_type="model",
                                                 folder_path=sys.argv[1]))
EOF
    rc=$?
    n2=$(emu 'len([c for c in commits if c["repo"] == "alice/hub-model"])')
    if [ $rc -eq 0 ] && [ "$n1" = 2 ] && [ "$n2" = 2 ]; then
        ok "upload_folder of the same folder again: no new commit ($n2)"
    else
        fail "upload_folder again (rc=$rc, commits $n1 -> $n2, expected 2 -> 2)"
    fi
    run "$work/ms3.log" "${msenv[@]}" $PY - "$work/ms-src-ds" <<'EOF'
import sys
from modelscope_hub import HubApi
api = HubApi(token="ms-goodtoken")
api.create_repo("alice/hub-data", "dataset")
print(api.upload_folder(repo_id="alice/hub-data", repo_type="dataset", folder_path=sys.argv[1]))
EOF
    check_step "create_repo + upload_folder of a dataset (multipart form)" $? "$work/ms3.log"
    if out=$(emu '[c["added"]["model.safetensors"] for c in commits if c["repo"] == "alice/hub-model"
                   and "model.safetensors" in c["added"]] == ["lfs"]
                  and "%d blobs stored through PUTs" % len([u for u in uploads if u["kind"] == "ms"
                                                            and u["complete"]])'); then
        ok "modelscope_hub committed model.safetensors as lfs; $out"
    else
        fail "modelscope_hub's commits: $out"
    fi

    ms_hub=("${msenv[@]}" $PY -c 'import sys
from modelscope_hub.cli.main import run_cmd
sys.argv = ["ms-hub"] + sys.argv[1:]
run_cmd()')
    run "$work/ms4.log" "${ms_hub[@]}" --token ms-goodtoken download alice/hub-model --local-dir "$work/ms-dl"
    check_result "ms-hub download of the private model" $? "$work/exp" "$work/ms-dl"
    run "$work/ms5.log" "${ms_hub[@]}" download alice/hub-data --repo-type dataset --local-dir "$work/ms-dl-ds"
    check_result "ms-hub download of the dataset" $? "$work/exp-ds" "$work/ms-dl-ds"
    clear_log
fi

# ---------------------------------------------------------------- modelscope 1.37
if [ -n "${MSOLD_SRC:-}" ]; then
    echo "== modelscope $(sed -n "s/^__version__ = '\(.*\)'/\1/p" "$MSOLD_SRC/modelscope/version.py" 2>/dev/null) ($MSOLD_SRC)"
    # 1.37 sets the cookie of an explicit token for the domain "127.0.0.1:PORT",
    # which matches no host: log in once, then it uses the saved cookie jar
    oldenv=(env PYTHONPATH="$MSOLD_SRC:$SHIM" HOME="$work/home/old")
    mkdir -p "$work/home/old"
    cp -r "$work/src" "$work/old-src"
    cp -r "$work/src" "$work/old-src-ds"
    clear_log

    run "$work/old1.log" "${oldenv[@]}" $PY - "$URL" "$work/old-src" "$work/single.bin" <<'EOF'
import sys
from modelscope.hub.api import HubApi
api = HubApi(endpoint=sys.argv[1])
api.login("ms-goodtoken")
api.create_repo("alice/old-model", visibility="private", create_default_config=False)
api.upload_folder(repo_id="alice/old-model", folder_path=sys.argv[2])
ci = api.upload_file(path_or_fileobj=sys.argv[3], path_in_repo="single.bin", repo_id="alice/old-model")
assert len(ci.oid) == 40, ci
print("login, create_repo(private), upload_folder, upload_file -> %s" % ci.oid)
EOF
    check_step "HubApi.login + create_repo + upload_folder + upload_file" $? "$work/old1.log"
    storage "modelscope 1.37 uploads" report
    run "$work/old2.log" "${oldenv[@]}" $PY - "$URL" "$work/old-src-ds" <<'EOF'
import sys
from modelscope.hub.api import HubApi
api = HubApi(endpoint=sys.argv[1])
api.create_repo("alice/old-data", repo_type="dataset")
print(api.upload_folder(repo_id="alice/old-data", folder_path=sys.argv[2], repo_type="dataset"))
EOF
    check_step "create_repo + upload_folder of a dataset (multipart form)" $? "$work/old2.log"
    run "$work/old3.log" "${oldenv[@]}" $PY -c '
import sys
from modelscope.hub.snapshot_download import snapshot_download
print(snapshot_download("alice/old-model", endpoint=sys.argv[1], local_dir=sys.argv[2]))' "$URL" "$work/old-dl"
    check_result "snapshot_download of the private model (saved login)" $? "$work/exp" "$work/old-dl"
    run "$work/old4.log" "${oldenv[@]}" $PY -c '
import sys
from modelscope.hub.snapshot_download import dataset_snapshot_download
print(dataset_snapshot_download("alice/old-data", endpoint=sys.argv[1], local_dir=sys.argv[2]))' \
        "$URL" "$work/old-dl-ds"
    check_result "dataset_snapshot_download" $? "$work/exp-ds" "$work/old-dl-ds"
fi

if [ -s "$work/hub.err" ]; then
    fail "the emulator wrote to stderr:"
    head -n 20 "$work/hub.err"
fi
clear_log

echo
if [ $failures -eq 0 ]; then
    echo "check-official-upload: all passed"
else
    echo "check-official-upload: $failures failed"
fi
[ $failures -eq 0 ]
