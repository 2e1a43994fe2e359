//! Worktree updates limited to the paths that changed, the way `git
//! checkout` switches branches, under the worktree's index lock; and what
//! is in the way of one (nothing is written through a symbolic link, and
//! nothing untracked is overwritten).

use std::ffi::CString;
use std::fs;
use std::path::Path;

use anyhow::{Context as _, Result};
use git2::{Oid, Repository};

use super::index_lock::IndexLock;

/// Something in a worktree that a checkout would have to write through or
/// over: git refuses such a checkout ("untracked working tree files would
/// be overwritten"), and so does git-par.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InTheWay {
    /// Repository-relative path of the thing in the way.
    pub path: String,
    /// What it is, in words.
    pub what: &'static str,
}

/// The paths in the way of a checkout (see [`in_the_way`]); the error
/// [`checkout`] fails with when it finds some.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked(pub Vec<InTheWay>);
const FILE_FOR_DIR: &str = "a file where a directory goes";

/// What in the worktree at `workdir` would make moving `paths` from tree
/// `from` to tree `to` write outside the worktree or over something that is
/// not tracked: a symbolic link among a path's leading directories, or at
/// the path itself, that is not the tracked link of `from` or `to`; an
/// untracked file where a directory goes. A tracked link that the move
/// replaces by a directory is not in the way: it is removed, not followed.
pub fn in_the_way(workdir: &Path, from: Oid, to: Oid, paths: &[String]) -> Result<Vec<InTheWay>> {
    let repo =
        Repository::open(workdir).with_context(|| format!("opening the worktree {}", workdir.display()))?;
    let from_tree = repo.find_tree(from).with_context(|| format!("reading tree {from}"))?;
    let to_tree = repo.find_tree(to).with_context(|| format!("reading tree {to}"))?;
    let tracked_link = |tree: &git2::Tree<'_>, rel: &str, target: &Path| -> bool {
        tree.get_path(Path::new(rel)).ok().filter(|e| e.filemode() == 0o120000).is_some_and(|e| {
            repo.find_blob(e.id()).is_ok_and(|b| b.content() == target.as_os_str().as_encoded_bytes())
        })
    };
    let mut found: Vec<InTheWay> = Vec::new();
    let mut note = |path: &str, what: &'static str| {
        if !found.iter().any(|f| f.path == path) {
            found.push(InTheWay { path: path.to_string(), what });
        }
    };
    for path in paths {
        let parts: Vec<&str> = path.split('/').collect();
        for depth in 1..=parts.len() {
            let rel = parts[..depth].join("/");
            let full = workdir.join(&rel);
            let meta = match fs::symlink_metadata(&full) {
                Ok(meta) => meta,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                Err(e) if e.raw_os_error() == Some(20) => break, // ENOTDIR: a file above, noted there
                Err(e) => return Err(e).with_context(|| format!("reading {}", full.display())),
            };
            let last = depth == parts.len();
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&full).with_context(|| format!("reading {}", full.display()))?;
                let tracked =
                    tracked_link(&from_tree, &rel, &target) || tracked_link(&to_tree, &rel, &target);
                if !tracked {
                    note(&rel, SYMLINK);
                }
                break;
            }
            if !last && !meta.is_dir() {
                let tracked =
                    from_tree.get_path(Path::new(&rel)).is_ok() || to_tree.get_path(Path::new(&rel)).is_ok();
                if !tracked {
                    note(&rel, FILE_FOR_DIR);
                }
                break;
            }
        }
    }
    Ok(found)
}

/// Whether every directory leading to `rel` in `workdir` is a real
/// directory, not a symbolic link (nor missing).
fn real_dirs(workdir: &Path, rel: &str) -> bool {
    let mut dir = workdir.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        dir.push(part);
        match fs::symlink_metadata(&dir) {
            Ok(meta) if meta.is_dir() => {}
            _ => return false,
        }
    }
    true
}

