//! Real proxy programs from Debian packages, started on loopback by the tests:
//! squid (HTTP CONNECT proxy, no auth / Basic / Digest), stunnel in front of a
//! squid (an HTTPS proxy), microsocks (SOCKS5 with username/password) and
//! dante's danted (SOCKS4 and SOCKS5 without auth); nginx, an origin
//! server (HTTP, optionally HTTPS too) serving files from a temp docroot;
//! and dnsdist, a DNS over HTTPS server ([`Dnsdist`]).
//!
//! The servers of the protocol connect phases, each documented in its own
//! module: [`Vsftpd`] (FTP; explicit or implicit FTPS; anonymous and the
//! local user [`FTP_USER`]), [`Dovecot`] (IMAP and POP3, plain, STARTTLS,
//! implicit TLS; SASL PLAIN, LOGIN, CRAM-MD5, APOP; [`MAIL_USER`]),
//! [`SmtpServer`] (aiosmtpd: SMTP with STARTTLS, smtps and AUTH PLAIN,
//! LOGIN, CRAM-MD5), [`Mosquitto`] (MQTT, plain and TLS) and [`Tftpd`]
//! (TFTP over UDP). Each logs what its clients sent, so that a test can
//! tell whether a `QUIT`/`LOGOUT` reached it.
//!
//! Each peer is a struct whose `start()` picks a free loopback port (bind
//! 127.0.0.1:0, read the port, drop the listener), writes its config into a
//! temp dir of its own, runs the program in the foreground in a process group
//! of its own, and returns once the program owns a listening socket on that
//! port and answers on it. Should another process grab the port in between,
//! the program fails to bind and the start is retried on a new port. `Drop`
//! sends SIGTERM, waits a little, then SIGKILLs the whole process group
//! (danted's children) and every descendant (squid's auth helpers, which
//! squid starts in sessions of their own), reaps the program and removes
//! the dir.
//!
//! Written for root (as the tests and CI run here): squid and danted drop
//! to the users `proxy` and `nobody`, so the temp dirs are world-writable.
//! nginx's workers stay root (`user root root`), so that they can read a
//! docroot wherever the temp dir lives.
//!
//! A missing program makes `start()` panic, naming the package and
//! `scripts/install-peers`: these tests fail loudly, they never skip. A
//! program that does not come up makes `start()` panic with the tail of its
//! logs.
//!
//! Only IPv4 loopback is used: the peers listen on 127.0.0.1 (dovecot also
//! on 127.0.0.2 and 127.0.0.3) and the targets are expected on 127.0.0.0/8
//! (dante binds its outgoing side to 127.0.0.1).
//!
//! `Squid::shared`, `Dante::shared`, `Microsocks::shared`,
//! `Nginx::shared` and the `shared` of every protocol server return one
//! instance per configuration for the whole test binary instead of a fresh
//! one: see [`crate::shared`] for when that is safe and how the instances
//! end.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::shared::{self, Instances};

mod openssl_server;
pub use openssl_server::{
    ocsp_response, ClientKeyFiles, OcspStatus, OpensslServer, OpensslServerSetup,
};

/// How long a program gets to come up, per attempt.
const START_DEADLINE: Duration = Duration::from_secs(20);
/// How often readiness is polled while a program comes up.
const POLL: Duration = Duration::from_millis(20);
/// How many ports are tried when the program finds its port taken.
const BIND_ATTEMPTS: usize = 4;
/// How long `Drop` waits after SIGTERM before it SIGKILLs the group. danted,
/// microsocks and stunnel exit well within it; squid, which takes 2 s to shut
/// down even with `shutdown_lifetime 0`, is not worth waiting for.
const STOP_GRACE: Duration = Duration::from_millis(300);
/// Timeout of the probe connections made while waiting for readiness.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How many log lines a start failure shows, per log file.
const LOG_TAIL_LINES: usize = 40;

/// Makes every peer's temp dir unique within one process.
static DIR_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Which credentials, if any, a [`Squid`] demands of its clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SquidAuth {
    /// Any client on 127.0.0.1 may CONNECT anywhere.
    None,
    /// `Proxy-Authorization: Basic`, checked by squid's `basic_ncsa_auth`.
    Basic {
        /// The one user.
        user: String,
        /// Its password.
        password: String,
    },
    /// `Proxy-Authorization: Digest` (RFC 2617, MD5, qop=auth), checked by
    /// squid's `digest_file_auth`.
    Digest {
        /// The one user.
        user: String,
        /// Its password.
        password: String,
        /// The realm of the challenge.
        realm: String,
    },
}

/// The accessors every real peer shares, written once.
macro_rules! peer_accessors {
    ($($peer:ident),*) => {$(
        impl Program for $peer {
            fn peer(&self) -> &Peer {
                &self.peer
            }
        }

        impl $peer {
            /// The port the program listens on, on 127.0.0.1.
            pub fn port(&self) -> u16 {
                self.peer.port
            }

            /// 127.0.0.1 and the port.
            pub fn addr(&self) -> SocketAddr {
                self.peer.addr()
            }

            /// The program's process id, which is also its process group id.
            pub fn pid(&self) -> u32 {
                self.peer.pid()
            }
        }
    )*};
}

peer_accessors!(
    Squid,
    Stunnel,
    Microsocks,
    Dante,
    Nginx,
    Lighttpd,
    OpensslServer
);

/// A real peer: a [`Peer`] inside.
trait Program: Sized + Send + Sync + 'static {
    fn peer(&self) -> &Peer;
}

/// The instance of `key` among `instances`, made by `start` the first
/// time and stopped by the watcher of [`crate::shared`] when the process
/// ends (a static is never dropped).
fn shared_instance<K: PartialEq, P: Program>(
    instances: &Instances<K, P>,
    key: K,
    start: impl FnOnce() -> P,
) -> &'static P {
    instances.get_or_start(key, || {
        let program = start();
        let peer = program.peer();
        shared::stop_at_exit(peer.pid(), peer.dir.path());
        program
    })
}

