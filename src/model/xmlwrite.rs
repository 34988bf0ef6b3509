//! A small escaping XML writer. (Being written.)
