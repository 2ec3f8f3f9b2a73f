//! Self-test of the protocol servers of `real_peers` (vsftpd, dovecot,
//! aiosmtpd, mosquitto, tftpd-hpa): each is driven here with std sockets
//! and a plain rustls client only (no handover API), so a failure here is
//! the server's (or its setup's), not handover's. Every server is started
//! once for the whole binary (`shared`); tests that read a server's log
//! pick their own lines (a user, a client port, a tag of their own).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use handover_test_support::peers::TestPki;
use handover_test_support::real_peers::{
    process_group_alive, Dovecot, FtpTls, Mosquitto, SmtpServer, Tftpd, Vsftpd, FTP_PASSWORD,
    FTP_USER, MAIL_PASSWORD, MAIL_QUOTED_PASSWORD, MAIL_QUOTED_USER, MAIL_USER,
};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a server gets to log a client's close.
const LOG_WAIT: Duration = Duration::from_secs(5);

type Tls = StreamOwned<ClientConnection, TcpStream>;

fn local(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

fn connect(addr: SocketAddr) -> TcpStream {
    let sock = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    sock.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    sock.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    sock
}

/// TLS over `sock`, trusting the shared test CA only and checking `name`.
fn tls(sock: TcpStream, name: &str) -> Tls {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(TestPki::shared().ca_der.clone()))
        .unwrap();
    let config =
        ClientConfig::builder_with_provider(rustls::crypto::ring::default_provider().into())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let name = ServerName::try_from(name.to_owned()).unwrap();
    let conn = ClientConnection::new(Arc::new(config), name).unwrap();
    let mut stream = StreamOwned::new(conn, sock);
    while stream.conn.is_handshaking() {
        stream
            .conn
            .complete_io(&mut stream.sock)
            .unwrap_or_else(|e| panic!("TLS handshake: {e}"));
    }
    stream
}

/// One line, CRLF and all, read a byte at a time (so that nothing past it
/// is consumed before a switch to TLS).
fn read_line(stream: &mut impl Read) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") {
        match stream.read(&mut byte) {
            Ok(0) => panic!("EOF after {:?}", String::from_utf8_lossy(&line)),
            Ok(_) => line.push(byte[0]),
            Err(e) => panic!("read after {:?}: {e}", String::from_utf8_lossy(&line)),
        }
    }
    String::from_utf8(line).expect("a text line")
}

fn send(stream: &mut impl Write, line: &str) {
    stream.write_all(format!("{line}\r\n").as_bytes()).unwrap();
    stream.flush().unwrap();
}

/// An FTP or SMTP reply: every line of it, up to `NNN text`.
fn reply(stream: &mut impl Read) -> String {
    let mut all = String::new();
    loop {
        let line = read_line(stream);
        all.push_str(&line);
        let b = line.as_bytes();
        if b.len() >= 4 && b[..3].iter().all(u8::is_ascii_digit) && b[3] == b' ' {
            return all;
        }
    }
}

fn command(stream: &mut (impl Read + Write), line: &str) -> String {
    send(stream, line);
    reply(stream)
}

/// An IMAP command's answer: the untagged lines and the tagged one.
fn imap(stream: &mut (impl Read + Write), tag: &str, line: &str) -> String {
    send(stream, &format!("{tag} {line}"));
    let mut all = String::new();
    loop {
        let got = read_line(stream);
        all.push_str(&got);
        if got.starts_with(&format!("{tag} ")) {
            return all;
        }
    }
}

