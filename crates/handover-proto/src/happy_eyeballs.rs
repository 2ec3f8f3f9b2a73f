//! Happy eyeballs: which address to connect to next, and when (RFC 8305).
//!
//! A host often resolves to several addresses of both families, and some of
//! them do not answer. Trying them one at a time until each times out is
//! slow; trying them all at once floods the network. The planner starts one
//! attempt, and starts the next when the previous ones have all failed or
//! when `delay` (libcurl's default is 200 ms) has passed since the last
//! start without a winner. Addresses are interleaved by family first, so a
//! broken IPv6 path costs one delay, not one per IPv6 address.
//!
//! Each address goes through:
//!
//! ```text
//!   Waiting ──poll_start──> InFlight ──connected──> Won      (first one only)
//!                              └──────failed──────> Failed
//! ```
//!
//! and the planner as a whole:
//!
//! ```text
//!   Pending ──connected(i)──────────────────────────> Connected(i)
//!      └────every address started and failed──────> Exhausted
//! ```
//!
//! The planner owns no sockets and reads no clock: the engine starts the
//! attempts [`Planner::poll_start`] names, reports their results, and wakes
//! at [`Planner::next_deadline`]. Attempts still in flight once a winner is
//! chosen are listed by [`Planner::in_flight`] so the engine can close them.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The delay libcurl waits before starting the next attempt
/// (`CURLOPT_HAPPY_EYEBALLS_TIMEOUT_MS` default).
pub const DEFAULT_DELAY: Duration = Duration::from_millis(200);

/// Where one address stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    Waiting,
    InFlight,
    Failed,
    Won,
}

/// Where the whole race stands ([`Planner::outcome`]; see the example on
/// [`Planner`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Attempts are in flight or addresses remain to be tried.
    Pending,
    /// The attempt at this index (into [`Planner::addrs`]) connected first.
    Connected(usize),
    /// Every address was tried and every attempt failed.
    Exhausted,
}

/// Plans the connection attempts to a list of addresses.
///
/// # Examples
///
/// A race in simulated time: IPv6 first, IPv4 after the delay, IPv4 wins.
///
/// ```
/// use std::net::SocketAddr;
/// use std::time::{Duration, Instant};
/// use handover_proto::happy_eyeballs::{Outcome, Planner, DEFAULT_DELAY};
///
/// let v6: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
/// let v4: SocketAddr = "192.0.2.1:443".parse().unwrap();
/// let mut planner = Planner::new(vec![v6, v4], DEFAULT_DELAY);
///
/// let t0 = Instant::now();
/// assert_eq!(planner.poll_start(t0), Some(0)); // connect to addrs()[0], the IPv6 one
/// assert_eq!(planner.poll_start(t0), None); // the next waits for the delay
/// assert_eq!(planner.next_deadline(), Some(t0 + DEFAULT_DELAY));
///
/// let t1 = t0 + Duration::from_millis(200);
/// assert_eq!(planner.poll_start(t1), Some(1)); // IPv4 joins the race
/// planner.connected(1);
/// assert_eq!(planner.outcome(), Outcome::Connected(1));
/// assert_eq!(planner.in_flight().collect::<Vec<_>>(), [0]); // close this one
/// ```
#[derive(Debug, Clone)]
pub struct Planner {
    addrs: Vec<SocketAddr>,
    attempts: Vec<Attempt>,
    delay: Duration,
    /// Index of the next address to start; `addrs.len()` once all started.
    next: usize,
    last_start: Option<Instant>,
    winner: Option<usize>,
}

impl Planner {
    /// A planner for `addrs`, given in resolver order.
    ///
    /// They are reordered to interleave address families, starting with
    /// the family of `addrs[0]` (e.g. `[v6a, v6b, v4a]` becomes
    /// `[v6a, v4a, v6b]`); within a family the resolver's order is kept.
    pub fn new(addrs: Vec<SocketAddr>, delay: Duration) -> Planner {
        let addrs = interleave(addrs);
        Planner {
            attempts: vec![Attempt::Waiting; addrs.len()],
            addrs,
            delay,
            next: 0,
            last_start: None,
            winner: None,
        }
    }

    /// The addresses in the order they are tried; every index the planner
    /// hands out or takes refers to this slice.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The next attempt to start now, if any; call until `None`.
    ///
    /// The first attempt starts at once; each next one starts when no
    /// attempt is in flight (all started ones failed) or when `delay` has
    /// passed since the last start. Nothing starts once there is a winner.
    pub fn poll_start(&mut self, now: Instant) -> Option<usize> {
        if self.winner.is_some() || self.next >= self.addrs.len() {
            return None;
        }
        let due = match self.last_start {
            None => true,
            Some(last) => {
                self.in_flight().next().is_none()
                    || last.checked_add(self.delay).is_some_and(|at| now >= at)
            }
        };
        if !due {
            return None;
        }
        let index = self.next;
        if let Some(attempt) = self.attempts.get_mut(index) {
            *attempt = Attempt::InFlight;
        }
        self.next += 1;
        self.last_start = Some(now);
        Some(index)
    }

