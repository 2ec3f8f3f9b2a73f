//! DNS over HTTPS (`doh::decode_answer`, `read_reply`, `Resolution`,
//! `encode_query`): the DoH server's reply is the peer's, every byte of it;
//! the host name comes from the URL.
//!
//! Input: `[config][plan][host name] \n [DNS reply body]`. Config bit 0:
//! the family the reply is read for (A, AAAA); bits 1-2: the lookup's
//! families (AAAA and A, A, AAAA, A AAAA A); bit 3: answers come in the
//! other order; bit 4: the second query's transfer fails instead; bits 5-6:
//! the reply's Content-Type (the DoH type, the same with a parameter and
//! in other case, none, `text/html`); bit 7: the HTTP status (u16, little
//! endian) and a Content-Type line come from the input after the host line
//! (bits 5-6 then only say whether there is a Content-Type).
//!
//! Checks: decoding is deterministic; an address list is never empty and
//! at most `MAX_ADDRESSES` long, the TTL at most `MAX_TTL`, and both agree
//! with what hickory reads in the same body (the family's records in order,
//! the smallest TTL of the answer section); a body shorter than a DNS
//! header is malformed; a canonical message cut at the plan is an error;
//! `read_reply` is `decode_answer` behind a model of its HTTP checks (2xx,
//! the media type without parameters in any case, the size limit). A query
//! `encode_query` makes reads back (ID 0, RD, one IN question for the host
//! and family) and a reply built from it with one address decodes to that
//! address; `Resolution` sends exactly those queries, answers each query
//! as `read_reply` does and only once, and its outcome is the model's: A
//! addresses first, then AAAA, capped; the smallest TTL; otherwise every
//! query's error in query order.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use handover_proto::doh::{
    decode_answer, encode_query, read_reply, Answer, Family, ProbeError, Reply, Resolution,
    MAX_ADDRESSES, MAX_RESPONSE, MAX_TTL, MEDIA_TYPE,
};
use handover_proto_fuzz::oracle::Input;
use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use libfuzzer_sys::fuzz_target;

const FAMILIES: [Family; 2] = [Family::A, Family::Aaaa];

/// What hickory reads in `body`: the family's addresses in order and the
/// smallest TTL of the answer section (capped), when it reads a message.
fn hickory_answer(body: &[u8], family: Family) -> Option<(Vec<IpAddr>, u32)> {
    let message = Message::from_vec(body).ok()?;
    let mut addrs = Vec::new();
    let mut ttl = u32::MAX;
    for record in message.answers() {
        ttl = ttl.min(record.ttl().min(MAX_TTL));
        match (record.data(), family) {
            (RData::A(a), Family::A) => addrs.push(IpAddr::V4(a.0)),
            (RData::AAAA(a), Family::Aaaa) => addrs.push(IpAddr::V6(a.0)),
            _ => {}
        }
    }
    Some((addrs, ttl))
}

fn check_decoded(body: &[u8], host: &str, family: Family, plan_cuts: &[usize]) {
    let decoded = decode_answer(body, host, family);
    assert_eq!(decoded, decode_answer(body, host, family));
    if body.len() < 12 {
        assert!(
            matches!(decoded, Err(ProbeError::Malformed(_))),
            "{decoded:?}"
        );
    }
    let Ok(answer) = &decoded else { return };
    assert!(!answer.addrs.is_empty() && answer.addrs.len() <= MAX_ADDRESSES);
    assert!(answer.ttl <= MAX_TTL);
    let (addrs, ttl) = hickory_answer(body, family).expect("decoded, so hickory reads it");
    assert_eq!(
        answer.addrs,
        addrs[..addrs.len().min(MAX_ADDRESSES)],
        "not the family's records in order"
    );
    assert_eq!(answer.ttl, ttl, "not the smallest TTL");
    // A message hickory writes back byte for byte carries nothing after
    // its last record: any cut of it loses part of one.
    let canonical = Message::from_vec(body)
        .and_then(|m| m.to_vec())
        .is_ok_and(|again| again == body);
    if canonical {
        for &cut in plan_cuts {
            let got = decode_answer(&body[..cut], host, family);
            assert!(got.is_err(), "a {cut}-byte prefix decodes: {got:?}");
        }
    }
}

