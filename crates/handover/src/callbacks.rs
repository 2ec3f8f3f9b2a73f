//! The application's callbacks (`CURLOPT_WRITEFUNCTION`, `HEADERFUNCTION`,
//! `READFUNCTION`, `SEEKFUNCTION`, the socket functions, `PREREQFUNCTION`),
//! shareable so a
//! transfer can carry a copy of the options.

use std::fmt;
use std::io::SeekFrom;
use std::net::SocketAddr;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex};

type WriteFn = dyn FnMut(&[u8]) -> Result<usize, WriteError> + Send;
type HeaderFn = dyn FnMut(&[u8]) -> bool + Send;
type ReadFn = dyn FnMut(&mut [u8]) -> Result<usize, ReadError> + Send;
type SeekFn = dyn FnMut(SeekFrom) -> SeekResult + Send;

/// A write callback may ask to pause; handover has no pause, so this only
/// exists for the `curl` crate's shape and stops the transfer.
///
/// # Examples
///
/// ```no_run
/// use std::sync::{Arc, Mutex};
/// use handover::{Easy, WriteError};
///
/// let body = Arc::new(Mutex::new(Vec::new()));
/// let sink = Arc::clone(&body);
///
/// let mut easy = Easy::new();
/// easy.url("https://example.com/")?;
/// easy.write_function(move |data| {
///     let mut body = sink.lock().unwrap();
///     if body.len() + data.len() > 1 << 20 {
///         return Err(WriteError::Pause); // stops the transfer: WriteError (23)
///     }
///     body.extend_from_slice(data);
///     Ok(data.len())
/// })?;
/// easy.perform()?;
/// println!("{} bytes", body.lock().unwrap().len());
/// # Ok::<(), handover::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteError {
    /// Stop the transfer (`CURLE_WRITE_ERROR`).
    Pause,
}

/// How a read callback stops an upload.
///
/// # Examples
///
/// ```no_run
/// use std::io::Read;
/// use handover::{Easy, ReadError};
///
/// let mut file = std::fs::File::open("upload.bin").expect("the file to upload");
/// let size = file.metadata().expect("its size").len();
///
/// let mut easy = Easy::new();
/// easy.url("https://example.com/upload")?;
/// easy.upload(true)?;
/// easy.in_filesize(size)?;
/// easy.read_function(move |buf| file.read(buf).map_err(|_| ReadError::Abort))?;
/// easy.perform()?;
/// # Ok::<(), handover::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// Stop the transfer (`CURLE_ABORTED_BY_CALLBACK`).
    Abort,
    /// No body bytes now (`CURL_READFUNC_PAUSE`): the upload waits while
    /// the transfer goes on (its answer is read), and the read function is
    /// asked again as the transfer moves — at the latest when a byte of the
    /// answer arrives. A reader that must not be asked before some event
    /// answers `Pause` again until then (libcurl's C face does so until
    /// `curl_easy_pause` lets the upload go on).
    Pause,
}

/// What a seek function answers (libcurl's `CURL_SEEKFUNC_*`, the `curl`
/// crate's `SeekResult`).
///
/// # Examples
///
/// ```no_run
/// use std::io::{Read, Seek};
/// use std::sync::{Arc, Mutex};
/// use handover::{Easy, ReadError, SeekResult};
///
/// let file = std::fs::File::open("upload.bin").expect("the file to upload");
/// let size = file.metadata().expect("its size").len();
/// let file = Arc::new(Mutex::new(file));
/// let (reader, seeker) = (Arc::clone(&file), file);
///
/// let mut easy = Easy::new();
/// easy.url("http://example.com/upload")?;
/// easy.post(true)?;
/// easy.post_field_size(size)?;
/// easy.read_function(move |buf| reader.lock().unwrap().read(buf).map_err(|_| ReadError::Abort))?;
/// // Called when the body must be sent again (a reused connection died).
/// easy.seek_function(move |to| match seeker.lock().unwrap().seek(to) {
///     Ok(_) => SeekResult::Ok,
///     Err(_) => SeekResult::Fail,
/// })?;
/// easy.perform()?;
/// # Ok::<(), handover::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeekResult {
    /// The read function starts over from the asked position
    /// (`CURL_SEEKFUNC_OK`, 0).
    Ok = 0,
    /// The seek failed: the transfer fails with `SendFailRewind` (65)
    /// (`CURL_SEEKFUNC_FAIL`, 1).
    Fail = 1,
    /// This body cannot seek: as `Fail` for a rewind, the only seek
    /// handover asks for (`CURL_SEEKFUNC_CANTSEEK`, 2).
    CantSeek = 2,
}

