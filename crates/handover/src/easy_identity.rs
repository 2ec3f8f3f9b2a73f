//! `Easy`'s options for the TLS client identity (certificate and key types,
//! blobs, key password), the server certificate's issuer and OCSP status,
//! and the CA cache, for the origin and for HTTPS proxies.

use std::path::Path;
use std::time::Duration;

use crate::easy::path_string;
use crate::error::Error;
use crate::options::TlsOptions;
use crate::tls::Source;
use crate::Easy;

impl Easy {
    /// The client certificate's format (`CURLOPT_SSLCERTTYPE`): `"PEM"`
    /// (the default), `"DER"` or `"P12"` (PKCS#12, which holds the key
    /// too; [`key_password`](Easy::key_password) opens it). Case does not
    /// matter; as in libcurl an unknown name fails the transfer (58), not
    /// this call.
    pub fn ssl_cert_type(&mut self, kind: &str) -> Result<(), Error> {
        self.opts.tls.identity.cert_type = Some(kind.to_owned());
        Ok(())
    }

    /// The client certificate from memory (`CURLOPT_SSLCERT_BLOB`), in the
    /// format [`ssl_cert_type`](Easy::ssl_cert_type) says; wins over
    /// [`ssl_cert`](Easy::ssl_cert).
    pub fn ssl_cert_blob(&mut self, blob: &[u8]) -> Result<(), Error> {
        self.opts.tls.identity.cert_blob = Some(blob.to_vec());
        Ok(())
    }

    /// The client key's format (`CURLOPT_SSLKEYTYPE`): `"PEM"` (the
    /// default) or `"DER"`; PKCS#8, PKCS#1 (RSA) or SEC1 (EC) keys.
    pub fn ssl_key_type(&mut self, kind: &str) -> Result<(), Error> {
        self.opts.tls.identity.key_type = Some(kind.to_owned());
        Ok(())
    }

    /// The client key from memory (`CURLOPT_SSLKEY_BLOB`); wins over
    /// [`ssl_key`](Easy::ssl_key).
    pub fn ssl_key_blob(&mut self, blob: &[u8]) -> Result<(), Error> {
        self.opts.tls.identity.key_blob = Some(blob.to_vec());
        Ok(())
    }

    /// The password of an encrypted client key or of a PKCS#12 file
    /// (`CURLOPT_KEYPASSWD`). Encrypted keys are PKCS#8
    /// (`ENCRYPTED PRIVATE KEY`, what `openssl pkcs8 -topk8` writes);
    /// OpenSSL's legacy PEM encryption (`Proc-Type: 4,ENCRYPTED`) is
    /// refused with a message saying how to convert it.
    pub fn key_password(&mut self, password: &str) -> Result<(), Error> {
        self.opts.tls.identity.password = Some(password.to_owned());
        Ok(())
    }

    /// Require the server's certificate to be issued by the certificate in
    /// this PEM file (`CURLOPT_ISSUERCERT`), besides the usual
    /// verification; a mismatch fails with 83 (`CURLE_SSL_ISSUER_ERROR`).
    pub fn issuer_cert<P: AsRef<Path>>(&mut self, path: P) -> Result<(), Error> {
        self.opts.tls.issuer_cert = Some(Source::File(path_string(path.as_ref())?));
        Ok(())
    }

    /// [`issuer_cert`](Easy::issuer_cert) from memory, PEM
    /// (`CURLOPT_ISSUERCERT_BLOB`).
    pub fn issuer_cert_blob(&mut self, blob: &[u8]) -> Result<(), Error> {
        self.opts.tls.issuer_cert = Some(Source::Blob(blob.to_vec()));
        Ok(())
    }

    /// Require a stapled OCSP response that says the server's certificate
    /// is good (`CURLOPT_SSL_VERIFYSTATUS`); off by default. No response,
    /// a bad one, or a revoked or unknown status fail with 91
    /// (`CURLE_SSL_INVALIDCERTSTATUS`).
    pub fn ssl_verify_status(&mut self, on: bool) -> Result<(), Error> {
        self.opts.tls.verify_status = on;
        Ok(())
    }

    /// How long CA certificates read from files serve new connections
    /// before they are read again (`CURLOPT_CA_CACHE_TIMEOUT`): 24 hours by
    /// default; zero reads them for every transfer; `None` keeps them for
    /// the life of the process (libcurl's -1).
    pub fn ca_cache_timeout(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        self.opts.tls.ca_cache_timeout = timeout;
        self.opts.proxy.tls.ca_cache_timeout = timeout;
        Ok(())
    }

    /// [`ssl_cert_type`](Easy::ssl_cert_type) for HTTPS proxies
    /// (`CURLOPT_PROXY_SSLCERTTYPE`).
    pub fn proxy_sslcert_type(&mut self, kind: &str) -> Result<(), Error> {
        self.proxy_tls().identity.cert_type = Some(kind.to_owned());
        Ok(())
    }

    /// [`ssl_cert_blob`](Easy::ssl_cert_blob) for HTTPS proxies
    /// (`CURLOPT_PROXY_SSLCERT_BLOB`).
    pub fn proxy_sslcert_blob(&mut self, blob: &[u8]) -> Result<(), Error> {
        self.proxy_tls().identity.cert_blob = Some(blob.to_vec());
        Ok(())
    }

    /// [`ssl_key_type`](Easy::ssl_key_type) for HTTPS proxies
    /// (`CURLOPT_PROXY_SSLKEYTYPE`).
    pub fn proxy_sslkey_type(&mut self, kind: &str) -> Result<(), Error> {
        self.proxy_tls().identity.key_type = Some(kind.to_owned());
        Ok(())
    }

    /// [`ssl_key_blob`](Easy::ssl_key_blob) for HTTPS proxies
    /// (`CURLOPT_PROXY_SSLKEY_BLOB`).
    pub fn proxy_sslkey_blob(&mut self, blob: &[u8]) -> Result<(), Error> {
        self.proxy_tls().identity.key_blob = Some(blob.to_vec());
        Ok(())
    }

    /// [`key_password`](Easy::key_password) for HTTPS proxies
    /// (`CURLOPT_PROXY_KEYPASSWD`).
    pub fn proxy_key_password(&mut self, password: &str) -> Result<(), Error> {
        self.proxy_tls().identity.password = Some(password.to_owned());
        Ok(())
    }

    /// [`issuer_cert`](Easy::issuer_cert) for HTTPS proxies
    /// (`CURLOPT_PROXY_ISSUERCERT`).
    pub fn proxy_issuer_cert<P: AsRef<Path>>(&mut self, path: P) -> Result<(), Error> {
        self.proxy_tls().issuer_cert = Some(Source::File(path_string(path.as_ref())?));
        Ok(())
    }

    /// [`issuer_cert_blob`](Easy::issuer_cert_blob) for HTTPS proxies
    /// (`CURLOPT_PROXY_ISSUERCERT_BLOB`).
    pub fn proxy_issuer_cert_blob(&mut self, blob: &[u8]) -> Result<(), Error> {
        self.proxy_tls().issuer_cert = Some(Source::Blob(blob.to_vec()));
        Ok(())
    }

    fn proxy_tls(&mut self) -> &mut TlsOptions {
        &mut self.opts.proxy.tls
    }
}
