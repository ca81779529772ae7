//! Storage-level tests of the queue, on SQLite and PostgreSQL.

use super::*;
use crate::{
    db::{
        actor::{Actor, ActorKind},
        delivery::{self as rows, OutboundActivity},
        migrations, Db, DbConn, DbUrl,
    },
    error::Error,
    testing::for_each_backend,
};
use diesel::Connection;

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn inbox(personal: &str, shared: Option<&str>) -> Inbox {
    Inbox::new(url(personal), shared.map(url))
}

/// A migrated database with one local actor (with a key) on `alpha.localhost:1`.
fn setup(db: &Db) -> (diesel::r2d2::PooledConnection<crate::db::Manager>, Actor) {
    let mut conn = db.get().unwrap();
    migrations::run_pending(&mut conn).unwrap();
    let keys = crate::crypto::generate_keypair().unwrap();
    let ap_id = url("http://alpha.localhost:1/users/alice");
    let actor = Actor {
        id: db::new_id(),
        ap_id: DbUrl(ap_id.clone()),
        kind: ActorKind::Person.as_str().into(),
        username: "alice".into(),
        domain: "alpha.localhost:1".into(),
        local: true,
        display_name: None,
        summary: None,
        summary_source: None,
        url: None,
        inbox_url: DbUrl(url("http://alpha.localhost:1/users/alice/inbox")),
        shared_inbox_url: Some("http://alpha.localhost:1/inbox".into()),
        outbox_url: None,
        followers_url: None,
        following_url: None,
        public_key_pem: keys.public_key_pem,
        private_key_pem: Some(keys.private_key_pem),
        manually_approves_followers: false,
        discoverable: true,
        published: db::now(),
        updated: None,
        last_fetched_at: None,
        hide_network: false,
        icon_url: None,
        fields_json: None,
        image_url: None,
    };
    Actor::insert(&mut conn, &actor).unwrap();
    (conn, actor)
}

fn activity(n: u32) -> (Url, serde_json::Value) {
    let id = url(&format!("http://alpha.localhost:1/activities/{n}"));
    let json = serde_json::json!({ "id": id.as_str(), "type": "Create" });
    (id, json)
}

#[test]
fn targets_use_shared_inboxes_once_per_host() {
    let got = plan_targets(
        vec![
            inbox(
                "https://b.example/users/1/inbox",
                Some("https://b.example/inbox"),
            ),
            inbox(
                "https://b.example/users/2/inbox",
                Some("https://b.example/inbox"),
            ),
            // Same host, no shared inbox listed: the host offers one anyway.
            inbox("https://b.example/users/3/inbox", None),
            inbox("https://c.example/u/x/inbox", None),
            inbox("https://c.example/u/y/inbox", None),
            inbox("https://c.example/u/y/inbox", None),
            // Ports make distinct hosts.
            inbox(
                "http://d.localhost:81/i",
                Some("http://d.localhost:81/shared"),
            ),
            inbox("http://d.localhost:82/i", None),
            // Local recipients and junk are skipped.
            inbox(
                "http://alpha.localhost:1/users/bob/inbox",
                Some("http://alpha.localhost:1/inbox"),
            ),
            inbox("mailto:x@y.example", None),
        ],
        "alpha.localhost:1",
    );
    let got: Vec<&str> = got.iter().map(Url::as_str).collect();
    assert_eq!(
        got,
        vec![
            "http://d.localhost:81/shared",
            "http://d.localhost:82/i",
            "https://b.example/inbox",
            "https://c.example/u/x/inbox",
            "https://c.example/u/y/inbox",
        ]
    );
}

