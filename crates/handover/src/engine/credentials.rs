//! Who logs in: the user name and password a transfer authenticates to
//! the server with — for HTTP's 401 rounds and the FTP, IMAP, POP3 and
//! SMTP logins alike — picked from the options, the URL and a `.netrc`
//! file in libcurl's order.

use handover_proto::auth::Credentials;
use handover_proto::netrc::Login;
use handover_proto::url::{self, Scheme, Url};

use crate::error::{Error, ErrorKind};
use crate::options::{NetRc, ServerAuth};

/// The user and password to log in with, as libcurl picks them: the
/// options' user name, else the URL's (with the options' password, else
/// the URL's), else a `.netrc` entry for the host — for the URL's user
/// when it names one — filling in what the URL lacks; `None` without a
/// user or password.
///
/// A `.netrc` file that cannot be read or parsed fails the transfer with
/// `CURLE_READ_ERROR` when the options require it, as do control
/// characters in what it gives for a protocol that would send them
/// verbatim (not HTTP's, which encode them).
pub(super) fn login_credentials(
    auth: &ServerAuth,
    url: &Url,
    scheme: Scheme,
) -> Result<Option<Credentials>, Error> {
    // `CURL_NETRC_REQUIRED` ignores the URL's password; its user name
    // still picks the entry (libcurl 7.88 and 8 alike).
    let url_user = url.user.as_ref();
    let url_password = url
        .password
        .as_ref()
        .filter(|_| auth.netrc != NetRc::Required);
    Ok(match &auth.username {
        Some(user) => Some(Credentials {
            user: user.clone(),
            password: auth.password.clone().unwrap_or_default(),
        }),
        None if url_password.is_some() || auth.password.is_some() => {
            url_user.map(|user| Credentials {
                user: user.clone(),
                password: auth
                    .password
                    .clone()
                    .or_else(|| url_password.cloned())
                    .unwrap_or_default(),
            })
        }
        None => match netrc_login(auth, &url.host, url_user.map(String::as_str), scheme)? {
            // An entry without a login gives its password to whoever the
            // URL names, or to an empty user name (curl's test 684).
            Some(login) => Some(Credentials {
                user: login.user.or_else(|| url_user.cloned()).unwrap_or_default(),
                password: login.password.unwrap_or_default(),
            }),
            None => url_user.map(|user| Credentials {
                user: user.clone(),
                password: String::new(),
            }),
        },
    })
}

/// The login a `.netrc` file gives for `host` (for `user` when the URL
/// named one), when the options ask for the file to be read:
/// `netrc_file`, else `$NETRC`, else `$HOME/.netrc`. A file missing, unreadable or
/// broken is an error when the file is required and is passed over when
/// it is optional (libcurl 8).
fn netrc_login(
    auth: &ServerAuth,
    host: &str,
    user: Option<&str>,
    scheme: Scheme,
) -> Result<Option<Login>, Error> {
    if auth.netrc == NetRc::Ignored {
        return Ok(None);
    }
    let failed = |why: String| {
        if auth.netrc == NetRc::Required {
            Err(Error::new(ErrorKind::ReadError, why))
        } else {
            Ok(None)
        }
    };
    // The option, else $NETRC (libcurl 8.16), else $HOME/.netrc.
    let path = match (
        &auth.netrc_file,
        std::env::var_os("NETRC"),
        std::env::var_os("HOME"),
    ) {
        (Some(path), _, _) => path.clone(),
        (None, Some(file), _) => std::path::PathBuf::from(file),
        (None, None, Some(home)) => std::path::PathBuf::from(home).join(".netrc"),
        (None, None, None) => {
            return failed(".netrc error: no home directory to find it in".into())
        }
    };
    let text = match std::fs::read(&path).map(String::from_utf8) {
        Ok(Ok(text)) => text,
        Ok(Err(_)) => {
            return failed(format!(
                ".netrc error: {} is not UTF-8 text",
                path.display()
            ))
        }
        Err(e) => return failed(format!(".netrc error: cannot read {}: {e}", path.display())),
    };
    let login = match handover_proto::netrc::lookup(&text, host, user) {
        Ok(login) => login,
        Err(e) => return failed(format!("{e} in {}", path.display())),
    };
    let sends_verbatim = !scheme.credentials_may_hold_controls();
    let has_control = |s: &Option<String>| s.as_deref().is_some_and(url::has_control);
    if let Some(found) = &login {
        if sends_verbatim && (has_control(&found.user) || has_control(&found.password)) {
            // libcurl's words; refused whether or not the file is required.
            return Err(Error::new(
                ErrorKind::ReadError,
                "control code detected in .netrc credentials",
            ));
        }
    }
    Ok(login)
}
