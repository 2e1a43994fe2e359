//! Dependencies: explicit notations, phase order and `[P]` groups (DESIGN §3).

use super::{Options, TaskFile};

/// Fills every task's `deps`; fails on duplicate IDs and on cycles, naming them.
pub fn resolve(_file: &mut TaskFile, _text: &str, _options: &Options) -> anyhow::Result<()> {
    Ok(())
}
