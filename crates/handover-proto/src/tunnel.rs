//! The HTTP `CONNECT` tunnel through a proxy, with the 407 loop
//! (libcurl's `cf-h1-proxy`).
//!
//! ```text
//!   Sending ──> ReadingHead ──2xx──────────────────────────────> Established
//!                   │ 1xx: keep reading
//!                   │ 407 + usable challenge, connection kept
//!                   ├──> SkippingBody ──> Sending (next round, same connection)
//!                   │ 407 + usable challenge, proxy closes
//!                   ├──> Reconnect (the engine opens a new connection and
//!                   │              builds a new Tunnel from `take_memory`)
//!                   └──> Failed (other status, no credentials, credentials
//!                                rejected, too many rounds, bad reply)
//! ```
//!
//! The reply head is read by [`http1::HeadReader`](crate::http1::HeadReader),
//! which resumes where the last bytes stopped, so a proxy dribbling a head
//! one byte per segment costs linear time; bytes after a 2xx head are never
//! consumed, so the first bytes of the tunnel reach the layer above. Proxy
//! header lines follow the request's grammar (`CURLOPT_HTTPHEADER` rules,
//! no CR, LF or NUL), and whether the proxy keeps the connection after
//! a 407 is the one keep-alive rule,
//! [`http1::keep_alive_via`](crate::http1::keep_alive_via) for an answer
//! from a proxy: an HTTP/1.0 407 keeps it only with `Connection:
//! keep-alive` or `Proxy-Connection: keep-alive`. Authentication state that must survive
//! a reconnect (the chosen method, the Digest nonce count, the NTLM
//! challenge) lives in [`AuthMemory`].

use std::collections::VecDeque;
use std::fmt;

use crate::auth::{self, AuthMask, Challenge, Credentials, Method, Refusal};
// The authentication state and randomness of the rounds, shared with the
// server's 401 rounds, under the names the tunnel has always had.
pub use crate::auth::{mask_names, AuthMemory, Entropy, MAX_AUTH_ROUNDS};
use crate::http1::{
    keep_alive_via, parse_custom_headers, BodySkipper, CustomHeader, HeadReader, Limits,
    ResponseHead, Via,
};

/// What to ask the proxy for (see the example on [`Tunnel`]).
#[derive(Clone, Debug)]
pub struct TunnelConfig {
    /// Host to tunnel to (an IPv6 literal without brackets).
    pub target_host: String,
    /// Port to tunnel to.
    pub target_port: u16,
    /// Speak HTTP/1.0 (`CURLPROXY_HTTP_1_0`).
    pub http10: bool,
    /// `User-Agent` to send, if any.
    pub user_agent: Option<String>,
    /// Extra header lines for the proxy (`CURLOPT_PROXYHEADER`): `Name: value`
    /// adds or replaces, `Name:` removes a default header, `Name;` sends it empty.
    pub headers: Vec<String>,
    /// Credentials for the proxy, if any.
    pub credentials: Option<Credentials>,
    /// Methods allowed (`CURLOPT_PROXYAUTH`); default Basic.
    pub allowed: AuthMask,
    /// The proxy, as messages name it (`127.0.0.1:3128`).
    pub proxy_name: String,
}

/// Why a tunnel could not be set up (see the example on [`TunnelError`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TunnelErrorKind {
    /// The proxy answered with a final status other than 2xx.
    Refused,
    /// The proxy wants authentication and no usable credentials or method exist.
    AuthFailed,
    /// The reply was not HTTP, or broke a limit.
    BadReply,
    /// The proxy closed the connection without a usable answer.
    Closed,
    /// A host, header or credential would break the request (CR, LF, NUL).
    BadInput,
    /// The proxy asked for a method handover does not have (Negotiate).
    NotBuiltIn,
}

/// A failed tunnel: what kind, the proxy's status (0 if none) and a message
/// naming the target and the proxy.
///
/// # Examples
///
/// ```
/// use handover_proto::machine::Machine;
/// # use handover_proto::auth::AuthMask;
/// # let config = handover_proto::tunnel::TunnelConfig {
/// #     target_host: "example.com".into(), target_port: 443, http10: false,
/// #     user_agent: None, headers: Vec::new(), credentials: None,
/// #     allowed: AuthMask::BASIC, proxy_name: "127.0.0.1:3128".into(),
/// # };
/// use handover_proto::tunnel::{AuthMemory, Entropy, Tunnel, TunnelErrorKind};
///
/// let mut tunnel = Tunnel::new(config, AuthMemory::default(), Entropy::default())?;
/// let n = tunnel.transmit().len();
/// tunnel.sent(n);
/// let error = tunnel
///     .receive(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
///     .unwrap_err();
/// assert_eq!(error.kind, TunnelErrorKind::Refused);
/// assert_eq!(error.status, 403);
/// println!("{error}"); // names the target and the proxy
/// # Ok::<(), handover_proto::tunnel::TunnelError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunnelError {
    /// What went wrong.
    pub kind: TunnelErrorKind,
    /// The last CONNECT status, 0 if none arrived.
    pub status: u16,
    /// What failed and where.
    pub message: String,
}

