//! The command-line tool against the library it drives.
//!
//! - `probe`: `handover probe -c N -i 0 -q` to the epoll echo server (a
//!   process: start-up, N attempts each on a fresh handle, the summary)
//!   against the same N connect-only performs in this process, each on a
//!   `duphandle` of one template as the tool makes them: what the tool adds
//!   per connect.
//!
//! - `relay`: bytes through `handover relay -q` (stdin → an echo server →
//!   stdout) against `socat - TCP:…` between the same endpoints, direct and
//!   through squid's CONNECT (`socat - PROXY:…`): time to move the same
//!   volume, every byte checked.
//!
//! The tool's binary is the release `handover` next to this one
//! (`cargo build --release -p handover-cli`; scripts/bench builds it).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use handover::{ConnectOnly, Easy};

use crate::echo::EchoServer;
use crate::{note, ratio, table, Args};

pub fn run(args: &Args, which: &[String]) {
    let Some(bin) = tool() else {
        eprintln!("bench cli: no release `handover` next to this binary; run `cargo build --release -p handover-cli`");
        return;
    };
    let all = which.is_empty();
    if all || which.iter().any(|w| w == "probe") {
        probe_part(args, &bin);
    }
    if all || which.iter().any(|w| w == "relay") {
        relay_part(args, &bin);
    }
}

fn probe_part(args: &Args, bin: &std::path::Path) {
    let n: usize = if args.quick { 200 } else { 1000 };
    let rounds = if args.quick { 3 } else { 7 };
    let server = EchoServer::start(None);
    let target = format!("127.0.0.1:{}", server.port());
    let mut library = Vec::new();
    let mut library_process = Vec::new();
    let mut tool_runs = Vec::new();
    // The tool's cost per connect beyond its start-up: a run of 3N minus a
    // run of N, over 2N (the process start, ~4 ms for /bin/true on this
    // kind of VM, is paid once per run, not per connect).
    let mut marginal = Vec::new();
    for round in 0..rounds {
        // Alternate which goes first.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for who in order {
            match who {
                0 => {
                    library.push(library_loop(&target, n));
                    // The same loop as a process of its own, as the tool
                    // is: its client and the echo server are then in two
                    // processes too (a wake-up across processes costs
                    // more than one between threads of one).
                    library_process.push(loop_process(&target, n));
                }
                _ => {
                    let short = tool_run(bin, &target, n);
                    let long = tool_run(bin, &target, 3 * n);
                    tool_runs.push(short);
                    marginal.push(long.saturating_sub(short) / 2);
                }
            }
        }
    }
    library.sort();
    library_process.sort();
    tool_runs.sort();
    marginal.sort();
    let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    let lib = per(library[library.len() / 2]);
    let cli = per(tool_runs[tool_runs.len() / 2]);
    let cli_marginal = per(marginal[marginal.len() / 2]);
    let lib_process = per(library_process[library_process.len() / 2]);
    table(
        &format!(
            "cli: handover probe -c {n} -i 0 against the library's Easy loop, {rounds} rounds"
        ),
        &[
            "contender",
            "µs per connect (median round)",
            "min round",
            "max round",
            "vs the loop as a process",
            "vs the loop in this process",
        ],
        &[
            vec![
                "handover probe (process)".into(),
                format!("{cli:.1}"),
                format!("{:.1}", per(tool_runs[0])),
                format!("{:.1}", per(tool_runs[tool_runs.len() - 1])),
                ratio(cli, lib_process),
                ratio(cli, lib),
            ],
            vec![
                "handover probe, beyond its start-up".into(),
                format!("{cli_marginal:.1}"),
                format!("{:.1}", per(marginal[0])),
                format!("{:.1}", per(marginal[marginal.len() - 1])),
                ratio(cli_marginal, lib_process),
                ratio(cli_marginal, lib),
            ],
            vec![
                "library: Easy loop, a process".into(),
                format!("{lib_process:.1}"),
                format!("{:.1}", per(library_process[0])),
                format!("{:.1}", per(library_process[library_process.len() - 1])),
                "1.00×".into(),
                ratio(lib_process, lib),
            ],
            vec![
                "library: Easy loop".into(),
                format!("{lib:.1}"),
                format!("{:.1}", per(library[0])),
                format!("{:.1}", per(library[library.len() - 1])),
                ratio(lib, lib_process),
                "1.00×".into(),
            ],
        ],
    );
    note(&format!(
        "Target (issue 14): the tool adds ≤ 10 % to the library's own connect time. Plain TCP, \
         connect-only, to the single-thread epoll echo server on 127.0.0.1; each round is {n} \
         connects, the tool's a whole process (`handover probe -c {n} -i 0 -q`: start-up, a fresh \
         handle per attempt, its record and summary), the library's {n} `duphandle` + `perform` \
         in this process; rounds alternate, order swapped every round. 'beyond its start-up': \
         (a run of {} connects − a run of {n}) / {}, the process start taken out. The fair \
         yardstick is the loop as a process (`handover-bench library-loop`): like the tool, it \
         talks to the echo server from another process; in this process the echo server's \
         wake-ups are between threads of one process, which costs less.",
        3 * n,
        2 * n
    ));
}

