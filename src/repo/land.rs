//! The git side of landing: merges, landing commits, the compare-and-swap of main.
