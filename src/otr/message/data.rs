//! The data message (OTR v3 spec, "Data Message"): header ‖ flags ‖ sender keyid ‖ recipient
//! keyid ‖ MPI next_dh ‖ CTR(8) ‖ DATA(ciphertext) ‖ MAC(20) ‖ DATA(old MAC keys). The MAC
//! covers everything from the version bytes through DATA(ciphertext), its length included; the
//! revealed old MAC keys after it are not covered.

use crate::otr::mpi;
use crate::wire::{Reader, Writer, MAX_ENCODED_LEN};

use super::{Header, MessageError, MessageType};

/// The longest ciphertext accepted: nothing longer fits in an armoured message we accept.
pub const MAX_CIPHERTEXT_LEN: usize = MAX_ENCODED_LEN;
/// The most old MAC keys one message may reveal. libotr reveals at most four per message (two
/// per key rotation); other implementations may reveal more at once, so the cap is generous.
pub const MAX_REVEALED_MAC_KEYS: usize = 128;
/// Length of a data message MAC (HMAC-SHA1) and of a revealed MAC key.
const MAC_LEN: usize = 20;

/// The fields of a data message, as parsed or before writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataMessageFields {
    /// Version, type, tags.
    pub header: Header,
    /// Flags (see [`super::FLAG_IGNORE_UNREADABLE`]).
    pub flags: u8,
    /// The sender's keyid of the DH key this message was made with.
    pub sender_keyid: u32,
    /// The recipient's keyid of the DH key this message was made with.
    pub recipient_keyid: u32,
    /// The sender's next DH public key (keyid `sender_keyid + 1`), as the MPI's magnitude bytes
    /// exactly as received (leading zeros kept; checked by the data path when it is used).
    pub next_dh: Vec<u8>,
    /// The top half of the AES-CTR counter block.
    pub counter: [u8; 8],
    /// The encrypted plaintext.
    pub ciphertext: Vec<u8>,
}

/// A whole data message: the fields, the MAC, the revealed old MAC keys, and how many leading
/// bytes of the original message the MAC covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataMessage {
    /// Everything the MAC covers.
    pub fields: DataMessageFields,
    /// HMAC-SHA1 over the first [`DataMessage::authenticated_len`] bytes.
    pub mac: [u8; MAC_LEN],
    /// MAC keys the sender no longer uses, published for deniability.
    pub old_mac_keys: Vec<[u8; MAC_LEN]>,
    authenticated_len: usize,
}

impl DataMessageFields {
    /// The bytes the MAC covers: header through DATA(ciphertext). `next_dh` is written minimal.
    pub fn authenticated_bytes(&self) -> Vec<u8> {
        let mut out = self.authenticated_prefix(self.ciphertext.len(), 0);
        out.extend_from_slice(&self.ciphertext);
        out
    }

    /// The authenticated bytes up to the ciphertext's length field for a ciphertext of
    /// `ciphertext_len` bytes (this struct's own ciphertext is ignored), in a buffer with room
    /// for that ciphertext and `spare` more bytes: the sender appends the plaintext and
    /// encrypts it in place, then appends the MAC and the revealed keys, in one buffer.
    pub fn authenticated_prefix(&self, ciphertext_len: usize, spare: usize) -> Vec<u8> {
        DataPrefix {
            header: self.header,
            flags: self.flags,
            sender_keyid: self.sender_keyid,
            recipient_keyid: self.recipient_keyid,
            next_dh: &self.next_dh,
            counter: self.counter,
        }
        .write(ciphertext_len, spare)
    }
}

/// The fields of a data message before its ciphertext, borrowing `next_dh` (the sender's data
/// path writes its current key's encoding, kept once per key, without copying it first).
#[derive(Debug, Clone, Copy)]
pub struct DataPrefix<'a> {
    /// Version, type, tags.
    pub header: Header,
    /// Flags.
    pub flags: u8,
    /// The sender's keyid.
    pub sender_keyid: u32,
    /// The recipient's keyid.
    pub recipient_keyid: u32,
    /// The sender's next DH public key, minimal MPI magnitude.
    pub next_dh: &'a [u8],
    /// The top half of the AES-CTR counter block.
    pub counter: [u8; 8],
}

