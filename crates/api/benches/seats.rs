//! Device registration on SQLite, one hot pool (a licence of a million seats):
//! through the store in-process, and through HTTP with 1 and 64 concurrent
//! clients. `cargo bench -p leasehold-api --bench seats`; criterion reports
//! registrations per second as "elements/s".

mod support;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leasehold_client::{Client, Registration};
use leasehold_core::access::Actor;
use leasehold_core::ids::{OrganisationId, ProductId};
use leasehold_core::ports::{Store, WriteContext};
use leasehold_core::seat::DeviceRegistration;
use leasehold_core::values::{ApiScope, SeatKind};
use leasehold_core::wire::*;
use leasehold_store::testing::TestDatabase;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

struct Bench {
    store: Arc<dyn Store>,
    agent: Client,
    organisation: OrganisationId,
    product: ProductId,
    _db: TestDatabase,
}

async fn setup() -> Bench {
    let served = support::serve(|_| {}, "Hot").await;
    let product = served.product_with_seats("HOT", SeatKind::Device, 1_000_000).await;
    let agent = served.api_client(ApiScope::DevicesRegister).await;
    Bench {
        store: served.store,
        agent,
        organisation: served.organisation,
        product,
        _db: served.db,
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
