//! The reference's statistics, with the semantics of the torch and numpy calls it makes:
//! `torch.median` (the lower of the two middle values on an even count), `torch.quantile`
//! (linear interpolation, computed as torch computes it), the interquartile mean of the sync
//! score (values between the two quartiles, inclusive, by value), the clip factor of the
//! clip-median outer step (`clamp(median / (norm + 1e-8), max=1)` in f32) and
//! `numpy.array_split`'s bins (the first `n mod parts` bins one longer).
//!
//! Each is tested against torch and numpy themselves (`tests/statistics.rs`), on even and odd
//! counts.

/// `torch.median` of `values`: the middle value once sorted, and on an even count the
/// **lower** of the two middle values (not their mean). NaN when a value is NaN (torch
/// propagates it) or when there are none (torch's answer for an empty tensor).
pub fn median<T: Float>(values: &[T]) -> T {
    if values.is_empty() {
        return T::NAN;
    }
    if let Some(nan) = values.iter().find(|v| v.is_nan()) {
        return *nan;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    sorted[(sorted.len() - 1) / 2]
}

/// `torch.quantile(x, q)` (default `interpolation='linear'`) of values already sorted
/// ascending, none NaN, at least one: the rank `q·(n − 1)` is split into its floor `lo` and
/// weight `w`, and the result is `torch.lerp(x[lo], x[lo+1], w)`, with lerp's two formulas.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    assert!(n > 0, "the quantile of no values");
    let rank = q * (n - 1) as f64;
    let lo = (rank as usize).min(n - 1);
    let hi = (rank.ceil() as usize).min(n - 1);
    lerp(sorted[lo], sorted[hi], rank - lo as f64)
}

/// `torch.lerp(start, end, w)` as ATen computes it (`lerp` in `ATen/native/Lerp.h`): from
/// the start below w = 0.5, from the end above.
fn lerp(start: f64, end: f64, w: f64) -> f64 {
    if w.abs() < 0.5 {
        start + w * (end - start)
    } else {
        end - (end - start) * (1.0 - w)
    }
}

/// The sync score's interquartile mean ([C-LATEST], `evaluate_miner_sync`): with
/// `q1, q3 = torch.quantile(x, 0.25), torch.quantile(x, 0.75)`, the mean of the values with
/// `q1 ≤ x ≤ q3`, so values tied with a quartile are all kept. NaN when a value is NaN or
/// there are none.
///
/// Two distinct values are the one count where that set is empty (both quartiles fall
/// strictly between them): torch's mean of nothing is NaN, and the reference then gives
/// sync 0 but no slash (`NaN > 2` is false). Here the interquartile mean of two values is
/// their mean, which every other count's IQM tends to and which keeps the figure finite.
pub fn iqm(values: &[f64]) -> f64 {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let q1 = quantile_sorted(&sorted, 0.25);
    let q3 = quantile_sorted(&sorted, 0.75);
    let kept: Vec<f64> = sorted
        .iter()
        .copied()
        .filter(|&x| q1 <= x && x <= q3)
        .collect();
    if kept.is_empty() {
        mean(&sorted)
    } else {
        mean(&kept)
    }
}

/// The arithmetic mean (NaN for no values).
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The clip-median factor of one peer's values ([C-LATEST] `batch_decompress` with
/// `clip_norm=True`, and `update_model_with_gradient`):
/// `torch.clamp(median / (norm + 1e-8), max=1)` on f32 0-d tensors, so the 1e-8 and the
/// division are f32 arithmetic. `median` is [`median`] (torch's lower middle) of the peers'
/// f32 norms.
///
/// Where torch would give NaN (a NaN median, or an infinite median over an infinite norm),
/// this gives 0: the peer's values are left out instead of turning the model into NaN.
pub fn clip_factor(median: f32, norm: f32) -> f32 {
    let f = median / (norm + 1e-8f32);
    if f.is_nan() {
        0.0
    } else {
        f.min(1.0)
    }
}

