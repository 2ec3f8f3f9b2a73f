//! Known vectors (RFC 4616, RFC 2195, RFC 2831, RFC 7628, Google's
//! XOAUTH2 page, curl's test 823) and libcurl's selection rules.

use super::messages::digest_pairs;
use super::*;
use crate::testing::b64;

fn creds(user: &str, password: &str) -> Option<Credentials> {
    Some(Credentials {
        user: user.into(),
        password: password.into(),
    })
}

fn entropy() -> Entropy {
    Entropy {
        cnonce: "OA6MHXh6VqTrRk".into(),
        ntlm_client_challenge: [1, 2, 3, 4, 5, 6, 7, 8],
        ntlm_timestamp: 133_000_000_000_000_000,
    }
}

fn sasl(protocol: SaslProtocol, credentials: Option<Credentials>, options: SaslOptions) -> Sasl {
    Sasl::new(
        protocol,
        Mechanisms::DEFAULT,
        credentials,
        options,
        "mail.example.com",
        587,
        entropy(),
    )
}

fn unb64(line: &str) -> Vec<u8> {
    STANDARD.decode(line).unwrap()
}

fn sent(progress: SaslProgress) -> SaslMessage {
    match progress {
        SaslProgress::Send(message) => message,
        other => panic!("expected a line to send, got {other:?}"),
    }
}

