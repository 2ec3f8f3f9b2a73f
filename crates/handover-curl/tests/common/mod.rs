//! Helpers of the C-program tests: link handover's libcurl.so.4 once per
//! test binary, compile a C program against the system's `curl/curl.h`
//! (`-lcurl`), run it on Debian's libcurl and on handover's.

#![allow(dead_code)] // each test binary uses a part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// A directory holding handover's libcurl.so.4, linked once per test
/// binary from the static library cargo built next to it.
pub fn handover_lib_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        // target/<profile>/deps/<test> -> target/<profile>
        let profile = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>")
            .to_path_buf();
        // `cargo test` builds the crate as an rlib only: the static library
        // comes from `cargo build -p handover-curl`, which scripts/test runs
        // first. An archive older than any source of the library would test
        // stale code.
        let archive = profile.join("libhandover_curl.a");
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let newest_source = ["handover-curl/src", "handover/src", "handover-proto/src"]
            .iter()
            .flat_map(|dir| newest_file(&crates.join(dir)))
            .max();
        let fresh = match (modified(&archive), newest_source) {
            (Some(a), Some(s)) => a >= s,
            (Some(_), None) => true,
            (None, _) => false,
        };
        assert!(
            fresh,
            "{} is missing or older than the library's sources: run \
             `cargo build -p handover-curl` first (scripts/test does)",
            archive.display()
        );
        let dir = scratch_dir().join("lib");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("link-libcurl.sh");
        let status = Command::new(&script)
            .arg(&archive)
            .arg(&dir)
            .status()
            .expect("run link-libcurl.sh");
        assert!(status.success(), "linking libcurl.so.4 failed");
        dir
    })
    .clone()
}

/// A directory of this test process's own, for programs and files.
pub fn scratch_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        let name = exe
            .file_stem()
            .map_or("test".into(), |s| s.to_string_lossy().into_owned());
        let dir = std::env::temp_dir().join(format!("handover-curl-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the scratch dir");
        dir
    })
    .clone()
}

/// Compiles the C file `src` against the system's libcurl into `name`.
pub fn compile_file(src: &Path, name: &str) -> PathBuf {
    let out = scratch_dir().join(name);
    let status = Command::new("cc")
        .arg("-Wall")
        .arg("-Werror")
        .arg("-o")
        .arg(&out)
        .arg(src)
        .arg("-lcurl")
        .status()
        .expect("run cc (scripts/install-peers installs libcurl4-openssl-dev)");
    assert!(status.success(), "cc {} failed", src.display());
    out
}

/// Compiles `tests/c/<name>.c` against the system's libcurl.
pub fn compile(name: &str) -> PathBuf {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/c")
        .join(format!("{name}.c"));
    let out = scratch_dir().join(name);
    if out.exists() {
        return out;
    }
    compile_file(&src, name)
}

/// Runs `program` on Debian's libcurl and on handover's; both outputs.
pub fn run_both(program: &Path, args: &[&str]) -> (Output, Output) {
    run_both_env(program, args, &[])
}

/// As [`run_both`], with extra environment variables.
pub fn run_both_env(program: &Path, args: &[&str], env: &[(&str, &str)]) -> (Output, Output) {
    let dir = handover_lib_dir();
    let system = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run");
    let ours = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .env("LD_LIBRARY_PATH", &dir)
        .output()
        .expect("run on handover");
    // The loader really took handover's library.
    let ldd = Command::new("ldd")
        .arg(program)
        .env("LD_LIBRARY_PATH", &dir)
        .output()
        .expect("ldd");
    let ldd = String::from_utf8_lossy(&ldd.stdout);
    assert!(
        ldd.contains(&dir.join("libcurl.so.4").display().to_string()),
        "{ldd}"
    );
    (system, ours)
}

/// An output for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}stderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Both outputs for assertion messages.
pub fn both(system: &Output, ours: &Output) -> String {
    format!(
        "--- Debian's libcurl:\n{}\n--- handover:\n{}",
        text(system),
        text(ours)
    )
}

/// Stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts that both runs printed the same and exited alike.
pub fn assert_same(system: &Output, ours: &Output) {
    assert_same_seen(system, ours, stdout);
}

/// Asserts that Debian's libcurl run exited `code` (so the comparison is
/// of the case meant, `context` naming it) and that handover's run printed
/// the same and exited alike.
pub fn assert_same_exiting(system: &Output, ours: &Output, code: i32, context: &str) {
    assert_eq!(
        system.status.code(),
        Some(code),
        "{context}: {}",
        both(system, ours)
    );
    assert_same(system, ours);
}

/// Asserts that both runs printed the same, apart from the lines starting
/// with `prefix`, and exited alike.
pub fn assert_same_but(system: &Output, ours: &Output, prefix: &str) {
    assert_same_seen(system, ours, |out| {
        stdout(out)
            .lines()
            .filter(|line| !line.starts_with(prefix))
            .map(|line| format!("{line}\n"))
            .collect()
    });
}

/// Both runs' stdout as `seen` shows it is the same, and they exited alike.
fn assert_same_seen(system: &Output, ours: &Output, seen: impl Fn(&Output) -> String) {
    assert_eq!(seen(system), seen(ours), "{}", both(system, ours));
    assert_eq!(
        system.status.code(),
        ours.status.code(),
        "{}",
        both(system, ours)
    );
}

/// The latest modification time of any file below `dir`.
fn newest_file(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let time = if path.is_dir() {
            newest_file(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).ok()
        };
        newest = newest.max(time);
    }
    newest
}

/// One HTTP/1.1 request as the tests' in-process servers read it.
pub struct Request {
    /// The request line, without its line end.
    pub line: String,
    /// The `Content-Length` body (empty without one).
    pub body: Vec<u8>,
}

/// Reads one request, its head and its `Content-Length` body; `None` when
/// the connection ends (or fails) before the request does.
pub fn read_request(r: &mut impl std::io::BufRead) -> Option<Request> {
    read_request_head(r).and_then(|(line, length)| {
        let mut body = vec![0; length];
        r.read_exact(&mut body).ok()?;
        Some(Request { line, body })
    })
}

/// Reads a request's head only: its request line (without the line end)
/// and the `Content-Length` it announces (0 without one); `None` when the
/// connection ends before the blank line.
pub fn read_request_head(r: &mut impl std::io::BufRead) -> Option<(String, usize)> {
    let mut first = None;
    let mut length = 0;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        match &first {
            None => first = Some(line.trim_end().to_owned()),
            Some(_) if line == "\r\n" => return first.map(|first| (first, length)),
            Some(_) => {
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().ok()?;
                    }
                }
            }
        }
    }
}

/// Starts an in-process server on an ephemeral loopback port that runs
/// `handler` on a thread of its own for each connection, until the test
/// process ends; returns the port.
pub fn serve_each(handler: fn(std::net::TcpStream)) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || handler(conn));
        }
    });
    port
}
