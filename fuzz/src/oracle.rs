//! Oracles shared by the fuzz targets: reading the fuzz input, splitting a
//! message the way the input says, driving a handshake machine, and small
//! renderers for parse → render → parse round trips.
//!
//! The checks beyond "no panic" that the targets build from these:
//!
//! - **split invariance**: a message fed whole and fed in pieces (sizes and
//!   output room chosen by the input, see [`Plan`]) gives the same result;
//! - **progress**: a call given input (and room) either consumes, produces
//!   or finishes — a driver that loops on it cannot spin;
//! - **nothing past the end**: a call never reports more consumed than it
//!   was given, and appending bytes after a finished message changes
//!   nothing of what was decided ([`Driven::leftover`]);
//! - **round trips**: parse → render → parse gives the first parse back
//!   (the renderers below write what the parsers read).

use std::fmt::Debug;

/// A cursor over the fuzz input. Every read succeeds: past the end it
/// yields zeros and empty slices, so any input is a valid one.
#[derive(Clone, Debug)]
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    /// The next byte, 0 past the end.
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// Up to `n` bytes.
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// A little-endian u16.
    pub fn u16(&mut self) -> u16 {
        u16::from(self.byte()) | (u16::from(self.byte()) << 8)
    }

    /// A little-endian u64.
    pub fn u64(&mut self) -> u64 {
        (0..8).fold(0u64, |v, i| v | (u64::from(self.byte()) << (8 * i)))
    }

    /// `N` bytes, zero-padded.
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let got = self.bytes(N);
        out[..got.len()].copy_from_slice(got);
        out
    }

    /// Bytes up to (not including) the next `sep`, which is consumed; the
    /// rest when there is none.
    pub fn until(&mut self, sep: u8) -> &'a [u8] {
        match self.data.iter().position(|&b| b == sep) {
            Some(at) => {
                let head = &self.data[..at];
                self.data = &self.data[at + 1..];
                head
            }
            None => self.rest(),
        }
    }

    /// A field prefixed by its length (one byte).
    pub fn field(&mut self) -> &'a [u8] {
        let n = usize::from(self.byte());
        self.bytes(n)
    }

    /// [`until`](Input::until) as text (lossy UTF-8).
    pub fn line(&mut self) -> String {
        String::from_utf8_lossy(self.until(b'\n')).into_owned()
    }

    /// A [`Plan`]: one length byte (at most [`Plan::MAX_STEPS`] are used),
    /// then that many step bytes.
    pub fn plan(&mut self) -> Plan {
        let n = usize::from(self.byte()) % (Plan::MAX_STEPS + 1);
        Plan::new(self.bytes(n))
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }

    /// Whether nothing is left.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// How a message is cut into arrivals and how much room each call gets,
/// chosen by the fuzz input. Step bytes are used in a cycle; an empty plan
/// means "everything at once, with plenty of room".
///
/// A step byte `b` gives an arrival of [`Plan::arrival`] bytes (0 is an
/// empty read: the machine must cope with a call that brings nothing) and
/// an output buffer of [`Plan::room`] bytes.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    steps: Vec<u8>,
}

impl Plan {
    /// More steps than this add nothing a cycle cannot do.
    pub const MAX_STEPS: usize = 32;
    /// The room of a call in the "whole" run.
    pub const WHOLE_ROOM: usize = 1 << 20;

    /// A plan from step bytes.
    pub fn new(steps: &[u8]) -> Plan {
        Plan {
            steps: steps.to_vec(),
        }
    }

    /// The plan of the reference run: one arrival, ample room.
    pub fn whole() -> Plan {
        Plan::default()
    }

    /// Whether this is the reference plan.
    pub fn is_whole(&self) -> bool {
        self.steps.is_empty() || self.steps.iter().all(|&b| Self::arrival_of(b) == 0)
    }

    fn arrival_of(b: u8) -> usize {
        match b {
            0 => 0,
            1..=0xbf => usize::from(b & 0x0f) + 1,
            _ => (usize::from(b & 0x3f) + 1) * 37,
        }
    }

    /// Bytes arriving at step `i` (cycling); `usize::MAX` for the whole plan.
    pub fn arrival(&self, i: usize) -> usize {
        if self.is_whole() {
            return usize::MAX;
        }
        Self::arrival_of(self.steps[i % self.steps.len()])
    }

