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
}
