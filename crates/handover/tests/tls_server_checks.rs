//! `ssl_verify_status` (OCSP stapling) and `issuer_cert` against OpenSSL's
//! own server: `openssl s_server -status_file` staples an OCSP response that
//! `openssl ocsp` made for the test CA's server certificate (good, revoked,
//! unknown, tampered), or none.

mod common;

use common::{assert_fails, fetch_page};
use handover::{Easy, SslVersion};
use handover_test_support::peers::TestPki;
use handover_test_support::real_peers::{
    ocsp_response, OcspStatus, OpensslServer, OpensslServerSetup,
};

fn pki() -> &'static TestPki {
    TestPki::shared()
}

/// The s_server stapling `which` response ("good", "revoked", "unknown",
/// "tampered"), or none.
fn server(which: &'static str) -> &'static OpensslServer {
    let pki = pki();
    let response = match which {
        "good" => Some(ocsp_response(pki, OcspStatus::Good)),
        "revoked" => Some(ocsp_response(pki, OcspStatus::Revoked)),
        "unknown" => Some(ocsp_response(pki, OcspStatus::Unknown)),
        "tampered" => {
            // One digit of producedAt changed: still well formed, but no
            // longer what the CA signed.
            let mut response = ocsp_response(pki, OcspStatus::Good);
            let at = response
                .windows(2)
                .position(|w| w == [0x18, 0x0f])
                .expect("a GeneralizedTime in the response");
            response[at + 2 + 13] ^= 1;
            Some(response)
        }
        _ => None,
    };
    OpensslServer::shared(&OpensslServerSetup {
        cert_chain_pem: &pki.server_chain_pem,
        key_pem: &pki.server_key_pem,
        ocsp_response_der: response.as_deref(),
        ..OpensslServerSetup::default()
    })
}

fn fetch(which: &'static str, configure: impl FnOnce(&mut Easy)) -> Result<String, (u32, String)> {
    let url = format!("https://localhost:{}/", server(which).port());
    let pki = pki();
    fetch_page(&url, &pki.write_temp("ca.pem", &pki.ca_pem), configure)
}

#[test]
fn a_stapled_good_status_passes() {
    // TLS 1.3 carries the response in the Certificate message, TLS 1.2 in
    // a CertificateStatus message of its own.
    for max in [SslVersion::Default, SslVersion::Tlsv12] {
        let page = fetch("good", |e| {
            e.ssl_verify_status(true).unwrap();
            e.ssl_min_max_version(SslVersion::Default, max).unwrap();
        })
        .unwrap_or_else(|e| panic!("{max:?}: {e:?}"));
        assert!(page.contains("<HTML>"), "s_server's page: {page}");
    }
}

#[test]
fn revoked_and_unknown_statuses_fail_with_91() {
    let on = |e: &mut Easy| e.ssl_verify_status(true).unwrap();
    assert_fails(
        fetch("revoked", on),
        91,
        "revoked (1); revocation reason: keyCompromise (1)",
    );
    assert_fails(
        fetch("unknown", on),
        91,
        "SSL certificate status: unknown (2)",
    );
}

#[test]
fn no_stapled_response_fails_with_91_only_when_required() {
    assert_fails(
        fetch("none", |e| e.ssl_verify_status(true).unwrap()),
        91,
        "No OCSP response received",
    );
    fetch("none", |_| {}).unwrap();
    // Off (the default), even a revoked status is not looked at, as in libcurl.
    fetch("revoked", |_| {}).unwrap();
}

#[test]
fn a_response_whose_signature_does_not_verify_fails_with_91() {
    assert_fails(
        fetch("tampered", |e| e.ssl_verify_status(true).unwrap()),
        91,
        "OCSP response verification failed",
    );
}

#[test]
fn the_issuer_certificate_must_have_issued_the_servers() {
    let pki = pki();
    fetch("none", |e| {
        e.issuer_cert(pki.write_temp("issuer.pem", &pki.ca_pem))
            .unwrap()
    })
    .unwrap();
    fetch("none", |e| {
        e.issuer_cert_blob(pki.ca_pem.as_bytes()).unwrap()
    })
    .unwrap();
    assert_fails(
        fetch("none", |e| {
            e.issuer_cert(pki.write_temp("other.pem", &pki.other_ca_pem))
                .unwrap()
        }),
        83,
        "SSL: Certificate issuer check failed",
    );
    assert_fails(
        fetch("none", |e| {
            e.issuer_cert("/nonexistent/issuer.pem").unwrap()
        }),
        83,
        "Unable to read issuer cert",
    );
}
