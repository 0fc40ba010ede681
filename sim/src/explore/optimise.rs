//! Policy search.
