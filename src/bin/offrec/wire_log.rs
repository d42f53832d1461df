//! `offrec chat --log-wire FILE`: every wire message that crosses the transport, in and out,
//! one per line, for `offrec parse --log FILE` to take apart:
//!
//! `TIME<TAB>in|out<TAB>PEER<TAB>MESSAGE`
//!
//! TIME is UTC (RFC 3339, milliseconds); MESSAGE is the line exactly as it was sent or received
//! (armoured, fragmented or plain: what anyone watching the network sees). The file is
//! appended to and created mode 0600: it holds ciphertext, but also any plaintext message.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::parse::printable;

/// Which way a message went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From the peer.
    In,
    /// To the peer.
    Out,
}

impl Direction {
    /// The word in the log.
    pub fn word(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// One line of a wire log.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// When, as written.
    pub time: &'a str,
    /// In or out.
    pub direction: Direction,
    /// The peer it came from or went to.
    pub peer: &'a str,
    /// The wire message.
    pub message: &'a str,
}

/// Reads one log line; `None` if it is not one.
pub fn parse_entry(line: &str) -> Option<Entry<'_>> {
    let mut fields = line.splitn(4, '\t');
    let time = fields.next()?;
    let direction = match fields.next()? {
        "in" => Direction::In,
        "out" => Direction::Out,
        _ => return None,
    };
    let peer = fields.next()?;
    let message = fields.next()?;
    Some(Entry { time, direction, peer, message })
}

/// The log the chat writes: a file, and whether writing is paused (`/wire off`).
#[derive(Default)]
pub struct WireLog {
    file: Option<(File, PathBuf)>,
    paused: bool,
}

impl WireLog {
    /// Opens (creating, 0600) `path` for appending.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
        Ok(WireLog { file: Some((file, path.to_owned())), paused: false })
    }

    /// The file being written, if logging is on.
    pub fn active(&self) -> Option<&Path> {
        match &self.file {
            Some((_, path)) if !self.paused => Some(path),
            _ => None,
        }
    }

    /// The file, whether paused or not.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|(_, path)| path.as_path())
    }

    /// `/wire off` and `/wire on`.
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// Appends one message; on failure logging stops (the caller says so once).
    pub fn write(&mut self, direction: Direction, peer: &str, message: &str) -> io::Result<()> {
        if self.paused {
            return Ok(());
        }
        let Some((file, _)) = &mut self.file else { return Ok(()) };
        let line = format!("{}\t{}\t{}\t{message}\n", utc_now(), direction.word(), printable(peer).replace('\t', " "));
        let result = file.write_all(line.as_bytes());
        if result.is_err() {
            self.file = None;
        }
        result
    }
}

fn utc_now() -> String {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    rfc3339(since.as_secs(), since.subsec_millis())
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for a UNIX time (the civil calendar from a day count, as in
/// Howard Hinnant's `civil_from_days`).
fn rfc3339(seconds: u64, millis: u32) -> String {
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_calendar_dates() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(rfc3339(1_709_251_199, 999), "2024-02-29T23:59:59.999Z");
        assert_eq!(rfc3339(4_102_444_800, 0), "2100-01-01T00:00:00.000Z");
    }

    #[test]
    fn entries_round_trip() {
        let e = parse_entry("2024-01-01T00:00:00.000Z\tout\tbob\t?OFR:AA\tB.").unwrap();
        assert_eq!(e.direction, Direction::Out);
        assert_eq!((e.peer, e.message), ("bob", "?OFR:AA\tB."));
        assert!(parse_entry("?OFR:AAAA.").is_none());
        assert!(parse_entry("t\tsideways\tbob\tx").is_none());
    }
}
