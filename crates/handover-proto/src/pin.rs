//! Public-key pinning, with libcurl's `CURLOPT_PINNEDPUBLICKEY` semantics.
//!
//! The option takes either a list of hashes or the name of a file holding
//! the key itself:
//!
//! ```text
//!   "sha256//<base64>;sha256//<base64>"   any listed SHA-256 of the SPKI matches
//!   "/path/to/key.pem" (or .der)          the SPKI must equal the file's key
//! ```
//!
//! Both compare against the DER SubjectPublicKeyInfo of the server's
//! certificate ([`crate::x509::CertSummary::spki`]), so a pin survives
//! certificate renewal as long as the key stays. Reading the file is the
//! caller's job: this module takes its contents as bytes.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine as _};
use sha2::{Digest, Sha256};

use crate::der::{self, tag};

/// The `sha256//` prefix every hash pin starts with.
const HASH_PREFIX: &str = "sha256//";
const PEM_BEGIN: &[u8] = b"-----BEGIN PUBLIC KEY-----";
const PEM_END: &[u8] = b"-----END PUBLIC KEY-----";
/// libcurl refuses key files larger than this (`MAX_PINNED_PUBKEY_SIZE`).
pub const MAX_KEY_FILE_SIZE: usize = 1024 * 1024;

/// Standard alphabet; padding optional because pins are often pasted
/// without the trailing '='.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What a peer's public key must match.
///
/// # Examples
///
/// ```
/// use handover_proto::pin::PinSpec;
///
/// // Stands in for the DER SubjectPublicKeyInfo of a server's certificate.
/// let spki: &[u8] = b"\x30\x03\x02\x01\x05";
///
/// let option = "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= ; \
///               sha256//QXx3Y8TjIKa3R7PLDG0i+TdBspoytIWUuOtMFE/m1yk=";
/// assert!(PinSpec::is_hash_list(option));
/// let pin = PinSpec::parse_hashes(option)?;
/// assert!(pin.matches(spki)); // the second hash is this key's
///
/// // A key file's contents (DER here; PEM works too).
/// let from_file = PinSpec::from_key_file(spki)?;
/// assert!(from_file.matches(spki));
/// # Ok::<(), handover_proto::pin::PinError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinSpec {
    /// SHA-256 digests of acceptable SubjectPublicKeyInfo encodings.
    Hashes(Vec<[u8; 32]>),
    /// The one acceptable SubjectPublicKeyInfo, DER-encoded.
    Key(Vec<u8>),
}

message_error! {
    /// A pin specification or key file that could not be used.
    ///
    /// # Examples
    ///
    /// ```
    /// use handover_proto::pin::PinSpec;
    ///
    /// let error = PinSpec::parse_hashes("sha256//too-short").unwrap_err();
    /// assert!(error.to_string().starts_with("bad pinned public key hash #1"));
    /// ```
    PinError
}

