//! The taskwire web UI.
