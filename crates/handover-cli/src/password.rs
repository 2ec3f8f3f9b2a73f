//! Where a proxy password comes from when it is not on the command line:
//! an environment variable, a file, or a command (a password manager).
//! Shared by the chain flags, the config file's chains and the exporter's
//! modules, so that every place reads a password the same way.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// One place a password can be read from.
#[derive(Clone, Debug)]
pub enum PasswordSource {
    /// The value of an environment variable.
    Env(String),
    /// The first line of a file.
    File(PathBuf),
    /// The first line a shell command (`sh -c`) writes to stdout.
    Command(String),
}

impl PasswordSource {
    /// The one source among the three optional keys (or flags) of a config
    /// section; `what` names the section in the error when more than one
    /// is given.
    pub fn one_of(
        env: Option<&str>,
        file: Option<&PathBuf>,
        command: Option<&str>,
        what: &str,
    ) -> Result<Option<PasswordSource>, String> {
        let given: Vec<PasswordSource> = [
            env.map(|v| PasswordSource::Env(v.to_owned())),
            file.map(|f| PasswordSource::File(f.clone())),
            command.map(|c| PasswordSource::Command(c.to_owned())),
        ]
        .into_iter()
        .flatten()
        .collect();
        match given.len() {
            0 | 1 => Ok(given.into_iter().next()),
            _ => Err(format!(
                "{what}: give one of password_env, password_file and password_cmd"
            )),
        }
    }

    /// Reads the password. Errors name the source, never a password.
    pub fn read(&self) -> Result<String, String> {
        match self {
            PasswordSource::Env(var) => {
                std::env::var(var).map_err(|_| format!("password_env {var} is not set"))
            }
            PasswordSource::File(path) => std::fs::read(path)
                .map(|bytes| first_line(&bytes))
                .map_err(|e| format!("password file {}: {e}", path.display())),
            PasswordSource::Command(command) => run(command),
        }
    }

    /// Where the password comes from, for `plan`.
    pub fn describe(&self) -> String {
        match self {
            PasswordSource::Env(var) => format!("env {var}"),
            PasswordSource::File(path) => format!("file {}", path.display()),
            PasswordSource::Command(command) => format!("command `{command}`"),
        }
    }
}

/// Runs `command` with `sh -c`: stdout is captured (the password never
/// reaches the terminal), stdin and stderr stay the user's so that a
/// password manager can ask for its own passphrase.
fn run(command: &str) -> Result<String, String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped())
        .output()
        .map_err(|e| format!("password command `{command}`: cannot run sh: {e}"))?;
    if !out.status.success() {
        let status = out
            .status
            .code()
            .map_or("a signal".to_owned(), |c| format!("status {c}"));
        return Err(format!("password command `{command}` failed with {status}"));
    }
    Ok(first_line(&out.stdout))
}

/// The first line without its end (`\n` or `\r\n`): what `pass`,
/// `secret-tool lookup` and `echo` print for one secret.
fn first_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let line = text.split('\n').next().unwrap_or_default();
    line.strip_suffix('\r').unwrap_or(line).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_line_is_the_password() {
        assert_eq!(first_line(b"s3cret\nsecond line\n"), "s3cret");
        assert_eq!(first_line(b"s3cret\r\n"), "s3cret");
        assert_eq!(first_line(b"no newline"), "no newline");
        assert_eq!(first_line(b""), "");
    }

    #[test]
    fn a_command_gives_its_first_line_and_a_failure_names_the_command() {
        let ok = PasswordSource::Command("printf 'pw one\\nmore\\n'".into());
        assert_eq!(ok.read().unwrap(), "pw one");
        let bad = PasswordSource::Command("echo leaked; exit 3".into());
        let e = bad.read().unwrap_err();
        assert!(
            e.contains("`echo leaked; exit 3` failed with status 3"),
            "{e}"
        );
    }

    #[test]
    fn two_sources_in_one_section_are_refused() {
        let file = PathBuf::from("pw");
        let e = PasswordSource::one_of(Some("V"), Some(&file), None, "chain corp").unwrap_err();
        assert!(e.starts_with("chain corp:"), "{e}");
        assert!(PasswordSource::one_of(None, None, None, "x")
            .unwrap()
            .is_none());
    }
}
