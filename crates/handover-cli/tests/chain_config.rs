//! Named chains from the config file (`--chain`, `-x @NAME`,
//! `HANDOVER_CHAIN`), the password sources (`--proxy-password-file`,
//! `--proxy-password-cmd`, `password_cmd`, `password_file`) and the ncat /
//! curl proxy aliases, run as a person would against squid, microsocks and
//! dante on loopback.

mod common;

use common::{handover, Scratch};
use handover_test_support::peers::{Behavior, TcpPeer};
use handover_test_support::real_peers::{Dante, Microsocks, Squid, SquidAuth};

const USER: &str = "alice";
const PASSWORD: &str = "chain-s3cret:pw";
/// squid's digest_file_auth splits its lines at every colon.
const DIGEST_PASSWORD: &str = "chain-digest-s3cret";

fn basic() -> &'static Squid {
    Squid::shared(SquidAuth::Basic {
        user: USER.into(),
        password: PASSWORD.into(),
    })
}

fn digest() -> &'static Squid {
    Squid::shared(SquidAuth::Digest {
        user: USER.into(),
        password: DIGEST_PASSWORD.into(),
        realm: "handover".into(),
    })
}

/// `probe TARGET -x PROXY -U alice FLAGS…`, nothing from the environment.
fn probe_as_alice(target: &str, proxy: &str, flags: &[&str]) -> common::Run {
    let mut args = vec!["probe", target, "-x", proxy, "-U", USER];
    args.extend_from_slice(flags);
    handover(&args, &[])
}

