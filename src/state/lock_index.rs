//! The lock index: the part of a state file the pre-commit hook needs (each
//! active task's ID, owner, branch, worktree, acquire mode and lock
//! patterns; the run's main branch and task file), in a file beside it that
//! is read without parsing the whole state.
//!
//! Invariants:
//! - An index names the exact state file it was built from by that file's
//!   stamp (size, inode, device, modification and change times, as `stat`
//!   gives them). The state is only ever replaced by rename, never changed
//!   in place, so a stamp that matches means the same bytes; a reader that
//!   finds another stamp (a writer died between the two renames, an older
//!   git-par or a person changed the state) uses the state itself.
//! - The body carries its length and checksum: a truncated or damaged index
//!   is never read as a different set of locks.
//! - Writing the index is best effort and comes after the state is
//!   committed: the index can lag behind the state, never lead it, and
//!   lagging only costs a reader the full parse.

use std::borrow::Cow;
use std::fs::{self, File};
use std::io::{ErrorKind, Read as _, Write as _};
use std::ops::Range;
use std::path::Path;

use anyhow::{Context as _, Result};

use super::State;

/// The first line of an index: its layout.
const MAGIC: &str = "git-par lock index 1";

/// Which state file an index was built from: the `stat` fields that change
/// whenever the file is replaced or touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp(String);

impl Stamp {
    /// The stamp of the file `meta` describes.
    pub fn of(meta: &fs::Metadata) -> Stamp {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            Stamp(format!(
                "{} {} {} {}.{} {}.{}",
                meta.len(),
                meta.ino(),
                meta.dev(),
                meta.mtime(),
                meta.mtime_nsec(),
                meta.ctime(),
                meta.ctime_nsec()
            ))
        }
        #[cfg(not(unix))]
        {
            let modified = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            Stamp(format!("{} {:?}", meta.len(), modified))
        }
    }

    /// The stamp of the file at `path` now; `None` when it cannot be read.
    pub fn of_path(path: &Path) -> Option<Stamp> {
        fs::metadata(path).ok().map(|meta| Stamp::of(&meta))
    }
}

/// A state file's bytes with the stamp of the very file they were read
/// from (one open file: a rename meanwhile cannot mix two versions).
pub struct Read {
    pub bytes: Vec<u8>,
    pub stamp: Stamp,
}

/// Reads the file at `path` and its stamp; `None` when it does not exist.
pub fn read_stamped(path: &Path) -> Result<Option<Read>> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let meta = file.metadata().with_context(|| format!("reading {}", path.display()))?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0) + 1);
    file.read_to_end(&mut bytes).with_context(|| format!("reading {}", path.display()))?;
    Ok(Some(Read { bytes, stamp: Stamp::of(&meta) }))
}

/// One active task as the hook sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskLocks<'a> {
    pub id: &'a str,
    /// `user@host`.
    pub owner: Cow<'a, str>,
    pub branch: &'a str,
    pub worktree: &'a Path,
    /// Its commits acquire locks on what they touch (`par.enforceScope = acquire`).
    pub acquiring: bool,
    locks: Range<usize>,
}

/// What the hook needs of a state: borrowed from a [`State`] or from an index's bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockTable<'a> {
    pub main_branch: Option<&'a str>,
    pub tasks_file: Option<&'a str>,
    /// In the order of their IDs, as the state keeps them.
    pub tasks: Vec<TaskLocks<'a>>,
    locks: Vec<&'a str>,
}

impl<'a> LockTable<'a> {
    /// The table of `state`.
    pub fn of(state: &'a State) -> LockTable<'a> {
        let mut table = LockTable {
            main_branch: state.main_branch.as_deref(),
            tasks_file: state.tasks_file.as_deref(),
            tasks: Vec::with_capacity(state.tasks.len()),
            locks: Vec::new(),
        };
        for task in state.tasks.values() {
            let start = table.locks.len();
            table.locks.extend(task.locks.iter().map(String::as_str));
            table.tasks.push(TaskLocks {
                id: &task.id,
                owner: Cow::Owned(task.owner.to_string()),
                branch: &task.branch,
                worktree: &task.worktree,
                acquiring: state.acquiring.contains(&task.id),
                locks: start..table.locks.len(),
            });
        }
        table
    }

    /// The lock patterns of `task` (one of [`LockTable::tasks`]).
    pub fn locks_of(&self, task: &TaskLocks<'_>) -> &[&'a str] {
        self.locks.get(task.locks.clone()).unwrap_or_default()
    }

    /// The task with ID `id`.
    pub fn task(&self, id: &str) -> Option<&TaskLocks<'a>> {
        self.tasks.iter().find(|t| t.id == id)
    }

