//! What the HTTP tests share: the app on an ephemeral port against a fresh
//! database, and a world of two customers.
#![allow(dead_code)]

use leasehold_api::config::Settings;
use leasehold_api::service::accounts::create_user_as_system;
use leasehold_api::startup::{build_state, Application};
use leasehold_client::{Client, ClientError};
use leasehold_core::access::Actor;
use leasehold_core::ids::{OrganisationId, ProductId, UserId};
use leasehold_core::ports::WriteContext;
use leasehold_core::values::{Plan, Role, SeatKind};
use leasehold_core::wire::*;
use leasehold_store::testing::TestDatabase;
use std::net::TcpListener;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub base: String,
    /// The server's state, for what a test does behind its back (the reaper at a later time).
    pub state: leasehold_api::state::AppState,
    /// The database, for what a test does behind the server's back (tampering).
    pub db: TestDatabase,
}

impl TestApp {
    pub async fn spawn(db: TestDatabase, tweak: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Settings::for_database(&db.url);
        settings.frontend_dir = "/nonexistent".into();
        tweak(&mut settings);
        let state = build_state(settings).await.unwrap_or_else(|e| panic!("state: {e}"));
        create_user_as_system(&state, "root@vendor.test", "Root", PASSWORD, Role::VendorAdmin, None)
            .await
            .unwrap_or_else(|e| panic!("bootstrap: {e}"));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let app = Application::with_listener(state.clone(), listener).unwrap_or_else(|e| panic!("{e}"));
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        Self { base, state, db }
    }

    /// A second server process on the same database, with the first one's
    /// settings: its own state, pools and reaper.
    pub async fn second_process(first: &TestApp) -> SecondApp {
        let state = build_state(Settings::clone(&first.state.settings))
            .await
            .unwrap_or_else(|e| panic!("state: {e}"));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let app = Application::with_listener(state.clone(), listener).unwrap_or_else(|e| panic!("{e}"));
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        SecondApp { base, state }
    }

    pub fn anonymous(&self) -> Client {
        Client::new(&self.base)
    }

    pub async fn login(&self, email: &str) -> Client {
        let tokens = self
            .anonymous()
            .login(email, PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("login {email}: {e}"));
        self.anonymous().with_token(&tokens.access_token)
    }
}

pub fn ok<T>(result: Result<T, ClientError>) -> T {
    result.unwrap_or_else(|e| panic!("unexpected error: {e} {:?}", e.problem()))
}

pub fn err<T: std::fmt::Debug>(result: Result<T, ClientError>) -> ClientError {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(error) => error,
    }
}

/// Two customers (north managed by the account manager, south not), their
/// admins, a viewer, and a product.
pub struct World {
    pub app: TestApp,
    pub vendor: Client,
    pub manager: Client,
    pub north_admin: Client,
    pub north_viewer: Client,
    pub south_admin: Client,
    pub north: OrganisationId,
    pub south: OrganisationId,
    pub product: ProductId,
}

pub async fn world(db: TestDatabase) -> World {
    world_with(db, |_| {}).await
}

/// The world on a server with tweaked settings.
pub async fn world_with(db: TestDatabase, tweak: impl FnOnce(&mut Settings)) -> World {
    let app = TestApp::spawn(db, tweak).await;
    let vendor = app.login("root@vendor.test").await;
    let user = |email: &str, role: Role, organisation_id: Option<OrganisationId>| CreateUser {
        email: email.into(),
        name: String::new(),
        password: PASSWORD.into(),
        role,
        organisation_id,
    };
    let manager_user = ok(vendor
        .create_user(&user("am@vendor.test", Role::AccountManager, None))
        .await);
    let north = ok(vendor
        .create_organisation(&CreateOrganisation {
            name: "North Clinic".into(),
            account_manager_id: Some(manager_user.id),
        })
        .await)
    .id;
    let south = ok(vendor
        .create_organisation(&CreateOrganisation {
            name: "South Labs".into(),
            account_manager_id: None,
        })
        .await)
    .id;
    ok(vendor
        .create_user(&user("admin@north.test", Role::OrgAdmin, Some(north)))
        .await);
    ok(vendor
        .create_user(&user("viewer@north.test", Role::OrgViewer, Some(north)))
        .await);
    ok(vendor
        .create_user(&user("admin@south.test", Role::OrgAdmin, Some(south)))
        .await);
    let product = ok(vendor
        .create_product(&CreateProduct {
            code: "cad".into(),
            name: "CAD Pro".into(),
            seat_kind: SeatKind::Device,
            currency: "eur".into(),
            prices: [(Plan::Monthly, 1500), (Plan::Yearly, 15000)].into_iter().collect(),
            default_lease_seconds: None,
        })
        .await);
    assert_eq!((product.code.as_str(), product.currency.as_str()), ("CAD", "EUR"));
    World {
        manager: app.login("am@vendor.test").await,
        north_admin: app.login("admin@north.test").await,
        north_viewer: app.login("viewer@north.test").await,
        south_admin: app.login("admin@south.test").await,
        vendor,
        app,
        north,
        south,
        product: product.id,
    }
}

