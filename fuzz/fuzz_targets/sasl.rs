//! SASL decisions (`sasl`): the login options (`auth_values`,
//! `Preference`), the server's mechanism list (`Mechanisms::parse_list`),
//! the choice of mechanism (`Sasl::start`) and the answers to arbitrary
//! server replies (`Sasl::reply`).
//!
//! Input: `[2 config bytes][login options line][offered mechanisms line]
//! [replies ...]`, each reply a kind byte (continue with a challenge,
//! success, failure) and a length-prefixed field. The config picks the
//! protocol, the credentials, `force_ir`, and the SASL options.
//!
//! Checks: `auth_values` values are non-empty and read back from
//! `AUTH=v;…`; a `Preference` holds each name it accepted (`*` is the
//! default set); `parse_list` → `Display` → `parse_list`; the mechanism
//! chosen is offered, allowed and usable (EXTERNAL only without a
//! password, the OAuth ones only with a token) and the first such in
//! libcurl's order; the command and every response is one line (base64,
//! `=` or `*`) that fits the protocol's limit with its initial response;
//! a restart drops the cancelled mechanism; nothing is answered after the
//! end; the password and the token never show in a shown line, a
//! cancellation reason, an error or `Debug`.
#![no_main]

use handover_proto::sasl::{
    auth_values, Mechanism, Mechanisms, Preference, Sasl, SaslProgress, SaslProtocol, SaslReply,
    SaslStart,
};
use handover_proto_fuzz::oracle::{
    assert_hidden, fixed_entropy, is_sasl_response, pick_credentials, pick_sasl_options, secrets,
    Input,
};
use libfuzzer_sys::fuzz_target;

/// The login options: values read back, the preference holds them.
fn check_login_options(options: &str) -> Mechanisms {
    let defaults = Mechanisms::DEFAULT;
    let mut preference = Preference::new(defaults);
    let Ok(values) = auth_values(options) else {
        return defaults;
    };
    assert!(values.iter().all(|v| !v.is_empty() && !v.contains(';')));
    let rendered: Vec<String> = values.iter().map(|v| format!("AUTH={v}")).collect();
    assert_eq!(auth_values(&rendered.join(";")).unwrap(), values);
    for value in values {
        match preference.apply(value) {
            Ok(()) if value == "*" => assert_eq!(preference.mechanisms(), Mechanisms::DEFAULT),
            Ok(()) => {
                let bit = Mechanisms::from_name(value).expect("accepted a known name");
                assert!(preference.mechanisms().contains(bit));
            }
            Err(_) => assert!(Mechanisms::from_name(value).is_none()),
        }
    }
    preference.mechanisms()
}

/// The mechanism libcurl would choose, from the public facts.
fn expected_choice(enabled: Mechanisms, password_empty: bool, bearer: bool) -> Option<Mechanism> {
    Mechanism::PREFERENCE.into_iter().find(|&m| {
        enabled.contains(m.bit())
            && match m {
                Mechanism::External => password_empty,
                Mechanism::OAuthBearer | Mechanism::XOAuth2 => bearer,
                _ => true,
            }
    })
}

/// A start is what the model chose and a clean command within the limit.
fn check_start(
    start: &SaslStart,
    protocol: SaslProtocol,
    expected: Option<Mechanism>,
    peer: &[u8],
) {
    assert_eq!(Some(start.mechanism), expected);
    let (wire, shown) = start.command("AUTH");
    assert!(!wire.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)));
    check_hidden("the shown command", &shown, peer);
    if let Some(ir) = &start.initial_response {
        assert!(is_sasl_response(ir.line()) && ir.line() != "*" && !ir.line().is_empty());
        if let Some(max) = protocol.max_initial_response() {
            let len = if ir.line() == "=" { 0 } else { ir.line().len() };
            assert!(
                start.mechanism.name().len() + len <= max,
                "initial response too long"
            );
        }
    }
}

/// No secret in `text`, unless the server's replies (`peer`: the input)
/// spelled it out themselves: a refusal quotes the server's line.
fn check_hidden(what: &str, text: &str, peer: &[u8]) {
    let secrets = secrets(peer);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_hidden(what, text, &secrets, peer);
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let [a, b] = input.array::<2>();
    let options = String::from_utf8_lossy(input.until(b'\n')).into_owned();
    let list = String::from_utf8_lossy(input.until(b'\n')).into_owned();
    let protocol = [
        SaslProtocol::Smtp,
        SaslProtocol::Imap,
        SaslProtocol::Pop3,
        SaslProtocol::Smtp,
    ][usize::from(a & 3)];
    let credentials = pick_credentials(a >> 2);
    let force_ir = a & 0x10 != 0;
    let sasl_options = pick_sasl_options(b);

    let defaults = Mechanisms::from_http_auth(sasl_options.http_auth);
    let preferred = if options.is_empty() {
        defaults
    } else {
        check_login_options(&options)
    };
    let offered = Mechanisms::parse_list(&list);
    assert_eq!(Mechanisms::parse_list(&offered.to_string()), offered);

    let password_empty = credentials.as_ref().is_none_or(|c| c.password.is_empty());
    let bearer = sasl_options.bearer.is_some();
    let mut sasl = Sasl::new(
        protocol,
        preferred,
        credentials.clone(),
        sasl_options,
        "mail.example.com",
        587,
        fixed_entropy(),
    );
    sasl.offer(offered);
    let mut enabled = offered.intersection(preferred);
    let Some(start) = sasl.start(force_ir) else {
        assert_eq!(expected_choice(enabled, password_empty, bearer), None);
        let (notes, error) = sasl.blocked();
        check_hidden("the blocked notes", &notes.join("\n"), data);
        check_hidden("the error", &format!("{error} {error:?}"), data);
        return;
    };
    check_start(
        &start,
        protocol,
        expected_choice(enabled, password_empty, bearer),
        data,
    );
    let mut current = start.mechanism;
    let mut ended = false;
    while !input.is_empty() {
        let kind = input.byte();
        let field = input.field();
        let text = String::from_utf8_lossy(field);
        let reply = match kind % 4 {
            0 | 1 => SaslReply::Continue(field),
            2 => SaslReply::Success,
            _ => SaslReply::Failure(&text),
        };
        let result = sasl.reply(reply);
        if ended {
            assert!(result.is_err(), "an answer after the end: {result:?}");
            break;
        }
        match result {
            Ok(SaslProgress::Send(message)) => {
                assert!(is_sasl_response(message.line()) && message.line() != "*");
                check_hidden("a shown response", message.shown(), data);
            }
            Ok(SaslProgress::Cancel { message, reason }) => {
                assert_eq!(message.line(), "*");
                check_hidden("a cancellation reason", &reason, data);
            }
            Ok(SaslProgress::Restart(start)) => {
                enabled = enabled.without(current.bit());
                check_start(
                    &start,
                    protocol,
                    expected_choice(enabled, password_empty, bearer),
                    data,
                );
                current = start.mechanism;
            }
            Ok(SaslProgress::Exhausted) => {
                enabled = enabled.without(current.bit());
                assert_eq!(expected_choice(enabled, password_empty, bearer), None);
                ended = true;
            }
            Ok(SaslProgress::Done) => ended = true,
            Err(error) => {
                check_hidden("the error", &format!("{error} {error:?}"), data);
                break;
            }
        }
        check_hidden("Debug", &format!("{sasl:?}"), data);
    }
    check_hidden("Debug", &format!("{sasl:?}"), data);
});
