//! Connect: happy eyeballs to the first hop (the first proxy, or the
//! target), then the route's layers are stacked on the socket
//! (route_stack.rs) and setup begins.

use std::time::Instant;

use super::{Phase, Transfer};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::layer::Stack;
use crate::tcp::{AttemptRecord, Racer};
use crate::timeline::StepKind;
use crate::verbose::log_info;

impl Transfer {
    /// Drives the connection attempts; `true` once one succeeded.
    pub(super) fn connect_step(&mut self, now: Instant) -> Result<bool, Error> {
        let Phase::Connect(racer) = &mut self.phase else {
            return Ok(true);
        };
        let connected = racer.drive(now, &self.settings.log);
        if !matches!(connected, Ok(None)) {
            // The race is over: its attempts go into the timeline.
            let attempts = racer.take_attempts();
            self.record_attempts(attempts);
        }
        let connected = connected.map_err(|e| {
            let (host, port) = self.first_hop();
            Error::new(
                e.kind(),
                format!(
                    "Failed to connect to {host} port {port} after {} ms: {e}",
                    now.saturating_duration_since(self.time.started).as_millis()
                ),
            )
            .with_errno(e.os_errno())
        })?;
        let Some(c) = connected else {
            return Ok(false);
        };
        self.winner = u32::try_from(c.attempt).unwrap_or(u32::MAX);
        let stack = self.connected(c, now)?;
        self.phase = Phase::Setup(stack);
        Ok(true)
    }

    /// Puts the race's attempts into the timeline; the winner's end is
    /// libcurl's connect time (of the transfer's first connection).
    fn record_attempts(&mut self, attempts: Vec<AttemptRecord>) {
        let hop = usize::from(!self.route.hops.is_empty());
        let started = self.time.started;
        for attempt in attempts {
            let kind = StepKind::Connect {
                addr: attempt.target.ip(),
                won: attempt.won,
            };
            let timeline = &mut self.info.timeline;
            let step = timeline.begin(
                started,
                attempt.start,
                kind,
                hop,
                attempt.target.to_string(),
            );
            if let Some(kind) = attempt.failed {
                timeline.fail(step, kind);
            }
            if let Some(end) = attempt.end {
                timeline.end(step, started, end);
                if attempt.won && self.info.num_connects == 0 {
                    self.info.connect = end.saturating_duration_since(started);
                }
            }
        }
    }

    /// TFTP: a UDP socket bound for the first address, not connected and
    /// with nothing sent, handed over as it is (libcurl's TFTP connect).
    pub(super) fn open_datagram(&mut self) -> Result<(), Error> {
        let Some(&addr) = self.first_addrs.first() else {
            let (host, _) = self.first_hop();
            return Err(Error::new(
                crate::error::ErrorKind::CouldntResolveHost,
                format!("Could not resolve host: {host} (no address)"),
            ));
        };
        let socket = crate::udp::open_bound(addr, &self.settings.socket, &self.settings.hooks)?;
        self.info.primary = Some(Endpoint::Ip(addr));
        self.info.primary_port = addr.port();
        self.info.local = crate::endpoint::local_ip(&socket);
        self.info.num_connects += 1;
        // A UDP socket is "connected" once bound, as libcurl times it.
        self.info.connect = std::time::Instant::now().saturating_duration_since(self.time.started);
        log_info!(
            self.settings.log,
            "UDP socket bound for {} ({addr}): nothing sent",
            self.first_hop().0
        );
        let stack = Stack::new(socket, Endpoint::Ip(addr));
        self.info.conn_id = stack.id();
        self.prereq()?;
        self.hand_over(stack);
        Ok(())
    }

    /// Starts racing the first hop's addresses (again, after a reconnect),
    /// on a new connection.
    pub(super) fn race_first_hop(&mut self) {
        self.new_descriptors();
        let targets = match &self.settings.unix_socket {
            Some(path) => vec![Endpoint::Unix(path.clone())],
            None => self.first_addrs.iter().copied().map(Endpoint::Ip).collect(),
        };
        self.phase = Phase::Connect(Racer::new(
            targets,
            self.settings.happy_eyeballs,
            &self.settings.socket,
            &self.settings.hooks,
        ));
    }
}
