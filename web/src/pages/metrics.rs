//! `/metrics`: per task name, the count, errors, m1/m5/m15 rates, p50…p99.9 and maximum, a
//! latency histogram and a rate-over-time plot (inline SVG), a filter box, and the raw JSON
//! behind a toggle. One template over either source of [`crate::metrics`]; `/api/metrics`
//! answers the snapshot as JSON.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use crate::metrics::View;
use crate::pages::charts::{histogram, rate_line, seconds};
use crate::pages::{base, layout, PageError};
use crate::server::AppState;

/// The page's query string.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MetricsParams {
    /// Task names containing this text (any case).
    q: Option<String>,
}

async fn view(state: &AppState) -> Result<View, PageError> {
    let source = state.metrics.clone();
    tokio::task::spawn_blocking(move || source.view())
        .await
        .map_err(|_| PageError::internal("reading the metrics stopped"))
}

/// `GET /metrics`.
pub(crate) async fn page(
    State(state): State<AppState>,
    Query(p): Query<MetricsParams>,
) -> Result<Response, PageError> {
    let v = view(&state).await?;
    let filter = p.q.as_deref().map(str::trim).unwrap_or("");
    let wanted = filter.to_lowercase();
    let rows: Vec<_> = v
        .snapshot
        .tasks
        .iter()
        .zip(v.plots.iter())
        .filter(|(t, _)| wanted.is_empty() || t.name.to_lowercase().contains(&wanted))
        .collect();
    let raw = serde_json::to_string_pretty(&v.snapshot).unwrap_or_else(|_| "{}".into());
    let body = html! {
        h1 { "Metrics" }
        form.filters method="get" action={(base()) "/metrics"} {
            input type="search" name="q" value=(filter) placeholder="Filter task names" aria-label="Filter task names";
            button type="submit" { "Filter" }
        }
        p.summary { "From " (v.source) ". " (rows.len()) " of " (v.snapshot.tasks.len()) " task names." }
        @for e in &v.problems { p.problem { (e) } }
        table.metrics {
            thead { tr {
                th { "task" } th.num { "count" } th.num { "errors" }
                th.num { "m1/s" } th.num { "m5/s" } th.num { "m15/s" }
                th.num { "p50" } th.num { "p75" } th.num { "p95" } th.num { "p99" } th.num { "p99.9" } th.num { "max" }
            } }
            tbody {
                @for (t, _) in &rows {
                    tr {
                        td.name { (t.name) }
                        td.num { (t.count) }
                        td.num.errors[t.errors > 0] { (t.errors) }
                        td.num { (format!("{:.2}", t.rates.m1)) }
                        td.num { (format!("{:.2}", t.rates.m5)) }
                        td.num { (format!("{:.2}", t.rates.m15)) }
                        @for s in [t.window.p50, t.window.p75, t.window.p95, t.window.p99, t.window.p999, t.window.max] {
                            td.num { (seconds(s)) }
                        }
                    }
                }
            }
        }
        section.plots {
            @for (t, plots) in &rows {
                div.plot {
                    h3 { (t.name) }
                    div { "latency: " (plots.latency_note) }
                    (histogram(&plots.latency, 300, 80))
                    div { "tasks ended per second, every " (seconds(plots.step_seconds)) }
                    (rate_line(&plots.rate, plots.step_seconds, 300, 60))
                }
            }
        }
        details.raw {
            summary { "Raw JSON" }
            pre { (raw) }
        }
    };
    Ok(layout("Metrics", "metrics", body).into_response())
}

/// `GET /api/metrics`: the snapshot as JSON.
pub(crate) async fn api(State(state): State<AppState>) -> Result<Response, PageError> {
    let v = view(&state).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        v.snapshot.to_json(),
    )
        .into_response())
}
