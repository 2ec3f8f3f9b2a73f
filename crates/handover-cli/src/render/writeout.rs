//! `-w/--write-out`: curl's format language (`%{variable}`, `%%`, `\n`,
//! `\r`, `\t`, `\\`) with curl's variable names and cumulative meaning
//! (seconds from the start of the attempt), plus the hop variables.

use super::Context;
use crate::attempt::Attempt;

/// Expands `format` for one attempt. Unknown variables expand to nothing
/// with a warning on stderr, as curl does.
pub fn expand(format: &str, a: &Attempt, ctx: &Context) -> String {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
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
                match variable(&name, a, ctx) {
                    Some(value) => out.push_str(&value),
                    None => eprintln!("handover: unknown --write-out variable: '{name}'"),
                }
            }
            c => out.push(c),
        }
    }
    out
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
        "url" | "url_effective" => ctx.target.url.clone(),
        "proxy_used" => u8::from(!ctx.hops.is_empty()).to_string(),
        "alpn" => a.alpn.clone().unwrap_or_default(),
        "cert_expiry_days" => a
            .cert_expiry_days()
            .map_or_else(String::new, |d| d.to_string()),
        "json" => super::json::attempt(a, ctx).to_string(),
        // handover's additions (design §5.4).
        "hops" => ctx.hops.len().to_string(),
        "failed_layer" => e.and_then(|e| e.layer.clone()).unwrap_or_default(),
        "failed_hop" => e
            .and_then(|e| e.hop)
            .map(|h| h.to_string())
            .unwrap_or_default(),
        _ => return None,
    })
}
