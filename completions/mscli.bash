# bash completion for mscli                                  -*- shell-script -*-
_mscli()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	local global="--hub --endpoint --token --cache-dir --offline --json -q --quiet -v --verbose
		--no-progress --progress --retries --retry-delay --stall-timeout --connect-timeout
		-h --help --version"
	local download="--type --repo-type --revision --include --exclude --local-dir --model --dataset --max-workers
		--connections --force --force-download --dry-run -o --output"

	case $prev in
	--hub) COMPREPLY=($(compgen -W "modelscope hf" -- "$cur")); return ;;
	--type | --repo-type) COMPREPLY=($(compgen -W "model dataset" -- "$cur")); return ;;
	--cache-dir | --local-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	-o | --output) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--endpoint | --token | --revision | --include | --exclude | --max-workers | --connections | \
		--retries | --retry-delay | --stall-timeout | --connect-timeout)
		return ;;
	esac

	# the command is the first word that is not an option or an option's value
	local cmd="" i
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--hub | --endpoint | --token | --cache-dir | --retries | --retry-delay | \
			--stall-timeout | --connect-timeout) ((i++)) ;;
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done

	case $cmd in
	"")
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$global" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "download help" -- "$cur"))
		fi
		;;
	download)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$download $global" -- "$cur"))
		fi
		;;
	help)
		COMPREPLY=($(compgen -W "download" -- "$cur"))
		;;
	esac
}
complete -F _mscli mscli