    /// Output room at call `i` (cycling): 0 to a few KiB. Always > 0 for
    /// the whole plan; a plan whose rooms are all 0 gets 1 byte instead, so
    /// a driver can always finish.
    pub fn room(&self, i: usize) -> usize {
        const ROOMS: [usize; 16] = [
            0, 1, 2, 3, 4, 5, 7, 8, 13, 16, 31, 125, 126, 127, 1000, 4096,
        ];
        if self.is_whole() {
            return Self::WHOLE_ROOM;
        }
        if self.steps.iter().all(|&b| ROOMS[usize::from(b >> 4)] == 0) {
            return 1;
        }
        ROOMS[usize::from(self.steps[i % self.steps.len()] >> 4)]
    }

    /// Bytes to write at step `i`: like [`arrival`](Plan::arrival) but at
    /// least 1 (a write of 0 is no write).
    pub fn write(&self, i: usize) -> usize {
        self.arrival(i).max(1)
    }

    /// `msg` cut into arrivals (empty ones included), in order; together
    /// they are `msg`.
    pub fn chunks<'m>(&self, msg: &'m [u8]) -> Vec<&'m [u8]> {
        let mut out = Vec::new();
        let mut rest = msg;
        let mut i = 0;
        while !rest.is_empty() {
            let n = self.arrival(i).min(rest.len());
            let (head, tail) = rest.split_at(n);
            out.push(head);
            rest = tail;
            i += 1;
        }
        out
    }

    /// The offsets at which [`chunks`](Plan::chunks) cuts `len` bytes
    /// (strictly inside, ascending, deduplicated).
    pub fn cuts(&self, len: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut at = 0usize;
        let mut i = 0;
        if self.is_whole() {
            return out;
        }
        while at < len {
            at = at.saturating_add(self.arrival(i));
            if at < len && out.last() != Some(&at) && at > 0 {
                out.push(at);
            }
            i += 1;
        }
        out
    }
}

/// Asserts `a == b` and shows the plan that made them differ.
#[track_caller]
pub fn same<T: PartialEq + Debug>(what: &str, whole: &T, split: &T, plan: &Plan) {
    assert!(
        whole == split,
        "{what}: whole and split runs differ\n whole: {whole:?}\n split: {split:?}\n plan: {plan:?}"
    );
}

// ---------------------------------------------------------------------------
// Handshake machines (SOCKS4, SOCKS5, CONNECT tunnel): driven through
// handover-proto's one machine surface.

pub use handover_proto::machine::{Machine, Status};

/// The byte surface the handshake drivers need: every [`Machine`].
pub trait Handshake {
    /// Bytes to write now.
    fn transmit(&self) -> &[u8];
    /// `n` bytes of `transmit` were written.
    fn sent(&mut self, n: usize);
    /// Bytes from the peer; how many were used, or the error as text.
    fn receive(&mut self, input: &[u8]) -> Result<usize, String>;
    /// The peer closed.
    fn peer_closed(&mut self);
    /// Still working (neither done, failed, nor waiting for a reconnect).
    fn pending(&self) -> bool;
    /// A summary of where the machine ended, compared between runs.
    fn summary(&self) -> String;
    /// The error the machine failed with, if it did.
    fn failure(&self) -> Option<String>;
    /// The machine asks for TLS under it (STARTTLS go-ahead read).
    fn wants_tls(&self) -> bool;
    /// TLS now runs under the machine.
    fn tls_started(&mut self);
}

impl<M: Machine> Handshake for M
where
    M::Error: Debug,
{
    fn transmit(&self) -> &[u8] {
        Machine::transmit(self)
    }
    fn sent(&mut self, n: usize) {
        Machine::sent(self, n)
    }
    fn receive(&mut self, input: &[u8]) -> Result<usize, String> {
        Machine::receive(self, input).map_err(|e| format!("{e:?}"))
    }
    fn peer_closed(&mut self) {
        Machine::peer_closed(self)
    }
    fn pending(&self) -> bool {
        Machine::status(self) == Status::Pending
    }
    fn summary(&self) -> String {
        format!(
            "{:?} wants_read={}",
            Machine::status(self),
            Machine::wants_read(self)
        )
    }
    fn failure(&self) -> Option<String> {
        Machine::error(self).map(|e| format!("{e:?}"))
    }
    fn wants_tls(&self) -> bool {
        Machine::status(self) == Status::StartTls
    }
    fn tls_started(&mut self) {
        Machine::tls_started(self)
    }
}

/// What a driven conversation left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Driven {
    /// Every byte the machine wrote.
    pub wire: Vec<u8>,
    /// Peer bytes the machine did not use (the first bytes of the tunnel).
    pub leftover: Vec<u8>,
    /// The error the machine ended with (returned by `receive`, or found
    /// while `sent` acted on a reply held during the write).
    pub error: Option<String>,
    /// [`Handshake::summary`] at the end.
    pub summary: String,
    /// Whether the machine was still pending when the peer's bytes ran out
    /// (it was then told the peer closed).
    pub ran_out: bool,
    /// For each STARTTLS go-ahead: how many peer bytes the machine had
    /// used when it asked for TLS (the end of the go-ahead).
    pub tls_at: Vec<usize>,
}

