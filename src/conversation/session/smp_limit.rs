//! The SMP rate limit every session keeps, whatever its protocol: a run may start only
//! `SMP_MIN_INTERVAL` seconds after the last one, and not after `SMP_MAX_FAILURES` failures.

use crate::conversation::settings::{SMP_MAX_FAILURES, SMP_MIN_INTERVAL};

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct SmpLimit {
    last_started: Option<u64>,
    failures: u32,
}

impl SmpLimit {
    /// A limit that already counted `failures` (a stored session's).
    pub fn with_failures(failures: u32) -> Self {
        SmpLimit { last_started: None, failures }
    }

    /// How many runs failed (stored with a modern session).
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Whether a run may start at `now`.
    pub fn may_start(&self, now: u64) -> bool {
        let too_soon = self.last_started.is_some_and(|last| now < last.saturating_add(SMP_MIN_INTERVAL));
        !too_soon && self.failures < SMP_MAX_FAILURES
    }

    /// A run started at `now`.
    pub fn started(&mut self, now: u64) {
        self.last_started = Some(now);
    }

    /// A run failed or the peer cheated.
    pub fn failed(&mut self) {
        self.failures = self.failures.saturating_add(1);
    }
}
