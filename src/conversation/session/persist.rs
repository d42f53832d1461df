//! A session's stored state (STORAGE.md §State), written and read beside its private fields;
//! its ratchet writes its own (`ratchet/persist.rs`). A session read back is restored: it
//! carries no traffic and is restarted (STORAGE.md §5.1).

use super::{SentLog, Session, SENT_LOG_LEN};
use crate::conversation::persist::{read_count, read_flag, StateError};
use crate::ratchet::{max_state_len, Ratchet};
use crate::wire::{Reader, Writer};

impl Session {
    pub(in crate::conversation) fn max_state_len(&self) -> usize {
        160 + 20 * SENT_LOG_LEN + max_state_len(&self.ratchet)
    }

    pub(in crate::conversation) fn write_state(&self, w: &mut Writer) {
        w.u32(self.their_tag).bytes(&self.ssid).bytes(&self.their_fingerprint);
        w.u8(u8::from(self.we_initiated)).u8(u8::from(self.finished));
        w.u64(self.last_received).u64(self.last_sent);
        w.u8(u8::from(self.unanswered_since.is_some())).u64(self.unanswered_since.unwrap_or(0));
        w.u32(self.smp_limit.failures());
        self.sent_log.write_state(w);
        // A stored session is only ever loaded as restored, whose keys are wiped at once: write
        // it already retired, so no store on disk holds a key that could decrypt a message.
        let mut retired = self.ratchet.clone();
        retired.retire();
        retired.write_state(w);
    }

    /// Reads a session written by [`Session::write_state`]: it comes back
    /// restored (it carries no traffic, and its ratchet is retired).
    pub(in crate::conversation) fn read_state(
        r: &mut Reader<'_>,
        our_fingerprint: [u8; 32],
    ) -> Result<Session, StateError> {
        let their_tag = r.u32()?;
        let ssid = r.array::<32>()?;
        let their_fingerprint = r.array::<32>()?;
        let we_initiated = read_flag(r)?;
        let finished = read_flag(r)?;
        let last_received = r.u64()?;
        let last_sent = r.u64()?;
        let has_unanswered = read_flag(r)?;
        let unanswered = r.u64()?;
        let smp_failures = r.u32()?;
        let sent_log = SentLog::read_state(r)?;
        let mut ratchet = Ratchet::read_state(r)?;
        // Never used again: keep only what it still has to reveal.
        ratchet.retire();
        Ok(Session {
            their_tag,
            ratchet,
            ssid,
            their_fingerprint,
            we_initiated,
            finished,
            last_received,
            last_sent,
            last_text_received: last_received,
            unanswered_since: has_unanswered.then_some(unanswered),
            smp: None,
            our_fingerprint,
            smp_limit: super::SmpLimit::with_failures(smp_failures),
            sent_log,
            restored: true,
            link_claimed: false,
        })
    }
}

impl SentLog {
    pub(super) fn write_state(&self, w: &mut Writer) {
        let sent: Vec<_> = self.entries().collect();
        w.u32(sent.len() as u32);
        for (prefix, number, id) in sent {
            w.bytes(prefix).u32(*number).u64(*id);
        }
    }

    pub(super) fn read_state(r: &mut Reader<'_>) -> Result<SentLog, StateError> {
        let mut log = SentLog::default();
        for _ in 0..read_count(r, SENT_LOG_LEN, "sent-log length")? {
            let prefix = r.array::<8>()?;
            log.push(prefix, r.u32()?, r.u64()?);
        }
        Ok(log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ake::Established;
    use crate::crypto::{DeterministicRandom, DhKeyPair, SecretKey};
    use crate::wire::data_message::DataMessage;

    #[test]
    fn a_stored_session_holds_no_key_that_decrypts_a_message() {
        let mut rng = DeterministicRandom::from_label("stored keys");
        let theirs = DhKeyPair::generate(&mut rng).unwrap();
        let root = SecretKey::from_bytes([3; 32]);
        let mut sender = Ratchet::new_initiator(root.clone(), SecretKey::from_bytes([0xC4; 32]), theirs.clone());
        let receiver =
            Ratchet::new_responder(root, SecretKey::from_bytes([0xC4; 32]), theirs.public(), &mut rng).unwrap();
        let in_flight = DataMessage::parse(&sender.encrypt(1, 2, 0, b"in flight").unwrap().bytes).unwrap();
        assert!(receiver.clone().decrypt(&in_flight, 0, &mut rng).is_ok(), "the live session could read it");
        let established = Established {
            ratchet: receiver,
            ssid: [1; 32],
            their_identity: [2; 32],
            their_tag: 0x100,
            version: 1,
            we_initiated: false,
        };
        let session = Session::new(established, [4; 32], 0);
        let mut w = Writer::new();
        session.write_state(&mut w);
        let bytes = w.into_vec();
        // Read the stored ratchet back without the load's retire: it must read nothing.
        let mut r = Reader::new(&bytes);
        r.u32().unwrap();
        r.array::<32>().unwrap();
        r.array::<32>().unwrap();
        for _ in 0..2 {
            r.u8().unwrap();
        }
        r.u64().unwrap();
        r.u64().unwrap();
        r.u8().unwrap();
        r.u64().unwrap();
        r.u32().unwrap();
        SentLog::read_state(&mut r).unwrap();
        let mut stored = Ratchet::read_state(&mut r).unwrap();
        assert!(stored.decrypt(&in_flight, 0, &mut rng).is_err(), "the store held a usable key");
    }
}
