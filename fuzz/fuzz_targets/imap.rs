//! The IMAP connect phase (`imap::Imap`: greeting, `CAPABILITY`,
//! `STARTTLS`, SASL `AUTHENTICATE` or `LOGIN`) against a server whose every byte comes from the input.
//!
//! Input: `[3 config bytes][plan][server bytes]`. The config picks the
//! credentials (none, a password, an empty password), `CURLOPT_USE_SSL`,
//! implicit TLS, the SASL options (initial response, bearer token,
//! authzid, service name, allowed HTTP methods) and the login options
//! (valid and invalid ones; an invalid one must be refused without
//! showing a secret).
//!
//! Checks (see `oracle::check_connect_phase`): the same end whole, in
//! pieces and with replies overtaking commands; progress on every call;
//! nothing after the final reply or the STARTTLS go-ahead is consumed
//! (after the go-ahead the rest comes "through TLS"); every command is one
//! clean CRLF line; the password and the bearer token never show in a
//! verbose line, an error or `Debug`; a done phase holds nothing to send.
#![no_main]

use handover_proto::imap::{Imap, ImapConfig};
use handover_proto_fuzz::oracle::{
    check_mail_phase, fixed_entropy, is_sasl_response, pick_credentials, pick_login_options,
    pick_sasl_options, pick_use_ssl, Input,
};
use libfuzzer_sys::fuzz_target;

fn config(a: u8, b: u8, c: u8) -> ImapConfig {
    ImapConfig {
        host: "mail.example.com".into(),
        port: 143,
        connection_id: u64::from(a >> 5),
        credentials: pick_credentials(a),
        use_ssl: pick_use_ssl(a >> 2),
        implicit_tls: a & 0x10 != 0,
        login_options: pick_login_options(c),
        sasl: pick_sasl_options(b),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let [a, b, c] = input.array::<3>();
    let plan = input.plan();
    let msg = input.rest();
    let config = config(a, b, c);
    let new = || Imap::new(config.clone(), fixed_entropy());
    // Each line is a tagged command (tags counting up from 001) or a
    // SASL response.
    let mut tags = 0u8;
    check_mail_phase(new, msg, &plan, |line| {
        if is_sasl_response(line) {
            return;
        }
        let (tag, command) = line.split_once(' ').unwrap_or((line, ""));
        tags = tags.wrapping_add(1);
        let letter = char::from(b'A' + (a >> 5));
        assert_eq!(tag, format!("{letter}{tags:03}"), "tag of {line:?}");
        let word = command.split(' ').next().unwrap_or_default();
        assert!(
            ["CAPABILITY", "STARTTLS", "AUTHENTICATE", "LOGIN"].contains(&word),
            "unexpected command {line:?}"
        );
    });
});
