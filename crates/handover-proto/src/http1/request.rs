//! Request heads, built from libcurl-style options in libcurl's order.
//!
//! ```text
//!   RequestSpec ──> write_request ──> (head bytes, lines for verbose output)
//!                              └───> RequestError (CR/LF/NUL, bad method, target or name)
//! ```
//!
//! Where each line goes, as libcurl's `Curl_http` writes them:
//!
//! 1. the request line;
//! 2. defaults with a fixed place, in this order: `Host`,
//!    `Proxy-Authorization`, `Authorization`, `Range`, `User-Agent`,
//!    `Accept`, `TE`, `Accept-Encoding`, `Referer`, `Proxy-Connection`,
//!    `Transfer-Encoding`, `Alt-Used`, `Cookie`;
//! 3. the caller's other defaults, in the order given (WebSocket's
//!    `Upgrade` and friends);
//! 4. the user's `CURLOPT_HTTPHEADER` lines, in their order and as written;
//! 5. the body's defaults: `Content-Length`, `Content-Type`, `Expect`.
//!
//! A user line named like a default replaces it: the default goes, the
//! user's line is sent in the user's place. `Host` is the exception, as in
//! libcurl: the user's `Host` takes the default's place.

use super::head::is_tchar;

/// An HTTP/1.1 request head, built from libcurl-style options.
///
/// # Examples
///
/// ```
/// use handover_proto::http1::{write_request, RequestSpec};
///
/// let user_lines = ["Accept: application/json".to_string(), "X-Debug;".to_string()];
/// let spec = RequestSpec {
///     method: "GET",
///     target: "/status",
///     host_header: "example.com",
///     user_agent: Some("handover"),
///     referer: None,
///     headers: &user_lines,
///     body_len: None,
///     default_headers: &[("Accept", "*/*")],
/// };
/// let (bytes, lines) = write_request(&spec)?;
/// assert_eq!(
///     String::from_utf8(bytes).unwrap(),
///     "GET /status HTTP/1.1\r\nHost: example.com\r\nUser-Agent: handover\r\n\
///      Accept: application/json\r\nX-Debug:\r\n\r\n"
/// );
/// assert_eq!(lines[0], "GET /status HTTP/1.1");
/// # Ok::<(), handover_proto::http1::RequestError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RequestSpec<'a> {
    /// `GET`, `HEAD`, `POST`, or a custom method (`CURLOPT_CUSTOMREQUEST`);
    /// must be a token.
    pub method: &'a str,
    /// Origin form `/path?q`, or absolute form `http://host/path` for a
    /// request to a proxy (which adds `Proxy-Connection: Keep-Alive`, as
    /// libcurl does); no spaces or control characters.
    pub target: &'a str,
    /// The default `Host` value: `example.com:8080`, `[::1]:8080`.
    pub host_header: &'a str,
    /// `User-Agent` (`CURLOPT_USERAGENT`); none when `None` or empty.
    pub user_agent: Option<&'a str>,
    /// `Referer` (`CURLOPT_REFERER`).
    pub referer: Option<&'a str>,
    /// `CURLOPT_HTTPHEADER` lines: `Name: value` adds, or replaces the
    /// defaults of that name; `Name:` removes them; `Name;` sends `Name:`
    /// with no value. Other lines are ignored, as libcurl ignores them.
    pub headers: &'a [String],
    /// `Some(n)` sends `Content-Length: n` unless the user sends one or a
    /// `Transfer-Encoding`. A `POST` without it counts as `Some(0)`.
    pub body_len: Option<u64>,
    /// Extra defaults (`Accept`, `Authorization`, `Cookie`, WebSocket
    /// `Upgrade` headers...). One named like a built-in default (`Host`,
    /// `User-Agent`, `Accept`, `Referer`, `Proxy-Connection`,
    /// `Content-Length`, `Content-Type`) replaces it; an empty value removes
    /// it without adding a line. User headers replace or remove these too.
    pub default_headers: &'a [(&'a str, &'a str)],
}

