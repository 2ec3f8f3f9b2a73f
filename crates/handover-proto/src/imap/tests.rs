//! Conversations with a Dovecot-like server, split at every offset;
//! STARTTLS; PREAUTH; tags; every failure with its kind; hostile servers.

use super::*;
use crate::pingpong::{MAX_LINE, MAX_REPLY_LINES};
use crate::testing::{alice, b64};
use crate::testing::{converse, converse_phases, for_each_phase_split, hexdump, Garbage};

/// Bytes after the phase's last answer (the application's first
/// untagged data, say): never consumed.
const AFTER: &[u8] = b"* 3 EXISTS\r\n";

const DOVECOT_GREETING: &[u8] =
    b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE \
LITERAL+ STARTTLS LOGINDISABLED] Dovecot (Debian) ready.\r\n";

/// Dovecot's pre-TLS capabilities with `disable_plaintext_auth = yes`.
const DOVECOT_CAPABILITY_CLEAR: &[u8] =
    b"* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE \
IDLE LITERAL+ STARTTLS LOGINDISABLED\r\n\
A001 OK Pre-login capabilities listed, post-login capabilities have more.\r\n";

const DOVECOT_STARTTLS_OK: &[u8] = b"A002 OK Begin TLS negotiation now.\r\n";

/// And over TLS.
const DOVECOT_CAPABILITY_TLS: &[u8] = b"* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE \
IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN AUTH=CRAM-MD5\r\n\
A003 OK Pre-login capabilities listed, post-login capabilities have more.\r\n";

const DOVECOT_LOGGED_IN: &str = "OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE \
SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL \
CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH \
ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW \
STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE] Logged in";

/// A Dovecot greeting without TLS configured.
const PLAIN_GREETING: &[u8] =
    b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] \
Dovecot ready.\r\n";

fn config(use_ssl: UseSsl, credentials: Option<Credentials>) -> ImapConfig {
    ImapConfig {
        host: "imap.example.com".into(),
        port: 143,
        credentials,
        use_ssl,
        ..ImapConfig::default()
    }
}

struct Script {
    what: &'static str,
    config: ImapConfig,
    server: Vec<Vec<u8>>,
    client: Vec<Vec<u8>>,
    next_tag: &'static str,
    preauth: bool,
    mechanism: Option<Mechanism>,
}

