//! Lossless edits of tasks.md: tick a task, add or replace its result line.
