//! `.netrc` files (`CURLOPT_NETRC`, `CURLOPT_NETRC_FILE`): the login and
//! password for a host, as libcurl 8 reads them.
//!
//! ```text
//! machine example.com login alice password s3cret
//! # a comment line
//! machine other.example
//!     login bob
//!     password "two words"
//! machine any-user.example password only-a-password
//! default login anonymous password guest
//! macdef init        (a macro: skipped up to the next empty line)
//! ```
//!
//! Tokens are separated by spaces, tabs and line ends; a token may be
//! quoted (`"`), with `\n`, `\r`, `\t` and `\<any>` inside; keywords compare
//! case-insensitively. Entries are read in order and the first that fits
//! wins — a `default` one included, so it belongs last:
//!
//! ```text
//!   entry for the host (machine NAME, or default)
//!     ├─ has a login ── none asked for ──────────────────> it, with its password
//!     │               └ the one asked for, with a password > it
//!     └─ no login, a password ───────────────────────────> the password, for any user
//! ```
//!
//! A quote left open, a token, line or file past libcurl's limits is a
//! syntax error, whatever the host: the caller decides whether that fails
//! the transfer (libcurl: with `CURL_NETRC_REQUIRED`, `CURLE_READ_ERROR`).

use std::fmt;

/// libcurl's limits: the file (comment lines left out), one line (with
/// its line end), one token.
const MAX_FILE: usize = 128 * 1024;
const MAX_LINE: usize = 16 * 1024;
const MAX_TOKEN: usize = 4095;

/// What an entry gives: a login (absent when the entry has none and none
/// was asked for) and a password (absent when the entry has none).
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    /// The user name: the one asked for, else the entry's `login`.
    pub user: Option<String>,
    /// The entry's `password`.
    pub password: Option<String>,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

/// A `.netrc` text that cannot be read: the reason, never a token of it
/// (a token may be a password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetrcError(&'static str);

impl fmt::Display for NetrcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, ".netrc syntax error: {}", self.0)
    }
}

impl std::error::Error for NetrcError {}

/// The credentials a `.netrc` text gives for `host` (compared
/// case-insensitively): with `login` given (a user name from the URL),
/// only an entry for that login with a password, or one without a login,
/// counts. `Ok(None)` when nothing matches.
///
/// # Examples
///
/// ```
/// use handover_proto::netrc::{lookup, Login};
///
/// let text = "machine api.example.com login alice password s3cret\n\
///             machine open.example password any\n\
///             default login anonymous password guest\n";
/// let alice = lookup(text, "API.example.com", None)?.unwrap();
/// assert_eq!(alice.user.as_deref(), Some("alice"));
/// assert_eq!(alice.password.as_deref(), Some("s3cret"));
/// assert_eq!(lookup(text, "other.example", None)?.unwrap().user.as_deref(), Some("anonymous"));
/// // No login in the entry: its password serves whoever asks.
/// let bob = lookup(text, "open.example", Some("bob"))?.unwrap();
/// assert_eq!((bob.user.as_deref(), bob.password.as_deref()), (Some("bob"), Some("any")));
/// assert!(lookup("machine h password \"open", "elsewhere", None).is_err());
/// # Ok::<(), handover_proto::netrc::NetrcError>(())
/// ```
pub fn lookup(text: &str, host: &str, login: Option<&str>) -> Result<Option<Login>, NetrcError> {
    let text = without_comments(text)?;
    let login = login.filter(|l| !l.is_empty());
    let mut tokens = Tokens { rest: &text };
    let mut entry: Option<Entry> = None;
    loop {
        let token = tokens.next()?;
        if matches!(
            token,
            Token::End | Token::Machine | Token::Default | Token::Macdef
        ) {
            if let Some(found) = entry.take().and_then(|e| e.fits(login)) {
                return Ok(Some(found));
            }
        }
        match token {
            Token::End => return Ok(None),
            Token::Machine => {
                // The name is whatever comes next, a keyword's spelling too.
                let name = tokens.literal()?;
                entry = Some(Entry::new(
                    name.is_some_and(|n| n.eq_ignore_ascii_case(host)),
                ));
            }
            Token::Default => entry = Some(Entry::new(true)),
            Token::Login => {
                let value = tokens.literal()?;
                if let Some(e) = &mut entry {
                    e.login = value.or(e.login.take());
                }
            }
            Token::Password => {
                let value = tokens.literal()?;
                if let Some(e) = &mut entry {
                    e.password = value.or(e.password.take());
                }
            }
            Token::Account => {
                tokens.literal()?;
            }
            Token::Macdef => tokens.skip_macro(),
            Token::Other => {}
        }
    }
}

