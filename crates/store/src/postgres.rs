//! The production engine: stateless API processes share one PostgreSQL.

use crate::{backend, StoreOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::Transaction;
use std::str::FromStr;
use std::time::Duration;

type Db = sqlx::Postgres;

/// One pool for reads and writes; transactions run at READ COMMITTED and rely on
/// conditional updates and unique keys, never on read-then-write.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: sqlx::Pool<Db>,
}

impl PgStore {
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Self, leasehold_core::ports::StoreError> {
        let connect = PgConnectOptions::from_str(url).map_err(backend)?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(connect)
            .await
            .map_err(backend)?;
        Ok(Self { pool })
    }

    pub async fn migrate(&self) -> Result<(), leasehold_core::ports::StoreError> {
        sqlx::migrate!("../../migrations/postgres")
            .run(&self.pool)
            .await
            .map_err(backend)
    }

    async fn begin(&self) -> Result<Transaction<'static, Db>, sqlx::Error> {
        self.pool.begin().await
    }

    /// Runs a seat-path write in a transaction of its own: PostgreSQL commits
    /// concurrent transactions in groups itself.
    async fn write<T, F>(&self, op: F) -> Result<T, leasehold_core::ports::StoreError>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut Conn) -> crate::group_commit::BoxFuture<'c, Result<T, leasehold_core::ports::StoreError>>
            + Send
            + Sync
            + 'static,
    {
        let mut tx = self.begin().await.map_err(backend)?;
        let output = op(&mut tx).await?;
        tx.commit().await.map_err(backend)?;
        Ok(output)
    }

    fn reader(&self) -> &sqlx::Pool<Db> {
        &self.pool
    }

    pub fn pool(&self) -> &sqlx::Pool<Db> {
        &self.pool
    }
}

type Engine = PgStore;

/// Two processes starting together must not each create a signing key.
const LOCK_SIGNING_KEYS: Option<&str> = Some("LOCK TABLE signing_keys IN EXCLUSIVE MODE");

/// Concurrent releases in several processes each claim a different waiting request.
const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";

/// Locks the rows read until the transaction ends (usage stamping, roll-up
/// claims). `NO KEY`: it must not wait for the key-share locks that inserts
/// referencing the row hold (two checkouts queueing into one pool would
/// deadlock), only for other writers of the row.
const FOR_UPDATE: &str = " FOR NO KEY UPDATE";

include!("engine.rs");
include!("seats.rs");
include!("leases.rs");
include!("watch.rs");
include!("outbox.rs");
include!("reports.rs");
include!("invoices.rs");
