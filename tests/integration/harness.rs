//! The test harness: spawn Outloud instances in-process, each on its own
//! `*.localhost` domain and its own throwaway database, and drive them with
//! helpers named after what people and servers do.
//!
//! `both_backends!(scenario)` turns `async fn scenario(backend: Backend)`
//! into two tests, `scenario::sqlite` and `scenario::postgres`; the latter
//! prints a notice and returns when no PostgreSQL answers.

#![allow(dead_code)]

use outloud::{
    apub::client::LocalhostResolver,
    config::{Backend, Config},
    db::{actor::Actor, local_user::Role},
    service::accounts::{self, NewUser},
    startup::{self, ServerOptions},
    testing::TestDatabase,
    Context,
};
use std::{sync::Arc, time::Duration};

/// Declares a scenario as one test per backend.
macro_rules! both_backends {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario(outloud::config::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::harness::postgres_available(stringify!($scenario)) {
                    super::$scenario(outloud::config::Backend::Postgres).await
                }
            }
        }
    )*};
}
pub(crate) use both_backends;

/// Whether the test PostgreSQL answers; prints a notice when it does not.
pub fn postgres_available(label: &str) -> bool {
    TestDatabase::postgres(label).is_some()
}

/// A fresh database of the given backend.
pub fn database(backend: Backend, label: &str) -> TestDatabase {
    match backend {
        Backend::Sqlite => TestDatabase::sqlite(),
        Backend::Postgres => TestDatabase::postgres(label)
            .unwrap_or_else(|| panic!("PostgreSQL vanished during `{label}`")),
    }
}

/// An HTTP client like a remote server's: resolves `*.localhost` to
/// 127.0.0.1 and never follows redirects, so tests see them.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(LocalhostResolver))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A running instance.
pub struct TestInstance {
    /// `alpha.localhost:PORT`
    pub domain: String,
    pub context: Context,
    pub federation: activitypub_federation::config::FederationConfig<Context>,
    pub client: reqwest::Client,
    handle: actix_web::dev::ServerHandle,
    _database: TestDatabase,
}

impl TestInstance {
    /// Starts an instance named `name` (`alpha`, `beta`, …) on `backend`.
    pub async fn spawn(name: &str, backend: Backend) -> TestInstance {
        Self::spawn_with(name, backend, |_| {}).await
    }

    /// Like [`TestInstance::spawn`], adjusting the configuration first.
    pub async fn spawn_with(
        name: &str,
        backend: Backend,
        adjust: impl FnOnce(&mut Config),
    ) -> TestInstance {
        if std::env::var("TEST_LOG").is_ok() {
            outloud::telemetry::init(outloud::config::LogFormat::Pretty);
        }
        let database = database(backend, name);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let domain = format!("{name}.localhost:{port}");
        let mut config = Config::for_test(&domain, &database.url);
        adjust(&mut config);
        let server = startup::build_with_listener(
            config,
            listener,
            ServerOptions {
                workers: Some(1),
                handle_signals: false,
                // Deliveries are stepped with `drain_deliveries`.
                delivery_workers: false,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("instance {name} failed to start: {e:?}"));
        let context = server.context.clone();
        let federation = server.federation.clone();
        let handle = server.handle();
        tokio::spawn(server.run_until_stopped());
        TestInstance {
            domain,
            context,
            federation,
            client: http_client(),
            handle,
            _database: database,
        }
    }

    /// `http://alpha.localhost:PORT{path}`
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.domain, path)
    }

    /// The URL of a local person's actor.
    pub fn actor_url(&self, name: &str) -> String {
        self.url(&format!("/users/{name}"))
    }

    /// `name@alpha.localhost:PORT`
    pub fn handle_of(&self, name: &str) -> String {
        format!("{name}@{}", self.domain)
    }

    /// An admin creates an account (as `outloud admin create-user` does).
    pub async fn create_user(&self, name: &str) -> Actor {
        accounts::create_user(
            &self.context.db,
            &self.context.urls,
            NewUser {
                name,
                password: "password for tests",
                role: Role::User,
            },
        )
        .await
        .unwrap()
    }

    /// A plain GET of a path on this instance.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// A GET with an Accept header.
    pub async fn get_accepting(&self, path: &str, accept: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("Accept", accept)
            .send()
            .await
            .unwrap()
    }

    /// What a remote server sees when it dereferences a URL on this instance.
    pub async fn get_ap(&self, path: &str) -> reqwest::Response {
        self.get_accepting(path, "application/activity+json").await
    }

    /// What a browser sees.
    pub async fn get_html(&self, path: &str) -> reqwest::Response {
        self.get_accepting(path, "text/html,application/xhtml+xml,*/*;q=0.8")
            .await
    }

    /// A WebFinger lookup as a remote server makes it.
    pub async fn webfinger(&self, resource: &str) -> reqwest::Response {
        self.client
            .get(self.url("/.well-known/webfinger"))
            .query(&[("resource", resource)])
            .send()
            .await
            .unwrap()
    }

    /// Sends every due delivery, round after round, until nothing is due;
    /// returns the summed report. Retries scheduled later are not waited for.
    pub async fn drain_deliveries(&self) -> outloud::delivery::Report {
        let mut total = outloud::delivery::Report::default();
        for _ in 0..1000 {
            let round = outloud::delivery::deliver_due(&self.context).await.unwrap();
            if round.is_idle() {
                return total;
            }
            total.claimed += round.claimed;
            total.delivered += round.delivered;
            total.retrying += round.retrying;
            total.failed += round.failed;
        }
        panic!("deliveries did not drain in 1000 rounds");
    }

    /// The federation request data of this instance, for service calls that
    /// reach other servers.
    pub fn data(&self) -> outloud::apub::Data<Context> {
        self.federation.to_request_data()
    }
}

impl Drop for TestInstance {
    fn drop(&mut self) {
        // Sends the stop command at once; the future only waits for it.
        drop(self.handle.stop(false));
    }
}

/// Retries `check` until it returns `Some`, for up to `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("condition not met within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
