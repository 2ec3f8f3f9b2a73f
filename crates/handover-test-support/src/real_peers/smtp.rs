//! The SMTP server of the tests: aiosmtpd ([`SmtpServer`]).

use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::{
    free_ports, greets_with, shared_instance, wait_for_text, Instances, Peer, Program, TempDir,
    MAIL_PASSWORD, MAIL_QUOTED_PASSWORD, MAIL_QUOTED_USER, MAIL_USER,
};
use crate::peers::TestPki;

/// The script that runs aiosmtpd, written into each server's temp dir.
const SCRIPT: &str = include_str!("smtp_server.py");

/// Debian's python3, the one `python3-aiosmtpd` installs for.
const PYTHON: &str = "/usr/bin/python3";

/// An SMTP server on 127.0.0.1: aiosmtpd (Debian's `python3-aiosmtpd`,
/// an SMTP server library) run by a small script of ours,
/// `smtp_server.py` beside this file, with Debian's `/usr/bin/python3`
/// (not whatever `python3` comes first on PATH).
///
/// Why aiosmtpd: it runs unprivileged-configurable on any port from a temp
/// dir, with no system configuration and no mail service. Debian's MTAs
/// (exim4, opensmtpd) are each the machine's `mail-transport-agent`: their
/// packages replace one another, bring a spool, users and an init service
/// with them, and exim4's AUTH needs a configuration of its own anyway.
///
/// Three listeners, each answering `220 handover-smtp ...` and `EHLO` with
/// `AUTH CRAM-MD5 LOGIN PLAIN`:
///
/// - [`SmtpServer::port`]: `STARTTLS` offered, not required; AUTH offered
///   before it too (after it, `EHLO` no longer lists `STARTTLS`);
/// - [`SmtpServer::tls_port`]: TLS from the first byte (smtps);
/// - [`SmtpServer::no_tls_port`]: no TLS at all (no `STARTTLS`).
///
/// Certificate: [`TestPki::shared`]'s server certificate. Users:
/// [`MAIL_USER`] with [`MAIL_PASSWORD`] and [`MAIL_QUOTED_USER`] with
/// [`MAIL_QUOTED_PASSWORD`]; a good AUTH gets `235 2.7.0 Authentication
/// successful`, a bad one `535 5.7.8 Authentication credentials invalid`.
/// `PLAIN` and `LOGIN` are aiosmtpd's own (LOGIN's challenges are
/// `User Name\0` and `Password\0`); `CRAM-MD5` (RFC 2195) is added by the
/// script through aiosmtpd's mechanism hook.
///
/// The log ([`SmtpServer::log`], parsed by [`SmtpServer::commands`]) has
/// one line per event, each `SECONDS PORT WHAT`, PORT being the client's:
/// `connect`; `>> LINE` for every command line (`AUTH PLAIN ********`
/// with an initial response masked; the answers to `334` challenges are not
/// logged); `<< REPLY` for every reply line; `eof` when the client closed;
/// `lost` when the connection is gone. A client's `QUIT` is a `>> QUIT`
/// line followed by `<< 221 Bye`; a client that only closes leaves `eof`
/// and `lost` and no `QUIT`.
pub struct SmtpServer {
    peer: Peer,
    tls_port: u16,
    no_tls_port: u16,
}

peer_accessors!(SmtpServer);

