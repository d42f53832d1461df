//! The C ABI: the only module of the crate with `unsafe` code.
//!
//! Everything here is exported through cbindgen into `include/offrec.h`. The engine below
//! (`wire`, `ake`, `ratchet`, `smp`, `conversation`) is safe Rust and knows nothing of C; this
//! layer converts between C pointers and Rust values and nothing else, and wraps the one
//! foreign library the engine calls (`simdutf_base64`: simdutf's base64 for the armours).
//!
//! # Conventions (the contract is SECURITY.md §9; each exported function documents its part)
//!
//! * **Names.** Opaque types are `offrec_<object>`, functions `offrec_<object>_<verb>` with the
//!   handle first; a `const` handle means the call does not change it. Enum constants are
//!   `OFFREC_<ENUM>_<VARIANT>`.
//! * **Results.** Every fallible call returns an [`result::OffrecResult`] (`offrec_result` in C).
//!   Numbers are stable and never reused; outputs are written only on success.
//! * **Pointers.** An opaque pointer becomes a Rust reference only through `handle`; a
//!   `(ptr, len)` pair becomes a slice only through [`bytes`]; an out-pointer is written only
//!   through `out`. No other file casts raw pointers.
//!
//! # Thread rules
//!
//! Every handle type documents its own thread rules in its C doc comment. The goal, and the
//! default unless a handle's documentation says otherwise, is that a handle may be used from many
//! threads at once: the Rust type behind it is `Send + Sync` (internal locking), which the
//! `handle::Handle` trait enforces at compile time. Freeing a handle while another thread is
//! still using it is the caller's bug, as in any C library. Plain data structs (such as
//! `offrec_buffer`) have no internal locking: they belong to whoever holds them. No function
//! keeps a thread-local "last error"; a result code and its message are all there is.
//!
//! # The panic boundary
//!
//! Every `extern "C"` body runs inside [`panic::catch`] or [`panic::catch_result`]
//! (`std::panic::catch_unwind`). A panic never unwinds into C: it is turned into
//! `OFFREC_RESULT_PANIC`, or NULL / 0 / false for functions that return those. The release
//! profile keeps `panic = "unwind"` for this reason. After a panic the library is still usable,
//! but the handle that was in use may be in an unspecified (memory-safe) state; callers should
//! free it. Callbacks into C are invoked through the same rule in reverse: C code must not unwind
//! (longjmp, C++ exceptions) through a callback frame.

// The pointer helpers (`handle`, `out`, and the helper functions in `bytes`) are crate-private:
// they would be unsound as safe public Rust API. `bytes` itself is public for `offrec_buffer`
// and `offrec_buffer_free`. The per-object files (client, callbacks, event, trust, smp, forge,
// types, tlv, inplace) hold the exported functions, one concept per file.
pub mod bytes;
pub mod callbacks;
pub mod classify;
pub mod client;
pub mod event;
pub mod forge;
pub(crate) mod handle;
pub mod inplace;
pub mod migrate;
pub mod names;
pub mod otr;
pub(crate) mod out;
pub mod panic;
pub mod peer_policy;
pub mod peers;
pub mod result;
pub(crate) mod simdutf_base64;
pub mod smp;
pub mod store;
#[cfg(feature = "test-hooks")]
pub mod test_hooks_otr;
pub mod texts;
pub mod tlv;
pub mod trust;
pub mod types;
pub mod version;

pub use bytes::offrec_buffer;
pub use callbacks::OffrecCallbacks;
pub use event::{OffrecEvent, OffrecEventCode, OffrecPersistFlag};
pub use result::OffrecResult;
pub use types::{
    OffrecNotSentReason, OffrecOption, OffrecSecurity, OffrecSessionInfo, OffrecSessionState, OffrecTrust,
};
