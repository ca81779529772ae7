//! The composition root: database and migrations, `Context`, federation
//! configuration, listener and routes. [`build`] returns a [`RunningServer`]
//! that knows its bound port, so tests can start instances on port 0.

use crate::{
    api, apub,
    config::Config,
    context::Context,
    db::{migrations, Db},
    delivery::{self, Delivery},
    error::{Error, ErrorKind, Result},
    service, telemetry,
    urls::Urls,
    web, wellknown,
};
use activitypub_federation::config::{FederationConfig, FederationMiddleware};
use actix_web::{middleware, App, HttpServer};
use std::{net::SocketAddr, sync::Arc};

/// Bodies larger than this are refused with 413 (inbox POSTs included).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How the HTTP server should behave beyond the configuration.
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    /// actix worker threads; `None` = one per core.
    pub workers: Option<usize>,
    /// Stop gracefully on SIGTERM/SIGINT (the binary); tests stop by handle.
    pub handle_signals: bool,
    /// Run the background delivery worker loop. Tests turn it off and step
    /// the queue with `delivery::deliver_due` for deterministic federation.
    pub delivery_workers: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            workers: None,
            handle_signals: true,
            delivery_workers: true,
        }
    }
}

/// A started instance.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub context: Context,
    /// The federation configuration, whose `to_request_data()` gives the
    /// `Data<Context>` that service calls reaching other servers take.
    pub federation: FederationConfig<Context>,
    /// Where the streaming port listens (`[streaming] bind`), if it does.
    pub streaming_addr: Option<SocketAddr>,
    server: actix_web::dev::Server,
    /// The delivery workers and housekeeping, stopped with the server.
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A handle to stop the server from elsewhere.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (by a signal or the handle).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        for task in self.background {
            task.abort();
        }
        result
    }
}

/// Opens the database and runs pending migrations.
pub async fn open_database(config: &Config) -> Result<Db> {
    let db = Db::connect(&config.database.url, config.database.pool_size)?;
    let applied = db.run(migrations::run_pending).await?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied database migrations");
    }
    Ok(db)
}

/// Builds the `Context` and the federation configuration around it.
pub async fn build_context(config: Config, db: Db) -> Result<FederationConfig<Context>> {
    let dev_mode = config.dev_mode();
    if dev_mode && !crate::config::is_localhost(config.host()) {
        tracing::warn!(
            domain = %config.instance.domain,
            "federation.dev_mode is on for a public domain: plain http and \
             loopback peers are allowed. Never run production like this."
        );
    }
    let urls = Urls::new(config.scheme(), &config.instance.domain)
        .map_err(|e| Error::new(ErrorKind::BadRequest, format!("instance.domain: {e}")))?;
    let instance_actor = service::instance::ensure_instance_actor(&db, &urls).await?;
    let client = apub::client::build(dev_mode, urls.base().as_str()).map_err(Error::internal)?;
    // Deliveries get their own connection pool, so a burst of them never
    // queues behind (or starves) fetches.
    let delivery_client =
        apub::client::build(dev_mode, urls.base().as_str()).map_err(Error::internal)?;
    let delivery = Arc::new(Delivery::new(
        delivery_client,
        config.delivery.workers as usize,
    ));
    let limits = Arc::new(crate::ratelimit::Limits::new(config.api.rate_limit));
    let streams = Arc::new(crate::streaming::Hub::new(&config.streaming));
    let media = crate::media::build_store(&config).map_err(|e| {
        Error::new(ErrorKind::BadRequest, format!("media store: {e:#}"))
            .with_kind(ErrorKind::Unavailable)
    })?;
    let push = Arc::new(crate::push::Push::load(&db).await?);
    let context = Context {
        push,
        streams,
        limits,
        media,
        db,
        config: Arc::new(config),
        urls,
        instance_actor: Arc::new(instance_actor),
        http: client.clone(),
        delivery,
    };
    FederationConfig::builder()
        .domain(context.urls.domain())
        .client(client)
        .debug(dev_mode)
        // Mastodon and Pleroma verify draft-cavage signatures without
        // (created)/(expires); Lemmy sets this for the same reason.
        .http_signature_compat(true)
        .request_timeout(apub::client::REQUEST_TIMEOUT)
        .signed_fetch_actor(&*context.instance_actor.clone())
        .url_verifier(Box::new(apub::policy::PolicyVerifier {
            db: context.db.clone(),
            mode: context.config.federation.policy,
        }))
        .app_data(context)
        .build()
        .await
        .map_err(|e| Error::internal(anyhow::anyhow!("federation config: {e}")))
}

