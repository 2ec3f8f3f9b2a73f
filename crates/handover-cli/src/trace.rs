//! What the library's debug callback shows: `-v`'s lines on stderr and
//! curl's `--trace` (hex and ASCII) or `--trace-ascii` dump in a file,
//! `--trace-time` stamping either. Every credential is blanked before a
//! byte is written: authorization header values whole, and each known
//! password — in clear, percent-encoded, and in the base64 forms an auth
//! header would carry — wherever else it shows up, binary data included.

use std::fs::File;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use handover::{Easy, InfoType};

use crate::args::{ChainArgs, Command};

/// What stands in for a credential in text.
const REDACTED: &str = "<redacted>";

/// The byte that stands in for a credential in binary data (same length,
/// so a length-prefixed structure such as SOCKS5's RFC 1929 request keeps
/// its shape in a hex dump).
const BLANK: u8 = b'*';

/// The secret strings to blank: passwords and their encoded forms.
#[derive(Default)]
pub struct Secrets {
    /// Longest first, so that a password inside a longer form does not
    /// leave the rest of that form behind.
    needles: Vec<String>,
}

impl Secrets {
    /// From `(user, password)` pairs; empty passwords have nothing to hide.
    pub fn new<'a>(credentials: impl IntoIterator<Item = (&'a str, &'a str)>) -> Secrets {
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut needles: Vec<String> = Vec::new();
        for (user, password) in credentials {
            if password.is_empty() {
                continue;
            }
            needles.push(password.to_owned());
            needles.push(crate::chain::encode(password));
            needles.push(b64.encode(format!("{user}:{password}")));
            needles.push(b64.encode(password));
        }
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        needles.dedup();
        Secrets { needles }
    }

    /// One line of text (`\n` or `\r\n` ended, or not): an authorization
    /// header keeps its name only; any other line loses its secrets.
    pub fn line(&self, line: &str) -> String {
        let lower = line.to_ascii_lowercase();
        for name in ["proxy-authorization:", "authorization:"] {
            if lower.starts_with(name) {
                let end = &line[line.trim_end_matches(['\r', '\n']).len()..];
                return format!("{} {REDACTED}{end}", &line[..name.len()]);
            }
        }
        let mut line = line.to_owned();
        for needle in &self.needles {
            line = line.replace(needle.as_str(), REDACTED);
        }
        line
    }

    /// Text made of lines.
    fn text(&self, data: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(data);
        text.split_inclusive('\n')
            .map(|l| self.line(l))
            .collect::<String>()
            .into_bytes()
    }

    /// Binary data with every secret's bytes blanked in place.
    fn bytes(&self, data: &[u8]) -> Vec<u8> {
        let mut out = data.to_vec();
        for needle in &self.needles {
            let n = needle.as_bytes();
            let mut at = 0;
            while let Some(pos) = out[at..].windows(n.len()).position(|w| w == n) {
                out[at + pos..at + pos + n.len()].fill(BLANK);
                at += pos + n.len();
            }
        }
        out
    }
}

/// `--trace` or `--trace-ascii`, opened.
struct TraceFile {
    out: Mutex<Box<dyn Write + Send>>,
    hex: bool,
}

/// Where debug output goes; one per chain, shared by all its handles
/// (repeated probes, relayed clients), so a trace file is opened once.
pub struct Debug {
    verbose: bool,
    time: bool,
    trace: Option<TraceFile>,
    secrets: Secrets,
}

