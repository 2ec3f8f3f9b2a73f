//! `Proxy-Authenticate` / `WWW-Authenticate` parsing (RFC 9110 §11.2–11.6).
//!
//! ```text
//!   header    = #challenge
//!   challenge = scheme [ 1*SP ( token68 / #auth-param ) ]
//!   auth-param = token BWS "=" BWS ( token / quoted-string )
//! ```
//!
//! The comma separates both parameters and challenges, so after a comma
//! the next item is a parameter when it is `token =`, and the next
//! challenge otherwise. Proxies in the wild bend the grammar (unquoted
//! nonces with `/`, missing spaces after commas), so unquoted values run to
//! the next comma or space; anything that still does not parse is skipped
//! up to the next comma, and the rest of the header is still read.

use super::Method;

/// One challenge from a `Proxy-Authenticate` or `WWW-Authenticate` header.
///
/// # Examples
///
/// ```
/// use handover_proto::auth::{parse_challenges, pick, AuthMask, Method};
///
/// let challenges = parse_challenges([
///     "Digest realm=\"corp, inc\", nonce=\"abc\", qop=\"auth\", Basic realm=\"corp\"",
///     "NTLM",
/// ]);
/// assert_eq!(challenges.len(), 3);
/// assert_eq!(challenges[0].method, Some(Method::Digest));
/// assert_eq!(challenges[0].param("realm"), Some("corp, inc"));
/// // libcurl's preference among what was offered and allowed.
/// assert_eq!(pick(&challenges, AuthMask::ANY, false), Some(Method::Digest));
/// assert_eq!(pick(&challenges, AuthMask::BASIC, false), Some(Method::Basic));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme as sent (`Digest`, `NTLM`, `Bearer`, ...).
    pub scheme: String,
    /// The method the scheme names, if handover knows it.
    pub method: Option<Method>,
    /// The token68 form (`NTLM TlRMTVNTUAACAAAA...`), if the challenge used it.
    pub token68: Option<String>,
    /// The parameters, in order: names lowercased, values unquoted.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// The value of the last parameter called `name` (lowercase).
    pub fn param(&self, name: &str) -> Option<&str> {
        // The last of a repeated parameter counts, as in libcurl, which
        // overwrites as it reads (curl's test 1437: two nonces).
        self.params
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses every challenge in the given header values. One value may carry
/// several challenges (`Digest realm="a", qop="auth", Basic realm="b"`);
/// quoted strings may hold commas and backslash escapes. Syntax errors skip
/// to the next comma; nothing panics.
pub fn parse_challenges<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Challenge> {
    let mut out = Vec::new();
    for value in values {
        Cursor { s: value, pos: 0 }.challenges(&mut out);
    }
    out
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 9110 `token68` characters, before the trailing `=` padding.
fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

/// Header whitespace; CR and LF only appear if the caller kept folded
/// lines, and then they separate like spaces.
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// A position in one header value. Every delimiter is ASCII, so every
/// position the cursor stops at is a character boundary.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    /// Skips whitespace; says whether there was any.
    fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
        self.pos > start
    }

    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&keep) {
            self.pos += 1;
        }
        self.s.get(start..self.pos).unwrap_or("")
    }

    /// Moves to the next comma outside a quoted string (not past it), or
    /// to the end.
    fn skip_to_comma(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b',' => return,
                b'"' => {
                    // An unterminated string runs to the end: nothing left.
                    let _ = self.quoted();
                }
                _ => self.pos += 1,
            }
        }
    }

    /// A quoted string starting at the cursor's `"`, unescaped; `None`
    /// when it never ends (the cursor is then at the end).
    fn quoted(&mut self) -> Option<String> {
        let rest = self.s.get(self.pos + 1..).unwrap_or("");
        let mut out = String::new();
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += 1 + i + 1;
                    return Some(out);
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) => out.push(escaped),
                    None => break,
                },
                c => out.push(c),
            }
        }
        self.pos = self.s.len();
        None
    }

    /// A parameter value: a quoted string, or everything up to the next
    /// comma or whitespace.
    fn value(&mut self) -> Option<String> {
        if self.peek() == Some(b'"') {
            self.quoted()
        } else {
            Some(self.take_while(|b| b != b',' && !is_ws(b)).to_string())
        }
    }

    /// A token68 that makes up the whole rest of the challenge, if there
    /// is one at the cursor; otherwise the cursor does not move.
    fn token68(&mut self) -> Option<String> {
        let start = self.pos;
        let body = self.take_while(is_token68_char);
        if body.is_empty() {
            return None;
        }
        let padded = !self.take_while(|b| b == b'=').is_empty();
        let end = self.pos;
        self.skip_ws();
        let alone = self.at_end() || self.peek() == Some(b',');
        // `realm=, charset=x` is an empty parameter followed by another,
        // not a token68 followed by a broken challenge.
        if alone && !(padded && self.param_follows()) {
            return self.s.get(start..end).map(str::to_string);
        }
        self.pos = start;
        None
    }

    /// Whether `name =` comes after the commas and spaces at the cursor.
    /// The cursor does not move.
    fn param_follows(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(|b| b == b',' || is_ws(b)) {
            self.pos += 1;
        }
        let named = !self.take_while(is_tchar).is_empty();
        self.skip_ws();
        let follows = named && self.peek() == Some(b'=');
        self.pos = start;
        follows
    }

    fn challenges(&mut self, out: &mut Vec<Challenge>) {
        loop {
            while self.peek().is_some_and(|b| b == b',' || is_ws(b)) {
                self.pos += 1;
            }
            if self.at_end() {
                return;
            }
            let scheme = self.take_while(is_tchar);
            if scheme.is_empty() {
                // Not a comma or space: skipping moves past at least it.
                self.skip_to_comma();
                continue;
            }
            let spaced = self.skip_ws();
            let mut challenge = Challenge {
                scheme: scheme.to_string(),
                method: Method::from_scheme(scheme),
                token68: None,
                params: Vec::new(),
            };
            if self.at_end() || self.peek() == Some(b',') {
                out.push(challenge);
                continue;
            }
            if !spaced {
                // `realm="x"` with no scheme before it, or `Basic"x"`.
                self.skip_to_comma();
                continue;
            }
            challenge.token68 = self.token68();
            if challenge.token68.is_none() {
                self.params(&mut challenge.params);
            }
            out.push(challenge);
        }
    }

    /// Parameters up to the start of the next challenge or the end.
    fn params(&mut self, params: &mut Vec<(String, String)>) {
        let mut first = true;
        loop {
            let item_start = self.pos;
            self.skip_ws();
            match self.peek() {
                None => return,
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                Some(_) => {}
            }
            let name = self.take_while(is_tchar);
            self.skip_ws();
            if name.is_empty() || self.peek() != Some(b'=') {
                if first {
                    // `Basic foo bar`: junk where parameters belong.
                    first = false;
                    self.skip_to_comma();
                    continue;
                }
                // Not `name =`: the next challenge starts here.
                self.pos = item_start;
                return;
            }
            first = false;
            self.pos += 1;
            self.skip_ws();
            if let Some(value) = self.value() {
                params.push((name.to_ascii_lowercase(), value));
            }
            self.skip_ws();
            if !self.at_end() && self.peek() != Some(b',') {
                self.skip_to_comma();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{for_each_str_split, Garbage};

    /// `(scheme, token68, params)` for compact expectations.
    type Want<'a> = (&'a str, Option<&'a str>, &'a [(&'a str, &'a str)]);
    /// The same, owning its parameter list, so both sides compare.
    type Seen<'a> = (&'a str, Option<&'a str>, Vec<(&'a str, &'a str)>);

    fn check(header: &str, want: &[Want<'_>]) {
        let got = parse_challenges([header]);
        let got: Vec<Seen<'_>> = got
            .iter()
            .map(|c| {
                (
                    c.scheme.as_str(),
                    c.token68.as_deref(),
                    c.params
                        .iter()
                        .map(|(n, v)| (n.as_str(), v.as_str()))
                        .collect(),
                )
            })
            .collect();
        let want: Vec<Seen<'_>> = want.iter().map(|&(s, t, p)| (s, t, p.to_vec())).collect();
        assert_eq!(got, want, "header: {header:?}");
    }

    #[test]
    fn challenge_table() {
        let cases: &[(&str, &[Want<'_>])] = &[
            (
                "Basic realm=\"proxy\"",
                &[("Basic", None, &[("realm", "proxy")])],
            ),
            ("NTLM", &[("NTLM", None, &[])]),
            ("  Negotiate  ", &[("Negotiate", None, &[])]),
            (
                "NTLM TlRMTVNTUAACAAAA==",
                &[("NTLM", Some("TlRMTVNTUAACAAAA=="), &[])],
            ),
            (
                "NTLM abc==, realm=x",
                &[("NTLM", None, &[("abc", "="), ("realm", "x")])],
            ),
            (
                "Negotiate a+b/c=, Basic realm=x",
                &[
                    ("Negotiate", Some("a+b/c="), &[]),
                    ("Basic", None, &[("realm", "x")]),
                ],
            ),
            (
                "Digest realm=\"a\", qop=\"auth\", Basic realm=\"b\"",
                &[
                    ("Digest", None, &[("realm", "a"), ("qop", "auth")]),
                    ("Basic", None, &[("realm", "b")]),
                ],
            ),
            (
                "Digest realm=\"a, b\", qop=\"auth,auth-int\", nonce=\"x,y\"",
                &[(
                    "Digest",
                    None,
                    &[
                        ("realm", "a, b"),
                        ("qop", "auth,auth-int"),
                        ("nonce", "x,y"),
                    ],
                )],
            ),
            (
                r#"Basic realm="say \"hi\" \\ bye""#,
                &[("Basic", None, &[("realm", r#"say "hi" \ bye"#)])],
            ),
            (
                "Digest REALM = \"r\" , Nonce=abc/def==,algorithm=MD5-sess",
                &[(
                    "Digest",
                    None,
                    &[
                        ("realm", "r"),
                        ("nonce", "abc/def=="),
                        ("algorithm", "MD5-sess"),
                    ],
                )],
            ),
            (
                "Basic, NTLM, Negotiate",
                &[
                    ("Basic", None, &[]),
                    ("NTLM", None, &[]),
                    ("Negotiate", None, &[]),
                ],
            ),
            (
                "Digest realm=\"a\", NTLM, Basic realm=\"b\"",
                &[
                    ("Digest", None, &[("realm", "a")]),
                    ("NTLM", None, &[]),
                    ("Basic", None, &[("realm", "b")]),
                ],
            ),
            (
                ",, Basic realm=x ,,, ,",
                &[("Basic", None, &[("realm", "x")])],
            ),
            // `realm=` alone is a token68 by the grammar; with more after it, a parameter.
            ("Basic realm=", &[("Basic", Some("realm="), &[])]),
            (
                "Basic realm=, charset=x",
                &[("Basic", None, &[("realm", ""), ("charset", "x")])],
            ),
            (
                "Basic realm=\"J\u{e4}s\u{f8}n\"",
                &[("Basic", None, &[("realm", "J\u{e4}s\u{f8}n")])],
            ),
            // Junk is skipped up to the next comma; the rest still counts.
            (
                "Basic foo bar, Digest nonce=n",
                &[("Basic", None, &[]), ("Digest", None, &[("nonce", "n")])],
            ),
            ("realm=\"x\", Basic", &[("Basic", None, &[])]),
            ("\"junk\", NTLM", &[("NTLM", None, &[])]),
            ("=, @@@, Basic", &[("Basic", None, &[])]),
            ("Basic realm=\"unterminated, NTLM", &[("Basic", None, &[])]),
            (
                "Digest realm=a junk, nonce=n",
                &[("Digest", None, &[("realm", "a"), ("nonce", "n")])],
            ),
            ("Basic\"x\", NTLM", &[("NTLM", None, &[])]),
            ("Basic realm=\"x\\", &[("Basic", None, &[])]),
            ("", &[]),
        ];
        for &(header, want) in cases {
            check(header, want);
        }
    }

    #[test]
    fn a_repeated_parameter_counts_by_its_last_value() {
        // curl's test 1437.
        let got = parse_challenges(["Digest realm=\"testrealm\", nonce=\"1\", nonce=\"2\""]);
        assert_eq!(got[0].param("nonce"), Some("2"));
        assert_eq!(got[0].param("realm"), Some("testrealm"));
    }

    #[test]
    fn several_header_values_are_read_in_order() {
        let got = parse_challenges(["Negotiate", "NTLM", "Basic realm=\"x\""]);
        let methods: Vec<_> = got.iter().map(|c| c.method).collect();
        assert_eq!(
            methods,
            [
                Some(Method::Negotiate),
                Some(Method::Ntlm),
                Some(Method::Basic)
            ]
        );
    }

    #[test]
    fn scheme_is_kept_as_sent_and_matched_case_insensitively() {
        let got = parse_challenges(["dIgEsT realm=x, bearer, Foo"]);
        assert_eq!(got[0].scheme, "dIgEsT");
        assert_eq!(got[0].method, Some(Method::Digest));
        assert_eq!(got[1].method, None);
        assert_eq!(got[2].scheme, "Foo");
        assert_eq!(got[0].param("realm"), Some("x"));
        assert_eq!(got[0].param("nonce"), None);
    }

    #[test]
    fn every_prefix_and_suffix_parses_without_panicking() {
        let header = "Digest realm=\"h\u{e9}llo, \\\"w\\\"\", qop=\"auth,auth-int\", \
                      nonce=abc/+==, Basic realm=b, NTLM TlRMTVNT==, Negotiate";
        for_each_str_split(header, |_, head, tail| {
            let _ = parse_challenges([head, tail]);
        });
    }

    #[test]
    fn garbage_parses_without_panicking() {
        let alphabet = b"Basic Digest NTLM=\",\\ \t\r\nrealm\"==/+,";
        let mut garbage = Garbage::new(0x7616);
        for _ in 0..2000 {
            let len = (garbage.next_u64() % 64) as usize;
            let text: String = garbage
                .bytes(len)
                .into_iter()
                .map(|b| char::from(alphabet[usize::from(b) % alphabet.len()]))
                .collect();
            let _ = parse_challenges([text.as_str()]);
            let lossy = String::from_utf8_lossy(&garbage.bytes(len)).into_owned();
            let _ = parse_challenges([lossy.as_str()]);
        }
    }
}
