//! OTR's text layer (design brief §1.3, §1.9, §1.10, §4.3): everything OTR sends as text —
//! queries, whitespace tags, encoded messages, error messages, fragments — and the one
//! classification that tells them from offrec's own messages. libotr 4.1.1's behaviour is the
//! reference; where we are stricter (caps, piece alphabet, padding) the module says so.
//!
//! Everything here is unauthenticated attacker input: no parser panics, every scan and every
//! buffer is capped.

pub mod advertise;
pub mod armour;
pub mod classify;
pub mod error;
pub mod fragment;
pub mod query;
pub mod reassembler;
pub mod text_error;
pub mod versions;
pub mod whitespace;

pub use advertise::{append_combined_tag, combined_query};
pub use classify::{classify, Classified, OtrIncoming};
pub use fragment::{parse_fragment, parse_fragment_for, split, OtrFragment};
pub use query::{encode_otr_query, parse_otr_query};
pub use reassembler::OtrReassembler;
pub use text_error::TextError;
pub use versions::{OtrVersion, OtrVersions};
