//! TLS failures in the words a person uses (and libcurl prints), instead
//! of rustls's type names: which check failed, for which host, and which
//! trust anchors were consulted.

use rustls::{CertificateError, InvalidMessage};

/// What is wrong with the server's certificate, as libcurl (OpenSSL)
/// words it where it has words for it.
pub(crate) fn certificate_problem(why: &CertificateError) -> String {
    match why {
        CertificateError::UnknownIssuer => "unable to get local issuer certificate".to_owned(),
        CertificateError::BadEncoding => "unable to decode the certificate".to_owned(),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "certificate has expired".to_owned()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "certificate is not yet valid".to_owned()
        }
        CertificateError::Revoked => "certificate revoked".to_owned(),
        CertificateError::BadSignature => "certificate signature failure".to_owned(),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "unsupported certificate purpose (not for TLS servers)".to_owned()
        }
        CertificateError::NotValidForName => {
            "no alternative certificate subject name matches the host name".to_owned()
        }
        CertificateError::NotValidForNameContext { presented, .. } => {
            let names: Vec<String> = presented.iter().map(|n| plain_name(n)).collect();
            if names.is_empty() {
                "the certificate names no host (no subject alternative name)".to_owned()
            } else {
                format!(
                    "no alternative certificate subject name matches the host name; \
                     the certificate is for {}",
                    names.join(", ")
                )
            }
        }
        CertificateError::UnhandledCriticalExtension => {
            "unhandled critical extension in the certificate".to_owned()
        }
        CertificateError::UnknownRevocationStatus
        | CertificateError::ExpiredRevocationList
        | CertificateError::ExpiredRevocationListContext { .. } => {
            "the certificate's revocation status is unknown".to_owned()
        }
        CertificateError::Other(other) => other.to_string(),
        other => other.to_string(),
    }
}

/// A subject alternative name without webpki's debug wrapping:
/// `DnsName("localhost")` → `localhost`, `IpAddress(127.0.0.1)` → `127.0.0.1`.
fn plain_name(presented: &str) -> String {
    let inner = presented
        .strip_prefix("DnsName(")
        .or_else(|| presented.strip_prefix("IpAddress("))
        .and_then(|rest| rest.strip_suffix(')'));
    match inner {
        Some(inner) => inner.trim_matches('"').to_owned(),
        None => presented.to_owned(),
    }
}

/// True when the bytes the server sent were not TLS records at all: the
/// usual cause is a plain-text port (an HTTP server answering the
/// ClientHello with `HTTP/1.1 400`).
pub(crate) fn looks_like_plain_text(err: &rustls::Error) -> bool {
    matches!(
        err,
        rustls::Error::InvalidMessage(
            InvalidMessage::InvalidContentType
                | InvalidMessage::UnknownProtocolVersion
                | InvalidMessage::MessageTooLarge
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_debug_wrapping() {
        assert_eq!(plain_name("DnsName(\"localhost\")"), "localhost");
        assert_eq!(plain_name("IpAddress(127.0.0.1)"), "127.0.0.1");
        assert_eq!(plain_name("IpAddress(::1)"), "::1");
        assert_eq!(plain_name("Unsupported(0x88)"), "Unsupported(0x88)");
    }

    #[test]
    fn problems_read_as_libcurl_words_them() {
        assert_eq!(
            certificate_problem(&CertificateError::UnknownIssuer),
            "unable to get local issuer certificate"
        );
        let names = CertificateError::NotValidForNameContext {
            expected: rustls::pki_types::ServerName::try_from("example.com").unwrap(),
            presented: vec![
                "DnsName(\"localhost\")".into(),
                "IpAddress(127.0.0.1)".into(),
            ],
        };
        let text = certificate_problem(&names);
        assert!(
            text.ends_with("the certificate is for localhost, 127.0.0.1"),
            "{text}"
        );
        assert!(!text.contains("DnsName"), "{text}");
    }
}
