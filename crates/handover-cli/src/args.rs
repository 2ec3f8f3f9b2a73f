//! The command line, declared with clap's derive: the command tree of the
//! design's §5.2 and the chain options of §5.3, spelled as curl spells them
//! so that a curl user's fingers already know them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};

/// Set up connections the way libcurl's CONNECT_ONLY does — resolve, happy
/// eyeballs, HTTP/HTTPS/SOCKS proxies and chains of them, TLS — and time
/// every layer and every proxy hop of it.
///
/// Exit codes: curl's numbers for connection failures (6 resolve, 7
/// connect, 28 timeout, 35 TLS, 60 certificate, 97 SOCKS, …), 2 for usage
/// errors, 101 when an --slo threshold is breached, 102 when some (not
/// all) repeated attempts failed.
#[derive(Parser, Debug)]
#[command(
    name = "handover",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Connect to TARGET through the chain and time every layer: resolve,
    /// each happy-eyeballs attempt, each proxy hop, TLS, the request.
    #[command(visible_aliases = ["ping", "test"])]
    Probe(ProbeArgs),
    /// Connect to TARGET through the chain and relay stdin/stdout over the
    /// connection, byte for byte (an ssh ProxyCommand, nc, socat).
    #[command(visible_aliases = ["connect", "nc"])]
    Relay(RelayArgs),
    /// Show the layer stack for TARGET without touching the network: each
    /// hop and where it came from, NO_PROXY, where names are resolved, TLS,
    /// auth and timeouts.
    Plan(PlanArgs),
    /// Serve blackbox_exporter's `/probe?target=…&module=…` for Prometheus:
    /// each scrape probes the target through the module's chain and answers
    /// in Prometheus text.
    Exporter(ExporterArgs),
    /// Print an ssh_config stanza for HOST-PATTERN whose ProxyCommand is
    /// `handover relay` through the chain given.
    SshConfig(SshConfigArgs),
    /// A WebSocket client on stdin/stdout through the chain: stdin chunks
    /// become binary messages (--text, --lines), messages go to stdout.
    Ws(crate::ws::WsArgs),
    /// Print a completion script for SHELL to stdout.
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout.
    Man,
}

/// Where to connect: `host:port`, `host port`, `[v6]:port`, or a URL
/// (`tcp://`, `tls://`, `http(s)://`, `ws(s)://`, `ftp://`, `smtp://`, …).
#[derive(Args, Debug, Clone)]
pub struct TargetArgs {
    /// host:port, [v6]:port, or a URL: tcp:// tls:// http:// https:// ws://
    /// wss:// ftp:// smtp:// imap:// pop3:// …
    #[arg(value_name = "TARGET", value_hint = ValueHint::Url)]
    pub target: String,
    /// The port, when TARGET is a bare host (`host port`, as nc and
    /// ProxyCommand's `%h %p` give it).
    #[arg(value_name = "PORT")]
    pub port: Option<u16>,
}

#[derive(Args, Debug)]
pub struct ProbeArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Attempts to make; 0 repeats until Ctrl+C.
    #[arg(short = 'c', long, value_name = "N", default_value_t = 1)]
    pub count: u64,
    /// Seconds between attempts (fractional).
    #[arg(short = 'i', long, value_name = "SECS", default_value_t = 1.0)]
    pub interval: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// curl's write-out, printed after each attempt: curl's variables
    /// (%{time_connect}, %{time_appconnect}, %{http_connect}, %{remote_ip},
    /// %{ssl_verify_result}, %{json}, %{exitcode}, %{errormsg}, …, and
    /// %{onerror}, %{stderr}, %{stdout}) plus %{hops}, %{time_tunnel},
    /// %{hop.N.layer|peer|at|took|status|auth}, %{he_winner},
    /// %{he_attempts}, %{tls_version}, %{tls_cipher}, %{alpn},
    /// %{cert_expiry_days}, %{failed_hop}, %{failed_layer}.
    #[arg(short = 'w', long = "write-out", value_name = "FORMAT")]
    pub write_out: Option<String>,
    /// Thresholds, e.g. total=300ms,tls=100ms,loss=1%: exit 101 when one is
    /// breached (a phase's worst successful attempt is compared).
    #[arg(long, value_name = "LIST")]
    pub slo: Option<String>,
    /// Colour and bar in text output: auto (a terminal and NO_COLOR unset),
    /// always or never.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    // Last: its help heading ("Chain options") carries over to whatever
    // follows it, and the command's own options belong under "Options".
    #[command(flatten)]
    pub chain: ChainArgs,
}

