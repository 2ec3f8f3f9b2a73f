//! A hyper-util connector over the async face (feature `hyper`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::hyper::rt::{Read, ReadBufCursor, Write};
use ::hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;

use super::AsyncConnection;
use crate::easy::Easy;
use crate::error::{Error, ErrorKind};
use crate::info::Info;
use crate::options::{ConnectOnly, Options};
use crate::share::Share;

/// A `tower::Service<Uri>` for `hyper_util::client::legacy::Client`: each
/// new connection is set up by handover from a template handle's options —
/// any proxy kind, chain and authentication scheme (Basic, Digest, NTLM,
/// Negotiate), HTTPS proxies, happy eyeballs, TLS to the origin — and
/// handed to hyper, which sends the requests and keeps the connection in
/// its pool.
///
/// Through an HTTP proxy every connection is a CONNECT tunnel, `http://`
/// targets included (libcurl's `CURLOPT_HTTPPROXYTUNNEL`): the proxy's
/// authentication happens once, on the CONNECT exchange handover runs,
/// whereas absolute-form requests would need hyper to answer every 407
/// itself, which it cannot (Digest, NTLM). So the connection always
/// reaches the origin, and [`Connected::is_proxied`] is `false`.
///
/// Every connection's handle shares one DNS cache and TLS session store
/// (a [`Share`]). The [`Info`] of the setup (timings, the proxy's CONNECT
/// code, the TLS details) rides in each response's extensions.
///
/// # Examples
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// use handover::{Auth, Easy};
/// use http_body_util::Empty;
/// use hyper::body::Bytes;
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
///
/// let mut template = Easy::new();
/// template.proxy("http://proxy.example:3128")?;
/// template.proxy_auth(Auth::new().digest(true).ntlm(true))?;
/// template.proxy_username("alice")?;
/// template.proxy_password("secret")?;
/// let connector = handover::tokio::Connector::new(&template);
///
/// let client = Client::builder(TokioExecutor::new()).build::<_, Empty<Bytes>>(connector);
/// let response = client.get("https://example.com/".parse()?).await?;
/// println!("{}", response.status());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Connector {
    opts: std::sync::Arc<Options>,
    max_connects: usize,
    share: Share,
}

impl Connector {
    /// A connector that sets connections up with `template`'s options
    /// (its URL and connect-only mode are set per connection).
    pub fn new(template: &Easy) -> Connector {
        let mut share = Share::new();
        share.share_dns(true).share_ssl_sessions(true);
        Connector {
            opts: std::sync::Arc::new(template.options().clone()),
            max_connects: template.max_connects,
            share,
        }
    }

    /// The handle for one connection to `uri`.
    fn handle_for(&self, uri: &Uri) -> Result<Easy, Error> {
        let scheme = uri.scheme_str().ok_or_else(|| {
            Error::new(
                ErrorKind::UrlMalformat,
                format!("the connector was given '{uri}', which has no scheme"),
            )
        })?;
        let authority = uri.authority().ok_or_else(|| {
            Error::new(
                ErrorKind::UrlMalformat,
                format!("the connector was given '{uri}', which has no host"),
            )
        })?;
        let mut easy = Easy::with_options((*self.opts).clone(), self.max_connects);
        easy.share(Some(&self.share))?;
        easy.url(&format!("{scheme}://{authority}/"))?;
        easy.connect_only(ConnectOnly::Connection)?;
        easy.http_proxy_tunnel(true)?;
        Ok(easy)
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = HyperConnection;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<HyperConnection, Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let easy = self.handle_for(&uri);
        Box::pin(async move {
            let mut easy = easy?;
            let conn = easy.connect_async().await?;
            Ok(HyperConnection {
                io: TokioIo::new(conn),
                info: easy.info().clone(),
            })
        })
    }
}

/// A connection [`Connector`] set up, as hyper reads and writes it.
#[derive(Debug)]
pub struct HyperConnection {
    io: TokioIo<AsyncConnection>,
    info: Info,
}

impl HyperConnection {
    /// The setup's information: timings, the proxy's CONNECT code, TLS.
    pub fn info(&self) -> &Info {
        &self.info
    }

    /// The stream underneath.
    pub fn into_inner(self) -> AsyncConnection {
        self.io.into_inner()
    }
}

impl Connection for HyperConnection {
    fn connected(&self) -> Connected {
        let connected = Connected::new().proxy(false).extra(self.info.clone());
        if self.info.alpn_protocol() == Some(b"h2".as_slice()) {
            connected.negotiated_h2()
        } else {
            connected
        }
    }
}

impl Read for HyperConnection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl Write for HyperConnection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
