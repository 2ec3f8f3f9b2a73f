//! What libcurl checks of the server's certificate besides verifying it:
//! who issued it (`CURLOPT_ISSUERCERT`, 83 when another did) and its
//! stapled OCSP status (`CURLOPT_SSL_VERIFYSTATUS`, 91 unless the response
//! says good). Both run inside the certificate verifier, during the
//! handshake: the stapled response reaches rustls's verifier and nothing
//! else. The reading and deciding is `handover_proto::ocsp`; this file
//! finds the issuer and verifies signatures with rustls's algorithms.
//!
//! A failure travels through rustls as a `CertificateError::Other` holding
//! a [`CheckFailed`], which the TLS layer turns back into its code and
//! message ([`check_failure`]).

use std::fmt;
use std::sync::Arc;

use handover_proto::ocsp::{self, CertStatus, Issuer, PublicKey, Response, Signed};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::{CertificateError, OtherError, RootCertStore};

use crate::error::ErrorKind;

/// A failed issuer or status check: the libcurl code and what failed.
#[derive(Debug)]
pub(crate) struct CheckFailed {
    pub kind: ErrorKind,
    pub message: String,
}

impl fmt::Display for CheckFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CheckFailed {}

fn failed(kind: ErrorKind, message: impl Into<String>) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(CheckFailed {
        kind,
        message: message.into(),
    }))))
}

/// The check failure inside a handshake error, if it is one.
pub(crate) fn check_failure(err: &rustls::Error) -> Option<&CheckFailed> {
    match err {
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(inner))) => {
            inner.downcast_ref::<CheckFailed>()
        }
        _ => None,
    }
}

/// True when `key` made `signed`'s signature, by one of `algorithms`.
fn verifies(
    signed: &Signed<'_>,
    key: &PublicKey<'_>,
    algorithms: &WebPkiSupportedAlgorithms,
) -> bool {
    algorithms.all.iter().any(|alg| {
        alg.signature_alg_id().as_ref() == signed.algorithm
            && alg.public_key_alg_id().as_ref() == key.algorithm
            && alg
                .verify_signature(key.bits, signed.message, signed.signature)
                .is_ok()
    })
}

/// `CURLOPT_ISSUERCERT`: `end_entity` must be signed by `issuer` (DER)
/// and name it as its issuer.
pub(crate) fn check_issuer(
    end_entity: &CertificateDer<'_>,
    issuer: &[u8],
    algorithms: &WebPkiSupportedAlgorithms,
) -> Result<(), rustls::Error> {
    let fail = || {
        failed(
            ErrorKind::SslIssuerError,
            "SSL: Certificate issuer check failed",
        )
    };
    let named = Issuer::from_certificate(issuer).map_err(|_| fail())?;
    let (signed, _) = ocsp::certificate_signature(end_entity).map_err(|_| fail())?;
    let key = named.key().map_err(|_| fail())?;
    let names_it = ocsp::issuer_name(end_entity).is_ok_and(|name| name == named.subject());
    if names_it && verifies(&signed, &key, algorithms) {
        Ok(())
    } else {
        Err(fail())
    }
}

/// `CURLOPT_SSL_VERIFYSTATUS`: the stapled `response` must be a valid,
/// signed statement that `end_entity` is good.
pub(crate) fn check_status(
    response: &[u8],
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    roots: Option<&RootCertStore>,
    algorithms: &WebPkiSupportedAlgorithms,
    now: UnixTime,
) -> Result<(), rustls::Error> {
    let fail = |message: String| failed(ErrorKind::SslInvalidCertStatus, message);
    if response.is_empty() {
        return Err(fail("No OCSP response received".to_owned()));
    }
    let parsed = Response::read(response).map_err(|e| fail(e.to_string()))?;
    let issuer = find_issuer(end_entity, intermediates, roots).ok_or_else(|| {
        fail(
            "cannot check the OCSP response: the server certificate's issuer is unknown".to_owned(),
        )
    })?;
    // The signer: the issuer itself, or a responder it delegated to.
    let issuer_key = issuer.key().map_err(|e| fail(e.to_string()))?;
    let signed_ok = if parsed
        .signed_by_issuer(&issuer)
        .map_err(|e| fail(e.to_string()))?
    {
        verifies(&parsed.signed(), &issuer_key, algorithms)
    } else {
        parsed.delegate().is_some_and(|delegate| {
            let Ok((cert_signed, may_sign)) = ocsp::certificate_signature(delegate) else {
                return false;
            };
            let Ok(delegate_key) = ocsp::certificate_key(delegate) else {
                return false;
            };
            may_sign
                && verifies(&cert_signed, &issuer_key, algorithms)
                && verifies(&parsed.signed(), &delegate_key, algorithms)
        })
    };
    if !signed_ok {
        return Err(fail("OCSP response verification failed".to_owned()));
    }
    match parsed
        .status_of(end_entity, &issuer, now.as_secs())
        .map_err(|e| fail(e.to_string()))?
    {
        CertStatus::Good => Ok(()),
        CertStatus::Revoked { reason, .. } => Err(fail(match reason {
            Some(code) => format!(
                "SSL certificate status: revoked (1); revocation reason: {} ({code})",
                ocsp::reason_name(code)
            ),
            None => "SSL certificate status: revoked (1)".to_owned(),
        })),
        CertStatus::Unknown => Err(fail("SSL certificate status: unknown (2)".to_owned())),
    }
}

/// The certificate that issued `end_entity`: one of the chain the server
/// sent, or a trust anchor.
fn find_issuer(
    end_entity: &[u8],
    intermediates: &[CertificateDer<'_>],
    roots: Option<&RootCertStore>,
) -> Option<Issuer> {
    let wanted = ocsp::issuer_name(end_entity).ok()?;
    intermediates
        .iter()
        .filter_map(|c| Issuer::from_certificate(c).ok())
        .find(|issuer| issuer.subject() == wanted)
        .or_else(|| {
            roots?.roots.iter().find_map(|anchor| {
                let issuer = Issuer::from_anchor(
                    anchor.subject.as_ref(),
                    anchor.subject_public_key_info.as_ref(),
                );
                (issuer.subject() == wanted).then_some(issuer)
            })
        })
}
