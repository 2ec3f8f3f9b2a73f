//! JSON and NDJSON: schema-versioned (`"schema": 1`), numbers as numbers,
//! times in milliseconds with `_ms` in their names, errors as objects.

use serde_json::{json, Value};

use super::Context;
use crate::attempt::Attempt;
use crate::stats::Summary;

/// Milliseconds rounded to the microsecond: the clock's useful resolution,
/// without binary-float noise in the output.
fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn round(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

pub const SCHEMA: u32 = 1;

pub fn attempt(a: &Attempt, ctx: &Context) -> Value {
    let hops: Vec<Value> = a
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            json!({
                "i": i + 1,
                "layer": r.layer,
                "hop": r.hop,
                "peer": r.peer,
                "at_ms": ms(r.at),
                "ms": r.took.map(ms),
                "detail": r.detail,
                "failed": r.failed,
                "lost": r.lost,
            })
        })
        .collect();
    let error = a.error.as_ref().map(|e| {
        json!({
            "curl_code": e.curl_code,
            "kind": e.curl_name,
            "message": e.message,
            "layer": e.layer,
            "hop": e.hop,
            "peer": e.peer,
        })
    });
    json!({
        "schema": SCHEMA,
        "type": "attempt",
        "seq": a.seq,
        "ok": a.ok(),
        "target": ctx.target.authority(),
        "url": ctx.target.shown_url(),
        "proxies": ctx.hops,
        "total_ms": ms(a.total),
        "time_namelookup_ms": ms(a.namelookup),
        "time_connect_ms": ms(a.connect),
        "time_appconnect_ms": ms(a.appconnect),
        "time_pretransfer_ms": ms(a.pretransfer),
        "remote": a.remote.map(|r| r.to_string()),
        "local": a.local.map(|l| l.to_string()),
        "http_connect": a.http_connect,
        "http_code": a.http_code,
        "num_connects": a.num_connects,
        "alpn": a.alpn,
        "cert_expiry_unix": a.cert_expiry,
        "cert_expiry_days": a.cert_expiry_days(),
        "exit_code": a.exit_code(),
        "timeline": if a.from_steps { "steps" } else { "cumulative" },
        "hops": hops,
        "error": error,
    })
}

pub fn summary(s: &Summary, ctx: &Context) -> Value {
    let phases: serde_json::Map<String, Value> = s
        .phases
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                json!({
                    "count": p.count,
                    "min_ms": round(p.min),
                    "p50_ms": round(p.p50),
                    "p90_ms": round(p.p90),
                    "p99_ms": round(p.p99),
                    "max_ms": round(p.max),
                    "mean_ms": round(p.mean),
                    "stddev_ms": round(p.stddev),
                }),
            )
        })
        .collect();
    json!({
        "schema": SCHEMA,
        "type": "summary",
        "target": ctx.target.authority(),
        "attempts": s.attempts,
        "ok": s.ok,
        "failed": s.failed,
        "loss_pct": round(s.loss_pct),
        "longest_failure_streak": s.longest_failure_streak,
        "elapsed_ms": ms(s.elapsed),
        "phases": phases,
    })
}

/// `--format json`: one document for the whole run, the same shape
/// whatever the count.
pub fn document(attempts: &[Attempt], s: &Summary, ctx: &Context) -> Value {
    json!({
        "schema": SCHEMA,
        "type": "probe",
        "target": ctx.target.authority(),
        "attempts": attempts.iter().map(|a| attempt(a, ctx)).collect::<Vec<_>>(),
        "summary": summary(s, ctx),
    })
}
