//! The seat paths against the server's JSON ceiling, on SQLite with crash-safe
//! defaults (WAL, synchronous=NORMAL), all in one run on one machine:
//!
//! - (a) the JSON ceiling: `GET /healthz` through the same middleware stack;
//! - (b) device registration, session checkout, heartbeat, release and token
//!   validation over HTTP with 64 and 256 concurrent clients;
//! - (c) the in-process rate of the checkout transaction, crash-safe and durable
//!   (`synchronous=FULL`).
//!
//! criterion drives the load (each iteration fires one request per client at
//! once); every request's latency goes into an HDR histogram. After criterion's
//! own report the bench prints a table: throughput, p50, p99 and each path as a
//! ratio of the ceiling at the same concurrency.
//!
//! `cargo bench -p leasehold-api --bench seat_paths`

mod support;

use criterion::{Criterion, Throughput};
use hdrhistogram::Histogram;
use leasehold_client::{Checkout, Client, Registration};
use leasehold_core::access::Actor;
use leasehold_core::ids::{LeaseId, OrganisationId, ProductId, UserId};
use leasehold_core::ports::{Store, WriteContext};
use leasehold_core::seat::Checkout as StoreCheckout;
use leasehold_core::values::{ApiScope, Role, SeatKind};
use leasehold_core::wire::*;
use leasehold_store::testing::TestDatabase;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SEATS: i64 = 1_000_000;

#[derive(Default)]
struct Measurement {
    latencies: Option<Histogram<u64>>,
    requests: u64,
    busy: Duration,
}

/// Per path: every request's latency, and the wall time of the batches.
static RESULTS: Mutex<BTreeMap<String, Measurement>> = Mutex::new(BTreeMap::new());

fn record(path: &str, latencies: &[Duration], wall: Duration) {
    let Ok(mut results) = RESULTS.lock() else { return };
    let entry = results.entry(path.to_owned()).or_default();
    let histogram = entry
        .latencies
        .get_or_insert_with(|| Histogram::new(3).unwrap_or_else(|e| panic!("{e}")));
    for latency in latencies {
        let _ = histogram.record(latency.as_micros() as u64);
    }
    entry.requests += latencies.len() as u64;
    entry.busy += wall;
}

struct Rig {
    http: Client,
    devices: Client,
    sessions: Client,
    store: Arc<dyn Store>,
    organisation: OrganisationId,
    device_product: ProductId,
    floating: ProductId,
    member: UserId,
    token: String,
    next: AtomicU64,
    _db: TestDatabase,
}

async fn build_rig(durable: bool) -> Rig {
    let served = support::serve(|settings| settings.sqlite_durable = durable, "Bench").await;
    let ok = |e: leasehold_client::ClientError| -> ! { panic!("{e}") };
    let products = [
        served.product_with_seats("DEV", SeatKind::Device, SEATS).await,
        served.product_with_seats("FLOAT", SeatKind::Concurrent, SEATS).await,
    ];
    let (vendor, server, org) = (&served.vendor, served.server.clone(), served.organisation);
    let member = CreateUser {
        email: "member@bench.test".into(),
        name: String::new(),
        password: support::PASSWORD.into(),
        role: Role::Member,
        organisation_id: Some(org),
    };
    let member = vendor.create_user(&member).await.unwrap_or_else(|e| ok(e)).id;
    let devices = served.api_client(ApiScope::DevicesRegister).await;
    let sessions = served.api_client(ApiScope::SessionsWrite).await;
    let register = RegisterDevice {
        fingerprint: "token-device".into(),
        name: "bench".into(),
        product_id: products[0],
    };
    let token = match devices.register_device(&register, None).await.unwrap_or_else(|e| ok(e)) {
        Registration::Granted { grant, .. } => grant.seat_token,
        Registration::Queued(_) => panic!("no seat for the token device"),
    };
    Rig {
        http: Client::new(&server),
        devices,
        sessions,
        store: served.store,
        organisation: org,
        device_product: products[0],
        floating: products[1],
        member,
        token,
        next: AtomicU64::new(0),
        _db: served.db,
    }
}