    /// The attempt at `index` failed; call [`poll_start`](Self::poll_start)
    /// next, since the following address may now start at once.
    ///
    /// Reports about an index that is not in flight are ignored.
    pub fn failed(&mut self, index: usize, now: Instant) {
        // `now` is not needed by the rule in use (a failure frees the next
        // start at once); it is taken so a finer RFC 8305 rule, such as a
        // minimum gap after a failure, can come without changing callers.
        let _ = now;
        if let Some(attempt @ Attempt::InFlight) = self.attempts.get_mut(index) {
            *attempt = Attempt::Failed;
        }
    }

    /// The attempt at `index` connected. The first such report wins; later
    /// ones, and reports about attempts not in flight, are ignored.
    pub fn connected(&mut self, index: usize) {
        if self.winner.is_some() {
            return;
        }
        if let Some(attempt @ Attempt::InFlight) = self.attempts.get_mut(index) {
            *attempt = Attempt::Won;
            self.winner = Some(index);
        }
    }

    /// Where the race stands.
    pub fn outcome(&self) -> Outcome {
        if let Some(winner) = self.winner {
            Outcome::Connected(winner)
        } else if self.next >= self.addrs.len() && self.in_flight().next().is_none() {
            Outcome::Exhausted
        } else {
            Outcome::Pending
        }
    }

    /// When [`poll_start`](Self::poll_start) should be called again: the
    /// last start plus `delay`, while addresses remain and attempts are in
    /// flight. `None` otherwise (including when that instant would not be
    /// representable).
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.winner.is_some()
            || self.next >= self.addrs.len()
            || self.in_flight().next().is_none()
        {
            return None;
        }
        self.last_start?.checked_add(self.delay)
    }

    /// Attempts started that have neither failed nor won; after a winner is
    /// chosen these are the ones to close.
    pub fn in_flight(&self) -> impl Iterator<Item = usize> + '_ {
        self.attempts
            .iter()
            .enumerate()
            .filter(|(_, attempt)| **attempt == Attempt::InFlight)
            .map(|(index, _)| index)
    }
}

