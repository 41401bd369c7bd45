# fish completion for mscli
set -l cmds download help
complete -c mscli -f
complete -c mscli -n "not __fish_seen_subcommand_from $cmds" -a download -d 'download a model or dataset into the cache'
complete -c mscli -n "not __fish_seen_subcommand_from $cmds" -a help -d 'show help'
complete -c mscli -n "__fish_seen_subcommand_from help" -a download

# global options (before or after the command)
complete -c mscli -l hub -x -a 'modelscope hf' -d 'which hub'
complete -c mscli -l endpoint -x -d 'hub or mirror base URL'
complete -c mscli -l token -x -d 'access token'
complete -c mscli -l cache-dir -x -a '(__fish_complete_directories)' -d 'cache root'
complete -c mscli -l offline -d 'no network; answer from the cache'
complete -c mscli -l json -d 'JSON lines on stdout'
complete -c mscli -s q -l quiet -d 'errors only'
complete -c mscli -s v -l verbose -d 'log requests, redirects and retries'
complete -c mscli -l no-progress -d 'no progress bars'
complete -c mscli -l progress -d 'progress even when stderr is not a terminal'
complete -c mscli -l retries -x -d 'attempts after the first'
complete -c mscli -l retry-delay -x -d 'first backoff delay in seconds'
complete -c mscli -l stall-timeout -x -d 'seconds without a byte before a transfer fails'
complete -c mscli -l connect-timeout -x -d 'seconds to connect'
complete -c mscli -s h -l help -d 'show help'
complete -c mscli -l version -d 'show the version'

# download
set -l dl "__fish_seen_subcommand_from download"
complete -c mscli -n $dl -l type -l repo-type -x -a 'model dataset' -d 'repo type'
complete -c mscli -n $dl -l revision -x -d 'branch, tag or commit'
complete -c mscli -n $dl -l include -x -d 'only files matching GLOB'
complete -c mscli -n $dl -l exclude -x -d 'skip files matching GLOB'
complete -c mscli -n $dl -l local-dir -x -a '(__fish_complete_directories)' -d 'plain files in DIR'
complete -c mscli -n $dl -l model -x -d 'the repo, as modelscope download takes it'
complete -c mscli -n $dl -l dataset -x -d 'a dataset repo, as modelscope download takes it'
complete -c mscli -n $dl -l max-workers -x -d 'files at once and connection budget'
complete -c mscli -n $dl -l connections -x -d 'parallel ranges for one large file'
complete -c mscli -n $dl -l force -l force-download -d 'download again even when cached'
complete -c mscli -n $dl -l dry-run -d 'show what would be downloaded'
complete -c mscli -n $dl -s o -l output -r -F -d 'copy the one FILE to PATH, or - for stdout'
