//! Fragmentation: transports cap message length, so a long armoured message is sent as
//! numbered pieces and put back together on arrival. Fragments are unauthenticated, so the
//! [`Reassembler`] bounds everything an attacker could make it hold: pieces per message, bytes
//! per message, open messages per sender and in total, and how long a message may stay open.
//!
//! Format: `?OFR|<id>|<sender>|<receiver>,<k>,<n>,<piece>,` with id and tags as 8 lowercase hex
//! digits and `k`, `n` decimal without leading zeros, `1 <= k <= n <= 512`.

use super::armour::{is_armour_text, ARMOUR_PREFIX, ARMOUR_SUFFIX, MAX_ENCODED_LEN};
use super::error::WireError;
use super::instance_tag::InstanceTag;

/// What a fragment starts with.
pub const FRAGMENT_PREFIX: &str = "?OFR|";
/// The most pieces one message may be split into.
pub const MAX_FRAGMENTS: u16 = 512;
/// The longest message reassembly will build (the same limit as an unfragmented message).
pub const MAX_ASSEMBLED_LEN: usize = MAX_ENCODED_LEN;
/// Open (incomplete) messages kept per sender instance tag.
pub const MAX_OPEN_PER_SENDER: usize = 4;
/// Open messages kept in total, across senders.
pub const MAX_OPEN_TOTAL: usize = 64;
/// Seconds after its first piece that an incomplete message is dropped.
pub const FRAGMENT_TIMEOUT_SECS: u64 = 120;
/// Everything in a fragment except the piece and the digits of `k` and `n`:
/// prefix (5) + id (8) + `|` + sender (8) + `|` + receiver (8) + four commas.
const FIXED_OVERHEAD: usize = 5 + 8 + 1 + 8 + 1 + 8 + 4;
/// The most digits accepted for `k` or `n` (bounds parsing; the values are checked after).
const MAX_NUMBER_DIGITS: usize = 5;

/// One parsed fragment, borrowing its piece from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment<'a> {
    /// Identifies the message this piece belongs to (per sender).
    pub id: u32,
    /// The sending client's instance tag (always valid).
    pub sender: InstanceTag,
    /// The receiving client's instance tag, or [`InstanceTag::NONE`]. Checking that it is ours
    /// is the caller's job: the reassembler does not know who "we" are.
    pub receiver: InstanceTag,
    /// This piece's number, `1..=n`.
    pub k: u16,
    /// How many pieces the message has.
    pub n: u16,
    /// The slice of the armoured message.
    pub piece: &'a str,
}

impl Fragment<'_> {
    /// The fragment as sent, built in one buffer of its exact length (plus one spare byte, so
    /// the C API's NUL terminator does not reallocate it).
    pub fn encode(&self) -> String {
        let len = FIXED_OVERHEAD + digits(usize::from(self.k)) + digits(usize::from(self.n)) + self.piece.len();
        // Written field by field (no formatting machinery: this runs for every fragment sent).
        let mut out = String::with_capacity(len + 1);
        out.push_str(FRAGMENT_PREFIX);
        push_hex8(&mut out, self.id);
        out.push('|');
        push_hex8(&mut out, self.sender.0);
        out.push('|');
        push_hex8(&mut out, self.receiver.0);
        out.push(',');
        push_decimal(&mut out, self.k);
        out.push(',');
        push_decimal(&mut out, self.n);
        out.push(',');
        out.push_str(self.piece);
        out.push(',');
        out
    }
}

/// Appends `x` as 8 lowercase hex digits (`{:08x}`).
fn push_hex8(out: &mut String, x: u32) {
    for shift in (0..8).rev() {
        let nibble = (x >> (shift * 4)) & 0xf;
        out.push(char::from_digit(nibble, 16).unwrap_or('0'));
    }
}

/// Appends `x` in decimal without leading zeros (`{}`).
fn push_decimal(out: &mut String, x: u16) {
    let x = u32::from(x);
    let mut unit = 10_000;
    while unit > 1 && x < unit {
        unit /= 10;
    }
    while unit > 0 {
        out.push(char::from_digit(x / unit % 10, 10).unwrap_or('0'));
        unit /= 10;
    }
}

/// Decimal digits of `x`.
fn digits(mut x: usize) -> usize {
    let mut d = 1;
    while x >= 10 {
        x /= 10;
        d += 1;
    }
    d
}

/// Whether a tag may appear as a receiver (valid, or "none yet").
fn receiver_ok(tag: InstanceTag) -> bool {
    tag.is_valid() || tag.is_none()
}

/// How an armoured message is carried by the transport: whole, or in `count` fragments. Made
/// once per message by [`plan`], before the message is built (a message that cannot be
/// carried must be refused before a session advances), and followed by [`Plan::pieces`]: the
/// size check and the fragmenting are one computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The armoured message's length.
    len: usize,
    /// The transport's limit (0 = none).
    max_len: usize,
    /// How many fragments; 1 means the message goes whole.
    count: usize,
    /// The digits of `count`, as every fragment writes it.
    n_digits: usize,
}

/// How an armoured message of `len` bytes travels over a transport whose messages are at most
/// `max_len` long (0 = no limit): whole if it fits, else in fragments; or why it cannot (over
/// [`MAX_ENCODED_LEN`], a limit too small for any payload, more than [`MAX_FRAGMENTS`] pieces).
/// Pure arithmetic: nothing is built.
pub fn plan(len: usize, max_len: usize) -> Result<Plan, WireError> {
    if len > MAX_ENCODED_LEN {
        return Err(WireError::TooLarge);
    }
    if max_len == 0 || len <= max_len {
        return Ok(Plan { len, max_len, count: 1, n_digits: 1 });
    }
    let (count, n_digits) = count_pieces(len, max_len)?;
    Ok(Plan { len, max_len, count, n_digits })
}

impl Plan {
    /// How many transport messages the message takes (1: it goes whole).
    pub fn count(&self) -> usize {
        self.count
    }

    /// Whether the message, `len` bytes long once built (the planned length, unless the plan
    /// was wrong), goes whole, unfragmented.
    pub fn goes_whole(&self, len: usize) -> bool {
        len <= MAX_ENCODED_LEN && (self.max_len == 0 || len <= self.max_len)
    }

