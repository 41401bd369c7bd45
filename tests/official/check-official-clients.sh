#!/usr/bin/env bash
# The official clients against the emulator and mscli's caches (see check.py).
# MSHUB_SRC=<modelscope_hub>/src MSOLD_SRC=<dir with modelscope 1.37's package>
# HFHUB_SRC=<huggingface_hub>/src; each part is skipped when its variable is unset.
# Their source is never part of this repository: fetch it yourself.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python3 tests/official/check.py "$@"
