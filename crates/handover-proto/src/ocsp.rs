//! A stapled OCSP response (RFC 6960) and what it says about one
//! certificate, for `CURLOPT_SSL_VERIFYSTATUS`.
//!
//! ```text
//!   OCSPResponse ─> responseStatus (must be successful)
//!                └> responseBytes ─> BasicOCSPResponse
//!                     ├─ tbsResponseData ─> responderID, producedAt,
//!                     │                     responses: SingleResponse*
//!                     │                       certID (hash alg, issuer name hash,
//!                     │                       issuer key hash, serial), certStatus,
//!                     │                       thisUpdate, [nextUpdate]
//!                     ├─ signatureAlgorithm, signature   (over tbsResponseData)
//!                     └─ [certs]   a delegated responder's certificate
//! ```
//!
//! This module reads and decides; it verifies no signature. What must be
//! verified, and with which key, comes out as [`Signed`] items
//! ([`Response::signed`], [`certificate_signature`]), which the caller checks
//! with its TLS library's signature algorithms. Time is an argument (Unix
//! seconds), never read here.

use sha1::{Digest, Sha1};
use sha2::Sha256;

use crate::der::{self, tag, Reader, Tlv};
use crate::x509::Fields;

message_error! {
    /// An OCSP response that could not be read or that does not answer
    /// for the certificate.
    ///
    /// # Examples
    ///
    /// ```
    /// let error = handover_proto::ocsp::Response::read(b"\x30\x03\x0a\x01\x06").unwrap_err();
    /// assert!(error.to_string().contains("unauthorized"));
    /// ```
    OcspError
}

/// The clock skew allowed on both sides of a response's validity
/// window, as libcurl allows OpenSSL (5 minutes).
pub const ALLOWED_SKEW_SECS: u64 = 5 * 60;

/// `id-pkix-ocsp-basic`, 1.3.6.1.5.5.7.48.1.1.
const BASIC_RESPONSE: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01];
/// `id-kp-OCSPSigning`, 1.3.6.1.5.5.7.3.9.
const OCSP_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x09];
/// extKeyUsage, 2.5.29.37.
const EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
/// SHA-1 and SHA-256, the hashes a CertID is made with.
const SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];

const ENUMERATED: u8 = 0x0a;
const BIT_STRING: u8 = 0x03;
const EXPLICIT_0: u8 = 0xa0;
const EXPLICIT_1: u8 = 0xa1;
const EXPLICIT_2: u8 = 0xa2;
const GOOD: u8 = 0x80;
const REVOKED: u8 = 0xa1;
const UNKNOWN: u8 = 0x82;

/// A certificate's issuer, as a CertID names it: its subject and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    subject: Vec<u8>,
    spki: Vec<u8>,
}

impl Issuer {
    /// From the issuer's certificate (DER).
    pub fn from_certificate(der: &[u8]) -> Result<Issuer, OcspError> {
        let fields =
            Fields::read(der).map_err(|e| OcspError(format!("issuer certificate: {e}")))?;
        Ok(Issuer {
            subject: fields.subject.raw.to_vec(),
            spki: fields.spki.raw.to_vec(),
        })
    }

    /// From a trust anchor's subject and SubjectPublicKeyInfo, each given
    /// as the content of its SEQUENCE (how webpki keeps them).
    pub fn from_anchor(subject_content: &[u8], spki_content: &[u8]) -> Issuer {
        Issuer {
            subject: sequence(subject_content),
            spki: sequence(spki_content),
        }
    }

    /// The issuer's subject name, DER.
    pub fn subject(&self) -> &[u8] {
        &self.subject
    }

    /// The issuer's key as a signature check needs it.
    pub fn key(&self) -> Result<PublicKey<'_>, OcspError> {
        PublicKey::read(&self.spki)
    }
}

/// A public key: its algorithm and its bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey<'a> {
    /// The AlgorithmIdentifier's content (without its SEQUENCE header).
    pub algorithm: &'a [u8],
    /// The subjectPublicKey bits.
    pub bits: &'a [u8],
}

impl<'a> PublicKey<'a> {
    fn read(spki: &'a [u8]) -> Result<PublicKey<'a>, OcspError> {
        let spki = der::single(spki, tag::SEQUENCE, "subjectPublicKeyInfo").map_err(OcspError)?;
        let mut parts = Reader::new(spki.content);
        let algorithm = parts
            .read_item(tag::SEQUENCE, "algorithm")
            .map_err(OcspError)?;
        let bits = parts
            .read_item(BIT_STRING, "subjectPublicKey")
            .map_err(OcspError)?;
        Ok(PublicKey {
            algorithm: algorithm.content,
            bits: bit_string(bits)?,
        })
    }
}

/// Something signed: the bytes, the signature algorithm (an
/// AlgorithmIdentifier's content) and the signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed<'a> {
    /// What the signature covers.
    pub message: &'a [u8],
    /// The AlgorithmIdentifier's content (without its SEQUENCE header).
    pub algorithm: &'a [u8],
    /// The signature bits.
    pub signature: &'a [u8],
}

