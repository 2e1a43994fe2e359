//! Worktree and branch creation and removal for tasks.