/// Moves the worktree at `workdir` from tree `from` to tree `to` for exactly
/// `paths` (index and files), the way `git checkout` switches branches: a
/// file that is neither `from`'s nor `to`'s version is a conflict, and then
/// nothing is written. Other paths and their uncommitted changes are not
/// looked at. Works whatever HEAD says, so it also runs after HEAD's branch
/// moved, and again after a partial run, even one killed while it wrote a
/// file (see [`finish_torn_writes`]).
///
/// The worktree's index lock is held by the caller (`lock`) and stays held:
/// the new index replaces the old one under it, and the caller lets go. No
/// git command can write the index meanwhile. Nothing is written through a
/// symbolic link: what is in the way ([`in_the_way`]) fails the checkout
/// with [`Blocked`] before any write.
pub fn checkout(workdir: &Path, from: Oid, to: Oid, paths: &[String], lock: &IndexLock) -> Result<()> {
    if paths.is_empty() || from == to {
        return Ok(());
    }
    let blocked = in_the_way(workdir, from, to, paths)?;
    if !blocked.is_empty() {
        return Err(Blocked(blocked).into());
    }
    {
        let repo = Repository::open(workdir)
            .with_context(|| format!("opening the worktree {}", workdir.display()))?;
        // Look both trees up first: clear errors, and the raw lookups below cannot miss.
        let from_tree = repo.find_tree(from).with_context(|| format!("reading tree {from}"))?;
        let to_tree = repo.find_tree(to).with_context(|| format!("reading tree {to}"))?;
        finish_torn_writes(&repo, workdir, &from_tree, &to_tree, paths)?;
    }
    // libgit2 writes the index it checks out with through its own
    // `index.lock`, which this process holds: it works on a copy, which
    // then replaces the index.
    let [scratch, _] = super::index_lock::scratch_files(lock.index(), std::process::id());
    let _ = fs::remove_file(&scratch);
    match fs::copy(lock.index(), &scratch) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(e)
                .with_context(|| format!("copying {} to {}", lock.index().display(), scratch.display()))
        }
    }
    let mut builder = git2::build::CheckoutBuilder::new();
    builder.safe().disable_pathspec_match(true).update_index(true);
    for path in paths {
        builder.path(path.as_str());
    }
    let done = checkout_with_baseline(workdir, from, to, &scratch, &mut builder)
        .with_context(|| format!("updating {} in {}", summarize(paths), workdir.display()))
        .and_then(|()| lock.replace_index(&scratch));
    if done.is_err() {
        let _ = fs::remove_file(&scratch);
    }
    done
}

/// Completes the files a checkout killed half-way left torn. libgit2 writes a
/// file by truncating it and writing it anew, so a kill leaves a strict prefix
/// of the version it was writing (often an empty file), which is neither
/// `from`'s nor `to`'s and would stop every later checkout as a conflict.
/// Such a file is given the version it is a prefix of. A file `to` adds that
/// is already there (whole or in part, not yet in the index) would stop it as
/// an untracked file in the way: it is removed, and the checkout writes it.
/// Nothing is lost: what is there is part of what is written. Files under a
/// content filter (e.g. `core.autocrlf`) are left to the checkout, which then
/// reports them.
fn finish_torn_writes(
    repo: &Repository,
    workdir: &Path,
    from: &git2::Tree,
    to: &git2::Tree,
    paths: &[String],
) -> Result<()> {
    for path in paths {
        if !real_dirs(workdir, path) {
            continue;
        }
        let file = workdir.join(path);
        let Ok(meta) = fs::symlink_metadata(&file) else { continue };
        if !meta.is_file() {
            continue;
        }
        let blob = |tree: &git2::Tree| -> Option<Vec<u8>> {
            let entry = tree.get_path(Path::new(path)).ok()?;
            let blob = entry.to_object(repo).ok()?.peel_to_blob().ok()?;
            Some(blob.content().to_vec())
        };
        let (old, new) = (blob(from), blob(to));
        let at_least = |v: &Option<Vec<u8>>| v.as_ref().is_some_and(|v| v.len() >= meta.len() as usize);
        if !at_least(&old) && !at_least(&new) {
            continue;
        }
        let bytes = fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        if old.is_none() {
            if new.as_ref().is_some_and(|new| new.starts_with(&bytes)) {
                fs::remove_file(&file).with_context(|| format!("removing {}", file.display()))?;
            }
            continue;
        }
        if old.as_deref() == Some(bytes.as_slice()) || new.as_deref() == Some(bytes.as_slice()) {
            continue;
        }
        let whole = [new, old].into_iter().flatten().find(|v| v.len() > bytes.len() && v.starts_with(&bytes));
        if let Some(whole) = whole {
            fs::write(&file, whole).with_context(|| format!("writing {}", file.display()))?;
        }
    }
    Ok(())
}

