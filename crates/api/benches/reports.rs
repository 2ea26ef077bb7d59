//! A 90-day pool report over a million usage events on SQLite: through HTTP
//! from the daily rollups (what `GET /v1/reports/pools/{id}` does), and the
//! raw integration of every event in-process for comparison.
//! `cargo bench -p leasehold-api --bench reports`.

use chrono::{Duration, Utc};
mod support;

use criterion::{criterion_group, criterion_main, Criterion};
use leasehold_client::Client;
use leasehold_core::ids::PoolId;
use leasehold_core::ports::{Store, UsageEvent};
use leasehold_core::report::{bucket_start, integrate, Bucket, ReportState};
use leasehold_core::values::{ReportBucket, SeatKind};
use leasehold_core::wire::*;
use leasehold_store::testing::TestDatabase;
use std::sync::Arc;
use std::time::Instant;

const EVENTS: i64 = 1_000_000;
const DAYS: i64 = 90;

struct Bench {
    store: Arc<dyn Store>,
    vendor: Client,
    pool: PoolId,
    _db: TestDatabase,
}

async fn setup() -> Bench {
    let served = support::serve(|_| {}, "Busy").await;
    served.product_with_seats("BUSY", SeatKind::Device, 500).await;
    let pool = served
        .vendor
        .list_pools(&PoolQuery::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .items[0]
        .id;
    let (store, vendor, db) = (served.store, served.vendor, served.db);
    // A million events over the 90 days before today: grants and releases
    // around 400 held, queues and denials when it fills up.
    let today = bucket_start(Bucket::Day, Utc::now());
    let start = today - Duration::days(DAYS);
    let step_ms = DAYS * 86_400_000 / EVENTS;
    let mut held = 400_i64;
    let events: Vec<UsageEvent> = (0..EVENTS)
        .map(|i| {
            let kind = match i % 10 {
                0..=3 => "seat_granted",
                4..=7 => "seat_released",
                8 => "request_queued",
                _ => "request_denied",
            };
            held = match kind {
                "seat_granted" => (held + 1).min(500),
                "seat_released" => (held - 1).max(0),
                _ => held,
            };
            UsageEvent {
                pool_id: pool,
                at: start + Duration::milliseconds(i * step_ms),
                kind: kind.into(),
                held,
                capacity: 500,
                subject_id: Some(uuid::Uuid::from_u128((i % 5000) as u128)),
                reason: None,
            }
        })
        .collect();
    let began = Instant::now();
    leasehold_store::import_usage_events(&db.url, &events)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("imported {EVENTS} events in {:.1} s", began.elapsed().as_secs_f64());
    let began = Instant::now();
    let days = store.roll_up_usage(today, 100).await.unwrap_or_else(|e| panic!("{e}"));
    // The server's own job rolls up alongside: the two share the days.
    eprintln!("rolled up {days} days here in {:.1} s", began.elapsed().as_secs_f64());
    Bench {
        store,
        vendor,
        pool,
        _db: db,
    }
}

fn reports(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let bench = Arc::new(runtime.block_on(setup()));
    let today = Utc::now().date_naive();
    let mut group = c.benchmark_group("pool_report/sqlite/1M_events");
    group.sample_size(10);
    for (name, bucket) in [
        ("90_days_by_day", ReportBucket::Day),
        ("90_days_by_week", ReportBucket::Week),
    ] {
        let query = PoolReportQuery {
            from: today - Duration::days(DAYS),
            to: today,
            bucket: Some(bucket),
        };
        group.bench_function(format!("http_rollups/{name}"), |b| {
            b.to_async(&runtime).iter(|| {
                let (bench, query) = (bench.clone(), query.clone());
                async move {
                    let report = bench
                        .vendor
                        .pool_report(bench.pool, &query)
                        .await
                        .unwrap_or_else(|e| panic!("{e}"));
                    assert!(report.summary.utilisation.is_some());
                }
            })
        });
    }
    group.bench_function("raw_events_in_process/90_days_by_day", |b| {
        b.to_async(&runtime).iter(|| {
            let bench = bench.clone();
            async move {
                let events = bench
                    .store
                    .usage_events(bench.pool)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                let to = bucket_start(Bucket::Day, Utc::now()) + Duration::days(1);
                let days = integrate(
                    &mut ReportState::default(),
                    &events,
                    Bucket::Day,
                    to - Duration::days(DAYS + 1),
                    to,
                );
                assert_eq!(days.len() as i64, DAYS + 1);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, reports);
criterion_main!(benches);
