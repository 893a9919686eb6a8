//! The statistics of the report: percentiles, Jain's fairness index, and the batch-means
//! estimate of how much a simulated figure would move with another seed.

/// The `q`-quantile (0..=1) of sorted values, nearest rank: the smallest value with at least
/// `q` of the values at or below it. `None` for no values.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The arithmetic mean; `None` for no values.
pub fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Jain's fairness index `(Σx)² / (n·Σx²)`: 1 when everyone gets the same, `1/n` when one gets
/// everything. `None` for no values or all zero.
pub fn jain(values: &[f64]) -> Option<f64> {
    let sum: f64 = values.iter().sum();
    let squares: f64 = values.iter().map(|x| x * x).sum();
    (squares > 0.0).then(|| sum * sum / (values.len() as f64 * squares))
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom (Cornish-Fisher expansion,
/// within 0.005 of the tables from 5 degrees of freedom on).
pub fn t_975(df: usize) -> f64 {
    let z: f64 = 1.959_964;
    let n = df.max(1) as f64;
    z + (z.powi(3) + z) / (4.0 * n)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * n * n)
        + (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / (384.0 * n.powi(3))
}

/// Batch means: a long run cut into `k` equal stretches of time gives `k` nearly independent
/// estimates of a figure; their spread says how far the whole run's figure may be from the
/// truth. Returns the half-width of the 95% confidence interval of the mean of `batches`.
/// `None` with fewer than two batches.
pub fn half_width_95(batches: &[f64]) -> Option<f64> {
    let k = batches.len();
    if k < 2 {
        return None;
    }
    let m = mean(batches)?;
    let var = batches.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (k - 1) as f64;
    Some(t_975(k - 1) * (var / k as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), Some(50.0));
        assert_eq!(percentile(&v, 0.9), Some(90.0));
        assert_eq!(percentile(&v, 0.99), Some(99.0));
        assert_eq!(percentile(&v, 1.0), Some(100.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&[3.0, 7.0], 0.5), Some(3.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn jain_is_one_when_equal_and_one_over_n_when_one_takes_all() {
        assert_eq!(jain(&[5.0, 5.0, 5.0, 5.0]), Some(1.0));
        assert_eq!(jain(&[8.0, 0.0, 0.0, 0.0]), Some(0.25));
        // (1 + 2 + 3)² / (3 · (1 + 4 + 9)) = 36 / 42.
        let j = jain(&[1.0, 2.0, 3.0]).expect("non-zero");
        assert!((j - 36.0 / 42.0).abs() < 1e-12);
        assert_eq!(jain(&[0.0, 0.0]), None);
    }

    #[test]
    fn t_quantiles_match_the_tables() {
        for (df, table) in [
            (5, 2.571),
            (9, 2.262),
            (19, 2.093),
            (29, 2.045),
            (1000, 1.962),
        ] {
            let t = t_975(df);
            assert!((t - table).abs() < 0.005, "df {df}: {t} vs {table}");
        }
    }

    #[test]
    fn half_width_of_known_batches() {
        // Mean 2, sample variance 2.5, k = 5: t(4) · sqrt(2.5 / 5); t(4) = 2.776.
        let h = half_width_95(&[0.0, 1.0, 2.0, 3.0, 4.0]).expect("five batches");
        assert!((h - 2.776 * 0.5f64.sqrt()).abs() < 0.02, "{h}");
        assert_eq!(half_width_95(&[1.0]), None);
        assert_eq!(half_width_95(&[1.0, 1.0, 1.0]), Some(0.0));
    }
}
