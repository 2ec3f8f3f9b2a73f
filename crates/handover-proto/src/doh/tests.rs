use std::net::{Ipv4Addr, Ipv6Addr};

use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX};
use hickory_proto::rr::Record;

use super::*;
use crate::testing::{for_each_split, hexdump};

/// dnsdist 1.7's answers (captured from a `SpoofAction` rule with its
/// default TTL of 60 s): A and AAAA for doh-test.example, each with the
/// EDNS OPT record dnsdist adds, and NXDOMAIN for nope.example.
const DNSDIST_A: &str = "00008180000100010000000108646f682d74657374076578616d706c650000010001\
c00c000100010000003c00047f00000100002904d0000000000000";
const DNSDIST_AAAA: &str = "00008180000100010000000108646f682d74657374076578616d706c6500001c0001\
c00c001c00010000003c00100000000000000000000000000000000100002904d0000000000000";
const DNSDIST_NX: &str =
    "000081830001000000000001046e6f7065076578616d706c65000001000100002904d0000000000000";

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

/// A response for `host`, with `answers`.
fn response(
    id: u16,
    rcode: ResponseCode,
    host: &str,
    kind: RecordType,
    answers: Vec<Record>,
) -> Vec<u8> {
    let mut m = Message::new();
    m.set_id(id)
        .set_message_type(MessageType::Response)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .set_recursion_available(true)
        .set_response_code(rcode)
        .add_query(Query::query(name(host), kind));
    for record in answers {
        m.add_answer(record);
    }
    m.to_vec().unwrap()
}

fn a(host: &str, ttl: u32, ip: [u8; 4]) -> Record {
    Record::from_rdata(name(host), ttl, RData::A(A(Ipv4Addr::from(ip))))
}

fn aaaa(host: &str, ttl: u32, ip: Ipv6Addr) -> Record {
    Record::from_rdata(name(host), ttl, RData::AAAA(AAAA(ip)))
}

fn ok(body: &[u8]) -> Reply<'_> {
    Reply {
        status: 200,
        content_type: Some("application/dns-message"),
        body,
    }
}

#[test]
fn queries_are_libcurls_bytes() {
    // What libcurl's doh_req_encode writes: ID 0, RD, one IN question.
    let want = hex("00000100000100000000000008646f682d74657374076578616d706c650000010001");
    for host in ["doh-test.example", "doh-test.example."] {
        let got = encode_query(host, Family::A).unwrap();
        assert_eq!(got, want, "{host}\n{}", hexdump(&got));
    }
    let aaaa = encode_query("doh-test.example", Family::Aaaa).unwrap();
    assert_eq!(aaaa.get(aaaa.len() - 4..), Some(&[0, 28, 0, 1][..]));
}

#[test]
fn names_dns_cannot_carry_are_refused() {
    let long_label = format!("{}.example", "a".repeat(64));
    let long_name = vec!["abcdefghi"; 26].join(".");
    for host in ["", ".", "a..b", ".a", "a.b..", &long_label, &long_name] {
        let err = encode_query(host, Family::A).unwrap_err();
        assert!(err.0.contains("cannot ask DoH for"), "{host}: {err}");
    }
    assert!(encode_query(&"a".repeat(63), Family::A).is_ok());
}

