//! The audit log's integrity: sealing pending entries into their chains and
//! verifying every chain a caller may see.

use crate::error::ApiError;
use chrono::{DateTime, Utc};
use leasehold_core::access::Visibility;
use leasehold_core::audit::{ChainVerifier, VENDOR_CHAIN};
use leasehold_core::ports::Store;
use leasehold_core::wire::{AuditChainReport, AuditVerification};

/// Entries sealed per chain per transaction.
pub const SEAL_BATCH: u32 = 500;

/// Entries read per page while verifying.
const VERIFY_PAGE: u32 = 1_000;

/// Seals every pending entry; returns how many.
pub async fn seal_all(store: &dyn Store, now: DateTime<Utc>) -> Result<u64, ApiError> {
    let mut total = 0;
    loop {
        let sealed = store.seal_audit(now, SEAL_BATCH).await?;
        total += sealed;
        if sealed == 0 {
            return Ok(total);
        }
    }
}

/// Seals what is pending, then recomputes each visible chain from its first
/// entry to its head.
pub async fn verify(store: &dyn Store, vis: Visibility, now: DateTime<Utc>) -> Result<AuditVerification, ApiError> {
    if let Err(error) = seal_all(store, now).await {
        // A chain that can no longer be sealed is broken; verification says where.
        tracing::warn!(error = %error, "sealing before verification failed");
    }
    let mut chains = Vec::new();
    for state in store.audit_chains(vis).await? {
        let mut verifier = ChainVerifier::new(state.chain_id);
        loop {
            let page = store
                .sealed_audit(state.chain_id, verifier.last_seq(), VERIFY_PAGE)
                .await?;
            let done = page.len() < VERIFY_PAGE as usize;
            page.iter().for_each(|entry| verifier.push(entry));
            if done || verifier.is_broken() {
                break;
            }
        }
        let (verified_entries, problem) = verifier.finish(state.head.as_ref());
        chains.push(AuditChainReport {
            organisation_id: (state.chain_id != VENDOR_CHAIN).then(|| state.chain_id.into()),
            verified_entries,
            pending_entries: state.pending,
            head_hash: state.head.map(|head| head.hash),
            detail: problem.as_ref().map(|p| p.describe()),
            problem,
        });
    }
    Ok(AuditVerification {
        verified: chains.iter().all(|chain| chain.problem.is_none()),
        checked_at: now,
        chains,
    })
}
