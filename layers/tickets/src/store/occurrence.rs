//! A [`Sample`]: the data of one stored event, and the [`Occurrence`] that places it.

use super::{JsonText, Level, TicketId, Timestamp};

/// One stored occurrence: the full data of one event.
///
/// The JSON fields hold valid JSON ([`JsonText`]): `fields` an object of the event's fields, `spans` an
/// array of `{"name": …, "fields": {…}}` from the outermost enclosing span to the innermost,
/// `errors` an array of `{"field": …, "message": …, "source": […]}` for every error value among
/// the event's fields.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Sample {
    /// When the event happened.
    pub time: Timestamp,
    /// The event's level.
    pub level: Option<Level>,
    /// The event's message (the `message` field), truncated like any field.
    pub message: String,
    /// The event's other fields as a JSON object (redacted, truncated).
    pub fields: JsonText,
    /// The enclosing spans as a JSON array, outermost first.
    pub spans: JsonText,
    /// The W3C trace id (32 hex digits) of the enclosing task.
    pub trace_id: Option<String>,
    /// The W3C span id (16 hex digits) of the enclosing task.
    pub span_id: Option<String>,
    /// The service, if configured.
    pub service: Option<String>,
    /// The host name.
    pub host: String,
    /// The process id.
    pub pid: u32,
    /// The thread's name.
    pub thread: String,
    /// The release, if configured.
    pub release: Option<String>,
    /// The error values among the fields, with their source chains, as a JSON array.
    pub errors: JsonText,
}

impl Sample {
    /// An empty sample at `time` (JSON fields `{}`, `[]`, `[]`).
    pub fn new(time: Timestamp) -> Sample {
        Sample {
            time,
            fields: JsonText::empty_object(),
            spans: JsonText::empty_array(),
            errors: JsonText::empty_array(),
            ..Sample::default()
        }
    }
}

/// A stored sample and where it belongs.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Occurrence {
    /// The occurrence's id in its store.
    pub id: i64,
    /// Its ticket.
    pub ticket: TicketId,
    /// Whether this is the ticket's first sample (kept forever).
    pub first: bool,
    /// The data.
    pub sample: Sample,
}

impl Occurrence {
    /// An occurrence record, for stores that read them back.
    pub fn new(id: i64, ticket: TicketId, first: bool, sample: Sample) -> Occurrence {
        Occurrence {
            id,
            ticket,
            first,
            sample,
        }
    }
}
