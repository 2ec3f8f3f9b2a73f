//! Helpers shared by the integration tests: patterned data and a
//! non-blocking echo exchange that works on any handed-over pipe.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use handover::{Connection, Easy, EasyHandle, Error};

/// Deterministic, non-repeating bytes, so a lost or swapped chunk shows.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Anything with libcurl's non-blocking send/recv.
pub trait Pipe {
    fn send(&mut self, data: &[u8]) -> Result<usize, Error>;
    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Error>;
    /// Wait a little for something to happen.
    fn idle(&mut self);
}

impl Pipe for Easy {
    fn send(&mut self, data: &[u8]) -> Result<usize, Error> {
        Easy::send(self, data)
    }
    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        Easy::recv(self, buf)
    }
    fn idle(&mut self) {
        let _ = self.wait_readable(Some(Duration::from_millis(5)));
    }
}

impl Pipe for Connection {
    fn send(&mut self, data: &[u8]) -> Result<usize, Error> {
        Connection::send(self, data)
    }
    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        Connection::recv(self, buf)
    }
    fn idle(&mut self) {
        let _ = self.wait_readable(Some(Duration::from_millis(5)));
    }
}

impl Pipe for &EasyHandle {
    fn send(&mut self, data: &[u8]) -> Result<usize, Error> {
        EasyHandle::send(self, data)
    }
    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        EasyHandle::recv(self, buf)
    }
    fn idle(&mut self) {
        let _ = self.wait_readable(Some(Duration::from_millis(5)));
    }
}

/// Sends `data` to an echo peer while reading the echo back, never
/// blocking in send or recv, and returns what came back.
pub fn echo<P: Pipe>(pipe: &mut P, data: &[u8]) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut sent = 0;
    let mut back = Vec::with_capacity(data.len());
    let mut buf = vec![0u8; 64 * 1024];
    while back.len() < data.len() {
        assert!(
            Instant::now() < deadline,
            "echo stalled: sent {sent}, got {}",
            back.len()
        );
        let mut moved = false;
        if sent < data.len() {
            let end = (sent + 64 * 1024).min(data.len());
            match pipe.send(&data[sent..end]) {
                Ok(n) => {
                    sent += n;
                    moved |= n > 0;
                }
                Err(e) if e.is_again() => {}
                Err(e) => panic!("send failed after {sent} bytes: {e:?}"),
            }
        }
        match pipe.recv(&mut buf) {
            Ok(0) => panic!("peer closed after {} of {} bytes", back.len(), data.len()),
            Ok(n) => {
                back.extend_from_slice(&buf[..n]);
                moved = true;
            }
            Err(e) if e.is_again() => {}
            Err(e) => panic!("recv failed after {} bytes: {e:?}", back.len()),
        }
        if !moved {
            pipe.idle();
        }
    }
    back
}

/// Receives until `n` bytes or end of stream, waiting on the handle.
pub fn recv_exact(easy: &mut Easy, n: usize) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while out.len() < n {
        assert!(
            Instant::now() < deadline,
            "recv_exact stalled at {}",
            out.len()
        );
        match easy.recv(&mut buf) {
            Ok(0) => break,
            Ok(k) => out.extend_from_slice(&buf[..k]),
            Err(e) if e.is_again() => {
                easy.wait_readable(Some(Duration::from_millis(100)))
                    .unwrap();
            }
            Err(e) => panic!("recv failed: {e:?}"),
        }
    }
    out
}

/// Sends the handle's response body (or WebSocket payload) into a buffer
/// the test can read after perform.
pub fn collect_body(easy: &mut Easy) -> Arc<Mutex<Vec<u8>>> {
    let body = Arc::new(Mutex::new(Vec::new()));
    let sink = body.clone();
    easy.write_function(move |data| {
        sink.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    })
    .unwrap();
    body
}

/// Turns verbose on and collects its output as libcurl's command line
/// prints it: `> ` sent headers, `< ` received headers, `* ` text.
pub fn capture_verbose(easy: &mut Easy) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    easy.verbose(true).unwrap();
    easy.debug_function(move |kind, data| {
        let prefix = match kind {
            handover::InfoType::HeaderOut => "> ",
            handover::InfoType::HeaderIn => "< ",
            _ => "* ",
        };
        sink.lock()
            .unwrap()
            .push_str(&format!("{prefix}{}", String::from_utf8_lossy(data)));
    })
    .unwrap();
    text
}

/// A GET of `url` trusting the CA in `ca_file`, configured by `configure`:
/// the body, or the error's code and text.
pub fn fetch_page(
    url: &str,
    ca_file: &std::path::Path,
    configure: impl FnOnce(&mut Easy),
) -> Result<String, (u32, String)> {
    let mut easy = Easy::new();
    easy.url(url).unwrap();
    easy.cainfo(ca_file).unwrap();
    easy.timeout(Duration::from_secs(20)).unwrap();
    let body = collect_body(&mut easy);
    configure(&mut easy);
    easy.perform().map_err(|e| (e.code(), e.to_string()))?;
    let page = String::from_utf8_lossy(&body.lock().unwrap()).into_owned();
    Ok(page)
}

/// `result` is the failure `code` and its text says `words`.
pub fn assert_fails(result: Result<String, (u32, String)>, code: u32, words: &str) {
    match result {
        Ok(page) => panic!("succeeded:\n{page}"),
        Err((got, text)) => {
            assert_eq!(got, code, "{text}");
            assert!(text.contains(words), "{words:?} missing from: {text}");
        }
    }
}
