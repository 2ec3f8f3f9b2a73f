//! `--slo total=300ms,tls=100ms,loss=1%`: thresholds checked after the
//! run; a breach exits 101, a number above curl's so that scripts can tell
//! "slow" from "broken".

use crate::stats::Summary;

/// Exit code for a breached threshold.
pub const EXIT_SLO: i32 = 101;

#[derive(Clone, Debug, PartialEq)]
pub enum Limit {
    /// A phase (or `total`) in milliseconds.
    Phase(String, f64),
    /// Loss in percent.
    Loss(f64),
}

pub fn parse(list: &str) -> Result<Vec<Limit>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| format!("--slo {item:?}: expected NAME=VALUE"))?;
            let key = key.trim();
            let value = value.trim();
            if key == "loss" {
                let pct = value.strip_suffix('%').unwrap_or(value);
                let pct: f64 = pct
                    .parse()
                    .map_err(|_| format!("--slo loss={value}: expected a percentage"))?;
                return Ok(Limit::Loss(pct));
            }
            Ok(Limit::Phase(key.to_owned(), duration_ms(value)?))
        })
        .collect()
}

/// `300ms`, `0.3s`, `250us`, a bare number being milliseconds.
fn duration_ms(value: &str) -> Result<f64, String> {
    let (num, scale) = if let Some(n) = value.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = value.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = value.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (value, 1.0)
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("--slo {value}: expected a duration like 300ms or 0.3s"))?;
    Ok(n * scale)
}

/// Each breached limit, in words. A phase is compared with its worst
/// successful attempt: every attempt must meet it. A phase that never
/// happened (no TLS on a plain target) cannot breach.
pub fn breaches(limits: &[Limit], summary: &Summary) -> Vec<String> {
    let mut out = Vec::new();
    for limit in limits {
        match limit {
            Limit::Loss(max) => {
                if summary.loss_pct > *max {
                    out.push(format!("loss {:.1} % > {max} %", summary.loss_pct));
                }
            }
            Limit::Phase(name, max) => {
                if let Some(p) = summary.phase(name) {
                    if p.max > *max {
                        out.push(format!("{name} {:.3} ms > {max} ms", p.max));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_design_example() {
        assert_eq!(
            parse("total=300ms,tls=0.1s,loss=1%").unwrap(),
            vec![
                Limit::Phase("total".into(), 300.0),
                Limit::Phase("tls".into(), 100.0),
                Limit::Loss(1.0)
            ]
        );
        assert!(parse("total").is_err());
        assert!(parse("total=fast").is_err());
    }
}
