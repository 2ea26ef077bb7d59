//! What every benchmark starts from: a server on a fresh SQLite database,
//! a vendor admin signed in, and one customer organisation; products with
//! a perpetual licence of many seats for it.

// Each benchmark uses part of this.
#![allow(dead_code)]

use leasehold_api::config::Settings;
use leasehold_api::service::accounts::create_user_as_system;
use leasehold_api::startup::{build_state, Application};
use leasehold_client::Client;
use leasehold_core::ids::{OrganisationId, ProductId};
use leasehold_core::ports::Store;
use leasehold_core::values::{ApiScope, Plan, Role, SeatKind};
use leasehold_core::wire::{CreateApiKey, CreateLicence, CreateOrganisation, CreateProduct};
use leasehold_store::testing::TestDatabase;
use std::net::TcpListener;
use std::sync::Arc;

pub const PASSWORD: &str = "correct horse battery";

pub struct Served {
    pub store: Arc<dyn Store>,
    /// `http://127.0.0.1:port`
    pub server: String,
    /// Signed in as the vendor admin.
    pub vendor: Client,
    pub organisation: OrganisationId,
    pub db: TestDatabase,
}

pub fn fail(error: impl std::fmt::Display) -> ! {
    panic!("{error}")
}

/// A server on a new SQLite database (`tweak` adjusts its settings), with an
/// organisation called `organisation`.
pub async fn serve(tweak: impl FnOnce(&mut Settings), organisation: &str) -> Served {
    let db = TestDatabase::sqlite();
    let mut settings = Settings::for_database(&db.url);
    tweak(&mut settings);
    let state = build_state(settings).await.unwrap_or_else(|e| fail(e));
    create_user_as_system(&state, "root@vendor.test", "Root", PASSWORD, Role::VendorAdmin, None)
        .await
        .unwrap_or_else(|e| fail(e));
    let store = state.store.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| fail(e));
    let app = Application::with_listener(state, listener).unwrap_or_else(|e| fail(e));
    let server = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let tokens = Client::new(&server)
        .login("root@vendor.test", PASSWORD)
        .await
        .unwrap_or_else(|e| fail(e));
    let vendor = Client::new(&server).with_token(&tokens.access_token);
    let organisation = vendor
        .create_organisation(&CreateOrganisation {
            name: organisation.into(),
            account_manager_id: None,
        })
        .await
        .unwrap_or_else(|e| fail(e))
        .id;
    Served {
        store,
        server,
        vendor,
        organisation,
        db,
    }
}

impl Served {
    /// A product (`code`, `kind`) with a perpetual licence of `seats` for the organisation.
    pub async fn product_with_seats(&self, code: &str, kind: SeatKind, seats: i64) -> ProductId {
        let product = self
            .vendor
            .create_product(&CreateProduct {
                code: code.into(),
                name: code.into(),
                seat_kind: kind,
                currency: "EUR".into(),
                prices: [(Plan::Perpetual, 1)].into_iter().collect(),
                default_lease_seconds: None,
            })
            .await
            .unwrap_or_else(|e| fail(e));
        let licence = CreateLicence {
            product_id: product.id,
            plan: Plan::Perpetual,
            name: format!("{seats} seats"),
            note: None,
            quantity: seats,
            owner_organisation_id: Some(self.organisation),
            owner_user_id: None,
            auto_renew: false,
        };
        self.vendor
            .create_licence(&licence, None)
            .await
            .unwrap_or_else(|e| fail(e));
        product.id
    }

    /// A client holding a new API key of the organisation with `scope`.
    pub async fn api_client(&self, scope: ApiScope) -> Client {
        let key = self
            .vendor
            .create_api_key(&CreateApiKey {
                name: "bench".into(),
                organisation_id: Some(self.organisation),
                scopes: vec![scope],
            })
            .await
            .unwrap_or_else(|e| fail(e));
        Client::new(&self.server).with_token(&key.key)
    }
}
