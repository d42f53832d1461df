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
    /// Speak OTR v3 with peers that do not offer offrec (libotr, Pidgin, Adium, irssi-otr...).
    pub const ALLOW_OTR_V3: Policy = Policy(1 << 5);
    /// Speak OTR v2 with peers that offer nothing newer (python-potr: weechat-otr, Gajim).
    pub const ALLOW_OTR_V2: Policy = Policy(1 << 6);
    /// Inside OTR v3 sessions, announce offrec and upgrade to the modern protocol when the
    /// peer announces it too (PROTOCOL.md part B, "Negotiation and downgrade").
    pub const DOWNGRADE_GUARD: Policy = Policy(1 << 7);
    /// Never speak OTR: the strict opt-out for users who need the modern protocol's strength.
    /// Overrides `ALLOW_OTR_V3` and `ALLOW_OTR_V2`.
    pub const REQUIRE_MODERN: Policy = Policy(1 << 8);
    /// What every preset that encrypts adds, as libotr's presets allow v2 and v3.
    const OTR_FALLBACK: u32 = (1 << 5) | (1 << 6) | (1 << 7);

    /// Never encrypt; offrec traffic is reported, never answered.
    pub const NEVER: Policy = Policy(0);
    /// Encrypt only when a user starts a session or the peer asks (OTR v3/v2 as fallback).
    pub const MANUAL: Policy = Policy(Policy::ALLOW.0 | Policy::OTR_FALLBACK);
    /// Advertise with the whitespace tag and encrypt whenever the peer can (OTR v3/v2 as
    /// fallback).
    pub const OPPORTUNISTIC: Policy =
        Policy(Policy::ALLOW.0 | Policy::SEND_WHITESPACE_TAG.0 | Policy::WHITESPACE_START_AKE.0 | Policy::OTR_FALLBACK);
    /// Encrypt or do not send (OTR v3/v2 as fallback).
    pub const ALWAYS: Policy =
        Policy(Policy::ALLOW.0 | Policy::REQUIRE_ENCRYPTION.0 | Policy::WHITESPACE_START_AKE.0 | Policy::OTR_FALLBACK);

    const ALL_BITS: u32 = 0b1_1111_1111;

    /// From raw bits (as the C API passes them); unknown bits are an error.
    pub fn from_bits(bits: u32) -> Option<Policy> {
        (bits & !Self::ALL_BITS == 0).then_some(Policy(bits))
    }

    /// Both policies' flags (`|` in constant expressions).
    pub const fn union(self, other: Policy) -> Policy {
        Policy(self.0 | other.0)
    }

    /// The raw bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Whether every flag of `other` is set; `contains(Policy::NEVER)` holds only for `NEVER`
    /// itself (an encrypting policy does not "contain" never encrypting).
    pub fn contains(self, other: Policy) -> bool {
        self.0 & other.0 == other.0 && (other.0 != 0 || self.0 == 0)
    }

    /// Whether the protocol may be used at all.
    pub fn allows_protocol(self) -> bool {
        self.0 & Self::ALLOW.0 != 0 || self.requires_encryption()
    }

    /// The OTR versions this policy speaks: none under `REQUIRE_MODERN` or without the
    /// protocol at all.
    pub fn otr_versions(self) -> crate::otr::text::OtrVersions {
        use crate::otr::text::OtrVersions;
        if !self.allows_protocol() || self.has(Policy::REQUIRE_MODERN) {
            return OtrVersions::empty();
        }
        let mut bits = 0;
        if self.has(Policy::ALLOW_OTR_V3) {
            bits |= OtrVersions::V3.bits();
        }
        if self.has(Policy::ALLOW_OTR_V2) {
            bits |= OtrVersions::V2.bits();
        }
        OtrVersions::from_bits(bits)
    }

    /// Whether this policy speaks any OTR version.
    pub fn speaks_otr(self) -> bool {
        !self.otr_versions().is_empty()
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
        assert_eq!(Policy::from_bits(1 << 9), None);
        for preset in [Policy::MANUAL, Policy::OPPORTUNISTIC, Policy::ALWAYS] {
            assert!(preset.speaks_otr() && preset.has(Policy::DOWNGRADE_GUARD), "libotr's presets allow v2 and v3");
            assert!(!(preset | Policy::REQUIRE_MODERN).speaks_otr(), "the strict opt-out wins");
        }
        assert!(!Policy::NEVER.speaks_otr());
        assert!(!Policy::ALLOW_OTR_V3.speaks_otr(), "OTR needs the protocol allowed at all");
        assert_eq!(Policy::from_bits(3), Some(Policy::ALLOW | Policy::REQUIRE_ENCRYPTION));
    }

    #[test]
    fn union_is_the_constant_form_of_or() {
        const STRICT: Policy = Policy::ALWAYS.union(Policy::REQUIRE_MODERN);
        assert_eq!(STRICT, Policy::ALWAYS | Policy::REQUIRE_MODERN);
        assert!(STRICT.has(Policy::REQUIRE_MODERN) && STRICT.requires_encryption());
        // A flag already set stays set (not toggled off), with either form.
        assert_eq!(Policy::ALWAYS.union(Policy::REQUIRE_ENCRYPTION), Policy::ALWAYS);
        assert_eq!(Policy::ALWAYS | Policy::REQUIRE_ENCRYPTION, Policy::ALWAYS);
    }

    #[test]
    fn contains_needs_every_flag_and_never_only_in_never() {
        assert!(Policy::ALWAYS.contains(Policy::ALLOW | Policy::REQUIRE_ENCRYPTION));
        assert!(Policy::ALWAYS.contains(Policy::ALWAYS));
        assert!(!Policy::OPPORTUNISTIC.contains(Policy::ALWAYS), "one flag missing");
        assert!(!Policy::MANUAL.contains(Policy::REQUIRE_MODERN));
        assert!(Policy::NEVER.contains(Policy::NEVER));
        assert!(!Policy::ALWAYS.contains(Policy::NEVER));
    }
}
