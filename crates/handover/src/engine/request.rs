//! Request: the HTTP request of a connect-only = 2 or ordinary transfer —
//! planned from the options, sent through the exchange machine, its answer
//! read — and what follows it: the body (body.rs), the WebSocket stream
//! (ws_stream.rs), or the hand-over. A pooled connection found dead when
//! the request goes out earns one fresh connection.

use std::time::Instant;

use handover_proto::auth::{AuthMask, Credentials};
use handover_proto::http1::{
    BodyReader, Exchange, ExchangeOptions, RequestBody, RequestSpec, Response, Via,
};
use handover_proto::proxy::ProxyKind;
use handover_proto::url::{Scheme, Url};

use super::names::name_jobs;
use super::{speed, Phase, Target, Transfer};
use crate::callbacks::{HeaderSink, Reader, SeekResult, Seeker, Writer};
use crate::error::{Error, ErrorKind};
use crate::handshake::HandshakeLayer;
use crate::http::{exchange_error, RequestApp};
use crate::layer::{ConnectCx, Progress, Stack};
use crate::options::{ConnectOnly, Options};
use crate::route::Route;
use crate::verbose::log_info;
use crate::ws::WsSession;

/// Where an upload's bytes come from.
pub(super) enum BodyPlan {
    None,
    Bytes(Vec<u8>),
    /// The read callback's body, its size, and the seek function that
    /// rewinds it for a second attempt.
    Callback(Reader, Option<u64>, Option<Seeker>),
}

/// The HTTP request of a connect-only = 2 or ordinary transfer.
pub(super) struct HttpPlan {
    pub(super) method: String,
    pub(super) target: String,
    pub(super) host_header: String,
    pub(super) user_agent: Option<String>,
    pub(super) referer: Option<String>,
    pub(super) headers: Vec<String>,
    pub(super) body: BodyPlan,
    pub(super) defaults: Vec<(String, String)>,
    /// An upgrade to WebSocket.
    pub(super) ws: bool,
    /// Whether an HTTP proxy is on the connection (keep-alive reads its
    /// `Proxy-Connection` then).
    pub(super) via: Via,
    pub(super) header_sink: Option<HeaderSink>,
    pub(super) write: Option<Writer>,
    /// What the server's authentication can answer with, if anything.
    pub(super) auth: Option<super::server_auth::ServerCredentials>,
    /// Through an HTTP proxy without a tunnel: the proxy's credentials and
    /// the methods they may answer its 407 with.
    pub(super) proxy_auth: Option<(Credentials, AuthMask)>,
    /// The `uri` a Digest answer names: the path and query, also when the
    /// request target is the absolute URL for a proxy (libcurl; curl's
    /// tests 167, 168, 335 and 540).
    pub(super) auth_uri: String,
    /// What AWS SigV4 signs beyond the request's lines, when it is the
    /// method.
    pub(super) sigv4: Option<SignedOrigin>,
    /// `CURLOPT_KEEP_SENDING_ON_ERROR`.
    pub(super) keep_sending_on_error: bool,
    /// Connect-only = 2: the connection is handed over at the answer, so no
    /// body goes on after it.
    pub(super) hand_over: bool,
}

/// The parts of a request AWS SigV4 signs that the request layer does not
/// keep as such.
pub(super) struct SignedOrigin {
    /// The URL's host name: service and region when the parameter has none.
    pub(super) host: String,
    /// The URL's path and query, also when the request target is the
    /// absolute URL for a proxy.
    pub(super) path: String,
    /// The body is the read callback's, and not an upload announced as
    /// empty: libcurl signs it as unknown.
    pub(super) streamed: bool,
}