#[test]
fn dnsdist_answers_decode() {
    let v4 = decode_answer(&hex(DNSDIST_A), "doh-test.example", Family::A).unwrap();
    assert_eq!(v4.addrs, [IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    assert_eq!(v4.ttl, 60);
    let v6 = decode_answer(&hex(DNSDIST_AAAA), "doh-test.example", Family::Aaaa).unwrap();
    assert_eq!(v6.addrs, [IpAddr::V6(Ipv6Addr::LOCALHOST)]);
    let nx = decode_answer(&hex(DNSDIST_NX), "nope.example", Family::A);
    assert_eq!(nx, Err(ProbeError::NxDomain));
}

#[test]
fn every_truncation_of_an_answer_is_an_error() {
    for body in [hex(DNSDIST_A), hex(DNSDIST_AAAA)] {
        for_each_split(&body, |offset, head, _| {
            if offset == body.len() {
                return;
            }
            let family = if body.len() > 70 {
                Family::Aaaa
            } else {
                Family::A
            };
            let got = decode_answer(head, "doh-test.example", family);
            assert!(
                matches!(got, Err(ProbeError::Malformed(_))),
                "cut at {offset}: {got:?}\n{}",
                hexdump(head)
            );
        });
    }
}

#[test]
fn header_checks_follow_libcurl() {
    let host = "h.example";
    let good = vec![a(host, 5, [10, 0, 0, 1])];
    let cases = [
        (
            response(7, ResponseCode::NoError, host, RecordType::A, good.clone()),
            ProbeError::BadId(7),
        ),
        (
            response(0, ResponseCode::ServFail, host, RecordType::A, vec![]),
            ProbeError::Rcode("Server Failure".into()),
        ),
        (
            response(0, ResponseCode::NoError, host, RecordType::A, vec![]),
            ProbeError::NoAddress,
        ),
        (
            response(
                0,
                ResponseCode::NoError,
                "other.example",
                RecordType::A,
                good.clone(),
            ),
            ProbeError::OtherName("other.example".into()),
        ),
    ];
    for (body, want) in cases {
        let got = decode_answer(&body, host, Family::A);
        assert_eq!(got, Err(want), "\n{}", hexdump(&body));
    }
    // The question's case and a trailing dot do not matter.
    let body = response(0, ResponseCode::NoError, "H.Example.", RecordType::A, good);
    let got = decode_answer(&body, "h.example.", Family::A);
    assert!(got.is_ok(), "{got:?}");
}

#[test]
fn records_of_other_types_fail_and_cnames_pass() {
    let host = "www.example";
    let cname = Record::from_rdata(name(host), 300, RData::CNAME(CNAME(name("real.example"))));
    let answer = vec![
        cname,
        a("real.example", 100, [192, 0, 2, 1]),
        a("real.example", 200_000, [192, 0, 2, 2]),
    ];
    let body = response(0, ResponseCode::NoError, host, RecordType::A, answer);
    let got = decode_answer(&body, host, Family::A).unwrap();
    assert_eq!(got.addrs.len(), 2);
    assert_eq!(got.ttl, 100);

    // A records in answer to an AAAA query: not what was asked.
    let body = response(
        0,
        ResponseCode::NoError,
        host,
        RecordType::AAAA,
        vec![a(host, 1, [1, 2, 3, 4])],
    );
    assert_eq!(
        decode_answer(&body, host, Family::Aaaa),
        Err(ProbeError::UnexpectedType(1))
    );
    let body = response(
        0,
        ResponseCode::NoError,
        host,
        RecordType::A,
        vec![aaaa(host, 1, Ipv6Addr::LOCALHOST)],
    );
    assert_eq!(
        decode_answer(&body, host, Family::A),
        Err(ProbeError::UnexpectedType(28))
    );
    let mx = Record::from_rdata(name(host), 1, RData::MX(MX::new(1, name("mx.example"))));
    let body = response(0, ResponseCode::NoError, host, RecordType::A, vec![mx]);
    assert_eq!(
        decode_answer(&body, host, Family::A),
        Err(ProbeError::UnexpectedType(15))
    );
    let mut chaos = a(host, 1, [1, 2, 3, 4]);
    chaos.set_dns_class(DNSClass::CH);
    let body = response(0, ResponseCode::NoError, host, RecordType::A, vec![chaos]);
    assert_eq!(
        decode_answer(&body, host, Family::A),
        Err(ProbeError::UnexpectedClass(3))
    );
}

#[test]
fn ttls_are_capped_and_addresses_limited() {
    let host = "many.example";
    let answer = (0..40u8).map(|i| a(host, 999_999, [10, 0, 0, i])).collect();
    let body = response(0, ResponseCode::NoError, host, RecordType::A, answer);
    let got = decode_answer(&body, host, Family::A).unwrap();
    assert_eq!(got.addrs.len(), MAX_ADDRESSES);
    assert_eq!(got.ttl, MAX_TTL);
}

#[test]
fn counts_the_body_cannot_carry_are_refused_before_decoding() {
    let mut body = hex(DNSDIST_A);
    // 65535 answers claimed in a 61-byte message.
    body[6] = 0xff;
    body[7] = 0xff;
    let got = decode_answer(&body, "doh-test.example", Family::A);
    assert!(
        matches!(&got, Err(ProbeError::Malformed(m)) if m.contains("counts")),
        "{got:?}"
    );
    assert!(matches!(
        decode_answer(b"", "x", Family::A),
        Err(ProbeError::Malformed(_))
    ));
}

#[test]
fn http_level_checks_come_first() {
    let body = hex(DNSDIST_A);
    let host = "doh-test.example";
    let read = |status, content_type, body: &[u8]| {
        read_reply(
            &Reply {
                status,
                content_type,
                body,
            },
            host,
            Family::A,
        )
    };
    assert_eq!(
        read(500, Some(MEDIA_TYPE), &body),
        Err(ProbeError::HttpStatus(500))
    );
    assert_eq!(read(204, Some(MEDIA_TYPE), &body).map(|a| a.ttl), Ok(60));
    assert_eq!(
        read(200, Some("text/html"), &body),
        Err(ProbeError::ContentType(Some("text/html".into())))
    );
    assert_eq!(read(200, None, &body), Err(ProbeError::ContentType(None)));
    assert!(read(200, Some("Application/DNS-Message; charset=x"), &body).is_ok());
    let big = vec![0u8; MAX_RESPONSE + 1];
    assert_eq!(read(200, Some(MEDIA_TYPE), &big), Err(ProbeError::TooLarge));
    let garbage = b"<html>not dns</html>";
    assert!(matches!(
        read(200, Some(MEDIA_TYPE), garbage),
        Err(ProbeError::BadId(_) | ProbeError::Malformed(_))
    ));
}

#[test]
fn a_lookup_succeeds_when_either_family_has_addresses() {
    let host = "doh-test.example";
    let mut lookup = Resolution::new(host, &[Family::Aaaa, Family::A]).unwrap();
    let order: Vec<Family> = lookup.queries().map(|(f, _)| f).collect();
    assert_eq!(order, [Family::Aaaa, Family::A]);
    assert_eq!(lookup.pending(), 2);
    assert!(lookup.outcome().is_none());
    let v6 = hex(DNSDIST_AAAA);
    assert!(lookup.answered(Family::Aaaa, &ok(&v6)).is_ok());
    assert!(!lookup.is_done());
    assert!(lookup
        .failed(Family::A, "connection refused".into())
        .to_string()
        .contains("refused"));
    // A late second answer changes nothing.
    let v4 = hex(DNSDIST_A);
    assert!(lookup.answered(Family::A, &ok(&v4)).is_err());
    let resolved = lookup.outcome().unwrap().unwrap();
    assert_eq!(resolved.addrs, [IpAddr::V6(Ipv6Addr::LOCALHOST)]);

    // Whatever order they arrive in, A addresses come first.
    let mut lookup = Resolution::new(host, &[Family::Aaaa, Family::A]).unwrap();
    assert!(lookup.answered(Family::A, &ok(&v4)).is_ok());
    assert!(lookup.answered(Family::Aaaa, &ok(&v6)).is_ok());
    let resolved = lookup.outcome().unwrap().unwrap();
    assert_eq!(
        resolved.addrs,
        [
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        ]
    );
    assert_eq!(resolved.ttl, 60);
}

#[test]
fn a_failed_lookup_says_why_per_query() {
    let nx = hex(DNSDIST_NX);
    let mut lookup = Resolution::new("nope.example", &[Family::Aaaa, Family::A]).unwrap();
    lookup.answered(Family::A, &ok(&nx)).unwrap_err();
    lookup.answered(Family::Aaaa, &ok(&nx)).unwrap_err();
    let failed = lookup.outcome().unwrap().unwrap_err();
    assert!(failed.is_nxdomain());
    assert_eq!(
        failed.to_string(),
        "AAAA: no such name (NXDOMAIN); A: no such name (NXDOMAIN)"
    );

    let mut lookup = Resolution::new("nope.example", &[Family::A]).unwrap();
    lookup
        .answered(
            Family::A,
            &Reply {
                status: 502,
                content_type: None,
                body: b"",
            },
        )
        .unwrap_err();
    let failed = lookup.outcome().unwrap().unwrap_err();
    assert!(!failed.is_nxdomain());
    assert_eq!(failed.to_string(), "A: HTTP status 502");
}

#[test]
fn one_family_only_sends_one_query() {
    let lookup = Resolution::new("x.example", &[Family::A, Family::A]).unwrap();
    assert_eq!(lookup.queries().count(), 1);
    assert_eq!(lookup.host(), "x.example");
}
