//! The server's authentication rounds (libcurl's `Curl_http_auth_act`):
//! the answer that goes with each request, what a 401 asks for, and the
//! next round — on the same connection once the 401's body is read away,
//! or on a new one when the server closes. The rounds themselves (which
//! method, the Digest and NTLM answers) are handover-proto's
//! [`AuthMemory`], shared with the proxy's 407 loop. AWS SigV4 is no round:
//! each request is signed before it goes out (handover-proto's
//! [`sigv4`](handover_proto::auth::sigv4)), with the clock's time.
//!
//! ```text
//!   request ──> 401 + WWW-Authenticate ──> challenged() ──┬─ answer ──> drain body ──> request again
//!                                                         │             (or reconnect)
//!                                                         └─ refusal ─> the 401 is the answer
//! ```

use std::time::{Instant, SystemTime};

use handover_proto::auth::sigv4::{Payload, Request, SigV4, SigV4Error};
use handover_proto::auth::{parse_challenges, AuthMask, AuthMemory, Credentials, Refusal};
use handover_proto::http1::{BodyReader, ResponseHead};
use handover_proto::url::{Scheme, Url};

use super::credentials::login_credentials;
use super::request::{BodyPlan, HttpPlan};
use super::{Phase, Transfer, DRIVE_BYTES};
use crate::error::{Error, ErrorKind};
use crate::layer::{Io, Stack};
use crate::options::ServerAuth;
use crate::verbose::{log_info, Logger};

/// What the server's authentication can answer with.
#[derive(Clone)]
pub(crate) struct ServerCredentials {
    /// The user and password (from the options, else the URL).
    credentials: Option<Credentials>,
    /// `CURLOPT_HTTPAUTH`.
    allowed: AuthMask,
    /// `CURLOPT_XOAUTH2_BEARER`.
    bearer: Option<String>,
    /// `CURLOPT_AWS_SIGV4`.
    aws_sigv4: Option<String>,
}

impl ServerCredentials {
    /// From the handle's options, the URL's user info and a `.netrc`
    /// file; `None` when there is nothing to authenticate with.
    pub(super) fn from_options(
        auth: &ServerAuth,
        url: &Url,
        scheme: Scheme,
    ) -> Result<Option<ServerCredentials>, Error> {
        let credentials = login_credentials(auth, url, scheme)?;
        if credentials.is_none() && auth.bearer.is_none() {
            return Ok(None);
        }
        Ok(Some(ServerCredentials {
            credentials,
            allowed: auth.methods.mask(),
            bearer: auth.bearer.clone(),
            aws_sigv4: auth.aws_sigv4.clone(),
        }))
    }
}

/// The request header an authentication answer goes in (none when there is
/// no answer), with the method it used recorded in `used`
/// (`CURLINFO_HTTPAUTH_USED` or `_PROXYAUTH_USED`); a refusal is
/// `CURLE_LOGIN_DENIED` naming `whom`.
fn header_of(
    answered: Result<Option<(String, handover_proto::auth::Method)>, Refusal>,
    name: &str,
    used: &mut u32,
    whom: &str,
) -> Result<Vec<(String, String)>, Error> {
    match answered {
        Ok(answer) => Ok(answer
            .map(|(value, method)| {
                *used = method.bit().0;
                (name.to_owned(), value)
            })
            .into_iter()
            .collect()),
        Err(refusal) => Err(Error::new(
            ErrorKind::LoginDenied,
            format!(
                "cannot authenticate with {whom}: {}",
                refusal_text(&refusal)
            ),
        )),
    }
}

/// The words of a refusal, for the verbose line that gives up.
fn refusal_text(refusal: &Refusal) -> String {
    match refusal {
        Refusal::NoCredentials { .. } => "no credentials".to_owned(),
        Refusal::TooManyRounds => "too many rounds".to_owned(),
        Refusal::Rejected { method } => format!("the {} credentials were rejected", method.name()),
        Refusal::NoMethod { offered } => format!(
            "no allowed method among those offered ({})",
            handover_proto::auth::mask_names(*offered)
        ),
        Refusal::BadChallenge { method, detail } => {
            format!("bad {} challenge: {detail}", method.name())
        }
        Refusal::AnswerFailed { method, detail } => {
            format!("the {} answer failed: {detail}", method.name())
        }
        Refusal::NegotiateNotBuiltIn => "Negotiate is not built in".to_owned(),
    }
}

