//! `mqtt://` and `mqtts://` connect-only against mosquitto: TCP (and TLS)
//! only, no MQTT CONNECT sent — the application writes its own and reads
//! the CONNACK, as libcurl leaves it to do.

mod common;

use std::time::Duration;

use common::recv_exact;
use handover::{ConnectOnly, Easy};
use handover_test_support::peers::TestPki;
use handover_test_support::real_peers::Mosquitto;

/// MQTT 3.1.1 CONNECT, clean session, keep-alive 60 s, client id `id`.
fn connect_packet(id: &str) -> Vec<u8> {
    let mut body = b"\x00\x04MQTT\x04\x02\x00\x3c".to_vec();
    body.extend_from_slice(&u16::try_from(id.len()).unwrap().to_be_bytes());
    body.extend_from_slice(id.as_bytes());
    let mut packet = vec![0x10, u8::try_from(body.len()).unwrap()];
    packet.extend(body);
    packet
}

#[test]
fn the_application_speaks_mqtt_over_plain_and_tls_connections() {
    let broker = Mosquitto::shared();
    let pki = TestPki::shared();
    let ca = pki.write_temp("mqtt-ca.pem", &pki.ca_pem);
    for (scheme, port) in [("mqtt", broker.port()), ("mqtts", broker.tls_port())] {
        let id = format!("handover-{scheme}-{}", std::process::id());
        let mut easy = Easy::new();
        easy.url(&format!("{scheme}://127.0.0.1:{port}/topic"))
            .unwrap();
        easy.connect_only(ConnectOnly::Connection).unwrap();
        easy.cainfo(&ca).unwrap();
        easy.connect_timeout(Duration::from_secs(20)).unwrap();
        easy.perform().unwrap();
        // Nothing was sent: the broker has seen no client yet.
        assert!(!broker.log().contains(&id));
        let packet = connect_packet(&id);
        let mut sent = 0;
        while sent < packet.len() {
            match easy.send(&packet[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == handover::ErrorKind::Again => {
                    easy.wait_writable(Some(Duration::from_millis(100)))
                        .unwrap();
                }
                Err(e) => panic!("{scheme}: {e}"),
            }
        }
        assert_eq!(
            recv_exact(&mut easy, 4),
            b"\x20\x02\x00\x00",
            "{scheme}: CONNACK"
        );
        broker.wait_log(&id, Duration::from_secs(10));
    }
}
