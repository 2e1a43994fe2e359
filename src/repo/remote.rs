//! The shared git remote, reached only through the user's own `git`
//! command (so their credentials, ssh config and proxies apply), and the
//! commits that hold the state on it (`refs/par/state`: a tree with
//! `state.json`, the event as the message).
//!
//! Nothing here passes text from tasks.md or from paths to a shell: `git`
//! is spawned with an argument vector, and the only words in it are the
//! remote's name, ref names and object ids.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result};
use git2::{Oid, Repository};

/// The remote `name` of the repository whose common git directory is `git_dir`.
#[derive(Debug, Clone)]
pub struct Remote {
    pub name: String,
    git_dir: PathBuf,
}

/// The remote could not be reached, or `git` failed talking to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable {
    pub remote: String,
    /// What git said (its last lines).
    pub message: String,
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot reach the remote '{}': {}", self.remote, self.message)
    }
}

impl std::error::Error for Unreachable {}

/// The server refused a ref for a reason of its own (a hook, a protected
/// branch, a host that does not take custom refs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRefused {
    pub remote: String,
    pub refname: String,
    pub reason: String,
}

impl std::fmt::Display for ServerRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the remote '{}' refused {}: {}", self.remote, self.refname, self.reason)
    }
}

impl std::error::Error for ServerRefused {}

/// One ref a push updates: `new` (an object id) into `refname`, only if
/// the server still has `lease` there (`None`: only if it has nothing).
#[derive(Debug, Clone)]
pub struct Update<'a> {
    pub refname: &'a str,
    pub new: Oid,
    pub lease: Option<Oid>,
}

/// How a push ended when the remote answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// Every ref was updated.
    Done,
    /// A lease did not hold: someone else moved a ref first; nothing changed
    /// (with `--atomic`, for any of the refs).
    Lost,
}

impl Remote {
    /// The remote `name` of the repository at `git_dir`.
    pub fn new(git_dir: &Path, name: &str) -> Remote {
        Remote { name: name.to_string(), git_dir: git_dir.to_path_buf() }
    }

    /// Whether the repository has a remote of that name (a URL configured).
    pub fn exists(repo: &Repository, name: &str) -> bool {
        repo.find_remote(name).map(|r| r.url().is_some()).unwrap_or(false)
    }