impl Rig {
    fn n(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    async fn checkout(&self) -> LeaseId {
        let body = CreateSession {
            product_id: self.floating,
            user_id: Some(self.member),
            client_id: format!("c-{}", self.n()),
        };
        match self.sessions.create_session(&body).await {
            Ok(Checkout::Granted { grant, .. }) => grant.id,
            other => panic!("checkout: {other:?}"),
        }
    }

    async fn request(&self, path: &str, lease: Option<LeaseId>) {
        match path {
            "json_ceiling" => {
                let response = self.http.request(reqwest::Method::GET, "/healthz").send().await;
                assert!(response.is_ok_and(|r| r.status().is_success()));
            }
            "device_registration" => {
                let body = RegisterDevice {
                    fingerprint: format!("d-{}", self.n()),
                    name: "bench".into(),
                    product_id: self.device_product,
                };
                assert!(matches!(
                    self.devices.register_device(&body, None).await,
                    Ok(Registration::Granted { .. })
                ));
            }
            "session_checkout" => {
                self.checkout().await;
            }
            "session_heartbeat" => {
                let lease = lease.unwrap_or_else(|| panic!("a lease to renew"));
                assert!(self.sessions.heartbeat_session(lease, false).await.is_ok());
            }
            "session_release" => {
                let lease = lease.unwrap_or_else(|| panic!("a lease to release"));
                assert!(self.sessions.delete_session(lease).await.is_ok());
            }
            "token_validation" => {
                assert!(self.http.validate_seat(&self.token).await.is_ok_and(|v| v.valid));
            }
            other => panic!("unknown path {other}"),
        }
    }

    /// The checkout transaction itself, without HTTP.
    async fn store_checkout(&self) {
        let checkout = StoreCheckout {
            organisation_id: self.organisation,
            product_id: self.floating,
            user_id: self.member,
            client_id: format!("s-{}", self.n()),
        };
        let ctx = WriteContext {
            actor: Actor::SYSTEM,
            request_id: None,
            now: chrono::Utc::now(),
        };
        self.store
            .checkout(&ctx, &checkout)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

/// One request per client, all at once (each with its lease, if any); the
/// latencies and the batch's wall time are recorded.
async fn timed(rig: &Rig, path: &str, label: &str, leases: &[Option<LeaseId>]) {
    let started = Instant::now();
    let calls = leases.iter().map(|lease| async move {
        let t = Instant::now();
        rig.request(path, *lease).await;
        t.elapsed()
    });
    let latencies = futures::future::join_all(calls).await;
    record(label, &latencies, started.elapsed());
}

async fn fire(rig: &Rig, path: &str, label: &str, clients: usize) {
    timed(rig, path, label, &vec![None; clients]).await;
}

/// Checks out `clients` seats (not timed), then releases them (timed).
async fn checkout_then_release(rig: &Rig, label: &str, clients: usize) {
    let leases = futures::future::join_all((0..clients).map(|_| rig.checkout())).await;
    let leases: Vec<Option<LeaseId>> = leases.into_iter().map(Some).collect();
    timed(rig, "session_release", label, &leases).await;
}

async fn fire_store(rig: &Rig, label: &str, clients: usize) {
    let started = Instant::now();
    let calls = (0..clients).map(|_| async move {
        let t = Instant::now();
        rig.store_checkout().await;
        t.elapsed()
    });
    let latencies = futures::future::join_all(calls).await;
    record(label, &latencies, started.elapsed());
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let rig = Arc::new(runtime.block_on(build_rig(false)));
    let durable = Arc::new(runtime.block_on(build_rig(true)));
    let heartbeat_leases: Vec<LeaseId> =
        runtime.block_on(async { futures::future::join_all((0..256).map(|_| rig.checkout())).await });
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();

    for clients in [64usize, 256] {
        let mut group = c.benchmark_group(format!("seat_paths/{clients}_clients"));
        group.throughput(Throughput::Elements(clients as u64));
        for path in [
            "json_ceiling",
            "device_registration",
            "session_checkout",
            "token_validation",
        ] {
            let label = format!("{path}/{clients}");
            group.bench_function(path, |b| {
                b.to_async(&runtime).iter(|| fire(&rig, path, &label, clients))
            });
        }
        let label = format!("session_heartbeat/{clients}");
        let renewing: Vec<Option<LeaseId>> = heartbeat_leases[..clients].iter().copied().map(Some).collect();
        group.bench_function("session_heartbeat", |b| {
            b.to_async(&runtime)
                .iter(|| timed(&rig, "session_heartbeat", &label, &renewing))
        });
        // criterion times checkout + release here; the table below times the releases alone.
        let label = format!("session_release/{clients}");
        group.bench_function("session_checkout_and_release", |b| {
            b.to_async(&runtime)
                .iter(|| checkout_then_release(&rig, &label, clients))
        });
        group.finish();
    }

    // Paced (open-loop) load at 70 % of each path's maximum measured above: the
    // latency a client sees when the server is busy but not saturated. Each
    // request is timed from when it was due, so a stall counts against it.
    let mut group = c.benchmark_group("seat_paths/paced_70_percent");
    group.sample_size(10).measurement_time(Duration::from_secs(3));
    for path in [
        "json_ceiling",
        "session_checkout",
        "session_heartbeat",
        "token_validation",
    ] {
        let Some(max) = max_rate(path) else { continue };
        let rate = (max * 0.7).max(1.0);
        let label = format!("{path}@70%/paced");
        let renewing = heartbeat_leases.clone();
        group.throughput(Throughput::Elements(1));
        group.bench_function(path, |b| {
            b.to_async(&runtime)
                .iter_custom(|iters| paced(&rig, path, &label, rate, iters, &renewing))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("seat_paths/in_process_checkout");
    for (rig, mode) in [(&rig, "crash_safe"), (&durable, "durable")] {
        for clients in [1usize, 64, 256] {
            group.throughput(Throughput::Elements(clients as u64));
            let label = format!("in_process_checkout_{mode}/{clients}");
            group.bench_function(format!("{mode}/{clients}"), |b| {
                b.to_async(&runtime).iter(|| fire_store(rig, &label, clients))
            });
        }
    }
    group.finish();
    c.final_summary();
    print_table();
}

/// The best closed-loop rate of `path` measured so far (64 or 256 clients).
fn max_rate(path: &str) -> Option<f64> {
    let results = RESULTS.lock().ok()?;
    [64, 256]
        .iter()
        .filter_map(|clients| results.get(&format!("{path}/{clients}")))
        .map(|m| m.requests as f64 / m.busy.as_secs_f64().max(f64::EPSILON))
        .reduce(f64::max)
}

/// `iters` requests of `path` sent at `rate` per second whatever the answers
/// (open loop); each latency runs from the request's due time.
async fn paced(rig: &Rig, path: &str, label: &str, rate: f64, iters: u64, leases: &[LeaseId]) -> Duration {
    let started = tokio::time::Instant::now();
    let interval = Duration::from_secs_f64(1.0 / rate);
    // At most 256 requests in flight (the client's connection pool); one that
    // waits for a slot is late, and its lateness counts.
    let slots = tokio::sync::Semaphore::new(256);
    let slots = &slots;
    let calls = futures::stream::FuturesUnordered::new();
    for i in 0..iters {
        let due = started + interval.mul_f64(i as f64);
        let lease = leases.get(i as usize % leases.len().max(1)).copied();
        calls.push(async move {
            tokio::time::sleep_until(due).await;
            let _slot = slots.acquire().await;
            rig.request(path, lease).await;
            due.elapsed()
        });
    }
    let latencies: Vec<Duration> = futures::StreamExt::collect(calls).await;
    let wall = started.elapsed();
    record(label, &latencies, wall);
    wall
}

fn print_table() {
    let Ok(results) = RESULTS.lock() else { return };
    let rate = |m: &Measurement| m.requests as f64 / m.busy.as_secs_f64().max(f64::EPSILON);
    println!("\n| path | clients | requests/s | p50 | p99 | × JSON ceiling |");
    println!("|---|---|---|---|---|---|");
    for (label, m) in results.iter() {
        let (path, clients) = label.rsplit_once('/').unwrap_or((label, "?"));
        let Some(latencies) = &m.latencies else { continue };
        let ceiling = results.get(&format!("json_ceiling/{clients}")).map(rate);
        let ratio = match ceiling {
            Some(ceiling) if !path.starts_with("in_process") && !path.contains('@') => {
                format!("{:.2}", rate(m) / ceiling)
            }
            _ => "—".into(),
        };
        println!(
            "| {path} | {clients} | {:.0} | {:.2} ms | {:.2} ms | {ratio} |",
            rate(m),
            latencies.value_at_quantile(0.5) as f64 / 1000.0,
            latencies.value_at_quantile(0.99) as f64 / 1000.0,
        );
    }
}
