//! liboffrec for the Python wheel: the offrec crate linked into a cdylib, whose exported symbols
//! are the C API's `offrec_*` functions (see Cargo.toml for why this crate exists).

pub use offrec;
