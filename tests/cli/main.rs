//! The integration tests: one binary, one module per verb, each running the
//! real `git-par` in temporary repositories.

mod common;

mod conventions;
mod discovery;
