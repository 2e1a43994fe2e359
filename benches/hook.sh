#!/usr/bin/env bash
# The pre-commit hook's cost (DESIGN §10): `git par check --staged` in a
# 10,000-file repository with 100 active tasks (target: under 10 ms median),
# and a commit with the git-par hook against a commit with a no-op hook
# (target: at most 1.3x).
#
# Usage: benches/hook.sh [RUNS]
#   GIT_PAR_BIN=path/to/git-par  use that binary instead of building --release
#   FILES=10000 TASKS=100        the size of the generated repository
#
# Uses hyperfine when it is installed (and NO_HYPERFINE is unset), else a
# loop timed with `date +%s%N` (which also counts a shell start-up per run).
# Prints a markdown table on stdout; progress on stderr.
set -euo pipefail

RUNS=${1:-100}
FILES=${FILES:-10000}
TASKS=${TASKS:-100}
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${GIT_PAR_BIN:-}" ]; then
    cargo build --release --quiet --manifest-path "$here/Cargo.toml"
    GIT_PAR_BIN=$here/target/release/git-par
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/git-par-hook-bench.XXXXXX")
[ -n "${KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT
tmp=$(cd "$tmp" && pwd -P)

# An isolated git: no user config, fixed identity; git-par first on PATH.
export HOME=$tmp/home GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 LANG=C NO_COLOR=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
export PATH="$(dirname "$GIT_PAR_BIN"):$PATH"
mkdir -p "$HOME"

repo=$tmp/repo
task_wt=$tmp/repo.par/T000
dirs=$(( (FILES + 99) / 100 ))

echo "generating $FILES files in $dirs directories, $TASKS active tasks..." >&2
git init -q -b main "$repo"
cd "$repo"
# One fast-import stream: much quicker than writing 10,000 files and `git add`.
{
    echo "commit refs/heads/main"
    echo "committer bench <bench@example.com> 1767225600 +0000"
    echo "data 7"
    echo "initial"
    n=0
    for ((d = 0; d < dirs; d++)); do
        for ((f = 0; f < 100 && n < FILES; f++, n++)); do
            content="module $d file $f"
            printf 'M 100644 inline src/mod_%03d/file_%02d.rs\ndata %d\n%s\n' "$d" "$f" "${#content}" "$content"
        done
    done
    printf 'M 100644 inline README.md\ndata 5\nbench\n'
    printf 'M 100644 inline specs/001-bench/tasks.md\ndata 8\n# tasks\n'
} | git fast-import --quiet
git reset -q --hard main
git gc -q

# Task i locks a directory of its module, one file, and a glob:
# 3 patterns each, the kinds tasks.md paths and --path produce.
mkdir -p .git/par
{
    echo '{"version":1,"main_branch":"main","tasks_file":"specs/001-bench/tasks.md","tasks":{'
    for ((i = 0; i < TASKS; i++)); do
        id=$(printf 'T%03d' "$i")
        m=$(printf 'mod_%03d' $((i % dirs)))
        [ "$i" -gt 0 ] && echo ','
        printf '"%s":{"id":"%s","branch":"par/%s","worktree":"%s","base":"%s","locks":["src/%s/file_0%d.rs","docs/%s/","src/%s/file_[5-9]*.rs"],"owner":{"user":"bench","host":"bench"},"started_at":"2026-01-01T00:00:00Z","state":"active"}' \
            "$id" "$id" "$id" "$tmp/repo.par/$id" "$(git rev-parse main)" "$m" $((i % 10)) "$id" "$m"
    done
    echo '}}'
} > .git/par/state.json
git worktree add -q -b par/T000 "$task_wt" main

# Median and minimum wall time of a command in ms: `measure DIR PREPARE COMMAND`.
measure() {
    local dir=$1 prepare=$2 command=$3
    if [ -z "${NO_HYPERFINE:-}" ] && command -v hyperfine >/dev/null 2>&1; then
        (cd "$dir" && hyperfine --style none --warmup 5 --runs "$RUNS" --prepare "$prepare" \
            --export-json "$tmp/h.json" "$command" >/dev/null 2>&1)
        jq -r '.results[0] | "\(.median * 1e5 | round / 100) (min \(.min * 1e5 | round / 100), cpu \((.user + .system) * 1e5 | round / 100))"' "$tmp/h.json" 2>/dev/null ||
            python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.2f (min %.2f, cpu %.2f)" % (r["median"]*1000, r["min"]*1000, (r["user"]+r["system"])*1000))' "$tmp/h.json"
    else
        local times=() i start end
        for ((i = 0; i < RUNS + 5; i++)); do
            (cd "$dir" && sh -c "$prepare")
            start=$(date +%s%N)
            (cd "$dir" && sh -c "$command" >/dev/null 2>&1)
            end=$(date +%s%N)
            [ "$i" -ge 5 ] && times+=($(( end - start )))
        done
        printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f (min %.2f)\n", a[int((NR+1)/2)]/1e6, a[1]/1e6}'
    fi
}

# Stage a change to a path the task owns (src/mod_000/file_00.rs is T000's).
stage_task='date +%N >> src/mod_000/file_00.rs && git add src/mod_000/file_00.rs'
stage_main='date +%N >> README.md && git add README.md'
hooks=$repo/.git/hooks
mkdir -p "$hooks"

[ -n "${KEEP:-}" ] && echo "keeping $tmp" >&2
echo "timing git par check --staged..." >&2
(cd "$task_wt" && sh -c "$stage_task")
check_task=$(measure "$task_wt" true "git-par check --staged")
plain_task=$(measure "$task_wt" true "git diff-index --cached --name-only HEAD")
(cd "$repo" && sh -c "$stage_main")
check_main=$(measure "$repo" true "git-par check --staged")
(cd "$task_wt" && git-par check --staged) || { echo "check refused an in-scope change" >&2; exit 1; }

echo "timing commits..." >&2
rm -f "$hooks/pre-commit"
commit_none=$(measure "$task_wt" "$stage_task" "git commit -q -m bench")
printf '#!/bin/sh\nexit 0\n' > "$hooks/pre-commit"
chmod +x "$hooks/pre-commit"
commit_noop=$(measure "$task_wt" "$stage_task" "git commit -q -m bench")
rm -f "$hooks/pre-commit"
git-par hook install 2>/dev/null
commit_par=$(measure "$task_wt" "$stage_task" "git commit -q -m bench")
# The hook must really be refusing: a path of another task.
(cd "$task_wt" && date +%N >> src/mod_001/file_01.rs && git add src/mod_001/file_01.rs)
if (cd "$task_wt" && git commit -q -m refused 2>/dev/null); then
    echo "the installed hook did not refuse another task's path" >&2
    exit 1
fi
ratio=$(awk -v a="${commit_par%% *}" -v b="${commit_noop%% *}" 'BEGIN {printf "%.2f", a / b}')

cat <<EOF
| what ($FILES files, $TASKS tasks) | median (min, mean cpu), ms | target |
|---|---:|---|
| git par check --staged, in a task worktree | $check_task | < 10 ms |
| git par check --staged, on main | $check_main | < 10 ms |
| plain git: git diff-index --cached --name-only HEAD, in the task worktree | $plain_task | |
| git commit, no hook | $commit_none | |
| git commit, no-op hook | $commit_noop | |
| git commit, git-par hook | $commit_par | |
| commit with git-par hook / with no-op hook | ${ratio}x | <= 1.3x |
EOF
