//! A minimal reader of the server's end-entity certificate.
//!
//! TLS verification itself is rustls's job. handover only needs a few
//! fields afterwards: subject, issuer, validity and subjectAltName for
//! libcurl-shaped verbose output (`*  subject: CN=localhost`), and the
//! SubjectPublicKeyInfo for public-key pinning ([`crate::pin`]). This walks
//! just that far into the DER, checking every bound on the way:
//!
//! ```text
//!   Certificate ─> tbsCertificate ─> [version] serial sigAlg issuer validity
//!                                    subject spki [ids] [extensions ─> subjectAltName]
//! ```
//!
//! The structure must be well formed, or the result is an error. The
//! *contents* are rendered leniently: a string in an odd encoding or a time
//! in an odd format is shown as best it can be rather than failing the
//! whole summary. Control characters in names are escaped, so a hostile
//! certificate cannot inject lines into verbose output.

use std::fmt::Write as _;

use crate::der::{self, tag, Reader, Tlv};

/// The fields of a certificate that handover reports or pins.
///
/// # Examples
///
/// ```
/// use handover_proto::x509::summarize;
///
/// // A certificate made for the example with rcgen; in handover, the one
/// // the server sent.
/// let key = rcgen::KeyPair::generate().unwrap();
/// let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
/// let cert = params.self_signed(&key).unwrap();
///
/// let summary = summarize(cert.der())?;
/// assert_eq!(summary.dns_names, ["localhost"]);
/// println!("subject: {}, expires {}", summary.subject, summary.not_after);
/// # Ok::<(), handover_proto::x509::X509Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSummary {
    /// The subject, as `C=US; O=Acme; CN=localhost` in the certificate's
    /// attribute order; unknown attribute types appear as dotted OIDs.
    pub subject: String,
    /// The issuer, in the same form as `subject`.
    pub issuer: String,
    /// Start of validity, as `Nov 25 13:31:58 2026 GMT`.
    pub not_before: String,
    /// End of validity, in the same form as `not_before`.
    pub not_after: String,
    /// End of validity in seconds since the Unix epoch; `None` when the
    /// time is not one this reads (then `not_after` holds its raw text).
    pub not_after_unix: Option<i64>,
    /// The complete DER of the SubjectPublicKeyInfo, as pinning hashes it.
    pub spki: Vec<u8>,
    /// The subjectAltName dNSName entries, in order.
    pub dns_names: Vec<String>,
}

message_error! {
    /// A certificate that could not be read.
    ///
    /// # Examples
    ///
    /// ```
    /// let error = handover_proto::x509::summarize(b"\x30\x05oops").unwrap_err();
    /// println!("{error}"); // bad certificate: ... (names the field)
    /// ```
    X509Error
}

/// subjectAltName, 2.5.29.17.
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
/// Context tags inside TBSCertificate and GeneralName.
const VERSION: u8 = 0xa0;
const ISSUER_UNIQUE_ID: u8 = 0x81;
const SUBJECT_UNIQUE_ID: u8 = 0x82;
const EXTENSIONS: u8 = 0xa3;
const DNS_NAME: u8 = 0x82;
const BIT_STRING: u8 = 0x03;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Reads the summary out of one DER-encoded X.509 certificate.
///
/// Any byte string is accepted: damage (truncation, bad lengths, missing
/// fields, trailing bytes) is an error naming the field where it was found.
pub fn summarize(der: &[u8]) -> Result<CertSummary, X509Error> {
    walk(der).map_err(|reason| X509Error(format!("bad certificate: {reason}")))
}

/// The fields of a certificate, each still DER (`content` of its item):
/// the one walk of the structure that [`summarize`] and
/// [`crate::certinfo::cert_info`] read from.
pub(crate) struct Fields<'a> {
    /// The signed part, whole (what the signature covers).
    pub tbs: Tlv<'a>,
    /// The `[0] version` wrapper, when present (v1 certificates omit it).
    pub version: Option<Tlv<'a>>,
    pub serial: Tlv<'a>,
    pub signature_algorithm: Tlv<'a>,
    pub signature: Tlv<'a>,
    pub issuer: Tlv<'a>,
    pub validity: Tlv<'a>,
    pub subject: Tlv<'a>,
    pub spki: Tlv<'a>,
    pub extensions: Option<Tlv<'a>>,
}