    /// Reads the body of an index; `None` when it is not one.
    fn parse(body: &'a [u8]) -> Option<LockTable<'a>> {
        let text = std::str::from_utf8(body).ok()?;
        let mut fields = Fields { rest: text };
        // One line per task: sized once, not grown a thousand times.
        let lines = body.iter().filter(|b| **b == b'\n').count();
        let mut table = LockTable {
            main_branch: optional(fields.next()?)?,
            tasks_file: optional(fields.next()?)?,
            tasks: Vec::with_capacity(lines),
            locks: Vec::with_capacity(lines * 4),
        };
        while !fields.rest.is_empty() {
            let id = fields.next()?;
            let owner = Cow::Borrowed(fields.next()?);
            let branch = fields.next()?;
            let worktree = Path::new(fields.next()?);
            let acquiring = match fields.next()? {
                "a" => true,
                "-" => false,
                _ => return None,
            };
            let count: usize = fields.next()?.parse().ok()?;
            let start = table.locks.len();
            for _ in 0..count {
                table.locks.push(fields.next()?);
            }
            table.tasks.push(TaskLocks {
                id,
                owner,
                branch,
                worktree,
                acquiring,
                locks: start..table.locks.len(),
            });
        }
        Some(table)
    }
}

/// `-` is none, `+TEXT` is TEXT.
fn optional(field: &str) -> Option<Option<&str>> {
    match field {
        "-" => Some(None),
        _ => field.strip_prefix('+').map(Some),
    }
}

/// Fields written as `<length>:<text>`, separated by nothing or a newline:
/// any text at all (a path with a newline in it) reads back as written.
struct Fields<'a> {
    rest: &'a str,
}

impl<'a> Fields<'a> {
    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest.trim_start_matches('\n');
        let (len, rest) = rest.split_once(':')?;
        let len: usize = len.parse().ok()?;
        let field = rest.get(..len)?;
        self.rest = rest.get(len..)?;
        self.rest = self.rest.trim_start_matches('\n');
        Some(field)
    }
}

fn push_field(out: &mut Vec<u8>, field: &str) {
    out.extend_from_slice(field.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(field.as_bytes());
}

/// The index of `state`, whose file has `stamp`.
pub fn encode(state: &State, stamp: &Stamp) -> Vec<u8> {
    let mut body = Vec::with_capacity(64 + state.tasks.len() * 160);
    for value in [&state.main_branch, &state.tasks_file] {
        match value {
            Some(text) => push_field(&mut body, &format!("+{text}")),
            None => push_field(&mut body, "-"),
        }
    }
    body.push(b'\n');
    for task in state.tasks.values() {
        let worktree = task.worktree.to_string_lossy();
        let acquiring = if state.acquiring.contains(&task.id) { "a" } else { "-" };
        push_field(&mut body, &task.id);
        // `user@host`, as [`super::Owner`] shows it, without making the string.
        let owner = [task.owner.user.as_str(), "@", task.owner.host.as_str()];
        body.extend_from_slice(owner.iter().map(|part| part.len()).sum::<usize>().to_string().as_bytes());
        body.push(b':');
        owner.iter().for_each(|part| body.extend_from_slice(part.as_bytes()));
        for field in [task.branch.as_str(), &worktree, acquiring, &task.locks.len().to_string()] {
            push_field(&mut body, field);
        }
        for lock in &task.locks {
            push_field(&mut body, lock);
        }
        body.push(b'\n');
    }
    let mut out = format!("{MAGIC}\n{}\n{} {:016x}\n", stamp.0, body.len(), checksum(&body)).into_bytes();
    out.extend_from_slice(&body);
    out
}

/// An index read from disk whose stamp and checksum held: its body parses
/// into the [`LockTable`] of the state file it was checked against.
pub struct LockIndex {
    bytes: Vec<u8>,
    body: usize,
}

impl LockIndex {
    /// The index at `path` when it describes the state file whose stamp is
    /// `stamp`, and is whole. `None` otherwise: the caller reads the state.
    pub fn read(path: &Path, stamp: &Stamp) -> Option<LockIndex> {
        let bytes = fs::read(path).ok()?;
        let body = verified_body(&bytes, stamp)?;
        Some(LockIndex { bytes, body })
    }

    /// The run's main branch and task file, read without the tasks; `None`
    /// if the body does not parse.
    pub fn run(&self) -> Option<(Option<&str>, Option<&str>)> {
        let text = std::str::from_utf8(self.bytes.get(self.body..)?).ok()?;
        let mut fields = Fields { rest: text };
        Some((optional(fields.next()?)?, optional(fields.next()?)?))
    }

    /// The table; `None` if the body does not parse (a checksum that held
    /// over bytes that do not parse: some other writer's, never trusted).
    pub fn table(&self) -> Option<LockTable<'_>> {
        LockTable::parse(self.bytes.get(self.body..)?)
    }
}

