//! DNS over HTTPS (RFC 8484), the DNS half of libcurl's `CURLOPT_DOH_URL`:
//! the queries a lookup sends and what the answers mean. Sending them, one
//! HTTPS `POST` per query, is the engine's part.
//!
//! ```text
//!   Resolution::new(host, families) ── queries(): one DNS message per family
//!        │                              (AAAA first, then A, as libcurl)
//!        ├── answered(family, Reply { status, content_type, body })
//!        ├── failed(family, why)        (the HTTP transfer itself failed)
//!        └── is_done() ──> outcome(): Resolved { addrs, ttl } | Failed
//! ```
//!
//! As in libcurl, a lookup succeeds when either query brings addresses: an
//! IPv6-less name answers AAAA with no records and still resolves. The
//! addresses come A first, then AAAA, at most [`MAX_ADDRESSES`]; the TTL
//! is the smallest of the answers', capped at a day (libcurl only shows
//! it: the DNS cache keeps entries for `dns_cache_timeout`).
//!
//! DNS messages are encoded and decoded by `hickory-proto`. What this
//! module adds are libcurl's checks on the answer (ID 0, RCODE, record
//! types and classes, addresses present) and limits on what a server can
//! make the client hold: a body of at most [`MAX_RESPONSE`] bytes, and
//! record counts that the body can actually carry, checked before the
//! decoder allocates for them.

use std::fmt;
use std::net::IpAddr;

use hickory_proto::op::{Header, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};

/// The largest DoH response body accepted: libcurl's `DYN_DOH_RESPONSE`.
/// An answer of 24 addresses is under 700 bytes; a body past this is an
/// error, not truncated.
pub const MAX_RESPONSE: usize = 3000;

/// The most addresses one lookup keeps (libcurl's `DOH_MAX_ADDR`); more
/// are ignored.
pub const MAX_ADDRESSES: usize = 24;

/// The largest TTL reported, in seconds (libcurl's `MAX_DNS_TTL`).
pub const MAX_TTL: u32 = 86_400;

/// The media type of DoH requests and responses (RFC 8484 §6).
pub const MEDIA_TYPE: &str = "application/dns-message";

/// The smallest question (the root name, type, class) and resource record
/// (the root name, type, class, TTL, RDLENGTH) on the wire.
const MIN_QUESTION: usize = 5;
const MIN_RECORD: usize = 11;
const HEADER_LEN: usize = 12;

/// DNAME's type number (RFC 6672), which hickory has no name for.
const DNAME: u16 = 39;

message_error!(
    /// A name that cannot be put in a DNS query: an empty label, a label
    /// over 63 bytes, a name over 253.
    DohError
);

/// Which addresses a query asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4 addresses (an `A` query).
    A,
    /// IPv6 addresses (an `AAAA` query).
    Aaaa,
}

impl Family {
    /// The record type's name, as verbose output shows it: `A`, `AAAA`.
    pub fn name(self) -> &'static str {
        match self {
            Family::A => "A",
            Family::Aaaa => "AAAA",
        }
    }

    fn record_type(self) -> RecordType {
        match self {
            Family::A => RecordType::A,
            Family::Aaaa => RecordType::AAAA,
        }
    }
}

/// The DNS query for `host`'s `family` addresses, as libcurl sends it: ID 0
/// (RFC 8484 §4.1 asks for 0, so HTTP caches can share answers), recursion
/// desired, one question of class IN.
///
/// # Examples
///
/// ```
/// use handover_proto::doh::{encode_query, Family};
///
/// let query = encode_query("example.com", Family::A)?;
/// assert_eq!(&query[..4], &[0, 0, 1, 0]); // ID 0, RD
/// assert_eq!(query.len(), 12 + 13 + 4);
/// assert!(encode_query("a..b", Family::A).is_err());
/// # Ok::<(), handover_proto::doh::DohError>(())
/// ```
pub fn encode_query(host: &str, family: Family) -> Result<Vec<u8>, DohError> {
    let bad = |why: String| DohError(format!("cannot ask DoH for {host}: {why}"));
    let trimmed = host.strip_suffix('.').unwrap_or(host);
    if trimmed.is_empty() || trimmed.split('.').any(str::is_empty) {
        // hickory reads a leading dot or ".." as the root; DNS has no such name.
        return Err(bad("empty label".to_owned()));
    }
    let mut name = Name::from_ascii(trimmed).map_err(|e| bad(e.to_string()))?;
    name.set_fqdn(true);
    let mut message = Message::new();
    message
        .set_id(0)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(name, family.record_type()));
    message.to_vec().map_err(|e| bad(e.to_string()))
}