#[test]
fn plain_is_rfc_4616() {
    let mut s = sasl(
        SaslProtocol::Imap,
        creds("tim", "tanstaaftanstaaf"),
        SaslOptions::default(),
    );
    s.offer(Mechanisms::PLAIN);
    let start = s.start(false).unwrap();
    assert_eq!(start.mechanism, Mechanism::Plain);
    assert_eq!(start.initial_response, None);
    let answer = sent(s.reply(SaslReply::Continue(b"")).unwrap());
    assert_eq!(answer.line(), "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
    assert_eq!(answer.shown(), "<hidden>");
    assert_eq!(s.reply(SaslReply::Success).unwrap(), SaslProgress::Done);
}

#[test]
fn plain_carries_the_authzid() {
    // RFC 4616 section 4: authorization identity "Ursel", user "Kurt".
    let options = SaslOptions {
        authzid: Some("Ursel".into()),
        initial_response: true,
        ..SaslOptions::default()
    };
    let mut s = sasl(SaslProtocol::Smtp, creds("Kurt", "xipj3plmq"), options);
    s.offer(Mechanisms::PLAIN);
    let start = s.start(false).unwrap();
    let ir = start.initial_response.unwrap();
    assert_eq!(unb64(ir.line()), b"Ursel\0Kurt\0xipj3plmq");
    assert_eq!(s.reply(SaslReply::Success).unwrap(), SaslProgress::Done);
}

#[test]
fn cram_md5_is_rfc_2195() {
    let mut s = sasl(
        SaslProtocol::Imap,
        creds("tim", "tanstaaftanstaaf"),
        SaslOptions::default(),
    );
    s.offer(Mechanisms::parse_list("PLAIN LOGIN CRAM-MD5"));
    let start = s.start(true).unwrap();
    // CRAM-MD5 never has an initial response, even when the server takes one.
    assert_eq!(start.mechanism, Mechanism::CramMd5);
    assert_eq!(start.initial_response, None);
    let challenge = b64(b"<1896.697170952@postoffice.reston.mci.net>");
    let answer = sent(s.reply(SaslReply::Continue(challenge.as_bytes())).unwrap());
    assert_eq!(
        unb64(answer.line()),
        b"tim b913a602c7eda7a495b4e6e7334d3890"
    );
    assert_eq!(s.reply(SaslReply::Success).unwrap(), SaslProgress::Done);
}

#[test]
fn digest_md5_is_rfc_2831_with_a_fixed_cnonce() {
    let mut s = Sasl::new(
        SaslProtocol::Imap,
        Mechanisms::DEFAULT,
        creds("chris", "secret"),
        SaslOptions::default(),
        "elwood.innosoft.com",
        143,
        entropy(),
    );
    s.offer(Mechanisms::DIGEST_MD5.union(Mechanisms::PLAIN));
    assert_eq!(s.start(false).unwrap().mechanism, Mechanism::DigestMd5);
    let challenge = b64(
        b"realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\",\
                          algorithm=md5-sess,charset=utf-8",
    );
    let answer = sent(s.reply(SaslReply::Continue(challenge.as_bytes())).unwrap());
    assert_eq!(answer.shown(), "<hidden>");
    let text = String::from_utf8(unb64(answer.line())).unwrap();
    // The response value RFC 2831 section 4 shows for this exchange.
    assert_eq!(
        text,
        "username=\"chris\",realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",\
         cnonce=\"OA6MHXh6VqTrRk\",nc=\"00000001\",digest-uri=\"imap/elwood.innosoft.com\",\
         response=d388dad90d4bbd760a152321f2143af7,qop=auth"
    );
    // rspauth: an empty line, then the server's success.
    let rspauth = b64(b"rspauth=ea40f60335c427b5527b84dbabcdfffd");
    let empty = sent(s.reply(SaslReply::Continue(rspauth.as_bytes())).unwrap());
    assert_eq!(empty.line(), "");
    assert_eq!(s.reply(SaslReply::Success).unwrap(), SaslProgress::Done);
}

#[test]
fn digest_md5_matches_curls_test_823() {
    let mut s = Sasl::new(
        SaslProtocol::Imap,
        Mechanisms::DEFAULT,
        creds("user", "secret"),
        SaslOptions::default(),
        "127.0.0.1",
        143,
        Entropy {
            cnonce: "34333231353332313633323137333231".into(),
            ..Entropy::default()
        },
    );
    s.offer(Mechanisms::DIGEST_MD5);
    s.start(true).unwrap();
    let challenge = b64(
        b"realm=\"curl\",nonce=\"5300d17a1d695bd411e4cdf96f9548c23ced6175\",\
                          algorithm=md5-sess,qop=\"auth\"",
    );
    let answer = sent(s.reply(SaslReply::Continue(challenge.as_bytes())).unwrap());
    assert_eq!(
        String::from_utf8(unb64(answer.line())).unwrap(),
        "username=\"user\",realm=\"curl\",nonce=\"5300d17a1d695bd411e4cdf96f9548c23ced6175\",\
         cnonce=\"34333231353332313633323137333231\",nc=\"00000001\",\
         digest-uri=\"imap/127.0.0.1\",response=be638249362d7aa0e35385076751ab48,qop=auth"
    );
}

#[test]
fn digest_md5_names_the_service_and_quotes_values() {
    let options = SaslOptions {
        service_name: Some("custom".into()),
        ..SaslOptions::default()
    };
    let mut s = sasl(SaslProtocol::Pop3, creds("a\"b\\c\u{e9}", "pw"), options);
    s.offer(Mechanisms::DIGEST_MD5);
    s.start(false).unwrap();
    let challenge = b64(b"nonce=\"n\\\"1\",algorithm=md5-sess,qop=\"auth,auth-int\"");
    let answer = sent(s.reply(SaslReply::Continue(challenge.as_bytes())).unwrap());
    let text = String::from_utf8(unb64(answer.line())).unwrap();
    assert!(
        text.starts_with("username=\"a\\\"b\\\\c%C3%A9\",realm=\"\",nonce=\"n\\\"1\","),
        "{text}"
    );
    assert!(
        text.contains("digest-uri=\"custom/mail.example.com\""),
        "{text}"
    );
}

#[test]
fn pop3_digest_uri_uses_the_pop_service() {
    let mut s = sasl(SaslProtocol::Pop3, creds("u", "p"), SaslOptions::default());
    s.offer(Mechanisms::DIGEST_MD5);
    s.start(false).unwrap();
    let challenge = b64(b"nonce=\"x\",algorithm=md5-sess,qop=\"auth\"");
    let answer = sent(s.reply(SaslReply::Continue(challenge.as_bytes())).unwrap());
    let text = String::from_utf8(unb64(answer.line())).unwrap();
    assert!(
        text.contains("digest-uri=\"pop/mail.example.com\""),
        "{text}"
    );
}

#[test]
fn digest_md5_challenges_libcurl_cannot_answer_are_cancelled() {
    let cases: [&[u8]; 6] = [
        b"",
        b"realm=\"r\",algorithm=md5-sess,qop=\"auth\"",
        b"nonce=\"n\",qop=\"auth\"",
        b"nonce=\"n\",algorithm=md5,qop=\"auth\"",
        b"nonce=\"n\",algorithm=md5-sess",
        b"nonce=\"n\",algorithm=md5-sess,qop=\"auth-int\"",
    ];
    for challenge in cases {
        let mut s = sasl(SaslProtocol::Imap, creds("u", "p"), SaslOptions::default());
        s.offer(Mechanisms::DIGEST_MD5.union(Mechanisms::PLAIN));
        s.start(false).unwrap();
        let encoded = b64(challenge);
        match s.reply(SaslReply::Continue(encoded.as_bytes())).unwrap() {
            SaslProgress::Cancel { message, reason } => {
                assert_eq!(message.line(), "*");
                assert!(reason.starts_with("DIGEST-MD5: "), "{reason}");
            }
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(challenge)),
        }
        // Whatever the server says to the cancel, PLAIN is next.
        let next = s.reply(SaslReply::Failure("A002 BAD cancelled")).unwrap();
        let SaslProgress::Restart(start) = next else {
            panic!("{next:?}")
        };
        assert_eq!(start.mechanism, Mechanism::Plain);
        assert_eq!(s.offered(), Mechanisms::PLAIN);
    }
}

