//! The HTTP request of a connect-only = 2 or ordinary transfer: built
//! from the options, turned into the request machine, its body delivered.

use super::*;

/// Where an upload's bytes come from.
pub(super) enum BodyPlan {
    None,
    Bytes(Vec<u8>),
    Callback(Reader, Option<u64>),
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
    pub(super) header_sink: Option<HeaderSink>,
    pub(super) write: Option<Writer>,
}

/// The request of a transfer, from its options.
pub(super) fn http_plan(
    opts: &Options,
    url: &Url,
    scheme: Scheme,
    port: u16,
    route: &Route,
) -> HttpPlan {
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
            Some(reader) => BodyPlan::Callback(reader.clone(), h.body_size),
            None => BodyPlan::Bytes(Vec::new()),
        }
    } else {
        BodyPlan::None
    };
    let host_header = if port == scheme.default_port() {
        url.host_for_header()
    } else {
        format!("{}:{port}", url.host_for_header())
    };
    // Through an HTTP proxy without a tunnel, the request goes to the proxy
    // in absolute form, with pre-emptive Basic for the proxy if configured.
    let mut defaults = Vec::new();
    let forward = !route.reaches_target();
    let target = if forward {
        url.to_string()
    } else {
        url.path.clone()
    };
    if forward {
        if let Some(creds) = route.hops.last().and_then(|hop| hop.credentials.as_ref()) {
            defaults.push((
                "Proxy-Authorization".to_owned(),
                handover_proto::auth::basic::authorization(&creds.user, &creds.password),
            ));
        }
    }
    HttpPlan {
        method,
        target,
        host_header,
        user_agent: opts.useragent.clone(),
        referer: h.referer.clone(),
        headers: h.headers.clone(),
        body,
        defaults,
        ws,
        header_sink: h.header.clone(),
        write: h.write.clone(),
    }
}

/// Hands body bytes to the write callback, or to standard output as
/// libcurl does without one.
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
        None => {
            use std::io::Write as _;
            std::io::stdout().write_all(data).map_err(|_| failed())
        }
    }
}

/// Errors that mean a pooled connection had died before the request.
pub(super) fn dead_reuse(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::GotNothing | ErrorKind::SendError | ErrorKind::RecvError
    )
}

/// The request machine for this transfer's HTTP plan.
pub(super) fn request_layer(
    plan: &HttpPlan,
    target: &Target,
    head: &HeadSlot,
) -> Result<RequestHandshake, Error> {
    let mut defaults: Vec<(&str, String)> = plan
        .defaults
        .iter()
        .map(|(n, v)| (n.as_str(), v.clone()))
        .collect();
    let ws_key = if plan.ws {
        let mut random = [0u8; 16];
        if getrandom::fill(&mut random).is_err() {
            random = entropy()
                .ntlm_client_challenge
                .repeat(2)
                .try_into()
                .unwrap_or([7; 16]);
        }
        let key = handover_proto::ws::client_key(random);
        defaults.extend(handover_proto::ws::upgrade_headers(&key));
        Some(key)
    } else {
        None
    };
    let default_refs: Vec<(&str, &str)> = defaults.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let (body, body_len) = match &plan.body {
        BodyPlan::None => (Body::None, None),
        BodyPlan::Bytes(b) => (Body::Bytes(b.clone(), 0), Some(b.len() as u64)),
        BodyPlan::Callback(reader, size) => (
            Body::Callback {
                reader: reader.clone(),
                left: *size,
                finished: false,
            },
            *size,
        ),
    };
    let chunked = matches!(plan.body, BodyPlan::Callback(_, None));
    let mut headers = plan.headers.clone();
    if chunked
        && !headers
            .iter()
            .any(|h| h.to_ascii_lowercase().starts_with("transfer-encoding"))
    {
        headers.push("Transfer-Encoding: chunked".to_owned());
    }
    RequestHandshake::new(RequestParts {
        spec: RequestSpec {
            method: &plan.method,
            target: &plan.target,
            host_header: &plan.host_header,
            user_agent: plan.user_agent.as_deref(),
            referer: plan.referer.as_deref(),
            headers: &headers,
            body_len,
            default_headers: &default_refs,
        },
        body,
        ws_key,
        header_sink: plan.header_sink.clone(),
        slot: head.clone(),
        where_: handover_proto::url::authority(&target.connect_host, target.connect_port),
    })
}

impl HttpPlan {
    /// True when the body comes from the read callback, which cannot be
    /// read a second time.
    pub(super) fn body_from_callback(&self) -> bool {
        matches!(self.body, BodyPlan::Callback(..))
    }
}