impl fmt::Display for TunnelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TunnelError {}

use crate::machine::Machine;
pub use crate::machine::{Event, Status};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Sending,
    ReadingHead,
    SkippingBody,
    Established,
    Reconnect,
    Failed,
}

/// One CONNECT exchange (possibly several rounds on one connection).
///
/// # Examples
///
/// ```
/// use handover_proto::machine::Machine;
/// use handover_proto::auth::{AuthMask, Credentials};
/// use handover_proto::tunnel::{AuthMemory, Entropy, Status, Tunnel, TunnelConfig};
///
/// let config = TunnelConfig {
///     target_host: "example.com".into(),
///     target_port: 443,
///     http10: false,
///     user_agent: None,
///     headers: Vec::new(),
///     credentials: Some(Credentials { user: "alice".into(), password: "secret".into() }),
///     allowed: AuthMask::BASIC, // one method: sent without waiting for a 407
///     proxy_name: "127.0.0.1:3128".into(),
/// };
/// let mut tunnel = Tunnel::new(config, AuthMemory::default(), Entropy::default())?;
/// let request = String::from_utf8_lossy(tunnel.transmit()).into_owned();
/// assert!(request.starts_with("CONNECT example.com:443 HTTP/1.1\r\n"));
/// assert!(request.contains("Proxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\n"));
/// tunnel.sent(request.len());
///
/// // The 200, and right behind it the first bytes from the target.
/// let input = b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03";
/// let used = tunnel.receive(input)?;
/// assert_eq!(&input[used..], b"\x16\x03\x03"); // for the layer above
/// assert_eq!(tunnel.status(), Status::Done);
/// assert_eq!(tunnel.connect_code(), 200);
/// # Ok::<(), handover_proto::tunnel::TunnelError>(())
/// ```
#[derive(Debug)]
pub struct Tunnel {
    config: TunnelConfig,
    memory: AuthMemory,
    entropy: Entropy,
    state: State,
    out: Vec<u8>,
    out_pos: usize,
    /// Reads the proxy's answers, resuming where the last bytes stopped.
    reader: HeadReader,
    skipper: Option<BodySkipper>,
    connect_code: u16,
    error: Option<TunnelError>,
    events: VecDeque<Event>,
}

fn has_control(s: &str) -> bool {
    s.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
}

impl Tunnel {
    /// Prepares the first request (answering what `memory` carries over
    /// from an earlier connection).
    pub fn new(
        config: TunnelConfig,
        memory: AuthMemory,
        entropy: Entropy,
    ) -> Result<Tunnel, TunnelError> {
        let bad = |what: &str| TunnelError {
            kind: TunnelErrorKind::BadInput,
            status: 0,
            message: format!("{what} contains CR, LF or NUL; nothing was sent to the proxy"),
        };
        if has_control(&config.target_host) || config.target_host.is_empty() {
            return Err(bad("the tunnel target host"));
        }
        if config.user_agent.as_deref().is_some_and(has_control) {
            return Err(bad("the User-Agent"));
        }
        // The request's grammar for custom lines, so both refuse the same.
        if let Err(e) = parse_custom_headers(&config.headers, "proxy header line") {
            return Err(TunnelError {
                kind: TunnelErrorKind::BadInput,
                status: 0,
                message: format!("{e}; nothing was sent to the proxy"),
            });
        }
        if let Some(c) = &config.credentials {
            if has_control(&c.user) || has_control(&c.password) {
                return Err(bad("the proxy credentials"));
            }
        }
        let mut tunnel = Tunnel {
            config,
            memory,
            entropy,
            state: State::Sending,
            out: Vec::new(),
            out_pos: 0,
            reader: HeadReader::new(Limits::DEFAULT),
            skipper: None,
            connect_code: 0,
            error: None,
            events: VecDeque::new(),
        };
        tunnel.events.push_back(Event::Info(format!(
            "Establish HTTP proxy tunnel to {}",
            tunnel.authority()
        )));
        tunnel.build_request()?;
        Ok(tunnel)
    }

    /// `host:port` the tunnel asks the proxy for.
    pub fn authority(&self) -> String {
        crate::url::authority(&self.config.target_host, self.config.target_port)
    }

    /// The `Proxy-Authorization` value for this round, if any, and the method.
    fn authorization(&mut self) -> Result<Option<(String, Method)>, TunnelError> {
        let Some(creds) = self.config.credentials.clone() else {
            return Ok(None);
        };
        let authority = self.authority();
        let answered = self.memory.answer(
            &creds,
            self.config.allowed,
            "CONNECT",
            &authority,
            &self.entropy,
        );
        answered.map_err(|refusal| self.refused(&refusal))
    }

