//! The agent against a running server: it queues while the pool is full, is
//! granted when an administrator revokes another device, verifies its token with
//! the server unreachable, and releases its seat.

use leasehold_api::config::Settings;
use leasehold_api::service::accounts::create_user_as_system;
use leasehold_api::startup::{build_state, Application};
use leasehold_client::{Client, Registration};
use leasehold_core::values::{ApiScope, Plan, Role, SeatKind};
use leasehold_core::wire::*;
use leasehold_store::testing::TestDatabase;
use std::net::TcpListener;
use std::path::Path;

const PASSWORD: &str = "correct horse battery";

async fn agent(server: &str, key: &str, state: &Path, args: &[&str]) -> (bool, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_leasehold-agent"))
        .args(args)
        .env("LEASEHOLD_URL", server)
        .env("LEASEHOLD_API_KEY", key)
        .env("LEASEHOLD_AGENT_STATE", state)
        .output()
        .await
        .unwrap_or_else(|e| panic!("run the agent: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

struct Server {
    url: String,
    _db: TestDatabase,
}

impl Server {
    async fn start() -> Server {
        let db = TestDatabase::sqlite();
        let state = build_state(Settings::for_database(&db.url))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        create_user_as_system(&state, "root@vendor.test", "Root", PASSWORD, Role::VendorAdmin, None)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let app = Application::with_listener(state, listener).unwrap_or_else(|e| panic!("{e}"));
        let server = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());

        Server { url: server, _db: db }
    }

    async fn login(&self, email: &str) -> Client {
        let tokens = Client::new(&self.url)
            .login(email, PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        Client::new(&self.url).with_token(&tokens.access_token)
    }
}

#[tokio::test]
async fn the_agent_queues_is_granted_after_a_revoke_verifies_offline_and_releases() {
    let running = Server::start().await;
    let server = running.url.clone();
    let vendor = running.login("root@vendor.test").await;
    let org = vendor
        .create_organisation(&CreateOrganisation {
            name: "Clinic".into(),
            account_manager_id: None,
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let product = vendor
        .create_product(&CreateProduct {
            code: "CAD".into(),
            name: "CAD".into(),
            seat_kind: SeatKind::Device,
            currency: "EUR".into(),
            prices: [(Plan::Yearly, 100)].into_iter().collect(),
            default_lease_seconds: None,
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    vendor
        .create_licence(
            &CreateLicence {
                product_id: product.id,
                plan: Plan::Yearly,
                name: "One seat".into(),
                note: None,
                quantity: 1,
                owner_organisation_id: Some(org.id),
                owner_user_id: None,
                auto_renew: false,
            },
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    vendor
        .create_user(&CreateUser {
            email: "admin@clinic.test".into(),
            name: String::new(),
            password: PASSWORD.into(),
            role: Role::OrgAdmin,
            organisation_id: Some(org.id),
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let admin = running.login("admin@clinic.test").await;
    let key = admin
        .create_api_key(&CreateApiKey {
            name: "agents".into(),
            organisation_id: None,
            scopes: vec![ApiScope::DevicesRegister],
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .key;
    // Another device holds the only seat.
    let other = Client::new(&server).with_token(&key);
    let Registration::Granted { grant: holder, .. } = other
        .register_device(
            &RegisterDevice {
                fingerprint: "front-desk".into(),
                name: "Front desk".into(),
                product_id: product.id,
            },
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    else {
        panic!("the first device gets the seat")
    };

    let dir = std::env::temp_dir().join(format!("leasehold-agent-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let state_file = dir.join("agent.json");
    let product_id = product.id.to_string();
    let register = [
        "register",
        "--product",
        product_id.as_str(),
        "--fingerprint",
        "laptop-agent",
        "--name",
        "Agent laptop",
    ];
    let (ok, out) = agent(&server, &key, &state_file, &register).await;
    assert!(ok && out.contains("queued at position 1"), "{out}");
    let (ok, out) = agent(&server, &key, &state_file, &["verify"]).await;
    assert!(!ok && out.contains("no seat yet"), "{out}");

    // The administrator revokes the other device: the agent's request is granted.
    admin
        .revoke_device(holder.device_id, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut waiting = register.to_vec();
    waiting.extend(["--wait", "1"]);
    let (ok, out) = agent(&server, &key, &state_file, &waiting).await;
    assert!(
        ok && out.contains("holding seat"),
        "granted by the queue when the seat freed: {out}"
    );

    // Offline: the server is unreachable and the token still verifies.
    let (ok, out) = agent("http://127.0.0.1:9", "lh_unused", &state_file, &["verify"]).await;
    assert!(ok && out.contains("valid offline"), "{out}");
    let (ok, out) = agent(&server, &key, &state_file, &["token"]).await;
    assert!(ok && out.contains("\"aud\": \"leasehold-seat\""), "{out}");
    let (ok, out) = agent(&server, &key, &state_file, &["heartbeat"]).await;
    assert!(ok && out.contains("renewed seat"), "{out}");
    let (ok, out) = agent(&server, &key, &state_file, &["release"]).await;
    assert!(ok && out.contains("released 1 seat"), "{out}");
    let pools = admin
        .list_pools(&PoolQuery::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(pools.items[0].held, 0);
    let (ok, out) = agent(&server, &key, &state_file, &["heartbeat"]).await;
    assert!(!ok && out.contains("seat_revoked"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_agent_keeps_a_concurrent_seat_with_heartbeats_and_releases_it() {
    let running = Server::start().await;
    let vendor = running.login("root@vendor.test").await;
    let org = vendor
        .create_organisation(&CreateOrganisation {
            name: "Clinic".into(),
            account_manager_id: None,
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let product = vendor
        .create_product(&CreateProduct {
            code: "VIEW".into(),
            name: "Viewer".into(),
            seat_kind: SeatKind::Concurrent,
            currency: "EUR".into(),
            prices: [(Plan::Yearly, 100)].into_iter().collect(),
            default_lease_seconds: None,
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let licence = CreateLicence {
        product_id: product.id,
        plan: Plan::Yearly,
        name: "Floating".into(),
        note: None,
        quantity: 1,
        owner_organisation_id: Some(org.id),
        owner_user_id: None,
        auto_renew: false,
    };
    vendor
        .create_licence(&licence, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let member = CreateUser {
        email: "nina@clinic.test".into(),
        name: String::new(),
        password: PASSWORD.into(),
        role: Role::Member,
        organisation_id: Some(org.id),
    };
    let nina = vendor.create_user(&member).await.unwrap_or_else(|e| panic!("{e}"));
    let admin = CreateUser {
        email: "admin@clinic.test".into(),
        role: Role::OrgAdmin,
        ..member
    };
    vendor.create_user(&admin).await.unwrap_or_else(|e| panic!("{e}"));
    let admin = running.login("admin@clinic.test").await;
    let scopes = vec![ApiScope::SessionsWrite];
    let key = admin
        .create_api_key(&CreateApiKey {
            name: "desktop".into(),
            organisation_id: None,
            scopes,
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .key;
    let state = std::env::temp_dir().join(format!("leasehold-agent-{}.json", uuid::Uuid::new_v4().simple()));
    let (product_id, user_id) = (product.id.to_string(), nina.id.to_string());
    let args = [
        "session",
        "--product",
        &product_id,
        "--user",
        &user_id,
        "--client",
        "desk-1",
        "--for",
        "3",
        "--every",
        "1",
    ];
    let (ok, out) = agent(&running.url, &key, &state, &args).await;
    assert!(ok, "{out}");
    assert!(out.contains("checked out seat"), "{out}");
    assert!(out.matches("renewed seat").count() >= 1, "heartbeats in a loop: {out}");
    assert!(out.contains("released seat"), "{out}");
    let sessions = admin
        .list_sessions(&SessionQuery::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sessions.total, 0, "the seat was given back");

    // Without --for it keeps the seat until interrupted; Ctrl-C releases it.
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_leasehold-agent"))
        .args(&args[..7])
        .env("LEASEHOLD_URL", &running.url)
        .env("LEASEHOLD_API_KEY", &key)
        .env("LEASEHOLD_AGENT_STATE", &state)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("run the agent: {e}"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let held = admin
            .list_sessions(&SessionQuery::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .total;
        if held == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the agent never checked out");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let pid = child
        .id()
        .unwrap_or_else(|| panic!("the agent exited early"))
        .to_string();
    let sent = tokio::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(sent.success());
    let output = tokio::time::timeout(std::time::Duration::from_secs(20), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("the agent ignored Ctrl-C"))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{out}");
    assert!(out.contains("released seat"), "{out}");
    let sessions = admin
        .list_sessions(&SessionQuery::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sessions.total, 0, "Ctrl-C gave the seat back");
}