/// Runs `machine` against a peer that sends `msg`, cut and written as `plan`
/// says. With `eager_reads`, peer bytes are offered before the machine's own
/// message is fully written (a reply that overtakes the request); the
/// machines must hold them and act the same.
///
/// Checks on every call: `receive` never reports more than it was given; a
/// pending machine with nothing to write that is given bytes uses some, or
/// fails, or waits for more: then the same call again takes nothing and
/// changes nothing (a line protocol holding an unfinished line), and the
/// driver offers those bytes again with the next arrival. No call can leave
/// a driver spinning.
///
/// A machine that asks for TLS (STARTTLS) is checked by
/// [`check_tls_pause`], then told TLS started, and goes on with the rest
/// of the peer's bytes as if they came through TLS.
pub fn drive(machine: &mut impl Handshake, msg: &[u8], plan: &Plan, eager_reads: bool) -> Driven {
    let chunks = plan.chunks(msg);
    let mut chunks = chunks.into_iter();
    let mut wire = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut error = None;
    let mut step = 0usize;
    let mut ran_out = false;
    let mut used = 0usize;
    let mut tls_at = Vec::new();
    // The last call took none of its bytes and waits for more.
    let mut starved = false;
    loop {
        // Write: everything, or (eager) one piece before reading.
        loop {
            let out = machine.transmit();
            if out.is_empty() {
                break;
            }
            let n = out.len().min(plan.write(step));
            step += 1;
            wire.extend_from_slice(&out[..n]);
            machine.sent(n);
            if eager_reads {
                break;
            }
        }
        if machine.wants_tls() {
            check_tls_pause(machine, &pending);
            tls_at.push(used);
            machine.tls_started();
            assert!(
                machine.pending(),
                "tls_started did not make the machine pending again"
            );
            continue;
        }
        if !machine.pending() {
            break;
        }
        if pending.is_empty() || starved {
            match chunks.next() {
                Some(chunk) => pending.extend_from_slice(chunk),
                None if machine.transmit().is_empty() => {
                    ran_out = true;
                    machine.peer_closed();
                    break;
                }
                None => {}
            }
        }
        let writing = !machine.transmit().is_empty();
        match machine.receive(&pending) {
            Ok(n) => {
                assert!(
                    n <= pending.len(),
                    "receive used {n} of {} bytes",
                    pending.len()
                );
                starved = false;
                if n == 0
                    && !writing
                    && !pending.is_empty()
                    && machine.pending()
                    && machine.transmit().is_empty()
                {
                    check_waits_for_more(machine, &pending);
                    starved = true;
                }
                pending.drain(..n);
                used += n;
            }
            Err(e) => {
                assert!(
                    !machine.pending(),
                    "receive failed but the machine is still pending"
                );
                assert_eq!(
                    machine.failure().as_ref(),
                    Some(&e),
                    "receive's error is not the machine's"
                );
                assert_eq!(
                    machine.receive(b"more").as_ref(),
                    Err(&e),
                    "errors are sticky"
                );
                error = Some(e);
                break;
            }
        }
    }
    for chunk in chunks {
        pending.extend_from_slice(chunk);
    }
    if error.is_none() {
        error = machine.failure();
    }
    Driven {
        wire,
        leftover: pending,
        error,
        summary: machine.summary(),
        ran_out,
        tls_at,
    }
}

/// A pending machine that took none of `held` and has nothing to send
/// waits for more bytes: offered the same bytes again it still takes none,
/// sends nothing and stays pending, so a driver waits for the peer instead
/// of calling it in a loop.
pub fn check_waits_for_more(machine: &mut impl Handshake, held: &[u8]) {
    let summary = machine.summary();
    assert_eq!(
        machine.receive(held),
        Ok(0),
        "a machine that took none of {} bytes took some when asked again",
        held.len()
    );
    assert!(
        machine.pending() && machine.transmit().is_empty(),
        "a machine waiting for more bytes moved when asked again"
    );
    assert_eq!(
        machine.summary(),
        summary,
        "asking again changed the machine"
    );
}

/// A machine waiting for TLS (`Status::StartTls`) writes nothing and takes
/// none of the bytes that follow the go-ahead (`held`): those were sent in
/// clear text and must be left for the caller to refuse.
pub fn check_tls_pause(machine: &mut impl Handshake, held: &[u8]) {
    assert!(
        machine.transmit().is_empty(),
        "a machine waiting for TLS has bytes to send"
    );
    if !held.is_empty() {
        assert_eq!(
            machine.receive(held),
            Ok(0),
            "a machine waiting for TLS took bytes sent after the go-ahead"
        );
    }
    assert!(
        machine.wants_tls(),
        "receive moved a machine waiting for TLS"
    );
}