    /// A refusal of the shared authentication rounds, in the tunnel's words.
    fn refused(&mut self, refusal: &Refusal) -> TunnelError {
        let proxy = self.config.proxy_name.clone();
        let target = self.authority();
        let (kind, msg) = match refusal {
            Refusal::NoCredentials { offered } => (
                TunnelErrorKind::AuthFailed,
                format!(
                    "CONNECT to {target} through proxy {proxy} refused: 407 Proxy Authentication Required (offered: {}) and no proxy credentials are set",
                    mask_names(*offered)
                ),
            ),
            Refusal::TooManyRounds => (
                TunnelErrorKind::AuthFailed,
                format!(
                    "proxy {proxy} still answers 407 after {MAX_AUTH_ROUNDS} rounds of authentication"
                ),
            ),
            Refusal::Rejected { method } => (
                TunnelErrorKind::AuthFailed,
                format!(
                    "CONNECT to {target} through proxy {proxy} refused: 407 Proxy Authentication Required: {} credentials for user \"{}\" were rejected",
                    method.name(),
                    self.config.credentials.as_ref().map_or("", |c| c.user.as_str())
                ),
            ),
            Refusal::NoMethod { offered } => (
                TunnelErrorKind::AuthFailed,
                format!(
                    "CONNECT to {target} through proxy {proxy} refused: 407 Proxy Authentication Required (offered: {}; allowed: {})",
                    mask_names(*offered),
                    mask_names(self.config.allowed)
                ),
            ),
            Refusal::BadChallenge { method, detail } => (
                TunnelErrorKind::BadReply,
                format!("bad {} challenge from proxy {proxy}: {detail}", method.name()),
            ),
            Refusal::AnswerFailed { method, detail } => (
                TunnelErrorKind::AuthFailed,
                format!("{} answer for proxy {proxy} failed: {detail}", method.name()),
            ),
            Refusal::NegotiateNotBuiltIn => (
                TunnelErrorKind::NotBuiltIn,
                format!("proxy {proxy} wants Negotiate authentication, which is not built in"),
            ),
        };
        self.fail_now(kind, msg)
    }

    fn build_request(&mut self) -> Result<(), TunnelError> {
        let authority = self.authority();
        let version = if self.config.http10 { "1.0" } else { "1.1" };
        let auth = self.authorization()?;
        // Checked in `new`: the lines cannot fail here.
        let custom =
            parse_custom_headers(&self.config.headers, "proxy header line").unwrap_or_default();
        let overridden = |name: &str| custom.iter().any(|h| h.name().eq_ignore_ascii_case(name));
        let mut lines: Vec<(String, bool)> = Vec::new(); // (line, secret)
        lines.push((format!("CONNECT {authority} HTTP/{version}"), false));
        if !overridden("Host") {
            lines.push((format!("Host: {authority}"), false));
        }
        if let Some((value, _)) = &auth {
            lines.push((format!("Proxy-Authorization: {value}"), true));
        }
        if let Some(ua) = &self.config.user_agent {
            if !overridden("User-Agent") {
                lines.push((format!("User-Agent: {ua}"), false));
            }
        }
        if !overridden("Proxy-Connection") {
            lines.push(("Proxy-Connection: Keep-Alive".to_owned(), false));
        }
        for header in &custom {
            // libcurl writes CONNECT fields as `name: value` (`Name;` as
            // `Name: `), not as the line was written.
            if let CustomHeader::Send { name, value, .. } = header {
                lines.push((format!("{name}: {value}"), false));
            }
        }
        self.out.clear();
        self.out_pos = 0;
        for (line, secret) in &lines {
            self.out.extend_from_slice(line.as_bytes());
            self.out.extend_from_slice(b"\r\n");
            let shown = if *secret {
                self.redacted_authorization(line)
            } else {
                line.clone()
            };
            self.events.push_back(Event::HeaderOut(shown));
        }
        self.out.extend_from_slice(b"\r\n");
        self.state = State::Sending;
        Ok(())
    }

    /// `Proxy-Authorization: Digest <hidden> (user "alice")`: the scheme and
    /// the user, never the value.
    fn redacted_authorization(&self, line: &str) -> String {
        let scheme = line
            .split_once(": ")
            .and_then(|(_, v)| v.split(' ').next())
            .unwrap_or("?");
        let user = self
            .config
            .credentials
            .as_ref()
            .map(|c| c.user.as_str())
            .unwrap_or("");
        format!("Proxy-Authorization: {scheme} <hidden> (user \"{user}\")")
    }

    fn generic_error(&self) -> TunnelError {
        TunnelError {
            kind: TunnelErrorKind::BadReply,
            status: self.connect_code,
            message: format!("CONNECT through proxy {} failed", self.config.proxy_name),
        }
    }

    fn fail_now(&mut self, kind: TunnelErrorKind, message: String) -> TunnelError {
        let err = TunnelError {
            kind,
            status: self.connect_code,
            message,
        };
        self.state = State::Failed;
        self.error = Some(err.clone());
        err
    }