/// Every peer's [`clip_factor`] against the [`median`] of all their norms.
pub fn clip_factors(norms: &[f32]) -> Vec<f32> {
    let m = median(norms);
    norms.iter().map(|&n| clip_factor(m, n)).collect()
}

/// `numpy.array_split(range(n), parts)[i]` as a half-open range: `n / parts` items per part,
/// and one more in each of the first `n mod parts` parts.
pub fn split_bounds(n: usize, parts: usize, i: usize) -> (usize, usize) {
    assert!(parts > 0 && i < parts, "part {i} of {parts}");
    let (base, extra) = (n / parts, n % parts);
    let lo = i * base + i.min(extra);
    (lo, lo + base + usize::from(i < extra))
}

/// f32 and f64, for [`median`].
pub trait Float: Copy + PartialOrd {
    const NAN: Self;
    fn is_nan(self) -> bool;
}

impl Float for f32 {
    const NAN: f32 = f32::NAN;
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
}

impl Float for f64 {
    const NAN: f64 = f64::NAN;
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values below were printed by torch 2.11.0 / numpy 2.4.6
    // (/opt/torch-venv-2.11.0/bin/python); tests/statistics.rs also asks them at test time.

    #[test]
    fn median_is_torchs_lower_middle() {
        // torch.median(torch.tensor([4., 1., 3., 2.])) -> 2.
        assert_eq!(median(&[4.0f64, 1.0, 3.0, 2.0]), 2.0);
        // torch.median(torch.tensor([5., 1., 3., 2., 4.])) -> 3.
        assert_eq!(median(&[5.0f64, 1.0, 3.0, 2.0, 4.0]), 3.0);
        // torch.median(torch.tensor([0.3, 0.1])) -> 0.1 (f32)
        assert_eq!(median(&[0.3f32, 0.1]), 0.1f32);
        // torch.median(torch.tensor([7.])) -> 7.
        assert_eq!(median(&[7.0f32]), 7.0);
        // torch.median(torch.tensor([1., nan, 0.])) -> nan; torch.median(torch.tensor([])) -> nan
        assert!(median(&[1.0f64, f64::NAN, 0.0]).is_nan());
        assert!(median::<f64>(&[]).is_nan());
    }

    #[test]
    fn quantile_interpolates_as_torch() {
        let even = [0.0, 1.0, 2.0, 2.0, 2.0, 3.0, 4.0, 100.0];
        // torch.quantile(torch.tensor([0,1,2,2,2,3,4,100.], dtype=torch.float64), 0.25 / 0.75)
        //   -> 1.75, 3.25
        assert_eq!(quantile_sorted(&even, 0.25), 1.75);
        assert_eq!(quantile_sorted(&even, 0.75), 3.25);
        let odd = [1.0, 2.0, 4.0, 8.0, 16.0];
        // torch.quantile(torch.tensor([1,2,4,8,16.], dtype=torch.float64), 0.25 / 0.75) -> 2., 8.
        assert_eq!(quantile_sorted(&odd, 0.25), 2.0);
        assert_eq!(quantile_sorted(&odd, 0.75), 8.0);
        assert_eq!(quantile_sorted(&[3.0], 0.25), 3.0);
    }

