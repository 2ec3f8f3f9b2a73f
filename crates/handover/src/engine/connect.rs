//! Connect: happy eyeballs to the first hop (the first proxy, or the
//! target), then the route's layers are stacked on the socket
//! (route_stack.rs) and setup begins.

use std::time::Instant;

use super::{Phase, Transfer};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::tcp::Racer;

impl Transfer {
    /// Drives the connection attempts; `true` once one succeeded.
    pub(super) fn connect_step(&mut self, now: Instant) -> Result<bool, Error> {
        let Phase::Connect(racer) = &mut self.phase else {
            return Ok(true);
        };
        let connected = racer.drive(now, &self.settings.log);
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
