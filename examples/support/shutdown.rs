//! How the two-service example's processes learn to stop (shared by `front` and `back`).

/// Waits for Ctrl-C, SIGTERM or, with `stop_on_eof`, the end of standard input (how the
/// end-to-end test stops a service it started), and says which came.
pub(crate) async fn shutdown_signal(stop_on_eof: bool) -> &'static str {
    let eof = async move {
        if stop_on_eof {
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            std::thread::spawn(move || {
                // Read and discard until EOF (or a read error), then signal.
                let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
                let _ = tx.send(());
            });
            let _ = rx.await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = eof => "standard input closed",
        () = ctrl_c => "Ctrl-C",
        () = term => "SIGTERM",
    }
}
