//! The client certificate in every form libcurl takes (PEM, DER, P12;
//! files and blobs; encrypted keys and their password), presented to
//! OpenSSL's own server (`openssl s_server -Verify 1 -www`), which checks it
//! against the test CA and prints it back in its status page. The key files
//! are made by the `openssl` command line, as a user would make them.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::{assert_fails, fetch_page};
use handover::Easy;
use handover_test_support::peers::TestPki;
use handover_test_support::real_peers::{ClientKeyFiles, OpensslServer, OpensslServerSetup};

const PASSWORD: &str = "s3cret pass";

struct Setup {
    pki: &'static TestPki,
    server: &'static OpensslServer,
    files: ClientKeyFiles,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let pki = TestPki::shared();
        let server = OpensslServer::shared(&OpensslServerSetup {
            cert_chain_pem: &pki.server_chain_pem,
            key_pem: &pki.server_key_pem,
            client_ca_pem: Some(&pki.ca_pem),
            ..OpensslServerSetup::default()
        });
        let files = ClientKeyFiles::make(pki, PASSWORD);
        Setup { pki, server, files }
    })
}

/// A GET of s_server's status page trusting the test CA, configured by
/// `configure`; the page, or the error's code and text.
fn fetch(configure: impl FnOnce(&mut Easy)) -> Result<String, (u32, String)> {
    let s = setup();
    let url = format!("https://localhost:{}/", s.server.port());
    fetch_page(&url, &s.pki.write_temp("ca.pem", &s.pki.ca_pem), configure)
}

/// The page shows the certificate the server verified.
fn presented(page: &str) -> bool {
    page.contains("handover test client")
}

fn assert_presented(result: Result<String, (u32, String)>) {
    match result {
        Ok(page) => assert!(presented(&page), "no client certificate in:\n{page}"),
        Err(e) => panic!("{e:?}\n{}", setup().server.log()),
    }
}

#[test]
fn pem_files_and_an_unencrypted_key() {
    let f = &setup().files;
    assert_presented(fetch(|e| {
        e.ssl_cert(&f.cert_pem).unwrap();
        e.ssl_key(&f.key_pem).unwrap();
    }));
}

#[test]
fn an_encrypted_pkcs8_key_opens_with_its_password_only() {
    let f = &setup().files;
    assert_presented(fetch(|e| {
        e.ssl_cert(&f.cert_pem).unwrap();
        e.ssl_key(&f.key_encrypted).unwrap();
        e.key_password(PASSWORD).unwrap();
    }));
    assert_fails(
        fetch(|e| {
            e.ssl_cert(&f.cert_pem).unwrap();
            e.ssl_key(&f.key_encrypted).unwrap();
            e.key_password("wrong").unwrap();
        }),
        58,
        "wrong key password",
    );
    assert_fails(
        fetch(|e| {
            e.ssl_cert(&f.cert_pem).unwrap();
            e.ssl_key(&f.key_encrypted).unwrap();
        }),
        58,
        "no key password is set",
    );
}

#[test]
fn a_legacy_encrypted_pem_key_is_refused_with_the_way_out() {
    let f = &setup().files;
    assert_fails(
        fetch(|e| {
            e.ssl_cert(&f.cert_pem).unwrap();
            e.ssl_key(&f.key_legacy_encrypted).unwrap();
            e.key_password(PASSWORD).unwrap();
        }),
        58,
        "openssl pkcs8 -topk8",
    );
}

#[test]
fn der_certificate_and_der_keys() {
    let f = &setup().files;
    assert_presented(fetch(|e| {
        e.ssl_cert(&f.cert_der).unwrap();
        e.ssl_cert_type("DER").unwrap();
        e.ssl_key(&f.key_der).unwrap();
        e.ssl_key_type("der").unwrap();
    }));
    assert_presented(fetch(|e| {
        e.ssl_cert(&f.cert_der).unwrap();
        e.ssl_cert_type("DER").unwrap();
        e.ssl_key(&f.key_der_encrypted).unwrap();
        e.ssl_key_type("DER").unwrap();
        e.key_password(PASSWORD).unwrap();
    }));
}

#[test]
fn a_pkcs12_file_holds_certificate_and_key() {
    let f = &setup().files;
    assert_presented(fetch(|e| {
        e.ssl_cert(&f.p12).unwrap();
        e.ssl_cert_type("P12").unwrap();
        e.key_password(PASSWORD).unwrap();
    }));
    assert_fails(
        fetch(|e| {
            e.ssl_cert(&f.p12).unwrap();
            e.ssl_cert_type("P12").unwrap();
            e.key_password("wrong").unwrap();
        }),
        58,
        "wrong password",
    );
}

#[test]
fn blobs_win_over_files() {
    let f = &setup().files;
    let read = |p: &PathBuf| std::fs::read(p).unwrap();
    assert_presented(fetch(|e| {
        // The file names point nowhere: the blobs are used.
        e.ssl_cert("/nonexistent/cert.pem").unwrap();
        e.ssl_key("/nonexistent/key.pem").unwrap();
        e.ssl_cert_blob(&read(&f.cert_pem)).unwrap();
        e.ssl_key_blob(&read(&f.key_encrypted)).unwrap();
        e.key_password(PASSWORD).unwrap();
    }));
    assert_presented(fetch(|e| {
        e.ssl_cert_blob(&read(&f.p12)).unwrap();
        e.ssl_cert_type("P12").unwrap();
        e.key_password(PASSWORD).unwrap();
    }));
    // A key blob without a certificate is a mistake, named.
    assert_fails(
        fetch(|e| {
            e.ssl_key_blob(&read(&f.key_pem)).unwrap();
        }),
        58,
        "without a client certificate",
    );
}

#[test]
fn unknown_and_engine_types_fail_the_transfer_not_the_setter() {
    let f = &setup().files;
    assert_fails(
        fetch(|e| {
            e.ssl_cert(&f.cert_pem).unwrap();
            e.ssl_cert_type("XYZ").unwrap();
        }),
        58,
        "not supported file type 'XYZ' for certificate",
    );
    assert_fails(
        fetch(|e| {
            e.ssl_cert(&f.cert_pem).unwrap();
            e.ssl_key(&f.key_pem).unwrap();
            e.ssl_key_type("ENG").unwrap();
        }),
        58,
        "OpenSSL engine",
    );
}
