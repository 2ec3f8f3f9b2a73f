//! WsStream: an ordinary ws/wss transfer hands each frame's payload to the
//! write callback with its meta (`ws::meta()`), until the server closes
//! after its CLOSE. The session (crate::ws) decodes, answers PINGs and
//! echoes the server's CLOSE.

use super::request::deliver;
use super::{Ending, Phase, Transfer, DRIVE_BYTES};
use crate::error::Error;
use crate::ws::Streamed;

impl Transfer {
    /// Moves frames; `true` once the stream has ended.
    pub(super) fn ws_step(&mut self) -> Result<bool, Error> {
        let Phase::WsStream(stack, session) = &mut self.phase else {
            return Ok(true);
        };
        let write = self.http.as_ref().and_then(|h| h.write.as_ref());
        let mut buf = [0u8; 16 * 1024];
        let mut moved = 0usize;
        loop {
            // A fast sender must not keep one drive going for ever: yield
            // so deadlines and other transfers run.
            if moved >= DRIVE_BYTES {
                return Ok(false);
            }
            match session.stream(stack, &mut buf) {
                Ok(Streamed::Bytes(n, meta)) => {
                    let data = buf.get(..n).unwrap_or_default();
                    match meta {
                        Some(frame) => {
                            crate::ws::with_current_frame(frame, || deliver(write, data))?
                        }
                        None => deliver(write, data)?,
                    }
                    self.info.size_download += n as u64;
                    moved += n.max(1);
                }
                Ok(Streamed::End) => {
                    self.phase = Phase::Done(Ending::Closed);
                    return Ok(true);
                }
                Err(e) if e.is_again() => return Ok(false),
                Err(e) => return Err(e),
            }
        }
    }
}