#[test]
fn enqueue_stores_once_and_adds_only_new_targets() {
    for_each_backend("enqueue_stores_once", |db| {
        let (mut conn, alice) = setup(db);
        let (id, json) = activity(1);
        let first = enqueue(
            &mut conn,
            &alice.id,
            &id,
            &json,
            vec![
                inbox(
                    "http://b.localhost:2/u/1/inbox",
                    Some("http://b.localhost:2/inbox"),
                ),
                inbox(
                    "http://b.localhost:2/u/2/inbox",
                    Some("http://b.localhost:2/inbox"),
                ),
                inbox("http://c.localhost:3/u/1/inbox", None),
            ],
        )
        .unwrap();
        assert_eq!(first.queued, 2);
        let again = enqueue(
            &mut conn,
            &alice.id,
            &id,
            &json,
            vec![
                inbox("http://c.localhost:3/u/1/inbox", None),
                inbox("http://e.localhost:4/u/1/inbox", None),
            ],
        )
        .unwrap();
        assert_eq!(again.queued, 1);
        assert_eq!(again.activity_row_id, first.activity_row_id);
        let all = Row::of_activity(&mut conn, id.as_str()).unwrap();
        let hosts: Vec<&str> = all.iter().map(|d| d.host.as_str()).collect();
        assert_eq!(hosts, ["b.localhost:2", "c.localhost:3", "e.localhost:4"]);
        assert!(all.iter().all(|d| d.state() == DeliveryState::Queued));

        // Inside a transaction that rolls back, nothing is queued.
        let (id2, json2) = activity(2);
        let result: Result<()> = conn.transaction(|conn| {
            enqueue(
                conn,
                &alice.id,
                &id2,
                &json2,
                vec![inbox("http://b.localhost:2/x", None)],
            )?;
            Err(Error::conflict("the change failed"))
        });
        assert!(result.is_err());
        assert!(OutboundActivity::by_ap_id(&mut conn, id2.as_str())
            .unwrap()
            .is_none());

        // Only local actors with keys can send.
        assert!(enqueue(&mut conn, "nobody", &id2, &json2, vec![]).is_err());
    });
}

fn queue_many(conn: &mut DbConn, alice: &Actor, n: usize, hosts: usize) -> Url {
    let (id, json) = activity(7);
    let inboxes = (0..n)
        .map(|i| {
            inbox(
                &format!("http://h{}.localhost:9/u/{i}/inbox", i % hosts),
                None,
            )
        })
        .collect();
    let queued = enqueue(conn, &alice.id, &id, &json, inboxes)
        .unwrap()
        .queued;
    assert_eq!(queued, n);
    id
}

#[test]
fn claims_are_leases_limited_per_host() {
    for_each_backend("claims_are_leases", |db| {
        let (mut conn, alice) = setup(db);
        queue_many(&mut conn, &alice, 10, 2);
        let now = db::now();
        let hosts = rows::due_hosts(&mut conn, now, 100).unwrap();
        assert_eq!(hosts, vec!["h0.localhost:9", "h1.localhost:9"]);
        let n = rows::claim_host(&mut conn, "h0.localhost:9", now, now + LEASE, "t1", 4).unwrap();
        assert_eq!(n, 4);
        let claimed = rows::claimed(&mut conn, "t1").unwrap();
        assert_eq!(claimed.len(), 4);
        assert!(claimed.iter().all(|c| c.host == "h0.localhost:9"));
        assert_eq!(claimed[0].sender_ap_id, alice.ap_id.to_string());
        assert!(claimed[0].private_key_pem.is_some());
        // The leased rows are not claimable again until the lease ends.
        let n = rows::claim_host(&mut conn, "h0.localhost:9", now, now + LEASE, "t2", 10).unwrap();
        assert_eq!(n, 1);
        let n = rows::claim_host(&mut conn, "h0.localhost:9", now, now + LEASE, "t3", 10).unwrap();
        assert_eq!(n, 0);
        let later = now + LEASE + TimeDelta::seconds(1);
        let n =
            rows::claim_host(&mut conn, "h0.localhost:9", later, later + LEASE, "t4", 10).unwrap();
        assert_eq!(n, 5);
        // Rows not yet due are left alone.
        let first = &claimed[0];
        Row::mark_retry(
            &mut conn,
            &first.id,
            now + TimeDelta::minutes(5),
            Some(500),
            "x",
            now,
        )
        .unwrap();
        let n =
            rows::claim_host(&mut conn, "h0.localhost:9", later, later + LEASE, "t5", 10).unwrap();
        assert_eq!(n, 0);
        let row = Row::by_id(&mut conn, &first.id).unwrap().unwrap();
        assert_eq!(row.attempts, 1);
        assert_eq!(row.claim_token, None);
        assert_eq!(row.last_status, Some(500));
    });
}