fn lock<T: ?Sized>(m: &Mutex<Box<T>>) -> std::sync::MutexGuard<'_, Box<T>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Where response bodies (or WebSocket payloads) go.
#[derive(Clone)]
pub(crate) struct Writer(Arc<Mutex<Box<WriteFn>>>);

impl Writer {
    pub fn new(f: Box<WriteFn>) -> Writer {
        Writer(Arc::new(Mutex::new(f)))
    }

    pub fn write(&self, data: &[u8]) -> Result<usize, WriteError> {
        (lock(&self.0))(data)
    }
}

/// Where response header lines go, one call per line, CRLF included.
#[derive(Clone)]
pub(crate) struct HeaderSink(Arc<Mutex<Box<HeaderFn>>>);

impl HeaderSink {
    pub fn new(f: Box<HeaderFn>) -> HeaderSink {
        HeaderSink(Arc::new(Mutex::new(f)))
    }

    pub fn header(&self, line: &[u8]) -> bool {
        (lock(&self.0))(line)
    }
}

/// Where an upload's bytes come from.
#[derive(Clone)]
pub(crate) struct Reader(Arc<Mutex<Box<ReadFn>>>);

impl Reader {
    pub fn new(f: Box<ReadFn>) -> Reader {
        Reader(Arc::new(Mutex::new(f)))
    }

    pub fn read(&self, buf: &mut [u8]) -> Result<usize, ReadError> {
        (lock(&self.0))(buf)
    }
}

/// The application's `CURLOPT_SEEKFUNCTION`.
#[derive(Clone)]
pub(crate) struct Seeker(Arc<Mutex<Box<SeekFn>>>);

impl Seeker {
    pub fn new(f: Box<SeekFn>) -> Seeker {
        Seeker(Arc::new(Mutex::new(f)))
    }

    pub fn seek(&self, to: SeekFrom) -> SeekResult {
        (lock(&self.0))(to)
    }
}

macro_rules! opaque_debug {
    ($($t:ty),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(stringify!($t))
            }
        }
    )*};
}
opaque_debug!(Writer, HeaderSink, Reader, Seeker);

/// Why handover opens a socket (libcurl's `curlsocktype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketPurpose {
    /// A connection to a peer: the server or the first proxy
    /// (`CURLSOCKTYPE_IPCXN`, 0).
    IpConnection,
}

impl SocketPurpose {
    /// libcurl's number for it (`CURLSOCKTYPE_IPCXN` is 0).
    pub fn as_raw(self) -> i32 {
        match self {
            SocketPurpose::IpConnection => 0,
        }
    }
}

/// The socket handover is about to open, as libcurl's `struct
/// curl_sockaddr`: what to pass to `socket(2)`, and the address the socket
/// will connect to. The open-socket function may change `addr`: handover
/// connects to what it holds afterwards, as libcurl does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketRequest {
    /// `AF_INET` or `AF_INET6`.
    pub family: i32,
    /// `SOCK_STREAM`.
    pub socktype: i32,
    /// `IPPROTO_TCP`.
    pub protocol: i32,
    /// The address to connect to.
    pub addr: std::net::SocketAddr,
}

