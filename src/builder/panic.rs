//! The `panic_hook` option of the [`Builder`].

use super::Builder;

impl Builder {
    /// Whether [`install()`](Builder::install) installs [`crate::panic_hook()`], which turns
    /// every panic into an ERROR event inside the current task (a failed task, a ticket) and
    /// flushes the outputs before a panic ends the process. Default: yes. `build()` never
    /// installs it (the hook is process-wide, the built subscriber is not): call
    /// `taskwire::panic_hook()` yourself there.
    ///
    /// ```
    /// # fn main() -> Result<(), taskwire::InstallError> {
    /// let (dispatch, _guard) = taskwire::builder()
    ///     .panic_hook(false)
    ///     .json(std::io::stdout)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn panic_hook(mut self, enabled: bool) -> Self {
        self.panic_hook = enabled;
        self
    }
}
