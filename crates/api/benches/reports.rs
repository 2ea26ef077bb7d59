//! A 90-day pool report over a million usage events on SQLite: through HTTP
//! from the daily rollups (what `GET /v1/reports/pools/{id}` does), and the
//! raw integration of every event in-process for comparison.
//! `cargo bench -p leasehold-api --bench reports`.

use chrono::{Duration, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use leasehold_api::config::Settings;
use leasehold_api::service::accounts::create_user_as_system;
use leasehold_api::startup::{build_state, Application};
use leasehold_client::Client;
use leasehold_core::ids::PoolId;
use leasehold_core::ports::{Store, UsageEvent};
use leasehold_core::report::{bucket_start, integrate, Bucket, ReportState};
use leasehold_core::values::{Plan, ReportBucket, Role, SeatKind};
use leasehold_core::wire::*;
use leasehold_store::testing::TestDatabase;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

const PASSWORD: &str = "correct horse battery";
const EVENTS: i64 = 1_000_000;
const DAYS: i64 = 90;

struct Bench {
    store: Arc<dyn Store>,
    vendor: Client,
    pool: PoolId,
    _db: TestDatabase,
}

async fn setup() -> Bench {
    let db = TestDatabase::sqlite();
    let state = build_state(Settings::for_database(&db.url))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    create_user_as_system(&state, "root@vendor.test", "Root", PASSWORD, Role::VendorAdmin, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let store = state.store.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let app = Application::with_listener(state, listener).unwrap_or_else(|e| panic!("{e}"));
    let server = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let tokens = Client::new(&server)
        .login("root@vendor.test", PASSWORD)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let vendor = Client::new(&server).with_token(&tokens.access_token);
    let org = vendor
        .create_organisation(&CreateOrganisation {
            name: "Busy".into(),
            account_manager_id: None,
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let product = vendor
        .create_product(&CreateProduct {
            code: "BUSY".into(),
            name: "Busy".into(),
            seat_kind: SeatKind::Device,
            currency: "EUR".into(),
            prices: [(Plan::Perpetual, 1)].into_iter().collect(),
            default_lease_seconds: None,
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    vendor
        .create_licence(
            &CreateLicence {
                product_id: product.id,
                plan: Plan::Perpetual,
                name: "Fleet".into(),
                note: None,
                quantity: 500,
                owner_organisation_id: Some(org.id),
                owner_user_id: None,
                auto_renew: false,
            },
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let pool = vendor
        .list_pools(&PoolQuery::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .items[0]
        .id;
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
