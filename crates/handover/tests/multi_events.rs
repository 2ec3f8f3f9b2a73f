//! The event-driven `Multi` (libcurl's `curl_multi_socket_action`): a loop
//! that knows only what the socket function and the timer function told
//! it, over real sockets. The loop polls with `poll(2)` through an empty
//! `Multi`'s `wait` (the tests stay free of `unsafe`; the C tests run the
//! same over epoll).

mod common;

use std::collections::HashMap;
use std::os::fd::RawFd;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::{echo, pattern};
use handover::{ConnectOnly, Easy, EasyHandle, Events, Multi, WaitFd};
use handover_test_support::peers::{assert_same, Behavior, TcpPeer, TestPki, TlsPeer};

/// What the application's loop knows: only what the callbacks said.
#[derive(Default)]
struct Told {
    /// Descriptor -> (read, write, socket token).
    watched: HashMap<RawFd, (bool, bool, usize)>,
    /// When `action(SOCKET_TIMEOUT)` is due.
    timer: Option<Instant>,
    adds: usize,
    changes: usize,
    removes: usize,
    timer_calls: Vec<Option<Duration>>,
    /// Calls that repeated what was said, or removed what was never added.
    violations: Vec<String>,
}

fn told(state: &Mutex<Told>) -> MutexGuard<'_, Told> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// Installs socket and timer functions that record into a `Told`.
fn instrument(multi: &mut Multi) -> Arc<Mutex<Told>> {
    let state = Arc::new(Mutex::new(Told::default()));
    let s = state.clone();
    multi
        .socket_function(move |fd, events, token| {
            let mut t = told(&s);
            if events.remove() {
                if t.watched.remove(&fd).is_none() {
                    t.violations.push(format!("remove of unwatched {fd}"));
                }
                t.removes += 1;
                return;
            }
            let now = (events.wants_read(), events.wants_write(), token);
            match t.watched.insert(fd, now) {
                None => t.adds += 1,
                Some(before) if before == now => {
                    t.violations.push(format!("{fd} told {events:?} twice"));
                }
                Some(_) => t.changes += 1,
            }
        })
        .unwrap();
    let s = state.clone();
    multi
        .timer_function(move |after| {
            let mut t = told(&s);
            t.timer_calls.push(after);
            t.timer = after.map(|d| Instant::now() + d);
            true
        })
        .unwrap();
    state
}

/// Runs the loop until `expected` completion messages arrived: poll what
/// the socket function said, `action` on what is ready, `action` with
/// `SOCKET_TIMEOUT` when the timer function's time comes.
fn run_events(
    multi: &mut Multi,
    state: &Arc<Mutex<Told>>,
    expected: usize,
) -> Vec<(usize, Result<(), handover::Error>)> {
    let mut poller = Multi::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut done = Vec::new();
    while done.len() < expected {
        assert!(
            Instant::now() < deadline,
            "stalled at {} of {expected}",
            done.len()
        );
        let (mut fds, wait) = {
            let t = told(state);
            let fds: Vec<WaitFd> = t
                .watched
                .iter()
                .map(|(&fd, &(read, write, _))| {
                    let mut w = WaitFd::new();
                    w.set_fd(fd);
                    w.poll_on_read(read).poll_on_write(write);
                    w
                })
                .collect();
            let wait = t.timer.map_or(Duration::from_secs(5), |at| {
                at.saturating_duration_since(Instant::now())
            });
            (fds, wait)
        };
        poller.poll(&mut fds, wait).unwrap();
        for fd in &fds {
            if fd.received_read() || fd.received_write() {
                let mut events = Events::new();
                events.input(fd.received_read()).output(fd.received_write());
                multi.action(fd.fd(), &events).unwrap();
            }
        }
        let fire = {
            let mut t = told(state);
            let due = t.timer.is_some_and(|at| at <= Instant::now());
            if due {
                t.timer = None; // a one-shot timer, as libcurl's contract
            }
            due
        };
        if fire {
            multi.action(Multi::SOCKET_TIMEOUT, &Events::new()).unwrap();
        }
        multi.messages(|m| done.push((m.token(), m.result())));
    }
    done
}

