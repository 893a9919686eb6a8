//! Erlang C: the M/M/c queue a contact center is sized with (Poisson arrivals, exponential
//! handling, `c` agents each serving one visitor at a time, nobody gives up).
//!
//! With offered traffic `A = λ / μ` Erlangs on `c` agents, Erlang C is
//!
//! ```text
//!            A^c / c! · c / (c - A)
//! C(c, A) = ------------------------------------------
//!           Σ_{k<c} A^k / k!  +  A^c / c! · c / (c - A)
//! ```
//!
//! Evaluated as written it overflows (A^c, c!) for a few hundred agents. Here it goes through
//! Erlang B with the recursion `B(0) = 1`, `B(k) = A·B(k-1) / (k + A·B(k-1))`, whose terms
//! stay in (0, 1], and then `C = c·B / (c - A·(1 - B))`. Both steps are exact identities.

/// Erlang B: the probability that all `c` agents are busy in the loss system with traffic
/// `a` Erlangs.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    b
}

/// Erlang C: the probability that an arriving visitor waits, with traffic `a` Erlangs on `c`
/// agents. `None` when `a >= c` (the queue grows without bound).
pub fn erlang_c(c: u32, a: f64) -> Option<f64> {
    if a.is_nan() || a < 0.0 || a >= f64::from(c) {
        return None;
    }
    if a == 0.0 {
        return Some(0.0);
    }
    let b = erlang_b(c, a);
    Some(f64::from(c) * b / (f64::from(c) - a * (1.0 - b)))
}

/// What Erlang C predicts for a desk.
#[derive(Clone, Copy, Debug)]
pub struct Prediction {
    /// Offered traffic in Erlangs.
    pub traffic: f64,
    /// Probability of waiting at all.
    pub p_wait: f64,
    /// Mean wait of all visitors, in seconds (the average speed of answer).
    pub mean_wait: f64,
    /// Agent occupancy, A / c.
    pub occupancy: f64,
    /// (c·μ - λ), per second: the rate of the exponential tail of the wait.
    tail_rate: f64,
}

impl Prediction {
    /// `agents` agents, arrivals per hour, mean handling time in seconds.
    pub fn new(agents: u32, per_hour: f64, handling_secs: f64) -> Option<Self> {
        let lambda = per_hour / 3600.0;
        let traffic = lambda * handling_secs;
        let p_wait = erlang_c(agents, traffic)?;
        let tail_rate = (f64::from(agents) - traffic) / handling_secs;
        Some(Self {
            traffic,
            p_wait,
            mean_wait: p_wait / tail_rate,
            occupancy: traffic / f64::from(agents),
            tail_rate,
        })
    }