impl<'a> Fields<'a> {
    /// Walks one DER certificate; damage is an error naming the field.
    pub(crate) fn read(bytes: &'a [u8]) -> Result<Fields<'a>, String> {
        let cert = der::single(bytes, tag::SEQUENCE, "Certificate")?;
        let mut outer = Reader::new(cert.content);
        let tbs = outer.read_item(tag::SEQUENCE, "tbsCertificate")?;
        let signature_algorithm = outer.read_item(tag::SEQUENCE, "signatureAlgorithm")?;
        let signature = outer.read_item(BIT_STRING, "signatureValue")?;
        if !outer.is_empty() {
            return Err("Certificate: trailing bytes after the signature".into());
        }
        let mut fields = Reader::new(tbs.content);
        let version = fields.optional(VERSION, "version")?;
        let serial = fields.read_item(tag::INTEGER, "serialNumber")?;
        fields.read_item(tag::SEQUENCE, "signature")?;
        let issuer = fields.read_item(tag::SEQUENCE, "issuer")?;
        let validity = fields.read_item(tag::SEQUENCE, "validity")?;
        let subject = fields.read_item(tag::SEQUENCE, "subject")?;
        let spki = fields.read_item(tag::SEQUENCE, "subjectPublicKeyInfo")?;
        fields.optional(ISSUER_UNIQUE_ID, "issuerUniqueID")?;
        fields.optional(SUBJECT_UNIQUE_ID, "subjectUniqueID")?;
        let extensions = fields.optional(EXTENSIONS, "extensions")?;
        // Fields a later X.509 version might append are skipped, not refused.
        Ok(Fields {
            tbs,
            version,
            serial,
            signature_algorithm,
            signature,
            issuer,
            validity,
            subject,
            spki,
            extensions,
        })
    }
}

fn walk(bytes: &[u8]) -> Result<CertSummary, String> {
    let Fields {
        issuer,
        validity,
        subject,
        spki,
        extensions,
        ..
    } = Fields::read(bytes)?;

    let mut times = Reader::new(validity.content);
    let not_before = read_time(&mut times, "notBefore")?;
    let (not_after, not_after_unix) = read_time_both(&mut times, "notAfter")?;

    let dns_names = match extensions {
        Some(extensions) => read_dns_names(extensions.content)?,
        None => Vec::new(),
    };

    Ok(CertSummary {
        subject: format_name(subject.content).map_err(|e| format!("subject: {e}"))?,
        issuer: format_name(issuer.content).map_err(|e| format!("issuer: {e}"))?,
        not_before,
        not_after,
        not_after_unix,
        spki: spki.raw.to_vec(),
        dns_names,
    })
}

/// `C=US; O=Acme; CN=x`; attributes of one multi-valued RDN joined by `+`.
fn format_name(name: &[u8]) -> Result<String, String> {
    format_name_as(name, "; ", "=")
}

/// A name with `separator` between RDNs and `equals` between an
/// attribute's type and value (OpenSSL's one-line form, which libcurl's
/// certificate info shows, is `C = US, O = Acme, CN = x`).
pub(crate) fn format_name_as(name: &[u8], separator: &str, equals: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rdns = Reader::new(name);
    while !rdns.is_empty() {
        let rdn = rdns.read_item(tag::SET, "RelativeDistinguishedName")?;
        if !out.is_empty() {
            out.push_str(separator);
        }
        let mut attributes = Reader::new(rdn.content);
        let mut first = true;
        while !attributes.is_empty() {
            let attribute = attributes.read_item(tag::SEQUENCE, "AttributeTypeAndValue")?;
            let mut parts = Reader::new(attribute.content);
            let kind = parts.read_item(tag::OID, "attribute type")?;
            let value = parts.read().map_err(|e| format!("attribute value: {e}"))?;
            if !first {
                out.push_str(" + ");
            }
            first = false;
            let dotted = dotted_oid(kind.content)?;
            out.push_str(attribute_name(&dotted).unwrap_or(&dotted));
            out.push_str(equals);
            push_string_value(&mut out, value);
        }
    }
    Ok(out)
}

fn attribute_name(dotted: &str) -> Option<&'static str> {
    Some(match dotted {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "1.2.840.113549.1.9.1" => "emailAddress",
        _ => return None,
    })
}

