//! Task logs (`logs/parallel/<ID>.log`) and the blockers file (DESIGN §8).