    /// This plan if the message has the planned length `len`, else a new plan for `len` at
    /// the same limit (a plan is made before its message exists).
    fn matching(&self, len: usize) -> Result<Plan, WireError> {
        if len == self.len {
            Ok(*self)
        } else {
            plan(len, self.max_len)
        }
    }

    /// The fragments of `encoded`, the armoured message this plan was made for (made by
    /// [`crate::wire::armour::encode`]: its characters are not checked again), numbered with
    /// message `id` and the two instance tags; planned again if `encoded` has another length.
    /// Empty for a message that goes whole.
    pub fn pieces<'a>(
        &self,
        encoded: &'a str,
        id: u32,
        sender: InstanceTag,
        receiver: InstanceTag,
    ) -> Result<Pieces<'a>, WireError> {
        let plan = self.matching(encoded.len())?;
        if !sender.is_valid() || !receiver_ok(receiver) {
            return Err(WireError::BadFragment("invalid instance tag"));
        }
        if !encoded.starts_with(ARMOUR_PREFIX) || !encoded.ends_with(ARMOUR_SUFFIX) {
            return Err(WireError::BadFragment("only armoured messages can be fragmented"));
        }
        let n = u16::try_from(plan.count).map_err(|_| WireError::TooManyFragments)?;
        let k = if plan.goes_whole(plan.len) { n.saturating_add(1) } else { 1 };
        Ok(Pieces { encoded, plan, id, sender, receiver, n, k, pos: 0 })
    }
}

/// The fragments of one message, built one at a time ([`Plan::pieces`]).
#[derive(Debug, Clone)]
pub struct Pieces<'a> {
    encoded: &'a str,
    plan: Plan,
    id: u32,
    sender: InstanceTag,
    receiver: InstanceTag,
    n: u16,
    /// The next piece's number (past `n`: done).
    k: u16,
    /// Where the next piece starts in `encoded`.
    pos: usize,
}

impl Iterator for Pieces<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if self.k > self.n {
            return None;
        }
        // The overhead of fragment k is exact (digits of k and of n), so every fragment but
        // the last is exactly the limit; the last takes the rest.
        let cap = piece_capacity(self.plan.max_len, usize::from(self.k), self.plan.n_digits)?;
        let end = self.pos.saturating_add(cap).min(self.encoded.len());
        let piece = self.encoded.get(self.pos..end)?;
        let fragment =
            Fragment { id: self.id, sender: self.sender, receiver: self.receiver, k: self.k, n: self.n, piece }
                .encode();
        self.pos = end;
        self.k = self.k.saturating_add(1);
        Some(fragment)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::from(self.n.saturating_add(1).saturating_sub(self.k));
        (left, Some(left))
    }
}

/// Splits an armoured message into fragments of at most `max_len` bytes each.
///
/// A message that already fits is returned unchanged as the only element (whatever it is).
/// Otherwise it must be an armoured message (`?OFR:...` + `.`, at most
/// [`MAX_ENCODED_LEN`]); every fragment but the last is exactly `max_len` long. Fails if
/// `encoded` is itself a fragment, if `max_len` leaves no room for payload
/// ([`WireError::MaxLenTooSmall`]), if more than [`MAX_FRAGMENTS`] would be needed, or if the
/// tags could not be parsed back (invalid sender, receiver neither valid nor none).
/// [`plan`] and [`Plan::pieces`] do the same without the checks of the text.
pub fn split(
    encoded: &str,
    max_len: usize,
    id: u32,
    sender: InstanceTag,
    receiver: InstanceTag,
) -> Result<Vec<String>, WireError> {
    if encoded.starts_with(FRAGMENT_PREFIX) {
        return Err(WireError::BadFragment("refusing to fragment a fragment"));
    }
    if encoded.len() <= max_len {
        return Ok(vec![encoded.to_owned()]);
    }
    // The instance tags are checked by `Plan::pieces`.
    if encoded.len() > MAX_ENCODED_LEN {
        return Err(WireError::TooLarge);
    }
    if !encoded.starts_with(ARMOUR_PREFIX) || !encoded.ends_with(ARMOUR_SUFFIX) || !is_armour_text(encoded.as_bytes()) {
        return Err(WireError::BadFragment("only armoured messages can be fragmented"));
    }
    let (count, n_digits) = count_pieces(encoded.len(), max_len)?;
    let plan = Plan { len: encoded.len(), max_len, count, n_digits };
    Ok(plan.pieces(encoded, id, sender, receiver)?.collect())
}

/// How many fragments an armoured message of `len` bytes needs at `max_len` (1 if it fits), or
/// why it cannot be fragmented; the same arithmetic as [`split`], without building anything.
pub fn fragments_needed(len: usize, max_len: usize) -> Result<usize, WireError> {
    if len <= max_len {
        return Ok(1);
    }
    if len > MAX_ENCODED_LEN {
        return Err(WireError::TooLarge);
    }
    count_pieces(len, max_len).map(|(count, _)| count)
}

/// Whether an armoured message of `len` bytes can be carried by a transport whose messages
/// are at most `max_len` long (0 = no limit): [`plan`] succeeds.
pub fn fits(len: usize, max_len: usize) -> Result<(), WireError> {
    plan(len, max_len).map(|_| ())
}

/// The payload room of fragment `k` when `n` has `n_digits` digits, if there is any.
fn piece_capacity(max_len: usize, k: usize, n_digits: usize) -> Option<usize> {
    max_len.checked_sub(FIXED_OVERHEAD + digits(k) + n_digits).filter(|&cap| cap > 0)
}

/// The number of fragments (and its digit count) that carry a `len`-byte message in fragments
/// of at most `max_len`, counted band by band of equal-width `k`: tries 1, 2 then 3 digits for
/// `n`, as the pieces' room depends on them.
fn count_pieces(len: usize, max_len: usize) -> Result<(usize, usize), WireError> {
    let max_n = usize::from(MAX_FRAGMENTS);
    // The smallest fragment: one-digit k and n, one byte of piece.
    if max_len < FIXED_OVERHEAD + 3 {
        return Err(WireError::MaxLenTooSmall);
    }
    'digits: for n_digits in 1..=digits(max_n) {
        let most = 10usize.pow(n_digits as u32).saturating_sub(1).min(max_n);
        let (mut count, mut left, mut first) = (0usize, len, 1usize);
        while left > 0 && first <= most {
            // Pieces first..=last all have the same number of digits, hence the same room.
            let last = (first.saturating_mul(10).saturating_sub(1)).min(most);
            let Some(cap) = piece_capacity(max_len, first, n_digits) else {
                continue 'digits;
            };
            let needed = left.div_ceil(cap);
            let band = last - first + 1;
            if needed <= band {
                count += needed;
                left = 0;
            } else {
                count += band;
                left -= band * cap;
                first = last + 1;
            }
        }
        if left == 0 && digits(count) == n_digits {
            return Ok((count, n_digits));
        }
    }
    Err(WireError::TooManyFragments)
}