/// What one query found: its addresses and the smallest TTL among the
/// answer's records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The addresses, in the answer's order.
    pub addrs: Vec<IpAddr>,
    /// Seconds, at most [`MAX_TTL`].
    pub ttl: u32,
}

/// Why one query brought no addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeError {
    /// The HTTP transfer failed (connect, TLS, timeout...): its message.
    Transport(String),
    /// The server answered with a status other than 2xx.
    HttpStatus(u16),
    /// The response is not `application/dns-message` (the type it had, if
    /// any).
    ContentType(Option<String>),
    /// The body is longer than [`MAX_RESPONSE`].
    TooLarge,
    /// RCODE 3: the name does not exist.
    NxDomain,
    /// Another non-zero RCODE (SERVFAIL, REFUSED...).
    Rcode(String),
    /// The answer's ID is not the query's 0.
    BadId(u16),
    /// The body is not a well-formed DNS message.
    Malformed(String),
    /// The answer is for another name than the one asked.
    OtherName(String),
    /// An answer record of a type that was not asked for (nor CNAME, DNAME).
    UnexpectedType(u16),
    /// An answer record of a class other than IN.
    UnexpectedClass(u16),
    /// A well-formed answer without addresses of the family (NODATA).
    NoAddress,
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeError::Transport(why) => f.write_str(why),
            ProbeError::HttpStatus(status) => write!(f, "HTTP status {status}"),
            ProbeError::ContentType(Some(t)) => {
                write!(f, "Content-Type \"{t}\", not {MEDIA_TYPE}")
            }
            ProbeError::ContentType(None) => write!(f, "no Content-Type, not {MEDIA_TYPE}"),
            ProbeError::TooLarge => write!(f, "response larger than {MAX_RESPONSE} bytes"),
            ProbeError::NxDomain => f.write_str("no such name (NXDOMAIN)"),
            ProbeError::Rcode(rcode) => write!(f, "DNS error {rcode}"),
            ProbeError::BadId(id) => write!(f, "bad DNS message: ID {id}, not 0"),
            ProbeError::Malformed(why) => write!(f, "bad DNS message: {why}"),
            ProbeError::OtherName(name) => write!(f, "bad DNS message: the answer is for {name}"),
            ProbeError::UnexpectedType(t) => {
                write!(f, "bad DNS message: unexpected record type {t}")
            }
            ProbeError::UnexpectedClass(c) => {
                write!(f, "bad DNS message: unexpected record class {c}")
            }
            ProbeError::NoAddress => f.write_str("no addresses"),
        }
    }
}

impl std::error::Error for ProbeError {}

/// An HTTP response to a DoH query, as the engine received it.
#[derive(Clone, Copy, Debug)]
pub struct Reply<'a> {
    /// The status code.
    pub status: u16,
    /// The `Content-Type` header's value, if the response had one.
    pub content_type: Option<&'a str>,
    /// The body, at most [`MAX_RESPONSE`] bytes of it.
    pub body: &'a [u8],
}

/// Checks an HTTP response to the `family` query of `host` and reads its
/// addresses: a 2xx status, `application/dns-message`, a body within
/// [`MAX_RESPONSE`], then [`decode_answer`].
pub fn read_reply(reply: &Reply<'_>, host: &str, family: Family) -> Result<Answer, ProbeError> {
    if !(200..300).contains(&reply.status) {
        return Err(ProbeError::HttpStatus(reply.status));
    }
    let media = reply
        .content_type
        .map(|t| t.split(';').next().unwrap_or_default().trim());
    if !media.is_some_and(|m| m.eq_ignore_ascii_case(MEDIA_TYPE)) {
        return Err(ProbeError::ContentType(
            reply.content_type.map(str::to_owned),
        ));
    }
    if reply.body.len() > MAX_RESPONSE {
        return Err(ProbeError::TooLarge);
    }
    decode_answer(reply.body, host, family)
}