/// The text with its comment lines (`#` first but for blanks) left out,
/// within libcurl's line and file limits.
fn without_comments(text: &str) -> Result<String, NetrcError> {
    let mut kept = String::with_capacity(text.len().min(MAX_FILE));
    for line in text.split_inclusive('\n') {
        // A line is counted with its line end, which the last may lack.
        if line.len() + usize::from(!line.ends_with('\n')) > MAX_LINE - 1 {
            return Err(NetrcError("a line is longer than 16 KiB"));
        }
        let line = line.trim_start_matches([' ', '\t']);
        if !line.starts_with('#') {
            kept.push_str(line);
        }
        if kept.len() >= MAX_FILE {
            return Err(NetrcError("the file is larger than 128 KiB"));
        }
    }
    Ok(kept)
}

/// One `machine` (or `default`) entry as read so far.
struct Entry {
    for_host: bool,
    login: Option<String>,
    password: Option<String>,
}

impl Entry {
    fn new(for_host: bool) -> Entry {
        Entry {
            for_host,
            login: None,
            password: None,
        }
    }

    /// What the finished entry gives when it fits the host and `wanted`.
    fn fits(self, wanted: Option<&str>) -> Option<Login> {
        if !self.for_host {
            return None;
        }
        match (self.login, wanted) {
            (Some(login), None) => Some(Login {
                user: Some(login),
                password: self.password,
            }),
            // The login asked for: only worth it with a password.
            (Some(login), Some(want)) => match self.password {
                Some(password) if login == want => Some(Login {
                    user: Some(login),
                    password: Some(password),
                }),
                _ => None,
            },
            // A password without a login applies to any user.
            (None, want) => self.password.map(|password| Login {
                user: want.map(str::to_owned),
                password: Some(password),
            }),
        }
    }
}

/// A token: a keyword where one may stand, or any other word.
enum Token {
    End,
    Machine,
    Default,
    Login,
    Password,
    Account,
    Macdef,
    /// Junk: skipped.
    Other,
}

/// The tokens of a `.netrc` text.
struct Tokens<'a> {
    rest: &'a str,
}

/// What separates tokens.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

