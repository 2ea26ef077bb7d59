//! Backups and restores of a whole database, online.
//!
//! SQLite: `VACUUM INTO` writes a consistent, compacted copy from one read
//! transaction while the server keeps serving; restoring copies it into
//! place. PostgreSQL: `pg_dump --format=custom` (one snapshot, consistent
//! across tables) and `pg_restore` into an empty database; both tools must be
//! on the `PATH`, as they are wherever PostgreSQL's client is installed.

use crate::{backend, EngineKind};
use leasehold_core::ports::StoreError;
use sqlx::Connection;
use std::path::Path;
use std::process::Command;

fn sqlite_path(url: &str) -> &str {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    path.split('?').next().unwrap_or(path)
}

fn refuse(message: String) -> StoreError {
    StoreError::Backend(message)
}

fn run(mut command: Command, what: &str) -> Result<(), StoreError> {
    let output = command.output().map_err(|e| {
        refuse(format!(
            "{what} could not be run (is PostgreSQL's client installed?): {e}"
        ))
    })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(refuse(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// Writes a backup of the database named by `url` to `to` (which must not exist).
pub async fn backup(url: &str, to: &Path) -> Result<(), StoreError> {
    if to.exists() {
        return Err(refuse(format!(
            "{} exists already; back up to a new file",
            to.display()
        )));
    }
    match EngineKind::of(url)? {
        EngineKind::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.map_err(backend)?;
            let target = to
                .to_str()
                .ok_or_else(|| refuse("the backup path is not UTF-8".into()))?;
            sqlx::query("VACUUM INTO $1")
                .bind(target)
                .execute(&mut conn)
                .await
                .map_err(backend)?;
            conn.close().await.map_err(backend)
        }
        EngineKind::Postgres => {
            let mut command = Command::new("pg_dump");
            command
                .args(["--format=custom", "--no-owner", "--file"])
                .arg(to)
                .arg(url);
            run(command, "pg_dump")
        }
    }
}

/// Restores the backup at `from` into the database named by `url`, which
/// must be new: a missing SQLite file, or a PostgreSQL database without
/// tables. The server must not be running on it yet.
pub async fn restore(url: &str, from: &Path) -> Result<(), StoreError> {
    if !from.is_file() {
        return Err(refuse(format!("no backup at {}", from.display())));
    }
    match EngineKind::of(url)? {
        EngineKind::Sqlite => {
            let target = Path::new(sqlite_path(url));
            if target.exists() {
                return Err(refuse(format!(
                    "{} exists; restore into a new file and point LEASEHOLD_DATABASE_URL at it",
                    target.display()
                )));
            }
            std::fs::copy(from, target).map_err(backend)?;
            // A copy that is not a Leasehold database is not left behind as one.
            let mut conn = sqlx::SqliteConnection::connect(url).await.map_err(backend)?;
            let check: Result<i64, _> = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
                .fetch_one(&mut conn)
                .await;
            conn.close().await.map_err(backend)?;
            if let Err(error) = check {
                let _ = std::fs::remove_file(target);
                return Err(refuse(format!("{} is not a Leasehold backup: {error}", from.display())));
            }
            Ok(())
        }
        EngineKind::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.map_err(backend)?;
            let tables: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'")
                    .fetch_one(&mut conn)
                    .await
                    .map_err(backend)?;
            conn.close().await.map_err(backend)?;
            if tables > 0 {
                return Err(refuse(
                    "the database has tables already; restore into a new, empty database".into(),
                ));
            }
            let mut command = Command::new("pg_restore");
            command
                .args(["--no-owner", "--exit-on-error", "--single-transaction", "--dbname"])
                .arg(url)
                .arg(from);
            run(command, "pg_restore")
        }
    }
}