/// The lines that sign the request with AWS SigV4 (libcurl's
/// `Curl_output_aws_sigv4`), or none when a user `Authorization` line
/// stands instead.
fn aws_sigv4_headers(
    plan: &HttpPlan,
    creds: &Credentials,
    param: Option<&str>,
    log: &Logger,
) -> Result<Vec<(String, String)>, Error> {
    let Some(origin) = &plan.sigv4 else {
        return Ok(Vec::new());
    };
    let signer = SigV4::parse(param.unwrap_or_default(), &origin.host).map_err(sigv4_error)?;
    if signer.service_from_host() {
        log_info!(
            log,
            "aws_sigv4: picked service {} from host",
            signer.service()
        );
    }
    if signer.region_from_host() {
        log_info!(
            log,
            "aws_sigv4: picked region {} from host",
            signer.region()
        );
    }
    let (path, query) = match origin.path.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (origin.path.as_str(), None),
    };
    let payload = match &plan.body {
        BodyPlan::Bytes(bytes) => Payload::Bytes(bytes),
        BodyPlan::Callback(..) if origin.streamed => Payload::Streamed,
        BodyPlan::None | BodyPlan::Callback(..) => Payload::Bytes(b""),
    };
    let request = Request {
        method: &plan.method,
        path,
        query,
        host: &plan.host_header,
        headers: &plan.headers,
        payload,
    };
    let Some(signature) = signer
        .sign(&request, creds, SystemTime::now())
        .map_err(sigv4_error)?
    else {
        return Ok(Vec::new());
    };
    log_info!(
        log,
        "Server auth using AWS_SIGV4 with user '{}'",
        creds.user
    );
    Ok(signature.headers)
}

/// The error libcurl returns for each reason a request cannot be signed.
fn sigv4_error(e: SigV4Error) -> Error {
    let kind = match e {
        SigV4Error::BadArgument(_) => ErrorKind::BadFunctionArgument,
        SigV4Error::NoScope(_) => ErrorKind::UrlMalformat,
        SigV4Error::TooLarge(_) => ErrorKind::TooLarge,
    };
    Error::new(kind, e.to_string())
}

impl Transfer {
    /// Starts from what an earlier transfer of the handle left (see
    /// [`AuthMemory::for_next_transfer`]).
    ///
    /// [`AuthMemory::for_next_transfer`]: handover_proto::auth::AuthMemory::for_next_transfer
    pub(crate) fn resume_server_auth(&mut self, memory: AuthMemory) {
        self.server_auth = memory;
    }

    /// What the handle keeps of this transfer's server authentication for
    /// its next transfer.
    pub(crate) fn server_auth_for_next(&self) -> AuthMemory {
        self.server_auth.for_next_transfer()
    }

    /// The authentication lines for the request about to go out: a
    /// bearer token when Bearer is the one method allowed, the AWS SigV4
    /// lines when that is, else the `Authorization` the rounds so far call
    /// for (Basic goes first when it is the one method, as libcurl sends
    /// it).
    pub(super) fn server_authorization(&mut self) -> Result<Vec<(String, String)>, Error> {
        let Some(plan) = &self.http else {
            return Ok(Vec::new());
        };
        let Some(auth) = &plan.auth else {
            return Ok(Vec::new());
        };
        if auth.allowed == AuthMask::BEARER {
            let Some(token) = &auth.bearer else {
                return Ok(Vec::new());
            };
            self.info.httpauth_used = AuthMask::BEARER.0;
            return Ok(vec![(
                "Authorization".to_owned(),
                format!("Bearer {token}"),
            )]);
        }
        if auth.allowed == AuthMask::AWS_SIGV4 {
            let Some(creds) = &auth.credentials else {
                return Ok(Vec::new());
            };
            let headers =
                aws_sigv4_headers(plan, creds, auth.aws_sigv4.as_deref(), &self.settings.log)?;
            if !headers.is_empty() {
                self.info.httpauth_used = AuthMask::AWS_SIGV4.0;
            }
            return Ok(headers);
        }
        let Some(creds) = &auth.credentials else {
            return Ok(Vec::new());
        };
        let entropy = super::route_stack::entropy("server authentication")?;
        let answered =
            self.server_auth
                .answer(creds, auth.allowed, &plan.method, &plan.auth_uri, &entropy);
        let whom = self.target.connect_host.clone();
        header_of(
            answered,
            "Authorization",
            &mut self.info.httpauth_used,
            &whom,
        )
    }