/// Splits `s` at the first `sep`, or fails naming `what`.
fn field<'a>(s: &'a str, sep: char, what: &'static str) -> Result<(&'a str, &'a str), WireError> {
    s.split_once(sep).ok_or(WireError::BadFragment(what))
}

/// Exactly eight lowercase hex digits.
fn hex8(s: &str) -> Result<u32, WireError> {
    let ok = s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !ok {
        return Err(WireError::BadFragment("expected 8 lowercase hex digits"));
    }
    u32::from_str_radix(s, 16).map_err(|_| WireError::BadFragment("expected 8 lowercase hex digits"))
}

/// A decimal number: 1 to 5 ASCII digits, no sign, no leading zero (except `0` itself, which the
/// caller rejects as a value).
fn decimal(s: &str) -> Result<u32, WireError> {
    let ok = !s.is_empty()
        && s.len() <= MAX_NUMBER_DIGITS
        && s.bytes().all(|b| b.is_ascii_digit())
        && !(s.len() > 1 && s.starts_with('0'));
    if !ok {
        return Err(WireError::BadFragment("bad decimal number"));
    }
    s.parse().map_err(|_| WireError::BadFragment("bad decimal number"))
}

/// Parses one fragment strictly. The piece must be non-empty and use only characters of an
/// armoured message; `.` may only end the last piece. Whether the pieces together form a valid
/// armoured message is checked when the reassembled message is decoded.
pub fn parse_fragment(message: &str) -> Result<Fragment<'_>, WireError> {
    if message.len() > MAX_ENCODED_LEN {
        return Err(WireError::TooLarge);
    }
    let rest = message.strip_prefix(FRAGMENT_PREFIX).ok_or(WireError::MissingMarker)?;
    let (id, rest) = field(rest, '|', "missing '|' after id")?;
    let (sender, rest) = field(rest, '|', "missing '|' after sender tag")?;
    let (receiver, rest) = field(rest, ',', "missing ',' after receiver tag")?;
    let (k, rest) = field(rest, ',', "missing ',' after k")?;
    let (n, rest) = field(rest, ',', "missing ',' after n")?;
    let piece = rest.strip_suffix(',').ok_or(WireError::MissingTerminator)?;

    let id = hex8(id)?;
    let sender = InstanceTag(hex8(sender)?);
    let receiver = InstanceTag(hex8(receiver)?);
    let (k, n) = (decimal(k)?, decimal(n)?);
    if !sender.is_valid() {
        return Err(WireError::BadFragment("invalid sender instance tag"));
    }
    if !receiver_ok(receiver) {
        return Err(WireError::BadFragment("invalid receiver instance tag"));
    }
    if n == 0 {
        return Err(WireError::BadFragment("n is zero"));
    }
    if n > u32::from(MAX_FRAGMENTS) {
        return Err(WireError::TooManyFragments);
    }
    if k == 0 {
        return Err(WireError::BadFragment("k is zero"));
    }
    if k > n {
        return Err(WireError::BadFragment("k greater than n"));
    }
    if piece.is_empty() {
        return Err(WireError::BadFragment("empty piece"));
    }
    if !is_armour_text(piece.as_bytes()) {
        return Err(WireError::BadFragment("character not allowed in a piece"));
    }
    let dot = piece.find('.');
    if dot.is_some() && (k != n || dot != Some(piece.len() - 1)) {
        return Err(WireError::BadFragment("'.' before the end of the last piece"));
    }
    let k = u16::try_from(k).map_err(|_| WireError::TooManyFragments)?;
    let n = u16::try_from(n).map_err(|_| WireError::TooManyFragments)?;
    Ok(Fragment { id, sender, receiver, k, n, piece })
}

/// One incomplete message. Its pieces are kept in arrival order and grow with what was actually
/// received: a claimed `n` costs nothing until pieces arrive.
#[derive(Debug)]
struct Buffer {
    sender: InstanceTag,
    id: u32,
    n: u16,
    /// `(k, piece)` in arrival order; at most `n` entries, no `k` twice.
    pieces: Vec<(u16, String)>,
    total_len: usize,
    /// `now` when the first piece arrived.
    created: u64,
    /// Reassembler tick of the last piece, for least-recently-used eviction.
    last_used: u64,
}

/// What holding one incomplete message costs before any piece (the buffer record itself).
pub const BUFFER_OVERHEAD: usize = core::mem::size_of::<Buffer>();
/// What holding one piece costs besides its bytes (its slot and string header).
pub const PIECE_OVERHEAD: usize = core::mem::size_of::<(u16, String)>();

impl Buffer {
    /// The bytes this buffer holds, by the same accounting as [`Reassembler::held_bytes`].
    fn held_bytes(&self) -> usize {
        BUFFER_OVERHEAD.saturating_add(self.pieces.len().saturating_mul(PIECE_OVERHEAD)).saturating_add(self.total_len)
    }
}

/// Puts fragments back together. Time is injected (`now`, in seconds) so tests and hosts
/// control expiry.
///
/// Memory is bounded by [`MAX_OPEN_TOTAL`] × [`MAX_ASSEMBLED_LEN`], and grows only with the
/// pieces actually received (see [`Reassembler::held_bytes`]); a client also caps the sum
/// over all its peers with its unauthenticated-input budget ([`Reassembler::accept_within`]).
/// Sender tags are not authenticated, so per-sender limits only stop one careless peer; the
/// total limit (evicting the least recently used message) and the client's budget are what stop
/// a hostile one.
#[derive(Debug, Default)]
pub struct Reassembler {
    buffers: Vec<Buffer>,
    tick: u64,
    /// [`Reassembler::held_bytes`], kept up to date as buffers and pieces come and go, so the
    /// budget checks made on every call never rescan the buffers.
    held: usize,
}

