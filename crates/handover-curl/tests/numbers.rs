//! The table of numbers (`handover_curl::codes`) against the system's
//! `curl/curl.h`: a C file generated from the table prints every constant
//! the header has (those newer than the header's libcurl are left out by
//! `#if LIBCURL_VERSION_NUM`), and every value must match. The option
//! table's `curl_easy_option_*` view is compared with Debian's libcurl's at
//! run time.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use handover_curl::codes::{Constant, TABLES};

/// Values that changed between Debian's libcurl 7.88.1 and 8.21.0, with
/// 7.88.1's: libcurl 8 masks the "any method" sets to 32 bits.
const CHANGED_SINCE_7_88: &[(&str, i64)] = &[("CURLAUTH_ANY", -17), ("CURLAUTH_ANYSAFE", -18)];

fn all_constants() -> Vec<Constant> {
    TABLES.iter().flat_map(|(_, t)| t.iter().copied()).collect()
}

/// The constants as the system header defines them, by name.
fn system_values() -> (u32, BTreeMap<String, i64>) {
    let mut c = String::from(
        "#define CURL_DISABLE_DEPRECATION 1\n#include <stdio.h>\n#include <curl/curl.h>\n\nint main(void)\n{\n  printf(\"LIBCURL_VERSION_NUM %lld\\n\", (long long)LIBCURL_VERSION_NUM);\n",
    );
    for k in all_constants() {
        c.push_str(&format!(
            "#if LIBCURL_VERSION_NUM >= {:#08x}\n  printf(\"{} %lld\\n\", (long long)({}));\n#endif\n",
            k.since, k.name, k.name
        ));
    }
    c.push_str("  return 0;\n}\n");
    let src = common::scratch_dir().join("numbers.c");
    std::fs::write(&src, c).expect("write numbers.c");
    let program = common::compile_file(&src, "numbers");
    let out = Command::new(&program).output().expect("run numbers");
    assert!(out.status.success(), "{}", common::text(&out));
    let mut values = BTreeMap::new();
    let mut version = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let (name, value) = line.split_once(' ').expect("name value");
        let value: i64 = value.parse().expect("a number");
        if name == "LIBCURL_VERSION_NUM" {
            version = u32::try_from(value).expect("a version");
        } else {
            values.insert(name.to_owned(), value);
        }
    }
    (version, values)
}

#[test]
fn every_number_is_the_system_headers() {
    let (version, values) = system_values();
    assert!(version >= 0x075801, "curl.h {version:#x}");
    let mut checked = 0;
    for k in all_constants() {
        let Some(&value) = values.get(k.name) else {
            assert!(
                k.since > version,
                "{} (since {:#x}) not printed",
                k.name,
                k.since
            );
            continue;
        };
        checked += 1;
        match CHANGED_SINCE_7_88.iter().find(|(name, _)| *name == k.name) {
            Some((_, old)) if version < 0x080000 => {
                assert_eq!(value, *old, "{}: the documented 7.88 value", k.name);
            }
            _ => assert_eq!(value, k.value, "{}", k.name),
        }
    }
    assert!(checked > 450, "only {checked} constants checked");
}

/// `name id type flags` for every option of a library's
/// `curl_easy_option_next` table.
fn option_table(output: &[u8]) -> BTreeMap<String, (i64, i64, i64)> {
    String::from_utf8_lossy(output)
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split(' ').collect();
            let n = |i: usize| f[i].parse::<i64>().expect("a number");
            (f[0].to_owned(), (n(1), n(2), n(3)))
        })
        .collect()
}

#[test]
fn easy_option_tables_agree_with_debians_libcurl() {
    let program = common::compile("options");
    let (system, ours) = common::run_both(&program, &[]);
    assert!(system.status.success(), "{}", common::both(&system, &ours));
    assert!(ours.status.success(), "{}", common::both(&system, &ours));
    let theirs = option_table(&system.stdout);
    let mine = option_table(&ours.stdout);
    let (version, _) = system_values();
    for k in handover_curl::codes::OPTIONS {
        let name = k.name.trim_start_matches("CURLOPT_");
        let entry = mine
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing from ours"));
        assert_eq!(entry.0, k.value, "{name}");
        if k.since > version {
            assert!(
                !theirs.contains_key(name),
                "{name} is older than the table says"
            );
            continue;
        }
        let expected = theirs
            .get(name)
            .unwrap_or_else(|| panic!("{name} (since {:#x}) unknown to Debian's libcurl", k.since));
        assert_eq!(entry, expected, "{name}: id, curl_easytype, flags");
    }
    assert_eq!(mine.len(), handover_curl::codes::OPTIONS.len());
}