impl SmtpServer {
    /// The server shared by every test of this process (see
    /// [`crate::shared`]). A test that reads the log for its own connection
    /// can pick its lines by client port ([`SmtpServer::commands_from`]).
    pub fn shared() -> &'static SmtpServer {
        static SHARED: Instances<(), SmtpServer> = Instances::new();
        shared_instance(&SHARED, (), SmtpServer::start)
    }

    /// Starts the server; returns once its plain and no-TLS listeners
    /// greet with `220`.
    pub fn start() -> SmtpServer {
        let python = PathBuf::from(PYTHON);
        assert!(
            python.exists(),
            "{PYTHON} not found: the SMTP server needs Debian's python3 and the package \
             `python3-aiosmtpd`; run scripts/install-peers as root"
        );
        let dir = TempDir::new("smtp");
        let script = dir.write("smtp_server.py", SCRIPT);
        let pki = TestPki::shared();
        let cert = dir.write("cert.pem", &pki.server_chain_pem);
        let key = dir.write("key.pem", &pki.server_key_pem);
        let users = dir.write(
            "users",
            &format!("{MAIL_USER}:{MAIL_PASSWORD}\n{MAIL_QUOTED_USER}:{MAIL_QUOTED_PASSWORD}\n"),
        );
        let log = dir.path().join("smtp.log");
        let mut extra = (0, 0);
        let peer = Peer::start(
            "smtp",
            dir,
            &["smtp.log", "stderr.log", "stdout.log"],
            |_, port| {
                let more = free_ports(port, 2);
                extra = (more[0], more[1]);
                let mut cmd = Command::new(&python);
                // -I: no user site dir, no PYTHON* variables; -B: no .pyc.
                cmd.arg("-I")
                    .arg("-B")
                    .arg(&script)
                    .arg(&log)
                    .arg(&cert)
                    .arg(&key)
                    .arg(&users)
                    .arg(port.to_string())
                    .arg(more[0].to_string())
                    .arg(more[1].to_string());
                cmd
            },
            |addr| greets_with(addr, "220"),
        );
        let (tls_port, no_tls_port) = extra;
        let server = SmtpServer {
            peer,
            tls_port,
            no_tls_port,
        };
        assert!(
            greets_with(SocketAddr::from((Ipv4Addr::LOCALHOST, no_tls_port)), "220"),
            "the SMTP server's no-TLS listener does not greet\n{}",
            server.log()
        );
        server
    }

    /// The port of smtps: TLS from the first byte.
    pub fn tls_port(&self) -> u16 {
        self.tls_port
    }

    /// The port without TLS: `EHLO` lists no `STARTTLS`.
    pub fn no_tls_port(&self) -> u16 {
        self.no_tls_port
    }

    /// Every command line received so far, oldest first, from every
    /// connection (`EHLO name`, `STARTTLS`, `AUTH PLAIN ********`, `QUIT`).
    pub fn commands(&self) -> Vec<String> {
        self.events()
            .filter_map(|(_, what)| what.strip_prefix(">> ").map(str::to_owned))
            .collect()
    }

    /// The command lines received on the connection from the client's
    /// `port` (its local port), oldest first.
    pub fn commands_from(&self, port: u16) -> Vec<String> {
        self.events()
            .filter(|(p, _)| *p == Some(port))
            .filter_map(|(_, what)| what.strip_prefix(">> ").map(str::to_owned))
            .collect()
    }

    /// The log (see the module docs) once it contains `wanted`, or as it
    /// is after `timeout`.
    pub fn wait_log(&self, wanted: &str, timeout: Duration) -> String {
        wait_for_text(wanted, timeout, || self.smtp_log())
    }

    /// The log in full, then what the script printed.
    pub fn log(&self) -> String {
        self.peer
            .logs_in_full(&["smtp.log", "stderr.log", "stdout.log"])
    }

    fn smtp_log(&self) -> String {
        fs::read_to_string(self.peer.dir.path().join("smtp.log")).unwrap_or_default()
    }

    /// (client port, what) per log line: `SECONDS PORT WHAT`.
    fn events(&self) -> impl Iterator<Item = (Option<u16>, String)> {
        self.smtp_log()
            .lines()
            .filter_map(|line| {
                let (_, rest) = line.split_once(' ')?;
                let (port, what) = rest.split_once(' ').unwrap_or((rest, ""));
                Some((port.parse().ok(), what.to_owned()))
            })
            .collect::<Vec<_>>()
            .into_iter()
    }
}
