//! [`Alert`]: what a webhook receives and a callback is handed, and its two JSON forms (the
//! documented body and Slack's `{"text": …}`).

use std::time::Duration;

use serde_json::{json, Value};

use crate::store::{Level, Status, TicketId, Timestamp};

/// Why an alert was raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AlertKind {
    /// A ticket was created: its fingerprint was new to the store.
    Created,
    /// A resolved ticket received a new occurrence and reopened.
    Regressed,
    /// An open ticket received at least `count` occurrences within `window` (see
    /// [`Alerts::on_rate`](super::Alerts::on_rate)).
    Rate {
        /// Occurrences seen in the window.
        count: u64,
        /// The configured window.
        window: Duration,
    },
}

impl AlertKind {
    /// `ticket.created`, `ticket.regressed` or `ticket.rate`: the `type` of the JSON body.
    pub fn as_str(&self) -> &'static str {
        match self {
            AlertKind::Created => "ticket.created",
            AlertKind::Regressed => "ticket.regressed",
            AlertKind::Rate { .. } => "ticket.rate",
        }
    }
}

/// A notification about one ticket, raised by the tickets writer after the store committed
/// the occurrences that caused it.
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use std::sync::mpsc;
/// use tracing_subscriber::prelude::*;
/// use taskwire_tickets::alerts::{AlertKind, Alerts};
///
/// let (tx, rx) = mpsc::channel();
/// let alerts = Alerts::callback(move |alert| {
///     let _ = tx.send((alert.kind, alert.title.clone()));
/// });
/// let (layer, guard) = taskwire_tickets::layer(taskwire_tickets::Sqlite::open_in_memory()?)
///     .with_alerts(alerts)
///     .build();
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     tracing::error!("payment for order 42 declined");
/// });
/// drop(guard); // flushes, then delivers what is queued
/// assert_eq!(rx.recv()?, (AlertKind::Created, "payment for order <num> declined".to_owned()));
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Alert {
    /// Why it was raised.
    pub kind: AlertKind,
    /// The ticket's id in its store (`taskwire tickets show ID`).
    pub ticket: TicketId,
    /// The ticket's fingerprint.
    pub fingerprint: String,
    /// The ticket's title (the first message with variable parts replaced), or the target
    /// with `(no message)` when no sample reached the writer.
    pub title: String,
    /// The level of the occurrences.
    pub level: Level,
    /// The events' target.
    pub target: String,
    /// The ticket's status after the write.
    pub status: Status,
    /// The configured service.
    pub service: Option<String>,
    /// The configured release.
    pub release: Option<String>,
    /// The host that raised it.
    pub host: String,
    /// Occurrences committed by the write that raised it (for [`AlertKind::Rate`], those in
    /// the window are in the kind).
    pub occurrences: u64,
    /// The earliest of them.
    pub first_seen: Timestamp,
    /// The newest of them.
    pub last_seen: Timestamp,
}

impl Alert {
    /// The webhook's JSON body (documented in `docs/alerts.md`).
    ///
    /// ```json
    /// {"type": "ticket.created",
    ///  "ticket": {"id": 12, "fingerprint": "9f2c…", "title": "payment for order <num> declined",
    ///             "level": "ERROR", "target": "checkout::pay", "status": "open"},
    ///  "service": "checkout", "release": "1.4.2", "host": "web-1",
    ///  "occurrences": 3, "first_seen": "2026-12-06T00:01:12.000000Z", "last_seen": "…",
    ///  "rate": null}
    /// ```
    pub fn to_json(&self) -> Value {
        json!({
            "type": self.kind.as_str(),
            "ticket": {
                "id": self.ticket.0,
                "fingerprint": self.fingerprint,
                "title": self.title,
                "level": self.level.as_str(),
                "target": self.target,
                "status": self.status.as_str(),
            },
            "service": self.service,
            "release": self.release,
            "host": self.host,
            "occurrences": self.occurrences,
            "first_seen": self.first_seen.to_string(),
            "last_seen": self.last_seen.to_string(),
            "rate": match self.kind {
                AlertKind::Rate { count, window } => {
                    json!({"count": count, "window_secs": window.as_secs_f64()})
                }
                _ => Value::Null,
            },
        })
    }

    /// One line of text: what happened, the ticket, its title, where.
    ///
    /// ```
    /// # use taskwire_tickets::alerts::Alert;
    /// # fn show(alert: &Alert) {
    /// println!("{}", alert.summary()); // New ticket #12 [ERROR] in checkout: payment for order <num> declined
    /// # }
    /// ```
    pub fn summary(&self) -> String {
        let what = match self.kind {
            AlertKind::Created => "New ticket".to_owned(),
            AlertKind::Regressed => "Regression of ticket".to_owned(),
            AlertKind::Rate { count, window } => {
                format!("{count} occurrences in {} of ticket", human(window))
            }
        };
        let service = self
            .service
            .as_deref()
            .map(|s| format!(" in {s}"))
            .unwrap_or_default();
        let release = self
            .release
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        format!(
            "{what} #{} [{}]{service}{release}: {}",
            self.ticket,
            self.level.as_str(),
            self.title
        )
    }

    /// The Slack-compatible body (`{"text": …}`, accepted by Slack's incoming webhooks and by
    /// Mattermost, Rocket.Chat and Discord's `/slack` endpoints): [`Alert::summary`] with
    /// `&`, `<` and `>` escaped as Slack requires.
    pub fn to_slack_json(&self) -> Value {
        let text = slack_escape(&self.summary());
        json!({ "text": format!("{text}\n`{}` on {}, {} occurrence(s)", slack_escape(&self.target), slack_escape(&self.host), self.occurrences) })
    }
}

fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => format!("{} ms", d.as_millis()),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(kind: AlertKind) -> Alert {
        Alert {
            kind,
            ticket: TicketId(12),
            fingerprint: "f".into(),
            title: "payment <num> declined & <id>".into(),
            level: Level::ERROR,
            target: "checkout".into(),
            status: Status::Open,
            service: Some("checkout".into()),
            release: None,
            host: "web-1".into(),
            occurrences: 3,
            first_seen: Timestamp::from_micros(0),
            last_seen: Timestamp::from_micros(1),
        }
    }

    #[test]
    fn slack_text_escapes_what_slack_reads_as_markup() {
        let v = alert(AlertKind::Created).to_slack_json();
        let text = v["text"].as_str().unwrap_or_default();
        assert!(
            text.starts_with(
                "New ticket #12 [ERROR] in checkout: payment &lt;num&gt; declined &amp; &lt;id&gt;"
            ),
            "{text}"
        );
    }

    #[test]
    fn rate_body_carries_count_and_window() {
        let v = alert(AlertKind::Rate {
            count: 100,
            window: Duration::from_secs(60),
        })
        .to_json();
        assert_eq!(v["type"], "ticket.rate");
        assert_eq!(v["rate"]["count"], 100);
        assert_eq!(v["rate"]["window_secs"], 60.0);
        assert_eq!(v["ticket"]["id"], 12);
        assert!(alert(AlertKind::Created).to_json()["rate"].is_null());
    }
}
