//! Fresh databases for tests: a temporary SQLite file, or a uniquely named
//! PostgreSQL database that is dropped when the value is dropped.
//!
//! PostgreSQL is found at `LEASEHOLD_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). When it cannot be reached the
//! PostgreSQL tests skip — unless `CI=true`, where they fail.

use sqlx::{Connection, Executor, PgConnection};
use std::path::PathBuf;

pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(PathBuf),
    PostgresDatabase { admin_url: String, name: String },
}

fn admin_url() -> String {
    std::env::var("LEASEHOLD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn with_database(admin_url: &str, name: &str) -> String {
    match admin_url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => format!("{admin_url}/{name}"),
    }
}

impl TestDatabase {
    pub fn sqlite() -> Self {
        let path = std::env::temp_dir().join(format!("leasehold-test-{}.db", uuid::Uuid::new_v4().simple()));
        Self {
            url: format!("sqlite:{}", path.display()),
            cleanup: Cleanup::SqliteFile(path),
        }
    }

    /// A new, empty PostgreSQL database; `None` (skip) when PostgreSQL is
    /// unreachable outside CI.
    pub async fn postgres() -> Option<Self> {
        let admin_url = admin_url();
        let mut admin = match PgConnection::connect(&admin_url).await {
            Ok(connection) => connection,
            Err(error) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("CI=true and PostgreSQL is unreachable at {admin_url}: {error}")
            }
            Err(error) => {
                eprintln!("skipping a PostgreSQL test: {error}");
                return None;
            }
        };
        let name = format!("leasehold_test_{}", uuid::Uuid::new_v4().simple());
        if let Err(error) = admin.execute(format!("CREATE DATABASE {name}").as_str()).await {
            panic!("could not create the test database {name}: {error}");
        }
        let url = with_database(&admin_url, &name);
        Some(Self {
            url,
            cleanup: Cleanup::PostgresDatabase { admin_url, name },
        })
    }
}

impl TestDatabase {
    /// Runs raw SQL on the database behind the store's back, as someone with
    /// access to the database could (tamper tests).
    pub async fn execute(&self, sql: &str) -> u64 {
        let result = match self.cleanup {
            Cleanup::SqliteFile(_) => {
                let mut conn = match sqlx::SqliteConnection::connect(&self.url).await {
                    Ok(conn) => conn,
                    Err(error) => panic!("connect to {}: {error}", self.url),
                };
                conn.execute(sql).await.map(|done| done.rows_affected())
            }
            Cleanup::PostgresDatabase { .. } => {
                let mut conn = match PgConnection::connect(&self.url).await {
                    Ok(conn) => conn,
                    Err(error) => panic!("connect to {}: {error}", self.url),
                };
                conn.execute(sql).await.map(|done| done.rows_affected())
            }
        };
        result.unwrap_or_else(|error| panic!("{sql}: {error}"))
    }

    /// The rows of `table`, read behind the store's back.
    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let result = match self.cleanup {
            Cleanup::SqliteFile(_) => match sqlx::SqliteConnection::connect(&self.url).await {
                Ok(mut conn) => sqlx::query_scalar(&sql).fetch_one(&mut conn).await,
                Err(error) => panic!("connect to {}: {error}", self.url),
            },
            Cleanup::PostgresDatabase { .. } => match PgConnection::connect(&self.url).await {
                Ok(mut conn) => sqlx::query_scalar(&sql).fetch_one(&mut conn).await,
                Err(error) => panic!("connect to {}: {error}", self.url),
            },
        };
        result.unwrap_or_else(|error| panic!("{sql}: {error}"))
    }

    /// `id` as an SQL literal of this engine's uuid column type.
    pub fn uuid_literal(&self, id: uuid::Uuid) -> String {
        match self.cleanup {
            Cleanup::SqliteFile(_) => format!("x'{}'", id.simple()),
            Cleanup::PostgresDatabase { .. } => format!("'{id}'"),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Cleanup::PostgresDatabase { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: drop the database from a thread of its own.
                let dropped = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    runtime.block_on(async {
                        let mut admin = PgConnection::connect(&admin_url).await.ok()?;
                        admin
                            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                            .await
                            .ok()
                    })
                })
                .join();
                if !matches!(dropped, Ok(Some(_))) {
                    eprintln!("warning: a test database was not dropped");
                }
            }
        }
    }
}
