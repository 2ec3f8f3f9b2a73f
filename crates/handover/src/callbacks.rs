//! The application's callbacks (`CURLOPT_WRITEFUNCTION`, `HEADERFUNCTION`,
//! `READFUNCTION`), shareable so a transfer can carry a copy of the options.

use std::fmt;
use std::sync::{Arc, Mutex};

type WriteFn = dyn FnMut(&[u8]) -> Result<usize, WriteError> + Send;
type HeaderFn = dyn FnMut(&[u8]) -> bool + Send;
type ReadFn = dyn FnMut(&mut [u8]) -> Result<usize, ReadError> + Send;

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
    /// Pause (not supported: stops the transfer with `CURLE_READ_ERROR`).
    Pause,
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

macro_rules! opaque_debug {
    ($($t:ty),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(stringify!($t))
            }
        }
    )*};
}
opaque_debug!(Writer, HeaderSink, Reader);
