//! Request heads (`http1::write_request`): the parser side is the reading
//! of `CURLOPT_HTTPHEADER` lines and the checks on every field.
//!
//! Input: `[config][plan (unused)]` then lines: method, target, Host value,
//! User-Agent, Referer, a default `name: value`, then user header lines.
//!
//! Checks: whatever the options, a written head is one request line, field
//! lines with a name and a colon, no CR/LF/NUL inside a line, one blank line
//! at the end (no header injection); the verbose lines match the head line for line, with
//! secrets hidden; a user line `Name: value` with a token name is sent as
//! written.
#![no_main]

use handover_proto::http1::{write_request, RequestSpec};
use handover_proto_fuzz::oracle::{is_tchar, read_request_head, Input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let config = input.byte();
    let body_len = (config & 1 != 0).then(|| input.u64());
    let _ = input.plan();
    let method = input.line();
    let method = match config >> 5 {
        0 => "GET",
        1 => "POST",
        2 => "HEAD",
        _ => method.as_str(),
    };
    let target = input.line();
    let host = input.line();
    let agent = input.line();
    let referer = input.line();
    let default = input.line();
    let headers: Vec<String> = String::from_utf8_lossy(input.rest())
        .split('\n')
        .map(str::to_string)
        .collect();
    let (default_name, default_value) = default.split_once(':').unwrap_or((default.as_str(), ""));
    let defaults = [(default_name, default_value.trim())];
    let spec = RequestSpec {
        method,
        target: &target,
        host_header: &host,
        user_agent: (config & 2 != 0).then_some(agent.as_str()),
        referer: (config & 4 != 0).then_some(referer.as_str()),
        headers: &headers,
        body_len,
        default_headers: if config & 8 != 0 { &defaults } else { &[] },
    };
    let Ok((bytes, shown)) = write_request(&spec) else {
        return;
    };
    let (request_line, fields) = read_request_head(&bytes).unwrap_or_else(|e| {
        panic!(
            "written head is not a request head: {e}\n{:?}",
            String::from_utf8_lossy(&bytes)
        )
    });
    assert_eq!(request_line, format!("{method} {target} HTTP/1.1"));
    assert_eq!(
        shown.len(),
        fields.len() + 1,
        "verbose lines and head lines differ in number"
    );
    assert_eq!(shown[0], request_line);
    for ((name, value), line) in fields.iter().zip(&shown[1..]) {
        let secret = ["authorization", "proxy-authorization", "cookie"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(name));
        let value = value.trim_matches([' ', '\t']);
        if secret && !value.is_empty() {
            assert_eq!(*line, format!("{name}: <hidden>"));
        } else {
            assert_eq!(*line, format!("{name}:{}", line.split_once(':').unwrap().1));
            assert_eq!(
                line.split_once(':').unwrap().1.trim_matches([' ', '\t']),
                value
            );
        }
    }
    // A user line "Name: value" with a token name goes out as written,
    // unless a later line names the same field.
    for (index, line) in headers.iter().enumerate() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.is_empty()
            || !name.bytes().all(is_tchar)
            || value.trim_matches([' ', '\t']).is_empty()
        {
            continue;
        }
        let named = |l: &String| {
            l.split_once(':')
                .map(|(n, _)| n)
                .or(l.strip_suffix(';'))
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        };
        if headers[index + 1..].iter().any(named) || name.eq_ignore_ascii_case("host") {
            continue;
        }
        let sent = bytes
            .windows(line.len() + 2)
            .any(|w| w == [line.as_bytes(), b"\r\n"].concat());
        assert!(
            sent,
            "user header {line:?} is missing from\n{}",
            String::from_utf8_lossy(&bytes)
        );
    }
});
