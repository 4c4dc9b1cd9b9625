//! `/traces`: where the trace search and waterfall go (Jaeger's view, on the explorer
//! engine's trace model). Today it shows the trace id a ticket links to and the command that
//! prints the trace; [`link`] is the one place that builds a trace link.

use axum::extract::Query;
use maud::{html, Markup};
use serde::Deserialize;

use crate::pages::layout;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TraceQuery {
    trace: Option<String>,
}

/// Whether `id` is a W3C trace id: 32 lowercase hex digits, not all zero.
pub(crate) fn is_trace_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && id.bytes().any(|b| b != b'0')
}

/// The link to trace `id`, or `None` when it is not a trace id (nothing from the data becomes
/// part of a URL unchecked).
pub(crate) fn link(id: &str) -> Option<String> {
    is_trace_id(id).then(|| format!("/traces?trace={id}"))
}

pub(crate) async fn page(Query(q): Query<TraceQuery>) -> Markup {
    let id = q.trace.as_deref().filter(|t| is_trace_id(t));
    layout(
        "Traces",
        "traces",
        html! {
            h1 { "Traces" }
            @if let Some(id) = id {
                p { "Trace " code { (id) } }
                p { "Print it as a tree of tasks across every service's log:" }
                pre.cmd { "taskwire tree --trace " (id) " LOGS…" }
            } @else if q.trace.is_some() {
                p { "That is not a trace id (32 hex digits)." }
            }
            p.soon { "The trace search and waterfall view are not built yet. A ticket's samples link here with their trace id." }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_w3c_trace_ids_become_links() {
        assert!(link("4bf92f3577b34da6a3ce929d0e0e4736").is_some());
        for bad in [
            "",
            "00000000000000000000000000000000",
            "4BF92F3577B34DA6A3CE929D0E0E4736",
            "javascript:alert(1)//aaaaaaaaaaaaa",
            "4bf92f3577b34da6a3ce929d0e0e473",
            "4bf92f3577b34da6a3ce929d0e0e4736&x=1",
        ] {
            assert!(link(bad).is_none(), "{bad}");
        }
    }
}
