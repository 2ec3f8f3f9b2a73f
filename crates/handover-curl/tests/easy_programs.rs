//! The easy interface from C: programs in `tests/c/` compiled against the
//! system's `curl/curl.h`, run on Debian's libcurl (7.88.1) and on
//! handover's libcurl.so.4, their outputs compared. Where Debian's libcurl
//! behaves differently for a reason the README documents, what must be
//! equal is compared and the difference is asserted explicitly.

mod common;

use common::{
    assert_same, both, compile, read_request, read_request_head, run_both, serve_each, stdout,
};
use handover_test_support::peers::{Behavior, TcpPeer, TestPki, TlsPeer};
use handover_test_support::real_peers::{Microsocks, Nginx, Squid, SquidAuth};
use handover_test_support::ws_peers::{WsBehavior, WsPeer};

/// What `connect_only.c` prints after a good echo, for both libraries.
fn assert_echoed(out: &str) {
    for line in [
        "perform: 0\n",
        "activesocket: valid\n",
        "lastsocket is activesocket: yes\n",
        "send: 0\n",
        "recv: 0 hello handover\n",
        "response code: 0\n",
        "num connects: 1\n",
        "times ordered: yes\n",
    ] {
        assert!(out.contains(line), "{line:?} missing from\n{out}");
    }
}

#[test]
fn connect_only_over_tcp_sends_and_receives_on_both_libraries() {
    let server = TcpPeer::start(Behavior::Echo);
    let url = format!("http://127.0.0.1:{}/", server.port());
    let (system, ours) = run_both(&compile("connect_only"), &[&url]);
    assert_echoed(&stdout(&system));
    assert_same(&system, &ours);
    assert!(stdout(&ours).contains(&format!("primary: 127.0.0.1 {}\n", server.port())));
    assert!(stdout(&ours).contains("tls: no\n"));
}

#[test]
fn connect_only_over_tls_sends_and_receives_on_both_libraries() {
    let pki = TestPki::new();
    let server = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);
    let url = format!("https://localhost:{}/", server.port());
    let (system, ours) = run_both(&compile("connect_only"), &[&url, &ca.display().to_string()]);
    assert_echoed(&stdout(&system));
    assert_same(&system, &ours);
    assert!(stdout(&ours).contains("tls: yes\n"));
}

#[test]
fn connect_only_through_squid_with_basic_and_digest() {
    let server = TcpPeer::start(Behavior::Echo);
    let url = format!("http://127.0.0.1:{}/", server.port());
    let program = compile("connect_only");
    for (auth, method) in [
        (
            SquidAuth::Basic {
                user: "alice".into(),
                password: "basic-secret".into(),
            },
            "basic",
        ),
        (
            SquidAuth::Digest {
                user: "alice".into(),
                password: "digest-secret".into(),
                realm: "handover".into(),
            },
            "digest",
        ),
    ] {
        let password = match &auth {
            SquidAuth::Basic { password, .. } | SquidAuth::Digest { password, .. } => {
                password.clone()
            }
            SquidAuth::None => unreachable!(),
        };
        let squid = Squid::shared(auth);
        let proxy = format!("http://127.0.0.1:{}", squid.port());
        let userpwd = format!("alice:{password}");
        let (system, ours) = run_both(&program, &[&url, "-", &proxy, &userpwd, method]);
        assert_echoed(&stdout(&system));
        assert!(
            stdout(&system).contains("connect code: 200\n"),
            "{}",
            both(&system, &ours)
        );
        assert_same(&system, &ours);
    }
}

#[test]
fn connect_only_through_microsocks() {
    let server = TcpPeer::start(Behavior::Echo);
    let socks = Microsocks::shared(Some(("sockuser", "sockpass")));
    let url = format!("http://127.0.0.1:{}/", server.port());
    let proxy = format!("socks5h://sockuser:sockpass@127.0.0.1:{}", socks.port());
    let (system, ours) = run_both(&compile("connect_only"), &[&url, "-", &proxy]);
    assert_echoed(&stdout(&system));
    assert_same(&system, &ours);
}

/// Replaces `from` by `to` in Debian's output, after checking it is there:
/// a documented difference, asserted, then out of the comparison.
fn documented(out: &mut String, from: &str, to: &str) {
    assert!(
        out.contains(from),
        "{from:?} not in Debian's output:\n{out}"
    );
    *out = out.replace(from, to);
}

