//! The library's errors are typed, one enum per area (`LandError`,
//! `StartError`, `TaskFileError`...): a caller branches on them, and the
//! command layer turns them into `error:`/`hint:` lines and exit codes.
//!
//! [`Refusal`] is what is left of the message-with-hints error the whole
//! library used before: only the dependency check of `tasks/deps.rs` still
//! builds one (a cycle), until it gets its own typed error. The command
//! layer reads it like the typed ones (exit 1, its hints as written).

use std::fmt;

/// A message with the `hint:` lines that lead out of it.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub message: String,
    pub hints: Vec<String>,
}

impl Refusal {
    /// A refusal (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Refusal { message: message.into(), hints: Vec::new() }
    }

    /// Adds a `hint:` line that names the way out.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refusal {}

/// The refusal in an error's chain, if any: as the error itself, as context
/// added to a lower-level error, or as the source of another error.
pub fn refusal(err: &anyhow::Error) -> Option<&Refusal> {
    err.downcast_ref::<Refusal>().or_else(|| err.chain().find_map(|cause| cause.downcast_ref::<Refusal>()))
}
