//! The trace-link template: where "view trace" goes for deployments that export their traces
//! over OTLP (Jaeger, Tempo, …) instead of keeping logs the traces page can read.
//!
//! A template is checked once, when it is parsed, so that nothing from the data can make a
//! link of another kind: it is an `http://` or `https://` URL of at most 2,048 bytes, without
//! spaces or control characters, whose only placeholder is `{trace_id}` (at least once; no
//! other `{` or `}`). The trace id put in its place is a W3C trace id (32 lowercase hex
//! digits, checked again at each use), so it needs no escaping in a URL; the page escapes
//! the whole link as an HTML attribute like every other value.

use std::fmt;

/// The placeholder a template holds.
const PLACEHOLDER: &str = "{trace_id}";

/// A checked trace-link template, such as `http://jaeger:16686/trace/{trace_id}`.
///
/// ```
/// let link: taskwire_web::TraceLink = "https://tempo.example.com/trace/{trace_id}".parse()?;
/// assert_eq!(
///     link.url("4bf92f3577b34da6a3ce929d0e0e4736").as_deref(),
///     Some("https://tempo.example.com/trace/4bf92f3577b34da6a3ce929d0e0e4736"),
/// );
/// assert!("javascript:alert(1)//{trace_id}".parse::<taskwire_web::TraceLink>().is_err());
/// # Ok::<(), taskwire_web::TraceLinkError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceLink {
    template: String,
}

impl TraceLink {
    /// The template as written.
    pub fn template(&self) -> &str {
        &self.template
    }

    /// The link to trace `id`; `None` when `id` is not a W3C trace id (32 lowercase hex
    /// digits, not all zero).
    pub fn url(&self, id: &str) -> Option<String> {
        crate::pages::traces::is_trace_id(id).then(|| self.template.replace(PLACEHOLDER, id))
    }
}

impl std::str::FromStr for TraceLink {
    type Err = TraceLinkError;

    fn from_str(template: &str) -> Result<TraceLink, TraceLinkError> {
        let err = |why: &'static str| TraceLinkError { why };
        let template = template.trim();
        let lower = template.get(..8).unwrap_or(template).to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(err("it must start with http:// or https://"));
        }
        if template.len() > 2048 {
            return Err(err("it is longer than 2,048 bytes"));
        }
        if template
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(err("it holds a space or a control character"));
        }
        if !template.contains(PLACEHOLDER) {
            return Err(err("it has no {trace_id} placeholder"));
        }
        if template.replace(PLACEHOLDER, "").contains(['{', '}']) {
            return Err(err("its only placeholder can be {trace_id}"));
        }
        Ok(TraceLink {
            template: template.to_owned(),
        })
    }
}

/// Why a trace-link template was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceLinkError {
    why: &'static str,
}

impl fmt::Display for TraceLinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the trace-link template is refused: {}", self.why)
    }
}

impl std::error::Error for TraceLinkError {}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    #[test]
    fn the_placeholder_becomes_the_trace_id_everywhere_it_is() {
        let l: TraceLink = "http://jaeger:16686/trace/{trace_id}?x={trace_id}"
            .parse()
            .unwrap();
        assert_eq!(
            l.url(ID).unwrap(),
            format!("http://jaeger:16686/trace/{ID}?x={ID}")
        );
        let t: TraceLink = "  HTTPS://grafana/explore?q=%7B{trace_id}%7D "
            .parse()
            .unwrap();
        assert_eq!(t.template(), "HTTPS://grafana/explore?q=%7B{trace_id}%7D");
    }

    #[test]
    fn only_http_and_https_templates_with_only_the_trace_id_placeholder_are_taken() {
        for bad in [
            "javascript:alert(1)//{trace_id}",
            "data:text/html,{trace_id}",
            "//jaeger/trace/{trace_id}",
            "ftp://jaeger/{trace_id}",
            "http://jaeger/trace/",
            "http://jaeger/{span_id}/{trace_id}",
            "http://jaeger/{trace_id}}",
            "http://jaeger/{{trace_id}",
            "http://jaeger/ {trace_id}",
            "http://jaeger/\u{2028}{trace_id}",
            "http://jaeger/\"{trace_id}",
        ] {
            let r = bad.parse::<TraceLink>();
            if bad.contains('"') {
                // A quote is escaped in the attribute; the template is taken.
                assert!(r.is_ok(), "{bad}");
            } else {
                assert!(r.is_err(), "{bad}");
            }
        }
        let long = format!("http://j/{}{{trace_id}}", "a".repeat(2048));
        assert!(long.parse::<TraceLink>().is_err());
    }

    #[test]
    fn a_value_that_is_not_a_trace_id_makes_no_link() {
        let l: TraceLink = "http://jaeger/trace/{trace_id}".parse().unwrap();
        for bad in ["", "x", "\"><script>", &ID.to_uppercase(), &"0".repeat(32)] {
            assert_eq!(l.url(bad), None, "{bad}");
        }
    }
}
