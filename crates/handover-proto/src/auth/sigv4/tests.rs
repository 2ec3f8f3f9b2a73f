//! Known answers: the examples of AWS's SigV4 documentation and test suite
//! (`get-vanilla` and friends, the signing-key example), and the requests of
//! curl's own tests (the test numbers name them), whose expected headers
//! libcurl 8 produces byte for byte. curl's tests sign at the epoch.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::testing::Garbage;

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn credentials(user: &str, password: &str) -> Credentials {
    Credentials {
        user: user.into(),
        password: password.into(),
    }
}

/// One request to sign and what libcurl sends for it.
struct Case {
    name: &'static str,
    param: &'static str,
    /// The URL's host name, for the scope.
    host_name: &'static str,
    /// The `Host` header.
    host: &'static str,
    method: &'static str,
    path: &'static str,
    query: Option<&'static str>,
    headers: &'static [&'static str],
    payload: Payload<'static>,
    user: &'static str,
    password: &'static str,
    time: SystemTime,
    /// Authorization's value.
    authorization: &'static str,
    /// The other lines the signer adds.
    added: &'static [(&'static str, &'static str)],
}

impl Case {
    fn sign(&self) -> Result<Option<Signature>, SigV4Error> {
        let headers: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        let request = Request {
            method: self.method,
            path: self.path,
            query: self.query,
            host: self.host,
            headers: &headers,
            payload: self.payload,
        };
        SigV4::parse(self.param, self.host_name)?.sign(
            &request,
            &credentials(self.user, self.password),
            self.time,
        )
    }

    fn check(&self) {
        let signature = self
            .sign()
            .unwrap_or_else(|e| panic!("{}: {e}", self.name))
            .unwrap_or_else(|| panic!("{}: not signed", self.name));
        let mut want = vec![("Authorization".to_string(), self.authorization.to_string())];
        want.extend(
            self.added
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string())),
        );
        assert_eq!(
            signature.headers, want,
            "{}\ncanonical request:\n{}\nstring to sign:\n{}",
            self.name, signature.canonical_request, signature.string_to_sign
        );
    }
}

/// A curl test's request: GET at the epoch, `Content-Type: application/json`.
fn curl_case(name: &'static str) -> Case {
    Case {
        name,
        param: "xxx",
        host_name: "127.0.0.1",
        host: "127.0.0.1:9000",
        method: "GET",
        path: "/",
        query: None,
        headers: &["Content-Type: application/json"],
        payload: Payload::Bytes(b""),
        user: "xxx",
        password: "yyy",
        time: UNIX_EPOCH,
        authorization: "",
        added: &[],
    }
}

const EPOCH: &str = "19700101T000000Z";

#[test]
fn aws_get_vanilla_examples_sign_as_aws_documents() {
    // AWS's SigV4 test suite: AKIDEXAMPLE, 2015-08-30T12:36:00Z.
    let vanilla = |name, query, signature: &'static str| Case {
        name,
        param: "aws:amz:us-east-1:service",
        host_name: "example.amazonaws.com",
        host: "example.amazonaws.com",
        method: "GET",
        path: "/",
        query,
        headers: &[],
        payload: Payload::Bytes(b""),
        user: "AKIDEXAMPLE",
        password: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        time: at(1_440_938_160),
        authorization: signature,
        added: &[("X-Amz-Date", "20150830T123600Z")],
    };
    vanilla(
        "get-vanilla",
        None,
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;x-amz-date, \
         Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    )
    .check();
    vanilla(
        "get-vanilla-query-order-key-case",
        Some("Param2=value2&Param1=value1"),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;x-amz-date, \
         Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    )
    .check();
    // The empty query of "/?" signs as no query at all.
    vanilla(
        "get-vanilla with an empty query",
        Some(""),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;x-amz-date, \
         Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    )
    .check();
}

#[test]
fn the_signing_key_is_the_documented_hmac_chain() {
    // AWS's "derive a signing key" example (IAM, 2012-02-15).
    let key = signing_key(
        "AWS",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "20120215",
        "us-east-1",
        "iam",
        "aws4_request",
    )
    .unwrap();
    assert_eq!(
        hex(&key),
        "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
    );
}

