//! Conversations with Postfix- and aiosmtpd-like servers, split at every
//! offset; STARTTLS; every failure with its kind; hostile servers.

use super::*;
use crate::pingpong::{MAX_LINE, MAX_REPLY_LINES};
use crate::sasl::Mechanism;
use crate::testing::{alice, b64};
use crate::testing::{converse, converse_phases, for_each_phase_split, hexdump, Garbage};

/// Bytes a server sends after the phase's last reply: never consumed.
const AFTER: &[u8] = b"250 2.0.0 pipelined\r\n";

const POSTFIX_GREETING: &[u8] = b"220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n";

/// Postfix's EHLO answer before TLS: STARTTLS, no AUTH in clear text.
const POSTFIX_EHLO_CLEAR: &[u8] = b"250-mail.example.com\r\n\
250-PIPELINING\r\n\
250-SIZE 10240000\r\n\
250-VRFY\r\n\
250-ETRN\r\n\
250-STARTTLS\r\n\
250-ENHANCEDSTATUSCODES\r\n\
250-8BITMIME\r\n\
250-DSN\r\n\
250-SMTPUTF8\r\n\
250 CHUNKING\r\n";

/// Postfix's EHLO answer over TLS: AUTH, no STARTTLS.
const POSTFIX_EHLO_TLS: &[u8] = b"250-mail.example.com\r\n\
250-PIPELINING\r\n\
250-SIZE 10240000\r\n\
250-VRFY\r\n\
250-ETRN\r\n\
250-AUTH PLAIN LOGIN\r\n\
250-ENHANCEDSTATUSCODES\r\n\
250-8BITMIME\r\n\
250-DSN\r\n\
250-SMTPUTF8\r\n\
250 CHUNKING\r\n";

const AIOSMTPD_GREETING: &[u8] = b"220 mx.example.org Python SMTP 1.4.6\r\n";

const AIOSMTPD_EHLO: &[u8] = b"250-mx.example.org\r\n\
250-SIZE 33554432\r\n\
250-8BITMIME\r\n\
250-SMTPUTF8\r\n\
250-AUTH LOGIN PLAIN CRAM-MD5\r\n\
250 HELP\r\n";

fn config(use_ssl: UseSsl, credentials: Option<Credentials>) -> SmtpConfig {
    SmtpConfig {
        host: "mail.example.com".into(),
        port: 587,
        ehlo_name: "client.example.com".into(),
        credentials,
        use_ssl,
        ..SmtpConfig::default()
    }
}

fn entropy() -> Entropy {
    Entropy {
        cnonce: "0123456789abcdef0123456789abcdef".into(),
        ..Entropy::default()
    }
}

/// One scripted conversation: the server's bytes in each phase (split by
/// STARTTLS), the client's expected bytes in each phase.
struct Script {
    what: &'static str,
    config: SmtpConfig,
    server: Vec<Vec<u8>>,
    client: Vec<Vec<u8>>,
    code: u16,
    mechanism: Option<Mechanism>,
}

