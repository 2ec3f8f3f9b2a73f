//! Statistics over repeated attempts: per phase min/p50/p90/p99/max/mean/
//! stddev of the successful attempts, loss, and the longest failure streak
//! — what tcping/httping users ask httpstat for.

use std::time::Duration;

use crate::attempt::Attempt;

/// One phase's distribution, in milliseconds.
#[derive(Clone, Debug)]
pub struct PhaseStats {
    pub name: String,
    pub count: usize,
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
    pub stddev: f64,
}

/// The summary of a run.
#[derive(Clone, Debug)]
pub struct Summary {
    pub attempts: usize,
    pub ok: usize,
    pub failed: usize,
    pub loss_pct: f64,
    pub longest_failure_streak: usize,
    pub elapsed: Duration,
    /// Phases in the order they first appeared, `total` last.
    pub phases: Vec<PhaseStats>,
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Summary {
    pub fn of(attempts: &[Attempt], elapsed: Duration) -> Summary {
        let ok = attempts.iter().filter(|a| a.ok()).count();
        let mut streak = 0;
        let mut longest = 0;
        for a in attempts {
            streak = if a.ok() { 0 } else { streak + 1 };
            longest = longest.max(streak);
        }
        let mut names: Vec<String> = Vec::new();
        let mut values: Vec<Vec<f64>> = Vec::new();
        for a in attempts.iter().filter(|a| a.ok()) {
            let mut phases = a.phases();
            phases.push(("total".into(), 0, a.total));
            for (name, _, d) in phases {
                let i = match names.iter().position(|n| *n == name) {
                    Some(i) => i,
                    None => {
                        names.push(name);
                        values.push(Vec::new());
                        names.len() - 1
                    }
                };
                values[i].push(ms(d));
            }
        }
        // `total` last, whatever order the attempts gave.
        if let Some(i) = names.iter().position(|n| n == "total") {
            let (n, v) = (names.remove(i), values.remove(i));
            names.push(n);
            values.push(v);
        }
        let phases = names
            .into_iter()
            .zip(values)
            .map(|(name, v)| PhaseStats::of(name, v))
            .collect();
        let n = attempts.len();
        Summary {
            attempts: n,
            ok,
            failed: n - ok,
            loss_pct: if n == 0 {
                0.0
            } else {
                (n - ok) as f64 * 100.0 / n as f64
            },
            longest_failure_streak: longest,
            elapsed,
            phases,
        }
    }

    pub fn phase(&self, name: &str) -> Option<&PhaseStats> {
        self.phases.iter().find(|p| p.name == name)
    }
}

impl PhaseStats {
    fn of(name: String, mut v: Vec<f64>) -> PhaseStats {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        PhaseStats {
            name,
            count: n,
            min: v[0],
            p50: percentile(&v, 50.0),
            p90: percentile(&v, 90.0),
            p99: percentile(&v, 99.0),
            max: v[n - 1],
            mean,
            stddev: var.sqrt(),
        }
    }
}

/// Nearest-rank percentile of sorted values (no interpolation: every value
/// shown was observed).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 5.0);
        assert_eq!(percentile(&v, 90.0), 9.0);
        assert_eq!(percentile(&v, 99.0), 10.0);
        assert_eq!(percentile(&[3.0], 99.0), 3.0);
    }
}
