//! One probe attempt as every renderer sees it: the rows of the setup
//! (one per step the engine recorded, or — until the engine records steps —
//! rows derived from `Info`'s cumulative times), curl's cumulative times,
//! the addresses, and the failure with the layer and hop that failed.

use std::time::{Duration, UNIX_EPOCH};

use handover::{Easy, Info, Step, StepKind};

use crate::target::Target;

/// One row of the table: a step of the setup.
#[derive(Clone, Debug)]
pub struct Row {
    /// `resolve`, `tcp`, `tls`, `http-proxy`, `socks5h`, `request`, …
    pub layer: String,
    /// `i` for proxy hop `i` (its lookup, connection, TLS, handshake), 0
    /// for the server's own steps (the library's numbering, `Step::hop`).
    pub hop: usize,
    pub peer: String,
    pub at: Duration,
    /// `None` when it never finished (failed, cut off, lost the race).
    pub took: Option<Duration>,
    pub detail: String,
    pub failed: bool,
    /// A happy-eyeballs attempt that lost: shown, not counted in stats.
    pub lost: bool,
}

/// Why an attempt failed.
#[derive(Clone, Debug)]
pub struct Failure {
    pub curl_code: u32,
    /// libcurl's name, `CURLE_COULDNT_CONNECT`.
    pub curl_name: &'static str,
    pub message: String,
    pub layer: Option<String>,
    pub hop: Option<usize>,
    /// The peer of the failing layer (`127.0.0.1:3128`).
    pub peer: Option<String>,
}

/// One attempt, finished.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub seq: u64,
    pub rows: Vec<Row>,
    /// Whether `rows` came from the engine's timeline (else from `Info`).
    pub from_steps: bool,
    pub total: Duration,
    pub namelookup: Duration,
    pub connect: Duration,
    pub appconnect: Duration,
    pub pretransfer: Duration,
    pub remote: Option<std::net::SocketAddr>,
    pub local: Option<std::net::SocketAddr>,
    pub http_connect: u32,
    pub http_code: u32,
    pub num_connects: u32,
    pub alpn: Option<String>,
    /// The TLS version and cipher suite agreed with the target.
    pub tls_version: Option<String>,
    pub tls_cipher: Option<String>,
    /// curl's `ssl_verify_result` (0: the certificate was verified).
    pub ssl_verify_result: i64,
    /// The server certificate's notAfter, seconds since the epoch.
    pub cert_expiry: Option<i64>,
    pub error: Option<Failure>,
}

impl Attempt {
    /// Whole days until the server certificate expires (negative: past).
    pub fn cert_expiry_days(&self) -> Option<i64> {
        let now = std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        self.cert_expiry.map(|at| (at - now).div_euclid(86_400))
    }

    pub fn ok(&self) -> bool {
        self.error.is_none()
    }

    /// The exit code of this attempt: curl's number, 0 on success.
    pub fn exit_code(&self) -> u32 {
        self.error.as_ref().map_or(0, |e| e.curl_code)
    }

    /// The handshake row of proxy hop `n` (1-based), if it began.
    pub fn hop_row(&self, n: usize) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.hop == n && is_proxy_handshake(&r.layer))
    }

    /// When the last proxy's tunnel was up, from the start (curl has no
    /// such time: its pretransfer also counts the server's TLS).
    pub fn tunnel_done(&self) -> Option<Duration> {
        self.rows
            .iter()
            .filter(|r| is_proxy_handshake(&r.layer) && !r.failed)
            .filter_map(|r| Some(r.at + r.took?))
            .max()
    }

    /// `(phase name, duration)` of each finished row, the names unique
    /// within the attempt (a second `tls` becomes `tls@2`, keyed by hop),
    /// happy-eyeballs losers left out: what statistics and SLOs count.
    pub fn phases(&self) -> Vec<(String, usize, Duration)> {
        let mut out: Vec<(String, usize, Duration)> = Vec::new();
        for row in &self.rows {
            let (Some(took), false, false) = (row.took, row.lost, row.failed) else {
                continue;
            };
            let mut name = row.layer.clone();
            if out.iter().any(|(n, _, _)| *n == name) {
                name = format!("{}@{}", row.layer, row.hop);
            }
            out.push((name, row.hop, took));
        }
        out
    }
}

/// Runs one attempt on `easy` and records it.
pub fn run(seq: u64, easy: &mut Easy, target: &Target, hops: &[String]) -> Attempt {
    let result = easy.perform();
    record(seq, result, easy, target, hops)
}

