//! Alerts: a webhook (JSON, or Slack's form) and in-process callbacks told when a ticket is
//! created, regresses, or crosses a rate, configured with [`Alerts`] and
//! [`TicketsBuilder::with_alerts`](crate::TicketsBuilder::with_alerts).
//!
//! ```
//! # #[cfg(feature = "webhook")] {
//! use std::time::Duration;
//! use taskwire_tickets::alerts::Alerts;
//!
//! let alerts = Alerts::webhook("https://hooks.slack.com/services/T000/B000/XXXX")?
//!     .slack()                                    // Slack's {"text": …} instead of the JSON body
//!     .on_rate(100, Duration::from_secs(60))      // and 100 occurrences within a minute
//!     .with_callback(|alert| eprintln!("{}", alert.summary()));
//! let (layer, guard) = taskwire_tickets::layer(taskwire_tickets::Sqlite::open_in_memory()?)
//!     .with_service("checkout")
//!     .with_alerts(alerts)
//!     .build();
//! # drop((layer, guard));
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How
//!
//! The store decides: its write reports, per ticket, whether the write created it or made it
//! regress ([`Written`](crate::store::Written)), so a ticket created by one of several
//! processes sharing a store alerts once, from the process whose write created it. The
//! tickets writer thread applies the rules to each committed write and queues the alerts;
//! nothing happens on the thread that logged the error.
//!
//! | rule | default |
//! |---|---|
//! | a ticket is created | on ([`Alerts::on_created`]) |
//! | a resolved ticket regresses | on ([`Alerts::on_regressed`]) |
//! | an open ticket receives N occurrences within a window | off ([`Alerts::on_rate`]); fires once per window |
//! | a ticket that is not open (muted; resolved and seen from its release) | never alerts |
//! | per ticket, at most one alert per interval | 60 s ([`Alerts::with_min_interval`]); those held back are counted |
//!
//! A delivery thread hands each alert to the callbacks, then posts it to each webhook:
//! retried on a refused connection, a timeout, a 429 or a 5xx, up to 3 times with backoff
//! from 1 s doubling ([`Alerts::with_retries`], [`Alerts::with_backoff`]). Its queue holds 256
//! alerts ([`Alerts::with_queue_capacity`]); when it is full, new alerts are dropped and
//! counted. [`Stats`](crate::Stats) counts alerts raised, dropped, limited, delivered, failed
//! and retried. Dropping the guard delivers what is queued, retrying until the shutdown
//! timeout. The JSON body is documented in `docs/alerts.md` and at [`Alert::to_json`].

mod alert;
mod deliver;
mod rules;
#[cfg(feature = "webhook")]
mod webhook;

use std::fmt;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

pub use alert::{Alert, AlertKind};
pub(crate) use deliver::{start, Delivery, Origin, Raiser};

/// How one delivery attempt ended.
#[cfg_attr(not(feature = "webhook"), allow(dead_code))]
pub(crate) enum Attempt {
    Done,
    /// Worth another try (refused connection, timeout, 429, 5xx).
    Retry(String),
    /// Not worth another try (a 4xx other than 429).
    Fail(String),
}

/// What the alerts count, read through the guard's `Stats` (`alerts_raised`, …).
#[derive(Debug, Default)]
pub(crate) struct AlertCounters {
    /// Alerts raised and queued for delivery.
    pub(crate) raised: AtomicU64,
    /// Alerts dropped because the delivery queue was full.
    pub(crate) dropped: AtomicU64,
    /// Alerts held back by the per-ticket minimum interval.
    pub(crate) limited: AtomicU64,
    /// Deliveries done (one per alert and callback or webhook that took it).
    pub(crate) delivered: AtomicU64,
    /// Deliveries that failed after their retries.
    pub(crate) failures: AtomicU64,
    /// Delivery attempts retried.
    pub(crate) retries: AtomicU64,
}
use rules::RuleConfig;

/// An in-process alert handler (see [`Alerts::callback`]).
pub(crate) type Callback = Arc<dyn Fn(&Alert) + Send + Sync>;

/// Where alerts go and when they are raised; given to
/// [`TicketsBuilder::with_alerts`](crate::TicketsBuilder::with_alerts).
///
/// ```
/// use std::time::Duration;
/// use taskwire_tickets::alerts::Alerts;
/// let alerts = Alerts::callback(|alert| eprintln!("{}", alert.summary()))
///     .on_rate(50, Duration::from_secs(300))
///     .with_min_interval(Duration::from_secs(600));
/// let (_layer, _guard) = taskwire_tickets::layer(taskwire_tickets::Sqlite::open_in_memory()?)
///     .with_alerts(alerts)
///     .build();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "Alerts do nothing until given to TicketsBuilder::with_alerts"]
#[derive(Clone)]
pub struct Alerts {
    pub(crate) rules: RuleConfig,
    #[cfg(feature = "webhook")]
    pub(crate) webhooks: Vec<webhook::Webhook>,
    pub(crate) callbacks: Vec<Callback>,
    pub(crate) queue_capacity: usize,
    pub(crate) retries: u32,
    pub(crate) backoff: Duration,
    #[cfg_attr(not(feature = "webhook"), allow(dead_code))]
    pub(crate) timeout: Duration,
}

