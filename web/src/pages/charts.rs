//! Charts drawn on the server as inline SVG (no script, no inline style): the per-hour
//! sparkline and the horizontal bars of tag breakdowns.

use maud::{html, Markup};

/// A bar chart of `counts` (oldest first), `width` × `height` pixels, with a title giving the
/// total and the range. Empty hours are gaps; the tallest hour fills the height.
pub(crate) fn sparkline(counts: &[u64], width: u32, height: u32, label: &str) -> Markup {
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let total: u64 = counts.iter().sum();
    let n = counts.len().max(1) as f64;
    let step = f64::from(width) / n;
    let bar = (step - 1.0).max(1.0);
    let h = f64::from(height);
    html! {
        svg.spark width=(width) height=(height) viewBox={"0 0 " (width) " " (height)} role="img"
            aria-label={(total) " " (label)} {
            title { (total) " " (label) }
            line x1="0" y1=(height) x2=(width) y2=(height) class="base" {}
            @for (i, &c) in counts.iter().enumerate() {
                @if c > 0 {
                    @let bh = ((c as f64 / max as f64) * (h - 1.0)).max(1.5);
                    rect x=(format!("{:.1}", i as f64 * step)) y=(format!("{:.1}", h - bh))
                        width=(format!("{bar:.1}")) height=(format!("{bh:.1}")) {}
                }
            }
        }
    }
}

/// One horizontal bar: `part` of `whole`, `width` pixels at most.
pub(crate) fn bar(part: u64, whole: u64, width: u32) -> Markup {
    let w = if whole == 0 {
        0.0
    } else {
        f64::from(width) * part as f64 / whole as f64
    };
    html! {
        svg.bar width=(width) height="10" viewBox={"0 0 " (width) " 10"} aria-hidden="true" {
            rect.track x="0" y="0" width=(width) height="10" {}
            rect x="0" y="0" width=(format!("{w:.1}")) height="10" {}
        }
    }
}

/// A latency histogram: one bar per bucket `(upper bound in seconds, count)`, each with a
/// title giving its range and count; the axis names the first and last bound.
pub(crate) fn histogram(buckets: &[(f64, u64)], width: u32, height: u32) -> Markup {
    let max = buckets.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let n = buckets.len().max(1) as f64;
    let step = f64::from(width) / n;
    let plot = f64::from(height) - 14.0;
    html! {
        svg.hist width=(width) height=(height) viewBox={"0 0 " (width) " " (height)} role="img"
            aria-label="latency histogram" {
            line x1="0" y1=(format!("{plot:.1}")) x2=(width) y2=(format!("{plot:.1}")) class="base" {}
            @for (i, &(upper, c)) in buckets.iter().enumerate() {
                @let bh = if c == 0 { 0.0 } else { ((c as f64 / max as f64) * (plot - 1.0)).max(1.5) };
                g {
                    title { "≤ " (seconds(upper)) ": " (c) }
                    rect.track x=(format!("{:.1}", i as f64 * step)) y="0" width=(format!("{:.1}", (step - 1.0).max(1.0))) height=(format!("{plot:.1}")) {}
                    @if c > 0 {
                        rect x=(format!("{:.1}", i as f64 * step)) y=(format!("{:.1}", plot - bh))
                            width=(format!("{:.1}", (step - 1.0).max(1.0))) height=(format!("{bh:.1}")) {}
                    }
                }
            }
            @if let (Some(first), Some(last)) = (buckets.first(), buckets.last()) {
                text x="0" y=(height - 2) { "≤ " (seconds(first.0)) }
                text x=(width) y=(height - 2) text-anchor="end" { "≤ " (seconds(last.0)) }
            }
        }
    }
}

/// A line of `values` (oldest first), one point per `step_seconds`, with the peak and the span
/// of time written on the axis.
pub(crate) fn rate_line(values: &[f64], step_seconds: f64, width: u32, height: u32) -> Markup {
    let max = values.iter().copied().fold(0.0_f64, f64::max);
    let top = if max > 0.0 { max } else { 1.0 };
    let plot = f64::from(height) - 14.0;
    let n = values.len();
    let x = |i: usize| {
        if n < 2 {
            0.0
        } else {
            f64::from(width) * i as f64 / (n - 1) as f64
        }
    };
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", x(i), plot - (v / top) * (plot - 2.0)))
        .collect();
    let span = step_seconds * n as f64;
    html! {
        svg.rate width=(width) height=(height) viewBox={"0 0 " (width) " " (height)} role="img"
            aria-label="rate over time" {
            title { "peak " (format!("{max:.2}")) "/s over " (seconds(span)) }
            line x1="0" y1=(format!("{plot:.1}")) x2=(width) y2=(format!("{plot:.1}")) class="base" {}
            @if n >= 2 {
                polyline points=(points.join(" ")) {}
            }
            text x="0" y=(height - 2) { "last " (seconds(span)) }
            text x=(width) y=(height - 2) text-anchor="end" { "peak " (format!("{max:.2}")) "/s" }
        }
    }
}

/// Seconds written for a person, as the explorer writes durations
/// ([`taskwire_explore::text::Human`]): `850µs`, `12.3ms`, `1.20s`, `2m05s`, `1h02m`.
pub(crate) fn seconds(s: f64) -> String {
    taskwire_explore::text::Human((s.max(0.0) * 1e6).round() as u64).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparkline_draws_one_bar_per_hour_with_counts() {
        let svg = sparkline(&[0, 3, 0, 6], 40, 10, "in 4h").into_string();
        assert_eq!(svg.matches("<rect").count(), 2, "{svg}");
        assert!(svg.contains("<title>9 in 4h</title>"), "{svg}");
        assert!(svg.contains("height=\"9.0\""), "the tallest fills: {svg}");
    }

    #[test]
    fn no_counts_draw_no_bars() {
        let svg = sparkline(&[0; 24], 96, 20, "x").into_string();
        assert!(!svg.contains("<rect"), "{svg}");
        assert!(!bar(0, 0, 100).into_string().contains("NaN"));
    }

    #[test]
    fn plots_draw_one_bar_per_bucket_and_one_point_per_value() {
        let h = histogram(&[(1e-3, 4), (2e-3, 0), (4e-3, 1)], 120, 60).into_string();
        assert_eq!(
            h.matches("<rect").count(),
            3 + 2,
            "three tracks, two bars: {h}"
        );
        assert!(h.contains("≤ 4.00ms: 1"), "{h}");
        let l = rate_line(&[0.0, 2.0, 1.0], 60.0, 120, 40).into_string();
        assert!(l.contains("points=\"0.0,26.0 60.0,2.0 120.0,14.0\""), "{l}");
        assert!(!rate_line(&[], 60.0, 120, 40).into_string().contains("NaN"));
        assert_eq!(seconds(0.0123), "12.3ms");
    }
}
