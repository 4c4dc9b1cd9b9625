//! The stack a [`Builder`] composes: the capture, taskwire's layers in their order, the
//! application's layers, and the filter outermost.

use super::*;

impl Builder {
    /// The subscriber, with `extra` (the application's layers, or `Identity`) after taskwire's
    /// layers.
    pub(super) fn compose<E>(
        #[cfg_attr(not(feature = "prometheus"), allow(unused_mut))] mut self,
        rust_log: Option<&str>,
        extra: E,
    ) -> Result<
        (
            impl tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
            Background,
            Option<LevelFilter>,
        ),
        InstallError,
    >
    where
        E: Layer<CaptureRegistry> + Send + Sync + 'static,
    {
        let mut background = Background::default();
        // First: it may fail, and it installs the process's `metrics` recorder.
        #[cfg(feature = "prometheus")]
        if let Some(prometheus) = self.prometheus.take() {
            background.prometheus = Some(prometheus.start()?);
            // The recorder is fed by the metrics layer: a default one unless one was given.
            if self.metrics.is_none() {
                self.metrics = Some(taskwire_metrics::layer());
            }
        }
        let filter = StackFilter::new(&FilterSettings {
            rust_log,
            default_filter: &self.default_filter,
            span_filter: &self.span_filter,
            tasks: self.tasks.is_some(),
        })?;
        let max_level = filter.event_max_level();

        // Below every other layer: the one span capture, which the layers read (each tells it
        // what it needs when it is added).
        let capture = CaptureLayer::default().with_redactor(self.redactor.clone());
        // One static type, as a stack composed by hand (see `slot`).
        let tasks = Slot(self.tasks);
        #[cfg(feature = "otel")]
        let otel = match self.otel {
            Some(otel) => {
                let (layer, otel_guard) = otel
                    .with_service_defaults(self.service.as_deref(), self.release.as_deref())
                    .with_redactor(self.redactor.clone())
                    .build()
                    .map_err(|e| InstallError::new(ErrorKind::Otel, Some(Box::new(e))))?;
                background
                    .otel
                    .get_mut()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(otel_guard);
                Slot(Some(layer))
            }
            None => Slot(None),
        };
        #[cfg(not(feature = "otel"))]
        let otel = Identity::new();
        #[cfg(feature = "metrics")]
        let metrics = Slot(self.metrics);
        #[cfg(not(feature = "metrics"))]
        let metrics = Identity::new();
        #[cfg(feature = "tickets")]
        let tickets = {
            let mut layers = Vec::with_capacity(self.tickets.len());
            for sink in self.tickets {
                let mut tickets = match sink {
                    TicketsSink::Layer(layer) => *layer,
                    TicketsSink::Db(path) => taskwire_tickets::layer(open_tickets_db(&path)?),
                };
                // The layer's own settings win; the builder fills in what it lacks.
                if tickets.redactor().is_none() {
                    tickets = tickets.with_redactor(self.redactor.clone());
                }
                if let (None, Some(s)) = (tickets.service(), &self.service) {
                    tickets = tickets.with_service(s.clone());
                }
                if let (None, Some(r)) = (tickets.release(), &self.release) {
                    tickets = tickets.with_release(r.clone());
                }
                let (tickets, tickets_guard) = tickets.build();
                background
                    .tickets
                    .get_mut()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(tickets_guard);
                layers.push(tickets);
            }
            // An empty `Vec` layer would disable every callsite: no tickets is an empty slot.
            Slot((!layers.is_empty()).then_some(layers))
        };
        #[cfg(not(feature = "tickets"))]
        let tickets = Identity::new();
        let json = if self.json.is_empty() {
            Slot(None)
        } else {
            let mut json = taskwire_json::layer()
                .with_redactor(self.redactor.clone())
                .with_span_list(self.span_list)
                .with_source_location(self.source_location)
                .with_process(self.process);
            if let Some(s) = &self.service {
                json = json.with_service(s.clone());
            }
            if let Some(r) = &self.release {
                json = json.with_release(r.clone());
            }
            background.write_errors.push(json.write_errors());
            let mut sinks: Vec<Box<dyn Sink>> = Vec::with_capacity(self.json.len());
            for sink in self.json {
                match sink {
                    JsonSink::Writer(w) => sinks.push(w),
                    JsonSink::File(path) => {
                        let (writer, worker) = file::open(&path)?;
                        background.files.push(worker);
                        sinks.push(Box::new(writer));
                    }
                }
            }
            let fanout = Fanout::new(json, sinks);
            background.sink_errors.push(fanout.errors());
            Slot(Some(fanout))
        };
        #[cfg(feature = "console")]
        let console = Slot(self.console.map(|style| {
            let console = taskwire_console::layer()
                .with_style(style)
                .with_redactor(self.redactor.clone());
            background.write_errors.push(console.write_errors());
            console
        }));
        #[cfg(not(feature = "console"))]
        let console = Identity::new();
        // Composed as layers first (`and_then`), then put on the Registry once: each level of
        // a subscriber stack asks the Registry to start closing a span, a level of layers
        // does not. Callbacks reach the layers in this order; the filter, last, is asked first
        // whether a callsite is enabled. The tickets layer comes before the JSON layer: it leaves
        // the fingerprint of each counted event's ticket for the JSON line
        // (`taskwire_core::event_ticket`). The application's layers come last (see `extra`).
        let layers = tasks
            .and_then(otel)
            .and_then(metrics)
            .and_then(tickets)
            .and_then(json)
            .and_then(console)
            .and_then(extra)
            .and_then(filter);
        // The capture is added on its own, so that the layers find it when they are added
        // (`and_then` shows the layers of a chain the same subscriber, not each other).
        let subscriber = tracing_subscriber::registry().with(capture).with(layers);
        Ok((subscriber, background, max_level))
    }
}