/// The query for `host` reads back as asked, and a reply made from it with
/// one address decodes to that address.
fn check_query(host: &str, family: Family) {
    let query = encode_query(host, family);
    let lookup = Resolution::new(host, &[family]);
    let Ok(query) = query else {
        assert!(lookup.is_err(), "a lookup without its query");
        return;
    };
    let lookup = lookup.expect("the query encodes, so the lookup starts");
    let queries: Vec<(Family, &[u8])> = lookup.queries().collect();
    assert_eq!(queries, [(family, query.as_slice())]);
    assert_eq!(lookup.host(), host);

    let mut message = Message::from_vec(&query).expect("the query decodes");
    assert_eq!(message.id(), 0);
    assert_eq!(message.message_type(), MessageType::Query);
    assert_eq!(message.op_code(), OpCode::Query);
    assert!(message.recursion_desired());
    assert!(message.answers().is_empty() && message.additionals().is_empty());
    let [question] = message.queries() else {
        panic!("not one question: {:?}", message.queries())
    };
    let kind = match family {
        Family::A => RecordType::A,
        Family::Aaaa => RecordType::AAAA,
    };
    assert_eq!(question.query_type(), kind);
    assert_eq!(question.query_class(), DNSClass::IN);
    let asked = Name::from_ascii(host.strip_suffix('.').unwrap_or(host)).expect("encoded");
    assert!(
        asked.eq_ignore_root(question.name()),
        "asked {asked}, sent {}",
        question.name()
    );
    assert!(query.len() <= 12 + 255 + 4);

    let name = question.name().clone();
    let (data, addr) = match family {
        Family::A => {
            let ip = Ipv4Addr::new(192, 0, 2, 7);
            (RData::A(A(ip)), IpAddr::V4(ip))
        }
        Family::Aaaa => {
            let ip = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7);
            (RData::AAAA(AAAA(ip)), IpAddr::V6(ip))
        }
    };
    message
        .set_message_type(MessageType::Response)
        .set_response_code(ResponseCode::NoError)
        .add_answer(Record::from_rdata(name, 300, data));
    let reply = message.to_vec().expect("the reply encodes");
    assert_eq!(
        decode_answer(&reply, host, family),
        Ok(Answer {
            addrs: vec![addr],
            ttl: 300
        }),
        "the reply to our own query"
    );
}

