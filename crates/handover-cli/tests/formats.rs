//! Machine output parsed back: JSON and NDJSON (schema field, numeric
//! times), CSV (header and rows), Prometheus text (well-formed lines).

mod common;

use common::{closed_port, handover};
use handover_test_support::peers::{Behavior, TcpPeer};
use serde_json::Value;

fn echo_target() -> (TcpPeer, String) {
    let peer = TcpPeer::start(Behavior::Echo);
    let t = format!("127.0.0.1:{}", peer.port());
    (peer, t)
}

#[test]
fn json_is_one_schema_versioned_document() {
    let (_peer, target) = echo_target();
    let r = handover(&["probe", &target, "--format", "json"], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    assert_eq!(v["schema"], 1);
    assert_eq!(v["type"], "probe");
    let a = &v["attempts"][0];
    assert_eq!(a["ok"], true);
    assert!(a["total_ms"].is_f64(), "{a}");
    assert!(a["time_connect_ms"].as_f64().unwrap() <= a["total_ms"].as_f64().unwrap());
    assert!(!a["hops"].as_array().unwrap().is_empty(), "rows exist");
    for row in a["hops"].as_array().unwrap() {
        assert!(
            row["at_ms"].is_number() && row["layer"].is_string(),
            "{row}"
        );
    }
    assert_eq!(v["summary"]["attempts"], 1);
    assert!(v["summary"]["phases"]["total"]["p50_ms"].is_number());
    assert!(!r.stdout.contains('\x1b'));
}

#[test]
fn json_failure_has_an_error_object() {
    let target = format!("127.0.0.1:{}", closed_port());
    let r = handover(&["probe", &target, "--format", "json"], &[]);
    assert_eq!(r.code, 7, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    let e = &v["attempts"][0]["error"];
    assert_eq!(e["curl_code"], 7);
    assert_eq!(e["kind"], "CURLE_COULDNT_CONNECT");
    assert!(e["message"].as_str().unwrap().contains("refused"), "{e}");
    assert_eq!(e["layer"], "tcp");
}

#[test]
fn ndjson_is_one_attempt_per_line_then_a_summary() {
    let (_peer, target) = echo_target();
    let r = handover(
        &["probe", &target, "--format", "ndjson", "-c", "3", "-i", "0"],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 4);
    for (i, a) in lines[..3].iter().enumerate() {
        assert_eq!(a["schema"], 1);
        assert_eq!(a["type"], "attempt");
        assert_eq!(a["seq"], i as u64 + 1);
        assert!(a["total_ms"].is_number());
    }
    assert_eq!(lines[3]["type"], "summary");
    assert_eq!(lines[3]["ok"], 3);
    assert_eq!(lines[3]["loss_pct"], 0.0);
}

#[test]
fn csv_has_a_header_and_a_row_per_attempt() {
    let (_peer, target) = echo_target();
    let r = handover(
        &["probe", &target, "--format", "csv", "-c", "2", "-i", "0"],
        &[],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{r:?}");
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(header[..4], ["seq", "ok", "exit_code", "total_ms"]);
    for (i, line) in lines[1..].iter().enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), header.len(), "{line}");
        assert_eq!(f[0], (i + 1).to_string());
        assert_eq!(f[1], "true");
        f[3].parse::<f64>().expect("total_ms is a number");
    }
}

#[test]
fn prometheus_lines_are_well_formed() {
    let (_peer, target) = echo_target();
    let r = handover(&["probe", &target, "--format", "prometheus"], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    let want = format!("handover_probe_success{{target=\"{target}\"}} 1");
    assert!(r.stdout.lines().any(|l| l == want), "{r:?}");
    for line in r.stdout.lines() {
        if line.starts_with('#') {
            let words: Vec<&str> = line.split_whitespace().collect();
            assert!(matches!(words[1], "HELP" | "TYPE"), "{line}");
            continue;
        }
        // name{labels} value
        let (series, value) = line.rsplit_once(' ').expect(line);
        value.parse::<f64>().expect("a numeric sample");
        let (name, labels) = series.split_once('{').expect(line);
        assert!(
            name.starts_with("handover_")
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        assert!(labels.ends_with('}'), "{line}");
        for pair in labels.trim_end_matches('}').split(',') {
            let (k, v) = pair.split_once('=').expect(line);
            assert!(
                !k.is_empty() && v.starts_with('"') && v.ends_with('"'),
                "{line}"
            );
        }
    }
    assert!(
        r.stdout.contains("handover_layer_duration_seconds{"),
        "{r:?}"
    );
}
