//! What a client is allowed and required to do (PROTOCOL.md §Policies). The same flags as
//! OTR, with starting the AKE on an error message off by default (an attacker who can inject an
//! error message must not be able to trigger handshakes and resends).

/// Policy flags. Combine with `|`; presets below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Policy(u32);

impl Policy {
    /// Speak the protocol at all (answer queries, start sessions when asked).
    pub const ALLOW: Policy = Policy(1 << 0);
    /// Never send a message the user typed in the clear.
    pub const REQUIRE_ENCRYPTION: Policy = Policy(1 << 1);
    /// Append the whitespace tag to plaintext to advertise support.
    pub const SEND_WHITESPACE_TAG: Policy = Policy(1 << 2);
    /// Start a handshake when a whitespace-tagged plaintext arrives.
    pub const WHITESPACE_START_AKE: Policy = Policy(1 << 3);
    /// Start a handshake when an error message arrives (off in every preset).
    pub const ERROR_START_AKE: Policy = Policy(1 << 4);

    /// Never encrypt; offrec traffic is reported, never answered.
    pub const NEVER: Policy = Policy(0);
    /// Encrypt only when a user starts a session or the peer asks.
    pub const MANUAL: Policy = Policy::ALLOW;
    /// Advertise with the whitespace tag and encrypt whenever the peer can.
    pub const OPPORTUNISTIC: Policy =
        Policy(Policy::ALLOW.0 | Policy::SEND_WHITESPACE_TAG.0 | Policy::WHITESPACE_START_AKE.0);
    /// Encrypt or do not send.
    pub const ALWAYS: Policy = Policy(Policy::ALLOW.0 | Policy::REQUIRE_ENCRYPTION.0 | Policy::WHITESPACE_START_AKE.0);

    const ALL_BITS: u32 = 0b1_1111;

    /// From raw bits (as the C API passes them); unknown bits are an error.
    pub fn from_bits(bits: u32) -> Option<Policy> {
        (bits & !Self::ALL_BITS == 0).then_some(Policy(bits))
    }

    /// The raw bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: Policy) -> bool {
        self.0 & other.0 == other.0 && (other.0 != 0 || self.0 == 0)
    }

    /// Whether the protocol may be used at all.
    pub fn allows_protocol(self) -> bool {
        self.0 & Self::ALLOW.0 != 0 || self.requires_encryption()
    }

    /// Whether plaintext must never leave.
    pub fn requires_encryption(self) -> bool {
        self.0 & Self::REQUIRE_ENCRYPTION.0 != 0
    }

    /// Whether a flag is set.
    pub fn has(self, flag: Policy) -> bool {
        flag.0 != 0 && self.0 & flag.0 == flag.0
    }
}

impl core::ops::BitOr for Policy {
    type Output = Policy;
    fn bitor(self, rhs: Policy) -> Policy {
        Policy(self.0 | rhs.0)
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::OPPORTUNISTIC
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_unknown_bits() {
        assert!(Policy::ALWAYS.requires_encryption());
        assert!(!Policy::OPPORTUNISTIC.requires_encryption());
        assert!(Policy::OPPORTUNISTIC.has(Policy::SEND_WHITESPACE_TAG));
        for preset in [Policy::NEVER, Policy::MANUAL, Policy::OPPORTUNISTIC, Policy::ALWAYS] {
            assert!(!preset.has(Policy::ERROR_START_AKE), "error-start is opt-in");
        }
        assert!(!Policy::NEVER.allows_protocol());
        assert_eq!(Policy::from_bits(1 << 5), None);
        assert_eq!(Policy::from_bits(3), Some(Policy::ALLOW | Policy::REQUIRE_ENCRYPTION));
    }
}
