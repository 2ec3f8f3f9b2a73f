//! AWS Signature Version 4 (`aws_sigv4`, `CURLOPT_AWS_SIGV4`) end to end:
//! an in-process server records each signed request, and a verifier that
//! shares no code with handover — Python's standard library (hashlib,
//! hmac, urllib), written from AWS's description of SigV4 as a server
//! checks it — recomputes the signature from the bytes that arrived. For
//! connect-only = 2 and ordinary transfers, GET, POST and uploads, S3 and
//! other services; then the errors, and what is left unsigned.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::capture_verbose;
use handover::{Auth, ConnectOnly, Easy, ErrorKind, List};
use handover_test_support::capture::{CaptureServer, CapturedRequest};
use sha2::{Digest, Sha256};

const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// The verifier: reads a request (head, blank line, de-chunked body) on
/// stdin and the secret key as its argument, rebuilds the canonical request
/// from the headers the Authorization line names, and prints `ok` or what
/// it expected.
const VERIFIER: &str = r#"
import hashlib, hmac, re, sys, urllib.parse

secret = sys.argv[1]
raw = sys.stdin.buffer.read()
head, _, body = raw.partition(b"\r\n\r\n")
lines = head.decode("utf-8").split("\r\n")
method, target, _ = lines[0].split(" ")
fields = []
for line in lines[1:]:
    name, _, value = line.partition(":")
    fields.append((name.strip().lower(), " ".join(value.split())))
auth = [v for n, v in fields if n == "authorization"]
assert len(auth) == 1, "one Authorization line, not %d" % len(auth)
m = re.fullmatch(
    r"([A-Z0-9]+)4-HMAC-SHA256 Credential=([^/]*)/(\d{8})/([^/]+)/([^/]+)/([a-z0-9]+4_request), "
    r"SignedHeaders=([^ ,]+), Signature=([0-9a-f]{64})", auth[0])
assert m, "Authorization: " + auth[0]
prefix, key_id, date, region, service, request_type, signed, signature = m.groups()
signed = signed.split(";")
assert signed == sorted(signed) and "host" in signed, signed

stamps = [v for n, v in fields if n in signed and re.fullmatch(r"x-[a-z0-9]+-date|date", n)]
assert stamps and re.fullmatch(r"\d{8}T\d{6}Z", stamps[0]), stamps
stamp = stamps[0]
assert stamp[:8] == date, (stamp, date)

if "://" in target:
    target = target.split("://", 1)[1]
    target = target[target.index("/"):]
path, _, query = target.partition("?")
if service not in ("s3", "s3-express", "s3-outposts"):
    path = urllib.parse.quote(path, safe="/-_.~")
pairs = []
for part in query.split("&"):
    if not part:
        continue
    k, _, v = part.partition("=")
    enc = lambda t: urllib.parse.quote_from_bytes(urllib.parse.unquote_to_bytes(t), safe="-_.~")
    pairs.append((enc(k), enc(v)))
pairs.sort()
canonical_query = "&".join(k + "=" + v for k, v in pairs)

canonical_headers = ""
for name in signed:
    values = [v for n, v in fields if n == name]
    assert values, "signed header %s was not sent" % name
    canonical_headers += name + ":" + ",".join(values) + "\n"

hashes = [v for n, v in fields if re.fullmatch(r"x-[a-z0-9]+-content-sha256", n)]
if hashes:
    payload = hashes[0]
    assert payload == "UNSIGNED-PAYLOAD" or payload == hashlib.sha256(body).hexdigest(), payload
else:
    payload = hashlib.sha256(body).hexdigest()

canonical = "\n".join([method, path, canonical_query, canonical_headers, ";".join(signed), payload])
scope = "/".join([date, region, service, request_type])
to_sign = "\n".join([prefix + "4-HMAC-SHA256", stamp, scope,
                     hashlib.sha256(canonical.encode()).hexdigest()])
key = (prefix + "4" + secret).encode()
for part in (date, region, service, request_type):
    key = hmac.new(key, part.encode(), hashlib.sha256).digest()
want = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
if want == signature:
    print("ok")
else:
    print("signature %s, expected %s\n--- canonical request\n%s\n--- string to sign\n%s"
          % (signature, want, canonical, to_sign))
"#;