/// squid 5 as a forward proxy on 127.0.0.1: CONNECT to any port is allowed,
/// clients only from 127.0.0.1, no disk cache, no DNS server but 127.0.0.1.
pub struct Squid {
    peer: Peer,
}

impl Squid {
    /// The squid demanding `auth` shared by every test of this process,
    /// started by the first caller (see [`crate::shared`]). Not for a test
    /// that sends a wrong password: squid's credential cache is shared too.
    pub fn shared(auth: SquidAuth) -> &'static Squid {
        static SHARED: Instances<SquidAuth, Squid> = Instances::new();
        shared_instance(&SHARED, auth.clone(), || Squid::start(auth))
    }

    /// Starts squid demanding `auth`; returns once it answers HTTP requests.
    pub fn start(auth: SquidAuth) -> Squid {
        let exe = find_program("squid", &["squid"], "squid");
        let dir = TempDir::new("squid");
        let auth_lines = match &auth {
            SquidAuth::None => String::new(),
            SquidAuth::Basic { user, password } => {
                let passwd =
                    dir.write("basic.passwd", &format!("{user}:{}\n", md5_crypt(password)));
                format!(
                    "auth_param basic program /usr/lib/squid/basic_ncsa_auth {}\n\
                     auth_param basic children 2 startup=0 idle=1\n\
                     auth_param basic realm handover\n",
                    passwd.display()
                )
            }
            SquidAuth::Digest {
                user,
                password,
                realm,
            } => {
                // Without -c, digest_file_auth reads plain `user:password` lines.
                let passwd = dir.write("digest.passwd", &format!("{user}:{password}\n"));
                format!(
                    "auth_param digest program /usr/lib/squid/digest_file_auth {}\n\
                     auth_param digest children 2 startup=0 idle=1\n\
                     auth_param digest realm {realm}\n",
                    passwd.display()
                )
            }
        };
        let access = if auth == SquidAuth::None {
            "http_access allow test_clients\n"
        } else {
            "acl authenticated proxy_auth REQUIRED\n\
             http_access allow test_clients authenticated\n"
        };
        // A service name of its own per instance keeps any shared-memory or
        // IPC names apart from those of the other squids of the same run.
        let service = format!(
            "handover{}x{}",
            std::process::id(),
            DIR_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let d = dir.path().display().to_string();
        let peer = Peer::start(
            "squid",
            dir,
            &["cache.log", "access.log", "stderr.log"],
            |dir, port| {
                let conf = dir.write(
                    "squid.conf",
                    &format!(
                        "http_port 127.0.0.1:{port}\n\
                         pid_filename {d}/squid.pid\n\
                         cache_log {d}/cache.log\n\
                         access_log stdio:{d}/access.log\n\
                         cache_store_log none\n\
                         coredump_dir {d}\n\
                         cache deny all\n\
                         cache_mem 8 MB\n\
                         shutdown_lifetime 0 seconds\n\
                         pinger_enable off\n\
                         visible_hostname handover-test\n\
                         dns_nameservers 127.0.0.1\n\
                         {auth_lines}\
                         acl test_clients src 127.0.0.1/32\n\
                         {access}\
                         http_access deny all\n"
                    ),
                );
                let mut cmd = Command::new(&exe);
                cmd.arg("-N").arg("-f").arg(conf).arg("-n").arg(&service);
                cmd
            },
            answers_http,
        );
        Squid { peer }
    }

    /// cache.log then access.log, for a failing test to print.
    pub fn log(&self) -> String {
        self.peer.logs_in_full(&["cache.log", "access.log"])
    }

    /// [`Squid::log`] once it contains `wanted`, or as it is after
    /// `timeout`: squid writes a request's access log line after the
    /// transaction, buffered.
    pub fn wait_log(&self, wanted: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.log();
            if log.contains(wanted) || Instant::now() >= deadline {
                return log;
            }
            thread::sleep(POLL);
        }
    }
}

/// stunnel terminating TLS on its own port and forwarding the plaintext to
/// `backend` (e.g. a [`Squid`]): together, an HTTPS proxy.
pub struct Stunnel {
    peer: Peer,
}

impl Stunnel {
    /// Starts stunnel presenting `cert_chain_pem` (leaf first) and `key_pem`
    /// (PKCS#8 or traditional PEM); returns once it accepts TCP connections.
    pub fn start(backend: SocketAddr, cert_chain_pem: &str, key_pem: &str) -> Stunnel {
        let exe = find_program("stunnel", &["stunnel4", "stunnel"], "stunnel4");
        let dir = TempDir::new("stunnel");
        let cert = dir.write("cert.pem", cert_chain_pem);
        let key = dir.write("key.pem", key_pem);
        let d = dir.path().display().to_string();
        let peer = Peer::start(
            "stunnel",
            dir,
            &["stunnel.log", "stderr.log"],
            |dir, port| {
                let conf = dir.write(
                    "stunnel.conf",
                    &format!(
                        "foreground = yes\n\
                         pid = {d}/stunnel.pid\n\
                         output = {d}/stunnel.log\n\
                         debug = info\n\
                         [https-proxy]\n\
                         accept = 127.0.0.1:{port}\n\
                         connect = {backend}\n\
                         cert = {}\n\
                         key = {}\n",
                        cert.display(),
                        key.display()
                    ),
                );
                let mut cmd = Command::new(&exe);
                cmd.arg(conf);
                cmd
            },
            |_| true,
        );
        Stunnel { peer }
    }

    /// stunnel's log, for a failing test to print.
    pub fn log(&self) -> String {
        self.peer.logs()
    }
}

/// microsocks: a SOCKS5 server, with username/password auth (RFC 1929) when
/// given credentials (and then no other method), without auth otherwise.
pub struct Microsocks {
    peer: Peer,
}