#[test]
fn misuse_answers_libcurls_codes() {
    let program = compile("misuse");
    let (system, ours) = run_both(&program, &[]);
    let mut theirs = stdout(&system);
    for line in [
        "send unperformed: 1 sent 0\n",
        "recv unperformed: 1 got 7\n",
        "send connect-only unperformed: 1\n",
        "unknown long option: 48\n",
        "unknown pointer option: 48\n",
        "unknown off_t option: 48\n",
        "unknown info: 48\n",
        "connect_only 3: 43\n",
        "private back: same\n",
        "perform without url: 3\n",
    ] {
        assert!(theirs.contains(line), "{line:?} missing from\n{theirs}");
    }
    // libcurl 8 refuses a negative timeout in milliseconds too; 7.88 took it.
    documented(
        &mut theirs,
        "connecttimeout_ms -1: 0\n",
        "connecttimeout_ms -1: 43\n",
    );
    // libcurl 8's texts say "Could not"; 7.88's "Couldn't".
    documented(
        &mut theirs,
        "strerror 7: Couldn't connect to server",
        "strerror 7: Could not connect to server",
    );
    assert_eq!(theirs, stdout(&ours), "{}", both(&system, &ours));
    assert_eq!(system.status.code(), ours.status.code());

    // One NULL handle per run: Debian's libcurl 7.88 dereferences NULL in
    // some calls (libcurl 8 answers 43 through its API guard), and was
    // built without WebSocket support (4).
    for (call, debian) in [
        ("setopt", Some(43)),
        ("perform", Some(43)),
        ("getinfo", Some(43)),
        ("send", None),
        ("recv", None),
        ("upkeep", Some(43)),
        ("pause", Some(43)),
        ("duphandle", None),
        ("cleanup", Some(0)),
        ("reset", None),
        ("ws_send", Some(4)),
        ("ws_recv", Some(4)),
        ("ws_meta", Some(0)),
    ] {
        let (system, ours) = run_both(&program, &["null", call]);
        let expected = match call {
            "duphandle" | "cleanup" | "reset" | "ws_meta" => 0,
            _ => 43,
        };
        assert_eq!(
            stdout(&ours),
            format!("{call} NULL: {expected}\n"),
            "{}",
            both(&system, &ours)
        );
        match debian {
            Some(code) => assert_eq!(stdout(&system), format!("{call} NULL: {code}\n")),
            None => assert!(system.status.code().is_none(), "{}", both(&system, &ours)),
        }
    }
}

/// The nginx shared by this binary, with the page the GET tests fetch.
fn nginx() -> &'static Nginx {
    let nginx = Nginx::shared(None);
    nginx.put(
        "page.txt",
        b"a page served by nginx for handover's C tests\n",
    );
    nginx
}

#[test]
fn a_get_with_callbacks_gives_the_same_bytes_in_the_same_order() {
    let url = format!("http://127.0.0.1:{}/page.txt", nginx().port());
    let (system, ours) = run_both(&compile("get"), &[&url]);
    let mut theirs = stdout(&system);
    for line in [
        "perform: 0\n",
        "send from a callback: 93\n",
        "getinfo from a callback: 0 200\n",
        "H HTTP/1.1 200 OK\r\n",
        "H Content-Length: 46\r\n",
        "W a page served by nginx for handover's C tests\n",
        "headers after body: no\n",
        "progress called: yes\n",
        "response code: 200\n",
        "content length: 46\n",
        "aborted perform: 42, error buffer set\n",
        "--- default write function\na page served by nginx for handover's C tests\n",
    ] {
        assert!(theirs.contains(line), "{line:?} missing from\n{theirs}");
    }
    // libcurl 7.88 refuses a perform from a callback with
    // CURLE_FAILED_INIT ("easy handle already used in multi handle");
    // libcurl 8's API guard answers CURLE_RECURSIVE_API_CALL.
    documented(
        &mut theirs,
        "perform from a callback: 2\n",
        "perform from a callback: 93\n",
    );
    assert_eq!(theirs, stdout(&ours), "{}", both(&system, &ours));
    assert_eq!(system.status.code(), ours.status.code());
}

