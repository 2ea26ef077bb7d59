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
    let port = free_port();
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
    let (server, _) = serve(&db.url).await;
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

/// `leasehold serve` on `database` at a free port; waits until it is ready.
async fn serve(database: &str) -> (Server, String) {
    let port = free_port();
    let server = Server(
        leasehold(database, &["serve"])
            .env("LEASEHOLD_BIND", format!("127.0.0.1:{port}"))
            .env("LEASEHOLD__LOGIN_PER_MINUTE", "1000")
            .env("LEASEHOLD__API_KEY_PER_MINUTE", "1000000")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("serve: {e}")),
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    (server, base)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Waits (30 s at most) until the server at `base` answers `/readyz` with 200.
async fn wait_ready(base: &str) {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !matches!(http.get(format!("{base}/readyz")).send().await, Ok(r) if r.status().is_success()) {
        assert!(Instant::now() < deadline, "the server never became ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// kill -9 in the middle of a burst of registrations and invoices: after a
/// restart every acknowledged grant still holds its seat, every acknowledged
/// invoice exists, the pool counts each seat once and within capacity, and
/// the audit chains verify.
async fn a_killed_server_loses_nothing_it_acknowledged(db: TestDatabase) {
    use leasehold_client::{Client, Registration};
    use leasehold_core::values::{ApiScope, Plan, SeatKind};
    use leasehold_core::wire::*;
    let created = run(
        &db.url,
        &[
            "user",
            "create",
            "--email",
            "ops@vendor.test",
            "--password",
            "a long passphrase",
            "--role",
            "vendor_admin",
        ],
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let (server, base) = serve(&db.url).await;
    let fail = |e: leasehold_client::ClientError| -> ! { panic!("{e}") };
    let tokens = Client::new(&base)
        .login("ops@vendor.test", "a long passphrase")
        .await
        .unwrap_or_else(|e| fail(e));
    let vendor = Client::new(&base).with_token(&tokens.access_token);
    let org = vendor
        .create_organisation(&CreateOrganisation {
            name: "Crashy".into(),
            account_manager_id: None,
        })
        .await
        .unwrap_or_else(|e| fail(e))
        .id;
    let owner = vendor
        .create_user(&CreateUser {
            email: "owner@crashy.test".into(),
            name: String::new(),
            password: "a long passphrase".into(),
            role: leasehold_core::values::Role::OrgAdmin,
            organisation_id: Some(org),
        })
        .await
        .unwrap_or_else(|e| fail(e))
        .id;
    let product = vendor
        .create_product(&CreateProduct {
            code: "CRASH".into(),
            name: "Crash".into(),
            seat_kind: SeatKind::Device,
            currency: "EUR".into(),
            prices: [(Plan::Yearly, 100)].into_iter().collect(),
            default_lease_seconds: None,
        })
        .await
        .unwrap_or_else(|e| fail(e))
        .id;
    const CAPACITY: i64 = 60;
    let mut licences = Vec::new();
    for _ in 0..CAPACITY / 2 {
        let licence = CreateLicence {
            product_id: product,
            plan: Plan::Yearly,
            name: "two seats".into(),
            note: None,
            quantity: 2,
            owner_organisation_id: Some(org),
            owner_user_id: Some(owner),
            auto_renew: false,
        };
        licences.push(
            vendor
                .create_licence(&licence, None)
                .await
                .unwrap_or_else(|e| fail(e))
                .body
                .id,
        );
    }
    let key = vendor
        .create_api_key(&CreateApiKey {
            name: "fleet".into(),
            organisation_id: Some(org),
            scopes: vec![ApiScope::DevicesRegister],
        })
        .await
        .unwrap_or_else(|e| fail(e))
        .key;
    let agent = Client::new(&base).with_token(&key);

    // 8 clients register devices (more than there are seats) and send one
    // invoice each as fast as they can; the server is killed mid-way.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new((Vec::new(), Vec::new())));
    let mut clients = Vec::new();
    for (c, licence) in licences.iter().copied().enumerate().take(8) {
        let (agent, vendor, acked) = (agent.clone(), vendor.clone(), acknowledged.clone());
        clients.push(tokio::spawn(async move {
            for i in 0..100 {
                let body = RegisterDevice {
                    fingerprint: format!("crash-{c}-{i}"),
                    name: format!("desk {c}-{i}"),
                    product_id: product,
                };
                match agent.register_device(&body, None).await {
                    Ok(Registration::Granted { grant, .. }) => {
                        acked.lock().unwrap_or_else(|e| e.into_inner()).0.push(grant.device_id)
                    }
                    Ok(Registration::Queued(_)) => {}
                    Err(_) => return, // the server is gone
                }
                if i == 1 {
                    if let Ok(batch) = vendor.send_invoices(&[licence], None).await {
                        let invoice = batch.results[0].invoice.as_ref().map(|i| i.id);
                        acked.lock().unwrap_or_else(|e| e.into_inner()).1.extend(invoice);
                    }
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let granted = acknowledged.lock().unwrap_or_else(|e| e.into_inner()).0.len();
        if granted >= 25 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(server); // SIGKILL: no shutdown, no flush
    for client in clients {
        let _ = client.await;
    }
    let (granted, invoiced) = acknowledged.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(granted.len() >= 25, "the burst was under way: {} grants", granted.len());

    let (_server, base) = serve(&db.url).await;
    let tokens = Client::new(&base)
        .login("ops@vendor.test", "a long passphrase")
        .await
        .unwrap_or_else(|e| fail(e));
    let vendor = Client::new(&base).with_token(&tokens.access_token);
    for device in &granted {
        let view = vendor.get_device(*device).await.unwrap_or_else(|e| fail(e));
        assert!(!view.seats.is_empty(), "acknowledged grant of {device} lost");
    }
    for invoice in &invoiced {
        vendor.get_invoice(*invoice).await.unwrap_or_else(|e| fail(e));
    }
    let pool = vendor
        .list_pools(&PoolQuery::default())
        .await
        .unwrap_or_else(|e| fail(e))
        .items
        .into_iter()
        .find(|p| p.product_id == product)
        .unwrap_or_else(|| panic!("no pool"));
    let query = DeviceQuery {
        per_page: Some(100),
        ..DeviceQuery::default()
    };
    let holding = vendor
        .list_devices(&query)
        .await
        .unwrap_or_else(|e| fail(e))
        .items
        .iter()
        .filter(|d| !d.seats.is_empty())
        .count() as i64;
    assert_eq!(pool.held, holding, "each held seat is counted once");
    assert!(
        pool.held <= pool.capacity && pool.capacity == CAPACITY,
        "{} of {}",
        pool.held,
        pool.capacity
    );
    assert!(pool.held >= granted.len() as i64);
    assert!(!invoiced.is_empty(), "invoices were acknowledged before the kill");
    let verified = run(&db.url, &["audit", "verify"]);
    assert!(verified.status.success(), "{}{}", stdout(&verified), stderr(&verified));
    println!(
        "killed mid-burst: {} grants and {} invoices acknowledged, all kept; {} seats held of {}",
        granted.len(),
        invoiced.len(),
        pool.held,
        pool.capacity
    );
}

/// SIGTERM: the server takes no new connections, finishes the requests in
/// flight (here sign-ins, which hash slowly), stops its background jobs
/// between passes and exits 0.
#[tokio::test]
async fn sigterm_drains_requests_and_jobs() {
    let db = TestDatabase::sqlite();
    let created = run(
        &db.url,
        &[
            "user",
            "create",
            "--email",
            "ops@vendor.test",
            "--password",
            "a long passphrase",
            "--role",
            "vendor_admin",
        ],
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let port = free_port();
    let log = std::env::temp_dir().join(format!("leasehold-shutdown-{}.log", uuid::Uuid::now_v7().simple()));
    let mut child = leasehold(&db.url, &["serve"])
        .env("LEASEHOLD_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .env("LEASEHOLD__LOGIN_PER_MINUTE", "1000")
        .stdout(std::fs::File::create(&log).unwrap_or_else(|e| panic!("{e}")))
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("serve: {e}"));
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    let http = reqwest::Client::new();
    let sign_ins: Vec<_> = (0..4)
        .map(|_| {
            let request = http
                .post(format!("{base}/v1/auth/login"))
                .json(&serde_json::json!({"email": "ops@vendor.test", "password": "a long passphrase"}))
                .send();
            tokio::spawn(async move { request.await.map(|r| r.status().as_u16()) })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(term.success());
    for sign_in in sign_ins {
        let status = sign_in.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(status.ok(), Some(200), "a request in flight is finished, not cut");
    }
    let deadline = Instant::now() + Duration::from_secs(25);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap_or_else(|e| panic!("{e}")) {
            break exit;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let said = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    assert!(exit.success(), "{exit:?}: {said}");
    assert!(said.contains("background jobs finished"), "{said}");
    assert!(
        http.get(format!("{base}/healthz")).send().await.is_err(),
        "no new connections after the stop"
    );
}

#[tokio::test]
async fn crash_safety_on_sqlite() {
    a_killed_server_loses_nothing_it_acknowledged(TestDatabase::sqlite()).await;
}

#[tokio::test]
async fn crash_safety_on_postgres() {
    if let Some(db) = TestDatabase::postgres().await {
        a_killed_server_loses_nothing_it_acknowledged(db).await;
    }
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