/// A lookup of `families` answered with `reply` in the order the config
/// says (and `late` coming after each answer), against the model.
fn check_lookup(host: &str, families: &[Family], reply: &Reply<'_>, late: &Reply<'_>, config: u8) {
    let Ok(mut lookup) = Resolution::new(host, families) else {
        assert!(families.iter().any(|&f| encode_query(host, f).is_err()));
        return;
    };
    let mut order: Vec<Family> = Vec::new();
    for &family in families {
        if !order.contains(&family) {
            order.push(family);
        }
    }
    let sent: Vec<Family> = lookup.queries().map(|(f, _)| f).collect();
    assert_eq!(sent, order, "the queries are the families, once each");
    assert_eq!(lookup.pending(), order.len());
    assert!(lookup.outcome().is_none());

    let mut steps = order.clone();
    if config & 0x08 != 0 {
        steps.reverse();
    }
    let mut results: Vec<(Family, Result<Answer, ProbeError>)> = Vec::new();
    for (i, &family) in steps.iter().enumerate() {
        assert!(lookup.outcome().is_none());
        let result = if i == 1 && config & 0x10 != 0 {
            let error = lookup.failed(family, "connection refused".into()).clone();
            assert_eq!(error, ProbeError::Transport("connection refused".into()));
            Err(error)
        } else {
            let want = read_reply(reply, host, family);
            let got = lookup
                .answered(family, reply)
                .cloned()
                .map_err(Clone::clone);
            assert_eq!(got, want, "answered is not read_reply");
            got
        };
        // The first result stands.
        let again = lookup.answered(family, late).cloned().map_err(Clone::clone);
        assert_eq!(again, result, "a second reply changed the first");
        let failed = lookup.failed(family, "late".into()).clone();
        match &result {
            Ok(_) => assert_eq!(failed, ProbeError::NoAddress),
            Err(e) => assert_eq!(&failed, e),
        }
        results.push((family, result));
        assert_eq!(lookup.pending(), order.len() - results.len());
    }
    assert!(lookup.is_done());

    // The model: A first, then AAAA; capped; the smallest TTL.
    let mut addrs = Vec::new();
    let mut ttl = u32::MAX;
    for family in FAMILIES {
        for (_, result) in results.iter().filter(|(f, _)| *f == family) {
            if let Ok(answer) = result {
                addrs.extend(answer.addrs.iter().copied());
                ttl = ttl.min(answer.ttl);
            }
        }
    }
    addrs.truncate(MAX_ADDRESSES);
    let outcome = lookup.outcome().expect("done");
    if addrs.is_empty() {
        let failed = outcome.expect_err("no addresses");
        let errors: Vec<(Family, ProbeError)> = order
            .iter()
            .map(|f| {
                let (_, r) = results.iter().find(|(g, _)| g == f).expect("answered");
                (*f, r.clone().expect_err("no addresses"))
            })
            .collect();
        assert_eq!(failed.errors, errors);
        assert_eq!(
            failed.is_nxdomain(),
            errors.iter().all(|(_, e)| *e == ProbeError::NxDomain)
        );
        assert!(!failed.to_string().is_empty());
    } else {
        let resolved = outcome.expect("addresses");
        assert_eq!((resolved.addrs, resolved.ttl), (addrs, ttl));
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let config = input.byte();
    let plan = input.plan();
    let host = input.line();
    // With config bit 7, the HTTP side of the reply comes from the input.
    let (status, custom_type) = if config & 0x80 != 0 {
        (input.u16(), Some(input.line()))
    } else {
        (200, None)
    };
    let body = input.rest();
    let family = FAMILIES[usize::from(config & 1)];

    check_decoded(body, &host, family, &plan.cuts(body.len()));
    let content_type = match (config >> 5) & 3 {
        2 => None,
        _ if custom_type.is_some() => custom_type.as_deref(),
        0 => Some(MEDIA_TYPE),
        1 => Some("Application/DNS-Message; charset=utf-8"),
        _ => Some("text/html"),
    };
    let reply = Reply {
        status,
        content_type,
        body,
    };
    // The HTTP checks, in order: status, media type (parameters and case
    // aside), size; then the DNS message.
    let media = content_type.map(|t| t.split(';').next().unwrap_or_default().trim());
    let want = if !(200..300).contains(&status) {
        Err(ProbeError::HttpStatus(status))
    } else if !media.is_some_and(|m| m.eq_ignore_ascii_case(MEDIA_TYPE)) {
        Err(ProbeError::ContentType(content_type.map(str::to_owned)))
    } else if body.len() > MAX_RESPONSE {
        Err(ProbeError::TooLarge)
    } else {
        decode_answer(body, &host, family)
    };
    assert_eq!(read_reply(&reply, &host, family), want);

    for family in FAMILIES {
        check_query(&host, family);
    }
    let families: &[Family] = match (config >> 1) & 3 {
        0 => &[Family::Aaaa, Family::A],
        1 => &[Family::A],
        2 => &[Family::Aaaa],
        _ => &[Family::A, Family::Aaaa, Family::A],
    };
    let refused = Reply {
        status: 503,
        content_type: None,
        body: b"",
    };
    check_lookup(&host, families, &reply, &refused, config);
});