fn summarize(paths: &[String]) -> String {
    match paths {
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} and {} other path(s)", rest.len()),
        [] => "nothing".to_string(),
    }
}

/// libgit2's checkout compares the working tree with a baseline it takes
/// from HEAD; git2 does not expose the option that names another baseline,
/// so this one call goes through libgit2-sys.
fn checkout_with_baseline(
    workdir: &Path,
    from: Oid,
    to: Oid,
    index: &Path,
    builder: &mut git2::build::CheckoutBuilder<'_>,
) -> std::result::Result<(), git2::Error> {
    use libgit2_sys as raw;

    struct Guard {
        repo: *mut raw::git_repository,
        index: *mut raw::git_index,
        from: *mut raw::git_tree,
        to: *mut raw::git_tree,
    }
    impl Drop for Guard {
        fn drop(&mut self) {
            // SAFETY: each pointer is null or was returned by the matching lookup/open.
            unsafe {
                if !self.index.is_null() {
                    raw::git_index_free(self.index);
                }
                if !self.from.is_null() {
                    raw::git_tree_free(self.from);
                }
                if !self.to.is_null() {
                    raw::git_tree_free(self.to);
                }
                if !self.repo.is_null() {
                    raw::git_repository_free(self.repo);
                }
            }
        }
    }
    let check =
        |code: std::os::raw::c_int| if code < 0 { Err(git2::Error::last_error(code)) } else { Ok(()) };
    let dir = CString::new(workdir.to_string_lossy().as_bytes())
        .map_err(|_| git2::Error::from_str("a path with a NUL byte"))?;
    let index_path = CString::new(index.to_string_lossy().as_bytes())
        .map_err(|_| git2::Error::from_str("a path with a NUL byte"))?;
    let oid = |id: Oid| {
        let mut raw_id = raw::git_oid { id: [0; raw::GIT_OID_MAX_SIZE] };
        raw_id.id[..id.as_bytes().len()].copy_from_slice(id.as_bytes());
        raw_id
    };
    let (from_id, to_id) = (oid(from), oid(to));
    raw::init();
    let mut g = Guard {
        repo: std::ptr::null_mut(),
        index: std::ptr::null_mut(),
        from: std::ptr::null_mut(),
        to: std::ptr::null_mut(),
    };
    // SAFETY: out-pointers are valid; the guard frees what was allocated;
    // `opts` borrows `builder`'s path strings, which outlive the call.
    unsafe {
        check(raw::git_repository_open(&mut g.repo, dir.as_ptr()))?;
        check(raw::git_index_open(&mut g.index, index_path.as_ptr()))?;
        check(raw::git_repository_set_index(g.repo, g.index))?;
        check(raw::git_tree_lookup(&mut g.from, g.repo, &from_id))?;
        check(raw::git_tree_lookup(&mut g.to, g.repo, &to_id))?;
        let mut opts: raw::git_checkout_options = std::mem::zeroed();
        check(raw::git_checkout_init_options(&mut opts, raw::GIT_CHECKOUT_OPTIONS_VERSION))?;
        builder.configure(&mut opts);
        opts.baseline = g.from;
        check(raw::git_checkout_tree(g.repo, g.to as *const raw::git_object, &opts))?;
    }
    Ok(())
}

impl std::fmt::Display for Blocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list: Vec<String> = self.0.iter().map(|b| format!("{} ({})", b.path, b.what)).collect();
        write!(f, "untracked working tree files would be overwritten: {}", list.join(", "))
    }
}

impl std::error::Error for Blocked {}

const SYMLINK: &str = "a symbolic link; git-par never writes through one";
