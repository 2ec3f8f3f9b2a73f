//! Conversations with a Dovecot-like server, split at every offset;
//! STLS; APOP (RFC 1939's example); USER/PASS; every failure with its
//! kind; hostile servers.

use super::*;
use crate::pingpong::{MAX_LINE, MAX_REPLY_LINES};
use crate::testing::{alice, b64};
use crate::testing::{converse, converse_phases, for_each_phase_split, hexdump, Garbage};

/// Bytes after the phase's last reply: never consumed.
const AFTER: &[u8] = b"+OK 2 320\r\n";

const DOVECOT_GREETING: &[u8] = b"+OK Dovecot (Debian) ready.\r\n";

/// Dovecot's CAPA before TLS (`disable_plaintext_auth = yes`: no SASL
/// mechanism in clear text).
const DOVECOT_CAPA_CLEAR: &[u8] = b"+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n\
AUTH-RESP-CODE\r\nSTLS\r\nUSER\r\nSASL\r\n.\r\n";

const DOVECOT_STLS_OK: &[u8] = b"+OK Begin TLS negotiation now.\r\n";

/// And over TLS.
const DOVECOT_CAPA_TLS: &[u8] = b"+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n\
AUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n";

/// RFC 1939's APOP example greeting.
const APOP_GREETING: &[u8] = b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n";

fn mrose() -> Option<Credentials> {
    Some(Credentials {
        user: "mrose".into(),
        password: "tanstaaf".into(),
    })
}

fn config(use_ssl: UseSsl, credentials: Option<Credentials>) -> Pop3Config {
    Pop3Config {
        host: "pop.example.com".into(),
        port: 110,
        credentials,
        use_ssl,
        ..Pop3Config::default()
    }
}

struct Script {
    what: &'static str,
    config: Pop3Config,
    server: Vec<Vec<u8>>,
    client: Vec<Vec<u8>>,
    mechanism: Option<Mechanism>,
}

