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

/// The refusal in an error's chain, if any.
pub fn refusal(err: &anyhow::Error) -> Option<&Refusal> {
    err.chain().find_map(|cause| cause.downcast_ref::<Refusal>())
}

/// The process exit code for an error.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    refusal(err).map_or(Exit::Failed, |r| r.exit) as i32
}
