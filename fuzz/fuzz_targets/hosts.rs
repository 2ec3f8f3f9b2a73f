//! `CURLOPT_RESOLVE` and `CURLOPT_CONNECT_TO` entries
//! (`hosts::parse_resolve`, `parse_connect_to`, `apply_connect_to`).
//!
//! Input: `[config (unused)][plan][entries, one a line]`; every line is
//! parsed both ways.
//!
//! Checks: parse → render → parse gives the same entry (IPv6 in brackets,
//! zone ids as `%25`); an entry matches its own host and port, in any ASCII
//! case and with or without brackets; a CONNECT_TO entry that changes
//! something applies to its own host and port, and `apply_connect_to`
//! takes the first entry that applies.
#![no_main]

use handover_proto::hosts::{
    apply_connect_to, parse_connect_to, parse_resolve, ConnectTo, ResolveEntry,
};
use handover_proto_fuzz::oracle::{bracketed_host, Input};
use libfuzzer_sys::fuzz_target;

fn render_resolve(entry: &ResolveEntry) -> String {
    match entry {
        ResolveEntry::Add {
            host,
            port,
            addrs,
            transient,
        } => {
            let addrs: Vec<String> = addrs
                .iter()
                .map(|a| {
                    if a.is_ipv6() {
                        format!("[{a}]")
                    } else {
                        a.to_string()
                    }
                })
                .collect();
            format!(
                "{}{}:{port}:{}",
                if *transient { "+" } else { "" },
                bracketed_host(host),
                addrs.join(",")
            )
        }
        ResolveEntry::Remove { host, port } => format!("-{}:{port}", bracketed_host(host)),
    }
}

fn render_connect_to(entry: &ConnectTo) -> String {
    let host = entry
        .host
        .as_deref()
        .map(bracketed_host)
        .unwrap_or_default();
    let port = entry.port.map(|p| p.to_string()).unwrap_or_default();
    let to_host = entry
        .to_host
        .as_deref()
        .map(bracketed_host)
        .unwrap_or_default();
    let to_port = entry.to_port.map(|p| p.to_string()).unwrap_or_default();
    format!("{host}:{port}:{to_host}:{to_port}")
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let _ = input.byte();
    let _ = input.plan();
    let text = String::from_utf8_lossy(input.rest()).into_owned();
    let mut connect_to = Vec::new();
    for line in text.split('\n') {
        if let Ok(entry) = parse_resolve(line) {
            let rendered = render_resolve(&entry);
            assert_eq!(
                parse_resolve(&rendered).as_ref(),
                Ok(&entry),
                "rendered {rendered:?}"
            );
            let (host, port) = (entry.host(), entry.port());
            assert!(entry.matches(host, port));
            assert!(entry.matches(&host.to_ascii_uppercase(), port));
            if host.contains(':') {
                assert!(entry.matches(&format!("[{host}]"), port));
            }
            assert!(!entry.matches(host, port.wrapping_add(1)));
        }
        if let Ok(entry) = parse_connect_to(line) {
            let rendered = render_connect_to(&entry);
            assert_eq!(
                parse_connect_to(&rendered).as_ref(),
                Ok(&entry),
                "rendered {rendered:?}"
            );
            let host = entry.host.clone().unwrap_or_else(|| "any.example".into());
            let port = entry.port.unwrap_or(1);
            let applied = entry.apply(&host, port);
            if entry.to_host.is_some() || entry.to_port.is_some() {
                let to_host = entry.to_host.clone().unwrap_or_else(|| host.clone());
                assert_eq!(applied, Some((to_host, entry.to_port.unwrap_or(port))));
            } else {
                assert_eq!(applied, None);
            }
            connect_to.push(entry);
            let first = connect_to.iter().find_map(|e| e.apply(&host, port));
            assert_eq!(apply_connect_to(&connect_to, &host, port), first);
        }
    }
});
