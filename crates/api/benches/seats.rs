//! Device registration on SQLite, one hot pool (a licence of a million seats):
//! through the store in-process, and through HTTP with 1 and 64 concurrent
//! clients. `cargo bench -p leasehold-api --bench seats`; criterion reports
//! registrations per second as "elements/s".

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leasehold_api::config::Settings;
use leasehold_api::service::accounts::create_user_as_system;
use leasehold_api::startup::{build_state, Application};
use leasehold_client::{Client, Registration};
use leasehold_core::access::Actor;
use leasehold_core::ids::{OrganisationId, ProductId};
use leasehold_core::ports::{Store, WriteContext};
use leasehold_core::seat::DeviceRegistration;
use leasehold_core::values::{ApiScope, Plan, Role, SeatKind};
use leasehold_core::wire::*;
use leasehold_store::testing::TestDatabase;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const PASSWORD: &str = "correct horse battery";

struct Bench {
    store: Arc<dyn Store>,
    agent: Client,
    organisation: OrganisationId,
    product: ProductId,
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
            name: "Hot".into(),
            account_manager_id: None,
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let product = vendor
        .create_product(&CreateProduct {
            code: "HOT".into(),
            name: "Hot".into(),
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
                name: "Million".into(),
                note: None,
                quantity: 1_000_000,
                owner_organisation_id: Some(org.id),
                owner_user_id: None,
                auto_renew: false,
            },
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let key = vendor
        .create_api_key(&CreateApiKey {
            name: "bench".into(),
            organisation_id: Some(org.id),
            scopes: vec![ApiScope::DevicesRegister],
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Bench {
        store,
        agent: Client::new(&server).with_token(&key.key),
        organisation: org.id,
        product: product.id,
        _db: db,
    }
}

fn registrations(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let bench = Arc::new(runtime.block_on(setup()));
    let next = Arc::new(AtomicU64::new(0));
    let mut group = c.benchmark_group("register_device/sqlite/hot_pool");
    group.sample_size(20);

    group.throughput(Throughput::Elements(1));
    group.bench_function("store", |b| {
        b.to_async(&runtime).iter(|| {
            let (bench, n) = (bench.clone(), next.fetch_add(1, Ordering::Relaxed));
            async move {
                let registration = DeviceRegistration {
                    organisation_id: bench.organisation,
                    product_id: bench.product,
                    fingerprint: format!("store-{n}"),
                    name: "bench".into(),
                };
                let ctx = WriteContext {
                    actor: Actor::SYSTEM,
                    request_id: None,
                    now: chrono::Utc::now(),
                };
                bench
                    .store
                    .register_device(&ctx, &registration, None)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        })
    });

    for clients in [1u64, 64] {
        group.throughput(Throughput::Elements(clients));
        group.bench_function(format!("http/{clients}_clients"), |b| {
            b.to_async(&runtime).iter(|| {
                let (bench, next) = (bench.clone(), next.clone());
                async move {
                    let calls = (0..clients).map(|_| {
                        let body = RegisterDevice {
                            fingerprint: format!("http-{}", next.fetch_add(1, Ordering::Relaxed)),
                            name: "bench".into(),
                            product_id: bench.product,
                        };
                        let agent = bench.agent.clone();
                        async move {
                            match agent.register_device(&body, None).await {
                                Ok(Registration::Granted { .. }) => {}
                                other => panic!("{other:?}"),
                            }
                        }
                    });
                    futures::future::join_all(calls).await;
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, registrations);
criterion_main!(benches);
