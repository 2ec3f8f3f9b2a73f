//! The MQTT broker of the tests: mosquitto ([`Mosquitto`]).

use std::fs;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use super::{
    find_program, free_ports, shared_instance, wait_for_text, Instances, Peer, Program, TempDir,
};
use crate::peers::TestPki;

/// mosquitto 2.0 as an MQTT broker on 127.0.0.1: a plain listener
/// ([`Mosquitto::port`]) and a TLS one ([`Mosquitto::tls_port`], the
/// server certificate of [`TestPki::shared`], no client certificate
/// asked), anonymous clients allowed, no persistence. It stays root (`user
/// root`: it warns about that on stderr, harmlessly).
///
/// Its log ([`Mosquitto::log`]) has every connection and packet
/// (`log_type all`), so a test can tell how a client left:
///
/// - `New connection from 127.0.0.1:PORT on port N.`: the TCP (or TLS)
///   connection, PORT the client's;
/// - `New client connected from 127.0.0.1:PORT as ID (p2, c1, k60).`:
///   after a CONNECT, answered by `Sending CONNACK to ID (0, 0)`;
/// - `Received DISCONNECT from ID` then `Client ID disconnected.`: the
///   client sent DISCONNECT;
/// - `Client ID closed its connection.`: it closed without one (`Client
///   <unknown> closed its connection.` when it never sent CONNECT).
pub struct Mosquitto {
    peer: Peer,
    tls_port: u16,
}

peer_accessors!(Mosquitto);

impl Mosquitto {
    /// The broker shared by every test of this process (see
    /// [`crate::shared`]).
    pub fn shared() -> &'static Mosquitto {
        static SHARED: Instances<(), Mosquitto> = Instances::new();
        shared_instance(&SHARED, (), Mosquitto::start)
    }

    /// Starts mosquitto; returns once its plain listener accepts
    /// connections and the log says both listeners are open.
    pub fn start() -> Mosquitto {
        let exe = find_program("mosquitto", &["mosquitto"], "mosquitto");
        let dir = TempDir::new("mosquitto");
        let pki = TestPki::shared();
        let cert = dir.write("cert.pem", &pki.server_chain_pem);
        let key = dir.write("key.pem", &pki.server_key_pem);
        let log = dir.path().join("mosquitto.log");
        let d = dir.path().display().to_string();
        let mut tls_port = 0;
        let peer = Peer::start(
            "mosquitto",
            dir,
            &["mosquitto.log", "stderr.log", "stdout.log"],
            |dir, port| {
                tls_port = free_ports(port, 1)[0];
                let conf = dir.write(
                    "mosquitto.conf",
                    &format!(
                        "user root\n\
                         per_listener_settings false\n\
                         allow_anonymous true\n\
                         persistence false\n\
                         pid_file {d}/mosquitto.pid\n\
                         log_dest file {}\n\
                         log_type all\n\
                         connection_messages true\n\
                         log_timestamp true\n\
                         listener {port} 127.0.0.1\n\
                         listener {tls_port} 127.0.0.1\n\
                         certfile {}\n\
                         keyfile {}\n",
                        log.display(),
                        cert.display(),
                        key.display(),
                    ),
                );
                let mut cmd = Command::new(&exe);
                cmd.arg("-c").arg(conf);
                cmd
            },
            |_| {
                // Both listeners are open once the broker says it runs.
                fs::read_to_string(&log)
                    .map(|text| text.contains(" running"))
                    .unwrap_or(false)
            },
        );
        Mosquitto { peer, tls_port }
    }

    /// The port of the TLS listener.
    pub fn tls_port(&self) -> u16 {
        self.tls_port
    }

    /// mosquitto's log so far (see the module docs), then stderr.
    pub fn log(&self) -> String {
        self.peer
            .logs_in_full(&["mosquitto.log", "stderr.log", "stdout.log"])
    }

    /// [`Mosquitto::log`] once it contains `wanted`, or as it is after
    /// `timeout`.
    pub fn wait_log(&self, wanted: &str, timeout: Duration) -> String {
        wait_for_text(wanted, timeout, || self.log())
    }
}