/// The command lines in `wire`, each checked: it ends with CRLF and holds
/// no CR, LF or NUL before it (one command, no injection). The lines are
/// returned without their CRLF.
pub fn read_command_lines(wire: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest = wire;
    while !rest.is_empty() {
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .unwrap_or_else(|| {
                panic!(
                    "a command not ended by CRLF: {:?}",
                    String::from_utf8_lossy(rest)
                )
            });
        let line = &rest[..end];
        assert!(
            !line.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)),
            "CR, LF or NUL inside the command line {:?}",
            String::from_utf8_lossy(line)
        );
        lines.push(String::from_utf8_lossy(line).into_owned());
        rest = &rest[end + 2..];
    }
    lines
}

/// The text of a verbose event.
pub fn event_text(event: handover_proto::machine::Event) -> String {
    use handover_proto::machine::Event;
    match event {
        Event::HeaderOut(t) | Event::HeaderIn(t) | Event::Info(t) => t,
    }
}

/// Asserts that `text` (what `what` shows) holds none of `secrets`, unless
/// the peer itself sent that secret (`peer`): a server may echo anything.
#[track_caller]
pub fn assert_hidden(what: &str, text: &str, secrets: &[&str], peer: &[u8]) {
    for secret in secrets {
        let echoed = peer.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(
            secret.is_empty() || echoed || !text.contains(secret),
            "a secret shows in {what}: {text:?}"
        );
    }
}

/// The split and overtaking checks shared by the handshake targets: `new`
/// builds a fresh machine; `msg` is what the peer sends.
///
/// - the whole message at once, in pieces, and with replies overtaking the
///   request all end the same way, with the same bytes written and left;
/// - bytes appended after a decided handshake are left alone: the machine
///   never reads past the end of its last reply.
pub fn check_handshake<M: Handshake>(new: impl Fn() -> M, msg: &[u8], plan: &Plan) -> Driven {
    // Peer bytes before an error may have been taken by earlier calls in
    // one run and be part of the failing call in another: after an error
    // only the error and the end state are compared.
    // A reply that is an error fails the machine as soon as the deciding
    // byte arrives, even when it overtook a request still going out: then
    // one run may have written less than the other, never other bytes.
    let comparable = |mut d: Driven, reference: &Driven| {
        if d.error.is_some() {
            d.leftover.clear();
            let (short, long) = if d.wire.len() <= reference.wire.len() {
                (&d.wire, &reference.wire)
            } else {
                (&reference.wire, &d.wire)
            };
            assert!(
                long.starts_with(short),
                "the runs wrote different bytes before failing"
            );
            d.wire = reference.wire.clone();
        }
        d
    };
    let whole = drive(&mut new(), msg, &Plan::whole(), false);
    let split = drive(&mut new(), msg, plan, false);
    same(
        "handshake",
        &comparable(whole.clone(), &whole),
        &comparable(split, &whole),
        plan,
    );
    let eager = drive(&mut new(), msg, plan, true);
    same(
        "handshake (replies overtaking the request)",
        &comparable(whole.clone(), &whole),
        &comparable(eager, &whole),
        plan,
    );
    if !whole.ran_out {
        // Decided before the bytes ran out: more bytes change nothing but
        // what is left over.
        const JUNK: &[u8] = b"\x05\x00HTTP/1.1 200 OK\r\n\r\n\x00\x5a";
        let longer = [msg, JUNK].concat();
        let mut extended = drive(&mut new(), &longer, &Plan::whole(), false);
        assert!(
            extended.leftover.ends_with(JUNK),
            "bytes after the end of the handshake were consumed"
        );
        extended
            .leftover
            .truncate(extended.leftover.len() - JUNK.len());
        same(
            "handshake with bytes after its end",
            &whole,
            &extended,
            plan,
        );
    }
    whole
}

// ---------------------------------------------------------------------------
// HTTP/1 request heads, as written by handover (a strict reader).

