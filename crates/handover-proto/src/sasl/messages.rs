//! What the mechanisms send: the messages made from the credentials,
//! the options and the server's challenges.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};

use super::Sasl;

impl Sasl {
    /// RFC 4616: `authzid NUL user NUL password`.
    pub(super) fn plain(&self) -> Vec<u8> {
        let authzid = self.options.authzid.as_deref().unwrap_or("");
        [authzid, self.user(), self.password()]
            .join("\0")
            .into_bytes()
    }

    /// RFC 2195: `user SP hex(HMAC-MD5(password, challenge))`.
    pub(super) fn cram_md5(&self, challenge: &[u8]) -> Vec<u8> {
        let digest = hmac_md5(self.password().as_bytes(), &[challenge]);
        format!("{} {}", self.user(), hex(&digest)).into_bytes()
    }

    /// RFC 2831 with libcurl's choices: `md5-sess` and `qop=auth` only,
    /// `nc` 1, no authzid, the fields in libcurl's order.
    pub(super) fn digest_md5(&self, challenge: &[u8]) -> Result<String, String> {
        let challenge = DigestMd5Challenge::parse(challenge)?;
        let service = self
            .options
            .service_name
            .as_deref()
            .unwrap_or(self.protocol.service());
        let digest_uri = format!("{service}/{}", self.host);
        let cnonce = self.entropy.cnonce.as_str();
        let nc = "00000001";
        let qop = "auth";

        let mut a1 = Md5::new();
        a1.update(self.user());
        a1.update(":");
        a1.update(&challenge.realm);
        a1.update(":");
        a1.update(self.password());
        let secret = a1.finalize();
        let mut a1 = Md5::new();
        a1.update(secret);
        a1.update(format!(":{}:{cnonce}", challenge.nonce));
        let ha1 = hex(&a1.finalize());
        let ha2 = hex(&Md5::digest(format!("AUTHENTICATE:{digest_uri}")));
        let response = hex(&Md5::digest(format!(
            "{ha1}:{}:{nc}:{cnonce}:{qop}:{ha2}",
            challenge.nonce
        )));
        Ok(format!(
            "username=\"{}\",realm=\"{}\",nonce=\"{}\",cnonce=\"{cnonce}\",nc=\"{nc}\",\
             digest-uri=\"{digest_uri}\",response={response},qop={qop}",
            quote(self.user()),
            quote(&challenge.realm),
            quote(&challenge.nonce),
        ))
    }

    /// RFC 7628's GS2 header and key/values; libcurl leaves the port out
    /// when it is 80 (or unknown).
    pub(super) fn oauthbearer(&self) -> Vec<u8> {
        let (user, host, bearer) = (self.user(), &self.host, self.bearer());
        let message = if self.port == 0 || self.port == 80 {
            format!("n,a={user},\x01host={host}\x01auth=Bearer {bearer}\x01\x01")
        } else {
            let port = self.port;
            format!("n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {bearer}\x01\x01")
        };
        message.into_bytes()
    }

    /// Google's XOAUTH2: `user=… ^A auth=Bearer … ^A ^A`.
    pub(super) fn xoauth2(&self) -> Vec<u8> {
        format!(
            "user={}\x01auth=Bearer {}\x01\x01",
            self.user(),
            self.bearer()
        )
        .into_bytes()
    }
}

/// A base64 challenge (spaces and line ends around it ignored); empty
/// stays empty.
pub(super) fn decode_challenge(challenge: &[u8]) -> Result<Vec<u8>, String> {
    let challenge = challenge.trim_ascii();
    if challenge.is_empty() {
        return Ok(Vec::new());
    }
    STANDARD
        .decode(challenge)
        .map_err(|e| format!("the challenge is not base64 ({e})"))
}

/// What a DIGEST-MD5 challenge says, as far as libcurl reads it.
struct DigestMd5Challenge {
    realm: String,
    nonce: String,
}

impl DigestMd5Challenge {
    /// `key=value` pairs separated by commas, values quoted (with `\`
    /// escapes) or bare. libcurl requires a nonce, `algorithm=md5-sess`
    /// and a qop list with `auth`; the realm defaults to empty.
    fn parse(challenge: &[u8]) -> Result<DigestMd5Challenge, String> {
        if challenge.is_empty() {
            return Err("empty DIGEST-MD5 challenge".into());
        }
        let text = String::from_utf8_lossy(challenge);
        let pairs = digest_pairs(&text);
        let find = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone())
        };
        let nonce = find("nonce").ok_or("DIGEST-MD5 challenge without a nonce")?;
        let algorithm = find("algorithm").ok_or("DIGEST-MD5 challenge without an algorithm")?;
        if algorithm != "md5-sess" {
            return Err(format!(
                "DIGEST-MD5 algorithm {algorithm} (only md5-sess is done)"
            ));
        }
        let qop = find("qop").ok_or("DIGEST-MD5 challenge without qop")?;
        if !qop
            .split(',')
            .any(|q| q.trim().eq_ignore_ascii_case("auth"))
        {
            return Err(format!("DIGEST-MD5 qop {qop} (only auth is done)"));
        }
        Ok(DigestMd5Challenge {
            realm: find("realm").unwrap_or_default(),
            nonce,
        })
    }
}

/// The `key=value` pairs of a DIGEST-MD5 challenge, up to the first
/// syntax error.
pub(super) fn digest_pairs(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        let Some((key, after)) = rest.split_once('=') else {
            return pairs;
        };
        let key = key.trim();
        let mut value = String::new();
        if let Some(quoted) = after.strip_prefix('"') {
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let Some(end) = end else {
                return pairs;
            };
            rest = quoted.get(end..).unwrap_or("");
        } else {
            let end = after.find(',').unwrap_or(after.len());
            value.push_str(after.get(..end).unwrap_or("").trim());
            rest = after.get(end..).unwrap_or("");
        }
        pairs.push((key.to_owned(), value));
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            return pairs;
        }
        if !rest.starts_with(',') {
            return pairs;
        }
    }
}

/// libcurl's quoting for DIGEST-MD5 values: `"` and `\` escaped, bytes
/// outside printable ASCII as `%XX`.
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    // HMAC takes a key of any length: this cannot fail.
    let Ok(mut mac) = Hmac::<Md5>::new_from_slice(key) else {
        return [0; 16];
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}
