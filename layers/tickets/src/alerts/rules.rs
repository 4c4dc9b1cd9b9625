//! When a write raises an alert: the rules as one function of the write's result and the
//! rules' memory ([`Rules::decide`]), with tests named after each rule.
//!
//! - a created ticket raises [`AlertKind::Created`], a regressed one [`AlertKind::Regressed`];
//! - an open ticket whose occurrences within the rate window (by occurrence time) reach the
//!   configured count raises [`AlertKind::Rate`], at most once per window;
//! - a ticket that is not open (muted, or resolved and seen again from the release it was
//!   resolved in) raises nothing, and its rate window starts over;
//! - per ticket, an alert within the minimum interval of the previous one is not raised but
//!   counted as limited (no storms from a ticket resolved and regressing in a loop);
//! - one write raises at most one alert per ticket: created before regressed before rate.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use super::AlertKind;
use crate::store::{Change, Status, WrittenTicket};

/// Tickets remembered at once; beyond it the stale ones are forgotten.
const MAX_REMEMBERED: usize = 10_000;

/// Which changes alert, the rate rule and the per-ticket interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RuleConfig {
    pub(crate) created: bool,
    pub(crate) regressed: bool,
    /// `(count, window)`.
    pub(crate) rate: Option<(u64, Duration)>,
    pub(crate) min_interval: Duration,
}

/// What a write means for one ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    Nothing,
    Raise(AlertKind),
    /// An alert the per-ticket interval held back.
    Limited,
}

#[derive(Debug, Default)]
struct Window {
    /// `(occurrence time µs, count)`, oldest first.
    seen: VecDeque<(i64, u64)>,
    sum: u64,
    fired_at: Option<i64>,
}

/// The rules' memory: per fingerprint, the last alert and the rate window.
#[derive(Debug)]
pub(crate) struct Rules {
    cfg: RuleConfig,
    last_alert: HashMap<String, i64>,
    windows: HashMap<String, Window>,
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

impl Rules {
    pub(crate) fn new(cfg: RuleConfig) -> Rules {
        Rules {
            cfg,
            last_alert: HashMap::new(),
            windows: HashMap::new(),
        }
    }

    /// The decision for `count` occurrences of `fingerprint` up to `last_seen` (µs) that a
    /// write at `now` (µs) committed with result `w`.
    pub(crate) fn decide(
        &mut self,
        fingerprint: &str,
        count: u64,
        last_seen: i64,
        now: i64,
        w: &WrittenTicket,
    ) -> Decision {
        if w.status != Status::Open {
            self.windows.remove(fingerprint);
            return Decision::Nothing;
        }
        let rate = self.rate(fingerprint, count, last_seen);
        let kind = match w.change {
            Some(Change::Created) if self.cfg.created => Some(AlertKind::Created),
            Some(Change::Regressed) if self.cfg.regressed => Some(AlertKind::Regressed),
            _ => rate,
        };
        let Some(kind) = kind else {
            return Decision::Nothing;
        };
        let min = micros(self.cfg.min_interval);
        if let Some(last) = self.last_alert.get(fingerprint) {
            if min > 0 && now.saturating_sub(*last) < min {
                return Decision::Limited;
            }
        }
        if self.last_alert.len() >= MAX_REMEMBERED {
            self.last_alert
                .retain(|_, at| now.saturating_sub(*at) < min);
        }
        self.last_alert.insert(fingerprint.to_owned(), now);
        Decision::Raise(kind)
    }