/// Records an attempt whose transfer already ran on `easy` (blocking or on
/// the async face, as `relay` does) and ended with `result`.
pub fn record(
    seq: u64,
    result: Result<(), handover::Error>,
    easy: &Easy,
    target: &Target,
    hops: &[String],
) -> Attempt {
    let info = easy.info();
    let from_steps = !info.steps().is_empty();
    let mut rows = if from_steps {
        info.steps().iter().map(row_of_step).collect()
    } else {
        rows_from_times(info, target, hops, result.is_ok())
    };
    let error = result
        .err()
        .map(|e| failure(&e, info, &mut rows, hops, target));
    let http_code = easy.response_code().unwrap_or(0);
    Attempt {
        seq,
        rows,
        from_steps,
        total: info.total_time(),
        namelookup: info.namelookup_time(),
        connect: info.connect_time(),
        appconnect: info.appconnect_time(),
        pretransfer: info.pretransfer_time(),
        remote: info.primary_addr(),
        local: info.local_addr(),
        http_connect: info.http_connectcode(),
        http_code,
        num_connects: info.num_connects(),
        alpn: info
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        tls_version: info.tls_version().map(str::to_owned),
        tls_cipher: info.tls_cipher().map(str::to_owned),
        ssl_verify_result: info.ssl_verify_result(),
        cert_expiry: info
            .certificate_expiry()
            .map(|t| match t.duration_since(UNIX_EPOCH) {
                Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
                Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
            }),
        error,
    }
}

fn row_of_step(step: &Step) -> Row {
    let (layer, detail, lost) = match &step.kind {
        StepKind::Resolve { addrs, cached, .. } => {
            let mut list: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
            list.dedup();
            let mut detail = list.join(", ");
            if *cached {
                detail.push_str(" (no lookup)");
            }
            ("resolve".to_owned(), detail, false)
        }
        StepKind::Connect { won, .. } => {
            let lost = !won && step.error.is_none();
            let detail = match (won, step.duration) {
                (true, _) => "won".to_owned(),
                (false, Some(_)) | (false, None) if step.error.is_none() => {
                    "lost the race".to_owned()
                }
                _ => String::new(),
            };
            ("tcp".to_owned(), detail, lost)
        }
        StepKind::Layer { name, detail } => ((*name).to_owned(), detail.clone(), false),
        // A kind this CLI does not know yet still gets a row.
        #[allow(unreachable_patterns)]
        other => (format!("{other:?}"), String::new(), false),
    };
    let failed = step.error.is_some();
    let detail = match (&step.error, detail.is_empty()) {
        (Some(kind), true) => format!("failed: {}", kind.description()),
        (Some(kind), false) => format!("{detail}; failed: {}", kind.description()),
        (None, _) => detail,
    };
    Row {
        layer,
        hop: step.hop,
        peer: step.peer.clone(),
        at: step.start,
        took: step.duration,
        detail,
        failed,
        lost,
    }
}

/// Rows from libcurl's cumulative times, for a library whose engine does
/// not record steps yet: resolve, TCP, then one row for what lies between
/// TCP and "ready" (the proxies' handshakes and TLS), then the request.
fn rows_from_times(info: &Info, target: &Target, hops: &[String], ok: bool) -> Vec<Row> {
    let first_peer = hops.first().cloned().unwrap_or_else(|| target.authority());
    let remote = info
        .primary_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|| first_peer.clone());
    let mut rows = Vec::new();
    let mut push =
        |layer: &str, hop: usize, peer: String, from: Duration, to: Duration, detail: String| {
            rows.push(Row {
                layer: layer.to_owned(),
                hop,
                peer,
                at: from,
                took: Some(to.saturating_sub(from)),
                detail,
                failed: false,
                lost: false,
            });
        };
    let lookup = info.namelookup_time();
    let connect = info.connect_time();
    if lookup > Duration::ZERO || connect > Duration::ZERO {
        let host = first_peer
            .rsplit_once(':')
            .map_or(first_peer.as_str(), |(h, _)| h);
        let host = host.split("://").last().unwrap_or(host).to_owned();
        let ip = info
            .primary_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default();
        push("resolve", 0, host, Duration::ZERO, lookup, ip);
    }
    if connect > Duration::ZERO {
        push("tcp", 0, remote, lookup, connect, String::new());
    }
    if !ok {
        return rows;
    }
    let ready = [info.appconnect_time(), info.pretransfer_time()]
        .into_iter()
        .max()
        .unwrap_or_default();
    let ready = if ready.is_zero() && target.mode == handover::ConnectOnly::Connection {
        info.total_time()
    } else {
        ready
    };
    let mut layers: Vec<&str> = hops.iter().map(|h| hop_layer(h)).collect();
    if target.tls {
        layers.push("tls");
    }
    if !layers.is_empty() && ready > connect {
        let detail = match info.alpn_protocol() {
            Some(p) if target.tls => format!("ALPN {}", String::from_utf8_lossy(p)),
            _ => String::new(),
        };
        push(
            &layers.join("+"),
            hops.len(),
            target.authority(),
            connect,
            ready,
            detail,
        );
    }
    if target.mode == handover::ConnectOnly::Headers && info.total_time() > ready {
        let detail = match info.response_code() {
            0 => String::new(),
            code => code.to_string(),
        };
        let layer = match target.lib_scheme {
            handover_proto::url::Scheme::Ws | handover_proto::url::Scheme::Wss => "upgrade",
            _ => "request",
        };
        push(
            layer,
            hops.len(),
            target.authority(),
            ready,
            info.total_time(),
            detail,
        );
    }
    rows
}