    #[test]
    fn iqm_keeps_the_values_between_the_quartiles_by_value() {
        // x = torch.tensor(v, dtype=torch.float64); q1, q3 = x.quantile(.25), x.quantile(.75);
        // x[(x >= q1) & (x <= q3)].mean()
        // [1, 2, 3, 4, 10, 100] (even): q1 2.25, q3 8.5 -> mean(3, 4) = 3.5 (cutting n/4
        // values off each end would keep 2, 3, 4, 10: 4.75)
        assert_eq!(iqm(&[100.0, 10.0, 4.0, 3.0, 2.0, 1.0]), 3.5);
        // [1, 2, 2, 2, 2, 3, 4, 5] (even): q1 2, q3 3.25 -> mean(2, 2, 2, 2, 3) = 2.2 (by
        // position: 2.25)
        assert_eq!(iqm(&[5.0, 2.0, 2.0, 4.0, 2.0, 1.0, 3.0, 2.0]), 2.2);
        // [1, 1, 1, 1, 1, 10] (even): q1 = q3 = 1 -> every 1 kept -> 1.0
        assert_eq!(iqm(&[1.0, 1.0, 10.0, 1.0, 1.0, 1.0]), 1.0);
        // [0, 1, 2, 3, 10] (odd): q1 1, q3 3 -> mean(1, 2, 3) = 2.0
        assert_eq!(iqm(&[10.0, 0.0, 3.0, 1.0, 2.0]), 2.0);
        // [0, 1, 1, 2, 9, 9, 9] (odd): q1 1, q3 9 -> mean(1, 1, 2, 9, 9, 9) = 31/6 (by
        // position: 4.4)
        assert_eq!(iqm(&[9.0, 0.0, 1.0, 9.0, 1.0, 2.0, 9.0]), 31.0 / 6.0);
        // Two distinct values: torch's mask is empty (NaN); here their mean.
        assert_eq!(iqm(&[1.0, 2.0]), 1.5);
        assert_eq!(iqm(&[4.0, 4.0]), 4.0);
        assert_eq!(iqm(&[3.0]), 3.0);
        assert!(iqm(&[]).is_nan());
        assert!(iqm(&[1.0, f64::NAN, 2.0]).is_nan());
    }

    #[test]
    fn clip_factor_is_f32_with_the_epsilon() {
        // torch.clamp(torch.median(n) / (n + 1e-8), max=1) for n = torch.tensor([1., 2., 4., 8.])
        //   -> [1., 1., 0.5, 0.25] (median 2, the lower middle; the mean of the middles, 3,
        //   would give 0.75 and 0.375)
        assert_eq!(
            clip_factors(&[1.0, 2.0, 4.0, 8.0]),
            vec![1.0, 1.0, 0.5, 0.25]
        );
        // n = torch.tensor([3., 1., 6.]) -> [1., 1., 0.5]
        assert_eq!(clip_factors(&[3.0, 1.0, 6.0]), vec![1.0, 1.0, 0.5]);
        // torch.tensor(1e-8) / (torch.tensor(3e-8) + 1e-8) -> 0.25 in f32, bit for bit
        assert_eq!(clip_factor(1e-8, 3e-8), 1e-8f32 / (3e-8f32 + 1e-8f32));
        // A zero norm: median / 1e-8, clamped.
        assert_eq!(clip_factor(2.0, 0.0), 1.0);
        assert_eq!(clip_factor(0.0, 0.0), 0.0);
        assert_eq!(clip_factor(f32::NAN, 1.0), 0.0);
        assert_eq!(clip_factor(f32::INFINITY, 1.0), 1.0);
    }

    #[test]
    fn split_is_numpys_array_split() {
        // [len(b) for b in numpy.array_split(range(42), 10)] -> [5, 5, 4, 4, 4, 4, 4, 4, 4, 4]
        let sizes: Vec<usize> = (0..10)
            .map(|i| split_bounds(42, 10, i))
            .map(|(lo, hi)| hi - lo)
            .collect();
        assert_eq!(sizes, vec![5, 5, 4, 4, 4, 4, 4, 4, 4, 4]);
        // numpy.array_split(range(42), 10)[2] -> 10..14
        assert_eq!(split_bounds(42, 10, 2), (10, 14));
        // numpy.array_split(range(7), 4) -> [0 1], [2 3], [4 5], [6]
        let odd: Vec<(usize, usize)> = (0..4).map(|i| split_bounds(7, 4, i)).collect();
        assert_eq!(odd, vec![(0, 2), (2, 4), (4, 6), (6, 7)]);
        // numpy.array_split(range(12), 5) -> sizes [3, 3, 2, 2, 2]
        let even: Vec<(usize, usize)> = (0..5).map(|i| split_bounds(12, 5, i)).collect();
        assert_eq!(even, vec![(0, 3), (3, 6), (6, 8), (8, 10), (10, 12)]);
        assert_eq!(split_bounds(3, 5, 4), (3, 3));
    }
}