    /// The service level: the share of visitors answered within `secs` seconds,
    /// `1 - C · e^{-(cμ - λ) t}`.
    pub fn answered_within(&self, secs: f64) -> f64 {
        1.0 - self.p_wait * (-self.tail_rate * secs).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn the_textbook_case_two_erlangs_on_three_agents_waits_four_ninths() {
        // By hand: B(1) = 2/3, B(2) = (4/3)/(2 + 4/3) = 2/5, B(3) = (4/5)/(3 + 4/5) = 4/19;
        // C = 3·(4/19) / (3 - 2·15/19) = (12/19) / (27/19) = 4/9.
        assert!(close(erlang_b(3, 2.0), 4.0 / 19.0, 1e-12));
        let c = erlang_c(3, 2.0).expect("stable");
        assert!(close(c, 4.0 / 9.0, 1e-12), "{c}");
        assert!(close(c, 0.4444, 5e-5));
    }

    #[test]
    fn one_agent_waits_with_probability_rho_and_two_agents_match_the_closed_form() {
        // M/M/1: P(wait) = ρ, mean wait = ρ / (μ - λ).
        for rho in [0.1, 0.5, 0.9, 0.99] {
            assert!(close(erlang_c(1, rho).expect("stable"), rho, 1e-12));
        }
        let p = Prediction::new(1, 9.0, 360.0).expect("stable"); // ρ = 0.9, μ = 1/360
        assert!(close(p.mean_wait, 0.9 / (1.0 / 360.0 - 9.0 / 3600.0), 1e-6));
        // M/M/2: C = A² / (2 + A), derived from the formula with c = 2.
        for a in [0.5, 1.0, 1.5, 1.9] {
            let c = erlang_c(2, a).expect("stable");
            assert!(close(c, a * a / (2.0 + a), 1e-12), "A = {a}: {c}");
        }
    }

    #[test]
    fn a_textbook_exercise_three_erlangs_on_five_agents() {
        // One call a minute, 3 minutes each, 5 agents: P(wait) = 0.2362 (worked by hand from
        // the sums: Σ_{k<5} 3^k/k! = 16.375, 3^5/5! · 5/2 = 5.0625, 5.0625 / 21.4375).
        let c = erlang_c(5, 3.0).expect("stable");
        assert!(close(c, 5.0625 / 21.4375, 1e-12));
        assert!(close(c, 0.2362, 5e-5));
    }

    /// The textbook sum as written, for desks small enough not to overflow: an independent
    /// second implementation to hold the stable one against.
    fn erlang_c_by_the_sums(c: u32, a: f64) -> f64 {
        let term = |k: u32| a.powi(k as i32) / (1..=k).map(f64::from).product::<f64>();
        let top = term(c) * f64::from(c) / (f64::from(c) - a);
        top / ((0..c).map(term).sum::<f64>() + top)
    }

    #[test]
    fn the_classic_call_center_example_360_calls_per_half_hour() {
        // The worked example of call-center guides: 360 calls per 30 minutes of 240 s each on
        // 55 agents. A = 48 Erlangs, occupancy 87.3%; P(wait) = 0.238701 (the sums in exact
        // rational arithmetic), so the average speed of answer is 0.2387 · 240 / 7 = 8.18 s
        // and 1 - 0.2387 · e^(-7 · 15 / 240) = 84.59% are answered within 15 s.
        let p = Prediction::new(55, 720.0, 240.0).expect("stable");
        assert!(close(p.traffic, 48.0, 1e-9));
        assert!(close(p.occupancy, 48.0 / 55.0, 1e-12));
        assert!(close(p.p_wait, 0.238_701, 1e-6), "{}", p.p_wait);
        assert!(close(p.p_wait, erlang_c_by_the_sums(55, 48.0), 1e-12));
        assert!(close(p.mean_wait, 8.184, 1e-3), "{}", p.mean_wait);
        assert!(close(p.answered_within(15.0), 0.8459, 1e-4));
    }

    #[test]
    fn staffing_for_90_percent_not_delayed_at_30_calls_an_hour_of_5_minutes() {
        // A = 30 / 12 = 2.5 Erlangs: 5 agents leave 13.0% waiting, 6 agents 4.7%; so 6 is the
        // smallest desk where 90% are not delayed.
        assert!(close(erlang_c(5, 2.5).expect("stable"), 0.130_371, 1e-6));
        assert!(close(erlang_c(6, 2.5).expect("stable"), 0.047_445, 1e-6));
        let smallest = (3..20).find(|&c| erlang_c(c, 2.5).is_some_and(|p| p <= 0.1));
        assert_eq!(smallest, Some(6));
        for (c, a) in [(3, 2.0), (10, 8.0), (20, 17.5), (55, 48.0), (100, 95.0)] {
            let stable = erlang_c(c, a).expect("stable");
            assert!(
                close(stable, erlang_c_by_the_sums(c, a), 1e-10),
                "c {c}, A {a}"
            );
        }
    }

    #[test]
    fn stays_finite_for_large_desks_and_refuses_overload() {
        let c = erlang_c(2000, 1950.0).expect("stable");
        assert!(c.is_finite() && c > 0.0 && c < 1.0, "{c}");
        assert!(erlang_c(10, 10.0).is_none());
        assert!(erlang_c(10, 12.0).is_none());
        assert_eq!(erlang_c(10, 0.0), Some(0.0));
        // More agents, less waiting.
        assert!(erlang_c(11, 8.0) < erlang_c(10, 8.0));
    }
}
