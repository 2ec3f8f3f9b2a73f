//! The one error type, and the table that ties each kind to libcurl's
//! `CURLcode` number.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::sync::Arc;

macro_rules! error_kinds {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $name:literal, $text:literal; )*) => {
        /// What went wrong, one variant per libcurl `CURLcode` that handover can
        /// return. [`ErrorKind::code`] gives the number.
        ///
        /// # Examples
        ///
        /// ```
        /// use handover::ErrorKind;
        ///
        /// let kind = ErrorKind::from_code(7).unwrap();
        /// assert_eq!(kind, ErrorKind::CouldntConnect);
        /// assert_eq!(kind.curl_name(), "CURLE_COULDNT_CONNECT");
        /// assert_eq!(kind.description(), "Could not connect to server");
        /// assert_eq!(ErrorKind::Again.code(), 81);
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorKind {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorKind {
            /// libcurl's `CURLcode` number for this kind.
            pub fn code(self) -> u32 {
                match self { $( ErrorKind::$variant => $code, )* }
            }

            /// libcurl's name for the code, such as `CURLE_COULDNT_CONNECT`.
            pub fn curl_name(self) -> &'static str {
                match self { $( ErrorKind::$variant => $name, )* }
            }

            /// libcurl's short description of the code (`curl_easy_strerror`).
            pub fn description(self) -> &'static str {
                match self { $( ErrorKind::$variant => $text, )* }
            }

            /// The kind for a libcurl `CURLcode` number, if handover has one.
            pub fn from_code(code: u32) -> Option<ErrorKind> {
                match code { $( $code => Some(ErrorKind::$variant), )* _ => None }
            }
        }
    };
}

