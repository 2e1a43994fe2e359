//! `completions`: `git par <TAB>` through each shell's own git completion,
//! after `completions --install`. Shells that are not installed are skipped
//! (.ci/run installs bash-completion, zsh and fish).

use std::path::{Path, PathBuf};

use crate::common::{isolated, TestRepo};

const GIT_BASH_COMPLETION: &str = "/usr/share/bash-completion/completions/git";
const BASH_COMPLETION: &str = "/usr/share/bash-completion/bash_completion";

fn have(program: &str) -> bool {
    std::process::Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success())
}

/// T001 and T004 to do, T002 started, T003 done.
fn repo() -> TestRepo {
    let repo = TestRepo::with_tasks(
        "## Phase 1\n\n- [ ] T001 [P] One in `src/one.py`\n- [ ] T002 [P] Two in `src/two.py`\n- [X] T003 Three in `src/three.py`\n- [ ] T004 [P] Four in `src/four.py`\n",
    );
    repo.par(&["start", "T002"]).success();
    repo
}

/// Runs a shell script in the repository with the test's HOME; returns stdout.
fn shell(repo: &TestRepo, program: &str, args: &[&str], script: &str) -> String {
    let file = repo.tmp.path().join(format!("drive.{program}"));
    std::fs::write(&file, script).unwrap();
    let out = isolated(program, &repo.home).current_dir(&repo.root).args(args).arg(&file).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{program} failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn install(repo: &TestRepo, shell: &str) -> PathBuf {
    let run = repo.par(&["completions", "--install", shell]).success();
    PathBuf::from(run.stdout.trim())
}

/// The bash driver: completes each line the way bash would, through git's
/// completion (`__git_main`, wrapped as git's `complete -F` does), and prints
/// `line => COMPREPLY` with words separated by `|`.
fn bash_driver(prelude: &str, lines: &[&str]) -> String {
    let mut script = format!(
        "{prelude}\n\
         complete_line () {{\n\
           COMP_LINE=$1; COMP_POINT=${{#COMP_LINE}}\n\
           read -ra COMP_WORDS <<<\"$COMP_LINE\"\n\
           [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')\n\
           COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))\n\
           COMPREPLY=()\n\
           local spec; spec=$(complete -p \"${{COMP_WORDS[0]}}\")\n\
           local fn=${{spec##* -F }}; fn=${{fn%% *}}\n\
           $fn\n\
           local IFS='|'; printf '%s => %s\\n' \"$1\" \"${{COMPREPLY[*]}}\"\n\
         }}\n"
    );
    for line in lines {
        script.push_str(&format!("complete_line '{line}'\n"));
    }
    script
}

fn replies(output: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    output
        .lines()
        .filter_map(|l| l.split_once(" => "))
        .map(|(line, reply)| {
            (line.to_string(), reply.split('|').filter(|w| !w.is_empty()).map(str::to_string).collect())
        })
        .collect()
}

const LINES: &[&str] = &[
    "git par st",
    "git par start ",
    "git par start T001 ",
    "git par finish ",
    "git par show T",
    "git par finish --strategy ",
    "git par finish --st",
    "git par hook ",
    "git par --color ",
    "git par -C . abort ",
    "git-par st",
    "git-par finish ",
];

fn check_bash(out: &str) {
    let got = replies(out);
    let reply =
        |line: &str| got.get(line).cloned().unwrap_or_else(|| panic!("no reply for {line:?}:\n{out}"));
    assert_eq!(reply("git par st"), ["start "], "{out}");
    assert_eq!(reply("git par start "), ["T001 ", "T004 "], "todo tasks, not the active or done ones\n{out}");
    assert_eq!(reply("git par start T001 "), ["T004 "], "{out}");
    assert_eq!(reply("git par finish "), ["T002 "], "active tasks\n{out}");
    assert_eq!(reply("git par show T"), ["T001 ", "T002 ", "T003 ", "T004 "], "{out}");
    let strategies = reply("git par finish --strategy ");
    assert!(
        strategies.contains(&"merge ".to_string()) && strategies.contains(&"squash ".to_string()),
        "{out}"
    );
    assert_eq!(reply("git par finish --st"), ["--strategy ", "--strict-phases "], "{out}");
    assert_eq!(reply("git par hook "), ["install ", "uninstall ", "status "], "{out}");
    assert_eq!(reply("git par --color "), ["auto ", "always ", "never "], "{out}");
    assert_eq!(reply("git par -C . abort "), ["T002 "], "{out}");
    assert_eq!(reply("git-par st"), ["start "], "{out}");
    assert_eq!(reply("git-par finish "), ["T002 "], "{out}");
}

#[test]
fn bash_completes_git_par_through_git_completion() {
    if !have("bash") || !Path::new(GIT_BASH_COMPLETION).is_file() {
        eprintln!("skipped: bash or git's bash completion ({GIT_BASH_COMPLETION}) is missing");
        return;
    }
    let repo = repo();
    let script = install(&repo, "bash");
    // Created with its directories, where bash-completion looks for the user's completions.
    assert_eq!(script, repo.home.join(".local/share/bash-completion/completions/git-par"));
    let prelude = format!("source {GIT_BASH_COMPLETION}\nsource '{}'", script.display());
    check_bash(&shell(&repo, "bash", &["--norc"], &bash_driver(&prelude, LINES)));
}

#[test]
fn bash_completion_loads_the_installed_script_on_demand() {
    if !have("bash") || !Path::new(BASH_COMPLETION).is_file() || !Path::new(GIT_BASH_COMPLETION).is_file() {
        eprintln!("skipped: bash-completion ({BASH_COMPLETION}) or git's completion is missing");
        return;
    }
    let repo = repo();
    install(&repo, "bash");
    // Nothing sourced by hand: bash-completion loads git's script for `git`,
    // and git's script loads ours (as `git-par`) for `git par`.
    let prelude = format!("source {BASH_COMPLETION}\n__load_completion git");
    check_bash(&shell(&repo, "bash", &["--norc"], &bash_driver(&prelude, LINES)));
}

#[test]
fn the_bash_script_defines_git_s_hook_function() {
    let repo = TestRepo::empty();
    let run = repo.par(&["completions", "bash"]).success();
    assert!(run.stdout.contains("\n_git_par ()\n"), "git's completion calls _git_par");
    let run = repo.par(&["completions", "--install", "elvish"]).code(2);
    assert!(run.stderr.contains("--install knows bash, zsh and fish"), "{}", run.stderr);
}

#[test]
fn fish_completes_git_par() {
    if !have("fish") {
        eprintln!("skipped: fish is not installed");
        return;
    }
    let repo = repo();
    let script = install(&repo, "fish");
    assert_eq!(script, repo.home.join(".config/fish/completions/git-par.fish"));
    assert!(repo.home.join(".config/fish/conf.d/git-par.fish").is_file());
    let mut driver = String::new();
    for line in ["git pa", "git par st", "git par start ", "git par finish ", "git-par finish --strategy "] {
        driver.push_str(&format!("echo '== {line}'\ncomplete -C '{line}' | string replace -r '\\t.*' ''\n"));
    }
    // Not --no-config: the installed files are the user's configuration.
    let out = shell(&repo, "fish", &[], &driver);
    let section = |line: &str| -> Vec<String> {
        let start =
            out.find(&format!("== {line}\n")).unwrap_or_else(|| panic!("{line}: {out}")) + line.len() + 4;
        out[start..].lines().take_while(|l| !l.starts_with("== ")).map(str::to_string).collect()
    };
    assert!(section("git pa").contains(&"par".to_string()), "{out}");
    assert_eq!(section("git par st"), ["start"], "{out}");
    assert_eq!(section("git par start "), ["T001", "T004"], "{out}");
    assert_eq!(section("git par finish "), ["T002"], "{out}");
    assert!(section("git-par finish --strategy ").contains(&"squash".to_string()), "{out}");
}

/// Drives an interactive zsh in a pseudo-terminal and prints what completion offers.
const ZSH_CAPTURE: &str = r#"
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT= ; fpath=($FPATH_DIR \$fpath); autoload -U compinit; compinit -u -d $HOME/.zcompdump"
zpty -w z 'compadd () { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi; typeset -a __hits; builtin compadd -A __hits "$@"; local h; for h in $__hits; do print -r -- "<HI""T>$h"; done; builtin compadd "$@" }'
zpty -w z 'bindkey "^I" complete-word; zle_done() { print -r -- "<DO""NE>" }; zle -N zle_done; bindkey "^X" zle_done'
zpty -n -w z "$LINE"$'\t\x18'
local line
while zpty -r z line; do
  [[ $line == *'<DONE>'* ]] && break
  [[ $line == *'<HIT>'* ]] && print -r -- "${${line#*<HIT>}%%$'\r'*}"
done
zpty -d z
"#;

#[test]
fn zsh_completes_git_par_through_its_git_completion() {
    if !have("zsh") {
        eprintln!("skipped: zsh is not installed");
        return;
    }
    let repo = repo();
    let script = install(&repo, "zsh");
    assert_eq!(script, repo.home.join(".local/share/zsh/site-functions/_git-par"));
    let file = repo.tmp.path().join("capture.zsh");
    std::fs::write(&file, ZSH_CAPTURE).unwrap();
    let complete = |line: &str| -> Vec<String> {
        let out = isolated("zsh", &repo.home)
            .current_dir(&repo.root)
            .env("FPATH_DIR", script.parent().unwrap())
            .env("LINE", line)
            .arg("-f")
            .arg(&file)
            .output()
            .unwrap();
        let mut hits: Vec<String> =
            String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
        hits.sort();
        hits
    };
    assert_eq!(complete("git par st"), ["start"]);
    assert_eq!(complete("git par start "), ["T001", "T004"]);
    assert_eq!(complete("git par finish "), ["T002"]);
    assert_eq!(complete("git par hook "), ["install", "status", "uninstall"]);
    assert!(complete("git-par finish --strategy ").contains(&"squash".to_string()));
}
