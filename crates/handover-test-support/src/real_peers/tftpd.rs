//! The TFTP server of the tests: tftpd-hpa ([`Tftpd`]).

use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

use super::{
    find_program, put_under, shared_instance, Instances, Peer, Program, TempDir, Transport,
    PROBE_TIMEOUT,
};

/// The name the readiness probe asks for (never served).
const PROBE_FILE: &str = "handover-ready-probe";

/// tftpd-hpa's `in.tftpd` as a TFTP server on 127.0.0.1, UDP: in the
/// foreground (`-L`), bound to a free UDP port (`-a 127.0.0.1:PORT`),
/// serving the files of a temp dir it is chrooted into (`-s`), read-only,
/// as user `nobody`. Put files there with [`Tftpd::put`]; an `RRQ` for one
/// is answered with `DATA` block 1 from a port of the transfer's own (TFTP's
/// TID), an `RRQ` for a missing one with `ERROR` 1 `File not found`.
///
/// in.tftpd logs to syslog only, and there is none here: [`Tftpd::log`] has
/// what it printed, which is nothing when all is well. The readiness probe
/// of the start asks for a file that is not there.
pub struct Tftpd {
    peer: Peer,
    root: PathBuf,
}

peer_accessors!(Tftpd);

impl Tftpd {
    /// The server shared by every test of this process (see
    /// [`crate::shared`]): [`Tftpd::put`] under a name of the test's own.
    pub fn shared() -> &'static Tftpd {
        static SHARED: Instances<(), Tftpd> = Instances::new();
        shared_instance(&SHARED, (), Tftpd::start)
    }

    /// Starts in.tftpd with an empty dir; returns once it answers an RRQ.
    pub fn start() -> Tftpd {
        let exe = find_program("in.tftpd", &["in.tftpd"], "tftpd-hpa");
        let dir = TempDir::new("tftpd");
        let root = dir.path().join("files");
        fs::create_dir(&root).unwrap_or_else(|e| panic!("create {}: {e}", root.display()));
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", root.display()));
        let served = root.clone();
        let peer = Peer::start_on(
            Transport::Udp,
            "in.tftpd",
            dir,
            &["stderr.log", "stdout.log"],
            |_, port| {
                let mut cmd = Command::new(&exe);
                cmd.arg("-L")
                    .arg("-s")
                    .arg(&served)
                    .arg("-u")
                    .arg("nobody")
                    .arg("-a")
                    .arg(format!("127.0.0.1:{port}"));
                cmd
            },
            answers_rrq,
        );
        Tftpd { peer, root }
    }

    /// Writes `contents` to `name` (a plain relative path; dirs are made as
    /// needed) in the served dir, world-readable: an RRQ for `name` gets it.
    pub fn put(&self, name: &str, contents: &[u8]) {
        put_under(&self.root, name, contents, "Tftpd");
    }

    /// What in.tftpd printed (it logs to syslog, which is not there).
    pub fn log(&self) -> String {
        self.peer.logs()
    }
}

/// True when an RRQ for the probe file to `addr` gets a TFTP packet back.
fn answers_rrq(addr: SocketAddr) -> bool {
    let exchange = || -> std::io::Result<bool> {
        let sock = UdpSocket::bind(("127.0.0.1", 0))?;
        sock.set_read_timeout(Some(PROBE_TIMEOUT))?;
        let mut rrq = vec![0, 1];
        rrq.extend_from_slice(PROBE_FILE.as_bytes());
        rrq.extend_from_slice(b"\0octet\0");
        sock.send_to(&rrq, addr)?;
        let mut buf = [0u8; 600];
        let (n, _) = sock.recv_from(&mut buf)?;
        // ERROR (5) "File not found"; any TFTP opcode means it is up.
        Ok(n >= 4 && buf[0] == 0 && (1..=6).contains(&buf[1]))
    };
    exchange().unwrap_or(false)
}