/// What a socket-option function answers (libcurl's `CURL_SOCKOPT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockoptResult {
    /// Go on: bind and connect (`CURL_SOCKOPT_OK`, 0).
    Ok,
    /// Give up: the transfer fails with `AbortedByCallback` (42)
    /// (`CURL_SOCKOPT_ERROR`, 1).
    Error,
    /// The socket is connected already: handover skips `connect(2)`
    /// (`CURL_SOCKOPT_ALREADY_CONNECTED`, 2).
    AlreadyConnected,
}

type OpenSocketFn = dyn FnMut(SocketPurpose, &mut SocketRequest) -> Option<OwnedFd> + Send;
type SockoptFn = dyn for<'a> FnMut(BorrowedFd<'a>, SocketPurpose) -> SockoptResult + Send;
type CloseSocketFn = dyn FnMut(OwnedFd) + Send;
type PrereqFn = dyn FnMut(SocketAddr, SocketAddr) -> bool + Send;
type ResolverStartFn = dyn FnMut(&str) -> bool + Send;

/// The application's `CURLOPT_OPENSOCKETFUNCTION`.
#[derive(Clone)]
pub(crate) struct SocketOpener(Arc<Mutex<Box<OpenSocketFn>>>);

impl SocketOpener {
    pub fn new(f: Box<OpenSocketFn>) -> SocketOpener {
        SocketOpener(Arc::new(Mutex::new(f)))
    }

    pub fn open(&self, purpose: SocketPurpose, request: &mut SocketRequest) -> Option<OwnedFd> {
        (lock(&self.0))(purpose, request)
    }
}

/// The application's `CURLOPT_SOCKOPTFUNCTION`.
#[derive(Clone)]
pub(crate) struct SocketConfigurer(Arc<Mutex<Box<SockoptFn>>>);

impl SocketConfigurer {
    pub fn new(f: Box<SockoptFn>) -> SocketConfigurer {
        SocketConfigurer(Arc::new(Mutex::new(f)))
    }

    pub fn configure(&self, fd: BorrowedFd<'_>, purpose: SocketPurpose) -> SockoptResult {
        (lock(&self.0))(fd, purpose)
    }
}

/// The application's `CURLOPT_CLOSESOCKETFUNCTION`: closes, in place of
/// `close(2)`, every socket of the connections it was set for.
#[derive(Clone)]
pub(crate) struct SocketCloser(Arc<Mutex<Box<CloseSocketFn>>>);

impl SocketCloser {
    pub fn new(f: Box<CloseSocketFn>) -> SocketCloser {
        SocketCloser(Arc::new(Mutex::new(f)))
    }

    pub fn close(&self, fd: OwnedFd) {
        (lock(&self.0))(fd);
    }
}

/// The application's `CURLOPT_PREREQFUNCTION`.
#[derive(Clone)]
pub(crate) struct Prereq(Arc<Mutex<Box<PrereqFn>>>);

impl Prereq {
    pub fn new(f: Box<PrereqFn>) -> Prereq {
        Prereq(Arc::new(Mutex::new(f)))
    }

    pub fn call(&self, primary: SocketAddr, local: SocketAddr) -> bool {
        (lock(&self.0))(primary, local)
    }
}

/// The application's `CURLOPT_RESOLVER_START_FUNCTION`.
#[derive(Clone)]
pub(crate) struct ResolverStart(Arc<Mutex<Box<ResolverStartFn>>>);

impl ResolverStart {
    pub fn new(f: Box<ResolverStartFn>) -> ResolverStart {
        ResolverStart(Arc::new(Mutex::new(f)))
    }

    pub fn call(&self, host: &str) -> bool {
        (lock(&self.0))(host)
    }
}

/// The socket functions a transfer uses for the sockets it opens.
#[derive(Clone, Default, Debug)]
pub(crate) struct SocketHooks {
    pub open: Option<SocketOpener>,
    pub sockopt: Option<SocketConfigurer>,
    pub close: Option<SocketCloser>,
}

opaque_debug!(
    SocketOpener,
    SocketConfigurer,
    SocketCloser,
    Prereq,
    ResolverStart
);
