//! Finding the task file (DESIGN §3), first hit wins:
//!
//! 1. `--tasks FILE` (relative to the current directory);
//! 2. `git config par.tasks` (relative to the repository root);
//! 3. `$SPECIFY_FEATURE_DIRECTORY/tasks.md`;
//! 4. `.specify/feature.json`'s `feature_directory`;
//! 5. the task file recorded in the state by the run in progress, so that
//!    commands inside a task's worktree (branch `par/T004`) find the plan;
//! 6. the current branch's numeric prefix: `009-x` → `specs/009-*/tasks.md`
//!    or `.specify/specs/009-*/tasks.md`;
//! 7. the only `specs/*/tasks.md` (or `.specify/specs/*/tasks.md`).
//!
//! Rules 1 and 2 name a file the user chose, so a missing file is an error;
//! rules 3–5 are hints from the environment and only count when the file is
//! there. Several candidates for rules 6 or 7 is an error that lists them.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

/// Why there is no task file to work on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskFileError {
    /// No rule found a task file under `root`.
    NotFound { root: PathBuf },
    /// The task file is a symbolic link (`shown` relative to the root), to `target`.
    Symlink { shown: String, target: Option<PathBuf> },
    /// The task file lies outside the repository at `root`.
    Outside { path: PathBuf, root: PathBuf },
    /// The path is a directory.
    Directory { path: PathBuf },
    /// The file cannot be read (the reason is the cause).
    Unreadable { path: PathBuf },
    /// The file is not UTF-8 from `offset` (on `line`).
    NotUtf8 { path: PathBuf, line: usize, offset: usize },
    /// The file named by `source` (the flag or setting) is a directory.
    NamedDirectory { path: PathBuf, source: &'static str },
    /// The file named by `source` does not exist.
    NamedMissing { path: PathBuf, source: &'static str },
    /// Several files match `rule`.
    Several { rule: String, files: Vec<String> },
    /// The file (`rel`) holds no task; `notes` say what the parser saw instead.
    NoTasks { rel: String, notes: Vec<String> },
}

impl std::fmt::Display for TaskFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TaskFileError::NotFound { root } => write!(f, "no tasks.md found in {}", root.display()),
            TaskFileError::Symlink { shown, target } => {
                write!(f, "the task file {shown} is a symbolic link")?;
                match target {
                    Some(target) => write!(f, " (to {})", target.display()),
                    None => Ok(()),
                }
            }
            TaskFileError::Outside { path, root } => {
                write!(f, "the task file {} is outside the repository at {}", path.display(), root.display())
            }
            TaskFileError::Directory { path } => {
                write!(f, "{} is a directory, not a task file", path.display())
            }
            TaskFileError::Unreadable { path } => write!(f, "cannot read task file {}", path.display()),
            TaskFileError::NotUtf8 { path, line, offset } => {
                write!(f, "{} is not valid UTF-8 (line {line}, byte {offset})", path.display())
            }
            TaskFileError::NamedDirectory { path, source } => {
                write!(f, "{} (from {source}) is a directory, not a task file", path.display())
            }
            TaskFileError::NamedMissing { path, source } => {
                write!(f, "task file {} (from {source}) does not exist", path.display())
            }
            TaskFileError::Several { rule, files } => {
                write!(f, "several task files match {rule}: {}", files.join(", "))
            }
            TaskFileError::NoTasks { rel, .. } => write!(f, "no tasks found in {rel}"),
        }
    }
}

impl std::error::Error for TaskFileError {}

/// Everything discovery looks at, gathered by the caller.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub cwd: PathBuf,
    /// The main worktree's root; rules 2–7 are relative to it.
    pub root: PathBuf,
    pub flag: Option<PathBuf>,
    pub config: Option<String>,
    pub env_feature_dir: Option<PathBuf>,
    pub recorded: Option<String>,
    pub branch: Option<String>,
}

/// The task file found, and which rule found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: PathBuf,
    /// Relative to the root and `/`-separated when inside it, else the absolute path.
    pub rel: String,
    pub rule: Rule,
}

/// The discovery rule that found the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Flag,
    Config,
    Env,
    FeatureJson,
    Recorded,
    Branch,
    OnlyOne,
}