impl PinSpec {
    /// Parses `sha256//<base64>;sha256//<base64>...`; spaces (any ASCII
    /// whitespace) around `;` are tolerated. Every entry must be
    /// `sha256//` followed by the base64 of exactly 32 bytes, or the whole
    /// spec is refused: a typo in a pin should fail loudly, not silently
    /// weaken the pinning.
    pub fn parse_hashes(spec: &str) -> Result<PinSpec, PinError> {
        let hashes = spec
            .split(';')
            .enumerate()
            .map(|(index, entry)| {
                parse_hash(entry.trim_matches(|c: char| c.is_ascii_whitespace())).map_err(|why| {
                    PinError(format!("bad pinned public key hash #{}: {why}", index + 1))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PinSpec::Hashes(hashes))
    }

    /// Reads the contents of a public-key file: PEM
    /// (`-----BEGIN PUBLIC KEY-----`) or raw DER SubjectPublicKeyInfo.
    pub fn from_key_file(bytes: &[u8]) -> Result<PinSpec, PinError> {
        let bad = |why: String| PinError(format!("bad pinned public key file: {why}"));
        if bytes.len() > MAX_KEY_FILE_SIZE {
            return Err(bad(format!(
                "{} bytes is more than the limit of {MAX_KEY_FILE_SIZE}",
                bytes.len()
            )));
        }
        let der = if find(bytes, PEM_BEGIN).is_some() {
            pem_to_der(bytes).map_err(bad)?
        } else if bytes.starts_with(b"-----BEGIN ") {
            return Err(bad("PEM file does not hold a PUBLIC KEY".into()));
        } else {
            bytes.to_vec()
        };
        der::single(&der, tag::SEQUENCE, "SubjectPublicKeyInfo").map_err(bad)?;
        Ok(PinSpec::Key(der))
    }

    /// Whether the option's value is a hash list rather than a file name.
    pub fn is_hash_list(spec: &str) -> bool {
        spec.starts_with(HASH_PREFIX)
    }

    /// Whether the server's SubjectPublicKeyInfo (DER) satisfies the pin.
    pub fn matches(&self, spki_der: &[u8]) -> bool {
        match self {
            PinSpec::Hashes(hashes) => {
                let digest: [u8; 32] = Sha256::digest(spki_der).into();
                hashes.contains(&digest)
            }
            PinSpec::Key(key) => key.as_slice() == spki_der,
        }
    }
}

fn parse_hash(entry: &str) -> Result<[u8; 32], String> {
    let encoded = entry
        .strip_prefix(HASH_PREFIX)
        .ok_or_else(|| format!("does not start with {HASH_PREFIX:?}"))?;
    let bytes = BASE64
        .decode(encoded)
        .map_err(|e| format!("not base64 ({e})"))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{} bytes where a SHA-256 has 32", bytes.len()))
}

/// The DER inside the first `PUBLIC KEY` PEM block.
fn pem_to_der(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let begin = find(bytes, PEM_BEGIN).ok_or("no BEGIN PUBLIC KEY line")?;
    let after_begin = bytes.get(begin + PEM_BEGIN.len()..).unwrap_or_default();
    let end = find(after_begin, PEM_END).ok_or("no END PUBLIC KEY line")?;
    let body = after_begin.get(..end).unwrap_or_default();
    let base64: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if base64.is_empty() {
        return Err("empty PEM block".into());
    }
    BASE64
        .decode(&base64)
        .map_err(|e| format!("PEM body is not base64 ({e})"))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{for_each_split, for_each_str_split, hexdump, Garbage};
    use base64::engine::general_purpose::STANDARD;
    use rcgen::{KeyPair, PublicKeyData};

    fn pin_for(spki: &[u8]) -> String {
        format!("sha256//{}", STANDARD.encode(Sha256::digest(spki)))
    }

    #[test]
    fn hash_lists_parse_and_match() {
        let key = KeyPair::generate().unwrap().subject_public_key_info();
        let other = KeyPair::generate().unwrap().subject_public_key_info();
        let pin = pin_for(&key);
        let unpadded = pin.trim_end_matches('=').to_string();
        let specs = [
            pin.clone(),
            format!("{} ; {pin}", pin_for(&other)),
            format!("{pin};{}", pin_for(&other)),
            unpadded,
        ];
        for spec in specs {
            assert!(PinSpec::is_hash_list(&spec));
            let parsed = PinSpec::parse_hashes(&spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
            assert!(parsed.matches(&key), "{spec}");
        }
        let only_other = PinSpec::parse_hashes(&pin_for(&other)).unwrap();
        assert!(!only_other.matches(&key));
    }

    #[test]
    fn bad_hash_lists_are_refused_with_the_entry_number() {
        let good = pin_for(b"x");
        let cases = [
            ("".to_string(), "#1: does not start"),
            ("sha256//".to_string(), "#1: 0 bytes"),
            ("sha1//AAAA".to_string(), "#1: does not start"),
            (format!("{good};"), "#2: does not start"),
            (format!("{good};;{good}"), "#2"),
            (format!("{good};sha256//AAAA"), "#2: 3 bytes"),
            ("sha256//!!!!".to_string(), "#1: not base64"),
            ("sha256//AAAA AAAA".to_string(), "#1: not base64"),
        ];
        for (spec, reason) in cases {
            let err = PinSpec::parse_hashes(&spec).expect_err(&spec);
            assert!(
                err.to_string().contains(reason),
                "{spec:?}: {err} lacks {reason:?}"
            );
        }
    }

    #[test]
    fn file_names_are_not_hash_lists() {
        for spec in ["/etc/key.pem", "key.der", " sha256//x", "SHA256//x", ""] {
            assert!(!PinSpec::is_hash_list(spec), "{spec}");
        }
    }

    #[test]
    fn key_files_in_pem_and_der_match_the_key() {
        let pair = KeyPair::generate().unwrap();
        let key = pair.subject_public_key_info();
        let other = KeyPair::generate().unwrap().subject_public_key_info();
        let pem = pair.public_key_pem();
        let crlf = pem.replace('\n', "\r\n");
        let with_text = format!("a comment line\n{pem}trailing\n");
        let files: [&[u8]; 4] = [&key, pem.as_bytes(), crlf.as_bytes(), with_text.as_bytes()];
        for file in files {
            let spec =
                PinSpec::from_key_file(file).unwrap_or_else(|e| panic!("{e}\n{}", hexdump(file)));
            assert_eq!(spec, PinSpec::Key(key.clone()));
            assert!(spec.matches(&key));
            assert!(!spec.matches(&other));
        }
    }

    #[test]
    fn bad_key_files_are_refused() {
        let cases: [(&[u8], &str); 7] = [
            (b"", "SubjectPublicKeyInfo"),
            (b"not a key", "SubjectPublicKeyInfo"),
            (b"-----BEGIN PUBLIC KEY-----\nAAAA\n", "no END"),
            (
                b"-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n",
                "empty PEM",
            ),
            (
                b"-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
                "not base64",
            ),
            (
                b"-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n",
                "does not hold a PUBLIC KEY",
            ),
            (
                b"-----BEGIN PUBLIC KEY-----\nAgEA\n-----END PUBLIC KEY-----\n",
                "SubjectPublicKeyInfo",
            ),
        ];
        for (file, reason) in cases {
            let err = PinSpec::from_key_file(file).expect_err(&hexdump(file));
            assert!(
                err.to_string().contains(reason),
                "{err} lacks {reason:?}\n{}",
                hexdump(file)
            );
        }
        let huge = vec![0x30; MAX_KEY_FILE_SIZE + 1];
        assert!(PinSpec::from_key_file(&huge)
            .unwrap_err()
            .to_string()
            .contains("limit"));
    }

    #[test]
    fn every_prefix_and_suffix_of_inputs_is_handled() {
        let pair = KeyPair::generate().unwrap();
        let key = pair.subject_public_key_info();
        let pem = pair.public_key_pem();
        for file in [key.as_slice(), pem.as_bytes()] {
            for_each_split(file, |offset, head, tail| {
                let result = PinSpec::from_key_file(head);
                // A DER key cut short is never a key; a PEM block is whole
                // only once its END line has been read.
                if file == key.as_slice() && offset < file.len() {
                    assert!(result.is_err(), "\n{}", hexdump(head));
                }
                let _ = PinSpec::from_key_file(tail);
            });
        }
        let spec = format!("{} ; {}", pin_for(b"a"), pin_for(b"b"));
        for_each_str_split(&spec, |_, head, tail| {
            let _ = PinSpec::parse_hashes(head);
            let _ = PinSpec::parse_hashes(tail);
        });
    }

    #[test]
    fn garbage_never_panics() {
        let mut garbage = Garbage::new(9);
        for _ in 0..2000 {
            let len = (garbage.next_u64() % 80) as usize;
            let mut bytes = PEM_BEGIN.to_vec();
            bytes.extend(garbage.bytes(len));
            bytes.extend_from_slice(PEM_END);
            let _ = PinSpec::from_key_file(&bytes);
            let _ = PinSpec::from_key_file(&bytes[PEM_BEGIN.len()..]);
            let text = String::from_utf8_lossy(&bytes);
            let _ = PinSpec::parse_hashes(&text);
        }
    }
}
