//! A ticket's status history: every change of its status, by triage (resolve, mute, reopen)
//! or by the rules applied as occurrences arrive (a regression, the end of a mute).

use super::{Mute, Timestamp};

/// One change of a ticket's status.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusEvent {
    /// When it changed: the time given to `resolve`, the time of the triage call for a mute or
    /// a reopen, the first occurrence after the resolution for a regression, the newest
    /// occurrence of the batch that ended a mute.
    pub at: Timestamp,
    /// What changed.
    pub change: StatusChange,
}

impl StatusEvent {
    /// A change at `at`.
    pub fn new(at: Timestamp, change: StatusChange) -> StatusEvent {
        StatusEvent { at, change }
    }
}

/// What a [`StatusEvent`] did, and who did it: triage (`resolve`, `mute`, `reopen`) or an
/// occurrence (`Regressed`, `Unmuted`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatusChange {
    /// Resolved by triage, in a release or not.
    Resolved {
        /// The release it was resolved in.
        release: Option<String>,
    },
    /// Muted by triage until the mute ends.
    Muted(Mute),
    /// Reopened by triage.
    Reopened,
    /// Reopened by an occurrence newer than the resolution (from another release).
    Regressed,
    /// Reopened by the occurrence that ended its mute.
    Unmuted,
}

impl StatusChange {
    /// `resolved`, `muted`, `reopened`, `regressed` or `unmuted`: the stored form.
    pub fn kind(&self) -> &'static str {
        match self {
            StatusChange::Resolved { .. } => "resolved",
            StatusChange::Muted(_) => "muted",
            StatusChange::Reopened => "reopened",
            StatusChange::Regressed => "regressed",
            StatusChange::Unmuted => "unmuted",
        }
    }

    /// Whether triage made it (rather than an occurrence).
    pub fn by_triage(&self) -> bool {
        matches!(
            self,
            StatusChange::Resolved { .. } | StatusChange::Muted(_) | StatusChange::Reopened
        )
    }

    /// The change stored as `kind` with its release and mute columns (`mute_until` in
    /// microseconds, `mute_count` the count of a count mute; a mute with neither is forever);
    /// `None` for an unknown kind.
    #[cfg(any(feature = "sqlite", feature = "mongodb"))]
    pub(crate) fn from_parts(
        kind: &str,
        release: Option<String>,
        mute_until: Option<i64>,
        mute_count: Option<u64>,
    ) -> Option<StatusChange> {
        Some(match kind {
            "resolved" => StatusChange::Resolved { release },
            "muted" => StatusChange::Muted(match (mute_until, mute_count) {
                (Some(u), _) => Mute::Until(Timestamp::from_micros(u)),
                (None, Some(n)) => Mute::Count(n),
                (None, None) => Mute::Forever,
            }),
            "reopened" => StatusChange::Reopened,
            "regressed" => StatusChange::Regressed,
            "unmuted" => StatusChange::Unmuted,
            _ => return None,
        })
    }

    /// The release and mute columns of `StatusChange::from_parts`.
    #[cfg(any(feature = "sqlite", feature = "mongodb"))]
    pub(crate) fn parts(&self) -> (Option<&str>, Option<i64>, Option<u64>) {
        match self {
            StatusChange::Resolved { release } => (release.as_deref(), None, None),
            StatusChange::Muted(Mute::Until(t)) => (None, Some(t.as_micros()), None),
            StatusChange::Muted(Mute::Count(n)) => (None, None, Some(*n)),
            _ => (None, None, None),
        }
    }
}
