//! The audit log's hash chain on both engines: entries are sealed into one
//! chain per organisation in commit order, and editing, deleting or truncating
//! sealed entries behind the store's back is detected.

use chrono::{DateTime, TimeZone, Utc};
use leasehold_core::access::{Actor, Visibility};
use leasehold_core::audit::{chain_of, ChainBreak, ChainVerifier, VENDOR_CHAIN};
use leasehold_core::ids::OrganisationId;
use leasehold_core::ports::*;
use leasehold_store::testing::TestDatabase;
use leasehold_store::StoreOptions;
use std::sync::Arc;
use uuid::Uuid;
mod common;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).single().unwrap_or_default()
}

async fn open(db: &TestDatabase) -> Arc<dyn Store> {
    leasehold_store::open(&db.url, &StoreOptions::default())
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", db.url))
}

/// Writes `n` audit entries for `organisation`, one commit each.
async fn write(store: &Arc<dyn Store>, organisation: Option<OrganisationId>, n: usize, minute: i64) {
    for i in 0..n {
        let ctx = WriteContext {
            actor: Actor::SYSTEM,
            request_id: Some(format!("req-{minute}-{i}")),
            now: t0() + chrono::Duration::minutes(minute) + chrono::Duration::milliseconds(i as i64),
        };
        let record = AuditRecord {
            organisation_id: organisation,
            product_id: None,
            action: "licence.updated",
            object_kind: "licence",
            object_id: Uuid::now_v7(),
            before: Some(serde_json::json!({"quantity": i, "note": "ünïcode ✓"})),
            after: Some(serde_json::json!({"quantity": i + 1, "price": 12.5})),
        };
        let set = ChangeSet {
            audit: vec![record],
            ..ChangeSet::default()
        };
        store.commit(&ctx, set).await.unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Each visible chain: (chain id, verified entries, pending, first break).
async fn verify(store: &Arc<dyn Store>, vis: Visibility) -> Vec<(Uuid, i64, i64, Option<ChainBreak>)> {
    let mut out = Vec::new();
    for state in store.audit_chains(vis).await.unwrap_or_else(|e| panic!("{e}")) {
        let mut verifier = ChainVerifier::new(state.chain_id);
        loop {
            // Small pages, so paging is exercised too.
            let page = store
                .sealed_audit(state.chain_id, verifier.last_seq(), 2)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            page.iter().for_each(|e| verifier.push(e));
            if page.len() < 2 || verifier.is_broken() {
                break;
            }
        }
        let (verified, problem) = verifier.finish(state.head.as_ref());
        out.push((state.chain_id, verified, state.pending, problem));
    }
    out.sort_by_key(|chain| chain.0);
    out
}

async fn seal(store: &Arc<dyn Store>) -> u64 {
    store.seal_audit(t0(), 500).await.unwrap_or_else(|e| panic!("{e}"))
}

async fn sealed_chains_verify_per_organisation(db: TestDatabase) {
    let store = open(&db).await;
    let (north, south) = (
        OrganisationId::from(Uuid::now_v7()),
        OrganisationId::from(Uuid::now_v7()),
    );
    write(&store, Some(north), 3, 0).await;
    write(&store, Some(south), 2, 1).await;
    write(&store, None, 1, 2).await;
    let mut pending = vec![
        (chain_of(Some(north)), 0, 3, None),
        (chain_of(Some(south)), 0, 2, None),
        (VENDOR_CHAIN, 0, 1, None),
    ];
    pending.sort_by_key(|chain| chain.0);
    assert_eq!(
        verify(&store, Visibility::Everything).await,
        pending,
        "nothing is chained before the sealer runs"
    );
    assert_eq!(seal(&store).await, 6, "six entries sealed");
    assert_eq!(seal(&store).await, 0, "sealing twice seals nothing new");
    let mut expected = vec![
        (chain_of(Some(north)), 3, 0, None),
        (chain_of(Some(south)), 2, 0, None),
        (VENDOR_CHAIN, 1, 0, None),
    ];
    expected.sort_by_key(|chain| chain.0);
    assert_eq!(verify(&store, Visibility::Everything).await, expected);
    assert_eq!(
        verify(&store, Visibility::Organisation(south)).await,
        vec![(chain_of(Some(south)), 2, 0, None)],
        "an organisation sees its own chain only"
    );
    // New entries continue the chain after its head; until sealed they are pending.
    write(&store, Some(north), 2, 3).await;
    assert_eq!(
        verify(&store, Visibility::Organisation(north)).await,
        vec![(chain_of(Some(north)), 3, 2, None)]
    );
    assert_eq!(seal(&store).await, 2);
    assert_eq!(
        verify(&store, Visibility::Organisation(north)).await,
        vec![(chain_of(Some(north)), 5, 0, None)]
    );
    let entries = store
        .sealed_audit(chain_of(Some(north)), 0, 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert!(
        entries.windows(2).all(|w| w[1].prev_hash == w[0].hash),
        "each entry names the hash before it"
    );
}

async fn edits_deletions_and_truncation_are_detected(db: TestDatabase) {
    let store = open(&db).await;
    let (north, south, east) = (
        OrganisationId::from(Uuid::now_v7()),
        OrganisationId::from(Uuid::now_v7()),
        OrganisationId::from(Uuid::now_v7()),
    );
    write(&store, Some(north), 4, 0).await;
    write(&store, Some(south), 4, 1).await;
    write(&store, Some(east), 4, 2).await;
    write(&store, None, 2, 3).await;
    seal(&store).await;
    let chain = |org: OrganisationId| db.uuid_literal(chain_of(Some(org)));

    // North: someone rewrites what a change did.
    let edited = db
        .execute(&format!(
            "UPDATE audit_log SET after = '{{\"quantity\": 500, \"price\": 12.5}}' WHERE chain_id = {} AND seq = 2",
            chain(north)
        ))
        .await;
    assert_eq!(edited, 1);
    // South: someone deletes an entry in the middle.
    assert_eq!(
        db.execute(&format!(
            "DELETE FROM audit_log WHERE chain_id = {} AND seq = 3",
            chain(south)
        ))
        .await,
        1
    );
    // East: someone deletes the newest two entries.
    assert_eq!(
        db.execute(&format!(
            "DELETE FROM audit_log WHERE chain_id = {} AND seq >= 3",
            chain(east)
        ))
        .await,
        2
    );
    // Vendor-wide: someone deletes the chain's head.
    db.execute(&format!(
        "DELETE FROM audit_chains WHERE chain_id = {}",
        db.uuid_literal(VENDOR_CHAIN)
    ))
    .await;

    let report = verify(&store, Visibility::Everything).await;
    let find = |id: Uuid| {
        report
            .iter()
            .find(|chain| chain.0 == id)
            .cloned()
            .unwrap_or_else(|| panic!("no chain {id}"))
    };
    let north_entry = store
        .sealed_audit(chain_of(Some(north)), 1, 1)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (_, verified, _, problem) = find(chain_of(Some(north)));
    assert_eq!(
        (verified, problem),
        (
            1,
            Some(ChainBreak::Edited {
                seq: 2,
                entry_id: north_entry[0].entry.id.as_uuid()
            })
        )
    );
    let (_, verified, _, problem) = find(chain_of(Some(south)));
    assert_eq!((verified, problem), (2, Some(ChainBreak::Missing { from: 3, to: 3 })));
    let (_, verified, _, problem) = find(chain_of(Some(east)));
    assert_eq!((verified, problem), (2, Some(ChainBreak::Missing { from: 3, to: 4 })));
    let (_, verified, _, problem) = find(VENDOR_CHAIN);
    assert_eq!((verified, problem), (2, Some(ChainBreak::HeadMissing)));
}

/// Two sealers at once (two server processes) give every entry exactly one place.
async fn concurrent_sealers_share_the_work(db: TestDatabase) {
    let store = open(&db).await;
    let org = OrganisationId::from(Uuid::now_v7());
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move { write(&store, Some(org), 25, w).await })
        })
        .collect();
    let sealers: Vec<_> = (0..2)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut sealed = 0;
                for _ in 0..40 {
                    sealed += store.seal_audit(t0(), 7).await.unwrap_or_else(|e| panic!("{e}"));
                    tokio::task::yield_now().await;
                }
                sealed
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap_or_else(|e| panic!("{e}"));
    }
    let mut sealed = 0;
    for sealer in sealers {
        sealed += sealer.await.unwrap_or_else(|e| panic!("{e}"));
    }
    sealed += seal(&store).await + seal(&store).await;
    assert_eq!(
        sealed, 100,
        "100 entries written by 4 writers, each sealed once by 2 sealers"
    );
    assert_eq!(
        verify(&store, Visibility::Everything).await,
        vec![(chain_of(Some(org)), 100, 0, None)]
    );
}

on_both_engines!(
    sealed_chains_verify_per_organisation,
    edits_deletions_and_truncation_are_detected,
    concurrent_sealers_share_the_work,
);
