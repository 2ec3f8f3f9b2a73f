//! Prometheus text exposition (for node_exporter's textfile collector or a
//! scrape): blackbox_exporter's `probe_success`/`probe_duration_seconds`
//! idea, named `handover_*`, plus one series per layer and hop.

use std::fmt::Write as _;

use super::Context;
use crate::attempt::Attempt;
use crate::stats::Summary;

/// The metrics of a run: the last attempt's outcome and layers, and the
/// run's attempt and failure counts.
pub fn render(attempts: &[Attempt], s: &Summary, ctx: &Context) -> String {
    let target = label(&ctx.target.authority());
    let mut out = String::new();
    let mut metric = |name: &str, help: &str, kind: &str, lines: Vec<(String, String)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, value) in lines {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    };
    let t = format!("target=\"{target}\"");
    let Some(last) = attempts.last() else {
        return out;
    };
    metric(
        "handover_probe_success",
        "Whether the last attempt set the connection up.",
        "gauge",
        vec![(t.clone(), u8::from(last.ok()).to_string())],
    );
    metric(
        "handover_probe_duration_seconds",
        "How long the last attempt took.",
        "gauge",
        vec![(t.clone(), format!("{}", last.total.as_secs_f64()))],
    );
    metric(
        "handover_probe_exit_code",
        "curl's exit code of the last attempt (0: success).",
        "gauge",
        vec![(t.clone(), last.exit_code().to_string())],
    );
    metric(
        "handover_layer_duration_seconds",
        "How long each layer of the last attempt took.",
        "gauge",
        last.phases()
            .into_iter()
            .map(|(name, hop, d)| {
                (
                    format!("{t},hop=\"{hop}\",layer=\"{}\"", label(&name)),
                    format!("{}", d.as_secs_f64()),
                )
            })
            .collect(),
    );
    if let Some(at) = last.cert_expiry {
        // blackbox_exporter's probe_ssl_earliest_cert_expiry, for the
        // server's certificate.
        metric(
            "handover_tls_cert_expiry_timestamp_seconds",
            "When the server's TLS certificate expires (notAfter), seconds since the epoch.",
            "gauge",
            vec![(t.clone(), at.to_string())],
        );
    }
    metric(
        "handover_probe_attempts",
        "Attempts made in this run.",
        "gauge",
        vec![(t.clone(), s.attempts.to_string())],
    );
    metric(
        "handover_probe_failures",
        "Attempts of this run that failed.",
        "gauge",
        vec![(t, s.failed.to_string())],
    );
    out
}

/// A label value: backslash, double quote and newline escaped.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