    /// True when the request about to go, or just gone, opens a server's or
    /// a forwarding proxy's negotiation (see [`AuthMemory::probing`]).
    ///
    /// [`AuthMemory::probing`]: handover_proto::auth::AuthMemory::probing
    pub(super) fn probing(&self) -> bool {
        self.server_auth.probing() || self.forward_auth.probing()
    }

    /// The `Proxy-Authorization` for a request sent in absolute form
    /// through an HTTP proxy (no tunnel): the proxy's rounds ride on the
    /// request itself, as libcurl's, with the same methods as a CONNECT's.
    pub(super) fn forward_proxy_authorization(&mut self) -> Result<Vec<(String, String)>, Error> {
        let Some((creds, allowed)) = self.http.as_ref().and_then(|plan| plan.proxy_auth.clone())
        else {
            return Ok(Vec::new());
        };
        let Some(plan) = &self.http else {
            return Ok(Vec::new());
        };
        let entropy = super::route_stack::entropy("proxy authentication")?;
        let answered =
            self.forward_auth
                .answer(&creds, allowed, &plan.method, &plan.auth_uri, &entropy);
        header_of(
            answered,
            "Proxy-Authorization",
            &mut self.info.proxyauth_used,
            "the proxy",
        )
    }

    /// True when `head` is a 407 to a request sent through an HTTP proxy
    /// without a tunnel that the proxy's credentials can answer: another
    /// round follows. Else the 407 is the transfer's answer, as libcurl's.
    pub(super) fn another_proxy_auth_round(&mut self, head: &ResponseHead) -> Result<bool, Error> {
        if head.status != 407 {
            return Ok(false);
        }
        let Some((creds, allowed)) = self.http.as_ref().and_then(|plan| plan.proxy_auth.clone())
        else {
            return Ok(false);
        };
        let challenges = parse_challenges(head.headers_named("Proxy-Authenticate"));
        let outcome = self
            .forward_auth
            .challenged(&challenges, Some(&creds), allowed);
        self.info.proxyauth_avail = self.forward_auth.offered().0;
        match outcome {
            Ok(picked) => {
                if let Some(method) = picked {
                    log_info!(
                        self.settings.log,
                        "Proxy auth using {} with user '{}'",
                        method.name(),
                        creds.user
                    );
                }
                self.rewind_for_round("the proxy")?;
                Ok(true)
            }
            Err(refusal) => {
                log_info!(
                    self.settings.log,
                    "The 407 from the proxy stays the answer: {}",
                    refusal_text(&refusal)
                );
                Ok(false)
            }
        }
    }

    /// Before the next round's request: the upload from the read callback
    /// goes again from its start (unless the last request was a probe that
    /// sent none of it).
    fn rewind_for_round(&self, asker: &str) -> Result<(), Error> {
        if self.probing() {
            return Ok(());
        }
        if let Some(Err(why)) = self
            .http
            .as_ref()
            .map(super::request::HttpPlan::rewind_body)
        {
            return Err(Error::new(
                ErrorKind::SendFailRewind,
                format!("{asker} wants authentication and the upload must go again, but {why}"),
            ));
        }
        Ok(())
    }

    /// True when `head` is a success answering a probe whose body was held
    /// back (see [`AuthMemory::probing`]): the server wants no
    /// authentication, and the request goes again with its body and no
    /// credentials, as libcurl does — else the body would never be sent.
    ///
    /// [`AuthMemory::probing`]: handover_proto::auth::AuthMemory::probing
    pub(super) fn probe_accepted(&mut self, head: &ResponseHead) -> bool {
        let held_back = self.http.as_ref().is_some_and(|plan| {
            !matches!(plan.body, BodyPlan::None) && !matches!(plan.method.as_str(), "GET" | "HEAD")
        });
        if !(200..300).contains(&head.status) || !held_back || !self.probing() {
            return false;
        }
        self.server_auth.settle();
        self.forward_auth.settle();
        log_info!(
            self.settings.log,
            "{} answered the authentication probe without a challenge: sending the body",
            self.target.connect_host
        );
        true
    }