/// A request head split into its request line and fields, or why it is not
/// one: only CRLF line ends, no CR, LF or NUL inside a line, every field
/// line a non-empty name followed by `:`, one blank line at the very end.
/// The name need not be a token: a user's header line goes out with
/// whatever stands before its colon, as libcurl sends it (curl's test
/// 1147), so what keeps a head whole is the line structure. Field values
/// are returned as written after the colon (not trimmed).
pub fn read_request_head(bytes: &[u8]) -> Result<(String, Vec<(String, String)>), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let body = text
        .strip_suffix("\r\n\r\n")
        .ok_or("head does not end with an empty line")?;
    let mut lines = body.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_string();
    let mut fields = Vec::new();
    for line in std::iter::once(request_line.as_str()).chain(lines.clone()) {
        if line.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(format!("CR, LF or NUL inside line {line:?}"));
        }
    }
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or(format!("field without ':' {line:?}"))?;
        if name.is_empty() {
            return Err(format!("field without a name {line:?}"));
        }
        fields.push((name.to_string(), value.to_string()));
    }
    Ok((request_line, fields))
}

/// RFC 9110 `tchar`.
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Reads every request head in `wire` (a CONNECT handshake may send
/// several); each must pass [`read_request_head`]. Returns the heads.
pub fn read_request_heads(wire: &[u8]) -> Vec<(String, Vec<(String, String)>)> {
    let mut heads = Vec::new();
    let mut rest = wire;
    while !rest.is_empty() {
        let end = rest
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|at| at + 4)
            .unwrap_or(rest.len());
        let head = read_request_head(&rest[..end]).unwrap_or_else(|e| {
            panic!(
                "bad request head written: {e}\n{:?}",
                String::from_utf8_lossy(&rest[..end])
            )
        });
        heads.push(head);
        rest = &rest[end..];
    }
    heads
}

// ---------------------------------------------------------------------------
// Renderers for round trips.

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An IPv6 literal as written in brackets, with a zone id encoded as `%25`
/// (so a zone that itself starts with "25" survives), or a host as is.
pub fn bracketed_host(host: &str) -> String {
    if host.contains(':') {
        format!("[{}]", host.replacen('%', "%25", 1))
    } else {
        host.to_string()
    }
}

/// A URL with its credentials, the way [`handover_proto::url::Url::parse`]
/// reads them back.
pub fn render_url(url: &handover_proto::url::Url) -> String {
    let mut out = format!("{}://", url.scheme);
    if let Some(user) = &url.user {
        out.push_str(&percent_encode(user));
        if let Some(password) = &url.password {
            out.push(':');
            out.push_str(&percent_encode(password));
        }
        out.push('@');
    } else if let Some(password) = &url.password {
        out.push(':');
        out.push_str(&percent_encode(password));
        out.push('@');
    }
    out.push_str(&url.host_for_header());
    if let Some(port) = url.port {
        out.push_str(&format!(":{port}"));
    }
    out.push_str(&url.path);
    out
}

/// An RFC 9110 quoted-string.
pub fn quoted(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Challenges written back as one header value.
pub fn render_challenges(challenges: &[handover_proto::auth::Challenge]) -> String {
    let mut parts = Vec::new();
    for c in challenges {
        let mut text = c.scheme.clone();
        if let Some(token) = &c.token68 {
            text.push(' ');
            text.push_str(token);
        } else if !c.params.is_empty() {
            text.push(' ');
            let params: Vec<String> = c
                .params
                .iter()
                .map(|(k, v)| format!("{k}={}", quoted(v)))
                .collect();
            text.push_str(&params.join(", "));
        }
        parts.push(text);
    }
    parts.join(", ")
}

/// A PEM `PUBLIC KEY` block of `der`, 64 columns.
pub fn render_pem(der: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = b"-----BEGIN PUBLIC KEY-----\n".to_vec();
    for line in b64.as_bytes().chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(b"-----END PUBLIC KEY-----\n");
    out
}

// ---------------------------------------------------------------------------
// DER, for the certificate and OCSP targets: where a parser's slices lie,
// and the items around them.

/// Where `part` starts in `whole`, if it is a subslice of it: parsers that
/// return borrowed slices must return pieces of their input, not copies.
pub fn offset_in(part: &[u8], whole: &[u8]) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (start.checked_add(part.len())? <= whole.len()).then_some(start)
}

/// Whether `part` is a subslice of `whole`.
pub fn is_within(part: &[u8], whole: &[u8]) -> bool {
    offset_in(part, whole).is_some()
}

/// The header and content lengths of the DER item `bytes` starts with, read
/// as handover-proto reads them (one-byte tags, definite lengths of up to
/// four bytes, non-minimal lengths accepted); `None` when it is cut short.
pub fn der_item(bytes: &[u8]) -> Option<(usize, usize)> {
    let first = *bytes.get(1)?;
    let (header, len) = if first < 0x80 {
        (2, usize::from(first))
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let len = bytes
            .get(2..2 + count)?
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (2 + count, len)
    };
    (bytes.len() - header >= len).then_some((header, len))
}