fn scripts() -> Vec<Script> {
    let plain = b64(b"\0alice\0s3cret pass");
    vec![
        Script {
            what: "Dovecot: STLS required, then AUTH PLAIN",
            config: config(UseSsl::All, alice()),
            server: vec![
                [DOVECOT_GREETING, DOVECOT_CAPA_CLEAR, DOVECOT_STLS_OK].concat(),
                [DOVECOT_CAPA_TLS, b"+ \r\n", b"+OK Logged in.\r\n", AFTER].concat(),
            ],
            client: vec![
                b"CAPA\r\nSTLS\r\n".to_vec(),
                format!("CAPA\r\nAUTH PLAIN\r\n{plain}\r\n").into_bytes(),
            ],
            mechanism: Some(Mechanism::Plain),
        },
        Script {
            what: "no credentials: CAPA only",
            config: config(UseSsl::None, None),
            server: vec![[DOVECOT_GREETING, DOVECOT_CAPA_TLS, AFTER].concat()],
            client: vec![b"CAPA\r\n".to_vec()],
            mechanism: None,
        },
        Script {
            what: "AUTH=+APOP: RFC 1939's digest although SASL is offered",
            config: Pop3Config {
                login_options: Some("AUTH=+APOP".into()),
                ..config(UseSsl::None, mrose())
            },
            server: vec![[
                APOP_GREETING,
                DOVECOT_CAPA_TLS,
                b"+OK mrose's maildrop has 2 messages (320 octets)\r\n",
                AFTER,
            ]
            .concat()],
            client: vec![b"CAPA\r\nAPOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n".to_vec()],
            mechanism: None,
        },
        Script {
            what: "no SASL, no timestamp: USER and PASS",
            config: config(UseSsl::None, alice()),
            server: vec![[
                DOVECOT_GREETING,
                b"+OK Capability list follows\r\nTOP\r\nUSER\r\nUIDL\r\n.\r\n",
                b"+OK\r\n",
                b"+OK Logged in.\r\n",
                AFTER,
            ]
            .concat()],
            client: vec![b"CAPA\r\nUSER alice\r\nPASS s3cret pass\r\n".to_vec()],
            mechanism: None,
        },
        Script {
            what: "a server without CAPA: USER and PASS",
            config: config(UseSsl::Try, alice()),
            server: vec![[
                b"+OK ancient POP3 server\r\n".as_slice(),
                b"-ERR unknown command\r\n",
                b"+OK send PASS\r\n",
                b"+OK welcome\r\n",
                AFTER,
            ]
            .concat()],
            client: vec![b"CAPA\r\nUSER alice\r\nPASS s3cret pass\r\n".to_vec()],
            mechanism: None,
        },
        Script {
            what: "pop3s: implicit TLS, SASL-IR",
            config: Pop3Config {
                implicit_tls: true,
                sasl: SaslOptions {
                    initial_response: true,
                    ..SaslOptions::default()
                },
                ..config(UseSsl::All, alice())
            },
            server: vec![[
                DOVECOT_GREETING,
                DOVECOT_CAPA_TLS,
                b"+OK Logged in.\r\n",
                AFTER,
            ]
            .concat()],
            client: vec![format!("CAPA\r\nAUTH PLAIN {plain}\r\n").into_bytes()],
            mechanism: Some(Mechanism::Plain),
        },
        Script {
            what: "AUTH=LOGIN",
            config: Pop3Config {
                login_options: Some("AUTH=LOGIN".into()),
                ..config(UseSsl::None, alice())
            },
            server: vec![[
                DOVECOT_GREETING,
                DOVECOT_CAPA_TLS,
                b"+ VXNlcm5hbWU6\r\n",
                b"+ UGFzc3dvcmQ6\r\n",
                b"+OK Logged in.\r\n",
                AFTER,
            ]
            .concat()],
            client: vec![format!(
                "CAPA\r\nAUTH LOGIN\r\n{}\r\n{}\r\n",
                b64(b"alice"),
                b64(b"s3cret pass")
            )
            .into_bytes()],
            mechanism: Some(Mechanism::Login),
        },
        Script {
            what: "CRAM-MD5 cancelled, nothing left in SASL: APOP",
            config: config(UseSsl::None, mrose()),
            server: vec![[
                APOP_GREETING,
                b"+OK\r\nSASL CRAM-MD5\r\n.\r\n",
                b"+ Rubbish\r\n",
                b"-ERR cancelled\r\n",
                b"+OK maildrop locked\r\n",
                AFTER,
            ]
            .concat()],
            client: vec![
                b"CAPA\r\nAUTH CRAM-MD5\r\n*\r\nAPOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"
                    .to_vec(),
            ],
            mechanism: None,
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

#[test]
fn conversations_split_at_every_offset_write_the_expected_bytes() {
    for script in scripts() {
        let phases: Vec<&[u8]> = script.server.iter().map(Vec::as_slice).collect();
        for write_step in [1, 4, usize::MAX] {
            for_each_phase_split(&phases, |split, chunks| {
                let mut pop3 = Pop3::new(script.config.clone(), Entropy::default()).unwrap();
                let out = converse_phases(&mut pop3, &chunks, write_step);
                let what = format!("{}: {split}, writes of {write_step}", script.what);
                assert_eq!(out.error, None, "{what}");
                assert_eq!(pop3.status(), Status::Done, "{what}");
                assert_eq!(out.wires.len(), script.client.len(), "{what}");
                for (got, want) in out.wires.iter().zip(&script.client) {
                    assert_bytes(&what, got, want);
                }
                assert_bytes(&what, out.leftovers.last().unwrap(), AFTER);
                for before_tls in &out.leftovers[..out.leftovers.len() - 1] {
                    assert_bytes(&what, before_tls, b"");
                }
                assert_eq!(pop3.mechanism(), script.mechanism, "{what}");
            });
        }
    }
}

#[test]
fn one_byte_at_a_time_completes() {
    for script in scripts() {
        let mut pop3 = Pop3::new(script.config.clone(), Entropy::default()).unwrap();
        let phases: Vec<Vec<&[u8]>> = script
            .server
            .iter()
            .map(|p| p.chunks(1).collect())
            .collect();
        let out = converse_phases(&mut pop3, &phases, 1);
        assert_eq!(pop3.status(), Status::Done, "{}", script.what);
        assert_bytes(script.what, out.leftovers.last().unwrap(), AFTER);
    }
}

#[test]
fn the_apop_timestamp_is_kept() {
    let mut pop3 = Pop3::new(config(UseSsl::None, None), Entropy::default()).unwrap();
    pop3.receive(APOP_GREETING).unwrap();
    assert_eq!(
        pop3.apop_timestamp(),
        Some("<1896.697170952@dbc.mtview.ca.us>")
    );
    // Without an @ it is no message id, so no timestamp.
    for greeting in [&b"+OK ready <1896.697170952>\r\n"[..], b"+OK <a@b\r\n"] {
        let mut pop3 = Pop3::new(config(UseSsl::None, None), Entropy::default()).unwrap();
        pop3.receive(greeting).unwrap();
        assert_eq!(pop3.apop_timestamp(), None);
    }
}

#[test]
fn nothing_past_the_stls_answer_is_consumed() {
    let mut pop3 = Pop3::new(config(UseSsl::Control, alice()), Entropy::default()).unwrap();
    let head = [DOVECOT_GREETING, DOVECOT_CAPA_CLEAR].concat();
    let out = converse(&mut pop3, &[&head], usize::MAX);
    assert_eq!(out.error, None);
    assert_eq!(out.wire, b"CAPA\r\nSTLS\r\n");
    let input = [DOVECOT_STLS_OK, b"+OK\r\nSASL PLAIN\r\n.\r\n"].concat();
    assert_eq!(pop3.receive(&input), Ok(DOVECOT_STLS_OK.len()));
    assert_eq!(pop3.status(), Status::StartTls);
    assert_eq!(pop3.receive(&input[DOVECOT_STLS_OK.len()..]), Ok(0));
    pop3.tls_started();
    assert_eq!(pop3.transmit(), b"CAPA\r\n");
}

fn failing(config: Pop3Config, server: &[u8]) -> ReplyError {
    let mut pop3 = Pop3::new(config, Entropy::default()).unwrap();
    let out = converse(&mut pop3, &[server], usize::MAX);
    let error = out.error.expect("the conversation fails");
    assert_eq!(pop3.status(), Status::Failed);
    assert_eq!(pop3.receive(b"+OK\r\n"), Err(error.clone()));
    error
}

#[test]
fn failures_have_libcurls_kinds() {
    let capa_user = b"+OK\r\nUSER\r\n.\r\n".as_slice();
    let cases: Vec<(&str, Pop3Config, Vec<u8>, ReplyErrorKind)> = vec![
        (
            "-ERR greeting",
            config(UseSsl::None, None),
            b"-ERR [SYS/TEMP] too many connections\r\n".to_vec(),
            ReplyErrorKind::WeirdReply,
        ),
        (
            "STLS not offered, TLS required",
            config(UseSsl::All, alice()),
            [DOVECOT_GREETING, DOVECOT_CAPA_TLS].concat(),
            ReplyErrorKind::UseSslFailed,
        ),
        (
            "no CAPA, TLS required",
            config(UseSsl::All, alice()),
            [DOVECOT_GREETING, b"-ERR what\r\n"].concat(),
            ReplyErrorKind::UseSslFailed,
        ),
        (
            "STLS refused, TLS required",
            config(UseSsl::Control, alice()),
            [DOVECOT_GREETING, DOVECOT_CAPA_CLEAR, b"-ERR TLS down\r\n"].concat(),
            ReplyErrorKind::UseSslFailed,
        ),
        (
            "USER refused",
            config(UseSsl::None, alice()),
            [DOVECOT_GREETING, capa_user, b"-ERR no\r\n"].concat(),
            ReplyErrorKind::LoginDenied,
        ),
        (
            "PASS refused",
            config(UseSsl::None, alice()),
            [
                DOVECOT_GREETING,
                capa_user,
                b"+OK\r\n",
                b"-ERR [AUTH] Authentication failed.\r\n",
            ]
            .concat(),
            ReplyErrorKind::LoginDenied,
        ),
        (
            "APOP refused",
            config(UseSsl::None, mrose()),
            [APOP_GREETING, b"-ERR\r\n", b"-ERR permission denied\r\n"].concat(),
            ReplyErrorKind::LoginDenied,
        ),
        (
            "AUTH refused",
            config(UseSsl::None, alice()),
            [
                DOVECOT_GREETING,
                DOVECOT_CAPA_TLS,
                b"+ \r\n",
                b"-ERR [AUTH] Authentication failed.\r\n",
            ]
            .concat(),
            ReplyErrorKind::LoginDenied,
        ),
        (
            "SASL only by the options, only USER offered",
            Pop3Config {
                login_options: Some("AUTH=PLAIN".into()),
                ..config(UseSsl::None, alice())
            },
            [DOVECOT_GREETING, capa_user].concat(),
            ReplyErrorKind::LoginDenied,
        ),
        (
            "APOP only by the options, no timestamp",
            Pop3Config {
                login_options: Some("AUTH=+APOP".into()),
                ..config(UseSsl::None, alice())
            },
            [DOVECOT_GREETING, DOVECOT_CAPA_TLS].concat(),
            ReplyErrorKind::LoginDenied,
        ),
        (
            "not a reply line",
            config(UseSsl::None, None),
            b"hello\r\n".to_vec(),
            ReplyErrorKind::WeirdReply,
        ),
        (
            "a NUL",
            config(UseSsl::None, None),
            b"+OK \0\r\n".to_vec(),
            ReplyErrorKind::WeirdReply,
        ),
        (
            "a password with a line break, for PASS",
            config(
                UseSsl::None,
                Some(Credentials {
                    user: "u".into(),
                    password: "p\r\nDELE 1".into(),
                }),
            ),
            [DOVECOT_GREETING, capa_user].concat(),
            ReplyErrorKind::BadOption,
        ),
    ];
    for (what, config, server, kind) in cases {
        let error = failing(config, &server);
        assert_eq!(error.kind, kind, "{what}: {error}");
    }
}

#[test]
fn use_ssl_try_goes_on_in_clear_and_says_so() {
    let mut pop3 = Pop3::new(config(UseSsl::Try, None), Entropy::default()).unwrap();
    let server = [DOVECOT_GREETING, DOVECOT_CAPA_TLS].concat();
    let out = converse(&mut pop3, &[&server], usize::MAX);
    assert_eq!(out.error, None);
    assert_eq!(pop3.status(), Status::Done);
    let events: Vec<Event> = std::iter::from_fn(|| pop3.poll_event()).collect();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Info(text) if text.contains("does not offer STLS"))),
        "{events:?}"
    );
}

