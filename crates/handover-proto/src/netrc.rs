//! `.netrc` files (`CURLOPT_NETRC`, `CURLOPT_NETRC_FILE`): the login and
//! password for a host, as libcurl reads them.
//!
//! ```text
//! machine example.com login alice password s3cret
//! machine other.example
//!     login bob
//!     password "two words"
//! default login anonymous password guest
//! macdef init        (a macro: skipped up to the next empty line)
//! ```
//!
//! Tokens are separated by any white space; a token may be quoted (`"`),
//! with `\"` and `\\` inside. The first `machine` entry naming the host
//! wins (host names compare case-insensitively); `default` matches any host
//! and only counts when no `machine` entry does.

/// The credentials a `.netrc` text gives for `host`, as (login, password):
/// with `login` given (a user name from the URL), only an entry for that
/// login counts. `None` when nothing matches.
///
/// # Examples
///
/// ```
/// use handover_proto::netrc::lookup;
///
/// let text = "machine api.example.com login alice password s3cret\n\
///             default login anonymous password guest\n";
/// assert_eq!(
///     lookup(text, "API.example.com", None),
///     Some(("alice".to_owned(), "s3cret".to_owned()))
/// );
/// assert_eq!(lookup(text, "other.example", None).unwrap().0, "anonymous");
/// assert_eq!(lookup(text, "api.example.com", Some("bob")), None);
/// ```
pub fn lookup(text: &str, host: &str, login: Option<&str>) -> Option<(String, String)> {
    let mut tokens = Tokens::new(text);
    let mut found = Found::default();
    // The entry being read: `None` before the first and after a macro.
    let mut entry: Option<Entry> = None;
    while let Some(token) = tokens.next() {
        match token.as_str() {
            "machine" => {
                found.close(entry.take(), login);
                let name = tokens.next().unwrap_or_default();
                entry = Some(Entry::new(name.eq_ignore_ascii_case(host), false));
            }
            "default" => {
                found.close(entry.take(), login);
                entry = Some(Entry::new(false, true));
            }
            "login" => {
                if let Some(e) = &mut entry {
                    e.login = tokens.next();
                }
            }
            "password" => {
                if let Some(e) = &mut entry {
                    e.password = tokens.next();
                }
            }
            "account" => {
                let _ = tokens.next();
            }
            "macdef" => {
                found.close(entry.take(), login);
                tokens.skip_macro();
            }
            _ => {}
        }
    }
    found.close(entry, login);
    found.machine.or(found.default)
}

/// One `machine` (or `default`) entry as read so far.
struct Entry {
    for_host: bool,
    is_default: bool,
    login: Option<String>,
    password: Option<String>,
}

impl Entry {
    fn new(for_host: bool, is_default: bool) -> Entry {
        Entry {
            for_host,
            is_default,
            login: None,
            password: None,
        }
    }
}

/// The first matching `machine` entry and the first `default` one.
#[derive(Default)]
struct Found {
    machine: Option<(String, String)>,
    default: Option<(String, String)>,
}

impl Found {
    /// Takes a finished entry into account: it counts when it has a login
    /// (the one asked for, if any) and nothing of its kind came first.
    fn close(&mut self, entry: Option<Entry>, login: Option<&str>) {
        let Some(entry) = entry else {
            return;
        };
        let Some(l) = entry.login else {
            return;
        };
        if login.is_some_and(|want| want != l) {
            return;
        }
        let credentials = (l, entry.password.unwrap_or_default());
        if entry.for_host && self.machine.is_none() {
            self.machine = Some(credentials);
        } else if entry.is_default && self.default.is_none() {
            self.default = Some(credentials);
        }
    }
}

/// The tokens of a `.netrc` text.
struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Tokens<'a> {
        Tokens { rest: text }
    }

    /// Skips a `macdef` body: its name line, then up to an empty line.
    fn skip_macro(&mut self) {
        match self.rest.find("\n\n") {
            Some(end) => self.rest = self.rest.get(end + 2..).unwrap_or_default(),
            None => self.rest = "",
        }
    }
}

impl Iterator for Tokens<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        self.rest = self.rest.trim_start();
        let mut chars = self.rest.char_indices();
        let (_, first) = chars.next()?;
        if first == '"' {
            let mut out = String::new();
            let mut escaped = false;
            for (i, c) in chars {
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
                        self.rest = self.rest.get(i + 1..).unwrap_or_default();
                        return Some(out);
                    }
                    (false, c) => out.push(c),
                }
            }
            self.rest = "";
            return Some(out);
        }
        let end = self
            .rest
            .find(char::is_whitespace)
            .unwrap_or(self.rest.len());
        let token = self.rest.get(..end).unwrap_or_default().to_owned();
        self.rest = self.rest.get(end..).unwrap_or_default();
        Some(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_span_lines_quote_and_skip_macros() {
        let text = "macdef init\ncd /pub\nls\n\nmachine a.test\n  login bob\n  password \"two \\\"words\\\"\"\n\
                    machine b.test login carol\n";
        assert_eq!(
            lookup(text, "a.test", None),
            Some(("bob".to_owned(), "two \"words\"".to_owned()))
        );
        // An entry without a password gives an empty one.
        assert_eq!(
            lookup(text, "b.test", None),
            Some(("carol".to_owned(), String::new()))
        );
        assert_eq!(lookup(text, "init", None), None);
        assert_eq!(lookup("", "a.test", None), None);
        assert_eq!(lookup("machine", "a.test", None), None);
        assert_eq!(lookup("\"unterminated", "a.test", None), None);
    }

    #[test]
    fn the_first_matching_machine_wins_over_default() {
        let text = "default login d password dp\nmachine h login x password 1\nmachine h login y password 2\n";
        assert_eq!(lookup(text, "h", None).unwrap().0, "x");
        assert_eq!(lookup(text, "h", Some("y")).unwrap().1, "2");
        assert_eq!(lookup(text, "elsewhere", None).unwrap().0, "d");
    }
}
