//! The fuzz targets' checks. The properties themselves live next to the
//! code they test, in files `cargo test` runs as proptests; they are
//! included here so the fuzzers and the tests check exactly the same thing.

// The included files name the library's modules as `crate::tasks` and
// `crate::locks`; these imports make those paths resolve here too.
use git_par::{locks, tasks};

#[path = "../../src/locks/proptests.rs"]
mod locks_properties;
#[path = "../../src/tasks/proptests.rs"]
mod tasks_properties;

/// The parser on arbitrary bytes. Invalid UTF-8 never reaches it: the
/// caller, `tasks::discover::read_text`, refuses such a file.
pub fn check_parse(bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        tasks_properties::check_parse(text);
    }
}

/// The editor on `text`, then a NUL byte and the result text (a usual
/// result when there is no NUL).
pub fn check_edit(bytes: &[u8]) {
    let (text, result) = match bytes.iter().position(|&b| b == 0) {
        Some(at) => (&bytes[..at], &bytes[at + 1..]),
        None => (bytes, "merged 3f2a1c9 (2 commits, 3 files) · logs/parallel/T004.log".as_bytes()),
    };
    if let (Ok(text), Ok(result)) = (std::str::from_utf8(text), std::str::from_utf8(result)) {
        tasks_properties::check_edits(text, result);
    }
}

/// Lock patterns: two pattern texts and a path, one per line.
pub fn check_locks(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let mut parts = text.splitn(3, '\n');
    let (a, b, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    locks_properties::check_patterns(a, b, path);
}