    fn read_head(&mut self, input: &[u8]) -> Result<usize, TunnelError> {
        let (used, head) = match self.reader.feed(input) {
            Ok(fed) => fed,
            Err(e) => {
                let msg = format!(
                    "bad CONNECT reply from proxy {}: {e}",
                    self.config.proxy_name
                );
                return Err(self.fail_now(TunnelErrorKind::BadReply, msg));
            }
        };
        if let Some(head) = head {
            self.events.extend(head.lines().map(Event::HeaderIn));
            self.on_head(head)?;
        }
        Ok(used)
    }

    fn on_head(&mut self, head: ResponseHead) -> Result<(), TunnelError> {
        if (100..200).contains(&head.status) {
            // Interim answers carry nothing for us; the real one follows.
            return Ok(());
        }
        self.connect_code = head.status;
        if (200..300).contains(&head.status) {
            self.state = State::Established;
            self.events.push_back(Event::Info(format!(
                "CONNECT tunnel established, response {}",
                head.status
            )));
            return Ok(());
        }
        if head.status != 407 {
            let msg = format!(
                "CONNECT to {} through proxy {} refused: {} {}",
                self.authority(),
                self.config.proxy_name,
                head.status,
                head.reason
            );
            return Err(self.fail_now(TunnelErrorKind::Refused, msg));
        }
        self.on_407(&head)?;
        let skipper = BodySkipper::new(&head, false).map_err(|e| {
            let msg = format!("bad 407 reply from proxy {}: {e}", self.config.proxy_name);
            self.fail_now(TunnelErrorKind::BadReply, msg)
        })?;
        // The one keep-alive rule, for an answer from a proxy: a body that
        // runs until close ends the connection too.
        if !keep_alive_via(&head, "CONNECT", Via::HttpProxy) {
            // The proxy ends this connection: no need to read the body.
            self.events.push_back(Event::Info(format!(
                "proxy {} closes the connection after 407; reconnecting",
                self.config.proxy_name
            )));
            self.state = State::Reconnect;
            return Ok(());
        }
        if skipper.is_done() {
            return self.build_request();
        }
        self.skipper = Some(skipper);
        self.state = State::SkippingBody;
        Ok(())
    }

    /// Decides the next answer from a 407.
    fn on_407(&mut self, head: &ResponseHead) -> Result<(), TunnelError> {
        let challenges: Vec<Challenge> =
            auth::parse_challenges(head.headers_named("Proxy-Authenticate"));
        let creds = self.config.credentials.clone();
        let picked = self
            .memory
            .challenged(&challenges, creds.as_ref(), self.config.allowed)
            .map_err(|refusal| self.refused(&refusal))?;
        if let (Some(method), Some(creds)) = (picked, creds) {
            self.events.push_back(Event::Info(format!(
                "Proxy auth using {} with user '{}'",
                method.name(),
                creds.user
            )));
        }
        Ok(())
    }

    fn skip_body(&mut self, input: &[u8]) -> Result<usize, TunnelError> {
        let Some(skipper) = self.skipper.as_mut() else {
            return Ok(0);
        };
        let used = match skipper.feed(input) {
            Ok(n) => n,
            Err(e) => {
                let msg = format!("bad 407 body from proxy {}: {e}", self.config.proxy_name);
                return Err(self.fail_now(TunnelErrorKind::BadReply, msg));
            }
        };
        if skipper.is_done() {
            // The connection stays (a closing proxy was never read to here):
            // the next round goes out on it.
            self.skipper = None;
            self.build_request()?;
        }
        Ok(used)
    }

    /// The last final CONNECT status (`CURLINFO_HTTP_CONNECTCODE`), 0 if none.
    pub fn connect_code(&self) -> u16 {
        self.connect_code
    }

    /// The authentication state so far.
    pub fn memory(&self) -> &AuthMemory {
        &self.memory
    }

    /// The state a reconnect carries into its new tunnel.
    pub fn take_memory(&mut self) -> AuthMemory {
        std::mem::take(&mut self.memory)
    }
}

impl Machine for Tunnel {
    type Error = TunnelError;

    /// Request bytes still to be written.
    fn transmit(&self) -> &[u8] {
        if self.state == State::Sending {
            self.out.get(self.out_pos..).unwrap_or(&[])
        } else {
            &[]
        }
    }

    /// The caller wrote `n` bytes of [`transmit`](Machine::transmit).
    fn sent(&mut self, n: usize) {
        if self.state != State::Sending {
            return;
        }
        self.out_pos = (self.out_pos + n).min(self.out.len());
        if self.out_pos == self.out.len() {
            self.state = State::ReadingHead;
        }
    }

    /// Feeds bytes from the proxy; returns how many were used. After a 2xx
    /// head the rest is not consumed: it is the tunnel's first data.
    fn receive(&mut self, input: &[u8]) -> Result<usize, TunnelError> {
        let mut used = 0;
        while used < input.len() {
            let rest = input.get(used..).unwrap_or(&[]);
            match self.state {
                State::ReadingHead => used += self.read_head(rest)?,
                State::SkippingBody => used += self.skip_body(rest)?,
                State::Failed => {
                    return Err(self.error.clone().unwrap_or_else(|| self.generic_error()))
                }
                // Bytes before the request is out are kept for later; after
                // the tunnel is up they are the application's.
                State::Sending | State::Established | State::Reconnect => break,
            }
        }
        Ok(used)
    }

