//! No password ever shows: for probe (every --format), relay, ws and plan,
//! with -v, --trace and --trace-ascii, through squid Basic, squid Digest,
//! microsocks (SOCKS5 user/password) and an NTLM proxy, neither the
//! password nor its base64 forms (of `user:password` and of the password
//! alone) appear in stdout, stderr or the trace file.

mod common;

use std::io::Write;
use std::net::{Ipv4Addr, TcpStream};

use base64::Engine as _;
use common::{handover, Scratch};
use handover_test_support::peers::{ntlm_server_legs, Behavior, Server, TcpPeer};
use handover_test_support::real_peers::{Microsocks, Squid, SquidAuth};
use handover_test_support::ws_peers::{WsBehavior, WsPeer};

const USER: &str = "alice";
/// No colon: squid's digest file splits at colons; the same password
/// serves every peer here.
const PASSWORD: &str = "tr4ce-s3cret-pw";

const FORMATS: [&str; 5] = ["text", "json", "ndjson", "csv", "prometheus"];

/// The password's forms that must never show.
fn forbidden() -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    vec![
        PASSWORD.to_owned(),
        b64.encode(format!("{USER}:{PASSWORD}")),
        b64.encode(PASSWORD),
    ]
}

/// The debug modes: the flags, and the trace file (if any) to read back.
fn modes(dir: &Scratch, tag: &str) -> Vec<(Vec<String>, Option<String>)> {
    let trace = dir.path(&format!("{tag}.trace"));
    let ascii = dir.path(&format!("{tag}.ascii"));
    vec![
        (vec!["-v".to_owned()], None),
        (
            vec!["--trace".into(), trace.clone(), "--trace-time".into()],
            Some(trace),
        ),
        (vec!["--trace-ascii".into(), ascii.clone()], Some(ascii)),
    ]
}

/// The proxy for the TCP echo target and the one for the WebSocket peer
/// (the same but for the NTLM fake, which tunnels to one port only).
struct Proxies {
    tcp: String,
    ws: String,
}

impl Proxies {
    fn one(url: String) -> Proxies {
        Proxies {
            tcp: url.clone(),
            ws: url,
        }
    }
}