impl Microsocks {
    /// The microsocks with `credentials` shared by every test of this
    /// process, started by the first caller (see [`crate::shared`]).
    pub fn shared(credentials: Option<(&str, &str)>) -> &'static Microsocks {
        static SHARED: Instances<Option<(String, String)>, Microsocks> = Instances::new();
        let key = credentials.map(|(user, password)| (user.to_owned(), password.to_owned()));
        shared_instance(&SHARED, key, || Microsocks::start(credentials))
    }

    /// Starts microsocks; returns once it accepts TCP connections.
    pub fn start(credentials: Option<(&str, &str)>) -> Microsocks {
        let exe = find_program("microsocks", &["microsocks"], "microsocks");
        let dir = TempDir::new("microsocks");
        let peer = Peer::start(
            "microsocks",
            dir,
            &["stderr.log"],
            |_, port| {
                let mut cmd = Command::new(&exe);
                cmd.arg("-i")
                    .arg("127.0.0.1")
                    .arg("-p")
                    .arg(port.to_string());
                if let Some((user, password)) = credentials {
                    cmd.arg("-u").arg(user).arg("-P").arg(password);
                }
                cmd
            },
            |_| true,
        );
        Microsocks { peer }
    }

    /// What microsocks printed, for a failing test to print.
    pub fn log(&self) -> String {
        self.peer.logs()
    }
}

/// dante's danted: SOCKS4 (and 4a) and SOCKS5 without auth, clients from
/// 127.0.0.0/8 to anywhere, TCP CONNECT only; outgoing connections leave
/// from 127.0.0.1, so the targets must be on IPv4 loopback.
pub struct Dante {
    peer: Peer,
}

impl Dante {
    /// The danted shared by every test of this process, started by the
    /// first caller (see [`crate::shared`]).
    pub fn shared() -> &'static Dante {
        static SHARED: Instances<(), Dante> = Instances::new();
        shared_instance(&SHARED, (), Dante::start)
    }

    /// Starts danted; returns once it accepts TCP connections.
    pub fn start() -> Dante {
        let exe = find_program("danted", &["danted"], "dante-server");
        let dir = TempDir::new("danted");
        let d = dir.path().display().to_string();
        let peer = Peer::start(
            "danted",
            dir,
            &["danted.log", "stderr.log"],
            |dir, port| {
                let conf = dir.write(
                    "danted.conf",
                    &format!(
                        "logoutput: {d}/danted.log\n\
                         internal: 127.0.0.1 port = {port}\n\
                         external: 127.0.0.1\n\
                         socksmethod: none\n\
                         clientmethod: none\n\
                         user.privileged: root\n\
                         user.unprivileged: nobody\n\
                         client pass {{\n\
                         \x20   from: 127.0.0.0/8 to: 0.0.0.0/0\n\
                         }}\n\
                         socks pass {{\n\
                         \x20   from: 127.0.0.0/8 to: 0.0.0.0/0\n\
                         \x20   command: connect\n\
                         \x20   protocol: tcp\n\
                         }}\n\
                         socks pass {{\n\
                         \x20   from: 127.0.0.0/8 to: .\n\
                         \x20   command: connect\n\
                         \x20   protocol: tcp\n\
                         }}\n"
                    ),
                );
                let mut cmd = Command::new(&exe);
                // No -D: danted stays in the foreground.
                cmd.arg("-f")
                    .arg(conf)
                    .arg("-p")
                    .arg(dir.path().join("danted.pid"));
                cmd
            },
            |_| true,
        );
        Dante { peer }
    }

    /// danted's log, for a failing test to print.
    pub fn log(&self) -> String {
        self.peer.logs()
    }
}

/// lighttpd 1.4 as an origin server on 127.0.0.1 for what nginx cannot do:
/// HTTP Digest authentication (`mod_auth` with an htdigest file). Files
/// under `/digest/` need Digest as [`BASIC_USER`] with [`BASIC_PASSWORD`]
/// (realm [`DIGEST_REALM`], MD5, `qop=auth`); files under `/any/` need
/// Basic, challenged first (for a client that waits for the 401 to pick a
/// method); the rest is open. lighttpd keeps the connection after a 401.
pub struct Lighttpd {
    peer: Peer,
    docroot: PathBuf,
}

/// The realm of lighttpd's Digest challenge.
pub const DIGEST_REALM: &str = "handover";

impl Lighttpd {
    /// The lighttpd shared by every test of this process, started by the
    /// first caller (see [`crate::shared`]).
    pub fn shared() -> &'static Lighttpd {
        static SHARED: Instances<(), Lighttpd> = Instances::new();
        shared_instance(&SHARED, (), Lighttpd::start)
    }

    /// Starts lighttpd with an empty docroot on a free port; returns once
    /// it answers HTTP requests.
    pub fn start() -> Lighttpd {
        let exe = find_program("lighttpd", &["lighttpd"], "lighttpd");
        let dir = TempDir::new("lighttpd");
        let docroot = dir.path().join("docroot");
        fs::create_dir(&docroot).unwrap_or_else(|e| panic!("create {}: {e}", docroot.display()));
        // htdigest: user:realm:MD5(user:realm:password).
        let ha1 = md5_hex(format!("{BASIC_USER}:{DIGEST_REALM}:{BASIC_PASSWORD}").as_bytes());
        let htdigest = dir.write("htdigest", &format!("{BASIC_USER}:{DIGEST_REALM}:{ha1}\n"));
        let htpasswd = dir.write(
            "htpasswd",
            &format!("{BASIC_USER}:{}\n", md5_crypt(BASIC_PASSWORD)),
        );
        let d = dir.path().display().to_string();
        let root = docroot.display().to_string();
        let peer = Peer::start(
            "lighttpd",
            dir,
            &["error.log", "access.log", "stderr.log"],
            |dir, port| {
                let conf = dir.write(
                    "lighttpd.conf",
                    &format!(
                        "server.document-root = \"{root}\"\n\
                         server.bind = \"127.0.0.1\"\n\
                         server.port = {port}\n\
                         server.errorlog = \"{d}/error.log\"\n\
                         server.pid-file = \"{d}/lighttpd.pid\"\n\
                         server.modules = (\"mod_auth\", \"mod_authn_file\", \"mod_accesslog\")\n\
                         accesslog.filename = \"{d}/access.log\"\n\
                         $HTTP[\"url\"] =~ \"^/digest/\" {{\n\
                         \x20 auth.backend = \"htdigest\"\n\
                         \x20 auth.backend.htdigest.userfile = \"{}\"\n\
                         \x20 auth.require = (\"\" => (\"method\" => \"digest\", \"realm\" => \"{DIGEST_REALM}\", \"require\" => \"valid-user\"))\n\
                         }}\n\
                         $HTTP[\"url\"] =~ \"^/any/\" {{\n\
                         \x20 auth.backend = \"htpasswd\"\n\
                         \x20 auth.backend.htpasswd.userfile = \"{}\"\n\
                         \x20 auth.require = (\"\" => (\"method\" => \"basic\", \"realm\" => \"{DIGEST_REALM}\", \"require\" => \"valid-user\"))\n\
                         }}\n",
                        htdigest.display(),
                        htpasswd.display()
                    ),
                );
                let mut cmd = Command::new(&exe);
                cmd.arg("-D").arg("-f").arg(conf);
                cmd
            },
            |addr| answers_get(addr, "/"),
        );
        Lighttpd { peer, docroot }
    }

    /// Writes `contents` to `name` in the docroot (e.g. "digest/a.txt").
    pub fn put(&self, name: &str, contents: &[u8]) {
        put_under(&self.docroot, name, contents, "Lighttpd");
    }

    /// error.log, access.log and stderr.log in full, for a failing test.
    pub fn log(&self) -> String {
        self.peer
            .logs_in_full(&["error.log", "access.log", "stderr.log"])
    }
}

