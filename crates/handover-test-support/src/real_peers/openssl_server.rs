//! `openssl s_server`: OpenSSL's own TLS server, the independent peer for
//! what the in-process rustls servers cannot show from the other side:
//! OpenSSL verifying a client certificate, and OCSP stapling
//! (`-status_file`).

use std::process::Command;

use super::{find_program, Peer, TempDir};

/// How an [`OpensslServer`] is set up.
#[derive(Default)]
pub struct OpensslServerSetup<'a> {
    /// The certificate chain it presents, leaf first, PEM.
    pub cert_chain_pem: &'a str,
    /// Its private key, PEM.
    pub key_pem: &'a str,
    /// Require a client certificate issued by this CA (`-Verify 1`).
    pub client_ca_pem: Option<&'a str>,
    /// Staple this DER OCSP response to every handshake (`-status_file`).
    pub ocsp_response_der: Option<&'a [u8]>,
}

/// `openssl s_server -www` on 127.0.0.1: answers `GET /` with a status page
/// that, when the client presented a certificate, includes it (the
/// subject shows as `subject=...CN = ...`). It serves one connection at a
/// time.
pub struct OpensslServer {
    pub(super) peer: Peer,
}

impl OpensslServer {
    /// Starts `openssl s_server`; returns once it accepts connections.
    pub fn start(setup: &OpensslServerSetup<'_>) -> OpensslServer {
        let exe = find_program("openssl", &["openssl"], "openssl");
        let dir = TempDir::new("s_server");
        let cert = dir.write("cert.pem", setup.cert_chain_pem);
        let key = dir.write("key.pem", setup.key_pem);
        let client_ca = setup
            .client_ca_pem
            .map(|pem| dir.write("client-ca.pem", pem));
        let status = setup.ocsp_response_der.map(|der| {
            let path = dir.path().join("ocsp.der");
            std::fs::write(&path, der).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            path
        });
        let peer = Peer::start(
            "openssl",
            dir,
            &["stdout.log", "stderr.log"],
            |_, port| {
                let mut cmd = Command::new(&exe);
                cmd.args(["s_server", "-www", "-accept"])
                    .arg(format!("127.0.0.1:{port}"))
                    .arg("-cert")
                    .arg(&cert)
                    .arg("-key")
                    .arg(&key);
                if let Some(ca) = &client_ca {
                    cmd.arg("-Verify").arg("1").arg("-CAfile").arg(ca);
                }
                if let Some(status) = &status {
                    cmd.arg("-status_file").arg(status);
                }
                cmd
            },
            |_| true,
        );
        OpensslServer { peer }
    }

    /// What it printed, for a failing test.
    pub fn log(&self) -> String {
        self.peer.logs()
    }
}