fn scripts() -> Vec<Script> {
    let plain = b64(b"\0alice\0s3cret pass");
    vec![
        Script {
            what: "Dovecot: STARTTLS required, then CRAM-MD5",
            config: config(UseSsl::All, alice()),
            server: vec![
                [
                    DOVECOT_GREETING,
                    DOVECOT_CAPABILITY_CLEAR,
                    DOVECOT_STARTTLS_OK,
                ]
                .concat(),
                [
                    DOVECOT_CAPABILITY_TLS,
                    b"+ PDEyMzQ1Njc4OTAuMTIzNDU2QGRvdmVjb3Q+\r\n",
                    format!("A004 {DOVECOT_LOGGED_IN}\r\n").as_bytes(),
                    AFTER,
                ]
                .concat(),
            ],
            client: vec![
                b"A001 CAPABILITY\r\nA002 STARTTLS\r\n".to_vec(),
                // HMAC-MD5("s3cret pass", "<1234567890.123456@dovecot>"),
                // worked out with Python's hmac module.
                b"A003 CAPABILITY\r\nA004 AUTHENTICATE CRAM-MD5\r\n\
YWxpY2UgOWIzNDgxMDA1YTFiMTI5NGMxYTJjYmFlOGIwNDExYTM=\r\n"
                    .to_vec(),
            ],
            next_tag: "A005",
            preauth: false,
            mechanism: Some(Mechanism::CramMd5),
        },
        Script {
            what: "no credentials: CAPABILITY only (curl's test 660)",
            config: config(UseSsl::None, None),
            server: vec![[
                PLAIN_GREETING,
                b"* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\r\n",
                b"A001 OK Pre-login capabilities listed.\r\n",
                AFTER,
            ]
            .concat()],
            client: vec![b"A001 CAPABILITY\r\n".to_vec()],
            next_tag: "A002",
            preauth: false,
            mechanism: None,
        },
        Script {
            what: "imaps: SASL-IR sends PLAIN with the command",
            config: ImapConfig {
                implicit_tls: true,
                ..config(UseSsl::All, alice())
            },
            server: vec![[
                PLAIN_GREETING,
                b"* ID NIL\r\n",
                b"* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=LOGIN\r\n",
                b"A001 OK done\r\n",
                b"A002 OK Logged in\r\n",
                AFTER,
            ]
            .concat()],
            client: vec![
                format!("A001 CAPABILITY\r\nA002 AUTHENTICATE PLAIN {plain}\r\n").into_bytes(),
            ],
            next_tag: "A003",
            preauth: false,
            mechanism: Some(Mechanism::Plain),
        },
        Script {
            what: "no SASL offered: LOGIN, the password quoted",
            config: config(UseSsl::None, alice()),
            server: vec![[
                b"* OK Courier-IMAP ready.\r\n".as_slice(),
                b"* CAPABILITY IMAP4rev1 UIDPLUS CHILDREN NAMESPACE IDLE\r\n",
                b"A001 OK CAPABILITY completed\r\n",
                b"A002 OK LOGIN Ok.\r\n",
                AFTER,
            ]
            .concat()],
            client: vec![b"A001 CAPABILITY\r\nA002 LOGIN alice \"s3cret pass\"\r\n".to_vec()],
            next_tag: "A003",
            preauth: false,
            mechanism: None,
        },
        Script {
            what: "AUTH=+LOGIN: LOGIN although SASL is offered",
            config: ImapConfig {
                login_options: Some("AUTH=+LOGIN".into()),
                ..config(UseSsl::None, alice())
            },
            server: vec![[
                PLAIN_GREETING,
                b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n",
                b"A001 OK done\r\n",
                b"A002 OK Logged in\r\n",
                AFTER,
            ]
            .concat()],
            client: vec![b"A001 CAPABILITY\r\nA002 LOGIN alice \"s3cret pass\"\r\n".to_vec()],
            next_tag: "A003",
            preauth: false,
            mechanism: None,
        },
        Script {
            what: "PREAUTH: no login even with credentials",
            config: config(UseSsl::Try, alice()),
            server: vec![[
                b"* PREAUTH [CAPABILITY IMAP4rev1] Logged in as alice\r\n".as_slice(),
                b"* 2 CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\n",
                b"A001 OK done\r\n",
                AFTER,
            ]
            .concat()],
            client: vec![b"A001 CAPABILITY\r\n".to_vec()],
            next_tag: "A002",
            preauth: true,
            mechanism: None,
        },
        Script {
            what: "DIGEST-MD5 cancelled, PLAIN next (curl's test 835)",
            config: ImapConfig {
                connection_id: 27,
                ..config(UseSsl::None, alice())
            },
            server: vec![[
                b"* OK ready\r\n".as_slice(),
                b"* CAPABILITY IMAP4rev1 AUTH=DIGEST-MD5 AUTH=PLAIN\r\n",
                b"B001 OK done\r\n",
                b"+ Rubbish\r\n",
                b"B002 NO AUTH exchange cancelled by client\r\n",
                b"+\r\n",
                b"B003 OK AUTHENTICATE completed\r\n",
                AFTER,
            ]
            .concat()],
            client: vec![format!(
                "B001 CAPABILITY\r\nB002 AUTHENTICATE DIGEST-MD5\r\n*\r\n\
B003 AUTHENTICATE PLAIN\r\n{plain}\r\n"
            )
            .into_bytes()],
            next_tag: "B004",
            preauth: false,
            mechanism: Some(Mechanism::Plain),
        },
    ]
}

fn assert_bytes(what: &str, got: &[u8], want: &[u8]) {
    assert!(
        got == want,
        "{what}\n got:\n{}want:\n{}",
        hexdump(got),
        hexdump(want)
    );
}

fn entropy() -> Entropy {
    Entropy::default()
}

