#!/usr/bin/env bash
# Checks the completions: syntax for every shell that is installed, and the
# bash one for real (it is run with COMP_WORDS set and its answers checked).
set -u
cd "$(dirname "$0")"
fail=0
# the scripts ask the binary: put the one under test on PATH as "mscli"
bin=${MSCLI_BIN:-$PWD/../build/san/mscli}
[ -x "$bin" ] || bin=$PWD/../mscli
[ -x "$bin" ] || { echo "completions: no mscli binary (build it first)"; exit 1; }
tmpbin=$(mktemp -d)
trap 'rm -rf "$tmpbin"' EXIT
ln -s "$bin" "$tmpbin/mscli"
export PATH="$tmpbin:$PATH" ASAN_OPTIONS=detect_leaks=0
bash -n mscli.bash || fail=1
if command -v zsh >/dev/null; then zsh -n _mscli || fail=1; else echo "completions: zsh not installed, skipped"; fi
if command -v fish >/dev/null; then fish --no-execute mscli.fish || fail=1; else echo "completions: fish not installed, skipped"; fi

complete_words() { # words... (the last one is being completed)
	bash -c '
		source ./mscli.bash
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_mscli
		printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
}
expect() { # description, expected word, words...
	local what=$1 want=$2
	shift 2
	if complete_words "$@" | grep -qx -- "$want"; then
		echo "ok   $what"
	else
		echo "FAIL $what: '$want' not offered for: $*"
		fail=1
	fi
}
expect "commands" download mscli ""
expect "global options" --offline mscli --off
expect "download options" --include mscli download --inc
expect "global options after the command" --json mscli download --js
expect "--type values" dataset mscli download --type d
expect "--hub values" hf mscli --hub h
expect "search options" --filter mscli search --fil
expect "--sort values" updated mscli search --sort u
expect "info options" --files mscli info --fi
expect "the command after a global option's value" --local-dir mscli --hub hf download --local
if complete_words mscli download --type "" | grep -qx -- --include; then
	echo "FAIL --type takes a value, not an option"; fail=1
else
	echo "ok   --type takes a value"
fi

# fish answers for real too: `complete -C` prints what it would offer
fish_expect() { # description, expected word, command line
	if ! command -v fish >/dev/null; then return; fi
	if fish -c 'source mscli.fish; complete -C $argv[1]' "$3" | cut -f1 | grep -qx -- "$2"; then
		echo "ok   fish: $1"
	else
		echo "FAIL fish: $1: '$2' not offered for: $3"
		fail=1
	fi
}
fish_expect "commands" download "mscli "
fish_expect "download options" --include "mscli download --inc"
fish_expect "--type values" dataset "mscli download --type "
fish_expect "--hub values" hf "mscli --hub "
fish_expect "--sort values" likes "mscli search --sort "
fish_expect "global options after the command" --json "mscli download --js"
expect "cache verbs" verify mscli cache ""
expect "cache verb options" --older-than mscli cache prune --old
expect "cache verb options after a global option" --repair mscli --hub hf cache verify --rep
# cached repo ids come from the cache (a walk, nothing read)
cachedir=$(mktemp -d)
mkdir -p "$cachedir/models--org--cached/snapshots/$(printf 'a%.0s' $(seq 40))"
mkdir -p "$cachedir/models/own/er"
expect "cached repo ids (hf)" org/cached mscli --cache-dir "$cachedir" cache rm ""
expect "cached repo ids (modelscope)" own/er mscli --cache-dir "$cachedir" cache verify x ""
fish_expect "cached repo ids" hf:org/cached "mscli --cache-dir $cachedir cache export hf:"
rm -rf "$cachedir"
fish_expect "cache verbs" prune "mscli cache "
# the man page documents every option the binary offers (the option tables are the source)
man=../man/mscli.1
for cmd in "" $(mscli __complete bash "" | grep -v '^help$'); do
	for verb in "" $( [ -n "$cmd" ] && mscli __complete bash $cmd "" | grep -v -- '^-'); do
		for opt in $(mscli __complete bash $cmd $verb --); do
			pat=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
			if ! grep -q -- "$pat" "$man"; then
				echo "FAIL man page: ${cmd:-global} $verb option $opt is not documented"
				fail=1
			fi
		done
	done
done
[ $fail -eq 0 ] && echo "ok   man page documents every option"
exit $fail
