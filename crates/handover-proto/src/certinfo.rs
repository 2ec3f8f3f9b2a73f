//! `CURLINFO_CERTINFO`: the lines libcurl gives for each certificate of
//! the server's chain, in the shape of its OpenSSL backend — the form C
//! and PHP programs parse:
//!
//! ```text
//! Subject:C = US, O = Acme, CN = localhost
//! Issuer:C = US, O = Acme, CN = Test CA
//! Version:2
//! Serial Number:4a4ea16e76485338
//! Signature Algorithm:ecdsa-with-SHA256
//! Public Key Algorithm:id-ecPublicKey
//! X509v3 Subject Alternative Name:DNS:localhost, IP Address:127.0.0.1
//! Start date:Dec  1 19:18:12 2026 GMT
//! Expire date:Dec  3 19:18:12 2026 GMT
//! Signature:30:45:02:20:...:
//! Cert:-----BEGIN CERTIFICATE-----
//! MIIByz...
//! -----END CERTIFICATE-----
//! ```
//!
//! Extensions are shown for the kinds OpenSSL prints plainly (subject and
//! authority key identifiers, basic constraints, key usage, extended key
//! usage, subject alternative names); others are left out. Like
//! [`crate::x509`], damage in the structure is an error; odd contents are
//! shown as best they can be, with control characters escaped.

use std::fmt::Write as _;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::der::{self, tag, Reader};
use crate::x509::{dotted_oid, format_name_as, push_escaped, read_time, Fields, X509Error};

const BIT_STRING: u8 = 0x03;

/// The certificate-info lines of one DER certificate, each `Name:value`.
///
/// # Examples
///
/// ```
/// use handover_proto::certinfo::cert_info;
///
/// let key = rcgen::KeyPair::generate().unwrap();
/// let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
/// let cert = params.self_signed(&key).unwrap();
///
/// let lines = cert_info(cert.der())?;
/// assert!(lines.iter().any(|l| l == "Public Key Algorithm:id-ecPublicKey"));
/// assert!(lines.iter().any(|l| l == "X509v3 Subject Alternative Name:DNS:localhost"));
/// assert!(lines.last().unwrap().starts_with("Cert:-----BEGIN CERTIFICATE-----\n"));
/// # Ok::<(), handover_proto::x509::X509Error>(())
/// ```
pub fn cert_info(der: &[u8]) -> Result<Vec<String>, X509Error> {
    walk(der).map_err(|reason| X509Error(format!("bad certificate: {reason}")))
}

fn walk(bytes: &[u8]) -> Result<Vec<String>, String> {
    let Fields {
        version,
        serial,
        signature_algorithm,
        signature,
        issuer,
        validity,
        subject,
        spki,
        extensions,
        ..
    } = Fields::read(bytes)?;
    let version = match version {
        Some(v) => {
            let int = der::single(v.content, tag::INTEGER, "version")?;
            int.content
                .iter()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
        }
        None => 0,
    };

    let mut lines = Vec::new();
    let name =
        |n: &[u8], what: &str| format_name_as(n, ", ", " = ").map_err(|e| format!("{what}: {e}"));
    lines.push(format!("Subject:{}", name(subject.content, "subject")?));
    lines.push(format!("Issuer:{}", name(issuer.content, "issuer")?));
    lines.push(format!("Version:{version}"));
    // The serial's magnitude: DER's sign padding is not part of it.
    let magnitude = match serial.content {
        [0, rest @ ..] if !rest.is_empty() => rest,
        all => all,
    };
    lines.push(format!("Serial Number:{}", hex(magnitude, "")));
    let mut algorithm = Reader::new(signature_algorithm.content);
    let algorithm = algorithm.read_item(tag::OID, "signature algorithm")?;
    lines.push(format!(
        "Signature Algorithm:{}",
        algorithm_name(&dotted_oid(algorithm.content)?)
    ));
    let mut key = Reader::new(spki.content);
    let key_algorithm = key.read_item(tag::SEQUENCE, "public key algorithm")?;
    let key_bits = key.read_item(BIT_STRING, "subjectPublicKey")?;
    let key_oid = Reader::new(key_algorithm.content).read_item(tag::OID, "key algorithm")?;
    let key_oid = dotted_oid(key_oid.content)?;
    lines.push(format!("Public Key Algorithm:{}", algorithm_name(&key_oid)));
    if key_oid == "1.2.840.113549.1.1.1" {
        rsa_lines(key_bits.content.get(1..).unwrap_or_default(), &mut lines)?;
    }
    if let Some(extensions) = extensions {
        extension_lines(extensions.content, &mut lines)?;
    }
    let mut times = Reader::new(validity.content);
    lines.push(format!(
        "Start date:{}",
        read_time(&mut times, "notBefore")?
    ));
    lines.push(format!(
        "Expire date:{}",
        read_time(&mut times, "notAfter")?
    ));
    // The signature's bytes after the unused-bits count, each followed by
    // a colon (libcurl's form, trailing colon included).
    let signature_bytes = signature.content.get(1..).unwrap_or_default();
    let mut shown = String::with_capacity(signature_bytes.len() * 3);
    for byte in signature_bytes {
        let _ = write!(shown, "{byte:02x}:");
    }
    lines.push(format!("Signature:{shown}"));
    lines.push(format!("Cert:{}", pem(bytes)));
    Ok(lines)
}