message_error! {
    /// A request that cannot be written safely: a CR, LF or NUL in any field
    /// (header injection), or a method, target or header name that would change
    /// the meaning of the head.
    ///
    /// # Examples
    ///
    /// ```
    /// use handover_proto::http1::{write_request, RequestSpec};
    ///
    /// let spec = RequestSpec {
    ///     method: "GET",
    ///     target: "/",
    ///     host_header: "example.com\r\nX-Injected: 1",
    ///     user_agent: None,
    ///     referer: None,
    ///     headers: &[],
    ///     body_len: None,
    ///     default_headers: &[],
    /// };
    /// assert!(write_request(&spec).is_err());
    /// ```
    RequestError
}

/// Defaults libcurl writes at fixed places before the user's lines.
const HEAD_PLACES: [&str; 13] = [
    "Host",
    "Proxy-Authorization",
    "Authorization",
    "Range",
    "User-Agent",
    "Accept",
    "TE",
    "Accept-Encoding",
    "Referer",
    "Proxy-Connection",
    "Transfer-Encoding",
    "Alt-Used",
    "Cookie",
];

/// Defaults libcurl writes after the user's lines: they describe the body.
const TAIL_PLACES: [&str; 3] = ["Content-Length", "Content-Type", "Expect"];

/// Headers whose values verbose output shows as `<hidden>`.
const SECRETS: [&str; 3] = ["Authorization", "Proxy-Authorization", "Cookie"];

/// Where a line goes; lines sort by place, and keep their order within one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Head(usize),
    OtherDefault,
    User,
    Tail(usize),
}

impl Place {
    fn of_default(name: &str) -> Place {
        let find = |places: &[&str]| places.iter().position(|p| p.eq_ignore_ascii_case(name));
        find(&HEAD_PLACES)
            .map(Place::Head)
            .or_else(|| find(&TAIL_PLACES).map(Place::Tail))
            .unwrap_or(Place::OtherDefault)
    }
}

/// One header line of the head being built.
struct Line<'s> {
    place: Place,
    name: &'s str,
    /// The whole line as sent, without CRLF.
    text: String,
    origin: Origin,
}

/// Who asked for a line, which decides what may replace it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// A default of [`write_request`]'s own: the caller's defaults replace it.
    BuiltIn,
    /// One of [`RequestSpec::default_headers`].
    Caller,
    /// A `CURLOPT_HTTPHEADER` line: nothing replaces it.
    User,
}

impl<'s> Line<'s> {
    fn field(name: &'s str, value: &str, origin: Origin) -> Line<'s> {
        Line {
            place: Place::of_default(name),
            name,
            text: format!("{name}: {value}"),
            origin,
        }
    }

    fn is(&self, origin: Origin, name: &str) -> bool {
        self.origin == origin && self.name.eq_ignore_ascii_case(name)
    }
}

/// What one `CURLOPT_HTTPHEADER` or `CURLOPT_PROXYHEADER` line asks for:
/// the one grammar for custom header lines, used for requests and for the
/// `CONNECT` to a proxy alike (see [`parse_custom_headers`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CustomHeader<'s> {
    /// Send a field called `name` with `value` (trimmed); `text` is the
    /// line as written (`Name;` reads `Name:`).
    Send {
        name: &'s str,
        value: &'s str,
        text: String,
    },
    /// Drop the defaults called `name`.
    Remove { name: &'s str },
}

impl<'s> CustomHeader<'s> {
    /// The field the line is about.
    pub(crate) fn name(&self) -> &'s str {
        match self {
            CustomHeader::Send { name, .. } | CustomHeader::Remove { name } => name,
        }
    }
}

