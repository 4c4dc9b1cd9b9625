//! Values under sensitive keys are replaced with "[redacted]" before anything is written, in
//! event fields and span fields (also when recorded later), with the default key list, a
//! custom `Redactor`, and the builder's `redact_key`.

mod support;

use taskwire_test_support::json_line::Record;
use taskwire_test_support::Capture;

use serde_json::json;
use taskwire::core::Redactor;
use tracing::field::Empty;

const SECRET: &str = "hunter2-s3cr3t";

fn assert_redacted(r: &Record, keys: &[&str]) {
    for k in keys {
        assert_eq!(r.get(*k), Some(&json!("[redacted]")), "{k} in {r:?}");
    }
}

fn assert_no_secret(buf: &Capture) {
    let out = buf.text();
    assert!(!out.contains(SECRET), "a secret leaked: {out}");
}

#[test]
fn default_keys_are_redacted_in_event_fields() {
    let buf = Capture::default();
    support::with_layer(support::json(&buf), || {
        tracing::info!(
            password = SECRET,
            Authorization = SECRET,
            api_key = SECRET,
            "set-cookie" = SECRET,
            userPassword = SECRET,
            "X-Api-Key" = SECRET,
            db_password = 42,
            access_token = ?SECRET,
            clientSecret = %SECRET,
            author = "kept",
            passwords_total = 3,
            "event"
        );
    });
    let r = &buf.records()[0];
    assert_redacted(
        r,
        &[
            "password",
            "Authorization",
            "api_key",
            "set-cookie",
            "userPassword",
            "X-Api-Key",
            "db_password",
            "access_token",
            "clientSecret",
        ],
    );
    assert_eq!(r["author"], json!("kept"));
    assert_eq!(r["passwords_total"], json!(3));
    assert_no_secret(&buf);
}

#[test]
fn default_keys_are_redacted_in_span_fields_also_when_recorded_later() {
    let buf = Capture::default();
    support::with_layer(support::json(&buf), || {
        let outer = tracing::info_span!("outer", Authorization = SECRET, user = "ann");
        let _o = outer.enter();
        let inner = tracing::info_span!(
            "inner",
            userPassword = SECRET,
            "set-cookie" = SECRET,
            token = Empty,
            session_id = Empty
        );
        let _i = inner.enter();
        inner.record("token", SECRET);
        inner.record("session_id", 7);
        inner.record("userPassword", "again-hunter2-s3cr3t");
        tracing::info!("in spans");
    });
    let r = &buf.records()[0];
    assert_redacted(
        r,
        &[
            "Authorization",
            "userPassword",
            "set-cookie",
            "token",
            "session_id",
        ],
    );
    assert_eq!(r["user"], json!("ann"));
    assert_no_secret(&buf);
}

#[test]
fn a_custom_redactor_applies_to_events_and_spans() {
    let buf = Capture::default();
    let layer = support::json(&buf).with_redactor(Redactor::with_keys(["ssn", "card-number"]));
    support::with_layer(layer, || {
        let _s = tracing::info_span!("s", customer_ssn = SECRET, password = "not-listed").entered();
        tracing::info!(
            cardNumber = SECRET,
            ssn = SECRET,
            api_key = "not-listed",
            "custom"
        );
    });
    let r = &buf.records()[0];
    assert_redacted(r, &["customer_ssn", "cardNumber", "ssn"]);
    // `with_keys` replaces the defaults.
    assert_eq!(r["password"], json!("not-listed"));
    assert_eq!(r["api_key"], json!("not-listed"));
    assert_no_secret(&buf);
}

#[test]
fn a_redactor_extending_the_defaults_keeps_them() {
    let buf = Capture::default();
    let layer = support::json(&buf).with_redactor(Redactor::default().with_key("ssn"));
    support::with_layer(layer, || {
        let _s = tracing::info_span!("s", ssn = SECRET).entered();
        tracing::info!(password = SECRET, "extended");
    });
    assert_redacted(&buf.records()[0], &["ssn", "password"]);
    assert_no_secret(&buf);
}

#[test]
fn builder_redact_key_adds_to_the_defaults() {
    let buf = Capture::default();
    let (dispatch, _guard) = taskwire::builder()
        .json(buf.clone())
        .redact_key("iban")
        .default_filter("trace")
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        let _s = tracing::info_span!("s", payee_iban = SECRET).entered();
        tracing::info!(iban = SECRET, password = SECRET, "builder");
    });
    assert_redacted(&buf.records()[0], &["payee_iban", "iban", "password"]);
    assert_no_secret(&buf);
}

#[test]
fn builder_redact_keys_replaces_the_defaults() {
    let buf = Capture::default();
    let (dispatch, _guard) = taskwire::builder()
        .json(buf.clone())
        .redact_keys(["iban"])
        .default_filter("trace")
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!(iban = SECRET, password = "visible", "builder");
    });
    let r = &buf.records()[0];
    assert_redacted(r, &["iban"]);
    assert_eq!(r["password"], json!("visible"));
}

#[test]
fn the_capturing_layers_redactor_wins_for_every_layer_in_the_stack() {
    // The first layer captures the span (and owns `Span::record`); a second layer that redacts
    // nothing must not write the span's secrets in clear, nor undo a later redaction.
    let (a, b) = (Capture::default(), Capture::default());
    let subscriber = tracing_subscriber::layer::SubscriberExt::with(
        tracing_subscriber::layer::SubscriberExt::with(
            tracing_subscriber::registry(),
            support::json(&a),
        ),
        support::json(&b).with_redactor(Redactor::none()),
    );
    tracing::subscriber::with_default(subscriber, || {
        let s = tracing::info_span!("s", password = SECRET, token = Empty);
        let _s = s.enter();
        s.record("token", SECRET);
        tracing::info!("in span");
    });
    for buf in [&a, &b] {
        assert_redacted(&buf.records()[0], &["password", "token"]);
        assert_no_secret(buf);
    }
}

#[test]
fn static_fields_under_sensitive_keys_are_redacted() {
    let buf = Capture::default();
    let layer = support::json(&buf)
        .with_static_field("db_password", SECRET)
        .with_static_field("region", "eu");
    support::with_layer(layer, || tracing::info!("static"));
    let r = &buf.records()[0];
    assert_redacted(r, &["db_password"]);
    assert_eq!(r["region"], json!("eu"));
    assert_no_secret(&buf);
}