/// Where the body of `bytes` starts, when the header names `stamp` and the
/// body has the length and checksum the header gives.
fn verified_body(bytes: &[u8], stamp: &Stamp) -> Option<usize> {
    let mut lines = bytes.splitn(4, |b| *b == b'\n');
    if lines.next()? != MAGIC.as_bytes() || lines.next()? != stamp.0.as_bytes() {
        return None;
    }
    let sum = std::str::from_utf8(lines.next()?).ok()?;
    let (len, sum) = sum.split_once(' ')?;
    let (len, sum): (usize, u64) = (len.parse().ok()?, u64::from_str_radix(sum, 16).ok()?);
    let body = bytes.len().checked_sub(len)?;
    (lines.next()?.len() == len && checksum(&bytes[body..]) == sum).then_some(body)
}

/// Whether the index at `path` names the state file whose stamp is
/// `stamp` (its header only: the writer's cheap test of whether to rewrite it).
pub fn is_current(path: &Path, stamp: &Stamp) -> bool {
    let mut head = [0u8; 256];
    let Ok(mut file) = File::open(path) else { return false };
    let Ok(n) = file.read(&mut head) else { return false };
    let mut lines = head[..n].splitn(3, |b| *b == b'\n');
    lines.next() == Some(MAGIC.as_bytes()) && lines.next() == Some(stamp.0.as_bytes())
}

/// Writes the index of `state` (whose file has `stamp`) to `path`, through
/// `temp` and a rename, so a reader sees the old index or the new one.
pub fn write(path: &Path, temp: &Path, state: &State, stamp: &Stamp) -> Result<()> {
    let bytes = encode(state, stamp);
    let written = (|| {
        let mut file = File::create(temp).with_context(|| format!("creating {}", temp.display()))?;
        file.write_all(&bytes).with_context(|| format!("writing {}", temp.display()))?;
        fs::rename(temp, path).with_context(|| format!("renaming {} to {}", temp.display(), path.display()))
    })();
    if written.is_err() {
        let _ = fs::remove_file(temp);
    }
    written
}

/// Removes the index at `path`, if any.
pub fn remove(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing {}", path.display())),
    }
}

/// A 64-bit checksum of `bytes`: catches a damaged or truncated body, not
/// an adversary (who could rewrite the state file as easily).
fn checksum(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    // Four lanes, so the multiplications of neighbouring words overlap.
    let mut lanes = [K, K.rotate_left(16), K.rotate_left(32), K.rotate_left(48)];
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        for (lane, word) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            let word = u64::from_le_bytes(<[u8; 8]>::try_from(word).unwrap_or_default());
            *lane = (*lane ^ word).wrapping_mul(K).rotate_left(31);
        }
    }
    let mut hash = bytes.len() as u64;
    for lane in lanes {
        hash = (hash ^ lane).wrapping_mul(K).rotate_left(27);
    }
    for byte in blocks.remainder() {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(K).rotate_left(5);
    }
    hash ^= hash >> 32;
    hash = hash.wrapping_mul(K);
    hash ^ (hash >> 29)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::state::{ActiveTask, Owner, TaskStatus};

    fn state() -> State {
        let mut state = State {
            main_branch: Some("main".into()),
            tasks_file: Some("specs/1/tasks.md".into()),
            ..State::default()
        };
        for (id, locks, worktree) in [
            ("T1", vec!["src/a.py", "docs/", "src/**/*.rs"], "/w/T1"),
            ("T2", vec![], "/w/odd\nname:12:with colons"),
            ("T3", vec!["a path/with spaces\tand tab", "12:x"], "/w/T3"),
        ] {
            state.tasks.insert(
                id.into(),
                ActiveTask {
                    id: id.into(),
                    branch: format!("par/{id}"),
                    worktree: PathBuf::from(worktree),
                    base: "0".repeat(40),
                    locks: locks.into_iter().map(String::from).collect(),
                    owner: Owner { user: "ana".into(), host: "h:1".into() },
                    started_at: String::new(),
                    state: TaskStatus::Active,
                    blocked_reason: None,
                },
            );
        }
        state.acquiring.insert("T2".into());
        state
    }

    #[test]
    fn an_index_reads_back_as_the_table_of_its_state() {
        let state = state();
        let stamp = Stamp("1 2 3 4.5 6.7".into());
        let bytes = encode(&state, &stamp);
        let body = verified_body(&bytes, &stamp).unwrap();
        assert_eq!(LockTable::parse(&bytes[body..]).unwrap(), LockTable::of(&state));
        let empty = State::default();
        let bytes = encode(&empty, &stamp);
        let body = verified_body(&bytes, &stamp).unwrap();
        assert_eq!(LockTable::parse(&bytes[body..]).unwrap(), LockTable::of(&empty));
    }

    #[test]
    fn another_stamp_or_any_damage_is_refused() {
        let stamp = Stamp("1 2 3 4.5 6.7".into());
        let bytes = encode(&state(), &stamp);
        assert!(verified_body(&bytes, &Stamp("1 2 3 4.5 6.8".into())).is_none());
        assert!(verified_body(&bytes[..bytes.len() - 1], &stamp).is_none());
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x04;
            assert!(verified_body(&damaged, &stamp).is_none(), "a flipped bit at {at} went unnoticed");
        }
    }
}
