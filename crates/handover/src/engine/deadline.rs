//! Deadlines: the connect budget until the connection is set up, then only
//! `timeout`; and the message a timeout gives, naming the step the
//! transfer was in and who it waited for.

use std::time::Instant;

use super::{Deadlines, Phase, Transfer};
use crate::error::{Error, ErrorKind};

impl Deadlines {
    /// Connected: from here only `timeout` bounds the transfer.
    pub(super) fn connected(&mut self) {
        self.current = self.overall.and_then(|t| self.started.checked_add(t));
        self.budget = self.overall.unwrap_or(self.budget);
    }

    /// A fresh connection after a dead pooled one gets the connect budget
    /// again.
    pub(super) fn fresh_connect(&mut self, now: Instant) {
        self.current = now.checked_add(self.connect);
        self.budget = self.connect;
    }
}

impl Transfer {
    pub(super) fn timeout_error(&self) -> Error {
        let ms = self.time.budget.as_millis();
        let (host, port) = self.first_hop();
        let msg = match &self.phase {
            Phase::Resolve(jobs) => {
                let names: Vec<&str> = jobs.iter().map(|j| j.host.as_str()).collect();
                format!(
                    "Resolving timed out after {ms} milliseconds (resolving {})",
                    names.join(", ")
                )
            }
            Phase::Connect(racer) => {
                let trying: Vec<String> = racer
                    .in_flight_targets()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                format!(
                    "Failed to connect to {host} port {port} after {ms} ms: Timeout was reached \
                     (trying {})",
                    trying.join(", ")
                )
            }
            Phase::Setup(stack) => {
                let step = stack
                    .step()
                    .unwrap_or_else(|| format!("connected to {}", stack.peer()));
                format!(
                    "Connection to {} port {} timed out after {ms} ms {step}",
                    self.target.connect_host, self.target.connect_port,
                )
            }
            Phase::Request { stack, .. } => {
                let step = stack
                    .step()
                    .unwrap_or_else(|| format!("connected to {}", stack.peer()));
                format!("Operation timed out after {ms} ms {step}")
            }
            Phase::AuthDrain { .. } => format!(
                "Operation timed out after {ms} ms reading the 401 from {}",
                self.target.connect_host
            ),
            Phase::Body { .. } | Phase::WsStream(..) => format!(
                "Operation timed out after {ms} ms reading the response from {}",
                self.target.connect_host
            ),
            Phase::Done(_) => format!("timed out after {ms} ms"),
        };
        Error::new(ErrorKind::OperationTimedout, msg)
    }
}