#[test]
fn conversations_split_at_every_offset_write_the_expected_bytes() {
    for script in scripts() {
        let phases: Vec<&[u8]> = script.server.iter().map(Vec::as_slice).collect();
        for write_step in [1, 5, usize::MAX] {
            for_each_phase_split(&phases, |split, chunks| {
                let mut imap = Imap::new(script.config.clone(), entropy()).unwrap();
                let out = converse_phases(&mut imap, &chunks, write_step);
                let what = format!("{}: {split}, writes of {write_step}", script.what);
                assert_eq!(out.error, None, "{what}");
                assert_eq!(imap.status(), Status::Done, "{what}");
                assert_eq!(out.wires.len(), script.client.len(), "{what}");
                for (got, want) in out.wires.iter().zip(&script.client) {
                    assert_bytes(&what, got, want);
                }
                assert_bytes(&what, out.leftovers.last().unwrap(), AFTER);
                for before_tls in &out.leftovers[..out.leftovers.len() - 1] {
                    assert_bytes(&what, before_tls, b"");
                }
                assert_eq!(imap.next_tag(), script.next_tag, "{what}");
                assert_eq!(imap.preauth(), script.preauth, "{what}");
                assert_eq!(imap.mechanism(), script.mechanism, "{what}");
            });
        }
    }
}

#[test]
fn one_byte_at_a_time_completes() {
    for script in scripts() {
        let mut imap = Imap::new(script.config.clone(), entropy()).unwrap();
        let phases: Vec<Vec<&[u8]>> = script
            .server
            .iter()
            .map(|p| p.chunks(1).collect())
            .collect();
        let out = converse_phases(&mut imap, &phases, 1);
        assert_eq!(imap.status(), Status::Done, "{}", script.what);
        assert_bytes(script.what, out.leftovers.last().unwrap(), AFTER);
    }
}

#[test]
fn nothing_past_the_starttls_answer_is_consumed() {
    let mut imap = Imap::new(config(UseSsl::Control, alice()), entropy()).unwrap();
    let head = [DOVECOT_GREETING, DOVECOT_CAPABILITY_CLEAR].concat();
    let out = converse(&mut imap, &[&head], usize::MAX);
    assert_eq!(out.error, None);
    assert_eq!(out.wire, b"A001 CAPABILITY\r\nA002 STARTTLS\r\n");
    let input = [
        DOVECOT_STARTTLS_OK,
        b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n",
    ]
    .concat();
    assert_eq!(imap.receive(&input), Ok(DOVECOT_STARTTLS_OK.len()));
    assert_eq!(imap.status(), Status::StartTls);
    assert_eq!(imap.receive(&input[DOVECOT_STARTTLS_OK.len()..]), Ok(0));
    imap.tls_started();
    assert_eq!(imap.transmit(), b"A003 CAPABILITY\r\n");
}

#[test]
fn logindisabled_before_tls_does_not_outlive_it() {
    // Over TLS Dovecot offers no SASL mechanism handover allows here but
    // lifts LOGINDISABLED: LOGIN is used.
    let mut imap = Imap::new(config(UseSsl::All, alice()), entropy()).unwrap();
    let tls = [
        b"* CAPABILITY IMAP4rev1 AUTH=GSSAPI\r\nA003 OK listed\r\n".as_slice(),
        b"A004 OK Logged in\r\n",
    ]
    .concat();
    let head = [
        DOVECOT_GREETING,
        DOVECOT_CAPABILITY_CLEAR,
        DOVECOT_STARTTLS_OK,
    ]
    .concat();
    let out = converse_phases(&mut imap, &[vec![&head], vec![&tls]], usize::MAX);
    assert_eq!(out.error, None);
    assert_bytes(
        "over TLS",
        &out.wires[1],
        b"A003 CAPABILITY\r\nA004 LOGIN alice \"s3cret pass\"\r\n",
    );
}

fn failing(config: ImapConfig, server: &[u8]) -> (ReplyError, Imap) {
    let mut imap = Imap::new(config, entropy()).unwrap();
    let out = converse(&mut imap, &[server], usize::MAX);
    let error = out.error.expect("the conversation fails");
    assert_eq!(imap.status(), Status::Failed);
    assert_eq!(imap.receive(b"A001 OK\r\n"), Err(error.clone()));
    (error, imap)
}

