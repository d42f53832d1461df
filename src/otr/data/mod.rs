//! OTR key management and the data path (v3 spec, "Data Message", "Key Management", "Revealing
//! MAC keys"), with libotr 4.1.1's acceptance and rotation rules.

mod dh_keypair;
mod error;
mod key_ring;
mod session;
mod session_keys;
pub mod symmetric;

pub use dh_keypair::{DhKeyPair, DH_SECRET_BITS};
pub use error::{DataError, UnreadableReason};
pub use session::{DataSession, Decrypted};