fn connect_only(url: &str) -> Easy {
    let mut easy = Easy::new();
    easy.url(url).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    easy.connect_timeout(Duration::from_secs(30)).unwrap();
    easy
}

#[test]
fn a_thousand_transfers_connect_driven_only_by_the_socket_and_timer_functions() {
    const N: usize = 1000;
    let server = TcpPeer::start(Behavior::Echo);
    let mut multi = Multi::new();
    let state = instrument(&mut multi);
    let url = format!("telnet://127.0.0.1:{}", server.port());
    let handles: Vec<EasyHandle> = (0..N)
        .map(|i| {
            let mut h = multi.add(connect_only(&url)).unwrap();
            h.set_token(i);
            h
        })
        .collect();
    assert!(
        told(&state)
            .timer_calls
            .iter()
            .all(|c| *c == Some(Duration::ZERO)),
        "adding says: now"
    );

    let done = run_events(&mut multi, &state, N);
    assert!(done.iter().all(|(_, r)| r.is_ok()), "{:?}", &done[..3]);
    let mut tokens: Vec<usize> = done.iter().map(|(t, _)| *t).collect();
    tokens.sort_unstable();
    assert_eq!(tokens, (0..N).collect::<Vec<_>>());

    let t = told(&state);
    assert!(t.violations.is_empty(), "{:?}", t.violations);
    // A plain TCP connect: wait to write while it is in flight (on
    // loopback most complete at once and are never watched), then nothing.
    assert_eq!(t.changes, 0);
    assert_eq!(t.adds, t.removes);
    assert!(t.adds <= N);
    assert!(t.watched.is_empty(), "connected transfers wait on nothing");
    assert_eq!(t.timer, None, "no deadline left");
    drop(t);

    // Every connection still works through its handle.
    for (i, h) in handles.iter().enumerate().step_by(97) {
        let data = pattern(3000, i as u64);
        let mut pipe = h;
        assert_same(&echo(&mut pipe, &data), &data);
    }
    // Removing a connected handle says nothing: its socket was not watched.
    let before = told(&state).removes;
    let mut handles = handles;
    let easy = multi.remove(handles.remove(0)).unwrap();
    assert_eq!(easy.active_socket(), None);
    assert_eq!(told(&state).removes, before);
}

#[test]
fn tls_transfers_are_told_each_change_once() {
    let pki = TestPki::new();
    let server = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);
    let mut multi = Multi::new();
    let state = instrument(&mut multi);
    let mut handles = Vec::new();
    for i in 0..20 {
        let mut easy = connect_only(&format!("https://localhost:{}/", server.port()));
        easy.cainfo(&ca).unwrap();
        let mut h = multi.add(easy).unwrap();
        h.set_token(i);
        handles.push(h);
    }
    let done = run_events(&mut multi, &state, 20);
    assert!(done.iter().all(|(_, r)| r.is_ok()), "{done:?}");
    let t = told(&state);
    assert!(t.violations.is_empty(), "{:?}", t.violations);
    assert_eq!(t.adds, t.removes, "every descriptor told is let go");
    // (A handshake may also complete within one step, when the server's
    // answer is there by the time the client reads.)
    assert!(t.adds > 0, "handshakes wait to read");
    assert!(t.watched.is_empty());
    // At most: the connect's write wait, the handshake's read wait, the end.
    let calls = t.adds + t.changes + t.removes;
    assert!(calls <= 3 * 20, "{calls} calls for 20 transfers");
    assert_eq!(t.timer, None);
    drop(t);
    let data = pattern(20_000, 5);
    let mut pipe = &handles[3];
    assert_same(&echo(&mut pipe, &data), &data);
}

