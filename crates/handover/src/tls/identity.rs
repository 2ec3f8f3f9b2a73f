//! The client's certificate and key (`CURLOPT_SSLCERT`, `_SSLKEY`, their
//! `_BLOB` and `_TYPE` forms and `CURLOPT_KEYPASSWD`): what the options say
//! and how it is read into what rustls presents.
//!
//! ```text
//!   cert type  PEM  certificate chain (PEM), key from the key option or
//!                   from the certificate's own file or blob
//!              DER  one certificate (DER), key as above
//!              P12  PKCS#12: certificate, chain and key together; the key
//!                   options are not used, the key password opens it
//!   key type   PEM  PKCS#8, PKCS#1 (RSA) or SEC1 (EC) in PEM; an
//!                   ENCRYPTED PRIVATE KEY (PKCS#8, PBES2) with the password
//!              DER  the same in DER
//! ```
//!
//! As in libcurl, a blob wins over a file name, a key that is not given is
//! looked for where the certificate is, and the type names are read when
//! the connection is made (an unknown one fails it with 58, not the
//! setopt). OpenSSL's engine and provider types (`ENG`, `PROV`) have no
//! equivalent here: they fail with 58 and say so. Reading happens when the
//! TLS configuration is built, never on the poll thread (see `config.rs`).

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

use pkcs8::der::pem::PemLabel;
use pkcs8::EncryptedPrivateKeyInfoRef;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::error::{Error, ErrorKind};

/// Where a certificate or key comes from: a file, or bytes in memory.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum Source {
    File(PathBuf),
    Blob(Vec<u8>),
}

impl Source {
    /// The same source, borrowed.
    pub(crate) fn borrowed(&self) -> SourceRef<'_> {
        match self {
            Source::File(path) => SourceRef::File(path),
            Source::Blob(bytes) => SourceRef::Blob(bytes),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.borrowed().fmt(f)
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.borrowed().fmt(f)
    }
}

/// A [`Source`] borrowed from the options, so that naming or reading one
/// copies no blob.
#[derive(Clone, Copy)]
pub(crate) enum SourceRef<'a> {
    File(&'a Path),
    Blob(&'a [u8]),
}

impl<'a> SourceRef<'a> {
    /// The blob when there is one (it wins, as in libcurl), else the file.
    fn either(blob: Option<&'a Vec<u8>>, path: Option<&'a PathBuf>) -> Option<SourceRef<'a>> {
        match (blob, path) {
            (Some(blob), _) => Some(SourceRef::Blob(blob)),
            (None, Some(path)) => Some(SourceRef::File(path)),
            (None, None) => None,
        }
    }

    /// The bytes: a file's read now, a blob's as they are.
    pub(crate) fn read(self) -> Result<Cow<'a, [u8]>, String> {
        match self {
            SourceRef::File(path) => std::fs::read(path)
                .map(Cow::Owned)
                .map_err(|e| format!("cannot read it: {e}")),
            SourceRef::Blob(bytes) => Ok(Cow::Borrowed(bytes)),
        }
    }
}

impl fmt::Display for SourceRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceRef::File(path) => write!(f, "{}", path.display()),
            SourceRef::Blob(bytes) => write!(f, "(blob of {} bytes)", bytes.len()),
        }
    }
}