impl fmt::Debug for Alerts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Alerts");
        d.field("rules", &self.rules);
        #[cfg(feature = "webhook")]
        d.field(
            "webhooks",
            &self
                .webhooks
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
        );
        d.field("callbacks", &self.callbacks.len())
            .field("queue_capacity", &self.queue_capacity)
            .field("retries", &self.retries)
            .field("backoff", &self.backoff)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Alerts {
    fn empty() -> Alerts {
        Alerts {
            rules: RuleConfig {
                created: true,
                regressed: true,
                rate: None,
                min_interval: Duration::from_secs(60),
            },
            #[cfg(feature = "webhook")]
            webhooks: Vec::new(),
            callbacks: Vec::new(),
            queue_capacity: 256,
            retries: 3,
            backoff: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
        }
    }

    /// Alerts posted to `url` (`http` or `https`) as the JSON body of [`Alert::to_json`];
    /// [`Alerts::slack`] for Slack's form. An `https` URL needs a TLS backend of reqwest
    /// enabled in the application (see `docs/alerts.md`).
    ///
    /// ```
    /// use taskwire_tickets::alerts::Alerts;
    /// assert!(Alerts::webhook("http://127.0.0.1:9000/alerts").is_ok());
    /// assert!(Alerts::webhook("ftp://example.com/alerts").is_err());
    /// ```
    #[cfg(feature = "webhook")]
    pub fn webhook(url: &str) -> Result<Alerts, AlertsError> {
        Alerts::empty().with_webhook(url)
    }

    /// One more webhook, like [`Alerts::webhook`].
    #[cfg(feature = "webhook")]
    pub fn with_webhook(mut self, url: &str) -> Result<Alerts, AlertsError> {
        self.webhooks.push(webhook::Webhook::parse(url)?);
        Ok(self)
    }

    /// The webhook added last receives Slack's `{"text": …}` ([`Alert::to_slack_json`])
    /// instead of the JSON body.
    #[cfg(feature = "webhook")]
    pub fn slack(mut self) -> Self {
        if let Some(w) = self.webhooks.last_mut() {
            w.format = webhook::Format::Slack;
        }
        self
    }

    /// Alerts handed to `f` on the delivery thread (never on the thread that logged). A
    /// panic in `f` is caught and counted as a failed delivery.
    pub fn callback(f: impl Fn(&Alert) + Send + Sync + 'static) -> Alerts {
        Alerts::empty().with_callback(f)
    }

    /// One more callback, like [`Alerts::callback`].
    pub fn with_callback(mut self, f: impl Fn(&Alert) + Send + Sync + 'static) -> Self {
        self.callbacks.push(Arc::new(f));
        self
    }

    /// Alerts when a ticket is created. Default on.
    pub fn on_created(mut self, on: bool) -> Self {
        self.rules.created = on;
        self
    }

    /// Alerts when a resolved ticket regresses. Default on.
    pub fn on_regressed(mut self, on: bool) -> Self {
        self.rules.regressed = on;
        self
    }

    /// Alerts when an open ticket receives `count` occurrences (or more) within `window`, by
    /// occurrence time; once per window and ticket. Counted per process: with several
    /// processes on one store, each counts its own occurrences. Off by default.
    pub fn on_rate(mut self, count: u64, window: Duration) -> Self {
        self.rules.rate = Some((count.max(1), window.max(Duration::from_millis(1))));
        self
    }

    /// Per ticket, no alert within `interval` of the previous one (those held back are
    /// counted, [`Stats::alerts_limited`](crate::Stats::alerts_limited)). Default 60 s; zero
    /// turns it off.
    pub fn with_min_interval(mut self, interval: Duration) -> Self {
        self.rules.min_interval = interval;
        self
    }

    /// Alerts waiting for the delivery thread at most. Default 256; beyond it new alerts are
    /// dropped and counted.
    pub fn with_queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = n.max(1);
        self
    }

    /// Tries after the first failed post of an alert to a webhook. Default 3.
    pub fn with_retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// The wait before the first retry, doubled for each next one (up to 30 s). Default 1 s.
    pub fn with_backoff(mut self, first: Duration) -> Self {
        self.backoff = first;
        self
    }

    /// How long one post may take (connecting included). Default 10 s.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// Why an [`Alerts`] configuration was refused (a webhook URL that is not `http(s)://host…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertsError {
    message: String,
}

impl AlertsError {
    #[cfg_attr(not(feature = "webhook"), allow(dead_code))]
    pub(crate) fn new(message: String) -> AlertsError {
        AlertsError { message }
    }
}

impl fmt::Display for AlertsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AlertsError {}