/// `RSA Public Key:<bits>`, then the modulus and exponent as OpenSSL's
/// `BN_print` writes them (upper-case hex, no separators).
fn rsa_lines(key: &[u8], lines: &mut Vec<String>) -> Result<(), String> {
    let rsa = der::single(key, tag::SEQUENCE, "RSAPublicKey")?;
    let mut parts = Reader::new(rsa.content);
    let n = parts.read_item(tag::INTEGER, "RSA modulus")?;
    let e = parts.read_item(tag::INTEGER, "RSA exponent")?;
    let trim = |b: &'_ [u8]| -> Vec<u8> { b.iter().copied().skip_while(|&x| x == 0).collect() };
    let (n, e) = (trim(n.content), trim(e.content));
    let bits = match n.first() {
        Some(&top) => (n.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
        None => 0,
    };
    lines.push(format!("RSA Public Key:{bits}"));
    lines.push(format!("rsa(n):{}", bn_hex(&n)));
    lines.push(format!("rsa(e):{}", bn_hex(&e)));
    Ok(())
}

/// A big number as `BN_print` writes it: upper-case hex, leading zero
/// nibble dropped, `0` for zero.
fn bn_hex(bytes: &[u8]) -> String {
    let text = hex(bytes, "").to_ascii_uppercase();
    let trimmed = text.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn hex(bytes: &[u8], separator: &str) -> String {
    let mut out = String::with_capacity(bytes.len() * (2 + separator.len()));
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// The PEM form, 64 base64 characters a line, as OpenSSL writes it.
fn pem(der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in encoded.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// OpenSSL's names for the algorithms certificates use; others dotted.
fn algorithm_name(dotted: &str) -> &str {
    match dotted {
        "1.2.840.113549.1.1.1" => "rsaEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.10045.2.1" => "id-ecPublicKey",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        other => other,
    }
}

/// The extensions OpenSSL prints plainly, in the certificate's order.
fn extension_lines(extensions: &[u8], lines: &mut Vec<String>) -> Result<(), String> {
    for (id, value) in crate::x509::extension_list(extensions)? {
        let shown = match dotted_oid(id)?.as_str() {
            "2.5.29.14" => Some((
                "Subject Key Identifier",
                key_id(der::single(value, tag::OCTET_STRING, "key identifier")?.content),
            )),
            "2.5.29.35" => Some(("Authority Key Identifier", authority_key_id(value)?)),
            "2.5.29.19" => Some(("Basic Constraints", basic_constraints(value)?)),
            "2.5.29.15" => Some(("Key Usage", key_usage(value)?)),
            "2.5.29.37" => Some(("Extended Key Usage", extended_key_usage(value)?)),
            "2.5.29.17" => Some(("Subject Alternative Name", alt_names(value)?)),
            _ => None,
        };
        if let Some((name, text)) = shown {
            lines.push(format!("X509v3 {name}:{text}"));
        }
    }
    Ok(())
}

/// `7A:9C:...`: upper-case hex with colons.
fn key_id(bytes: &[u8]) -> String {
    hex(bytes, ":").to_ascii_uppercase()
}

fn authority_key_id(value: &[u8]) -> Result<String, String> {
    let id = der::single(value, tag::SEQUENCE, "authorityKeyIdentifier")?;
    let mut parts = Reader::new(id.content);
    // [0] keyIdentifier; the issuer and serial forms are not shown.
    Ok(match parts.optional(0x80, "keyIdentifier")? {
        Some(key) => key_id(key.content),
        None => String::new(),
    })
}

fn basic_constraints(value: &[u8]) -> Result<String, String> {
    let constraints = der::single(value, tag::SEQUENCE, "basicConstraints")?;
    let mut parts = Reader::new(constraints.content);
    let ca = parts
        .optional(tag::BOOLEAN, "cA")?
        .is_some_and(|b| b.content.first().is_some_and(|&v| v != 0));
    let mut text = format!("CA:{}", if ca { "TRUE" } else { "FALSE" });
    if let Some(len) = parts.optional(tag::INTEGER, "pathLenConstraint")? {
        let n = len
            .content
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let _ = write!(text, ", pathlen:{n}");
    }
    Ok(text)
}

fn key_usage(value: &[u8]) -> Result<String, String> {
    const NAMES: [&str; 9] = [
        "Digital Signature",
        "Non Repudiation",
        "Key Encipherment",
        "Data Encipherment",
        "Key Agreement",
        "Certificate Sign",
        "CRL Sign",
        "Encipher Only",
        "Decipher Only",
    ];
    let bits = der::single(value, BIT_STRING, "keyUsage")?;
    let bytes = bits.content.get(1..).unwrap_or_default();
    let set: Vec<&str> = NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            bytes
                .get(i / 8)
                .is_some_and(|byte| byte & (0x80 >> (i % 8)) != 0)
        })
        .map(|(_, name)| *name)
        .collect();
    Ok(set.join(", "))
}

fn extended_key_usage(value: &[u8]) -> Result<String, String> {
    let list = der::single(value, tag::SEQUENCE, "extKeyUsage")?;
    let mut items = Reader::new(list.content);
    let mut names = Vec::new();
    while !items.is_empty() {
        let oid = dotted_oid(items.read_item(tag::OID, "key purpose")?.content)?;
        names.push(match oid.as_str() {
            "1.3.6.1.5.5.7.3.1" => "TLS Web Server Authentication".to_owned(),
            "1.3.6.1.5.5.7.3.2" => "TLS Web Client Authentication".to_owned(),
            "1.3.6.1.5.5.7.3.3" => "Code Signing".to_owned(),
            "1.3.6.1.5.5.7.3.4" => "E-mail Protection".to_owned(),
            "1.3.6.1.5.5.7.3.8" => "Time Stamping".to_owned(),
            "1.3.6.1.5.5.7.3.9" => "OCSP Signing".to_owned(),
            _ => oid,
        });
    }
    Ok(names.join(", "))
}

/// `DNS:a, IP Address:127.0.0.1, email:x@y, URI:...` as OpenSSL prints them.
fn alt_names(value: &[u8]) -> Result<String, String> {
    let list = der::single(value, tag::SEQUENCE, "subjectAltName")?;
    let mut items = Reader::new(list.content);
    let mut names = Vec::new();
    while !items.is_empty() {
        let name = items
            .read()
            .map_err(|e| format!("subjectAltName entry: {e}"))?;
        let text = |prefix: &str| {
            let mut out = prefix.to_owned();
            push_escaped(&mut out, name.content.iter().map(|&b| char::from(b)));
            out
        };
        names.push(match name.tag {
            0x81 => text("email:"),
            0x82 => text("DNS:"),
            0x86 => text("URI:"),
            0x87 => match name.content.len() {
                4 => {
                    let octets: [u8; 4] = name.content.try_into().unwrap_or_default();
                    format!("IP Address:{}", std::net::Ipv4Addr::from(octets))
                }
                16 => {
                    let octets: [u8; 16] = name.content.try_into().unwrap_or_default();
                    // OpenSSL writes every group, upper-case, unabbreviated.
                    let groups: Vec<String> = octets
                        .chunks(2)
                        .map(|g| {
                            format!(
                                "{:X}",
                                (u16::from(g.first().copied().unwrap_or(0)) << 8)
                                    | u16::from(g.get(1).copied().unwrap_or(0))
                            )
                        })
                        .collect();
                    format!("IP Address:{}", groups.join(":"))
                }
                _ => "IP Address:<invalid>".to_owned(),
            },
            _ => "othername:<unsupported>".to_owned(),
        });
    }
    Ok(names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prefix_of_a_certificate_is_an_error_not_a_panic() {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        let der = params.self_signed(&key).unwrap().der().to_vec();
        assert!(cert_info(&der).is_ok());
        for cut in 0..der.len() {
            assert!(cert_info(&der[..cut]).is_err(), "cut {cut}");
        }
    }

    #[test]
    fn ipv6_names_and_big_numbers_print_as_openssl_does() {
        let mut v6 = vec![0x30, 18, 0x87, 16];
        v6.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(alt_names(&v6).unwrap(), "IP Address:2001:DB8:0:0:0:0:0:1");
        assert_eq!(bn_hex(&[0x01, 0x00, 0x01]), "10001");
        assert_eq!(bn_hex(&[]), "0");
    }
}