#[test]
fn a_challenge_that_is_not_base64_cancels_and_the_next_mechanism_starts() {
    // curl's test 833: CRAM-MD5 challenged with "Rubbish", then PLAIN.
    let mut s = sasl(
        SaslProtocol::Imap,
        creds("user", "secret"),
        SaslOptions::default(),
    );
    s.offer(Mechanisms::parse_list("CRAM-MD5 PLAIN"));
    assert_eq!(s.start(false).unwrap().mechanism, Mechanism::CramMd5);
    let SaslProgress::Cancel { message, .. } = s.reply(SaslReply::Continue(b"Rubbish")).unwrap()
    else {
        panic!("cancel expected")
    };
    assert_eq!(message.line(), "*");
    let SaslProgress::Restart(start) = s.reply(SaslReply::Failure("A002 NO cancelled")).unwrap()
    else {
        panic!("restart expected")
    };
    assert_eq!(start.command("AUTHENTICATE").0, "AUTHENTICATE PLAIN");
    let answer = sent(s.reply(SaslReply::Continue(b"")).unwrap());
    assert_eq!(unb64(answer.line()), b"\0user\0secret");
    assert_eq!(s.reply(SaslReply::Success).unwrap(), SaslProgress::Done);
}

#[test]
fn a_cancel_with_nothing_left_is_exhausted() {
    // curl's test 830: CRAM-MD5 alone, challenged with rubbish.
    let mut s = sasl(
        SaslProtocol::Imap,
        creds("user", "secret"),
        SaslOptions::default(),
    );
    s.offer(Mechanisms::CRAM_MD5);
    s.start(false).unwrap();
    assert!(matches!(
        s.reply(SaslReply::Continue(b"Rubbish")).unwrap(),
        SaslProgress::Cancel { .. }
    ));
    assert_eq!(
        s.reply(SaslReply::Failure("A002 NO")).unwrap(),
        SaslProgress::Exhausted
    );
}

#[test]
fn login_sends_the_user_then_the_password() {
    let mut s = sasl(
        SaslProtocol::Smtp,
        creds("alice", "s3cret"),
        SaslOptions::default(),
    );
    s.offer(Mechanisms::LOGIN);
    assert_eq!(s.start(false).unwrap().command("AUTH").0, "AUTH LOGIN");
    let user = sent(s.reply(SaslReply::Continue(b"VXNlcm5hbWU6")).unwrap());
    assert_eq!(unb64(user.line()), b"alice");
    assert_eq!(user.shown(), user.line(), "a user name is no secret");
    let password = sent(s.reply(SaslReply::Continue(b"UGFzc3dvcmQ6")).unwrap());
    assert_eq!(unb64(password.line()), b"s3cret");
    assert_eq!(password.shown(), "<hidden>");
    assert_eq!(s.reply(SaslReply::Success).unwrap(), SaslProgress::Done);
}

