//! The README's feature table claims a ✔ for handover only with a test
//! behind it: every row whose handover cell says ✔ names at least one
//! `file::test` in its last column, and each named test exists here (a
//! `#[test] fn` of that name in `tests/<file>.rs`).

use std::path::Path;

#[test]
fn every_tick_in_the_readme_names_tests_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("../../README.md")).unwrap();
    let table = readme
        .split("### Against the tools people use today")
        .nth(1)
        .expect("the README's feature table");
    let header = table
        .lines()
        .find(|l| l.starts_with("| feature"))
        .expect("the table's header");
    let columns: Vec<&str> = cells(header);
    let ours = columns.iter().position(|c| *c == "handover").unwrap();
    let rows: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with("|---"))
        .skip(1)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert!(rows.len() >= 20, "the table: {} rows", rows.len());
    for row in rows {
        let c = cells(row);
        assert_eq!(c.len(), columns.len(), "cells of {row}");
        if !c[ours].starts_with('✔') {
            continue;
        }
        let named: Vec<&str> = c[c.len() - 1].split(", ").collect();
        assert!(
            !named.is_empty() && !named[0].is_empty(),
            "no test for {row}"
        );
        for name in named {
            let (file, test) = name
                .split_once("::")
                .unwrap_or_else(|| panic!("file::test, not {name:?}"));
            let source = std::fs::read_to_string(root.join("tests").join(format!("{file}.rs")))
                .unwrap_or_else(|e| panic!("{name}: tests/{file}.rs: {e}"));
            let declared = source
                .split("#[test]")
                .skip(1)
                .any(|after| after.trim_start().starts_with(&format!("fn {test}(")));
            assert!(declared, "{name}: no such #[test] in tests/{file}.rs");
        }
    }
}

/// The cells of one Markdown table row, trimmed.
fn cells(row: &str) -> Vec<&str> {
    row.trim()
        .trim_matches('|')
        .split('|')
        .map(str::trim)
        .collect()
}
