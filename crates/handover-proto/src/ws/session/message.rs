//! Whole messages on the session (tungstenite's face): fragments joined
//! into the message they make, text checked for UTF-8, a size limit, and
//! the close rules — nothing after our CLOSE, no data after the server's.
//!
//! ```text
//!   header ──> frame_started (data after CLOSE? over the limit? ──> discard to the final fragment)
//!     └──> payload ──> assembly ──> frame_complete ──┬──> Text (UTF-8) | Binary   at the final fragment
//!                                                     └──> Ping | Pong | Close    any time, in between
//! ```

use super::{Flags, Frame, Session, WsError, WsErrorKind, MAX_CONTROL_PAYLOAD};

/// One WebSocket message.
///
/// # Examples
///
/// ```
/// use handover_proto::ws::{Message, Options, Session};
///
/// let mut session = Session::new(Options::empty(), [7; 32]);
/// session.receive(b"\x81\x02hi\x88\x02\x03\xe8");
/// assert_eq!(session.recv_message()?, Some(Message::Text("hi".into())));
/// assert_eq!(session.recv_message()?, Some(Message::Close(Some((1000, String::new())))));
/// # Ok::<(), handover_proto::ws::WsError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message. Received ones are checked for UTF-8.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping. Received ones are seen only with `NOAUTOPONG`; otherwise
    /// the session answers them itself.
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// A close, with its status code and reason if it carried one.
    Close(Option<(u16, String)>),
}

impl Session {
    /// The next whole message: fragments joined (control frames between
    /// them are returned first), a text message checked for UTF-8. `None`:
    /// every byte held was used; give the session more. PINGs are answered
    /// and not returned unless `NOAUTOPONG`.
    ///
    /// # Errors
    ///
    /// [`WsErrorKind::Protocol`] for a broken frame, a data frame after the
    /// server's CLOSE, or a CLOSE with a 1-byte payload;
    /// [`WsErrorKind::InvalidUtf8`] for a text message or close reason that
    /// is not UTF-8 (the message is dropped); [`WsErrorKind::TooLarge`] for
    /// a message over [`set_max_message`](Session::set_max_message) (its
    /// frames are read and dropped; the next call goes on after it);
    /// [`WsErrorKind::BadArgument`] in raw mode.
    ///
    /// # Examples
    ///
    /// A text message in two fragments with a PONG between them, fed one
    /// byte at a time:
    ///
    /// ```
    /// use handover_proto::ws::{Message, Options, Session};
    ///
    /// let wire = b"\x01\x03hel\x8a\x01p\x80\x02lo";
    /// let mut session = Session::new(Options::empty(), [0; 32]);
    /// let mut messages = Vec::new();
    /// for byte in wire {
    ///     session.receive(&[*byte]);
    ///     while let Some(message) = session.recv_message()? {
    ///         messages.push(message);
    ///     }
    /// }
    /// assert_eq!(messages, [Message::Pong(b"p".to_vec()), Message::Text("hello".into())]);
    /// # Ok::<(), handover_proto::ws::WsError>(())
    /// ```
    pub fn recv_message(&mut self) -> Result<Option<Message>, WsError> {
        if self.is_raw() {
            return Err(WsError::new(
                WsErrorKind::BadArgument,
                "raw mode WebSocket: no messages; use recv",
            ));
        }
        let mut scratch = [0; MAX_CONTROL_PAYLOAD];
        loop {
            let Some(current) = self.decoder.current() else {
                // Between frames: the next header, no payload yet.
                let Some(frame) = self.decode(&mut [])? else {
                    return Ok(None);
                };
                self.frame_started(frame)?;
                if frame.bytesleft == 0 {
                    if let Some(message) = self.frame_complete(frame)? {
                        return Ok(Some(message));
                    }
                }
                continue;
            };
            if self.start == self.end {
                return Ok(None);
            }
            let frame = if current.flags.is_control() || self.discarding {
                self.decode(&mut scratch)?
            } else {
                // Payload goes straight into the message.
                let mut data = std::mem::take(&mut self.assembly);
                let have = data.len();
                let want = usize::try_from(current.bytesleft)
                    .unwrap_or(usize::MAX)
                    .min(self.end - self.start);
                data.resize(have + want, 0);
                let got = self.decode(data.get_mut(have..).unwrap_or_default());
                let len = match &got {
                    Ok(Some(frame)) => frame.len,
                    _ => 0,
                };
                data.truncate(have + len);
                self.assembly = data;
                got?
            };
            let Some(frame) = frame else {
                return Ok(None);
            };
            if frame.bytesleft == 0 {
                if let Some(message) = self.frame_complete(frame)? {
                    return Ok(Some(message));
                }
            }
        }
    }

    /// Checks a data frame's header against the message rules.
    fn frame_started(&mut self, frame: Frame) -> Result<(), WsError> {
        if frame.flags.is_control() {
            return Ok(());
        }
        if self.close_received {
            return Err(WsError::new(
                WsErrorKind::Protocol,
                format!(
                    "WebSocket server sent a data frame ({:?}) after its CLOSE",
                    frame.flags
                ),
            ));
        }
        let total = (self.assembly.len() as u64).saturating_add(frame.bytesleft);
        if !self.discarding && total > self.max_message as u64 {
            self.assembly = Vec::new();
            self.discarding = true;
            return Err(WsError::new(
                WsErrorKind::TooLarge,
                format!("WebSocket message larger than {} bytes", self.max_message),
            ));
        }
        Ok(())
    }