/// `handover ssh-config`.
#[derive(Args, Debug)]
pub struct SshConfigArgs {
    /// The ssh `Host` pattern the stanza is for (`*.corp`, `lab-*`).
    #[arg(value_name = "HOST-PATTERN")]
    pub pattern: String,
    /// Use ssh's ProxyUseFdpass: `handover relay --fdpass` hands ssh the
    /// connected socket (chains without TLS only).
    #[arg(long)]
    pub fdpass: bool,
    // Last: its help heading carries over to whatever follows it.
    #[command(flatten)]
    pub chain: ChainArgs,
}

/// `handover exporter`.
#[derive(Args, Debug)]
pub struct ExporterArgs {
    /// Where to listen: ADDR:PORT (port 0: any free port, printed on stderr).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: String,
    /// The modules file (TOML): `[modules.NAME]` with `args` (chain flags
    /// as on the command line), `password_env`, `timeout` (seconds).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub config: std::path::PathBuf,
    /// Probes running at once; more are answered 503 at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub max_concurrent: usize,
    /// The longest any probe may take, in seconds (a module's own timeout
    /// may be shorter).
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub timeout: f64,
}

/// `relay`'s own options (§5.5 of the design).
#[derive(Args, Debug)]
pub struct RelayArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Accept local TCP clients on [ADDR:]PORT (ADDR defaults to
    /// 127.0.0.1; port 0 picks one and prints it), one chain per client.
    #[arg(
        short = 'l',
        long,
        value_name = "[ADDR:]PORT",
        conflicts_with = "fdpass"
    )]
    pub listen: Option<String>,
    /// With --listen: serve one client, then exit with its status.
    #[arg(long, requires = "listen")]
    pub once: bool,
    /// With --listen: at most N clients relayed at a time (more wait).
    #[arg(long, value_name = "N", requires = "listen")]
    pub max_clients: Option<usize>,
    /// Hand the connected socket to stdout (a unix socket) with SCM_RIGHTS
    /// and exit, for ssh's ProxyUseFdpass. Refused for chains with TLS.
    #[arg(long)]
    pub fdpass: bool,
    /// After stdin's end, wait at most SECS for the peer to finish
    /// (default: until the peer closes).
    #[arg(long, value_name = "SECS")]
    pub linger: Option<f64>,
    /// Close everything at stdin's end instead of only the sending side.
    #[arg(long)]
    pub no_half_close: bool,
    /// Keep running after the peer closes, until stdin ends.
    #[arg(long)]
    pub no_exit_on_peer_eof: bool,
    /// Exit (0) after SECS without traffic in either direction.
    #[arg(long, value_name = "SECS")]
    pub idle_timeout: Option<f64>,
    /// Bytes each way and the duration on stderr at exit.
    #[arg(long)]
    pub stats: bool,
    /// A TLS peer that closes without close_notify is an error (exit 56):
    /// the output may be truncated. Without it, a warning on stderr and
    /// exit 0, as for an orderly close.
    #[arg(long)]
    pub tls_strict_eof: bool,
    // Last: its help heading ("Chain options") carries over to whatever
    // follows it, and the relay's own options belong under "Options".
    #[command(flatten)]
    pub chain: ChainArgs,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Output format (text or json).
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    // Last: its help heading ("Chain options") carries over to whatever
    // follows it, and the command's own options belong under "Options".
    #[command(flatten)]
    pub chain: ChainArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Ndjson,
    Csv,
    Prometheus,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanFormat {
    Text,
    Json,
}

/// `--proxy-type`: a proxy scheme.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyScheme {
    Http,
    Https,
    Socks4,
    Socks4a,
    Socks5,
    Socks5h,
}

/// `--proxy-dns`: where SOCKS hops get their names resolved.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyDns {
    Local,
    Remote,
    Both,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

