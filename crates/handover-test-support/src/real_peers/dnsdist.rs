//! dnsdist 1.7 as a DNS over HTTPS server (RFC 8484) on 127.0.0.1, over
//! TLS with the certificate it is given, answering from its own rules: no
//! upstream DNS server is needed (nor reachable: the tests run offline).
//!
//! - `doh-test.example` and every name under it: A 127.0.0.1 and AAAA ::1,
//!   TTL [`DOH_TTL`];
//! - names starting with `v4.` under it: A only (AAAA: NOERROR, no record);
//! - any other name: NXDOMAIN.
//!
//! dnsdist's DoH listener (h2o) speaks HTTP/1.1 as well as HTTP/2, so
//! handover's HTTP/1.1 requests and libcurl's HTTP/2 ones both work. Every
//! query is logged (`Packet from ... for NAME. TYPE with id 0`), so tests
//! can count the requests a name caused ([`Dnsdist::queries_for`]).

use std::fs;
use std::net::SocketAddr;
use std::process::Command;

use super::{find_program, shared_instance, Instances, Peer, Program, TempDir};

/// The name dnsdist answers for (and every name under it).
pub const DOH_NAME: &str = "doh-test.example";

/// The TTL of dnsdist's answers, in seconds.
pub const DOH_TTL: u32 = 300;

/// The path of the DoH endpoint.
pub const DOH_PATH: &str = "/dns-query";

/// dnsdist serving DoH on a free loopback port.
pub struct Dnsdist {
    peer: Peer,
}

peer_accessors!(Dnsdist);

impl Dnsdist {
    /// The dnsdist shared by every test of this process, with the shared
    /// test PKI's certificate (see [`crate::shared`]).
    pub fn shared() -> &'static Dnsdist {
        static SHARED: Instances<(), Dnsdist> = Instances::new();
        shared_instance(&SHARED, (), || {
            let pki = crate::peers::TestPki::shared();
            Dnsdist::start(&pki.server_chain_pem, &pki.server_key_pem)
        })
    }

    /// Starts dnsdist presenting `cert_chain_pem` (for 127.0.0.1); returns
    /// once its DoH listener accepts connections.
    pub fn start(cert_chain_pem: &str, key_pem: &str) -> Dnsdist {
        let exe = find_program("dnsdist", &["dnsdist"], "dnsdist");
        let dir = TempDir::new("dnsdist");
        let cert = dir.write("cert.pem", cert_chain_pem);
        let key = dir.write("key.pem", key_pem);
        let queries = dir.path().join("queries.log");
        let peer = Peer::start(
            "dnsdist",
            dir,
            &["stdout.log", "stderr.log"],
            |dir, port| {
                // No setLocal: the DoH listener is the only one (a plain DNS
                // listener would default to port 53).
                let conf = dir.write(
                    "dnsdist.conf",
                    &format!(
                        "setSecurityPollSuffix(\"\")\n\
                         addDOHLocal(\"127.0.0.1:{port}\", \"{}\", \"{}\", \"{DOH_PATH}\")\n\
                         addAction(AllRule(), LogAction(\"{}\", false, true, false))\n\
                         addAction(AndRule({{RegexRule(\"^v4\\\\.\"), QTypeRule(DNSQType.AAAA)}}), RCodeAction(DNSRCode.NOERROR))\n\
                         zone = newSuffixMatchNode()\n\
                         zone:add(newDNSName(\"{DOH_NAME}.\"))\n\
                         addAction(SuffixMatchNodeRule(zone), SpoofAction({{\"127.0.0.1\", \"::1\"}}, {{ttl={DOH_TTL}}}))\n\
                         addAction(AllRule(), RCodeAction(DNSRCode.NXDOMAIN))\n",
                        cert.display(),
                        key.display(),
                        queries.display(),
                    ),
                );
                let mut cmd = Command::new(&exe);
                cmd.args(["--supervised", "--disable-syslog", "-C"])
                    .arg(conf);
                cmd
            },
            |_| true,
        );
        Dnsdist { peer }
    }

    /// `https://127.0.0.1:PORT/dns-query`: the DoH URL.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}{DOH_PATH}", self.port())
    }

    /// The queries logged for `name` so far (one line each: `Packet from
    /// ADDR for NAME. TYPE with id 0`).
    pub fn queries_for(&self, name: &str) -> Vec<String> {
        let needle = format!(" for {name}. ");
        fs::read_to_string(self.peer.dir.path().join("queries.log"))
            .unwrap_or_default()
            .lines()
            .filter(|line| line.contains(&needle))
            .map(str::to_owned)
            .collect()
    }

    /// dnsdist's output and its query log, for a failing test.
    pub fn log(&self) -> String {
        self.peer
            .logs_in_full(&["stdout.log", "stderr.log", "queries.log"])
    }
}
