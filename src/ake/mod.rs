//! Authenticated key exchange.
pub mod noise;