#[test]
fn the_canonical_request_and_string_to_sign_have_aws_shape() {
    let signature = Case {
        query: Some("b=2&a=1"),
        headers: &["X-Custom:  two   words ", "x-custom: again"],
        ..curl_case("shape")
    }
    .sign()
    .unwrap()
    .unwrap();
    assert_eq!(
        signature.canonical_request,
        format!(
            "GET\n/\na=1&b=2\nhost:127.0.0.1:9000\nx-custom:two words,again\n\
             x-xxx-date:{EPOCH}\n\nhost;x-custom;x-xxx-date\n{EMPTY_SHA256}"
        )
    );
    assert_eq!(
        signature.string_to_sign,
        format!(
            "XXX4-HMAC-SHA256\n{EPOCH}\n19700101/0/127/xxx4_request\n{}",
            sha256_hex(signature.canonical_request.as_bytes())
        )
    );
}

#[test]
fn curl_tests_with_providers_region_and_service() {
    let cases = [
        Case {
            path: "/1933/testapi/test",
            authorization: "XXX4-HMAC-SHA256 Credential=xxx/19700101/0/127/xxx4_request, \
                SignedHeaders=content-type;host;x-xxx-date, \
                Signature=3d8e00a02e437211a596143dcd590fcc805b731365c68f7f48951ea6eda39c4f",
            added: &[("X-Xxx-Date", EPOCH)],
            ..curl_case("1933: one provider")
        },
        Case {
            param: "xxx:yyy",
            path: "/1934/testapi/test",
            authorization: "XXX4-HMAC-SHA256 Credential=xxx/19700101/0/127/xxx4_request, \
                SignedHeaders=content-type;host;x-yyy-date, \
                Signature=cf8dc9a4af903a1a9bb1385d8e2366d780afb501e266436598438395e502d58c",
            added: &[("X-Yyy-Date", EPOCH)],
            ..curl_case("1934: two providers")
        },
        Case {
            param: "xxx:yyy:rrr",
            path: "/1935/testapi/test",
            authorization: "XXX4-HMAC-SHA256 Credential=xxx/19700101/rrr/127/xxx4_request, \
                SignedHeaders=content-type;host;x-yyy-date, \
                Signature=a0b11b97b54689428d4188b788ed32865d607822d85d3e91cf06141f479dac0b",
            added: &[("X-Yyy-Date", EPOCH)],
            ..curl_case("1935: two providers and a region")
        },
        Case {
            param: "xxx:yyy:rrr:sss",
            path: "/1936/testapi/test",
            authorization: "XXX4-HMAC-SHA256 Credential=xxx/19700101/rrr/sss/xxx4_request, \
                SignedHeaders=content-type;host;x-yyy-date, \
                Signature=026b713d76b0789bd224c5e41322f74eed088f8a22fd15183ca68376c575c5b0",
            added: &[("X-Yyy-Date", EPOCH)],
            ..curl_case("1936: two providers, region and service")
        },
        Case {
            param: "provider1:provider2:region:service",
            method: "POST",
            path: "/1937/testapi/test",
            payload: Payload::Bytes(b"postData"),
            user: "keyId",
            password: "SecretKey",
            authorization: "PROVIDER14-HMAC-SHA256 \
                Credential=keyId/19700101/region/service/provider14_request, \
                SignedHeaders=content-type;host;x-provider2-date, \
                Signature=4928ccf97a9e71fe27f91db5a3b3c943b6080d25e6f4df8593d4c38e7d1e849b",
            added: &[("X-Provider2-Date", EPOCH)],
            ..curl_case("1937: POST")
        },
        Case {
            param: "provider1:provider2:region:service",
            method: "POST",
            path: "/1938/testapi/test",
            payload: Payload::Bytes(b"post\0Data"),
            user: "keyId",
            password: "SecretKey",
            authorization: "PROVIDER14-HMAC-SHA256 \
                Credential=keyId/19700101/region/service/provider14_request, \
                SignedHeaders=content-type;host;x-provider2-date, \
                Signature=3436256c7c23adeb66dc15984eaa527edc4a504def61da2e0bf4b01ace4f3c0b",
            added: &[("X-Provider2-Date", EPOCH)],
            ..curl_case("1938: POST of binary data")
        },
    ];
    for case in cases {
        case.check();
    }
}

/// curl's requests to `exam.ple.com:9000/aws_sigv4/testapi/test` as user
/// `xxx` without a password: service `exam`, region `ple` from the host.
fn exam_ple(name: &'static str) -> Case {
    Case {
        host_name: "exam.ple.com",
        host: "exam.ple.com:9000",
        path: "/aws_sigv4/testapi/test",
        password: "",
        ..curl_case(name)
    }
}