impl World {
    /// A product of `kind` priced for `plan`, and a licence of `seats` on that
    /// plan for north, both created by the vendor.
    pub async fn licensed_product(
        &self,
        code: &str,
        kind: SeatKind,
        plan: Plan,
        seats: i64,
    ) -> (ProductId, LicenceView) {
        let product = ok(self
            .vendor
            .create_product(&CreateProduct {
                code: code.into(),
                name: code.into(),
                seat_kind: kind,
                currency: "EUR".into(),
                prices: [(plan, 900)].into_iter().collect(),
                default_lease_seconds: None,
            })
            .await)
        .id;
        (product, self.licence(product, plan, seats).await)
    }

    /// A licence of `seats` of `product` on `plan` for north, created by the vendor.
    pub async fn licence(&self, product: ProductId, plan: Plan, seats: i64) -> LicenceView {
        let licence = CreateLicence {
            product_id: product,
            plan,
            name: format!("{seats} seats"),
            note: None,
            quantity: seats,
            owner_organisation_id: Some(self.north),
            owner_user_id: None,
            auto_renew: false,
        };
        ok(self.vendor.create_licence(&licence, None).await).body
    }

    /// A lease of north's pool of `product` checked out two hours ago by a
    /// client that then vanished: lapsed, holding its seat until reclaimed.
    pub async fn lapsed_lease(&self, product: ProductId, user: UserId, client_id: &str) {
        let long_ago = WriteContext {
            actor: Actor::SYSTEM,
            request_id: None,
            now: chrono::Utc::now() - chrono::Duration::hours(2),
        };
        let checkout = leasehold_core::seat::Checkout {
            organisation_id: self.north,
            product_id: product,
            user_id: user,
            client_id: client_id.into(),
        };
        self.app
            .state
            .store
            .checkout(&long_ago, &checkout)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// A member of north (created by the vendor), and a client signed in as them.
    pub async fn member(&self, email: &str) -> (UserView, Client) {
        let user = ok(self
            .vendor
            .create_user(&CreateUser {
                email: email.into(),
                name: String::new(),
                password: PASSWORD.into(),
                role: Role::Member,
                organisation_id: Some(self.north),
            })
            .await);
        (user, self.app.login(email).await)
    }
}

/// The world with a 2-seat north pool and a north key that registers devices.
pub async fn with_devices(w: World) -> (World, Client) {
    ok(w.manager
        .create_licence(
            &CreateLicence {
                product_id: w.product,
                plan: Plan::Yearly,
                name: "Two seats".into(),
                note: None,
                quantity: 2,
                owner_organisation_id: Some(w.north),
                owner_user_id: None,
                auto_renew: false,
            },
            None,
        )
        .await);
    let key = ok(w
        .north_admin
        .create_api_key(&CreateApiKey {
            name: "devices".into(),
            organisation_id: None,
            scopes: vec![leasehold_core::values::ApiScope::DevicesRegister],
        })
        .await);
    let agent = w.app.anonymous().with_token(&key.key);
    (w, agent)
}

/// Runs each named `async fn(TestDatabase)` once on SQLite and once on a fresh
/// PostgreSQL database (skipped when PostgreSQL is unreachable, unless `CI=true`).
#[macro_export]
macro_rules! on_both_engines {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(leasehold_store::testing::TestDatabase::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    if let Some(db) = leasehold_store::testing::TestDatabase::postgres().await {
                        super::$test(db).await;
                    }
                }
            )*
        }
    };
}

/// Another server on the first one's database.
pub struct SecondApp {
    pub base: String,
    pub state: leasehold_api::state::AppState,
}

impl SecondApp {
    pub fn anonymous(&self) -> Client {
        Client::new(&self.base)
    }

    pub async fn login(&self, email: &str) -> Client {
        let tokens = self
            .anonymous()
            .login(email, PASSWORD)
            .await
            .unwrap_or_else(|e| panic!("login {email}: {e}"));
        self.anonymous().with_token(&tokens.access_token)
    }
}
