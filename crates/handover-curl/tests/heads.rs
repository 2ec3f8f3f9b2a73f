//! Response heads from C (`tests/c/heads.c`): what the header callback
//! gets, what `CURLINFO_SCHEME` answers from inside it, the code, and
//! what `curl_easy_header`/`curl_easy_nextheader` find, on Debian's
//! libcurl (7.88.1) and on handover's, against a server that sends a
//! scripted answer (curl's tests 178, 415, 1154, 1942 and 3012 found
//! these).

mod common;

use common::{assert_same, both, compile, run_both, stdout};
use handover_test_support::peers::{Behavior, TcpPeer};

/// Runs `heads URL name` on both libraries against a server answering
/// `answer`.
fn heads(answer: &[u8], name: &str) -> (std::process::Output, std::process::Output) {
    let server = TcpPeer::start(Behavior::CloseAfter(answer.to_vec()));
    let url = format!("http://127.0.0.1:{}/heads", server.port());
    run_both(&compile("heads"), &[&url, name])
}

/// The lines of `out` that start with `prefix`.
fn lines_with(out: &str, prefix: &str) -> Vec<String> {
    out.lines()
        .filter(|line| line.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

#[test]
fn interim_headers_are_found_with_curlh_1xx_and_the_scheme_is_known_in_callbacks() {
    // curl's test 1942; the scheme from inside the header callback is
    // what the curl tool's -J needs (curl's test 3012).
    let answer = b"HTTP/1.1 100 continue\r\nDate: Thu, 09 Nov 2010 14:49:00 GMT\r\n\
                   Server: maybe different\r\n\r\n\
                   HTTP/1.1 200 OK\r\nDate: Thu, 09 Nov 2010 14:49:00 GMT\r\n\
                   Server:       test with trailing space     \r\nContent-Length: 0\r\n\
                   Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n";
    let (system, ours) = heads(answer, "server");
    let out = stdout(&system);
    for line in [
        "H [http] HTTP/1.1 100 continue\r\n",
        "H [http] Server:       test with trailing space     \r\n",
        "perform: 0\n",
        "1XX Server: maybe different (0/1)\n",
        "1XX server is maybe different\n",
        "HEADER Server: test with trailing space (0/1)\n",
        "HEADER Set-Cookie: b=2 (1/2)\n",
        "HEADER server is test with trailing space\n",
        // Counted over both answers, the 1xx's first.
        "BOTH Server: maybe different (0/2)\n",
        "BOTH Server: test with trailing space (1/2)\n",
        "BOTH server is maybe different\n",
    ] {
        assert!(out.contains(line), "{line:?} missing from\n{out}");
    }
    assert_same(&system, &ours);
}

#[test]
fn a_head_refused_for_its_content_length_gives_the_lines_before_it() {
    // curl's tests 178 and 415 (a CR before the value).
    for bad in ["Content-Length: -6", "Content-Length: \r-6"] {
        let answer = format!(
            "HTTP/1.1 200 OK swsclose\r\nDate: Tue, 09 Nov 2010 14:49:00 GMT\r\n{bad}\r\n\
             Content-Type: text/html\r\nFunny-head: yesyes\r\n\r\nmoooooooooooo\n"
        );
        let (system, ours) = heads(answer.as_bytes(), "date");
        let theirs = stdout(&system);
        assert_eq!(
            lines_with(&theirs, "H "),
            [
                "H [http] HTTP/1.1 200 OK swsclose",
                "H [http] Date: Tue, 09 Nov 2010 14:49:00 GMT",
            ],
            "{bad:?}: {}",
            both(&system, &ours)
        );
        assert!(theirs.contains("perform: 8\n"), "{theirs}");
        // The fields handed on stay for curl_easy_header.
        assert!(theirs.contains("HEADER date is Tue, 09 Nov 2010 14:49:00 GMT\n"));
        assert_same(&system, &ours);
    }
}

#[test]
fn a_100_kib_header_line_is_curle_too_large_as_in_libcurl_8() {
    // curl's test 1154: libcurl 7.88 answered CURLE_OUT_OF_MEMORY (27),
    // libcurl 8.6 and later CURLE_TOO_LARGE (100).
    let answer = format!(
        "HTTP/1.1 200 OK\r\nServer: test-server/fake\r\nLong: {}\r\n\r\n-foo-\n",
        "A".repeat(100 * 1024)
    );
    let (system, ours) = heads(answer.as_bytes(), "server");
    let (theirs, mine) = (stdout(&system), stdout(&ours));
    assert!(theirs.contains("perform: 27\n"), "{}", both(&system, &ours));
    assert!(mine.contains("perform: 100\n"), "{}", both(&system, &ours));
    assert_eq!(
        lines_with(&theirs, "H "),
        lines_with(&mine, "H "),
        "the lines before the long one: {}",
        both(&system, &ours)
    );
    assert_eq!(lines_with(&mine, "H ").len(), 2, "{mine}");
}
