//! What the layer's writer hands a store: a [`Batch`] of [`GroupUpdate`]s.

use super::{Level, Sample, Timestamp};

/// What a ticket is created with when its fingerprint is new.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TicketSeed {
    /// The level.
    pub level: Level,
    /// The service.
    pub service: Option<String>,
    /// The target.
    pub target: String,
    /// The module path.
    pub module: Option<String>,
    /// The source file.
    pub file: Option<String>,
    /// The source line.
    pub line: Option<u32>,
}

impl TicketSeed {
    /// A seed with a level and target, the rest unknown.
    pub fn new(level: Level, target: impl Into<String>) -> TicketSeed {
        TicketSeed {
            level,
            service: None,
            target: target.into(),
            module: None,
            file: None,
            line: None,
        }
    }
}

/// A count for one tag value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagCount {
    /// The tag key (`level`, `service`, `host`, `release` or a configured field).
    pub key: String,
    /// The value.
    pub value: String,
    /// How many occurrences had it.
    pub count: u64,
}

/// New occurrences of one fingerprint since the last batch.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct GroupUpdate {
    /// The grouping key's hash.
    pub fingerprint: String,
    /// What a new ticket is made of.
    pub seed: TicketSeed,
    /// The title, when a message was seen (an existing non-empty title is kept).
    pub title: Option<String>,
    /// How many occurrences (exact).
    pub count: u64,
    /// The earliest of them.
    pub first_seen: Timestamp,
    /// The newest of them.
    pub last_seen: Timestamp,
    /// The release they come from (for regressions of tickets resolved in a release).
    pub release: Option<String>,
    /// Tag counts to add (they need not sum to `count`).
    pub tags: Vec<TagCount>,
    /// Samples, oldest first. The store keeps the ticket's first and its newest ones.
    pub samples: Vec<Sample>,
}

impl GroupUpdate {
    /// `count` occurrences of `fingerprint` between `first_seen` and `last_seen`.
    pub fn new(
        fingerprint: impl Into<String>,
        seed: TicketSeed,
        count: u64,
        first_seen: Timestamp,
        last_seen: Timestamp,
    ) -> GroupUpdate {
        GroupUpdate {
            fingerprint: fingerprint.into(),
            seed,
            title: None,
            count,
            first_seen,
            last_seen,
            release: None,
            tags: Vec::new(),
            samples: Vec::new(),
        }
    }
}

/// One transaction's worth of updates.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Batch {
    /// Per fingerprint, at most one update.
    pub groups: Vec<GroupUpdate>,
    /// Samples kept per ticket besides its first one.
    pub samples_per_ticket: usize,
    /// Distinct values kept per ticket and tag key.
    pub max_tag_values: usize,
    /// How long hourly counts are kept: a store deletes (at most
    /// [`crate::HOURLY_PRUNE_PER_WRITE`] per write) the counts of hours that ended this long
    /// before the newest occurrence of the batch (or before now, when that is earlier).
    pub hourly_retention: std::time::Duration,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            groups: Vec::new(),
            samples_per_ticket: crate::DEFAULT_SAMPLES_PER_TICKET,
            max_tag_values: crate::DEFAULT_MAX_TAG_VALUES,
            hourly_retention: crate::DEFAULT_HOURLY_RETENTION,
        }
    }
}

impl Batch {
    /// The first hour whose count `hourly_retention` keeps: hours before it are pruned. The
    /// clock is the batch's newest occurrence, capped at now (an event stamped in the future
    /// cannot prune the present); `None` for a batch without occurrences.
    pub fn hourly_cutoff(&self) -> Option<i64> {
        let newest = self.groups.iter().map(|g| g.last_seen).max()?;
        let now = Timestamp::now();
        let clock = if newest < now { newest } else { now };
        let keep = i64::try_from(self.hourly_retention.as_secs() / 3600).unwrap_or(i64::MAX);
        Some(super::hour_of(clock).saturating_sub(keep.max(1)))
    }

    /// A batch of `groups` with the default retention.
    pub fn new(groups: Vec<GroupUpdate>) -> Batch {
        Batch {
            groups,
            ..Batch::default()
        }
    }
}
