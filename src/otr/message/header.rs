//! The header of every OTR binary message: `00 03 type sender_tag receiver_tag` for v3,
//! `00 02 type` for v2. Routing needs only this, so it parses on its own.

use crate::wire::{InstanceTag, Reader, Writer};

use super::{MessageError, MessageType, OtrVersion};

/// A parsed message header. v2 messages carry no instance tags: both are
/// [`InstanceTag::NONE`] there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Protocol version.
    pub version: OtrVersion,
    /// Message type.
    pub message_type: MessageType,
    /// The sending instance (v3; at least 0x100).
    pub sender_tag: InstanceTag,
    /// The instance the message is for (v3; 0 = any, allowed in a D-H Commit only — routing
    /// decides, the parser accepts it).
    pub receiver_tag: InstanceTag,
}

impl Header {
    /// A header for `version`; the tags are dropped for v2.
    pub fn new(version: OtrVersion, message_type: MessageType, sender: InstanceTag, receiver: InstanceTag) -> Header {
        match version {
            OtrVersion::V2 => {
                Header { version, message_type, sender_tag: InstanceTag::NONE, receiver_tag: InstanceTag::NONE }
            }
            OtrVersion::V3 => Header { version, message_type, sender_tag: sender, receiver_tag: receiver },
        }
    }

    /// Bytes the header takes on the wire.
    pub const fn encoded_len(&self) -> usize {
        match self.version {
            OtrVersion::V2 => 3,
            OtrVersion::V3 => 11,
        }
    }

    /// Writes the header.
    pub fn write(&self, writer: &mut Writer) {
        writer.u16(self.version.wire()).u8(self.message_type.wire());
        if self.version == OtrVersion::V3 {
            writer.u32(self.sender_tag.0).u32(self.receiver_tag.0);
        }
    }

    /// Reads a header, checking the version, the type and (v3) the tags' reserved ranges.
    pub fn read(reader: &mut Reader<'_>) -> Result<Header, MessageError> {
        let version = OtrVersion::from_wire(reader.u16()?).ok_or(MessageError::UnsupportedVersion)?;
        let message_type = MessageType::from_wire(reader.u8()?).ok_or(MessageError::UnknownType)?;
        let (sender_tag, receiver_tag) = match version {
            OtrVersion::V2 => (InstanceTag::NONE, InstanceTag::NONE),
            OtrVersion::V3 => {
                let sender = InstanceTag(reader.u32()?);
                let receiver = InstanceTag(reader.u32()?);
                if !sender.is_valid() {
                    return Err(MessageError::BadSenderTag);
                }
                if !receiver.is_none() && !receiver.is_valid() {
                    return Err(MessageError::BadReceiverTag);
                }
                (sender, receiver)
            }
        };
        Ok(Header { version, message_type, sender_tag, receiver_tag })
    }

    /// Reads a header and checks it is of `expected` type.
    pub(super) fn read_expecting(reader: &mut Reader<'_>, expected: MessageType) -> Result<Header, MessageError> {
        let header = Header::read(reader)?;
        if header.message_type != expected {
            return Err(MessageError::WrongType);
        }
        Ok(header)
    }
}

/// The header of a binary message (version, type, tags), for routing before a full parse.
pub fn parse_header(bytes: &[u8]) -> Result<Header, MessageError> {
    Header::read(&mut Reader::new(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::WireError;

    #[test]
    fn v3_and_v2_headers_round_trip() {
        let v3 = Header::new(OtrVersion::V3, MessageType::DhKey, InstanceTag(0x1234_5678), InstanceTag(0x100));
        let mut writer = Writer::new();
        v3.write(&mut writer);
        let bytes = writer.into_vec();
        assert_eq!(bytes, [0, 3, 0x0a, 0x12, 0x34, 0x56, 0x78, 0, 0, 1, 0]);
        assert_eq!(bytes.len(), v3.encoded_len());
        assert_eq!(parse_header(&bytes).unwrap(), v3);

        let v2 = Header::new(OtrVersion::V2, MessageType::Data, InstanceTag(0x1234_5678), InstanceTag(0x100));
        assert_eq!(v2.sender_tag, InstanceTag::NONE, "v2 has no tags");
        let mut writer = Writer::new();
        v2.write(&mut writer);
        assert_eq!(writer.into_vec(), [0, 2, 3]);
    }

    #[test]
    fn refuses_foreign_versions_types_and_reserved_tags() {
        assert_eq!(parse_header(&[0, 1, 3]), Err(MessageError::UnsupportedVersion));
        assert_eq!(parse_header(&[0, 4, 3]), Err(MessageError::UnsupportedVersion));
        assert_eq!(parse_header(&[0, 3, 0x35]), Err(MessageError::UnknownType));
        assert_eq!(parse_header(&[0, 3, 3, 0, 0, 0, 0xff, 0, 0, 0, 0]), Err(MessageError::BadSenderTag));
        assert_eq!(parse_header(&[0, 3, 3, 0, 0, 1, 0, 0, 0, 0, 0xff]), Err(MessageError::BadReceiverTag));
        assert!(parse_header(&[0, 3, 2, 0, 0, 1, 0, 0, 0, 0, 0]).is_ok(), "receiver 0 parses");
        assert_eq!(parse_header(&[0, 3, 3, 0, 0, 1]), Err(MessageError::Wire(WireError::Truncated)));
    }
}
