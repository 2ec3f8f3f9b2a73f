//! Turning handover's TLS options into a rustls client configuration:
//! trust anchors (CA file, CA directory or the system store), verification
//! switches, client certificate, version bounds, ALPN and key pinning.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use handover_proto::pin::PinSpec;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::error::{Error, ErrorKind};
use crate::options::{SslVersion, TlsOptions};

/// Which ALPN list a connection offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Alpn {
    /// Nothing (TLS for non-HTTP schemes such as gophers).
    None,
    /// `http/1.1` only: a connect-only HTTPS connection must stay a byte
    /// pipe, so h2 is never offered.
    Http11,
}

impl Alpn {
    fn protocols(self) -> Vec<Vec<u8>> {
        match self {
            Alpn::None => Vec::new(),
            Alpn::Http11 => vec![b"http/1.1".to_vec()],
        }
    }
}

/// A ready rustls configuration plus the pin to check after the handshake.
#[derive(Clone)]
pub(crate) struct TlsSetup {
    pub config: Arc<ClientConfig>,
    pub pin: Option<Arc<PinSpec>>,
    pub verify_peer: bool,
    /// Where trust comes from, for messages: `CA file /etc/ca.pem`, `the
    /// system store`.
    pub trust: Arc<str>,
}

/// Remembers the last configuration built so repeated performs with the
/// same options skip reading CA files and building verifiers.
#[derive(Default)]
pub(crate) struct TlsCache {
    last: Option<(TlsOptions, Alpn, TlsSetup)>,
}

impl TlsCache {
    pub fn get(&mut self, opts: &TlsOptions, alpn: Alpn) -> Result<TlsSetup, Error> {
        if let Some((o, a, setup)) = &self.last {
            if o == opts && *a == alpn {
                return Ok(setup.clone());
            }
        }
        let setup = build(opts, alpn)?;
        self.last = Some((opts.clone(), alpn, setup.clone()));
        Ok(setup)
    }
}

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

fn build(opts: &TlsOptions, alpn: Alpn) -> Result<TlsSetup, Error> {
    let provider = provider();
    let versions = versions(opts.min_version, opts.max_version)?;
    let verifier = Arc::new(Verifier {
        webpki: if opts.verify_peer {
            let roots = roots(opts)?;
            Some(
                WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                    .build()
                    .map_err(|e| {
                        Error::new(
                            ErrorKind::SslCacertBadfile,
                            format!("cannot build certificate verifier: {e}"),
                        )
                    })?,
            )
        } else {
            None
        },
        verify_host: opts.verify_host,
        algorithms: provider.signature_verification_algorithms,
    });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| {
            Error::new(
                ErrorKind::SslConnectError,
                format!("TLS version bounds rejected: {e}"),
            )
        })?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match (&opts.cert, &opts.key) {
        (None, None) => builder.with_no_client_auth(),
        (None, Some(key)) => {
            return Err(Error::new(
                ErrorKind::SslCertproblem,
                format!(
                    "client key {} given without a client certificate",
                    key.display()
                ),
            ))
        }
        (Some(cert), key) => {
            let chain = load_certs(cert, ErrorKind::SslCertproblem, "client certificate")?;
            let key_path = key.as_deref().unwrap_or(cert);
            let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| {
                Error::new(
                    ErrorKind::SslCertproblem,
                    format!("unable to use client key {}: {e}", key_path.display()),
                )
            })?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                Error::new(
                    ErrorKind::SslCertproblem,
                    format!("unable to use client certificate {}: {e}", cert.display()),
                )
            })?
        }
    };
    config.alpn_protocols = alpn.protocols();
    let pin = match &opts.pinned_public_key {
        None => None,
        Some(spec) => Some(Arc::new(load_pin(spec)?)),
    };
    Ok(TlsSetup {
        config: Arc::new(config),
        pin,
        verify_peer: opts.verify_peer,
        trust: trust_source(opts).into(),
    })
}

/// The trust anchors `roots` uses, in words.
fn trust_source(opts: &TlsOptions) -> String {
    match (&opts.cainfo, &opts.capath) {
        _ if !opts.verify_peer => "nothing: peer verification is off".to_owned(),
        (None, None) => "the system store".to_owned(),
        (Some(file), None) => format!("CA file {}", file.display()),
        (None, Some(dir)) => format!("CA directory {}", dir.display()),
        (Some(file), Some(dir)) => {
            format!(
                "CA file {} and CA directory {}",
                file.display(),
                dir.display()
            )
        }
    }
}

