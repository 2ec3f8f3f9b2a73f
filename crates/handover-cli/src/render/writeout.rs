//! `-w/--write-out`: curl's format language (`%{variable}`, `%%`, `\n`,
//! `\r`, `\t`, `\\`) with curl's variable names and cumulative meaning
//! (seconds from the start of the attempt), plus the hop variables.

use super::Context;
use crate::attempt::Attempt;

/// What one attempt's `-w` wrote, to each stream (`%{stderr}` and
/// `%{stdout}` switch between them, as in curl).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub stdout: String,
    pub stderr: String,
}

/// Expands `format` for one attempt. Unknown variables expand to nothing
/// with a warning on stderr, as curl does; `%{onerror}` ends the output
/// there unless the attempt failed.
pub fn expand(format: &str, a: &Attempt, ctx: &Context) -> Written {
    let mut written = Written::default();
    let mut to_stderr = false;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        let out = match to_stderr {
            true => &mut written.stderr,
            false => &mut written.stdout,
        };
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('\\') => out.push('\\'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '%' if chars.peek() == Some(&'%') => {
                chars.next();
                out.push('%');
            }
            '%' if chars.peek() == Some(&'{') => {
                chars.next();
                let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                match name.as_str() {
                    "stderr" => to_stderr = true,
                    "stdout" => to_stderr = false,
                    "onerror" if a.error.is_none() => break,
                    "onerror" => {}
                    _ => match variable(&name, a, ctx) {
                        Some(value) => out.push_str(&value),
                        None => eprintln!("handover: unknown --write-out variable: '{name}'"),
                    },
                }
            }
            c => out.push(c),
        }
    }
    written
}

fn secs(d: std::time::Duration) -> String {
    format!("{:.6}", d.as_secs_f64())
}

fn variable(name: &str, a: &Attempt, ctx: &Context) -> Option<String> {
    let e = a.error.as_ref();
    Some(match name {
        "time_namelookup" => secs(a.namelookup),
        "time_connect" => secs(a.connect),
        "time_appconnect" => secs(a.appconnect),
        "time_pretransfer" => secs(a.pretransfer),
        "time_total" => secs(a.total),
        "http_connect" => format!("{:03}", a.http_connect),
        "http_code" | "response_code" => format!("{:03}", a.http_code),
        "remote_ip" => a.remote.map(|r| r.ip().to_string()).unwrap_or_default(),
        "remote_port" => a.remote.map(|r| r.port().to_string()).unwrap_or_default(),
        "local_ip" => a.local.map(|l| l.ip().to_string()).unwrap_or_default(),
        "local_port" => a.local.map(|l| l.port().to_string()).unwrap_or_default(),
        "num_connects" => a.num_connects.to_string(),
        "exitcode" => a.exit_code().to_string(),
        "errormsg" => e.map(|e| e.message.clone()).unwrap_or_default(),
        "url" | "url_effective" => ctx.target.shown_url(),
        "proxy_used" => u8::from(!ctx.hops.is_empty()).to_string(),
        "alpn" => a.alpn.clone().unwrap_or_default(),
        "tls_version" => a.tls_version.clone().unwrap_or_default(),
        "tls_cipher" => a.tls_cipher.clone().unwrap_or_default(),
        "ssl_verify_result" => a.ssl_verify_result.to_string(),
        "cert_expiry_days" => a
            .cert_expiry_days()
            .map_or_else(String::new, |d| d.to_string()),
        "json" => super::json::attempt(a, ctx).to_string(),
        // handover's additions (design §5.4).
        "hops" => ctx.hops.len().to_string(),
        "time_tunnel" => secs(a.tunnel_done().unwrap_or_default()),
        "he_attempts" => a
            .rows
            .iter()
            .filter(|r| r.layer == "tcp" && r.hop == 0)
            .count()
            .to_string(),
        "he_winner" => a
            .rows
            .iter()
            .find(|r| r.layer == "tcp" && r.hop == 0 && r.detail == "won")
            .map(|r| r.peer.clone())
            .unwrap_or_default(),
        "failed_layer" => e.and_then(|e| e.layer.clone()).unwrap_or_default(),
        "failed_hop" => e
            .and_then(|e| e.hop)
            .map(|h| h.to_string())
            .unwrap_or_default(),
        _ => return hop_variable(name, a),
    })
}

/// `hop.N.layer|peer|at|took|status|auth`: proxy hop N's handshake (empty
/// when it never began). `status` is the CONNECT's answer for an HTTP
/// proxy, `ok`/`failed` for SOCKS; `auth` the scheme it authenticated with.
fn hop_variable(name: &str, a: &Attempt) -> Option<String> {
    let rest = name.strip_prefix("hop.")?;
    let (n, field) = rest.split_once('.')?;
    let n: usize = n.parse().ok().filter(|&n| n >= 1)?;
    let row = a.hop_row(n);
    let value = |f: &dyn Fn(&crate::attempt::Row) -> String| row.map(f).unwrap_or_default();
    Some(match field {
        "layer" => value(&|r| r.layer.clone()),
        "peer" => value(&|r| r.peer.clone()),
        "at" => value(&|r| secs(r.at)),
        "took" => value(&|r| r.took.map(secs).unwrap_or_default()),
        "status" => value(&|r| connect_status(r).unwrap_or_else(|| outcome(r).to_owned())),
        "auth" => value(&|r| auth_scheme(&r.detail).unwrap_or_default()),
        _ => return None,
    })
}

fn outcome(r: &crate::attempt::Row) -> &'static str {
    match (r.failed, r.took) {
        (true, _) => "failed",
        (false, Some(_)) => "ok",
        (false, None) => "unfinished",
    }
}

/// The status after "→ " in an HTTP proxy's detail ("CONNECT h:443 → 200,
/// Digest authentication, after one 407").
fn connect_status(r: &crate::attempt::Row) -> Option<String> {
    if r.layer != "http-proxy" {
        return None;
    }
    let after = r.detail.split_once("→ ")?.1;
    let code: String = after.chars().take_while(char::is_ascii_digit).collect();
    (!code.is_empty()).then_some(code)
}

/// The word before " authentication" in a hop's detail.
fn auth_scheme(detail: &str) -> Option<String> {
    let before = detail.split_once(" authentication")?.0;
    before.rsplit([' ', ',']).next().map(str::to_owned)
}
