//! SQLite and PostgreSQL adapters of [`leasehold_core::ports::Store`].
//!
//! Both engines run the same SQL, written once in `engine.rs` and compiled twice
//! (`include!`) against each engine's sqlx types; where the dialects differ, each
//! engine module defines the difference (transaction start, locks). The schemas
//! live in `migrations/sqlite` and `migrations/postgres` at the workspace root.

pub mod backup;
mod group_commit;
pub use group_commit::GroupCommitStats;
pub mod postgres;
mod rows;
pub mod sqlite;
pub mod testing;

use leasehold_core::ports::{Store, StoreError};
use std::sync::Arc;

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Connections of the read pool (PostgreSQL: the only pool).
    pub max_connections: u32,
    /// SQLite: `synchronous=FULL` (survives power loss) instead of `NORMAL`
    /// (survives a process crash).
    pub sqlite_durable: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            sqlite_durable: false,
        }
    }
}

/// Which engine a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    Sqlite,
    Postgres,
}

impl EngineKind {
    pub fn of(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::Backend(
                "the database URL must start with sqlite: or postgres://".to_owned(),
            ))
        }
    }
}

/// Opens the database named by `url` and brings its schema up to date.
pub async fn open(url: &str, options: &StoreOptions) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match EngineKind::of(url)? {
        EngineKind::Sqlite => {
            let store = sqlite::SqliteStore::open(url, options).await?;
            store.migrate().await?;
            Arc::new(store)
        }
        EngineKind::Postgres => {
            let store = postgres::PgStore::open(url, options).await?;
            store.migrate().await?;
            Arc::new(store)
        }
    })
}

pub(crate) fn backend(error: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(error.to_string())
}

/// Writes usage events as they are into the database named by `url` (tests
/// and the report benchmark build long histories with it).
pub async fn import_usage_events(url: &str, events: &[leasehold_core::ports::UsageEvent]) -> Result<(), StoreError> {
    match EngineKind::of(url)? {
        EngineKind::Sqlite => {
            sqlite::SqliteStore::open(url, &StoreOptions::default())
                .await?
                .import_usage_events(events)
                .await
        }
        EngineKind::Postgres => {
            postgres::PgStore::open(url, &StoreOptions::default())
                .await?
                .import_usage_events(events)
                .await
        }
    }
}