/// The release `handover` beside this binary.
fn tool() -> Option<std::path::PathBuf> {
    let dir = std::env::current_exe().ok()?.parent()?.to_path_buf();
    let bin = dir.join("handover");
    bin.is_file().then_some(bin)
}

/// `handover-bench library-loop N TARGET`: the library loop in a process
/// of its own (the child's side of [`loop_process`]).
pub fn library_loop_child(words: &[String]) {
    let [n, target] = words else {
        panic!("library-loop N HOST:PORT")
    };
    library_loop(target, n.parse().expect("N"));
}

/// The library loop as a process: its whole run, start-up included.
fn loop_process(target: &str, n: usize) -> Duration {
    let started = Instant::now();
    let status = Command::new(std::env::current_exe().expect("this binary"))
        .args(["library-loop", &n.to_string(), target])
        .stdout(Stdio::null())
        .status()
        .expect("run the library loop");
    assert!(status.success(), "the library loop failed: {status}");
    started.elapsed()
}

fn library_loop(target: &str, n: usize) -> Duration {
    let started = Instant::now();
    let mut template = Easy::new();
    template.url(&format!("telnet://{target}")).expect("url");
    template
        .connect_only(ConnectOnly::Connection)
        .expect("connect_only");
    for _ in 0..n {
        let mut easy = template.duphandle();
        easy.perform().expect("connect");
    }
    started.elapsed()
}

fn tool_run(bin: &std::path::Path, target: &str, n: usize) -> Duration {
    let started = Instant::now();
    let status = Command::new(bin)
        .args(["probe", "-c", &n.to_string(), "-i", "0", "-q", target])
        .stdout(Stdio::null())
        .status()
        .expect("run handover");
    assert!(status.success(), "handover probe failed: {status}");
    started.elapsed()
}

