use super::*;
use crate::testing::hexdump;

/// One exchange: what the server says, then what the client must write
/// next (empty: nothing, the phase waits or ends).
type Step<'a> = (&'a [u8], &'a [u8]);

/// Runs the conversation with every reply fed in two pieces split at
/// `split` (each reply cut at the same offset, or whole when shorter), and
/// checks every write; returns the machine at the end.
fn converse_split(
    config: &FtpConfig,
    greeting_out: &[u8],
    steps: &[Step<'_>],
    split: usize,
) -> FtpLogin {
    let mut ftp = FtpLogin::new(config.clone()).unwrap();
    assert_eq!(ftp.transmit(), greeting_out);
    for (i, (reply, want)) in steps.iter().enumerate() {
        let cut = split.min(reply.len());
        let mut held = reply[..cut].to_vec();
        let used = ftp.receive(&held).unwrap();
        held.drain(..used);
        held.extend_from_slice(&reply[cut..]);
        let used = ftp.receive(&held).unwrap();
        assert_eq!(
            used,
            held.len(),
            "step {i} split {split}: the reply was not all used\n{}",
            hexdump(&held)
        );
        assert_eq!(
            ftp.transmit(),
            *want,
            "step {i} split {split}: wrote\n{}",
            hexdump(ftp.transmit())
        );
        let n = ftp.transmit().len();
        ftp.sent(n);
    }
    ftp
}

/// [`converse_split`] at every offset up to the longest reply.
fn converse(config: &FtpConfig, steps: &[Step<'_>]) -> FtpLogin {
    let longest = steps.iter().map(|(r, _)| r.len()).max().unwrap_or(0);
    for split in 0..longest {
        converse_split(config, b"", steps, split);
    }
    converse_split(config, b"", steps, longest)
}

fn user(name: &str, password: &str) -> FtpConfig {
    FtpConfig {
        user: Some(name.into()),
        password: password.into(),
        ..FtpConfig::default()
    }
}

#[test]
fn anonymous_login_then_pwd_and_nothing_else() {
    let ftp = converse(
        &FtpConfig::default(),
        &[
            (
                b"220-Welcome\r\n220-to the server\r\n220 ready\r\n",
                b"USER anonymous\r\n",
            ),
            (
                b"331 Please specify the password.\r\n",
                b"PASS ftp@example.com\r\n",
            ),
            (b"230 Login successful.\r\n", b"PWD\r\n"),
            (b"257 \"/pub\" is the current directory\r\n", b""),
        ],
    );
    assert_eq!(ftp.status(), Status::Done);
    assert_eq!(ftp.response_code(), 257);
    assert_eq!(ftp.entry_path(), Some("/pub"));
    assert!(!ftp.wants_read());
}

/// Found by the `ftp` fuzz target: `Debug` printed the configuration's
/// password, and the written `PASS` line as bytes.
#[test]
fn the_password_is_hidden_in_debug() {
    let config = user("alice", "s3cret");
    assert!(!format!("{config:?}").contains("s3cret"));
    let mut ftp = converse_split(
        &config,
        b"",
        &[
            (b"220 hi\r\n", b"USER alice\r\n"),
            (b"331 pw\r\n", b"PASS s3cret\r\n"),
        ],
        usize::MAX,
    );
    assert!(ftp.receive(b"530 no\r\n").is_err());
    let shown = format!("{ftp:?}");
    let pass_bytes = format!("{:?}", b"PASS s3cret".as_slice());
    let pass_bytes = pass_bytes.trim_matches(|c| c == '[' || c == ']');
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(!shown.contains(pass_bytes), "{shown}");
}

#[test]
fn the_password_is_hidden_in_the_verbose_lines() {
    let mut ftp = converse_split(
        &user("alice", "s3cret"),
        b"",
        &[
            (b"220 hi\r\n", b"USER alice\r\n"),
            (b"331 pw\r\n", b"PASS s3cret\r\n"),
        ],
        usize::MAX,
    );
    assert!(ftp.receive(b"332 account?\r\n").is_err());
    let mut lines = Vec::new();
    while let Some(event) = ftp.poll_event() {
        lines.push(format!("{event:?}"));
    }
    let all = lines.join("\n");
    assert!(all.contains("HeaderOut(\"PASS <hidden>\")"), "{all}");
    assert!(!all.contains("s3cret"), "{all}");
    // No account to give: refused as libcurl does.
    assert_eq!(ftp.status(), Status::Failed);
    assert_eq!(ftp.error().unwrap().kind, ReplyErrorKind::LoginDenied);
}

#[test]
fn an_account_is_sent_when_asked_for() {
    let mut config = user("bob", "pw");
    config.account = Some("acct9".into());
    let ftp = converse(
        &config,
        &[
            (b"220 hi\r\n", b"USER bob\r\n"),
            (b"331 pw\r\n", b"PASS pw\r\n"),
            (b"332 need account\r\n", b"ACCT acct9\r\n"),
            (b"230 in\r\n", b"PWD\r\n"),
            (b"257 \"/home/bob\"\r\n", b""),
        ],
    );
    assert_eq!(ftp.status(), Status::Done);

    let mut ftp = converse_split(
        &config,
        b"",
        &[
            (b"220 hi\r\n", b"USER bob\r\n"),
            (b"332 need account\r\n", b"ACCT acct9\r\n"),
        ],
        usize::MAX,
    );
    let err = ftp.receive(b"530 no\r\n").unwrap_err();
    assert_eq!(err.kind, ReplyErrorKind::WeirdPassReply);
    assert_eq!(err.message, "ACCT rejected by server: 530");
}

#[test]
fn a_refused_login_is_login_denied_after_the_alternative_to_user() {
    let mut ftp = converse_split(
        &user("u", "wrong"),
        b"",
        &[
            (b"220 hi\r\n", b"USER u\r\n"),
            (b"331 pw\r\n", b"PASS wrong\r\n"),
        ],
        usize::MAX,
    );
    let err = ftp.receive(b"530 Login incorrect.\r\n").unwrap_err();
    assert_eq!(err.kind, ReplyErrorKind::LoginDenied);
    assert_eq!(err.message, "Access denied: 530 530 Login incorrect.");
    // Every later call says the same.
    assert_eq!(ftp.receive(b"").unwrap_err(), err);

    let mut config = user("u", "pw");
    config.alternative_to_user = Some("SITE LOGIN u pw".into());
    let mut ftp = converse_split(
        &config,
        b"",
        &[
            (b"220 hi\r\n", b"USER u\r\n"),
            (b"530 not like this\r\n", b"SITE LOGIN u pw\r\n"),
        ],
        usize::MAX,
    );
    // Tried once: the next refusal is final.
    assert_eq!(
        ftp.receive(b"530 no\r\n").unwrap_err().kind,
        ReplyErrorKind::LoginDenied
    );
}

#[test]
fn auth_tls_stops_at_the_go_ahead_and_logs_in_under_tls() {
    let mut config = user("alice", "pw");
    config.use_ssl = UseSsl::All;
    let mut ftp = converse(&config, &[(b"220 hi\r\n", b"AUTH TLS\r\n")]);
    // Bytes after the go-ahead are not the machine's: the caller refuses them.
    let reply = b"234 Proceed with negotiation.\r\nEVIL";
    assert_eq!(ftp.receive(reply).unwrap(), reply.len() - 4);
    assert_eq!(ftp.status(), Status::StartTls);
    assert!(ftp.transmit().is_empty());
    assert!(!ftp.wants_read());
    assert_eq!(ftp.receive(b"EVIL").unwrap(), 0);
    ftp.tls_started();
    assert!(ftp.control_tls());
    assert_eq!(ftp.status(), Status::Pending);
    assert_eq!(ftp.transmit(), b"USER alice\r\n");
    let n = ftp.transmit().len();
    ftp.sent(n);
    for (reply, want) in [
        (&b"331 pw\r\n"[..], &b"PASS pw\r\n"[..]),
        (b"230 ok\r\n", b"PBSZ 0\r\n"),
        (b"200 PBSZ=0\r\n", b"PROT P\r\n"),
        (b"200 PROT now Private.\r\n", b"PWD\r\n"),
        (b"257 \"/\"\r\n", b""),
    ] {
        ftp.receive(reply).unwrap();
        assert_eq!(ftp.transmit(), want);
        let n = ftp.transmit().len();
        ftp.sent(n);
    }
    assert_eq!(ftp.status(), Status::Done);
}

#[test]
fn auth_order_follows_ftpsslauth_and_a_refusal_falls_back_or_fails() {
    let mut config = FtpConfig {
        use_ssl: UseSsl::Try,
        ssl_auth: FtpSslAuth::Ssl,
        ..FtpConfig::default()
    };
    // SSL first, then TLS; both refused under Try: clear text.
    let ftp = converse(
        &config,
        &[
            (b"220 hi\r\n", b"AUTH SSL\r\n"),
            (b"504 no\r\n", b"AUTH TLS\r\n"),
            (b"530 no TLS here\r\n", b"USER anonymous\r\n"),
        ],
    );
    assert!(!ftp.control_tls());
    // Under Control or All: 64.
    for level in [UseSsl::Control, UseSsl::All] {
        config.use_ssl = level;
        let mut ftp = converse_split(
            &config,
            b"",
            &[
                (b"220 hi\r\n", b"AUTH SSL\r\n"),
                (b"504 no\r\n", b"AUTH TLS\r\n"),
            ],
            usize::MAX,
        );
        let err = ftp.receive(b"500 what\r\n").unwrap_err();
        assert_eq!(err.kind, ReplyErrorKind::UseSslFailed);
    }
    // 334 is a go-ahead too.
    config.ssl_auth = FtpSslAuth::Tls;
    let mut ftp = converse_split(&config, b"", &[(b"220 hi\r\n", b"AUTH TLS\r\n")], 0);
    ftp.receive(b"334 ok\r\n").unwrap();
    assert_eq!(ftp.status(), Status::StartTls);
}

#[test]
fn implicit_tls_protects_without_auth_and_control_level_asks_prot_c() {
    let config = FtpConfig {
        implicit_tls: true,
        use_ssl: UseSsl::Control,
        ..FtpConfig::default()
    };
    let ftp = converse(
        &config,
        &[
            (b"220 hi\r\n", b"USER anonymous\r\n"),
            (b"230 in\r\n", b"PBSZ 0\r\n"),
            (b"200 ok\r\n", b"PROT C\r\n"),
            (b"536 no C\r\n", b"PWD\r\n"),
            (b"550 no pwd\r\n", b""),
        ],
    );
    // A refused PROT C and an unanswered PWD do not fail the phase.
    assert_eq!(ftp.status(), Status::Done);
    assert_eq!(ftp.response_code(), 550);
    assert_eq!(ftp.entry_path(), None);

    // PROT P refused under All: the data could not be protected.
    let config = FtpConfig {
        implicit_tls: true,
        use_ssl: UseSsl::All,
        ..FtpConfig::default()
    };
    let mut ftp = converse_split(
        &config,
        b"",
        &[
            (b"220 hi\r\n", b"USER anonymous\r\n"),
            (b"230 in\r\n", b"PBSZ 0\r\n"),
            (b"200 ok\r\n", b"PROT P\r\n"),
        ],
        usize::MAX,
    );
    assert_eq!(
        ftp.receive(b"534 no\r\n").unwrap_err().kind,
        ReplyErrorKind::UseSslFailed
    );
}

#[test]
fn greetings_120_waits_230_skips_the_login_and_others_fail() {
    let ftp = converse(
        &FtpConfig::default(),
        &[
            (b"120 ready in 1 minute\r\n", b""),
            (b"220 ready now\r\n", b"USER anonymous\r\n"),
        ],
    );
    assert_eq!(ftp.status(), Status::Pending);
    let ftp = converse(
        &FtpConfig::default(),
        &[(b"230 already in\r\n", b"PWD\r\n")],
    );
    assert_eq!(ftp.status(), Status::Pending);
    let mut ftp = FtpLogin::new(FtpConfig::default()).unwrap();
    let err = ftp.receive(b"421 Too many users\r\n").unwrap_err();
    assert_eq!(err.kind, ReplyErrorKind::WeirdReply);
    assert_eq!(
        err.message,
        "Got a 421 ftp-server response when 220 was expected"
    );
}

#[test]
fn a_reply_before_the_command_is_written_waits_for_it() {
    let mut ftp = FtpLogin::new(FtpConfig::default()).unwrap();
    ftp.receive(b"220 hi\r\n").unwrap();
    ftp.sent(3);
    // "USER anonymous" is half written: the early reply is not read yet.
    assert_eq!(ftp.receive(b"331 pw\r\n").unwrap(), 0);
    ftp.sent(100);
    assert_eq!(ftp.receive(b"331 pw\r\n").unwrap(), 8);
    assert_eq!(ftp.transmit(), b"PASS ftp@example.com\r\n");
}

#[test]
fn hostile_replies_fail_bounded() {
    // An endless multi-line reply.
    let mut ftp = FtpLogin::new(FtpConfig::default()).unwrap();
    let mut failed = None;
    for _ in 0..MAX_REPLY_LINES + 1 {
        match ftp.receive(b"220-more\r\n") {
            Ok(n) => assert_eq!(n, 10),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    assert_eq!(failed.unwrap().kind, ReplyErrorKind::TooLarge);
    // A 1 MiB greeting line.
    let mut ftp = FtpLogin::new(FtpConfig::default()).unwrap();
    let line = vec![b'2'; 1 << 20];
    assert_eq!(
        ftp.receive(&line).unwrap_err().kind,
        ReplyErrorKind::TooLarge
    );
    // Garbage: lines that are no reply end are counted, binary is text.
    let mut ftp = FtpLogin::new(FtpConfig::default()).unwrap();
    assert_eq!(ftp.receive(b"\x00\xff\xfe garbage\n").unwrap(), 12);
    let err = ftp.receive(b"999 what\r\n").unwrap_err();
    assert_eq!(err.kind, ReplyErrorKind::WeirdReply);
}

#[test]
fn a_close_mid_phase_fails_with_closed() {
    let mut ftp = FtpLogin::new(FtpConfig::default()).unwrap();
    ftp.peer_closed();
    assert_eq!(ftp.status(), Status::Failed);
    assert_eq!(ftp.error().unwrap().kind, ReplyErrorKind::Closed);
    let mut ftp = FtpLogin::new(FtpConfig::default()).unwrap();
    ftp.receive(b"220 hi\r\n").unwrap();
    ftp.peer_closed();
    assert!(ftp.error().unwrap().message.contains("during the login"));
}

#[test]
fn line_breaks_in_credentials_are_refused_before_anything_is_sent() {
    for config in [
        user("a\r\nDELE x", "pw"),
        user("a", "pw\nx"),
        FtpConfig {
            account: Some("a\r\n".into()),
            ..FtpConfig::default()
        },
    ] {
        let err = FtpLogin::new(config).unwrap_err();
        assert_eq!(err.kind, ReplyErrorKind::BadOption);
    }
}

#[test]
fn the_entry_path_undoubles_quotes() {
    assert_eq!(
        quoted_path("257 \"/a \"\"b\"\" c\" is current").as_deref(),
        Some("/a \"b\" c")
    );
    assert_eq!(quoted_path("257 no quotes"), None);
    assert_eq!(quoted_path("257 \"unterminated"), None);
    assert_eq!(quoted_path("257"), None);
}
