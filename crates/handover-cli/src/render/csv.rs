//! CSV: a header, then one row per attempt with curl's cumulative times and
//! the per-layer durations packed into one `phases` column
//! (`tcp=0.123;tls=1.234`), since the set of layers varies by chain.

use crate::attempt::Attempt;
use crate::stats::ms;

pub const HEADER: &str = "seq,ok,exit_code,total_ms,namelookup_ms,connect_ms,appconnect_ms,pretransfer_ms,remote,local,http_connect,http_code,failed_layer,error,phases";

pub fn row(a: &Attempt) -> String {
    let phases: Vec<String> = a
        .phases()
        .iter()
        .map(|(name, _, d)| format!("{name}={:.3}", ms(*d)))
        .collect();
    let e = a.error.as_ref();
    [
        a.seq.to_string(),
        a.ok().to_string(),
        a.exit_code().to_string(),
        format!("{:.3}", ms(a.total)),
        format!("{:.3}", ms(a.namelookup)),
        format!("{:.3}", ms(a.connect)),
        format!("{:.3}", ms(a.appconnect)),
        format!("{:.3}", ms(a.pretransfer)),
        a.remote.map(|r| r.to_string()).unwrap_or_default(),
        a.local.map(|l| l.to_string()).unwrap_or_default(),
        a.http_connect.to_string(),
        a.http_code.to_string(),
        e.and_then(|e| e.layer.clone()).unwrap_or_default(),
        e.map(|e| e.message.clone()).unwrap_or_default(),
        phases.join(";"),
    ]
    .iter()
    .map(|f| field(f))
    .collect::<Vec<_>>()
    .join(",")
}

/// RFC 4180 quoting: only when needed, quotes doubled.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting() {
        assert_eq!(super::field("a,b"), "\"a,b\"");
        assert_eq!(super::field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::field("plain"), "plain");
    }
}
