//! [`TablePrefix`]: table and collection names that never reach a query unchecked.

use super::{ErrorKind, OpenError};

/// A validated table (or collection) name prefix: ASCII letters, digits and `_`, at most 32
/// characters, so a prefix never reaches SQL unchecked.
///
/// ```
/// use taskwire_tickets::store::TablePrefix;
/// assert_eq!(TablePrefix::new("app_").unwrap().as_str(), "app_");
/// assert!(TablePrefix::new("x; DROP TABLE users; --").is_err());
/// assert_eq!(TablePrefix::default().as_str(), "taskwire_");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TablePrefix(String);

/// The default table prefix.
pub const DEFAULT_PREFIX: &str = "taskwire_";

impl Default for TablePrefix {
    fn default() -> Self {
        TablePrefix(DEFAULT_PREFIX.to_owned())
    }
}

impl TablePrefix {
    /// Validates `prefix`.
    pub fn new(prefix: &str) -> Result<TablePrefix, OpenError> {
        if prefix.len() > 32 {
            return Err(OpenError::new(
                ErrorKind::InvalidConfig,
                format!("table prefix `{prefix}` is longer than 32 characters"),
            ));
        }
        if let Some(c) = prefix
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
        {
            return Err(OpenError::new(
                ErrorKind::InvalidConfig,
                format!(
                    "table prefix {prefix:?} contains {c:?}; only ASCII letters, digits and `_` are allowed"
                ),
            ));
        }
        Ok(TablePrefix(prefix.to_owned()))
    }

    /// The prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