impl Reassembler {
    /// An empty reassembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many incomplete messages are held.
    pub fn open_buffers(&self) -> usize {
        self.buffers.len()
    }

    /// How many incomplete messages from `sender` are held.
    pub fn open_buffers_for(&self, sender: InstanceTag) -> usize {
        self.buffers.iter().filter(|b| b.sender == sender).count()
    }

    /// Drops incomplete messages whose first piece is more than [`FRAGMENT_TIMEOUT_SECS`] old.
    pub fn expire(&mut self, now: u64) {
        let held = &mut self.held;
        self.buffers.retain(|b| {
            let keep = now.saturating_sub(b.created) <= FRAGMENT_TIMEOUT_SECS;
            if !keep {
                *held = held.saturating_sub(b.held_bytes());
            }
            keep
        });
    }

    /// Bytes held for incomplete messages: per message [`BUFFER_OVERHEAD`], per received piece
    /// [`PIECE_OVERHEAD`] plus the piece's bytes. Grows only with pieces actually received.
    /// A running total: constant time.
    pub fn held_bytes(&self) -> usize {
        self.held
    }

    /// Takes one fragment. Returns the whole armoured message once all its pieces have arrived
    /// (in any order), `None` while pieces are missing. The result still has to be decoded
    /// (which checks it is a well-formed armoured message), and the caller must check the
    /// fragment's receiver tag *before* calling this.
    ///
    /// Rejects what [`parse_fragment`] rejects, a piece number already received, an `n` that
    /// differs from earlier pieces of the same message, and a message growing past
    /// [`MAX_ASSEMBLED_LEN`] (which also drops that message).
    pub fn accept(&mut self, message: &str, now: u64) -> Result<Option<String>, WireError> {
        self.accept_within(message, now, usize::MAX)
    }

    /// As [`Reassembler::accept`], but refuses ([`WireError::OverBudget`], nothing changed) a
    /// piece that would make [`Reassembler::held_bytes`] grow by more than `room` bytes. A piece
    /// that completes its message is always taken: completing frees the buffer.
    pub fn accept_within(&mut self, message: &str, now: u64, room: usize) -> Result<Option<String>, WireError> {
        self.expire(now);
        let f = parse_fragment(message)?;
        self.take(f, now, room)
    }

    /// As [`Reassembler::accept_within`], for a fragment the caller already parsed (to check
    /// its tags): it is not parsed again.
    pub fn accept_fragment(&mut self, f: Fragment<'_>, now: u64, room: usize) -> Result<Option<String>, WireError> {
        self.expire(now);
        self.take(f, now, room)
    }

    fn take(&mut self, f: Fragment<'_>, now: u64, room: usize) -> Result<Option<String>, WireError> {
        if f.n == 1 {
            return Ok(Some(f.piece.to_owned()));
        }
        let existing = self.position(f.sender, f.id);
        let completes = existing
            .and_then(|i| self.buffers.get(i))
            .is_some_and(|b| b.n == f.n && b.pieces.len() + 1 == usize::from(f.n));
        let growth = PIECE_OVERHEAD.saturating_add(f.piece.len()).saturating_add(if existing.is_none() {
            BUFFER_OVERHEAD
        } else {
            0
        });
        if growth > room && !completes {
            return Err(WireError::OverBudget);
        }
        self.tick = self.tick.saturating_add(1);
        let idx = match existing {
            Some(i) => i,
            None => {
                self.make_room(f.sender);
                self.buffers.push(Buffer {
                    sender: f.sender,
                    id: f.id,
                    n: f.n,
                    pieces: Vec::new(),
                    total_len: 0,
                    created: now,
                    last_used: self.tick,
                });
                self.held = self.held.saturating_add(BUFFER_OVERHEAD);
                self.buffers.len().saturating_sub(1)
            }
        };
        let tick = self.tick;
        let buf = self.buffers.get_mut(idx).ok_or(WireError::BadFragment("lost buffer"))?;
        if buf.n != f.n {
            return Err(WireError::BadFragment("n differs from earlier pieces"));
        }
        if buf.pieces.iter().any(|(k, _)| *k == f.k) {
            return Err(WireError::BadFragment("duplicate piece"));
        }
        let total = buf.total_len.checked_add(f.piece.len()).filter(|&t| t <= MAX_ASSEMBLED_LEN);
        let Some(total) = total else {
            self.remove(idx);
            return Err(WireError::TooLarge);
        };
        // Exact growth: the slots grow one piece at a time, as pieces arrive.
        buf.pieces.reserve_exact(1);
        buf.pieces.push((f.k, f.piece.to_owned()));
        buf.total_len = total;
        buf.last_used = tick;
        self.held = self.held.saturating_add(PIECE_OVERHEAD).saturating_add(f.piece.len());
        if buf.pieces.len() < usize::from(buf.n) {
            return Ok(None);
        }
        buf.pieces.sort_unstable_by_key(|(k, _)| *k);
        let mut whole = String::with_capacity(total);
        for (_, piece) in &buf.pieces {
            whole.push_str(piece);
        }
        self.remove(idx);
        Ok(Some(whole))
    }

    fn position(&self, sender: InstanceTag, id: u32) -> Option<usize> {
        self.buffers.iter().position(|b| b.sender == sender && b.id == id)
    }

    fn remove(&mut self, idx: usize) {
        if idx < self.buffers.len() {
            let gone = self.buffers.swap_remove(idx);
            self.held = self.held.saturating_sub(gone.held_bytes());
        }
    }

    /// Least recently used buffer among those matching `pred`.
    fn lru(&self, pred: impl Fn(&Buffer) -> bool) -> Option<usize> {
        let candidates = self.buffers.iter().enumerate().filter(|(_, b)| pred(b));
        candidates.min_by_key(|(_, b)| b.last_used).map(|(i, _)| i)
    }

