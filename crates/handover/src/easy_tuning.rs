//! `Easy`'s buffer sizes, connection upkeep, the server response timeout
//! and quick exit: settings that tune how a transfer runs rather than
//! where it goes.

use std::time::{Duration, Instant};

use crate::error::Error;
use crate::options::{BUFFER_SIZE_RANGE, DEFAULT_UPKEEP_INTERVAL, UPLOAD_BUFFER_SIZE_RANGE};
use crate::Easy;

impl Easy {
    /// The most response body bytes one write callback call gets
    /// (`CURLOPT_BUFFERSIZE`): 16 KiB by default; kept within libcurl's
    /// bounds, 1 KiB to 10 MiB. handover reads at most 16 KiB at a time, so
    /// a larger value changes nothing (libcurl too treats it as a wish).
    pub fn buffer_size(&mut self, size: usize) -> Result<(), Error> {
        self.opts.buffer_size = Some(size.clamp(BUFFER_SIZE_RANGE.0, BUFFER_SIZE_RANGE.1));
        Ok(())
    }

    /// The most bytes one read callback call is asked for
    /// (`CURLOPT_UPLOAD_BUFFERSIZE`): 64 KiB by default; kept within
    /// libcurl's bounds, 16 KiB to 2 MiB. handover asks for at most 64 KiB
    /// at a time, so a larger value changes nothing.
    pub fn upload_buffer_size(&mut self, size: usize) -> Result<(), Error> {
        self.opts.upload_buffer_size =
            Some(size.clamp(UPLOAD_BUFFER_SIZE_RANGE.0, UPLOAD_BUFFER_SIZE_RANGE.1));
        Ok(())
    }

    /// How long an idle pooled connection goes between checks by
    /// [`upkeep`](Easy::upkeep) (`CURLOPT_UPKEEP_INTERVAL_MS`; 60 s by
    /// default).
    pub fn upkeep_interval(&mut self, interval: Duration) -> Result<(), Error> {
        self.opts.upkeep_interval = Some(interval);
        Ok(())
    }

    /// Looks after the idle connections of the handle's pool
    /// (`curl_easy_upkeep`) — its share's when the share shares
    /// connections, as libcurl 8 does (7.88 looks at the handle's own
    /// only): each not checked for the upkeep interval is checked now,
    /// and closed if the server closed it or it outlived
    /// `maxage_conn`/`maxlifetime_conn`. libcurl's upkeep sends HTTP/2
    /// PINGs and does nothing for HTTP/1.1, which is all handover pools;
    /// closing dead connections early is handover's own (the next transfer
    /// would otherwise find them dead). Connect-only connections are the
    /// application's and are not touched.
    pub fn upkeep(&mut self) -> Result<(), Error> {
        let interval = self.opts.upkeep_interval.unwrap_or(DEFAULT_UPKEEP_INTERVAL);
        let limits = self.opts.reuse;
        self.pool().upkeep(interval, limits, Instant::now());
        Ok(())
    }

    /// How long to wait for a server's response line
    /// (`CURLOPT_SERVER_RESPONSE_TIMEOUT`), for FTP, SMTP, IMAP and POP3;
    /// HTTP does not use it, as in libcurl. (Those protocols' connect
    /// phases are not built yet; the setting is kept for them.)
    pub fn server_response_timeout(&mut self, timeout: Duration) -> Result<(), Error> {
        self.opts.server_response_timeout = Some(timeout);
        Ok(())
    }

    /// The schemes this handle's transfers may use
    /// (`CURLOPT_PROTOCOLS_STR`): a comma-separated list of names, `"ALL"`
    /// for every one (the default). A URL of another scheme fails with
    /// `UnsupportedProtocol` (1); an unknown name here is
    /// `BadFunctionArgument` (43), as libcurl's `CURLE_BAD_FUNCTION_ARGUMENT`
    /// for a list naming nothing it knows.
    pub fn protocols_str(&mut self, list: &str) -> Result<(), Error> {
        if list.trim().eq_ignore_ascii_case("all") {
            self.opts.protocols = None;
            return Ok(());
        }
        let mut names = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match handover_proto::url::Scheme::from_name(&name.to_ascii_lowercase()) {
                Some(scheme) => names.push(scheme.name().to_owned()),
                // libcurl skips names it does not know, and fails only
                // when none is left.
                None => continue,
            }
        }
        // As libcurl: the list is cleared first, so one naming nothing
        // leaves nothing allowed even though it is refused (curl's tool
        // goes on after the refusal: `--proto -all` then fails with 1,
        // curl's test 1474).
        let none = names.is_empty();
        self.opts.protocols = Some(names);
        if none {
            return Err(Error::new(
                crate::error::ErrorKind::BadFunctionArgument,
                format!("no protocol handover knows in {list:?}"),
            ));
        }
        Ok(())
    }

    /// How many idle connections the handle keeps for reuse
    /// (`CURLOPT_MAXCONNECTS`; 5 by default, as libcurl; 0 counts as 1);
    /// the oldest go first. It bounds the pool the handle gives a
    /// connection back to — a [`Share`](crate::Share)'s too, as in
    /// libcurl. (A `Multi` has its own limit, which applies while the
    /// handle is added.)
    pub fn max_connects(&mut self, max: usize) -> Result<(), Error> {
        self.max_connects = max;
        Ok(())
    }

    /// libcurl's `CURLOPT_QUICK_EXIT`: do not wait for resolver threads when
    /// the handle goes. handover never waits for them (a lookup that
    /// outlives its transfer finishes on the shared pool and is thrown
    /// away), so this is accepted and changes nothing.
    pub fn quick_exit(&mut self, on: bool) -> Result<(), Error> {
        self.opts.quick_exit = on;
        Ok(())
    }
}
