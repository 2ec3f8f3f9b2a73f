//! The renderers: one file per output format, all reading the same
//! [`Attempt`](crate::attempt::Attempt)s and [`Summary`](crate::stats::Summary).

pub mod csv;
pub mod json;
pub mod prometheus;
pub mod text;
pub mod writeout;

use crate::target::Target;

/// What every renderer needs besides the attempts.
pub struct Context {
    pub target: Target,
    /// The proxy hops as the plan found them, without credentials.
    pub hops: Vec<String>,
    /// ANSI colour and the bar (a terminal, NO_COLOR unset, or --color always).
    pub color: bool,
}

impl Context {
    /// `127.0.0.1:8443 via http://127.0.0.1:3128 → socks5h://…`.
    pub fn route(&self) -> String {
        match self.hops.is_empty() {
            true => self.target.authority(),
            false => format!("{} via {}", self.target.authority(), self.hops.join(" → ")),
        }
    }
}