#[test]
fn verbose_output_hides_the_password_and_the_digest() {
    let mut pop3 = Pop3::new(config(UseSsl::None, alice()), Entropy::default()).unwrap();
    let server = [
        DOVECOT_GREETING,
        b"+OK\r\nUSER\r\n.\r\n",
        b"+OK\r\n",
        b"+OK\r\n",
    ]
    .concat();
    converse(&mut pop3, &[&server], usize::MAX);
    let events: Vec<Event> = std::iter::from_fn(|| pop3.poll_event()).collect();
    assert!(events.contains(&Event::HeaderOut("USER alice".into())));
    assert!(events.contains(&Event::HeaderOut("PASS <hidden>".into())));
    assert!(!format!("{events:?}").contains("s3cret"));

    let mut pop3 = Pop3::new(config(UseSsl::None, mrose()), Entropy::default()).unwrap();
    converse(
        &mut pop3,
        &[APOP_GREETING, b"-ERR\r\n", b"+OK\r\n"],
        usize::MAX,
    );
    let events: Vec<Event> = std::iter::from_fn(|| pop3.poll_event()).collect();
    assert!(events.contains(&Event::HeaderOut("APOP mrose <hidden>".into())));
    assert!(!format!("{events:?}").contains("c4c9334b"));
}