/// Writes the request head: the request line, the header lines, and the
/// blank line that ends the head. Returns the bytes and the lines (request
/// line first) for verbose output, where `Authorization`,
/// `Proxy-Authorization` and `Cookie` values read `<hidden>`.
pub fn write_request(spec: &RequestSpec<'_>) -> Result<(Vec<u8>, Vec<String>), RequestError> {
    check_method(spec.method)?;
    check_target(spec.target)?;
    for (what, text) in [
        ("Host value", Some(spec.host_header)),
        ("User-Agent", spec.user_agent),
        ("Referer", spec.referer),
    ] {
        check_text(what, text.unwrap_or_default())?;
    }
    let user = parse_custom_headers(spec.headers, "header line")?;
    let mut lines = built_in_defaults(spec);
    for &(name, value) in spec.default_headers {
        check_name("default header", name)?;
        check_text("default header value", value)?;
        lines.retain(|line| !line.is(Origin::BuiltIn, name));
        if !value.is_empty() {
            lines.push(Line::field(name, value, Origin::Caller));
        }
    }
    apply_user_lines(&mut lines, user);
    let sends = |name: &str| {
        lines
            .iter()
            .any(|line| line.name.eq_ignore_ascii_case(name))
    };
    if sends("Transfer-Encoding") {
        lines.retain(|line| !line.is(Origin::BuiltIn, "Content-Length"));
    }
    lines.sort_by_key(|line| line.place);

    let request_line = format!("{} {} HTTP/1.1", spec.method, spec.target);
    let mut head = Vec::new();
    let mut shown = Vec::with_capacity(lines.len() + 1);
    for text in std::iter::once(&request_line).chain(lines.iter().map(|line| &line.text)) {
        head.extend_from_slice(text.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    shown.push(request_line);
    shown.extend(lines.iter().map(|line| masked(line)));
    Ok((head, shown))
}

/// The defaults libcurl itself would send for `spec`.
fn built_in_defaults<'s>(spec: &RequestSpec<'s>) -> Vec<Line<'s>> {
    let mut lines = vec![Line::field("Host", spec.host_header, Origin::BuiltIn)];
    if let Some(agent) = spec.user_agent.filter(|agent| !agent.is_empty()) {
        lines.push(Line::field("User-Agent", agent, Origin::BuiltIn));
    }
    lines.push(Line::field("Accept", "*/*", Origin::BuiltIn));
    if let Some(referer) = spec.referer {
        lines.push(Line::field("Referer", referer, Origin::BuiltIn));
    }
    if is_absolute_form(spec.target) {
        lines.push(Line::field(
            "Proxy-Connection",
            "Keep-Alive",
            Origin::BuiltIn,
        ));
    }
    let post = spec.method == "POST";
    if let Some(length) = spec.body_len.or(post.then_some(0)) {
        lines.push(Line::field(
            "Content-Length",
            &length.to_string(),
            Origin::BuiltIn,
        ));
    }
    if post {
        lines.push(Line::field(
            "Content-Type",
            "application/x-www-form-urlencoded",
            Origin::BuiltIn,
        ));
    }
    lines
}

/// Drops the defaults the user names and adds the user's lines. The first
/// user line about `Host` decides the `Host` line and, when it sends one,
/// takes the default's place; later `Host` lines are then dropped (libcurl).
fn apply_user_lines<'s>(lines: &mut Vec<Line<'s>>, user: Vec<CustomHeader<'s>>) {
    let mut host_placed = false;
    let mut host_seen = false;
    for user_line in user {
        let name = user_line.name();
        lines.retain(|line| line.origin == Origin::User || !line.name.eq_ignore_ascii_case(name));
        let is_host = name.eq_ignore_ascii_case("Host");
        let first_host = is_host && !host_seen;
        host_seen |= is_host;
        match user_line {
            CustomHeader::Send { .. } if is_host && host_placed => {}
            CustomHeader::Send { name, text, .. } => {
                host_placed |= first_host;
                lines.push(Line {
                    place: if first_host {
                        Place::Head(0)
                    } else {
                        Place::User
                    },
                    name,
                    text,
                    origin: Origin::User,
                });
            }
            CustomHeader::Remove { .. } => {}
        }
    }
}

