//! A task carried through a message queue between threads.
//!
//! The producer injects its current task into each message's metadata with
//! `taskwire::tasks::inject_current`; the consumer, on another thread, imports it with
//! `taskwire::tasks::import_from`, so each `consume` task is a child of the `produce` task
//! that sent the message, in the same trace. Any transport works the same way: implement
//! `Injector` / `Extractor` over its metadata, or use `Vec<(String, String)>` as here.
//!
//! ```text
//! cargo run --example task_through_queue
//! ```

use std::sync::mpsc;

use tracing::info;

/// A message with metadata, as a broker would carry it.
struct Message {
    headers: Vec<(String, String)>,
    body: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _guard = taskwire::builder()
        .service("queue-demo")
        .tasks(taskwire::tasks::layer())
        .json(std::io::stdout)
        .install()?;

    let (tx, rx) = mpsc::sync_channel::<Message>(16);

    let consumer = std::thread::Builder::new()
        .name("consumer".into())
        .spawn(move || {
            for msg in rx {
                let span = taskwire::tasks::import_from(
                    &msg.headers,
                    tracing::info_span!("consume", body = %msg.body),
                );
                let _e = span.enter();
                info!("message handled");
            }
        })?;

    for order in 1..=3 {
        let _task = tracing::info_span!("produce", order).entered();
        let mut headers = Vec::new();
        taskwire::tasks::inject_current(&mut headers);
        info!(traceparent = %headers[0].1, "message sent");
        tx.send(Message {
            headers,
            body: format!("order {order}"),
        })?;
    }
    drop(tx);
    consumer.join().map_err(|_| "consumer thread panicked")?;
    Ok(())
}
