//! `handover probe`: runs the attempts (a fresh handle each, so nothing is
//! reused between them), streams each to the chosen format, and ends with
//! the summary, the SLO check and the exit code.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::args::{ColorWhen, Format, ProbeArgs};
use crate::attempt::{self, Attempt};
use crate::chain::Chain;
use crate::render::{self, Context};
use crate::stats::Summary;
use crate::{plan, slo, target};

/// Some, not all, repeated attempts failed.
pub const EXIT_SOME_FAILED: i32 = 102;

/// Set by Ctrl+C: stop after the attempt in progress and print the summary.
static STOP: AtomicBool = AtomicBool::new(false);
static PRESSES: AtomicUsize = AtomicUsize::new(0);

pub fn run(args: ProbeArgs, users: Vec<(String, Option<usize>)>) -> i32 {
    let target = match target::parse(&args.target) {
        Ok(t) => t,
        Err(e) => return fail(3, &e),
    };
    let limits = match args.slo.as_deref().map(slo::parse).transpose() {
        Ok(l) => l.unwrap_or_default(),
        Err(e) => return fail(2, &e),
    };
    if !(args.interval >= 0.0 && args.interval.is_finite()) {
        return fail(2, "--interval: expected a number of seconds ≥ 0");
    }
    let quiet = args.chain.quiet;
    let chain = match Chain::new(args.chain, users, true) {
        Ok(c) => c,
        Err(e) => return fail(2, &e),
    };
    let template = match chain.easy(&target) {
        Ok(e) => e,
        Err(e) => return fail(e.code() as i32, e.message()),
    };
    let plan = match plan::plan(&chain, &target, &template) {
        Ok(p) => p,
        Err(e) => return fail(e.code as i32, &e.message),
    };
    let hops: Vec<String> = plan.hops.iter().map(|h| h.url.clone()).collect();
    let color = args.format == Format::Text
        && match args.color {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
    let ctx = Context {
        target,
        hops,
        color,
    };
    // Ctrl+C ends a repeated probe with its summary; a second one ends at once.
    let _ = ctrlc::set_handler(|| {
        STOP.store(true, Ordering::SeqCst);
        if PRESSES.fetch_add(1, Ordering::SeqCst) >= 1 {
            std::process::exit(130);
        }
    });

    let single = args.count == 1;
    let interval = Duration::from_secs_f64(args.interval);
    let started = Instant::now();
    let mut attempts: Vec<Attempt> = Vec::new();
    let mut out = std::io::stdout().lock();
    let mut seq = 0u64;
    while args.count == 0 || seq < args.count {
        if STOP.load(Ordering::SeqCst) {
            break;
        }
        if seq > 0 {
            pause(interval);
            if STOP.load(Ordering::SeqCst) {
                break;
            }
        }
        seq += 1;
        let mut easy = template.duphandle();
        let a = attempt::run(seq, &mut easy, &ctx.target, &ctx.hops);
        drop(easy);
        let text = match args.format {
            Format::Text if quiet => String::new(),
            Format::Text if single => render::text::table(&a, &ctx),
            Format::Text => render::text::ping_line(&a, &ctx) + "\n",
            Format::Ndjson => render::json::attempt(&a, &ctx).to_string() + "\n",
            Format::Csv if seq == 1 => {
                format!("{}\n{}\n", render::csv::HEADER, render::csv::row(&a))
            }
            Format::Csv => render::csv::row(&a) + "\n",
            Format::Json | Format::Prometheus => String::new(),
        };
        let wo = args
            .write_out
            .as_deref()
            .map(|f| render::writeout::expand(f, &a, &ctx))
            .unwrap_or_default();
        let _ = out.write_all(text.as_bytes());
        let _ = out.write_all(wo.stdout.as_bytes());
        let _ = out.flush();
        if !wo.stderr.is_empty() {
            eprint!("{}", wo.stderr);
        }
        if single {
            if let Some(e) = &a.error {
                eprintln!("handover: {}", error_line(e, &ctx));
            }
        }
        attempts.push(a);
    }

    let summary = Summary::of(&attempts, started.elapsed());
    let end = match args.format {
        Format::Text if !single && !quiet => render::text::summary(&summary, &ctx),
        Format::Json => {
            serde_json::to_string_pretty(&render::json::document(&attempts, &summary, &ctx))
                .unwrap_or_default()
                + "\n"
        }
        Format::Ndjson => render::json::summary(&summary, &ctx).to_string() + "\n",
        Format::Prometheus => render::prometheus::render(&attempts, &summary, &ctx),
        _ => String::new(),
    };
    let _ = out.write_all(end.as_bytes());
    let _ = out.flush();
    exit_code(&attempts, &summary, &limits)
}

/// Broken beats slow: when every attempt failed, curl's code of the last
/// one; else a breached SLO is 101; else some failures are 102 (unless a
/// loss threshold accepted them).
fn exit_code(attempts: &[Attempt], summary: &Summary, limits: &[slo::Limit]) -> i32 {
    if let Some(last) = attempts.last() {
        if summary.ok == 0 {
            return last.exit_code() as i32;
        }
    }
    let breaches = slo::breaches(limits, summary);
    if !breaches.is_empty() {
        for b in breaches {
            eprintln!("handover: SLO breached: {b}");
        }
        return slo::EXIT_SLO;
    }
    let loss_accepted = limits.iter().any(|l| matches!(l, slo::Limit::Loss(_)));
    if summary.failed > 0 && !loss_accepted {
        return EXIT_SOME_FAILED;
    }
    0
}

/// `hop 1 http-proxy http://127.0.0.1:3128: <the library's message> (exit 7)`.
pub fn error_line(e: &attempt::Failure, ctx: &Context) -> String {
    let place = match (&e.layer, e.hop) {
        (Some(layer), Some(hop)) if hop >= 1 && hop <= ctx.hops.len() && is_proxy_layer(layer) => {
            format!("hop {hop} {layer} {}: ", ctx.hops[hop - 1])
        }
        // The first connection goes to the first proxy when there is one:
        // its lookup or TCP failing is hop 1's failure.
        (Some(layer), Some(0 | 1))
            if !ctx.hops.is_empty() && matches!(layer.as_str(), "resolve" | "tcp") =>
        {
            let first = &ctx.hops[0];
            format!(
                "hop 1 {} {first}: {layer}: ",
                crate::attempt::hop_layer(first)
            )
        }
        (Some(layer), _) => match &e.peer {
            Some(peer) if !peer.is_empty() => format!("{layer} {peer}: "),
            _ => format!("{layer}: "),
        },
        (None, _) => String::new(),
    };
    format!("{place}{} (exit {})", e.message, e.curl_code)
}

fn is_proxy_layer(layer: &str) -> bool {
    layer.contains("proxy") || layer.starts_with("socks")
}

/// Sleeps `d` in short slices so that Ctrl+C is not kept waiting.
fn pause(d: Duration) {
    let end = Instant::now() + d;
    while !STOP.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= end {
            break;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}

fn fail(code: i32, message: &str) -> i32 {
    eprintln!("handover: {message}");
    code
}
