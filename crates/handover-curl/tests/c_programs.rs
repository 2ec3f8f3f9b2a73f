//! C programs compiled against the system's `curl/curl.h` and linked with
//! `-lcurl`, run twice: on Debian's libcurl and on handover's libcurl.so.4
//! (the loader pointed at it with `LD_LIBRARY_PATH`). Their outputs must
//! agree.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use handover_test_support::peers::{Behavior, TestPki, TlsPeer};

/// A directory holding handover's libcurl.so.4, linked once per test
/// binary from the static library cargo built next to it.
fn handover_lib_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        // target/<profile>/deps/<test> -> target/<profile>
        let profile = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>")
            .to_path_buf();
        let archive = profile.join("libhandover_curl.a");
        assert!(
            archive.exists(),
            "{} is missing: cargo builds it with this test's package",
            archive.display()
        );
        let dir = std::env::temp_dir().join(format!("handover-libcurl-{}", std::process::id()));
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

/// Compiles `tests/c/<name>.c` against the system's libcurl.
fn compile(name: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/c")
        .join(format!("{name}.c"));
    let out = std::env::temp_dir().join(format!("handover-c-{name}-{}", std::process::id()));
    let status = Command::new("cc")
        .arg("-Wall")
        .arg("-Werror")
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .arg("-lcurl")
        .status()
        .expect("run cc (scripts/install-peers installs libcurl4-openssl-dev)");
    assert!(status.success(), "cc {} failed", src.display());
    out
}

/// Runs `program` on Debian's libcurl and on handover's; both outputs.
fn run_both(program: &Path, args: &[&str]) -> (Output, Output) {
    let dir = handover_lib_dir();
    let system = Command::new(program).args(args).output().expect("run");
    let ours = Command::new(program)
        .args(args)
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

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}stderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The seed's example against a local TLS server: "only connected!" on
/// both libraries.
#[test]
fn the_seed_example_only_connects_on_both_libraries() {
    let pki = TestPki::new();
    let server = TlsPeer::start(pki.server_config(), Behavior::Echo);
    let ca = pki.write_temp("ca.pem", &pki.ca_pem);
    let url = format!("https://localhost:{}/", server.port());
    let program = compile("seed");
    let (system, ours) = run_both(&program, &[&url, &ca.display().to_string()]);
    assert_eq!(
        String::from_utf8_lossy(&system.stdout),
        "only connected!\n",
        "{}",
        text(&system)
    );
    assert_eq!(system.stdout, ours.stdout, "{}", text(&ours));
    assert_eq!(system.status.code(), ours.status.code());
}
