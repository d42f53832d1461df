//! OTR's MPI field: a 4-byte big-endian length, then the magnitude, big-endian. We write the
//! minimal form (no leading zero byte, as libotr's `GCRYMPI_FMT_USG` does; a value with a
//! leading zero byte is one byte shorter, about 1 time in 256, so no length is ever assumed).
//! We read leading zeros leniently, as libotr does, but cap the length: no field may make us
//! allocate or compute on more than [`MAX_MPI_LEN`] bytes.

use crate::wire::{Reader, WireError, Writer};

use super::group::{Element, Exponent, GroupError};

/// The longest MPI we accept: a 1536-bit value with generous room for leading zeros. Nothing
/// OTR sends is longer (group elements are 192 bytes, DSA-1024 parameters 128).
pub const MAX_MPI_LEN: usize = 512;

/// Reads one MPI's magnitude (leading zeros kept; the group and DSA parsers drop them).
pub fn read<'a>(reader: &mut Reader<'a>) -> Result<&'a [u8], WireError> {
    let mut probe = reader.clone();
    let len = probe.u32()? as usize;
    if len > MAX_MPI_LEN {
        return Err(WireError::Invalid("MPI longer than any OTR value"));
    }
    let out = probe.bytes(len)?;
    *reader = probe;
    Ok(out)
}

/// Writes `magnitude` as an MPI after dropping its leading zero bytes.
pub fn write(writer: &mut Writer, magnitude: &[u8]) {
    let first = magnitude.iter().position(|&b| b != 0).unwrap_or(magnitude.len());
    let minimal = &magnitude[first..];
    // A minimal magnitude longer than 4 GiB cannot exist here: callers pass group values.
    writer.u32(minimal.len() as u32).bytes(minimal);
}

/// The MPI encoding of `magnitude` on its own (hashed and MACed as a unit by the AKE).
pub fn encode(magnitude: &[u8]) -> Vec<u8> {
    let mut writer = Writer::with_capacity(4 + magnitude.len());
    write(&mut writer, magnitude);
    writer.into_vec()
}

/// Reads a group element sent by the peer: range and subgroup checked.
pub fn read_element(reader: &mut Reader<'_>) -> Result<Element, MpiError> {
    Ok(Element::from_peer(read(reader)?)?)
}

/// Reads an exponent sent by the peer (SMP's D values): in [1, q-1].
pub fn read_exponent(reader: &mut Reader<'_>) -> Result<Exponent, MpiError> {
    Ok(Exponent::from_peer(read(reader)?)?)
}

/// Writes a group element.
pub fn write_element(writer: &mut Writer, element: &Element) {
    write(writer, &element.to_minimal_bytes());
}

/// An MPI that did not parse, or parsed to a value the group refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MpiError {
    /// The field itself is broken.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// The value is not acceptable.
    #[error(transparent)]
    Group(#[from] GroupError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_minimal_and_reads_leniently() {
        assert_eq!(encode(&[0, 0, 1, 2]), vec![0, 0, 0, 2, 1, 2]);
        assert_eq!(encode(&[]), vec![0, 0, 0, 0]);
        let bytes = [0, 0, 0, 3, 0, 1, 2, 9];
        let mut reader = Reader::new(&bytes);
        assert_eq!(read(&mut reader).unwrap(), &[0, 1, 2]);
        assert_eq!(reader.rest(), &[9]);
    }

    #[test]
    fn refuses_long_and_truncated_fields_without_consuming() {
        let mut long = vec![0, 0, 2, 1];
        long.extend(vec![1u8; 513]);
        let mut reader = Reader::new(&long);
        assert!(read(&mut reader).is_err());
        assert_eq!(reader.remaining(), long.len());
        let short = [0, 0, 0, 5, 1];
        let mut reader = Reader::new(&short);
        assert_eq!(read(&mut reader), Err(WireError::Truncated));
        assert_eq!(reader.remaining(), 5);
    }

    #[test]
    fn element_round_trip_and_checks() {
        let four = Element::from_be_bytes(&[4]).unwrap();
        let mut writer = Writer::new();
        write_element(&mut writer, &four);
        let bytes = writer.into_vec();
        assert_eq!(read_element(&mut Reader::new(&bytes)).unwrap(), four);
        let one = encode(&[1]);
        assert!(matches!(read_element(&mut Reader::new(&one)), Err(MpiError::Group(_))));
    }
}
