//! Concurrent seats as leases, on SQLite and PostgreSQL: one seat per member and
//! client, lapsed and idle leases reclaimed by the reaper and handed to the
//! queue, logout (with and without linger), force-release, and several reapers
//! reclaiming each lease exactly once.

mod common;

use chrono::{DateTime, Duration, Utc};
use leasehold_core::access::{Actor, Visibility};
use leasehold_core::ids::*;
use leasehold_core::licence::{Licence, Organisation, Owner, Product};
use leasehold_core::ports::*;
use leasehold_core::seat::{Checkout, CheckoutOutcome, LeaseSettings};
use leasehold_core::values::*;
use leasehold_store::testing::TestDatabase;
use leasehold_store::StoreOptions;
use std::sync::Arc;
use uuid::Uuid;

fn at(now: DateTime<Utc>) -> WriteContext {
    WriteContext {
        actor: Actor::SYSTEM,
        request_id: None,
        now,
    }
}

struct Fixture {
    store: Arc<dyn Store>,
    org: OrganisationId,
    product: ProductId,
    users: Vec<UserId>,
    t0: DateTime<Utc>,
}

async fn fixture(db: &TestDatabase, seats: u32, members: usize) -> Fixture {
    let store = leasehold_store::open(&db.url, &StoreOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    fixture_on(store, seats, members).await
}

async fn fixture_on(store: Arc<dyn Store>, seats: u32, members: usize) -> Fixture {
    let t0 = Utc::now();
    let org = Organisation {
        id: OrganisationId::from_uuid(Uuid::now_v7()),
        name: "Clinic".into(),
        account_manager_id: None,
        created_at: t0,
    };
    let product = Product {
        id: ProductId::from_uuid(Uuid::now_v7()),
        code: "VIEW".into(),
        name: "Viewer".into(),
        seat_kind: SeatKind::Concurrent,
        currency: "EUR".into(),
        prices: [(Plan::Yearly, 100)].into_iter().collect(),
        default_lease_seconds: 900,
        created_at: t0,
    };
    let licence = Licence::new(
        LicenceId::from_uuid(Uuid::now_v7()),
        &product,
        Plan::Yearly,
        "floating".into(),
        String::new(),
        seats,
        Owner::Organisation {
            organisation_id: org.id,
            user_id: None,
        },
        CouponCode::from_random([3; 8]),
        LicenceSource::AccountManager,
        None,
        t0,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut changes = vec![
        Change::InsertOrganisation(org.clone()),
        Change::InsertProduct(product.clone()),
        Change::InsertLicence(licence),
    ];
    let mut users = Vec::new();
    for i in 0..members {
        let user = User {
            id: UserId::from_uuid(Uuid::now_v7()),
            email: format!("member{i}@clinic.test"),
            name: format!("Member {i}"),
            role: Role::Member,
            organisation_id: Some(org.id),
            created_at: t0,
        };
        users.push(user.id);
        changes.push(Change::InsertUser {
            user,
            password_hash: "x".into(),
        });
    }
    store
        .commit(
            &at(t0),
            ChangeSet {
                changes,
                ..ChangeSet::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Fixture {
        store,
        org: org.id,
        product: product.id,
        users,
        t0,
    }
}

impl Fixture {
    async fn checkout(&self, user: usize, client: &str, now: DateTime<Utc>) -> CheckoutOutcome {
        let checkout = Checkout {
            organisation_id: self.org,
            product_id: self.product,
            user_id: self.users[user],
            client_id: client.into(),
        };
        self.store
            .checkout(&at(now), &checkout)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn pool(&self) -> PoolDetails {
        self.store
            .pools(Visibility::Organisation(self.org), &PoolFilter::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .items
            .remove(0)
    }

    async fn holders(&self) -> Vec<UserId> {
        let filter = LeaseFilter {
            page: PageRequest { page: 1, per_page: 100 },
            ..LeaseFilter::default()
        };
        self.store
            .leases(Visibility::Organisation(self.org), &filter)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .items
            .iter()
            .map(|d| d.lease.user_id)
            .collect()
    }

    async fn release_reasons(&self) -> Vec<String> {
        let pool = self.pool().await.pool.id;
        self.store
            .usage_events(pool)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e.kind == "seat_released")
            .filter_map(|e| e.reason)
            .collect()
    }
}

fn lease_of(outcome: &CheckoutOutcome) -> LeaseId {
    match outcome {
        CheckoutOutcome::Granted { lease, .. } => lease.id,
        other => panic!("not granted: {other:?}"),
    }
}

async fn one_seat_per_member_and_client(db: TestDatabase) {
    let f = fixture(&db, 2, 3).await;
    let first = f.checkout(0, "browser", f.t0).await;
    let again = f.checkout(0, "browser", f.t0 + Duration::seconds(10)).await;
    assert!(
        matches!(again, CheckoutOutcome::Granted { new: false, .. }),
        "{again:?}"
    );
    assert_eq!(
        lease_of(&first),
        lease_of(&again),
        "the same member and client get the same seat"
    );
    assert!(
        matches!(
            f.checkout(0, "desktop", f.t0).await,
            CheckoutOutcome::Granted { new: true, .. }
        ),
        "another client is another seat"
    );
    assert!(matches!(
        f.checkout(1, "browser", f.t0).await,
        CheckoutOutcome::Queued { position: 1, .. }
    ));
    assert!(
        matches!(
            f.checkout(1, "browser", f.t0).await,
            CheckoutOutcome::Queued { position: 1, .. }
        ),
        "queued once"
    );
    let pool = f.pool().await;
    assert_eq!((pool.pool.held, pool.pool.capacity), (2, 2));
}

async fn a_lapsed_lease_is_reaped_and_handed_to_the_queue(db: TestDatabase) {
    let f = fixture(&db, 1, 2).await;
    let lease = lease_of(&f.checkout(0, "browser", f.t0).await);
    assert!(matches!(
        f.checkout(1, "browser", f.t0).await,
        CheckoutOutcome::Queued { .. }
    ));
    let settings = LeaseSettings::DEFAULT;
    // A heartbeat inside the lease renews it, but only the holder's (or its
    // organisation's integration's): not another member's, not another organisation's.
    let beat = f.t0 + Duration::seconds(settings.lease_seconds / 2);
    let elsewhere = OrganisationId::from_uuid(Uuid::now_v7());
    for (org, user) in [(f.org, Some(f.users[1])), (elsewhere, None)] {
        let renewed = f.store.renew_lease(&at(beat), org, lease, user, false).await;
        assert!(renewed.unwrap_or_else(|e| panic!("{e}")).is_none());
    }
    let renewed = f
        .store
        .renew_lease(&at(beat), f.org, lease, Some(f.users[0]), false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let micros = |t: DateTime<Utc>| t.timestamp_micros();
    assert_eq!(
        renewed.map(|(l, _)| micros(l.expires_at)),
        Some(micros(settings.expires_at(beat)))
    );
    // Not yet due: nothing reaped.
    assert_eq!(
        f.store
            .reap_leases(&at(settings.expires_at(beat) - Duration::seconds(1)), 100)
            .await
            .unwrap_or(9),
        0
    );
    // Due: reclaimed once, and the waiting member gets the seat in the same step.
    let due = settings.expires_at(beat);
    assert_eq!(f.store.reap_leases(&at(due), 100).await.unwrap_or(0), 1);
    assert_eq!(f.holders().await, [f.users[1]]);
    assert_eq!(f.release_reasons().await, ["lapsed"]);
    assert!(
        f.store
            .renew_lease(&at(due), f.org, lease, None, false)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none(),
        "a reaped lease stays dead"
    );
    assert!(
        matches!(
            f.checkout(1, "browser", due).await,
            CheckoutOutcome::Granted { new: false, .. }
        ),
        "the next call finds the granted seat"
    );
}

async fn logout_frees_at_once_or_lingers_for_the_same_client(db: TestDatabase) {
    let f = fixture(&db, 1, 2).await;
    let org = Visibility::Organisation(f.org);
    let lease = lease_of(&f.checkout(0, "browser", f.t0).await);
    f.store
        .end_lease(&at(f.t0), org, lease, ReleaseReason::Logout)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.pool().await.pool.held, 0, "logout frees the seat at once");
    // With a linger of 60 s the seat waits for the same client.
    let pool = f.pool().await.pool.id;
    let linger = LeaseSettings {
        linger_seconds: 60,
        ..LeaseSettings::DEFAULT
    };
    f.store
        .set_lease_settings(&at(f.t0), org, pool, linger)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let lease = lease_of(&f.checkout(0, "browser", f.t0).await);
    f.store
        .end_lease(&at(f.t0), org, lease, ReleaseReason::Logout)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.pool().await.pool.held, 1, "lingering");
    assert!(matches!(
        f.checkout(1, "browser", f.t0).await,
        CheckoutOutcome::Queued { .. }
    ));
    let back = f.checkout(0, "browser", f.t0 + Duration::seconds(30)).await;
    assert_eq!(lease_of(&back), lease, "the same client comes back to its seat");
    f.store
        .end_lease(&at(f.t0 + Duration::seconds(40)), org, lease, ReleaseReason::Logout)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        f.store
            .reap_leases(&at(f.t0 + Duration::seconds(100)), 10)
            .await
            .unwrap_or(0),
        1
    );
    assert_eq!(f.holders().await, [f.users[1]], "after the linger, the queue gets it");
    assert_eq!(f.release_reasons().await, ["logout", "logout"]);
}

async fn admins_force_release_and_idle_leases_are_reclaimed(db: TestDatabase) {
    let f = fixture(&db, 2, 2).await;
    let org = Visibility::Organisation(f.org);
    let pool = f.pool().await.pool.id;
    let idle = LeaseSettings {
        idle_seconds: Some(600),
        ..LeaseSettings::DEFAULT
    };
    f.store
        .set_lease_settings(&at(f.t0), org, pool, idle)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let forced = lease_of(&f.checkout(0, "kiosk", f.t0).await);
    let idler = lease_of(&f.checkout(1, "browser", f.t0).await);
    f.store
        .end_lease(&at(f.t0), org, forced, ReleaseReason::Forced)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let elsewhere = Visibility::Organisation(OrganisationId::from_uuid(Uuid::now_v7()));
    assert!(
        f.store
            .end_lease(&at(f.t0), elsewhere, idler, ReleaseReason::Forced)
            .await
            .is_err(),
        "another organisation cannot"
    );
    // Heartbeats without activity keep the lease alive, but not past the idle timeout.
    let beat = f.t0 + Duration::seconds(400);
    let renewed = f.store.renew_lease(&at(beat), f.org, idler, None, false).await;
    let renewed = renewed.unwrap_or_default().map(|(lease, _)| lease);
    let micros = |t: Option<DateTime<Utc>>| t.map(|t| t.timestamp_micros());
    assert_eq!(
        renewed.as_ref().map(|l| micros(l.idle_expires_at)),
        Some(micros(idle.idle_expires_at(f.t0)))
    );
    assert_eq!(
        renewed.map(|l| micros(Some(l.last_heartbeat_at))),
        Some(micros(Some(beat)))
    );
    // One that reports activity moves its idle deadline on, and outlives the idler.
    let active = lease_of(&f.checkout(0, "tablet", f.t0).await);
    let renewed = f.store.renew_lease(&at(beat), f.org, active, None, true).await;
    let renewed = renewed.unwrap_or_default().map(|(lease, _)| lease);
    assert_eq!(
        renewed.map(|l| micros(l.idle_expires_at)),
        Some(micros(idle.idle_expires_at(beat)))
    );
    assert_eq!(
        f.store
            .reap_leases(&at(f.t0 + Duration::seconds(601)), 10)
            .await
            .unwrap_or(0),
        1
    );
    assert_eq!(f.release_reasons().await, ["forced", "idle"]);
    assert_eq!(f.holders().await, [f.users[0]], "the active one holds on");
}

async fn reapers_in_two_processes_reclaim_each_of_60_leases_once(db: TestDatabase) {
    const MEMBERS: usize = 60;
    let f = fixture(&db, MEMBERS as u32, MEMBERS).await;
    for i in 0..MEMBERS {
        lease_of(&f.checkout(i, "browser", f.t0).await);
    }
    // A second "process": its own connection pool on the same database.
    let other = leasehold_store::open(&db.url, &StoreOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let due = LeaseSettings::DEFAULT.expires_at(f.t0) + Duration::seconds(1);
    let reapers: Vec<_> = (0..6)
        .map(|i| {
            let store = if i % 2 == 0 { f.store.clone() } else { other.clone() };
            tokio::spawn(async move {
                let mut total = 0;
                loop {
                    let reclaimed = store.reap_leases(&at(due), 7).await.unwrap_or_else(|e| panic!("{e}"));
                    if reclaimed == 0 {
                        return total;
                    }
                    total += reclaimed;
                }
            })
        })
        .collect();
    let mut total = 0;
    for reaper in reapers {
        total += reaper.await.unwrap_or_else(|e| panic!("{e}"));
    }
    println!("6 reapers over 2 connection pools reclaimed {total} of {MEMBERS} lapsed leases");
    assert_eq!(total, MEMBERS as u64, "each lease reclaimed exactly once");
    assert_eq!(f.release_reasons().await.len(), MEMBERS);
    assert_eq!(f.pool().await.pool.held, 0);
}

on_both_engines!(
    one_seat_per_member_and_client,
    a_lapsed_lease_is_reaped_and_handed_to_the_queue,
    logout_frees_at_once_or_lingers_for_the_same_client,
    admins_force_release_and_idle_leases_are_reclaimed,
    reapers_in_two_processes_reclaim_each_of_60_leases_once,
);

/// SQLite's group commit: 300 members check out at once on 100 seats. Their
/// checkouts share transactions, and still exactly 100 are granted (held ==
/// lease rows == capacity), the other 200 queue once each.
#[tokio::test]
async fn group_commit_batches_300_checkouts_on_100_seats_without_over_allocating() {
    const MEMBERS: usize = 300;
    let db = TestDatabase::sqlite();
    let sqlite = leasehold_store::sqlite::SqliteStore::open(&db.url, &StoreOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sqlite.migrate().await.unwrap_or_else(|e| panic!("{e}"));
    let f = Arc::new(fixture_on(Arc::new(sqlite.clone()), 100, MEMBERS).await);
    let before = sqlite.group_commit_stats();
    let calls: Vec<_> = (0..MEMBERS)
        .map(|i| {
            let f = f.clone();
            tokio::spawn(async move { f.checkout(i, "desk", f.t0).await })
        })
        .collect();
    let (mut granted, mut queued) = (0, 0);
    for call in calls {
        match call.await.unwrap_or_else(|e| panic!("{e}")) {
            CheckoutOutcome::Granted { new: true, .. } => granted += 1,
            CheckoutOutcome::Queued { .. } => queued += 1,
            other => panic!("{other:?}"),
        }
    }
    let stats = sqlite.group_commit_stats();
    let (commits, ops) = (stats.commits - before.commits, stats.ops - before.ops);
    println!("{MEMBERS} concurrent checkouts on 100 seats: {granted} granted, {queued} queued, in {commits} commits (largest {})", stats.largest);
    assert_eq!((granted, queued), (100, 200));
    assert_eq!(ops, MEMBERS as u64);
    assert!(commits < ops, "checkouts shared transactions: {stats:?}");
    let pool = f.pool().await;
    assert_eq!((pool.pool.held, pool.pool.capacity, pool.waiting), (100, 100, 200));
    let leases = f
        .store
        .leases(
            Visibility::Organisation(f.org),
            &LeaseFilter {
                page: PageRequest { page: 1, per_page: 1 },
                ..LeaseFilter::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(leases.total, 100, "held counts the lease rows");
}

/// One op failing in a batch (a release of a lease that does not exist) rolls
/// the batch back and every op runs alone: the others still succeed, and only
/// the failing caller sees the error.
#[tokio::test]
async fn a_failing_op_does_not_fail_the_others_in_its_batch() {
    let db = TestDatabase::sqlite();
    let sqlite = leasehold_store::sqlite::SqliteStore::open(&db.url, &StoreOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sqlite.migrate().await.unwrap_or_else(|e| panic!("{e}"));
    let f = Arc::new(fixture_on(Arc::new(sqlite.clone()), 50, 40).await);
    let checkouts: Vec<_> = (0..40)
        .map(|i| {
            let f = f.clone();
            tokio::spawn(async move { f.checkout(i, "desk", f.t0).await })
        })
        .collect();
    let missing: Vec<_> = (0..10)
        .map(|_| {
            let f = f.clone();
            tokio::spawn(async move {
                f.store
                    .end_lease(
                        &at(f.t0),
                        Visibility::Organisation(f.org),
                        LeaseId::from_uuid(Uuid::now_v7()),
                        ReleaseReason::Logout,
                    )
                    .await
            })
        })
        .collect();
    for checkout in checkouts {
        lease_of(&checkout.await.unwrap_or_else(|e| panic!("{e}")));
    }
    for release in missing {
        let result = release.await.unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(
                result,
                Err(StoreError::Domain(leasehold_core::DomainError::NotFound(_)))
            ),
            "{result:?}"
        );
    }
    assert_eq!(f.pool().await.pool.held, 40);
    println!("{:?}", sqlite.group_commit_stats());
}
