# `git par <TAB>` in fish: hand the arguments of `git par` to git-par's
# completion. fish's git completion does this itself only in newer fish
# (3.6 lists no third-party git commands); completions found both ways are
# shown once. Installed in ~/.config/fish/conf.d by
# `git par completions --install fish`, since fish reads completions/git.fish
# (its own) for `git`, never ours.
function __git_par_git_words
    # The words after `git par`, when the command line is `git par ...`.
    set -l words (commandline -opc)
    test (count $words) -ge 2; and test "$words[2]" = par; or return 1
    string escape -- $words[3..-1]
    return 0
end

function __git_par_git_forward
    set -l args (__git_par_git_words)
    complete -C (string join ' ' -- git-par $args (commandline -ct))
end

complete -c git -f -n 'test (count (commandline -opc)) -eq 1' -a par -d 'Run the tasks of a spec-kit tasks.md in parallel'
complete -c git -f -n '__git_par_git_words >/dev/null' -a '(__git_par_git_forward)'
