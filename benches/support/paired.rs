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

/// Times `work` under each dispatcher round-robin: five untimed warm-up rounds, then `rounds`
/// rounds of one chunk of `chunk` calls per dispatcher. Returns, per dispatcher, the
/// nanoseconds per call of each round. `after_chunk` runs after every chunk, outside the timed
/// section (upkeep such as draining a metrics recorder).
#[allow(dead_code)] // not every benchmark times whole dispatchers
pub(crate) fn rounds(
    stacks: &[&tracing::Dispatch],
    chunk: u32,
    rounds: usize,
    work: &mut dyn FnMut(),
    after_chunk: &mut dyn FnMut(),
) -> Vec<Vec<f64>> {
    let mut time = |d: &tracing::Dispatch| {
        let ns = tracing::dispatcher::with_default(d, || {
            let t = std::time::Instant::now();
            for _ in 0..chunk {
                work();
            }
            t.elapsed().as_nanos() as f64 / f64::from(chunk)
        });
        after_chunk();
        ns
    };
    for _ in 0..5 {
        for d in stacks {
            time(d);
        }
    }
    let mut t: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); stacks.len()];
    for _ in 0..rounds {
        for (i, d) in stacks.iter().enumerate() {
            t[i].push(time(d));
        }
    }
    t
}

/// Like [`rounds`], timing every chunk twice: in wall time and in the calling thread's CPU time
/// ([`thread_cpu_ns`]). The second leaves out what other threads ran meanwhile, on this core
/// or another (a background export thread, other processes): the cost of the calling thread
/// itself. Returns, per dispatcher, the nanoseconds per call of each round, wall then CPU.
#[allow(dead_code)] // the tasks bench's export rows only
pub(crate) fn rounds_wall_and_cpu(
    stacks: &[&tracing::Dispatch],
    chunk: u32,
    rounds: usize,
    work: &mut dyn FnMut(),
    after_chunk: &mut dyn FnMut(),
) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let mut time = |d: &tracing::Dispatch| {
        let ns = tracing::dispatcher::with_default(d, || {
            let (t, c) = (std::time::Instant::now(), thread_cpu_ns());
            for _ in 0..chunk {
                work();
            }
            let cpu = thread_cpu_ns().saturating_sub(c);
            let n = f64::from(chunk);
            (t.elapsed().as_nanos() as f64 / n, cpu as f64 / n)
        });
        after_chunk();
        ns
    };
    for _ in 0..5 {
        for d in stacks {
            time(d);
        }
    }
    let mut wall: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); stacks.len()];
    let mut cpu = wall.clone();
    for _ in 0..rounds {
        for (i, d) in stacks.iter().enumerate() {
            let (w, c) = time(d);
            wall[i].push(w);
            cpu[i].push(c);
        }
    }
    (wall, cpu)
}

/// The CPU time the calling thread has used, in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`); wall
/// time where that clock is missing.
#[allow(dead_code)] // the tasks bench's export rows only
pub(crate) fn thread_cpu_ns() -> u64 {
    #[cfg(unix)]
    {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        u64::try_from(t.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(t.tv_nsec).unwrap_or(0)
    }
    #[cfg(not(unix))]
    {
        static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let origin = *ORIGIN.get_or_init(std::time::Instant::now);
        u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

/// Quartiles of the per-round ratios `num[k] / den[k]`.
#[allow(dead_code)] // not every benchmark times whole dispatchers
pub(crate) fn ratio(num: &[f64], den: &[f64]) -> [f64; 3] {
    let mut r: Vec<f64> = num.iter().zip(den).map(|(n, d)| n / d).collect();
    quartiles(&mut r)
}

/// Times `iters` calls of `work` in batches of `batch`, calling `between` after each batch
/// outside the timed section (a recorder's drain, an exporter's flush), as criterion's
/// `iter_custom` wants: the time of the calls alone.
#[allow(dead_code)] // not every benchmark batches
pub(crate) fn batched(
    iters: u64,
    batch: u64,
    mut work: impl FnMut(),
    mut between: impl FnMut(),
) -> std::time::Duration {
    let mut total = std::time::Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(batch);
        let start = std::time::Instant::now();
        for _ in 0..n {
            work();
        }
        total += start.elapsed();
        between();
        left -= n;
    }
    total
}
