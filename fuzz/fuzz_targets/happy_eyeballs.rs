//! The happy-eyeballs planner (`happy_eyeballs::Planner`) under any order
//! of starts, failures, wins and clock steps.
//!
//! Input: `[address count][delay ms][plan (unused)]`, address family bits,
//! then operations (poll at a later time, fail attempt i, attempt i wins).
//!
//! Checks: the addresses are a permutation of the input, families
//! alternating from the first one's with each family's order kept; each
//! address starts at most once, in order; a start comes only when nothing
//! is in flight or the delay has passed since the last start; the outcome
//! follows the attempts (one winner, which was in flight; exhausted only
//! when all started and none is left); the deadline is the last start plus
//! the delay, and there is none once the outcome is decided.
#![no_main]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use handover_proto::happy_eyeballs::{Outcome, Planner};
use handover_proto_fuzz::oracle::Input;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let count = usize::from(input.byte() % 12);
    let delay = Duration::from_millis(u64::from(input.byte()));
    let _ = input.plan();
    let families = input.u16();
    let addrs: Vec<SocketAddr> = (0..count)
        .map(|i| {
            if families >> i & 1 == 0 {
                SocketAddr::from(([192, 0, 2, i as u8], 80))
            } else {
                SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, i as u16], 80))
            }
        })
        .collect();
    let mut planner = Planner::new(addrs.clone(), delay);
    let order = planner.addrs().to_vec();
    let mut sorted = order.clone();
    sorted.sort();
    let mut want = addrs.clone();
    want.sort();
    assert_eq!(sorted, want, "addresses lost or duplicated");
    if let Some(first) = addrs.first() {
        let lead: Vec<_> = addrs
            .iter()
            .filter(|a| a.is_ipv6() == first.is_ipv6())
            .collect();
        let other: Vec<_> = addrs
            .iter()
            .filter(|a| a.is_ipv6() != first.is_ipv6())
            .collect();
        let got_lead: Vec<_> = order
            .iter()
            .filter(|a| a.is_ipv6() == first.is_ipv6())
            .collect();
        let got_other: Vec<_> = order
            .iter()
            .filter(|a| a.is_ipv6() != first.is_ipv6())
            .collect();
        assert_eq!(
            (&lead, &other),
            (&got_lead, &got_other),
            "a family's order changed"
        );
        let pairs = got_lead.len().min(got_other.len());
        for (i, addr) in order.iter().take(2 * pairs).enumerate() {
            assert_eq!(
                addr.is_ipv6() == first.is_ipv6(),
                i % 2 == 0,
                "families do not alternate"
            );
        }
        assert_eq!(order[0], *first);
    }

    let start = Instant::now();
    let mut now = start;
    let mut started = Vec::new();
    let mut failed = HashSet::new();
    let mut winner = None;
    let mut last_start: Option<Instant> = None;
    while !input.is_empty() {
        let op = input.byte();
        let arg = usize::from(input.byte());
        match op % 3 {
            0 => {
                now += Duration::from_millis(u64::from(op >> 2) * 7);
                let in_flight_before: Vec<usize> = planner.in_flight().collect();
                let deadline = planner.next_deadline();
                if let Some(index) = planner.poll_start(now) {
                    assert_eq!(index, started.len(), "starts out of order");
                    assert!(winner.is_none());
                    let due = last_start
                        .is_none_or(|at| in_flight_before.is_empty() || now >= at + delay);
                    assert!(due, "started before the delay with attempts in flight");
                    if let Some(deadline) = deadline {
                        assert!(in_flight_before.is_empty() || now >= deadline);
                    }
                    started.push(index);
                    last_start = Some(now);
                } else if winner.is_none() && started.len() < count {
                    let in_flight = !in_flight_before.is_empty();
                    assert!(
                        in_flight && last_start.is_some_and(|at| now < at + delay),
                        "refused a due start"
                    );
                }
            }
            1 => {
                let index = arg % (count + 1);
                planner.failed(index, now);
                if started.contains(&index) && winner != Some(index) {
                    failed.insert(index);
                }
            }
            _ => {
                let index = arg % (count + 1);
                let was_in_flight = planner.in_flight().any(|i| i == index);
                planner.connected(index);
                if winner.is_none() && was_in_flight {
                    winner = Some(index);
                }
            }
        }
        let in_flight: HashSet<usize> = planner.in_flight().collect();
        let expected: HashSet<usize> = started
            .iter()
            .copied()
            .filter(|i| !failed.contains(i) && Some(*i) != winner)
            .collect();
        assert_eq!(in_flight, expected);
        match planner.outcome() {
            Outcome::Connected(i) => assert_eq!(Some(i), winner),
            Outcome::Exhausted => {
                assert!(winner.is_none() && started.len() == count && in_flight.is_empty())
            }
            Outcome::Pending => {
                assert!(winner.is_none() && !(started.len() == count && in_flight.is_empty()))
            }
        }
        match planner.next_deadline() {
            Some(deadline) => {
                assert_eq!(planner.outcome(), Outcome::Pending);
                assert_eq!(Some(deadline), last_start.map(|at| at + delay));
            }
            None => assert!(winner.is_some() || started.len() == count || in_flight.is_empty()),
        }
    }
});