/// Runs the verifier on `request` with `secret`: `Err` with what it said
/// unless the signature is right.
fn verifier(request: &CapturedRequest, secret: &str) -> Result<(), String> {
    use std::io::Write;
    let mut child = Command::new("python3")
        .args(["-c", VERIFIER, secret])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3 (the verifier)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&request.bytes())
        .expect("write the request to the verifier");
    let out = child.wait_with_output().expect("the verifier's output");
    let said = String::from_utf8_lossy(&out.stdout);
    if out.status.success() && said == "ok\n" {
        Ok(())
    } else {
        Err(format!(
            "{said}{}\n--- request\n{}",
            String::from_utf8_lossy(&out.stderr),
            request.head
        ))
    }
}

/// The verifier must accept `request`.
fn verify(request: &CapturedRequest) {
    if let Err(said) = verifier(request, SECRET_KEY) {
        panic!("the verifier refused the request:\n{said}");
    }
}

fn list(lines: &[&str]) -> List {
    lines.iter().copied().collect()
}

/// An `Easy` for `url` on `server`, signed with `param` as ACCESS_KEY.
fn signed_easy(url: &str, param: &str) -> Easy {
    let mut easy = Easy::new();
    easy.url(url).unwrap();
    easy.aws_sigv4(param).unwrap();
    easy.username(ACCESS_KEY).unwrap();
    easy.password(SECRET_KEY).unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    easy.write_function(|data| Ok(data.len())).unwrap();
    easy
}

/// The one request `server` got.
fn only_request(server: &CaptureServer) -> CapturedRequest {
    let mut requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    requests.remove(0)
}

