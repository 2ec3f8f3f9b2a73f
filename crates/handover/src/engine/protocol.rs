//! The protocol's own connect phase, after TCP, the proxies and any TLS:
//! the FTP login, the IMAP, POP3 and SMTP greetings and logins, each a
//! handshake layer on top of the stack. When the protocol starts TLS
//! mid-way (`AUTH TLS`, `STARTTLS`, `STLS`), the machine stops at the
//! server's go-ahead and setup puts a TLS layer under it
//! ([`Stack::start_tls`](crate::layer::Stack::start_tls)).
//!
//! ```text
//!   socket ─ proxies ─ [TLS: ftps] ─ FtpLogin ── StartTls ──> socket ─ proxies ─ TLS ─ FtpLogin
//! ```
//!
//! The phase runs only when the connection reaches the server: `ftp://`
//! through an HTTP proxy without a tunnel ends at the proxy, as libcurl.

use handover_proto::auth::Entropy;
use handover_proto::ftp::{FtpConfig, FtpLogin};
use handover_proto::imap::{Imap, ImapConfig};
use handover_proto::pingpong::{ReplyError, ReplyErrorKind};
use handover_proto::pop3::{Pop3, Pop3Config};
use handover_proto::sasl::SaslOptions;
use handover_proto::smtp::{Smtp, SmtpConfig};
use handover_proto::url::{Scheme, Url};

use super::credentials::login_credentials;
use super::route_stack::entropy;
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
    /// The IMAP greeting, capabilities and (with credentials) login.
    Imap(ImapConfig),
    /// The POP3 greeting, capabilities and (with credentials) login.
    Pop3(Pop3Config),
    /// The SMTP greeting, `EHLO` and (with credentials) `AUTH`.
    Smtp(SmtpConfig),
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
                let login = login_credentials(&opts.auth, url, scheme)?;
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
                ProtocolPhase::Ftp(config)
            }
            Scheme::Imap | Scheme::Imaps => ProtocolPhase::Imap(ImapConfig {
                host: url.host.clone(),
                port: url.port.unwrap_or(scheme.default_port()),
                credentials: login_credentials(&opts.auth, url, scheme)?,
                use_ssl: opts.use_ssl,
                implicit_tls: scheme.uses_tls(),
                login_options: opts.mail.login_options.clone(),
                sasl: sasl_options(opts),
                connection_id: 0,
            }),
            Scheme::Pop3 | Scheme::Pop3s => ProtocolPhase::Pop3(Pop3Config {
                host: url.host.clone(),
                port: url.port.unwrap_or(scheme.default_port()),
                credentials: login_credentials(&opts.auth, url, scheme)?,
                use_ssl: opts.use_ssl,
                implicit_tls: scheme.uses_tls(),
                login_options: opts.mail.login_options.clone(),
                sasl: sasl_options(opts),
            }),
            Scheme::Smtp | Scheme::Smtps => ProtocolPhase::Smtp(SmtpConfig {
                host: url.host.clone(),
                port: url.port.unwrap_or(scheme.default_port()),
                ehlo_name: ehlo_name(url),
                credentials: login_credentials(&opts.auth, url, scheme)?,
                use_ssl: opts.use_ssl,
                implicit_tls: scheme.uses_tls(),
                login_options: opts.mail.login_options.clone(),
                sasl: sasl_options(opts),
            }),
            _ => return Ok(None),
        };
        // Checked now: a bad option fails before connecting. The check
        // needs no randomness: the machine built here is dropped.
        let unused = |_: &str| {
            Ok(Entropy {
                cnonce: String::new(),
                ntlm_client_challenge: [0; 8],
                ntlm_timestamp: 0,
            })
        };
        phase.build(0, String::new(), &unused)?;
        Ok(Some(phase))
    }

    /// True when the phase may ask for TLS on a clear connection, so a TLS
    /// configuration must be ready.
    pub(super) fn may_start_tls(&self) -> bool {
        let (use_ssl, implicit) = match self {
            ProtocolPhase::Ftp(c) => (c.use_ssl, c.implicit_tls),
            ProtocolPhase::Imap(c) => (c.use_ssl, c.implicit_tls),
            ProtocolPhase::Pop3(c) => (c.use_ssl, c.implicit_tls),
            ProtocolPhase::Smtp(c) => (c.use_ssl, c.implicit_tls),
        };
        use_ssl.wanted() && !implicit
    }

    /// The phase's layer, talking to `peer` (`host:port`, for messages).
    /// IMAP's tags always start at `A001`: libcurl's letter follows its
    /// connection number, which is 0 for a handle's first connection,
    /// where handover's numbers count per process; an application that
    /// goes on with the session can rely on `A`.
    pub(super) fn layer(&self, hop: usize, peer: String) -> Result<Box<dyn Layer>, Error> {
        self.build(hop, peer, &entropy)
    }

    /// The layer, with `entropy` giving each authentication its randomness.
    fn build(
        &self,
        hop: usize,
        peer: String,
        entropy: &dyn Fn(&str) -> Result<Entropy, Error>,
    ) -> Result<Box<dyn Layer>, Error> {
        Ok(match self {
            ProtocolPhase::Ftp(config) => {
                let machine =
                    FtpLogin::new(config.clone()).map_err(|e| reply_error(&e, "the FTP login"))?;
                Box::new(HandshakeLayer::new(machine, hop, peer))
            }
            ProtocolPhase::Imap(config) => {
                let machine = Imap::new(config.clone(), entropy("IMAP authentication")?)
                    .map_err(|e| reply_error(&e, "the IMAP login"))?;
                Box::new(HandshakeLayer::new(machine, hop, peer))
            }
            ProtocolPhase::Pop3(config) => {
                let machine = Pop3::new(config.clone(), entropy("POP3 authentication")?)
                    .map_err(|e| reply_error(&e, "the POP3 login"))?;
                Box::new(HandshakeLayer::new(machine, hop, peer))
            }
            ProtocolPhase::Smtp(config) => {
                let machine = Smtp::new(config.clone(), entropy("SMTP authentication")?)
                    .map_err(|e| reply_error(&e, "the SMTP greeting"))?;
                Box::new(HandshakeLayer::new(machine, hop, peer))
            }
        })
    }
}

