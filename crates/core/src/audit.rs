//! The audit log's hash chain: one chain per organisation (and one for
//! vendor-wide entries), each sealed entry storing its place in the chain, the
//! hash of the entry before it and its own hash over both and its content.
//!
//! Writers append entries unsealed, so the seat paths pay nothing for the
//! chain and never contend on its head; a sealer (one per chain at a time)
//! gives the pending entries their places in commit order within a second or
//! so. [`ChainVerifier`] recomputes a chain from its first entry: an edited
//! entry no longer matches its hash, a deleted one leaves a gap in the
//! sequence, and a truncated tail no longer reaches the chain's head.

use crate::ports::AuditEntry;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of a chain's first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain vendor-wide entries (no organisation) belong to.
pub const VENDOR_CHAIN: uuid::Uuid = uuid::Uuid::nil();

/// The chain an entry of `organisation` belongs to.
pub fn chain_of(organisation: Option<crate::ids::OrganisationId>) -> uuid::Uuid {
    organisation.map_or(VENDOR_CHAIN, |id| id.as_uuid())
}

/// An entry with its place in its chain.
#[derive(Debug, Clone, PartialEq)]
pub struct SealedEntry {
    pub entry: AuditEntry,
    pub chain_id: uuid::Uuid,
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
}

/// The last sealed place of a chain, kept apart from the entries so that
/// deleting the newest entries is detected too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

/// A chain as stored: its head (gone if someone deleted it while sealed
/// entries remain) and how many entries await sealing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainState {
    pub chain_id: uuid::Uuid,
    pub head: Option<ChainHead>,
    pub pending: i64,
}