/// Whether `layer` is a proxy's own handshake (CONNECT or SOCKS), not the
/// TLS to a proxy.
pub fn is_proxy_handshake(layer: &str) -> bool {
    layer == "http-proxy" || layer.starts_with("socks")
}

/// The layer name a hop URL stands for, as the engine names it.
pub fn hop_layer(url: &str) -> &'static str {
    match url
        .split_once("://")
        .map(|(s, _)| s.to_ascii_lowercase())
        .as_deref()
    {
        Some("socks4") => "socks4",
        Some("socks4a") => "socks4a",
        Some("socks5") => "socks5",
        Some("socks5h") => "socks5h",
        Some("https") => "https-proxy",
        _ => "http-proxy",
    }
}

/// The failure, with the layer and hop taken from the failed step when the
/// engine recorded one, else inferred from the error's kind.
fn failure(
    e: &handover::Error,
    info: &Info,
    rows: &mut Vec<Row>,
    hops: &[String],
    target: &Target,
) -> Failure {
    let failed_step = info.steps().iter().rev().find(|s| s.error.is_some());
    let (layer, hop, peer) = match failed_step {
        Some(step) => {
            let layer = match &step.kind {
                StepKind::Resolve { .. } => "resolve".to_owned(),
                StepKind::Connect { .. } => "tcp".to_owned(),
                StepKind::Layer { name, .. } => (*name).to_owned(),
                #[allow(unreachable_patterns)]
                _ => "unknown".to_owned(),
            };
            (Some(layer), Some(step.hop), Some(step.peer.clone()))
        }
        None => infer_failure(e, info, hops, target),
    };
    if failed_step.is_none() {
        if let Some(layer) = &layer {
            // Without a timeline the failure still gets a row of its own.
            let at = rows
                .last()
                .and_then(|r| r.took.map(|t| r.at + t))
                .unwrap_or_default();
            rows.push(Row {
                layer: layer.clone(),
                hop: hop.unwrap_or(0),
                peer: peer.clone().unwrap_or_default(),
                at,
                took: None,
                detail: format!("failed: {}", e.kind().description()),
                failed: true,
                lost: false,
            });
        }
    }
    Failure {
        curl_code: e.code(),
        curl_name: e.kind().curl_name(),
        message: e.message().to_owned(),
        layer,
        hop,
        peer,
    }
}

/// From the error kind alone: which layer failed and, when the chain has
/// one hop or the proxy said so, which hop.
fn infer_failure(
    e: &handover::Error,
    info: &Info,
    hops: &[String],
    target: &Target,
) -> (Option<String>, Option<usize>, Option<String>) {
    use handover::ErrorKind as K;
    let first_hop = || hops.first().map(|h| display_hop(h));
    let first_peer = || first_hop().unwrap_or_else(|| target.authority());
    if e.proxy_failure().is_some() || e.kind() == K::Proxy {
        let (hop, peer) = match hops.len() {
            1 => (Some(1), first_hop()),
            _ => (None, None),
        };
        let layer = match hops.len() {
            1 => hop_layer(&hops[0]).to_owned(),
            _ => "proxy".to_owned(),
        };
        return (Some(layer), hop, peer);
    }
    match e.kind() {
        K::CouldntResolveProxy => (Some("resolve".into()), Some(0), first_hop()),
        K::CouldntResolveHost => (
            Some("resolve".into()),
            Some(hops.len()),
            Some(target.host.clone()),
        ),
        K::CouldntConnect if info.connect_time().is_zero() => {
            (Some("tcp".into()), Some(0), Some(first_peer()))
        }
        K::SslConnectError
        | K::PeerFailedVerification
        | K::SslPinnedPubKeyNotMatch
        | K::SslCertproblem => (
            Some("tls".into()),
            Some(hops.len()),
            Some(target.authority()),
        ),
        _ => (None, None, None),
    }
}

/// A hop URL without its credentials: `http://127.0.0.1:3128`.
pub fn display_hop(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").map_or(("", url), |(s, r)| (s, r));
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let rest = rest.trim_end_matches('/');
    if scheme.is_empty() {
        rest.to_owned()
    } else {
        format!("{scheme}://{rest}")
    }
}