/// The SASL options from the handle's.
fn sasl_options(opts: &Options) -> SaslOptions {
    SaslOptions {
        authzid: opts.mail.sasl_authzid.clone(),
        initial_response: opts.mail.sasl_ir,
        bearer: opts.auth.bearer.clone(),
        service_name: opts.mail.service_name.clone(),
        http_auth: opts.auth.methods.mask(),
    }
}

/// The name SMTP's `EHLO` gives: the URL's path (`smtp://host/domain`),
/// else the machine's host name, else `localhost`, as libcurl.
fn ehlo_name(url: &Url) -> String {
    let path = url.decoded_path().unwrap_or_default();
    let domain = path.trim_start_matches('/');
    if !domain.is_empty() {
        return domain.to_owned();
    }
    crate::sys::host_name().unwrap_or_else(|| "localhost".to_owned())
}

/// A connect phase's failure as a handover error, with libcurl's code.
fn reply_error(e: &ReplyError, during: &str) -> Error {
    let kind = match e.kind {
        ReplyErrorKind::WeirdReply => ErrorKind::WeirdServerReply,
        ReplyErrorKind::TooLarge => ErrorKind::TooLarge,
        ReplyErrorKind::AccessDenied => ErrorKind::RemoteAccessDenied,
        ReplyErrorKind::LoginDenied => ErrorKind::LoginDenied,
        ReplyErrorKind::UseSslFailed => ErrorKind::UseSslFailed,
        ReplyErrorKind::WeirdPassReply => ErrorKind::FtpWeirdPassReply,
        ReplyErrorKind::Closed => ErrorKind::RecvError,
        ReplyErrorKind::BadOption => ErrorKind::UrlMalformat,
    };
    Error::new(kind, format!("{during}: {}", e.message)).with_source(e.clone())
}

/// The engine's side of a connect-phase machine: its failures named for
/// the protocol and the server, the step it performs, and, for the
/// protocols with reply codes, `CURLINFO_RESPONSE_CODE`.
macro_rules! phase_handshake {
    ($machine:ty, $name:literal, $step_name:literal, $step:literal $(, $code:ident)?) => {
        impl Handshake for $machine {
            type App = ();

            fn to_error(&self, e: &ReplyError, peer: &str) -> Error {
                reply_error(e, &format!("{} at {peer}", $name))
            }

            fn step(&self, peer: &str) -> String {
                format!("in the {} {} at {peer}", $name, $step)
            }

            fn name(&self) -> &'static str {
                $step_name
            }

            fn detail(&self) -> String {
                $step.to_owned()
            }

            $(
                fn report(&self, info: &mut Info) {
                    info.response_code = u32::from(self.$code());
                }
            )?
        }
    };
}

phase_handshake!(FtpLogin, "FTP", "ftp", "login", response_code);
phase_handshake!(Imap, "IMAP", "imap", "greeting and login");
phase_handshake!(Pop3, "POP3", "pop3", "greeting and login");
phase_handshake!(Smtp, "SMTP", "smtp", "greeting", response_code);
