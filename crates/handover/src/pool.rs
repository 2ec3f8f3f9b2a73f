//! Idle keep-alive connections of ordinary transfers, kept for the next
//! transfer to the same origin through the same route. Connect-only
//! connections never enter and never leave it.

use std::time::{Duration, Instant};

use crate::layer::{Io, Stack};

/// libcurl's default `CURLOPT_MAXCONNECTS` for an easy handle.
const MAX_IDLE: usize = 5;
/// Idle connections older than this are not trusted any more
/// (libcurl's `CURLOPT_MAXAGE_CONN` default).
const MAX_AGE: Duration = Duration::from_secs(118);

struct Idle {
    key: String,
    stack: Stack,
    since: Instant,
}

/// A handle's idle connections.
#[derive(Default)]
pub(crate) struct Pool {
    idle: Vec<Idle>,
}

impl Pool {
    /// An idle, still-open connection for `key`, if there is one.
    pub fn take(&mut self, key: &str, now: Instant) -> Option<Stack> {
        while let Some(pos) = self.idle.iter().position(|i| i.key == key) {
            let mut idle = self.idle.swap_remove(pos);
            if now.saturating_duration_since(idle.since) < MAX_AGE && still_open(&mut idle.stack) {
                return Some(idle.stack);
            }
        }
        None
    }

    /// Keeps `stack` for a later transfer; the oldest goes when full.
    pub fn put(&mut self, key: String, stack: Stack, now: Instant) {
        if self.idle.len() >= MAX_IDLE {
            if let Some(oldest) = self
                .idle
                .iter()
                .enumerate()
                .min_by_key(|(_, i)| i.since)
                .map(|(n, _)| n)
            {
                self.idle.swap_remove(oldest);
            }
        }
        self.idle.push(Idle {
            key,
            stack,
            since: now,
        });
    }
}

/// An idle connection must have nothing to say: data or an end of stream
/// means the server closed it or broke the protocol.
fn still_open(stack: &mut Stack) -> bool {
    if stack.buffered() > 0 {
        return false;
    }
    let mut probe = [0u8; 1];
    matches!(stack.recv(&mut probe), Err(e) if e.is_again())
}