error_kinds! {
    /// The URL's scheme is not one handover speaks, or the handle has no
    /// connect-only connection to send or receive on.
    UnsupportedProtocol = 1, "CURLE_UNSUPPORTED_PROTOCOL", "Unsupported protocol";
    /// Setting up the transfer failed.
    FailedInit = 2, "CURLE_FAILED_INIT", "Failed initialization";
    /// The URL is not well formed.
    UrlMalformat = 3, "CURLE_URL_MALFORMAT", "URL using bad/illegal format or missing URL";
    /// A feature that this build of handover does not have.
    NotBuiltIn = 4, "CURLE_NOT_BUILT_IN", "A requested feature, protocol or option was not found built-in in this libcurl due to a build-time decision.";
    /// The proxy's name did not resolve.
    CouldntResolveProxy = 5, "CURLE_COULDNT_RESOLVE_PROXY", "Could not resolve proxy name";
    /// The host's name did not resolve.
    CouldntResolveHost = 6, "CURLE_COULDNT_RESOLVE_HOST", "Could not resolve host name";
    /// No address of the host (or proxy) accepted the connection.
    CouldntConnect = 7, "CURLE_COULDNT_CONNECT", "Could not connect to server";
    /// The server said something that makes no sense.
    WeirdServerReply = 8, "CURLE_WEIRD_SERVER_REPLY", "Weird server reply";
    /// The server refused access (FTP, IMAP, POP3, SMTP connect phases).
    RemoteAccessDenied = 9, "CURLE_REMOTE_ACCESS_DENIED", "Access denied to remote resource";
    /// The FTP server refused the account (`ACCT`) after the password.
    FtpWeirdPassReply = 11, "CURLE_FTP_WEIRD_PASS_REPLY", "FTP: unknown PASS reply";
    /// The body ended before its announced end.
    PartialFile = 18, "CURLE_PARTIAL_FILE", "Transferred a partial file";
    /// An HTTP status the transfer could not accept.
    HttpReturnedError = 22, "CURLE_HTTP_RETURNED_ERROR", "HTTP response code said error";
    /// A callback could not take the data.
    WriteError = 23, "CURLE_WRITE_ERROR", "Failed writing received data to disk/application";
    /// A callback could not give data.
    ReadError = 26, "CURLE_READ_ERROR", "Failed to open/read local data from file/application";
    /// Memory ran out.
    OutOfMemory = 27, "CURLE_OUT_OF_MEMORY", "Out of memory";
    /// A deadline passed.
    OperationTimedout = 28, "CURLE_OPERATION_TIMEDOUT", "Timeout was reached";
    /// The TLS handshake failed.
    SslConnectError = 35, "CURLE_SSL_CONNECT_ERROR", "SSL connect error";
    /// A local file could not be read.
    FileCouldntReadFile = 37, "CURLE_FILE_COULDNT_READ_FILE", "Could not read a file:// file";
    /// A callback asked to stop.
    AbortedByCallback = 42, "CURLE_ABORTED_BY_CALLBACK", "Operation was aborted by an application callback";
    /// A call was given an argument it cannot use.
    BadFunctionArgument = 43, "CURLE_BAD_FUNCTION_ARGUMENT", "A libcurl function was given a bad argument";
    /// The local interface or address to bind to could not be used.
    InterfaceFailed = 45, "CURLE_INTERFACE_FAILED", "Failed binding local connection end";
    /// An option handover does not know.
    UnknownOption = 48, "CURLE_UNKNOWN_OPTION", "An unknown option was passed in to libcurl";
    /// The server closed without answering.
    GotNothing = 52, "CURLE_GOT_NOTHING", "Server returned nothing (no headers, no data)";
    /// Sending on the connection failed.
    SendError = 55, "CURLE_SEND_ERROR", "Failed sending data to the peer";
    /// Receiving on the connection failed.
    RecvError = 56, "CURLE_RECV_ERROR", "Failure when receiving data from the peer";
    /// The local client certificate or key could not be used.
    SslCertproblem = 58, "CURLE_SSL_CERTPROBLEM", "Problem with the local SSL certificate";
    /// TLS was required (`use_ssl` control or all) and the server would
    /// not start it.
    UseSslFailed = 64, "CURLE_USE_SSL_FAILED", "Requested SSL level failed";
    /// An upload had to be sent again and the read callback cannot rewind.
    SendFailRewind = 65, "CURLE_SEND_FAIL_REWIND", "Send failed since rewinding of the data stream failed";
    /// The server refused the login, or the options forbid the one given
    /// (`disallow_username_in_url`).
    LoginDenied = 67, "CURLE_LOGIN_DENIED", "Login denied";
    /// A response with more transfer codings than libcurl stacks decoders
    /// for.
    BadContentEncoding = 61, "CURLE_BAD_CONTENT_ENCODING", "Unrecognized or bad HTTP Content or Transfer-Encoding";
    /// The CRL file could not be read or parsed.
    SslCrlBadfile = 82, "CURLE_SSL_CRL_BADFILE", "Failed to load CRL file (path? access rights?, format?)";
    /// A cipher or curve list names something the TLS library cannot use.
    SslCipher = 59, "CURLE_SSL_CIPHER", "Couldn't use specified SSL cipher";
    /// The server's certificate or name did not verify.
    PeerFailedVerification = 60, "CURLE_PEER_FAILED_VERIFICATION", "SSL peer certificate or SSH remote key was not OK";
    /// The CA certificate file or directory could not be read.
    SslCacertBadfile = 77, "CURLE_SSL_CACERT_BADFILE", "Problem with the SSL CA cert (path? access rights?)";
    /// Nothing could move right now; try again when the socket is ready.
    Again = 81, "CURLE_AGAIN", "Socket not ready for send/recv";
    /// The server's certificate was not issued by the one
    /// `issuer_cert` names, or that one could not be read.
    SslIssuerError = 83, "CURLE_SSL_ISSUER_ERROR", "Issuer check against peer certificate failed";
    /// `ssl_verify_status`: no stapled OCSP response, a bad one, or a
    /// status other than good.
    SslInvalidCertStatus = 91, "CURLE_SSL_INVALIDCERTSTATUS", "SSL server certificate status verification FAILED";
    /// The server's public key did not match the pinned one.
    SslPinnedPubKeyNotMatch = 90, "CURLE_SSL_PINNEDPUBKEYNOTMATCH", "SSL public key does not match pinned public key";
    /// A call was made from inside a callback where that is not allowed.
    RecursiveApiCall = 93, "CURLE_RECURSIVE_API_CALL", "API function called from within callback";
    /// A proxy handshake failed.
    Proxy = 97, "CURLE_PROXY", "proxy handshake error";
    /// Waiting on sockets failed in a way that cannot be retried.
    UnrecoverablePoll = 99, "CURLE_UNRECOVERABLE_POLL", "Unrecoverable error in select/poll";
    /// Something is larger than allowed.
    TooLarge = 100, "CURLE_TOO_LARGE", "A value or data field grew larger than allowed";
}