    /// Evicts so one more buffer for `sender` fits both caps.
    fn make_room(&mut self, sender: InstanceTag) {
        while self.open_buffers_for(sender) >= MAX_OPEN_PER_SENDER {
            let Some(i) = self.lru(|b| b.sender == sender) else {
                break;
            };
            self.remove(i);
        }
        while self.buffers.len() >= MAX_OPEN_TOTAL {
            let Some(i) = self.lru(|_| true) else { break };
            self.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: InstanceTag = InstanceTag(0x1000);
    const B: InstanceTag = InstanceTag(0x2000);

    #[test]
    fn fits_agrees_with_split() {
        let message = format!("?OFR:{}.", "A".repeat(2000));
        for max_len in [0usize, 10, 20, 40, 100, 3000] {
            let split_ok = max_len == 0 || split(&message, max_len, 1, A, B).is_ok();
            assert_eq!(fits(message.len(), max_len).is_ok(), split_ok, "{max_len}");
        }
        assert!(fits(MAX_ENCODED_LEN + 1, 0).is_err());
    }

    #[test]
    fn fragments_needed_agrees_with_split() {
        for len in [40usize, 99, 100, 101, 399, 400, 401, 1_000, 5_000, 20_000] {
            let encoded = format!("?OFR:{}.", "A".repeat(len - 6));
            for max_len in [37usize, 38, 50, 100, 400, 1400] {
                let split_count = split(&encoded, max_len, 1, A, B).map(|v| v.len());
                assert_eq!(fragments_needed(len, max_len).ok(), split_count.ok(), "len {len} max {max_len}");
            }
        }
        assert!(fragments_needed(MAX_ENCODED_LEN + 1, 1400).is_err());
        assert_eq!(fragments_needed(MAX_ENCODED_LEN, 4096), Ok(33), "the limit itself is carried");
    }

    /// The piece bounds as they were computed before `count_pieces` (one Vec entry per piece),
    /// kept as the model the arithmetic must agree with.
    fn reference_bounds(len: usize, max_len: usize) -> Result<Vec<(usize, usize)>, WireError> {
        let max_n = usize::from(MAX_FRAGMENTS);
        if max_len < FIXED_OVERHEAD + 3 {
            return Err(WireError::MaxLenTooSmall);
        }
        'digits: for n_digits in 1..=digits(max_n) {
            let most = 10usize.pow(n_digits as u32).saturating_sub(1).min(max_n);
            let mut bounds = Vec::new();
            let mut pos = 0usize;
            while pos < len && bounds.len() < most {
                let k = bounds.len() + 1;
                let overhead = FIXED_OVERHEAD + digits(k) + n_digits;
                let Some(cap) = max_len.checked_sub(overhead).filter(|&c| c > 0) else {
                    continue 'digits;
                };
                let end = pos.saturating_add(cap).min(len);
                bounds.push((pos, end));
                pos = end;
            }
            if pos >= len && digits(bounds.len()) == n_digits {
                return Ok(bounds);
            }
        }
        Err(WireError::TooManyFragments)
    }

    #[test]
    fn the_piece_count_is_the_one_the_bounds_gave() {
        for max_len in (30..120).chain([200, 399, 400, 401, 1000, 1400, 4096, 70_000]) {
            let lens = (1..2_000).step_by(7).chain([9_999, 10_000, 20_000, 60_000, MAX_ENCODED_LEN]);
            for len in lens.filter(|&len| len > max_len) {
                let expected = reference_bounds(len, max_len).map(|b| b.len());
                assert_eq!(count_pieces(len, max_len).map(|(count, _)| count), expected, "len {len} max {max_len}");
            }
        }
    }

    #[test]
    fn a_plan_is_followed_piece_by_piece() {
        let m = crate::wire::armour::encode(&[5u8; 3000]);
        for max_len in [64usize, 100, 1000, 1400, 4100, 0] {
            let plan = plan(m.len(), max_len).unwrap();
            let pieces: Vec<String> = plan.pieces(&m, 9, A, B).unwrap().collect();
            if max_len == 0 || m.len() <= max_len {
                assert!(plan.goes_whole(m.len()) && pieces.is_empty() && plan.count() == 1);
                continue;
            }
            assert_eq!(pieces, split(&m, max_len, 9, A, B).unwrap(), "max {max_len}");
            assert_eq!(pieces.len(), plan.count());
            assert!(pieces.iter().all(|p| p.capacity() > p.len()), "room for the C API's NUL");
        }
        // A text of another length than planned gets its own plan.
        let short = crate::wire::armour::encode(&[5u8; 1000]);
        let pieces: Vec<String> = plan(m.len(), 100).unwrap().pieces(&short, 9, A, B).unwrap().collect();
        assert_eq!(pieces, split(&short, 100, 9, A, B).unwrap());
        assert_eq!(plan(MAX_ENCODED_LEN + 1, 0), Err(WireError::TooLarge));
        assert_eq!(plan(MAX_ENCODED_LEN, 0).map(|p| p.count()), Ok(1), "the limit itself is carried");
        assert_eq!(plan(100, 37), Err(WireError::MaxLenTooSmall));
    }

    #[test]
    fn pieces_refuse_invalid_tags_and_unarmoured_text() {
        let m = crate::wire::armour::encode(&[5u8; 300]);
        let planned = plan(m.len(), 100).unwrap();
        assert!(planned.pieces(&m, 1, A, InstanceTag::NONE).is_ok());
        for (sender, receiver) in [(InstanceTag(5), B), (A, InstanceTag(5)), (InstanceTag::NONE, B)] {
            assert!(
                matches!(planned.pieces(&m, 1, sender, receiver), Err(WireError::BadFragment(_))),
                "{sender:?} {receiver:?}"
            );
        }
        // Only an armoured message is cut: its prefix and its suffix, each checked.
        let (unterminated, unprefixed) = (&m[..m.len() - 1], &m[1..]);
        for text in [unterminated, unprefixed] {
            let planned = plan(text.len(), 100).unwrap();
            assert!(matches!(planned.pieces(text, 1, A, B), Err(WireError::BadFragment(_))), "{text}");
        }
    }

    #[test]
    fn pieces_know_how_many_are_left() {
        let m = crate::wire::armour::encode(&[5u8; 3000]);
        let mut pieces = plan(m.len(), 400).unwrap().pieces(&m, 1, A, B).unwrap();
        let total = pieces.clone().count();
        assert!(total > 2);
        for left in (0..=total).rev() {
            assert_eq!(pieces.size_hint(), (left, Some(left)));
            assert_eq!(pieces.next().is_some(), left > 0);
        }
    }

    /// Sums what the buffers hold, as `held_bytes` did before it kept a running total.
    fn recount(r: &Reassembler) -> usize {
        r.buffers.iter().map(Buffer::held_bytes).sum()
    }

    #[test]
    fn the_running_total_is_what_the_buffers_hold() {
        let mut r = Reassembler::new();
        let mut now = 0;
        for round in 0..300u32 {
            let sender = InstanceTag(0x100 + round % 7);
            let id = round % 5;
            let n = 2 + (round % 4) as u16;
            let k = 1 + (round % u32::from(n)) as u16;
            let piece = "A".repeat(1 + (round as usize * 37) % 900);
            let _ = r.accept_within(&frag(id, sender, k, n, &piece), now, 2_000 + (round as usize % 3) * 1_000);
            assert_eq!(r.held_bytes(), recount(&r), "round {round}");
            now += u64::from(round % 11);
        }
        r.expire(now + FRAGMENT_TIMEOUT_SECS + 1);
        assert_eq!((r.held_bytes(), r.open_buffers()), (0, 0));
        // An oversized message is dropped with what it held.
        let big = "A".repeat(MAX_ASSEMBLED_LEN / 2 + 1);
        r.accept(&frag(1, A, 1, 3, &big), now).unwrap();
        assert_eq!(r.accept(&frag(1, A, 2, 3, &big), now), Err(WireError::TooLarge));
        assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn a_parsed_fragment_is_taken_as_is() {
        let mut r = Reassembler::new();
        let first = frag(3, A, 1, 2, "?OFR:");
        r.accept_fragment(parse_fragment(&first).unwrap(), 0, usize::MAX).unwrap();
        let second = frag(3, A, 2, 2, "AA=.");
        let whole = r.accept_fragment(parse_fragment(&second).unwrap(), 0, usize::MAX).unwrap();
        assert_eq!(whole.as_deref(), Some("?OFR:AA=."));
        let third = frag(4, A, 1, 2, "?OFR:");
        assert_eq!(r.accept_fragment(parse_fragment(&third).unwrap(), 0, 10), Err(WireError::OverBudget));
        assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn the_piece_that_completes_a_message_is_taken_without_room() {
        // Completing frees the buffer, so a full budget must not strand a message one piece short.
        let mut r = Reassembler::new();
        assert_eq!(r.accept_within(&frag(5, A, 2, 3, "AAAA"), 0, usize::MAX), Ok(None));
        assert_eq!(r.accept_within(&frag(5, A, 1, 3, "?OFR:"), 0, usize::MAX), Ok(None));
        // Not completing (another message, or the same id claiming another n): refused.
        assert_eq!(r.accept_within(&frag(6, A, 1, 2, "?OFR:"), 0, 0), Err(WireError::OverBudget));
        assert_eq!(r.accept_within(&frag(5, A, 3, 4, "AAAA"), 0, 0), Err(WireError::OverBudget));
        let whole = r.accept_within(&frag(5, A, 3, 3, "AA=."), 0, 0);
        assert_eq!(whole, Ok(Some("?OFR:AAAAAA=.".to_owned())));
        assert_eq!((r.open_buffers(), r.held_bytes()), (0, 0));
    }

    fn frag(id: u32, sender: InstanceTag, k: u16, n: u16, piece: &str) -> String {
        Fragment { id, sender, receiver: B, k, n, piece }.encode()
    }

    #[test]
    fn the_encoding_is_the_formatted_one() {
        for (id, k, n) in
            [(0u32, 1u16, 1u16), (0xAB, 9, 10), (u32::MAX, 10, 99), (0x0123_4567, 100, 512), (7, 65535, 65535)]
        {
            let f = Fragment { id, sender: A, receiver: InstanceTag::NONE, k, n, piece: "QUJD" };
            let expected = format!("{FRAGMENT_PREFIX}{id:08x}|{:08x}|{:08x},{k},{n},QUJD,", A.0, 0);
            assert_eq!(f.encode(), expected);
        }
    }

    #[test]
    fn an_encoded_fragment_has_exactly_one_spare_byte() {
        // The C API writes its NUL there; a wrong length computation would reallocate.
        for (k, n, piece) in [(1u16, 1u16, "Q"), (9, 10, "QUJD"), (10, 99, "QUJDRA"), (100, 512, "QUJD.")] {
            let f = Fragment { id: 1, sender: A, receiver: B, k, n, piece }.encode();
            assert_eq!(f.capacity(), f.len() + 1, "k {k} n {n}");
        }
    }

    #[test]
    fn decimals_are_written_as_format_writes_them() {
        for x in 0..=u16::MAX {
            let mut out = String::new();
            push_decimal(&mut out, x);
            assert_eq!(out, x.to_string());
        }
    }

    #[test]
    fn a_fragment_of_exactly_the_largest_length_is_parsed() {
        let piece = "A".repeat(MAX_ENCODED_LEN - FIXED_OVERHEAD - 2);
        let f = frag(1, A, 1, 2, &piece);
        assert_eq!(f.len(), MAX_ENCODED_LEN);
        assert_eq!(parse_fragment(&f).map(|p| p.piece.len()), Ok(piece.len()));
        let over = frag(1, A, 1, 2, &format!("{piece}A"));
        assert_eq!(parse_fragment(&over), Err(WireError::TooLarge));
    }

    #[test]
    fn exact_format_and_parse() {
        let f = frag(0xAB, A, 2, 3, "QUJD");
        assert_eq!(f, "?OFR|000000ab|00001000|00002000,2,3,QUJD,");
        let p = parse_fragment(&f).unwrap();
        assert_eq!((p.id, p.sender, p.receiver, p.k, p.n, p.piece), (0xAB, A, B, 2, 3, "QUJD"));
        assert_eq!(f.len(), FIXED_OVERHEAD + 1 + 1 + 4);
    }

    #[test]
    fn short_message_is_unchanged() {
        let m = "?OFR:QUJD.";
        assert_eq!(split(m, m.len(), 1, A, B).unwrap(), vec![m.to_string()]);
        assert_eq!(split("?OFRv1?", 100, 1, A, B).unwrap(), vec!["?OFRv1?".to_string()]);
    }

    #[test]
    fn split_is_tight_and_reassembles() {
        let m = crate::wire::armour::encode(&[7u8; 1500]);
        for max_len in [45, 50, 60, 100, 1000] {
            let frags = split(&m, max_len, 9, A, InstanceTag::NONE).unwrap();
            assert!(frags.len() > 1);
            assert!(frags.iter().all(|f| f.len() <= max_len), "max_len {max_len}");
            for f in &frags[..frags.len() - 1] {
                assert_eq!(f.len(), max_len);
            }
            let mut r = Reassembler::new();
            let mut out = None;
            for f in frags.iter().rev() {
                out = r.accept(f, 0).unwrap();
            }
            assert_eq!(out.as_deref(), Some(m.as_str()));
            assert_eq!(r.open_buffers(), 0);
        }
    }

    #[test]
    fn n_digits_are_accounted_for() {
        // 9 pieces with 1-digit n vs. 10 pieces needing 2 digits: every fragment still fits.
        for body_len in 1..400 {
            let m = format!("?OFR:{}.", "A".repeat(body_len));
            for max_len in [38, 39, 50] {
                match split(&m, max_len, 1, A, B) {
                    Ok(frags) if m.len() <= max_len => assert_eq!(frags, vec![m.clone()]),
                    Ok(frags) => {
                        assert!(frags.iter().all(|f| f.len() <= max_len));
                        let pieces: String = frags.iter().map(|f| parse_fragment(f).unwrap().piece).collect();
                        assert_eq!(pieces, m);
                        assert_eq!(frags.len(), parse_fragment(&frags[0]).unwrap().n as usize);
                    }
                    Err(e) => assert!(matches!(e, WireError::MaxLenTooSmall | WireError::TooManyFragments)),
                }
            }
        }
    }

    #[test]
    fn split_refusals() {
        let m = crate::wire::armour::encode(&[1u8; 300]);
        assert_eq!(split(&m, 37, 1, A, B), Err(WireError::MaxLenTooSmall));
        assert_eq!(split(&m, 0, 1, A, B), Err(WireError::MaxLenTooSmall));
        assert_eq!(split(&m, 38, 1, A, B), Err(WireError::TooManyFragments));
        assert_eq!(split(&m, 50, 1, A, B).unwrap().len(), 37); // 9 × 12 + 28 × 11 >= 406
        let f = frag(1, A, 1, 2, "AAAA");
        assert!(matches!(split(&f, 10, 1, A, B), Err(WireError::BadFragment(_))));
        assert!(matches!(split(&f, 1000, 1, A, B), Err(WireError::BadFragment(_))));
        assert!(matches!(split(&"x".repeat(100), 50, 1, A, B), Err(WireError::BadFragment(_))));
        // The armour's prefix and suffix around a character no armour has.
        let mut bad = m.clone();
        bad.replace_range(10..11, "#");
        assert!(matches!(split(&bad, 50, 1, A, B), Err(WireError::BadFragment(_))));
        assert!(matches!(split(&m, 50, 1, InstanceTag(5), B), Err(WireError::BadFragment(_))));
        assert!(matches!(split(&m, 50, 1, A, InstanceTag(5)), Err(WireError::BadFragment(_))));
        // More than 512 pieces.
        let big = crate::wire::armour::encode(&[1u8; 20_000]);
        assert_eq!(split(&big, 45, 1, A, B), Err(WireError::TooManyFragments));
        let huge = format!("?OFR:{}.", "A".repeat(MAX_ENCODED_LEN));
        assert_eq!(split(&huge, 100_000, 1, A, B), Err(WireError::TooLarge));
    }

    #[test]
    fn parse_rejects_bad_numbers() {
        let bad = |s: &str| parse_fragment(s).unwrap_err();
        let pre = "?OFR|00000001|00001000|00002000";
        assert_eq!(bad(&format!("{pre},0,2,AAAA,")), WireError::BadFragment("k is zero"));
        assert_eq!(bad(&format!("{pre},1,0,AAAA,")), WireError::BadFragment("n is zero"));
        assert_eq!(bad(&format!("{pre},3,2,AAAA,")), WireError::BadFragment("k greater than n"));
        assert_eq!(bad(&format!("{pre},1,65535,AAAA,")), WireError::TooManyFragments);
        assert_eq!(bad(&format!("{pre},1,513,AAAA,")), WireError::TooManyFragments);
        assert!(parse_fragment(&format!("{pre},1,512,AAAA,")).is_ok());
        for s in ["+1,2", "01,2", "1,02", "1,999999", ",2", "1,", "-1,2", "1, 2", "1,2x"] {
            assert!(matches!(bad(&format!("{pre},{s},AAAA,")), WireError::BadFragment(_)), "{s}");
        }
    }

    #[test]
    fn parse_rejects_bad_headers() {
        let bad = |s: &str| parse_fragment(s).unwrap_err();
        assert_eq!(bad("?OTR|00000001|00001000|00002000,1,2,AAAA,"), WireError::MissingMarker);
        assert_eq!(bad("x?OFR|00000001|00001000|00002000,1,2,AAAA,"), WireError::MissingMarker);
        assert_eq!(bad("?OFR|00000001|00001000|00002000,1,2,AAAA"), WireError::MissingTerminator);
        for s in [
            "?OFR|0000001|00001000|00002000,1,2,AAAA,",
            "?OFR|000000001|00001000|00002000,1,2,AAAA,",
            "?OFR|0000000G|00001000|00002000,1,2,AAAA,",
            "?OFR|000000AB|00001000|00002000,1,2,AAAA,",
            "?OFR|+0000001|00001000|00002000,1,2,AAAA,",
            "?OFR|00000001|000000ff|00002000,1,2,AAAA,", // sender below 0x100
            "?OFR|00000001|00000000|00002000,1,2,AAAA,", // sender none
            "?OFR|00000001|00001000|00000001,1,2,AAAA,", // reserved receiver
            "?OFR|00000001|00001000,1,2,AAAA,",
            "?OFR|",
        ] {
            assert!(matches!(bad(s), WireError::BadFragment(_)), "{s}");
        }
        assert!(parse_fragment("?OFR|00000001|00001000|00002000|1,2,AAAA,").is_err());
        assert!(parse_fragment("?OFR|00000001|00001000|00000000,1,2,AAAA,").is_ok());
        let huge = format!("?OFR|00000001|00001000|00002000,1,2,{},", "A".repeat(MAX_ENCODED_LEN));
        assert_eq!(bad(&huge), WireError::TooLarge);
    }

    #[test]
    fn parse_rejects_bad_pieces() {
        let pre = "?OFR|00000001|00001000|00002000";
        let bad = |piece: &str, k: u16| parse_fragment(&format!("{pre},{k},2,{piece},")).unwrap_err();
        assert_eq!(bad("", 1), WireError::BadFragment("empty piece"));
        for p in ["AA,A", "AA A", "AA\nA", "AA-_", "é", "AA|"] {
            assert!(matches!(bad(p, 1), WireError::BadFragment(_)), "{p:?}");
        }
        assert!(matches!(bad("AA.", 1), WireError::BadFragment(_))); // '.' not in last piece
        assert!(matches!(bad("A.A", 2), WireError::BadFragment(_))); // '.' mid-piece
        assert!(parse_fragment(&format!("{pre},2,2,AA.,")).is_ok());
        assert!(parse_fragment(&format!("{pre},1,2,?OFR:AA,")).is_ok());
    }

    #[test]
    fn reassembly_rejects_inconsistent_pieces() {
        let mut r = Reassembler::new();
        assert_eq!(r.accept(&frag(1, A, 1, 3, "?OFR:"), 0).unwrap(), None);
        assert_eq!(r.accept(&frag(1, A, 1, 3, "?OFR:"), 0), Err(WireError::BadFragment("duplicate piece")));
        assert_eq!(
            r.accept(&frag(1, A, 2, 4, "AAAA"), 0),
            Err(WireError::BadFragment("n differs from earlier pieces"))
        );
        assert_eq!(r.accept(&frag(1, A, 3, 3, "A=."), 0).unwrap(), None);
        assert_eq!(r.accept(&frag(1, A, 2, 3, "AAAA"), 0).unwrap().as_deref(), Some("?OFR:AAAAA=."));
        assert_eq!(r.open_buffers(), 0);
    }

    #[test]
    fn single_piece_fragment_completes_immediately() {
        let mut r = Reassembler::new();
        assert_eq!(r.accept(&frag(1, A, 1, 1, "?OFR:AA=."), 0).unwrap().as_deref(), Some("?OFR:AA=."));
        assert_eq!(r.open_buffers(), 0);
    }

    #[test]
    fn messages_from_different_senders_and_ids_are_kept_apart() {
        let mut r = Reassembler::new();
        r.accept(&frag(1, A, 1, 2, "?OFR:"), 0).unwrap();
        r.accept(&frag(1, B, 1, 2, "?OFR:"), 0).unwrap();
        r.accept(&frag(2, A, 1, 2, "?OFR:"), 0).unwrap();
        assert_eq!(r.open_buffers(), 3);
        assert_eq!(r.accept(&frag(1, B, 2, 2, "BB=."), 0).unwrap().as_deref(), Some("?OFR:BB=."));
        assert_eq!(r.accept(&frag(1, A, 2, 2, "AA=."), 0).unwrap().as_deref(), Some("?OFR:AA=."));
        assert_eq!(r.open_buffers(), 1);
    }

    #[test]
    fn per_sender_cap_evicts_least_recently_used() {
        let mut r = Reassembler::new();
        for id in 0..4 {
            r.accept(&frag(id, A, 1, 3, "?OFR:"), 0).unwrap();
        }
        // A piece for id 0 makes id 1 the least recently used; a rejected piece would not count.
        r.accept(&frag(0, A, 2, 3, "AA"), 0).unwrap();
        r.accept(&frag(0, B, 1, 3, "?OFR:"), 0).unwrap();
        r.accept(&frag(4, A, 1, 3, "?OFR:"), 0).unwrap();
        assert_eq!(r.open_buffers_for(A), MAX_OPEN_PER_SENDER);
        assert_eq!(r.open_buffers_for(B), 1, "other senders are untouched");
        assert_eq!(r.open_buffers(), MAX_OPEN_PER_SENDER + 1);
        // id 1 was evicted: its next piece opens a fresh buffer (evicting id 2, now the LRU).
        assert_eq!(r.accept(&frag(1, A, 2, 3, "AA"), 0).unwrap(), None);
        assert_eq!(r.accept(&frag(1, A, 3, 3, "A=."), 0).unwrap(), None);
        // id 0 and id 3 survived and complete.
        assert_eq!(r.accept(&frag(0, A, 3, 3, "A=."), 0).unwrap().as_deref(), Some("?OFR:AAA=."));
        r.accept(&frag(3, A, 2, 3, "AA"), 0).unwrap();
        assert_eq!(r.accept(&frag(3, A, 3, 3, "A=."), 0).unwrap().as_deref(), Some("?OFR:AAA=."));
        // id 2 was evicted.
        assert_eq!(r.accept(&frag(2, A, 2, 3, "AA"), 0).unwrap(), None);
    }

    #[test]
    fn total_cap_evicts_least_recently_used() {
        let mut r = Reassembler::new();
        for s in 0..(MAX_OPEN_TOTAL as u32 + 10) {
            r.accept(&frag(1, InstanceTag(0x100 + s), 1, 2, "?OFR:"), 0).unwrap();
            assert!(r.open_buffers() <= MAX_OPEN_TOTAL);
        }
        assert_eq!(r.open_buffers(), MAX_OPEN_TOTAL);
        // The oldest senders were evicted; the newest is still there.
        assert_eq!(r.open_buffers_for(InstanceTag(0x100)), 0);
        assert_eq!(r.open_buffers_for(InstanceTag(0x100 + MAX_OPEN_TOTAL as u32 + 9)), 1);
    }

    #[test]
    fn stale_buffers_expire() {
        let mut r = Reassembler::new();
        r.accept(&frag(1, A, 1, 2, "?OFR:"), 1000).unwrap();
        r.expire(1000 + FRAGMENT_TIMEOUT_SECS);
        assert_eq!(r.open_buffers(), 1);
        // The second piece arrives too late: the first was dropped, so nothing completes.
        assert_eq!(r.accept(&frag(1, A, 2, 2, "AA=."), 1001 + FRAGMENT_TIMEOUT_SECS).unwrap(), None);
        assert_eq!(r.open_buffers(), 1);
        r.expire(10_000);
        assert_eq!(r.open_buffers(), 0);
    }

    #[test]
    fn endless_stream_hits_the_size_cap() {
        let mut r = Reassembler::new();
        let piece = "A".repeat(1000);
        let mut result = Ok(None);
        for k in 1..=MAX_FRAGMENTS {
            result = r.accept(&frag(7, A, k, MAX_FRAGMENTS, &piece), 0);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(WireError::TooLarge));
        assert_eq!(r.open_buffers(), 0, "the oversized message is dropped");
    }
}