#[test]
fn connect_only_2_on_http_leaves_the_body_to_recv() {
    let body = b"a page served by nginx for handover's C tests\n";
    let url = format!("http://127.0.0.1:{}/page.txt", nginx().port());
    let (system, ours) = run_both(&compile("headers_only"), &[&url, &body.len().to_string()]);
    let theirs = stdout(&system);
    let mine = stdout(&ours);
    // Equal on both: the request succeeds, the status and the head.
    for out in [&theirs, &mine] {
        for line in [
            "perform: 0\n",
            "response code: 200\n",
            "content-length header: 46 (0 of 1)\n",
        ] {
            assert!(
                out.contains(line),
                "{line:?} missing: {}",
                both(&system, &ours)
            );
        }
    }
    // README "connect-only = 2 on http:// and https:// does what the seed
    // says": handover hands the body over unread, so recv returns it;
    // libcurl reads it during perform and gives it to the write callback.
    assert!(
        mine.contains(&format!(
            "recv: 0 46 bytes: {}",
            String::from_utf8_lossy(body)
        )),
        "{mine}"
    );
    assert!(!mine.contains("\nW "), "{mine}");
    assert!(
        theirs.contains(&format!("W {}", String::from_utf8_lossy(body))),
        "{theirs}"
    );
}

#[test]
fn connect_only_2_on_ws_with_curl_ws_send_recv_meta() {
    let server = WsPeer::start(WsBehavior::Echo, None);
    let url = format!("ws://127.0.0.1:{}/", server.port());
    let (system, ours) = run_both(&compile("websocket"), &[&url]);
    // Debian's libcurl 7.88 was built without WebSocket support: ws:// is
    // an unsupported protocol there and curl_ws_send is not built in.
    assert_eq!(
        stdout(&system),
        "perform: 1\nws_send without a connection: 4\n",
        "{}",
        both(&system, &ours)
    );
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(
            b"perform: 0\n\
              response code: 101\n\
              ws_meta outside a callback: NULL\n\
              ws_send text: 0 sent 5\n\
              ws_recv: 0 flags 1 offset 0 bytesleft 0 len 5: hello\n\
              ws_send binary: 0 sent 3\n\
              ws_recv: 0 flags 2 offset 0 bytesleft 0 len 3: \x01\x02\x03\n\
              ws_send close: 0 sent 2\n\
              ws_recv: 0 flags 8 offset 0 bytesleft 0 len 2: \x03\xe8\n"
        ),
        "{}",
        both(&system, &ours)
    );
}

#[test]
fn curl_ws_start_frame_then_curl_ws_send_sends_one_frame_in_pieces() {
    let server = WsPeer::start(WsBehavior::Echo, None);
    let url = format!("ws://127.0.0.1:{}/", server.port());
    let (system, ours) = run_both(&compile("ws_start_frame"), &[&url]);
    // Debian's libcurl 7.88 has no curl_ws_start_frame (libcurl 8.16).
    assert_eq!(
        stdout(&system),
        "no curl_ws_start_frame\n",
        "{}",
        both(&system, &ours)
    );
    assert_eq!(
        stdout(&ours),
        "start_frame before perform: 55\n\
         perform: 0\n\
         start_frame negative: 55\n\
         start_frame: 0\n\
         start_frame again: 55\n\
         send hello: 0\n\
         send world: 0\n\
         ws_recv: flags 1 len 11: hello world\n\
         start_frame empty binary: 0\n\
         send nothing: 0\n\
         ws_recv: flags 2 len 0: \n",
        "{}",
        both(&system, &ours)
    );
}

