//! The integration tests: one binary, one module per verb, each running the
//! real `git-par` in temporary repositories.

mod common;

mod abort;
mod batch;
mod block;
mod check;
mod completions;
mod conventions;
mod corpus;
mod demo;
mod deps;
mod discovery;
mod doctor;
mod finish;
mod finish_inside;
mod guarantees;
mod history;
mod hook;
mod lint;
mod list;
mod lock;
mod lock_index;
mod lock_status;
mod man;
mod paths;
mod plan;
mod prepare;
mod race;
mod readme;
mod remote;
mod run;
mod start;
mod tmux;
mod torture;
mod train;
mod up;