/// An OBJECT IDENTIFIER's content as `1.2.840.113549`.
pub(crate) fn dotted_oid(content: &[u8]) -> Result<String, String> {
    let mut arcs = Vec::new();
    let mut value: u64 = 0;
    let mut pending = false;
    for &byte in content {
        if value > u64::MAX >> 7 {
            return Err("OID arc too large".into());
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        pending = byte & 0x80 != 0;
        if !pending {
            arcs.push(value);
            value = 0;
        }
    }
    if pending {
        return Err("truncated OID".into());
    }
    let mut arcs = arcs.into_iter();
    // The first encoded number packs the first two arcs as 40 * x + y.
    let first = arcs.next().ok_or("empty OID")?;
    let (x, y) = match first {
        0..=39 => (0, first),
        40..=79 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut out = format!("{x}.{y}");
    for arc in arcs {
        let _ = write!(out, ".{arc}");
    }
    Ok(out)
}

/// Appends a directory string, decoded by its ASN.1 type, control
/// characters escaped; a type that is not a string is shown as `#hex`.
fn push_string_value(out: &mut String, value: Tlv<'_>) {
    const UTF8: u8 = 0x0c;
    const NUMERIC: u8 = 0x12;
    const PRINTABLE: u8 = 0x13;
    const TELETEX: u8 = 0x14;
    const IA5: u8 = 0x16;
    const VISIBLE: u8 = 0x1a;
    const UNIVERSAL: u8 = 0x1c;
    const BMP: u8 = 0x1e;
    match value.tag {
        UTF8 => push_escaped(out, String::from_utf8_lossy(value.content).chars()),
        // Teletex is treated as Latin-1, as most TLS stacks do in practice.
        NUMERIC | PRINTABLE | TELETEX | IA5 | VISIBLE => {
            push_escaped(out, value.content.iter().map(|&b| char::from(b)))
        }
        BMP => {
            let units = value
                .content
                .chunks(2)
                .map(|pair| pair.iter().fold(0u16, |acc, &b| (acc << 8) | u16::from(b)));
            push_escaped(
                out,
                char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)),
            );
        }
        UNIVERSAL => {
            let chars = value.content.chunks(4).map(|quad| {
                let code = quad.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
                char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
            });
            push_escaped(out, chars);
        }
        _ => {
            out.push('#');
            for byte in value.raw {
                let _ = write!(out, "{byte:02x}");
            }
        }
    }
}