/// Every failure handover reports: a [`ErrorKind`] (libcurl's code), a
/// message that names what failed and where, and the OS error number when
/// one was involved.
///
/// `Display` prints the message; `Debug` adds libcurl's name and number.
/// An `Error` converts into [`std::io::Error`] (`Again` becomes
/// `WouldBlock`, a timeout `TimedOut`), so `?` works in functions that
/// return `io::Result`.
///
/// # Examples
///
/// ```
/// use handover::{Easy, ErrorKind};
///
/// let mut easy = Easy::new();
/// easy.url("nope://example.com/")?;
/// let error = easy.perform().unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::UnsupportedProtocol);
/// assert_eq!(error.code(), 1); // CURLE_UNSUPPORTED_PROTOCOL
/// println!("{error}"); // what failed and where
/// # Ok::<(), handover::Error>(())
/// ```
///
/// On a handed-over connection, `Again` is the one error to retry:
///
/// ```no_run
/// # fn demo(easy: &mut handover::Easy) -> Result<(), handover::Error> {
/// let mut buf = [0u8; 4096];
/// match easy.recv(&mut buf) {
///     Ok(0) => println!("closed"),
///     Ok(n) => println!("{n} bytes"),
///     Err(e) if e.is_again() => { /* wait_readable, then recv again */ }
///     Err(e) => eprintln!("{e} (CURLcode {}, errno {:?})", e.code(), e.os_errno()),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    msg: Cow<'static, str>,
    os_errno: Option<i32>,
    /// The cause and the proxy detail, boxed: most errors (`Again` above
    /// all) carry neither, and `Result<usize, Error>` stays small.
    extra: Option<Box<Extra>>,
}

#[derive(Clone, Default)]
struct Extra {
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    proxy: Option<ProxyFailure>,
}

/// What went wrong with a proxy, for a caller to branch on beside the
/// `CURLcode` (which libcurl folds into 7 or 97).
///
/// # Examples
///
/// ```no_run
/// use handover::{Easy, ProxyFailure};
///
/// let mut easy = Easy::new();
/// easy.url("https://example.com/")?;
/// easy.proxy("http://proxy.corp:3128")?;
/// if let Err(e) = easy.perform() {
///     match e.proxy_failure() {
///         Some(ProxyFailure::AuthRejected { scheme, .. }) => {
///             eprintln!("the proxy refused our {scheme} credentials")
///         }
///         Some(ProxyFailure::ConnectRefused { status }) => eprintln!("CONNECT answered {status}"),
///         _ => eprintln!("{e}"),
///     }
/// }
/// # Ok::<(), handover::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyFailure {
    /// The proxy answered 407: it wants credentials that were not given,
    /// or rejected the ones given with `scheme` (`Basic`, `Digest`, `NTLM`;
    /// empty when none was sent).
    AuthRejected {
        /// The authentication scheme tried last, if any.
        scheme: String,
        /// The proxy's final status (407).
        status: u16,
    },
    /// The proxy refused the CONNECT with this status (not 2xx, not 407).
    ConnectRefused {
        /// The status of the proxy's answer.
        status: u16,
    },
    /// The proxy closed the connection in the middle of the handshake.
    Closed,
    /// A SOCKS handshake failed; `code` is libcurl's `CURLPX_*` number
    /// (also in `Info::proxy_error`).
    Socks {
        /// The `CURLPX_*` code.
        code: u32,
    },
}

impl Error {
    /// An error of `kind` with a message saying what failed and where.
    pub fn new(kind: ErrorKind, msg: impl Into<Cow<'static, str>>) -> Error {
        Error {
            kind,
            msg: msg.into(),
            os_errno: None,
            extra: None,
        }
    }

    /// An error caused by an OS-level I/O failure; keeps its errno, and the
    /// `io::Error` as its [`source`](std::error::Error::source).
    pub fn from_io(kind: ErrorKind, context: impl fmt::Display, err: &io::Error) -> Error {
        // io::Error is not Clone: keep an equal one (same errno or kind).
        let cause = match err.raw_os_error() {
            Some(errno) => io::Error::from_raw_os_error(errno),
            None => io::Error::new(err.kind(), err.to_string()),
        };
        Error::new(kind, format!("{context}: {err}"))
            .with_errno(err.raw_os_error())
            .with_source(cause)
    }

    /// Keeps `cause` as this error's [`source`](std::error::Error::source).
    pub(crate) fn with_source(
        mut self,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        self.extra.get_or_insert_with(Box::default).source = Some(Arc::new(cause));
        self
    }

