//! What the benchmarks' paired modes share: set `TASKWIRE_PAIRED=1` and a benchmark runs its
//! variants round-robin in short chunks instead of criterion's groups, so that on a shared
//! machine all variants see the same load, and reports medians of per-round ratios.

/// The first quartile, the median and the third quartile of `v`.
pub(crate) fn quartiles(v: &mut [f64]) -> [f64; 3] {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| {
        v.get(((v.len() - 1) as f64 * q).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    [at(0.25), at(0.5), at(0.75)]
}

/// The benchmark's `main`: `paired` when `TASKWIRE_PAIRED` is set, else the criterion groups.
pub(crate) fn main(paired: fn(), benches: fn()) {
    if std::env::var_os("TASKWIRE_PAIRED").is_some() {
        paired();
        return;
    }
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
