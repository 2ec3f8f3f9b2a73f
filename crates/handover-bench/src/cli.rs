//! The command-line tool against the library it drives.
//!
//! - `probe`: `handover probe -c N -i 0 -q` to the epoll echo server (a
//!   process: start-up, N attempts each on a fresh handle, the summary)
//!   against the same N connect-only performs in this process, each on a
//!   `duphandle` of one template as the tool makes them: what the tool adds
//!   per connect.
//!
//! The tool's binary is the release `handover` next to this one
//! (`cargo build --release -p handover-cli`; scripts/bench builds it).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use handover::{ConnectOnly, Easy};

use crate::echo::EchoServer;
use crate::{note, ratio, table, Args};

pub fn run(args: &Args, _which: &[String]) {
    let Some(bin) = tool() else {
        eprintln!("bench cli: no release `handover` next to this binary; run `cargo build --release -p handover-cli`");
        return;
    };
    let n: usize = if args.quick { 200 } else { 1000 };
    let rounds = if args.quick { 3 } else { 7 };
    let server = EchoServer::start(None);
    let target = format!("127.0.0.1:{}", server.port());
    let mut library = Vec::new();
    let mut tool_runs = Vec::new();
    for round in 0..rounds {
        // Alternate which goes first.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for who in order {
            match who {
                0 => library.push(library_loop(&target, n)),
                _ => tool_runs.push(tool_run(&bin, &target, n)),
            }
        }
    }
    library.sort();
    tool_runs.sort();
    let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    let lib = per(library[library.len() / 2]);
    let cli = per(tool_runs[tool_runs.len() / 2]);
    table(
        &format!(
            "cli: handover probe -c {n} -i 0 against the library's Easy loop, {rounds} rounds"
        ),
        &[
            "contender",
            "µs per connect (median round)",
            "min round",
            "max round",
            "vs library",
        ],
        &[
            vec![
                "handover probe (process)".into(),
                format!("{cli:.1}"),
                format!("{:.1}", per(tool_runs[0])),
                format!("{:.1}", per(tool_runs[tool_runs.len() - 1])),
                ratio(cli, lib),
            ],
            vec![
                "library: Easy loop".into(),
                format!("{lib:.1}"),
                format!("{:.1}", per(library[0])),
                format!("{:.1}", per(library[library.len() - 1])),
                "1.00×".into(),
            ],
        ],
    );
    note(&format!(
        "Target (issue 14): the tool adds ≤ 10 % to the library's own connect time. Plain TCP, \
         connect-only, to the single-thread epoll echo server on 127.0.0.1; each round is {n} \
         connects, the tool's a whole process (`handover probe -c {n} -i 0 -q`: start-up, a fresh \
         handle per attempt, its record and summary), the library's {n} `duphandle` + `perform` \
         in this process; rounds alternate, order swapped every round."
    ));
}

/// The release `handover` beside this binary.
fn tool() -> Option<std::path::PathBuf> {
    let dir = std::env::current_exe().ok()?.parent()?.to_path_buf();
    let bin = dir.join("handover");
    bin.is_file().then_some(bin)
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
