//! Reports from daily rollups equal reports integrated from the raw events,
//! on SQLite and PostgreSQL, however the rolling up was split and even when
//! two processes roll up at once.

use chrono::{DateTime, Duration, TimeZone, Utc};
use leasehold_core::access::{Actor, Visibility};
use leasehold_core::ids::*;
use leasehold_core::licence::{Licence, Organisation, Owner, Product};
use leasehold_core::ports::*;
use leasehold_core::report::{integrate, merge_days, Bucket, ReportState};
use leasehold_core::values::*;
mod common;

use leasehold_store::testing::TestDatabase;
use leasehold_store::StoreOptions;
use std::sync::Arc;
use uuid::Uuid;

fn day(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).single().unwrap_or_default() + Duration::days(i64::from(d) - 1)
}

async fn commit_at(store: &Arc<dyn Store>, now: DateTime<Utc>, changes: Vec<Change>) {
    let ctx = WriteContext {
        actor: Actor::SYSTEM,
        request_id: None,
        now,
    };
    let set = ChangeSet {
        changes,
        ..ChangeSet::default()
    };
    store.commit(&ctx, set).await.unwrap_or_else(|e| panic!("{e}"));
}

/// A clinic with a licence of 3 CAD seats, written at `now`; its pool.
async fn clinic(store: &Arc<dyn Store>, now: DateTime<Utc>) -> (PoolId, OrganisationId, Licence) {
    let org = Organisation {
        id: OrganisationId::from_uuid(Uuid::now_v7()),
        name: "Clinic".into(),
        account_manager_id: None,
        created_at: now,
    };
    let product = Product {
        id: ProductId::from_uuid(Uuid::now_v7()),
        code: "CAD".into(),
        name: "CAD".into(),
        seat_kind: SeatKind::Device,
        currency: "EUR".into(),
        prices: [(Plan::Yearly, 100)].into_iter().collect(),
        default_lease_seconds: 900,
        created_at: now,
    };
    let licence = Licence::new(
        LicenceId::from_uuid(Uuid::now_v7()),
        &product,
        Plan::Yearly,
        "seats".into(),
        String::new(),
        3,
        Owner::Organisation {
            organisation_id: org.id,
            user_id: None,
        },
        CouponCode::from_random([7; 8]),
        LicenceSource::AccountManager,
        None,
        now,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let changes = vec![
        Change::InsertOrganisation(org.clone()),
        Change::InsertProduct(product),
        Change::InsertLicence(licence.clone()),
    ];
    commit_at(store, now, changes).await;
    let pool = store
        .pools(Visibility::Organisation(org.id), &PoolFilter::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .items
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no pool"))
        .pool
        .id;
    (pool, org.id, licence)
}

async fn pool_with_history(db: &TestDatabase) -> (Arc<dyn Store>, PoolId, OrganisationId) {
    let store = leasehold_store::open(&db.url, &StoreOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (pool, org, _) = clinic(&store, Utc::now()).await;
    // Three weeks of traffic in March: grants and releases, capacity changes
    // at odd hours, queues waiting across midnight, denial bursts.
    let mut events = Vec::new();
    let (mut held, mut capacity) = (0_i64, 4_i64);
    for step in 0..2_000_i64 {
        let at = day(1) + Duration::minutes(step * 13 + step % 5);
        let subject = Some(Uuid::from_u128((step % 11) as u128));
        let kind = match step % 8 {
            0 | 4 => {
                held += 1;
                "seat_granted"
            }
            1 if step % 24 == 1 => {
                capacity += if step % 48 == 1 { 3 } else { -2 };
                "capacity_changed"
            }
            2 | 5 => "request_queued",
            3 | 6 => "request_denied",
            _ => {
                held = (held - 1).max(0);
                "seat_released"
            }
        };
        events.push(UsageEvent {
            pool_id: pool,
            at,
            kind: kind.into(),
            held,
            capacity: capacity.max(1),
            subject_id: subject,
            reason: None,
        });
    }
    leasehold_store::import_usage_events(&db.url, &events)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (store, pool, org)
}

/// The reference: the whole raw history integrated at once.
async fn raw_days(
    store: &Arc<dyn Store>,
    pool: PoolId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<leasehold_core::report::BucketReport> {
    let events = store.usage_events(pool).await.unwrap_or_else(|e| panic!("{e}"));
    integrate(&mut ReportState::default(), &events, Bucket::Day, from, to)
}

async fn rollups_and_raw_integration_agree(db: TestDatabase) {
    let (store, pool, _) = pool_with_history(&db).await;
    let (from, to) = (day(3), day(31));
    let expected = raw_days(&store, pool, from, to).await;
    assert!(expected
        .iter()
        .any(|d| !d.waits.is_empty() && d.denials > 0 && d.capacity_ms > 0));
    // Never rolled: all raw.
    let days = store.usage_days(pool, from, to).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(days, expected);
    // Rolled up to the 10th, then to the 17th: rollups, then raw after the cursor.
    for until in [day(10), day(17)] {
        let rolled = store.roll_up_usage(until, 100).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(rolled > 0);
        assert_eq!(
            store.usage_days(pool, from, to).await.unwrap_or_else(|e| panic!("{e}")),
            expected
        );
    }
    // A period inside the rolled days, and one before the first event.
    assert_eq!(
        store
            .usage_days(pool, day(4), day(8))
            .await
            .unwrap_or_else(|e| panic!("{e}")),
        raw_days(&store, pool, day(4), day(8)).await
    );
    let before = store
        .usage_days(pool, day(1) - Duration::days(3), day(2))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(before, raw_days(&store, pool, day(1) - Duration::days(3), day(2)).await);
    assert_eq!((before.len(), before[0].capacity_ms), (4, 0));
    // Weeks and months from the rolled days equal weeks and months integrated.
    let events = store.usage_events(pool).await.unwrap_or_else(|e| panic!("{e}"));
    for bucket in [Bucket::Week, Bucket::Month] {
        assert_eq!(
            merge_days(&days_of(&store, pool, from, to).await, bucket, from, to),
            integrate(&mut ReportState::default(), &events, bucket, from, to)
        );
    }
}

async fn days_of(
    store: &Arc<dyn Store>,
    pool: PoolId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<leasehold_core::report::BucketReport> {
    store.usage_days(pool, from, to).await.unwrap_or_else(|e| panic!("{e}"))
}

async fn two_processes_roll_each_day_once(db: TestDatabase) {
    let (store, pool, _) = pool_with_history(&db).await;
    let other = leasehold_store::open(&db.url, &StoreOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let until = day(25);
    let (a, b) = tokio::join!(store.roll_up_usage(until, 100), other.roll_up_usage(until, 100));
    let (a, b) = (a.unwrap_or_else(|e| panic!("{e}")), b.unwrap_or_else(|e| panic!("{e}")));
    // The history starts on 1 March: 24 days to the 25th, each rolled by one of them.
    assert_eq!(a + b, 24);
    assert_eq!(
        store.roll_up_usage(until, 100).await.unwrap_or_else(|e| panic!("{e}")),
        0
    );
    let rows = db.execute("UPDATE usage_rollups SET day = day").await;
    assert_eq!(rows, 24);
    assert_eq!(
        days_of(&store, pool, day(1), day(31)).await,
        raw_days(&store, pool, day(1), day(31)).await
    );
}

/// A write whose clock is behind (or that began before midnight and commits
/// after the day was rolled) is stamped at the cursor, not lost inside the
/// rolled days; writes are stamped in commit order whatever their clocks say.
async fn late_writes_count_after_the_rolled_days_in_commit_order(db: TestDatabase) {
    let store = leasehold_store::open(&db.url, &StoreOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (pool, _, mut licence) = clinic(&store, day(1) + Duration::hours(9)).await;
    assert_eq!(
        store.roll_up_usage(day(3), 100).await.unwrap_or_else(|e| panic!("{e}")),
        2
    );
    let rolled = days_of(&store, pool, day(1), day(3)).await;
    assert_eq!(rolled[1].capacity_ms, 3 * 86_400_000);
    for (quantity, clock) in [(5, day(2) + Duration::hours(12)), (6, day(2) + Duration::hours(11))] {
        licence.quantity = quantity;
        licence.version += 1;
        commit_at(&store, clock, vec![Change::UpdateLicence(licence.clone())]).await;
    }
    let events = store.usage_events(pool).await.unwrap_or_else(|e| panic!("{e}"));
    let stamps: Vec<_> = events.iter().map(|e| (e.at, e.capacity)).collect();
    assert_eq!(
        stamps,
        [
            (day(1) + Duration::hours(9), 3),
            (day(3) + Duration::microseconds(1), 5),
            (day(3) + Duration::microseconds(2), 6)
        ]
    );
    // The rolled days are unchanged; the next day starts at 6 seats.
    let days = days_of(&store, pool, day(1), day(4)).await;
    assert_eq!(days[..2], rolled[..]);
    assert_eq!((days[2].capacity_at_end, days[2].peak_held), (6, 0));
    assert!(days[2].capacity_ms >= 6 * (86_400_000 - 1));
}

on_both_engines!(
    rollups_and_raw_integration_agree,
    two_processes_roll_each_day_once,
    late_writes_count_after_the_rolled_days_in_commit_order
);