#[test]
fn failures_have_libcurls_kinds() {
    let cases: Vec<(&str, ImapConfig, Vec<u8>, ReplyErrorKind)> = vec![
        (
            "BYE greeting",
            config(UseSsl::None, None),
            b"* BYE Too many connections\r\n".to_vec(),
            ReplyErrorKind::WeirdReply,
        ),
        (
            "STARTTLS not offered, TLS required",
            config(UseSsl::All, alice()),
            [
                PLAIN_GREETING,
                b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA001 OK\r\n",
            ]
            .concat(),
            ReplyErrorKind::UseSslFailed,
        ),
        (
            "PREAUTH and TLS required",
            config(UseSsl::Control, alice()),
            b"* PREAUTH hi\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\nA001 OK\r\n".to_vec(),
            ReplyErrorKind::UseSslFailed,
        ),
        (
            "STARTTLS refused, TLS required",
            config(UseSsl::Control, alice()),
            [
                DOVECOT_GREETING,
                DOVECOT_CAPABILITY_CLEAR,
                b"A002 BAD not now\r\n",
            ]
            .concat(),
            ReplyErrorKind::UseSslFailed,
        ),
        (
            "LOGIN refused",
            config(UseSsl::None, alice()),
            b"* OK hi\r\n* CAPABILITY IMAP4rev1\r\nA001 OK\r\n\
A002 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"
                .to_vec(),
            ReplyErrorKind::LoginDenied,
        ),
        (
            "AUTHENTICATE refused",
            config(UseSsl::None, alice()),
            [
                PLAIN_GREETING,
                b"* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN\r\nA001 OK\r\n",
                b"A002 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
            ]
            .concat(),
            ReplyErrorKind::LoginDenied,
        ),
        (
            "LOGINDISABLED and no SASL",
            config(UseSsl::Try, alice()),
            [
                DOVECOT_GREETING,
                DOVECOT_CAPABILITY_CLEAR,
                b"A002 NO later\r\n",
            ]
            .concat(),
            ReplyErrorKind::LoginDenied,
        ),
        (
            "CRAM-MD5 cancelled with LOGINDISABLED (curl's test 830)",
            config(UseSsl::None, alice()),
            b"* OK hi\r\n* CAPABILITY IMAP4rev1 AUTH=CRAM-MD5 LOGINDISABLED\r\nA001 OK\r\n\
+ Rubbish\r\nA002 NO AUTH exchange cancelled by client\r\n"
                .to_vec(),
            ReplyErrorKind::LoginDenied,
        ),
        (
            "SASL only by the options, nothing usable",
            ImapConfig {
                login_options: Some("AUTH=DIGEST-MD5".into()),
                ..config(UseSsl::None, alice())
            },
            [
                PLAIN_GREETING,
                b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA001 OK\r\n",
            ]
            .concat(),
            ReplyErrorKind::LoginDenied,
        ),
        (
            "a continuation out of place",
            config(UseSsl::None, None),
            b"* OK hi\r\n+ go on\r\n".to_vec(),
            ReplyErrorKind::WeirdReply,
        ),
        (
            "not a response line",
            config(UseSsl::None, None),
            b"* OK hi\r\nHELLO\r\n".to_vec(),
            ReplyErrorKind::WeirdReply,
        ),
        (
            "a NUL",
            config(UseSsl::None, None),
            b"* OK h\0i\r\n".to_vec(),
            ReplyErrorKind::WeirdReply,
        ),
        (
            "a user name with a line break, for LOGIN",
            config(
                UseSsl::None,
                Some(Credentials {
                    user: "a\r\nA999 DELETE INBOX".into(),
                    password: "p".into(),
                }),
            ),
            b"* OK hi\r\n* CAPABILITY IMAP4rev1\r\nA001 OK\r\n".to_vec(),
            ReplyErrorKind::BadOption,
        ),
    ];
    for (what, config, server, kind) in cases {
        let (error, _) = failing(config, &server);
        assert_eq!(error.kind, kind, "{what}: {error}");
    }
}

#[test]
fn use_ssl_try_goes_on_in_clear_and_says_so() {
    let mut imap = Imap::new(config(UseSsl::Try, None), entropy()).unwrap();
    let server = [PLAIN_GREETING, b"* CAPABILITY IMAP4rev1\r\nA001 OK\r\n"].concat();
    let out = converse(&mut imap, &[&server], usize::MAX);
    assert_eq!(out.error, None);
    assert_eq!(imap.status(), Status::Done);
    let events: Vec<Event> = std::iter::from_fn(|| imap.poll_event()).collect();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Info(text) if text.contains("does not offer STARTTLS"))),
        "{events:?}"
    );

    // Refused: the same.
    let mut imap = Imap::new(config(UseSsl::Try, None), entropy()).unwrap();
    let server = [
        DOVECOT_GREETING,
        DOVECOT_CAPABILITY_CLEAR,
        b"A002 NO TLS down\r\n",
    ]
    .concat();
    let out = converse(&mut imap, &[&server], usize::MAX);
    assert_eq!(out.error, None);
    assert_eq!(imap.status(), Status::Done);
    assert_eq!(imap.next_tag(), "A003");
}