/// Reads the addresses of a DNS answer to the `family` query of `host`,
/// with libcurl's checks: ID 0, RCODE 0 (3 is [`ProbeError::NxDomain`]),
/// answer records of the family's type, CNAME or DNAME and class IN, and
/// at least one address. Names in a CNAME chain are not followed: the
/// server's recursion did that, and its addresses are the answer.
pub fn decode_answer(body: &[u8], host: &str, family: Family) -> Result<Answer, ProbeError> {
    let header = Header::read(&mut BinDecoder::new(body))
        .map_err(|_| ProbeError::Malformed(format!("{} bytes, too short", body.len())))?;
    // The decoder reserves room for as many records as the header claims:
    // claims the body cannot carry are refused before it does.
    let claimed = usize::from(header.query_count()) * MIN_QUESTION
        + (usize::from(header.answer_count())
            + usize::from(header.name_server_count())
            + usize::from(header.additional_count()))
            * MIN_RECORD;
    if claimed > body.len().saturating_sub(HEADER_LEN) {
        return Err(ProbeError::Malformed(format!(
            "its counts need more than its {} bytes",
            body.len()
        )));
    }
    if header.id() != 0 {
        return Err(ProbeError::BadId(header.id()));
    }
    let message = Message::from_vec(body).map_err(|e| ProbeError::Malformed(e.to_string()))?;
    match message.response_code() {
        ResponseCode::NoError => {}
        ResponseCode::NXDomain => return Err(ProbeError::NxDomain),
        other => return Err(ProbeError::Rcode(other.to_string())),
    }
    if let Some(query) = message.queries().first() {
        let asked = Name::from_ascii(host.strip_suffix('.').unwrap_or(host)).ok();
        if !asked.is_some_and(|asked| asked.eq_ignore_root(query.name())) {
            let other = query.name().to_string();
            return Err(ProbeError::OtherName(
                other.trim_end_matches('.').to_owned(),
            ));
        }
    }
    let wanted = family.record_type();
    let mut answer = Answer {
        addrs: Vec::new(),
        ttl: u32::MAX,
    };
    for record in message.answers() {
        let kind = record.record_type();
        if kind != wanted && kind != RecordType::CNAME && u16::from(kind) != DNAME {
            return Err(ProbeError::UnexpectedType(u16::from(kind)));
        }
        if record.dns_class() != DNSClass::IN {
            return Err(ProbeError::UnexpectedClass(u16::from(record.dns_class())));
        }
        answer.ttl = answer.ttl.min(record.ttl().min(MAX_TTL));
        let addr = match record.data() {
            RData::A(a) if family == Family::A => IpAddr::V4(a.0),
            RData::AAAA(a) if family == Family::Aaaa => IpAddr::V6(a.0),
            _ => continue,
        };
        if answer.addrs.len() < MAX_ADDRESSES {
            answer.addrs.push(addr);
        }
    }
    if answer.addrs.is_empty() {
        return Err(ProbeError::NoAddress);
    }
    Ok(answer)
}

/// One name's DoH lookup: its queries, and the answers as they come in.
#[derive(Clone, Debug)]
pub struct Resolution {
    host: String,
    probes: Vec<Probe>,
}

#[derive(Clone, Debug)]
struct Probe {
    family: Family,
    query: Vec<u8>,
    result: Option<Result<Answer, ProbeError>>,
}

/// A lookup that found addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// A addresses first, then AAAA; at most [`MAX_ADDRESSES`].
    pub addrs: Vec<IpAddr>,
    /// The smallest TTL of the answers that brought addresses, in seconds.
    pub ttl: u32,
}

/// A lookup in which no query brought an address: why, per query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failed {
    /// Each query's failure, in the order the queries were made.
    pub errors: Vec<(Family, ProbeError)>,
}

impl Failed {
    /// True when every query was answered NXDOMAIN: the name does not
    /// exist, as opposed to a server or transport failure.
    pub fn is_nxdomain(&self) -> bool {
        self.errors
            .iter()
            .all(|(_, e)| matches!(e, ProbeError::NxDomain))
    }
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (family, error)) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {error}", family.name())?;
        }
        Ok(())
    }
}

