//! `handover exporter`: blackbox_exporter's `/probe` endpoint, so that a
//! Prometheus server scrapes handover the way it scrapes blackbox_exporter
//! (`GET /probe?target=…&module=…`, the answer in Prometheus text). Each
//! module is a chain — its flags written as on the command line — read
//! from a TOML file once at start:
//!
//! ```toml
//! [modules.corp]
//! args = ["-x", "http://proxy.corp:3128", "--proxy-digest", "-U", "alice"]
//! password_env = "CORP_PROXY_PASSWORD"   # the password of a -U without one
//! timeout = 5.0                          # seconds for the whole probe
//! ```
//!
//! `password_file` or `password_cmd` may stand for `password_env`, as in
//! the config file's chains; `args` may name one of those (`-x @corp`).
//!
//! A probe runs on a thread of its own; at most `--max-concurrent` run at
//! once (more get 503 at once, as an overloaded exporter should answer).
//! Passwords live only in memory: the metrics carry the target, the
//! module's hops without credentials, and the timings.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::args::{ExporterArgs, TargetArgs};
use crate::chain::{Chain, Passwords};
use crate::config;
use crate::password::PasswordSource;
use crate::render::{self, Context};
use crate::stats::Summary;
use crate::{attempt, plan, target};

/// The longest request head read; longer is a bad request.
const HEAD_LIMIT: usize = 8 * 1024;

/// How long a client may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// The modules file.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    modules: BTreeMap<String, ModuleConfig>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ModuleConfig {
    /// The chain flags, as on the command line.
    #[serde(default)]
    args: Vec<String>,
    /// The environment variable holding the password of a `-U USER`.
    password_env: Option<String>,
    /// A file whose first line is that password.
    password_file: Option<std::path::PathBuf>,
    /// A command (`sh -c`) whose first line of output is that password.
    password_cmd: Option<String>,
    /// Seconds a probe of this module may take in all.
    timeout: Option<f64>,
}

/// A module, checked and with its passwords read.
struct Module {
    /// Its chain, resolved once at start and used by every scrape.
    chain: Chain,
    timeout: Duration,
}

impl Module {
    fn load(name: &str, module: ModuleConfig, cap: Duration) -> Result<Module, String> {
        let what = format!("module {name}");
        let (args, users) =
            config::chain_flags(&module.args).map_err(|e| format!("{what}: {e}"))?;
        let password = PasswordSource::one_of(
            module.password_env.as_deref(),
            module.password_file.as_ref(),
            module.password_cmd.as_deref(),
            &what,
        )?;
        let timeout = match module.timeout {
            Some(t) if t.is_finite() && t > 0.0 => Duration::from_secs_f64(t).min(cap),
            Some(t) => return Err(format!("{what}: timeout {t}: expected seconds > 0")),
            None => cap,
        };
        // A module that cannot make a chain fails now, not at each scrape.
        let chain = Chain::resolve(args, users, Passwords::NoPrompt, password)
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(Module { chain, timeout })
    }
}

/// The exporter's own counters, for `/metrics`.
#[derive(Default)]
struct Counters {
    probes: AtomicU64,
    failed: AtomicU64,
    refused_busy: AtomicU64,
    in_flight: AtomicUsize,
}

struct Exporter {
    modules: BTreeMap<String, Module>,
    max_concurrent: usize,
    counters: Counters,
}

/// Runs the exporter until the process is stopped; returns an exit code
/// only when it cannot start.
pub fn run(args: ExporterArgs) -> i32 {
    let config: Config = match config::read_toml(&args.config) {
        Ok(c) => c,
        Err(e) => return fail(2, &e),
    };
    let cap = Duration::from_secs_f64(args.timeout.max(0.001));
    let mut modules = BTreeMap::new();
    for (name, module) in config.modules {
        match Module::load(&name, module, cap) {
            Ok(m) => {
                modules.insert(name, m);
            }
            Err(e) => return fail(2, &e),
        }
    }
    let listener = match TcpListener::bind(&args.listen) {
        Ok(l) => l,
        Err(e) => return fail(2, &format!("cannot listen on {}: {e}", args.listen)),
    };
    if let Ok(addr) = listener.local_addr() {
        eprintln!(
            "handover: exporter listening on {addr} ({} module{})",
            modules.len(),
            if modules.len() == 1 { "" } else { "s" }
        );
    }
    let exporter = Arc::new(Exporter {
        modules,
        max_concurrent: args.max_concurrent.max(1),
        counters: Counters::default(),
    });
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let exporter = Arc::clone(&exporter);
        std::thread::spawn(move || exporter.serve(stream));
    }
    0
}