#[test]
fn login_hides_the_password_in_verbose_output() {
    let mut imap = Imap::new(config(UseSsl::None, alice()), entropy()).unwrap();
    let server = b"* OK hi\r\n* CAPABILITY IMAP4rev1\r\nA001 OK\r\nA002 OK in\r\n";
    converse(&mut imap, &[server], usize::MAX);
    let events: Vec<Event> = std::iter::from_fn(|| imap.poll_event()).collect();
    assert!(events.contains(&Event::HeaderOut("A002 LOGIN alice <hidden>".into())));
    assert!(events.contains(&Event::HeaderIn("* OK hi".into())));
    assert!(!format!("{events:?}").contains("s3cret"));
}

#[test]
fn login_arguments_are_quoted_as_libcurl_does() {
    assert_eq!(atom("alice"), "alice");
    assert_eq!(atom("a b"), "\"a b\"");
    assert_eq!(atom("p\"w\\"), "\"p\\\"w\\\\\"");
    assert_eq!(atom("50%"), "\"50%\"");
    assert_eq!(atom(""), "\"\"");
    assert_eq!(atom("user@example.com"), "user@example.com");
}

#[test]
fn tags_follow_the_connection_number() {
    for (id, tag) in [(0, "A001"), (1, "B001"), (25, "Z001"), (26, "A001")] {
        let imap = Imap::new(
            ImapConfig {
                connection_id: id,
                ..config(UseSsl::None, None)
            },
            entropy(),
        )
        .unwrap();
        assert_eq!(imap.next_tag(), tag);
    }
}

#[test]
fn bad_login_options_are_refused_up_front() {
    for options in ["AUTH=+APOP", "AUTH=FOO", "FOO=1", "AUTH="] {
        let error = Imap::new(
            ImapConfig {
                login_options: Some(options.into()),
                ..config(UseSsl::None, None)
            },
            entropy(),
        )
        .unwrap_err();
        assert_eq!(error.kind, ReplyErrorKind::BadOption, "{options}");
    }
}

#[test]
fn closing_mid_phase_fails_with_closed() {
    let mut imap = Imap::new(config(UseSsl::None, None), entropy()).unwrap();
    imap.receive(PLAIN_GREETING).unwrap();
    imap.sent(usize::MAX);
    imap.peer_closed();
    let error = imap.error().unwrap();
    assert_eq!(error.kind, ReplyErrorKind::Closed);
    assert!(error.message.contains("CAPABILITY"), "{error}");
}

#[test]
fn endless_untagged_data_fails_bounded() {
    let mut imap = Imap::new(config(UseSsl::None, None), entropy()).unwrap();
    imap.receive(PLAIN_GREETING).unwrap();
    imap.sent(usize::MAX);
    let line = b"* OK [ALERT] still here\r\n";
    let mut result = Ok(0);
    for _ in 0..MAX_REPLY_LINES + 1 {
        result = imap.receive(line);
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result.unwrap_err().kind, ReplyErrorKind::TooLarge);
}

#[test]
fn a_one_mebibyte_line_fails_bounded() {
    let mut imap = Imap::new(config(UseSsl::None, None), entropy()).unwrap();
    let mut greeting = b"* OK ".to_vec();
    greeting.resize(1 << 20, b'x');
    let error = imap.receive(&greeting).unwrap_err();
    assert_eq!(error.kind, ReplyErrorKind::TooLarge);
    assert!(greeting.len() > MAX_LINE);
}

#[test]
fn garbage_fails_without_panicking() {
    let mut garbage = Garbage::new(2);
    for round in 0..500 {
        let len = (garbage.next_u64() % 300) as usize;
        let mut bytes = garbage.bytes(len);
        if round % 3 == 0 {
            bytes = [PLAIN_GREETING, b"* CAPABILITY ", &bytes].concat();
        }
        let mut imap = Imap::new(config(UseSsl::Try, alice()), entropy()).unwrap();
        let chunks: Vec<&[u8]> = bytes.chunks(13).collect();
        let out = converse(&mut imap, &chunks, 3);
        if let Some(error) = out.error {
            assert!(
                matches!(
                    error.kind,
                    ReplyErrorKind::WeirdReply | ReplyErrorKind::TooLarge
                ),
                "{error:?}"
            );
        }
    }
}