/// The request of a transfer, from its options.
pub(super) fn http_plan(
    opts: &Options,
    url: &Url,
    scheme: Scheme,
    port: u16,
    route: &Route,
) -> Result<HttpPlan, Error> {
    let h = &opts.http;
    let ws = matches!(scheme, Scheme::Ws | Scheme::Wss);
    let method = if let Some(m) = &h.custom_request {
        m.clone()
    } else if ws {
        "GET".to_owned()
    } else if h.nobody {
        "HEAD".to_owned()
    } else if h.post || h.post_fields.is_some() {
        "POST".to_owned()
    } else if h.upload {
        "PUT".to_owned()
    } else {
        "GET".to_owned()
    };
    let body = if ws || h.nobody {
        BodyPlan::None
    } else if let Some(data) = &h.post_fields {
        BodyPlan::Bytes(data.clone())
    } else if h.post || h.upload {
        match &h.read {
            Some(reader) => BodyPlan::Callback(reader.clone(), h.body_size, h.seek.clone()),
            None => BodyPlan::Bytes(Vec::new()),
        }
    } else {
        BodyPlan::None
    };
    let sigv4 = (opts.auth.methods.mask() == AuthMask::AWS_SIGV4).then(|| SignedOrigin {
        host: url.host.clone(),
        path: url.path.clone(),
        streamed: match &body {
            // Here the upload is a PUT unless `post` is set.
            BodyPlan::Callback(_, size, _) => h.post || *size != Some(0),
            _ => false,
        },
    });
    let host_header = if port == scheme.default_port() {
        url.host_for_header()
    } else {
        format!("{}:{port}", url.host_for_header())
    };
    // Through an HTTP proxy without a tunnel, the request goes to the proxy
    // in absolute form, and its 407 rounds ride on the request itself.
    let defaults = Vec::new();
    let forward = !route.reaches_target();
    let target = if forward {
        // The port the connection is for: CURLOPT_PORT overrides the URL's
        // in the absolute form too (curl's test 523).
        let mut absolute = url.clone();
        if opts.port.is_some() {
            absolute.port = Some(port);
        }
        absolute.to_string()
    } else {
        url.path.clone()
    };
    let mut headers = h.headers.clone();
    if forward {
        // A request to the proxy itself carries the proxy's headers too
        // (libcurl's CURLHEADER_SEPARATE); a line both lists hold goes once,
        // so CURLHEADER_UNIFIED, which hands the same list as both, sends it
        // once as libcurl does.
        for line in &opts.proxy.headers {
            if !headers.contains(line) {
                headers.push(line.clone());
            }
        }
    }
    let proxy_auth = route.hops.last().filter(|_| forward).and_then(|hop| {
        let creds = hop.credentials.clone()?;
        Some((creds, hop.auth().unwrap_or(opts.proxy.auth.mask())))
    });

    Ok(HttpPlan {
        method,
        target,
        host_header,
        user_agent: opts.useragent.clone(),
        referer: h.referer.clone(),
        headers,
        body,
        defaults,
        ws,
        via: if route.hops.iter().any(|hop| {
            matches!(
                hop.spec.kind,
                ProxyKind::Http | ProxyKind::Http10 | ProxyKind::Https
            )
        }) {
            Via::HttpProxy
        } else {
            Via::Direct
        },
        header_sink: h.header.clone(),
        write: h.write.clone(),
        auth: super::server_auth::ServerCredentials::from_options(&opts.auth, url, scheme)?,
        proxy_auth,
        auth_uri: url.path.clone(),
        sigv4,
        keep_sending_on_error: h.keep_sending_on_error,
        hand_over: opts.connect_only != ConnectOnly::Off,
    })
}

/// Hands body bytes to the write callback, or to standard output as
/// libcurl does without one: queued for the stdout writer thread
/// (`crate::output`), so the poll thread never waits on stdout.
pub(super) fn deliver(write: Option<&Writer>, data: &[u8]) -> Result<(), Error> {
    let failed = || {
        Error::new(
            ErrorKind::WriteError,
            "Failure writing output to destination",
        )
    };
    match write {
        Some(w) => match w.write(data) {
            Ok(n) if n == data.len() => Ok(()),
            _ => Err(failed()),
        },
        None => crate::output::push_stdout(data),
    }
}

/// Errors that mean a pooled connection had died before the request.
fn dead_reuse(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::GotNothing | ErrorKind::SendError | ErrorKind::RecvError
    )
}