/// The hash of an entry at `seq` in `chain_id` after `prev_hash`: SHA-256 over
/// a JSON array of every stored field (object keys sorted, so the value reads
/// back the same from either engine), hex-encoded.
pub fn entry_hash(chain_id: uuid::Uuid, seq: i64, prev_hash: &str, entry: &AuditEntry) -> String {
    let content = serde_json::json!([
        chain_id,
        seq,
        prev_hash,
        entry.id.as_uuid(),
        entry.at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        entry.organisation_id.map(|id| id.as_uuid()),
        entry.product_id.map(|id| id.as_uuid()),
        entry.actor.kind.as_str(),
        entry.actor.id,
        entry.action,
        entry.object_kind,
        entry.object_id,
        entry.before,
        entry.after,
        entry.request_id,
    ]);
    let digest = Sha256::digest(content.to_string().as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// What is wrong with a chain, at the first place it goes wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainBreak {
    /// The entry at `seq` no longer matches its hash: it was edited.
    Edited { seq: i64, entry_id: uuid::Uuid },
    /// The entry at `seq` does not name the hash of the entry before it.
    Relinked { seq: i64, entry_id: uuid::Uuid },
    /// Entries `from`..=`to` are missing: deleted.
    Missing { from: i64, to: i64 },
    /// Sealed entries exist but the chain's head is gone.
    HeadMissing,
}

impl ChainBreak {
    pub fn describe(&self) -> String {
        match self {
            ChainBreak::Edited { seq, entry_id } => format!("entry {seq} ({entry_id}) was edited after it was sealed"),
            ChainBreak::Relinked { seq, entry_id } => {
                format!("entry {seq} ({entry_id}) does not follow the entry before it")
            }
            ChainBreak::Missing { from, to } if from == to => format!("entry {from} was deleted"),
            ChainBreak::Missing { from, to } => format!("entries {from} to {to} were deleted"),
            ChainBreak::HeadMissing => "the chain's head was deleted".to_owned(),
        }
    }
}

/// Walks one chain's sealed entries in `seq` order; reports the first break.
#[derive(Debug)]
pub struct ChainVerifier {
    chain_id: uuid::Uuid,
    next_seq: i64,
    prev_hash: String,
    verified: i64,
    broken: Option<ChainBreak>,
}

impl ChainVerifier {
    pub fn new(chain_id: uuid::Uuid) -> Self {
        Self {
            chain_id,
            next_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            verified: 0,
            broken: None,
        }
    }

    /// The next entry in `seq` order.
    pub fn push(&mut self, sealed: &SealedEntry) {
        if self.broken.is_some() {
            return;
        }
        let entry_id = sealed.entry.id.as_uuid();
        if sealed.chain_id != self.chain_id {
            self.broken = Some(ChainBreak::Relinked {
                seq: sealed.seq,
                entry_id,
            });
            return;
        }
        if sealed.seq != self.next_seq {
            self.broken = Some(ChainBreak::Missing {
                from: self.next_seq,
                to: sealed.seq - 1,
            });
            return;
        }
        if sealed.prev_hash != self.prev_hash {
            self.broken = Some(ChainBreak::Relinked {
                seq: sealed.seq,
                entry_id,
            });
            return;
        }
        if entry_hash(self.chain_id, sealed.seq, &sealed.prev_hash, &sealed.entry) != sealed.hash {
            self.broken = Some(ChainBreak::Edited {
                seq: sealed.seq,
                entry_id,
            });
            return;
        }
        self.verified += 1;
        self.next_seq += 1;
        self.prev_hash.clone_from(&sealed.hash);
    }

    /// The seq after which entries are still wanted (for paging).
    pub fn last_seq(&self) -> i64 {
        self.next_seq - 1
    }

    pub fn is_broken(&self) -> bool {
        self.broken.is_some()
    }

    /// The verdict, given the chain's head (`None` when the head row is gone).
    pub fn finish(self, head: Option<&ChainHead>) -> (i64, Option<ChainBreak>) {
        if let Some(broken) = self.broken {
            return (self.verified, Some(broken));
        }
        let Some(head) = head else {
            return (self.verified, (self.verified > 0).then_some(ChainBreak::HeadMissing));
        };
        if head.seq > self.last_seq() {
            return (
                self.verified,
                Some(ChainBreak::Missing {
                    from: self.next_seq,
                    to: head.seq,
                }),
            );
        }
        if head.seq < self.last_seq() || head.hash != self.prev_hash {
            // Entries beyond the head, or a head naming another hash: the head was rewritten.
            return (self.verified, Some(ChainBreak::HeadMissing));
        }
        (self.verified, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Actor, ActorKind};
    use crate::ids::OrganisationId;

    fn chain(n: i64) -> (uuid::Uuid, Vec<SealedEntry>, ChainHead) {
        let org = OrganisationId::from(uuid::Uuid::now_v7());
        let chain_id = chain_of(Some(org));
        let mut prev = GENESIS_HASH.to_owned();
        let mut entries = Vec::new();
        for seq in 1..=n {
            let entry = AuditEntry {
                id: uuid::Uuid::now_v7().into(),
                at: chrono::Utc::now(),
                organisation_id: Some(org),
                product_id: None,
                actor: Actor {
                    kind: ActorKind::User,
                    id: Some(uuid::Uuid::now_v7()),
                },
                action: "licence.created".into(),
                object_kind: "licence".into(),
                object_id: uuid::Uuid::now_v7(),
                before: None,
                after: Some(serde_json::json!({"quantity": seq, "name": "Studio"})),
                request_id: Some(format!("req-{seq}")),
            };
            let hash = entry_hash(chain_id, seq, &prev, &entry);
            entries.push(SealedEntry {
                entry,
                chain_id,
                seq,
                prev_hash: prev.clone(),
                hash: hash.clone(),
            });
            prev = hash;
        }
        let head = ChainHead { seq: n, hash: prev };
        (chain_id, entries, head)
    }

    fn verify(chain_id: uuid::Uuid, entries: &[SealedEntry], head: Option<&ChainHead>) -> (i64, Option<ChainBreak>) {
        let mut verifier = ChainVerifier::new(chain_id);
        entries.iter().for_each(|e| verifier.push(e));
        verifier.finish(head)
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let (id, entries, head) = chain(5);
        assert_eq!(verify(id, &entries, Some(&head)), (5, None));
    }

    #[test]
    fn an_edited_field_is_found_at_its_entry() {
        let (id, mut entries, head) = chain(5);
        entries[2].entry.after = Some(serde_json::json!({"quantity": 300, "name": "Studio"}));
        let entry_id = entries[2].entry.id.as_uuid();
        assert_eq!(
            verify(id, &entries, Some(&head)),
            (2, Some(ChainBreak::Edited { seq: 3, entry_id }))
        );
    }

    #[test]
    fn an_edited_entry_rehashed_breaks_the_link_of_the_next() {
        let (id, mut entries, head) = chain(5);
        entries[1].entry.action = "licence.deleted".into();
        entries[1].hash = entry_hash(id, 2, &entries[1].prev_hash, &entries[1].entry);
        let entry_id = entries[2].entry.id.as_uuid();
        assert_eq!(
            verify(id, &entries, Some(&head)),
            (2, Some(ChainBreak::Relinked { seq: 3, entry_id }))
        );
    }

    #[test]
    fn a_deleted_entry_leaves_a_gap() {
        let (id, mut entries, head) = chain(5);
        entries.remove(1);
        assert_eq!(
            verify(id, &entries, Some(&head)),
            (1, Some(ChainBreak::Missing { from: 2, to: 2 }))
        );
    }

    #[test]
    fn deleting_the_newest_entries_falls_short_of_the_head() {
        let (id, mut entries, head) = chain(5);
        entries.truncate(3);
        assert_eq!(
            verify(id, &entries, Some(&head)),
            (3, Some(ChainBreak::Missing { from: 4, to: 5 }))
        );
    }

    #[test]
    fn a_deleted_head_is_reported() {
        let (id, entries, _) = chain(2);
        assert_eq!(verify(id, &entries, None), (2, Some(ChainBreak::HeadMissing)));
        assert_eq!(verify(id, &[], None), (0, None));
    }

    #[test]
    fn the_hash_covers_the_place_in_the_chain() {
        let (id, entries, _) = chain(1);
        let e = &entries[0];
        assert_ne!(entry_hash(id, 2, &e.prev_hash, &e.entry), e.hash);
        assert_ne!(entry_hash(VENDOR_CHAIN, 1, &e.prev_hash, &e.entry), e.hash);
    }
}
