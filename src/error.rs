//! Errors that decide the exit code and carry hints.
//!
//! Everything is an `anyhow::Error`; a [`Refusal`] somewhere in its chain
//! decides the exit code (DESIGN §2) and carries the `hint:` lines. An error
//! with no refusal in it is a failure (exit 1).

use std::fmt;

/// The exit codes of DESIGN §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Refused or failed: a human should look.
    Failed = 1,
    /// The command line itself was wrong.
    Usage = 2,
    /// Another task holds what we need; retrying later may succeed.
    Busy = 3,
}

/// An error the user can act on: what was refused, why, and how to get past it.
#[derive(Debug)]
pub struct Refusal {
    pub exit: Exit,
    pub message: String,
    pub hints: Vec<String>,
}

impl Refusal {
    /// A refusal or failure (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Refusal { exit: Exit::Failed, message: message.into(), hints: Vec::new() }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Refusal { exit: Exit::Usage, message: message.into(), hints: Vec::new() }
    }

    /// Busy: a lock or the merge queue is held by someone else (exit 3).
    pub fn busy(message: impl Into<String>) -> Self {
        Refusal { exit: Exit::Busy, message: message.into(), hints: Vec::new() }
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

/// Shorthand for `Err(Refusal::failed(..).into())` in functions returning anyhow.
#[macro_export]
macro_rules! refuse {
    ($($arg:tt)*) => {
        return Err($crate::error::Refusal::failed(format!($($arg)*)).into())
    };
}

/// A child process's exit status that git-par exits with (`git par run`):
/// not git-par's own failure, so it is not printed as an error.
#[derive(Debug)]
pub struct ChildExit(pub i32);

impl fmt::Display for ChildExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the command exited with status {}", self.0)
    }
}

impl std::error::Error for ChildExit {}

/// The refusal in an error's chain, if any: as the error itself, as context
/// added to a lower-level error, or as the source of another error.
pub fn refusal(err: &anyhow::Error) -> Option<&Refusal> {
    err.downcast_ref::<Refusal>().or_else(|| err.chain().find_map(|cause| cause.downcast_ref::<Refusal>()))
}

/// The process exit code for an error.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    if let Some(ChildExit(code)) = err.downcast_ref::<ChildExit>() {
        return *code;
    }
    refusal(err).map_or(Exit::Failed, |r| r.exit) as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn a_refusal_is_found_as_error_context_or_cause() {
        let plain: anyhow::Error = Refusal::busy("held").into();
        assert_eq!(exit_code(&plain), 3);

        let as_context = anyhow::Error::new(std::io::Error::other("low level"))
            .context(Refusal::usage("bad flag").hint("use --x"));
        assert_eq!(exit_code(&as_context), 2);
        assert_eq!(as_context.to_string(), "bad flag");
        assert_eq!(refusal(&as_context).map(|r| r.hints.clone()), Some(vec!["use --x".to_string()]));

        let wrapped = Err::<(), _>(as_context).context("while starting T004").unwrap_err();
        assert_eq!(exit_code(&wrapped), 2);

        let foreign = anyhow::anyhow!("no refusal here");
        assert_eq!(exit_code(&foreign), 1);
        assert!(refusal(&foreign).is_none());
    }
}