/// The request layer for this transfer's HTTP plan: the exchange machine,
/// served from the plan's read and header callbacks; `auth_headers` are
/// this round's answer to the server (`Authorization`, and what AWS SigV4
/// adds to it).
fn request_layer(
    plan: &HttpPlan,
    target: &Target,
    auth_headers: &[(String, String)],
    paced: bool,
    probe: bool,
) -> Result<HandshakeLayer<Exchange>, Error> {
    let server = handover_proto::url::authority(&target.connect_host, target.connect_port);
    let websocket_key = if plan.ws {
        let mut random = [0u8; 16];
        crate::random::fill(&mut random, "the WebSocket key")?;
        Some(handover_proto::ws::client_key(random))
    } else {
        None
    };
    let mut defaults: Vec<(&str, &str)> = plan
        .defaults
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    defaults.extend(auth_headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let (body, reader) = match &plan.body {
        BodyPlan::None => (RequestBody::None, None),
        // The first request of an authentication negotiation (NTLM's
        // first leg, Digest before its challenge) is answered with a
        // challenge, never the resource: libcurl announces an empty body
        // (or, for a chunked upload, sends its last chunk only) and sends
        // the body once the credentials go with it. Found by curl's tests
        // 88, 175, 176, 1284 and 2067-2069.
        BodyPlan::Callback(_, None, _) if probe => (
            RequestBody::Pull { length: None },
            Some(memory_reader(Vec::new())),
        ),
        _ if probe => (RequestBody::Bytes(Vec::new()), None),
        // A paced body is pulled, in pieces no larger than the budget.
        BodyPlan::Bytes(b) if paced => (
            RequestBody::Pull {
                length: Some(b.len() as u64),
            },
            Some(memory_reader(b.clone())),
        ),
        BodyPlan::Bytes(b) => (RequestBody::Bytes(b.clone()), None),
        BodyPlan::Callback(reader, size, _) => {
            (RequestBody::Pull { length: *size }, Some(reader.clone()))
        }
    };
    // The user's own Content-Length would announce the body that the
    // probe leaves out (libcurl skips it while negotiating too).
    let headers: Vec<String> = if probe {
        plan.headers
            .iter()
            .filter(|line| {
                !line
                    .get(..15)
                    .is_some_and(|name| name.eq_ignore_ascii_case("content-length:"))
            })
            .cloned()
            .collect()
    } else {
        plan.headers.clone()
    };
    let spec = RequestSpec {
        method: &plan.method,
        target: &plan.target,
        host_header: &plan.host_header,
        user_agent: plan.user_agent.as_deref(),
        referer: plan.referer.as_deref(),
        headers: &headers,
        body_len: None,
        default_headers: &defaults,
    };
    let options = ExchangeOptions {
        via: plan.via,
        websocket_key,
        keep_sending_on_error: plan.keep_sending_on_error,
        stop_at_answer: plan.hand_over,
        ..ExchangeOptions::new(server.clone())
    };
    let exchange = Exchange::new(&spec, body, options).map_err(|e| exchange_error(&e))?;
    let app = RequestApp::new(reader, plan.header_sink.clone());
    Ok(HandshakeLayer::serving(exchange, app, usize::MAX, server))
}

/// A read callback over bytes in memory.
fn memory_reader(bytes: Vec<u8>) -> Reader {
    let mut at = 0;
    Reader::new(Box::new(move |buf: &mut [u8]| {
        let rest = bytes.get(at..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        at += n;
        Ok(n)
    }))
}

impl HttpPlan {
    /// When the body comes from the read callback, rewinds it for a second
    /// attempt through the seek function, as libcurl's `Curl_readrewind`:
    /// `Err` with what to report when it cannot be.
    pub(super) fn rewind_body(&self) -> Result<(), String> {
        let BodyPlan::Callback(_, _, seeker) = &self.body else {
            return Ok(());
        };
        let Some(seeker) = seeker else {
            return Err("the read callback cannot be rewound without a seek callback".to_owned());
        };
        match seeker.seek(std::io::SeekFrom::Start(0)) {
            SeekResult::Ok => Ok(()),
            other => Err(format!("seek callback returned error {}", other as i32)),
        }
    }
}

impl Transfer {
    /// Puts the request on a connected `stack`; `pooled` when the stack is
    /// reused (from the pool, or after an authentication round). From
    /// here only `timeout` bounds the transfer.
    pub(super) fn send_request(
        &mut self,
        mut stack: Stack,
        pooled: bool,
        now: Instant,
    ) -> Result<(), Error> {
        self.auth_before_request = Some((self.server_auth.clone(), self.forward_auth.clone()));
        // The proxy's answer goes first, as libcurl writes them.
        let mut auth_headers = self.forward_proxy_authorization()?;
        auth_headers.extend(self.server_authorization()?);
        let Some(plan) = &self.http else {
            self.hand_over(stack);
            return Ok(());
        };
        self.send_pace = (!matches!(plan.body, BodyPlan::None))
            .then(|| speed::SendPace::new(self.settings.max_send_speed, now))
            .flatten();
        // A GET or HEAD has no body to hold back.
        let probe = self.probing() && !matches!(plan.method.as_str(), "GET" | "HEAD");
        let mut layer = request_layer(
            plan,
            &self.target,
            &auth_headers,
            self.send_pace.is_some(),
            probe,
        )?;
        let app = layer.app_mut();
        app.pace = self.send_pace.clone();
        app.piece = self.settings.upload_buffer_size;
        stack.push(Box::new(layer));
        self.time.connected();
        // The clock read now, as every step's: after the setup's last.
        let _ = now;
        self.info.pretransfer = Instant::now().saturating_duration_since(self.time.started);
        self.phase = Phase::Request { stack, pooled };
        Ok(())
    }

    /// Drives the exchange until the response head is in; `true` once the
    /// phase moved on.
    pub(super) fn request_step(&mut self, now: Instant) -> Result<bool, Error> {
        let Phase::Request { stack, pooled } = &mut self.phase else {
            return Ok(true);
        };
        let pooled = *pooled;
        let mut cx = ConnectCx {
            log: &self.settings.log,
            steps: Some((&mut self.info.timeline, self.time.started)),
        };
        let progress = stack.connect(&mut cx);
        stack.report(&mut self.info);
        let progress = match progress {
            Err(e) if pooled && dead_reuse(&e) => {
                self.retry_fresh(&e, now)?;
                return Ok(true);
            }
            Err(e) => {
                // The fields the header callback got stay for
                // curl_easy_header, as libcurl keeps them.
                if let Some((interim, head)) = stack.failed_heads() {
                    (self.last_interim, self.last_head) = (interim, head);
                }
                return Err(e);
            }
            Ok(progress) => progress,
        };
        if progress != Progress::Done {
            return Ok(false);
        }
        // `now` was read when this step began, which can be before the
        // request went out in the same step: never earlier than pretransfer
        // (found by curl's test 500, which checks the order).
        self.info.starttransfer = now
            .saturating_duration_since(self.time.started)
            .max(self.info.pretransfer);
        let Phase::Request { mut stack, .. } =
            std::mem::replace(&mut self.phase, Phase::Resolve(Vec::new()))
        else {
            return Ok(true);
        };
        let answer = stack.take_response();
        if let Some(response) = &answer {
            // libcurl refuses the chain while it reads the head, before any
            // body byte: unrefused, a body in codings nobody decodes would
            // be read until the server closes.
            // The message is libcurl's own, word for word.
            response
                .head()
                .check_transfer_codings()
                .map_err(|e| Error::new(ErrorKind::BadContentEncoding, e.to_string()))?;
        }
        let keep_alive = answer.as_ref().is_some_and(|r| r.keep_alive());
        if let Some(response) = &answer {
            let head = response.head();
            if self.probe_accepted(head)
                || self.another_proxy_auth_round(head)?
                || self.another_auth_round(head)?
            {
                let reader = response.body_reader().ok();
                // A body still going out after the answer: the next round
                // cannot share the connection.
                let keep_alive = keep_alive && !stack.uploading();
                self.start_auth_round(stack, reader, keep_alive, now)?;
                return Ok(true);
            }
        }
        let reader = answer.as_ref().map(|r| r.body_reader());
        // connect-only = 2 reports the length the head announced too,
        // though the body stays unread.
        self.info.content_length_download = reader
            .as_ref()
            .and_then(|r| r.as_ref().ok())
            .and_then(BodyReader::content_length);
        (self.last_interim, self.last_head) = match answer.map(Response::into_heads) {
            Some((interim, head)) => (interim, Some(head)),
            None => (Vec::new(), None),
        };
        let websocket = self.http.as_ref().is_some_and(|h| h.ws);
        match (self.mode, reader) {
            (ConnectOnly::Off, _) if websocket => {
                let session = WsSession::callbacks(self.settings.ws_options)?;
                self.phase = Phase::WsStream(stack, Box::new(session));
            }
            (ConnectOnly::Off, Some(reader)) => {
                let reader = reader.map_err(|e| {
                    Error::new(
                        ErrorKind::WeirdServerReply,
                        format!(
                            "bad response framing from {}: {e}",
                            self.target.connect_host
                        ),
                    )
                })?;
                let (limit, time) = self.settings.low_speed;
                self.speed = super::speed::SpeedCheck::new(limit, time, now);
                self.rate = super::speed::RateLimit::new(self.settings.max_recv_speed, now);
                self.phase = Phase::Body {
                    stack,
                    reader,
                    keep_alive,
                };
            }
            _ => self.hand_over(stack),
        }
        Ok(true)
    }

    /// A pooled connection the server had closed: one fresh attempt, as
    /// libcurl retries — with a body from the read callback only if the
    /// seek function rewinds it (else `SendFailRewind`, 65, as libcurl).
    fn retry_fresh(&mut self, died: &Error, now: Instant) -> Result<(), Error> {
        if let Some(Err(why)) = self.http.as_ref().map(HttpPlan::rewind_body) {
            return Err(Error::new(
                ErrorKind::SendFailRewind,
                format!(
                    "the reused connection to {} died while the upload was sent, \
                     and {why} ({died})",
                    self.target.connect_host
                ),
            ));
        }
        log_info!(
            self.settings.log,
            "Connection died, retrying a fresh connect"
        );
        // The retried request carries the answers the lost one did (NTLM's
        // first leg is taken when it is sent; found by curl's test 69,
        // whose server closes after its 401).
        if let Some((server, proxy)) = self.auth_before_request.take() {
            self.server_auth = server;
            self.forward_auth = proxy;
        }
        self.connect_again(now)
    }

    /// Starts over on a new connection (a fresh connect budget, the first
    /// hop's names looked up again): the request goes out on it once it
    /// is set up.
    pub(super) fn connect_again(&mut self, now: Instant) -> Result<(), Error> {
        self.time.fresh_connect(now);
        self.new_descriptors();
        self.phase = Phase::Resolve(name_jobs(self)?);
        Ok(())
    }
}
