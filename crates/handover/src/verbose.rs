//! Verbose output in libcurl's shape: `* ` informational lines, `> ` and
//! `< ` protocol lines, delivered to a debug callback or, by default, to
//! standard error.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// What a piece of debug output is (`curl_infotype`).
///
/// # Examples
///
/// ```no_run
/// use handover::{ConnectOnly, Easy, InfoType};
///
/// let mut easy = Easy::new();
/// easy.url("https://example.com/")?;
/// easy.connect_only(ConnectOnly::Connection)?;
/// easy.verbose(true)?;
/// easy.debug_function(|kind, data| {
///     if kind == InfoType::Text {
///         eprint!("* {}", String::from_utf8_lossy(data));
///     }
/// })?;
/// easy.perform()?;
/// # Ok::<(), handover::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InfoType {
    /// Informational text (`* ` lines).
    Text,
    /// Protocol header lines received (`< `).
    HeaderIn,
    /// Protocol header lines sent (`> `).
    HeaderOut,
    /// Payload received.
    DataIn,
    /// Payload sent.
    DataOut,
    /// TLS bytes received.
    SslDataIn,
    /// TLS bytes sent.
    SslDataOut,
}

type DebugFn = dyn FnMut(InfoType, &[u8]) + Send;

/// Where verbose output goes. Cheap to clone: a transfer carries one.
#[derive(Clone, Default)]
pub(crate) struct Logger {
    verbose: bool,
    sink: Option<Arc<Mutex<Box<DebugFn>>>>,
}

impl Logger {
    pub fn set_verbose(&mut self, on: bool) {
        self.verbose = on;
    }

    pub fn set_sink(&mut self, f: Box<DebugFn>) {
        self.sink = Some(Arc::new(Mutex::new(f)));
    }

    /// True when output is wanted; callers skip formatting otherwise.
    pub fn enabled(&self) -> bool {
        self.verbose
    }

    /// One `* ` line. The text must not carry secrets.
    pub fn info(&self, args: fmt::Arguments<'_>) {
        if self.verbose {
            let mut line = args.to_string();
            line.push('\n');
            self.emit(InfoType::Text, line.as_bytes());
        }
    }

    pub fn emit(&self, kind: InfoType, data: &[u8]) {
        if !self.verbose {
            return;
        }
        match &self.sink {
            Some(sink) => {
                // A panicking callback poisons the lock; keep delivering anyway.
                let mut f = sink.lock().unwrap_or_else(|p| p.into_inner());
                f(kind, data);
            }
            None => print_default(kind, data),
        }
    }
}

/// The default sink: libcurl's command-line look on standard error.
fn print_default(kind: InfoType, data: &[u8]) {
    let prefix: &[u8] = match kind {
        InfoType::Text => b"* ",
        InfoType::HeaderIn => b"< ",
        InfoType::HeaderOut => b"> ",
        // curl prints payloads only with --trace; so do we: not at all.
        _ => return,
    };
    let stderr = std::io::stderr();
    let mut out = stderr.lock();
    for line in data.split_inclusive(|&b| b == b'\n') {
        let _ = out.write_all(prefix);
        let _ = out.write_all(line);
    }
}

/// `log_info!(logger, "...", args)`: formats only when verbose is on.
macro_rules! log_info {
    ($log:expr, $($arg:tt)*) => {
        if $log.enabled() {
            $log.info(format_args!($($arg)*));
        }
    };
}
pub(crate) use log_info;