    /// Adds the occurrences to the ticket's window; the rate alert when it fires.
    fn rate(&mut self, fingerprint: &str, count: u64, at: i64) -> Option<AlertKind> {
        let (n, window) = self.cfg.rate?;
        let span = micros(window);
        if self.windows.len() >= MAX_REMEMBERED && !self.windows.contains_key(fingerprint) {
            self.windows.retain(|_, w| {
                w.seen
                    .back()
                    .is_some_and(|(t, _)| at.saturating_sub(*t) < span)
            });
        }
        let w = self.windows.entry(fingerprint.to_owned()).or_default();
        w.seen.push_back((at, count));
        w.sum = w.sum.saturating_add(count);
        while let Some(&(t, c)) = w.seen.front() {
            if at.saturating_sub(t) < span {
                break;
            }
            w.seen.pop_front();
            w.sum = w.sum.saturating_sub(c);
        }
        let quiet = w.fired_at.is_none_or(|f| at.saturating_sub(f) >= span);
        if w.sum >= n && quiet {
            w.fired_at = Some(at);
            return Some(AlertKind::Rate {
                count: w.sum,
                window,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TicketId;

    const S: i64 = 1_000_000;

    fn rules(rate: Option<(u64, Duration)>, min_interval: Duration) -> Rules {
        Rules::new(RuleConfig {
            created: true,
            regressed: true,
            rate,
            min_interval,
        })
    }

    fn w(status: Status, change: Option<Change>) -> WrittenTicket {
        WrittenTicket {
            id: TicketId(1),
            status,
            change,
        }
    }

    #[test]
    fn created_and_regressed_raise_their_kind() {
        let mut r = rules(None, Duration::ZERO);
        let open = w(Status::Open, Some(Change::Created));
        assert_eq!(
            r.decide("a", 1, 0, 0, &open),
            Decision::Raise(AlertKind::Created)
        );
        assert_eq!(
            r.decide("a", 1, 0, 0, &w(Status::Open, None)),
            Decision::Nothing
        );
        let back = w(Status::Open, Some(Change::Regressed));
        assert_eq!(
            r.decide("a", 1, S, S, &back),
            Decision::Raise(AlertKind::Regressed)
        );
    }

    #[test]
    fn tickets_that_are_not_open_raise_nothing() {
        let mut r = rules(Some((1, Duration::from_secs(60))), Duration::ZERO);
        assert_eq!(
            r.decide("a", 9, 0, 0, &w(Status::Muted, None)),
            Decision::Nothing
        );
        assert_eq!(
            r.decide("a", 9, 0, 0, &w(Status::Resolved, None)),
            Decision::Nothing
        );
    }

    #[test]
    fn the_rate_rule_fires_once_per_window() {
        let mut r = rules(Some((10, Duration::from_secs(60))), Duration::ZERO);
        let open = w(Status::Open, None);
        assert_eq!(r.decide("a", 6, 0, 0, &open), Decision::Nothing);
        let fired = r.decide("a", 4, 10 * S, 10 * S, &open);
        assert_eq!(
            fired,
            Decision::Raise(AlertKind::Rate {
                count: 10,
                window: Duration::from_secs(60)
            })
        );
        // Still over the rate, same window: quiet.
        assert_eq!(r.decide("a", 50, 20 * S, 20 * S, &open), Decision::Nothing);
        // A window later, over the rate again: fires again.
        assert!(matches!(
            r.decide("a", 10, 70 * S, 70 * S, &open),
            Decision::Raise(AlertKind::Rate { .. })
        ));
    }

    #[test]
    fn occurrences_older_than_the_window_do_not_count() {
        let mut r = rules(Some((10, Duration::from_secs(60))), Duration::ZERO);
        let open = w(Status::Open, None);
        assert_eq!(r.decide("a", 9, 0, 0, &open), Decision::Nothing);
        assert_eq!(r.decide("a", 9, 61 * S, 61 * S, &open), Decision::Nothing);
        assert_eq!(r.decide("b", 9, 61 * S, 61 * S, &open), Decision::Nothing);
    }

    #[test]
    fn a_muted_ticket_starts_its_window_over() {
        let mut r = rules(Some((10, Duration::from_secs(60))), Duration::ZERO);
        assert_eq!(
            r.decide("a", 9, 0, 0, &w(Status::Open, None)),
            Decision::Nothing
        );
        assert_eq!(
            r.decide("a", 9, S, S, &w(Status::Muted, None)),
            Decision::Nothing
        );
        assert_eq!(
            r.decide("a", 1, 2 * S, 2 * S, &w(Status::Open, None)),
            Decision::Nothing
        );
    }

    #[test]
    fn alerts_within_the_min_interval_are_limited() {
        let mut r = rules(None, Duration::from_secs(60));
        let created = w(Status::Open, Some(Change::Created));
        let back = w(Status::Open, Some(Change::Regressed));
        assert_eq!(
            r.decide("a", 1, 0, 0, &created),
            Decision::Raise(AlertKind::Created)
        );
        assert_eq!(r.decide("a", 1, S, S, &back), Decision::Limited);
        assert_eq!(
            r.decide("b", 1, S, S, &created),
            Decision::Raise(AlertKind::Created)
        );
        assert_eq!(
            r.decide("a", 1, 61 * S, 61 * S, &back),
            Decision::Raise(AlertKind::Regressed)
        );
    }

    #[test]
    fn a_created_ticket_over_the_rate_raises_one_alert() {
        let mut r = rules(Some((10, Duration::from_secs(60))), Duration::ZERO);
        let created = w(Status::Open, Some(Change::Created));
        assert_eq!(
            r.decide("a", 50, 0, 0, &created),
            Decision::Raise(AlertKind::Created)
        );
        assert_eq!(
            r.decide("a", 50, S, S, &w(Status::Open, None)),
            Decision::Nothing
        );
    }

    #[test]
    fn disabled_kinds_raise_nothing() {
        let mut r = Rules::new(RuleConfig {
            created: false,
            regressed: false,
            rate: None,
            min_interval: Duration::ZERO,
        });
        let created = w(Status::Open, Some(Change::Created));
        assert_eq!(r.decide("a", 1, 0, 0, &created), Decision::Nothing);
    }
}
