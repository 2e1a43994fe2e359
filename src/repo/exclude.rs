//! `info/exclude` (in the common git directory: every worktree reads it):
//! the one writer of it, for the task logs, the task worktrees kept inside
//! the main worktree, and a hook inside a worktree. A line is added once,
//! under a lock on the file, never removed.

use std::path::Path;

use anyhow::{Context as _, Result};

use crate::flock::{self, Mode, Wait};

/// Appends `line` under a `# comment` to the repository's `info/exclude`
/// (in the common directory: every worktree reads it) unless a line already
/// there passes `present`. The file itself is locked — git never replaces
/// it — so that concurrent git-par processes add the line once. Returns
/// whether a line was added.
pub fn append(common_dir: &Path, line: &str, comment: &str, present: impl Fn(&str) -> bool) -> Result<bool> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let path = common_dir.join("info").join("exclude");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    // Locked itself (git never replaces it), so that concurrent git-par
    // processes add the line once.
    flock::with_file(file, &path, Mode::Exclusive, Wait::Block, &mut flock::quietly, |mut file| {
        let mut text = String::new();
        file.seek(SeekFrom::Start(0)).with_context(|| format!("reading {}", path.display()))?;
        file.read_to_string(&mut text).with_context(|| format!("reading {}", path.display()))?;
        if text.lines().any(present) {
            return Ok(false);
        }
        let newline = if text.is_empty() || text.ends_with('\n') { "" } else { "\n" };
        file.write_all(format!("{newline}# {comment}\n{line}\n").as_bytes())
            .with_context(|| format!("appending to {}", path.display()))?;
        Ok(true)
    })
}

/// Adds directory `dir` (relative to the main worktree's `root`, or
/// absolute) to `<common_dir>/info/exclude` under a `# comment` line, unless
/// a line already names it. Does nothing for a directory outside the main worktree.
pub fn exclude_dir(common_dir: &Path, root: &Path, dir: &str, comment: &str) -> Result<()> {
    let Some(pattern) = exclude_pattern(root, dir) else { return Ok(()) };
    let bare = pattern.trim_matches('/');
    append(common_dir, &pattern, comment, |l| l.trim().trim_matches('/') == bare).map(drop)
}

/// The exclude line for directory `dir` (`/logs/parallel/`), or `None`
/// when it is not inside the main worktree at `root`.
fn exclude_pattern(root: &Path, dir: &str) -> Option<String> {
    let dir = root.join(dir);
    let rel = dir.strip_prefix(root).ok()?;
    let mut parts = Vec::new();
    for part in rel.components() {
        match part {
            std::path::Component::Normal(p) => parts.push(p.to_str()?.to_string()),
            std::path::Component::CurDir => {}
            _ => return None,
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(format!("/{}/", parts.join("/")))
}

/// Makes git ignore the file `rel` (relative to the worktree root) by adding
/// it to the repository's `info/exclude`, which every worktree reads, under
/// a `# comment` line. Does nothing when git already ignores it or the line
/// is there. Returns whether a line was added.
pub fn exclude_file(git: &git2::Repository, rel: &Path, comment: &str) -> Result<bool> {
    if super::index::is_ignored(git, rel)? {
        return Ok(false);
    }
    let line = exclude_line(rel);
    append(git.commondir(), &line, comment, |l| l == line)
}

/// The `info/exclude` line matching exactly the file `rel`: anchored at the
/// root, with the characters a pattern would read specially escaped.
fn exclude_line(rel: &Path) -> String {
    let parts: Vec<_> = rel.components().map(|part| part.as_os_str().to_string_lossy()).collect();
    let mut line = String::from("/");
    for c in parts.join("/").chars() {
        if matches!(c, '*' | '?' | '[' | '\\' | ' ' | '!' | '#') {
            line.push('\\');
        }
        line.push(c);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclude_pattern_is_root_anchored() {
        let root = Path::new("/r/repo");
        assert_eq!(exclude_pattern(root, "logs/parallel").as_deref(), Some("/logs/parallel/"));
        assert_eq!(exclude_pattern(root, "./logs/").as_deref(), Some("/logs/"));
        assert_eq!(exclude_pattern(root, "/var/log/par"), None);
        assert_eq!(exclude_pattern(root, "../elsewhere"), None);
    }

    #[test]
    fn exclude_lines_match_one_file_literally() {
        assert_eq!(exclude_line(Path::new(".githooks/pre-commit")), "/.githooks/pre-commit");
        assert_eq!(exclude_line(Path::new(".husky/_/pre-commit")), "/.husky/_/pre-commit");
        assert_eq!(
            exclude_line(Path::new("my hooks/[x]*?/#!pre-commit")),
            r"/my\ hooks/\[x]\*\?/\#\!pre-commit"
        );
    }
}