pub(crate) fn push_escaped(out: &mut String, chars: impl Iterator<Item = char>) {
    for c in chars {
        if c.is_control() {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
}

pub(crate) fn read_time(reader: &mut Reader<'_>, what: &str) -> Result<String, String> {
    let item = reader.read().map_err(|e| format!("{what}: {e}"))?;
    match item.tag {
        tag::UTC_TIME | tag::GENERALIZED_TIME => Ok(format_time(item.tag, item.content)),
        other => Err(format!("{what}: expected a time, found tag 0x{other:02x}")),
    }
}

/// `Nov 25 13:31:58 2026 GMT` (OpenSSL's and so curl's form), or the raw
/// text, escaped, when it is not a time this understands.
fn format_time(kind: u8, content: &[u8]) -> String {
    parse_time(kind, content).unwrap_or_else(|| {
        let mut raw = String::new();
        push_escaped(&mut raw, content.iter().map(|&b| char::from(b)));
        raw
    })
}

/// A time in both forms: OpenSSL's text and seconds since the epoch.
fn read_time_both(reader: &mut Reader<'_>, what: &str) -> Result<(String, Option<i64>), String> {
    let item = reader.read().map_err(|e| format!("{what}: {e}"))?;
    match item.tag {
        tag::UTC_TIME | tag::GENERALIZED_TIME => Ok((
            format_time(item.tag, item.content),
            time_parts(item.tag, item.content).map(|p| unix_seconds(&p)),
        )),
        other => Err(format!("{what}: expected a time, found tag 0x{other:02x}")),
    }
}

/// Seconds since 1970-01-01T00:00:00Z of a UTC date and time.
fn unix_seconds(p: &TimeParts) -> i64 {
    let days =
        crate::civil::days_from_civil(i64::from(p.year), i64::from(p.month), i64::from(p.day));
    days * 86_400 + i64::from(p.hour) * 3600 + i64::from(p.minute) * 60 + i64::from(p.second)
}

/// A certificate time's fields.
struct TimeParts {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

fn parse_time(kind: u8, content: &[u8]) -> Option<String> {
    let p = time_parts(kind, content)?;
    let name = MONTHS.get(usize::try_from(p.month).ok()?.checked_sub(1)?)?;
    Some(format!(
        "{name} {:2} {:02}:{:02}:{:02} {} GMT",
        p.day, p.hour, p.minute, p.second, p.year
    ))
}

fn time_parts(kind: u8, content: &[u8]) -> Option<TimeParts> {
    let text = std::str::from_utf8(content).ok()?;
    let (year, rest) = if kind == tag::UTC_TIME {
        // RFC 5280: two-digit years 50..99 are 19xx, 00..49 are 20xx.
        let yy = digits(text.get(..2)?)?;
        (if yy >= 50 { 1900 + yy } else { 2000 + yy }, text.get(2..)?)
    } else {
        (digits(text.get(..4)?)?, text.get(4..)?)
    };
    let body = rest.strip_suffix('Z')?;
    let month = digits(body.get(..2)?)?;
    let day = digits(body.get(2..4)?)?;
    let hour = digits(body.get(4..6)?)?;
    let minute = digits(body.get(6..8)?)?;
    let (second, fraction) = match body.get(8..) {
        Some("") => (0, ""),
        _ => (digits(body.get(8..10)?)?, body.get(10..)?),
    };
    let fraction_ok = fraction.is_empty()
        || (kind == tag::GENERALIZED_TIME
            && fraction
                .strip_prefix('.')
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())));
    let valid = fraction_ok
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour <= 23
        && minute <= 59
        && second <= 60;
    if !valid {
        return None;
    }
    Some(TimeParts {
        year,
        month,
        day,
        hour,
        minute,
        second,
    })
}

/// A run of ASCII digits as a number; `None` for anything else.
fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The dNSName entries of the subjectAltName extension, if present.
/// One extension's `extnID` and `extnValue` contents.
pub(crate) type Extension<'a> = (&'a [u8], &'a [u8]);

/// The extensions of a certificate's `[3] extensions` content, in order
/// (the critical flag read past).
pub(crate) fn extension_list(extensions: &[u8]) -> Result<Vec<Extension<'_>>, String> {
    let list = der::single(extensions, tag::SEQUENCE, "extensions")?;
    let mut items = Reader::new(list.content);
    let mut out = Vec::new();
    while !items.is_empty() {
        let extension = items.read_item(tag::SEQUENCE, "extension")?;
        let mut parts = Reader::new(extension.content);
        let id = parts.read_item(tag::OID, "extension id")?;
        parts.optional(tag::BOOLEAN, "extension critical flag")?;
        let value = parts.read_item(tag::OCTET_STRING, "extension value")?;
        out.push((id.content, value.content));
    }
    Ok(out)
}

