//! The operator's workflow: waves, classes, logs, blockers, recommended commands (DESIGN §8).
