#!/usr/bin/env bash
# `mscli cache` against the official clients, run from their source:
#
#   HFHUB_SRC=<huggingface_hub>/src MSHUB_SRC=<modelscope_hub>/src MSOLD_SRC=<modelscope 1.37.1> \
#       bash tests/official/check-official-cache.sh
#
# huggingface_hub's scan_cache_dir() agrees with `mscli --json cache ls` on the
# same HF cache (mscli's repos and one huggingface_hub downloaded itself); a
# bundle of `mscli cache export`, imported on another HOME, is loaded by
# huggingface_hub (HF_HUB_OFFLINE=1) and by both modelscope generations
# (local_files_only) with no request reaching the emulator.  Any source dir may
# be left unset; with none the check is skipped.  Needs an mscli binary
# (MSCLI_BIN, else ./mscli).  The clients' source is never part of this repo.
set -uo pipefail
cd "$(dirname "$0")/../.."
for d in ${MSHUB_SRC:+"$MSHUB_SRC"} ${MSOLD_SRC:+"$MSOLD_SRC"} ${HFHUB_SRC:+"$HFHUB_SRC"}; do
    [ -d "$d" ] || { echo "check-official-cache: no such directory: $d" >&2; exit 2; }
done
MSCLI_BIN=${MSCLI_BIN:-$PWD/mscli} exec /usr/bin/python3 tests/official/check_cache.py
