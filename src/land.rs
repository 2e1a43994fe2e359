//! The merge queue: landing a finished task on the main branch (DESIGN §6).