#[test]
fn a_silent_server_times_out_at_the_connect_timeout_through_the_timer() {
    // TLS to a TCP peer that never answers: the handshake waits until the
    // connect timeout, which only the timer function can bring.
    let server = TcpPeer::start(Behavior::Silent);
    let mut multi = Multi::new();
    let state = instrument(&mut multi);
    let mut easy = connect_only(&format!("https://127.0.0.1:{}/", server.port()));
    easy.connect_timeout(Duration::from_millis(300)).unwrap();
    multi.add(easy).unwrap();
    let started = Instant::now();
    let done = run_events(&mut multi, &state, 1);
    let took = started.elapsed();
    let err = done[0].1.as_ref().unwrap_err();
    assert_eq!(err.code(), 28, "{err}");
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_secs(3),
        "timed out after {took:?}"
    );
    let t = told(&state);
    // The timer said "now" for the start, then the time left.
    assert!(
        t.timer_calls
            .iter()
            .any(|c| c.is_some_and(|d| d > Duration::from_millis(200))),
        "{:?}",
        t.timer_calls
    );
    assert_eq!(t.timer, None, "no timer left with the application");
    assert!(
        t.watched.is_empty(),
        "the failed transfer's socket is let go"
    );
    assert!(t.violations.is_empty(), "{:?}", t.violations);
}

#[test]
fn connection_limits_make_transfers_wait_and_connect_only_connections_count() {
    let server = TcpPeer::start(Behavior::Echo);
    let url = format!("telnet://127.0.0.1:{}", server.port());
    let mut multi = Multi::new();
    multi.set_max_total_connections(3).unwrap();
    let mut handles: Vec<EasyHandle> = (0..6)
        .map(|i| {
            let mut h = multi.add(connect_only(&url)).unwrap();
            h.set_token(i);
            h
        })
        .collect();
    let mut done = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while done.len() < 3 {
        assert!(Instant::now() < deadline);
        multi.perform().unwrap();
        multi.messages(|m| done.push(m.token()));
        multi.wait(&mut [], Duration::from_millis(50)).unwrap();
    }
    // The three connections live with their handles: the others wait.
    for _ in 0..5 {
        assert_eq!(multi.perform().unwrap(), 3);
        multi.wait(&mut [], Duration::from_millis(20)).unwrap();
    }
    multi.messages(|m| done.push(m.token()));
    assert_eq!(done.len(), 3, "{done:?}");
    assert!(server.wait_accepted(3, Duration::from_secs(5)));
    assert_eq!(server.accepted(), 3);

    // Removing one lets one more connect.
    let first = handles.iter().position(|h| h.token() == done[0]).unwrap();
    multi.remove(handles.remove(first)).unwrap();
    while done.len() < 4 {
        assert!(Instant::now() < deadline);
        multi.perform().unwrap();
        multi.messages(|m| done.push(m.token()));
        multi.wait(&mut [], Duration::from_millis(50)).unwrap();
    }
    assert_eq!(multi.perform().unwrap(), 2);

    // Per host: the same, counted on the first hop.
    let mut per_host = Multi::new();
    per_host.set_max_host_connections(1).unwrap();
    let _a = per_host.add(connect_only(&url)).unwrap();
    let _b = per_host.add(connect_only(&url)).unwrap();
    let mut n = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while n < 1 {
        assert!(Instant::now() < deadline);
        per_host.perform().unwrap();
        per_host.messages(|_| n += 1);
        per_host.wait(&mut [], Duration::from_millis(50)).unwrap();
    }
    assert_eq!(per_host.perform().unwrap(), 1, "the second one waits");
}

