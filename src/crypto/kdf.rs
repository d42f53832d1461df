//! Every key derivation of the protocol, with its label, in one place (PROTOCOL.md §Key schedule).

use hkdf::Hkdf;
use hmac::{Hmac, HmacReset, KeyInit, Mac};
use sha2::Sha256;

use super::SecretKey;

/// HKDF-SHA256 into a fixed-size output. Lengths here are constants far below HKDF's
/// 255×32-byte limit, so expansion cannot fail; a zero key would be returned if it ever did.
pub fn hkdf<const N: usize>(salt: &[u8], ikm: &[u8], info: &[&[u8]]) -> [u8; N] {
    let mut out = [0u8; N];
    let kdf = Hkdf::<Sha256>::new(Some(salt), ikm);
    if kdf.expand_multi_info(info, &mut out).is_err() {
        out = [0u8; N];
    }
    out
}

/// HMAC-SHA256(key, data).
pub fn hmac_sha256(key: &[u8], data: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so construction cannot fail.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return [0u8; 32];
    };
    for part in data {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The root-key step: (new root key, new chain key) = HKDF(salt = rk, ikm = dh, "offrec1 RK").
pub fn root_step(root_key: &SecretKey, dh_output: &SecretKey) -> (SecretKey, SecretKey) {
    let mut okm: [u8; 64] = hkdf(root_key.expose(), dh_output.expose(), &[b"offrec1 RK"]);
    let (mut rk, mut ck) = ([0u8; 32], [0u8; 32]);
    rk.copy_from_slice(&okm[..32]);
    ck.copy_from_slice(&okm[32..]);
    zeroize::Zeroize::zeroize(&mut okm);
    (SecretKey::from_bytes(rk), SecretKey::from_bytes(ck))
}

/// What one step of a symmetric chain yields.
pub struct ChainStep {
    /// The chain key this step started from (kept to derive the message's extra key seed on
    /// demand, and as the compact form of a skipped key).
    pub chain_key: SecretKey,
    /// The next chain key.
    pub next_chain_key: SecretKey,
    /// This message's AES-256-GCM key.
    pub message_key: SecretKey,
}

fn keyed_hmac(key: &[u8; 32]) -> Option<Hmac<Sha256>> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).ok()
}

/// HMAC(key, label) from the keyed state, written into `out` (no intermediate copies of the
/// state or the output).
fn finish_into(mut mac: Hmac<Sha256>, label: u8, out: &mut [u8; 32]) {
    mac.update(&[label]);
    hmac::digest::FixedOutput::finalize_into(mac, out.into());
}

fn finish(mac: Option<Hmac<Sha256>>, label: u8) -> SecretKey {
    let mut out = [0u8; 32];
    if let Some(mac) = mac {
        finish_into(mac, label, &mut out);
    }
    SecretKey::from_bytes(out)
}

/// The two outputs of one chain step from `chain_key`: (message key K = HMAC(ck, 0x01), next
/// chain key ck' = HMAC(ck, 0x02)). The HMAC key schedule is computed once for both: one
/// resettable state, finalised twice by reference (cloning the keyed state and moving it into
/// each finalisation cost two ~200-byte copies per step, every message on both sides). Its keyed
/// states are wiped on drop; the outputs are written straight into their keys (no stack copies).
pub fn chain_outputs(chain_key: &SecretKey) -> (SecretKey, SecretKey) {
    use hmac::digest::FixedOutputReset;
    let mut message_key = SecretKey::from_bytes([0u8; 32]);
    let mut next_chain_key = SecretKey::from_bytes([0u8; 32]);
    if let Ok(mut mac) = <HmacReset<Sha256> as KeyInit>::new_from_slice(chain_key.expose()) {
        mac.update(&[0x01]);
        FixedOutputReset::finalize_into_reset(&mut mac, message_key.expose_mut().into());
        mac.update(&[0x02]);
        FixedOutputReset::finalize_into_reset(&mut mac, next_chain_key.expose_mut().into());
    }
    (message_key, next_chain_key)
}

impl ChainStep {
    /// The step that starts at `chain_key`, which it keeps (taken, not copied).
    pub fn of(chain_key: SecretKey) -> Self {
        let (message_key, next_chain_key) = chain_outputs(&chain_key);
        Self { chain_key, next_chain_key, message_key }
    }
}

/// One chain step ([`chain_outputs`]), keeping a copy of the chain key it started from.
pub fn chain_step(chain_key: &SecretKey) -> ChainStep {
    ChainStep::of(chain_key.clone())
}

/// The next chain key alone, for stepping over skipped messages.
pub fn next_chain_key(chain_key: &SecretKey) -> SecretKey {
    finish(keyed_hmac(chain_key.expose()), 0x02)
}

/// The message key of the step that starts at `chain_key`.
pub fn message_key(chain_key: &SecretKey) -> SecretKey {
    finish(keyed_hmac(chain_key.expose()), 0x01)
}

/// The seed of a message's extra symmetric keys: HMAC(ck, 0x03), derived only when used.
pub fn extra_key_seed(chain_key: &SecretKey) -> SecretKey {
    finish(keyed_hmac(chain_key.expose()), 0x03)
}

/// An extra symmetric key for the application: HKDF(0³², seed, "offrec1 ESK" ‖ usage(4)).
/// `usage` separates independent uses (file transfer, voice...), as in OTR.
pub fn extra_symmetric_key(seed: &SecretKey, usage: u32) -> SecretKey {
    SecretKey::from_bytes(hkdf(&[0u8; 32], seed.expose(), &[b"offrec1 ESK", &usage.to_be_bytes()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_outputs_are_distinct_and_labelled() {
        let ck = SecretKey::from_bytes([7; 32]);
        let step = chain_step(&ck);
        let seed = extra_key_seed(&ck);
        assert_ne!(step.next_chain_key, step.message_key);
        assert_ne!(step.next_chain_key, seed);
        assert_ne!(step.message_key, seed);
        assert_ne!(step.next_chain_key, ck);
        assert_eq!(step.message_key, message_key(&ck));
        assert_eq!(step.next_chain_key, next_chain_key(&ck));
        assert_eq!(step.chain_key, ck);
        assert_eq!(chain_outputs(&ck), (message_key(&ck), next_chain_key(&ck)));
        assert_eq!(step.message_key, SecretKey::from_bytes(hmac_sha256(&[7; 32], &[&[0x01]])));
        let esk1 = extra_symmetric_key(&seed, 1);
        let esk2 = extra_symmetric_key(&seed, 2);
        assert_ne!(esk1, esk2);
    }

    #[test]
    fn root_step_depends_on_both_inputs() {
        let rk = SecretKey::from_bytes([1; 32]);
        let (a, ca) = root_step(&rk, &SecretKey::from_bytes([2; 32]));
        let (b, cb) = root_step(&rk, &SecretKey::from_bytes([3; 32]));
        let (c, _) = root_step(&SecretKey::from_bytes([4; 32]), &SecretKey::from_bytes([2; 32]));
        assert_ne!(a, b);
        assert_ne!(ca, cb);
        assert_ne!(a, c);
        assert_ne!(a, ca);
    }
}