/// The content of `item`, which must be exactly one DER item.
pub fn der_content(item: &[u8]) -> Option<&[u8]> {
    let (header, len) = der_item(item)?;
    (header + len == item.len()).then(|| &item[header..])
}

/// Client (masked) frames turned into what a server would have sent the
/// same payloads as (unmasked), so the decoder can read them back. Panics on
/// a frame without the MASK bit: every client frame must have it.
pub fn unmask_client_frames(mut wire: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while !wire.is_empty() {
        assert!(wire.len() >= 2, "truncated client frame header");
        let (b0, b1) = (wire[0], wire[1]);
        assert!(b1 & 0x80 != 0, "client frame without the MASK bit");
        let (len, ext) = match b1 & 0x7f {
            126 => (u64::from(u16::from_be_bytes([wire[2], wire[3]])), 2),
            127 => (u64::from_be_bytes(wire[2..10].try_into().unwrap()), 8),
            n => (u64::from(n), 0),
        };
        let key: [u8; 4] = wire[2 + ext..6 + ext].try_into().unwrap();
        out.push(b0);
        out.push(b1 & 0x7f);
        out.extend_from_slice(&wire[2..2 + ext]);
        let start = 6 + ext;
        let end = start + usize::try_from(len).unwrap();
        let mut payload = wire[start..end].to_vec();
        handover_proto::ws::Encoder::mask(&mut payload, key, 0);
        out.extend_from_slice(&payload);
        wire = &wire[end..];
    }
    out
}

/// libcurl's `CURLWS_*` numbers, so the ws targets compute with plain
/// bits whatever type the API uses for them.
pub mod ws_bits {
    /// `CURLWS_TEXT`.
    pub const TEXT: u32 = 1;
    /// `CURLWS_BINARY`.
    pub const BINARY: u32 = 2;
    /// `CURLWS_CONT`.
    pub const CONT: u32 = 4;
    /// `CURLWS_CLOSE`.
    pub const CLOSE: u32 = 8;
    /// `CURLWS_PING`.
    pub const PING: u32 = 16;
    /// `CURLWS_OFFSET`.
    pub const OFFSET: u32 = 32;
    /// `CURLWS_PONG`.
    pub const PONG: u32 = 64;
    /// Any control frame.
    pub const CONTROL: u32 = CLOSE | PING | PONG;

