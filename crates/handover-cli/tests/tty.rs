//! `handover` in a real terminal: each test starts a tmux server of its own
//! (a private socket), runs the built binary in a pane, types into it with
//! `send-keys` and reads the screen with `capture-pane`, as a person at a
//! terminal would see it. What only a terminal shows is tested here:
//! colour and the bar, Ctrl+C on a repeated probe, the password prompt.

mod common;

use std::net::TcpListener;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use handover_test_support::real_peers::{Squid, SquidAuth};

/// How long a screen may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(30);

static SERVERS: AtomicUsize = AtomicUsize::new(0);

/// A tmux server with one pane running `command` under `sh`; killed on drop.
struct Terminal {
    socket: String,
}

impl Terminal {
    /// Starts `command` in a 160×50 pane. The proxy variables of the
    /// surrounding environment and NO_COLOR are removed, so each test says
    /// what it uses; after the command the pane prints `EXIT=<code>` and
    /// stays, so the screen can be read after it ended.
    fn run(command: &str) -> Terminal {
        let socket = format!(
            "handover-tty-{}-{}",
            std::process::id(),
            SERVERS.fetch_add(1, Ordering::SeqCst)
        );
        let mut unset: Vec<&str> = common::PROXY_VARS.to_vec();
        unset.push("NO_COLOR");
        let script = format!(
            // Ctrl+C reaches the whole foreground group: the shell traps it
            // (its children still get the default) so the pane lives on.
            "trap : INT; unset {}; {command}; echo EXIT=$?; sleep 120",
            unset.join(" ")
        );
        let out = tmux(
            &socket,
            &[
                "new-session",
                "-d",
                "-x",
                "160",
                "-y",
                "50",
                "sh",
                "-c",
                &script,
            ],
        );
        assert!(out.status.success(), "tmux new-session: {out:?}");
        Terminal { socket }
    }

    /// The screen as text; with `escapes`, with its colour sequences.
    fn screen(&self, escapes: bool) -> String {
        let mut args = vec!["capture-pane", "-p", "-J"];
        if escapes {
            args.push("-e");
        }
        String::from_utf8_lossy(&tmux(&self.socket, &args).stdout).into_owned()
    }

    /// Waits until the screen shows `text`, and returns it.
    fn wait_for(&self, text: &str) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen(false);
            if screen.contains(text) {
                return screen;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "the screen never showed {text:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `keys` (tmux key names: "C-c", "Enter", or literal text).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        let out = tmux(&self.socket, &args);
        assert!(out.status.success(), "tmux send-keys: {out:?}");
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = tmux(&self.socket, &["kill-server"]);
    }
}

fn tmux(socket: &str, args: &[&str]) -> Output {
    Command::new("tmux")
        .args(["-L", socket, "-f", "/dev/null"])
        .args(args)
        .output()
        .expect("run tmux (scripts/install-peers installs it)")
}

/// A loopback listener that accepts (and drops) every connection.
fn listener() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in l.incoming() {
            drop(c);
        }
    });
    port
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_handover")
}

#[test]
fn probe_on_a_terminal_has_colour_and_a_bar_and_no_color_turns_both_off() {
    let port = listener();
    let t = Terminal::run(&format!(
        "{b} probe 127.0.0.1:{port}; echo EXIT=$?; NO_COLOR=1 {b} probe 127.0.0.1:{port}",
        b = bin()
    ));
    // Both runs ended: the pane shows two exit lines.
    let started = Instant::now();
    while t.screen(false).matches("EXIT=").count() < 2 {
        assert!(started.elapsed() < PATIENCE, "{}", t.screen(false));
        std::thread::sleep(Duration::from_millis(50));
    }
    let coloured = t.screen(true);
    let (first, second) = coloured.split_once("EXIT=0").expect("the first run's end");
    assert!(
        first.contains("\x1b[32mconnected"),
        "green 'connected':\n{first}"
    );
    assert!(first.contains('█'), "the bar:\n{first}");
    assert!(
        // A short segment keeps its label to itself (or shows none).
        !first.contains("resolvetcp") && first.contains(" tcp  "),
        "the bar's labels, apart:\n{first}"
    );
    assert!(!second.contains('█'), "NO_COLOR: no bar:\n{second}");
    let second_run = second.split_once("EXIT=0").map_or(second, |(s, _)| s);
    assert!(
        !second_run.contains("\x1b[3"),
        "NO_COLOR: no colour:\n{second_run}"
    );
    assert_eq!(coloured.matches("EXIT=0").count(), 2, "{coloured}");
    assert!(second_run.contains("connected in"), "{second_run}");
}

#[test]
fn ctrl_c_ends_a_repeated_probe_with_its_summary() {
    let port = listener();
    let t = Terminal::run(&format!("{} probe -c 0 -i 0.1 127.0.0.1:{port}", bin()));
    t.wait_for("seq=3 ok");
    t.keys(&["C-c"]);
    let screen = t.wait_for("EXIT=");
    assert!(
        screen.contains(&format!("--- 127.0.0.1:{port} ---")),
        "summary head:\n{screen}"
    );
    assert!(screen.contains(" ok, 0 failed (0.0 % loss)"), "{screen}");
    assert!(screen.contains("p50"), "the statistics table:\n{screen}");
    assert!(screen.contains("EXIT=0"), "all ok → 0:\n{screen}");
}

#[test]
fn a_user_without_password_is_prompted_and_the_password_is_not_echoed() {
    let password = "tty-secret-7";
    let squid = Squid::start(SquidAuth::Basic {
        user: "alice".into(),
        password: password.into(),
    });
    let port = listener();
    let t = Terminal::run(&format!(
        "{} probe -x http://127.0.0.1:{} -U alice --proxy-basic 127.0.0.1:{port}",
        bin(),
        squid.port()
    ));
    t.wait_for("Enter proxy password for user 'alice':");
    t.keys(&["-l", password]);
    t.keys(&["Enter"]);
    let screen = t.wait_for("EXIT=");
    assert!(
        screen.contains("EXIT=0"),
        "through squid with it:\n{screen}"
    );
    assert!(screen.contains("http-proxy"), "the hop's row:\n{screen}");
    assert!(!screen.contains(password), "never echoed:\n{screen}");
}
