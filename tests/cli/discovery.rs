//! Task-file discovery (DESIGN §3).