/// Starts an instance: database, migrations, instance actor, HTTP listener
/// on `http.bind`.
pub async fn build(config: Config, options: ServerOptions) -> Result<RunningServer> {
    let bind = config.http.bind.clone();
    let listener = std::net::TcpListener::bind(&bind).map_err(|e| {
        Error::new(
            ErrorKind::Unavailable,
            format!("cannot listen on {bind}: {e}"),
        )
    })?;
    build_with_listener(config, listener, options).await
}

/// Like [`build`] on a listener bound beforehand: tests bind port 0 first,
/// because the instance's domain (and so every id) includes the port.
pub async fn build_with_listener(
    config: Config,
    listener: std::net::TcpListener,
    options: ServerOptions,
) -> Result<RunningServer> {
    let addr = listener.local_addr().map_err(Error::internal)?;
    let db = open_database(&config).await?;
    let federation = build_context(config, db).await?;
    let context = federation.to_request_data().app_data().clone();
    let app_federation = federation.clone();

    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(FederationMiddleware::new(app_federation.clone()))
            .wrap(middleware::from_fn(telemetry::trace_request))
            .app_data(actix_web::web::PayloadConfig::new(MAX_BODY_BYTES))
            .app_data(actix_web::web::JsonConfig::default().limit(MAX_BODY_BYTES))
            .configure(wellknown::configure)
            .configure(apub::http::configure)
            .configure(apub::objects_http::configure)
            .configure(web::configure)
            // Last: its scope matches every path (see `api::configure`).
            .configure(api::configure)
    })
    .shutdown_timeout(10);
    if let Some(workers) = options.workers {
        server = server.workers(workers);
    }
    if !options.handle_signals {
        server = server.disable_signals();
    }
    let server = server
        .listen(listener)
        .map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!("cannot listen on {addr}: {e}"),
            )
        })?
        .run();
    tracing::info!(%addr, domain = %context.urls.domain(), "listening");
    // Tests step the queue themselves and need no pruning.
    let mut background = if options.delivery_workers {
        vec![
            delivery::spawn_workers(context.clone()),
            crate::housekeeping::spawn(context.clone()),
            crate::push::spawn(context.clone()),
            crate::service::digests::spawn(context.clone()),
        ]
    } else {
        Vec::new()
    };
    // Streams are live in tests too: the dispatcher subscribes first, so
    // the PostgreSQL listener (which ends when nobody receives) sees it.
    background.push(api::streaming::dispatch::spawn(federation.clone()));
    if context.db.backend() == crate::config::Backend::Postgres {
        crate::streaming::listener::spawn(
            context.config.database.url.clone(),
            context.db.events().clone(),
        )
        .map_err(Error::internal)?;
    }
    let mut streaming_addr = None;
    if !context.config.streaming.bind.is_empty() {
        let listener = api::streaming::port::bind(&context.config.streaming.bind).await?;
        let bound = listener.local_addr().map_err(Error::internal)?;
        tracing::info!(addr = %bound, "streaming port listening");
        streaming_addr = Some(bound);
        background.push(api::streaming::port::spawn(listener, federation.clone()));
    }
    Ok(RunningServer {
        addr,
        context,
        federation,
        streaming_addr,
        server,
        background,
    })
}
