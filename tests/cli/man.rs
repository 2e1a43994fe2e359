//! `man`: the pages, and `man --install` where `man` (and so `git par --help`) finds them.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{bin, isolated, Run, TestRepo};

/// `man` on this machine, or `None` (the test then skips: .ci/run installs man-db).
fn have_man() -> bool {
    Command::new("man").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// PATH with `first` before the system's PATH (not git-par's build directory).
fn path_with(first: &Path) -> std::ffi::OsString {
    let system = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![first.to_path_buf()];
    dirs.extend(std::env::split_paths(&system).filter(|d| Some(d.as_path()) != bin().parent()));
    std::env::join_paths(dirs).unwrap()
}

/// A prefix `<tmp>/prefix` whose `bin/git-par` is a symlink to the binary under test.
fn prefix(repo: &TestRepo) -> PathBuf {
    let prefix = repo.tmp.path().canonicalize().unwrap().join("prefix");
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    std::os::unix::fs::symlink(bin(), prefix.join("bin/git-par")).unwrap();
    prefix
}

fn run(repo: &TestRepo, program: &Path, path: &std::ffi::OsStr, manpath: Option<&str>, args: &[&str]) -> Run {
    let mut cmd = isolated(program, &repo.home);
    cmd.current_dir(&repo.root).env("PATH", path).env("MANPAGER", "cat").env("PAGER", "cat").args(args);
    if let Some(manpath) = manpath {
        cmd.env("MANPATH", manpath);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn man_install_puts_the_pages_next_to_the_binary_and_git_help_opens_them() {
    if !have_man() {
        eprintln!("skipped: `man` is not installed");
        return;
    }
    let repo = TestRepo::empty();
    let prefix = prefix(&repo);
    let path = path_with(&prefix.join("bin"));
    let man1 = prefix.join("share/man/man1");

    // Before: git's --help finds no page.
    let before = run(&repo, Path::new("git"), &path, None, &["par", "--help"]);
    assert_ne!(before.code, 0, "{}", before.snapshot());

    let install = run(&repo, &prefix.join("bin/git-par"), &path, None, &["man", "--install"]).success();
    assert_eq!(install.stdout, format!("{}\n", man1.display()));
    assert!(install.stderr.contains(&format!("man pages in {}", man1.display())), "{}", install.stderr);

    let found = run(&repo, Path::new("man"), &path, None, &["-w", "git-par"]).success();
    assert_eq!(found.stdout.trim(), man1.join("git-par.1").display().to_string());

    // git turns `git par --help` into `man git-par`.
    let help = run(&repo, Path::new("git"), &path, None, &["par", "--help"]).success();
    let text = squeeze(&help.stdout);
    assert!(text.contains("SYNOPSIS git par [-C DIR] [--tasks FILE] [--json] [--color WHEN]"), "{text}");
    assert!(text.contains("git-par-finish(1)"), "{text}");
    let start = squeeze(&run(&repo, Path::new("man"), &path, None, &["git-par-start"]).success().stdout);
    assert!(
        start.contains("SYNOPSIS git par start [--path GLOB]... [--base REV] [--force] ID..."),
        "{start}"
    );

    // Every page any page names exists: man finds it.
    let mut named = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&man1).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let text = text.replace("\\-", "-").replace("\\fB", "").replace("\\fR", "").replace("\\fI", "");
        for (at, _) in text.match_indices("(1)") {
            let name: String = text[..at]
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            named.insert(name);
        }
    }
    assert!(named.contains("git-par-hook-install") && named.contains("git-par"), "{named:?}");
    for name in &named {
        let page = run(&repo, Path::new("man"), &path, None, &["-w", name]);
        assert_eq!(page.code, 0, "a page names {name}(1), which man cannot find: {}", page.snapshot());
        assert!(page.stdout.starts_with(&man1.display().to_string()), "{name}: {}", page.stdout);
    }
}

#[test]
fn man_install_follows_manpath_when_it_leaves_out_the_prefix() {
    if !have_man() {
        eprintln!("skipped: `man` is not installed");
        return;
    }
    let repo = TestRepo::empty();
    let prefix = prefix(&repo);
    let path = path_with(&prefix.join("bin"));
    let own = repo.home.join("man");
    std::fs::create_dir_all(&own).unwrap();
    // /usr/share/man is writable by root but belongs to the package manager: the user's own comes first.
    let manpath = format!("/usr/share/man:{}", own.display());

    let install =
        run(&repo, &prefix.join("bin/git-par"), &path, Some(&manpath), &["man", "--install"]).success();
    assert_eq!(install.stdout, format!("{}\n", own.join("man1").display()));
    assert!(install.stderr.contains("man does not read"), "{}", install.stderr);
    assert!(!prefix.join("share").exists(), "the unused prefix directories are removed");

    let found = run(&repo, Path::new("man"), &path, Some(&manpath), &["-w", "git-par"]).success();
    assert_eq!(found.stdout.trim(), own.join("man1/git-par.1").display().to_string());
}

#[test]
fn man_out_writes_every_page_and_install_conflicts_with_it() {
    let repo = TestRepo::empty();
    let out = repo.tmp.path().join("pages");
    let run = repo.par(&["--json", "man", "--out", out.to_str().unwrap()]).success();
    let json = run.json();
    let pages: Vec<&str> = json["pages"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(pages[0], "git-par.1");
    for page in ["git-par-start.1", "git-par-finish.1", "git-par-hook-install.1"] {
        assert!(pages.contains(&page), "{pages:?}");
    }
    for page in &pages {
        assert!(out.join(page).is_file(), "{page}");
    }
    assert!(!pages.contains(&"git-par-help.1"), "no page for clap's help command: {pages:?}");
    repo.par(&["man", "--install", "--out", out.to_str().unwrap()]).code(2);
}
