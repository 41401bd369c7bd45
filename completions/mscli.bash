# bash completion for mscli                                  -*- shell-script -*-
# The candidates come from mscli itself (`mscli __complete bash WORDS...`), so
# they always match the options and commands of the binary that is installed.
_mscli()
{
	local -a out
	local kind value
	mapfile -t out < <("${COMP_WORDS[0]}" __complete bash "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
	COMPREPLY=()
	case ${out[0]} in
	:files* | :dirs*)
		IFS=$'\t' read -r kind value _ <<<"${out[0]}"
		# -o filenames: quote spaces, add '/' to directories instead of a space
		compopt -o filenames 2>/dev/null
		if [[ $kind == :dirs ]]; then
			mapfile -t COMPREPLY < <(compgen -d -- "$value")
		else
			mapfile -t COMPREPLY < <(compgen -f -- "$value")
		fi
		;;
	*)
		COMPREPLY=("${out[@]}")
		;;
	esac
}
complete -F _mscli mscli
