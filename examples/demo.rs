//! taskwire's demo: a small simulated shop service.
//!
//! Nested `#[instrument]`ed functions run as tokio tasks on several worker threads; some orders
//! hit low stock (warnings) or a declined card (errors); a dependency that uses the `log` crate
//! writes through the bridge. Every record goes as a JSON line to `target/demo/logs.jsonl`
//! and to stdout: as console lines for people when stdout is a terminal (`taskwire::console`,
//! with each task's `✓`/`✗` end), as JSON lines when it is piped; every span is a task, and the demo ends by printing the task tree
//! of each order rebuilt from that file (what `taskwire tree target/demo/logs.jsonl` shows).
//! Warnings and errors are grouped into tickets in `target/demo/tickets.db`, listed at the end
//! (what `taskwire tickets list --db target/demo/tickets.db` shows), and the demo ends with a
//! table of its metrics (per task, count, p50, p99, max, rate and errors) and the command that
//! opens its tickets, traces, live tail and metrics in the web UI
//! (`taskwire serve --db target/demo/tickets.db --logs target/demo/logs.jsonl`).
//!
//! ```text
//! cargo run --example demo
//! ```

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use tracing::{info, instrument, warn};

/// Where the demo writes its JSON log (under the repository's `target/`).
fn demo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("demo")
}

#[derive(Debug)]
struct PaymentDeclined {
    order_id: u64,
    reason: &'static str,
}

impl std::fmt::Display for PaymentDeclined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "payment for order {} declined: {}",
            self.order_id, self.reason
        )
    }
}

impl std::error::Error for PaymentDeclined {}

/// A tiny deterministic generator, so every run tells the same story.
fn pseudo_random(seed: u64) -> u64 {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xdead_beef;
    x ^= x >> 31;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^ (x >> 29)
}

#[instrument(fields(sku = %format!("SKU-{:04}", order_id % 7)))]
async fn check_inventory(order_id: u64, quantity: u32) -> u32 {
    tokio::time::sleep(Duration::from_millis(pseudo_random(order_id) % 5)).await;
    let in_stock = (pseudo_random(order_id + 1) % 20) as u32;
    if in_stock < quantity * 2 {
        warn!(in_stock, quantity, "stock is running low");
    }
    in_stock
}

#[instrument(err, skip(card_token))]
async fn charge_card(
    order_id: u64,
    amount_cents: u64,
    card_token: &str,
) -> Result<(), PaymentDeclined> {
    // `card_token` is a sensitive key: taskwire redacts it wherever it appears.
    info!(card_token, "charging card");
    tokio::time::sleep(Duration::from_millis(pseudo_random(order_id + 2) % 8)).await;
    if pseudo_random(order_id + 3).is_multiple_of(5) {
        return Err(PaymentDeclined {
            order_id,
            reason: "insufficient funds",
        });
    }
    Ok(())
}

#[instrument(fields(customer = %format!("cust-{}", order_id % 4), outcome = tracing::field::Empty))]
async fn handle_order(order_id: u64) {
    let quantity = 1 + (pseudo_random(order_id) % 3) as u32;
    let stock = check_inventory(order_id, quantity).await;
    if stock < quantity {
        tracing::error!(stock, quantity, "order cannot be fulfilled");
        tracing::Span::current().record("outcome", "out_of_stock");
        return;
    }
    let amount_cents = u64::from(quantity) * 1999;
    match charge_card(order_id, amount_cents, "tok_visa_4242").await {
        Ok(()) => {
            tracing::Span::current().record("outcome", "shipped");
            info!(amount_cents, "order shipped");
        }
        Err(_) => {
            tracing::Span::current().record("outcome", "declined");
        }
    }
}

/// A dependency that logs through the `log` crate, as many older crates do.
fn legacy_audit(orders: usize) {
    log::info!(target: "legacy_audit", "audited {orders} orders");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = demo_dir();
    let log_file = dir.join("logs.jsonl");
    let tickets_db = dir.join("tickets.db");
    // Each run starts with a fresh log and ticket database.
    std::fs::create_dir_all(&dir)?;
    for f in [&log_file, &tickets_db] {
        let _ = std::fs::remove_file(f);
    }

    let metrics = taskwire::metrics::layer();
    let metrics_handle = metrics.handle();
    let builder = taskwire::builder()
        .service("shop")
        .release(env!("CARGO_PKG_VERSION"))
        .tasks(taskwire::tasks::layer())
        .tickets(taskwire::tickets::Sqlite::open(&tickets_db)?)
        .metrics(metrics)
        .json_file(&log_file);
    // People read a terminal; a pipe (`| jq`, `| taskwire tail`) gets the JSON lines.
    let builder = if std::io::stdout().is_terminal() {
        builder.console()
    } else {
        builder.json(std::io::stdout)
    };
    let guard = builder.install()?;

    info!(orders = 12, "shop opening");
    let mut handles = Vec::new();
    for order_id in 1..=12_u64 {
        handles.push(taskwire::tasks::spawn(handle_order(order_id)));
    }
    for h in handles {
        h.await?;
    }
    legacy_audit(12);
    info!("shop closing");

    // Flush the file writer before reading the file back.
    drop(guard);
    let text = std::fs::read_to_string(&log_file)?;
    let lines = text.lines().count();
    let errors = text
        .lines()
        .filter(|l| l.contains(r#""level":"ERROR""#))
        .count();
    let warnings = text
        .lines()
        .filter(|l| l.contains(r#""level":"WARN""#))
        .count();
    println!(
        "\ndemo: {lines} JSON records ({warnings} warnings, {errors} errors) written to {}",
        log_file.display()
    );
    println!("\nTask trees (taskwire tree {}):\n", log_file.display());
    taskwire_cli::tree::print_trees(std::slice::from_ref(&log_file), &mut std::io::stdout())?;
    println!(
        "\nTickets (taskwire tickets list --db {}):\n",
        tickets_db.display()
    );
    taskwire_cli::tickets::print_tickets(&tickets_db, &mut std::io::stdout())?;
    println!("\nMetrics (in-app snapshot):\n");
    println!(
        "{}",
        taskwire::metrics::render_table(&metrics_handle.snapshot())
    );
    println!(
        "\nOpen its tickets, traces, live tail and metrics in a browser:\n\n  \
         cargo run -p taskwire-cli -- serve --db {} --logs {}",
        tickets_db.display(),
        log_file.display()
    );
    Ok(())
}