#[test]
fn the_other_easy_calls_answer_as_libcurl() {
    let url = format!("http://127.0.0.1:{}/page.txt", nginx().port());
    let silent = TcpPeer::start(Behavior::Silent);
    let silent_url = format!("http://127.0.0.1:{}/upload", silent.port());
    let program = compile("api");
    let dir = common::scratch_dir();
    let (theirs_err, ours_err) = (dir.join("verbose-debian.txt"), dir.join("verbose-ours.txt"));
    let run = |lib: Option<&std::path::Path>, err: &std::path::Path| {
        let mut cmd = std::process::Command::new(&program);
        cmd.arg(&url)
            .arg(err)
            .arg(&silent_url)
            .env("HANDOVER_TEST_VAR", "set by the test");
        if let Some(lib) = lib {
            cmd.env("LD_LIBRARY_PATH", lib);
        }
        cmd.output().expect("run api")
    };
    let system = run(None, &theirs_err);
    let ours = run(Some(&common::handover_lib_dir()), &ours_err);
    let theirs = stdout(&system);
    for line in [
        "by name url: URL 10002 type 4 flags 0\n",
        "by id 10057: XFERINFODATA 10057 type 6 flags 0\n",
        "escape: a%20b%26c%2F%C3%BC~-._\n",
        "unescape: a b/c+d%zz%4 (12)\n",
        "slist: three\n",
        "strequal: 1 0 1\n",
        "getenv: set by the test\n",
        "duplicate: perform 0 code 200 wrote yes private same\n",
        "header content-type: 0 Content-Type text/plain amount 1 index 0 origin 1\n",
        "read abort: 42\n",
        "post fields: 0 code 405\n",
        "get again: 0 code 200\n",
        "after reset: 3\n",
    ] {
        assert!(theirs.contains(line), "{line:?} missing from\n{theirs}");
    }
    assert_same(&system, &ours);
    // Verbose output went to CURLOPT_STDERR on both, in libcurl's shape.
    for err in [&theirs_err, &ours_err] {
        let text = std::fs::read_to_string(err).expect("the verbose file");
        for wanted in [
            "* ",
            "> GET /page.txt HTTP/1.1\r\n",
            "< HTTP/1.1 200 OK\r\n",
        ] {
            assert!(
                text.contains(wanted),
                "{wanted:?} not in {}:\n{text}",
                err.display()
            );
        }
    }
    assert!(ours.stderr.is_empty(), "{}", both(&system, &ours));
}

/// A keep-alive server whose connections each answer a GET and then die
/// under the next request (after reading it whole, so that the client
/// sees an orderly close, not a reset); a connection that starts with a
/// POST gets its body echoed back. Serves until the test process ends.
fn dying_keep_alive_server() -> u16 {
    use std::io::{BufReader, Write};
    serve_each(|conn| {
        conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut out = conn.try_clone().unwrap();
        let mut r = BufReader::new(conn);
        let Some(first) = read_request(&mut r) else {
            return;
        };
        if first.line.starts_with("GET ") {
            out.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .unwrap();
            // The next request is read and left unanswered.
            let _ = read_request(&mut r);
        } else {
            let answer = format!("got {}", String::from_utf8_lossy(&first.body));
            let _ = write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{answer}",
                answer.len()
            );
        }
    })
}

#[test]
fn the_seek_callback_rewinds_an_upload_for_the_retry_on_a_fresh_connection() {
    let port = dying_keep_alive_server();
    let url = format!("http://127.0.0.1:{port}/");
    let program = compile("seek");
    let (system, ours) = run_both(&program, &[&url, "ok"]);
    let theirs = stdout(&system);
    for line in [
        "get: 0 \"ok\"\n",
        "seek 0 SEEK_SET -> 0\n",
        "post: 0\n",
        "response: 200 \"got the whole body, every byte of it\"\n",
        "num connects: 1\n",
        // Counted once: the retry starts the counters again.
        "size upload: 32 of 32\n",
    ] {
        assert!(theirs.contains(line), "{line:?} missing from\n{theirs}");
    }
    assert_same(&system, &ours);
    // A seek callback that fails or cannot seek, and a read callback
    // without one: no retry, CURLE_SEND_FAIL_REWIND (65).
    for mode in ["fail", "cantseek", "none"] {
        let (system, ours) = run_both(&program, &[&url, mode]);
        let (theirs, mine) = (stdout(&system), stdout(&ours));
        assert!(theirs.contains("post: 65\n"), "{mode}: {theirs}");
        // libcurl connects again before it rewinds (and then starts its
        // counters again); handover rewinds first and makes no connection
        // it cannot use (README, "Differences from libcurl").
        let theirs = theirs.replace(
            "num connects: 1\nsize upload: 0 of -1\n",
            "num connects: 0\nsize upload: 32 of 32\n",
        );
        assert_eq!(theirs, mine, "{mode}: {}", both(&system, &ours));
        assert_eq!(system.status.code(), ours.status.code());
    }
}

