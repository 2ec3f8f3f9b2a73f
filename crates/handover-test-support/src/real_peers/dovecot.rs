//! The IMAP and POP3 server of the tests: dovecot ([`Dovecot`]).

use std::cell::Cell;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::process::Command;
use std::time::Duration;

use super::{
    find_program, free_ports, greets_with, shared_instance, wait_for_text, Instances, Peer,
    Program, TempDir, MAIL_PASSWORD, MAIL_QUOTED_PASSWORD, MAIL_QUOTED_USER, MAIL_USER,
};
use crate::peers::TestPki;

/// The second loopback address: its listeners disallow plaintext logins before TLS.
const LOGIN_DISABLED_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// The third: its listeners have no TLS.
const NO_TLS_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

/// The ports of one dovecot: IMAP then POP3, each plain (STARTTLS), TLS,
/// login-disabled and no-TLS.
#[derive(Clone, Copy, Default)]
struct Ports {
    imap: [u16; 4],
    pop3: [u16; 4],
}

/// dovecot 2.3 as an IMAP and POP3 server on loopback, with eight
/// listeners, four per protocol:
///
/// | listener | address | TLS | plaintext logins |
/// | --- | --- | --- | --- |
/// | [`imap_port`](Dovecot::imap_port), [`pop3_port`](Dovecot::pop3_port) | 127.0.0.1 | `STARTTLS`/`STLS` offered | allowed in the clear |
/// | [`imaps_port`](Dovecot::imaps_port), [`pop3s_port`](Dovecot::pop3s_port) | 127.0.0.1 | from the first byte | allowed |
/// | [`imap_login_disabled_addr`](Dovecot::imap_login_disabled_addr), [`pop3_login_disabled_addr`](Dovecot::pop3_login_disabled_addr) | 127.0.0.2 | `STARTTLS`/`STLS` offered | only after it: before, IMAP says `LOGINDISABLED` and `AUTH=CRAM-MD5` only, POP3 has no `USER` and `SASL CRAM-MD5` only |
/// | [`imap_no_tls_addr`](Dovecot::imap_no_tls_addr), [`pop3_no_tls_addr`](Dovecot::pop3_no_tls_addr) | 127.0.0.3 | none (no `STARTTLS`/`STLS`) | allowed |
///
/// The other addresses exist because dovecot counts a connection whose
/// client and server addresses are equal (127.0.0.1 to 127.0.0.1) as
/// secure, whatever `disable_plaintext_auth` says; a client on 127.0.0.1
/// calling 127.0.0.2 is not. The certificate (of [`TestPki::shared`]) names
/// 127.0.0.2 and 127.0.0.3 too.
///
/// Users ([`MAIL_USER`] with [`MAIL_PASSWORD`], [`MAIL_QUOTED_USER`] with
/// [`MAIL_QUOTED_PASSWORD`]) come from a passwd-file holding the passwords
/// as `{PLAIN}`, so every mechanism works: SASL `PLAIN`, `LOGIN`,
/// `CRAM-MD5`, IMAP `LOGIN`, POP3 `USER`/`PASS` and `APOP` (the POP3
/// greeting carries the APOP timestamp `<...@host>`). A wrong password is
/// answered in about 0.5 s, and dovecot's growing penalty for repeated
/// failures from one address is off (its anvil socket is not made), so one
/// test's wrong passwords do not slow another's logins. Mail processes run
/// as `nobody` with an empty Maildir (POP3 `STAT` is `+OK 0 0`).
///
/// dovecot runs as root in the foreground (`dovecot -F -c CONF`) with its
/// base_dir, state_dir and log in the temp dir; login processes are not
/// chrooted (so that they can write the raw log).
///
/// What a test can read:
///
/// - [`Dovecot::log`]: dovecot's log. How a session ended shows there,
///   one line each:
///   - logged in, then IMAP `LOGOUT` / POP3 `QUIT`:
///     `imap(alice)<pid><session>: Info: Disconnected: Logged out in=...`
///     (`pop3(alice)...: Disconnected: Logged out top=...`);
///   - logged in, then the client closed: `...: Disconnected: Connection
///     closed (...) in=...` (IMAP), `...: Disconnected: Connection closed
///     top=...` (POP3);
///   - not logged in, `LOGOUT`/`QUIT`: `imap-login: Info: Disconnected:
///     Aborted login by logging out (...)` (`pop3-login: ...`);
///   - not logged in, closed: `imap-login: Info: Disconnected: Connection
///     closed (...)`;
///   - and logins: `imap-login: Info: Login: user=<alice>, method=PLAIN,
///     rip=127.0.0.1, lip=..., mpid=..., TLS|secured, session=<...>`;
///     failures: `auth: Info: passwd-file(alice,...): Password mismatch`.
/// - [`Dovecot::client_lines`]: every line clients sent, from dovecot's raw
///   logs (`-R` for the login processes, `rawlog_dir` after login).
///
/// Every test sharing the instance writes to the same logs: a test that
/// asserts on them for its own connection picks its lines by something
/// only it uses (a user, a tag) or starts its own dovecot.
pub struct Dovecot {
    peer: Peer,
    ports: Ports,
}