impl fmt::Debug for SourceRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The client-identity options of one TLS configuration (the origin's or
/// the HTTPS proxy's).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct ClientIdentity {
    pub cert: Option<PathBuf>,
    pub cert_blob: Option<Vec<u8>>,
    pub key: Option<PathBuf>,
    pub key_blob: Option<Vec<u8>>,
    /// `CURLOPT_SSLCERTTYPE`; `None` is PEM.
    pub cert_type: Option<String>,
    /// `CURLOPT_SSLKEYTYPE`; `None` is PEM.
    pub key_type: Option<String>,
    /// `CURLOPT_KEYPASSWD`.
    pub password: Option<String>,
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("cert", &self.cert_source())
            .field("key", &self.key_source())
            .field("cert_type", &self.cert_type)
            .field("key_type", &self.key_type)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

/// A certificate chain and its key, ready for rustls.
pub(crate) type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

#[derive(Clone, Copy, PartialEq, Eq)]
enum CertType {
    Pem,
    Der,
    P12,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyType {
    Pem,
    Der,
}

impl ClientIdentity {
    fn cert_source(&self) -> Option<SourceRef<'_>> {
        SourceRef::either(self.cert_blob.as_ref(), self.cert.as_ref())
    }

    fn key_source(&self) -> Option<SourceRef<'_>> {
        SourceRef::either(self.key_blob.as_ref(), self.key.as_ref())
    }

    /// Reads the certificate chain and key; `None` without a certificate.
    pub fn load(&self) -> Result<Option<Identity>, Error> {
        let Some(cert) = self.cert_source() else {
            if let Some(key) = self.key_source() {
                return Err(problem(format!(
                    "client key {key} given without a client certificate"
                )));
            }
            return Ok(None);
        };
        let cert_type = cert_type(self.cert_type.as_deref())?;
        let bytes = cert
            .read()
            .map_err(|why| problem(format!("client certificate {cert}: {why}")))?;
        if cert_type == CertType::P12 {
            return pkcs12(&bytes, self.password.as_deref().unwrap_or(""))
                .map(Some)
                .map_err(|why| problem(format!("client certificate {cert} (P12): {why}")));
        }
        let chain = match cert_type {
            CertType::Der => vec![CertificateDer::from(bytes.to_vec())],
            _ => pem_certs(&bytes)
                .map_err(|why| problem(format!("client certificate {cert}: {why}")))?,
        };
        // No key of its own: the key is where the certificate is.
        let (key_source, key_bytes) = match self.key_source() {
            Some(source) => {
                let bytes = source
                    .read()
                    .map_err(|why| problem(format!("client key {source}: {why}")))?;
                (source, bytes)
            }
            None => (cert, bytes),
        };
        let key = private_key(
            &key_bytes,
            key_type(self.key_type.as_deref())?,
            self.password.as_deref(),
        )
        .map_err(|why| problem(format!("unable to use client key {key_source}: {why}")))?;
        Ok(Some((chain, key)))
    }
}

fn problem(message: String) -> Error {
    Error::new(ErrorKind::SslCertproblem, message)
}

fn cert_type(name: Option<&str>) -> Result<CertType, Error> {
    match name {
        None => Ok(CertType::Pem),
        Some(n) if n.eq_ignore_ascii_case("PEM") => Ok(CertType::Pem),
        Some(n) if n.eq_ignore_ascii_case("DER") => Ok(CertType::Der),
        Some(n) if n.eq_ignore_ascii_case("P12") => Ok(CertType::P12),
        Some(n) => Err(unsupported_type(n, "certificate")),
    }
}

fn key_type(name: Option<&str>) -> Result<KeyType, Error> {
    match name {
        None => Ok(KeyType::Pem),
        Some(n) if n.eq_ignore_ascii_case("PEM") => Ok(KeyType::Pem),
        Some(n) if n.eq_ignore_ascii_case("DER") => Ok(KeyType::Der),
        Some(n) => Err(unsupported_type(n, "private key")),
    }
}

fn unsupported_type(name: &str, what: &str) -> Error {
    let why = if name.eq_ignore_ascii_case("ENG") || name.eq_ignore_ascii_case("PROV") {
        " (an OpenSSL engine or provider type: handover uses rustls, which has neither)"
    } else {
        ""
    };
    problem(format!("not supported file type '{name}' for {what}{why}"))
}

fn pem_certs(bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("bad PEM: {e}"))?;
    if certs.is_empty() {
        return Err("no PEM certificate in it".to_owned());
    }
    Ok(certs)
}

