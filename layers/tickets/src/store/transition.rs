//! The status rules every store applies when occurrences arrive (shared, so backends agree).

use super::{Change, GroupUpdate, Mute, Status, Ticket, Timestamp};

/// The status part of a stored ticket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct State {
    pub(crate) status: Status,
    pub(crate) count: u64,
    pub(crate) resolved_at: Option<Timestamp>,
    pub(crate) resolved_in_release: Option<String>,
    pub(crate) regressed_at: Option<Timestamp>,
    pub(crate) mute_until: Option<Timestamp>,
    /// The count after which a count mute ends.
    pub(crate) mute_until_count: Option<u64>,
}

impl State {
    /// Sets `ticket`'s count, status, resolution, regression and mute to this state's.
    pub(crate) fn fill(self, ticket: &mut Ticket) {
        ticket.mute = self.mute();
        ticket.count = self.count;
        ticket.status = self.status;
        ticket.resolved_at = self.resolved_at;
        ticket.resolved_in_release = self.resolved_in_release;
        ticket.regressed_at = self.regressed_at;
    }

    /// Adds `update`'s occurrences: counts, and the regression and mute rules of
    /// [`crate::store`]. Returns the status change it made, if any.
    pub(crate) fn apply(&mut self, update: &GroupUpdate) -> Option<Change> {
        let new_count = self.count.saturating_add(update.count);
        let mut change = None;
        match self.status {
            Status::Resolved => {
                let newer = self.resolved_at.is_none_or(|r| update.last_seen > r);
                let other_release = match &self.resolved_in_release {
                    None => true,
                    Some(r) => update.release.as_deref() != Some(r.as_str()),
                };
                if newer && other_release && update.count > 0 {
                    self.status = Status::Open;
                    self.regressed_at = Some(self.first_after_resolution(update));
                    change = Some(Change::Regressed);
                }
            }
            Status::Muted => {
                let ended = self.mute_until.is_some_and(|t| update.last_seen >= t)
                    || self.mute_until_count.is_some_and(|c| new_count > c);
                if ended && update.count > 0 {
                    self.status = Status::Open;
                    self.mute_until = None;
                    self.mute_until_count = None;
                    change = Some(Change::Unmuted);
                }
            }
            Status::Open => {}
        }
        self.count = new_count;
        change
    }

    /// The earliest known occurrence after the resolution.
    fn first_after_resolution(&self, update: &GroupUpdate) -> Timestamp {
        let Some(r) = self.resolved_at else {
            return update.first_seen;
        };
        if update.first_seen > r {
            return update.first_seen;
        }
        update
            .samples
            .iter()
            .map(|s| s.time)
            .filter(|t| *t > r)
            .min()
            .unwrap_or(update.last_seen)
    }

    /// The mute condition as a ticket shows it.
    pub(crate) fn mute(&self) -> Option<Mute> {
        if self.status != Status::Muted {
            return None;
        }
        Some(match (self.mute_until, self.mute_until_count) {
            (Some(t), _) => Mute::Until(t),
            (None, Some(c)) => Mute::Count(c.saturating_sub(self.count)),
            (None, None) => Mute::Forever,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Level, TicketSeed};

    fn state(status: Status) -> State {
        State {
            status,
            count: 10,
            resolved_at: None,
            resolved_in_release: None,
            regressed_at: None,
            mute_until: None,
            mute_until_count: None,
        }
    }

    fn update(count: u64, at: i64, release: Option<&str>) -> GroupUpdate {
        let t = Timestamp::from_micros(at);
        let mut u = GroupUpdate::new("f", TicketSeed::new(Level::ERROR, "t"), count, t, t);
        u.release = release.map(str::to_owned);
        u
    }

    #[test]
    fn resolved_in_a_release_regresses_only_from_another_release() {
        let mut s = state(Status::Resolved);
        s.resolved_at = Some(Timestamp::from_micros(100));
        s.resolved_in_release = Some("1.0".into());
        assert_eq!(s.apply(&update(1, 200, Some("1.0"))), None);
        assert_eq!(s.status, Status::Resolved);
        assert_eq!(
            s.apply(&update(1, 300, Some("1.1"))),
            Some(Change::Regressed)
        );
        assert_eq!(s.status, Status::Open);
        assert_eq!(s.regressed_at, Some(Timestamp::from_micros(300)));
        assert_eq!(s.count, 12);
    }

    #[test]
    fn occurrences_older_than_the_resolution_do_not_regress() {
        let mut s = state(Status::Resolved);
        s.resolved_at = Some(Timestamp::from_micros(100));
        s.apply(&update(5, 50, None));
        assert_eq!(s.status, Status::Resolved);
        assert_eq!(s.count, 15);
    }

    #[test]
    fn count_mute_ends_after_n_more() {
        let mut s = state(Status::Muted);
        s.mute_until_count = Some(13);
        assert_eq!(s.mute(), Some(Mute::Count(3)));
        assert_eq!(s.apply(&update(3, 1, None)), None);
        assert_eq!(s.status, Status::Muted);
        assert_eq!(s.apply(&update(1, 2, None)), Some(Change::Unmuted));
        assert_eq!(s.status, Status::Open);
        assert_eq!(s.regressed_at, None);
    }
}
