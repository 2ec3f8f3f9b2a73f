//! Instruction counts of one connect-only perform under callgrind; they do
//! not drift with the machine's load. The server runs in a child process
//! (`serve`), outside the measured one; each contender's `once --noop`
//! (the same set-up, no perform) is subtracted to drop process start-up.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use handover::ConnectOnly;

use crate::echo::EchoServer;
use crate::{note, ratio, table, Args, Tls};

/// `serve plain|tls`: runs the epoll echo server, prints `PORT <p> CA <file>`,
/// and serves until its standard input closes.
pub fn serve(words: &[String]) {
    let kind = words.first().map_or("plain", String::as_str);
    let tls = Tls::new();
    let server = EchoServer::start((kind == "tls").then(|| tls.config.clone()));
    println!("PORT {} CA {}", server.port(), tls.ca_file.display());
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let mut sink = String::new();
    while std::io::stdin().read_line(&mut sink).map_or(0, |n| n) > 0 {}
    drop(server);
}

/// `once handover|libcurl plain|tls --port P [--cainfo F] [--noop]`.
pub fn once(args: &Args, words: &[String]) {
    let who = words.first().map_or("handover", String::as_str);
    let kind = words.get(1).map_or("plain", String::as_str);
    let port = args.port.expect("--port");
    let tls = kind == "tls";
    let url = if tls {
        format!("https://127.0.0.1:{port}/")
    } else {
        format!("http://127.0.0.1:{port}/")
    };
    match who {
        "handover" => {
            let mut e = handover::Easy::new();
            e.url(&url).expect("url");
            e.connect_only(ConnectOnly::Connection).expect("co");
            if tls {
                e.cainfo(args.cainfo.as_deref().expect("--cainfo"))
                    .expect("cainfo");
            }
            if !args.noop {
                e.perform().unwrap_or_else(|e| panic!("handover: {e}"));
            }
        }
        "libcurl" => {
            let mut e = curl::easy::Easy::new();
            e.url(&url).expect("url");
            e.connect_only(true).expect("co");
            if tls {
                e.cainfo(args.cainfo.as_deref().expect("--cainfo"))
                    .expect("cainfo");
                e.http_version(curl::easy::HttpVersion::V11).expect("1.1");
            }
            if !args.noop {
                e.perform().unwrap_or_else(|e| panic!("libcurl: {e}"));
            }
        }
        other => panic!("once: unknown contender {other}"),
    }
}

struct Served {
    child: Child,
    port: u16,
    ca: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn spawn_server(exe: &Path, kind: &str) -> Served {
    let mut child = Command::new(exe)
        .args(["serve", kind])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the server");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout"))
        .read_line(&mut line)
        .expect("the server's port");
    let w: Vec<&str> = line.split_whitespace().collect();
    let (port, ca) = match w.as_slice() {
        ["PORT", p, "CA", ca] => (p.parse().expect("port"), ca.to_string()),
        _ => panic!("serve printed {line:?}"),
    };
    Served { child, port, ca }
}

/// Runs `once` under callgrind; the total instruction count. The output
/// file is kept in `dir` for callgrind_annotate.
fn callgrind(exe: &Path, dir: &Path, tag: &str, toggle: Option<&str>, once_args: &[String]) -> u64 {
    let out = dir.join(format!("callgrind.{tag}.out"));
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()));
    if let Some(f) = toggle {
        cmd.arg(format!("--toggle-collect={f}"));
    }
    let status = cmd
        .arg(exe)
        .arg("once")
        .args(once_args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("run valgrind (apt-get install valgrind): {e}"));
    assert!(
        status.status.success(),
        "callgrind {tag} failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let text = std::fs::read_to_string(&out).expect("callgrind output");
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no summary line in {}", out.display()))
}

pub fn run(_args: &Args, which: &[String]) {
    let which: Vec<&str> = if which.is_empty() {
        vec!["plain", "tls"]
    } else {
        which.iter().map(String::as_str).collect()
    };
    let exe = std::env::current_exe().expect("own path");
    let dir: PathBuf = std::env::temp_dir().join("handover-bench-callgrind");
    std::fs::create_dir_all(&dir).expect("callgrind dir");
    let mut rows = Vec::new();
    for kind in which {
        let server = spawn_server(&exe, kind);
        let mut net = Vec::new();
        for who in ["handover", "libcurl"] {
            let mut a = vec![
                who.to_string(),
                kind.to_string(),
                "--port".into(),
                server.port.to_string(),
            ];
            if kind == "tls" {
                a.extend(["--cainfo".to_string(), server.ca.clone()]);
            }
            let full = callgrind(&exe, &dir, &format!("{who}.{kind}"), None, &a);
            let toggle = match who {
                "handover" => "handover::easy::Easy::perform",
                _ => "curl_easy_perform",
            };
            let inside = callgrind(
                &exe,
                &dir,
                &format!("{who}.{kind}.perform"),
                Some(toggle),
                &a,
            );
            a.push("--noop".into());
            let noop = callgrind(&exe, &dir, &format!("{who}.{kind}.noop"), None, &a);
            net.push((who, full, noop, full.saturating_sub(noop), inside));
        }
        let curl_net = net[1].3 as f64;
        let curl_inside = net[1].4 as f64;
        for (who, full, noop, n, inside) in net {
            rows.push(vec![
                kind.to_string(),
                who.to_string(),
                full.to_string(),
                noop.to_string(),
                n.to_string(),
                ratio(n as f64, curl_net),
                inside.to_string(),
                ratio(inside as f64, curl_inside),
            ]);
        }
        drop(server);
    }
    table(
        "instructions of one connect-only perform (callgrind Ir)",
        &[
            "target",
            "contender",
            "process total",
            "noop baseline",
            "total − noop",
            "vs libcurl",
            "inside perform()",
            "vs libcurl",
        ],
        &rows,
    );
    note(&format!(
        "total − noop: the baseline is the same binary doing the same \
         set-up (handle, URL, options) without perform: libcurl's global init and handover's \
         process start-up cancel out; what a first perform costs (reading the CA file, building \
         a TLS context) stays in. 'inside perform()': \
         --toggle-collect on handover::easy::Easy::perform / curl_easy_perform only (excludes \
         handle clean-up at exit, and any work on other threads). Server: `serve`, a separate process. Output files for \
         callgrind_annotate: {}",
        dir.display()
    ));
}
