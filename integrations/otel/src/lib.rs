//! Exports taskwire's tasks as OpenTelemetry spans over OTLP.
#![forbid(unsafe_code)]
