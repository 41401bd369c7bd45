#!/usr/bin/env bash
# make demo: try mscli with no network.  Starts the bundled loopback hub with a
# sample repo, downloads it into a throw-away cache and shows where it went.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d /tmp/mscli-demo.XXXXXX)
python3 tests/hub/hubemu.py --port 0 --sample >"$work/hub.out" 2>"$work/hub.err" &
hub=$!
trap 'kill $hub 2>/dev/null; wait $hub 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q HUBEMU_URL "$work/hub.out" && break; sleep 0.1; done
url=$(sed -n 's/^HUBEMU_URL=//p' "$work/hub.out")
[ -n "$url" ] || { echo "demo: the hub emulator did not start" >&2; cat "$work/hub.err" >&2; exit 1; }
export MODELSCOPE_ENDPOINT=$url MODELSCOPE_CACHE=$work/cache

echo "== a loopback ModelScope hub is running at $url"
echo "== mscli download mscli-demo/tiny-model"
path=$(./mscli download mscli-demo/tiny-model)
echo "== it printed the snapshot directory: $path"
(cd "$path" && find . -type f -o -type l | sort | sed 's/^/   /')
echo "== the cache index (.msc) that the official modelscope client reads:"
python3 -c "import pickle,sys; [print('  ', e) for e in pickle.load(open(sys.argv[1],'rb'))]" "$path/.msc"
echo "== a second run is one request and no bytes:"
./mscli -v download mscli-demo/tiny-model 2>&1 >/dev/null | grep -E '^mscli: (>|all)' | sed 's/^/   /'
echo "== offline, one file, to stdout:"
./mscli --offline download mscli-demo/tiny-model config.json -o - | head -c 200; echo
echo "== the same repo from the Hugging Face side of the emulator:"
HF_ENDPOINT=$url HF_HUB_CACHE=$work/hf ./mscli --hub hf download mscli-demo/tiny-model
echo "== done; everything is in $work (remove it when you are finished)"