/// The user of nginx's `/basic/` location (HTTP Basic authentication).
pub const BASIC_USER: &str = "alice";
/// Her password.
pub const BASIC_PASSWORD: &str = "open sesame";
/// The token nginx's `/bearer/` location wants (`Authorization: Bearer ...`).
pub const BEARER_TOKEN: &str = "handover-test-token";

/// nginx 1.22 as an origin server on 127.0.0.1: serves the files of a temp
/// docroot (see [`Nginx::put`]) over plain HTTP, and over HTTPS on a second
/// port when given a certificate; the same on two Unix domain sockets
/// ([`Nginx::unix_socket`], [`Nginx::tls_unix_socket`]). Files under
/// `/basic/` need HTTP Basic authentication as [`BASIC_USER`] with
/// [`BASIC_PASSWORD`]; files under `/bearer/` the bearer token
/// [`BEARER_TOKEN`] (a 401 with a `Bearer` challenge otherwise). Keep-alive is on (1000 requests a
/// connection, 60 s idle), so tests can reuse one connection; every request
/// is logged as `$connection $connection_requests "$request" $status
/// $body_bytes_sent`, so tests can tell which connection served it.
pub struct Nginx {
    peer: Peer,
    tls_port: Option<u16>,
    /// The PROXY protocol server's ports: plain, and TLS when configured.
    proxy_protocol_ports: (u16, Option<u16>),
    docroot: PathBuf,
}

