//! Group commit for SQLite's single writer: the seat paths (registration,
//! checkout, heartbeat, release) queue their work here, and one task runs
//! everything waiting at that moment in a single `BEGIN IMMEDIATE`
//! transaction, answering each caller only after the commit. Under load a
//! batch of 64 checkouts costs one transaction (one WAL append, and with
//! `synchronous=FULL` one fsync) instead of 64.
//!
//! Invariant 1 is untouched: the ops of a batch run one after another on the
//! one writer connection, each with its own conditional `held < capacity`
//! update, exactly as they would in transactions of their own. When any op of a
//! batch fails, the whole batch rolls back and every op runs again alone, so
//! one caller's error never becomes another's.

use crate::backend;
use leasehold_core::ports::StoreError;
use sqlx::sqlite::SqliteConnection;
use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The most ops in one transaction: bounds a batch's latency and its rollback.
const MAX_BATCH: usize = 256;

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
type Output = Box<dyn Any + Send>;
/// An op may run twice (together, then alone after a batch failed): `Fn`.
type Op = Box<dyn for<'c> Fn(&'c mut SqliteConnection) -> BoxFuture<'c, Result<Output, StoreError>> + Send + Sync>;

struct Job {
    op: Op,
    reply: oneshot::Sender<Result<Output, StoreError>>,
}

/// What the writer has done since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupCommitStats {
    /// Transactions committed.
    pub commits: u64,
    /// Ops committed in them.
    pub ops: u64,
    /// The most ops one transaction held.
    pub largest: u64,
    /// Batches rolled back because one op failed (their ops then ran alone).
    pub split: u64,
}

#[derive(Default)]
struct Counters {
    commits: AtomicU64,
    ops: AtomicU64,
    largest: AtomicU64,
    split: AtomicU64,
}

/// The handle the store keeps; the writer task stops when the last one drops.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    jobs: mpsc::Sender<Job>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    /// Starts the writer task on the current runtime, writing through `pool`
    /// (SQLite's one write connection, shared with the other writes).
    pub(crate) fn start(pool: sqlx::SqlitePool) -> Self {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        let counters = Arc::new(Counters::default());
        tokio::spawn(writer(pool, queue, counters.clone()));
        Self { jobs, counters }
    }

    pub(crate) fn stats(&self) -> GroupCommitStats {
        let c = &self.counters;
        GroupCommitStats {
            commits: c.commits.load(Ordering::Relaxed),
            ops: c.ops.load(Ordering::Relaxed),
            largest: c.largest.load(Ordering::Relaxed),
            split: c.split.load(Ordering::Relaxed),
        }
    }

    /// Runs `op` in the next batch's transaction; its result once that committed.
    pub(crate) async fn run<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> Fn(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>> + Send + Sync + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let op: Op = Box::new(move |conn| {
            let done = op(conn);
            Box::pin(async move { done.await.map(|t| Box::new(t) as Output) })
        });
        let stopped = || backend("the SQLite writer has stopped");
        self.jobs.send(Job { op, reply }).await.map_err(|_| stopped())?;
        let output = answer.await.map_err(|_| stopped())??;
        output
            .downcast::<T>()
            .map(|t| *t)
            .map_err(|_| backend("the SQLite writer answered with the wrong type"))
    }
}

async fn writer(pool: sqlx::SqlitePool, mut queue: mpsc::Receiver<Job>, counters: Arc<Counters>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(job) = queue.recv().await {
        batch.push(job);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&pool, std::mem::take(&mut batch), &counters).await;
    }
}

async fn run_batch(pool: &sqlx::SqlitePool, batch: Vec<Job>, counters: &Counters) {
    let committed = |ops: usize| {
        let ops = ops as u64;
        counters.commits.fetch_add(1, Ordering::Relaxed);
        counters.ops.fetch_add(ops, Ordering::Relaxed);
        counters.largest.fetch_max(ops, Ordering::Relaxed);
    };
    if batch.len() > 1 {
        if let Ok(outputs) = together(pool, &batch).await {
            committed(batch.len());
            for (job, output) in batch.into_iter().zip(outputs) {
                let _ = job.reply.send(Ok(output));
            }
            return;
        }
        counters.split.fetch_add(1, Ordering::Relaxed);
    }
    for job in batch {
        let result = together(pool, std::slice::from_ref(&job)).await;
        if result.is_ok() {
            committed(1);
        }
        let _ = job.reply.send(result.map(|mut outputs| outputs.remove(0)));
    }
}

/// Runs `jobs` in one transaction: all commit, or none does.
async fn together(pool: &sqlx::SqlitePool, jobs: &[Job]) -> Result<Vec<Output>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
    let mut outputs = Vec::with_capacity(jobs.len());
    for job in jobs {
        outputs.push((job.op)(&mut tx).await?);
    }
    tx.commit().await.map_err(backend)?;
    Ok(outputs)
}
