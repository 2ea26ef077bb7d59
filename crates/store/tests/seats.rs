//! The seat engine's invariants, proven on SQLite and PostgreSQL: never more
//! held than capacity under concurrent registrations, every freed seat to the
//! oldest waiting request exactly once, over-capacity pools grant nothing,
//! blocked devices hold nothing, and each step leaves a usage event.

use chrono::Utc;
use leasehold_core::access::{Actor, Visibility};
use leasehold_core::ids::*;
use leasehold_core::licence::{Licence, Organisation, Owner, Product};
use leasehold_core::ports::*;
use leasehold_core::seat::{Decision, DeviceRegistration, Registration};
use leasehold_core::values::*;
use leasehold_core::DomainError;
mod common;

use leasehold_store::testing::TestDatabase;
use leasehold_store::StoreOptions;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use uuid::Uuid;

fn ctx() -> WriteContext {
    WriteContext {
        actor: Actor::SYSTEM,
        request_id: None,
        now: Utc::now(),
    }
}

struct Fixture {
    store: Arc<dyn Store>,
    org: OrganisationId,
    product: Product,
    licence: Licence,
}

async fn fixture(db: &TestDatabase, seats: u32) -> Fixture {
    let store = leasehold_store::open(&db.url, &StoreOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let org = Organisation {
        id: OrganisationId::from_uuid(Uuid::now_v7()),
        name: "Clinic".into(),
        account_manager_id: None,
        created_at: Utc::now(),
    };
    let product = Product {
        id: ProductId::from_uuid(Uuid::now_v7()),
        code: "CAD".into(),
        name: "CAD".into(),
        seat_kind: SeatKind::Device,
        currency: "EUR".into(),
        prices: [(Plan::Yearly, 100)].into_iter().collect(),
        default_lease_seconds: 900,
        created_at: Utc::now(),
    };
    let licence = new_licence(&product, org.id, seats);
    let set = ChangeSet {
        changes: vec![
            Change::InsertOrganisation(org.clone()),
            Change::InsertProduct(product.clone()),
            Change::InsertLicence(licence.clone()),
        ],
        ..ChangeSet::default()
    };
    store.commit(&ctx(), set).await.unwrap_or_else(|e| panic!("{e}"));
    Fixture {
        store,
        org: org.id,
        product,
        licence,
    }
}

fn new_licence(product: &Product, org: OrganisationId, seats: u32) -> Licence {
    let mut code = [0u8; 8];
    code.copy_from_slice(&Uuid::new_v4().as_bytes()[..8]);
    Licence::new(
        LicenceId::from_uuid(Uuid::now_v7()),
        product,
        Plan::Yearly,
        "seats".into(),
        String::new(),
        seats,
        Owner::Organisation {
            organisation_id: org,
            user_id: None,
        },
        CouponCode::from_random(code),
        LicenceSource::AccountManager,
        None,
        Utc::now(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

impl Fixture {
    fn registration(&self, fingerprint: &str) -> DeviceRegistration {
        DeviceRegistration {
            organisation_id: self.org,
            product_id: self.product.id,
            fingerprint: fingerprint.into(),
            name: fingerprint.into(),
        }
    }

    async fn register(&self, fingerprint: &str) -> Registration {
        self.store
            .register_device(&ctx(), &self.registration(fingerprint), None)
            .await
            .unwrap_or_else(|e| panic!("register {fingerprint}: {e}"))
    }

    async fn pool(&self) -> PoolDetails {
        let pools = self
            .store
            .pools(Visibility::Organisation(self.org), &PoolFilter::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        pools.items.into_iter().next().unwrap_or_else(|| panic!("no pool"))
    }

    async fn licensed(&self) -> Vec<DeviceDetails> {
        let filter = DeviceFilter {
            state: Some(DeviceState::Licensed),
            page: PageRequest { page: 1, per_page: 100 },
            ..DeviceFilter::default()
        };
        self.store
            .devices(Visibility::Organisation(self.org), &filter)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .items
    }

    async fn waiting(&self) -> Vec<RequestDetails> {
        self.store
            .seat_requests(
                Visibility::Organisation(self.org),
                None,
                PageRequest { page: 1, per_page: 100 },
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .items
    }

    /// held == seat rows ≤ capacity.
    async fn assert_consistent(&self) {
        let pool = self.pool().await.pool;
        let seats: usize = self.licensed().await.iter().map(|d| d.seats.len()).sum();
        assert_eq!(pool.held, seats as i64, "held counts the seat rows");
    }

    async fn revoke(&self, device: DeviceId) {
        let released = self
            .store
            .release_device_seats(
                &ctx(),
                Visibility::Organisation(self.org),
                device,
                None,
                ReleaseReason::Revoked,
            )
            .await;
        assert_eq!(released.unwrap_or_else(|e| panic!("{e}")), 1);
    }
}

fn device_of(registration: &Registration) -> DeviceId {
    match registration {
        Registration::Granted { device, .. } | Registration::Queued { device, .. } => device.id,
        other => panic!("no device in {other:?}"),
    }
}

async fn registrations_200_attempts_on_5_seats_grant_5_and_queue_195_fifo(db: TestDatabase) {
    const ATTEMPTS: usize = 200;
    const SEATS: u32 = 5;
    let f = Arc::new(fixture(&db, SEATS).await);
    let done = Arc::new(AtomicBool::new(false));
    // An observer checks held ≤ capacity while the storm runs.
    let observer = {
        let (f, done) = (f.clone(), done.clone());
        tokio::spawn(async move {
            let mut samples = 0;
            while !done.load(Ordering::Relaxed) {
                let pool = f.pool().await.pool;
                assert!(
                    pool.held <= pool.capacity,
                    "held {} > capacity {}",
                    pool.held,
                    pool.capacity
                );
                samples += 1;
                tokio::task::yield_now().await;
            }
            samples
        })
    };
    let tasks: Vec<_> = (0..ATTEMPTS)
        .map(|i| {
            let f = f.clone();
            tokio::spawn(async move {
                // A concurrent call for the same device may lose a unique-key race: retry it.
                loop {
                    match f
                        .store
                        .register_device(&ctx(), &f.registration(&format!("device-{i:03}")), None)
                        .await
                    {
                        Ok(outcome) => return outcome,
                        Err(StoreError::Stale) => continue,
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    let mut granted = Vec::new();
    let mut queued = 0;
    for task in tasks {
        match task.await.unwrap_or_else(|e| panic!("{e}")) {
            Registration::Granted { device, new: true, .. } => granted.push(device.id),
            Registration::Queued { .. } => queued += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    done.store(true, Ordering::Relaxed);
    let samples = observer.await.unwrap_or_else(|e| panic!("{e}"));
    println!("{ATTEMPTS} concurrent registrations on {SEATS} seats: {} granted, {queued} queued ({samples} observations of held ≤ capacity)", granted.len());
    assert_eq!((granted.len(), queued), (SEATS as usize, ATTEMPTS - SEATS as usize));
    let pool = f.pool().await;
    assert_eq!((pool.pool.held, pool.pool.capacity, pool.waiting), (5, 5, 195));
    f.assert_consistent().await;

    // The queue, oldest first, as the store reports it.
    let waiting = f.waiting().await;
    let expected_order: Vec<DeviceId> = waiting.iter().map(|r| r.request.device_id).collect();
    assert_eq!(waiting.len(), 100, "a page of the queue");
    assert_eq!(
        waiting.iter().map(|r| r.position).collect::<Vec<_>>(),
        (1..=100).collect::<Vec<u64>>()
    );

    // Revoking one by one hands each seat to the oldest waiting request.
    let mut holders: Vec<DeviceId> = granted.clone();
    let mut granted_from_queue = Vec::new();
    for _ in 0..10 {
        let victim = holders.remove(0);
        f.revoke(victim).await;
        let now_licensed: HashSet<DeviceId> = f.licensed().await.iter().map(|d| d.device.id).collect();
        let newcomer: Vec<DeviceId> = now_licensed.iter().filter(|d| !holders.contains(d)).copied().collect();
        assert_eq!(newcomer.len(), 1, "exactly one request granted per freed seat");
        granted_from_queue.push(newcomer[0]);
        holders.push(newcomer[0]);
        f.assert_consistent().await;
    }
    assert_eq!(granted_from_queue, expected_order[..10], "first in, first served");

    // Many releases at once: still never over capacity, and no request granted twice.
    let victims: Vec<DeviceId> = holders.clone();
    let releases: Vec<_> = victims
        .into_iter()
        .map(|device| {
            let f = f.clone();
            tokio::spawn(async move { f.revoke(device).await })
        })
        .collect();
    for release in releases {
        release.await.unwrap_or_else(|e| panic!("{e}"));
    }
    let pool = f.pool().await;
    assert_eq!((pool.pool.held, pool.waiting), (5, 180));
    f.assert_consistent().await;
    let events = f
        .store
        .usage_events(pool.pool.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let grants = events.iter().filter(|e| e.kind == "seat_granted").count();
    let releases = events.iter().filter(|e| e.kind == "seat_released").count();
    assert_eq!(
        (grants, releases),
        (20, 15),
        "5 first grants + 15 from the queue; 15 releases"
    );
    let granted_devices: Vec<Uuid> = events
        .iter()
        .filter(|e| e.kind == "seat_granted")
        .filter_map(|e| e.subject_id)
        .collect();
    let distinct: HashSet<&Uuid> = granted_devices.iter().collect();
    assert_eq!(
        distinct.len(),
        granted_devices.len(),
        "every request is granted at most once"
    );
    assert!(
        events.iter().all(|e| e.held <= e.capacity),
        "no event saw held above capacity"
    );

    // Drain the whole queue, five releases at a time: every one of the 195
    // queued devices is granted exactly once, in the end.
    loop {
        let holders: Vec<DeviceId> = f.licensed().await.iter().map(|d| d.device.id).collect();
        if f.pool().await.waiting == 0 {
            break;
        }
        let releases: Vec<_> = holders
            .into_iter()
            .map(|device| {
                let f = f.clone();
                tokio::spawn(async move { f.revoke(device).await })
            })
            .collect();
        for release in releases {
            release.await.unwrap_or_else(|e| panic!("{e}"));
        }
        f.assert_consistent().await;
    }
    let events = f
        .store
        .usage_events(pool.pool.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let granted: Vec<Uuid> = events
        .iter()
        .filter(|e| e.kind == "seat_granted")
        .filter_map(|e| e.subject_id)
        .collect();
    let distinct: HashSet<&Uuid> = granted.iter().collect();
    println!(
        "queue drained: {} grants to {} distinct devices",
        granted.len(),
        distinct.len()
    );
    assert_eq!(
        (granted.len(), distinct.len()),
        (ATTEMPTS, ATTEMPTS),
        "all 200 devices granted, each exactly once"
    );
    assert!(events.iter().all(|e| e.held <= e.capacity));
}

async fn registration_is_idempotent_per_device(db: TestDatabase) {
    let f = fixture(&db, 1).await;
    let first = f.register("laptop-1").await;
    let again = f.register("laptop-1").await;
    match (&first, &again) {
        (
            Registration::Granted { seat: a, new: true, .. },
            Registration::Granted {
                seat: b, new: false, ..
            },
        ) => assert_eq!(a.id, b.id),
        other => panic!("{other:?}"),
    }
    let queued = f.register("laptop-2").await;
    let queued_again = f.register("laptop-2").await;
    match (&queued, &queued_again) {
        (
            Registration::Queued {
                request: a,
                position: 1,
                ..
            },
            Registration::Queued {
                request: b,
                position: 1,
                ..
            },
        ) => assert_eq!(a.id, b.id),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.pool().await.waiting, 1, "one request per device");
}

async fn capacity_follows_licences_and_an_over_capacity_pool_grants_nothing(db: TestDatabase) {
    let f = fixture(&db, 2).await;
    f.register("a-device").await;
    f.register("b-device").await;
    // Pausing the only licence: capacity 0 with 2 held — over capacity.
    let mut paused = f.licence.clone();
    paused.pause(Utc::now()).unwrap_or_else(|e| panic!("{e}"));
    paused.version += 1;
    f.store
        .commit(
            &ctx(),
            ChangeSet {
                changes: vec![Change::UpdateLicence(paused.clone())],
                ..ChangeSet::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let pool = f.pool().await.pool;
    assert_eq!(
        (pool.capacity, pool.held, pool.over_capacity(), pool.available()),
        (0, 2, true, 0)
    );
    assert!(matches!(
        f.register("c-device").await,
        Registration::Queued { position: 1, .. }
    ));
    // Releasing one still leaves the pool full: nothing is granted.
    let a = f
        .licensed()
        .await
        .iter()
        .find(|d| d.device.fingerprint == "a-device")
        .map(|d| d.device.id)
        .unwrap_or_else(|| panic!("a"));
    f.revoke(a).await;
    assert_eq!(f.pool().await.pool.held, 1);
    assert_eq!(f.waiting().await.len(), 1, "the request still waits");
    // A new licence of 3 seats: capacity 3, the waiting request is granted at once.
    let more = new_licence(&f.product, f.org, 3);
    f.store
        .commit(
            &ctx(),
            ChangeSet {
                changes: vec![Change::InsertLicence(more)],
                ..ChangeSet::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let pool = f.pool().await;
    assert_eq!((pool.pool.capacity, pool.pool.held, pool.waiting), (3, 2, 0));
    let kinds: Vec<String> = f
        .store
        .usage_events(pool.pool.id)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "capacity_changed",
            "seat_granted",
            "seat_granted",
            "capacity_changed",
            "request_queued",
            "seat_released",
            "capacity_changed",
            "seat_granted"
        ]
    );
    // A licence whose seats are held cannot be deleted.
    let delete = ChangeSet {
        changes: vec![Change::DeleteLicence {
            id: paused.id,
            version: paused.version,
        }],
        ..ChangeSet::default()
    };
    let held_by_paused = f.store.seats_held_by_licence(paused.id).await.unwrap_or_default();
    if held_by_paused > 0 {
        assert!(matches!(f.store.commit(&ctx(), delete).await, Err(StoreError::Stale)));
    }
}

fn ctx_at(now: chrono::DateTime<Utc>) -> WriteContext {
    WriteContext { now, ..ctx() }
}

impl Fixture {
    /// Moves `licence`'s end to `ends`, as an account manager's edit would.
    async fn end_at(&self, licence: &Licence, ends: chrono::DateTime<Utc>) -> Licence {
        let mut edited = licence.clone();
        edited.ends_at = Some(ends);
        edited.version += 1;
        self.commit(vec![Change::UpdateLicence(edited.clone())]).await;
        edited
    }

    async fn commit(&self, changes: Vec<Change>) {
        let set = ChangeSet {
            changes,
            ..ChangeSet::default()
        };
        self.store.commit(&ctx(), set).await.unwrap_or_else(|e| panic!("{e}"));
    }

    async fn device(&self, fingerprint: &str) -> DeviceId {
        self.licensed()
            .await
            .iter()
            .find(|d| d.device.fingerprint == fingerprint)
            .map(|d| d.device.id)
            .unwrap_or_else(|| panic!("{fingerprint} holds no seat"))
    }
}

async fn expired_licences_shrink_their_pool_and_freed_seats_go_nowhere(db: TestDatabase) {
    let f = fixture(&db, 2).await;
    let short = new_licence(&f.product, f.org, 1);
    f.commit(vec![Change::InsertLicence(short.clone())]).await;
    for device in ["a-device", "b-device", "c-device"] {
        assert!(matches!(f.register(device).await, Registration::Granted { .. }));
    }
    assert!(matches!(f.register("d-device").await, Registration::Queued { .. }));
    let now = Utc::now();
    let short = f.end_at(&short, now + chrono::Duration::hours(1)).await;
    let later = ctx_at(now + chrono::Duration::hours(2));
    assert_eq!(
        f.store
            .expire_licences(&ctx_at(now), 10)
            .await
            .map(|s| s.expired)
            .unwrap_or(9),
        0,
        "not yet"
    );
    assert_eq!(
        f.store
            .expire_licences(&later, 10)
            .await
            .map(|s| s.expired)
            .unwrap_or(0),
        1
    );
    assert_eq!(
        f.store
            .expire_licences(&later, 10)
            .await
            .map(|s| s.expired)
            .unwrap_or(9),
        0,
        "each expires once"
    );
    let stored = f
        .store
        .licence(Visibility::Everything, short.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("the licence"));
    assert_eq!(
        stored.licence.status,
        LicenceStatus::Expired,
        "stored, not only computed"
    );
    let pool = f.pool().await.pool;
    assert_eq!(
        (pool.capacity, pool.held, pool.over_capacity()),
        (2, 3, true),
        "the seats stay held; the pool is over capacity"
    );
    f.revoke(f.device("a-device").await).await;
    let pool = f.pool().await;
    assert_eq!((pool.pool.held, pool.waiting), (2, 1), "the freed seat went nowhere");

    // The other licence ends too, and a seat frees before expiry has run: the
    // release itself finds the capacity gone and grants nothing (it does not fail).
    f.end_at(&f.licence, now + chrono::Duration::hours(1)).await;
    let b = f.device("b-device").await;
    let released = f
        .store
        .release_device_seats(&later, Visibility::Organisation(f.org), b, None, ReleaseReason::Revoked)
        .await;
    assert_eq!(released.unwrap_or_else(|e| panic!("{e}")), 1);
    let pool = f.pool().await;
    assert_eq!((pool.pool.capacity, pool.pool.held, pool.waiting), (0, 1, 1));
    assert_eq!(
        f.store
            .expire_licences(&later, 10)
            .await
            .map(|s| s.expired)
            .unwrap_or(0),
        1
    );
    let audit = f
        .store
        .audit(
            Visibility::Everything,
            &AuditFilter {
                organisation: Some(f.org),
                product: None,
                licence: None,
                actor: None,
                from: None,
                to: None,
                page: PageRequest { page: 1, per_page: 100 },
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let expired: HashSet<Uuid> = audit
        .items
        .iter()
        .filter(|e| e.action == "licence.expired")
        .map(|e| e.object_id)
        .collect();
    assert_eq!(
        expired,
        HashSet::from([f.licence.id.as_uuid(), short.id.as_uuid()]),
        "each expiry is audited"
    );
    let capacity_changes = audit
        .items
        .iter()
        .filter(|e| e.action == "pool.capacity_changed")
        .count();
    assert_eq!(capacity_changes, 4, "0→2, 2→3, 3→2 at expiry, 2→0 at the release");
}

async fn blocked_devices_hold_nothing_and_unblocking_grants_nothing(db: TestDatabase) {
    let f = fixture(&db, 1).await;
    let lost = device_of(&f.register("lost-phone").await);
    let next = device_of(&f.register("spare-phone").await);
    let org = Visibility::Organisation(f.org);
    let blocked = f
        .store
        .block_device(&ctx(), org, lost)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(blocked.blocked_at.is_some());
    let licensed: Vec<DeviceId> = f.licensed().await.iter().map(|d| d.device.id).collect();
    assert_eq!(licensed, [next], "blocking released the seat to the waiting device");
    assert_eq!(f.register("lost-phone").await, Registration::Blocked);
    f.store
        .unblock_device(&ctx(), org, lost)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.pool().await.pool.held, 1, "unblocking grants nothing by itself");
    assert!(
        matches!(f.register("lost-phone").await, Registration::Queued { .. }),
        "it asks again and waits"
    );
    let kinds: Vec<String> = f
        .store
        .usage_events(f.pool().await.pool.id)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    for kind in ["device_blocked", "request_denied", "device_unblocked"] {
        assert!(kinds.contains(&kind.to_owned()), "{kind} in {kinds:?}");
    }
    let elsewhere = Visibility::Organisation(OrganisationId::from_uuid(Uuid::now_v7()));
    assert!(matches!(
        f.store.block_device(&ctx(), elsewhere, next).await,
        Err(StoreError::Domain(DomainError::NotFound(_)))
    ));
}

async fn queue_policies_refuse_hold_for_approval_or_auto_grant(db: TestDatabase) {
    let f = fixture(&db, 1).await;
    let org = Visibility::Organisation(f.org);
    let pool = f.pool().await.pool;
    let holder = device_of(&f.register("holder").await);
    f.store
        .set_queue_policy(&ctx(), org, pool.id, QueuePolicy::Refuse)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(f.register("refused").await, Registration::Refused { .. }));
    assert!(matches!(f.register("refused-2").await, Registration::Refused { .. }));
    assert!(f.waiting().await.is_empty());
    assert_eq!(
        f.notified(&["seat_denied"]).await,
        [1],
        "denials are told once an hour per pool"
    );

    f.store
        .set_queue_policy(&ctx(), org, pool.id, QueuePolicy::Approval)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let first = f.register("first").await;
    let second = f.register("second").await;
    assert_eq!(
        f.notified(&["device_request"]).await,
        [2],
        "each waiting device is told once"
    );
    f.register("second").await;
    assert_eq!(
        f.notified(&["device_request"]).await,
        [2],
        "asking again is not a new request"
    );
    f.revoke(holder).await;
    assert_eq!(f.pool().await.pool.held, 0, "approval pools do not auto-grant");
    let Registration::Queued {
        request: first_request, ..
    } = first
    else {
        panic!("{first:?}")
    };
    let Registration::Queued {
        request: second_request,
        ..
    } = second
    else {
        panic!("{second:?}")
    };
    let approved = f
        .store
        .decide_request(&ctx(), org, first_request.id, Decision::Approve)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((approved.request.state, approved.position), (RequestState::Granted, 0));
    let full = f
        .store
        .decide_request(&ctx(), org, second_request.id, Decision::Approve)
        .await;
    assert!(
        matches!(
            full,
            Err(StoreError::Domain(DomainError::Conflict {
                code: "seat_unavailable",
                ..
            }))
        ),
        "{full:?}"
    );
    let rejected = f
        .store
        .decide_request(&ctx(), org, second_request.id, Decision::Reject)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rejected.request.state, RequestState::Rejected);
    let again = f
        .store
        .decide_request(&ctx(), org, second_request.id, Decision::Approve)
        .await;
    assert!(matches!(
        again,
        Err(StoreError::Domain(DomainError::Conflict {
            code: "request_not_waiting",
            ..
        }))
    ));
    let kinds: Vec<String> = f
        .store
        .usage_events(pool.id)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&"request_denied".to_owned()) && kinds.contains(&"request_rejected".to_owned()));
}

async fn reallocation_moves_a_seat_in_one_step(db: TestDatabase) {
    let f = fixture(&db, 1).await;
    let org = Visibility::Organisation(f.org);
    let old = device_of(&f.register("old-laptop").await);
    let Registration::Queued {
        request, device: new, ..
    } = f.register("new-laptop").await
    else {
        panic!("not queued")
    };
    let moved = f
        .store
        .reallocate_seat(&ctx(), org, request.id, old)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(moved.request.state, RequestState::Granted);
    let licensed: Vec<DeviceId> = f.licensed().await.iter().map(|d| d.device.id).collect();
    assert_eq!(licensed, [new.id]);
    assert_eq!(f.pool().await.pool.held, 1);
    assert!(
        matches!(f.register("old-laptop").await, Registration::Queued { position: 1, .. }),
        "the old device may ask again"
    );
    let missing = f.store.reallocate_seat(&ctx(), org, request.id, old).await;
    assert!(missing.is_err(), "a granted request cannot be reallocated again");
    let audit = f
        .store
        .audit(
            Visibility::Everything,
            &AuditFilter {
                organisation: Some(f.org),
                product: None,
                licence: None,
                actor: None,
                from: None,
                to: None,
                page: PageRequest { page: 1, per_page: 100 },
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(audit.items.iter().any(|e| e.action == "seat_request.reallocated"));
    assert!(audit
        .items
        .iter()
        .any(|e| e.action == "seat.released" && e.after.as_ref().is_some_and(|a| a["reason"] == "reallocated")));
}

// Pools that look after themselves: alerts and top-ups.

use leasehold_core::watch::{PoolWatch, Threshold, TopUpRule};

impl Fixture {
    async fn set_watch(&self, alert: Option<Threshold>, topup: Option<TopUpRule>) {
        let pool = self.pool().await.pool;
        let watch = PoolWatch {
            alert,
            topup,
            ..pool.watch
        };
        self.store
            .set_pool_watch(&ctx(), Visibility::Organisation(self.org), pool.id, watch)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// How many notifications of each kind the organisation has, in `kinds`' order.
    async fn notified(&self, kinds: &[&str]) -> Vec<usize> {
        let filter = NotificationFilter {
            page: PageRequest { page: 1, per_page: 100 },
            ..NotificationFilter::default()
        };
        let (page, _) = self
            .store
            .notifications(Visibility::Organisation(self.org), &filter)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        kinds
            .iter()
            .map(|k| page.items.iter().filter(|n| n.kind == *k).count())
            .collect()
    }

    async fn licences_from(&self, source: LicenceSource) -> Vec<Licence> {
        let filter = LicenceFilter {
            page: PageRequest { page: 1, per_page: 100 },
            ..LicenceFilter::at(Utc::now())
        };
        let page = self
            .store
            .licences(Visibility::Organisation(self.org), &filter)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        page.items
            .into_iter()
            .map(|d| d.licence)
            .filter(|l| l.source == source)
            .collect()
    }
}

fn topup(below: i64, add: i64, max_per_month: i64, ask_first: bool) -> TopUpRule {
    TopUpRule {
        below,
        add,
        max_per_month,
        ask_first,
        plan: Plan::Yearly,
    }
}

async fn an_alert_fires_once_per_crossing_and_rearms_only_above_its_threshold(db: TestDatabase) {
    let f = fixture(&db, 10).await;
    f.set_watch(Some(Threshold::Seats(3)), None).await;
    let mut devices = Vec::new();
    for i in 0..8 {
        devices.push(device_of(&f.register(&format!("d{i}")).await));
    }
    // 2 of 10 available: below 3, once.
    assert_eq!(f.notified(&["low_seats"]).await, [1]);
    devices.push(device_of(&f.register("d8").await));
    assert_eq!(f.notified(&["low_seats"]).await, [1], "still low: no second alert");
    // Back to exactly 3 and down again: hovering at the edge does not flap.
    f.revoke(devices.pop().unwrap_or_else(|| panic!())).await;
    f.revoke(devices.pop().unwrap_or_else(|| panic!())).await;
    devices.push(device_of(&f.register("d9").await));
    assert_eq!(f.notified(&["low_seats"]).await, [1]);
    // Above 3 re-arms; the next crossing alerts again.
    f.revoke(devices.pop().unwrap_or_else(|| panic!())).await;
    f.revoke(devices.pop().unwrap_or_else(|| panic!())).await;
    assert_eq!(f.pool().await.pool.available(), 4);
    assert!(f.pool().await.pool.watch.alert_armed);
    f.register("d10").await;
    f.register("d11").await;
    assert_eq!(f.notified(&["low_seats"]).await, [2]);
    // A threshold the pool is already below alerts as soon as it is set.
    f.set_watch(Some(Threshold::Percent(50)), None).await;
    assert_eq!(f.notified(&["low_seats"]).await, [3]);
}

async fn registrations_100_on_10_seats_top_up_once_and_alert_once_per_crossing(db: TestDatabase) {
    const ATTEMPTS: usize = 100;
    let f = Arc::new(fixture(&db, 10).await);
    // Alert below 5; top up 4 seats below 3, once a month.
    f.set_watch(Some(Threshold::Seats(5)), Some(topup(3, 4, 1, false)))
        .await;
    let tasks: Vec<_> = (0..ATTEMPTS)
        .map(|i| {
            let f = f.clone();
            tokio::spawn(async move {
                loop {
                    match f
                        .store
                        .register_device(&ctx(), &f.registration(&format!("storm-{i:02}")), None)
                        .await
                    {
                        Ok(outcome) => return outcome,
                        Err(StoreError::Stale) => continue,
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    let mut granted = 0;
    for task in tasks {
        if let Registration::Granted { .. } = task.await.unwrap_or_else(|e| panic!("{e}")) {
            granted += 1;
        }
    }
    // 10 → 2 available: top-up to 14 (6 available, the alert re-arms) → 0.
    let pool = f.pool().await;
    println!(
        "{ATTEMPTS} concurrent registrations on 10 seats with a top-up of 4: {granted} granted, {} waiting",
        pool.waiting
    );
    assert_eq!((granted, pool.pool.capacity, pool.pool.held), (14, 14, 14));
    assert_eq!(pool.waiting, (ATTEMPTS - 14) as u64);
    f.assert_consistent().await;
    let topups = f.licences_from(LicenceSource::AutoTopup).await;
    assert_eq!(topups.len(), 1, "one top-up: {topups:?}");
    assert_eq!(
        (topups[0].quantity, topups[0].unit_price, topups[0].plan),
        (4, 100, Plan::Yearly)
    );
    assert_eq!(topups[0].billing_status, BillingStatus::Uninvoiced);
    assert_eq!(
        f.notified(&["low_seats", "topup_done", "topup_limit_reached"]).await,
        [2, 1, 1],
        "one alert per crossing, one top-up, then the month's limit"
    );
    assert_eq!(pool.pool.watch.topups_this_month(Utc::now()), 1);
}

async fn a_topup_that_asks_first_waits_for_an_admin(db: TestDatabase) {
    let f = fixture(&db, 4).await;
    f.set_watch(None, Some(topup(2, 3, 5, true))).await;
    let vis = Visibility::Organisation(f.org);
    let id = f.pool().await.pool.id;
    let none = f.store.settle_topup(&ctx(), vis, id, true).await;
    assert!(
        matches!(
            none,
            Err(StoreError::Domain(DomainError::Conflict {
                code: "no_pending_topup",
                ..
            }))
        ),
        "{none:?}"
    );
    for i in 0..4 {
        f.register(&format!("d{i}")).await;
    }
    let queued = f.register("waiting").await;
    assert!(matches!(queued, Registration::Queued { .. }));
    let pool = f.pool().await.pool;
    assert_eq!((pool.capacity, pool.held), (4, 4), "nothing added before approval");
    assert!(pool.watch.topup_pending_since.is_some());
    assert_eq!(f.notified(&["topup_awaiting_approval", "topup_done"]).await, [1, 0]);
    // Approval adds the seats, and the waiting device gets one at once.
    let pool = f
        .store
        .settle_topup(&ctx(), vis, id, true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((pool.capacity, pool.held, pool.watch.topup_pending_since), (7, 5, None));
    assert_eq!(f.licences_from(LicenceSource::AutoTopup).await.len(), 1);
    assert_eq!(
        f.notified(&["topup_done"]).await,
        [1],
        "an approved top-up is announced"
    );
    let again = f.store.settle_topup(&ctx(), vis, id, false).await;
    assert!(
        matches!(again, Err(StoreError::Domain(DomainError::Conflict { .. }))),
        "settled once"
    );
    // A second crossing asks again; dismissing it adds nothing.
    f.register("d5").await;
    f.register("d6").await;
    assert!(f.pool().await.pool.watch.topup_pending_since.is_some());
    let pool = f
        .store
        .settle_topup(&ctx(), vis, id, false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((pool.capacity, pool.watch.topup_pending_since), (7, None));
    assert_eq!(f.notified(&["topup_awaiting_approval"]).await, [2]);
}

async fn buying_seats_adds_a_priced_licence_and_serves_the_queue(db: TestDatabase) {
    let f = fixture(&db, 1).await;
    f.register("first").await;
    assert!(matches!(f.register("second").await, Registration::Queued { .. }));
    let vis = Visibility::Organisation(f.org);
    let id = f.pool().await.pool.id;
    let other = Visibility::Organisation(OrganisationId::from_uuid(Uuid::now_v7()));
    let hidden = f.store.buy_seats(&ctx(), other, id, 3, Plan::Yearly).await;
    assert!(
        matches!(hidden, Err(StoreError::Domain(DomainError::NotFound("pool")))),
        "{hidden:?}"
    );
    let licence = f
        .store
        .buy_seats(&ctx(), vis, id, 3, Plan::Yearly)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (licence.source, licence.status, licence.billing_status),
        (
            LicenceSource::Purchase,
            LicenceStatus::Active,
            BillingStatus::Uninvoiced
        )
    );
    assert_eq!(
        (licence.quantity, licence.unit_price * i64::from(licence.quantity)),
        (3, 300)
    );
    let pool = f.pool().await;
    assert_eq!((pool.pool.capacity, pool.pool.held, pool.waiting), (4, 2, 0));
    let unpriced = f.store.buy_seats(&ctx(), vis, id, 1, Plan::Monthly).await;
    assert!(
        matches!(unpriced, Err(StoreError::Domain(DomainError::Validation(_)))),
        "{unpriced:?}"
    );
}

async fn notifications_are_per_organisation_and_marked_read(db: TestDatabase) {
    let f = fixture(&db, 3).await;
    f.set_watch(Some(Threshold::Seats(2)), None).await;
    f.register("a").await;
    f.register("b").await;
    let vis = Visibility::Organisation(f.org);
    let unread = NotificationFilter {
        unread: true,
        ..NotificationFilter::default()
    };
    let (page, unread_count) = f
        .store
        .notifications(vis, &unread)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((page.total, unread_count), (1, 1));
    assert_eq!(page.items[0].message, "CAD: 1 of 3 seats left");
    let stranger = Visibility::Organisation(OrganisationId::from_uuid(Uuid::now_v7()));
    let (theirs, _) = f
        .store
        .notifications(stranger, &unread)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(theirs.total, 0);
    let id = page.items[0].id;
    let foreign = f.store.mark_notifications_read(stranger, Some(id), Utc::now()).await;
    assert!(
        matches!(foreign, Err(StoreError::Domain(DomainError::NotFound(_)))),
        "{foreign:?}"
    );
    assert_eq!(
        f.store.mark_notifications_read(vis, Some(id), Utc::now()).await.ok(),
        Some(1)
    );
    let (page, unread_count) = f
        .store
        .notifications(vis, &unread)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((page.total, unread_count), (0, 0));
    let (all, _) = f
        .store
        .notifications(vis, &NotificationFilter::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(all.items[0].read_at.is_some());
}

async fn licences_renew_before_they_end_and_the_rest_are_noticed_once_then_expire(db: TestDatabase) {
    let f = fixture(&db, 2).await;
    let mut renewing = new_licence(&f.product, f.org, 1);
    renewing.auto_renew = true;
    let ending = new_licence(&f.product, f.org, 1);
    f.commit(vec![
        Change::InsertLicence(renewing.clone()),
        Change::InsertLicence(ending.clone()),
    ])
    .await;
    let now = Utc::now();
    let days = chrono::Duration::days;
    let renewing = f.end_at(&renewing, now + days(3)).await;
    let ending = f.end_at(&ending, now + days(3)).await;
    let sweep = |at: chrono::DateTime<Utc>| {
        let store = f.store.clone();
        async move {
            store
                .expire_licences(&ctx_at(at), 10)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        }
    };

    // Three days before their end: the renewing one is not noticed, the other once.
    let first = sweep(now).await;
    assert_eq!((first.renewed, first.noticed, first.expired), (0, 1, 0));
    assert_eq!(sweep(now).await, LicenceSweep::default(), "one notice per term");
    // A new end date opens a new window.
    let ending = f.end_at(&ending, now + days(5)).await;
    assert_eq!(sweep(now).await.noticed, 1);

    // Half an hour before its end the renewing licence gets a year more (a
    // new term to invoice); two processes sweeping at once renew it once.
    db.execute("UPDATE licences SET billing_status = 'invoiced'").await;
    let due = now + days(3) - chrono::Duration::minutes(30);
    let (a, b) = tokio::join!(sweep(due), sweep(due));
    assert_eq!(a.renewed + b.renewed, 1, "{a:?} {b:?}");
    assert_eq!(a.expired + b.expired, 0);
    let stored = |id| {
        let store = f.store.clone();
        async move {
            store
                .licence(Visibility::Everything, id)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .unwrap_or_else(|| panic!("the licence"))
                .licence
        }
    };
    let renewed = stored(renewing.id).await;
    assert_eq!(renewed.status, LicenceStatus::Active);
    assert_eq!(
        renewed.ends_at.map(|e| e.date_naive()),
        (now + days(3))
            .checked_add_months(chrono::Months::new(12))
            .map(|e| e.date_naive())
    );
    assert!(renewed.version > renewing.version);
    assert_eq!(renewed.billing_status, BillingStatus::Uninvoiced);

    // The other one ends: capacity drops to the fixture's licence and the renewed one.
    let after = sweep(now + days(6)).await;
    assert_eq!((after.renewed, after.expired), (0, 1));
    assert_eq!(stored(ending.id).await.status, LicenceStatus::Expired);
    assert_eq!(f.pool().await.pool.capacity, 3);
    assert_eq!(
        f.notified(&["expiring_soon", "renewed", "expired"]).await,
        vec![2, 1, 1]
    );
}

fn recipient(email: &str, events: &[EventKind], pool: Option<PoolId>) -> leasehold_core::notify::Recipient {
    leasehold_core::notify::Recipient {
        email: Email::parse(email).unwrap_or_else(|e| panic!("{e}")),
        events: events.iter().copied().collect(),
        pool_id: pool,
    }
}

impl Fixture {
    async fn add_webhook(&self, url: &str, events: &[EventKind], enabled: bool) -> Webhook {
        let new = NewWebhook {
            webhook: Webhook {
                id: WebhookId::from_uuid(Uuid::now_v7()),
                organisation_id: self.org,
                url: url.into(),
                description: String::new(),
                events: events.iter().copied().collect(),
                enabled: true,
                consecutive_failures: 0,
                created_at: Utc::now(),
            },
            secret: "whsec_test".into(),
        };
        let vis = Visibility::Organisation(self.org);
        let created = self
            .store
            .create_webhook(&ctx(), vis, &new)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        if enabled {
            return created;
        }
        let off = WebhookChange {
            enabled: Some(false),
            ..WebhookChange::default()
        };
        self.store
            .update_webhook(&ctx(), vis, created.id, &off)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    async fn deliveries(&self) -> Vec<Delivery> {
        let filter = DeliveryFilter {
            page: PageRequest { page: 1, per_page: 100 },
            ..DeliveryFilter::default()
        };
        self.store
            .deliveries(Visibility::Organisation(self.org), &filter)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .items
    }
}

async fn notifications_are_queued_for_the_recipients_and_endpoints_that_want_them(db: TestDatabase) {
    let f = fixture(&db, 4).await;
    let vis = Visibility::Organisation(f.org);
    let pool = f.pool().await.pool.id;
    let other_pool = PoolId::from_uuid(Uuid::now_v7());
    // A pool of another organisation is refused, and nothing is saved.
    let refused = f
        .store
        .set_recipients(
            &ctx(),
            vis,
            f.org,
            &[recipient("ops@example.com", &[EventKind::LowSeats], Some(other_pool))],
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Domain(DomainError::Validation(_)))),
        "{refused:?}"
    );
    assert!(f
        .store
        .recipients(vis, f.org)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_empty());
    let list = vec![
        recipient("ops@example.com", &[EventKind::LowSeats, EventKind::TopupDone], None),
        recipient("pool@example.com", &[EventKind::LowSeats], Some(pool)),
        recipient("billing@example.com", &[EventKind::InvoiceSent], None),
    ];
    let saved = f
        .store
        .set_recipients(&ctx(), vis, f.org, &list)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(saved, list, "saved in order");
    let other = Visibility::Organisation(OrganisationId::from_uuid(Uuid::now_v7()));
    assert!(
        f.store.recipients(other, f.org).await.is_err(),
        "another organisation sees nothing"
    );
    let low = f
        .add_webhook("https://hooks.example.com/low", &[EventKind::LowSeats], true)
        .await;
    let all = f.add_webhook("https://hooks.example.com/all", &[], true).await;
    f.add_webhook("https://hooks.example.com/off", &[], false).await;
    f.add_webhook("https://hooks.example.com/expiry", &[EventKind::Expired], true)
        .await;

    f.set_watch(Some(Threshold::Seats(2)), None).await;
    for i in 0..3 {
        f.register(&format!("dev-{i}")).await;
    }
    assert_eq!(f.notified(&["low_seats"]).await, [1]);
    let deliveries = f.deliveries().await;
    let mut targets: Vec<String> = deliveries
        .iter()
        .map(|d| match d.channel {
            Channel::Email => d.recipient.clone().unwrap_or_default(),
            Channel::Webhook => d.webhook_id.map(|w| w.to_string()).unwrap_or_default(),
        })
        .collect();
    targets.sort();
    let mut expected = vec![
        "ops@example.com".to_string(),
        "pool@example.com".to_string(),
        low.id.to_string(),
        all.id.to_string(),
    ];
    expected.sort();
    assert_eq!(
        targets, expected,
        "toggles, pools, filters and disabled endpoints applied"
    );
    assert!(deliveries
        .iter()
        .all(|d| d.status == DeliveryStatus::Pending && d.kind == "low_seats" && d.attempts == 0));
    let audit = f
        .store
        .audit(vis, &AuditFilter::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let actions: Vec<&str> = audit.items.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"notification_recipients.updated") && actions.contains(&"webhook.created"),
        "{actions:?}"
    );
}

async fn two_workers_claim_each_delivery_once_and_failures_back_off(db: TestDatabase) {
    const LICENCES: usize = 50;
    let f = fixture(&db, 1).await;
    let vis = Visibility::Organisation(f.org);
    let mail = [EventKind::ExpiringSoon, EventKind::WebhookFailing];
    f.store
        .set_recipients(&ctx(), vis, f.org, &[recipient("ops@example.com", &mail, None)])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let hook = f.add_webhook("https://hooks.example.com/x", &[], true).await;
    // 50 licences ending within the notice window: 50 notices, 100 deliveries.
    let now = Utc::now();
    for _ in 0..LICENCES {
        let licence = new_licence(&f.product, f.org, 1);
        f.commit(vec![Change::InsertLicence(licence.clone())]).await;
        f.end_at(&licence, now + chrono::Duration::days(5)).await;
    }
    assert_eq!(
        f.store
            .expire_licences(&ctx_at(now), 500)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .noticed,
        LICENCES as u64
    );
    // A second process on the same database.
    let second = leasehold_store::open(&db.url, &StoreOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let worker = |store: Arc<dyn Store>| async move {
        let mut claimed = Vec::new();
        loop {
            let batch = store
                .claim_deliveries(Utc::now(), 7, 60, true)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            if batch.is_empty() {
                return claimed;
            }
            claimed.extend(batch);
        }
    };
    let (a, b) = tokio::join!(worker(f.store.clone()), worker(second.clone()));
    let mut ids: Vec<DeliveryId> = a.iter().chain(&b).map(|c| c.delivery.id).collect();
    println!(
        "two workers claimed {} and {} of {} deliveries",
        a.len(),
        b.len(),
        2 * LICENCES
    );
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), a.len() + b.len(), "no delivery claimed twice");
    assert_eq!(ids.len(), 2 * LICENCES, "every delivery claimed");
    let webhooks: Vec<&ClaimedDelivery> = a
        .iter()
        .chain(&b)
        .filter(|c| c.delivery.channel == Channel::Webhook)
        .collect();
    assert!(webhooks
        .iter()
        .all(|c| c.endpoint == Some(("https://hooks.example.com/x".into(), "whsec_test".into()))));
    assert!(a
        .iter()
        .all(|c| c.notification.kind == "expiring_soon" && c.delivery.attempts == 1));
    // Nothing more is due while the claims hold.
    assert!(worker(f.store.clone()).await.is_empty());

    // Finishing: a stale claim does nothing; a failure is retried after 10 s;
    // three failures of one endpoint in a row raise one `webhook_failing`.
    let first = &webhooks[0];
    let failed = DeliveryResult::Failed {
        error: "the endpoint answered 500".into(),
        response_status: Some(500),
    };
    assert!(!f
        .store
        .finish_delivery(&ctx(), first.delivery.id, Uuid::now_v7(), &failed)
        .await
        .unwrap_or_else(|e| panic!("{e}")));
    for claimed in &webhooks[..3] {
        assert!(f
            .store
            .finish_delivery(&ctx(), claimed.delivery.id, claimed.claim, &failed)
            .await
            .unwrap_or_else(|e| panic!("{e}")));
    }
    let delivered = DeliveryResult::Delivered {
        response_status: Some(250),
    };
    for claimed in a.iter().chain(&b).filter(|c| c.delivery.channel == Channel::Email) {
        assert!(f
            .store
            .finish_delivery(&ctx(), claimed.delivery.id, claimed.claim, &delivered)
            .await
            .unwrap_or_else(|e| panic!("{e}")));
    }
    assert_eq!(f.notified(&["webhook_failing"]).await, [1]);
    let stored = f
        .store
        .webhook(vis, hook.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("the webhook"));
    assert_eq!(stored.consecutive_failures, 3);
    let all = {
        let filter = DeliveryFilter {
            page: PageRequest { page: 1, per_page: 100 },
            status: Some(DeliveryStatus::Pending),
            channel: Some(Channel::Webhook),
            ..DeliveryFilter::default()
        };
        f.store
            .deliveries(vis, &filter)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .items
    };
    let retried = all
        .iter()
        .find(|d| d.id == first.delivery.id)
        .unwrap_or_else(|| panic!("the failed delivery"));
    assert_eq!((retried.attempts, retried.response_status), (1, Some(500)));
    let wait = retried.next_attempt_at - Utc::now();
    assert!(
        wait > chrono::Duration::seconds(5) && wait <= chrono::Duration::seconds(10),
        "{wait:?}"
    );
    // The failing notice is e-mailed, not sent to the endpoints.
    let failing: Vec<Delivery> = f
        .deliveries()
        .await
        .into_iter()
        .filter(|d| d.kind == "webhook_failing")
        .collect();
    assert_eq!(failing.len(), 1);
    assert_eq!(failing[0].recipient.as_deref(), Some("ops@example.com"));
    // After the retry delay the failed ones are due again (the stale-claim one among them).
    let later = f
        .store
        .claim_deliveries(Utc::now() + chrono::Duration::seconds(11), 100, 60, false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut again: Vec<DeliveryId> = later.iter().map(|c| c.delivery.id).collect();
    again.sort();
    let mut expected: Vec<DeliveryId> = webhooks[..3].iter().map(|c| c.delivery.id).collect();
    expected.sort();
    assert_eq!(
        again, expected,
        "only the failed ones, and e-mails not claimed without SMTP"
    );
    assert!(later.iter().all(|c| c.delivery.attempts == 2));
    // A success resets the endpoint's failure count; a delivered one can be replayed, a pending one not.
    assert!(f
        .store
        .finish_delivery(
            &ctx(),
            later[0].delivery.id,
            later[0].claim,
            &DeliveryResult::Delivered {
                response_status: Some(204)
            }
        )
        .await
        .unwrap_or_else(|e| panic!("{e}")));
    let stored = f
        .store
        .webhook(vis, hook.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("the webhook"));
    assert_eq!(stored.consecutive_failures, 0);
    let replay = f
        .store
        .replay_delivery(&ctx(), vis, later[0].delivery.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (replay.status, replay.attempts, replay.replay_of),
        (DeliveryStatus::Pending, 0, Some(later[0].delivery.id))
    );
    assert_eq!(replay.notification_id, later[0].delivery.notification_id);
    let pending = f.store.replay_delivery(&ctx(), vis, later[1].delivery.id).await;
    assert!(
        matches!(
            pending,
            Err(StoreError::Domain(DomainError::Conflict {
                code: "delivery_pending",
                ..
            }))
        ),
        "{pending:?}"
    );
    // Removing the endpoint removes its deliveries.
    f.store
        .delete_webhook(&ctx(), vis, hook.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(f.deliveries().await.iter().all(|d| d.channel == Channel::Email));
}

on_both_engines!(
    registrations_200_attempts_on_5_seats_grant_5_and_queue_195_fifo,
    registration_is_idempotent_per_device,
    capacity_follows_licences_and_an_over_capacity_pool_grants_nothing,
    blocked_devices_hold_nothing_and_unblocking_grants_nothing,
    queue_policies_refuse_hold_for_approval_or_auto_grant,
    reallocation_moves_a_seat_in_one_step,
    expired_licences_shrink_their_pool_and_freed_seats_go_nowhere,
    an_alert_fires_once_per_crossing_and_rearms_only_above_its_threshold,
    registrations_100_on_10_seats_top_up_once_and_alert_once_per_crossing,
    a_topup_that_asks_first_waits_for_an_admin,
    buying_seats_adds_a_priced_licence_and_serves_the_queue,
    notifications_are_per_organisation_and_marked_read,
    licences_renew_before_they_end_and_the_rest_are_noticed_once_then_expire,
    notifications_are_queued_for_the_recipients_and_endpoints_that_want_them,
    two_workers_claim_each_delivery_once_and_failures_back_off,
);
