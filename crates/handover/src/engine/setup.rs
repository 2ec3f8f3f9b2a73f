//! Setup: the layers on the socket connect one after the other — TLS to
//! an HTTPS proxy, each SOCKS or CONNECT handshake, TLS to the target. A
//! proxy that closes mid-authentication gets a new connection; then the
//! request goes out (connect-only = 2, ordinary transfers) or the
//! connection is handed over (connect-only = 1).

use std::time::Instant;

use super::{Ending, Phase, Transfer};
use crate::error::{Error, ErrorKind};
use crate::layer::{ConnectCx, Progress};
use crate::verbose::log_info;

/// New connections one transfer may open for proxy authentication.
const MAX_RECONNECTS: u32 = 5;

impl Transfer {
    /// Advances the layers; `true` once the phase moved on.
    pub(super) fn setup_step(&mut self, now: Instant) -> Result<bool, Error> {
        let Phase::Setup(stack) = &mut self.phase else {
            return Ok(true);
        };
        let mut cx = ConnectCx {
            log: &self.settings.log,
            steps: Some((&mut self.info.timeline, self.time.started)),
        };
        let progress = stack.connect(&mut cx);
        stack.report(&mut self.info);
        match progress? {
            Progress::Pending => Ok(false),
            Progress::StartTls => {
                let peer = stack.peer().clone();
                let tls = self.start_tls_layer(peer)?;
                if let Phase::Setup(stack) = &mut self.phase {
                    stack.start_tls(
                        Box::new(tls),
                        &mut ConnectCx {
                            log: &self.settings.log,
                            steps: Some((&mut self.info.timeline, self.time.started)),
                        },
                    );
                }
                Ok(true)
            }
            Progress::Reconnect => {
                self.info.timeline.abandon_layers();
                for (hop, memory) in stack.take_carry_over() {
                    if let Some(slot) = self.carried.get_mut(hop) {
                        *slot = Some(memory);
                    }
                }
                self.reconnects += 1;
                if self.reconnects > MAX_RECONNECTS {
                    let (host, port) = self.first_hop();
                    return Err(Error::new(
                        ErrorKind::CouldntConnect,
                        format!(
                            "proxy {host}:{port} closed the connection {MAX_RECONNECTS} times \
                             during authentication"
                        ),
                    ));
                }
                log_info!(self.settings.log, "Connect me again please");
                self.race_first_hop();
                Ok(true)
            }
            Progress::Done => {
                // libcurl's moment: the end of the server's TLS step in the
                // timeline (before an FTPS login, say), else, through an
                // HTTPS proxy, the end of the setup.
                if let Some(end) = self.info.timeline.server_tls_end() {
                    self.info.appconnect = end;
                } else if self.route.hops.iter().any(|h| h.tls.is_some()) {
                    self.info.appconnect = self
                        .info
                        .timeline
                        .last_end()
                        .unwrap_or_else(|| now.saturating_duration_since(self.time.started));
                }
                let Phase::Setup(stack) =
                    std::mem::replace(&mut self.phase, Phase::Resolve(Vec::new()))
                else {
                    return Ok(true);
                };
                self.prereq()?;
                if self.http.is_some() {
                    self.send_request(stack, false, now)?;
                } else {
                    self.hand_over(stack);
                }
                Ok(true)
            }
        }
    }

    /// Calls the application's pre-request function, if any, once the
    /// connection is set up and before the request (or the hand-over):
    /// `false` from it fails the transfer with `AbortedByCallback` (42),
    /// as libcurl's `CURL_PREREQFUNC_ABORT`.
    pub(super) fn prereq(&mut self) -> Result<(), Error> {
        let Some(prereq) = &self.settings.prereq else {
            return Ok(());
        };
        let unspecified = std::net::SocketAddr::from(([0u8; 4], 0));
        let primary = self.info.primary_addr().unwrap_or(unspecified);
        let local = self.info.local.unwrap_or(unspecified);
        if prereq.call(primary, local) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::AbortedByCallback,
                "operation aborted by pre-request callback",
            ))
        }
    }

    /// The transfer's end for connect-only: the connection is the
    /// application's.
    pub(super) fn hand_over(&mut self, stack: crate::layer::Stack) {
        log_info!(
            self.settings.log,
            "Connection to {} port {} is set up; handing it over",
            self.target.connect_host,
            self.target.connect_port
        );
        self.phase = Phase::Done(Ending::HandOver(stack));
    }
}