/// What a response says about a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertStatus {
    /// Not revoked.
    Good,
    /// Revoked at `at` (Unix seconds), for `reason` (a CRLReason) if given.
    Revoked {
        /// When, in Unix seconds.
        at: u64,
        /// The CRLReason code, when the response gives one.
        reason: Option<u8>,
    },
    /// The responder does not know the certificate.
    Unknown,
}

/// How a response names its signer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponderId<'a> {
    ByName(&'a [u8]),
    ByKey(&'a [u8]),
}

/// One SingleResponse.
#[derive(Debug, Clone, Copy)]
struct Single<'a> {
    hash: &'a [u8],
    issuer_name_hash: &'a [u8],
    issuer_key_hash: &'a [u8],
    serial: &'a [u8],
    status: CertStatus,
    this_update: u64,
    next_update: Option<u64>,
}

/// A successful basic OCSP response, read.
#[derive(Debug, Clone)]
pub struct Response<'a> {
    signed: Signed<'a>,
    responder: ResponderId<'a>,
    singles: Vec<Single<'a>>,
    certs: Vec<&'a [u8]>,
}

impl<'a> Response<'a> {
    /// Reads an OCSPResponse. A response status other than successful is
    /// an error naming it, as is anything but a basic response.
    pub fn read(der: &'a [u8]) -> Result<Response<'a>, OcspError> {
        read_response(der).map_err(|e| OcspError(format!("invalid OCSP response: {e}")))
    }

    /// The response's own signature, to be verified with the responder's
    /// key: the issuer's, or a delegate's ([`Response::delegate`]).
    pub fn signed(&self) -> Signed<'a> {
        self.signed
    }

    /// True when the issuer itself signed the response.
    pub fn signed_by_issuer(&self, issuer: &Issuer) -> Result<bool, OcspError> {
        Ok(match self.responder {
            ResponderId::ByName(name) => name == issuer.subject.as_slice(),
            ResponderId::ByKey(hash) => hash == Sha1::digest(issuer.key()?.bits).as_slice(),
        })
    }

    /// The delegated responder's certificate among those the response
    /// carries: the one its responder ID names, if any.
    pub fn delegate(&self) -> Option<&'a [u8]> {
        self.certs.iter().copied().find(|cert| {
            let Ok(fields) = Fields::read(cert) else {
                return false;
            };
            match self.responder {
                ResponderId::ByName(name) => fields.subject.raw == name,
                ResponderId::ByKey(hash) => PublicKey::read(fields.spki.raw)
                    .is_ok_and(|key| Sha1::digest(key.bits).as_slice() == hash),
            }
        })
    }

    /// The status of `cert` (DER) issued by `issuer`, checked against
    /// `now` (Unix seconds) with [`ALLOWED_SKEW_SECS`] either way.
    pub fn status_of(
        &self,
        cert: &[u8],
        issuer: &Issuer,
        now: u64,
    ) -> Result<CertStatus, OcspError> {
        let fields = Fields::read(cert).map_err(|e| OcspError(format!("certificate: {e}")))?;
        let key = issuer.key()?;
        let single = self
            .singles
            .iter()
            .find(|s| {
                s.serial == fields.serial.content
                    && hash(s.hash, &issuer.subject).is_some_and(|h| h == s.issuer_name_hash)
                    && hash(s.hash, key.bits).is_some_and(|h| h == s.issuer_key_hash)
            })
            .ok_or_else(|| {
                OcspError("the OCSP response has no status for the server's certificate".into())
            })?;
        if single.this_update > now.saturating_add(ALLOWED_SKEW_SECS) {
            return Err(OcspError("the OCSP response is not yet valid".into()));
        }
        if let Some(next) = single.next_update {
            if next.saturating_add(ALLOWED_SKEW_SECS) < now {
                return Err(OcspError("the OCSP response has expired".into()));
            }
        }
        Ok(single.status)
    }
}

/// The signature on a certificate (the server's, or a delegated
/// responder's), and whether it may sign OCSP responses (the
/// `id-kp-OCSPSigning` extended key usage).
pub fn certificate_signature(cert: &[u8]) -> Result<(Signed<'_>, bool), OcspError> {
    let fields = Fields::read(cert).map_err(|e| OcspError(format!("certificate: {e}")))?;
    let signed = Signed {
        message: fields.tbs.raw,
        algorithm: fields.signature_algorithm.content,
        signature: bit_string(fields.signature)?,
    };
    let may_sign = match fields.extensions {
        Some(extensions) => has_ocsp_signing(extensions.content).map_err(OcspError)?,
        None => false,
    };
    Ok((signed, may_sign))
}

