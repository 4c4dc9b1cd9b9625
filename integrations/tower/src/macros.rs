//! Items every middleware service of the crate has, written once (as tower-http does).

/// The `get_ref`, `get_mut` and `into_inner` accessors of a service that wraps `inner: S`;
/// expands inside the `impl<S>` block of a service struct with an `inner: S` field.
macro_rules! define_inner_service_accessors {
    () => {
        /// The wrapped service.
        pub fn get_ref(&self) -> &S {
            &self.inner
        }

        /// The wrapped service, mutably.
        pub fn get_mut(&mut self) -> &mut S {
            &mut self.inner
        }

        /// Unwraps the inner service.
        pub fn into_inner(self) -> S {
            self.inner
        }
    };
}
