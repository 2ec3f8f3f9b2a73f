//! Real peers shared by the tests of one test binary, and how they end.
//!
//! A squid takes about 0.1 s to start and 0.3 s to stop; a test file whose
//! tests each start the same configuration pays that in every test. The
//! `shared` constructors ([`Squid::shared`], [`Dante::shared`],
//! [`Microsocks::shared`], [`Nginx::shared`], and [`TestPki::shared`] for
//! the certificates of shared peers) return the one instance of a
//! configuration in this process instead: the first caller starts it,
//! callers that race it wait for it, everyone after gets it at once.
//!
//! Share only what a test does not need fresh. A shared peer serves every
//! test of the binary at the same time (tests run in parallel), so a test
//! that counts the peer's connections or log lines, or that depends on
//! state the peer keeps between clients (squid's credential cache, when
//! the test sends a wrong password), starts its own.
//!
//! Rust never drops a static, so a shared program would outlive the test
//! process. A watcher stops it instead: one `sh` per test process, in a
//! process group of its own (a Ctrl-C of the tests does not reach it),
//! reading the process groups to stop and the directories to remove from
//! a pipe only the test process holds. The end of that pipe, however the
//! test process ends (returning, panicking, killed), is its cue: SIGTERM
//! to each group, SIGKILL 0.3 s later, then the directories go.
//!
//! [`Squid::shared`]: crate::real_peers::Squid::shared
//! [`Dante::shared`]: crate::real_peers::Dante::shared
//! [`Microsocks::shared`]: crate::real_peers::Microsocks::shared
//! [`Nginx::shared`]: crate::real_peers::Nginx::shared
//! [`TestPki::shared`]: crate::peers::TestPki::shared

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use std::os::unix::process::CommandExt;

/// One instance per configuration `K` of a peer `P`, each started once and
/// kept for the life of the process.
pub(crate) struct Instances<K, P: 'static> {
    slots: Mutex<Vec<(K, &'static OnceLock<P>)>>,
}

impl<K: PartialEq, P: Send + Sync> Instances<K, P> {
    pub(crate) const fn new() -> Self {
        Instances {
            slots: Mutex::new(Vec::new()),
        }
    }

    /// The instance for `key`, made by `start` if there is none yet. A
    /// start that panics leaves no instance: the next caller tries again.
    pub(crate) fn get_or_start(&self, key: K, start: impl FnOnce() -> P) -> &'static P {
        let slot: &'static OnceLock<P> = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            match slots.iter().find(|(k, _)| *k == key) {
                Some((_, slot)) => slot,
                None => {
                    let slot: &'static OnceLock<P> = Box::leak(Box::default());
                    slots.push((key, slot));
                    slot
                }
            }
        };
        // Outside the list's lock: configurations start in parallel, and
        // callers of this one wait here for the first.
        slot.get_or_init(start)
    }
}

/// What the watcher does once the test process is gone. Lines in: `group
/// PGID` or `dir PATH`.
const WATCHER_SCRIPT: &str = r#"
lines=$(cat)
for sig in TERM KILL; do
    printf '%s\n' "$lines" | while read -r what arg; do
        if [ "$what" = group ]; then kill -$sig -$arg 2>/dev/null; fi
    done
    if [ $sig = TERM ]; then sleep 0.3; fi
done
printf '%s\n' "$lines" | while IFS= read -r line; do
    case $line in "dir "*) rm -rf -- "${line#dir }" ;; esac
done
"#;

/// Stops process group `pgid`, then removes `dir`, when this process ends.
pub(crate) fn stop_at_exit(pgid: u32, dir: &Path) {
    tell_watcher(&format!("group {pgid}\n{}", dir_line(dir)));
}

/// Removes `dir` and everything in it when this process ends.
pub(crate) fn remove_at_exit(dir: &Path) {
    tell_watcher(&dir_line(dir));
}

fn dir_line(dir: &Path) -> String {
    let dir = dir.to_str().expect("temp paths are UTF-8");
    assert!(!dir.contains('\n'), "a temp path without a newline");
    format!("dir {dir}\n")
}

fn tell_watcher(lines: &str) {
    // Never waited for: it ends after this process does.
    static WATCHER: Mutex<Option<Child>> = Mutex::new(None);
    let mut watcher = WATCHER.lock().unwrap_or_else(|p| p.into_inner());
    let watcher = watcher.get_or_insert_with(|| {
        Command::new("sh")
            .arg("-c")
            .arg(WATCHER_SCRIPT)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start the watcher of shared peers (sh): {e}"))
    });
    watcher
        .stdin
        .as_mut()
        .expect("piped stdin")
        .write_all(lines.as_bytes())
        .unwrap_or_else(|e| panic!("tell the watcher of shared peers: {e}"));
}
