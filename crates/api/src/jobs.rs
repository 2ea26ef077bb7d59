//! Background work. Each job is safe when several processes run it: the store
//! claims rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer on
//! SQLite) and frees each at most once.

use crate::state::AppState;
use leasehold_core::access::Actor;
use leasehold_core::ports::{LicenceSweep, WriteContext};
use std::time::Duration;
use tokio::sync::watch;

/// Told `true` when the server stops: each job finishes the pass it is in
/// (never a transaction half-done) and ends.
pub type Stop = watch::Receiver<bool>;

/// Waits for the next tick; `false` when the server is stopping.
async fn next_tick(ticker: &mut tokio::time::Interval, stop: &mut Stop) -> bool {
    if *stop.borrow() {
        return false;
    }
    tokio::select! {
        _ = ticker.tick() => true,
        _ = stop.changed() => false,
    }
}

/// Leases reclaimed per transaction; a backlog is drained batch by batch.
const REAP_BATCH: u32 = 500;

/// Licences expired per transaction.
const EXPIRE_BATCH: u32 = 200;

/// How often new audit entries are sealed into their chains: an entry is
/// tamper-evident at most this long after it was written.
pub const SEAL_INTERVAL: Duration = Duration::from_secs(1);

/// Every `interval`: reclaims lapsed, idle and finished-lingering leases, so a
/// closed browser holds a seat for at most one lease (plus grace) and one
/// interval; and stores licences past their end as expired, shrinking their pools.
pub fn spawn_reaper(state: AppState, interval: Duration, mut stop: Stop) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while next_tick(&mut ticker, &mut stop).await {
            expire_once(&state).await;
            reap_once(&state).await;
        }
    })
}

/// One pass of the licence lifecycle (renewals, "expiring soon" notices,
/// expiry) at the current time, batch after batch while a batch fills up.
pub async fn expire_once(state: &AppState) -> LicenceSweep {
    let ctx = WriteContext {
        actor: Actor::SYSTEM,
        request_id: None,
        now: state.now(),
    };
    let mut total = LicenceSweep::default();
    loop {
        match state.store.expire_licences(&ctx, EXPIRE_BATCH).await {
            Ok(sweep) => {
                total.renewed += sweep.renewed;
                total.noticed += sweep.noticed;
                total.expired += sweep.expired;
                if !sweep.filled(EXPIRE_BATCH) {
                    break;
                }
            }
            Err(error) => {
                tracing::warn!(error = %error, "the licence lifecycle job failed; it tries again next tick");
                break;
            }
        }
    }
    if total != LicenceSweep::default() {
        tracing::info!(
            renewed = total.renewed,
            noticed = total.noticed,
            expired = total.expired,
            "licence lifecycle"
        );
    }
    total
}

/// One pass of the reaper at the current time.
pub async fn reap_once(state: &AppState) -> u64 {
    let ctx = WriteContext {
        actor: Actor::SYSTEM,
        request_id: None,
        now: state.now(),
    };
    let mut total = 0;
    loop {
        match state.store.reap_leases(&ctx, REAP_BATCH).await {
            Ok(reclaimed) => {
                total += reclaimed;
                if reclaimed < u64::from(REAP_BATCH) {
                    break;
                }
            }
            Err(error) => {
                tracing::warn!(error = %error, "the lease reaper failed; it tries again next tick");
                break;
            }
        }
    }
    if total > 0 {
        tracing::info!(reclaimed = total, "reclaimed lapsed leases");
    }
    total
}

/// Every `interval`: seals new audit entries into their organisations' hash
/// chains, and rolls up the pools' finished days for reports.
pub fn spawn_sealer(state: AppState, interval: Duration, mut stop: Stop) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while next_tick(&mut ticker, &mut stop).await {
            if let Err(error) = crate::service::audit::seal_all(state.store.as_ref(), state.now()).await {
                tracing::warn!(error = %error, "sealing the audit log failed; it tries again next tick");
            }
            roll_up_once(&state).await;
        }
    })
}

/// Pools rolled up per pass.
const ROLL_UP_BATCH: u32 = 100;

/// How long after midnight a day is rolled up: transactions in flight at
/// midnight commit first (a later one would count at the next day's start).
const ROLL_UP_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// Rolls up every pool's usage of the days finished before today (UTC).
pub async fn roll_up_once(state: &AppState) -> u64 {
    let today = leasehold_core::report::bucket_start(leasehold_core::report::Bucket::Day, state.now() - ROLL_UP_MARGIN);
    let mut total = 0;
    loop {
        match state.store.roll_up_usage(today, ROLL_UP_BATCH).await {
            Ok(0) => break,
            Ok(days) => total += days,
            Err(error) => {
                tracing::warn!(error = %error, "rolling up usage failed; it tries again next tick");
                break;
            }
        }
    }
    if total > 0 {
        tracing::info!(days = total, "rolled up pool usage");
    }
    total
}

/// Deliveries claimed per pass, and sent concurrently.
const DELIVERY_BATCH: u32 = 20;

/// How long a claim keeps other processes off a delivery: longer than an
/// attempt may take, so a live process always finishes first.
const DELIVERY_LEASE_SECONDS: i64 = 60;

/// Every `interval`: sends the outbox's due e-mails and webhooks.
pub fn spawn_deliverer(state: AppState, interval: Duration, mut stop: Stop) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while next_tick(&mut ticker, &mut stop).await {
            deliver_once(&state, state.now()).await;
        }
    })
}

/// One pass of the outbox worker at `now`: claims due deliveries batch by
/// batch, makes one attempt at each and records how it went. Returns the
/// attempts made.
pub async fn deliver_once(state: &AppState, now: chrono::DateTime<chrono::Utc>) -> u64 {
    let mut attempts = 0;
    loop {
        let email = state.deliverer.sends_email();
        let claimed = match state
            .store
            .claim_deliveries(now, DELIVERY_BATCH, DELIVERY_LEASE_SECONDS, email)
            .await
        {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(error = %error, "claiming deliveries failed; the worker tries again next tick");
                break;
            }
        };
        let count = claimed.len();
        let sends = claimed.iter().map(|delivery| async move {
            let result = state.deliverer.attempt(delivery, now).await;
            if let leasehold_core::ports::DeliveryResult::Failed { error, .. } = &result {
                tracing::warn!(delivery = %delivery.delivery.id, channel = %delivery.delivery.channel, error = %error, "delivery attempt failed");
            }
            let ctx = WriteContext {
                actor: Actor::SYSTEM,
                request_id: None,
                now,
            };
            match state.store.finish_delivery(&ctx, delivery.delivery.id, delivery.claim, &result).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!(delivery = %delivery.delivery.id, "a delivery's claim lapsed before its attempt was recorded"),
                Err(error) => tracing::warn!(delivery = %delivery.delivery.id, error = %error, "recording a delivery attempt failed"),
            }
        });
        futures::future::join_all(sends).await;
        attempts += count as u64;
        if count < DELIVERY_BATCH as usize {
            break;
        }
    }
    attempts
}
