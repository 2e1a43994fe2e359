//! CLI conventions every command inherits: exit codes, JSON, messages.

use crate::common::{bin, isolated, TestRepo};

#[test]
fn usage_error_exits_2() {
    let repo = TestRepo::empty();
    let run = repo.par(&["no-such-command"]);
    assert_eq!(run.code, 2, "{}", run.snapshot());
    assert!(run.stderr.starts_with("error:"), "{}", run.stderr);
}

#[test]
fn help_and_version_exit_0() {
    let repo = TestRepo::empty();
    let help = repo.par(&["--help"]).success();
    assert!(help.stdout.contains("Usage: git par"), "{}", help.stdout);
    let version = repo.par(&["--version"]).success();
    assert_eq!(version.stdout.trim(), format!("git-par {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn outside_a_repository_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let out = isolated(bin(), dir.path())
        .current_dir(dir.path())
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
        .args(["list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("hint: "), "{stderr}");
}

#[test]
fn bare_repository_is_refused() {
    let repo = TestRepo::empty();
    let bare = repo.root.parent().unwrap().join("bare.git");
    repo.git(&["init", "-q", "--bare", bare.to_str().unwrap()]);
    let run = repo.par_in(&bare, &["list"]).code(1);
    assert!(run.stderr.contains("bare repository"), "{}", run.stderr);
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
}

#[test]
fn missing_dash_c_directory_is_a_usage_error() {
    let repo = TestRepo::empty();
    let run = repo.par(&["-C", "does/not/exist", "list"]).code(2);
    assert!(run.stderr.contains("does/not/exist"), "{}", run.stderr);
}

#[test]
fn completions_and_man_are_generated() {
    let repo = TestRepo::empty();
    for shell in ["bash", "zsh", "fish"] {
        let run = repo.par(&["completions", shell]).success();
        assert!(run.stdout.contains("finish"), "{shell} completion lacks subcommands");
    }
    let man = repo.par(&["man"]).success();
    assert!(
        man.stdout.starts_with(".ie") || man.stdout.contains(".TH git-par"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
    let out = repo.root.join("man1");
    repo.par(&["man", "--out", out.to_str().unwrap()]).success();
    assert!(out.join("git-par.1").is_file());
}
