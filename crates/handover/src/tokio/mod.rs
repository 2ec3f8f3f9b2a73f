//! The async face (feature `tokio`): the same engine, driven by tokio's
//! reactor and timer.
//!
//! - [`Easy::perform_async`](crate::Easy::perform_async) runs a transfer
//!   on the runtime: every proxy kind and authentication scheme, chains,
//!   happy eyeballs, TLS, connect-only = 1 and 2, WebSocket upgrades.
//! - [`Easy::connect_async`](crate::Easy::connect_async) hands the
//!   connection over as an [`AsyncConnection`], an `AsyncRead +
//!   AsyncWrite` stream for tokio-rustls-style code, tokio-tungstenite
//!   (`WebSocketStream::from_raw_socket`) or hyper.
//! - With feature `hyper`, [`Connector`] is a hyper-util connector (a
//!   `tower::Service<Uri>`) built from an `Easy`'s options.
//!
//! No thread per connection and no blocking call on a runtime thread:
//! sockets wait on the reactor, deadlines on `tokio::time`, names are
//! looked up on the engine's bounded resolver pool, and TLS configurations
//! that need files are built on tokio's blocking pool.
//!
//! # Examples
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use handover::{ConnectOnly, Easy};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! let mut easy = Easy::new();
//! easy.url("https://example.com/")?;
//! easy.proxy("socks5h://127.0.0.1:1080")?;
//! easy.connect_only(ConnectOnly::Connection)?;
//! let mut conn = easy.connect_async().await?;
//! conn.write_all(b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n").await?;
//! let mut page = Vec::new();
//! conn.read_to_end(&mut page).await?;
//! # Ok(())
//! # }
//! ```

#[cfg(feature = "hyper")]
mod hyper;
mod perform;
mod reactor;
mod readiness;
mod stream;

#[cfg(feature = "hyper")]
pub use self::hyper::{Connector, HyperConnection};
pub use stream::AsyncConnection;
