//! OTR key management and the data path (v3 spec, "Data Message", "Key Management", "Revealing
//! MAC keys"), with libotr 4.1.1's acceptance and rotation rules.

mod dh_keypair;
pub mod symmetric;

pub use dh_keypair::{DhKeyPair, DH_SECRET_BITS};