/// A private key in PEM or DER, decrypted with `password` when it is an
/// encrypted PKCS#8 key.
fn private_key(
    bytes: &[u8],
    kind: KeyType,
    password: Option<&str>,
) -> Result<PrivateKeyDer<'static>, String> {
    match kind {
        KeyType::Der => {
            if let Ok(info) = EncryptedPrivateKeyInfoRef::try_from(bytes) {
                return decrypt(&info, password);
            }
            PrivateKeyDer::try_from(bytes.to_vec())
                .map_err(|e| format!("not a DER private key: {e}"))
        }
        KeyType::Pem => {
            if let Some(der) = encrypted_pem_section(bytes)? {
                let info = EncryptedPrivateKeyInfoRef::try_from(der.as_slice())
                    .map_err(|e| format!("bad encrypted private key: {e}"))?;
                return decrypt(&info, password);
            }
            if contains(bytes, b"Proc-Type: 4,ENCRYPTED") {
                return Err(
                    "the key is encrypted in OpenSSL's legacy PEM format, which \
                            handover cannot read; convert it with `openssl pkcs8 -topk8`"
                        .to_owned(),
                );
            }
            PrivateKeyDer::from_pem_slice(bytes).map_err(|e| match e {
                rustls::pki_types::pem::Error::NoItemsFound => {
                    "no PEM private key in it".to_owned()
                }
                e => format!("bad PEM: {e}"),
            })
        }
    }
}

fn decrypt(
    info: &EncryptedPrivateKeyInfoRef<'_>,
    password: Option<&str>,
) -> Result<PrivateKeyDer<'static>, String> {
    let Some(password) = password else {
        return Err("the key is encrypted and no key password is set".to_owned());
    };
    let plain = info.decrypt(password).map_err(|e| match e {
        pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::DecryptFailed) => {
            "wrong key password".to_owned()
        }
        e => format!("cannot decrypt the key: {e}"),
    })?;
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        plain.as_bytes().to_vec(),
    )))
}

/// The DER of the first `ENCRYPTED PRIVATE KEY` section of a PEM file.
fn encrypted_pem_section(bytes: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let label = EncryptedPrivateKeyInfoRef::PEM_LABEL;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let Some(start) = find(bytes, begin.as_bytes()) else {
        return Ok(None);
    };
    let rest = bytes.get(start..).unwrap_or_default();
    let Some(stop) = find(rest, end.as_bytes()) else {
        return Err(format!("{begin} without its {end}"));
    };
    let section = rest.get(..stop + end.len()).unwrap_or_default();
    let (_, der) = pkcs8::der::pem::decode_vec(section)
        .map_err(|e| format!("bad PEM in the encrypted private key: {e}"))?;
    Ok(Some(der))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

/// The key and chain of a PKCS#12 file: the key whose local key id a
/// certificate shares (the leaf), else the first of each.
fn pkcs12(bytes: &[u8], password: &str) -> Result<Identity, String> {
    let archive = p12_keystore::Pkcs12Archive::from_pkcs12(bytes, password).map_err(|e| {
        match e {
            // The MAC or the decryption fails when the password is wrong.
            p12_keystore::error::Error::MacError(_) | p12_keystore::error::Error::UnpadError => {
                "wrong password (or a damaged file)".to_owned()
            }
            e => format!("cannot read it: {e}"),
        }
    })?;
    let Some(key) = archive.keys.first() else {
        return Err("no private key in it".to_owned());
    };
    let paired = |c: &&p12_keystore::CertificateBag| matches!((&c.local_key_id, &key.local_key_id), (Some(a), Some(b)) if a.as_slice() == b.0.as_slice());
    let leaf = archive
        .certs
        .iter()
        .find(paired)
        .or_else(|| archive.certs.first())
        .ok_or_else(|| "no certificate in it".to_owned())?;
    let mut chain = vec![CertificateDer::from(leaf.cert.as_der().to_vec())];
    // The other certificates travel as the chain, as OpenSSL sends the
    // PKCS#12's CA certificates.
    chain.extend(
        archive
            .certs
            .iter()
            .filter(|c| !std::ptr::eq(*c, leaf))
            .map(|c| CertificateDer::from(c.cert.as_der().to_vec())),
    );
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.key.as_der().to_vec()));
    Ok((chain, key))
}
