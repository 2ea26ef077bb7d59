//! Background work. Each job is safe when several processes run it: the store
//! claims rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer on
//! SQLite) and frees each at most once.

use crate::state::AppState;
use leasehold_core::access::Actor;
use leasehold_core::ports::WriteContext;
use std::time::Duration;

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
pub fn spawn_reaper(state: AppState, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            expire_once(&state).await;
            reap_once(&state).await;
        }
    })
}

/// One pass of licence expiry at the current time.
pub async fn expire_once(state: &AppState) -> u64 {
    let ctx = WriteContext {
        actor: Actor::SYSTEM,
        request_id: None,
        now: state.now(),
    };
    let mut total = 0;
    loop {
        match state.store.expire_licences(&ctx, EXPIRE_BATCH).await {
            Ok(expired) => {
                total += expired;
                if expired < u64::from(EXPIRE_BATCH) {
                    break;
                }
            }
            Err(error) => {
                tracing::warn!(error = %error, "licence expiry failed; it tries again next tick");
                break;
            }
        }
    }
    if total > 0 {
        tracing::info!(expired = total, "stored expired licences");
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

/// Every `interval`: seals new audit entries into their organisations' hash chains.
pub fn spawn_sealer(state: AppState, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(error) = crate::service::audit::seal_all(state.store.as_ref(), state.now()).await {
                tracing::warn!(error = %error, "sealing the audit log failed; it tries again next tick");
            }
        }
    })
}
