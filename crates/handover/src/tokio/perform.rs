//! `Easy::perform_async`: the engine driven by tokio's reactor and timer
//! instead of a thread blocked in `poll`.

use std::future::{poll_fn, Future as _};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use ::tokio::time::Sleep;

use super::readiness::Registrations;
use super::AsyncConnection;
use crate::easy::Easy;
use crate::engine::Transfer;
use crate::error::{Error, ErrorKind};

/// `drive` calls one poll may make before it gives the runtime back
/// (a transfer that always has bytes to move must not starve the others).
const DRIVES_PER_POLL: u32 = 32;

impl Easy {
    /// [`perform`](Easy::perform) for async code: the same transfer on the
    /// same engine, waiting on the tokio reactor and timer instead of
    /// blocking the thread. Needs a tokio runtime with IO and time enabled;
    /// works on the current-thread and the multi-thread runtime.
    ///
    /// Nothing here blocks the runtime: names are looked up on the
    /// engine's bounded resolver pool, and TLS configurations that need
    /// files (CA bundles, the system store, client keys) are built on
    /// tokio's blocking pool before the transfer starts. One exception:
    /// with [`netrc`](Easy::netrc) on, the `.netrc` file is read on the
    /// calling task.
    ///
    /// Cancellation-safe: dropping the future at any point closes every
    /// socket the transfer opened; the handle stays usable.
    ///
    /// Callbacks (debug, write, header) run on the runtime's thread: keep
    /// them short.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), handover::Error> {
    /// use handover::{ConnectOnly, Easy};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("https://example.com/")?;
    /// easy.connect_only(ConnectOnly::Connection)?;
    /// easy.perform_async().await?;
    /// println!("connected in {:?}", easy.info().appconnect_time());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn perform_async(&mut self) -> Result<(), Error> {
        if ::tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::new(
                ErrorKind::FailedInit,
                "perform_async needs a tokio runtime: call it from a task the runtime runs",
            ));
        }
        if let Some(build) = crate::tls::cold_configurations(self.options()) {
            ::tokio::task::spawn_blocking(build).await.map_err(|e| {
                Error::new(
                    ErrorKind::FailedInit,
                    format!("building the TLS configuration on the blocking pool failed: {e}"),
                )
            })?;
        }
        // Boxed: the future stays small (a few hundred bytes) until it
        // runs, so many spawned connects cost little before they start.
        let mut transfer = Box::new(self.begin()?);
        let result = drive(&mut transfer).await;
        self.end(&mut transfer, result)
    }

    /// A connect-only transfer, async, and its connection as a tokio
    /// stream: [`perform_async`](Easy::perform_async), then
    /// [`take_connection`](Easy::take_connection) wrapped in an
    /// [`AsyncConnection`]. Set [`connect_only`](Easy::connect_only) first.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use handover::{ConnectOnly, Easy};
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("https://example.com/")?;
    /// easy.proxy("http://proxy.example:3128")?;
    /// easy.proxy_auth(handover::Auth::new().digest(true).ntlm(true))?;
    /// easy.proxy_username("alice")?;
    /// easy.proxy_password("secret")?;
    /// easy.connect_only(ConnectOnly::Connection)?;
    /// let mut conn = easy.connect_async().await?;
    /// conn.write_all(b"HEAD / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n").await?;
    /// let mut answer = Vec::new();
    /// conn.read_to_end(&mut answer).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_async(&mut self) -> Result<AsyncConnection, Error> {
        if self.options().connect_only == crate::options::ConnectOnly::Off {
            // Said before any transfer: an ordinary one would run to its end
            // and leave nothing to hand over.
            return Err(Error::new(
                ErrorKind::UnsupportedProtocol,
                "connect_async needs connect_only(ConnectOnly::Connection) \
                 (or Headers) set on the handle first",
            ));
        }
        self.perform_async().await?;
        AsyncConnection::new(self.take_connection()?).map_err(|e| {
            Error::from_io(
                ErrorKind::UnrecoverablePoll,
                "registering the connection with the tokio reactor failed",
                &e,
            )
        })
    }
}

/// Runs one transfer to its end on the runtime.
pub(super) async fn drive(transfer: &mut Transfer) -> Result<(), Error> {
    let mut driver = Driver::default();
    poll_fn(|cx| driver.poll(transfer, cx)).await
}

/// What a transfer waits on between polls.
#[derive(Default)]
struct Driver {
    registrations: Registrations,
    /// The transfer's next deadline, armed on tokio's timer.
    sleep: Option<Pin<Box<Sleep>>>,
}

impl Driver {
    fn poll(&mut self, transfer: &mut Transfer, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        for _ in 0..DRIVES_PER_POLL {
            match transfer.drive(Instant::now()) {
                Ok(true) => return Poll::Ready(Ok(())),
                Ok(false) => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            if transfer.ready_now() {
                continue;
            }
            if let Err(e) = self.registrations.update(transfer) {
                return Poll::Ready(Err(e));
            }
            match self.registrations.poll_ready(cx) {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            if !self.arm_deadline(transfer, cx) {
                return Poll::Pending;
            }
        }
        // Still busy: let the runtime run others, and come back.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Sets the timer to the transfer's next deadline; true when it has
    /// passed already.
    fn arm_deadline(&mut self, transfer: &Transfer, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = transfer.next_deadline() else {
            return false;
        };
        let at = ::tokio::time::Instant::from_std(deadline);
        let sleep = match &mut self.sleep {
            Some(sleep) => {
                if sleep.deadline() != at {
                    sleep.as_mut().reset(at);
                }
                sleep
            }
            None => self.sleep.insert(Box::pin(::tokio::time::sleep_until(at))),
        };
        sleep.as_mut().poll(cx).is_ready()
    }
}