#[test]
fn curl_tests_of_header_lines_and_content_hashes() {
    let content_hash = |name, header, signature| Case {
        headers: header,
        authorization: signature,
        added: &[("X-Xxx-Date", EPOCH)],
        ..exam_ple(name)
    };
    let cases = [
        Case {
            headers: &[
                "test3: 1234",
                "Content-Type: application/json",
                "test2;",
                "test1:",
                "test0",
                "test_space: t\ts  m\t   end    ",
                "tesMixCase: MixCase",
            ],
            authorization: "XXX4-HMAC-SHA256 Credential=xxx/19700101/ple/exam/xxx4_request, \
                SignedHeaders=content-type;host;tesmixcase;test2;test3;test_space;x-xxx-date, \
                Signature=dd39202e9fb7b836ebf2abb83b114cae11ff3b6a169f0c64b290a774a873db9d",
            added: &[("X-Xxx-Date", EPOCH)],
            ..exam_ple("1955: header lines of every form")
        },
        content_hash(
            "1956: the content hash of nothing given",
            &[
                "Content-Type: application/json",
                "X-Xxx-Content-Sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ],
            "XXX4-HMAC-SHA256 Credential=xxx/19700101/ple/exam/xxx4_request, \
             SignedHeaders=content-type;host;x-xxx-content-sha256;x-xxx-date, \
             Signature=dfe78c8846a9b7d65d1eb4c1d6ea7bc886650d03f3568088cb8d5b4c3778287f",
        ),
        content_hash(
            "1957: an arbitrary content hash given",
            &["Content-Type: application/json", "X-Xxx-Content-Sha256: arbitrary"],
            "XXX4-HMAC-SHA256 Credential=xxx/19700101/ple/exam/xxx4_request, \
             SignedHeaders=content-type;host;x-xxx-content-sha256;x-xxx-date, \
             Signature=25b4cac711ea8f65010c485d3778885f5f3870d0b8ff0b3ab58a8d7eeab991ff",
        ),
        content_hash(
            "1958: the given content hash with blanks around it",
            &["Content-Type: application/json", "X-Xxx-Content-Sha256: \tarbitrary "],
            "XXX4-HMAC-SHA256 Credential=xxx/19700101/ple/exam/xxx4_request, \
             SignedHeaders=content-type;host;x-xxx-content-sha256;x-xxx-date, \
             Signature=25b4cac711ea8f65010c485d3778885f5f3870d0b8ff0b3ab58a8d7eeab991ff",
        ),
        content_hash(
            "1959: a long content hash given",
            &[
                "Content-Type: application/json",
                "X-Xxx-Content-Sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\
                 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ],
            "XXX4-HMAC-SHA256 Credential=xxx/19700101/ple/exam/xxx4_request, \
             SignedHeaders=content-type;host;x-xxx-content-sha256;x-xxx-date, \
             Signature=7b343a4aa55d73ffc05005d84480bc705a3367373ed8cae1a1c0fbd2b3aa0483",
        ),
    ];
    for case in cases {
        case.check();
    }
}

#[test]
fn a_date_header_of_the_users_is_the_time_and_is_not_added_again() {
    // curl's test 1964, signed at another time: the header's time wins.
    Case {
        path: "/1964/testapi/test",
        headers: &[
            "Content-Type: application/json",
            "X-Xxx-Date: 19700101T000000Z",
        ],
        time: at(1_796_128_496),
        authorization: "XXX4-HMAC-SHA256 Credential=xxx/19700101/0/127/xxx4_request, \
            SignedHeaders=content-type;host;x-xxx-date, \
            Signature=35da102c1df68f2ef85ade08ecc212fa663a66e3a973146f6578a5c5426e9669",
        added: &[],
        ..curl_case("1964: X-Xxx-Date given")
    }
    .check();
}

#[test]
fn a_date_that_is_not_a_timestamp_signs_an_empty_date_as_libcurl_does() {
    let signature = Case {
        headers: &["Date: Tue, 01 Dec 2026 12:34:56 GMT"],
        ..curl_case("Date in RFC 1123 form")
    }
    .sign()
    .unwrap()
    .unwrap();
    assert_eq!(signature.headers.len(), 1, "{:?}", signature.headers);
    assert!(
        signature.headers[0].1.starts_with(
            "XXX4-HMAC-SHA256 Credential=xxx//0/127/xxx4_request, \
                          SignedHeaders=date;host, "
        ),
        "{:?}",
        signature.headers
    );
    assert!(signature
        .string_to_sign
        .starts_with("XXX4-HMAC-SHA256\n\n/0/127/xxx4_request\n"));
    // A timestamp in the Date header is used as it is.
    let signature = Case {
        headers: &["date: 20261201T123456Z"],
        ..curl_case("Date as a timestamp")
    }
    .sign()
    .unwrap()
    .unwrap();
    assert!(signature
        .string_to_sign
        .starts_with("XXX4-HMAC-SHA256\n20261201T123456Z\n20261201/0/127/xxx4_request\n"));
}

#[test]
fn curl_tests_for_s3_hash_the_payload_or_leave_it_unsigned() {
    let s3 = |name| Case {
        param: "aws:amz:us-east-1:s3",
        ..exam_ple(name)
    };
    let cases = [
        Case {
            method: "PUT",
            authorization: "AWS4-HMAC-SHA256 Credential=xxx/19700101/us-east-1/s3/aws4_request, \
                SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, \
                Signature=a028756f42a859122e9609c1f90cae4b272d6b03bf60d9fd354138176dfa2260",
            added: &[
                ("X-Amz-Date", EPOCH),
                ("x-amz-content-sha256", EMPTY_SHA256),
            ],
            ..s3("1970: an upload of size 0")
        },
        Case {
            method: "PUT",
            payload: Payload::Streamed,
            authorization: "AWS4-HMAC-SHA256 Credential=xxx/19700101/us-east-1/s3/aws4_request, \
                SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, \
                Signature=4a6e9b4af0542ffb83744c6852f8e1bfec14f2a67e6f6f037b39f172f79d62af",
            added: &[
                ("X-Amz-Date", EPOCH),
                ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ],
            ..s3("1971: an upload of unknown size")
        },
        Case {
            method: "POST",
            payload: Payload::Streamed,
            authorization: "AWS4-HMAC-SHA256 Credential=xxx/19700101/us-east-1/s3/aws4_request, \
                SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, \
                Signature=eaee0f1c5984ad5d81c8bc7805f28c7b83b35322de654b2ace18cb8cf6d5a9cb",
            added: &[
                ("X-Amz-Date", EPOCH),
                ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ],
            ..s3("1972: a POST that streams")
        },
        Case {
            method: "POST",
            payload: Payload::Bytes(b"post fields\n"),
            authorization: "AWS4-HMAC-SHA256 Credential=xxx/19700101/us-east-1/s3/aws4_request, \
                SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, \
                Signature=7eb34202214384872221b99a9c671b7517891ac6af56b0aff24ec51adf62b10a",
            added: &[
                ("X-Amz-Date", EPOCH),
                (
                    "x-amz-content-sha256",
                    "4b02e333ccf7cf530ddee3e10ebe54e935500b5e570e68650d63d743e8bbc045",
                ),
            ],
            ..s3("1973: POST fields")
        },
        Case {
            headers: &[],
            authorization: "AWS4-HMAC-SHA256 Credential=xxx/19700101/us-east-1/s3/aws4_request, \
                SignedHeaders=host;x-amz-content-sha256;x-amz-date, \
                Signature=e6270423932feafe9b00ca5d60c9ed566be649f9ca9676144288273945153021",
            added: &[
                ("X-Amz-Date", EPOCH),
                ("x-amz-content-sha256", EMPTY_SHA256),
            ],
            ..s3("1974: GET")
        },
        Case {
            method: "PUT",
            payload: Payload::Streamed,
            headers: &[
                "Content-Type: application/json",
                "X-Amz-Content-Sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ],
            authorization: "AWS4-HMAC-SHA256 Credential=xxx/19700101/us-east-1/s3/aws4_request, \
                SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, \
                Signature=a028756f42a859122e9609c1f90cae4b272d6b03bf60d9fd354138176dfa2260",
            added: &[("X-Amz-Date", EPOCH)],
            ..s3("1975: an upload with the content hash given")
        },
    ];
    for case in cases {
        case.check();
    }
}

#[test]
fn curl_test_1978_sorts_and_joins_repeated_headers() {
    Case {
        param: "aws:amz:us-east-1:s3",
        method: "PUT",
        path: "/1978/testapi/test",
        headers: &[
            "x-amz-meta-test: test2",
            "some-other-header: value",
            "x-amz-meta-test: test1",
            "duplicate-header: duplicate",
            "header-no-value",
            "x-amz-meta-test: test3",
            "X-amz-meta-test2: test2",
            "x-amz-meta-blah: blah",
            "x-Amz-meta-test2: test1",
            "x-amz-Meta-test2: test3",
            "curr-header-no-colon",
            "curr-header-no-colon: value",
            "next-header-no-colon: value",
            "next-header-no-colon",
            "duplicate-header: duplicate",
            "header-no-value;",
            "header-no-value;",
            "header-some-no-value;",
            "header-some-no-value: value",
        ],
        authorization: "AWS4-HMAC-SHA256 Credential=xxx/19700101/us-east-1/s3/aws4_request, \
            SignedHeaders=curr-header-no-colon;duplicate-header;header-no-value;\
            header-some-no-value;host;next-header-no-colon;some-other-header;\
            x-amz-content-sha256;x-amz-date;x-amz-meta-blah;x-amz-meta-test;x-amz-meta-test2, \
            Signature=b1e2ac88fd1307f0b9031140c3c99cc20d6263f3fe64b132dc433c95fe2c6316",
        added: &[
            ("X-Amz-Date", EPOCH),
            ("x-amz-content-sha256", EMPTY_SHA256),
        ],
        ..curl_case("1978: repeated headers")
    }
    .check();
}

/// curl's `fake.fake.fake:8000` requests as `user:secret`, `aws:amz:us-east-2:es`.
fn fake(name: &'static str) -> Case {
    Case {
        param: "aws:amz:us-east-2:es",
        host_name: "fake.fake.fake",
        host: "fake.fake.fake:8000",
        headers: &[],
        user: "user",
        password: "secret",
        added: &[("X-Amz-Date", EPOCH)],
        ..curl_case(name)
    }
}

#[test]
fn curl_tests_of_paths_queries_and_user_names() {
    let cases = [
        Case {
            path: "/439/",
            query: Some("name=me&noval&aim=b%aad&&&weirdo=*.//-"),
            authorization: "AWS4-HMAC-SHA256 Credential=user/19700101/us-east-2/es/aws4_request, \
                SignedHeaders=host;x-amz-date, \
                Signature=9dd8592929306832a6673d10063491391e486e5f50de4647ea7c2c797277e0a6",
            ..fake("439: a query")
        },
        Case {
            // handover sends the path's UTF-8 as it is; libcurl sends
            // /472/a=%E3%81%82: both sign the encoded form.
            path: "/472/a=\u{3042}",
            authorization: "AWS4-HMAC-SHA256 Credential=user/19700101/us-east-2/es/aws4_request, \
                SignedHeaders=host;x-amz-date, \
                Signature=b8783c8387a5249b084642126fe1f8e07e12a2847820fd5b6cd64b2047149da4",
            ..fake("472: a path beyond ASCII")
        },
        Case {
            path: "/472/a=%E3%81%82",
            authorization: "AWS4-HMAC-SHA256 Credential=user/19700101/us-east-2/es/aws4_request, \
                SignedHeaders=host;x-amz-date, \
                Signature=b8783c8387a5249b084642126fe1f8e07e12a2847820fd5b6cd64b2047149da4",
            ..fake("472: the same path, encoded")
        },
        Case {
            user: "user\r\n",
            authorization: "AWS4-HMAC-SHA256 \
                Credential=user%0D%0A/19700101/us-east-2/es/aws4_request, \
                SignedHeaders=host;x-amz-date, \
                Signature=e5747e9555c0e96f1067cc4bf9f6055e72a185178e5dd0c2909279ec1d66360b",
            ..fake("3222: CR LF in the user name")
        },
        Case {
            host_name: "first.host.it.is",
            host: "first.host.it.is",
            path: "/we/want/that/page/5026",
            authorization: "AWS4-HMAC-SHA256 Credential=user/19700101/us-east-2/es/aws4_request, \
                SignedHeaders=host;x-amz-date, \
                Signature=5524f6f960590dc88a36551f11e407031a373e9e2caa3d3f7a3d9280cae367e2",
            ..fake("5026: a default port")
        },
        Case {
            host_name: "goto.second.host.now",
            host: "goto.second.host.now",
            path: "/50270002",
            authorization: "AWS4-HMAC-SHA256 Credential=user/19700101/us-east-2/es/aws4_request, \
                SignedHeaders=host;x-amz-date, \
                Signature=f73dad70768d102fbfc307cedf6c77a5ef2ce9da51989647b6240e903340dd26",
            ..fake("5027: another host")
        },
    ];
    for case in cases {
        case.check();
    }
}

#[test]
fn paths_are_encoded_again_except_for_s3() {
    // curl's unit test 1979.
    let cases = [
        ("/a=b", true, "/a%3Db"),
        ("/a=b", false, "/a=b"),
        (
            "/tables/arn%3Aaws%3As3tables%3Aus-east-1%3A022954301426%3Abucket%2Fjasoehartablebucket/x",
            true,
            "/tables/arn%253Aaws%253As3tables%253Aus-east-1%253A022954301426%253Abucket%252Fjasoehartablebucket/x",
        ),
        ("/", true, "/"),
        ("", true, "/"),
        ("", false, "/"),
        (
            "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            true,
            "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        ),
        ("//example//", false, "//example//"),
        ("/example space/", true, "/example%2520space/"),
        ("/example+space/", true, "/example%2Bspace/"),
        ("/./", false, "/./"),
        ("/example1/example2/../..", false, "/example1/example2/../.."),
        ("/\u{e9}", false, "/%C3%A9"),
        ("/\u{e9}", true, "/%25C3%25A9"),
    ];
    for (path, again, want) in cases {
        assert_eq!(canonical_path(path, again), want, "{path:?} {again}");
    }
}

#[test]
fn queries_are_decoded_encoded_and_sorted_as_libcurl_does() {
    // curl's unit test 1980, and more.
    let cases = [
        ("Param1=", "Param1="),
        (
            "name=me&noval&aim=b%aad&weirdo=*.//-",
            "aim=b%AAd&name=me&noval=&weirdo=%2A.%2F%2F-",
        ),
        ("hello=a&b&c=&d", "b=&c=&d=&hello=a"),
        ("Param2=value2&Param1=value1", "Param1=value1&Param2=value2"),
        (
            "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=\
             -._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=\
             -._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        ),
        (
            "Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3",
        ),
        ("p3= &p1=+&p2=%20", "p1=%20&p2=%20&p3=%20"),
        ("p3=%2b&p1=+", "p1=%20&p3=%2B"),
        // Same key: by value; a repeated pair stays.
        ("a=2&a=1&a=1", "a=1&a=1&a=2"),
        // An empty key sorts first; '=' inside a value is encoded.
        ("b=x=y&=v", "=v&b=x%3Dy"),
        // A '%' without two hex digits after it is a '%'.
        ("k=%4&k2=%zz&k3=%", "k=%254&k2=%25zz&k3=%25"),
        ("", ""),
        ("&&&", ""),
        ("caf\u{e9}=\u{e9}", "caf%C3%A9=%C3%A9"),
    ];
    for (query, want) in cases {
        assert_eq!(canonical_query(Some(query)).unwrap(), want, "{query:?}");
    }
    assert_eq!(canonical_query(None).unwrap(), "");
}

#[test]
fn a_query_of_128_parts_is_too_large() {
    let parts = |n: usize| {
        (0..n)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join("&")
    };
    assert!(canonical_query(Some(&parts(127))).is_ok());
    let error = canonical_query(Some(&parts(128))).unwrap_err();
    assert!(matches!(error, SigV4Error::TooLarge(_)), "{error:?}");
    // Empty parts do not count.
    assert!(canonical_query(Some(&format!("{}&&&&", parts(127)))).is_ok());
    let error = Case {
        query: Some(Box::leak(parts(200).into_boxed_str())),
        ..curl_case("a long query")
    }
    .sign()
    .unwrap_err();
    assert!(error.to_string().contains("at most 127"), "{error}");
}

#[test]
fn parameters_are_read_as_libcurl_reads_them() {
    let long = "p".repeat(MAX_PART_LEN + 1);
    let max = "p".repeat(MAX_PART_LEN);
    // (param, host, "provider1 provider2 region service", from host)
    let cases = [
        ("".into(), "s.r.example", "aws amz r s", (true, true)),
        ("aws".into(), "s.r.example", "aws aws r s", (true, true)),
        ("aws:amz".into(), "s.r.example", "aws amz r s", (true, true)),
        (
            "aws:amz:eu".into(),
            "s.r.example",
            "aws amz eu s",
            (true, false),
        ),
        (
            "aws:amz:eu:sqs".into(),
            "localhost",
            "aws amz eu sqs",
            (false, false),
        ),
        // The service ends at the next ':'.
        (
            "aws:amz:eu:sqs:more".into(),
            "x",
            "aws amz eu sqs",
            (false, false),
        ),
        // An empty provider2 is provider1, and nothing after it is read.
        (
            "aws::eu:sqs".into(),
            "s.r.example",
            "aws aws r s",
            (true, true),
        ),
        // An empty region ends the reading: the host gives both.
        (
            "aws:amz::sqs".into(),
            "s.r.example",
            "aws amz r s",
            (true, true),
        ),
        (
            format!("aws:{long}:eu:sqs"),
            "s.r.x",
            "aws aws r s",
            (true, true),
        ),
        (
            "aws:amz:eu".into(),
            "sqs.x",
            "aws amz eu sqs",
            (true, false),
        ),
        ("xxx".into(), "127.0.0.1", "xxx xxx 0 127", (true, true)),
        (
            format!("{max}:{max}:{max}:{max}"),
            "x",
            "max",
            (false, false),
        ),
    ];
    for (param, host, want, from_host) in cases {
        let signer = SigV4::parse(&param, host).unwrap_or_else(|e| panic!("{param}: {e}"));
        let got = [
            signer.provider1(),
            signer.provider2(),
            signer.region(),
            signer.service(),
        ]
        .join(" ");
        let want = if want == "max" {
            [max.as_str(); 4].join(" ")
        } else {
            want.to_owned()
        };
        assert_eq!(got, want, "{param:?} on {host}");
        assert_eq!(
            (signer.service_from_host(), signer.region_from_host()),
            from_host,
            "{param:?} on {host}"
        );
    }
}

#[test]
fn bad_parameters_and_hosts_without_a_scope_are_refused_with_libcurls_codes() {
    let long = "p".repeat(MAX_PART_LEN + 1);
    for param in [":amz", ":", &long, &format!("{long}:amz:eu:s3")] {
        let error = SigV4::parse(param, "s.r.example").unwrap_err();
        assert!(
            matches!(&error, SigV4Error::BadArgument(m) if m.contains("first aws-sigv4 provider")),
            "{param:?}: {error:?}"
        );
    }
    for param in ["aws:a b", "aws:amz\r\nX-Evil: 1", "aws:a:b\n"] {
        let error = SigV4::parse(param, "s.r.example").unwrap_err();
        assert!(
            matches!(error, SigV4Error::BadArgument(_)),
            "{param:?}: {error:?}"
        );
    }
    let cases = [
        ("aws:amz", "localhost", "service missing"),
        ("aws:amz", "::1", "service missing"),
        ("aws:amz", ".example.com", "service missing"),
        ("aws:amz", "s3.example", "region missing"),
        ("aws:amz", "s3..example", "region missing"),
        ("aws:amz", &format!("{long}.r.example"), "service missing"),
        ("aws:amz", &format!("s.{long}.example"), "region missing"),
    ];
    for (param, host, what) in cases {
        let error = SigV4::parse(param, host).unwrap_err();
        assert!(
            matches!(&error, SigV4Error::NoScope(m) if m.contains(what)),
            "{host:?}: {error:?}"
        );
    }
    // A region given: the host only needs a service.
    assert!(SigV4::parse("aws:amz:eu", "s3.example").is_ok());
    assert!(SigV4::parse("aws:amz:eu", "localhost").is_err());
}

#[test]
fn a_users_authorization_line_leaves_the_request_unsigned() {
    for line in [
        "Authorization: Bearer abc",
        "authorization:",
        "AUTHORIZATION;",
    ] {
        let headers = [line.to_string()];
        let request = Request {
            method: "GET",
            path: "/",
            query: None,
            host: "127.0.0.1:9000",
            headers: &headers,
            payload: Payload::Bytes(b""),
        };
        let signer = SigV4::parse("xxx", "127.0.0.1").unwrap();
        assert_eq!(
            signer
                .sign(&request, &credentials("a", "b"), UNIX_EPOCH)
                .unwrap(),
            None,
            "{line}"
        );
    }
}

#[test]
fn a_users_host_line_replaces_the_default_and_only_the_first_is_signed() {
    let signature = Case {
        headers: &["Host: example.com", "host: other.example"],
        ..curl_case("Host given")
    }
    .sign()
    .unwrap()
    .unwrap();
    assert!(
        signature.canonical_request.contains("\nhost:example.com\n"),
        "{}",
        signature.canonical_request
    );
    let signature = Case {
        headers: &["Host:"],
        ..curl_case("Host removed")
    }
    .sign()
    .unwrap()
    .unwrap();
    assert!(
        !signature.canonical_request.contains("host"),
        "{}",
        signature.canonical_request
    );
}

#[test]
fn streamed_bodies_sign_the_hash_of_nothing_outside_s3() {
    let signature = Case {
        method: "PUT",
        payload: Payload::Streamed,
        ..curl_case("streamed, not s3")
    }
    .sign()
    .unwrap()
    .unwrap();
    assert!(signature.canonical_request.ends_with(EMPTY_SHA256));
    assert_eq!(signature.headers.len(), 2, "no content hash header");
    // `AWS` and `S3` in any case are S3; provider2 names the header as given.
    let signature = Case {
        param: "AWS:AMZ:us-east-1:S3",
        payload: Payload::Streamed,
        ..curl_case("S3 in capitals")
    }
    .sign()
    .unwrap()
    .unwrap();
    assert_eq!(
        signature.headers[1..],
        [
            ("X-Amz-Date".to_string(), EPOCH.to_string()),
            (
                "x-AMZ-content-sha256".to_string(),
                "UNSIGNED-PAYLOAD".to_string()
            ),
        ]
    );
    assert!(signature
        .canonical_request
        .contains("\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n"));
    // Only the service names s3, s3-express and s3-outposts keep the path.
    assert!(signature.canonical_request.starts_with("GET\n/\n"));
}

#[test]
fn timestamps_are_utc_in_iso_basic_form() {
    let cases = [
        (0, "19700101T000000Z"),
        (1_440_938_160, "20150830T123600Z"),
        (951_782_400, "20000229T000000Z"),
        (951_868_799, "20000229T235959Z"),
        (1_709_164_800, "20240229T000000Z"),
        (1_735_689_599, "20241231T235959Z"),
        (1_796_128_496, "20261201T123456Z"),
        (4_107_542_400, "21000301T000000Z"),
        (253_402_300_799, "99991231T235959Z"),
    ];
    for (secs, want) in cases {
        assert_eq!(timestamp(at(secs)), want, "{secs}");
    }
    assert_eq!(
        timestamp(UNIX_EPOCH - Duration::from_secs(1)),
        "19700101T000000Z"
    );
}

#[test]
fn the_secret_key_appears_in_no_output() {
    let signature = Case {
        password: "TOP-SECRET-KEY",
        ..curl_case("secret")
    }
    .sign()
    .unwrap()
    .unwrap();
    let everything = format!("{signature:?}");
    assert!(!everything.contains("TOP-SECRET-KEY"), "{everything}");
}

#[test]
fn garbage_parameters_headers_and_urls_never_panic() {
    let mut garbage = Garbage::new(0x5147_3456);
    let mut signed = 0;
    for round in 0..3000 {
        let text = |g: &mut Garbage, n: usize| {
            String::from_utf8_lossy(&g.bytes(n)).replace('\u{fffd}', "\u{e9}")
        };
        let len = (garbage.next_u64() % 40) as usize;
        // Mostly good parameters, so that the garbage reaches the signing.
        let param = match round % 3 {
            0 => text(&mut garbage, len),
            1 => "aws:amz:eu-west-1:s3".to_owned(),
            _ => "goog:x:r:svc".to_owned(),
        };
        let host = text(&mut garbage, len);
        let path = text(&mut garbage, len);
        let query = text(&mut garbage, len);
        let headers = vec![
            text(&mut garbage, len),
            format!("X-Amz-Date: {}", text(&mut garbage, 16)),
            format!("x-amz-content-sha256:{}", text(&mut garbage, 4)),
        ];
        let Ok(signer) = SigV4::parse(&param, &host) else {
            continue;
        };
        let request = Request {
            method: "GET",
            path: &path,
            query: Some(&query),
            host: &host,
            headers: &headers,
            payload: if round % 2 == 0 {
                Payload::Streamed
            } else {
                Payload::Bytes(path.as_bytes())
            },
        };
        let time = at(garbage.next_u64() % 300_000_000_000);
        if let Ok(Some(_)) = signer.sign(&request, &credentials(&param, &path), time) {
            signed += 1;
        }
    }
    assert!(signed > 500, "only {signed} garbage requests were signed");
}
