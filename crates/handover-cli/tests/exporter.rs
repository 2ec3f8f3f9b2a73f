//! `handover exporter` scraped as Prometheus scrapes blackbox_exporter:
//! `GET /probe?target=…&module=…` answered in Prometheus text, parsed with
//! the `prometheus-parse` crate; modules from a TOML file (direct, squid
//! with Digest and the password from the environment, microsocks);
//! concurrent scrapes; a target that hangs cut at the module's timeout;
//! the password never in any answer; bad requests answered 400/404.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use handover_test_support::peers::{Behavior, TcpPeer};
use handover_test_support::real_peers::{Microsocks, Squid, SquidAuth};

const PASSWORD: &str = "exp0rter-Secret";

/// The exporter running with `config`; killed when dropped.
struct Exporter {
    child: Child,
    addr: String,
}

impl Exporter {
    fn start(config: &str, extra: &[&str]) -> Exporter {
        let dir = std::env::temp_dir().join(format!(
            "handover-exporter-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("modules.toml");
        std::fs::write(&file, config).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_handover"))
            .args(["exporter", "--listen", "127.0.0.1:0", "--config"])
            .arg(&file)
            .args(extra)
            .env("SQUID_PASSWORD", PASSWORD)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let line = lines.next().unwrap().unwrap();
        let addr = line
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        // Keep draining stderr so the child never blocks on it.
        std::thread::spawn(move || for _ in lines {});
        Exporter { child, addr }
    }

    /// GET `path`: the status and the body.
    fn get(&self, path: &str) -> (u16, String) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.addr).unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = answer
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_owned();
        (status, body)
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The samples of a scrape, parsed by prometheus-parse.
fn parse(body: &str) -> prometheus_parse::Scrape {
    let lines = body.lines().map(|l| Ok(l.to_owned()));
    prometheus_parse::Scrape::parse(lines).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn value(scrape: &prometheus_parse::Scrape, metric: &str) -> f64 {
    let sample = scrape
        .samples
        .iter()
        .find(|s| s.metric == metric)
        .unwrap_or_else(|| panic!("no {metric}"));
    match sample.value {
        prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Untyped(v) => v,
        ref other => panic!("{metric}: {other:?}"),
    }
}

fn layers(scrape: &prometheus_parse::Scrape) -> Vec<String> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == "handover_layer_duration_seconds")
        .map(|s| s.labels.get("layer").unwrap_or_default().to_owned())
        .collect()
}

fn config(squid: &Squid, socks: &Microsocks) -> String {
    format!(
        r#"
[modules.default]

[modules.squid]
args = ["-x", "http://127.0.0.1:{squid}", "--proxy-digest", "-U", "bob"]
password_env = "SQUID_PASSWORD"

[modules.socks]
args = ["-x", "socks5h://127.0.0.1:{socks}"]

[modules.quick]
timeout = 0.5
"#,
        squid = squid.port(),
        socks = socks.port()
    )
}

#[test]
fn scrapes_through_each_module_parse_as_prometheus_text() {
    let target = TcpPeer::start(Behavior::Echo);
    let squid = Squid::shared(SquidAuth::Digest {
        user: "bob".into(),
        password: PASSWORD.into(),
        realm: "handover-test".into(),
    });
    let socks = Microsocks::shared(None);
    let exporter = Exporter::start(&config(squid, socks), &[]);
    let t = format!("127.0.0.1:{}", target.port());

    let (status, body) = exporter.get(&format!("/probe?target={t}"));
    assert_eq!(status, 200, "{body}");
    let scrape = parse(&body);
    assert_eq!(value(&scrape, "handover_probe_success"), 1.0, "{body}");
    assert!(value(&scrape, "handover_probe_duration_seconds") > 0.0);
    assert_eq!(layers(&scrape), ["resolve", "tcp"], "{body}");

    let (status, body) = exporter.get(&format!("/probe?target={t}&module=squid"));
    assert_eq!(status, 200, "{body}");
    let scrape = parse(&body);
    assert_eq!(value(&scrape, "handover_probe_success"), 1.0, "{body}");
    assert!(layers(&scrape).contains(&"http-proxy".to_owned()), "{body}");
    assert!(!body.contains(PASSWORD), "{body}");

    let (status, body) = exporter.get(&format!("/probe?target={t}&module=socks"));
    assert_eq!(status, 200, "{body}");
    let scrape = parse(&body);
    assert_eq!(value(&scrape, "handover_probe_success"), 1.0, "{body}");
    assert!(layers(&scrape).contains(&"socks5".to_owned()), "{body}");

    // A refused target: success 0 and curl's code, still a 200 scrape.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (status, body) = exporter.get(&format!("/probe?target=127.0.0.1:{port}"));
    assert_eq!(status, 200, "{body}");
    let scrape = parse(&body);
    assert_eq!(value(&scrape, "handover_probe_success"), 0.0);
    assert_eq!(value(&scrape, "handover_probe_exit_code"), 7.0);

    // The exporter's own metrics count them.
    let (status, body) = exporter.get("/metrics");
    assert_eq!(status, 200);
    let scrape = parse(&body);
    assert_eq!(
        value(&scrape, "handover_exporter_probes_total"),
        4.0,
        "{body}"
    );
    assert_eq!(
        value(&scrape, "handover_exporter_probe_failures_total"),
        1.0
    );
}

#[test]
fn concurrent_scrapes_and_a_hanging_target_cut_at_the_module_timeout() {
    let target = TcpPeer::start(Behavior::Echo);
    let silent = TcpPeer::start(Behavior::Silent);
    let squid = Squid::shared(SquidAuth::None);
    let socks = Microsocks::shared(None);
    let exporter = Exporter::start(&config(squid, socks), &["--max-concurrent", "8"]);
    let t = format!("127.0.0.1:{}", target.port());

    let bodies: Vec<(u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| s.spawn(|| exporter.get(&format!("/probe?target={t}&module=socks"))))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (status, body) in &bodies {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(value(&parse(body), "handover_probe_success"), 1.0, "{body}");
    }

    // TLS to a peer that never answers: cut at the module's 0.5 s, exit 28.
    let started = Instant::now();
    let (status, body) = exporter.get(&format!(
        "/probe?target=tls://127.0.0.1:{}&module=quick",
        silent.port()
    ));
    let took = started.elapsed();
    assert_eq!(status, 200, "{body}");
    let scrape = parse(&body);
    assert_eq!(value(&scrape, "handover_probe_success"), 0.0);
    assert_eq!(value(&scrape, "handover_probe_exit_code"), 28.0, "{body}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

#[test]
fn bad_requests_get_clear_answers() {
    let squid = Squid::shared(SquidAuth::None);
    let socks = Microsocks::shared(None);
    let exporter = Exporter::start(&config(squid, socks), &[]);
    let (status, body) = exporter.get("/probe");
    assert_eq!(status, 400);
    assert!(body.contains("target parameter is missing"), "{body}");
    let (status, body) = exporter.get("/probe?target=127.0.0.1:1&module=nope");
    assert_eq!(status, 400);
    assert!(body.contains("unknown module \"nope\""), "{body}");
    let (status, _) = exporter.get("/elsewhere");
    assert_eq!(status, 404);
    let (status, body) = exporter.get("/");
    assert_eq!(status, 200);
    assert!(body.contains("squid"), "{body}");
}

#[test]
fn a_bad_modules_file_stops_the_exporter_with_a_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_handover"))
        .args([
            "exporter",
            "--listen",
            "127.0.0.1:0",
            "--config",
            "/nonexistent/m.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/m.toml"), "{stderr}");

    let dir = std::env::temp_dir().join(format!("handover-exporter-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("m.toml");
    std::fs::write(
        &file,
        "[modules.x]\nargs = [\"-U\", \"carol\"]\npassword_env = \"NOT_SET_ANYWHERE\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_handover"))
        .args(["exporter", "--listen", "127.0.0.1:0", "--config"])
        .arg(&file)
        .env_remove("NOT_SET_ANYWHERE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("password_env NOT_SET_ANYWHERE is not set"),
        "{stderr}"
    );
}