impl Tokens<'_> {
    /// The next token, read as a keyword where its spelling is one.
    fn next(&mut self) -> Result<Token, NetrcError> {
        let Some(word) = self.word()? else {
            return Ok(Token::End);
        };
        let keyword = |k: &str| word.eq_ignore_ascii_case(k);
        Ok(if keyword("machine") {
            Token::Machine
        } else if keyword("default") {
            Token::Default
        } else if keyword("login") {
            Token::Login
        } else if keyword("password") {
            Token::Password
        } else if keyword("account") {
            Token::Account
        } else if keyword("macdef") {
            Token::Macdef
        } else {
            Token::Other
        })
    }

    /// The next token as a value, whatever its spelling; `None` at the end.
    fn literal(&mut self) -> Result<Option<String>, NetrcError> {
        self.word()
    }

    /// The next word, unquoted; `None` at the end of the text.
    fn word(&mut self) -> Result<Option<String>, NetrcError> {
        self.rest = self.rest.trim_start_matches(is_blank);
        let Some(quoted) = self.rest.strip_prefix('"') else {
            if self.rest.is_empty() {
                return Ok(None);
            }
            let end = self.rest.find(is_blank).unwrap_or(self.rest.len());
            let (word, rest) = self.rest.split_at(end);
            self.rest = rest;
            if word.len() > MAX_TOKEN {
                return Err(NetrcError("a token is longer than 4095 bytes"));
            }
            return Ok(Some(word.to_owned()));
        };
        let mut out = String::new();
        let mut escaped = false;
        for (i, c) in quoted.char_indices() {
            match (escaped, c) {
                (true, c) => {
                    out.push(match c {
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        other => other,
                    });
                    escaped = false;
                }
                (false, '\\') => escaped = true,
                (false, '"') => {
                    self.rest = quoted.get(i + 1..).unwrap_or_default();
                    return Ok(Some(out));
                }
                (false, c) => out.push(c),
            }
            if out.len() > MAX_TOKEN {
                return Err(NetrcError("a token is longer than 4095 bytes"));
            }
        }
        Err(NetrcError("a quoted token has no closing quote"))
    }

    /// Skips a `macdef` body: its name line, then up to an empty line
    /// (one that holds nothing but carriage returns).
    fn skip_macro(&mut self) {
        let mut lines = self.rest.split_inclusive('\n');
        let mut skipped = lines.next().map_or(0, str::len);
        for line in lines {
            skipped += line.len();
            if line.trim_start_matches('\r') == "\n" {
                break;
            }
        }
        self.rest = self.rest.get(skipped..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(user: &str, password: &str) -> Option<Login> {
        Some(Login {
            user: Some(user.to_owned()),
            password: Some(password.to_owned()),
        })
    }

    #[test]
    fn entries_span_lines_quote_and_skip_macros() {
        let text = "macdef init\ncd /pub\nls\n\nmachine a.test\n  login bob\n  password \"two \\\"words\\\"\"\n\
                    machine b.test login carol\n";
        assert_eq!(
            lookup(text, "a.test", None),
            Ok(found("bob", "two \"words\""))
        );
        // An entry without a password gives none.
        assert_eq!(
            lookup(text, "b.test", None),
            Ok(Some(Login {
                user: Some("carol".to_owned()),
                password: None
            }))
        );
        assert_eq!(lookup(text, "init", None), Ok(None));
        assert_eq!(lookup("", "a.test", None), Ok(None));
        assert_eq!(lookup("machine", "a.test", None), Ok(None));
        // Keywords in any case; escapes in quotes; CRLF line ends.
        let text = "MACHINE h\r\n\tLogin \"u\\tv\"\r\n PassWord \"a\\nb\\\\\"\r\n";
        assert_eq!(lookup(text, "H", None), Ok(found("u\tv", "a\nb\\")));
        // A macro ends at a line holding only carriage returns.
        let text = "macdef m\r\nmachine h login x password 1\r\n\r\nmachine h login y password 2\n";
        assert_eq!(lookup(text, "h", None), Ok(found("y", "2")));
    }

    #[test]
    fn entries_count_in_file_order_default_too() {
        let text = "machine h login x password 1\nmachine h login y password 2\ndefault login d password dp\n";
        assert_eq!(lookup(text, "h", None), Ok(found("x", "1")));
        assert_eq!(lookup(text, "h", Some("y")), Ok(found("y", "2")));
        assert_eq!(lookup(text, "elsewhere", None), Ok(found("d", "dp")));
        // A default entry first serves every host (libcurl reads in order).
        let text = "default login d password dp\nmachine h login x password 1\n";
        assert_eq!(lookup(text, "h", None), Ok(found("d", "dp")));
    }

    #[test]
    fn an_entry_without_a_login_serves_any_user() {
        // curl's test 684: the password alone, with no user name.
        let text = "machine 127.0.0.1 password 5up3r53cr37\n";
        assert_eq!(
            lookup(text, "127.0.0.1", None),
            Ok(Some(Login {
                user: None,
                password: Some("5up3r53cr37".to_owned())
            }))
        );
        assert_eq!(
            lookup(text, "127.0.0.1", Some("ann")),
            Ok(found("ann", "5up3r53cr37"))
        );
        // An empty user name asks for no particular login.
        assert_eq!(
            lookup(text, "127.0.0.1", Some("")).unwrap().unwrap().user,
            None
        );
        // Neither login nor password: nothing, the search goes on.
        let text = "machine h\nmachine h login z password p\n";
        assert_eq!(lookup(text, "h", None), Ok(found("z", "p")));
    }

    #[test]
    fn a_login_asked_for_needs_its_entry_with_a_password() {
        let text =
            "machine h login ann\nmachine h login bob password b\nmachine h login ann password a\n";
        assert_eq!(lookup(text, "h", Some("ann")), Ok(found("ann", "a")));
        assert_eq!(lookup(text, "h", Some("bob")), Ok(found("bob", "b")));
        assert_eq!(lookup(text, "h", Some("cat")), Ok(None));
    }

    #[test]
    fn comment_lines_are_left_out() {
        let text =
            "# machine h login no password no\n  \t# another\nmachine h login yes password # \n";
        assert_eq!(lookup(text, "h", None), Ok(found("yes", "#")));
    }

    #[test]
    fn broken_files_are_syntax_errors_whatever_the_host() {
        let long = "x".repeat(MAX_TOKEN + 1);
        let longest = "x".repeat(MAX_TOKEN);
        let cases = [
            // curl's test 680: the quote never closes.
            (
                "machine 127.0.0.1 login user1 password \"with spaces and \\\"\\n\\r\\t\\a\n"
                    .to_owned(),
                "no closing quote",
            ),
            ("machine h login \"".to_owned(), "no closing quote"),
            (format!("machine h login {long}"), "longer than 4095"),
            (format!("machine h login \"{long}\""), "longer than 4095"),
            (format!("{}\n", "y".repeat(MAX_LINE)), "longer than 16 KiB"),
            (
                "machine h\n".repeat(MAX_FILE / 10 + 1),
                "larger than 128 KiB",
            ),
        ];
        for (text, reason) in cases {
            for host in ["127.0.0.1", "elsewhere"] {
                let err = lookup(&text, host, None).unwrap_err();
                assert!(err.to_string().contains(reason), "{err} lacks {reason:?}");
            }
        }
        assert_eq!(
            lookup(&format!("machine h login {longest} password p"), "h", None),
            Ok(found(&longest, "p"))
        );
        // The error never shows a token.
        let err = lookup("machine h password \"s3cret", "h", None).unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn every_prefix_of_a_file_reads_or_errors() {
        let text = "machine a login \"q\\\"x\" password p\nmacdef m\nx\n\ndefault login d";
        for end in 0..=text.len() {
            let _ = lookup(&text[..end], "a", None);
            let _ = lookup(&text[end..], "a", Some("q\"x"));
        }
    }
}