impl std::error::Error for Failed {}

impl Resolution {
    /// A lookup of `host` asking for each of `families` (libcurl asks AAAA
    /// first, then A; `ip_resolve` may leave one out).
    ///
    /// # Examples
    ///
    /// ```
    /// use handover_proto::doh::{Family, Reply, Resolution};
    ///
    /// let mut lookup = Resolution::new("example.com", &[Family::A])?;
    /// assert_eq!(lookup.queries().count(), 1);
    /// let refused = Reply { status: 500, content_type: None, body: b"" };
    /// assert!(lookup.answered(Family::A, &refused).is_err());
    /// assert!(lookup.is_done());
    /// let failed = lookup.outcome().unwrap().unwrap_err();
    /// assert_eq!(failed.to_string(), "A: HTTP status 500");
    /// # Ok::<(), handover_proto::doh::DohError>(())
    /// ```
    pub fn new(host: &str, families: &[Family]) -> Result<Resolution, DohError> {
        let mut probes = Vec::with_capacity(families.len());
        for &family in families {
            if probes.iter().any(|p: &Probe| p.family == family) {
                continue;
            }
            probes.push(Probe {
                family,
                query: encode_query(host, family)?,
                result: None,
            });
        }
        Ok(Resolution {
            host: host.to_owned(),
            probes,
        })
    }

    /// The name looked up.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The queries to send: each family and its DNS message.
    pub fn queries(&self) -> impl Iterator<Item = (Family, &[u8])> + '_ {
        self.probes.iter().map(|p| (p.family, p.query.as_slice()))
    }

    /// The HTTP response to the `family` query came in: what it says. A
    /// second response to the same query is ignored (the first stands).
    pub fn answered(&mut self, family: Family, reply: &Reply<'_>) -> Result<&Answer, &ProbeError> {
        let host = self.host.clone();
        self.settle(family, || read_reply(reply, &host, family))
    }

    /// The HTTP transfer of the `family` query failed; `why` says how.
    pub fn failed(&mut self, family: Family, why: String) -> &ProbeError {
        match self.settle(family, || Err(ProbeError::Transport(why))) {
            Err(e) => e,
            // The first result stands: an earlier answer is not undone.
            Ok(_) => &ProbeError::NoAddress,
        }
    }

    fn settle(
        &mut self,
        family: Family,
        result: impl FnOnce() -> Result<Answer, ProbeError>,
    ) -> Result<&Answer, &ProbeError> {
        match self.probes.iter_mut().find(|p| p.family == family) {
            Some(probe) => probe.result.get_or_insert_with(result).as_ref(),
            None => Err(&ProbeError::NoAddress),
        }
    }

    /// Queries still waiting for their answer.
    pub fn pending(&self) -> usize {
        self.probes.iter().filter(|p| p.result.is_none()).count()
    }

    /// True once every query has its answer or failure.
    pub fn is_done(&self) -> bool {
        self.pending() == 0
    }

    /// The result, once [`is_done`](Resolution::is_done): the addresses
    /// every successful query found, or why each query found none.
    pub fn outcome(&self) -> Option<Result<Resolved, Failed>> {
        if !self.is_done() {
            return None;
        }
        let mut addrs = Vec::new();
        let mut ttl = u32::MAX;
        let mut errors = Vec::new();
        for family in [Family::A, Family::Aaaa] {
            for probe in self.probes.iter().filter(|p| p.family == family) {
                match &probe.result {
                    Some(Ok(answer)) => {
                        let room = MAX_ADDRESSES.saturating_sub(addrs.len());
                        addrs.extend(answer.addrs.iter().take(room));
                        ttl = ttl.min(answer.ttl);
                    }
                    Some(Err(e)) => errors.push((probe.family, e.clone())),
                    None => {}
                }
            }
        }
        if addrs.is_empty() {
            // In the order the queries were made.
            errors.sort_by_key(|(family, _)| self.probes.iter().position(|p| p.family == *family));
            return Some(Err(Failed { errors }));
        }
        Some(Ok(Resolved { addrs, ttl }))
    }
}

#[cfg(test)]
mod tests;