impl Debug {
    /// Opens the trace file (`-` is stdout); `None` when neither `-v` nor
    /// a trace was asked for.
    pub fn open(args: &ChainArgs, secrets: Secrets) -> Result<Option<Arc<Debug>>, String> {
        let trace = match (&args.trace, &args.trace_ascii) {
            (Some(path), _) => Some((path, true)),
            (None, Some(path)) => Some((path, false)),
            (None, None) => None,
        };
        if !args.verbose && trace.is_none() {
            return Ok(None);
        }
        let trace = match trace {
            Some((path, hex)) => {
                let out: Box<dyn Write + Send> = match path.as_str() {
                    "-" => Box::new(std::io::stdout()),
                    _ => {
                        Box::new(File::create(path).map_err(|e| format!("trace file {path}: {e}"))?)
                    }
                };
                Some(TraceFile {
                    out: Mutex::new(out),
                    hex,
                })
            }
            None => None,
        };
        Ok(Some(Arc::new(Debug {
            verbose: args.verbose,
            time: args.trace_time,
            trace,
            secrets,
        })))
    }

    /// Makes `easy` report to this.
    pub fn install(self: &Arc<Self>, easy: &mut Easy) -> Result<(), handover::Error> {
        let me = Arc::clone(self);
        easy.verbose(true)?;
        easy.debug_function(move |kind, data| me.report(kind, data))
    }

    fn report(&self, kind: InfoType, data: &[u8]) {
        let clean = match kind {
            InfoType::Text | InfoType::HeaderIn | InfoType::HeaderOut => self.secrets.text(data),
            _ => self.secrets.bytes(data),
        };
        let stamp = match self.time {
            true => timestamp(SystemTime::now()),
            false => String::new(),
        };
        if self.verbose {
            verbose(kind, &clean, &stamp);
        }
        if let Some(trace) = &self.trace {
            let chunk = dump(kind, &clean, &stamp, trace.hex);
            // One write per callback, unbuffered: the process may end with
            // `exit`, which runs no destructors to flush a buffer.
            let mut out = trace.out.lock().unwrap_or_else(|p| p.into_inner());
            let _ = out.write_all(chunk.as_bytes());
            let _ = out.flush();
        }
    }
}

/// curl's `-v` look on stderr.
fn verbose(kind: InfoType, data: &[u8], stamp: &str) {
    let prefix = match kind {
        InfoType::Text => "* ",
        InfoType::HeaderIn => "< ",
        InfoType::HeaderOut => "> ",
        _ => return,
    };
    let text = String::from_utf8_lossy(data);
    let out: String = text
        .split_inclusive('\n')
        .map(|line| format!("{stamp}{prefix}{line}"))
        .collect();
    let _ = std::io::stderr().lock().write_all(out.as_bytes());
}

/// One callback in curl's trace format: `== Info: …` for text, else a
/// `=> Send header, N bytes (0xN)` line and the dump — 16 bytes a line in
/// hex and ASCII, or 64 characters a line in ASCII alone, where a CRLF
/// also ends the line.
fn dump(kind: InfoType, data: &[u8], stamp: &str, hex: bool) -> String {
    use std::fmt::Write as _;
    let what = match kind {
        InfoType::Text => {
            let text = String::from_utf8_lossy(data);
            return text
                .split_inclusive('\n')
                .map(|line| format!("{stamp}== Info: {line}"))
                .collect();
        }
        InfoType::HeaderOut => "=> Send header",
        InfoType::HeaderIn => "<= Recv header",
        InfoType::DataOut => "=> Send data",
        InfoType::DataIn => "<= Recv data",
        InfoType::SslDataOut => "=> Send SSL data",
        InfoType::SslDataIn => "<= Recv SSL data",
    };
    let size = data.len();
    let mut s = format!("{stamp}{what}, {size} bytes ({size:#x})\n");
    let width = if hex { 16 } else { 64 };
    let crlf_at = |at: usize| data.get(at..at + 2) == Some(b"\r\n");
    let mut i = 0;
    while i < size {
        let _ = write!(s, "{i:04x}: ");
        if hex {
            for c in 0..width {
                match data.get(i + c) {
                    Some(b) => {
                        let _ = write!(s, "{b:02x} ");
                    }
                    None => s.push_str("   "),
                }
            }
        }
        let mut next = i + width;
        for c in 0..width.min(size - i) {
            if !hex && crlf_at(i + c) {
                next = i + c + 2;
                break;
            }
            let b = data[i + c];
            s.push(if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '.'
            });
            // A CRLF right after this character ends the line here, so a
            // line exactly `width` long gets no empty line after it.
            if !hex && crlf_at(i + c + 1) {
                next = i + c + 3;
                break;
            }
        }
        s.push('\n');
        i = next;
    }
    s
}

