//! The test harness: spawn Outloud instances in-process, each on its own
//! `*.localhost` domain and its own throwaway database, and drive them with
//! helpers named after what people and servers do.
//!
//! `both_backends!(scenario)` turns `async fn scenario(backend: Backend)`
//! into two tests, `scenario::sqlite` and `scenario::postgres`; the latter
//! prints a notice and returns when no PostgreSQL answers.

#![allow(dead_code)]

use activitypub_federation::config::FederationConfig;
use outloud::{
    apub::client::LocalhostResolver,
    config::{Backend, Config},
    db::{actor::Actor, local_user::Role},
    db::{follow::FollowState, post::Post},
    service::accounts::{self, NewUser},
    service::posts::NewPost,
    startup::{self, ServerOptions},
    testing::TestDatabase,
    Context,
};
use serde_json::Value;
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

    /// Local person `name` chooses to be discoverable (the directory,
    /// suggestions, "people who know"): accounts start undiscoverable.
    pub async fn opt_in(&self, name: &str) {
        let person = self.local(name).await;
        outloud::service::relations::update_profile(
            &self.data(),
            &person,
            outloud::service::relations::ProfileEdit {
                discoverable: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
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

    /// A local actor by name.
    pub async fn local(&self, name: &str) -> Actor {
        outloud::service::accounts::local_actor(&self.context.db, name)
            .await
            .unwrap()
    }

    /// Resolves a handle or URL as this instance would (WebFinger, fetch).
    pub async fn resolve(&self, query: &str) -> Actor {
        outloud::service::resolve::actor(&self.data(), query)
            .await
            .unwrap_or_else(|e| panic!("{} could not resolve {query}: {e:?}", self.domain))
    }

    /// Local person `name` follows `target` (a handle or URL).
    pub async fn follow(&self, name: &str, target: &str) {
        let follower = self.local(name).await;
        let target = self.resolve(target).await;
        outloud::service::follows::follow(&self.data(), &follower, &target)
            .await
            .unwrap();
    }

    /// Local person `name` stops following `target`.
    pub async fn unfollow(&self, name: &str, target: &str) {
        let follower = self.local(name).await;
        let target = self.resolve(target).await;
        outloud::service::follows::unfollow(&self.data(), &follower, &target)
            .await
            .unwrap();
    }

    /// The follow state between two actors as this instance records it.
    pub async fn follow_state(&self, follower: &str, followee: &str) -> Option<FollowState> {
        let follower = self.resolve(follower).await;
        let followee = self.resolve(followee).await;
        outloud::service::follows::state(&self.data(), &follower, &followee)
            .await
            .unwrap()
    }

    /// Ids of every actor following (or asking to follow) local `name`,
    /// straight from the database.
    pub async fn follower_ids(&self, name: &str) -> Vec<String> {
        let actor = self.local(name).await;
        self.context
            .db
            .run(move |conn| {
                let mut all = Vec::new();
                for state in [FollowState::Accepted, FollowState::Pending] {
                    all.extend(
                        outloud::db::follow::Follow::list_followers(
                            conn, &actor.id, state, 0, 1000,
                        )?
                        .into_iter()
                        .map(|a| a.ap_id.to_string()),
                    );
                }
                Ok(all)
            })
            .await
            .unwrap()
    }

    /// GETs `url` with a request signed by `signer` (a local actor of this
    /// instance), as a server fetching on that actor's behalf does.
    pub async fn signed_get(&self, signer: &Actor, url: &str) -> reqwest::Response {
        let data = self.signing_data(signer).await;
        let client = reqwest_middleware::ClientWithMiddleware::from(http_client());
        let builder = client
            .get(url)
            .header("Accept", "application/activity+json");
        let request = data
            .sign_request(builder, actix_web::web::Bytes::new())
            .await
            .unwrap();
        client.execute(request).await.unwrap()
    }

    async fn signing_data(&self, signer: &Actor) -> outloud::apub::Data<Context> {
        FederationConfig::builder()
            .domain(self.domain.clone())
            .app_data(self.context.clone())
            .signed_fetch_actor(signer)
            .http_signature_compat(true)
            .debug(true)
            .build()
            .await
            .unwrap()
            .to_request_data()
    }

    /// Local person `name` publishes a narration.
    pub async fn publish(&self, name: &str, new: NewPost) -> Post {
        let author = self.local(name).await;
        outloud::service::posts::publish(&self.data(), &author, new)
            .await
            .unwrap()
    }

    /// Local person `name` answers the post `parent` (an ActivityPub id).
    pub async fn reply(&self, name: &str, parent: &url::Url, text: &str) -> Post {
        self.publish(
            name,
            NewPost {
                in_reply_to: Some(parent.clone()),
                ..NewPost::note(text)
            },
        )
        .await
    }

    /// A post as stored on this instance, by its ActivityPub id.
    pub async fn stored_post(&self, ap_id: &str) -> Option<Post> {
        let url = url::Url::parse(ap_id).unwrap();
        self.context
            .db
            .run(move |conn| Ok(Post::by_ap_id(conn, &url)?))
            .await
            .unwrap()
    }

    /// POSTs `activity` to `inbox_url`, signed with `signer`'s key (a local
    /// actor of this instance), as a real server would.
    pub async fn signed_post(
        &self,
        signer: &Actor,
        inbox_url: &str,
        activity: &Value,
    ) -> reqwest::Response {
        let data = self.signing_data(signer).await;
        let client = reqwest_middleware::ClientWithMiddleware::from(http_client());
        let body = serde_json::to_vec(activity).unwrap();
        let builder = client
            .post(inbox_url)
            .header("Content-Type", "application/activity+json");
        let request = data
            .sign_request(builder, actix_web::web::Bytes::from(body))
            .await
            .unwrap();
        client.execute(request).await.unwrap()
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

/// Delivers everything the instances have queued, and everything that
/// causes (an Accept answering a Follow, say), until all are quiet.
pub async fn settle(instances: &[&TestInstance]) {
    for _ in 0..50 {
        let mut busy = false;
        for instance in instances {
            let report = instance.drain_deliveries().await;
            if report.claimed > 0 {
                busy = true;
            }
            if report.failed > 0 {
                eprintln!(
                    "note: {} gave up on {} deliveries (refused by the receiver)",
                    instance.domain, report.failed
                );
            }
            // A delivery that failed (a loaded machine can time out) is
            // retried now rather than in a minute, so tests stay
            // deterministic; the retry rules have their own tests.
            if report.retrying > 0 {
                eprintln!(
                    "note: {} retries {} deliveries at once",
                    instance.domain, report.retrying
                );
                let later = outloud::db::now() + chrono::TimeDelta::hours(2);
                outloud::delivery::deliver_due_at(&instance.context, later)
                    .await
                    .unwrap();
                busy = true;
            }
        }
        if !busy {
            return;
        }
    }
    panic!("deliveries did not settle");
}

/// Settles the instances, then checks; repeats until `check` gives `Some`
/// (for what a receiver does after answering, e.g. a fetch it makes).
pub async fn settled<T, F, Fut>(instances: &[&TestInstance], mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    // Generous: the deadline only matters when the test fails.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        settle(instances).await;
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("condition not met after settling");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