    /// Attaches what went wrong with a proxy.
    pub(crate) fn with_proxy_failure(mut self, failure: ProxyFailure) -> Error {
        self.extra.get_or_insert_with(Box::default).proxy = Some(failure);
        self
    }

    /// What went wrong with a proxy, when a proxy is what failed.
    pub fn proxy_failure(&self) -> Option<&ProxyFailure> {
        self.extra.as_ref().and_then(|e| e.proxy.as_ref())
    }

    /// The "nothing can move now" error, free of allocation.
    pub(crate) fn again() -> Error {
        Error::new(ErrorKind::Again, "socket not ready for send/recv")
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// libcurl's `CURLcode` number.
    pub fn code(&self) -> u32 {
        self.kind.code()
    }

    /// True for `CURLE_AGAIN`: nothing could be sent or received right now.
    pub fn is_again(&self) -> bool {
        self.kind == ErrorKind::Again
    }

    /// True for `CURLE_OPERATION_TIMEDOUT`.
    pub fn is_operation_timedout(&self) -> bool {
        self.kind == ErrorKind::OperationTimedout
    }

    /// The message: what failed and where.
    pub fn message(&self) -> &str {
        &self.msg
    }

    /// The OS error number behind this error, if any.
    pub fn os_errno(&self) -> Option<i32> {
        self.os_errno
    }

    pub(crate) fn with_errno(mut self, errno: Option<i32>) -> Error {
        self.os_errno = errno;
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.msg.is_empty() {
            f.write_str(self.kind.description())
        } else {
            f.write_str(&self.msg)
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Error {{ {} ({}): {} }}",
            self.kind.curl_name(),
            self.kind.code(),
            self
        )
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        let source = self.extra.as_ref()?.source.as_ref()?;
        Some(source.as_ref() as &(dyn std::error::Error + 'static))
    }
}

impl From<Error> for io::Error {
    fn from(err: Error) -> io::Error {
        let cause = std::error::Error::source(&err).and_then(|c| c.downcast_ref::<io::Error>());
        let kind = match err.kind {
            // A TLS peer that closed without close_notify.
            _ if cause.is_some_and(|c| c.kind() == io::ErrorKind::UnexpectedEof) => {
                io::ErrorKind::UnexpectedEof
            }
            ErrorKind::Again => io::ErrorKind::WouldBlock,
            ErrorKind::OperationTimedout => io::ErrorKind::TimedOut,
            ErrorKind::CouldntConnect => io::ErrorKind::ConnectionRefused,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_the_table() {
        for code in 0..128 {
            if let Some(kind) = ErrorKind::from_code(code) {
                assert_eq!(kind.code(), code);
                assert!(kind.curl_name().starts_with("CURLE_"));
            }
        }
        assert_eq!(ErrorKind::Again.code(), 81);
        assert_eq!(ErrorKind::PeerFailedVerification.code(), 60);
        assert_eq!(ErrorKind::CouldntResolveHost.code(), 6);
    }

    #[test]
    fn causes_are_kept_and_the_error_stays_small() {
        use std::error::Error as _;
        let io = io::Error::from_raw_os_error(104);
        let e = Error::from_io(ErrorKind::RecvError, "recv from 127.0.0.1:1", &io);
        assert_eq!(e.os_errno(), Some(104));
        let cause = e.source().expect("the io error is kept");
        assert_eq!(cause.to_string(), io.to_string());
        assert!(Error::again().source().is_none());
        assert!(
            std::mem::size_of::<Error>() <= 48,
            "{}",
            std::mem::size_of::<Error>()
        );
        let p = Error::new(ErrorKind::CouldntConnect, "x")
            .with_proxy_failure(ProxyFailure::ConnectRefused { status: 403 });
        assert_eq!(
            p.proxy_failure(),
            Some(&ProxyFailure::ConnectRefused { status: 403 })
        );
    }

    #[test]
    fn display_prefers_the_message() {
        let e = Error::new(ErrorKind::CouldntConnect, "Failed to connect to h port 1");
        assert_eq!(e.to_string(), "Failed to connect to h port 1");
        assert_eq!(e.code(), 7);
        let bare = Error::new(ErrorKind::Again, "");
        assert_eq!(bare.to_string(), "Socket not ready for send/recv");
        assert!(bare.is_again());
    }
}
