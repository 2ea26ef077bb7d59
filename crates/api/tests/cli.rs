//! The `leasehold` binary as an operator runs it: migrate, openapi, user
//! create, demo (twice: it is idempotent), audit verify and serve, on a fresh
//! database; backup while serving and restore into a new one.

use leasehold_store::testing::TestDatabase;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `leasehold args…` against `database`, from an empty directory (no stray
/// `leasehold.toml` and no built SPA).
fn leasehold(database: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_leasehold"));
    command
        .args(args)
        .current_dir(std::env::temp_dir())
        .env("LEASEHOLD_DATABASE_URL", database)
        .env("LEASEHOLD_CONFIG", "/nonexistent/leasehold.toml")
        .env("RUST_LOG", "warn");
    command
}

fn run(database: &str, args: &[&str]) -> Output {
    leasehold(database, args)
        .output()
        .unwrap_or_else(|e| panic!("leasehold {args:?}: {e}"))
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn the_operator_commands(db: TestDatabase) {
    let migrated = run(&db.url, &["migrate"]);
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    assert!(stdout(&migrated).contains("up to date"));

    let spec = run(&db.url, &["openapi"]);
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/openapi.json")).unwrap_or_default();
    assert!(
        spec.status.success() && stdout(&spec) == checked_in,
        "prints the checked-in spec"
    );

    let create = [
        "user",
        "create",
        "--email",
        "ops@vendor.test",
        "--password",
        "a long passphrase",
        "--role",
        "vendor_admin",
    ];
    let created = run(&db.url, &create);
    assert!(created.status.success(), "{}", stderr(&created));
    assert!(stdout(&created).contains("created ops@vendor.test (vendor_admin)"));
    let again = run(&db.url, &create);
    assert!(!again.status.success(), "the email is taken");
    assert!(stderr(&again).contains("email"), "{}", stderr(&again));
    let mut bad_role = create;
    bad_role[7] = "emperor";
    let refused = run(&db.url, &bad_role);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("role"), "{}", stderr(&refused));

    let first = run(&db.url, &["demo"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("demo data created"));
    let second = run(&db.url, &["demo"]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stdout(&second).contains("demo data already present"),
        "demo is idempotent"
    );
    assert!(stdout(&second).contains("password:"), "it prints the logins again");

    // audit verify: seals the demo's entries, recomputes every chain; an edited
    // entry makes it name the chain and the entry, and exit with 1.
    let verified = run(&db.url, &["audit", "verify"]);
    assert!(verified.status.success(), "{}{}", stdout(&verified), stderr(&verified));
    assert!(
        stdout(&verified).contains("the audit log verifies"),
        "{}",
        stdout(&verified)
    );
    let forged = db
        .execute("UPDATE audit_log SET action = 'licence.forged' WHERE seq = 1")
        .await;
    assert!(forged >= 2, "the demo wrote several chains: {forged}");
    let tampered = run(&db.url, &["audit", "verify"]);
    assert_eq!(
        tampered.status.code(),
        Some(1),
        "{}{}",
        stdout(&tampered),
        stderr(&tampered)
    );
    let report = stdout(&tampered);
    assert!(
        report.contains("BROKEN") && report.contains("entry 1") && report.contains("edited"),
        "{report}"
    );
    assert!(report.contains("the audit log was tampered with"), "{report}");

    // serve: healthy and ready, and the operator's user signs in.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"));
    let _server = Server(
        leasehold(&db.url, &["serve"])
            .env("LEASEHOLD_BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("serve: {e}")),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match http.get(format!("{base}/healthz")).send().await {
            Ok(r) if r.status().is_success() => break,
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!("the server never became healthy: {other:?}"),
        }
    }
    let ready = http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map(|r| r.status().as_u16());
    assert_eq!(ready.ok(), Some(200), "ready: the database is reachable");
    let login = http
        .post(format!("{base}/v1/auth/login"))
        .json(&serde_json::json!({"email": "ops@vendor.test", "password": "a long passphrase"}))
        .send()
        .await
        .map(|r| r.status().as_u16());
    assert_eq!(login.ok(), Some(200));
}

/// A backup taken while the server serves restores into a new database with
/// every licence, audit entry and invoice, the audit chains verifying; a
/// restore never overwrites a database in use.
async fn backups_restore_everything_acknowledged(db: TestDatabase, restored: TestDatabase) {
    let demo = run(&db.url, &["demo"]);
    assert!(demo.status.success(), "{}", stderr(&demo));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"));
    let server = Server(
        leasehold(&db.url, &["serve"])
            .env("LEASEHOLD_BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("serve: {e}")),
    );
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !matches!(http.get(format!("http://127.0.0.1:{port}/readyz")).send().await, Ok(r) if r.status().is_success())
    {
        assert!(Instant::now() < deadline, "the server never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The server's jobs keep writing while the backup runs: what was there
    // before it must be restored, and nothing that was never written.
    const TABLES: [&str; 4] = ["licences", "audit_log", "usage_events", "users"];
    let mut before = Vec::new();
    for table in TABLES {
        before.push(db.count(table).await);
    }
    let file = std::env::temp_dir().join(format!("leasehold-backup-{}", uuid::Uuid::now_v7().simple()));
    let file_arg = file.to_string_lossy().into_owned();
    let backup = run(&db.url, &["backup", "--to", &file_arg]);
    assert!(backup.status.success(), "{}", stderr(&backup));
    assert!(stdout(&backup).contains("backed up to"));
    let again = run(&db.url, &["backup", "--to", &file_arg]);
    assert!(!again.status.success(), "an existing file is never overwritten");
    drop(server);

    let restore = run(&restored.url, &["restore", "--from", &file_arg]);
    assert!(restore.status.success(), "{}{}", stdout(&restore), stderr(&restore));
    for (table, before) in TABLES.into_iter().zip(before) {
        let (restored, after) = (restored.count(table).await, db.count(table).await);
        assert!(
            before > 0 && before <= restored && restored <= after,
            "{table}: {before} before the backup, {restored} restored, {after} when the server stopped"
        );
    }
    let verified = run(&restored.url, &["audit", "verify"]);
    assert!(verified.status.success(), "{}{}", stdout(&verified), stderr(&verified));
    // A second restore finds the database in use and leaves it alone.
    let kept = restored.count("licences").await;
    let twice = run(&restored.url, &["restore", "--from", &file_arg]);
    assert!(!twice.status.success(), "{}", stdout(&twice));
    assert!(stderr(&twice).contains("restore into a new"), "{}", stderr(&twice));
    assert_eq!(restored.count("licences").await, kept);
    let _ = std::fs::remove_file(file);
}

#[tokio::test]
async fn backups_on_sqlite() {
    backups_restore_everything_acknowledged(TestDatabase::sqlite(), TestDatabase::sqlite()).await;
}

#[tokio::test]
async fn backups_on_postgres() {
    if let (Some(db), Some(restored)) = (TestDatabase::postgres().await, TestDatabase::postgres().await) {
        backups_restore_everything_acknowledged(db, restored).await;
    }
}

#[tokio::test]
async fn the_operator_commands_on_sqlite() {
    the_operator_commands(TestDatabase::sqlite()).await;
}

#[tokio::test]
async fn the_operator_commands_on_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        the_operator_commands(db).await;
    }
}
