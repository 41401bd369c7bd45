#!/usr/bin/env bash
# make bench: installs what the benchmark needs (nginx, aria2, wget2, time), then runs it.
# Parameters go through BENCH_ARGS, e.g. BENCH_ARGS="--proto http --workloads big,small --rounds 1"
# (bench.py --help); the official clients run from MSHUB_SRC and HFHUB_SRC when set.
set -euo pipefail
cd "$(dirname "$0")/../.."
need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v aria2c >/dev/null || need+=(aria2)
command -v wget2 >/dev/null || need+=(wget2)
[ -x /usr/bin/time ] || need+=(time)
command -v openssl >/dev/null || need+=(openssl)
command -v zstd >/dev/null || need+=(zstd)   # tar --zstd, the bundle legs
if [ ${#need[@]} -gt 0 ]; then
	echo "bench: installing ${need[*]}" >&2
	SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get install -y -q "${need[@]}" >/dev/null
fi
python3 tests/bench/bench.py ${BENCH_ARGS:-} "$@"
# the upload leg: mscli against hf upload and ms-hub upload (UPLOAD_BENCH_ARGS, e.g.
# "--upload-shards 2 --upload-shard-mb 512 --rounds 1")
exec python3 tests/bench/bench.py --upload ${UPLOAD_BENCH_ARGS:-} "$@"