impl DataPrefix<'_> {
    /// [`DataMessageFields::authenticated_prefix`] of these fields.
    pub fn write(&self, ciphertext_len: usize, spare: usize) -> Vec<u8> {
        Self::write_after(&self.fixed_part(), &self.counter, ciphertext_len, spare)
    }

    /// The bytes before the counter: header, flags, keyids, MPI next_dh. They are the same in
    /// every message a sender sends under one key pair with the same flags, so the sending
    /// data path keeps them instead of writing them per message.
    pub fn fixed_part(&self) -> Vec<u8> {
        let len = self.header.encoded_len() + 1 + 8 + 4 + self.next_dh.len();
        let mut writer = Writer::with_capacity(len);
        self.header.write(&mut writer);
        writer.u8(self.flags).u32(self.sender_keyid).u32(self.recipient_keyid);
        mpi::write(&mut writer, self.next_dh);
        writer.into_vec()
    }

    /// The authenticated bytes up to the ciphertext's length field, from a [`DataPrefix::fixed_part`]
    /// and the counter, in a buffer with room for a ciphertext of `ciphertext_len` bytes and
    /// `spare` more (see [`DataMessageFields::authenticated_prefix`]).
    pub fn write_after(fixed: &[u8], counter: &[u8; 8], ciphertext_len: usize, spare: usize) -> Vec<u8> {
        let capacity = (fixed.len() + 8 + 4).saturating_add(ciphertext_len).saturating_add(spare);
        let mut out = Vec::with_capacity(capacity);
        out.extend_from_slice(fixed);
        let mut rest = [0u8; 12];
        rest[..8].copy_from_slice(counter);
        rest[8..].copy_from_slice(&u32::try_from(ciphertext_len).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(&rest);
        out
    }
}

impl DataMessage {
    /// Appends the MAC and the revealed keys to the authenticated bytes: the whole message.
    pub fn assemble(authenticated: &[u8], mac: &[u8; MAC_LEN], old_mac_keys: &[[u8; MAC_LEN]]) -> Vec<u8> {
        let mut out = Vec::with_capacity(authenticated.len() + Self::tail_len(old_mac_keys.len()));
        out.extend_from_slice(authenticated);
        Self::append_tail(&mut out, mac, old_mac_keys);
        out
    }

    /// The bytes after the authenticated part of a message revealing `reveals` MAC keys.
    pub fn tail_len(reveals: usize) -> usize {
        MAC_LEN + 4 + reveals.saturating_mul(MAC_LEN)
    }

    /// Appends the MAC and the revealed keys to `authenticated` ([`DataMessage::assemble`]
    /// without the copy, for a buffer made by [`DataMessageFields::authenticated_prefix`]).
    pub fn append_tail(authenticated: &mut Vec<u8>, mac: &[u8; MAC_LEN], old_mac_keys: &[[u8; MAC_LEN]]) {
        let reveal_len = old_mac_keys.len() * MAC_LEN;
        authenticated.extend_from_slice(mac);
        authenticated.extend_from_slice(&u32::try_from(reveal_len).unwrap_or(u32::MAX).to_be_bytes());
        for key in old_mac_keys {
            authenticated.extend_from_slice(key);
        }
    }

    /// Parses a whole data message (v2 or v3).
    pub fn parse(bytes: &[u8]) -> Result<DataMessage, MessageError> {
        let view = DataMessageView::parse(bytes)?;
        Ok(DataMessage {
            fields: DataMessageFields {
                header: view.header,
                flags: view.flags,
                sender_keyid: view.sender_keyid,
                recipient_keyid: view.recipient_keyid,
                next_dh: view.next_dh.to_vec(),
                counter: view.counter,
                ciphertext: view.ciphertext.to_vec(),
            },
            mac: view.mac,
            old_mac_keys: view.old_mac_keys(),
            authenticated_len: view.authenticated_len,
        })
    }

    /// How many leading bytes of the parsed message the MAC covers.
    pub fn authenticated_len(&self) -> usize {
        self.authenticated_len
    }

    /// The flags of a data message that may not parse as a whole (libotr reads them to decide
    /// whether to complain about an unreadable message). `None` unless the header is a valid
    /// data message header followed by a flags byte.
    pub fn peek_flags(bytes: &[u8]) -> Option<u8> {
        let mut reader = Reader::new(bytes);
        Header::read_expecting(&mut reader, MessageType::Data).ok()?;
        reader.u8().ok()
    }
}