/// Moves `volume` bytes through `cmd` (stdin → echo → stdout), checking
/// every byte; the time it took.
fn pump(mut cmd: Command, volume: usize, pattern: &[u8]) -> Duration {
    let cmd_text = format!("{cmd:?}");
    use std::io::{Read, Write};
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the relay");
    let mut stderr = child.stderr.take().expect("stderr");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    let source = pattern.to_vec();
    // stdin closes only once everything came back: squid (like most HTTP
    // proxies) ends the whole tunnel at the client's FIN, so a half-close
    // through it would cut the echo short, for any relay.
    let (echoed, all_back) = std::sync::mpsc::channel::<()>();
    let writer = std::thread::spawn(move || {
        let mut sent = 0;
        while sent < volume {
            let n = (volume - sent).min(source.len());
            stdin.write_all(&source[..n]).expect("write to the relay");
            sent += n;
        }
        let _ = all_back.recv();
        // Dropping stdin: EOF; the relay closes, and so does the echo.
    });
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0usize;
    loop {
        let n = stdout.read(&mut buf).expect("read from the relay");
        if n == 0 {
            break;
        }
        // Compared a pattern run at a time (a slice compare, not a byte loop:
        // the checker must not be what limits the rate).
        let mut done = 0;
        while done < n {
            let at = (got + done) % pattern.len();
            let run = (n - done).min(pattern.len() - at);
            assert!(
                buf[done..done + run] == pattern[at..at + run],
                "bytes {}..{} differ",
                got + done,
                got + done + run
            );
            done += run;
        }
        got += n;
        if got == volume {
            let _ = echoed.send(());
        }
    }
    let _ = echoed.send(());
    writer.join().expect("writer");
    let status = child.wait().expect("relay exit");
    let errors = errors.join().unwrap_or_default();
    assert!(status.success(), "the relay failed: {status}: {errors}");
    assert_eq!(got, volume, "bytes back ({cmd_text}): {errors}");
    started.elapsed()
}

fn relay_part(args: &Args, bin: &std::path::Path) {
    use handover_test_support::peers::{Behavior, TcpPeer};
    use handover_test_support::real_peers::{Squid, SquidAuth};
    let volume: usize = if args.quick { 32 << 20 } else { 256 << 20 };
    let rounds = if args.quick { 2 } else { 5 };
    // A pattern whose length shares no factor with the chunk sizes.
    let pattern: Vec<u8> = (0..65_521u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let echo = TcpPeer::start(Behavior::Echo);
    let squid = Squid::start(SquidAuth::None);
    let port = echo.port();
    let mut rows = Vec::new();
    for (route, via_squid) in [("direct", false), ("through squid", true)] {
        let (mut ours, mut socats) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for who in order {
                if who == 0 {
                    let mut cmd = Command::new(bin);
                    cmd.args(["relay", "-q", &format!("127.0.0.1:{port}")]);
                    if via_squid {
                        cmd.args(["-x", &format!("http://127.0.0.1:{}", squid.port())]);
                    }
                    ours.push(pump(cmd, volume, &pattern));
                } else {
                    let mut cmd = Command::new("socat");
                    cmd.arg("-");
                    cmd.arg(if via_squid {
                        format!(
                            "PROXY:127.0.0.1:127.0.0.1:{port},proxyport={}",
                            squid.port()
                        )
                    } else {
                        format!("TCP:127.0.0.1:{port}")
                    });
                    socats.push(pump(cmd, volume, &pattern));
                }
            }
        }
        ours.sort();
        socats.sort();
        let mbps = |d: Duration| volume as f64 / d.as_secs_f64() / 1e6;
        let h = mbps(ours[ours.len() / 2]);
        let s = mbps(socats[socats.len() / 2]);
        rows.push(vec![
            route.to_owned(),
            "handover relay".into(),
            format!("{h:.0}"),
            ratio(h, s),
        ]);
        rows.push(vec![
            route.to_owned(),
            "socat".into(),
            format!("{s:.0}"),
            "1.00×".into(),
        ]);
    }
    table(
        &format!(
            "cli: relay throughput, {} MiB through an echo server, {rounds} rounds",
            volume >> 20
        ),
        &[
            "route",
            "contender",
            "MB/s each way (median round)",
            "vs socat",
        ],
        &rows,
    );
    note(
        "Target (issue 14): relay moves ≥ 0.9× socat's throughput between the same endpoints. \
         Each round pipes the volume into the relay's stdin (then closes it) and reads it back \
         from its stdout, every byte compared: stdin → relay → the echo peer (a thread per \
         connection, 64 KiB reads) → relay → stdout, so the relay carries it both ways at once; \
         stdin closes once everything is back (squid ends a tunnel at the client's FIN, so a \
         half-close through it would cut the echo short for any relay). Through squid: `handover relay -x http://…` and socat's \
         `PROXY:` address (a CONNECT tunnel each). Rounds alternate, order swapped every round.",
    );
}