impl Program for Dovecot {
    fn peer(&self) -> &Peer {
        &self.peer
    }
}

impl Dovecot {
    /// The dovecot shared by every test of this process (see
    /// [`crate::shared`]).
    pub fn shared() -> &'static Dovecot {
        static SHARED: Instances<(), Dovecot> = Instances::new();
        shared_instance(&SHARED, (), Dovecot::start)
    }

    /// Starts dovecot; returns once its IMAP and POP3 listeners greet.
    pub fn start() -> Dovecot {
        let exe = find_program("dovecot", &["dovecot"], "dovecot-imapd");
        let dir = TempDir::new("dovecot");
        let pki = TestPki::shared();
        let cert = dir.write("cert.pem", &pki.server_chain_pem);
        let key = dir.write("key.pem", &pki.server_key_pem);
        let users = dir.write(
            "users",
            &format!(
                "{MAIL_USER}:{{PLAIN}}{MAIL_PASSWORD}::::\n\
                 {MAIL_QUOTED_USER}:{{PLAIN}}{MAIL_QUOTED_PASSWORD}::::\n"
            ),
        );
        // Written by the login processes (dovenull) and the mail processes (nobody).
        dir.make_shared_dir("rawlog");
        dir.make_shared_dir("home");
        let d = dir.path().display().to_string();
        let ports = Cell::new(Ports::default());
        let peer = Peer::start(
            "dovecot",
            dir,
            &["dovecot.log", "stderr.log"],
            |dir, imap| {
                let more = free_ports(imap, 7);
                let chosen = Ports {
                    imap: [imap, more[0], more[1], more[2]],
                    pop3: [more[3], more[4], more[5], more[6]],
                };
                ports.set(chosen);
                let listeners = |name: &str, p: [u16; 4]| {
                    format!(
                        "  inet_listener {name} {{\n    address = 127.0.0.1\n    port = {}\n  }}\n\
                         \x20 inet_listener {name}s {{\n    address = 127.0.0.1\n    port = {}\n    ssl = yes\n  }}\n\
                         \x20 inet_listener {name}_login_disabled {{\n    address = {LOGIN_DISABLED_IP}\n    port = {}\n  }}\n\
                         \x20 inet_listener {name}_no_tls {{\n    address = {NO_TLS_IP}\n    port = {}\n  }}\n",
                        p[0], p[1], p[2], p[3]
                    )
                };
                let conf = dir.write(
                    "dovecot.conf",
                    &format!(
                        "protocols = imap pop3\n\
                         listen = 127.0.0.1\n\
                         base_dir = {d}/run\n\
                         state_dir = {d}/state\n\
                         log_path = {d}/dovecot.log\n\
                         ssl = yes\n\
                         ssl_cert = <{cert}\n\
                         ssl_key = <{key}\n\
                         ssl_min_protocol = TLSv1.2\n\
                         disable_plaintext_auth = no\n\
                         auth_mechanisms = plain login cram-md5 apop\n\
                         auth_failure_delay = 0\n\
                         auth_verbose = yes\n\
                         mail_location = maildir:~/Maildir\n\
                         rawlog_dir = {d}/rawlog\n\
                         passdb {{\n  driver = passwd-file\n  args = {users}\n}}\n\
                         userdb {{\n  driver = static\n  args = uid=nobody gid=nogroup home={d}/home/%u\n}}\n\
                         local {LOGIN_DISABLED_IP} {{\n  disable_plaintext_auth = yes\n}}\n\
                         local {NO_TLS_IP} {{\n  ssl = no\n}}\n\
                         protocol imap {{\n  mail_max_userip_connections = 1000\n}}\n\
                         protocol pop3 {{\n  mail_max_userip_connections = 1000\n}}\n\
                         service imap-login {{\n  executable = imap-login -R {d}/rawlog\n  chroot =\n{}}}\n\
                         service pop3-login {{\n  executable = pop3-login -R {d}/rawlog\n  chroot =\n{}}}\n\
                         service anvil {{\n  unix_listener anvil-auth-penalty {{\n    mode = 0\n  }}\n}}\n",
                        listeners("imap", chosen.imap),
                        listeners("pop3", chosen.pop3),
                        cert = cert.display(),
                        key = key.display(),
                        users = users.display(),
                    ),
                );
                let mut cmd = Command::new(&exe);
                cmd.arg("-F").arg("-c").arg(conf);
                cmd
            },
            |imap| {
                let pop3 = SocketAddr::from((Ipv4Addr::LOCALHOST, ports.get().pop3[0]));
                greets_with(imap, "* OK") && greets_with(pop3, "+OK")
            },
        );
        Dovecot {
            peer,
            ports: ports.get(),
        }
    }

    /// IMAP on 127.0.0.1, `STARTTLS` offered, plaintext logins allowed.
    pub fn imap_port(&self) -> u16 {
        self.ports.imap[0]
    }

    /// IMAP over TLS from the first byte (imaps) on 127.0.0.1.
    pub fn imaps_port(&self) -> u16 {
        self.ports.imap[1]
    }

    /// IMAP on 127.0.0.2: `LOGINDISABLED` and `AUTH=CRAM-MD5` only until
    /// `STARTTLS`.
    pub fn imap_login_disabled_addr(&self) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(LOGIN_DISABLED_IP, self.ports.imap[2]))
    }

    /// IMAP on 127.0.0.3 without TLS (no `STARTTLS` capability).
    pub fn imap_no_tls_addr(&self) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(NO_TLS_IP, self.ports.imap[3]))
    }

    /// POP3 on 127.0.0.1, `STLS` offered, plaintext logins allowed.
    pub fn pop3_port(&self) -> u16 {
        self.ports.pop3[0]
    }

    /// POP3 over TLS from the first byte (pop3s) on 127.0.0.1.
    pub fn pop3s_port(&self) -> u16 {
        self.ports.pop3[1]
    }

    /// POP3 on 127.0.0.2: no `USER` and only `SASL CRAM-MD5` until `STLS`.
    pub fn pop3_login_disabled_addr(&self) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(LOGIN_DISABLED_IP, self.ports.pop3[2]))
    }

    /// POP3 on 127.0.0.3 without TLS (no `STLS` capability).
    pub fn pop3_no_tls_addr(&self) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(NO_TLS_IP, self.ports.pop3[3]))
    }

    /// dovecot's master process id, which is also its process group id.
    pub fn pid(&self) -> u32 {
        self.peer.pid()
    }

    /// dovecot's log so far, then what it printed on stderr.
    pub fn log(&self) -> String {
        self.peer.logs_in_full(&["dovecot.log", "stderr.log"])
    }

    /// [`Dovecot::log`] once it contains `wanted`, or as it is after
    /// `timeout`: dovecot logs a session's end once it has seen the close.
    pub fn wait_log(&self, wanted: &str, timeout: Duration) -> String {
        wait_for_text(wanted, timeout, || self.log())
    }

    /// Every line clients sent so far, oldest first, from the raw logs:
    /// before login (`a CAPABILITY`, `b STARTTLS`, `c LOGIN alice
    /// wonderland`: passwords in the clear) and after (`d NOOP`, `e
    /// LOGOUT`). dovecot writes a session's raw log as it goes but may hold
    /// its last lines until the session ends. What a client sends over TLS
    /// before login is logged as ciphertext: lines that are not printable
    /// ASCII are left out, and a rare short run of ciphertext may still
    /// pass as a line.
    pub fn client_lines(&self) -> Vec<String> {
        let dir = self.peer.dir.path().join("rawlog");
        let mut lines: Vec<(f64, usize, String)> = Vec::new();
        let Ok(entries) = fs::read_dir(&dir) else {
            return Vec::new();
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("in") {
                continue;
            }
            let Ok(bytes) = fs::read(&path) else { continue };
            for line in bytes.split(|&b| b == b'\n') {
                // "SECONDS.MICROS LINE"
                let Some(space) = line.iter().position(|&b| b == b' ') else {
                    continue;
                };
                let Some(stamp) = std::str::from_utf8(&line[..space])
                    .ok()
                    .and_then(|s| s.parse::<f64>().ok())
                else {
                    continue;
                };
                let text = &line[space + 1..];
                let text = text.strip_suffix(b"\r").unwrap_or(text);
                if !text.is_empty() && text.iter().all(|&b| (0x20..0x7f).contains(&b)) {
                    let order = lines.len();
                    lines.push((stamp, order, String::from_utf8_lossy(text).into_owned()));
                }
            }
        }
        lines.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        lines.into_iter().map(|(_, _, text)| text).collect()
    }
}
