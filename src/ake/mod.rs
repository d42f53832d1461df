//! The deniable authenticated key exchange: Noise XX (`noise`) inside our framing (`message`),
//! driven by `handshake`.
pub mod handshake;
pub mod message;
pub mod noise;

pub use handshake::{phi_commitment, AkeConfig, AkeError, Established, Initiator, Responder, PHI_COMMITMENT_LEN};
pub use message::{AkeKind, AkeMessage};
