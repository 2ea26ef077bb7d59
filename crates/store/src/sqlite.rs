//! The embedded engine: one file, WAL, one writer connection and a read pool.

use crate::group_commit::{BoxFuture, GroupCommit};
use crate::{backend, StoreOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Transaction;
use std::str::FromStr;
use std::time::Duration;

type Db = sqlx::Sqlite;

/// SQLite allows one writer at a time: writes share a single connection (and start
/// with `BEGIN IMMEDIATE`, so a read-then-write transaction never fails to upgrade);
/// the seat paths go through group commit on that connection; reads use a pool
/// of their own.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    read: sqlx::Pool<Db>,
    write: sqlx::Pool<Db>,
    group: GroupCommit,
}

impl SqliteStore {
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Self, leasehold_core::ports::StoreError> {
        let connect = SqliteConnectOptions::from_str(url)
            .map_err(backend)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if options.sqlite_durable {
                SqliteSynchronous::Full
            } else {
                SqliteSynchronous::Normal
            })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory");
        // A local file needs no liveness ping before every transaction.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(connect.clone())
            .await
            .map_err(backend)?;
        // An in-memory database exists once per connection: share the writer.
        let read = if url.contains(":memory:") || url.contains("mode=memory") {
            write.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(options.max_connections.max(1))
                .test_before_acquire(false)
                .connect_with(connect.read_only(true))
                .await
                .map_err(backend)?
        };
        let group = GroupCommit::start(write.clone());
        Ok(Self { read, write, group })
    }

    pub async fn migrate(&self) -> Result<(), leasehold_core::ports::StoreError> {
        sqlx::migrate!("../../migrations/sqlite")
            .run(&self.write)
            .await
            .map_err(backend)
    }

    async fn begin(&self) -> Result<Transaction<'static, Db>, sqlx::Error> {
        self.write.begin_with("BEGIN IMMEDIATE").await
    }

    /// Runs a seat-path write in the next group commit.
    async fn write<T, F>(&self, op: F) -> Result<T, leasehold_core::ports::StoreError>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut Conn) -> BoxFuture<'c, Result<T, leasehold_core::ports::StoreError>>
            + Send
            + Sync
            + 'static,
    {
        self.group.run(op).await
    }

    fn reader(&self) -> &sqlx::Pool<Db> {
        &self.read
    }

    /// What group commit has done so far (for tests, benchmarks and metrics).
    pub fn group_commit_stats(&self) -> crate::GroupCommitStats {
        self.group.stats()
    }

    /// The write pool, for tests that inspect the schema.
    pub fn pool(&self) -> &sqlx::Pool<Db> {
        &self.write
    }
}

type Engine = SqliteStore;

/// SQLite's single writer already serialises signing-key creation.
const LOCK_SIGNING_KEYS: Option<&str> = None;

/// The single writer already serialises queue claims.
const SKIP_LOCKED: &str = "";

/// The single writer (`BEGIN IMMEDIATE`) already serialises what a row lock would.
const FOR_UPDATE: &str = "";

include!("engine.rs");
include!("seats.rs");
include!("leases.rs");
include!("watch.rs");
include!("outbox.rs");
include!("reports.rs");
include!("invoices.rs");
