//! Body: an ordinary transfer reads the response body through its framing
//! (Content-Length, chunked, until close) and hands it to the write
//! callback (or standard output). A clean end with keep-alive leaves the
//! connection for the pool.

use super::request::deliver;
use super::{Ending, Phase, Transfer, DRIVE_BYTES};
use crate::error::{Error, ErrorKind};
use crate::layer::Io;
use crate::verbose::log_info;

impl Transfer {
    /// Moves body bytes; `true` once the body is complete.
    pub(super) fn body_step(&mut self, now: std::time::Instant) -> Result<bool, Error> {
        if let Some(speed) = &mut self.speed {
            speed.check(now)?;
        }
        let Phase::Body {
            stack,
            reader,
            keep_alive,
        } = &mut self.phase
        else {
            return Ok(true);
        };
        let write = self.http.as_ref().and_then(|h| h.write.as_ref());
        let from = &self.target.connect_host;
        let mut input = [0u8; 16 * 1024];
        let mut out = [0u8; 16 * 1024];
        // CURLOPT_BUFFERSIZE: no write callback call gets more.
        let out_room = self.settings.buffer_size.min(out.len());
        let mut moved = 0usize;
        // A request body that goes on after the answer moves too.
        let pump = |stack: &mut crate::layer::Stack| match stack.flush() {
            Err(e) if e.is_again() => Ok(()),
            other => other,
        };
        while !reader.is_done() {
            if stack.uploading() {
                pump(stack)?;
            }
            // A fast sender must not keep one drive going for ever: yield
            // so deadlines and other transfers run.
            if moved >= DRIVE_BYTES {
                return Ok(false);
            }
            let room = match &mut self.rate {
                Some(rate) => rate.allowance(now).min(input.len()),
                None => input.len(),
            };
            if room == 0 {
                // The second's budget is spent: back at its end.
                return Ok(false);
            }
            let n = match stack.recv(input.get_mut(..room).unwrap_or_default()) {
                Ok(n) => n,
                Err(e) if e.is_again() => return Ok(false),
                Err(e) => return Err(e),
            };
            moved += n;
            if let Some(speed) = &mut self.speed {
                speed.received(n);
            }
            if let Some(rate) = &mut self.rate {
                rate.used(n);
            }
            if n == 0 {
                reader.on_close().map_err(|e| {
                    Error::new(ErrorKind::PartialFile, format!("{e} (from {from})"))
                })?;
                *keep_alive = false;
                break;
            }
            let mut rest = input.get(..n).unwrap_or_default();
            loop {
                let room = out.get_mut(..out_room).unwrap_or_default();
                let (used, produced) = reader.read(rest, room).map_err(|e| {
                    Error::new(
                        ErrorKind::RecvError,
                        format!("bad response body from {from}: {e}"),
                    )
                })?;
                if produced > 0 {
                    deliver(write, out.get(..produced).unwrap_or_default())?;
                    self.info.size_download += produced as u64;
                }
                rest = rest.get(used..).unwrap_or_default();
                if reader.is_done() {
                    if !rest.is_empty() {
                        // Bytes after the body: the connection is not clean.
                        *keep_alive = false;
                    }
                    break;
                }
                if rest.is_empty() || (used == 0 && produced == 0) {
                    break;
                }
            }
        }
        if stack.uploading() {
            pump(stack)?;
        }
        // What went out after the answer counts too.
        stack.report(&mut self.info);
        if stack.uploading() {
            // The answer is in; the transfer ends with the upload.
            return Ok(false);
        }
        let Phase::Body {
            mut stack,
            keep_alive,
            ..
        } = std::mem::replace(&mut self.phase, Phase::Done(Ending::Closed))
        else {
            return Ok(true);
        };
        if keep_alive && !self.settings.forbid_reuse && stack.pop_idle() {
            log_info!(
                self.settings.log,
                "Connection to host {} left intact",
                self.target.connect_host
            );
            self.phase = Phase::Done(Ending::Pool(stack));
        } else {
            log_info!(self.settings.log, "Closing connection");
        }
        Ok(true)
    }
}