fn plan_json(args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let mut all = vec!["plan", "example.com:22", "--format", "json"];
    all.extend_from_slice(args);
    let r = handover(&all, env);
    assert_eq!(r.code, 0, "{r:?}");
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn chain_flag_through_squid_basic_with_the_password_from_a_command() {
    let squid = basic();
    let peer = TcpPeer::start(Behavior::Echo);
    let dir = Scratch::new("chain-basic");
    let pw = dir.write("pw", &format!("{PASSWORD}\nignored second line\n"));
    let config = dir.write(
        "config.toml",
        &format!(
            "[chain.corp]\nproxies = [\"http://127.0.0.1:{}\"]\nuser = \"{USER}\"\n\
             auth = \"basic\"\npassword_cmd = \"cat '{pw}'\"\n",
            squid.port()
        ),
    );
    let target = format!("127.0.0.1:{}", peer.port());
    let r = handover(
        &[
            "probe",
            &target,
            "--config",
            &config,
            "--chain",
            "corp",
            "-w",
            "%{http_connect} %{hops}\\n",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}\n{}", squid.log());
    assert!(r.stdout.contains("200 1"), "{r:?}");
    assert!(!r.all().contains(PASSWORD), "{r:?}");
}

#[test]
fn handover_chain_selects_a_digest_chain_with_a_password_file() {
    let squid = digest();
    let peer = TcpPeer::start(Behavior::Echo);
    let dir = Scratch::new("chain-digest");
    dir.write("digest.pw", &format!("{DIGEST_PASSWORD}\n"));
    // A relative password_file is relative to the config file.
    let config = dir.write(
        "config.toml",
        &format!(
            "[chain.inner]\nproxies = [\"http://127.0.0.1:{}\"]\nuser = \"{USER}\"\n\
             auth = \"digest\"\npassword_file = \"digest.pw\"\n",
            squid.port()
        ),
    );
    let target = format!("127.0.0.1:{}", peer.port());
    let env = [("HANDOVER_CHAIN", "inner")];
    let r = handover(
        &["probe", &target, "--config", &config, "-w", "%{hops}\\n"],
        &env,
    );
    assert_eq!(r.code, 0, "{r:?}\n{}", squid.log());
    assert!(r.stdout.contains("via 1 proxy"), "{r:?}");

    // plan says where the hop came from, and a -x on the command line
    // puts the environment's chain aside.
    let v = plan_json(&["--config", &config], &env);
    let hop = &v["hops"][0];
    assert_eq!(
        hop["source"],
        format!("config chain inner ({config}) via HANDOVER_CHAIN")
    );
    assert_eq!(hop["auth"], format!("Digest as {USER}"));
    assert!(
        hop["password_from"].as_str().unwrap().contains("digest.pw"),
        "{hop}"
    );
    let v = plan_json(&["--config", &config, "-x", "http://other:8080"], &env);
    assert_eq!(v["hops"][0]["source"], "-x");
    assert_eq!(v["hops"].as_array().unwrap().len(), 1);
}

#[test]
fn x_at_name_expands_in_place_and_a_later_x_appends() {
    let dante = Dante::shared();
    let squid = Squid::shared(SquidAuth::None);
    let peer = TcpPeer::start(Behavior::Echo);
    let dir = Scratch::new("chain-expand");
    let config = dir.write(
        "config.toml",
        &format!(
            "[chain.bastion]\nproxies = [\"socks5://127.0.0.1:{}\"]\n",
            dante.port()
        ),
    );
    let squid_url = format!("http://127.0.0.1:{}", squid.port());
    let target = format!("127.0.0.1:{}", peer.port());
    let r = handover(
        &[
            "probe",
            &target,
            "--config",
            &config,
            "-x",
            "@bastion",
            "-x",
            &squid_url,
            "-w",
            "%{hops}\\n",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}\n{}\n{}", dante.log(), squid.log());
    assert!(r.stdout.contains("via 2 proxies"), "{r:?}");

    let v = plan_json(
        &["--config", &config, "-x", "@bastion", "-x", &squid_url],
        &[],
    );
    let hops = v["hops"].as_array().unwrap();
    assert_eq!(hops.len(), 2);
    assert_eq!(
        hops[0]["source"],
        format!("config chain bastion ({config})")
    );
    assert_eq!(hops[1]["source"], "-x #2");
    assert_eq!(hops[1]["proxy"], squid_url);

    // The text form names the config source too.
    let r = handover(
        &[
            "plan",
            "example.com:22",
            "--config",
            &config,
            "-x",
            "@bastion",
        ],
        &[],
    );
    assert!(
        r.stdout
            .contains(&format!("from config chain bastion ({config})")),
        "{r:?}"
    );
}

#[test]
fn microsocks_with_a_password_from_a_config_chain() {
    let socks = Microsocks::shared(Some((USER, PASSWORD)));
    let peer = TcpPeer::start(Behavior::Echo);
    let dir = Scratch::new("chain-socks");
    let pw = dir.write("pw", PASSWORD);
    let config = dir.write(
        "config.toml",
        &format!(
            "[chain.socks]\nproxies = [\"socks5h://127.0.0.1:{}\"]\nuser = \"{USER}\"\n\
             password_file = \"{pw}\"\n",
            socks.port()
        ),
    );
    let target = format!("127.0.0.1:{}", peer.port());
    let r = handover(
        &["probe", &target, "--config", &config, "-x", "@socks", "-v"],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}\n{}", socks.log());
    assert!(!r.all().contains(PASSWORD), "{r:?}");
}

#[test]
fn command_line_flags_win_over_the_chain() {
    let dir = Scratch::new("chain-override");
    let config = dir.write(
        "config.toml",
        "[chain.corp]\nproxies = [\"http://proxy.corp:3128\"]\nuser = \"alice\"\n\
         auth = \"digest\"\npassword_cmd = \"false\"\nproxy_cacert = \"corp.pem\"\n\
         args = [\"--connect-timeout\", \"7\", \"-m\", \"30\"]\n",
    );
    let v = plan_json(
        &[
            "--config",
            &config,
            "--chain",
            "corp",
            "--proxy-basic",
            "-m",
            "5",
        ],
        &[],
    );
    let hop = &v["hops"][0];
    assert_eq!(hop["auth"], "Basic, sent pre-emptively as alice");
    assert_eq!(v["timeouts"]["max_time_s"], 5.0);
    assert_eq!(v["timeouts"]["connect_s"], 7.0);
    assert_eq!(hop["password_from"], "command `false`");

    let v = plan_json(
        &[
            "--config",
            &config,
            "--chain",
            "corp",
            "-U",
            "bob",
            "--proxy-password-file",
            "/nonexistent/pw",
        ],
        &[],
    );
    let hop = &v["hops"][0];
    assert_eq!(hop["auth"], "Digest as bob");
    assert_eq!(hop["password_from"], "file /nonexistent/pw");
}

#[test]
fn a_wrong_password_from_a_command_is_7_and_a_failing_command_is_named() {
    let squid = Squid::start(SquidAuth::Basic {
        user: USER.into(),
        password: PASSWORD.into(),
    });
    let peer = TcpPeer::start(Behavior::Echo);
    let proxy = format!("http://127.0.0.1:{}", squid.port());
    let target = format!("127.0.0.1:{}", peer.port());
    let r = probe_as_alice(
        &target,
        &proxy,
        &["--proxy-password-cmd", "echo not-the-password"],
    );
    assert_eq!(r.code, 7, "{r:?}");
    assert!(!r.all().contains("not-the-password"), "{r:?}");

    let r = probe_as_alice(&target, &proxy, &["--proxy-password-cmd", "exit 4"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("password command `exit 4` failed with status 4"),
        "{r:?}"
    );
    let r = probe_as_alice(
        &target,
        &proxy,
        &["--proxy-password-file", "/nonexistent/pw"],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("password file /nonexistent/pw"), "{r:?}");
}

#[test]
fn a_password_file_for_a_plain_u_against_squid_basic() {
    let squid = basic();
    let peer = TcpPeer::start(Behavior::Echo);
    let dir = Scratch::new("chain-pwfile");
    let pw = dir.write("pw", &format!("{PASSWORD}\r\n"));
    let proxy = format!("http://127.0.0.1:{}", squid.port());
    let target = format!("127.0.0.1:{}", peer.port());
    let r = probe_as_alice(&target, &proxy, &["--proxy-password-file", &pw]);
    assert_eq!(r.code, 0, "{r:?}\n{}", squid.log());
}

#[test]
fn config_file_errors_name_the_file_and_the_chains() {
    let dir = Scratch::new("chain-errors");
    let missing = dir.path("missing.toml");
    let r = handover(&["plan", "example.com:22", "--config", &missing], &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains(&missing), "{r:?}");

    let config = dir.write("config.toml", "[chain.a]\nproxies = [\"http://p:1\"]\n");
    let r = handover(
        &["plan", "example.com:22", "--config", &config, "-x", "@b"],
        &[],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("\"b\" not found"), "{r:?}");
    assert!(r.stderr.contains("(chains: a)"), "{r:?}");

    let bad = dir.write("bad.toml", "[chain.a]\nproxys = []\n");
    let r = handover(&["plan", "example.com:22", "--config", &bad], &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains(&bad) && r.stderr.contains("proxys"),
        "{r:?}"
    );

    // The default file, absent: fine until a chain is asked for.
    let home = [("XDG_CONFIG_HOME", dir.0.to_str().unwrap())];
    let r = handover(&["plan", "example.com:22"], &home);
    assert_eq!(r.code, 0, "{r:?}");
    let r = handover(&["plan", "example.com:22", "--chain", "corp"], &home);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("which does not exist"), "{r:?}");
}

#[test]
fn the_default_config_file_is_under_xdg_config_home() {
    let dir = Scratch::new("chain-xdg");
    std::fs::create_dir_all(dir.0.join("handover")).unwrap();
    dir.write(
        "handover/config.toml",
        "[chain.home]\nproxies = [\"socks5h://bastion:1080\"]\n",
    );
    let v = plan_json(
        &["--chain", "home"],
        &[("XDG_CONFIG_HOME", dir.0.to_str().unwrap())],
    );
    assert_eq!(v["hops"][0]["proxy"], "socks5h://bastion:1080");
}

#[test]
fn ncat_and_curl_aliases() {
    // --proxy-type gives a scheme-less -x its scheme, through microsocks.
    let socks = Microsocks::shared(None);
    let peer = TcpPeer::start(Behavior::Echo);
    let target = format!("127.0.0.1:{}", peer.port());
    let bare = format!("127.0.0.1:{}", socks.port());
    let r = handover(
        &[
            "probe",
            &target,
            "--proxy-type",
            "socks5h",
            "-x",
            &bare,
            "-w",
            "%{hops}\\n",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}\n{}", socks.log());
    assert!(r.stdout.contains("via 1 proxy"), "{r:?}");

    // --socks5-hostname is a socks5h hop.
    let r = handover(
        &[
            "probe",
            &target,
            "--socks5-hostname",
            &bare,
            "-w",
            "%{hops}\\n",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let v = plan_json(&["--socks5-hostname", "bastion:1080"], &[]);
    assert_eq!(v["hops"][0]["proxy"], "socks5h://bastion:1080");
    assert_eq!(v["hops"][0]["source"], "--socks5-hostname");

    // --proxy-dns picks the SOCKS variant.
    let v = plan_json(&["--proxy-dns", "remote", "-x", "socks5://b:1080"], &[]);
    assert_eq!(v["hops"][0]["proxy"], "socks5h://b:1080");
    let v = plan_json(&["--proxy-dns", "local", "-x", "socks4a://b:1080"], &[]);
    assert_eq!(v["hops"][0]["proxy"], "socks4://b:1080");

    // --proxy-auth is -U.
    let squid = basic();
    let proxy = format!("http://127.0.0.1:{}", squid.port());
    let auth = format!("{USER}:{PASSWORD}");
    let r = handover(
        &["probe", &target, "-x", &proxy, "--proxy-auth", &auth],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}\n{}", squid.log());
}

#[test]
fn proxy_tls_options_reach_the_https_proxy() {
    let v = plan_json(
        &[
            "-x",
            "https://p:443",
            "--proxy-cert",
            "c.pem",
            "--proxy-key",
            "k.pem",
            "--proxy-pinnedpubkey",
            "sha256//AAAA",
        ],
        &[],
    );
    assert_eq!(v["hops"][0]["tls"]["client_cert"], "c.pem");
    assert_eq!(v["hops"][0]["tls"]["pinned"], true);

    // A pin the proxy's key does not match: the library's 90, before any
    // CONNECT (here the "proxy" is a TLS echo server).
    let pki = handover_test_support::peers::TestPki::shared();
    let tls = handover_test_support::peers::TlsPeer::start(pki.server_config(), Behavior::Echo);
    let ca = pki.write_temp("chain-config-ca.pem", &pki.ca_pem);
    let r = handover(
        &[
            "probe",
            "127.0.0.1:9",
            "-x",
            &format!("https://localhost:{}", tls.port()),
            "--proxy-cacert",
            ca.to_str().unwrap(),
            "--proxy-pinnedpubkey",
            "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ],
        &[],
    );
    assert_eq!(r.code, 90, "{r:?}");
}
