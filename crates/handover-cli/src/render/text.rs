//! Text for people: the per-layer table of one attempt (with a
//! proportional bar on a terminal), ping-style lines when repeating, and
//! the statistics table at the end.

use std::fmt::Write as _;
use std::time::Duration;

use super::Context;
use crate::attempt::Attempt;
use crate::stats::Summary;

const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const RESET: &str = "\x1b[0m";
/// Colours of consecutive layers in the bar.
const BAR_COLOURS: [&str; 5] = ["\x1b[36m", "\x1b[33m", "\x1b[35m", "\x1b[34m", "\x1b[32m"];
const BAR_WIDTH: usize = 60;

/// A duration with a unit that keeps 3 significant digits: µs, ms or s.
pub fn human(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 1e6 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

fn paint(on: bool, style: &str, s: &str) -> String {
    if on {
        format!("{style}{s}{RESET}")
    } else {
        s.to_owned()
    }
}

/// The header line of a single probe.
pub fn header(ctx: &Context) -> String {
    let via = match ctx.hops.len() {
        0 => String::new(),
        1 => " via 1 proxy".to_owned(),
        n => format!(" via {n} proxies"),
    };
    format!(
        "handover → {} ({}){via}\n",
        ctx.target.authority(),
        ctx.target.goal()
    )
}

/// The per-layer table of one attempt.
pub fn table(a: &Attempt, ctx: &Context) -> String {
    let c = ctx.color;
    let mut s = header(ctx);
    let _ = writeln!(s);
    let peer_w = a
        .rows
        .iter()
        .map(|r| r.peer.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 40);
    let layer_w = a
        .rows
        .iter()
        .map(|r| r.layer.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(
        s,
        "  {}",
        paint(
            c,
            BOLD,
            &format!(
                "{:>2}  {:<layer_w$}  {:<peer_w$}  {:>9}  {:>9}  detail",
                "#", "layer", "peer", "at", "took"
            )
        )
    );
    for (i, r) in a.rows.iter().enumerate() {
        let took = match (r.took, r.failed) {
            (Some(t), _) => human(t),
            (None, true) => "failed".to_owned(),
            (None, false) => "—".to_owned(),
        };
        let line = format!(
            "{:>2}  {:<layer_w$}  {:<peer_w$}  {:>9}  {:>9}  {}",
            i + 1,
            r.layer,
            r.peer,
            human(r.at),
            took,
            r.detail
        );
        let style = if r.failed {
            RED
        } else if r.lost {
            DIM
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "  {}",
            if style.is_empty() {
                line
            } else {
                paint(c, style, &line)
            }
        );
    }
    match &a.error {
        None => {
            let mut path: Vec<String> = a.local.iter().map(|l| l.to_string()).collect();
            path.extend(ctx.hops.iter().cloned());
            path.push(ctx.target.authority());
            let _ = writeln!(
                s,
                "      {} in {}   {}",
                paint(c, GREEN, "connected"),
                human(a.total),
                path.join(" → ")
            );
        }
        Some(e) => {
            let _ = writeln!(
                s,
                "      {} after {} (exit {}): {}",
                paint(c, RED, "FAILED"),
                human(a.total),
                e.curl_code,
                e.message
            );
        }
    }
    if c {
        s.push_str(&bar(a));
    }
    s
}

/// A bar whose segments are proportional to each layer's duration.
fn bar(a: &Attempt) -> String {
    let phases = a.phases();
    let total: f64 = phases.iter().map(|(_, _, d)| d.as_secs_f64()).sum();
    if total <= 0.0 {
        return String::new();
    }
    let mut labels = String::new();
    let mut bar = String::new();
    for (i, (name, _, d)) in phases.iter().enumerate() {
        let w = ((d.as_secs_f64() / total) * BAR_WIDTH as f64)
            .round()
            .max(1.0) as usize;
        let colour = BAR_COLOURS[i % BAR_COLOURS.len()];
        bar.push_str(&format!("{colour}{}{RESET}", "█".repeat(w)));
        // One column of each segment stays blank, so that two labels
        // never run together ("resolvetcp").
        let label: String = name.chars().take(w - 1).collect();
        labels.push_str(&format!("{label:<w$}"));
    }
    format!("\n  {labels}\n  {bar}\n")
}

/// One ping-style line of a repeated probe.
pub fn ping_line(a: &Attempt, ctx: &Context) -> String {
    let c = ctx.color;
    match &a.error {
        None => {
            let phases: Vec<String> = a
                .phases()
                .iter()
                .map(|(n, _, d)| format!("{n}={:.1}", d.as_secs_f64() * 1000.0))
                .collect();
            format!(
                "seq={} {}  total={:.1} ms  {}",
                a.seq,
                paint(c, GREEN, "ok"),
                a.total.as_secs_f64() * 1000.0,
                phases.join(" ")
            )
        }
        Some(e) => format!(
            "seq={} {} after {:.1} ms  {}{} (exit {})",
            a.seq,
            paint(c, RED, "FAIL"),
            a.total.as_secs_f64() * 1000.0,
            e.layer
                .as_ref()
                .map(|l| format!("{l}: "))
                .unwrap_or_default(),
            e.message,
            e.curl_code
        ),
    }
}

/// The statistics at the end of a repeated probe.
pub fn summary(s: &Summary, ctx: &Context) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "--- {} ---", ctx.route());
    let _ = writeln!(
        out,
        "{} attempts, {} ok, {} failed ({:.1} % loss) in {}; longest failure streak {}",
        s.attempts,
        s.ok,
        s.failed,
        s.loss_pct,
        human(s.elapsed),
        s.longest_failure_streak
    );
    if s.phases.is_empty() {
        return out;
    }
    let w = s
        .phases
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(
        out,
        "{:<w$} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}   (ms)",
        "phase", "min", "p50", "p90", "p99", "max", "mean", "stddev"
    );
    for p in &s.phases {
        let _ = writeln!(
            out,
            "{:<w$} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
            p.name, p.min, p.p50, p.p90, p.p99, p.max, p.mean, p.stddev
        );
    }
    out
}