fn read_dns_names(extensions: &[u8]) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for (id, value) in extension_list(extensions)? {
        if id != SUBJECT_ALT_NAME {
            continue;
        }
        let general_names = der::single(value, tag::SEQUENCE, "subjectAltName")?;
        let mut general_names = Reader::new(general_names.content);
        while !general_names.is_empty() {
            let name = general_names
                .read()
                .map_err(|e| format!("subjectAltName entry: {e}"))?;
            if name.tag == DNS_NAME {
                let mut text = String::with_capacity(name.content.len());
                // dNSName is IA5 (ASCII); anything else is escaped byte by byte.
                for &byte in name.content {
                    if byte.is_ascii() && !byte.is_ascii_control() {
                        text.push(char::from(byte));
                    } else {
                        let _ = write!(text, "\\x{byte:02x}");
                    }
                }
                names.push(text);
            }
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_count_seconds_since_the_epoch() {
        // The expected values are `date -d … +%s`.
        for (utc, generalized, expected) in [
            ("700101000000Z", "19700101000000Z", 0),
            ("000229000000Z", "20000229000000Z", 951_782_400),
            ("240301123456Z", "20240301123456Z", 1_709_296_496),
            ("500101000000Z", "19500101000000Z", -631_152_000),
        ] {
            let p = time_parts(tag::UTC_TIME, utc.as_bytes()).unwrap();
            assert_eq!(unix_seconds(&p), expected, "{utc}");
            let p = time_parts(tag::GENERALIZED_TIME, generalized.as_bytes()).unwrap();
            assert_eq!(unix_seconds(&p), expected, "{generalized}");
        }
        assert!(
            time_parts(tag::UTC_TIME, b"241301000000Z").is_none(),
            "month 13"
        );
    }
    use crate::testing::{for_each_split, hexdump, Garbage};
    use rcgen::string::{BmpString, Ia5String, PrintableString};
    use rcgen::{
        date_time_ymd, CertificateParams, DistinguishedName, DnType, DnValue, Issuer, KeyPair,
        PublicKeyData,
    };

    struct Generated {
        der: Vec<u8>,
        spki: Vec<u8>,
    }

    fn self_signed() -> Generated {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "*.example.com".to_string(),
        ])
        .unwrap();
        let mut name = DistinguishedName::new();
        name.push(
            DnType::CountryName,
            DnValue::PrintableString(PrintableString::try_from("US").unwrap()),
        );
        name.push(DnType::OrganizationName, "Acme");
        name.push(DnType::CommonName, "localhost");
        params.distinguished_name = name;
        params.not_before = date_time_ymd(2024, 1, 2);
        params.not_after = date_time_ymd(2051, 11, 25);
        let cert = params.self_signed(&key).unwrap();
        Generated {
            der: cert.der().to_vec(),
            spki: key.subject_public_key_info(),
        }
    }

    fn ca_signed() -> Generated {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut ca_name = DistinguishedName::new();
        ca_name.push(DnType::CommonName, "Test CA");
        ca_name.push(DnType::OrganizationalUnitName, "Certs");
        ca_name.push(DnType::LocalityName, "Springfield");
        ca_name.push(DnType::StateOrProvinceName, "Oregon");
        ca_params.distinguished_name = ca_name;
        let issuer = Issuer::new(ca_params, ca_key);

        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["server.test".to_string()]).unwrap();
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "server.test");
        name.push(
            DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]),
            DnValue::Ia5String(Ia5String::try_from("ops@server.test").unwrap()),
        );
        name.push(DnType::CustomDnType(vec![2, 5, 4, 5]), "SN-1");
        name.push(
            DnType::OrganizationName,
            DnValue::BmpString(BmpString::try_from("Grüße").unwrap()),
        );
        params.distinguished_name = name;
        let cert = params.signed_by(&key, &issuer).unwrap();
        Generated {
            der: cert.der().to_vec(),
            spki: key.subject_public_key_info(),
        }
    }

    #[test]
    fn self_signed_certificate_is_summarized() {
        let cert = self_signed();
        let summary =
            summarize(&cert.der).unwrap_or_else(|e| panic!("{e}\n{}", hexdump(&cert.der)));
        assert_eq!(summary.subject, "C=US; O=Acme; CN=localhost");
        assert_eq!(summary.issuer, summary.subject);
        assert_eq!(summary.not_before, "Jan  2 00:00:00 2024 GMT");
        assert_eq!(summary.not_after, "Nov 25 00:00:00 2051 GMT",);
        // date -d '2051-11-25T00:00:00Z' +%s
        assert_eq!(summary.not_after_unix, Some(2_584_483_200));
        assert_eq!(
            summary.not_after, "Nov 25 00:00:00 2051 GMT",
            "GeneralizedTime after 2049"
        );
        assert_eq!(summary.spki, cert.spki);
        assert_eq!(
            summary.dns_names,
            ["localhost", "*.example.com"],
            "IP SANs are not DNS names"
        );
    }

    #[test]
    fn issuer_and_unusual_attributes_are_named() {
        let cert = ca_signed();
        let summary =
            summarize(&cert.der).unwrap_or_else(|e| panic!("{e}\n{}", hexdump(&cert.der)));
        assert_eq!(
            summary.issuer,
            "CN=Test CA; OU=Certs; L=Springfield; ST=Oregon"
        );
        assert_eq!(
            summary.subject,
            "CN=server.test; emailAddress=ops@server.test; 2.5.4.5=SN-1; O=Grüße"
        );
        assert_eq!(summary.dns_names, ["server.test"]);
        assert_eq!(summary.spki, cert.spki);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let cert = self_signed();
        for_each_split(&cert.der, |offset, head, _| {
            let result = summarize(head);
            if offset < cert.der.len() {
                assert!(
                    result.is_err(),
                    "prefix of {offset} bytes parsed\n{}",
                    hexdump(head)
                );
            }
        });
        let mut trailing = cert.der.clone();
        trailing.push(0);
        assert!(summarize(&trailing).is_err());
    }

    #[test]
    fn damaged_certificates_never_panic() {
        let cert = ca_signed();
        for index in 0..cert.der.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut damaged = cert.der.clone();
                if let Some(byte) = damaged.get_mut(index) {
                    *byte ^= flip;
                }
                let _ = summarize(&damaged);
            }
        }
        let mut garbage = Garbage::new(42);
        for round in 0..2000 {
            let len = (garbage.next_u64() % 64) as usize;
            let mut bytes = garbage.bytes(len);
            // Half the inputs start like a certificate so the walk gets deeper.
            if round % 2 == 0 {
                if let Some(first) = bytes.get_mut(0) {
                    *first = 0x30;
                }
                if let Some(second) = bytes.get_mut(1) {
                    *second = u8::try_from(len.saturating_sub(2)).unwrap_or(0);
                }
            }
            assert!(summarize(&bytes).is_err(), "\n{}", hexdump(&bytes));
        }
    }

    #[test]
    fn errors_name_the_field() {
        let err = summarize(&[0x30, 0x03, 0x02, 0x01, 0x00]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("bad certificate: tbsCertificate"),
            "{err}"
        );
        assert!(summarize(&[])
            .unwrap_err()
            .to_string()
            .contains("Certificate"));
    }

    #[test]
    fn times_are_printed_like_openssl() {
        let cases: &[(u8, &str, &str)] = &[
            (tag::UTC_TIME, "500101000000Z", "Jan  1 00:00:00 1950 GMT"),
            (tag::UTC_TIME, "491231235959Z", "Dec 31 23:59:59 2049 GMT"),
            (tag::UTC_TIME, "2611251331Z", "Nov 25 13:31:00 2026 GMT"),
            (
                tag::GENERALIZED_TIME,
                "20261125133158Z",
                "Nov 25 13:31:58 2026 GMT",
            ),
            (
                tag::GENERALIZED_TIME,
                "20261125133158.25Z",
                "Nov 25 13:31:58 2026 GMT",
            ),
            (tag::UTC_TIME, "261325133158Z", "261325133158Z"),
            (tag::UTC_TIME, "260025133158Z", "260025133158Z"),
            (tag::UTC_TIME, "261125133158", "261125133158"),
            (tag::UTC_TIME, "261125133158.5Z", "261125133158.5Z"),
            (tag::UTC_TIME, "26112513315\nZ", "26112513315\\x0aZ"),
            (tag::GENERALIZED_TIME, "2026", "2026"),
            (tag::GENERALIZED_TIME, "", ""),
        ];
        for (kind, input, expected) in cases {
            assert_eq!(
                format_time(*kind, input.as_bytes()),
                *expected,
                "input {input:?}"
            );
        }
    }

    #[test]
    fn oids_are_dotted() {
        assert_eq!(dotted_oid(&[0x55, 0x04, 0x03]).unwrap(), "2.5.4.3");
        assert_eq!(
            dotted_oid(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01]).unwrap(),
            "1.2.840.113549.1.9.1"
        );
        assert_eq!(dotted_oid(&[0x88, 0x37]).unwrap(), "2.999");
        assert!(dotted_oid(&[]).is_err());
        assert!(dotted_oid(&[0x55, 0x84]).is_err());
        assert!(dotted_oid(&[0xff; 12]).is_err());
    }

    #[test]
    fn control_characters_in_names_are_escaped() {
        // SET { SEQUENCE { OID 2.5.4.3, UTF8String "a\nb" } }
        let name = [
            0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x03, b'a', b'\n', b'b',
        ];
        assert_eq!(format_name(&name).unwrap(), "CN=a\\x0ab");
        // A value that is not a string is shown as hex, as OpenSSL does.
        let name = [
            0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x02, 0x01, 0x07,
        ];
        assert_eq!(format_name(&name).unwrap(), "CN=#020107");
    }
}