/// Runs every command in every mode through the proxy with `auth_flags`,
/// the password coming from `--proxy-password-file`, and checks
/// everything written.
fn check_everything(tag: &str, proxies: &Proxies, auth_flags: &[&str], target: &str, ws_url: &str) {
    let dir = Scratch::new(&format!("secrets-{tag}"));
    let pw = dir.write("pw", PASSWORD);
    let chain = |proxy: &str| -> Vec<String> {
        ["-x", proxy, "-U", USER, "--proxy-password-file", &pw]
            .iter()
            .chain(auth_flags)
            .map(|s| s.to_string())
            .collect()
    };
    let mut runs: Vec<(String, Vec<String>)> = Vec::new();
    for format in FORMATS {
        runs.push((
            format!("probe-{format}"),
            ["probe", target, "--format", format]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ));
    }
    runs.push(("relay".into(), vec!["relay".into(), target.into()]));
    runs.push(("ws".into(), vec!["ws".into(), ws_url.into()]));
    runs.push(("plan".into(), vec!["plan".into(), target.into()]));
    runs.push((
        "plan-json".into(),
        ["plan", target, "--format", "json"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    ));
    let mut traced = 0;
    for (name, command) in &runs {
        for (i, (flags, trace)) in modes(&dir, &format!("{name}-{tag}"))
            .into_iter()
            .enumerate()
        {
            let mut args: Vec<&str> = command.iter().map(String::as_str).collect();
            let proxy = if name == "ws" {
                &proxies.ws
            } else {
                &proxies.tcp
            };
            let chain = chain(proxy);
            args.extend(chain.iter().map(String::as_str));
            args.extend(flags.iter().map(String::as_str));
            let r = handover(&args, &[]);
            let connects = !name.starts_with("plan");
            if connects {
                assert_eq!(r.code, 0, "{name} mode {i}: {r:?}");
            }
            let mut written = r.all();
            if let Some(path) = trace {
                if let Ok(text) = std::fs::read_to_string(&path) {
                    if connects {
                        assert!(text.contains("== Info: "), "{name}: {text}");
                        if proxy.starts_with("http:") && flags[0] == "--trace" {
                            // The auth header is there, as a hex dump of
                            // `Proxy-Authorization: <redacted>`.
                            assert!(text.contains("=> Send header"), "{name}: {text}");
                        }
                        if proxy.starts_with("http:") && flags[0] == "--trace-ascii" {
                            assert!(
                                text.contains("Proxy-Authorization: <redacted>"),
                                "{name}: {text}"
                            );
                        }
                        traced += 1;
                    }
                    written.push_str(&text);
                }
            }
            for secret in forbidden() {
                assert!(
                    !written.contains(&secret),
                    "{name} {flags:?} through {tag}: {secret:?} leaked:\n{written}"
                );
            }
        }
    }
    assert!(traced > 0, "no trace file was written");
}

fn echo_target() -> (TcpPeer, String) {
    let peer = TcpPeer::start(Behavior::Echo);
    let target = format!("127.0.0.1:{}", peer.port());
    (peer, target)
}

fn ws_peer() -> (WsPeer, String) {
    let peer = WsPeer::start(WsBehavior::Echo, None);
    let url = format!("ws://127.0.0.1:{}/", peer.port());
    (peer, url)
}

#[test]
fn squid_basic_never_shows_the_password() {
    let squid = Squid::shared(SquidAuth::Basic {
        user: USER.into(),
        password: PASSWORD.into(),
    });
    let (_peer, target) = echo_target();
    let (_ws, ws_url) = ws_peer();
    let proxy = format!("http://127.0.0.1:{}", squid.port());
    check_everything(
        "basic",
        &Proxies::one(proxy),
        &["--proxy-basic"],
        &target,
        &ws_url,
    );
}

#[test]
fn squid_digest_never_shows_the_password() {
    let squid = Squid::shared(SquidAuth::Digest {
        user: USER.into(),
        password: PASSWORD.into(),
        realm: "handover".into(),
    });
    let (_peer, target) = echo_target();
    let (_ws, ws_url) = ws_peer();
    let proxy = format!("http://127.0.0.1:{}", squid.port());
    check_everything(
        "digest",
        &Proxies::one(proxy),
        &["--proxy-digest"],
        &target,
        &ws_url,
    );
}

#[test]
fn microsocks_never_shows_the_password() {
    let socks = Microsocks::shared(Some((USER, PASSWORD)));
    let (_peer, target) = echo_target();
    let (_ws, ws_url) = ws_peer();
    let proxy = format!("socks5h://127.0.0.1:{}", socks.port());
    check_everything("socks5", &Proxies::one(proxy), &[], &target, &ws_url);
}

/// An NTLM proxy in this process: the three legs on one connection, then
/// a tunnel to `port` (the fake does not read the CONNECT line: each test
/// target gets a proxy of its own).
fn ntlm_proxy(port: u16) -> Server {
    Server::start(Ipv4Addr::LOCALHOST.into(), move |mut client| {
        ntlm_server_legs(
            &mut client,
            "407 Proxy Authentication Required",
            "Proxy-Authenticate",
            "Proxy-Authorization",
            USER,
        );
        let Ok(upstream) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
            return;
        };
        if client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .is_ok()
        {
            splice(client, upstream);
        }
    })
}

/// Both directions until either side ends.
fn splice(client: TcpStream, upstream: TcpStream) {
    let (Ok(mut client_in), Ok(mut upstream_out)) = (client.try_clone(), upstream.try_clone())
    else {
        return;
    };
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_in, &mut upstream_out);
        let _ = upstream_out.shutdown(std::net::Shutdown::Write);
    });
    let (mut upstream, mut client) = (upstream, client);
    let _ = std::io::copy(&mut upstream, &mut client);
    let _ = client.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
}

#[test]
fn ntlm_never_shows_the_password() {
    let (peer, target) = echo_target();
    let (ws, ws_url) = ws_peer();
    let proxy = ntlm_proxy(peer.port());
    let ws_proxy = ntlm_proxy(ws.port());
    check_everything(
        "ntlm",
        &Proxies {
            tcp: format!("http://127.0.0.1:{}", proxy.port()),
            ws: format!("http://127.0.0.1:{}", ws_proxy.port()),
        },
        &["--proxy-ntlm"],
        &target,
        &ws_url,
    );
}

#[test]
fn a_trace_on_stdout_is_refused_where_stdout_is_the_data() {
    for command in [
        &["relay", "127.0.0.1:9"][..],
        &["ws", "ws://127.0.0.1:9/"][..],
    ] {
        for flag in ["--trace", "--trace-ascii"] {
            let mut args = command.to_vec();
            args.extend([flag, "-"]);
            let r = handover(&args, &[]);
            assert_eq!(r.code, 2, "{r:?}");
            assert!(
                r.stderr.contains(&format!(
                    "{flag} -: {}'s stdout is the connection's data",
                    command[0]
                )),
                "{r:?}"
            );
        }
    }
    // probe may trace to stdout, as curl does.
    let (_peer, target) = echo_target();
    let r = handover(&["probe", &target, "--trace-ascii", "-", "-q"], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("== Info: "), "{r:?}");
}