impl Nginx {
    /// The nginx started with `tls` shared by every test of this process,
    /// started by the first caller (see [`crate::shared`]). Its docroot is
    /// shared too: [`Nginx::put`] a file once (before the tests that fetch
    /// it share the instance) or under a name of the test's own.
    pub fn shared(tls: Option<(&str, &str)>) -> &'static Nginx {
        static SHARED: Instances<Option<(String, String)>, Nginx> = Instances::new();
        let key = tls.map(|(chain, key)| (chain.to_owned(), key.to_owned()));
        shared_instance(&SHARED, key, || Nginx::start(tls))
    }

    /// Starts nginx with an empty docroot on a free port, plain HTTP. With
    /// `tls` = `Some((cert_chain_pem, key_pem))` (leaf first; PKCS#8 or
    /// traditional PEM key) it also serves the same docroot over HTTPS on a
    /// second free port. Returns once nginx answers HTTP requests.
    pub fn start(tls: Option<(&str, &str)>) -> Nginx {
        let exe = find_program("nginx", &["nginx"], "nginx");
        let dir = TempDir::new("nginx");
        let docroot = dir.path().join("docroot");
        fs::create_dir(&docroot).unwrap_or_else(|e| panic!("create {}: {e}", docroot.display()));
        fs::set_permissions(&docroot, fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", docroot.display()));
        dir.write(
            "htpasswd",
            &format!("{BASIC_USER}:{{PLAIN}}{BASIC_PASSWORD}\n"),
        );
        let cert_files = tls.map(|(chain, key)| {
            (
                dir.write("cert.pem", chain).display().to_string(),
                dir.write("key.pem", key).display().to_string(),
            )
        });
        let d = dir.path().display().to_string();
        let root = docroot.display().to_string();
        let mut tls_port = None;
        let mut proxy_protocol_ports = (0, None);
        let peer = Peer::start(
            "nginx",
            dir,
            &["error.log", "access.log", "stderr.log"],
            |dir, port| {
                // Ports of this start: none may repeat another.
                let mut taken = vec![port];
                let mut fresh = || loop {
                    let p = free_port();
                    if !taken.contains(&p) {
                        taken.push(p);
                        break p;
                    }
                };
                let pp_port = fresh();
                let pp_tls_port = cert_files.as_ref().map(|_| fresh());
                proxy_protocol_ports = (pp_port, pp_tls_port);
                let pp_tls_lines = match (&cert_files, pp_tls_port) {
                    (Some((cert, key)), Some(p)) => format!(
                        "        listen 127.0.0.1:{p} ssl proxy_protocol;\n\
                         \x20       ssl_certificate {cert};\n\
                         \x20       ssl_certificate_key {key};\n"
                    ),
                    _ => String::new(),
                };
                let tls_lines = match &cert_files {
                    Some((cert, key)) => {
                        let second = fresh();
                        tls_port = Some(second);
                        format!(
                            "        listen 127.0.0.1:{second} ssl;\n\
                             \x20       listen unix:{d}/https.sock ssl;\n\
                             \x20       ssl_certificate {cert};\n\
                             \x20       ssl_certificate_key {key};\n"
                        )
                    }
                    None => String::new(),
                };
                let conf = dir.write(
                    "nginx.conf",
                    &format!(
                        "daemon off;\n\
                         master_process on;\n\
                         worker_processes 1;\n\
                         user root root;\n\
                         pid {d}/nginx.pid;\n\
                         lock_file {d}/nginx.lock;\n\
                         error_log {d}/error.log info;\n\
                         events {{\n\
                         \x20   worker_connections 512;\n\
                         }}\n\
                         http {{\n\
                         \x20   log_format handover '$connection $connection_requests \"$request\" $status $body_bytes_sent';\n\
                         \x20   access_log {d}/access.log handover;\n\
                         \x20   client_body_temp_path {d}/client_body_temp;\n\
                         \x20   proxy_temp_path {d}/proxy_temp;\n\
                         \x20   fastcgi_temp_path {d}/fastcgi_temp;\n\
                         \x20   uwsgi_temp_path {d}/uwsgi_temp;\n\
                         \x20   scgi_temp_path {d}/scgi_temp;\n\
                         \x20   types {{\n\
                         \x20       text/html html;\n\
                         \x20       text/plain txt;\n\
                         \x20       application/json json;\n\
                         \x20   }}\n\
                         \x20   default_type application/octet-stream;\n\
                         \x20   keepalive_requests 1000;\n\
                         \x20   keepalive_timeout 60s;\n\
                         \x20   server_tokens off;\n\
                         \x20   log_format proxy_protocol '$proxy_protocol_addr $proxy_protocol_port $proxy_protocol_server_addr $proxy_protocol_server_port \"$request\" $status';\n\
                         \x20   server {{\n\
                         \x20       listen 127.0.0.1:{pp_port} proxy_protocol;\n\
                         \x20       listen unix:{d}/proxy-protocol.sock proxy_protocol;\n\
                         {pp_tls_lines}\
                         \x20       server_name localhost;\n\
                         \x20       root {root};\n\
                         \x20       access_log {d}/proxy-protocol.log proxy_protocol;\n\
                         \x20   }}\n\
                         \x20   server {{\n\
                         \x20       listen 127.0.0.1:{port};\n\
                         \x20       listen unix:{d}/http.sock;\n\
                         {tls_lines}\
                         \x20       server_name localhost;\n\
                         \x20       root {root};\n\
                         \x20       location = /.handover-ready {{\n\
                         \x20           access_log off;\n\
                         \x20           return 204;\n\
                         \x20       }}\n\
                         \x20       location /basic/ {{\n\
                         \x20           auth_basic \"handover\";\n\
                         \x20           auth_basic_user_file {d}/htpasswd;\n\
                         \x20       }}\n\
                         \x20       location /bearer/ {{\n\
                         \x20           if ($http_authorization != \"Bearer {BEARER_TOKEN}\") {{\n\
                         \x20               add_header WWW-Authenticate 'Bearer realm=\"handover\"' always;\n\
                         \x20               return 401;\n\
                         \x20           }}\n\
                         \x20       }}\n\
                         \x20       location /gzip/ {{\n\
                         \x20           gzip on;\n\
                         \x20           gzip_types *;\n\
                         \x20           gzip_min_length 0;\n\
                         \x20       }}\n\
                         \x20   }}\n\
                         }}\n"
                    ),
                );
                let mut cmd = Command::new(&exe);
                // -e: the log nginx writes to before it has read the config.
                cmd.arg("-p")
                    .arg(format!("{d}/"))
                    .arg("-e")
                    .arg(format!("{d}/error.log"))
                    .arg("-c")
                    .arg(conf);
                cmd
            },
            // The probe's own location is not logged: the access log holds
            // the tests' requests only.
            |addr| answers_get(addr, "/.handover-ready"),
        );
        Nginx {
            peer,
            tls_port,
            proxy_protocol_ports,
            docroot,
        }
    }

    /// The port of nginx's second server, which expects the PROXY protocol
    /// header first on every connection (`listen ... proxy_protocol`) and
    /// logs what it said (see [`Nginx::proxy_protocol_log`]); same docroot.
    pub fn proxy_protocol_port(&self) -> u16 {
        self.proxy_protocol_ports.0
    }

    /// The same server over HTTPS (the header comes before TLS), when
    /// started with a certificate.
    pub fn proxy_protocol_tls_port(&self) -> Option<u16> {
        self.proxy_protocol_ports.1
    }

    /// The same server on a Unix domain socket.
    pub fn proxy_protocol_unix_socket(&self) -> PathBuf {
        self.peer.dir.path().join("proxy-protocol.sock")
    }

    /// The PROXY protocol server's log, a line a request:
    /// `$proxy_protocol_addr $proxy_protocol_port $proxy_protocol_server_addr
    /// $proxy_protocol_server_port "$request" $status`, waiting up to
    /// `timeout` for at least `lines` lines (nginx logs after answering).
    pub fn proxy_protocol_log(&self, lines: usize, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let log: Vec<String> =
                fs::read_to_string(self.peer.dir.path().join("proxy-protocol.log"))
                    .unwrap_or_default()
                    .lines()
                    .map(str::to_string)
                    .collect();
            if log.len() >= lines || Instant::now() >= deadline {
                return log;
            }
            thread::sleep(POLL);
        }
    }

    /// The Unix domain socket nginx also serves plain HTTP on.
    pub fn unix_socket(&self) -> PathBuf {
        self.peer.dir.path().join("http.sock")
    }

    /// The Unix domain socket nginx also serves HTTPS on, when started
    /// with a certificate.
    pub fn tls_unix_socket(&self) -> Option<PathBuf> {
        self.tls_port
            .map(|_| self.peer.dir.path().join("https.sock"))
    }

    /// The port nginx serves HTTPS on, when started with a certificate.
    pub fn tls_port(&self) -> Option<u16> {
        self.tls_port
    }

    /// 127.0.0.1 and [`Nginx::tls_port`].
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_port
            .map(|port| SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)))
    }

    /// Writes `contents` to `name` in the docroot (a relative path such as
    /// "big.bin" or "dir/a.txt"; dirs are made as needed). nginx serves it
    /// at once as `/name`. Files under `gzip/` go out gzip-compressed to
    /// clients that send `Accept-Encoding: gzip`, and so chunked: nginx does
    /// not know the compressed length up front.
    pub fn put(&self, name: &str, contents: &[u8]) {
        put_under(&self.docroot, name, contents, "Nginx");
    }

    /// The access log so far, a line a request: `$connection
    /// $connection_requests "$request" $status $body_bytes_sent`. Two
    /// requests served on one connection share the first field. nginx logs a
    /// request after its response has left, so a client that has just read a
    /// response may not see its line yet: see [`Nginx::wait_access_log`].
    pub fn access_log(&self) -> Vec<String> {
        fs::read_to_string(self.peer.dir.path().join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The access log once it holds at least `lines` lines, or as it is after
    /// `timeout`.
    pub fn wait_access_log(&self, lines: usize, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.access_log();
            if log.len() >= lines || Instant::now() >= deadline {
                return log;
            }
            thread::sleep(POLL);
        }
    }

    /// error.log, access.log and stderr.log in full, for a failing test to print.
    pub fn log(&self) -> String {
        self.peer
            .logs_in_full(&["error.log", "access.log", "stderr.log"])
    }
}

