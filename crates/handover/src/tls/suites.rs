//! `CURLOPT_SSL_CIPHER_LIST`, `CURLOPT_TLS13_CIPHERS` and
//! `CURLOPT_SSL_EC_CURVES`: lists in OpenSSL's names (or the IANA ones),
//! colon-separated, turned into the rustls cipher suites and key-exchange
//! groups a configuration offers, in the order given. A name rustls has no
//! suite or group for is `SslCipher` (59), as libcurl answers a list its
//! TLS library refuses.

use rustls::crypto::{CryptoProvider, SupportedKxGroup};
use rustls::SupportedCipherSuite;

use crate::error::{Error, ErrorKind};

/// Cipher suites by OpenSSL name and IANA name, as rustls calls them.
const SUITES: &[(&str, &str, &str)] = &[
    (
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_128_GCM_SHA256",
        "TLS13_AES_128_GCM_SHA256",
    ),
    (
        "TLS_AES_256_GCM_SHA384",
        "TLS_AES_256_GCM_SHA384",
        "TLS13_AES_256_GCM_SHA384",
    ),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS13_CHACHA20_POLY1305_SHA256",
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
];

/// Key-exchange groups: the names OpenSSL and curl users write, and
/// rustls's name.
const GROUPS: &[(&[&str], &str)] = &[
    (&["X25519", "x25519"], "X25519"),
    (&["P-256", "prime256v1", "secp256r1"], "secp256r1"),
    (&["P-384", "secp384r1"], "secp384r1"),
];

/// The entries of a colon-separated list (commas and spaces accepted too,
/// as OpenSSL accepts them), empty ones skipped.
fn entries(list: &str) -> impl Iterator<Item = &str> {
    list.split([':', ',', ' ']).filter(|e| !e.is_empty())
}

/// `base` with its cipher suites and groups narrowed to the lists given:
/// `tls12` (`CURLOPT_SSL_CIPHER_LIST`) picks the TLS 1.2 suites, `tls13`
/// (`CURLOPT_TLS13_CIPHERS`) the TLS 1.3 ones, `curves`
/// (`CURLOPT_SSL_EC_CURVES`) the groups; a list not given leaves its part
/// as it is.
pub(crate) fn narrowed(
    base: &CryptoProvider,
    tls12: Option<&str>,
    tls13: Option<&str>,
    curves: Option<&str>,
) -> Result<CryptoProvider, Error> {
    let mut provider = base.clone();
    if tls12.is_some() || tls13.is_some() {
        let is13 = |s: &SupportedCipherSuite| matches!(s, SupportedCipherSuite::Tls13(_));
        let mut suites = Vec::new();
        for (list, want13, option) in [(tls13, true, "TLS 1.3 cipher"), (tls12, false, "cipher")] {
            match list {
                None => suites.extend(
                    base.cipher_suites
                        .iter()
                        .copied()
                        .filter(|s| is13(s) == want13),
                ),
                Some(list) => {
                    for name in entries(list) {
                        let suite = find_suite(&base.cipher_suites, name)
                            .filter(|s| is13(s) == want13)
                            .ok_or_else(|| {
                                Error::new(
                                    ErrorKind::SslCipher,
                                    format!("failed setting {option} list: unknown or unusable {option} '{name}'"),
                                )
                            })?;
                        if !suites
                            .iter()
                            .any(|s: &SupportedCipherSuite| s.suite() == suite.suite())
                        {
                            suites.push(suite);
                        }
                    }
                }
            }
        }
        if suites.is_empty() {
            return Err(Error::new(
                ErrorKind::SslCipher,
                "failed setting cipher list: no cipher suite left",
            ));
        }
        provider.cipher_suites = suites;
    }
    if let Some(list) = curves {
        let mut groups: Vec<&'static dyn SupportedKxGroup> = Vec::new();
        for name in entries(list) {
            let group = find_group(&base.kx_groups, name).ok_or_else(|| {
                Error::new(
                    ErrorKind::SslCipher,
                    format!("failed setting curves list: unknown curve '{name}'"),
                )
            })?;
            groups.push(group);
        }
        if groups.is_empty() {
            return Err(Error::new(
                ErrorKind::SslCipher,
                "failed setting curves list: no curve given",
            ));
        }
        provider.kx_groups = groups;
    }
    Ok(provider)
}

fn find_suite(all: &[SupportedCipherSuite], name: &str) -> Option<SupportedCipherSuite> {
    let (_, _, rustls_name) = SUITES.iter().find(|(openssl, iana, _)| {
        name.eq_ignore_ascii_case(openssl) || name.eq_ignore_ascii_case(iana)
    })?;
    all.iter()
        .copied()
        .find(|s| s.suite().as_str() == Some(rustls_name))
}

fn find_group(
    all: &[&'static dyn SupportedKxGroup],
    name: &str,
) -> Option<&'static dyn SupportedKxGroup> {
    let (_, rustls_name) = GROUPS
        .iter()
        .find(|(names, _)| names.iter().any(|n| n.eq_ignore_ascii_case(name)))?;
    all.iter()
        .copied()
        .find(|g| format!("{:?}", g.name()).eq_ignore_ascii_case(rustls_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> CryptoProvider {
        rustls::crypto::ring::default_provider()
    }

    fn names(p: &CryptoProvider) -> Vec<String> {
        p.cipher_suites
            .iter()
            .map(|s| s.suite().as_str().unwrap_or("?").to_owned())
            .collect()
    }

    #[test]
    fn lists_pick_suites_in_their_order_and_leave_the_other_version_alone() {
        let p = narrowed(
            &base(),
            Some("ECDHE-RSA-AES256-GCM-SHA384:TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
            None,
            None,
        )
        .unwrap();
        let n = names(&p);
        assert_eq!(
            n.iter().filter(|s| s.starts_with("TLS13_")).count(),
            3,
            "{n:?}"
        );
        assert!(n.ends_with(&[
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384".to_owned(),
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".to_owned()
        ]));
        let p = narrowed(&base(), None, Some("TLS_CHACHA20_POLY1305_SHA256"), None).unwrap();
        assert_eq!(names(&p)[0], "TLS13_CHACHA20_POLY1305_SHA256");
        assert_eq!(names(&p).len(), 1 + 6);
    }

    #[test]
    fn unknown_names_are_ssl_cipher_errors() {
        for (tls12, tls13, curves) in [
            (Some("RC4-MD5"), None, None),
            (Some("TLS_AES_128_GCM_SHA256"), None, None), // a 1.3 suite in the 1.2 list
            (None, Some("nope"), None),
            (None, None, Some("P-521")),
            (None, None, Some(":")),
        ] {
            let err = narrowed(&base(), tls12, tls13, curves).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::SslCipher, "{err}");
            assert_eq!(err.code(), 59);
        }
    }

    #[test]
    fn curves_pick_groups() {
        let p = narrowed(&base(), None, None, Some("P-256:x25519")).unwrap();
        let groups: Vec<String> = p
            .kx_groups
            .iter()
            .map(|g| format!("{:?}", g.name()))
            .collect();
        assert_eq!(groups, ["secp256r1", "X25519"]);
    }
}