fn scripts() -> Vec<Script> {
    let plain = b64(b"\0alice\0s3cret pass");
    let cram_challenge = b64(b"<17893.1320679123@mx.example.org>");
    vec![
        Script {
            what: "Postfix, STARTTLS required, then AUTH PLAIN",
            config: config(UseSsl::All, alice()),
            server: vec![
                [
                    POSTFIX_GREETING,
                    POSTFIX_EHLO_CLEAR,
                    b"220 2.0.0 Ready to start TLS\r\n",
                ]
                .concat(),
                [
                    POSTFIX_EHLO_TLS,
                    b"334 \r\n",
                    b"235 2.7.0 Authentication successful\r\n",
                    AFTER,
                ]
                .concat(),
            ],
            client: vec![
                b"EHLO client.example.com\r\nSTARTTLS\r\n".to_vec(),
                format!("EHLO client.example.com\r\nAUTH PLAIN\r\n{plain}\r\n").into_bytes(),
            ],
            code: 235,
            mechanism: Some(Mechanism::Plain),
        },
        Script {
            what: "Postfix, STARTTLS tried, no credentials",
            config: config(UseSsl::Try, None),
            server: vec![
                [
                    POSTFIX_GREETING,
                    POSTFIX_EHLO_CLEAR,
                    b"220 2.0.0 Ready to start TLS\r\n",
                ]
                .concat(),
                [POSTFIX_EHLO_TLS, AFTER].concat(),
            ],
            client: vec![
                b"EHLO client.example.com\r\nSTARTTLS\r\n".to_vec(),
                b"EHLO client.example.com\r\n".to_vec(),
            ],
            code: 250,
            mechanism: None,
        },
        Script {
            what: "aiosmtpd, clear text, CRAM-MD5 preferred",
            config: config(UseSsl::None, alice()),
            server: vec![[
                AIOSMTPD_GREETING,
                AIOSMTPD_EHLO,
                format!("334 {cram_challenge}\r\n").as_bytes(),
                b"235 2.7.0 Authentication successful\r\n",
                AFTER,
            ]
            .concat()],
            client: vec![format!(
                "EHLO client.example.com\r\nAUTH CRAM-MD5\r\n{}\r\n",
                // HMAC-MD5("s3cret pass", challenge), worked out with
                // Python's hmac module.
                b64(b"alice 3edcb0690604d59c4f3881d5a6086135")
            )
            .into_bytes()],
            code: 235,
            mechanism: Some(Mechanism::CramMd5),
        },
        Script {
            what: "aiosmtpd, AUTH=LOGIN from the login options",
            config: SmtpConfig {
                login_options: Some("AUTH=LOGIN".into()),
                ..config(UseSsl::None, alice())
            },
            server: vec![[
                AIOSMTPD_GREETING,
                AIOSMTPD_EHLO,
                b"334 VXNlcm5hbWU6\r\n",
                b"334 UGFzc3dvcmQ6\r\n",
                b"235 2.7.0 Authentication successful\r\n",
                AFTER,
            ]
            .concat()],
            client: vec![format!(
                "EHLO client.example.com\r\nAUTH LOGIN\r\n{}\r\n{}\r\n",
                b64(b"alice"),
                b64(b"s3cret pass")
            )
            .into_bytes()],
            code: 235,
            mechanism: Some(Mechanism::Login),
        },
        Script {
            what: "smtps: implicit TLS, SASL-IR, multi-line greeting",
            config: SmtpConfig {
                implicit_tls: true,
                sasl: SaslOptions {
                    initial_response: true,
                    ..SaslOptions::default()
                },
                login_options: Some("AUTH=PLAIN".into()),
                ..config(UseSsl::All, alice())
            },
            server: vec![[
                b"220-mail.example.com ESMTP\r\n220-No UCE\r\n220 Go ahead\r\n".as_slice(),
                POSTFIX_EHLO_TLS,
                b"235 2.7.0 Authentication successful\r\n",
                AFTER,
            ]
            .concat()],
            client: vec![format!("EHLO client.example.com\r\nAUTH PLAIN {plain}\r\n").into_bytes()],
            code: 235,
            mechanism: Some(Mechanism::Plain),
        },
        Script {
            what: "EHLO refused: HELO, and no AUTH after it",
            config: config(UseSsl::Try, alice()),
            server: vec![[
                b"220 old.example.net SMTP\r\n".as_slice(),
                b"502 5.5.2 Error: command not recognized\r\n",
                b"250 old.example.net\r\n",
                AFTER,
            ]
            .concat()],
            client: vec![b"EHLO client.example.com\r\nHELO client.example.com\r\n".to_vec()],
            code: 250,
            mechanism: None,
        },
        Script {
            what: "a bare code ends a reply",
            config: config(UseSsl::None, None),
            server: vec![[b"220\r\n".as_slice(), b"250\r\n", AFTER].concat()],
            client: vec![b"EHLO client.example.com\r\n".to_vec()],
            code: 250,
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
        for write_step in [1, 7, usize::MAX] {
            for_each_phase_split(&phases, |split, chunks| {
                let mut smtp = Smtp::new(script.config.clone(), entropy()).unwrap();
                let out = converse_phases(&mut smtp, &chunks, write_step);
                let what = format!("{}: {split}, writes of {write_step}", script.what);
                assert_eq!(out.error, None, "{what}");
                assert_eq!(smtp.status(), Status::Done, "{what}");
                assert_eq!(out.wires.len(), script.client.len(), "{what}");
                for (got, want) in out.wires.iter().zip(&script.client) {
                    assert_bytes(&what, got, want);
                }
                let last = out.leftovers.last().unwrap();
                assert_bytes(&what, last, AFTER);
                for before_tls in &out.leftovers[..out.leftovers.len() - 1] {
                    assert_bytes(&what, before_tls, b"");
                }
                assert_eq!(smtp.response_code(), script.code, "{what}");
                assert_eq!(smtp.mechanism(), script.mechanism, "{what}");
                assert!(!smtp.wants_read(), "{what}");
            });
        }
    }
}

#[test]
fn one_byte_at_a_time_completes() {
    for script in scripts() {
        let mut smtp = Smtp::new(script.config.clone(), entropy()).unwrap();
        let phases: Vec<Vec<&[u8]>> = script
            .server
            .iter()
            .map(|p| p.chunks(1).collect())
            .collect();
        let out = converse_phases(&mut smtp, &phases, 1);
        assert_eq!(smtp.status(), Status::Done, "{}", script.what);
        assert_bytes(script.what, out.leftovers.last().unwrap(), AFTER);
    }
}

#[test]
fn nothing_past_the_starttls_answer_is_consumed() {
    let mut smtp = Smtp::new(config(UseSsl::All, alice()), entropy()).unwrap();
    let head = [POSTFIX_GREETING, POSTFIX_EHLO_CLEAR].concat();
    let out = converse(&mut smtp, &[&head], usize::MAX);
    assert_eq!(out.error, None);
    smtp.sent(usize::MAX);
    // The answer and, pipelined behind it, bytes an attacker injected.
    let answer = b"220 2.0.0 Ready to start TLS\r\n";
    let input = [answer.as_slice(), b"250-evil\r\n250 AUTH PLAIN\r\n"].concat();
    assert_eq!(smtp.receive(&input), Ok(answer.len()));
    assert_eq!(smtp.status(), Status::StartTls);
    assert!(!smtp.wants_read());
    assert_eq!(smtp.transmit(), b"");
    // Until TLS is up, nothing more is read.
    assert_eq!(smtp.receive(&input[answer.len()..]), Ok(0));
    smtp.tls_started();
    assert_eq!(smtp.status(), Status::Pending);
    assert_eq!(smtp.transmit(), b"EHLO client.example.com\r\n");
    // tls_started is a no-op anywhere else.
    smtp.tls_started();
    assert_eq!(smtp.transmit(), b"EHLO client.example.com\r\n");
}

#[test]
fn clear_text_capabilities_are_forgotten_after_tls() {
    // Before TLS the server lists AUTH PLAIN; over TLS it lists nothing:
    // no AUTH is sent.
    let clear = [
        POSTFIX_GREETING,
        b"250-mail.example.com\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n",
        b"220 Ready\r\n",
    ]
    .concat();
    let mut smtp = Smtp::new(config(UseSsl::All, alice()), entropy()).unwrap();
    let out = converse_phases(
        &mut smtp,
        &[vec![&clear], vec![b"250 mail.example.com\r\n"]],
        usize::MAX,
    );
    assert_eq!(out.error, None);
    assert_eq!(smtp.status(), Status::Done);
    assert_bytes("over TLS", &out.wires[1], b"EHLO client.example.com\r\n");
}

#[test]
fn use_ssl_try_without_starttls_goes_on_in_clear_and_says_so() {
    let mut smtp = Smtp::new(config(UseSsl::Try, alice()), entropy()).unwrap();
    let server = [AIOSMTPD_GREETING, AIOSMTPD_EHLO, b"334 \r\n", b"235 ok\r\n"].concat();
    let out = converse(&mut smtp, &[&server], usize::MAX);
    assert_eq!(out.error, None);
    assert_eq!(smtp.status(), Status::Done);
    let infos: Vec<String> = std::iter::from_fn(|| smtp.poll_event())
        .filter_map(|e| match e {
            Event::Info(text) => Some(text),
            _ => None,
        })
        .collect();
    assert!(
        infos.iter().any(|i| i.contains("does not offer STARTTLS")),
        "{infos:?}"
    );
}

#[test]
fn use_ssl_try_with_starttls_refused_goes_on_in_clear() {
    let mut smtp = Smtp::new(config(UseSsl::Try, None), entropy()).unwrap();
    let server = [
        POSTFIX_GREETING,
        POSTFIX_EHLO_CLEAR,
        b"454 4.7.0 TLS not available due to local problem\r\n",
    ]
    .concat();
    let out = converse(&mut smtp, &[&server], usize::MAX);
    assert_eq!(out.error, None);
    assert_eq!(smtp.status(), Status::Done);
    assert_eq!(smtp.response_code(), 454);
}

/// Runs a conversation expected to fail; returns the error and the
/// machine.
fn failing(config: SmtpConfig, server: &[u8]) -> (ReplyError, Smtp) {
    let mut smtp = Smtp::new(config, entropy()).unwrap();
    let out = converse(&mut smtp, &[server], usize::MAX);
    let error = out.error.expect("the conversation fails");
    assert_eq!(smtp.status(), Status::Failed);
    assert_eq!(smtp.error(), Some(&error));
    // Every later call says the same.
    assert_eq!(smtp.receive(b"250 ok\r\n"), Err(error.clone()));
    (error, smtp)
}

#[test]
fn failures_have_libcurls_kinds() {
    let cases: Vec<(&str, SmtpConfig, Vec<u8>, ReplyErrorKind, u16)> = vec![
        (
            "greeting refused",
            config(UseSsl::None, None),
            b"554 5.3.2 No service\r\n".to_vec(),
            ReplyErrorKind::WeirdReply,
            554,
        ),
        (
            "STARTTLS not offered, TLS required",
            config(UseSsl::Control, alice()),
            [AIOSMTPD_GREETING, AIOSMTPD_EHLO].concat(),
            ReplyErrorKind::UseSslFailed,
            250,
        ),
        (
            "STARTTLS refused, TLS required",
            config(UseSsl::All, alice()),
            [POSTFIX_GREETING, POSTFIX_EHLO_CLEAR, b"454 4.7.0 no\r\n"].concat(),
            ReplyErrorKind::UseSslFailed,
            454,
        ),
        (
            "EHLO refused, TLS required: no HELO",
            config(UseSsl::All, alice()),
            [POSTFIX_GREETING, b"502 5.5.2 no\r\n"].concat(),
            ReplyErrorKind::AccessDenied,
            502,
        ),
        (
            "HELO refused",
            config(UseSsl::None, None),
            [POSTFIX_GREETING, b"502 no\r\n", b"550 go away\r\n"].concat(),
            ReplyErrorKind::AccessDenied,
            550,
        ),
        (
            "credentials refused",
            config(UseSsl::None, alice()),
            [
                AIOSMTPD_GREETING,
                b"250 AUTH PLAIN\r\n",
                b"334 \r\n",
                b"535 5.7.8 Authentication credentials invalid\r\n",
            ]
            .concat(),
            ReplyErrorKind::LoginDenied,
            535,
        ),
        (
            "no usable mechanism",
            SmtpConfig {
                login_options: Some("AUTH=PLAIN".into()),
                ..config(UseSsl::None, alice())
            },
            [AIOSMTPD_GREETING, b"250 AUTH CRAM-MD5\r\n"].concat(),
            ReplyErrorKind::LoginDenied,
            250,
        ),
        (
            "cancelled with nothing left",
            config(UseSsl::None, alice()),
            [
                AIOSMTPD_GREETING,
                b"250 AUTH CRAM-MD5\r\n",
                b"334 Rubbish!\r\n",
                b"501 5.7.0 cancelled\r\n",
            ]
            .concat(),
            ReplyErrorKind::LoginDenied,
            501,
        ),
        (
            "not a reply line",
            config(UseSsl::None, None),
            b"220 ok\r\nHELLO THERE\r\n".to_vec(),
            ReplyErrorKind::WeirdReply,
            220,
        ),
        (
            "a NUL in a line",
            config(UseSsl::None, None),
            b"220 o\0k\r\n".to_vec(),
            ReplyErrorKind::WeirdReply,
            0,
        ),
        (
            "a code of two digits",
            config(UseSsl::None, None),
            b"22 ok\r\n".to_vec(),
            ReplyErrorKind::WeirdReply,
            0,
        ),
    ];
    for (what, config, server, kind, code) in cases {
        let (error, smtp) = failing(config, &server);
        assert_eq!(error.kind, kind, "{what}: {error}");
        assert_eq!(smtp.response_code(), code, "{what}");
    }
}

#[test]
fn a_cancelled_mechanism_is_followed_by_the_next() {
    let mut smtp = Smtp::new(config(UseSsl::None, alice()), entropy()).unwrap();
    let server = [
        AIOSMTPD_GREETING,
        AIOSMTPD_EHLO,
        b"334 Rubbish!\r\n",
        b"501 5.7.0 Authentication cancelled\r\n",
        b"334 \r\n",
        b"235 ok\r\n",
    ]
    .concat();
    let out = converse(&mut smtp, &[&server], usize::MAX);
    assert_eq!(out.error, None);
    let plain = b64(b"\0alice\0s3cret pass");
    assert_bytes(
        "downgrade",
        &out.wire,
        format!("EHLO client.example.com\r\nAUTH CRAM-MD5\r\n*\r\nAUTH PLAIN\r\n{plain}\r\n")
            .as_bytes(),
    );
    assert_eq!(smtp.mechanism(), Some(Mechanism::Plain));
}

#[test]
fn verbose_output_shows_the_lines_but_never_a_secret() {
    let mut smtp = Smtp::new(
        SmtpConfig {
            sasl: SaslOptions {
                initial_response: true,
                ..SaslOptions::default()
            },
            ..config(UseSsl::None, alice())
        },
        entropy(),
    )
    .unwrap();
    let server = [AIOSMTPD_GREETING, b"250 AUTH PLAIN\r\n", b"235 ok\r\n"].concat();
    converse(&mut smtp, &[&server], usize::MAX);
    let events: Vec<Event> = std::iter::from_fn(|| smtp.poll_event()).collect();
    assert_eq!(
        events,
        [
            Event::HeaderIn("220 mx.example.org Python SMTP 1.4.6".into()),
            Event::HeaderOut("EHLO client.example.com".into()),
            Event::HeaderIn("250 AUTH PLAIN".into()),
            Event::HeaderOut("AUTH PLAIN <hidden>".into()),
            Event::HeaderIn("235 ok".into()),
        ]
    );
    let plain = b64(b"\0alice\0s3cret pass");
    for event in &events {
        let text = format!("{event:?}");
        assert!(!text.contains("s3cret") && !text.contains(&plain), "{text}");
    }
}

#[test]
fn closing_mid_phase_fails_with_closed() {
    let mut smtp = Smtp::new(config(UseSsl::None, None), entropy()).unwrap();
    smtp.peer_closed();
    assert_eq!(smtp.error().unwrap().kind, ReplyErrorKind::Closed);
    assert!(smtp.error().unwrap().message.contains("greeting"));

    let mut smtp = Smtp::new(config(UseSsl::None, None), entropy()).unwrap();
    converse(&mut smtp, &[POSTFIX_GREETING, b"250 ok\r\n"], usize::MAX);
    assert_eq!(smtp.status(), Status::Done);
    smtp.peer_closed();
    assert_eq!(smtp.status(), Status::Done, "over: the close is not ours");
}

#[test]
fn bad_options_are_refused_up_front() {
    for options in ["AUTH=FOO", "AUTH=", "AUTH=PLAIN;X=1", "+LOGIN"] {
        let error = Smtp::new(
            SmtpConfig {
                login_options: Some(options.into()),
                ..config(UseSsl::None, None)
            },
            entropy(),
        )
        .unwrap_err();
        assert_eq!(error.kind, ReplyErrorKind::BadOption, "{options}");
    }
    let error = Smtp::new(
        SmtpConfig {
            ehlo_name: "x\r\nMAIL FROM:<a@b>".into(),
            ..config(UseSsl::None, None)
        },
        entropy(),
    )
    .unwrap_err();
    assert_eq!(error.kind, ReplyErrorKind::BadOption);
    // An empty name: libcurl's last resort.
    let mut smtp = Smtp::new(
        SmtpConfig {
            ehlo_name: String::new(),
            ..config(UseSsl::None, None)
        },
        entropy(),
    )
    .unwrap();
    smtp.receive(POSTFIX_GREETING).unwrap();
    assert_eq!(smtp.transmit(), b"EHLO localhost\r\n");
}

#[test]
fn an_endless_multi_line_reply_fails_bounded() {
    let mut smtp = Smtp::new(config(UseSsl::None, None), entropy()).unwrap();
    smtp.receive(POSTFIX_GREETING).unwrap();
    smtp.sent(usize::MAX);
    let line = b"250-I will never stop\r\n";
    let mut consumed = 0;
    let mut error = None;
    for _ in 0..MAX_REPLY_LINES + 10 {
        match smtp.receive(line) {
            Ok(n) => consumed += n,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    assert_eq!(error.unwrap().kind, ReplyErrorKind::TooLarge);
    assert_eq!(consumed, MAX_REPLY_LINES * line.len());
}

#[test]
fn a_one_mebibyte_line_fails_bounded() {
    let mut smtp = Smtp::new(config(UseSsl::None, None), entropy()).unwrap();
    let mut greeting = b"220 ".to_vec();
    greeting.resize(1 << 20, b'a');
    // Fed as it grows: the refusal comes once the line passes MAX_LINE.
    let mut error = None;
    for end in (4096..=greeting.len()).step_by(4096) {
        match smtp.receive(&greeting[..end]) {
            Ok(n) => assert_eq!(n, 0),
            Err(e) => {
                assert!(end <= MAX_LINE + 4096, "refused late, at {end}");
                error = Some(e);
                break;
            }
        }
    }
    assert_eq!(error.unwrap().kind, ReplyErrorKind::TooLarge);
}

#[test]
fn garbage_fails_without_panicking() {
    let mut garbage = Garbage::new(1);
    for round in 0..500 {
        let len = (garbage.next_u64() % 300) as usize;
        let mut bytes = garbage.bytes(len);
        if round % 3 == 0 {
            // Plausible starts reach deeper states.
            bytes = [POSTFIX_GREETING, b"250-x\r\n", &bytes].concat();
        }
        let mut smtp = Smtp::new(config(UseSsl::Try, alice()), entropy()).unwrap();
        let chunks: Vec<&[u8]> = bytes.chunks(17).collect();
        let out = converse(&mut smtp, &chunks, 5);
        if let Some(error) = out.error {
            assert!(
                matches!(
                    error.kind,
                    ReplyErrorKind::WeirdReply
                        | ReplyErrorKind::TooLarge
                        | ReplyErrorKind::AccessDenied
                        | ReplyErrorKind::LoginDenied
                        | ReplyErrorKind::UseSslFailed
                ),
                "{error:?}"
            );
        }
    }
}