/// `HH:MM:SS.uuuuuu ` (UTC).
fn timestamp(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let day = since.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:06} ",
        day / 3600,
        day / 60 % 60,
        day % 60,
        since.subsec_micros()
    )
}

/// `--trace -` on a command whose stdout carries the connection's data
/// would mix the trace into it.
pub fn refuse_stdout(command: &Command) -> Result<(), String> {
    let (name, chain) = match command {
        Command::Relay(a) => ("relay", &a.chain),
        Command::Ws(a) => ("ws", &a.chain),
        _ => return Ok(()),
    };
    for (flag, value) in [
        ("--trace", &chain.trace),
        ("--trace-ascii", &chain.trace_ascii),
    ] {
        if value.as_deref() == Some("-") {
            return Err(format!(
                "{flag} -: {name}'s stdout is the connection's data; give the trace a file"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets() -> Secrets {
        Secrets::new([("alice", "hunter2")])
    }

    #[test]
    fn verbose_lines_lose_their_secrets() {
        let s = secrets();
        assert_eq!(
            s.line("Proxy-Authorization: Basic YTpi\r\n"),
            "Proxy-Authorization: <redacted>\r\n"
        );
        assert_eq!(
            s.line("proxy-authorization: NTLM TlRMTVNTUAAD\n"),
            "proxy-authorization: <redacted>\n"
        );
        assert_eq!(s.line("user hunter2 here\n"), "user <redacted> here\n");
        // base64("alice:hunter2") and base64("hunter2").
        assert_eq!(s.line("x YWxpY2U6aHVudGVyMg== y"), "x <redacted> y");
        assert_eq!(s.line("aHVudGVyMg=="), "<redacted>");
    }

    #[test]
    fn a_socks5_password_request_is_blanked_in_binary_data() {
        let mut request = vec![1, 5];
        request.extend_from_slice(b"alice");
        request.push(7);
        request.extend_from_slice(b"hunter2");
        let clean = secrets().bytes(&request);
        assert_eq!(clean.len(), request.len());
        assert_eq!(&clean[..8], &request[..8]);
        assert_eq!(&clean[8..], b"*******");
        let trace = dump(InfoType::DataOut, &clean, "", true);
        assert!(!trace.contains("68 75 6e 74 65 72 32"), "{trace}");
    }

    #[test]
    fn the_hex_dump_is_curls() {
        let out = dump(InfoType::HeaderOut, b"CONNECT a:1 HTTP/1.1\r\n", "", true);
        assert_eq!(
            out,
            "=> Send header, 22 bytes (0x16)\n\
             0000: 43 4f 4e 4e 45 43 54 20 61 3a 31 20 48 54 54 50 CONNECT a:1 HTTP\n\
             0010: 2f 31 2e 31 0d 0a                               /1.1..\n"
        );
    }

    #[test]
    fn the_ascii_dump_breaks_lines_at_crlf() {
        let out = dump(
            InfoType::HeaderIn,
            b"HTTP/1.1 200 OK\r\nA: b\r\n",
            "",
            false,
        );
        assert_eq!(
            out,
            "<= Recv header, 23 bytes (0x17)\n0000: HTTP/1.1 200 OK\n0011: A: b\n"
        );
        assert_eq!(
            dump(InfoType::Text, b"Trying 127.0.0.1\n", "", false),
            "== Info: Trying 127.0.0.1\n"
        );
    }

    #[test]
    fn the_time_stamp_is_utc_with_microseconds() {
        let t = UNIX_EPOCH + std::time::Duration::from_micros(3_723_000_042);
        assert_eq!(timestamp(t), "01:02:03.000042 ");
    }
}
