//! The request-shaped workload of `benches/request.rs`, shared with the test that holds the
//! stack's allocations per request (`tests/request_allocations_stay_within_budget.rs`): a request span of 5
//! fields with 3 child spans of 3 fields (one of them entered twice), 4 `info!` of 4 fields, 1
//! `warn!`, and in 1 request of 10 an `error!` with an error value.
#![allow(dead_code)]

use std::error::Error;
use std::fmt;

use tracing::{error, info, info_span, warn, Dispatch};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

/// The taskwire stack composed by hand, as a user would: tasks, metrics, `tickets`, and JSON
/// lines into `writer`.
pub(crate) fn taskwire_by_hand<W>(tickets: taskwire_tickets::TicketsLayer, writer: W) -> Dispatch
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    taskwire_with(
        taskwire_tasks::layer(),
        tickets,
        taskwire_json::layer()
            .with_service("bench")
            .with_writer(writer),
    )
}

/// The same stack with `tasks` and `json` as its tasks and JSON layers (say,
/// `taskwire_tasks::layer().all_tasks()`).
pub(crate) fn taskwire_with<W>(
    tasks: taskwire_tasks::TasksLayer,
    tickets: taskwire_tickets::TicketsLayer,
    json: taskwire_json::JsonLayer<W>,
) -> Dispatch
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    Dispatch::new(
        tracing_subscriber::registry()
            .with(tasks)
            .with(taskwire_metrics::layer())
            .with(tickets)
            .with(json),
    )
}

/// The error value of the failing requests.
#[derive(Debug)]
pub(crate) struct PaymentDeclined {
    pub(crate) code: u16,
}

impl fmt::Display for PaymentDeclined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "payment declined by the issuer (code {})", self.code)
    }
}

impl Error for PaymentDeclined {}

/// One request of the workload; request `n` fails when `n % 10 == 0`.
pub(crate) fn request(n: u64) {
    let request = info_span!(
        "request",
        http.method = "POST",
        http.route = "/orders/{id}/checkout",
        request_id = n,
        client = "10.1.2.3",
        user_agent = "bench-client/1.0"
    );
    let _r = request.enter();
    info!(
        user_id = 42_u64,
        cart_items = 3_i64,
        total = 59.97_f64,
        currency = "EUR",
        "checkout started"
    );
    {
        let auth = info_span!(
            "authenticate",
            method = "token",
            user_id = 42_u64,
            cached = true
        );
        let _a = auth.enter();
        info!(
            scopes = 3_i64,
            expires_in = 3600_u64,
            refreshed = false,
            issuer = "idp",
            "token accepted"
        );
    }
    {
        let db = info_span!(
            "db.query",
            table = "orders",
            statement = "select",
            shard = 2_i64
        );
        {
            let _d = db.enter();
            info!(
                rows = 3_i64,
                elapsed_ms = 4.2_f64,
                cached = false,
                index = "orders_pk",
                "rows read"
            );
        }
        {
            let _d = db.enter();
            warn!(
                rows = 0_i64,
                elapsed_ms = 812.5_f64,
                retried = true,
                index = "stock_idx",
                "slow stock query"
            );
        }
    }
    {
        let pay = info_span!(
            "payment",
            provider = "acme",
            amount_cents = 5997_i64,
            retry = false
        );
        let _p = pay.enter();
        info!(
            attempt = 1_i64,
            latency_ms = 31.0_f64,
            three_ds = true,
            card = "visa",
            "payment authorised"
        );
        if n.is_multiple_of(10) {
            let e = PaymentDeclined { code: 51 };
            error!(
                error = &e as &(dyn Error + 'static),
                order = n,
                "payment failed"
            );
        }
    }
}
