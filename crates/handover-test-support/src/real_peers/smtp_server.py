"""An SMTP server for handover's tests, on aiosmtpd (Debian's python3-aiosmtpd).

Run by crates/handover-test-support/src/real_peers/smtp.rs, which writes this
file into the server's temp dir and starts it with Debian's /usr/bin/python3:

    smtp_server.py LOG CERT KEY USERS PORT TLS_PORT PLAIN_PORT

Three listeners on 127.0.0.1, each speaking aiosmtpd's SMTP:
  PORT        STARTTLS offered (not required), then AUTH;
  TLS_PORT    TLS from the first byte (smtps), AUTH;
  PLAIN_PORT  no TLS at all (no STARTTLS in the EHLO reply), AUTH.
AUTH is offered in the clear too (auth_require_tls off): PLAIN and LOGIN are
aiosmtpd's own; CRAM-MD5 (RFC 2195) is added below through aiosmtpd's
auth-mechanism hook. USERS is a file of `user:password` lines.

LOG gets one line per event: `PORT connect`, `PORT >> LINE` for every command
line read (aiosmtpd masks the credentials of `AUTH <mech> <initial-response>`;
the answers to 334 challenges are not logged), `PORT << REPLY`, `PORT eof`
(the client closed), `PORT lost` (the connection is gone); PORT is the
client's port. Other warnings and notes of aiosmtpd's go in as they are.
"""

import asyncio
import hmac
import logging
import os
import secrets
import ssl
import sys
import time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, MISSING, auth_mechanism

HOSTNAME = "handover-smtp"

# aiosmtpd's own lines that say nothing the short ones do not: each
# connection's list of mechanisms, a deprecation it warns of itself, and
# the second lines of a connection's start and end.
QUIET = (
    "Available AUTH mechanisms",
    "Session.login_data is deprecated",
    "%r handling connection",
    "%r Connection lost during _handle_client()",
)


class EventLog(logging.Handler):
    """Writes aiosmtpd's log records as short lines, flushed at once."""

    def __init__(self, path):
        super().__init__(logging.DEBUG)
        self.out = open(path, "a", buffering=1, encoding="utf-8")

    def emit(self, record):
        try:
            args = record.args if isinstance(record.args, tuple) else ()
            peer = args[0] if args and isinstance(args[0], tuple) else None
            port = peer[1] if peer and len(peer) > 1 else "?"
            text = None
            if record.msg == "%r >> %r" and len(args) == 2:
                text = f"{port} >> {self.decode(args[1])}"
            elif record.msg == "%r << %r" and len(args) == 2:
                text = f"{port} << {self.decode(args[1])}"
            elif record.msg == "Peer: %r":
                text = f"{port} connect"
            elif record.msg == "%r EOF received":
                text = f"{port} eof"
            elif record.msg == "%r connection lost":
                text = f"{port} lost"
            elif record.levelno < logging.INFO or str(record.msg).startswith(QUIET):
                return
            if text is None:
                text = record.getMessage()
            self.out.write(f"{time.time():.6f} {text}\n")
        except Exception:  # a log line never stops the server
            self.handleError(record)

    @staticmethod
    def decode(value):
        if isinstance(value, bytes):
            return value.decode("utf-8", "backslashreplace")
        return str(value)


class Handler:
    """Checks credentials; adds CRAM-MD5 to aiosmtpd's PLAIN and LOGIN."""

    def __init__(self, users):
        self.users = users

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.users.get(auth_data.login) == auth_data.password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    @auth_mechanism("CRAM-MD5")
    async def auth_cram_md5(self, server, args):
        if len(args) != 1:
            await server.push("501 5.5.4 CRAM-MD5 takes no initial response")
            return AuthResult(success=False, handled=True)
        challenge = f"<{secrets.randbits(64)}.{int(time.time())}@{HOSTNAME}>".encode()
        answer = await server.challenge_auth(challenge)
        if answer is MISSING:
            return AuthResult(success=False, handled=True)
        user, _, digest = answer.rpartition(b" ")
        password = self.users.get(user)
        ok = password is not None and hmac.compare_digest(
            hmac.new(password, challenge, "md5").hexdigest().encode(), digest
        )
        return AuthResult(
            success=ok, handled=False, auth_data=LoginPassword(user, b"")
        )


def main():
    log_path, cert, key, users_path = sys.argv[1:5]
    port, tls_port, plain_port = (int(p) for p in sys.argv[5:8])

    logger = logging.getLogger("mail.log")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(EventLog(log_path))
    logger.propagate = False

    users = {}
    with open(users_path, "rb") as f:
        for line in f:
            user, _, password = line.rstrip(b"\r\n").partition(b":")
            if user:
                users[user] = password
    handler = Handler(users)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def smtp(starttls):
        return SMTP(
            handler,
            hostname=HOSTNAME,
            ident="handover test SMTP (aiosmtpd)",
            tls_context=context if starttls else None,
            require_starttls=False,
            auth_require_tls=False,
            authenticator=handler.authenticate,
            loop=loop,
        )

    listeners = [
        (port, lambda: smtp(True), None),
        (tls_port, lambda: smtp(False), context),
        (plain_port, lambda: smtp(False), None),
    ]
    for number, factory, tls in listeners:
        try:
            loop.run_until_complete(
                loop.create_server(factory, "127.0.0.1", number, ssl=tls)
            )
        except OSError as e:
            # The words the Rust side looks for to retry on other ports.
            print(f"bind 127.0.0.1:{number}: {os.strerror(e.errno)}", file=sys.stderr)
            sys.exit(1)
    print(f"listening on {port} {tls_port} {plain_port}", flush=True)
    loop.run_forever()


if __name__ == "__main__":
    main()