impl Exporter {
    /// Answers one request on `stream`, then closes it.
    fn serve(&self, mut stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(HEAD_TIMEOUT));
        let (status, content_type, body) = match read_request_target(&stream) {
            Ok(target) => self.route(&target),
            Err(why) => (400, "text/plain", format!("{why}\n")),
        };
        let reason = match status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            _ => "Service Unavailable",
        };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(body.as_bytes());
    }

    fn route(&self, request_target: &str) -> (u16, &'static str, String) {
        const METRICS: &str = "text/plain; version=0.0.4; charset=utf-8";
        let (path, query) = request_target
            .split_once('?')
            .unwrap_or((request_target, ""));
        match path {
            "/probe" => {
                let params = parse_query(query);
                let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
                let Some(target) = get("target").filter(|t| !t.is_empty()) else {
                    return (400, "text/plain", "target parameter is missing\n".into());
                };
                let name = get("module").unwrap_or("default");
                let Some(module) = self.modules.get(name) else {
                    return (400, "text/plain", format!("unknown module \"{name}\"\n"));
                };
                match self.admit() {
                    Some(_slot) => match self.probe(module, target) {
                        Ok(body) => (200, METRICS, body),
                        Err(why) => (400, "text/plain", format!("{why}\n")),
                    },
                    None => (
                        503,
                        "text/plain",
                        format!("{} probes already running\n", self.max_concurrent),
                    ),
                }
            }
            "/metrics" => (200, METRICS, self.own_metrics()),
            "/" => (
                200,
                "text/plain",
                format!(
                    "handover exporter: GET /probe?target=HOST:PORT&module=NAME\nmodules: {}\n",
                    self.modules.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ),
            _ => (404, "text/plain", "not found\n".into()),
        }
    }

    /// One probe of `target` through `module`: Prometheus text.
    fn probe(&self, module: &Module, target: &str) -> Result<String, String> {
        let target = target::parse(&TargetArgs {
            target: target.to_owned(),
            port: None,
        })?;
        let chain = &module.chain;
        let mut easy = chain.easy(&target).map_err(|e| e.to_string())?;
        let plan = plan::plan(chain, &target, &easy).map_err(|e| e.message)?;
        let hops: Vec<String> = plan.hops.iter().map(|h| h.url.clone()).collect();
        // The module's time limit bounds the whole probe, its connect
        // phase included.
        easy.timeout(module.timeout).map_err(|e| e.to_string())?;
        easy.connect_timeout(module.timeout)
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        let a = attempt::run(1, &mut easy, &target, &hops);
        self.counters.probes.fetch_add(1, Ordering::Relaxed);
        if !a.ok() {
            self.counters.failed.fetch_add(1, Ordering::Relaxed);
        }
        let attempts = [a];
        let summary = Summary::of(&attempts, started.elapsed());
        let ctx = Context {
            target,
            hops,
            color: false,
        };
        Ok(render::prometheus::render(&attempts, &summary, &ctx))
    }

    /// A slot for one probe, or `None` when all are taken.
    fn admit(&self) -> Option<Slot<'_>> {
        let in_flight = &self.counters.in_flight;
        let mut now = in_flight.load(Ordering::Relaxed);
        loop {
            if now >= self.max_concurrent {
                self.counters.refused_busy.fetch_add(1, Ordering::Relaxed);
                return None;
            }
            match in_flight.compare_exchange(now, now + 1, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return Some(Slot(in_flight)),
                Err(actual) => now = actual,
            }
        }
    }

    fn own_metrics(&self) -> String {
        let c = &self.counters;
        format!(
            "# HELP handover_exporter_probes_total Probes run.\n\
             # TYPE handover_exporter_probes_total counter\n\
             handover_exporter_probes_total {}\n\
             # HELP handover_exporter_probe_failures_total Probes whose connection setup failed.\n\
             # TYPE handover_exporter_probe_failures_total counter\n\
             handover_exporter_probe_failures_total {}\n\
             # HELP handover_exporter_busy_total Probe requests refused with 503: too many running.\n\
             # TYPE handover_exporter_busy_total counter\n\
             handover_exporter_busy_total {}\n\
             # HELP handover_exporter_probes_in_flight Probes running now.\n\
             # TYPE handover_exporter_probes_in_flight gauge\n\
             handover_exporter_probes_in_flight {}\n",
            c.probes.load(Ordering::Relaxed),
            c.failed.load(Ordering::Relaxed),
            c.refused_busy.load(Ordering::Relaxed),
            c.in_flight.load(Ordering::Relaxed),
        )
    }
}

/// A running probe's place; given back when dropped.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Reads the request head and returns its target (`/probe?…`); only GET.
fn read_request_target(stream: &TcpStream) -> Result<String, String> {
    let mut reader = BufReader::new(stream.take(HEAD_LIMIT as u64));
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .map_err(|e| format!("reading the request: {e}"))?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err("not an HTTP request".into());
    };
    if !version.starts_with("HTTP/1.") {
        return Err("not an HTTP/1 request".into());
    }
    if method != "GET" {
        return Err(format!("method {method}: only GET is served"));
    }
    // The rest of the head: read to its end, within the limit.
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) => return Err("the request head did not end".into()),
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {}
            Err(e) => return Err(format!("reading the request: {e}")),
        }
    }
    Ok(target.to_owned())
}

/// `a=1&b=x%20y` → [("a", "1"), ("b", "x y")], `+` as a space.
fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|c| (*c as char).to_digit(16));
        match b {
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn fail(code: i32, message: &str) -> i32 {
    eprintln!("handover: {message}");
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_percent_decoded() {
        assert_eq!(
            parse_query("target=%5B%3A%3A1%5D%3A443&module=corp+x&x"),
            [
                ("target".to_owned(), "[::1]:443".to_owned()),
                ("module".to_owned(), "corp x".to_owned()),
                ("x".to_owned(), String::new()),
            ]
        );
        assert_eq!(decode("%zz%4"), "%zz%4");
    }
}