/// Reads custom header lines (`CURLOPT_HTTPHEADER`, `CURLOPT_PROXYHEADER`)
/// the way libcurl does: `Name: value` (sent), `Name:` with only
/// whitespace after the colon (a removal), `Name;` (sent with no value);
/// lines with neither a colon nor a semicolon, or with text after the
/// semicolon, or with nothing before the colon, are ignored. A CR, LF or
/// NUL anywhere is an error naming the line as `what` N (`header line 2`):
/// it would end the line early.
///
/// Anything else before the colon is the name, sent as written, as libcurl
/// sends it: a name that is not a token (`Bad Name: x`), or a line that
/// starts with a space or tab (an obs-fold continuation of the line before
/// it to the server; curl's test 1147 sends ` And A Funny One : wohoo`).
/// Such a line names no default, so it replaces none.
pub(crate) fn parse_custom_headers<'s>(
    lines: &'s [String],
    what: &str,
) -> Result<Vec<CustomHeader<'s>>, RequestError> {
    let mut parsed = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let label = format!("{what} {}", index + 1);
        check_text(&label, line)?;
        let header = if let Some((name, value)) = line.split_once(':') {
            let value = value.trim_matches([' ', '\t']);
            if value.is_empty() {
                CustomHeader::Remove { name }
            } else {
                CustomHeader::Send {
                    name,
                    value,
                    text: line.clone(),
                }
            }
        } else if let Some(name) = line.strip_suffix(';').filter(|name| !name.contains(';')) {
            CustomHeader::Send {
                name,
                value: "",
                text: format!("{name}:"),
            }
        } else {
            continue;
        };
        if header.name().is_empty() {
            continue;
        }
        parsed.push(header);
    }
    Ok(parsed)
}

/// The line for verbose output: secrets hidden, unless empty.
fn masked(line: &Line<'_>) -> String {
    let secret = SECRETS.iter().any(|s| s.eq_ignore_ascii_case(line.name));
    let value = line
        .text
        .split_once(':')
        .map_or("", |(_, value)| value.trim_matches([' ', '\t']));
    if secret && !value.is_empty() {
        format!("{}: <hidden>", line.name)
    } else {
        line.text.clone()
    }
}

/// `scheme://…`: the absolute form a request to a proxy uses.
fn is_absolute_form(target: &str) -> bool {
    target.split_once("://").is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    })
}

/// No CR, LF or NUL: they would end a line (or the string) early.
fn check_text(what: &str, text: &str) -> Result<(), RequestError> {
    if text.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        Err(RequestError(format!("{what} contains CR, LF or NUL")))
    } else {
        Ok(())
    }
}

fn check_name(what: &str, name: &str) -> Result<(), RequestError> {
    check_text(what, name)?;
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return Err(RequestError(format!(
            "{what}: header name {name:?} is not a token"
        )));
    }
    Ok(())
}

fn check_method(method: &str) -> Result<(), RequestError> {
    check_text("request method", method)?;
    if method.is_empty() {
        return Err(RequestError("empty request method".into()));
    }
    if !method.bytes().all(is_tchar) {
        return Err(RequestError(format!(
            "request method {method:?} is not a token"
        )));
    }
    Ok(())
}