    /// The proxy closed the connection (end of stream).
    fn peer_closed(&mut self) {
        match self.state {
            State::SkippingBody if self.skipper.as_ref().is_some_and(BodySkipper::until_close) => {
                self.state = State::Reconnect;
            }
            // Our next round went out on a connection the proxy had given up:
            // a new connection gets the same answer.
            State::ReadingHead | State::Sending
                if !self.reader.is_started()
                    && self.memory.rounds() > 0
                    && self.memory.rounds() <= MAX_AUTH_ROUNDS =>
            {
                self.state = State::Reconnect;
            }
            State::Established | State::Reconnect | State::Failed => {}
            _ => {
                let msg = format!(
                    "proxy {} closed the connection before answering CONNECT to {}",
                    self.config.proxy_name,
                    self.authority()
                );
                let _ = self.fail_now(TunnelErrorKind::Closed, msg);
            }
        }
    }

    /// Where the tunnel stands.
    fn status(&self) -> Status {
        match self.state {
            State::Sending | State::ReadingHead | State::SkippingBody => Status::Pending,
            State::Established => Status::Done,
            State::Reconnect => Status::Reconnect,
            State::Failed => Status::Failed,
        }
    }

    /// True while the machine waits for the proxy rather than for the socket
    /// to take request bytes.
    fn wants_read(&self) -> bool {
        matches!(self.state, State::ReadingHead | State::SkippingBody)
    }

    /// The error, once failed.
    fn error(&self) -> Option<&TunnelError> {
        self.error.as_ref()
    }

    /// Next protocol line for verbose output.
    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{for_each_split, hexdump};

    fn config(creds: Option<(&str, &str)>, allowed: AuthMask) -> TunnelConfig {
        TunnelConfig {
            target_host: "example.com".into(),
            target_port: 443,
            http10: false,
            user_agent: None,
            headers: Vec::new(),
            credentials: creds.map(|(u, p)| Credentials {
                user: u.into(),
                password: p.into(),
            }),
            allowed,
            proxy_name: "127.0.0.1:3128".into(),
        }
    }

    fn entropy() -> Entropy {
        Entropy {
            cnonce: "0a4f113b".into(),
            ntlm_client_challenge: [0xaa; 8],
            ntlm_timestamp: 0,
        }
    }

    fn new(creds: Option<(&str, &str)>, allowed: AuthMask) -> Tunnel {
        Tunnel::new(config(creds, allowed), AuthMemory::default(), entropy()).unwrap()
    }

    /// Takes everything the machine wants to send, as text.
    fn drain(t: &mut Tunnel) -> String {
        let out = String::from_utf8(t.transmit().to_vec()).unwrap();
        t.sent(out.len());
        out
    }

