//! A `Share` that shares connections (`CURL_LOCK_DATA_CONNECT`), against
//! nginx: a keep-alive connection one handle made is the next handle's,
//! on the same thread or another, in a `Multi` or not; handles outside
//! the share never get it; a connect-only connection never enters the
//! pool; the handle giving a connection back bounds the pool.
//!
//! Every test fetches a file of its own from the nginx this binary
//! shares, so that nginx's access log (`$connection $connection_requests
//! "$request" ...`) tells which connection served each of its requests.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::collect_body;
use handover::{ConnectOnly, Easy, EasyHandle, Multi, Share};
use handover_test_support::peers::TestPki;
use handover_test_support::real_peers::Nginx;

struct Site {
    nginx: &'static Nginx,
    ca: PathBuf,
}

fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        let pki = TestPki::shared();
        let nginx = Nginx::shared(Some((&pki.server_chain_pem, &pki.server_key_pem)));
        Site {
            nginx,
            ca: pki.write_temp("share-ca.pem", &pki.ca_pem),
        }
    })
}

impl Site {
    /// Puts `name` and `tls-name` in the docroot; the first's URL over
    /// http, the second's over https.
    fn urls(&self, name: &str) -> [String; 2] {
        let tls_name = format!("tls-{name}");
        self.nginx.put(name, body(name).as_bytes());
        self.nginx.put(&tls_name, body(&tls_name).as_bytes());
        [
            format!("http://127.0.0.1:{}/{name}", self.nginx.port()),
            format!(
                "https://127.0.0.1:{}/{tls_name}",
                self.nginx.tls_port().unwrap()
            ),
        ]
    }

    fn easy(&self, url: &str, share: Option<&Share>) -> Easy {
        let mut easy = Easy::new();
        easy.url(url).unwrap();
        easy.cainfo(&self.ca).unwrap();
        easy.timeout(Duration::from_secs(30)).unwrap();
        easy.share(share).unwrap();
        easy
    }

    /// An ordinary GET of `url` on a new handle; the handle after it.
    fn get(&self, url: &str, share: Option<&Share>) -> Easy {
        let mut easy = self.easy(url, share);
        get_again(&mut easy, url);
        easy
    }