#[test]
fn a_unix_socket_path_reaches_nginx_on_both_libraries() {
    let pki = TestPki::shared();
    let nginx = Nginx::shared(Some((&pki.server_chain_pem, &pki.server_key_pem)));
    nginx.put("unix.txt", b"served over a Unix domain socket\n");
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);
    let program = compile("unix_socket");
    for (socket, url, port) in [
        (nginx.unix_socket(), "http://localhost/unix.txt", 80),
        (
            nginx.tls_unix_socket().unwrap(),
            "https://localhost/unix.txt",
            443,
        ),
    ] {
        let socket = socket.display().to_string();
        let (system, ours) = run_both(&program, &[&socket, url, &ca.display().to_string()]);
        let theirs = stdout(&system);
        for line in [
            "connect-only: 0\n",
            "activesocket: valid\n",
            &format!("primary is the socket: yes, port {port}\n"),
            "recv: 0 HTTP/1.1 200 OK\n",
            "body: served over a Unix domain socket\n",
            "get: 0 200, connects 1\n",
            "missing socket: 7\n",
            "path too long: 6\n",
        ] {
            assert!(
                theirs.contains(line),
                "{url}: {line:?} missing from\n{theirs}"
            );
        }
        assert_same(&system, &ours);
    }
}

#[test]
fn socket_options_reach_the_socket_and_port_replaces_the_urls_on_both_libraries() {
    let server = TcpPeer::start(Behavior::Echo);
    let port = server.port().to_string();
    let (system, ours) = run_both(&compile("connect_options"), &[&port]);
    let theirs = stdout(&system);
    for line in [
        "fastopen: 0\n",
        "address scope -1: 43\n",
        "buffersize -1 0 100 2000: 0 0 0 0\n",
        "upload buffersize -1 0: 0 0\n",
        "postredir -1 3: 43 0\n",
        "port 70000: 43\n",
        "perform: 0\n",
        "SO_KEEPALIVE 1 TCP_KEEPIDLE 33 TCP_KEEPINTVL 7 TCP_KEEPCNT 9\n",
        "TCP_FASTOPEN_CONNECT 1\n",
        "with CURLOPT_PORT: 0, primary port is it: yes, effective url telnet://127.0.0.1:1/\n",
    ] {
        assert!(theirs.contains(line), "{line:?} missing from\n{theirs}");
    }
    // CURLOPT_TCP_KEEPCNT is libcurl 8.9's: Debian's 7.88 does not know it
    // (48) and leaves the system's 9 probes; handover sets the 5 asked for.
    let theirs = theirs
        .replace(
            "keepcnt: 48\nkeepcnt -1: 48\n",
            "keepcnt: 0\nkeepcnt -1: 43\n",
        )
        .replace("TCP_KEEPCNT 9\n", "TCP_KEEPCNT 5\n");
    assert_eq!(theirs, stdout(&ours), "{}", both(&system, &ours));
}

#[test]
fn certinfo_lists_the_servers_chain_as_libcurl_with_openssl_does() {
    let pki = TestPki::new();
    let server = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);
    let url = format!("https://localhost:{}/", server.port());
    let (system, ours) = run_both(&compile("certinfo"), &[&url, &ca.display().to_string()]);
    let theirs = stdout(&system);
    for line in [
        "perform: 0\n",
        "[0] Public Key Algorithm:id-ecPublicKey\n",
        "[0] Cert:-----BEGIN CERTIFICATE-----\n",
    ] {
        assert!(theirs.contains(line), "{line:?} missing from\n{theirs}");
    }
    assert_same(&system, &ours);
}

#[test]
fn resolve_entries_stay_in_the_dns_cache_as_in_libcurl() {
    let server = TcpPeer::start(Behavior::Echo);
    let port = server.port().to_string();
    let (system, ours) = run_both(&compile("dns_cache"), &[&port]);
    let theirs = stdout(&system);
    for line in [
        "timeout 60: with the entry 0, without it 0, removed 6, after 6\n",
        "timeout 0: with the entry 0, without it 0, removed 6, after 6\n",
    ] {
        assert!(theirs.contains(line), "{line:?} missing from\n{theirs}");
    }
    assert_same(&system, &ours);
}

#[test]
fn a_share_of_dns_entries_reaches_its_handles_only() {
    let server = TcpPeer::start(Behavior::Echo);
    let port = server.port().to_string();
    let (system, ours) = run_both(&compile("share"), &[&port]);
    let theirs = stdout(&system);
    for line in [
        "share dns: 0\n",
        "given the name: 0\n",
        "same share: 0\n",
        "no share: 6\n",
        "cleanup while in use: 2\n",
        "cleanup: 0\n",
    ] {
        assert!(theirs.contains(line), "{line:?} missing from\n{theirs}");
    }
    assert_same(&system, &ours);
}

