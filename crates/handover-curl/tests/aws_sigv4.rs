//! `CURLOPT_AWS_SIGV4` from C and from the curl tool (`--aws-sigv4`), on
//! Debian's libcurl 7.88.1 and on handover's libcurl.so.4: each request
//! carries a fixed `X-Amz-Date` so that its signature does not depend on the
//! clock, goes to a server that answers with the `Authorization` and
//! `X-Amz-*` lines it got, and both libraries must print the same lines —
//! the same signature, byte for byte. The cases stay where libcurl 7.88 and
//! 8 sign alike (7.88 sorts no query and has no S3 content hash); the
//! handover-proto unit tests hold libcurl 8's answers for the rest.

mod common;

use std::path::Path;

use common::{assert_same, both, compile, run_both, stdout};
use handover_test_support::capture::CaptureServer;

const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// A server that answers with the signing lines of each request.
fn echo_server() -> CaptureServer {
    CaptureServer::start("200 OK", &["authorization", "x-amz-", "x-yyy-"])
}

/// Runs `program args` on both libraries against a fresh echo server
/// (`url` gets its base URL and port for `{base}` and `{port}`): both
/// must print the same, and the system's output must contain `want`.
/// Returns handover's request, if it sent one.
fn same_on_both(program: &Path, url: &str, args: &[&str], want: &str) -> Option<Vec<String>> {
    let server = echo_server();
    let url = url
        .replace("{base}", &server.base_url())
        .replace("{port}", &server.port().to_string());
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            a.replace("{url}", &url)
                .replace("{port}", &server.port().to_string())
        })
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (system, ours) = run_both(program, &args);
    assert!(
        stdout(&system).contains(want),
        "{args:?}: {want:?} missing\n{}",
        both(&system, &ours)
    );
    assert_same(&system, &ours);
    // The system's request came first, then handover's.
    let requests = server.requests();
    requests.get(1).map(|r| {
        r.headers("X-Amz-Date")
            .into_iter()
            .chain(r.headers("X-Yyy-Date"))
            .map(str::to_owned)
            .collect()
    })
}

#[test]
fn signed_requests_from_c_carry_the_same_signature_on_both_libraries() {
    let program = compile("aws_sigv4");
    let scope_host = "svc.eu-south-1.example.test";
    let resolve = format!("{scope_host}:{{port}}:127.0.0.1");
    let host_url = format!("http://{scope_host}:{{port}}/queue/items");
    let cases: [(&str, String, Vec<String>, &str); 5] = [
        (
            "get",
            "{base}/api/v1/items.json?a=1&b=two".into(),
            vec![],
            "Authorization: AWS4-HMAC-SHA256 \
             Credential=AKIDEXAMPLE/20261201/us-east-1/execute-api/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-meta-test, Signature=",
        ),
        (
            "post",
            "{base}/submit".into(),
            vec![],
            "Authorization: XXX4-HMAC-SHA256 \
             Credential=AKIDEXAMPLE/20261201/rrr/sss/xxx4_request, \
             SignedHeaders=host;x-yyy-date, Signature=",
        ),
        (
            "host",
            host_url.clone(),
            vec![resolve.clone()],
            "Authorization: AWS4-HMAC-SHA256 \
             Credential=AKIDEXAMPLE/20261201/eu-south-1/svc/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=",
        ),
        (
            "httpauth",
            host_url.clone(),
            vec![resolve.clone()],
            "Credential=AKIDEXAMPLE/20261201/eu-south-1/svc/aws4_request",
        ),
        (
            "null",
            host_url,
            vec![resolve],
            "Credential=AKIDEXAMPLE/20261201/eu-south-1/svc/aws4_request",
        ),
    ];
    for (mode, url, extra, want) in &cases {
        let mut args = vec!["{url}", mode];
        args.extend(extra.iter().map(String::as_str));
        let dates = same_on_both(&program, url, &args, want);
        // Debian's libcurl 7.88 sends a date line of the user's twice
        // (its own copy after Authorization); handover once, as libcurl 8.
        assert_eq!(
            dates.as_deref(),
            Some(&["20261201T123456Z".to_owned()][..]),
            "{mode}"
        );
    }
}

#[test]
fn bad_parameters_fail_the_transfer_on_both_libraries() {
    let program = compile("aws_sigv4");
    // The option is taken; perform refuses it: 43, and 3 for a host that
    // names no service.
    same_on_both(
        &program,
        "{base}/",
        &["{url}", "bad"],
        "setopt: 0\nperform: 43\n",
    );
    same_on_both(
        &program,
        "http://localhost:{port}/",
        &["{url}", "nohost"],
        "setopt: 0\nperform: 3\n",
    );
}

#[test]
fn the_curl_tool_signs_alike_on_both_libraries() {
    let curl = Path::new("/usr/bin/curl");
    let user = format!("AKIDEXAMPLE:{SECRET_KEY}");
    let date = "X-Amz-Date: 20261201T123456Z";
    for (extra, want) in [
        (
            vec!["--aws-sigv4", "aws:amz:us-east-1:es"],
            "Credential=AKIDEXAMPLE/20261201/us-east-1/es/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=",
        ),
        (
            vec!["--aws-sigv4", "aws:amz:us-east-1:es", "-d", "posted=yes"],
            "Credential=AKIDEXAMPLE/20261201/us-east-1/es/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=",
        ),
        (
            vec![
                "--aws-sigv4",
                "aws:amz:eu-west-3",
                "-H",
                "X-Amz-Meta-Color: blue",
            ],
            // No service: the host's first label, "127" of 127.0.0.1.
            "Credential=AKIDEXAMPLE/20261201/eu-west-3/127/aws4_request, \
             SignedHeaders=host;x-amz-date;x-amz-meta-color, Signature=",
        ),
    ] {
        let mut args = vec!["-s", "-u", user.as_str(), "-H", date];
        args.extend(extra);
        args.push("{url}");
        same_on_both(curl, "{base}/path/to/thing?k=v", &args, want);
    }
    // Verbose output: the secret key nowhere, the signature hidden.
    let server = echo_server();
    let url = format!("{}/v", server.base_url());
    let (_, ours) = run_both(
        curl,
        &[
            "-sv",
            "-u",
            &user,
            "--aws-sigv4",
            "aws:amz:us-east-1:es",
            &url,
        ],
    );
    let err = String::from_utf8_lossy(&ours.stderr);
    assert!(err.contains("> Authorization: <hidden>"), "{err}");
    assert!(
        !err.contains(SECRET_KEY) && !err.contains("Signature="),
        "{err}"
    );
}