#[test]
fn bad_login_options_are_refused_up_front() {
    for options in ["AUTH=+LOGIN", "AUTH=FOO", "AUTH=", "USER=x"] {
        let error = Pop3::new(
            Pop3Config {
                login_options: Some(options.into()),
                ..config(UseSsl::None, None)
            },
            Entropy::default(),
        )
        .unwrap_err();
        assert_eq!(error.kind, ReplyErrorKind::BadOption, "{options}");
    }
}

#[test]
fn closing_mid_phase_fails_with_closed() {
    let mut pop3 = Pop3::new(config(UseSsl::None, None), Entropy::default()).unwrap();
    pop3.peer_closed();
    let error = pop3.error().unwrap();
    assert_eq!(error.kind, ReplyErrorKind::Closed);
    assert!(error.message.contains("greeting"), "{error}");
}

#[test]
fn an_endless_capa_list_fails_bounded() {
    let mut pop3 = Pop3::new(config(UseSsl::None, None), Entropy::default()).unwrap();
    pop3.receive(DOVECOT_GREETING).unwrap();
    pop3.sent(usize::MAX);
    let line = b"X-MORE\r\n";
    let mut result = Ok(0);
    for _ in 0..MAX_REPLY_LINES + 1 {
        result = pop3.receive(line);
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result.unwrap_err().kind, ReplyErrorKind::TooLarge);
}

#[test]
fn a_one_mebibyte_line_fails_bounded() {
    let mut pop3 = Pop3::new(config(UseSsl::None, None), Entropy::default()).unwrap();
    let mut greeting = b"+OK ".to_vec();
    greeting.resize(1 << 20, b'<');
    greeting.extend_from_slice(b"\r\n");
    let error = pop3.receive(&greeting).unwrap_err();
    assert_eq!(error.kind, ReplyErrorKind::TooLarge);
    assert!(greeting.len() > MAX_LINE);
}

#[test]
fn garbage_fails_without_panicking() {
    let mut garbage = Garbage::new(3);
    for round in 0..500 {
        let len = (garbage.next_u64() % 300) as usize;
        let mut bytes = garbage.bytes(len);
        if round % 3 == 0 {
            bytes = [APOP_GREETING, b"+OK\r\nSASL ", &bytes].concat();
        }
        let mut pop3 = Pop3::new(config(UseSsl::Try, mrose()), Entropy::default()).unwrap();
        let chunks: Vec<&[u8]> = bytes.chunks(11).collect();
        let out = converse(&mut pop3, &chunks, 2);
        if let Some(error) = out.error {
            assert!(
                matches!(
                    error.kind,
                    ReplyErrorKind::WeirdReply
                        | ReplyErrorKind::TooLarge
                        | ReplyErrorKind::LoginDenied
                ),
                "{error:?}"
            );
        }
    }
}