fn versions(
    min: SslVersion,
    max: SslVersion,
) -> Result<&'static [&'static rustls::SupportedProtocolVersion], Error> {
    static BOTH: [&rustls::SupportedProtocolVersion; 2] =
        [&rustls::version::TLS13, &rustls::version::TLS12];
    static ONLY_13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    static ONLY_12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
    let allow_12 = min <= SslVersion::Tlsv12;
    let allow_13 = max == SslVersion::Default || max >= SslVersion::Tlsv13;
    let max_ok = max == SslVersion::Default || max >= SslVersion::Tlsv12;
    match (allow_12 && max_ok, allow_13) {
        (true, true) => Ok(&BOTH),
        (false, true) => Ok(&ONLY_13),
        (true, false) => Ok(&ONLY_12),
        (false, false) => Err(Error::new(
            ErrorKind::SslConnectError,
            format!(
                "TLS version range {min:?}..{max:?} is empty: rustls speaks TLS 1.2 and 1.3 only"
            ),
        )),
    }
}

fn load_certs(
    path: &Path,
    kind: ErrorKind,
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, Error> {
    let iter = CertificateDer::pem_file_iter(path)
        .map_err(|e| Error::new(kind, format!("cannot read {what} {}: {e}", path.display())))?;
    let certs = iter
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::new(kind, format!("bad PEM in {what} {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(Error::new(
            kind,
            format!("no certificate found in {what} {}", path.display()),
        ));
    }
    Ok(certs)
}

fn roots(opts: &TlsOptions) -> Result<Arc<RootCertStore>, Error> {
    if opts.cainfo.is_none() && opts.capath.is_none() {
        return system_roots();
    }
    let mut store = RootCertStore::empty();
    if let Some(file) = &opts.cainfo {
        for cert in load_certs(file, ErrorKind::SslCacertBadfile, "CA file")? {
            add_root(&mut store, cert, file)?;
        }
    }
    if let Some(dir) = &opts.capath {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            Error::new(
                ErrorKind::SslCacertBadfile,
                format!("cannot read CA directory {}: {e}", dir.display()),
            )
        })?;
        for entry in entries.flatten() {
            let path = entry.path();
            // A CA directory holds other files too (hash links, READMEs):
            // take every certificate that parses and skip the rest.
            if let Ok(iter) = CertificateDer::pem_file_iter(&path) {
                for cert in iter.flatten() {
                    let _ = store.add(cert);
                }
            }
        }
    }
    if store.is_empty() {
        return Err(Error::new(
            ErrorKind::SslCacertBadfile,
            "no usable CA certificate in the given CA file or directory",
        ));
    }
    Ok(Arc::new(store))
}

fn add_root(
    store: &mut RootCertStore,
    cert: CertificateDer<'static>,
    file: &Path,
) -> Result<(), Error> {
    store.add(cert).map_err(|e| {
        Error::new(
            ErrorKind::SslCacertBadfile,
            format!("unusable CA certificate in {}: {e}", file.display()),
        )
    })
}

/// The operating system's trust store, loaded once per process.
fn system_roots() -> Result<Arc<RootCertStore>, Error> {
    static SYSTEM: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    if let Some(store) = SYSTEM.get() {
        return Ok(store.clone());
    }
    let loaded = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    let (_added, _ignored) = store.add_parsable_certificates(loaded.certs);
    if store.is_empty() {
        return Err(Error::new(
            ErrorKind::SslCacertBadfile,
            "no CA certificates found in the system trust store; set cainfo or capath",
        ));
    }
    Ok(SYSTEM.get_or_init(|| Arc::new(store)).clone())
}

fn load_pin(spec: &str) -> Result<PinSpec, Error> {
    if PinSpec::is_hash_list(spec) {
        // A malformed list matches nothing, so the transfer fails as a
        // mismatch (90), as in libcurl.
        return PinSpec::parse_hashes(spec).map_err(|e| {
            Error::new(
                ErrorKind::SslPinnedPubKeyNotMatch,
                format!("pinned public key list is unusable: {e}"),
            )
        });
    }
    let bytes = std::fs::read(spec).map_err(|e| {
        Error::new(
            ErrorKind::SslPinnedPubKeyNotMatch,
            format!("cannot read pinned public key file {spec}: {e}"),
        )
    })?;
    PinSpec::from_key_file(&bytes).map_err(|e| {
        Error::new(
            ErrorKind::SslPinnedPubKeyNotMatch,
            format!("bad pinned public key file {spec}: {e}"),
        )
    })
}

/// The certificate verifier: webpki when peer verification is on, with the
/// host-name check dropped when only host verification is off.
#[derive(Debug)]
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    verify_host: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else {
            return Ok(ServerCertVerified::assertion());
        };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.verify_host => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
