//! A ratchet's state as bytes, for storing live sessions (STORAGE.md). Everything read back is
//! checked against the same caps as live traffic: a tampered store cannot make us hold more
//! than the protocol ever would.

use super::chain::{ReceivingChain, SendingChain};
use super::double_ratchet::Ratchet;
use super::pending_reveals::{PendingReveals, MAX_INHERITED_REVEALS};
use super::skipped_keys::{SkippedKey, SkippedKeys, MAX_STORED_SKIPPED_KEYS};
use crate::crypto::aead::RevealedMaterial;
use crate::crypto::{DhKeyPair, SecretKey};
use crate::wire::{Reader, WireError, Writer};

/// Upper bound of [`Ratchet::write_state`]'s output, for reserving buffers.
pub fn max_state_len(ratchet: &Ratchet) -> usize {
    200 + ratchet.skipped.len() * 88 + ratchet.pending_reveals.len() * 32
}

fn key(r: &mut Reader<'_>) -> Result<SecretKey, WireError> {
    r.array::<32>().map(SecretKey::from_bytes)
}

impl Ratchet {
    /// Appends this state to `w`.
    pub fn write_state(&self, w: &mut Writer) {
        // A deferred step is written as taken: the store holds what an eager state would.
        let (root_key, sending_chain_key) =
            self.settled_keys().unwrap_or_else(|_| (self.root_key.clone(), self.sending.chain_key.clone()));
        w.bytes(root_key.expose());
        w.bytes(self.sending.key_pair.secret_bytes().expose());
        w.bytes(sending_chain_key.expose()).u32(self.sending.next_number);
        match &self.receiving {
            Some(chain) => {
                w.u8(1).bytes(&chain.their_key).bytes(chain.chain_key.expose()).u32(chain.next_number);
            }
            None => {
                w.u8(0);
            }
        }
        w.u32(self.previous_chain_length).u64(self.receiving_dh_steps);
        w.u32(self.skipped.len() as u32);
        for k in self.skipped.iter() {
            w.bytes(&k.their_key).u32(k.number).bytes(k.chain_key.expose());
            w.u64(k.dh_step).u64(k.stored_at);
        }
        w.u32(self.pending_reveals.len() as u32);
        for material in self.pending_reveals.iter() {
            w.bytes(&material.to_bytes());
        }
    }

    /// Reads a state written by [`Ratchet::write_state`].
    pub fn read_state(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let root_key = key(r)?;
        let key_pair = DhKeyPair::from_secret_bytes(r.array::<32>()?);
        let sending = SendingChain { key_pair, chain_key: key(r)?, next_number: r.u32()? };
        let receiving = match r.u8()? {
            0 => None,
            1 => Some(ReceivingChain { their_key: r.array()?, chain_key: key(r)?, next_number: r.u32()? }),
            _ => return Err(WireError::Invalid("ratchet receiving-chain flag")),
        };
        let previous_chain_length = r.u32()?;
        let receiving_dh_steps = r.u64()?;
        let skipped_count = r.u32()? as usize;
        if skipped_count > MAX_STORED_SKIPPED_KEYS {
            return Err(WireError::TooLarge);
        }
        let mut skipped = SkippedKeys::default();
        for _ in 0..skipped_count {
            skipped.insert(SkippedKey {
                their_key: r.array()?,
                number: r.u32()?,
                chain_key: key(r)?,
                dh_step: r.u64()?,
                stored_at: r.u64()?,
            });
        }
        let reveal_count = r.u32()? as usize;
        // A refreshed session may hold what it inherited past the usual cap.
        if reveal_count > MAX_INHERITED_REVEALS {
            return Err(WireError::TooLarge);
        }
        let mut pending_reveals = PendingReveals::default();
        for _ in 0..reveal_count {
            pending_reveals.push_uncapped(RevealedMaterial::from_bytes(&r.array()?));
        }
        Ok(Ratchet {
            root_key,
            sending,
            receiving,
            previous_chain_length,
            skipped,
            receiving_dh_steps,
            pending_reveals,
            discarded: None,
            sending_deferred: false,
        })
    }
}