#[test]
fn a_share_of_connections_reuses_them_across_handles_threads_and_a_multi() {
    let url = format!("http://127.0.0.1:{}/page.txt", nginx().port());
    let (system, ours) = run_both(&compile("share_connections"), &[&url]);
    assert_eq!(
        stdout(&system),
        "share connections: 0\n\
         again: 0\n\
         activesocket before: bad\n\
         a: 0, connects 1\n\
         a activesocket: valid\n\
         b: 0, connects 0, same local port as a: yes\n\
         a and b name one socket: yes\n\
         c (no share): 0, connects 1, same local port as a: no\n\
         thread: 0, connects 0\n\
         thread's local port is a's: yes\n\
         d (connect-only): 0, connects 1, same local port as a: no\n\
         b again: 0, connects 0, a's connection: yes, d's: no\n\
         multi, shared: connects 0, a's connection: yes\n\
         multi, not shared: connects 1, a's connection: no\n\
         unshare in use: 2\n\
         cleanup in use: 2\n\
         after reset: 0, connects 0\n\
         dup: 0, connects 1\n\
         cleanup: 0\n",
        "{}",
        both(&system, &ours)
    );
    assert_same(&system, &ours);
}

#[test]
fn tftp_connect_only_binds_a_udp_socket_alike_on_both_libraries() {
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = udp.local_addr().unwrap().port().to_string();
    let (system, ours) = run_both(&compile("tftp"), &[&port]);
    let theirs = stdout(&system);
    for line in [
        "perform: 0\n",
        "primary port is the URL's: yes\n",
        "datagram socket: yes\n",
        "connected: no\n",
        "send: 55\n",
        "recv: 81\n",
        "through a proxy: 1\n",
    ] {
        assert!(theirs.contains(line), "{line:?} missing from\n{theirs}");
    }
    assert_same(&system, &ours);
}

#[test]
fn file_connect_only_opens_the_file_and_has_no_socket_on_both_libraries() {
    let path = common::scratch_dir().join("connect-only file.txt");
    std::fs::write(&path, b"local\n").unwrap();
    // The URL takes the path as written: a space percent-encoded.
    let shown = path.display().to_string().replace(' ', "%20");
    let (system, ours) = run_both(&compile("file"), &[&shown]);
    let theirs = stdout(&system);
    for line in [
        "existing: perform 0, socket none, send 1, recv 1\n",
        "localhost: perform 0, socket none, send 1, recv 1\n",
        "missing: perform 37, socket none, send 1, recv 1\n",
        "other host: perform 3, socket none, send 1, recv 1\n",
    ] {
        assert!(theirs.contains(line), "{line:?} missing from\n{theirs}");
    }
    assert_same(&system, &ours);
}

#[test]
fn ftp_connect_only_logs_in_alike_on_both_libraries() {
    use handover_test_support::real_peers::{FtpTls, Vsftpd, FTP_PASSWORD, FTP_USER};
    let pki = TestPki::shared();
    let ca = pki.write_temp("ftp-c-ca.pem", &pki.ca_pem);
    let ports = [FtpTls::None, FtpTls::Explicit, FtpTls::Implicit]
        .map(|tls| Vsftpd::shared(tls).port().to_string());
    let ca = ca.display().to_string();
    let (system, ours) = run_both(
        &compile("ftp"),
        &[&ports[0], &ports[1], &ports[2], &ca, FTP_USER, FTP_PASSWORD],
    );
    let theirs = stdout(&system);
    for line in [
        "anonymous: 0, response 257\n  200\n  257\n",
        "user: 0, response 257\n",
        "wrong password: 67, response 530\n",
        "tls required, none: 64,",
        "tls tried, none: 0, response 257\n",
        "auth tls: 0, response 257\n  200\n  257\n",
        "implicit: 0, response 257\n  200\n  257\n",
    ] {
        assert!(theirs.contains(line), "{line:?} missing from\n{theirs}");
    }
    assert_same(&system, &ours);
}