/// True while any process of process group `pgid` is alive (zombies count
/// as gone): lets a test check that `Drop` left nothing behind.
pub fn process_group_alive(pgid: u32) -> bool {
    processes().iter().any(|p| p.pgrp == pgid && p.running)
}

/// True while process `pid` exists and is not a zombie.
pub fn process_running(pid: u32) -> bool {
    processes().iter().any(|p| p.pid == pid && p.running)
}

/// The children, grandchildren, ... of `pid`, zombies included. squid's
/// auth helpers are among them but not in its process group: squid starts
/// each helper in a session of its own.
pub fn descendants(pid: u32) -> Vec<u32> {
    let all = processes();
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(all.iter().filter(|p| p.ppid == parent).map(|p| p.pid));
        i += 1;
    }
    found.remove(0);
    found
}

/// One line of /proc/PID/stat, the fields this file needs.
struct ProcStat {
    pid: u32,
    ppid: u32,
    pgrp: u32,
    running: bool,
}

/// A snapshot of every process on the machine.
fn processes() -> Vec<ProcStat> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = fs::read_to_string(entry.path().join("stat")).ok()?;
            // "pid (comm) state ppid pgrp ...": comm may hold spaces and parens.
            let rest = &stat[stat.rfind(')')? + 1..];
            let mut fields = rest.split_whitespace();
            let state = fields.next()?;
            let ppid = fields.next()?.parse().ok()?;
            let pgrp = fields.next()?.parse().ok()?;
            Some(ProcStat {
                pid,
                ppid,
                pgrp,
                running: state != "Z" && state != "X",
            })
        })
        .collect()
}

/// A running program with its port and temp dir. Fields drop in order: the
/// process group is stopped before the dir is removed.
struct Peer {
    process: Process,
    port: u16,
    dir: TempDir,
    logs: Vec<PathBuf>,
}

impl Peer {
    /// Runs `command(dir, port)` on a fresh free port until the program
    /// comes up, retrying on a new port while the program finds its port
    /// taken. Ready means: the program owns a listening socket on the port,
    /// accepts a connection there, and `ready` says yes.
    fn start(
        name: &'static str,
        dir: TempDir,
        logs: &[&str],
        command: impl FnMut(&TempDir, u16) -> Command,
        ready: impl Fn(SocketAddr) -> bool,
    ) -> Peer {
        Peer::start_on(Transport::Tcp, name, dir, logs, command, ready)
    }

    /// [`Peer::start`] for a program that serves on `transport`: with
    /// [`Transport::Udp`] the port is a free UDP port, ready means the
    /// program owns a UDP socket bound to it and `ready` says yes, and a
    /// program that exits before it is ready is retried on a new port
    /// (in.tftpd exits without a word when its port is taken).
    fn start_on(
        transport: Transport,
        name: &'static str,
        dir: TempDir,
        logs: &[&str],
        mut command: impl FnMut(&TempDir, u16) -> Command,
        ready: impl Fn(SocketAddr) -> bool,
    ) -> Peer {
        let logs: Vec<PathBuf> = logs.iter().map(|l| dir.path().join(l)).collect();
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = match transport {
                Transport::Tcp => free_port(),
                Transport::Udp => free_udp_port(),
            };
            for log in &logs {
                let _ = fs::remove_file(log);
            }
            let mut cmd = command(&dir, port);
            let program = cmd.get_program().to_string_lossy().into_owned();
            cmd.stdin(Stdio::null())
                .stdout(dir.create_log("stdout.log"))
                .stderr(dir.create_log("stderr.log"))
                // Any scratch files (danted's shared memory) land in the dir we remove.
                .env("TMPDIR", dir.path())
                .process_group(0);
            let child = match cmd.spawn() {
                Ok(child) => child,
                Err(e) => panic!("cannot run {program}: {e}; {}", install_hint(name)),
            };
            let mut process = Process { child };
            match process.wait_ready(transport, port, &ready) {
                Ok(()) => {
                    eprintln!(
                        "real_peers: {name} ready on 127.0.0.1:{port} in {} ms (attempt {attempt})",
                        started.elapsed().as_millis()
                    );
                    return Peer {
                        process,
                        port,
                        dir,
                        logs,
                    };
                }
                Err(why) => {
                    drop(process);
                    let tail = log_tail(&logs);
                    // Someone took the port between our probe and the program's bind.
                    let taken = tail.contains("Address already in use")
                        || (transport == Transport::Udp && why.starts_with("it exited"));
                    if attempt < BIND_ATTEMPTS && taken {
                        eprintln!("real_peers: {name}: port {port} was taken; retrying");
                        continue;
                    }
                    panic!("{name} did not come up on 127.0.0.1:{port}: {why}\n{tail}");
                }
            }
        }
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.port))
    }

    fn pid(&self) -> u32 {
        self.process.child.id()
    }

    fn logs(&self) -> String {
        log_tail(&self.logs)
    }

    /// The files `names` of the dir in full, each headed by its path.
    fn logs_in_full(&self, names: &[&str]) -> String {
        let mut out = String::new();
        for name in names {
            let path = self.dir.path().join(name);
            let text = fs::read_to_string(&path).unwrap_or_else(|e| format!("({e})\n"));
            let _ = write!(out, "==> {} <==\n{text}", path.display());
        }
        out
    }
}

