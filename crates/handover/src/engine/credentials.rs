//! Who logs in: the user name and password a transfer authenticates to
//! the server with — for HTTP's 401 rounds and the FTP, IMAP, POP3 and
//! SMTP logins alike — picked from the options, the URL and a `.netrc`
//! file in libcurl's order.

use handover_proto::auth::Credentials;
use handover_proto::url::Url;

use crate::options::{NetRc, ServerAuth};

/// The user and password to log in with, as libcurl picks them: the
/// options' user name, else the URL's (with the options' password, else
/// the URL's), else a `.netrc` entry for the host; `None` without a user.
pub(super) fn login_credentials(auth: &ServerAuth, url: &Url) -> Option<Credentials> {
    // `CURL_NETRC_REQUIRED` ignores what the URL says.
    let (url_user, url_password) = match auth.netrc {
        NetRc::Required => (None, None),
        _ => (url.user.as_ref(), url.password.as_ref()),
    };
    match &auth.username {
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
        None => netrc_credentials(auth, &url.host, url_user.map(String::as_str))
            .map(|(user, password)| Credentials { user, password })
            .or_else(|| {
                url_user.map(|user| Credentials {
                    user: user.clone(),
                    password: String::new(),
                })
            }),
    }
}

/// The login and password a `.netrc` file gives for `host` (for `login`
/// when the URL named one), when the options ask for the file to be read:
/// `netrc_file`, else `$HOME/.netrc`. A file that cannot be read gives
/// nothing, as libcurl goes on without it.
fn netrc_credentials(
    auth: &ServerAuth,
    host: &str,
    login: Option<&str>,
) -> Option<(String, String)> {
    if auth.netrc == NetRc::Ignored {
        return None;
    }
    let path = match &auth.netrc_file {
        Some(path) => path.clone(),
        None => std::path::PathBuf::from(std::env::var_os("HOME")?).join(".netrc"),
    };
    let text = std::fs::read_to_string(path).ok()?;
    handover_proto::netrc::lookup(&text, host, login)
}