/// The clock's time as a SigV4 timestamp, from `date`.
fn clock_stamp() -> String {
    let out = Command::new("date")
        .args(["-u", "+%Y%m%dT%H%M%SZ"])
        .output()
        .expect("run date");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn the_verifier_refuses_a_wrong_key_and_a_changed_request() {
    let server = CaptureServer::start("200 OK", &[]);
    let mut easy = signed_easy(
        &format!("{}/x?a=1", server.base_url()),
        "aws:amz:eu-west-1:s3",
    );
    easy.post_fields_copy(b"body").unwrap();
    easy.perform().unwrap();
    let request = only_request(&server);
    verify(&request);
    assert!(verifier(&request, "not the key").is_err());
    let mut changed = request.clone();
    changed.head = changed.head.replacen("/x?a=1", "/x?a=2", 1);
    assert!(verifier(&changed, SECRET_KEY).is_err());
    let mut changed = request.clone();
    changed.body = b"Body".to_vec();
    assert!(verifier(&changed, SECRET_KEY).is_err());
}

#[test]
fn connect_only_2_get_with_a_query_and_headers_verifies() {
    let server = CaptureServer::start("200 OK", &[]);
    let url = format!(
        "{}/api/v1/items/a%3Ab~c.json?zeta=last&alpha=1&empty=&flag&path=%2Fx%2Fy&b=2",
        server.base_url()
    );
    let mut easy = signed_easy(&url, "aws:amz:eu-west-1:execute-api");
    easy.connect_only(ConnectOnly::Headers).unwrap();
    easy.http_headers(list(&[
        "X-Custom:   spaced    out  value ",
        "Content-Type: application/json",
        "x-custom: second",
    ]))
    .unwrap();
    let before = clock_stamp();
    easy.perform().unwrap();
    let after = clock_stamp();
    assert_eq!(easy.response_code().unwrap(), 200);
    assert_eq!(easy.info().httpauth_used(), 128, "CURLAUTH_AWS_SIGV4");

    let request = only_request(&server);
    verify(&request);
    let stamp = request.headers("X-Amz-Date");
    assert!(
        stamp.len() == 1 && before.as_str() <= stamp[0] && stamp[0] <= after.as_str(),
        "X-Amz-Date {stamp:?} is not the clock's time ({before} to {after})"
    );
    let authorization = request.header("Authorization").unwrap();
    assert!(
        authorization.starts_with(&format!(
            "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{}/eu-west-1/execute-api/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-custom, Signature=",
            &stamp[0][..8]
        )),
        "{authorization}"
    );
    assert!(request.header("x-amz-content-sha256").is_none(), "not S3");
}

#[test]
fn s3_signs_the_hash_of_post_fields_and_an_unsigned_upload() {
    // An ordinary POST of fields: the content hash is the body's.
    let server = CaptureServer::start("200 OK", &[]);
    let body = b"Action=Put&Item=one two".to_vec();
    let mut easy = signed_easy(
        &format!("{}/bucket/key.txt", server.base_url()),
        "aws:amz:us-east-1:s3",
    );
    easy.post_fields_copy(&body).unwrap();
    easy.perform().unwrap();
    let request = only_request(&server);
    verify(&request);
    assert_eq!(request.body, body);
    let hash: String = Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(request.header("x-amz-content-sha256"), Some(hash.as_str()));
    let authorization = request.header("Authorization").unwrap();
    assert!(
        !authorization.contains("content-type"),
        "the default Content-Type is not signed, as in libcurl: {authorization}"
    );

    // An upload from the read function, size unknown: UNSIGNED-PAYLOAD.
    let server = CaptureServer::start("200 OK", &[]);
    let mut easy = signed_easy(
        &format!("{}/bucket/upload.bin", server.base_url()),
        "aws:amz:us-east-1:s3",
    );
    easy.upload(true).unwrap();
    let mut left = b"streamed body".to_vec();
    easy.read_function(move |buf| {
        let n = left.len().min(buf.len());
        buf[..n].copy_from_slice(&left[..n]);
        left.drain(..n);
        Ok(n)
    })
    .unwrap();
    easy.perform().unwrap();
    let request = only_request(&server);
    verify(&request);
    assert_eq!(request.body, b"streamed body");
    assert_eq!(
        request.header("x-amz-content-sha256"),
        Some("UNSIGNED-PAYLOAD")
    );

    // An upload announced as empty signs the hash of nothing.
    let server = CaptureServer::start("200 OK", &[]);
    let mut easy = signed_easy(
        &format!("{}/bucket/empty", server.base_url()),
        "aws:amz:us-east-1:s3",
    );
    easy.upload(true).unwrap();
    easy.in_filesize(0).unwrap();
    easy.read_function(|_| Ok(0)).unwrap();
    easy.perform().unwrap();
    let request = only_request(&server);
    verify(&request);
    assert_eq!(
        request.header("x-amz-content-sha256"),
        Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
}

#[test]
fn http_auth_with_the_sigv4_bit_alone_takes_service_and_region_from_the_host() {
    let server = CaptureServer::start("200 OK", &[]);
    let host = "sqs.eu-central-1.amazonaws.com";
    let mut easy = Easy::new();
    easy.url(&format!(
        "http://{host}:{}/?Action=ListQueues",
        server.port()
    ))
    .unwrap();
    easy.resolve(list(&[&format!("{host}:{}:127.0.0.1", server.port())]))
        .unwrap();
    easy.http_auth(Auth::new().aws_sigv4(true)).unwrap();
    easy.userpwd(&format!("{ACCESS_KEY}:{SECRET_KEY}")).unwrap();
    easy.connect_only(ConnectOnly::Headers).unwrap();
    let verbose = capture_verbose(&mut easy);
    easy.perform().unwrap();
    let request = only_request(&server);
    verify(&request);
    let authorization = request.header("Authorization").unwrap();
    assert!(
        authorization.contains("/eu-central-1/sqs/aws4_request, SignedHeaders=host;x-amz-date,"),
        "{authorization}"
    );
    assert_eq!(
        request.header("Host"),
        Some(format!("{host}:{}", server.port()).as_str())
    );
    let verbose = verbose.lock().unwrap().clone();
    for line in [
        "* aws_sigv4: picked service sqs from host\n",
        "* aws_sigv4: picked region eu-central-1 from host\n",
        "* Server auth using AWS_SIGV4 with user 'AKIDEXAMPLE'\n",
        "Authorization: <hidden>\r\n",
    ] {
        assert!(verbose.contains(line), "{line:?} missing from\n{verbose}");
    }
    assert!(!verbose.contains(SECRET_KEY), "{verbose}");
    assert!(!verbose.contains("Signature="), "{verbose}");
}

#[test]
fn a_date_header_of_the_users_is_signed_and_not_sent_twice() {
    let server = CaptureServer::start("200 OK", &[]);
    let mut easy = signed_easy(
        &format!("{}/fixed?b=2&a=1", server.base_url()),
        "aws:amz:us-east-1:es",
    );
    easy.http_headers(list(&["X-Amz-Date: 20261201T123456Z"]))
        .unwrap();
    easy.perform().unwrap();
    let request = only_request(&server);
    verify(&request);
    assert_eq!(request.headers("X-Amz-Date"), ["20261201T123456Z"]);
    assert!(request
        .header("Authorization")
        .unwrap()
        .contains("/20261201/us-east-1/es/aws4_request"));
}

#[test]
fn through_a_forward_proxy_the_urls_path_is_signed() {
    // The capture server plays the proxy: the request target is the
    // absolute URL, the signature covers the path and the Host.
    let proxy = CaptureServer::start("200 OK", &[]);
    let mut easy = signed_easy(
        "http://svc.eu-north-1.example.test/p/a?x=1",
        "aws:amz:eu-north-1:svc",
    );
    easy.proxy(&proxy.base_url()).unwrap();
    easy.perform().unwrap();
    let request = only_request(&proxy);
    assert!(
        request
            .head
            .starts_with("GET http://svc.eu-north-1.example.test/p/a?x=1 HTTP/1.1\r\n"),
        "{}",
        request.head
    );
    verify(&request);
}

#[test]
fn bad_parameters_and_hosts_fail_with_libcurls_codes() {
    let server = CaptureServer::start("200 OK", &[]);
    let base = server.base_url();
    let query: String = (0..130).map(|i| format!("k{i}=v&")).collect();
    let cases = [
        (
            format!("{base}/"),
            ":amz",
            ErrorKind::BadFunctionArgument,
            "provider",
        ),
        (
            format!("{base}/"),
            "aws:a b",
            ErrorKind::BadFunctionArgument,
            "header name",
        ),
        // 127.0.0.1 gives service "127" and region "0", as in libcurl;
        // localhost gives no region.
        (
            format!("http://localhost:{}/", server.port()),
            "aws:amz",
            ErrorKind::UrlMalformat,
            "service missing",
        ),
        (
            format!("{base}/?{query}"),
            "aws:amz:r:s",
            ErrorKind::TooLarge,
            "query",
        ),
    ];
    for (url, param, kind, words) in cases {
        let mut easy = signed_easy(&url, param);
        let error = easy.perform().unwrap_err();
        assert_eq!(error.kind(), kind, "{param} on {url}: {error}");
        assert!(error.to_string().contains(words), "{error}");
    }
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[test]
fn nothing_is_signed_without_credentials_or_with_a_users_authorization() {
    let server = CaptureServer::start("200 OK", &[]);
    let mut easy = Easy::new();
    easy.url(&format!("{}/open", server.base_url())).unwrap();
    easy.aws_sigv4("aws:amz:us-east-1:s3").unwrap();
    easy.write_function(|data| Ok(data.len())).unwrap();
    easy.perform().unwrap();
    let request = only_request(&server);
    assert!(
        request.header("Authorization").is_none(),
        "{}",
        request.head
    );
    assert!(request.header("X-Amz-Date").is_none(), "{}", request.head);

    let server = CaptureServer::start("200 OK", &[]);
    let mut easy = signed_easy(
        &format!("{}/mine", server.base_url()),
        "aws:amz:us-east-1:s3",
    );
    easy.http_headers(list(&["Authorization: Bearer mine"]))
        .unwrap();
    easy.perform().unwrap();
    let request = only_request(&server);
    assert_eq!(request.headers("Authorization"), ["Bearer mine"]);
    assert!(request.header("X-Amz-Date").is_none(), "{}", request.head);
    assert!(request.header("x-amz-content-sha256").is_none());
}

#[test]
fn a_401_is_the_answer_and_another_method_replaces_sigv4() {
    // SigV4 is not a challenge method: the 401 ends the transfer.
    let server = CaptureServer::start("401 Unauthorized", &[]);
    let mut easy = signed_easy(&format!("{}/", server.base_url()), "aws:amz:r:s");
    easy.perform().unwrap();
    assert_eq!(easy.response_code().unwrap(), 401);
    assert_eq!(server.requests().len(), 1);

    // http_auth after aws_sigv4 chooses Basic again, as in libcurl.
    let server = CaptureServer::start("200 OK", &[]);
    let mut easy = signed_easy(&format!("{}/", server.base_url()), "aws:amz:r:s");
    easy.http_auth(Auth::new().basic(true)).unwrap();
    easy.perform().unwrap();
    let request = only_request(&server);
    assert!(request
        .header("Authorization")
        .unwrap()
        .starts_with("Basic "));
    assert!(request.header("X-Amz-Date").is_none());
}
