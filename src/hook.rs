//! The pre-commit hook: installing it and checking staged paths against locks (DESIGN §7).