/// The issuer name (DER) a certificate (DER) carries.
pub fn issuer_name(cert: &[u8]) -> Result<&[u8], OcspError> {
    let fields = Fields::read(cert).map_err(|e| OcspError(format!("certificate: {e}")))?;
    Ok(fields.issuer.raw)
}

/// The key of a certificate (DER), as a signature check needs it.
pub fn certificate_key(cert: &[u8]) -> Result<PublicKey<'_>, OcspError> {
    let fields = Fields::read(cert).map_err(|e| OcspError(format!("certificate: {e}")))?;
    PublicKey::read(fields.spki.raw)
}

/// The name libcurl (OpenSSL) gives a CRLReason code.
pub fn reason_name(code: u8) -> &'static str {
    match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => "(UNKNOWN)",
    }
}

fn read_response(der: &[u8]) -> Result<Response<'_>, String> {
    let outer = der::single(der, tag::SEQUENCE, "OCSPResponse")?;
    let mut parts = Reader::new(outer.content);
    let status = parts.read_item(ENUMERATED, "responseStatus")?;
    match status.content {
        [0] => {}
        [code] => {
            let name = match code {
                1 => "malformedrequest",
                2 => "internalerror",
                3 => "trylater",
                5 => "sigrequired",
                6 => "unauthorized",
                _ => "(UNKNOWN)",
            };
            return Err(format!("response status {name} ({code})"));
        }
        _ => return Err("responseStatus: not one byte".into()),
    }
    let bytes = parts.read_item(EXPLICIT_0, "responseBytes")?;
    let bytes = der::single(bytes.content, tag::SEQUENCE, "ResponseBytes")?;
    let mut bytes = Reader::new(bytes.content);
    let kind = bytes.read_item(tag::OID, "responseType")?;
    if kind.content != BASIC_RESPONSE {
        return Err("not a basic OCSP response".into());
    }
    let basic = bytes.read_item(tag::OCTET_STRING, "response")?;
    let basic = der::single(basic.content, tag::SEQUENCE, "BasicOCSPResponse")?;
    let mut basic = Reader::new(basic.content);
    let tbs = basic.read_item(tag::SEQUENCE, "tbsResponseData")?;
    let algorithm = basic.read_item(tag::SEQUENCE, "signatureAlgorithm")?;
    let signature = basic.read_item(BIT_STRING, "signature")?;
    let mut certs = Vec::new();
    if let Some(list) = basic.optional(EXPLICIT_0, "certs")? {
        let list = der::single(list.content, tag::SEQUENCE, "certs")?;
        let mut list = Reader::new(list.content);
        while !list.is_empty() {
            certs.push(list.read_item(tag::SEQUENCE, "certificate")?.raw);
        }
    }
    let (responder, singles) = read_response_data(tbs)?;
    Ok(Response {
        signed: Signed {
            message: tbs.raw,
            algorithm: algorithm.content,
            signature: bit_string(signature).map_err(|e| e.0)?,
        },
        responder,
        singles,
        certs,
    })
}

fn read_response_data(tbs: Tlv<'_>) -> Result<(ResponderId<'_>, Vec<Single<'_>>), String> {
    let mut data = Reader::new(tbs.content);
    if let Some(version) = data.optional(EXPLICIT_0, "version")? {
        if version.content != [tag::INTEGER, 1, 0] {
            return Err("unsupported response version".into());
        }
    }
    let responder = match data.read().map_err(|e| format!("responderID: {e}"))? {
        id if id.tag == EXPLICIT_1 => {
            ResponderId::ByName(der::single(id.content, tag::SEQUENCE, "responderID name")?.raw)
        }
        id if id.tag == EXPLICIT_2 => ResponderId::ByKey(
            der::single(id.content, tag::OCTET_STRING, "responderID key hash")?.content,
        ),
        id => return Err(format!("responderID: unexpected tag 0x{:02x}", id.tag)),
    };
    data.read_item(tag::GENERALIZED_TIME, "producedAt")?;
    let responses = data.read_item(tag::SEQUENCE, "responses")?;
    let mut responses = Reader::new(responses.content);
    let mut singles = Vec::new();
    while !responses.is_empty() {
        singles.push(read_single(
            responses.read_item(tag::SEQUENCE, "SingleResponse")?,
        )?);
    }
    Ok((responder, singles))
}

