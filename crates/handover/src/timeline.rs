//! The setup's timeline: every step the engine took to reach the server —
//! each name looked up, each happy-eyeballs attempt, each layer (TLS to a
//! proxy, a SOCKS or CONNECT handshake, TLS to the server, the request) —
//! with its start and end read from the clock when it happened.
//! [`Info::steps`](crate::Info::steps) gives it; libcurl's cumulative times
//! (`namelookup_time`, `connect_time`, `appconnect_time`) are points on it.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::error::ErrorKind;

/// What one step of the setup did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepKind {
    /// A name looked up: by the system resolver, over DoH, or found without
    /// asking (the DNS cache, a `resolve` entry, an IP literal).
    Resolve {
        /// The name.
        host: String,
        /// The addresses it gave, in the order they are tried.
        addrs: Vec<SocketAddr>,
        /// Found without asking anyone.
        cached: bool,
    },
    /// One connection attempt of the happy-eyeballs race to the first hop.
    Connect {
        /// The address tried (`None` for a Unix domain socket).
        addr: Option<SocketAddr>,
        /// This attempt's connection is the one used.
        won: bool,
    },
    /// A layer's handshake: TLS, a proxy's SOCKS or CONNECT exchange, the
    /// protocol's greeting, the HTTP request of connect-only = 2.
    Layer {
        /// What the layer is: `tls`, `socks5h`, `http-proxy`, `request`, …
        name: &'static str,
        /// What it said about itself once done: `TLS 1.3,
        /// TLS_AES_128_GCM_SHA256, ALPN http/1.1`, `407 → Digest → 200`.
        detail: String,
    },
}

/// One step of the setup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// What it was.
    pub kind: StepKind,
    /// Which hop it belongs to: `i` (1-based) for proxy hop `i` — its
    /// lookup and connection when it is the first, the TLS to it, its
    /// handshake; 0 for the server itself — its lookup and connection when
    /// no proxy stands between, its TLS, its request or greeting.
    pub hop: usize,
    /// Who the step talks to: `proxy.example:3128`, `example.com:443`.
    pub peer: String,
    /// When it began, from the start of the transfer.
    pub start: Duration,
    /// How long it took; `None` when it never finished (the transfer failed
    /// or ended during it, or it lost the race).
    pub duration: Option<Duration>,
    /// Why it failed, when it did.
    pub error: Option<ErrorKind>,
}

impl Step {
    /// When it ended, from the start of the transfer.
    pub fn end(&self) -> Option<Duration> {
        self.duration.map(|d| self.start + d)
    }
}

/// The steps of one transfer, as the engine records them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Timeline {
    steps: Vec<Step>,
    /// The layers whose handshakes run now, innermost last: one at a time,
    /// except that TLS a protocol starts (STARTTLS) runs inside the step of
    /// the layer that asked for it.
    open_layers: Vec<StepId>,
}

/// A step's place in the timeline, to finish it later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StepId(usize);

impl Timeline {
    /// Opens a step at `at` (the clock read now), relative to `started`.
    pub fn begin(
        &mut self,
        started: Instant,
        at: Instant,
        kind: StepKind,
        hop: usize,
        peer: String,
    ) -> StepId {
        self.steps.push(Step {
            kind,
            hop,
            peer,
            start: at.saturating_duration_since(started),
            duration: None,
            error: None,
        });
        StepId(self.steps.len() - 1)
    }

    /// Closes a step at `at`.
    pub fn end(&mut self, id: StepId, started: Instant, at: Instant) {
        if let Some(step) = self.steps.get_mut(id.0) {
            if step.duration.is_none() {
                let end = at.saturating_duration_since(started);
                step.duration = Some(end.saturating_sub(step.start));
            }
        }
    }

    /// Marks a step failed (it stays open: it never finished).
    pub fn fail(&mut self, id: StepId, kind: ErrorKind) {
        if let Some(step) = self.steps.get_mut(id.0) {
            if step.duration.is_none() {
                step.error = Some(kind);
            }
        }
    }

    /// A layer's handshake begins.
    pub fn begin_layer(
        &mut self,
        started: Instant,
        at: Instant,
        name: &'static str,
        hop: usize,
        peer: String,
    ) {
        let kind = StepKind::Layer {
            name,
            detail: String::new(),
        };
        let id = self.begin(started, at, kind, hop, peer);
        self.open_layers.push(id);
    }

    /// The innermost running layer's handshake is done.
    pub fn end_layer(&mut self, started: Instant, at: Instant, said: String) {
        if let Some(id) = self.open_layers.pop() {
            if let Some(Step {
                kind: StepKind::Layer { detail, .. },
                ..
            }) = self.get_mut(id)
            {
                *detail = said;
            }
            self.end(id, started, at);
        }
    }

    /// The innermost running layer's handshake failed.
    pub fn fail_layer(&mut self, kind: ErrorKind) {
        if let Some(id) = self.open_layers.pop() {
            self.fail(id, kind);
        }
    }

    /// The connection is given up (a proxy closed it mid-authentication):
    /// the layers that ran on it never finish.
    pub fn abandon_layers(&mut self) {
        self.open_layers.clear();
    }

    /// The step, to fill in what was learned.
    pub fn get_mut(&mut self, id: StepId) -> Option<&mut Step> {
        self.steps.get_mut(id.0)
    }

    /// When the TLS handshake with the server ended, if one did.
    pub fn server_tls_end(&self) -> Option<Duration> {
        self.steps
            .iter()
            .rev()
            .find(|s| matches!(s.kind, StepKind::Layer { name: "tls", .. }) && s.hop == 0)
            .and_then(Step::end)
    }

    /// The latest end of any step.
    pub fn last_end(&self) -> Option<Duration> {
        self.steps.iter().filter_map(Step::end).max()
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }
}