    /// The API's flags for `bits` (unknown bits kept, for the checks that
    /// must refuse them).
    pub fn flags(bits: u32) -> handover_proto::ws::Flags {
        handover_proto::ws::Flags::from_bits_retain(bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_chunks_rejoin_and_cycle() {
        let msg: Vec<u8> = (0..=255).collect();
        for steps in [&[][..], &[1], &[0, 3], &[0xff, 2, 0x10]] {
            let plan = Plan::new(steps);
            assert_eq!(plan.chunks(&msg).concat(), msg);
        }
        assert!(Plan::new(&[1]).chunks(&msg).iter().all(|c| c.len() == 2));
        assert_eq!(Plan::new(&[0]).chunks(&msg), [&msg[..]]);
    }

    #[test]
    fn cuts_are_strictly_inside() {
        let plan = Plan::new(&[3]);
        assert_eq!(plan.cuts(10), [4, 8]);
        assert!(Plan::whole().cuts(10).is_empty());
    }

    #[test]
    fn request_heads_are_read_strictly() {
        assert!(read_request_head(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").is_ok());
        assert!(read_request_head(b"GET / HTTP/1.1\r\nHost: a\r\nX\r\n\r\n").is_err());
        assert!(read_request_head(b"GET / HTTP/1.1\r\n: a\r\n\r\n").is_err());
        assert!(read_request_head(b"GET / HTTP/1.1\r\n Ho st : a\r\n\r\n").is_ok());
        assert!(read_request_head(b"GET / HTTP/1.1\r\nHost: a\n\r\n").is_err());
    }

    #[test]
    fn subslices_are_found_and_copies_are_not() {
        let whole = [1u8, 2, 3, 4];
        assert_eq!(offset_in(&whole[1..3], &whole), Some(1));
        assert_eq!(offset_in(&whole[4..], &whole), Some(4));
        assert!(!is_within(&[2, 3], &whole));
    }

    #[test]
    fn der_items_are_measured_as_handover_proto_reads_them() {
        assert_eq!(der_item(&[0x30, 0x01, 0x00, 0xff]), Some((2, 1)));
        assert_eq!(der_item(&[0x04, 0x81, 0x01, 0xaa]), Some((3, 1)));
        assert_eq!(der_item(&[0x04, 0x82, 0x01]), None);
        assert_eq!(der_item(&[0x04, 0x05, 0x00]), None);
        assert_eq!(
            der_content(&[0x30, 0x02, 0x05, 0x00]),
            Some(&[0x05, 0x00][..])
        );
        assert_eq!(der_content(&[0x30, 0x00, 0x00]), None);
    }

    #[test]
    fn unmasking_inverts_masking() {
        let mut payload = *b"hello";
        handover_proto::ws::Encoder::mask(&mut payload, [1, 2, 3, 4], 0);
        let wire = [&[0x81, 0x85, 1, 2, 3, 4][..], &payload].concat();
        assert_eq!(unmask_client_frames(&wire), b"\x81\x05hello");
    }
}

/// Each STARTTLS go-ahead the machine stopped at ends a line of `msg`:
/// the machine took the whole go-ahead and nothing of what follows it.
pub fn check_tls_at_line_ends(msg: &[u8], driven: &Driven) {
    for &at in &driven.tls_at {
        assert!(
            at > 0 && msg.get(at - 1) == Some(&b'\n'),
            "the machine asked for TLS after {at} bytes, not at the end of a line"
        );
    }
}

// ---------------------------------------------------------------------------
// Connect-phase configurations (FTP, SMTP, IMAP, POP3, SASL), picked from
// config bytes. The secrets are fixed strings the oracles look for.

/// The password every connect-phase target logs in with.
pub const PASSWORD: &str = "pa55-w0rd-xyzzy";
/// The bearer token (`CURLOPT_XOAUTH2_BEARER`) of the mail targets.
pub const BEARER: &str = "b34r3r-t0k3n-plugh";

/// The ways a secret can show: as it is, in base64 (SASL LOGIN sends the
/// password alone, base64-encoded) and as a derived `Debug` shows bytes
/// (`112, 97, …`: a buffer holding a written command).
pub fn renderings(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let bytes = format!("{:?}", secret.as_bytes());
    vec![
        secret.to_string(),
        b64.encode(secret),
        bytes.trim_matches(['[', ']']).to_string(),
    ]
}

/// What must never show in verbose output, errors or `Debug`: every
/// rendering of the password and of the token, except those of a secret
/// the server (`peer`) sent itself in any rendering (a server may echo
/// anything, and the machine may keep and show what the server said).
pub fn secrets(peer: &[u8]) -> Vec<String> {
    let contains = |needle: &str| peer.windows(needle.len()).any(|w| w == needle.as_bytes());
    [PASSWORD, BEARER]
        .into_iter()
        .map(renderings)
        .filter(|forms| !forms.iter().any(|form| contains(form)))
        .flatten()
        .collect()
}

/// `CURLOPT_USE_SSL` from two bits.
pub fn pick_use_ssl(bits: u8) -> handover_proto::pingpong::UseSsl {
    use handover_proto::pingpong::UseSsl;
    [UseSsl::None, UseSsl::Try, UseSsl::Control, UseSsl::All][usize::from(bits & 3)]
}

/// Credentials from two bits: none, `alice` with [`PASSWORD`], `alice`
/// with an empty password (EXTERNAL, bearer logins), or a
/// `DOMAIN\user` name (NTLM) with [`PASSWORD`].
pub fn pick_credentials(bits: u8) -> Option<handover_proto::auth::Credentials> {
    use handover_proto::auth::Credentials;
    let (user, password) = match bits & 3 {
        0 => return None,
        1 => ("alice", PASSWORD),
        2 => ("alice", ""),
        _ => ("CORP\\alice", PASSWORD),
    };
    Some(Credentials {
        user: user.into(),
        password: password.into(),
    })
}

/// `CURLOPT_LOGIN_OPTIONS` from a byte: none, or one of a list of valid
/// and invalid option strings (`+LOGIN` and `+APOP` included, for IMAP and
/// POP3; each machine refuses what it does not know).
pub fn pick_login_options(byte: u8) -> Option<String> {
    const OPTIONS: [&str; 15] = [
        "AUTH=*",
        "AUTH=PLAIN",
        "AUTH=LOGIN",
        "AUTH=CRAM-MD5",
        "AUTH=DIGEST-MD5",
        "AUTH=NTLM",
        "AUTH=EXTERNAL",
        "AUTH=XOAUTH2;AUTH=OAUTHBEARER",
        "AUTH=PLAIN;auth=LOGIN;",
        "AUTH=+LOGIN",
        "AUTH=+APOP",
        "AUTH=",
        "MECH=PLAIN",
        "AUTH=GSSAPI;AUTH=SCRAM-SHA-256",
        "AUTH=X-UNKNOWN",
    ];
    let i = usize::from(byte) % (OPTIONS.len() + 1);
    (i > 0).then(|| OPTIONS[i - 1].to_string())
}

/// SASL options from a byte: the initial response (bit 0), the bearer
/// token (bit 1), an authzid (bit 2) and the allowed HTTP auth methods
/// (bits 4-6), which set the default mechanisms.
pub fn pick_sasl_options(byte: u8) -> handover_proto::sasl::SaslOptions {
    use handover_proto::auth::AuthMask;
    let http_auth = [
        AuthMask::BASIC,
        AuthMask::ANY,
        AuthMask::DIGEST,
        AuthMask::NTLM,
        AuthMask::ANYSAFE,
        AuthMask::NONE,
        AuthMask(AuthMask::DIGEST.0 | AuthMask::NTLM.0),
        AuthMask::BASIC,
    ][usize::from((byte >> 4) & 7)];
    handover_proto::sasl::SaslOptions {
        authzid: (byte & 4 != 0).then(|| "bob".to_string()),
        initial_response: byte & 1 != 0,
        bearer: (byte & 2 != 0).then(|| BEARER.to_string()),
        service_name: (byte & 8 != 0).then(|| "svc".to_string()),
        http_auth,
    }
}

/// The entropy of every connect-phase run (fixed: runs must repeat).
pub fn fixed_entropy() -> handover_proto::auth::Entropy {
    handover_proto::auth::Entropy {
        cnonce: "OA6MHXh6VqTrRk".into(),
        ntlm_client_challenge: [0xaa; 8],
        ntlm_timestamp: 0x01d4_0000_0000_0000,
    }
}

/// The checks every line-based connect phase (FTP, SMTP, IMAP, POP3)
/// shares: [`check_handshake`] (split invariance, replies overtaking the
/// commands, progress, nothing read past the phase's final reply), each
/// STARTTLS go-ahead taken whole and alone ([`check_tls_at_line_ends`]),
/// and every byte written a clean command line ([`read_command_lines`]).
/// Returns the reference run and its command lines.
pub fn check_connect_phase<M: Handshake>(
    new: impl Fn() -> M,
    msg: &[u8],
    plan: &Plan,
) -> (Driven, Vec<String>) {
    let end = check_handshake(new, msg, plan);
    check_tls_at_line_ends(msg, &end);
    let lines = read_command_lines(&end.wire);
    (end, lines)
}

/// Drives `machine` through `msg` at once and checks that none of
/// [`secrets`] shows in its verbose events, its error (`Display` and
/// `Debug`) or its own `Debug`, unless the server sent it. Returns the run.
pub fn check_secrets_hidden<M>(machine: &mut M, msg: &[u8]) -> Driven
where
    M: Machine + Debug,
    M::Error: Debug,
{
    let driven = drive(machine, msg, &Plan::whole(), false);
    let secrets = secrets(msg);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    while let Some(event) = machine.poll_event() {
        assert_hidden("a verbose line", &event_text(event), &secrets, msg);
    }
    if let Some(error) = machine.error() {
        assert_hidden("the error", &format!("{error} {error:?}"), &secrets, msg);
        assert!(!error.to_string().is_empty(), "an error without a message");
    }
    assert_hidden("Debug", &format!("{machine:?}"), &secrets, msg);
    driven
}

/// The whole run of a SASL-capable mail phase (IMAP, POP3, SMTP): a
/// configuration the machine refuses must not show a secret in its error;
/// otherwise [`check_connect_phase`], `check_line` on each command line
/// written, [`check_secrets_hidden`], and a finished machine has nothing
/// more to send or read.
pub fn check_mail_phase<M, E>(
    new: impl Fn() -> Result<M, E>,
    msg: &[u8],
    plan: &Plan,
    mut check_line: impl FnMut(&str),
) where
    M: Machine + Debug,
    M::Error: Debug,
    E: std::fmt::Display + Debug,
{
    if let Err(error) = new() {
        let secrets = secrets(b"");
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        assert_hidden(
            "a refused config",
            &format!("{error} {error:?}"),
            &secrets,
            b"",
        );
        return;
    }
    let new = || new().ok().expect("checked above");
    let (end, lines) = check_connect_phase(new, msg, plan);
    for line in &lines {
        check_line(line);
    }
    let mut machine = new();
    assert_eq!(check_secrets_hidden(&mut machine, msg), end);
    if machine.status() == Status::Done {
        assert!(Machine::transmit(&machine).is_empty() && !machine.wants_read());
    }
}

/// A SASL response line: base64 (possibly empty, `=` for an empty initial
/// response) or `*` (cancel).
pub fn is_sasl_response(line: &str) -> bool {
    line == "*"
        || line
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}