#[test]
fn mail_connect_only_greets_and_logs_in_alike_on_both_libraries() {
    use handover_test_support::real_peers::{Dovecot, SmtpServer, MAIL_PASSWORD, MAIL_USER};
    let pki = TestPki::shared();
    let ca = pki
        .write_temp("mail-c-ca.pem", &pki.ca_pem)
        .display()
        .to_string();
    let dovecot = Dovecot::shared();
    let smtp = SmtpServer::shared();
    let args = [
        dovecot.imap_port().to_string(),
        dovecot.imaps_port().to_string(),
        dovecot.pop3_port().to_string(),
        smtp.port().to_string(),
        smtp.tls_port().to_string(),
        dovecot.imap_no_tls_addr().to_string(),
        ca,
        MAIL_USER.to_owned(),
        MAIL_PASSWORD.to_owned(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (system, ours) = run_both(&compile("mail"), &args);
    let theirs = stdout(&system);
    for line in [
        "imap: 0\n  Z1 OK\n",
        "imap starttls: 0\n  Z1 OK\n",
        "imaps: 0\n  Z1 OK\n",
        "imap no login: 0\n  Z1 BAD\n",
        "imap wrong password: 67\n",
        "imap tls required, none: 64\n",
        "pop3: 0\n  +OK\n",
        "pop3 stls: 0\n  +OK\n",
        "smtp: 0, response 235\n  250\n",
        "smtp starttls: 0, response 235\n  250\n",
        "smtps: 0, response 235\n  250\n",
        "smtp no login: 0, response 250\n  250\n",
        "smtp wrong password: 67, response 535\n",
    ] {
        assert!(theirs.contains(line), "{line:?} missing from\n{theirs}");
    }
    assert_same(&system, &ours);
}

/// A keep-alive server that reads each request whole (head and
/// `Content-Length` body) and answers 200 "ok". Serves until the test
/// process ends.
fn keep_alive_server() -> u16 {
    use std::io::{BufReader, Write};
    serve_each(|conn| {
        let mut out = conn.try_clone().unwrap();
        let mut r = BufReader::new(conn);
        while read_request(&mut r).is_some() {
            if out
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .is_err()
            {
                return;
            }
        }
    })
}

/// The progress callback's last call and CURLINFO_SIZE_UPLOAD_T count the
/// body sent, also one given as data, which no read callback counts
/// (curl's test 578).
#[test]
fn the_upload_counts_in_progress_and_infos_as_libcurl() {
    let url = format!("http://127.0.0.1:{}/", keep_alive_server());
    let (system, ours) = run_both(&compile("upload_progress"), &[&url]);
    let theirs = stdout(&system);
    for line in [
        "postfields: 0\n",
        "read callback: 0\n",
        "last progress: 25 of 25\n",
        "size upload: 25 of 25\n",
    ] {
        assert!(theirs.contains(line), "{line:?} missing from\n{theirs}");
    }
    assert_same(&system, &ours);
}

/// A server that answers each request with a 401 as soon as its head is
/// in, then reads the 3 body bytes announced; a connection whose body
/// does not come is closed. Serves until the test process ends.
fn early_401_server() -> u16 {
    use std::io::{BufReader, Read, Write};
    serve_each(|conn| {
        let mut out = conn.try_clone().unwrap();
        let mut r = BufReader::new(conn);
        while read_request_head(&mut r).is_some() {
            let early = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 5\r\n\r\nearly";
            let mut body = [0u8; 3];
            if out.write_all(early).is_err() || r.read_exact(&mut body).is_err() {
                return;
            }
        }
    })
}

/// CURLOPT_KEEP_SENDING_ON_ERROR: after an early 401 the body still goes
/// (once the read callback's pause ends) and the connection serves the
/// next transfer; without it the upload stops and the connection closes.
/// CURL_READFUNC_PAUSE and curl_easy_pause(CURLPAUSE_CONT) from the write
/// callback (curl's test 1533).
#[test]
fn keep_sending_on_error_and_a_paused_upload_as_libcurl() {
    let url = format!("http://127.0.0.1:{}/", early_401_server());
    let (system, ours) = run_both(&compile("keep_sending"), &[&url]);
    let theirs = stdout(&system);
    for line in [
        "transfer 1 (keep sending 0): 0, response 401, connects 1, uploaded 0\n",
        "transfer 2 (keep sending 0): 0, response 401, connects 1, uploaded 0\n",
        "transfer 3 (keep sending 1): 0, response 401, connects 1, uploaded 3\n",
        "transfer 4 (keep sending 1): 0, response 401, connects 0, uploaded 3\n",
    ] {
        assert!(theirs.contains(line), "{line:?} missing from\n{theirs}");
    }
    assert_same(&system, &ours);
}
