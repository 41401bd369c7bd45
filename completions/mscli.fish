# fish completion for mscli: the candidates come from mscli itself
# (`mscli __complete fish WORDS...`), so they always match the installed binary.
function __mscli_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l out ($words[1] __complete fish $words[2..-1] 2>/dev/null)
    set -l first (string split \t -- "$out[1]")
    switch "$first[1]"
        case :files :dirs
            set -l found
            if test "$first[1]" = :dirs
                set found (__fish_complete_directories "$first[2]")
            else
                set found (__fish_complete_path "$first[2]")
            end
            for f in $found
                printf '%s%s\n' "$first[3]" "$f"
            end
        case '*'
            printf '%s\n' $out
    end
end
complete -c mscli -f -a '(__mscli_complete)'
