//! Thin, typed wrappers over the cryptographic crates. Nothing here implements a primitive; it
//! only fixes how the protocol uses them (key types that zeroize, labelled KDFs, one AEAD).
pub mod random;