#[test]
fn unreachable_hosts_are_parked_and_revived() {
    for_each_backend("unreachable_hosts", |db| {
        let (mut conn, alice) = setup(db);
        queue_many(&mut conn, &alice, 4, 2);
        let host = "h0.localhost:9";
        let start = db::now();
        let window = backoff::UNREACHABLE_AFTER;
        // Failing, but not for long enough.
        assert!(!DeliveryHost::record_failure(&mut conn, host, start, window).unwrap());
        let day6 = start + TimeDelta::days(6);
        assert!(!DeliveryHost::record_failure(&mut conn, host, day6, window).unwrap());
        assert_eq!(rows::due_hosts(&mut conn, day6, 10).unwrap().len(), 2);
        // A success in between would have reset the run; here it goes on.
        let day8 = start + TimeDelta::days(8);
        assert!(DeliveryHost::record_failure(&mut conn, host, day8, window).unwrap());
        assert!(!DeliveryHost::record_failure(&mut conn, host, day8, window).unwrap());
        assert_eq!(
            rows::due_hosts(&mut conn, day8, 10).unwrap(),
            vec!["h1.localhost:9"]
        );
        assert_eq!(Row::queue_depth(&mut conn).unwrap(), (2, 2));
        assert_eq!(DeliveryHost::unreachable(&mut conn).unwrap().len(), 1);

        // A healthy host costs nothing to report alive.
        assert!(!host_seen_alive(&mut conn, "h1.localhost:9").unwrap());
        assert!(!host_seen_alive(&mut conn, "never-seen.localhost").unwrap());
        // The inbox saw it alive: parked deliveries become due now.
        assert!(host_seen_alive(&mut conn, host).unwrap());
        assert!(!host_seen_alive(&mut conn, host).unwrap());
        let hosts = rows::due_hosts(&mut conn, db::now(), 10).unwrap();
        assert_eq!(hosts.len(), 2);
        assert!(DeliveryHost::unreachable(&mut conn).unwrap().is_empty());
        let h = DeliveryHost::get(&mut conn, host).unwrap().unwrap();
        assert_eq!(h.failing_since, None);

        // A success resets a failing run, so the window starts again.
        DeliveryHost::record_failure(&mut conn, host, start, window).unwrap();
        DeliveryHost::record_success(&mut conn, host, start + TimeDelta::days(1)).unwrap();
        assert!(!DeliveryHost::record_failure(&mut conn, host, day8, window).unwrap());
    });
}

/// Two claimers racing on one database never get the same row: on
/// PostgreSQL thanks to `FOR UPDATE SKIP LOCKED`, on SQLite because the
/// claim is one write statement.
#[test]
fn concurrent_claims_are_disjoint() {
    for_each_backend("concurrent_claims", |db| {
        let (mut conn, alice) = setup(db);
        queue_many(&mut conn, &alice, 200, 4);
        drop(conn);
        let now = db::now();
        let claimers: Vec<_> = (0..4)
            .map(|w| {
                let db = db.clone();
                std::thread::spawn(move || {
                    let mut conn = db.get().unwrap();
                    let mut mine = Vec::new();
                    loop {
                        let token = format!("w{w}-{}", db::new_id());
                        let hosts = rows::due_hosts(&mut conn, now, 10).unwrap();
                        let mut got = 0;
                        for host in hosts {
                            got += rows::claim_host(&mut conn, &host, now, now + LEASE, &token, 3)
                                .unwrap();
                        }
                        if got == 0 {
                            break;
                        }
                        let rows = rows::claimed(&mut conn, &token).unwrap();
                        assert_eq!(rows.len(), got);
                        mine.extend(rows.into_iter().map(|r| r.id));
                    }
                    mine
                })
            })
            .collect();
        let mut all: Vec<String> = Vec::new();
        for c in claimers {
            all.extend(c.join().unwrap());
        }
        let total = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), total, "a row was claimed twice");
        assert_eq!(total, 200);
    });
}