#[test]
fn login_with_an_initial_response_sends_the_user_with_the_command() {
    let options = SaslOptions {
        initial_response: true,
        ..SaslOptions::default()
    };
    let mut s = sasl(SaslProtocol::Pop3, creds("alice", "s3cret"), options);
    s.offer(Mechanisms::LOGIN);
    let (wire, shown) = s.start(false).unwrap().command("AUTH");
    assert_eq!(wire, format!("AUTH LOGIN {}", b64(b"alice")));
    assert_eq!(shown, wire);
    let password = sent(s.reply(SaslReply::Continue(b"UGFzc3dvcmQ6")).unwrap());
    assert_eq!(unb64(password.line()), b"s3cret");
}

#[test]
fn external_is_chosen_only_without_a_password_and_sends_the_user() {
    let prefer = |s: &mut Sasl| {
        s.preferred = Mechanisms::DEFAULT.union(Mechanisms::EXTERNAL);
        s.offer(Mechanisms::parse_list("EXTERNAL PLAIN"));
    };
    let options = SaslOptions {
        initial_response: true,
        ..SaslOptions::default()
    };
    let mut with_password = sasl(SaslProtocol::Smtp, creds("alice", "pw"), options.clone());
    prefer(&mut with_password);
    assert_eq!(
        with_password.start(false).unwrap().mechanism,
        Mechanism::Plain
    );

    let mut certificate = sasl(SaslProtocol::Smtp, creds("alice", ""), options.clone());
    prefer(&mut certificate);
    let start = certificate.start(false).unwrap();
    assert_eq!(
        start.command("AUTH").0,
        format!("AUTH EXTERNAL {}", b64(b"alice"))
    );
    assert_eq!(
        certificate.reply(SaslReply::Success).unwrap(),
        SaslProgress::Done
    );

    // No credentials at all: EXTERNAL still can run, with an empty identity.
    let mut anonymous = sasl(SaslProtocol::Smtp, None, options);
    prefer(&mut anonymous);
    assert!(anonymous.can_authenticate());
    assert_eq!(
        anonymous.start(false).unwrap().command("AUTH").0,
        "AUTH EXTERNAL ="
    );
}

#[test]
fn external_is_not_in_libcurls_defaults() {
    let mut s = sasl(SaslProtocol::Imap, None, SaslOptions::default());
    s.offer(Mechanisms::EXTERNAL);
    assert!(!s.can_authenticate());
    assert_eq!(s.start(false), None);
}

#[test]
fn xoauth2_is_googles_format() {
    let options = SaslOptions {
        bearer: Some("ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg".into()),
        initial_response: true,
        ..SaslOptions::default()
    };
    let mut s = sasl(
        SaslProtocol::Imap,
        creds("someuser@example.com", ""),
        options,
    );
    s.offer(Mechanisms::XOAUTH2.union(Mechanisms::PLAIN));
    let start = s.start(false).unwrap();
    assert_eq!(start.mechanism, Mechanism::XOAuth2);
    let ir = start.initial_response.unwrap();
    // The example on Google's "OAuth 2.0 Mechanism" page.
    assert_eq!(
        ir.line(),
        "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
    );
    assert_eq!(ir.shown(), "<hidden>");
    assert_eq!(s.reply(SaslReply::Success).unwrap(), SaslProgress::Done);
}

#[test]
fn oauthbearer_is_rfc_7628_and_preferred_to_xoauth2() {
    let options = SaslOptions {
        bearer: Some("vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==".into()),
        ..SaslOptions::default()
    };
    let mut s = Sasl::new(
        SaslProtocol::Imap,
        Mechanisms::DEFAULT,
        creds("user@example.com", ""),
        options,
        "server.example.com",
        143,
        entropy(),
    );
    s.offer(Mechanisms::parse_list("XOAUTH2 OAUTHBEARER PLAIN"));
    let start = s.start(false).unwrap();
    assert_eq!(start.command("AUTHENTICATE").0, "AUTHENTICATE OAUTHBEARER");
    let message = sent(s.reply(SaslReply::Continue(b"")).unwrap());
    // RFC 7628 section 4.1.
    assert_eq!(
        message.line(),
        "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB"
    );
    assert_eq!(s.reply(SaslReply::Success).unwrap(), SaslProgress::Done);
}

