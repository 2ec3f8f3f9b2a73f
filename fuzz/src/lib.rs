//! Shared pieces of the fuzz targets in `fuzz_targets/`: everything lives in
//! [`oracle`], so each target stays a short list of checks.
//!
//! Input layout used by every target (the seed script `fuzz/seeds.py`
//! writes the same):
//!
//! ```text
//!   [config bytes, fixed per target] [plan length n] [n plan bytes] [message ...]
//! ```
//!
//! A seed is `config = 0`, `n = 0`, then a message from a unit test; the
//! fuzzer mutates all three parts.

pub mod oracle;