/// A program spawned as the leader of its own process group.
struct Process {
    child: Child,
}

impl Process {
    fn wait_ready(
        &mut self,
        transport: Transport,
        port: u16,
        ready: &impl Fn(SocketAddr) -> bool,
    ) -> Result<(), String> {
        let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
        let pid = self.child.id();
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("it exited ({status})"));
            }
            // Owning the listener first: a connection that succeeds could
            // otherwise reach whoever else holds the port.
            let up = match transport {
                Transport::Tcp => {
                    owns_listener(pid, port)
                        && TcpStream::connect_timeout(&addr, PROBE_TIMEOUT).is_ok()
                }
                Transport::Udp => owns_socket(pid, "/proc/net/udp", port, "07"),
            };
            if up && ready(addr) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("not ready after {START_DEADLINE:?}"));
            }
            thread::sleep(POLL);
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let pgid = self.child.id();
        // Taken before anyone exits: orphans are reparented and lost from the tree.
        let family = descendants(pgid);
        // The leader first, so that it can stop its own children as it exits.
        signal(&format!("{pgid}"), "TERM");
        let deadline = Instant::now() + STOP_GRACE;
        let exited = loop {
            match self.child.try_wait() {
                Ok(Some(_)) => break true,
                Ok(None) if Instant::now() < deadline => thread::sleep(POLL),
                _ => break false,
            }
        };
        // Whatever is left goes now: the group (dante's children) and the
        // descendants that left it (squid's helpers, in sessions of their own).
        signal(&format!("-{pgid}"), "KILL");
        for pid in family {
            if process_running(pid) {
                signal(&pid.to_string(), "KILL");
            }
        }
        if !exited {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends `sig` to `target` (a pid, or `-pgid` for a whole group) with the
/// shell's builtin `kill`: it takes negative ids, and sh is always there.
fn signal(target: &str, sig: &str) {
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!("kill -{sig} {target}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// What a real peer serves on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    Tcp,
    Udp,
}

/// True when process `pid` holds a socket listening on 127.0.0.1:`port`.
fn owns_listener(pid: u32, port: u16) -> bool {
    owns_socket(pid, "/proc/net/tcp", port, "0A")
}

/// True when process `pid` holds a socket of `table` (/proc/net/tcp or
/// /proc/net/udp) bound to 127.0.0.1:`port` in state `state` (hex: TCP's
/// LISTEN is 0A, an unconnected UDP socket 07).
fn owns_socket(pid: u32, table: &str, port: u16, state: &str) -> bool {
    let Ok(table) = fs::read_to_string(table) else {
        return false;
    };
    // "sl local_address rem_address st ... uid timeout inode"; 127.0.0.1
    // reads 0100007F (host order), the port big-endian hex.
    let local = format!("0100007F:{port:04X}");
    let inodes: Vec<String> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            (f.len() > 9 && f[1] == local && f[3] == state).then(|| format!("socket:[{}]", f[9]))
        })
        .collect();
    if inodes.is_empty() {
        return false;
    }
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        fs::read_link(fd.path())
            .map(|target| inodes.iter().any(|i| target.as_os_str() == i.as_str()))
            .unwrap_or(false)
    })
}

/// A loopback port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// A loopback UDP port that was free a moment ago.
fn free_udp_port() -> u16 {
    UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|s| s.local_addr())
        .expect("bind UDP 127.0.0.1:0")
        .port()
}

/// `n` free loopback ports, none equal to `taken` or to each other: the
/// extra listeners of a program with several.
fn free_ports(taken: u16, n: usize) -> Vec<u16> {
    let mut ports = vec![taken];
    while ports.len() <= n {
        let port = free_port();
        if !ports.contains(&port) {
            ports.push(port);
        }
    }
    ports.split_off(1)
}

/// True when a connection to `addr` is greeted with a line starting with
/// `prefix` (FTP's and SMTP's `220`, IMAP's `* OK`, POP3's `+OK`).
fn greets_with(addr: SocketAddr, prefix: &str) -> bool {
    let exchange = || -> io::Result<bool> {
        let mut sock = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT)?;
        sock.set_read_timeout(Some(PROBE_TIMEOUT))?;
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while line.len() < 512 && !line.ends_with(b"\n") {
            if sock.read(&mut byte)? == 0 {
                break;
            }
            line.push(byte[0]);
        }
        Ok(line.starts_with(prefix.as_bytes()))
    };
    exchange().unwrap_or(false)
}

/// `read()` once it contains `wanted`, or as it is after `timeout`.
fn wait_for_text(wanted: &str, timeout: Duration, read: impl Fn() -> String) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let text = read();
        if text.contains(wanted) || Instant::now() >= deadline {
            return text;
        }
        thread::sleep(POLL);
    }
}

/// True when an HTTP request to `addr` gets a status line back. `GET /` is
/// not a proxy request: squid answers 400 at once, without going anywhere.
fn answers_http(addr: SocketAddr) -> bool {
    answers_get(addr, "/")
}

/// True when `GET target` to `addr` gets a status line back.
fn answers_get(addr: SocketAddr, target: &str) -> bool {
    let exchange = || -> io::Result<bool> {
        let mut sock = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT)?;
        sock.set_read_timeout(Some(PROBE_TIMEOUT))?;
        let request =
            format!("GET {target} HTTP/1.1\r\nHost: handover-probe\r\nConnection: close\r\n\r\n");
        sock.write_all(request.as_bytes())?;
        let mut got = [0u8; 9];
        sock.read_exact(&mut got)?;
        Ok(got.starts_with(b"HTTP/1."))
    };
    exchange().unwrap_or(false)
}