fn read_single(single: Tlv<'_>) -> Result<Single<'_>, String> {
    let mut parts = Reader::new(single.content);
    let id = parts.read_item(tag::SEQUENCE, "certID")?;
    let mut id = Reader::new(id.content);
    let hash_alg = id.read_item(tag::SEQUENCE, "hashAlgorithm")?;
    let hash = Reader::new(hash_alg.content).read_item(tag::OID, "hash algorithm")?;
    let issuer_name_hash = id.read_item(tag::OCTET_STRING, "issuerNameHash")?;
    let issuer_key_hash = id.read_item(tag::OCTET_STRING, "issuerKeyHash")?;
    let serial = id.read_item(tag::INTEGER, "serialNumber")?;
    let status = parts.read().map_err(|e| format!("certStatus: {e}"))?;
    let status = match status.tag {
        GOOD => CertStatus::Good,
        UNKNOWN => CertStatus::Unknown,
        REVOKED => {
            let mut info = Reader::new(status.content);
            let at = time(info.read_item(tag::GENERALIZED_TIME, "revocationTime")?)?;
            let reason = match info.optional(EXPLICIT_0, "revocationReason")? {
                Some(reason) => match der::single(reason.content, ENUMERATED, "CRLReason")?.content
                {
                    [code] => Some(*code),
                    _ => return Err("CRLReason: not one byte".into()),
                },
                None => None,
            };
            CertStatus::Revoked { at, reason }
        }
        other => return Err(format!("certStatus: unexpected tag 0x{other:02x}")),
    };
    let this_update = time(parts.read_item(tag::GENERALIZED_TIME, "thisUpdate")?)?;
    let next_update = match parts.optional(EXPLICIT_0, "nextUpdate")? {
        Some(next) => Some(time(der::single(
            next.content,
            tag::GENERALIZED_TIME,
            "nextUpdate",
        )?)?),
        None => None,
    };
    Ok(Single {
        hash: hash.content,
        issuer_name_hash: issuer_name_hash.content,
        issuer_key_hash: issuer_key_hash.content,
        serial: serial.content,
        status,
        this_update,
        next_update,
    })
}

fn hash(algorithm: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    match algorithm {
        SHA1 => Some(Sha1::digest(data).to_vec()),
        SHA256 => Some(Sha256::digest(data).to_vec()),
        _ => None,
    }
}

fn has_ocsp_signing(extensions: &[u8]) -> Result<bool, String> {
    for (id, value) in crate::x509::extension_list(extensions)? {
        if id != EXT_KEY_USAGE {
            continue;
        }
        let usages = der::single(value, tag::SEQUENCE, "extKeyUsage")?;
        let mut usages = Reader::new(usages.content);
        while !usages.is_empty() {
            if usages.read_item(tag::OID, "key purpose")?.content == OCSP_SIGNING {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// A BIT STRING's bits, which must be whole bytes (keys and signatures).
fn bit_string(item: Tlv<'_>) -> Result<&[u8], OcspError> {
    match item.content.split_first() {
        Some((0, bits)) => Ok(bits),
        _ => Err(OcspError("a BIT STRING that is not whole bytes".into())),
    }
}

/// `content` as the content of a SEQUENCE.
fn sequence(content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag::SEQUENCE];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

/// A GeneralizedTime `YYYYMMDDHHMMSSZ` as Unix seconds.
fn time(item: Tlv<'_>) -> Result<u64, String> {
    let text = item.content;
    let bad = || format!("bad GeneralizedTime {:?}", String::from_utf8_lossy(text));
    if text.len() != 15 || text.last() != Some(&b'Z') {
        return Err(bad());
    }
    let number = |from: usize, len: usize| -> Result<u64, String> {
        let digits = text.get(from..from + len).ok_or_else(bad)?;
        digits.iter().try_fold(0u64, |acc, &d| {
            if d.is_ascii_digit() {
                Ok(acc * 10 + u64::from(d - b'0'))
            } else {
                Err(bad())
            }
        })
    };
    let (year, month, day) = (number(0, 4)?, number(4, 2)?, number(6, 2)?);
    let (hour, minute, second) = (number(8, 2)?, number(10, 2)?, number(12, 2)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err(bad());
    }
    if year < 1970 {
        return Ok(0);
    }
    Ok(days_since_epoch(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
/// (year ≥ 1970).
fn days_since_epoch(year: u64, month: u64, day: u64) -> u64 {
    // Years counted from March, so that the leap day ends a year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let year_of_era = y - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719468: days from 0000-03-01 to 1970-01-01.
    (era * 146_097 + day_of_era).saturating_sub(719_468)
}

#[cfg(test)]
mod tests;