    /// A frame is complete: a message, if it ends one.
    fn frame_complete(&mut self, frame: Frame) -> Result<Option<Message>, WsError> {
        if frame.flags.is_control() {
            let payload = self.last_control.as_slice().to_vec();
            return Ok(match frame.flags {
                Flags::PING if self.autopong() => None,
                Flags::PING => Some(Message::Ping(payload)),
                Flags::PONG => Some(Message::Pong(payload)),
                _ => Some(Message::Close(parse_close(&payload)?)),
            });
        }
        if frame.flags.contains(Flags::CONT) {
            return Ok(None);
        }
        if self.discarding {
            self.discarding = false;
            return Ok(None);
        }
        let data = std::mem::take(&mut self.assembly);
        if !frame.flags.contains(Flags::TEXT) {
            return Ok(Some(Message::Binary(data)));
        }
        match String::from_utf8(data) {
            Ok(text) => Ok(Some(Message::Text(text))),
            Err(e) => Err(WsError::new(
                WsErrorKind::InvalidUtf8,
                format!(
                    "WebSocket server sent a text message of {} bytes that is not UTF-8 \
                     (bad byte at {})",
                    e.as_bytes().len(),
                    e.utf8_error().valid_up_to()
                ),
            )),
        }
    }

    /// Queues one whole message as one frame (a CLOSE with its code and
    /// reason); it goes out through [`transmit`](Session::transmit). A
    /// second CLOSE is ignored.
    ///
    /// # Errors
    ///
    /// [`WsErrorKind::BadArgument`] after our CLOSE, while a frame or a
    /// fragmented message sent with [`start_send`](Session::start_send) is
    /// unfinished, or in raw mode; [`WsErrorKind::TooLarge`] for a control
    /// frame over 125 bytes (a close reason over 123).
    ///
    /// # Examples
    ///
    /// ```
    /// use handover_proto::ws::{CloseState, Message, Options, Session};
    ///
    /// let mut session = Session::new(Options::empty(), [0; 32]);
    /// session.send_message(&Message::Close(Some((1000, "bye".into()))))?;
    /// assert_eq!(&session.transmit()[..2], b"\x88\x85"); // CLOSE, masked, 5 bytes
    /// assert_eq!(session.close_state(), CloseState::CloseSent);
    /// assert!(session.send_message(&Message::Text("late".into())).is_err());
    /// # Ok::<(), handover_proto::ws::WsError>(())
    /// ```
    pub fn send_message(&mut self, message: &Message) -> Result<(), WsError> {
        let bad = |what: &str| Err(WsError::new(WsErrorKind::BadArgument, what.to_owned()));
        if self.is_raw() {
            return bad("raw mode WebSocket: no messages; use send");
        }
        if !self.call.is_idle() {
            return bad("a WebSocket frame sent with ws_send is not finished");
        }
        let close_payload;
        let (flags, payload): (Flags, &[u8]) = match message {
            Message::Text(text) => (Flags::TEXT, text.as_bytes()),
            Message::Binary(data) => (Flags::BINARY, data),
            Message::Ping(data) => (Flags::PING, data),
            Message::Pong(data) => (Flags::PONG, data),
            Message::Close(None) => (Flags::CLOSE, &[]),
            Message::Close(Some((code, reason))) => {
                if reason.len() > MAX_CONTROL_PAYLOAD - 2 {
                    return Err(WsError::new(
                        WsErrorKind::TooLarge,
                        "a close reason holds at most 123 bytes",
                    ));
                }
                close_payload = [&code.to_be_bytes()[..], reason.as_bytes()].concat();
                (Flags::CLOSE, &close_payload)
            }
        };
        if self.close_sent {
            if flags == Flags::CLOSE {
                return Ok(());
            }
            return bad("WebSocket send after our CLOSE");
        }
        if !flags.is_control() && self.call.message_open() {
            return bad("a fragmented WebSocket message sent with ws_send is not finished");
        }
        self.promote()?;
        self.queue_frame(flags, payload)?;
        if flags == Flags::CLOSE {
            self.close_sent = true;
            self.owed_close = None;
        }
        Ok(())
    }
}

/// A CLOSE payload: nothing, or a status code and a UTF-8 reason.
fn parse_close(payload: &[u8]) -> Result<Option<(u16, String)>, WsError> {
    let (code, reason) = match payload {
        [] => return Ok(None),
        [hi, lo, reason @ ..] => (u16::from_be_bytes([*hi, *lo]), reason),
        [_] => {
            return Err(WsError::new(
                WsErrorKind::Protocol,
                "WebSocket server sent a CLOSE with a 1-byte payload (a status code takes 2)",
            ))
        }
    };
    match std::str::from_utf8(reason) {
        Ok(reason) => Ok(Some((code, reason.to_owned()))),
        Err(_) => Err(WsError::new(
            WsErrorKind::InvalidUtf8,
            format!("WebSocket server sent a CLOSE ({code}) whose reason is not UTF-8"),
        )),
    }
}