/// Writes `contents` to `name` under a server's `root` (a plain relative
/// path; dirs are made as needed, world-readable) with [`write_whole`];
/// `who` names the server in the panic for any other path.
fn put_under(root: &Path, name: &str, contents: &[u8], who: &str) {
    let relative = Path::new(name);
    assert!(
        relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_))),
        "{who}::put wants a plain relative path, not {name:?}"
    );
    let path = root.join(relative);
    let mut dir = path.parent();
    if let Some(parent) = dir {
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
    }
    // Servers that drop privileges must be able to enter each new dir.
    while let Some(d) = dir.filter(|d| d.starts_with(root) && *d != root) {
        fs::set_permissions(d, fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", d.display()));
        dir = d.parent();
    }
    write_whole(&path, contents);
}

/// Writes a docroot file so that a server reading it meanwhile sees the
/// old contents or the new, never a truncated file (tests that share a
/// server put the same file concurrently): a temporary file renamed over
/// it, world-readable.
fn write_whole(path: &Path, contents: &[u8]) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp{}-{n}", std::process::id()));
    fs::write(&tmp, contents).unwrap_or_else(|e| panic!("write {}: {e}", tmp.display()));
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o644))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", tmp.display()));
    fs::rename(&tmp, path).unwrap_or_else(|e| panic!("rename to {}: {e}", path.display()));
}

/// The MD5 of `data` in hex, by `openssl dgst` (std has no MD5): an
/// htdigest file's third field.
fn md5_hex(data: &[u8]) -> String {
    let openssl = find_program("openssl", &["openssl"], "openssl");
    let mut child = Command::new(openssl)
        .args(["dgst", "-md5", "-r"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl dgst");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(data)
        .expect("write to openssl dgst");
    let out = child.wait_with_output().expect("wait for openssl dgst");
    let text = String::from_utf8_lossy(&out.stdout);
    let hex = text
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(
        out.status.success() && hex.len() == 32,
        "openssl dgst -md5 failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    hex
}

/// The `$1$` MD5-crypt hash of `password` for squid's `basic_ncsa_auth`,
/// made by `openssl passwd` (std has no MD5, and htpasswd is one package more).
fn md5_crypt(password: &str) -> String {
    let openssl = find_program("openssl", &["openssl"], "openssl");
    let mut child = Command::new(openssl)
        .args(["passwd", "-1", "-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl passwd");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write the password to openssl");
    let out = child.wait_with_output().expect("wait for openssl passwd");
    let hash = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success() && hash.starts_with("$1$"),
        "openssl passwd -1 failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    hash
}

/// The path of the first of `names` found on PATH or in the sbin dirs (not
/// always on root's PATH in a container); panics naming `package` otherwise.
fn find_program(what: &str, names: &[&str], package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .collect();
    for name in names {
        for dir in &dirs {
            let candidate = dir.join(name);
            let executable = fs::metadata(&candidate)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false);
            if executable {
                return candidate;
            }
        }
    }
    panic!(
        "{what} not found (looked for {names:?}): these tests need the Debian package \
         `{package}`; run scripts/install-peers as root"
    );
}

fn install_hint(name: &str) -> String {
    format!("is its package installed? run scripts/install-peers as root ({name})")
}

/// The last lines of each log, headed by its path.
fn log_tail(paths: &[PathBuf]) -> String {
    let mut out = String::new();
    for path in paths {
        match fs::read(path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let lines: Vec<&str> = text.lines().collect();
                let from = lines.len().saturating_sub(LOG_TAIL_LINES);
                let _ = writeln!(
                    out,
                    "==> {} (last {} lines) <==",
                    path.display(),
                    lines.len() - from
                );
                for line in &lines[from..] {
                    let _ = writeln!(out, "{line}");
                }
            }
            Err(e) => {
                let _ = writeln!(out, "==> {}: {e} <==", path.display());
            }
        }
    }
    out
}

/// A temp dir of one peer: `<tmp>/handover-<name>-<pid>-<n>`, writable by
/// everyone because squid and danted drop root for users `proxy`/`nobody`.
/// Removed on drop.
struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "handover-{name}-{}-{}",
            std::process::id(),
            DIR_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        // A leftover of an earlier process that had the same pid.
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o777))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
        TempDir { path }
    }

    fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `contents` to `name` in the dir, readable by the dropped-privilege users.
    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path.join(name);
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
        path
    }

    /// Makes the dir `name` in the dir, writable by everyone (for a
    /// program's processes that run as other users), and returns its path.
    fn make_shared_dir(&self, name: &str) -> PathBuf {
        let path = self.path.join(name);
        fs::create_dir(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o777))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
        path
    }

    /// A fresh (truncated) log file for a program's stdout or stderr.
    fn create_log(&self, name: &str) -> File {
        let path = self.path.join(name);
        File::create(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

mod dnsdist;
pub use dnsdist::{Dnsdist, DOH_NAME, DOH_PATH, DOH_TTL};

mod dovecot;
pub use dovecot::Dovecot;

mod mosquitto;
pub use mosquitto::Mosquitto;

mod smtp;
pub use smtp::SmtpServer;

mod tftpd;
pub use tftpd::Tftpd;

mod vsftpd;
pub use vsftpd::{FtpTls, Vsftpd, FTP_PASSWORD, FTP_USER};

/// The mail user of [`Dovecot`] (IMAP, POP3) and [`SmtpServer`].
pub const MAIL_USER: &str = "alice";
/// Her password.
pub const MAIL_PASSWORD: &str = "wonderland";
/// A second mail user, whose password needs quoting in IMAP and has
/// characters a client must escape there: a space, `"` and `\`.
pub const MAIL_QUOTED_USER: &str = "bob";
/// His password.
pub const MAIL_QUOTED_PASSWORD: &str = "two words \"quoted\" back\\slash";
