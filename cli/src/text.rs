//! Text as a terminal shows it: the engine's escaping and duration form
//! ([`taskwire_explore::text`]), shared by `tree`, `tickets` and `tail`.

pub(crate) use taskwire_explore::text::{clean, width, Clean, Human};