    /// True when `head` is a 401 that the credentials can answer: another
    /// round follows. A 401 they cannot answer is the transfer's answer,
    /// as with libcurl.
    pub(super) fn another_auth_round(&mut self, head: &ResponseHead) -> Result<bool, Error> {
        if head.status != 401 {
            return Ok(false);
        }
        let Some(auth) = self.http.as_ref().and_then(|plan| plan.auth.clone()) else {
            return Ok(false);
        };
        let challenges = parse_challenges(head.headers_named("WWW-Authenticate"));
        let outcome =
            self.server_auth
                .challenged(&challenges, auth.credentials.as_ref(), auth.allowed);
        self.info.httpauth_avail = self.server_auth.offered().0;
        match outcome {
            Ok(picked) => {
                if let (Some(method), Some(creds)) = (picked, &auth.credentials) {
                    log_info!(
                        self.settings.log,
                        "Server auth using {} with user '{}'",
                        method.name(),
                        creds.user
                    );
                }
                self.rewind_for_round(&self.target.connect_host.clone())?;
                Ok(true)
            }
            Err(refusal) => {
                log_info!(
                    self.settings.log,
                    "The 401 from {} stays the answer: {}",
                    self.target.connect_host,
                    refusal_text(&refusal)
                );
                Ok(false)
            }
        }
    }

    /// Starts the next round: on this connection once the 401's body is
    /// read away, when the server keeps it; else on a new connection.
    pub(super) fn start_auth_round(
        &mut self,
        stack: Stack,
        reader: Option<BodyReader>,
        keep_alive: bool,
        now: Instant,
    ) -> Result<(), Error> {
        match reader {
            Some(reader) if keep_alive => {
                self.phase = Phase::AuthDrain { stack, reader };
                Ok(())
            }
            _ => {
                drop(stack);
                log_info!(
                    self.settings.log,
                    "The server closes the connection after its 401: a new connection for the next round"
                );
                self.connect_again(now)
            }
        }
    }

    /// Reads the 401's body away; then the next request goes out on the
    /// same connection. `true` once it has.
    pub(super) fn auth_drain_step(&mut self, now: Instant) -> Result<bool, Error> {
        let Phase::AuthDrain { stack, reader } = &mut self.phase else {
            return Ok(true);
        };
        let mut input = [0u8; 16 * 1024];
        let mut scratch = [0u8; 16 * 1024];
        let mut moved = 0usize;
        let mut clean = true;
        while !reader.is_done() {
            if moved >= DRIVE_BYTES {
                return Ok(false);
            }
            let n = match stack.recv(&mut input) {
                Ok(n) => n,
                Err(e) if e.is_again() => return Ok(false),
                Err(e) => return Err(e),
            };
            moved += n;
            if n == 0 {
                clean = false;
                break;
            }
            let mut rest = input.get(..n).unwrap_or_default();
            while !rest.is_empty() && !reader.is_done() {
                let (used, _) = reader.read(rest, &mut scratch).map_err(|e| {
                    Error::new(
                        ErrorKind::RecvError,
                        format!("bad 401 body from {}: {e}", self.target.connect_host),
                    )
                })?;
                if used == 0 {
                    break;
                }
                rest = rest.get(used..).unwrap_or_default();
            }
            if !rest.is_empty() {
                clean = false;
                break;
            }
        }
        let Phase::AuthDrain { mut stack, .. } =
            std::mem::replace(&mut self.phase, Phase::Resolve(Vec::new()))
        else {
            return Ok(true);
        };
        if clean && stack.pop_idle() {
            // A reused connection: if the server had closed it after all,
            // the request earns one fresh try, as on a pooled one (libcurl;
            // found by curl's test 64, whose server closes after its 401).
            self.send_request(stack, true, now)?;
        } else {
            self.start_auth_round(stack, None, false, now)?;
        }
        Ok(true)
    }
}