/// Finds the task file.
pub fn find(sources: &Sources) -> Result<Found> {
    let root = &sources.root;
    let found = |path: PathBuf, rule| Found { rel: relative_to(root, &path), path, rule };

    if let Some(flag) = &sources.flag {
        let path = sources.cwd.join(flag);
        require_file(&path, "--tasks")?;
        return Ok(found(path, Rule::Flag));
    }
    if let Some(config) = &sources.config {
        let path = root.join(config);
        require_file(&path, "git config par.tasks")?;
        return Ok(found(path, Rule::Config));
    }
    if let Some(dir) = &sources.env_feature_dir {
        let path = root.join(dir).join("tasks.md");
        if path.is_file() {
            return Ok(found(path, Rule::Env));
        }
    }
    if let Some(dir) = feature_json_dir(root)? {
        let path = root.join(dir).join("tasks.md");
        if path.is_file() {
            return Ok(found(path, Rule::FeatureJson));
        }
    }
    if let Some(recorded) = &sources.recorded {
        let path = root.join(recorded);
        if path.is_file() {
            return Ok(found(path, Rule::Recorded));
        }
    }
    if let Some(number) = sources.branch.as_deref().and_then(numeric_prefix) {
        let prefix = format!("{number}-");
        let candidates = spec_task_files(root, |name| name.starts_with(&prefix))?;
        match candidates.len() {
            0 => {}
            1 => return Ok(found(candidates.into_iter().next().unwrap_or_default(), Rule::Branch)),
            _ => return Err(several(root, &candidates, &format!("branch prefix {number}"))),
        }
    }
    let candidates = spec_task_files(root, |_| true)?;
    match candidates.len() {
        1 => Ok(found(candidates.into_iter().next().unwrap_or_default(), Rule::OnlyOne)),
        0 => Err(TaskFileError::NotFound { root: root.clone() }.into()),
        _ => Err(several(root, &candidates, "specs/*/tasks.md")),
    }
}

/// Refuses a task file git-par could not tick in a landing commit: one
/// outside the repository at `root`, or a symbolic link (the landing would
/// write its target's text over the link). Checked where a run starts and
/// where a task lands.
pub fn require_in_repository(path: &Path, rel: &str, root: &Path) -> Result<()> {
    if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        let shown = path.strip_prefix(root).unwrap_or(path).to_string_lossy().replace('\\', "/");
        let target = fs::read_link(path).ok();
        return Err(TaskFileError::Symlink { shown, target }.into());
    }
    if rel.starts_with('/') || Path::new(rel).is_absolute() {
        return Err(TaskFileError::Outside { path: path.to_path_buf(), root: root.to_path_buf() }.into());
    }
    Ok(())
}

/// Reads the task file as UTF-8 text, refusing directories and other encodings.
pub fn read_text(path: &Path) -> Result<String> {
    if path.is_dir() {
        return Err(TaskFileError::Directory { path: path.to_path_buf() }.into());
    }
    let bytes = fs::read(path)
        .map_err(|e| anyhow::Error::new(e).context(TaskFileError::Unreadable { path: path.to_path_buf() }))?;
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
        TaskFileError::NotUtf8 { path: path.to_path_buf(), line, offset }.into()
    })
}

fn require_file(path: &Path, source: &'static str) -> Result<()> {
    if path.is_dir() {
        return Err(TaskFileError::NamedDirectory { path: path.to_path_buf(), source }.into());
    }
    if !path.is_file() {
        return Err(TaskFileError::NamedMissing { path: path.to_path_buf(), source }.into());
    }
    Ok(())
}

fn feature_json_dir(root: &Path) -> Result<Option<String>> {
    let path = root.join(".specify").join("feature.json");
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(_) => return Ok(None),
    };
    // An unreadable feature.json is someone else's file: skip the rule, do not fail.
    let value: serde_json::Value = match serde_json::from_str(&text) {
        Ok(value) => value,
        Err(_) => return Ok(None),
    };
    Ok(value.get("feature_directory").and_then(|v| v.as_str()).map(str::to_string))
}

/// `009-option-optimizer` → `009`; also after a `/` (`feature/009-x`).
fn numeric_prefix(branch: &str) -> Option<&str> {
    let name = branch.rsplit('/').next().unwrap_or(branch);
    let digits = name.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0 && name.as_bytes().get(digits) == Some(&b'-')).then(|| &name[..digits])
}

/// `specs/<dir>/tasks.md` and `.specify/specs/<dir>/tasks.md` whose `<dir>` passes `keep`, sorted.
fn spec_task_files(root: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for base in [root.join("specs"), root.join(".specify").join("specs")] {
        let entries = match fs::read_dir(&base) {
            Ok(entries) => entries,
            Err(_) => continue,
        };
        for entry in entries {
            let entry = entry.with_context(|| format!("listing {}", base.display()))?;
            let name = entry.file_name();
            let tasks = entry.path().join("tasks.md");
            if keep(&name.to_string_lossy()) && tasks.is_file() {
                out.push(tasks);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn several(root: &Path, candidates: &[PathBuf], rule: &str) -> anyhow::Error {
    let files = candidates.iter().map(|p| relative_to(root, p)).collect();
    TaskFileError::Several { rule: rule.to_string(), files }.into()
}

/// `path` relative to `root`, `/`-separated, when inside it; else `path` itself.
pub fn relative_to(root: &Path, path: &Path) -> String {
    let canon = |p: &Path| fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (root, path) = (canon(root), canon(path));
    match path.strip_prefix(&root) {
        Ok(rel) => rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"),
        Err(_) => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::numeric_prefix;

    #[test]
    fn branch_prefix() {
        assert_eq!(numeric_prefix("009-option-optimizer"), Some("009"));
        assert_eq!(numeric_prefix("feature/12-x"), Some("12"));
        assert_eq!(numeric_prefix("main"), None);
        assert_eq!(numeric_prefix("009"), None);
        assert_eq!(numeric_prefix("par/T004"), None);
    }
}