/// Alternates families, starting with the family of the first address.
fn interleave(addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let Some(first_is_v6) = addrs.first().map(SocketAddr::is_ipv6) else {
        return addrs;
    };
    let total = addrs.len();
    let (lead, other): (Vec<_>, Vec<_>) = addrs
        .into_iter()
        .partition(|addr| addr.is_ipv6() == first_is_v6);
    let mut out = Vec::with_capacity(total);
    let mut lead = lead.into_iter();
    let mut other = other.into_iter();
    loop {
        let (a, b) = (lead.next(), other.next());
        if a.is_none() && b.is_none() {
            return out;
        }
        out.extend(a);
        out.extend(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(last: u8) -> SocketAddr {
        SocketAddr::from(([192, 0, 2, last], 80))
    }

    fn v6(last: u16) -> SocketAddr {
        SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, last], 80))
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Every start `poll_start` grants at `now`.
    fn starts(planner: &mut Planner, now: Instant) -> Vec<usize> {
        std::iter::from_fn(|| planner.poll_start(now)).collect()
    }

    #[test]
    fn families_are_interleaved_starting_with_the_first() {
        let cases = [
            (vec![v6(1), v6(2), v4(1)], vec![v6(1), v4(1), v6(2)]),
            (
                vec![v4(1), v6(1), v6(2), v6(3), v4(2)],
                vec![v4(1), v6(1), v4(2), v6(2), v6(3)],
            ),
            (vec![v4(1), v4(2)], vec![v4(1), v4(2)]),
            (vec![v6(1)], vec![v6(1)]),
            (vec![], vec![]),
        ];
        for (input, expected) in cases {
            let planner = Planner::new(input.clone(), DEFAULT_DELAY);
            assert_eq!(planner.addrs(), &expected[..], "input {input:?}");
        }
    }

    #[test]
    fn delay_is_honoured_to_the_millisecond() {
        let t0 = Instant::now();
        let mut planner = Planner::new(vec![v6(1), v4(1), v6(2)], ms(200));
        assert_eq!(starts(&mut planner, t0), [0]);
        assert_eq!(planner.next_deadline(), Some(t0 + ms(200)));
        assert_eq!(starts(&mut planner, t0 + ms(199)), []);
        assert_eq!(starts(&mut planner, t0 + ms(200)), [1]);
        assert_eq!(planner.next_deadline(), Some(t0 + ms(400)));
        assert_eq!(starts(&mut planner, t0 + ms(399)), []);
        assert_eq!(starts(&mut planner, t0 + ms(400)), [2]);
        assert_eq!(planner.next_deadline(), None, "nothing left to start");
        assert_eq!(planner.in_flight().collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(planner.outcome(), Outcome::Pending);
    }

    #[test]
    fn a_late_poll_starts_only_one_attempt() {
        let t0 = Instant::now();
        let mut planner = Planner::new(vec![v4(1), v4(2), v4(3)], ms(200));
        assert_eq!(starts(&mut planner, t0), [0]);
        assert_eq!(starts(&mut planner, t0 + ms(1000)), [1]);
        assert_eq!(planner.next_deadline(), Some(t0 + ms(1200)));
    }

    #[test]
    fn a_failure_starts_the_next_attempt_at_once() {
        let t0 = Instant::now();
        let mut planner = Planner::new(vec![v6(1), v4(1)], ms(200));
        assert_eq!(starts(&mut planner, t0), [0]);
        planner.failed(0, t0 + ms(5));
        assert_eq!(
            planner.next_deadline(),
            None,
            "nothing in flight to wait on"
        );
        assert_eq!(starts(&mut planner, t0 + ms(5)), [1]);
        assert_eq!(planner.next_deadline(), None);
    }

    #[test]
    fn a_failure_while_others_are_in_flight_waits_for_the_delay() {
        let t0 = Instant::now();
        let mut planner = Planner::new(vec![v4(1), v4(2), v4(3)], ms(200));
        assert_eq!(starts(&mut planner, t0), [0]);
        assert_eq!(starts(&mut planner, t0 + ms(200)), [1]);
        planner.failed(0, t0 + ms(250));
        assert_eq!(starts(&mut planner, t0 + ms(250)), []);
        assert_eq!(starts(&mut planner, t0 + ms(400)), [2]);
    }

    #[test]
    fn the_first_connect_wins_and_later_ones_are_ignored() {
        let t0 = Instant::now();
        let mut planner = Planner::new(vec![v6(1), v4(1), v6(2)], ms(200));
        assert_eq!(starts(&mut planner, t0), [0]);
        assert_eq!(starts(&mut planner, t0 + ms(200)), [1]);
        planner.connected(1);
        planner.connected(0);
        assert_eq!(planner.outcome(), Outcome::Connected(1));
        assert_eq!(
            planner.in_flight().collect::<Vec<_>>(),
            [0],
            "the loser to close"
        );
        assert_eq!(
            starts(&mut planner, t0 + ms(400)),
            [],
            "no start after a win"
        );
        assert_eq!(planner.next_deadline(), None);
        planner.failed(0, t0 + ms(401));
        assert_eq!(planner.in_flight().count(), 0);
        assert_eq!(planner.outcome(), Outcome::Connected(1));
    }

    #[test]
    fn reports_about_attempts_not_in_flight_are_ignored() {
        let t0 = Instant::now();
        let mut planner = Planner::new(vec![v4(1), v4(2)], ms(200));
        planner.connected(0);
        planner.failed(1, t0);
        planner.connected(99);
        planner.failed(99, t0);
        assert_eq!(planner.outcome(), Outcome::Pending);
        assert_eq!(starts(&mut planner, t0), [0]);
        planner.failed(0, t0);
        planner.connected(0);
        assert_eq!(
            planner.outcome(),
            Outcome::Pending,
            "a failed attempt cannot win"
        );
    }

    #[test]
    fn every_failure_exhausts_the_planner() {
        let t0 = Instant::now();
        let mut planner = Planner::new(vec![v4(1), v6(1)], ms(200));
        assert_eq!(starts(&mut planner, t0), [0]);
        planner.failed(0, t0 + ms(1));
        assert_eq!(planner.outcome(), Outcome::Pending);
        assert_eq!(starts(&mut planner, t0 + ms(1)), [1]);
        planner.failed(1, t0 + ms(2));
        assert_eq!(planner.outcome(), Outcome::Exhausted);
        assert_eq!(starts(&mut planner, t0 + ms(1000)), []);
        assert_eq!(planner.next_deadline(), None);
    }

    #[test]
    fn an_empty_list_is_exhausted_at_once() {
        let mut planner = Planner::new(Vec::new(), DEFAULT_DELAY);
        assert_eq!(planner.outcome(), Outcome::Exhausted);
        assert_eq!(planner.poll_start(Instant::now()), None);
        assert_eq!(planner.next_deadline(), None);
    }

    #[test]
    fn zero_delay_starts_every_attempt_at_once() {
        let t0 = Instant::now();
        let mut planner = Planner::new(vec![v4(1), v6(1), v4(2)], Duration::ZERO);
        assert_eq!(starts(&mut planner, t0), [0, 1, 2]);
        assert_eq!(planner.next_deadline(), None);
        planner.connected(2);
        assert_eq!(planner.outcome(), Outcome::Connected(2));
        assert_eq!(planner.in_flight().collect::<Vec<_>>(), [0, 1]);
    }

    #[test]
    fn an_unrepresentable_deadline_never_fires() {
        let t0 = Instant::now();
        let mut planner = Planner::new(vec![v4(1), v4(2)], Duration::MAX);
        assert_eq!(starts(&mut planner, t0), [0]);
        assert_eq!(planner.next_deadline(), None);
        assert_eq!(starts(&mut planner, t0 + ms(1_000_000)), []);
        planner.failed(0, t0);
        assert_eq!(starts(&mut planner, t0), [1]);
    }
}