    fn header<'a>(request: &'a str, name: &str) -> Option<&'a str> {
        request
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
    }

    #[test]
    fn request_has_libcurls_shape() {
        let mut t = new(None, AuthMask::BASIC);
        assert_eq!(
            drain(&mut t),
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nProxy-Connection: Keep-Alive\r\n\r\n"
        );

        let mut c = config(Some(("alice", "secret")), AuthMask::BASIC);
        c.target_host = "::1".into();
        c.http10 = true;
        c.user_agent = Some("handover-test".into());
        c.headers = vec![
            "X-Trace: 1".into(),
            "Proxy-Connection:".into(),
            "X-Empty;".into(),
        ];
        let mut t = Tunnel::new(c, AuthMemory::default(), entropy()).unwrap();
        assert_eq!(
            drain(&mut t),
            "CONNECT [::1]:443 HTTP/1.0\r\nHost: [::1]:443\r\n\
             Proxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\nUser-Agent: handover-test\r\n\
             X-Trace: 1\r\nX-Empty: \r\n\r\n"
        );
    }

    #[test]
    fn reply_split_at_every_offset_is_parsed_and_tunnel_bytes_are_left() {
        let reply = b"HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\nSSH-2.0-early";
        for_each_split(reply, |offset, head, tail| {
            let mut t = new(None, AuthMask::BASIC);
            drain(&mut t);
            let a = t.receive(head).unwrap();
            let mut rest = head[a..].to_vec();
            rest.extend_from_slice(tail);
            let b = t.receive(&rest).unwrap();
            assert_eq!(t.status(), Status::Done, "split at {offset}");
            assert_eq!(
                &rest[b..],
                b"SSH-2.0-early",
                "split at {offset}:\n{}",
                hexdump(reply)
            );
            assert_eq!(t.connect_code(), 200);
        });
        // Single bytes, one call each.
        let mut t = new(None, AuthMask::BASIC);
        drain(&mut t);
        let mut consumed = 0;
        for (i, byte) in reply.iter().enumerate() {
            if t.status() == Status::Done {
                break;
            }
            consumed += t.receive(std::slice::from_ref(byte)).unwrap();
            assert!(consumed == i + 1);
        }
        assert_eq!(t.status(), Status::Done);
        assert_eq!(&reply[consumed..], b"SSH-2.0-early");
    }

    #[test]
    fn any_2xx_opens_the_tunnel_and_1xx_is_skipped() {
        let mut t = new(None, AuthMask::BASIC);
        drain(&mut t);
        t.receive(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 204 Fine\r\nContent-Length: 99\r\n\r\n")
            .unwrap();
        assert_eq!(t.status(), Status::Done);
        assert_eq!(t.connect_code(), 204);
    }

    #[test]
    fn challenge_with_several_methods_allowed_answers_on_the_same_connection() {
        let mut t = new(Some(("alice", "secret")), AuthMask::ANY);
        let first = drain(&mut t);
        assert_eq!(
            header(&first, "Proxy-Authorization"),
            None,
            "ANY waits for the challenge"
        );
        let reply: &[u8] = b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                  Proxy-Authenticate: Basic realm=\"squid\"\r\nContent-Length: 5\r\n\r\nerror";
        assert_eq!(
            t.receive(reply).unwrap(),
            reply.len(),
            "head and body consumed"
        );
        let second = drain(&mut t);
        assert_eq!(
            header(&second, "Proxy-Authorization"),
            Some("Basic YWxpY2U6c2VjcmV0")
        );
        t.receive(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
        assert_eq!(t.status(), Status::Done);
        assert_eq!(t.memory().offered(), AuthMask::BASIC);
        assert_eq!(t.memory().used(), Some(Method::Basic));
    }

    #[test]
    fn proxy_closing_after_407_asks_for_a_reconnect_carrying_the_answer() {
        let mut t = new(Some(("alice", "secret")), AuthMask::ANY);
        drain(&mut t);
        t.receive(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n\
              Proxy-Authenticate: Basic realm=\"x\"\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        assert_eq!(t.status(), Status::Reconnect);
        let memory = t.take_memory();
        let mut again = Tunnel::new(
            config(Some(("alice", "secret")), AuthMask::ANY),
            memory,
            entropy(),
        )
        .unwrap();
        let request = drain(&mut again);
        assert_eq!(
            header(&request, "Proxy-Authorization"),
            Some("Basic YWxpY2U6c2VjcmV0")
        );
        again.receive(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
        assert_eq!(again.status(), Status::Done);

        // A body that runs until close also means a new connection.
        let mut t = new(Some(("alice", "secret")), AuthMask::ANY);
        drain(&mut t);
        t.receive(b"HTTP/1.1 407 No\r\nProxy-Authenticate: Basic\r\nTransfer-Encoding: identity\r\n\r\nbody").unwrap();
        assert_eq!(t.status(), Status::Reconnect);

        // The proxy silently dropped our second round: reconnect too.
        let mut t = new(Some(("alice", "secret")), AuthMask::ANY);
        drain(&mut t);
        t.receive(b"HTTP/1.1 407 No\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        drain(&mut t);
        t.peer_closed();
        assert_eq!(t.status(), Status::Reconnect);
    }

    #[test]
    fn digest_challenge_is_answered_with_connect_and_the_authority() {
        let mut t = new(Some(("Mufasa", "Circle of Life")), AuthMask::DIGEST);
        let first = drain(&mut t);
        assert_eq!(
            header(&first, "Proxy-Authorization"),
            None,
            "Digest cannot go first"
        );
        t.receive(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n\
              Proxy-Authenticate: Digest realm=\"proxy\", nonce=\"abc123\", qop=\"auth\", algorithm=MD5\r\n\
              Content-Length: 0\r\n\r\n",
        )
        .unwrap();
        let second = drain(&mut t);
        let value = header(&second, "Proxy-Authorization").unwrap();
        assert!(value.starts_with("Digest "), "{value}");
        for needle in [
            "username=\"Mufasa\"",
            "realm=\"proxy\"",
            "nonce=\"abc123\"",
            "uri=\"example.com:443\"",
            "qop=auth",
            "nc=00000001",
            "cnonce=\"0a4f113b\"",
        ] {
            assert!(value.contains(needle), "missing {needle} in {value}");
        }
        assert_eq!(t.memory().used(), Some(Method::Digest));
    }

    /// A minimal NTLM Type 2 message: target name "DOM", no target info.
    fn type2() -> Vec<u8> {
        let mut m = b"NTLMSSP\0".to_vec();
        m.extend_from_slice(&2u32.to_le_bytes());
        m.extend_from_slice(&6u16.to_le_bytes());
        m.extend_from_slice(&6u16.to_le_bytes());
        m.extend_from_slice(&48u32.to_le_bytes());
        m.extend_from_slice(&(auth::ntlm::FLAG_UNICODE | auth::ntlm::FLAG_NTLM).to_le_bytes());
        m.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(&0u16.to_le_bytes());
        m.extend_from_slice(&0u16.to_le_bytes());
        m.extend_from_slice(&54u32.to_le_bytes());
        m.extend_from_slice(&[b'D', 0, b'O', 0, b'M', 0]);
        m
    }

    #[test]
    fn ntlm_takes_three_legs_on_one_connection() {
        let mut t = new(Some(("DOM\\alice", "secret")), AuthMask::NTLM);
        let first = drain(&mut t);
        let negotiate = header(&first, "Proxy-Authorization").unwrap();
        assert!(negotiate.starts_with("NTLM TlRMTVNTUAAB"), "{negotiate}");
        let challenge = auth::ntlm::header_value(&type2());
        let reply = format!(
            "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: {challenge}\r\nContent-Length: 0\r\n\r\n"
        );
        t.receive(reply.as_bytes()).unwrap();
        let third = drain(&mut t);
        let authenticate = header(&third, "Proxy-Authorization").unwrap();
        assert!(
            authenticate.starts_with("NTLM TlRMTVNTUAAD"),
            "{authenticate}"
        );
        t.receive(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
        assert_eq!(t.status(), Status::Done);
        assert_eq!(t.memory().used(), Some(Method::Ntlm));
    }

    /// Credentials, allowed methods, proxy reply, expected kind, status, text.
    type FailureCase<'a> = (
        Option<(&'a str, &'a str)>,
        AuthMask,
        &'a [u8],
        TunnelErrorKind,
        u16,
        &'a str,
    );

    #[test]
    fn failures_name_the_proxy_and_the_status() {
        let cases: &[FailureCase<'_>] = &[
            (
                None,
                AuthMask::BASIC,
                b"HTTP/1.1 407 Auth\r\nProxy-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n\r\n",
                TunnelErrorKind::AuthFailed,
                407,
                "no proxy credentials",
            ),
            (
                Some(("u", "p")),
                AuthMask::BASIC,
                b"HTTP/1.1 407 Auth\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n",
                TunnelErrorKind::AuthFailed,
                407,
                "rejected",
            ),
            (
                Some(("u", "p")),
                AuthMask::BASIC.union(AuthMask::NTLM),
                b"HTTP/1.1 407 Auth\r\nProxy-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n\r\n",
                TunnelErrorKind::AuthFailed,
                407,
                "offered: Digest",
            ),
            (
                None,
                AuthMask::BASIC,
                b"HTTP/1.1 403 Forbidden\r\n\r\n",
                TunnelErrorKind::Refused,
                403,
                "403 Forbidden",
            ),
            (
                None,
                AuthMask::BASIC,
                b"SSH-2.0-OpenSSH\r\n\r\n",
                TunnelErrorKind::BadReply,
                0,
                "bad CONNECT reply",
            ),
        ];
        for (creds, allowed, reply, kind, status, needle) in cases {
            let mut t = new(*creds, *allowed);
            drain(&mut t);
            let err = t.receive(reply).unwrap_err();
            assert_eq!(&err.kind, kind, "{err}");
            assert_eq!(err.status, *status, "{err}");
            assert!(err.message.contains(needle), "{needle:?} not in {err}");
            assert!(err.message.contains("127.0.0.1:3128"), "{err}");
            assert_eq!(t.status(), Status::Failed);
            assert_eq!(t.receive(b"more").unwrap_err(), err, "the error sticks");
        }
    }

    #[test]
    fn a_never_ending_header_is_cut_off() {
        let mut t = new(None, AuthMask::BASIC);
        drain(&mut t);
        t.receive(b"HTTP/1.1 200 OK\r\n").unwrap();
        let line =
            b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        let mut failed = None;
        for _ in 0..10_000 {
            if let Err(e) = t.receive(line) {
                failed = Some(e);
                break;
            }
        }
        let err = failed.expect("a limit stops the header");
        assert_eq!(err.kind, TunnelErrorKind::BadReply);
    }

    #[test]
    fn control_characters_are_refused_before_anything_is_sent() {
        let mut c = config(None, AuthMask::BASIC);
        c.target_host = "evil.com\r\nX-Injected: 1".into();
        assert_eq!(
            Tunnel::new(c, AuthMemory::default(), entropy())
                .unwrap_err()
                .kind,
            TunnelErrorKind::BadInput
        );
        let mut c = config(Some(("user", "pa\nss")), AuthMask::BASIC);
        c.headers.clear();
        assert_eq!(
            Tunnel::new(c, AuthMemory::default(), entropy())
                .unwrap_err()
                .kind,
            TunnelErrorKind::BadInput
        );
        let mut c = config(None, AuthMask::BASIC);
        c.headers = vec!["X-A: b\0c".into()];
        assert!(Tunnel::new(c, AuthMemory::default(), entropy()).is_err());
    }

    #[test]
    fn verbose_events_show_the_scheme_and_user_never_the_secret() {
        let mut t = new(Some(("alice", "s3cr3t-pass")), AuthMask::BASIC);
        let mut lines = Vec::new();
        while let Some(e) = t.poll_event() {
            lines.push(match e {
                Event::HeaderOut(l) | Event::HeaderIn(l) | Event::Info(l) => l,
            });
        }
        let all = lines.join("\n");
        assert!(
            all.contains("Proxy-Authorization: Basic <hidden> (user \"alice\")"),
            "{all}"
        );
        assert!(!all.contains("s3cr3t"), "{all}");
        assert!(!all.contains("YWxpY2U6"), "{all}");
    }

    /// The 407 of one round, HTTP/1.`minor`, with `extra` header lines.
    fn challenge(minor: u8, extra: &str) -> Vec<u8> {
        format!(
            "HTTP/1.{minor} 407 Proxy Authentication Required\r\n\
             Proxy-Authenticate: Basic realm=\"p\"\r\n{extra}Content-Length: 3\r\n\r\nno!"
        )
        .into_bytes()
    }

    #[test]
    fn the_keep_alive_rule_decides_whether_the_next_round_reconnects() {
        // (HTTP minor version, headers, the proxy keeps the connection) —
        // http1::keep_alive_via for an answer from a proxy, as libcurl
        // reads `Proxy-Connection` from one.
        let cases: &[(u8, &str, bool)] = &[
            (1, "", true),
            (1, "Connection: close\r\n", false),
            (1, "Proxy-Connection: close\r\n", false),
            (0, "", false),
            (0, "Connection: keep-alive\r\n", true),
            (0, "Proxy-Connection: keep-alive\r\n", true),
            (0, "Proxy-Connection: Keep-Alive\r\n", true),
            (
                0,
                "Proxy-Connection: keep-alive\r\nConnection: close\r\n",
                false,
            ),
        ];
        for (minor, extra, kept) in cases {
            let reply = challenge(*minor, extra);
            for_each_split(&reply, |offset, first, second| {
                let mut t = new(Some(("alice", "secret")), AuthMask::ANY);
                drain(&mut t);
                let used = t.receive(first).unwrap() + t.receive(second).unwrap();
                let what = format!("HTTP/1.{minor} {extra:?} split at {offset}");
                if *kept {
                    assert_eq!(used, reply.len(), "{what}");
                    assert_eq!(t.status(), Status::Pending, "{what}");
                    let next = drain(&mut t);
                    assert_eq!(
                        header(&next, "Proxy-Authorization"),
                        Some("Basic YWxpY2U6c2VjcmV0"),
                        "{what}"
                    );
                } else {
                    assert_eq!(t.status(), Status::Reconnect, "{what}\n{}", hexdump(&reply));
                }
            });
        }
    }

    #[test]
    fn proxy_headers_follow_the_request_header_grammar() {
        // Accepted: the same lines write_request accepts, written name: value.
        let mut c = config(None, AuthMask::BASIC);
        c.headers = vec![
            "X-Spaced:   a b  ".into(),
            "X-Later;ignored".into(),
            "no colon".into(),
            ":no name".into(),
            "User-Agent: mine".into(),
            "Host;".into(),
            // Names that are not tokens go out as written, as libcurl's.
            "Bad Name: x".into(),
            " X-Lead: y".into(),
            "Bad Name;".into(),
        ];
        c.user_agent = Some("default".into());
        let mut t = Tunnel::new(c, AuthMemory::default(), entropy()).unwrap();
        assert_eq!(
            drain(&mut t),
            "CONNECT example.com:443 HTTP/1.1\r\nProxy-Connection: Keep-Alive\r\n\
             X-Spaced: a b\r\nUser-Agent: mine\r\nHost: \r\nBad Name: x\r\n \
             X-Lead: y\r\nBad Name: \r\n\r\n"
        );
        // Refused before anything is sent: a line break.
        for line in ["X-A: b\r\nX-B: c", "X-A: b\nX-B: c", "X-A: \0"] {
            let mut c = config(None, AuthMask::BASIC);
            c.headers = vec!["X-Fine: 1".into(), line.into()];
            let err = Tunnel::new(c, AuthMemory::default(), entropy()).unwrap_err();
            assert_eq!(err.kind, TunnelErrorKind::BadInput, "{line:?}: {err}");
            assert!(err.message.contains("proxy header line 2"), "{err}");
            assert!(err.message.contains("nothing was sent"), "{err}");
        }
    }

    #[test]
    fn a_reply_fed_one_byte_at_a_time_is_read_in_linear_time() {
        // A hostile proxy dribbling a 64 KiB 407 head, one byte per segment,
        // for each round: the head reader resumes, so this takes no time.
        let mut reply = b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                          Proxy-Authenticate: Basic\r\nX-Pad: "
            .to_vec();
        reply.resize(64 * 1024, b'a');
        reply.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
        let mut t = new(Some(("alice", "secret")), AuthMask::ANY);
        drain(&mut t);
        for byte in reply.chunks(1) {
            assert_eq!(t.receive(byte).unwrap(), 1);
        }
        assert_eq!(
            t.status(),
            Status::Pending,
            "answered on the same connection"
        );
        assert!(
            t.reader.scanned() <= 2 * reply.len() as u64,
            "{}",
            t.reader.scanned()
        );
    }
}