/// A POP3 multi-line answer, up to the `.` line.
fn pop3_multi(stream: &mut (impl Read + Write), line: &str) -> String {
    send(stream, line);
    let mut all = String::new();
    loop {
        let got = read_line(stream);
        all.push_str(&got);
        if got == ".\r\n" || got.starts_with("-ERR") {
            return all;
        }
    }
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// MD5 in hex of `data`, or HMAC-MD5 keyed with `key`, by `openssl dgst`
/// (std has no MD5).
fn md5_hex(data: &[u8], hmac_key: Option<&str>) -> String {
    let mut cmd = Command::new("openssl");
    cmd.args(["dgst", "-md5"]);
    if let Some(key) = hmac_key {
        cmd.arg("-hmac").arg(key);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run openssl dgst");
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    text.split_whitespace().last().unwrap().to_owned()
}

/// The answer to a CRAM-MD5 challenge (base64 in, base64 out).
fn cram_md5(challenge_b64: &str, user: &str, password: &str) -> String {
    let challenge = base64::engine::general_purpose::STANDARD
        .decode(challenge_b64.trim())
        .expect("a base64 challenge");
    b64(format!("{user} {}", md5_hex(&challenge, Some(password))).as_bytes())
}

/// IMAP's quoted string.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn assert_has(text: &str, wanted: &[&str]) {
    for w in wanted {
        assert!(text.contains(w), "{w:?} missing from:\n{text}");
    }
}

// ---- FTP ----

#[test]
fn vsftpd_explicit_logs_in_anonymous_and_local_in_clear_and_after_auth_tls() {
    let ftp = Vsftpd::shared(FtpTls::Explicit);
    assert_eq!(ftp.tls(), FtpTls::Explicit);
    ftp.put("hello.txt", b"hello\n");

    let mut sock = connect(ftp.addr());
    assert!(reply(&mut sock).starts_with("220 "), "{}", ftp.log());
    assert!(command(&mut sock, "USER anonymous").starts_with("331 "));
    assert!(command(&mut sock, "PASS ftp@example.com").starts_with("230 "));
    assert_eq!(
        command(&mut sock, "PWD"),
        "257 \"/\" is the current directory\r\n"
    );
    assert!(command(&mut sock, "SIZE hello.txt").starts_with("213 6"));

    let mut sock = connect(ftp.addr());
    reply(&mut sock);
    assert!(command(&mut sock, &format!("USER {FTP_USER}")).starts_with("331 "));
    assert!(command(&mut sock, &format!("PASS {FTP_PASSWORD}")).starts_with("230 "));
    assert!(command(&mut sock, "PWD").starts_with("257 \"/\""));

    let mut sock = connect(ftp.addr());
    reply(&mut sock);
    assert!(
        command(&mut sock, "AUTH TLS").starts_with("234 "),
        "{}",
        ftp.log()
    );
    let mut sock = tls(sock, "127.0.0.1");
    assert!(command(&mut sock, "PBSZ 0").starts_with("200 "));
    assert!(command(&mut sock, "PROT P").starts_with("200 "));
    assert!(command(&mut sock, &format!("USER {FTP_USER}")).starts_with("331 "));
    assert!(command(&mut sock, &format!("PASS {FTP_PASSWORD}")).starts_with("230 "));
    assert!(command(&mut sock, "SYST").starts_with("215 "));

    let mut sock = connect(ftp.addr());
    reply(&mut sock);
    assert!(command(&mut sock, "AUTH SSL").starts_with("234 "));
    let mut sock = tls(sock, "localhost");
    assert!(command(&mut sock, "USER anonymous").starts_with("331 "));
    assert!(command(&mut sock, "PASS x").starts_with("230 "));
}

#[test]
fn vsftpd_implicit_greets_inside_tls() {
    let ftp = Vsftpd::shared(FtpTls::Implicit);
    let mut sock = tls(connect(ftp.addr()), "127.0.0.1");
    assert!(reply(&mut sock).starts_with("220 "), "{}", ftp.log());
    assert!(command(&mut sock, "USER anonymous").starts_with("331 "));
    assert!(command(&mut sock, "PASS x").starts_with("230 "));
    assert!(command(&mut sock, "PWD").starts_with("257 "));
}

#[test]
fn vsftpd_without_tls_refuses_auth_tls_denies_a_wrong_password_and_logs_quit() {
    let ftp = Vsftpd::shared(FtpTls::None);
    let mut sock = connect(ftp.addr());
    reply(&mut sock);
    let auth = command(&mut sock, "AUTH TLS");
    assert!(auth.starts_with("530 "), "AUTH TLS without TLS: {auth}");

    let started = Instant::now();
    let mut sock = connect(ftp.addr());
    reply(&mut sock);
    command(&mut sock, &format!("USER {FTP_USER}"));
    assert!(command(&mut sock, "PASS wrong").starts_with("530 "));
    assert!(started.elapsed() < Duration::from_secs(2), "a slow 530");

    // One session QUITs, one only closes: the log has the one QUIT.
    let mut quits = connect(ftp.addr());
    reply(&mut quits);
    command(&mut quits, "USER anonymous");
    command(&mut quits, "PASS x");
    assert!(command(&mut quits, "QUIT").starts_with("221 "));
    let mut closes = connect(ftp.addr());
    reply(&mut closes);
    command(&mut closes, "USER anonymous");
    command(&mut closes, "PASS y");
    command(&mut closes, "NOOP");
    drop(closes);
    let commands = ftp.commands();
    assert_eq!(
        commands.iter().filter(|c| *c == "QUIT").count(),
        1,
        "{commands:?}"
    );
    assert!(commands.contains(&"PASS <password>".to_owned()));
    assert!(commands.contains(&"NOOP".to_owned()));
}

// ---- IMAP ----

#[test]
fn dovecot_imap_capabilities_logins_and_starttls() {
    let dovecot = Dovecot::shared();
    let mut sock = connect(local(dovecot.imap_port()));
    let greeting = read_line(&mut sock);
    assert!(greeting.starts_with("* OK "), "{greeting}");
    let caps = imap(&mut sock, "A001", "CAPABILITY");
    assert_has(
        &caps,
        &[
            "STARTTLS",
            "AUTH=PLAIN",
            "AUTH=LOGIN",
            "AUTH=CRAM-MD5",
            "A001 OK",
        ],
    );
    assert!(!caps.contains("LOGINDISABLED"));
    let login = imap(
        &mut sock,
        "A002",
        &format!("LOGIN {MAIL_USER} {MAIL_PASSWORD}"),
    );
    assert!(login.contains("A002 OK"), "{login}\n{}", dovecot.log());
    assert!(imap(&mut sock, "A003", "NOOP").contains("A003 OK"));

    // AUTHENTICATE CRAM-MD5, then PLAIN with an initial response, in clear.
    let mut sock = connect(local(dovecot.imap_port()));
    read_line(&mut sock);
    send(&mut sock, "A001 AUTHENTICATE CRAM-MD5");
    let challenge = read_line(&mut sock);
    let challenge = challenge.strip_prefix("+ ").expect("a continuation");
    send(&mut sock, &cram_md5(challenge, MAIL_USER, MAIL_PASSWORD));
    let done = read_line(&mut sock);
    assert!(
        done.starts_with("A001 OK"),
        "CRAM-MD5: {done}{}",
        dovecot.log()
    );
    let mut sock = connect(local(dovecot.imap_port()));
    read_line(&mut sock);
    let plain = b64(format!("\0{MAIL_USER}\0{MAIL_PASSWORD}").as_bytes());
    let done = imap(&mut sock, "A001", &format!("AUTHENTICATE PLAIN {plain}"));
    assert!(done.contains("A001 OK"), "{done}");

    // STARTTLS on the same port.
    let mut sock = connect(local(dovecot.imap_port()));
    read_line(&mut sock);
    assert!(imap(&mut sock, "A001", "STARTTLS").contains("A001 OK"));
    let mut sock = tls(sock, "127.0.0.1");
    let caps = imap(&mut sock, "A002", "CAPABILITY");
    assert!(!caps.contains("STARTTLS"), "{caps}");
    let login = imap(
        &mut sock,
        "A003",
        &format!("LOGIN {MAIL_USER} {MAIL_PASSWORD}"),
    );
    assert!(login.contains("A003 OK"), "{login}");

    // Implicit TLS.
    let mut sock = tls(connect(local(dovecot.imaps_port())), "localhost");
    assert!(read_line(&mut sock).starts_with("* OK "));
    let login = imap(
        &mut sock,
        "A001",
        &format!("LOGIN {MAIL_USER} {MAIL_PASSWORD}"),
    );
    assert!(login.contains("A001 OK"), "{login}");

    // A wrong password, answered at once.
    let started = Instant::now();
    let mut sock = connect(local(dovecot.imap_port()));
    read_line(&mut sock);
    let login = imap(&mut sock, "A001", &format!("LOGIN {MAIL_USER} wrong"));
    assert!(login.contains("A001 NO"), "{login}");
    assert!(started.elapsed() < Duration::from_secs(2), "a slow NO");
}

#[test]
fn dovecot_imap_says_logindisabled_before_starttls_and_has_a_no_tls_listener() {
    let dovecot = Dovecot::shared();
    let addr = dovecot.imap_login_disabled_addr();
    let mut sock = connect(addr);
    read_line(&mut sock);
    let caps = imap(&mut sock, "A001", "CAPABILITY");
    assert_has(&caps, &["LOGINDISABLED", "STARTTLS", "AUTH=CRAM-MD5"]);
    assert!(
        !caps.contains("AUTH=PLAIN") && !caps.contains("AUTH=LOGIN"),
        "{caps}"
    );
    assert!(imap(&mut sock, "A002", "STARTTLS").contains("A002 OK"));
    let mut sock = tls(sock, &addr.ip().to_string());
    let caps = imap(&mut sock, "A003", "CAPABILITY");
    assert!(!caps.contains("LOGINDISABLED"), "{caps}");
    assert_has(&caps, &["AUTH=PLAIN"]);
    let login = imap(
        &mut sock,
        "A004",
        &format!("LOGIN {MAIL_USER} {MAIL_PASSWORD}"),
    );
    assert!(login.contains("A004 OK"), "{login}");

    let mut sock = connect(dovecot.imap_no_tls_addr());
    let greeting = read_line(&mut sock);
    assert!(!greeting.contains("STARTTLS"), "{greeting}");
    assert_has(&greeting, &["AUTH=PLAIN"]);
    assert!(imap(&mut sock, "A001", "STARTTLS").contains("A001 BAD"));
}

#[test]
fn dovecot_logs_logout_and_a_plain_close_apart_and_keeps_the_raw_lines() {
    let dovecot = Dovecot::shared();
    // Only this test logs in as the quoted user, over IMAP.
    let login = format!(
        "LOGIN {} {}",
        quoted(MAIL_QUOTED_USER),
        quoted(MAIL_QUOTED_PASSWORD)
    );
    let mut sock = connect(local(dovecot.imap_port()));
    read_line(&mut sock);
    assert!(imap(&mut sock, "L1", &login).contains("L1 OK"));
    assert!(imap(&mut sock, "L2", "NOOP").contains("L2 OK"));
    let bye = imap(&mut sock, "L3", "LOGOUT");
    assert!(bye.contains("* BYE") && bye.contains("L3 OK"), "{bye}");
    drop(sock);
    let logged_out = wait_for_line(dovecot, MAIL_QUOTED_USER, "Disconnected: Logged out");
    assert!(logged_out.is_some(), "{}", dovecot.log());

    let mut sock = connect(local(dovecot.imap_port()));
    read_line(&mut sock);
    assert!(imap(&mut sock, "C1", &login).contains("C1 OK"));
    assert!(imap(&mut sock, "C2", "NOOP").contains("C2 OK"));
    drop(sock);
    let closed = wait_for_line(dovecot, MAIL_QUOTED_USER, "Disconnected: Connection closed");
    assert!(closed.is_some(), "{}", dovecot.log());
    let ends: Vec<String> = dovecot
        .log()
        .lines()
        .filter(|l| l.contains(&format!("imap({MAIL_QUOTED_USER})")))
        .map(str::to_owned)
        .collect();
    assert_eq!(ends.len(), 2, "{ends:?}");

    let lines = dovecot.client_lines();
    for wanted in ["L2 NOOP", "L3 LOGOUT", "C2 NOOP"] {
        assert!(lines.iter().any(|l| l == wanted), "{wanted}: {lines:?}");
    }
}

/// The first line of dovecot's log from `imap(user)` containing `wanted`,
/// waiting for it up to [`LOG_WAIT`].
fn wait_for_line(dovecot: &Dovecot, user: &str, wanted: &str) -> Option<String> {
    let prefix = format!("imap({user})");
    let deadline = Instant::now() + LOG_WAIT;
    loop {
        let found = dovecot
            .log()
            .lines()
            .find(|l| l.contains(&prefix) && l.contains(wanted))
            .map(str::to_owned);
        if found.is_some() || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---- POP3 ----

#[test]
fn dovecot_pop3_greets_with_apop_timestamp_capa_stls_and_logins() {
    let dovecot = Dovecot::shared();
    let mut sock = connect(local(dovecot.pop3_port()));
    let greeting = read_line(&mut sock);
    assert!(greeting.starts_with("+OK "), "{greeting}");
    let timestamp = &greeting[greeting.find('<').expect("an APOP timestamp")
        ..=greeting.rfind('>').expect("an APOP timestamp")];
    let capa = pop3_multi(&mut sock, "CAPA");
    assert_has(&capa, &["STLS", "USER", "SASL PLAIN LOGIN CRAM-MD5"]);
    let digest = md5_hex(format!("{timestamp}{MAIL_PASSWORD}").as_bytes(), None);
    send(&mut sock, &format!("APOP {MAIL_USER} {digest}"));
    let apop = read_line(&mut sock);
    assert!(apop.starts_with("+OK"), "APOP: {apop}{}", dovecot.log());
    send(&mut sock, "STAT");
    assert_eq!(read_line(&mut sock), "+OK 0 0\r\n");

    let mut sock = connect(local(dovecot.pop3_port()));
    read_line(&mut sock);
    send(&mut sock, &format!("USER {MAIL_USER}"));
    assert!(read_line(&mut sock).starts_with("+OK"));
    send(&mut sock, &format!("PASS {MAIL_PASSWORD}"));
    assert!(read_line(&mut sock).starts_with("+OK"));

    let mut sock = connect(local(dovecot.pop3_port()));
    read_line(&mut sock);
    send(&mut sock, "STLS");
    assert!(read_line(&mut sock).starts_with("+OK"));
    let mut sock = tls(sock, "127.0.0.1");
    let capa = pop3_multi(&mut sock, "CAPA");
    assert!(!capa.contains("STLS"), "{capa}");
    send(&mut sock, "AUTH CRAM-MD5");
    let challenge = read_line(&mut sock);
    send(
        &mut sock,
        &cram_md5(
            challenge.strip_prefix("+ ").unwrap(),
            MAIL_USER,
            MAIL_PASSWORD,
        ),
    );
    let done = read_line(&mut sock);
    assert!(done.starts_with("+OK"), "{done}");

    let mut sock = tls(connect(local(dovecot.pop3s_port())), "127.0.0.1");
    assert!(read_line(&mut sock).starts_with("+OK "));

    let addr = dovecot.pop3_login_disabled_addr();
    let mut sock = connect(addr);
    read_line(&mut sock);
    let capa = pop3_multi(&mut sock, "CAPA");
    assert!(
        capa.contains("STLS\r\n")
            && capa.contains("SASL CRAM-MD5\r\n")
            && !capa.contains("USER\r\n"),
        "{capa}"
    );

    let mut sock = connect(dovecot.pop3_no_tls_addr());
    read_line(&mut sock);
    let capa = pop3_multi(&mut sock, "CAPA");
    assert!(!capa.contains("STLS"), "{capa}");
}

// ---- SMTP ----

#[test]
fn smtp_server_offers_auth_and_starttls_and_logs_commands_per_client() {
    let smtp = SmtpServer::shared();
    let mut sock = connect(smtp.addr());
    let me = sock.local_addr().unwrap().port();
    assert!(reply(&mut sock).starts_with("220 "), "{}", smtp.log());
    let ehlo = command(&mut sock, "EHLO client.test");
    assert_has(&ehlo, &["250-STARTTLS", "AUTH CRAM-MD5 LOGIN PLAIN"]);
    let plain = b64(format!("\0{MAIL_USER}\0{MAIL_PASSWORD}").as_bytes());
    let auth = command(&mut sock, &format!("AUTH PLAIN {plain}"));
    assert!(auth.starts_with("235 "), "{auth}");
    assert!(command(&mut sock, "NOOP").starts_with("250 "));
    assert!(command(&mut sock, "QUIT").starts_with("221 "));
    drop(sock);

    // STARTTLS, then AUTH LOGIN and CRAM-MD5; a wrong password.
    let mut sock = connect(smtp.addr());
    let them = sock.local_addr().unwrap().port();
    reply(&mut sock);
    command(&mut sock, "EHLO client.test");
    assert!(command(&mut sock, "STARTTLS").starts_with("220 "));
    let mut sock = tls(sock, "127.0.0.1");
    let ehlo = command(&mut sock, "EHLO client.test");
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    assert!(command(&mut sock, "AUTH LOGIN").starts_with("334 "));
    assert!(command(&mut sock, &b64(MAIL_QUOTED_USER.as_bytes())).starts_with("334 "));
    let auth = command(&mut sock, &b64(MAIL_QUOTED_PASSWORD.as_bytes()));
    assert!(auth.starts_with("235 "), "{auth}");
    drop(sock);

    let mut sock = connect(smtp.addr());
    reply(&mut sock);
    command(&mut sock, "EHLO client.test");
    let challenge = command(&mut sock, "AUTH CRAM-MD5");
    let answer = cram_md5(
        challenge.strip_prefix("334 ").unwrap(),
        MAIL_USER,
        MAIL_PASSWORD,
    );
    let auth = command(&mut sock, &answer);
    assert!(auth.starts_with("235 "), "{auth}\n{}", smtp.log());
    let mut sock = connect(smtp.addr());
    reply(&mut sock);
    command(&mut sock, "EHLO client.test");
    let bad = b64(format!("\0{MAIL_USER}\0wrong").as_bytes());
    assert!(command(&mut sock, &format!("AUTH PLAIN {bad}")).starts_with("535 "));

    let mut sock = tls(connect(local(smtp.tls_port())), "localhost");
    assert!(reply(&mut sock).starts_with("220 "));
    let ehlo = command(&mut sock, "EHLO client.test");
    assert!(
        ehlo.contains("AUTH ") && !ehlo.contains("STARTTLS"),
        "{ehlo}"
    );

    let mut sock = connect(local(smtp.no_tls_port()));
    reply(&mut sock);
    let ehlo = command(&mut sock, "EHLO client.test");
    assert!(
        ehlo.contains("AUTH ") && !ehlo.contains("STARTTLS"),
        "{ehlo}"
    );

    // Per client: QUIT from the first; the second (STARTTLS) only closed.
    let log = smtp.wait_log(&format!(" {them} lost"), LOG_WAIT);
    assert_eq!(
        smtp.commands_from(me),
        ["EHLO client.test", "AUTH PLAIN ********", "NOOP", "QUIT"],
        "{log}"
    );
    let theirs = smtp.commands_from(them);
    assert_eq!(
        theirs,
        [
            "EHLO client.test",
            "STARTTLS",
            "EHLO client.test",
            "AUTH LOGIN"
        ],
        "{log}"
    );
    assert!(log.contains(&format!(" {them} eof")), "{log}");
    assert!(smtp.commands().len() >= theirs.len() + 4);
}

// ---- MQTT ----

/// MQTT 3.1.1 CONNECT: clean session, keep-alive 60, empty client id.
const MQTT_CONNECT: [u8; 14] = [0x10, 12, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 60, 0, 0];
/// CONNACK: no session present, accepted.
const MQTT_CONNACK: [u8; 4] = [0x20, 2, 0, 0];

#[test]
fn mosquitto_answers_connect_plain_and_over_tls_and_logs_how_clients_left() {
    let broker = Mosquitto::shared();
    let mut sock = connect(broker.addr());
    let me = sock.local_addr().unwrap().port();
    sock.write_all(&MQTT_CONNECT).unwrap();
    let mut got = [0u8; 4];
    sock.read_exact(&mut got).unwrap();
    assert_eq!(got, MQTT_CONNACK, "{}", broker.log());
    sock.write_all(&[0xE0, 0]).unwrap(); // DISCONNECT
    drop(sock);

    let mut sock = tls(connect(local(broker.tls_port())), "127.0.0.1");
    let them = sock.sock.local_addr().unwrap().port();
    sock.write_all(&MQTT_CONNECT).unwrap();
    sock.flush().unwrap();
    sock.read_exact(&mut got).unwrap();
    assert_eq!(got, MQTT_CONNACK);
    drop(sock);

    let log = broker.wait_log("closed its connection", LOG_WAIT);
    let id_of = |port: u16| -> String {
        let marker = format!("New client connected from 127.0.0.1:{port} as ");
        let line = log
            .lines()
            .find(|l| l.contains(&marker))
            .unwrap_or_else(|| panic!("{marker}\n{log}"));
        let rest = &line[line.find(&marker).unwrap() + marker.len()..];
        rest.split(' ').next().unwrap().to_owned()
    };
    let (mine, theirs) = (id_of(me), id_of(them));
    let log = broker.wait_log(&format!("Client {theirs} closed its connection."), LOG_WAIT);
    assert_has(
        &log,
        &[
            &format!("Received DISCONNECT from {mine}"),
            &format!("Client {mine} disconnected."),
            &format!("Client {theirs} closed its connection."),
        ],
    );
}

// ---- TFTP ----

#[test]
fn tftpd_answers_an_rrq_with_data_and_a_missing_file_with_an_error() {
    let tftpd = Tftpd::shared();
    tftpd.put("boot/hello.bin", b"hello over tftp\n");
    let sock = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    sock.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    sock.send_to(b"\0\x01boot/hello.bin\0octet\0", tftpd.addr())
        .unwrap();
    let mut buf = [0u8; 600];
    let (n, from) = sock
        .recv_from(&mut buf)
        .unwrap_or_else(|e| panic!("no DATA: {e}\n{}", tftpd.log()));
    assert_eq!(&buf[..n], b"\0\x03\0\x01hello over tftp\n");
    assert_ne!(
        from,
        tftpd.addr(),
        "DATA comes from the transfer's own port"
    );
    sock.send_to(b"\0\x04\0\x01", from).unwrap();

    sock.send_to(b"\0\x01no-such-file\0octet\0", tftpd.addr())
        .unwrap();
    let (n, _) = sock.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..4], b"\0\x05\0\x01", "{:?}", &buf[..n]);
}

// ---- private instances ----

#[test]
fn private_instances_start_and_their_drop_stops_every_process() {
    // Started side by side, as their drops below.
    let (ftp, dovecot, smtp, broker, tftpd) = std::thread::scope(|s| {
        let ftp = s.spawn(|| Vsftpd::start(FtpTls::Explicit));
        let dovecot = s.spawn(Dovecot::start);
        let smtp = s.spawn(SmtpServer::start);
        let broker = s.spawn(Mosquitto::start);
        let tftpd = s.spawn(Tftpd::start);
        (
            ftp.join().unwrap(),
            dovecot.join().unwrap(),
            smtp.join().unwrap(),
            broker.join().unwrap(),
            tftpd.join().unwrap(),
        )
    });
    let groups = [
        ("vsftpd", ftp.pid()),
        ("dovecot", dovecot.pid()),
        ("smtp", smtp.pid()),
        ("mosquitto", broker.pid()),
        ("in.tftpd", tftpd.pid()),
    ];
    // dovecot's login and mail processes are in its group.
    let mut sock = connect(local(dovecot.imap_port()));
    read_line(&mut sock);
    assert!(imap(
        &mut sock,
        "A1",
        &format!("LOGIN {MAIL_USER} {MAIL_PASSWORD}")
    )
    .contains("A1 OK"));
    std::thread::scope(|s| {
        s.spawn(move || drop(ftp));
        s.spawn(move || drop(dovecot));
        s.spawn(move || drop(smtp));
        s.spawn(move || drop(broker));
        s.spawn(move || drop(tftpd));
    });
    for (name, pgid) in groups {
        assert!(
            !process_group_alive(pgid),
            "{name} ({pgid}) outlived its drop"
        );
    }
    drop(sock);
}
