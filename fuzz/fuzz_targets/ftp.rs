//! The FTP connect phase (`ftp::FtpLogin`: greeting, `AUTH TLS|SSL`,
//! `USER`/`PASS`/`ACCT`, `PBSZ`/`PROT`, `PWD`) against a server whose every
//! byte comes from the input.
//!
//! Input: `[2 config bytes][plan][server bytes]`. The config picks the
//! user (anonymous or `alice` with the password), an account, an
//! alternative to `USER`, `CURLOPT_USE_SSL`, `CURLOPT_FTPSSLAUTH` and
//! implicit TLS (`ftps://`).
//!
//! Checks (see `oracle::check_connect_phase`): the same end whole, in
//! pieces and with replies overtaking commands; progress on every call;
//! nothing after the final reply or the `AUTH` go-ahead is consumed (after
//! the go-ahead the rest comes "through TLS"); every command is one clean
//! CRLF line; the password never shows in a verbose line, an error or
//! `Debug`; `PASS` carries it only with a user; a done phase ended with
//! the `PWD` reply and holds nothing more to send.
#![no_main]

use handover_proto::ftp::{FtpConfig, FtpLogin, FtpSslAuth};
use handover_proto::machine::Status;
use handover_proto_fuzz::oracle::{
    check_connect_phase, check_secrets_hidden, pick_use_ssl, Input, Machine, PASSWORD,
};
use libfuzzer_sys::fuzz_target;

fn config(a: u8, b: u8) -> FtpConfig {
    FtpConfig {
        user: (a & 1 != 0).then(|| "alice".to_string()),
        password: if a & 1 != 0 {
            PASSWORD.into()
        } else {
            String::new()
        },
        account: (a & 2 != 0).then(|| "acct9".to_string()),
        alternative_to_user: (a & 4 != 0).then(|| "SITE LOGIN alice".to_string()),
        use_ssl: pick_use_ssl(a >> 3),
        ssl_auth: [FtpSslAuth::Default, FtpSslAuth::Ssl, FtpSslAuth::Tls][usize::from(b % 3)],
        implicit_tls: a & 0x20 != 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let [a, b] = input.array::<2>();
    let plan = input.plan();
    let msg = input.rest();
    let config = config(a, b);
    let new = || FtpLogin::new(config.clone()).expect("valid config");
    let (end, lines) = check_connect_phase(new, msg, &plan);
    for line in &lines {
        let word = line.split(' ').next().unwrap_or_default();
        assert!(
            ["USER", "PASS", "ACCT", "AUTH", "PBSZ", "PROT", "PWD", "SITE"].contains(&word),
            "unexpected command {line:?}"
        );
        if word == "PASS" && config.user.is_none() {
            assert_eq!(line, "PASS ftp@example.com");
        }
    }
    let mut ftp = new();
    assert_eq!(check_secrets_hidden(&mut ftp, msg), end);
    if ftp.status() == Status::Done {
        assert!(ftp.transmit().is_empty() && !ftp.wants_read());
        assert_eq!(lines.last().map(String::as_str), Some("PWD"));
    }
});
