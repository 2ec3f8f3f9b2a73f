//! `openssl s_server`: OpenSSL's own TLS server, the independent peer for
//! what the in-process rustls servers cannot show from the other side:
//! OpenSSL verifying a client certificate, and OCSP stapling
//! (`-status_file`). Also what those tests need made by the `openssl`
//! command line: OCSP responses ([`ocsp_response`]) and the client's key in
//! every format ([`ClientKeyFiles`]).

use std::path::PathBuf;
use std::process::Command;

use super::{find_program, shared_instance, Peer, TempDir};
use crate::peers::TestPki;
use crate::shared::Instances;

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

/// An [`OpensslServerSetup`] owned, as the key of a shared instance.
type SetupKey = (String, String, Option<String>, Option<Vec<u8>>);

impl OpensslServer {
    /// The server of `setup` shared by every test of this process (see
    /// [`crate::shared`]), started by the first caller and stopped when the
    /// process ends.
    pub fn shared(setup: &OpensslServerSetup<'_>) -> &'static OpensslServer {
        static SHARED: Instances<SetupKey, OpensslServer> = Instances::new();
        let key = (
            setup.cert_chain_pem.to_owned(),
            setup.key_pem.to_owned(),
            setup.client_ca_pem.map(str::to_owned),
            setup.ocsp_response_der.map(<[u8]>::to_vec),
        );
        shared_instance(&SHARED, key, || OpensslServer::start(setup))
    }

    /// Starts `openssl s_server`; returns once it accepts connections.
    pub fn start(setup: &OpensslServerSetup<'_>) -> OpensslServer {
        let exe = find_program("openssl", &["openssl"], "openssl");
        let dir = TempDir::new("s_server");
        // s_server takes the leaf with -cert and the rest with -cert_chain.
        let end = "-----END CERTIFICATE-----";
        let (leaf, rest) = match setup.cert_chain_pem.find(end) {
            Some(at) => setup.cert_chain_pem.split_at(at + end.len()),
            None => (setup.cert_chain_pem, ""),
        };
        let cert = dir.write("cert.pem", leaf);
        let chain = (!rest.trim().is_empty()).then(|| dir.write("chain.pem", rest.trim_start()));
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
                if let Some(chain) = &chain {
                    cmd.arg("-cert_chain").arg(chain);
                }
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

/// What an OCSP response made by [`ocsp_response`] says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OcspStatus {
    /// Valid.
    Good,
    /// Revoked on 2024-01-01 for keyCompromise.
    Revoked,
    /// Not in the responder's index.
    Unknown,
}

/// An OCSP response for the test PKI's server certificate, signed by its
/// CA, made by `openssl ocsp` (valid for a day; it carries the CA's
/// certificate, which OpenSSL's client needs to find the signer).
pub fn ocsp_response(pki: &TestPki, status: OcspStatus) -> Vec<u8> {
    let serial = format!("{:X}", pki.server_serial());
    let line = match status {
        OcspStatus::Good => format!("V\t21000101000000Z\t\t{serial}\tunknown\t/CN=localhost\n"),
        OcspStatus::Revoked => format!(
            "R\t21000101000000Z\t240101000000Z,keyCompromise\t{serial}\tunknown\t/CN=localhost\n"
        ),
        OcspStatus::Unknown => String::new(),
    };
    let name = format!("{status:?}").to_lowercase();
    let ca = pki.write_temp("ocsp-ca.pem", &pki.ca_pem);
    let ca_key = pki.write_temp("ocsp-ca.key", &pki.ca_key_pem);
    let server = pki.write_temp("ocsp-server.pem", &pki.server_chain_pem);
    let index = pki.write_temp(&format!("ocsp-{name}.index"), &line);
    let out = index.with_extension("der");
    openssl(&[
        "ocsp".as_ref(),
        "-index".as_ref(),
        index.as_os_str(),
        "-rsigner".as_ref(),
        ca.as_os_str(),
        "-rkey".as_ref(),
        ca_key.as_os_str(),
        "-CA".as_ref(),
        ca.as_os_str(),
        "-issuer".as_ref(),
        ca.as_os_str(),
        "-cert".as_ref(),
        server.as_os_str(),
        "-ndays".as_ref(),
        "1".as_ref(),
        "-respout".as_ref(),
        out.as_os_str(),
    ]);
    std::fs::read(&out).unwrap_or_else(|e| panic!("read {}: {e}", out.display()))
}

/// The test PKI's client certificate and key in every form libcurl takes,
/// written by the `openssl` command line as a user would make them.
pub struct ClientKeyFiles {
    /// The certificate, PEM.
    pub cert_pem: PathBuf,
    /// The key, PKCS#8 PEM, unencrypted.
    pub key_pem: PathBuf,
    /// The key, encrypted PKCS#8 PEM (`openssl pkcs8 -topk8`).
    pub key_encrypted: PathBuf,
    /// The key in OpenSSL's legacy encrypted PEM (`Proc-Type: 4,ENCRYPTED`).
    pub key_legacy_encrypted: PathBuf,
    /// The certificate, DER.
    pub cert_der: PathBuf,
    /// The key, PKCS#8 DER.
    pub key_der: PathBuf,
    /// The key, encrypted PKCS#8 DER.
    pub key_der_encrypted: PathBuf,
    /// Certificate, key and CA in PKCS#12 (`openssl pkcs12 -export`).
    pub p12: PathBuf,
}

impl ClientKeyFiles {
    /// Writes them next to `pki`'s other files, encrypted with `password`.
    pub fn make(pki: &TestPki, password: &str) -> ClientKeyFiles {
        let cert_pem = pki.write_temp("client.pem", &pki.client_cert_pem);
        let key_pem = pki.write_temp("client.key", &pki.client_key_pem);
        let ca = pki.write_temp("client-ca.pem", &pki.ca_pem);
        let path = |name: &str| cert_pem.with_file_name(name);
        let files = ClientKeyFiles {
            key_encrypted: path("client-enc.key"),
            key_legacy_encrypted: path("client-legacy.key"),
            cert_der: path("client.der"),
            key_der: path("client-key.der"),
            key_der_encrypted: path("client-key-enc.der"),
            p12: path("client.p12"),
            cert_pem,
            key_pem,
        };
        let pass = format!("pass:{password}");
        let (cert, key) = (files.cert_pem.as_os_str(), files.key_pem.as_os_str());
        let run = |args: &[&str], paths: &[&std::ffi::OsStr]| {
            let mut all: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
            all.extend_from_slice(paths);
            openssl(&all);
        };
        run(
            &["pkcs8", "-topk8", "-passout", &pass, "-in"],
            &[key, "-out".as_ref(), files.key_encrypted.as_os_str()],
        );
        run(
            &["pkey", "-aes256", "-traditional", "-passout", &pass, "-in"],
            &[key, "-out".as_ref(), files.key_legacy_encrypted.as_os_str()],
        );
        run(
            &["x509", "-outform", "DER", "-in"],
            &[cert, "-out".as_ref(), files.cert_der.as_os_str()],
        );
        run(
            &["pkey", "-outform", "DER", "-in"],
            &[key, "-out".as_ref(), files.key_der.as_os_str()],
        );
        run(
            &[
                "pkcs8", "-topk8", "-outform", "DER", "-passout", &pass, "-in",
            ],
            &[key, "-out".as_ref(), files.key_der_encrypted.as_os_str()],
        );
        run(
            &["pkcs12", "-export", "-passout", &pass, "-in"],
            &[
                cert,
                "-inkey".as_ref(),
                key,
                "-certfile".as_ref(),
                ca.as_os_str(),
                "-out".as_ref(),
                files.p12.as_os_str(),
            ],
        );
        files
    }
}

fn openssl(args: &[&std::ffi::OsStr]) {
    let exe = find_program("openssl", &["openssl"], "openssl");
    let out = Command::new(&exe)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", exe.display()));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