/// One claim takes the oldest due rows, at most `room(host)` per host, and
/// looks past a big host's backlog so other hosts are not starved.
#[test]
fn batch_claims_respect_per_host_room_and_look_past_backlogs() {
    for_each_backend("batch_claims", |db| {
        let (mut conn, alice) = setup(db);
        // 100 rows for h0, queued first; then 2 rows each for h1..h3.
        let (id, json) = activity(8);
        let big = (0..100)
            .map(|i| inbox(&format!("http://h0.localhost:9/u/{i}/inbox"), None))
            .collect();
        enqueue(&mut conn, &alice.id, &id, &json, big).unwrap();
        let (id, json) = activity(9);
        let small = (1..4)
            .flat_map(|h| {
                (0..2).map(move |i| inbox(&format!("http://h{h}.localhost:9/u/{i}/inbox"), None))
            })
            .collect();
        enqueue(&mut conn, &alice.id, &id, &json, small).unwrap();
        let now = db::now() + TimeDelta::seconds(1);
        let room = |_: &str| PER_HOST_CONCURRENCY;
        let n = rows::claim_due(&mut conn, now, now + LEASE, "b1", 16, &room, &[]).unwrap();
        // 4 of h0 from the window, then the fallback finds h1..h3's 6 rows.
        assert_eq!(n, 10);
        let claimed = rows::claimed(&mut conn, "b1").unwrap();
        let mut per_host: std::collections::BTreeMap<String, usize> = Default::default();
        for row in &claimed {
            *per_host.entry(row.host.clone()).or_default() += 1;
        }
        assert_eq!(
            per_host.into_iter().collect::<Vec<_>>(),
            vec![
                ("h0.localhost:9".to_string(), 4),
                ("h1.localhost:9".to_string(), 2),
                ("h2.localhost:9".to_string(), 2),
                ("h3.localhost:9".to_string(), 2),
            ]
        );
        // A host with no room gets nothing; leased rows are not taken again.
        let no_h0 = |host: &str| {
            if host == "h0.localhost:9" {
                0
            } else {
                PER_HOST_CONCURRENCY
            }
        };
        assert_eq!(
            rows::claim_due(&mut conn, now, now + LEASE, "b2", 16, &no_h0, &[]).unwrap(),
            0
        );
        assert_eq!(
            rows::claim_due(&mut conn, now, now + LEASE, "b3", 3, &room, &[]).unwrap(),
            3
        );
        assert!(rows::claimed(&mut conn, "b3")
            .unwrap()
            .iter()
            .all(|r| r.host == "h0.localhost:9"));
    });
}

/// Batch claims racing on one database never get the same row either.
#[test]
fn concurrent_batch_claims_are_disjoint() {
    for_each_backend("concurrent_batch_claims", |db| {
        let (mut conn, alice) = setup(db);
        queue_many(&mut conn, &alice, 300, 30);
        drop(conn);
        let now = db::now() + TimeDelta::seconds(1);
        let claimers: Vec<_> = (0..4)
            .map(|w| {
                let db = db.clone();
                std::thread::spawn(move || {
                    let mut conn = db.get().unwrap();
                    let mut mine = Vec::new();
                    loop {
                        let token = format!("w{w}-{}", db::new_id());
                        let room = |_: &str| 2;
                        let got =
                            rows::claim_due(&mut conn, now, now + LEASE, &token, 8, &room, &[])
                                .unwrap();
                        if got == 0 {
                            break;
                        }
                        let rows = rows::claimed(&mut conn, &token).unwrap();
                        assert_eq!(rows.len(), got);
                        mine.extend(rows.into_iter().map(|r| r.id));
                    }
                    mine
                })
            })
            .collect();
        let mut all: Vec<String> = Vec::new();
        for c in claimers {
            all.extend(c.join().unwrap());
        }
        let total = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), total, "a row was claimed twice");
        assert_eq!(total, 300);
    });
}