/// A parsed data message borrowing its variable fields from the message bytes: what the
/// receiving data path reads without copying the next key or the ciphertext first (it copies
/// the ciphertext once, into the buffer it decrypts in place). Checked exactly as
/// [`DataMessage::parse`] checks, which is built on it.
#[derive(Debug, Clone, Copy)]
pub struct DataMessageView<'a> {
    /// Version, type, tags.
    pub header: Header,
    /// Flags.
    pub flags: u8,
    /// The sender's keyid.
    pub sender_keyid: u32,
    /// The recipient's keyid.
    pub recipient_keyid: u32,
    /// The sender's next DH public key, as received.
    pub next_dh: &'a [u8],
    /// The top half of the AES-CTR counter block.
    pub counter: [u8; 8],
    /// The encrypted plaintext.
    pub ciphertext: &'a [u8],
    /// HMAC-SHA1 over `authenticated`.
    pub mac: [u8; MAC_LEN],
    /// The revealed old MAC keys, concatenated (a multiple of 20 bytes, at most
    /// [`MAX_REVEALED_MAC_KEYS`] keys).
    pub revealed: &'a [u8],
    /// The bytes the MAC covers: header through DATA(ciphertext).
    pub authenticated: &'a [u8],
    authenticated_len: usize,
}

impl<'a> DataMessageView<'a> {
    /// Parses a whole data message (v2 or v3). Inlined into the receiving data path, which
    /// reads the view in place (see `DataSession::encrypt_parts`).
    #[inline(always)]
    pub fn parse(bytes: &'a [u8]) -> Result<DataMessageView<'a>, MessageError> {
        let mut reader = Reader::new(bytes);
        let header = Header::read_expecting(&mut reader, MessageType::Data)?;
        let flags = reader.u8()?;
        let sender_keyid = reader.u32()?;
        let recipient_keyid = reader.u32()?;
        let next_dh = mpi::read(&mut reader)?;
        let counter = reader.array::<8>()?;
        let ciphertext = reader.data()?;
        if ciphertext.len() > MAX_CIPHERTEXT_LEN {
            return Err(MessageError::TooLong("ciphertext"));
        }
        let authenticated_len = bytes.len() - reader.remaining();
        let mac = reader.array::<MAC_LEN>()?;
        let revealed = reader.data()?;
        if revealed.len() % MAC_LEN != 0 {
            return Err(MessageError::BadLength("old MAC keys"));
        }
        if revealed.len() / MAC_LEN > MAX_REVEALED_MAC_KEYS {
            return Err(MessageError::TooLong("old MAC keys"));
        }
        reader.finish()?;
        Ok(DataMessageView {
            header,
            flags,
            sender_keyid,
            recipient_keyid,
            next_dh,
            counter,
            ciphertext,
            mac,
            revealed,
            authenticated: bytes.get(..authenticated_len).unwrap_or_default(),
            authenticated_len,
        })
    }

    /// The revealed old MAC keys, one by one.
    pub fn old_mac_keys(&self) -> Vec<[u8; MAC_LEN]> {
        self.revealed.chunks_exact(MAC_LEN).filter_map(|chunk| <[u8; MAC_LEN]>::try_from(chunk).ok()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otr::message::OtrVersion;
    use crate::wire::{InstanceTag, WireError};

    fn fields() -> DataMessageFields {
        DataMessageFields {
            header: Header::new(OtrVersion::V3, MessageType::Data, InstanceTag(0x101), InstanceTag(0x202)),
            flags: 1,
            sender_keyid: 3,
            recipient_keyid: 4,
            next_dh: vec![5; 192],
            counter: [0, 0, 0, 0, 0, 0, 0, 1],
            ciphertext: b"secret".to_vec(),
        }
    }

    #[test]
    fn round_trip_and_authenticated_span() {
        let fields = fields();
        let authenticated = fields.authenticated_bytes();
        let bytes = DataMessage::assemble(&authenticated, &[7; 20], &[[8; 20], [9; 20]]);
        // Sized in advance, exactly: the sending path allocates once per message.
        assert_eq!(bytes.len(), authenticated.len() + DataMessage::tail_len(2));
        assert_eq!(bytes.capacity(), bytes.len());
        let parsed = DataMessage::parse(&bytes).unwrap();
        assert_eq!(parsed.fields, fields);
        assert_eq!(parsed.authenticated_len(), authenticated.len());
        assert_eq!(&bytes[..parsed.authenticated_len()], &authenticated[..]);
        assert_eq!(parsed.mac, [7; 20]);
        assert_eq!(parsed.old_mac_keys, vec![[8; 20], [9; 20]]);
        assert_eq!(DataMessage::peek_flags(&bytes), Some(1));
        assert_eq!(DataMessage::peek_flags(&bytes[..11]), None);
        // The borrowing view reads the same fields, in place.
        let view = DataMessageView::parse(&bytes).unwrap();
        assert_eq!(view.authenticated, &authenticated[..]);
        assert_eq!((view.next_dh, view.ciphertext), (&fields.next_dh[..], &fields.ciphertext[..]));
        assert_eq!((view.flags, view.sender_keyid, view.recipient_keyid), (1, 3, fields.recipient_keyid));
        assert_eq!((view.counter, view.mac, view.old_mac_keys()), (fields.counter, [7; 20], vec![[8; 20], [9; 20]]));
        for cut in [0, 11, authenticated.len(), bytes.len() - 1] {
            assert!(DataMessageView::parse(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn the_prefix_is_the_authenticated_bytes_without_the_ciphertext() {
        let fields = fields();
        let mut built = fields.authenticated_prefix(fields.ciphertext.len(), 20);
        let room = built.capacity();
        built.extend_from_slice(&fields.ciphertext);
        built.extend_from_slice(&[0; 20]);
        assert_eq!(built.capacity(), room, "sized for the ciphertext and the spare bytes");
        assert_eq!(built.len(), room, "and no more");
        let prefix = DataPrefix {
            header: fields.header,
            flags: fields.flags,
            sender_keyid: fields.sender_keyid,
            recipient_keyid: fields.recipient_keyid,
            next_dh: &fields.next_dh,
            counter: fields.counter,
        };
        let fixed = prefix.fixed_part();
        assert_eq!(fixed.capacity(), fixed.len(), "the kept part is sized exactly");
        assert_eq!(&built[..built.len() - 20], &fields.authenticated_bytes()[..]);
        let other = DataMessageFields { ciphertext: Vec::new(), ..fields.clone() };
        assert_eq!(other.authenticated_prefix(6, 0), fields.authenticated_prefix(6, 0));
    }

    #[test]
    fn v2_has_flags_but_no_tags() {
        let mut fields = fields();
        fields.header = Header::new(OtrVersion::V2, MessageType::Data, InstanceTag(0x101), InstanceTag(0x202));
        let bytes = DataMessage::assemble(&fields.authenticated_bytes(), &[0; 20], &[]);
        assert_eq!(&bytes[..4], &[0, 2, 3, 1]);
        assert_eq!(DataMessage::parse(&bytes).unwrap().fields, fields);
    }

    #[test]
    fn refuses_bad_reveals_and_trailing_bytes() {
        let authenticated = fields().authenticated_bytes();
        let mut odd = DataMessage::assemble(&authenticated, &[0; 20], &[]);
        let len = odd.len();
        odd[len - 4..].copy_from_slice(&[0, 0, 0, 19]);
        odd.extend_from_slice(&[0; 19]);
        assert_eq!(DataMessage::parse(&odd), Err(MessageError::BadLength("old MAC keys")));

        let many = vec![[0u8; 20]; MAX_REVEALED_MAC_KEYS + 1];
        let bytes = DataMessage::assemble(&authenticated, &[0; 20], &many);
        assert_eq!(DataMessage::parse(&bytes), Err(MessageError::TooLong("old MAC keys")));
        let max = vec![[0u8; 20]; MAX_REVEALED_MAC_KEYS];
        assert!(DataMessage::parse(&DataMessage::assemble(&authenticated, &[0; 20], &max)).is_ok());

        let sized = |len: usize| {
            let fields = DataMessageFields { ciphertext: vec![0; len], ..fields() };
            DataMessage::assemble(&fields.authenticated_bytes(), &[0; 20], &[])
        };
        assert!(DataMessageView::parse(&sized(MAX_CIPHERTEXT_LEN)).is_ok());
        let over = sized(MAX_CIPHERTEXT_LEN + 1);
        assert_eq!(DataMessageView::parse(&over).err(), Some(MessageError::TooLong("ciphertext")));
        assert_eq!(DataMessage::parse(&over), Err(MessageError::TooLong("ciphertext")));

        let mut trailing = DataMessage::assemble(&authenticated, &[0; 20], &[]);
        trailing.push(0);
        assert_eq!(DataMessage::parse(&trailing), Err(MessageError::Wire(WireError::TrailingBytes)));
    }
}
