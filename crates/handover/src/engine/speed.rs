//! The speed of an ordinary transfer's body: `CURLOPT_LOW_SPEED_LIMIT` /
//! `CURLOPT_LOW_SPEED_TIME` (libcurl's speedcheck: a body that arrives
//! slower than the limit, second after second, for the whole time given
//! ends the transfer with `OperationTimedout`, 28), and
//! `CURLOPT_MAX_RECV_SPEED_LARGE` (a body read no faster than the limit:
//! reading pauses until the second's budget comes back), and
//! `CURLOPT_MAX_SEND_SPEED_LARGE` (the same for an upload's body).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};

/// The window over which the speed is measured.
const WINDOW: Duration = Duration::from_secs(1);

/// The low-speed watch of one transfer's body.
pub(super) struct SpeedCheck {
    /// Bytes a second below which the transfer is slow.
    limit: u64,
    /// How long it may be slow.
    time: Duration,
    window_start: Instant,
    bytes: u64,
    slow_since: Option<Instant>,
}

impl SpeedCheck {
    /// A watch starting `now`; `None` unless both settings are non-zero.
    pub(super) fn new(limit: u32, time: Duration, now: Instant) -> Option<SpeedCheck> {
        (limit > 0 && !time.is_zero()).then_some(SpeedCheck {
            limit: u64::from(limit),
            time,
            window_start: now,
            bytes: 0,
            slow_since: None,
        })
    }

    /// Counts `n` body bytes received.
    pub(super) fn received(&mut self, n: usize) {
        self.bytes = self.bytes.saturating_add(n as u64);
    }

    /// Closes every full window up to `now`: a slow one starts (or goes
    /// on with) a slow stretch, a fast one ends it; a slow stretch as long
    /// as the time allowed is the error.
    pub(super) fn check(&mut self, now: Instant) -> Result<(), Error> {
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed < WINDOW {
            return Ok(());
        }
        let per_second = self.bytes.saturating_mul(1000) / (elapsed.as_millis().max(1) as u64);
        if per_second < self.limit {
            let since = *self.slow_since.get_or_insert(self.window_start);
            if now.saturating_duration_since(since) >= self.time {
                return Err(Error::new(
                    ErrorKind::OperationTimedout,
                    format!(
                        "Operation too slow. Less than {} bytes/sec transferred the last {} seconds",
                        self.limit,
                        self.time.as_secs()
                    ),
                ));
            }
        } else {
            self.slow_since = None;
        }
        self.window_start = now;
        self.bytes = 0;
        Ok(())
    }

    /// When the current window closes: the transfer must be looked at then
    /// even if nothing arrives.
    pub(super) fn next_check(&self) -> Instant {
        self.window_start + WINDOW
    }
}

/// `CURLOPT_MAX_RECV_SPEED_LARGE`: at most `limit` bytes a second.
pub(super) struct RateLimit {
    limit: u64,
    window_start: Instant,
    bytes: u64,
}

impl RateLimit {
    /// A limit starting `now`; `None` for no limit (0).
    pub(super) fn new(limit: u64, now: Instant) -> Option<RateLimit> {
        (limit > 0).then_some(RateLimit {
            limit,
            window_start: now,
            bytes: 0,
        })
    }

    /// How many bytes may be read now (0: wait for [`RateLimit::resumes`]).
    pub(super) fn allowance(&mut self, now: Instant) -> usize {
        if now.saturating_duration_since(self.window_start) >= WINDOW {
            self.window_start = now;
            self.bytes = 0;
        }
        usize::try_from(self.limit.saturating_sub(self.bytes)).unwrap_or(usize::MAX)
    }

    /// Counts `n` bytes read.
    pub(super) fn used(&mut self, n: usize) {
        self.bytes = self.bytes.saturating_add(n as u64);
    }

    /// When reading may go on, while the budget is spent.
    pub(super) fn resumes(&self) -> Option<Instant> {
        (self.bytes >= self.limit).then(|| self.window_start + WINDOW)
    }
}

/// `CURLOPT_MAX_SEND_SPEED_LARGE`: an upload's [`RateLimit`], shared by the
/// transfer (which wakes when the budget returns) and the request layer
/// (which asks the read callback for no more than the budget).
#[derive(Clone)]
pub(crate) struct SendPace(Arc<Mutex<RateLimit>>);

impl SendPace {
    /// A pace starting `now`; `None` for no limit (0).
    pub(super) fn new(limit: u64, now: Instant) -> Option<SendPace> {
        RateLimit::new(limit, now).map(|rate| SendPace(Arc::new(Mutex::new(rate))))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RateLimit> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many body bytes may be sent now.
    pub(crate) fn allowance(&self, now: Instant) -> usize {
        self.lock().allowance(now)
    }

    /// Counts `n` body bytes taken for sending.
    pub(crate) fn used(&self, n: usize) {
        self.lock().used(n);
    }

    /// When sending may go on, while the budget is spent.
    pub(super) fn resumes(&self) -> Option<Instant> {
        self.lock().resumes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_windows_for_the_whole_time_are_an_error_and_a_fast_one_resets() {
        let t0 = Instant::now();
        assert!(SpeedCheck::new(0, Duration::from_secs(1), t0).is_none());
        let mut check = SpeedCheck::new(1000, Duration::from_secs(2), t0).unwrap();
        check.received(10);
        check.check(t0 + Duration::from_secs(1)).unwrap();
        check.received(5000);
        check.check(t0 + Duration::from_secs(2)).unwrap(); // fast: reset
        check.received(10);
        check.check(t0 + Duration::from_secs(3)).unwrap();
        check.received(10);
        let err = check.check(t0 + Duration::from_secs(4)).unwrap_err();
        assert_eq!(err.code(), 28);
        assert!(
            err.to_string().contains("Less than 1000 bytes/sec"),
            "{err}"
        );
    }
}