    /// The connection numbers nginx logged for the requests of `url`'s
    /// path, in order, once it logged `n` of them.
    fn connections(&self, url: &str, n: usize) -> Vec<String> {
        let name = url.rsplit('/').next().unwrap();
        let request = format!("\"GET /{name} HTTP/1.1\"");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.nginx.access_log();
            let found: Vec<String> = log
                .iter()
                .filter(|l| l.contains(&request))
                .map(|l| l.split(' ').next().unwrap().to_owned())
                .collect();
            if found.len() >= n || Instant::now() >= deadline {
                assert_eq!(found.len(), n, "{request} in\n{}", log.join("\n"));
                return found;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn body(name: &str) -> String {
    format!("{name}: a page for the share tests\n")
}

/// Another ordinary GET on `easy`, whose URL is `url`; checks the body.
fn get_again(easy: &mut Easy, url: &str) {
    let got = collect_body(easy);
    easy.perform().unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_eq!(easy.response_code().unwrap(), 200, "{url}");
    let name = url.rsplit('/').next().unwrap();
    assert_eq!(String::from_utf8_lossy(&got.lock().unwrap()), body(name));
}

fn local(easy: &Easy) -> std::net::SocketAddr {
    easy.info().local_addr().unwrap()
}

fn distinct(connections: &[String]) -> usize {
    connections.iter().collect::<BTreeSet<_>>().len()
}

/// Runs `handles` in a `Multi` to their end, shows the added handles to
/// `check`, then gives the `Easy`s back, in order.
fn run_multi(handles: Vec<Easy>, check: impl FnOnce(&[EasyHandle])) -> Vec<Easy> {
    run_in(Multi::new(), handles, check)
}

/// [`run_multi`] in `multi`.
fn run_in(mut multi: Multi, handles: Vec<Easy>, check: impl FnOnce(&[EasyHandle])) -> Vec<Easy> {
    let added: Vec<_> = handles.into_iter().map(|e| multi.add(e).unwrap()).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut done = 0;
    while done < added.len() {
        assert!(Instant::now() < deadline, "multi stalled at {done}");
        multi.perform().unwrap();
        multi.messages(|m| {
            m.result().unwrap();
            done += 1;
        });
        if done < added.len() {
            multi.wait(&mut [], Duration::from_millis(100)).unwrap();
        }
    }
    check(&added);
    added
        .into_iter()
        .map(|h| multi.remove(h).unwrap())
        .collect()
}

fn sharing_connections() -> Share {
    let mut share = Share::new();
    share.share_connections(true);
    share
}

#[test]
fn a_second_handle_of_the_share_reuses_the_first_ones_connection() {
    for url in site().urls("share-reuse.txt") {
        let share = sharing_connections();
        let first = site().get(&url, Some(&share));
        assert_eq!(first.info().num_connects(), 1, "{url}");
        let socket = first.last_socket();
        assert!(socket.is_some(), "{url}: the idle connection in the share");
        assert_eq!(first.active_socket(), None, "{url}: nothing handed over");

        let second = site().get(&url, Some(&share));
        assert_eq!(second.info().num_connects(), 0, "{url}: reused");
        assert_eq!(local(&second), local(&first), "{url}");
        assert_eq!(second.info().conn_id(), first.info().conn_id(), "{url}");
        // Both name the connection, idle in the share again.
        assert_eq!(second.last_socket(), socket, "{url}");
        assert_eq!(first.last_socket(), socket, "{url}");

        let served = site().connections(&url, 2);
        assert_eq!(distinct(&served), 1, "{url}: one connection, {served:?}");
    }
}

#[test]
fn handles_without_the_share_do_not_reuse_each_others_connections() {
    for url in site().urls("share-none.txt") {
        let share = sharing_connections();
        let first = site().get(&url, None);
        assert!(first.last_socket().is_some(), "{url}: in its own pool");
        let second = site().get(&url, None);
        assert_eq!(second.info().num_connects(), 1, "{url}");
        assert_ne!(local(&second), local(&first), "{url}");
        // One of the share does not take the outsiders' connections, and
        // an outsider does not take the share's.
        let member = site().get(&url, Some(&share));
        assert_eq!(member.info().num_connects(), 1, "{url}");
        let outsider = site().get(&url, None);
        assert_eq!(outsider.info().num_connects(), 1, "{url}");
        // The share's handle left it in the share, not in its own pool.
        let mut member = member;
        member.share(None).unwrap();
        assert_eq!(member.last_socket(), None, "{url}: not in its own pool");
        get_again(&mut member, &url);
        assert_eq!(member.info().num_connects(), 1, "{url}");
        let served = site().connections(&url, 5);
        assert_eq!(distinct(&served), 5, "{url}: {served:?}");
    }
}

#[test]
fn handles_on_other_threads_take_connections_from_the_share() {
    let [url, _] = site().urls("share-threads.txt");
    let share = sharing_connections();
    let first = site().get(&url, Some(&share));

    let (shared, u) = (share.clone(), url.clone());
    let other = std::thread::spawn(move || site().get(&u, Some(&shared)))
        .join()
        .unwrap();
    assert_eq!(
        other.info().num_connects(),
        0,
        "another thread's handle reuses"
    );
    assert_eq!(local(&other), local(&first));

    // Four threads, eight GETs each, at the same time: no thread holds
    // more than one connection at once, so at most four exist.
    const THREADS: usize = 4;
    const GETS: usize = 8;
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (shared, u) = (share.clone(), url.clone());
            std::thread::spawn(move || {
                let mut easy = site().easy(&u, Some(&shared));
                let mut made = 0;
                for _ in 0..GETS {
                    get_again(&mut easy, &u);
                    made += easy.info().num_connects();
                }
                made
            })
        })
        .collect();
    let made: u32 = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(made <= THREADS as u32, "{made} connections made");
    let served = site().connections(&url, 2 + THREADS * GETS);
    assert_eq!(distinct(&served), 1 + made as usize, "{served:?}");
}

#[test]
fn a_connect_only_connection_is_never_taken_by_another_handle() {
    for mode in [ConnectOnly::Connection, ConnectOnly::Headers] {
        let [url, _] = site().urls("share-connect-only.txt");
        let share = sharing_connections();
        let mut own = site().easy(&url, Some(&share));
        own.connect_only(mode).unwrap();
        own.perform().unwrap();
        assert_eq!(own.info().num_connects(), 1);
        assert!(own.active_socket().is_some());
        assert_eq!(own.last_socket(), own.active_socket());

        let other = site().get(&url, Some(&share));
        assert_eq!(
            other.info().num_connects(),
            1,
            "{mode:?}: a connection of its own"
        );
        assert_ne!(local(&other), local(&own));
        let third = site().get(&url, Some(&share));
        assert_eq!(third.info().num_connects(), 0, "{mode:?}");
        assert_eq!(local(&third), local(&other), "{mode:?}: the pooled one");

        // The connect-only connection is still the application's alone.
        if mode == ConnectOnly::Headers {
            let n = body("share-connect-only.txt").len();
            assert_eq!(
                common::recv_exact(&mut own, n),
                body("share-connect-only.txt").as_bytes()
            );
        }
        let request = format!(
            "GET /share-connect-only.txt HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
            site().nginx.port()
        );
        assert_eq!(own.send(request.as_bytes()).unwrap(), request.len());
        let answer = common::recv_exact(&mut own, 12);
        assert!(
            answer.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
}

#[test]
fn a_multi_uses_the_shares_pool_for_the_handles_of_the_share() {
    let [url, _] = site().urls("share-multi.txt");
    let share = sharing_connections();
    let first = site().get(&url, Some(&share));

    let done = run_multi(
        vec![site().easy(&url, Some(&share)), site().easy(&url, None)],
        |added| {
            // While added, each finds its connection in the pool it went
            // to: the share's, and the Multi's.
            assert_eq!(added[0].last_socket(), first.last_socket());
            assert!(added[1].last_socket().is_some());
            assert_ne!(added[1].last_socket(), first.last_socket());
        },
    );
    let (member, outsider) = (&done[0], &done[1]);
    assert_eq!(member.info().num_connects(), 0, "the share's connection");
    assert_eq!(local(member), local(&first));
    assert_eq!(
        outsider.info().num_connects(),
        1,
        "the Multi's own pool is empty"
    );
    // Removed from the Multi, the outsider no longer sees the Multi's pool.
    assert_eq!(outsider.last_socket(), None);
    assert!(member.last_socket().is_some(), "back in the share");

    // The member gave the connection back to the share, not to the Multi.
    let after = site().get(&url, Some(&share));
    assert_eq!(after.info().num_connects(), 0);
    assert_eq!(local(&after), local(&first));
}

#[test]
fn a_multi_with_a_host_limit_runs_the_shares_handles_on_its_one_connection() {
    let [url, _] = site().urls("share-multi-limit.txt");
    let share = sharing_connections();
    let first = site().get(&url, Some(&share));

    // One connection to the host at most: the second transfer waits for
    // the first's, which came from the share and goes back to it.
    let mut multi = Multi::new();
    multi.set_max_host_connections(1).unwrap();
    let done = run_in(
        multi,
        vec![
            site().easy(&url, Some(&share)),
            site().easy(&url, Some(&share)),
        ],
        |_| {},
    );
    for easy in &done {
        assert_eq!(easy.info().num_connects(), 0);
        assert_eq!(local(easy), local(&first));
    }
    let served = site().connections(&url, 3);
    assert_eq!(distinct(&served), 1, "{served:?}");
}

/// Three GETs of `url` at once, on three threads of the share: each holds
/// its connection (in its write callback) until all three have body bytes,
/// so none can take another's. How many connections they made.
fn three_at_once(url: &str, share: &Share) -> u32 {
    let arrived = Arc::new((Mutex::new(0), Condvar::new()));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (share, url, arrived) = (share.clone(), url.to_owned(), arrived.clone());
            std::thread::spawn(move || {
                let mut easy = site().easy(&url, Some(&share));
                let mut waited = false;
                easy.write_function(move |data| {
                    if !waited {
                        waited = true;
                        let (count, all) = &*arrived;
                        *count.lock().unwrap() += 1;
                        all.notify_all();
                        let guard = count.lock().unwrap();
                        let (guard, timeout) = all
                            .wait_timeout_while(guard, Duration::from_secs(20), |n| *n < 3)
                            .unwrap();
                        drop(guard);
                        assert!(!timeout.timed_out(), "the three transfers never overlapped");
                    }
                    Ok(data.len())
                })
                .unwrap();
                easy.perform().unwrap();
                easy.info().num_connects()
            })
        })
        .collect();
    workers.into_iter().map(|w| w.join().unwrap()).sum()
}

#[test]
fn the_handle_giving_a_connection_back_bounds_the_shares_pool() {
    let [url, _] = site().urls("share-limit.txt");
    let share = sharing_connections();

    // Three at once: three connections, all kept (a handle keeps five by
    // default) and all reused by the next three.
    assert_eq!(three_at_once(&url, &share), 3);
    assert_eq!(three_at_once(&url, &share), 0);

    // A handle that keeps one gives its connection back to a pool that
    // then keeps one: the next three need two more.
    let mut easy = site().easy(&url, Some(&share));
    easy.max_connects(1).unwrap();
    get_again(&mut easy, &url);
    assert_eq!(easy.info().num_connects(), 0);
    assert_eq!(three_at_once(&url, &share), 2);
    let served = site().connections(&url, 10);
    assert_eq!(distinct(&served), 5, "{served:?}");
}
