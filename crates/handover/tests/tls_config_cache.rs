//! The process-wide TLS configuration cache seen from outside: a `Multi`
//! driving 100 TLS transfers with one `cainfo` opens the CA file once, in
//! `Multi::add`, and never while `Multi::perform` runs. The check runs a
//! child of this test binary under `strace -f -e trace=openat` (installed by
//! scripts/install-peers); the child opens two marker paths that do not
//! exist around its perform loop, so the trace shows where each open falls.

use std::process::Command;
use std::time::{Duration, Instant};

use handover::{ConnectOnly, Easy, Multi};
use handover_test_support::peers::{Behavior, TestPki, TlsPeer};

/// Set (to the CA file) in the child run under strace; the port in `PORT`.
const CHILD_CA: &str = "HANDOVER_TLS_CACHE_CHILD_CA";
const CHILD_PORT: &str = "HANDOVER_TLS_CACHE_CHILD_PORT";
const TRANSFERS: usize = 100;
/// Opened (and failing) right before the first and after the last
/// `Multi::perform`: markers in the trace.
const BEGIN: &str = "/handover-strace-marker/perform-begins";
const END: &str = "/handover-strace-marker/perform-ends";

#[test]
fn a_multi_of_100_tls_transfers_reads_the_ca_file_once_and_never_in_perform() {
    if Command::new("strace").arg("-V").output().is_err() {
        eprintln!("skipped: strace is not installed (scripts/install-peers installs it)");
        return;
    }
    let pki = TestPki::new();
    let ca = pki.write_temp("strace-ca.pem", &pki.ca_pem);
    let trace = ca.with_file_name("openat.trace");
    let peer = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let out = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=openat", "-o"])
        .arg(&trace)
        .arg(std::env::current_exe().expect("own path"))
        .args([
            "--exact",
            "multi_child_under_strace",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_CA, &ca)
        .env(CHILD_PORT, peer.port().to_string())
        .output()
        .expect("run strace");
    assert!(
        out.status.success(),
        "the child failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::read_to_string(&trace).expect("the trace");
    let lines: Vec<&str> = log.lines().collect();
    let quoted = format!("\"{}\"", ca.display());
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} is not in the trace:\n{log}"))
    };
    let (begin, end) = (at(BEGIN), at(END));
    let ca_opens: Vec<(usize, &str)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains(&quoted))
        .map(|(i, l)| (i, *l))
        .collect();
    let shown = ca_opens
        .iter()
        .map(|(i, l)| format!("  line {i}: {l}"))
        .collect::<Vec<_>>()
        .join("\n");
    eprintln!(
        "openat of the CA file ({} lines of trace):\n{shown}\nperform loop:\n  line {begin}: {}\n  line {end}: {}",
        lines.len(),
        lines[begin],
        lines[end]
    );
    assert_eq!(
        ca_opens.len(),
        1,
        "the CA file was opened more than once:\n{shown}"
    );
    assert!(
        ca_opens[0].0 < begin,
        "the CA file was opened inside the perform loop:\n{shown}"
    );
    let _ = std::fs::remove_file(&trace);
}

/// The traced side: only does something when the test above runs it.
#[test]
fn multi_child_under_strace() {
    let (Some(ca), Some(port)) = (std::env::var_os(CHILD_CA), std::env::var_os(CHILD_PORT)) else {
        return;
    };
    let port = port.to_string_lossy().into_owned();
    let mut multi = Multi::new();
    let mut handles = Vec::with_capacity(TRANSFERS);
    for i in 0..TRANSFERS {
        let mut easy = Easy::new();
        easy.url(&format!("https://localhost:{port}/")).unwrap();
        easy.connect_only(ConnectOnly::Connection).unwrap();
        easy.connect_timeout(Duration::from_secs(30)).unwrap();
        easy.cainfo(&ca).unwrap();
        let mut handle = multi.add(easy).unwrap();
        handle.set_token(i);
        handles.push(handle);
    }
    let _ = std::fs::File::open(BEGIN);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut done = 0;
    while done < TRANSFERS {
        assert!(Instant::now() < deadline, "stalled at {done}");
        multi.perform().unwrap();
        multi.messages(|m| {
            m.result()
                .unwrap_or_else(|e| panic!("transfer {}: {e}", m.token()));
            done += 1;
        });
        if done < TRANSFERS {
            multi.wait(&mut [], Duration::from_millis(100)).unwrap();
        }
    }
    let _ = std::fs::File::open(END);
}