#[test]
fn oauthbearer_leaves_out_port_80() {
    let options = SaslOptions {
        bearer: Some("t".into()),
        initial_response: true,
        ..SaslOptions::default()
    };
    let mut s = Sasl::new(
        SaslProtocol::Smtp,
        Mechanisms::DEFAULT,
        creds("u", ""),
        options,
        "h",
        80,
        entropy(),
    );
    s.offer(Mechanisms::OAUTHBEARER);
    let ir = s.start(false).unwrap().initial_response.unwrap();
    assert_eq!(
        unb64(ir.line()),
        b"n,a=u,\x01host=h\x01auth=Bearer t\x01\x01"
    );
}

#[test]
fn an_oauthbearer_error_challenge_is_acknowledged_then_refused() {
    let options = SaslOptions {
        bearer: Some("expired".into()),
        initial_response: true,
        ..SaslOptions::default()
    };
    let mut s = sasl(SaslProtocol::Smtp, creds("u", ""), options);
    s.offer(Mechanisms::OAUTHBEARER);
    s.start(false).unwrap();
    let error = b64(br#"{"status":"invalid_token"}"#);
    let ack = sent(s.reply(SaslReply::Continue(error.as_bytes())).unwrap());
    assert_eq!(ack.line(), "AQ==");
    let refused = s.reply(SaslReply::Failure("535 5.7.8 no")).unwrap_err();
    assert_eq!(refused.kind, ReplyErrorKind::LoginDenied);
    assert!(refused.message.contains("535 5.7.8 no"), "{refused}");
}

#[test]
fn oauth_mechanisms_need_a_bearer() {
    let mut s = sasl(SaslProtocol::Imap, creds("u", "p"), SaslOptions::default());
    s.offer(Mechanisms::parse_list("OAUTHBEARER XOAUTH2"));
    assert_eq!(s.start(false), None);
    let (notes, error) = s.blocked();
    assert_eq!(error.kind, ReplyErrorKind::LoginDenied);
    assert!(notes.contains(&"SASL: OAUTHBEARER is missing CURLOPT_XOAUTH2_BEARER".to_owned()));
    assert!(notes.contains(&"SASL: XOAUTH2 is missing CURLOPT_XOAUTH2_BEARER".to_owned()));
}

#[test]
fn ntlm_runs_type1_type2_type3() {
    let mut s = sasl(
        SaslProtocol::Smtp,
        creds("CORP\\alice", "pw"),
        SaslOptions::default(),
    );
    s.offer(Mechanisms::NTLM.union(Mechanisms::PLAIN));
    assert_eq!(s.start(false).unwrap().command("AUTH").0, "AUTH NTLM");
    let type1 = sent(s.reply(SaslReply::Continue(b"")).unwrap());
    assert_eq!(unb64(type1.line()), ntlm::negotiate_message());
    assert_eq!(type1.shown(), type1.line());

    let mut type2 = b"NTLMSSP\0".to_vec();
    type2.extend_from_slice(&2u32.to_le_bytes());
    type2.extend_from_slice(&[0, 0, 0, 0, 32, 0, 0, 0]);
    type2.extend_from_slice(&(ntlm::FLAG_NTLM | ntlm::FLAG_UNICODE).to_le_bytes());
    type2.extend_from_slice(&[9, 8, 7, 6, 5, 4, 3, 2]);
    let encoded = b64(&type2);
    let type3 = sent(s.reply(SaslReply::Continue(encoded.as_bytes())).unwrap());
    assert_eq!(type3.shown(), "<hidden>");
    let challenge = ntlm::parse_challenge_message(&type2).unwrap();
    let expected = ntlm::authenticate_message(
        &challenge,
        "CORP\\alice",
        "pw",
        [1, 2, 3, 4, 5, 6, 7, 8],
        133_000_000_000_000_000,
        ntlm::WORKSTATION,
    )
    .unwrap();
    assert_eq!(unb64(type3.line()), expected);
    assert_eq!(s.reply(SaslReply::Success).unwrap(), SaslProgress::Done);
}

#[test]
fn ntlm_with_an_initial_response_sends_type1_with_the_command() {
    let options = SaslOptions {
        initial_response: true,
        ..SaslOptions::default()
    };
    let mut s = sasl(SaslProtocol::Pop3, creds("u", "p"), options);
    s.offer(Mechanisms::NTLM);
    let start = s.start(false).unwrap();
    assert_eq!(
        unb64(start.initial_response.unwrap().line()),
        ntlm::negotiate_message()
    );
    // A bad type-2 cancels.
    assert!(matches!(
        s.reply(SaslReply::Continue(b"AAAA")).unwrap(),
        SaslProgress::Cancel { .. }
    ));
}

#[test]
fn mechanisms_are_chosen_in_libcurls_order() {
    let everything = Mechanisms::parse_list(
        "LOGIN PLAIN XOAUTH2 OAUTHBEARER NTLM CRAM-MD5 DIGEST-MD5 EXTERNAL GSSAPI SCRAM-SHA-256",
    );
    let options = SaslOptions {
        bearer: Some("token".into()),
        ..SaslOptions::default()
    };
    let mut s = sasl(SaslProtocol::Imap, creds("u", "p"), options);
    s.preferred = Mechanisms::ANY;
    s.offer(everything);
    // With a password EXTERNAL is skipped; then the order is fixed.
    let mut order = Vec::new();
    while let Some(start) = s.start(false) {
        order.push(start.mechanism);
        s.offered = s.offered.without(start.mechanism.bit());
    }
    assert_eq!(
        order,
        [
            Mechanism::DigestMd5,
            Mechanism::CramMd5,
            Mechanism::Ntlm,
            Mechanism::OAuthBearer,
            Mechanism::XOAuth2,
            Mechanism::Plain,
            Mechanism::Login,
        ]
    );
    // GSSAPI and SCRAM are offered and allowed, but not built in.
    let (notes, _) = s.blocked();
    assert!(
        notes.contains(&"SASL: GSSAPI not builtin".to_owned()),
        "{notes:?}"
    );
    assert!(notes.contains(&"SASL: SCRAM-SHA-256 not builtin".to_owned()));
    assert!(notes.contains(&"SASL: auth EXTERNAL not chosen with password".to_owned()));
}

#[test]
fn the_initial_response_is_dropped_when_the_line_would_be_too_long() {
    let options = SaslOptions {
        initial_response: true,
        ..SaslOptions::default()
    };
    // PLAIN's base64 of "\0u\0" + password: 4 * ceil((3 + n) / 3) bytes.
    let long = "p".repeat(372); // 500 bytes of base64 + "PLAIN" = 505 > 504
    let short = "p".repeat(369); // 496 + 5 = 501 <= 504
    for (password, smtp_ir) in [(&long, false), (&short, true)] {
        let mut s = sasl(SaslProtocol::Smtp, creds("u", password), options.clone());
        s.offer(Mechanisms::PLAIN);
        let start = s.start(false).unwrap();
        assert_eq!(
            start.initial_response.is_some(),
            smtp_ir,
            "{}",
            password.len()
        );
        if !smtp_ir {
            // Sent after the empty challenge instead.
            let answer = sent(s.reply(SaslReply::Continue(b"")).unwrap());
            assert_eq!(answer.line().len(), 500);
        }
        // IMAP has no limit.
        let mut s = sasl(SaslProtocol::Imap, creds("u", password), options.clone());
        s.offer(Mechanisms::PLAIN);
        assert!(s.start(false).unwrap().initial_response.is_some());
    }
    // POP3's limit is 247.
    let mut s = sasl(SaslProtocol::Pop3, creds("u", &"p".repeat(180)), options);
    s.offer(Mechanisms::PLAIN);
    assert!(s.start(false).unwrap().initial_response.is_none());
}

#[test]
fn imap_sends_the_initial_response_when_the_server_takes_one() {
    let mut s = sasl(SaslProtocol::Imap, creds("u", "p"), SaslOptions::default());
    s.offer(Mechanisms::PLAIN);
    assert!(s.start(false).unwrap().initial_response.is_none());
    assert!(s.start(true).unwrap().initial_response.is_some());
}

#[test]
fn replies_out_of_turn_are_login_denied() {
    // Refused after the last line.
    let mut s = sasl(SaslProtocol::Smtp, creds("u", "p"), SaslOptions::default());
    s.offer(Mechanisms::PLAIN);
    s.start(false).unwrap();
    sent(s.reply(SaslReply::Continue(b"")).unwrap());
    let error = s
        .reply(SaslReply::Failure("535 5.7.8 Authentication failed"))
        .unwrap_err();
    assert_eq!(error.kind, ReplyErrorKind::LoginDenied);
    assert_eq!(
        error.message,
        "PLAIN authentication refused by the server: 535 5.7.8 Authentication failed"
    );
    // Accepted before the last line.
    let mut s = sasl(SaslProtocol::Smtp, creds("u", "p"), SaslOptions::default());
    s.offer(Mechanisms::LOGIN);
    s.start(false).unwrap();
    sent(s.reply(SaslReply::Continue(b"")).unwrap());
    assert_eq!(
        s.reply(SaslReply::Success).unwrap_err().kind,
        ReplyErrorKind::LoginDenied
    );
    // A challenge after the last line.
    let mut s = sasl(SaslProtocol::Smtp, creds("u", "p"), SaslOptions::default());
    s.offer(Mechanisms::PLAIN);
    s.start(false).unwrap();
    sent(s.reply(SaslReply::Continue(b"")).unwrap());
    assert_eq!(
        s.reply(SaslReply::Continue(b"")).unwrap_err().kind,
        ReplyErrorKind::LoginDenied
    );
    // Refused at once.
    let mut s = sasl(SaslProtocol::Smtp, creds("u", "p"), SaslOptions::default());
    s.offer(Mechanisms::PLAIN);
    s.start(false).unwrap();
    assert_eq!(
        s.reply(SaslReply::Failure("504 no")).unwrap_err().kind,
        ReplyErrorKind::LoginDenied
    );
    // Nothing started.
    let mut idle = sasl(SaslProtocol::Smtp, creds("u", "p"), SaslOptions::default());
    assert_eq!(
        idle.reply(SaslReply::Success).unwrap_err().kind,
        ReplyErrorKind::WeirdReply
    );
}

#[test]
fn blocked_explains_what_was_missing() {
    let s = sasl(SaslProtocol::Smtp, creds("u", "p"), SaslOptions::default());
    let (notes, error) = s.blocked();
    assert_eq!(notes, ["SASL: no auth mechanism was offered or recognized"]);
    assert_eq!(error.kind, ReplyErrorKind::LoginDenied);

    let mut s = sasl(SaslProtocol::Smtp, creds("u", "p"), SaslOptions::default());
    s.preferred = Mechanisms::PLAIN;
    s.offer(Mechanisms::CRAM_MD5);
    let (notes, error) = s.blocked();
    assert_eq!(
        notes,
        ["SASL: no overlap between offered and configured auth mechanisms"]
    );
    assert_eq!(
        error.message,
        "no SASL mechanism could be used (the server offers: CRAM-MD5; allowed: PLAIN)"
    );
}

#[test]
fn login_options_follow_libcurls_rules() {
    assert_eq!(auth_values("").unwrap(), Vec::<&str>::new());
    assert_eq!(auth_values("AUTH=*;").unwrap(), ["*"]);
    for bad in ["AUTH", "AUTH=", "X=1", "AUTH=PLAIN;;AUTH=LOGIN", ";"] {
        let error = auth_values(bad).unwrap_err();
        assert_eq!(error.kind, ReplyErrorKind::BadOption, "{bad}");
    }

    let read = |values: &[&str]| {
        let mut preference = Preference::new(Mechanisms::DEFAULT);
        for value in values {
            preference.apply(value)?;
        }
        Ok::<_, ReplyError>(preference.mechanisms())
    };
    assert_eq!(read(&[]).unwrap(), Mechanisms::DEFAULT);
    assert_eq!(read(&["plain"]).unwrap(), Mechanisms::PLAIN);
    assert_eq!(
        read(&["EXTERNAL", "LOGIN"]).unwrap(),
        Mechanisms::EXTERNAL.union(Mechanisms::LOGIN)
    );
    assert_eq!(read(&["*"]).unwrap(), Mechanisms::DEFAULT);
    assert_eq!(read(&["PLAIN", "*"]).unwrap(), Mechanisms::DEFAULT);
    assert_eq!(read(&["GSSAPI"]).unwrap(), Mechanisms::GSSAPI);
    for bad in ["PLAINX", "*X", "+LOGIN", "PLAIN "] {
        assert_eq!(
            read(&[bad]).unwrap_err().kind,
            ReplyErrorKind::BadOption,
            "{bad}"
        );
    }
}

#[test]
fn http_auth_sets_the_defaults_as_in_libcurl() {
    assert_eq!(
        Mechanisms::from_http_auth(AuthMask::BASIC),
        Mechanisms::DEFAULT
    );
    assert_eq!(
        Mechanisms::from_http_auth(AuthMask::DIGEST),
        Mechanisms::DIGEST_MD5
    );
    assert_eq!(
        Mechanisms::from_http_auth(AuthMask::BEARER.union(AuthMask::NTLM)),
        Mechanisms::parse_list("OAUTHBEARER XOAUTH2 NTLM")
    );
    assert_eq!(
        Mechanisms::from_http_auth(AuthMask::ANY),
        Mechanisms::parse_list("PLAIN LOGIN DIGEST-MD5 NTLM OAUTHBEARER XOAUTH2 GSSAPI")
    );
    // Bits with no SASL meaning keep the defaults.
    assert_eq!(
        Mechanisms::from_http_auth(AuthMask::AWS_SIGV4),
        Mechanisms::DEFAULT
    );
}

#[test]
fn mechanism_names_are_whole_words_in_any_case() {
    assert_eq!(
        Mechanisms::from_name("digest-md5"),
        Some(Mechanisms::DIGEST_MD5)
    );
    assert_eq!(Mechanisms::from_name("PLAIN2"), None);
    assert_eq!(
        Mechanisms::from_name("SCRAM-SHA-1"),
        Some(Mechanisms::SCRAM_SHA_1)
    );
    assert_eq!(
        Mechanisms::parse_list("  PLAIN\tLOGIN  X-OAUTH "),
        Mechanisms::PLAIN.union(Mechanisms::LOGIN)
    );
    assert_eq!(Mechanisms::NONE.to_string(), "none");
    for mechanism in Mechanism::PREFERENCE {
        assert_eq!(
            Mechanisms::from_name(mechanism.name()),
            Some(mechanism.bit())
        );
    }
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let options = SaslOptions {
        bearer: Some("tok3n".into()),
        initial_response: true,
        ..SaslOptions::default()
    };
    let mut s = sasl(SaslProtocol::Smtp, creds("u", "pa55"), options);
    s.offer(Mechanisms::PLAIN);
    let start = s.start(false).unwrap();
    let shown = format!("{s:?} {start:?}");
    for secret in ["tok3n", "pa55", start.initial_response.unwrap().line()] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

#[test]
fn hostile_challenges_never_panic() {
    let mut garbage = crate::testing::Garbage::new(7);
    for round in 0..300 {
        let len = (garbage.next_u64() % 200) as usize;
        let bytes = garbage.bytes(len);
        let encoded = if round % 2 == 0 {
            b64(&bytes)
        } else {
            String::from_utf8_lossy(&bytes).into_owned()
        };
        for mechanisms in ["DIGEST-MD5", "CRAM-MD5", "NTLM", "LOGIN", "PLAIN"] {
            let mut s = sasl(SaslProtocol::Imap, creds("u", "p"), SaslOptions::default());
            s.offer(Mechanisms::parse_list(mechanisms));
            s.start(false).unwrap();
            for _ in 0..3 {
                let _ = s.reply(SaslReply::Continue(encoded.as_bytes()));
            }
        }
    }
    // Pair parsing stops at the first syntax error.
    assert_eq!(
        digest_pairs("a=1, b=\"x\\\"y\" ,c"),
        [
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "x\"y".to_owned())
        ]
    );
    assert_eq!(digest_pairs("a=\"unterminated"), []);
}
