//! The FTP server of the tests: vsftpd ([`Vsftpd`]).

use std::fs;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::{
    find_program, greets_with, put_under, shared_instance, wait_for_text, Instances, Peer, Program,
    TempDir,
};
use crate::peers::TestPki;

/// vsftpd's local user, made by `scripts/install-peers`.
pub const FTP_USER: &str = "handover-ftp";
/// Its password (set by `scripts/install-peers`).
pub const FTP_PASSWORD: &str = "handover-ftp-password";

/// Which TLS a [`Vsftpd`] speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FtpTls {
    /// Plain FTP only: `AUTH TLS` and `AUTH SSL` get `530 Please login
    /// with USER and PASS.` before login (`500 Unknown command.` after).
    None,
    /// Plain FTP with `AUTH TLS` (and `AUTH SSL`), `PBSZ` and `PROT`
    /// available and optional, for anonymous and local logins alike.
    Explicit,
    /// TLS from the first byte (implicit FTPS, `ftps://`).
    Implicit,
}

/// vsftpd 3.0 as an FTP server on 127.0.0.1, in one of three TLS modes
/// ([`FtpTls`]): no TLS at all, explicit FTPS (`AUTH TLS`/`AUTH SSL`
/// offered, never required, `PBSZ`/`PROT` after it) or implicit FTPS (TLS
/// from the first byte, the `ftps://` port). Certificate: the server
/// certificate of [`TestPki::shared`] (localhost, 127.0.0.1, ::1).
///
/// Two ways in, both landing in the same read-only directory (see
/// [`Vsftpd::put`]), chrooted so that `PWD` answers `257 "/" is the
/// current directory`:
///
/// - anonymous: `USER anonymous` (or `ftp`), any password;
/// - the local user [`FTP_USER`] with [`FTP_PASSWORD`]: a system account
///   without a shell that `scripts/install-peers` makes, checked by PAM
///   through a service of its own (`/etc/pam.d/handover-ftp`, pam_unix
///   only, no delay on a wrong password, which gets `530 Login incorrect.`
///   at once). Not vsftpd's virtual users: those need a Berkeley DB file
///   and one PAM file per database path, where a real account needs one
///   `chpasswd`.
///
/// vsftpd runs in the foreground (`listen=YES`, `background=NO`) as root
/// (needed to switch to the logged-in user), with its seccomp sandbox and
/// network isolation off (they fail in some containers), a
/// `secure_chroot_dir` of its own, and `delay_failed_login=0`.
///
/// Every command and reply is logged (`log_ftp_protocol=YES`) to
/// `vsftpd.log`, see [`Vsftpd::commands`] and [`Vsftpd::log`]. A `QUIT`
/// shows as a command line `"QUIT"`; a client that only closes leaves no
/// line at all (vsftpd does not log disconnects), so "no QUIT reached the
/// server" is: no `"QUIT"` among [`Vsftpd::commands`] once the client is
/// gone. The readiness probe of the start leaves a `CONNECT` and a `220`
/// line and nothing else. Passwords show as `PASS <password>`.
pub struct Vsftpd {
    peer: Peer,
    tls: FtpTls,
    root: PathBuf,
}

peer_accessors!(Vsftpd);

