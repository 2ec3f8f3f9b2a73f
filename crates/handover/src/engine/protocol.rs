//! The protocol's own connect phase, after TCP, the proxies and any TLS:
//! the FTP login as a handshake layer on top of the stack. When the
//! protocol starts TLS mid-way (`AUTH TLS`), the machine stops at the
//! server's go-ahead and setup puts a TLS layer under it
//! ([`Stack::start_tls`](crate::layer::Stack::start_tls)).
//!
//! ```text
//!   socket ─ proxies ─ [TLS: ftps] ─ FtpLogin ── StartTls ──> socket ─ proxies ─ TLS ─ FtpLogin
//! ```
//!
//! The phase runs only when the connection reaches the server: `ftp://`
//! through an HTTP proxy without a tunnel ends at the proxy, as libcurl.

use handover_proto::ftp::{FtpConfig, FtpLogin};
use handover_proto::pingpong::{ReplyError, ReplyErrorKind};
use handover_proto::url::{Scheme, Url};

use super::server_auth::login_credentials;
use crate::error::{Error, ErrorKind};
use crate::handshake::{Handshake, HandshakeLayer};
use crate::info::Info;
use crate::layer::Layer;
use crate::options::Options;

/// The connect phase a transfer runs once connected.
#[derive(Clone, Debug)]
pub(super) enum ProtocolPhase {
    /// The FTP login.
    Ftp(FtpConfig),
}

impl ProtocolPhase {
    /// The phase for `scheme`, from the options and the URL's credentials;
    /// `None` for schemes without one (HTTP, telnet, MQTT, ...).
    pub(super) fn plan(
        opts: &Options,
        url: &Url,
        scheme: Scheme,
    ) -> Result<Option<ProtocolPhase>, Error> {
        let phase = match scheme {
            Scheme::Ftp | Scheme::Ftps => {
                let login = login_credentials(&opts.auth, url);
                let config = FtpConfig {
                    password: login
                        .as_ref()
                        .map(|c| c.password.clone())
                        .unwrap_or_default(),
                    user: login.map(|c| c.user),
                    account: opts.ftp.account.clone(),
                    alternative_to_user: opts.ftp.alternative_to_user.clone(),
                    use_ssl: opts.use_ssl,
                    ssl_auth: opts.ftp.ssl_auth,
                    implicit_tls: scheme == Scheme::Ftps,
                };
                // Checked now: a bad option fails before connecting.
                FtpLogin::new(config.clone()).map_err(|e| reply_error(&e, "the FTP login"))?;
                ProtocolPhase::Ftp(config)
            }
            _ => return Ok(None),
        };
        Ok(Some(phase))
    }

    /// True when the phase may ask for TLS on a clear connection, so a TLS
    /// configuration must be ready.
    pub(super) fn may_start_tls(&self) -> bool {
        match self {
            ProtocolPhase::Ftp(config) => config.use_ssl.wanted() && !config.implicit_tls,
        }
    }

    /// The phase's layer, talking to `peer` (`host:port`, for messages).
    pub(super) fn layer(&self, hop: usize, peer: String) -> Result<Box<dyn Layer>, Error> {
        match self {
            ProtocolPhase::Ftp(config) => {
                let machine =
                    FtpLogin::new(config.clone()).map_err(|e| reply_error(&e, "the FTP login"))?;
                Ok(Box::new(HandshakeLayer::new(machine, hop, peer)))
            }
        }
    }
}

/// A connect phase's failure as a handover error, with libcurl's code.
fn reply_error(e: &ReplyError, during: &str) -> Error {
    let kind = match e.kind {
        ReplyErrorKind::WeirdReply | ReplyErrorKind::TooLarge => ErrorKind::WeirdServerReply,
        ReplyErrorKind::AccessDenied => ErrorKind::RemoteAccessDenied,
        ReplyErrorKind::LoginDenied => ErrorKind::LoginDenied,
        ReplyErrorKind::UseSslFailed => ErrorKind::UseSslFailed,
        ReplyErrorKind::WeirdPassReply => ErrorKind::FtpWeirdPassReply,
        ReplyErrorKind::Closed => ErrorKind::RecvError,
        ReplyErrorKind::BadOption => ErrorKind::UrlMalformat,
    };
    Error::new(kind, format!("{during}: {}", e.message)).with_source(e.clone())
}

impl Handshake for FtpLogin {
    type App = ();

    fn to_error(&self, e: &ReplyError, peer: &str) -> Error {
        reply_error(e, &format!("FTP login at {peer}"))
    }

    fn step(&self, peer: &str) -> String {
        format!("in the FTP login at {peer}")
    }

    fn report(&self, info: &mut Info) {
        info.response_code = u32::from(self.response_code());
    }
}
