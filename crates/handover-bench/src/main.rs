//! handover against the system's libcurl, side by side, in one run.
//!
//! ```text
//! handover-bench [--quick] all
//! handover-bench [--quick] async [latency [plain|tls|squid]...] [throughput] [multi [N]...] [hyper]
//! handover-bench [--quick] cli
//! handover-bench [--quick] latency [plain|tls|tls-resumed|squid|socks5]...
//! handover-bench [--quick] throughput [plain|tls]...
//! handover-bench [--quick] multi [plain|tls|names]... [N]...
//! handover-bench callgrind [plain|tls]...
//! handover-bench [--quick] c [latency|throughput|multi]... [plain|tls]...
//! handover-bench once handover|libcurl plain|tls --port P [--cainfo F] [--noop]
//! handover-bench serve plain|tls
//! ```
//!
//! Every figure is taken with the contenders alternating in one run, and
//! reported as a ratio: absolute times on a shared machine drift, ratios
//! taken side by side do not (much).

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod asynch;
mod c;
mod callgrind;
mod cli;
mod echo;
mod latency;
mod multi;
mod sys;
mod throughput;

use std::fmt::Write as _;
use std::process::exit;
use std::sync::Arc;

use handover_test_support::{peers, real_peers};

/// Parsed command line: the subcommand's words and the flags.
pub struct Args {
    pub quick: bool,
    pub noop: bool,
    pub port: Option<u16>,
    pub cainfo: Option<String>,
    pub words: Vec<String>,
}

fn parse_args() -> Args {
    let mut args = Args {
        quick: false,
        noop: false,
        port: None,
        cainfo: None,
        words: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => args.quick = true,
            "--noop" => args.noop = true,
            "--port" => args.port = it.next().and_then(|p| p.parse().ok()),
            "--cainfo" => args.cainfo = it.next(),
            "-h" | "--help" => usage(0),
            _ => args.words.push(a),
        }
    }
    args
}

fn usage(code: i32) -> ! {
    eprintln!(
        "usage: handover-bench [--quick] all | latency [plain|tls|tls-resumed|squid|socks5].. | \
         throughput [plain|tls].. | multi [plain|tls|names].. [N].. | callgrind [plain|tls].. | \
         c [latency|throughput|multi].. [plain|tls].. | async [latency [plain|tls|squid]..] [throughput] [multi [N]..] [hyper] | cli | once handover|libcurl plain|tls --port P [--cainfo F] [--noop] | serve plain|tls"
    );
    exit(code)
}

fn main() {
    let args = parse_args();
    let Some(cmd) = args.words.first().cloned() else {
        usage(2)
    };
    let rest: Vec<String> = args.words[1..].to_vec();
    match cmd.as_str() {
        "all" => {
            machine_header();
            latency::run(&args, &[]);
            throughput::run(&args, &[]);
            multi::run(&args, &[]);
            callgrind::run(&args, &[]);
            c::run(&args, &[]);
            asynch::run(&args, &[]);
        }
        "latency" => {
            machine_header();
            latency::run(&args, &rest)
        }
        "throughput" => {
            machine_header();
            throughput::run(&args, &rest)
        }
        "multi" => {
            machine_header();
            multi::run(&args, &rest)
        }
        "callgrind" => {
            machine_header();
            callgrind::run(&args, &rest)
        }
        "c" => {
            machine_header();
            c::run(&args, &rest)
        }
        "async" => {
            machine_header();
            asynch::run(&args, &rest)
        }
        "cli" => {
            machine_header();
            cli::run(&args, &rest)
        }
        "once" => callgrind::once(&args, &rest),
        "serve" => callgrind::serve(&rest),
        "library-loop" => cli::library_loop_child(&rest),
        "multi-child" => multi::child(&rest, &|who, run| {
            // The async face (`handover-bench async multi`).
            (who == "async").then(|| asynch::child_async(run))
        }),
        _ => usage(2),
    }
}

/// The machine and the libcurl the numbers come from.
fn machine_header() {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "?".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "# machine: {cores} cores, {cpu}; libcurl {}",
        curl::Version::get().version()
    );
}

impl Default for Tls {
    fn default() -> Self {
        Tls::new()
    }
}

/// A test PKI and the TLS server config of the peers; the CA written to a file.
pub struct Tls {
    pub pki: peers::TestPki,
    pub config: Arc<rustls::ServerConfig>,
    pub ca_file: std::path::PathBuf,
}

impl Tls {
    pub fn new() -> Tls {
        let pki = peers::TestPki::new();
        let config = pki.server_config();
        let ca_file = pki.write_temp("ca.pem", &pki.ca_pem);
        Tls {
            pki,
            config,
            ca_file,
        }
    }

    /// A rustls client config trusting the test CA, offering ALPN http/1.1
    /// (as handover does): the floor's client.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from(
                self.pki.ca_der.clone(),
            ))
            .expect("the test CA is a trust anchor");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(cfg)
    }
}

/// Prints a table: a title, a header row and rows, columns padded.
pub fn table(title: &str, header: &[&str], rows: &[Vec<String>]) {
    let cols = header.len();
    let mut width: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(cols) {
            width[i] = width[i].max(c.len());
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "\n## {title}\n");
    let line = |cells: Vec<&str>, out: &mut String| {
        out.push('|');
        for (i, c) in cells.iter().enumerate() {
            if i == 0 {
                let _ = write!(out, " {:<w$} |", c, w = width[i]);
            } else {
                let _ = write!(out, " {:>w$} |", c, w = width[i]);
            }
        }
        out.push('\n');
    };
    line(header.to_vec(), &mut out);
    out.push('|');
    for (i, w) in width.iter().enumerate() {
        if i == 0 {
            let _ = write!(out, "{}|", "-".repeat(w + 2));
        } else {
            let _ = write!(out, "{}:|", "-".repeat(w + 1));
        }
    }
    out.push('\n');
    for r in rows {
        line(r.iter().map(String::as_str).collect(), &mut out);
    }
    print!("{out}");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
}

/// `a / b` formatted as a ratio, or "-".
pub fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 && a.is_finite() && b.is_finite() {
        format!("{:.2}×", a / b)
    } else {
        "-".into()
    }
}

/// Prints a note line under a table.
pub fn note(text: &str) {
    println!("\n{text}");
}
