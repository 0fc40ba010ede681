//! Charts of a sweep.