impl Vsftpd {
    /// The vsftpd of mode `tls` shared by every test of this process (see
    /// [`crate::shared`]). A test that reads the command log for its own
    /// connection starts its own instead: a shared log holds every test's.
    pub fn shared(tls: FtpTls) -> &'static Vsftpd {
        static SHARED: Instances<FtpTls, Vsftpd> = Instances::new();
        shared_instance(&SHARED, tls, || Vsftpd::start(tls))
    }

    /// Starts vsftpd in mode `tls`; returns once it greets with `220`
    /// (for [`FtpTls::Implicit`]: once it accepts connections).
    pub fn start(tls: FtpTls) -> Vsftpd {
        let exe = find_program("vsftpd", &["vsftpd"], "vsftpd");
        let dir = TempDir::new("vsftpd");
        // Chroot targets must not be writable by the user inside: root's, 0755.
        let root = dir.path().join("files");
        let empty = dir.path().join("empty");
        for path in [&root, &empty] {
            fs::create_dir(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
            fs::set_permissions(path, fs::Permissions::from_mode(0o755))
                .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
        }
        let tls_lines = match tls {
            FtpTls::None => "ssl_enable=NO\n".to_owned(),
            FtpTls::Explicit | FtpTls::Implicit => {
                let pki = TestPki::shared();
                let cert = dir.write("cert.pem", &pki.server_chain_pem);
                let key = dir.write("key.pem", &pki.server_key_pem);
                format!(
                    "ssl_enable=YES\n\
                     implicit_ssl={}\n\
                     allow_anon_ssl=YES\n\
                     force_local_logins_ssl=NO\n\
                     force_local_data_ssl=NO\n\
                     force_anon_logins_ssl=NO\n\
                     force_anon_data_ssl=NO\n\
                     ssl_request_cert=NO\n\
                     require_ssl_reuse=NO\n\
                     ssl_ciphers=HIGH\n\
                     debug_ssl=YES\n\
                     rsa_cert_file={}\n\
                     rsa_private_key_file={}\n",
                    if tls == FtpTls::Implicit { "YES" } else { "NO" },
                    cert.display(),
                    key.display()
                )
            }
        };
        let d = dir.path().display().to_string();
        let files = root.display().to_string();
        let peer = Peer::start(
            "vsftpd",
            dir,
            &["vsftpd.log", "stderr.log", "stdout.log"],
            |dir, port| {
                let conf = dir.write(
                    "vsftpd.conf",
                    &format!(
                        "listen=YES\n\
                         listen_ipv6=NO\n\
                         listen_address=127.0.0.1\n\
                         listen_port={port}\n\
                         background=NO\n\
                         anonymous_enable=YES\n\
                         anon_root={files}\n\
                         no_anon_password=NO\n\
                         local_enable=YES\n\
                         local_root={files}\n\
                         chroot_local_user=YES\n\
                         pam_service_name=handover-ftp\n\
                         write_enable=NO\n\
                         secure_chroot_dir={d}/empty\n\
                         seccomp_sandbox=NO\n\
                         isolate=NO\n\
                         isolate_network=NO\n\
                         delay_failed_login=0\n\
                         delay_successful_login=0\n\
                         dirmessage_enable=NO\n\
                         log_ftp_protocol=YES\n\
                         xferlog_enable=YES\n\
                         xferlog_std_format=NO\n\
                         vsftpd_log_file={d}/vsftpd.log\n\
                         {tls_lines}"
                    ),
                );
                let mut cmd = Command::new(&exe);
                cmd.arg(conf);
                cmd
            },
            |addr| tls == FtpTls::Implicit || greets_with(addr, "220"),
        );
        Vsftpd { peer, tls, root }
    }

    /// The TLS mode it was started with.
    pub fn tls(&self) -> FtpTls {
        self.tls
    }

    /// Writes `contents` to `name` (a plain relative path; dirs are made
    /// as needed) in the directory both logins see as `/`.
    pub fn put(&self, name: &str, contents: &[u8]) {
        put_under(&self.root, name, contents, "Vsftpd");
    }

    /// Every command received so far, in order, as the client sent it
    /// (`USER anonymous`, `PASS <password>` with the password hidden,
    /// `AUTH TLS`, `PWD`, `QUIT`, ...), from every connection.
    pub fn commands(&self) -> Vec<String> {
        let marker = "FTP command: Client \"";
        self.vsftpd_log()
            .lines()
            .filter_map(|line| {
                let rest = &line[line.find(marker)? + marker.len()..];
                // `Client "127.0.0.1", "COMMAND"`
                let command = rest.split_once("\", \"")?.1;
                Some(command.strip_suffix('"').unwrap_or(command).to_owned())
            })
            .collect()
    }

    /// vsftpd.log (with [`Vsftpd::log`]'s content) once it contains
    /// `wanted`, or as it is after `timeout`.
    pub fn wait_log(&self, wanted: &str, timeout: Duration) -> String {
        wait_for_text(wanted, timeout, || self.vsftpd_log())
    }

    /// vsftpd.log in full: `CONNECT: Client "127.0.0.1"`, `FTP command:
    /// ...`, `FTP response: ...`, `OK LOGIN`/`FAIL LOGIN` and, in the TLS
    /// modes, `DEBUG` lines of the handshakes; then stderr.
    pub fn log(&self) -> String {
        self.peer
            .logs_in_full(&["vsftpd.log", "stderr.log", "stdout.log"])
    }

    fn vsftpd_log(&self) -> String {
        fs::read_to_string(self.peer.dir.path().join("vsftpd.log")).unwrap_or_default()
    }
}