/// The options that shape the connection, shared by every command (§5.3).
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Chain options")]
pub struct ChainArgs {
    /// A proxy hop, [scheme://][user:pass@]host[:port][?OPTIONS] with
    /// scheme http, https, socks4, socks4a, socks5 or socks5h. Repeat for a
    /// chain: the first -x is the first hop (a single -x is curl's -x). The
    /// hop's own settings, over the chain-wide flags:
    /// ?auth=basic|digest|ntlm|any, &cacert=FILE, &insecure=1 (https).
    #[arg(short = 'x', long = "proxy", value_name = "URL", value_hint = ValueHint::Url)]
    pub proxy: Vec<String>,
    /// A SOCKS proxy before the first -x (curl's --preproxy).
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url)]
    pub preproxy: Option<String>,
    /// Proxy credentials USER[:PASS] for the last -x given before it (or
    /// the last hop); --proxy-auth is ncat's spelling. Without :PASS the
    /// password comes from --proxy-password-file, --proxy-password-cmd,
    /// the config chain, HANDOVER_PROXY_PASSWORD or a prompt on the
    /// terminal, in that order.
    #[arg(
        short = 'U',
        long = "proxy-user",
        visible_alias = "proxy-auth",
        value_name = "USER[:PASS]"
    )]
    pub proxy_user: Vec<String>,
    /// Only Basic with proxies.
    #[arg(long, group = "proxy_auth_method")]
    pub proxy_basic: bool,
    /// Only Digest with proxies.
    #[arg(long, group = "proxy_auth_method")]
    pub proxy_digest: bool,
    /// Only NTLM with proxies.
    #[arg(long, group = "proxy_auth_method")]
    pub proxy_ntlm: bool,
    /// Whatever the proxy's 407 offers (one more round trip).
    #[arg(long, group = "proxy_auth_method")]
    pub proxy_anyauth: bool,
    /// Tunnel with CONNECT through an HTTP proxy even for http:// targets.
    #[arg(short = 'p', long)]
    pub proxytunnel: bool,
    /// An extra header for CONNECT requests ("Name: value").
    #[arg(long, value_name = "HEADER")]
    pub proxy_header: Vec<String>,
    /// CA certificates (PEM) for HTTPS proxies.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub proxy_cacert: Option<PathBuf>,
    /// Do not verify HTTPS proxies' certificates.
    #[arg(long)]
    pub proxy_insecure: bool,
    /// Hosts that bypass the proxy (comma-separated names, IPs, CIDRs, or *).
    #[arg(long, value_name = "LIST")]
    pub noproxy: Option<String>,
    /// Use this address for HOST:PORT: HOST:PORT:ADDR[,ADDR…] (repeatable).
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// Connect to another host and port: HOST1:PORT1:HOST2:PORT2 (repeatable).
    #[arg(long = "connect-to", value_name = "H1:P1:H2:P2")]
    pub connect_to: Vec<String>,
    /// IPv4 addresses only.
    #[arg(short = '4', long = "ipv4", conflicts_with = "ipv6")]
    pub ipv4: bool,
    /// IPv6 addresses only.
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,
    /// Head start of the first address family in happy eyeballs (ms).
    #[arg(long, value_name = "MS")]
    pub happy_eyeballs_timeout_ms: Option<u64>,
    /// Local interface, address or host to connect from.
    #[arg(long, value_name = "NAME")]
    pub interface: Option<String>,
    /// Local port to connect from.
    #[arg(long, value_name = "PORT")]
    pub local_port: Option<u16>,
    /// Limit for resolve, connect, proxies and TLS (fractional seconds).
    #[arg(long, value_name = "SECS")]
    pub connect_timeout: Option<f64>,
    /// Limit for the whole attempt (fractional seconds).
    #[arg(short = 'm', long = "max-time", value_name = "SECS")]
    pub max_time: Option<f64>,
    /// Do not verify the server's certificate.
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// CA certificates (PEM) for the server.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub cacert: Option<PathBuf>,
    /// Client certificate (PEM) for the server.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub cert: Option<PathBuf>,
    /// Client private key (PEM) for --cert.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub key: Option<PathBuf>,
    /// The server's public key: sha256//BASE64[;sha256//…] or a PEM/DER file.
    #[arg(long, value_name = "HASHES")]
    pub pinnedpubkey: Option<String>,
    /// TLS 1.2 or later with the server.
    #[arg(long = "tlsv1.2", conflicts_with = "tls13")]
    pub tls12: bool,
    /// TLS 1.3 only with the server.
    #[arg(long = "tlsv1.3")]
    pub tls13: bool,
    /// Config file with named chains ([chain.NAME]); default
    /// $XDG_CONFIG_HOME/handover/config.toml or ~/.config/handover/config.toml.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub config: Option<PathBuf>,
    /// The named chain from the config file, before any -x (also -x @NAME,
    /// or HANDOVER_CHAIN when no proxy is given on the command line).
    #[arg(long = "chain", value_name = "NAME")]
    pub chain_name: Option<String>,
    /// Read the password of a -U USER from the first line of FILE.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub proxy_password_file: Option<PathBuf>,
    /// Run CMD with sh -c; the first line of its output is the password of
    /// a -U USER (e.g. "pass show corp/proxy").
    #[arg(
        long,
        value_name = "CMD",
        conflicts_with = "proxy_password_file",
        value_hint = ValueHint::CommandString
    )]
    pub proxy_password_cmd: Option<String>,
    /// The scheme of a -x without one (ncat's --proxy-type).
    #[arg(long, value_enum, value_name = "TYPE")]
    pub proxy_type: Option<ProxyScheme>,
    /// Who resolves names handed to SOCKS hops (ncat's --proxy-dns):
    /// local (socks5, socks4), remote (socks5h, socks4a), or both (local
    /// when the name resolves here, else the proxy).
    #[arg(long, value_enum, value_name = "WHERE")]
    pub proxy_dns: Option<ProxyDns>,
    /// A SOCKS5 proxy that resolves the target's name: curl's
    /// --socks5-hostname, the same as -x socks5h://HOST[:PORT].
    #[arg(long, value_name = "HOST[:PORT]", conflicts_with_all = ["proxy", "chain_name"])]
    pub socks5_hostname: Option<String>,
    /// Client certificate (PEM) for HTTPS proxies.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub proxy_cert: Option<PathBuf>,
    /// Client private key (PEM) for --proxy-cert.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub proxy_key: Option<PathBuf>,
    /// HTTPS proxies' public key: sha256//BASE64[;sha256//…] or a PEM/DER file.
    #[arg(long, value_name = "HASHES")]
    pub proxy_pinnedpubkey: Option<String>,
    /// Write curl's trace (hex and ASCII dump, credentials blanked) to FILE;
    /// - is stdout (not for relay and ws, whose stdout is the data).
    #[arg(long, value_name = "FILE", conflicts_with = "trace_ascii")]
    pub trace: Option<String>,
    /// Like --trace, without the hex: the ASCII dump only.
    #[arg(long, value_name = "FILE")]
    pub trace_ascii: Option<String>,
    /// Start each trace and verbose line with the time (UTC, HH:MM:SS.micro).
    #[arg(long)]
    pub trace_time: bool,
    /// The library's verbose lines on stderr (credentials redacted).
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// No text output on stdout; errors still go to stderr.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

impl ChainArgs {
    /// `(-U value, index of the -x it follows)`: -U applies to the last
    /// -x given before it, or to the last hop when none came before.
    /// Positions come from clap's argument indices.
    pub fn user_positions(matches: &clap::ArgMatches) -> Vec<(String, Option<usize>)> {
        let users: Vec<(usize, String)> = match (
            matches.indices_of("proxy_user"),
            matches.get_many::<String>("proxy_user"),
        ) {
            (Some(idx), Some(vals)) => idx.zip(vals.cloned()).collect(),
            _ => Vec::new(),
        };
        let proxies: Vec<usize> = matches
            .indices_of("proxy")
            .map(|i| i.collect())
            .unwrap_or_default();
        users
            .into_iter()
            .map(|(at, value)| {
                let hop = proxies.iter().rposition(|&p| p < at);
                (value, hop)
            })
            .collect()
    }
}
