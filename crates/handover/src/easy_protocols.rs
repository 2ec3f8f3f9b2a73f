//! The options of the protocols' own connect phases: how much TLS to ask
//! a clear-text server for (`CURLOPT_USE_SSL`), the FTP login's extras and
//! the mail logins' SASL settings.

use crate::error::Error;
use crate::{Easy, FtpSslAuth, UseSsl};

impl Easy {
    /// How much TLS to ask of an FTP, IMAP, POP3 or SMTP server on a clear
    /// connection (`CURLOPT_USE_SSL`): [`UseSsl::None`] (the default),
    /// [`UseSsl::Try`] (TLS if the server agrees, clear text otherwise),
    /// [`UseSsl::Control`] or [`UseSsl::All`] (TLS or fail with
    /// `UseSslFailed`, 64). `ftps://` and the other `s` schemes are TLS
    /// from the start whatever this says.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use handover::{ConnectOnly, Easy, UseSsl};
    ///
    /// let mut easy = Easy::new();
    /// easy.url("ftp://ftp.example.com/")?;
    /// easy.connect_only(ConnectOnly::Connection)?;
    /// easy.use_ssl(UseSsl::All)?; // AUTH TLS, or fail
    /// easy.perform()?; // logged in, under TLS; the control connection is yours
    /// # Ok::<(), handover::Error>(())
    /// ```
    pub fn use_ssl(&mut self, level: UseSsl) -> Result<(), Error> {
        self.opts.use_ssl = level;
        Ok(())
    }

    /// Which of `AUTH TLS` and `AUTH SSL` the FTP login tries first when
    /// [`use_ssl`](Easy::use_ssl) asks for TLS (`CURLOPT_FTPSSLAUTH`;
    /// `AUTH TLS` by default); the other follows if the server refuses.
    pub fn ftp_ssl_auth(&mut self, first: FtpSslAuth) -> Result<(), Error> {
        self.opts.ftp.ssl_auth = first;
        Ok(())
    }

    /// The account sent with `ACCT` when the FTP server asks for one (a 332
    /// answer) during the login (`CURLOPT_FTP_ACCOUNT`); `None` forgets it.
    pub fn ftp_account(&mut self, account: Option<&str>) -> Result<(), Error> {
        self.opts.ftp.account = account.map(str::to_owned);
        Ok(())
    }

    /// A command sent, once, when the FTP server refuses `USER`
    /// (`CURLOPT_FTP_ALTERNATIVE_TO_USER`), e.g. `SITE LOGIN user pass`;
    /// `None` forgets it.
    pub fn ftp_alternative_to_user(&mut self, command: Option<&str>) -> Result<(), Error> {
        self.opts.ftp.alternative_to_user = command.map(str::to_owned);
        Ok(())
    }

    /// The login options of the IMAP, POP3 and SMTP logins
    /// (`CURLOPT_LOGIN_OPTIONS`): `AUTH=<mechanism>` picks the SASL
    /// mechanism (`AUTH=*`: any the server offers; POP3 also `AUTH=+APOP`);
    /// `None` forgets them.
    pub fn login_options(&mut self, options: Option<&str>) -> Result<(), Error> {
        self.opts.mail.login_options = options.map(str::to_owned);
        Ok(())
    }

    /// The identity to act as, sent with SASL PLAIN
    /// (`CURLOPT_SASL_AUTHZID`); `None` forgets it.
    pub fn sasl_authzid(&mut self, authzid: Option<&str>) -> Result<(), Error> {
        self.opts.mail.sasl_authzid = authzid.map(str::to_owned);
        Ok(())
    }

    /// Sends the first SASL message with the `AUTHENTICATE`/`AUTH` command
    /// itself when the server allows it (`CURLOPT_SASL_IR`; off by
    /// default, as libcurl).
    pub fn sasl_ir(&mut self, on: bool) -> Result<(), Error> {
        self.opts.mail.sasl_ir = on;
        Ok(())
    }

    /// The service name for SASL DIGEST-MD5 (`CURLOPT_SERVICE_NAME`;
    /// the protocol's own, `imap`, `pop` or `smtp`, by default).
    pub fn service_name(&mut self, name: Option<&str>) -> Result<(), Error> {
        self.opts.mail.service_name = name.map(str::to_owned);
        Ok(())
    }
}