fn check_target(target: &str) -> Result<(), RequestError> {
    check_text("request target", target)?;
    if target.is_empty() {
        return Err(RequestError("empty request target".into()));
    }
    if target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(RequestError(
            "request target contains a space or control character".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{hexdump, Garbage};

    /// A GET for `/` on `example.com` with nothing else set.
    fn spec() -> RequestSpec<'static> {
        RequestSpec {
            method: "GET",
            target: "/",
            host_header: "example.com",
            user_agent: None,
            referer: None,
            headers: &[],
            body_len: None,
            default_headers: &[],
        }
    }

    fn lines(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// Writes `spec` and checks the bytes against `expected` (lines joined
    /// with CRLF, plus the blank line), printing both on a mismatch.
    fn assert_head(spec: &RequestSpec<'_>, expected: &[&str]) -> Vec<String> {
        let (bytes, shown) = write_request(spec).unwrap_or_else(|e| panic!("{e}: {spec:?}"));
        let mut want = expected.join("\r\n").into_bytes();
        want.extend_from_slice(b"\r\n\r\n");
        assert_eq!(
            bytes,
            want,
            "got\n{}want\n{}",
            hexdump(&bytes),
            hexdump(&want)
        );
        assert_eq!(shown.len(), expected.len());
        shown
    }

    #[test]
    fn get_head_and_custom_requests_follow_libcurls_order() {
        let get = RequestSpec {
            target: "/path?q=1",
            host_header: "example.com:8080",
            user_agent: Some("curl/8.5.0"),
            referer: Some("http://ref.example/"),
            ..spec()
        };
        let shown = assert_head(
            &get,
            &[
                "GET /path?q=1 HTTP/1.1",
                "Host: example.com:8080",
                "User-Agent: curl/8.5.0",
                "Accept: */*",
                "Referer: http://ref.example/",
            ],
        );
        assert_eq!(shown[0], "GET /path?q=1 HTTP/1.1");
        assert_eq!(shown[4], "Referer: http://ref.example/");
        assert_head(
            &RequestSpec {
                method: "HEAD",
                ..spec()
            },
            &["HEAD / HTTP/1.1", "Host: example.com", "Accept: */*"],
        );
        assert_head(
            &RequestSpec {
                method: "DELETE",
                user_agent: Some(""),
                ..spec()
            },
            &["DELETE / HTTP/1.1", "Host: example.com", "Accept: */*"],
        );
        assert_head(
            &RequestSpec {
                method: "OPTIONS",
                target: "*",
                ..spec()
            },
            &["OPTIONS * HTTP/1.1", "Host: example.com", "Accept: */*"],
        );
    }

    #[test]
    fn post_adds_length_and_form_type_after_the_user_lines() {
        let user = lines(&["X-Trace: 1"]);
        assert_head(
            &RequestSpec {
                method: "POST",
                user_agent: Some("ua"),
                headers: &user,
                body_len: Some(3),
                ..spec()
            },
            &[
                "POST / HTTP/1.1",
                "Host: example.com",
                "User-Agent: ua",
                "Accept: */*",
                "X-Trace: 1",
                "Content-Length: 3",
                "Content-Type: application/x-www-form-urlencoded",
            ],
        );
        // A POST without a length sends an empty body.
        assert_head(
            &RequestSpec {
                method: "POST",
                ..spec()
            },
            &[
                "POST / HTTP/1.1",
                "Host: example.com",
                "Accept: */*",
                "Content-Length: 0",
                "Content-Type: application/x-www-form-urlencoded",
            ],
        );
        // The user's type replaces the default, in the user's place.
        let json = lines(&["Content-Type: application/json"]);
        assert_head(
            &RequestSpec {
                method: "POST",
                headers: &json,
                body_len: Some(2),
                ..spec()
            },
            &[
                "POST / HTTP/1.1",
                "Host: example.com",
                "Accept: */*",
                "Content-Type: application/json",
                "Content-Length: 2",
            ],
        );
        // Chunked uploads carry no length; removals remove.
        let chunked = lines(&["Transfer-Encoding: chunked", "Content-Type:"]);
        assert_head(
            &RequestSpec {
                method: "POST",
                headers: &chunked,
                body_len: Some(2),
                ..spec()
            },
            &[
                "POST / HTTP/1.1",
                "Host: example.com",
                "Accept: */*",
                "Transfer-Encoding: chunked",
            ],
        );
        let own_length = lines(&["Content-Length: 7"]);
        assert_head(
            &RequestSpec {
                method: "PUT",
                headers: &own_length,
                body_len: Some(2),
                ..spec()
            },
            &[
                "PUT / HTTP/1.1",
                "Host: example.com",
                "Accept: */*",
                "Content-Length: 7",
            ],
        );
        assert_head(
            &RequestSpec {
                method: "PUT",
                body_len: Some(5),
                ..spec()
            },
            &[
                "PUT / HTTP/1.1",
                "Host: example.com",
                "Accept: */*",
                "Content-Length: 5",
            ],
        );
    }

    #[test]
    fn proxy_requests_use_the_absolute_form_and_keep_alive() {
        assert_head(
            &RequestSpec {
                target: "http://example.com/x?y",
                user_agent: Some("ua"),
                ..spec()
            },
            &[
                "GET http://example.com/x?y HTTP/1.1",
                "Host: example.com",
                "User-Agent: ua",
                "Accept: */*",
                "Proxy-Connection: Keep-Alive",
            ],
        );
        let no_pc = lines(&["Proxy-Connection:"]);
        assert_head(
            &RequestSpec {
                target: "ftp://example.com/file",
                headers: &no_pc,
                ..spec()
            },
            &[
                "GET ftp://example.com/file HTTP/1.1",
                "Host: example.com",
                "Accept: */*",
            ],
        );
        // Not absolute forms: a path holding "://", a bad scheme.
        for target in ["/a://b", "1http://x/", "/redirect?to=http://x/"] {
            let (bytes, _) = write_request(&RequestSpec { target, ..spec() }).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains("Proxy-Connection"),
                "{target}"
            );
        }
    }

    #[test]
    fn ipv6_hosts_are_sent_bracketed_as_given() {
        assert_head(
            &RequestSpec {
                host_header: "[::1]:8080",
                ..spec()
            },
            &["GET / HTTP/1.1", "Host: [::1]:8080", "Accept: */*"],
        );
        assert_head(
            &RequestSpec {
                target: "http://[2001:db8::1]/",
                host_header: "[2001:db8::1]",
                ..spec()
            },
            &[
                "GET http://[2001:db8::1]/ HTTP/1.1",
                "Host: [2001:db8::1]",
                "Accept: */*",
                "Proxy-Connection: Keep-Alive",
            ],
        );
    }

    #[test]
    fn user_lines_replace_remove_or_send_empty_headers() {
        let user = lines(&[
            "User-Agent: mine/1.0",
            "accept:",
            "X-Empty;",
            "X-Verbatim:as   written ",
            "X-Dup: 1",
            "X-Dup: 2",
            "no colon or semicolon",
            "X-Later;ignored",
            ":no name",
            ";",
            "Referer:   \t",
        ]);
        assert_head(
            &RequestSpec {
                user_agent: Some("default-agent"),
                referer: Some("http://r/"),
                headers: &user,
                ..spec()
            },
            &[
                "GET / HTTP/1.1",
                "Host: example.com",
                "User-Agent: mine/1.0",
                "X-Empty:",
                "X-Verbatim:as   written ",
                "X-Dup: 1",
                "X-Dup: 2",
            ],
        );
        // A user Host keeps Host's place; later Host lines are dropped.
        let host = lines(&["X-First: 1", "Host: other.example", "Host: third"]);
        assert_head(
            &RequestSpec {
                headers: &host,
                ..spec()
            },
            &[
                "GET / HTTP/1.1",
                "Host: other.example",
                "Accept: */*",
                "X-First: 1",
            ],
        );
        let empty_host = lines(&["Host;"]);
        assert_head(
            &RequestSpec {
                headers: &empty_host,
                ..spec()
            },
            &["GET / HTTP/1.1", "Host:", "Accept: */*"],
        );
        // Removing Host, then adding one: the later line goes in the user's place.
        let host = lines(&["Host:", "X-A: 1", "Host: late"]);
        assert_head(
            &RequestSpec {
                headers: &host,
                ..spec()
            },
            &["GET / HTTP/1.1", "Accept: */*", "X-A: 1", "Host: late"],
        );
    }

    #[test]
    fn caller_defaults_take_libcurls_places_and_yield_to_user_lines() {
        let defaults = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Cookie", "session=s3cr3t"),
            ("Authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l"),
            ("Accept", "application/json"),
            ("Accept-Encoding", "gzip"),
        ];
        let user = lines(&["X-User: 1", "Sec-WebSocket-Version: 8"]);
        let shown = assert_head(
            &RequestSpec {
                user_agent: Some("ua"),
                referer: Some("http://r/"),
                headers: &user,
                default_headers: &defaults,
                ..spec()
            },
            &[
                "GET / HTTP/1.1",
                "Host: example.com",
                "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l",
                "User-Agent: ua",
                "Accept: application/json",
                "Accept-Encoding: gzip",
                "Referer: http://r/",
                "Cookie: session=s3cr3t",
                "Upgrade: websocket",
                "Connection: Upgrade",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                "X-User: 1",
                "Sec-WebSocket-Version: 8",
            ],
        );
        assert_eq!(shown[2], "Authorization: <hidden>");
        assert_eq!(shown[7], "Cookie: <hidden>");
        assert!(!shown.concat().contains("s3cr3t") && !shown.concat().contains("YWxh"));
        // An empty default removes the built-in one; user lines beat defaults.
        let user = lines(&["X-Accept: none", "Upgrade:"]);
        assert_head(
            &RequestSpec {
                headers: &user,
                default_headers: &[("Accept", ""), ("Upgrade", "h2c"), ("Host", "override")],
                ..spec()
            },
            &["GET / HTTP/1.1", "Host: override", "X-Accept: none"],
        );
    }

    #[test]
    fn verbose_lines_hide_credentials_and_cookies() {
        let user = lines(&[
            "Authorization: Bearer t0ken",
            "proxy-authorization:Basic cHJveHk=",
            "cookie: a=1; b=2",
            "Cookie;",
            "X-Other: visible",
        ]);
        let (bytes, shown) = write_request(&RequestSpec {
            headers: &user,
            ..spec()
        })
        .unwrap();
        assert!(String::from_utf8_lossy(&bytes).contains("Bearer t0ken"));
        assert_eq!(
            shown,
            lines(&[
                "GET / HTTP/1.1",
                "Host: example.com",
                "Accept: */*",
                "Authorization: <hidden>",
                "proxy-authorization: <hidden>",
                "cookie: <hidden>",
                "Cookie:",
                "X-Other: visible",
            ])
        );
    }

    #[test]
    fn user_lines_that_are_not_tokens_go_out_as_written() {
        // libcurl sends whatever stands before the colon (curl's test 1147:
        // a line from `-H @file` that starts with a space). Such a name is
        // no default's, so the defaults stay.
        let user = lines(&[
            "One: 1",
            "no-colon",
            "",
            " And A Funny One : wohoo",
            "Bad Name: x",
            "Bad Name;",
            "User-Agent :spaced",
            ": no name",
            "User-Agent:",
        ]);
        assert_head(
            &RequestSpec {
                headers: &user,
                user_agent: Some("curl/8"),
                ..spec()
            },
            &[
                "GET / HTTP/1.1",
                "Host: example.com",
                "Accept: */*",
                "One: 1",
                " And A Funny One : wohoo",
                "Bad Name: x",
                "Bad Name:",
                "User-Agent :spaced",
            ],
        );
    }

    #[test]
    fn injection_and_malformed_fields_are_refused() {
        let bad_line = lines(&["X-Ok: 1", "X-Evil: a\r\nInjected: yes"]);
        let bad_lf = lines(&["X-Evil: a\n"]);
        let bad_nul = lines(&["X-Evil\0;"]);
        let cases: Vec<(RequestSpec<'_>, &str)> = vec![
            (
                RequestSpec {
                    method: "",
                    ..spec()
                },
                "empty request method",
            ),
            (
                RequestSpec {
                    method: "GET / HTTP/1.0\r\nX:",
                    ..spec()
                },
                "request method contains CR, LF or NUL",
            ),
            (
                RequestSpec {
                    method: "GE T",
                    ..spec()
                },
                "not a token",
            ),
            (
                RequestSpec {
                    target: "",
                    ..spec()
                },
                "empty request target",
            ),
            (
                RequestSpec {
                    target: "/a\r\nX: y",
                    ..spec()
                },
                "request target contains CR, LF or NUL",
            ),
            (
                RequestSpec {
                    target: "/a b",
                    ..spec()
                },
                "space or control",
            ),
            (
                RequestSpec {
                    target: "/a\tb",
                    ..spec()
                },
                "space or control",
            ),
            (
                RequestSpec {
                    host_header: "h\r\nX: y",
                    ..spec()
                },
                "Host value contains",
            ),
            (
                RequestSpec {
                    user_agent: Some("a\nb"),
                    ..spec()
                },
                "User-Agent contains",
            ),
            (
                RequestSpec {
                    referer: Some("a\0"),
                    ..spec()
                },
                "Referer contains",
            ),
            (
                RequestSpec {
                    headers: &bad_line,
                    ..spec()
                },
                "header line 2 contains CR, LF or NUL",
            ),
            (
                RequestSpec {
                    headers: &bad_lf,
                    ..spec()
                },
                "header line 1 contains",
            ),
            (
                RequestSpec {
                    headers: &bad_nul,
                    ..spec()
                },
                "header line 1 contains",
            ),
            (
                RequestSpec {
                    default_headers: &[("X-Evil", "a\r\nInjected: yes")],
                    ..spec()
                },
                "default header value contains",
            ),
            (
                RequestSpec {
                    default_headers: &[("X-Evil:", "a")],
                    ..spec()
                },
                "not a token",
            ),
            (
                RequestSpec {
                    default_headers: &[("", "a")],
                    ..spec()
                },
                "not a token",
            ),
        ];
        for (spec, needle) in cases {
            let Err(RequestError(message)) = write_request(&spec) else {
                panic!("accepted {spec:?}");
            };
            assert!(message.contains(needle), "{message:?} for {spec:?}");
            assert!(!message.contains(['\r', '\n', '\0']), "{message:?}");
        }
    }

    #[test]
    fn random_fields_never_panic_or_break_the_line_structure() {
        let mut garbage = Garbage::new(0x5245_5155);
        let alphabet = b"aZ09-/:; \t\r\n\0*\x7f";
        let text = |garbage: &mut Garbage| -> String {
            let len = (garbage.next_u64() % 8) as usize;
            garbage
                .bytes(len)
                .into_iter()
                .map(|b| char::from(alphabet[usize::from(b) % alphabet.len()]))
                .collect()
        };
        for _ in 0..20_000 {
            let method = text(&mut garbage);
            let target = format!("/{}", text(&mut garbage));
            let host = text(&mut garbage);
            let user_agent = text(&mut garbage);
            let headers = vec![text(&mut garbage), text(&mut garbage)];
            let default_name = text(&mut garbage);
            let default_value = text(&mut garbage);
            let defaults = [(default_name.as_str(), default_value.as_str())];
            let spec = RequestSpec {
                method: &method,
                target: &target,
                host_header: &host,
                user_agent: Some(&user_agent),
                referer: None,
                headers: &headers,
                body_len: Some(garbage.next_u64()),
                default_headers: &defaults,
            };
            let Ok((bytes, shown)) = write_request(&spec) else {
                continue;
            };
            let head = String::from_utf8(bytes).unwrap();
            let body = head.strip_suffix("\r\n\r\n").unwrap();
            let sent: Vec<&str> = body.split("\r\n").collect();
            assert_eq!(sent.len(), shown.len(), "{head:?}");
            for line in &sent {
                assert!(!line.contains(['\r', '\n', '\0']), "{head:?}");
            }
            assert_eq!(sent[0].split(' ').count(), 3, "{head:?}");
        }
    }
}