    fn git(&self) -> Command {
        let mut cmd = Command::new("git");
        cmd.arg("--git-dir").arg(&self.git_dir);
        // A hook runs git-par with these set for its own worktree.
        for var in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX"] {
            cmd.env_remove(var);
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Fetches `refspecs` (explicit, each into a ref of ours) from the remote.
    pub fn fetch(&self, refspecs: &[&str]) -> Result<()> {
        let output = self
            .git()
            .args([
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                "--prune",
                "--no-recurse-submodules",
            ])
            .arg(&self.name)
            .args(refspecs)
            .output()
            .context("running `git fetch` (is git on PATH?)")?;
        if output.status.success() {
            return Ok(());
        }
        Err(Unreachable { remote: self.name.clone(), message: last_lines(&output.stderr) }.into())
    }

    /// Pushes `updates` with an explicit lease on each, all or none when `atomic`.
    pub fn push(&self, updates: &[Update<'_>], atomic: bool) -> Result<Pushed> {
        let mut cmd = self.git();
        cmd.args(["push", "--porcelain", "--quiet", "--no-verify", "--no-recurse-submodules"]);
        if atomic {
            cmd.arg("--atomic");
        }
        for update in updates {
            let lease = update.lease.map(|oid| oid.to_string()).unwrap_or_default();
            cmd.arg(format!("--force-with-lease={}:{lease}", update.refname));
        }
        cmd.arg(&self.name);
        for update in updates {
            cmd.arg(format!("{}:{}", update.new, update.refname));
        }
        let output = cmd.output().context("running `git push` (is git on PATH?)")?;
        if output.status.success() {
            return Ok(Pushed::Done);
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        // The server checks the old value again as it locks the ref: a push
        // that won between our lease check and its lock makes it refuse.
        let raced = ["cannot lock ref", "but expected", "reference already exists", "incorrect old value"]
            .iter()
            .any(|said| stderr.contains(said));
        let mut lost = false;
        let mut answered = false;
        for line in stdout.lines() {
            let mut fields = line.split('\t');
            let (Some(flag), Some(spec), Some(summary)) = (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            answered = true;
            if flag != "!" {
                continue;
            }
            let refname = spec.rsplit(':').next().unwrap_or(spec).to_string();
            let stale =
                ["stale info", "fetch first", "non-fast-forward", "atomic push failed", "already exists"]
                    .iter()
                    .any(|why| summary.contains(why));
            let server_raced = raced
                && ["failed to update ref", "atomic transaction failed", "failed to lock"]
                    .iter()
                    .any(|why| summary.contains(why));
            if stale || server_raced {
                lost = true;
            } else {
                let reason = summary.trim().to_string();
                let reason = match last_lines(&output.stderr) {
                    said if said.is_empty() => reason,
                    said => format!("{reason}; {said}"),
                };
                return Err(ServerRefused { remote: self.name.clone(), refname, reason }.into());
            }
        }
        if answered && lost {
            return Ok(Pushed::Lost);
        }
        Err(Unreachable { remote: self.name.clone(), message: last_lines(&output.stderr) }.into())
    }
}

/// Whether `name` can be a branch (and so go into a refspec).
pub fn valid_branch_name(name: &str) -> bool {
    !name.starts_with('-') && git2::Reference::is_valid_name(&format!("refs/heads/{name}"))
}

/// The last few lines of what git printed, for an error message.
fn last_lines(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let start = lines.len().saturating_sub(4);
    match lines[start..].join("; ") {
        empty if empty.is_empty() => "git failed without a message".to_string(),
        said => said,
    }
}

/// The name of the file in a state commit's tree.
pub const STATE_FILE: &str = "state.json";

/// The `state.json` of the state commit `commit`.
pub fn read_state_blob(repo: &Repository, commit: Oid) -> Result<Vec<u8>> {
    let tree = repo
        .find_commit(commit)
        .and_then(|c| c.tree())
        .with_context(|| format!("reading the state commit {commit}"))?;
    let entry = tree
        .get_name(STATE_FILE)
        .with_context(|| format!("the state commit {commit} has no {STATE_FILE}"))?;
    let blob = repo
        .find_blob(entry.id())
        .with_context(|| format!("reading {STATE_FILE} of the state commit {commit}"))?;
    Ok(blob.content().to_vec())
}

/// Writes a state commit: `json` as `state.json`, `message` as the event,
/// `parent` the state it changes. Only objects: no ref moves.
pub fn write_state_commit(repo: &Repository, parent: Option<Oid>, json: &[u8], message: &str) -> Result<Oid> {
    let blob = repo.blob(json).context("writing the state blob")?;
    let mut builder = repo.treebuilder(None).context("building the state tree")?;
    builder.insert(STATE_FILE, blob, 0o100644).context("building the state tree")?;
    let tree = builder.write().context("writing the state tree")?;
    let tree = repo.find_tree(tree).context("reading the state tree back")?;
    let sig = match super::signatures(repo) {
        Ok(sigs) => sigs.committer,
        Err(_) => git2::Signature::now("git-par", "git-par@localhost").context("building a signature")?,
    };
    let parents = match parent {
        Some(oid) => {
            vec![repo.find_commit(oid).with_context(|| format!("reading the state commit {oid}"))?]
        }
        None => Vec::new(),
    };
    let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
    repo.commit(None, &sig, &sig, message, &tree, &parents).context("writing the state commit")
}

/// The state commits from `tip` back to the first, newest first: (commit, time, message).
pub fn state_history(repo: &Repository, tip: Oid) -> Result<Vec<(Oid, i64, String)>> {
    let mut walk = repo.revwalk().context("walking the state history")?;
    walk.push(tip).with_context(|| format!("walking the state history from {tip}"))?;
    walk.simplify_first_parent().context("walking the state history")?;
    let mut out = Vec::new();
    for oid in walk {
        let oid = oid.context("walking the state history")?;
        let commit = repo.find_commit(oid).with_context(|| format!("reading the state commit {oid}"))?;
        out.push((oid, commit.time().seconds(), commit.message().unwrap_or_default().to_string()));
    }
    Ok(out)
}