#[test]
fn assign_gives_the_socket_function_the_applications_token() {
    let server = TcpPeer::start(Behavior::Silent);
    let mut multi = Multi::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    multi
        .socket_function(move |fd, events, token| s.lock().unwrap().push((fd, events, token)))
        .unwrap();
    // https to a silent TCP peer: the socket stays watched for the handshake.
    let mut easy = connect_only(&format!("https://127.0.0.1:{}/", server.port()));
    easy.connect_timeout(Duration::from_secs(5)).unwrap();
    let mut h = multi.add(easy).unwrap();
    h.set_token(42);
    assert_eq!(multi.assign(12345, 1).unwrap_err().code(), 43);
    let deadline = Instant::now() + Duration::from_secs(10);
    let fd = loop {
        assert!(Instant::now() < deadline);
        multi.action(Multi::SOCKET_TIMEOUT, &Events::new()).unwrap();
        if let Some(&(fd, _, _)) = seen.lock().unwrap().first() {
            break fd;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let first = seen.lock().unwrap()[0];
    assert_eq!(first.1.handle_token(), 42);
    assert!(
        first.1.wants_read(),
        "the handshake waits to read: {first:?}"
    );
    assert_eq!(first.2, 0, "no token before assign");
    multi.assign(fd, 77).unwrap();
    // Removal tells "remove", with the token.
    multi.remove(h).unwrap();
    let last = *seen.lock().unwrap().last().unwrap();
    assert!(last.1.remove());
    assert_eq!((last.0, last.2), (fd, 77));
    assert_eq!(multi.timeout(), None);
}

#[test]
fn a_socket_function_that_says_stop_fails_the_multi() {
    // A handshake that waits: the socket function is asked at once.
    let server = TcpPeer::start(Behavior::Silent);
    let mut multi = Multi::new();
    multi.socket_function(|_, _, _| false).unwrap();
    let h = multi
        .add(connect_only(&format!(
            "https://127.0.0.1:{}/",
            server.port()
        )))
        .unwrap();
    let err = multi
        .action(Multi::SOCKET_TIMEOUT, &Events::new())
        .unwrap_err();
    assert_eq!(err.code(), 42);
    // From then on every transfer fails, and adding is refused while one lives.
    let _ = multi.perform();
    let mut results = Vec::new();
    multi.messages(|m| results.push(m.result()));
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].as_ref().unwrap_err().code(), 42);
    multi.remove(h).unwrap();
    // As libcurl: a failed Multi asks to be called at once...
    assert_eq!(multi.timeout(), Some(Duration::ZERO));
    // ...until, with no transfer left, a new one starts it over.
    let again = multi
        .add(connect_only(&format!(
            "https://127.0.0.1:{}/",
            server.port()
        )))
        .unwrap();
    multi.remove_socket_function();
    multi.perform().unwrap();
    assert_eq!(multi.perform().unwrap(), 1, "runs, no longer fails");
    multi.remove(again).unwrap();
}

#[test]
fn an_assigner_gives_tokens_from_inside_the_socket_function() {
    // As libcurl's curl_multi_assign from the socket callback: the token
    // comes back with every later call about the socket.
    let server = TcpPeer::start(Behavior::Silent);
    let mut multi = Multi::new();
    let assigner = multi.assigner();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    multi
        .socket_function(move |fd, events, token| {
            s.lock().unwrap().push((events.bits(), token));
            if token == 0 && !events.remove() {
                assigner.assign(fd, 1000 + fd as usize).unwrap();
            }
        })
        .unwrap();
    let mut easy = connect_only(&format!("https://127.0.0.1:{}/", server.port()));
    easy.connect_timeout(Duration::from_millis(200)).unwrap();
    multi.add(easy).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut results = Vec::new();
    while results.is_empty() {
        assert!(Instant::now() < deadline);
        multi.action(Multi::SOCKET_TIMEOUT, &Events::new()).unwrap();
        multi.messages(|m| results.push(m.result()));
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(results[0].as_ref().unwrap_err().code(), 28);
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 2, "{seen:?}");
    assert_eq!(seen[0].1, 0, "no token before it was assigned");
    let (bits, token) = *seen.last().unwrap();
    assert_eq!(bits, 4, "{seen:?}");
    assert!(
        token > 1000,
        "the remove carries the assigned token: {seen:?}"
    );
}
