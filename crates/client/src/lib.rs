//! A typed client of Leasehold's public API. The same code runs natively (tests,
//! the device agent) and in the browser (the SPA), where reqwest uses `fetch`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), leasehold_client::ClientError> {
//! let mut client = leasehold_client::Client::new("http://127.0.0.1:8080");
//! let tokens = client.login("admin@vendor.example", "correct horse battery").await?;
//! client.set_token(Some(tokens.access_token));
//! let page = client.list_licences(&Default::default()).await?;
//! println!("{} licences", page.total);
//! # Ok(()) }
//! ```

use leasehold_core::ids::{
    ApiKeyId, DeliveryId, DeviceId, InvoiceId, LeaseId, LicenceId, NotificationId, OrganisationId, PoolId, ProductId,
    SeatRequestId, UserId, WebhookId,
};
use leasehold_core::wire::*;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with a problem document.
    #[error("{} ({}): {}", problem.title, problem.code, problem.detail.as_deref().unwrap_or(""))]
    Api { status: u16, problem: Problem },
    #[error("could not reach the server: {0}")]
    Transport(String),
    #[error("unexpected response: {0}")]
    Decode(String),
}

impl ClientError {
    /// The problem's stable code, or `transport` / `decode`.
    pub fn code(&self) -> &str {
        match self {
            ClientError::Api { problem, .. } => &problem.code,
            ClientError::Transport(_) => "transport",
            ClientError::Decode(_) => "decode",
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn problem(&self) -> Option<&Problem> {
        match self {
            ClientError::Api { problem, .. } => Some(problem),
            _ => None,
        }
    }
}

/// A response with its status, for calls whose status matters (201 vs 200).
#[derive(Debug, Clone)]
pub struct Response<T> {
    pub status: u16,
    pub body: T,
}

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    /// `base_url` without a trailing slash, e.g. `http://127.0.0.1:8080`.
    pub fn new(base_url: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base_url.trim_end_matches('/').to_owned(),
            token: None,
        }
    }

    /// Uses `token` (an access token or an API key) as the bearer credential.
    pub fn set_token(&mut self, token: Option<String>) {
        self.token = token;
    }

    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// A request to `path` (starting with `/`) carrying the bearer credential.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let builder = self.http.request(method, format!("{}{}", self.base, path));
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// Sends a request and decodes a JSON body, or the problem document.
    pub async fn send<T: DeserializeOwned>(&self, builder: RequestBuilder) -> Result<Response<T>, ClientError> {
        let response = builder
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        if status.is_success() {
            let body = if status == StatusCode::NO_CONTENT || bytes.is_empty() {
                serde_json::from_slice(b"null")
            } else {
                serde_json::from_slice(&bytes)
            }
            .map_err(|e| ClientError::Decode(e.to_string()))?;
            Ok(Response {
                status: status.as_u16(),
                body,
            })
        } else {
            let problem = serde_json::from_slice::<Problem>(&bytes).unwrap_or_else(|_| Problem {
                problem_type: "about:blank".into(),
                title: status.canonical_reason().unwrap_or("Error").into(),
                status: status.as_u16(),
                detail: Some(String::from_utf8_lossy(&bytes).chars().take(200).collect()),
                code: "unexpected_response".into(),
                fields: Vec::new(),
            });
            Err(ClientError::Api {
                status: status.as_u16(),
                problem,
            })
        }
    }

    async fn get<T: DeserializeOwned, Q: Serialize + ?Sized>(&self, path: &str, query: &Q) -> Result<T, ClientError> {
        Ok(self.send(self.request(Method::GET, path).query(query)).await?.body)
    }

    async fn post<T: DeserializeOwned, B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Result<T, ClientError> {
        Ok(self.send(self.request(Method::POST, path).json(body)).await?.body)
    }

    fn with_idempotency(builder: RequestBuilder, key: Option<&str>) -> RequestBuilder {
        match key {
            Some(key) => builder.header("Idempotency-Key", key),
            None => builder,
        }
    }

    // ------------------------------------------------------------ auth

    pub async fn login(&self, email: &str, password: &str) -> Result<TokenResponse, ClientError> {
        self.post(
            "/v1/auth/login",
            &LoginRequest {
                email: email.into(),
                password: password.into(),
            },
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenResponse, ClientError> {
        self.post(
            "/v1/auth/refresh",
            &RefreshRequest {
                refresh_token: refresh_token.into(),
            },
        )
        .await
    }

    pub async fn logout(&self, refresh_token: Option<&str>) -> Result<(), ClientError> {
        self.post(
            "/v1/auth/logout",
            &LogoutRequest {
                refresh_token: refresh_token.map(Into::into),
            },
        )
        .await
    }

    pub async fn me(&self) -> Result<Me, ClientError> {
        self.get("/v1/me", &()).await
    }

    // ------------------------------------------------------------ organisations, users, keys

    pub async fn list_organisations(&self, query: &ListQuery) -> Result<Page<OrganisationView>, ClientError> {
        self.get("/v1/organisations", query).await
    }

    pub async fn get_organisation(&self, id: OrganisationId) -> Result<OrganisationView, ClientError> {
        self.get(&format!("/v1/organisations/{id}"), &()).await
    }

    pub async fn create_organisation(&self, body: &CreateOrganisation) -> Result<OrganisationView, ClientError> {
        self.post("/v1/organisations", body).await
    }

    pub async fn update_organisation(
        &self,
        id: OrganisationId,
        body: &UpdateOrganisation,
    ) -> Result<OrganisationView, ClientError> {
        Ok(self
            .send(
                self.request(Method::PATCH, &format!("/v1/organisations/{id}"))
                    .json(body),
            )
            .await?
            .body)
    }

    pub async fn list_users(&self, query: &ListQuery) -> Result<Page<UserView>, ClientError> {
        self.get("/v1/users", query).await
    }

    pub async fn get_user(&self, id: UserId) -> Result<UserView, ClientError> {
        self.get(&format!("/v1/users/{id}"), &()).await
    }

    pub async fn create_user(&self, body: &CreateUser) -> Result<UserView, ClientError> {
        self.post("/v1/users", body).await
    }

    pub async fn list_api_keys(&self, query: &ListQuery) -> Result<Page<ApiKeyView>, ClientError> {
        self.get("/v1/api-keys", query).await
    }

    pub async fn create_api_key(&self, body: &CreateApiKey) -> Result<CreatedApiKey, ClientError> {
        self.post("/v1/api-keys", body).await
    }

    pub async fn revoke_api_key(&self, id: ApiKeyId) -> Result<ApiKeyView, ClientError> {
        Ok(self
            .send(self.request(Method::DELETE, &format!("/v1/api-keys/{id}")))
            .await?
            .body)
    }

    // ------------------------------------------------------------ products

    pub async fn list_products(&self, query: &ListQuery) -> Result<Page<ProductView>, ClientError> {
        self.get("/v1/products", query).await
    }

    pub async fn get_product(&self, id: ProductId) -> Result<ProductView, ClientError> {
        self.get(&format!("/v1/products/{id}"), &()).await
    }

    pub async fn create_product(&self, body: &CreateProduct) -> Result<ProductView, ClientError> {
        self.post("/v1/products", body).await
    }

    pub async fn update_product(&self, id: ProductId, body: &UpdateProduct) -> Result<ProductView, ClientError> {
        Ok(self
            .send(self.request(Method::PATCH, &format!("/v1/products/{id}")).json(body))
            .await?
            .body)
    }

    // ------------------------------------------------------------ licences

    pub async fn list_licences(&self, query: &LicenceQuery) -> Result<Page<LicenceView>, ClientError> {
        self.get("/v1/licences", query).await
    }

    pub async fn get_licence(&self, id: LicenceId) -> Result<LicenceView, ClientError> {
        self.get(&format!("/v1/licences/{id}"), &()).await
    }

    /// Creates a licence; a retry with the same `idempotency_key` returns the same licence.
    pub async fn create_licence(
        &self,
        body: &CreateLicence,
        idempotency_key: Option<&str>,
    ) -> Result<Response<LicenceView>, ClientError> {
        let builder = Self::with_idempotency(self.request(Method::POST, "/v1/licences").json(body), idempotency_key);
        self.send(builder).await
    }

    pub async fn update_licence(&self, id: LicenceId, body: &UpdateLicence) -> Result<LicenceView, ClientError> {
        Ok(self
            .send(self.request(Method::PATCH, &format!("/v1/licences/{id}")).json(body))
            .await?
            .body)
    }

    pub async fn delete_licence(&self, id: LicenceId) -> Result<(), ClientError> {
        self.send::<()>(self.request(Method::DELETE, &format!("/v1/licences/{id}")))
            .await
            .map(|_| ())
    }

    pub async fn pause_licence(&self, id: LicenceId) -> Result<LicenceView, ClientError> {
        self.post(&format!("/v1/licences/{id}/pause"), &()).await
    }

    pub async fn resume_licence(&self, id: LicenceId) -> Result<LicenceView, ClientError> {
        self.post(&format!("/v1/licences/{id}/resume"), &()).await
    }

    /// Redeems a coupon into the caller's organisation.
    pub async fn redeem_coupon(&self, code: &str, idempotency_key: Option<&str>) -> Result<LicenceView, ClientError> {
        let builder = Self::with_idempotency(
            self.request(Method::POST, "/v1/coupons/redeem")
                .json(&RedeemCoupon { code: code.into() }),
            idempotency_key,
        );
        Ok(self.send(builder).await?.body)
    }

    // ------------------------------------------------------------ audit

    pub async fn list_audit(&self, query: &AuditQuery) -> Result<Page<AuditEntryView>, ClientError> {
        self.get("/v1/audit", query).await
    }

    /// Seals pending entries and recomputes every visible hash chain.
    pub async fn verify_audit(&self) -> Result<AuditVerification, ClientError> {
        self.get("/v1/audit/verify", &()).await
    }

    // ------------------------------------------------------------ pools and device seats

    pub async fn list_pools(&self, query: &PoolQuery) -> Result<Page<PoolView>, ClientError> {
        self.get("/v1/pools", query).await
    }

    pub async fn get_pool(&self, id: PoolId) -> Result<PoolView, ClientError> {
        self.get(&format!("/v1/pools/{id}"), &()).await
    }

    pub async fn update_pool(&self, id: PoolId, body: &UpdatePool) -> Result<PoolView, ClientError> {
        Ok(self
            .send(self.request(Method::PATCH, &format!("/v1/pools/{id}")).json(body))
            .await?
            .body)
    }

    /// Buys seats for the pool: the new licence.
    pub async fn buy_seats(&self, id: PoolId, body: &BuySeats) -> Result<LicenceView, ClientError> {
        self.post(&format!("/v1/pools/{id}/seats"), body).await
    }

    /// Approves the top-up that waits for an admin.
    pub async fn approve_topup(&self, id: PoolId) -> Result<PoolView, ClientError> {
        self.post(&format!("/v1/pools/{id}/topup/approve"), &()).await
    }

    /// Dismisses the top-up that waits for an admin.
    pub async fn dismiss_topup(&self, id: PoolId) -> Result<PoolView, ClientError> {
        self.post(&format!("/v1/pools/{id}/topup/dismiss"), &()).await
    }

    // ------------------------------------------------------------ notifications

    pub async fn list_notifications(&self, query: &NotificationQuery) -> Result<NotificationPage, ClientError> {
        self.get("/v1/notifications", query).await
    }

    pub async fn read_notification(&self, id: NotificationId) -> Result<NotificationsMarked, ClientError> {
        self.post(&format!("/v1/notifications/{id}/read"), &()).await
    }

    pub async fn read_all_notifications(&self) -> Result<NotificationsMarked, ClientError> {
        self.post("/v1/notifications/read", &()).await
    }

    /// An organisation's e-mail recipients (customers: their own; vendor staff name one).
    pub async fn recipients(&self, organisation: Option<OrganisationId>) -> Result<RecipientList, ClientError> {
        self.get("/v1/notification-recipients", &RecipientQuery { organisation })
            .await
    }

    /// Replaces an organisation's e-mail recipients.
    pub async fn put_recipients(&self, body: &PutRecipients) -> Result<RecipientList, ClientError> {
        Ok(self
            .send(self.request(Method::PUT, "/v1/notification-recipients").json(body))
            .await?
            .body)
    }

    pub async fn list_webhooks(&self, query: &WebhookQuery) -> Result<Page<WebhookView>, ClientError> {
        self.get("/v1/webhooks", query).await
    }

    /// Adds a webhook endpoint; the reply carries its signing secret, once.
    pub async fn create_webhook(&self, body: &CreateWebhook) -> Result<WebhookView, ClientError> {
        self.post("/v1/webhooks", body).await
    }

    pub async fn get_webhook(&self, id: WebhookId) -> Result<WebhookView, ClientError> {
        self.get(&format!("/v1/webhooks/{id}"), &()).await
    }

    pub async fn update_webhook(&self, id: WebhookId, body: &UpdateWebhook) -> Result<WebhookView, ClientError> {
        Ok(self
            .send(self.request(Method::PATCH, &format!("/v1/webhooks/{id}")).json(body))
            .await?
            .body)
    }

    pub async fn delete_webhook(&self, id: WebhookId) -> Result<(), ClientError> {
        self.send::<()>(self.request(Method::DELETE, &format!("/v1/webhooks/{id}")))
            .await
            .map(|_| ())
    }

    /// The log of e-mail and webhook deliveries, newest first.
    pub async fn list_deliveries(&self, query: &DeliveryQuery) -> Result<Page<DeliveryView>, ClientError> {
        self.get("/v1/deliveries", query).await
    }

    /// Sends a finished delivery again.
    pub async fn replay_delivery(&self, id: DeliveryId) -> Result<DeliveryView, ClientError> {
        self.post(&format!("/v1/deliveries/{id}/replay"), &()).await
    }

    // ------------------------------------------------------------ reports

    /// A pool's usage over whole UTC days, per day, week or month.
    pub async fn pool_report(&self, id: PoolId, query: &PoolReportQuery) -> Result<PoolReport, ClientError> {
        self.get(&format!("/v1/reports/pools/{id}"), query).await
    }

    /// The month's licence additions per organisation, product and source.
    pub async fn additions(&self, month: &str) -> Result<AdditionsReport, ClientError> {
        self.get(
            "/v1/reports/additions",
            &AdditionsQuery {
                month: month.to_owned(),
            },
        )
        .await
    }

    /// The month's additions as CSV (`Accept: text/csv`).
    pub async fn additions_csv(&self, month: &str) -> Result<String, ClientError> {
        let query = AdditionsQuery {
            month: month.to_owned(),
        };
        let builder = self
            .request(Method::GET, "/v1/reports/additions")
            .query(&query)
            .header("Accept", "text/csv");
        let response = builder
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        if status.is_success() {
            return Ok(text);
        }
        let problem = serde_json::from_str::<Problem>(&text).map_err(|e| ClientError::Decode(e.to_string()))?;
        Err(ClientError::Api {
            status: status.as_u16(),
            problem,
        })
    }

    // ------------------------------------------------------------ invoices

    /// Invoices up to 20 licences; one result per licence.
    pub async fn send_invoices(
        &self,
        licences: &[LicenceId],
        idempotency_key: Option<&str>,
    ) -> Result<InvoiceBatch, ClientError> {
        let body = SendInvoices {
            licence_ids: licences.to_vec(),
        };
        let builder = Self::with_idempotency(self.request(Method::POST, "/v1/invoices").json(&body), idempotency_key);
        Ok(self.send(builder).await?.body)
    }

    pub async fn list_invoices(&self, query: &InvoiceQuery) -> Result<Page<InvoiceView>, ClientError> {
        self.get("/v1/invoices", query).await
    }

    pub async fn get_invoice(&self, id: InvoiceId) -> Result<InvoiceView, ClientError> {
        self.get(&format!("/v1/invoices/{id}"), &()).await
    }

    pub async fn mark_invoice_paid(&self, id: InvoiceId) -> Result<InvoiceView, ClientError> {
        self.post(&format!("/v1/invoices/{id}/paid"), &()).await
    }

    /// A device asks for a seat: a grant (200 held already, 201 new) or a place in the queue (202).
    pub async fn register_device(
        &self,
        body: &RegisterDevice,
        idempotency_key: Option<&str>,
    ) -> Result<Registration, ClientError> {
        let builder = Self::with_idempotency(
            self.request(Method::POST, "/v1/devices/register").json(body),
            idempotency_key,
        );
        let response = self.send::<serde_json::Value>(builder).await?;
        let decode = |e: serde_json::Error| ClientError::Decode(e.to_string());
        Ok(match response.status {
            202 => Registration::Queued(serde_json::from_value(response.body).map_err(decode)?),
            status => Registration::Granted {
                new: status == 201,
                grant: serde_json::from_value(response.body).map_err(decode)?,
            },
        })
    }

    pub async fn heartbeat_device(&self, device: DeviceId, product: ProductId) -> Result<SeatGrant, ClientError> {
        self.post(
            &format!("/v1/devices/{device}/heartbeat"),
            &DeviceSeatRef { product_id: product },
        )
        .await
    }

    pub async fn release_device(
        &self,
        device: DeviceId,
        product: Option<ProductId>,
    ) -> Result<ReleasedSeats, ClientError> {
        self.post(
            &format!("/v1/devices/{device}/release"),
            &ReleaseSeats { product_id: product },
        )
        .await
    }

    pub async fn list_devices(&self, query: &DeviceQuery) -> Result<Page<DeviceView>, ClientError> {
        self.get("/v1/devices", query).await
    }

    pub async fn get_device(&self, id: DeviceId) -> Result<DeviceView, ClientError> {
        self.get(&format!("/v1/devices/{id}"), &()).await
    }

    pub async fn revoke_device(&self, id: DeviceId, product: Option<ProductId>) -> Result<ReleasedSeats, ClientError> {
        self.post(
            &format!("/v1/devices/{id}/revoke"),
            &ReleaseSeats { product_id: product },
        )
        .await
    }

    pub async fn block_device(&self, id: DeviceId) -> Result<DeviceView, ClientError> {
        self.post(&format!("/v1/devices/{id}/block"), &()).await
    }

    pub async fn unblock_device(&self, id: DeviceId) -> Result<DeviceView, ClientError> {
        self.post(&format!("/v1/devices/{id}/unblock"), &()).await
    }

    pub async fn list_seat_requests(&self, query: &SeatRequestQuery) -> Result<Page<SeatRequestView>, ClientError> {
        self.get("/v1/seat-requests", query).await
    }

    pub async fn approve_seat_request(&self, id: SeatRequestId) -> Result<SeatRequestView, ClientError> {
        self.post(&format!("/v1/seat-requests/{id}/approve"), &()).await
    }

    pub async fn reject_seat_request(&self, id: SeatRequestId) -> Result<SeatRequestView, ClientError> {
        self.post(&format!("/v1/seat-requests/{id}/reject"), &()).await
    }

    /// Moves the seat of `from` to the waiting request, in one step.
    pub async fn reallocate_seat(&self, id: SeatRequestId, from: DeviceId) -> Result<SeatRequestView, ClientError> {
        self.post(
            &format!("/v1/seat-requests/{id}/reallocate"),
            &ReallocateSeat { from_device_id: from },
        )
        .await
    }

    /// The server's seat-token keys, for offline verification.
    pub async fn jwks(&self) -> Result<Jwks, ClientError> {
        self.get("/.well-known/jwks.json", &()).await
    }

    pub async fn validate_seat(&self, token: &str) -> Result<SeatValidity, ClientError> {
        self.post("/v1/seats/validate", &ValidateSeat { token: token.into() })
            .await
    }

    // ------------------------------------------------------------ concurrent sessions

    /// Checks out a concurrent seat: a grant (200 held already, 201 new) or a place in the queue (202).
    pub async fn create_session(&self, body: &CreateSession) -> Result<Checkout, ClientError> {
        let response = self
            .send::<serde_json::Value>(self.request(Method::POST, "/v1/sessions").json(body))
            .await?;
        let decode = |e: serde_json::Error| ClientError::Decode(e.to_string());
        Ok(match response.status {
            202 => Checkout::Queued(serde_json::from_value(response.body).map_err(decode)?),
            status => Checkout::Granted {
                new: status == 201,
                grant: serde_json::from_value(response.body).map_err(decode)?,
            },
        })
    }

    pub async fn heartbeat_session(&self, id: LeaseId, activity: bool) -> Result<SessionGrant, ClientError> {
        self.post(&format!("/v1/sessions/{id}/heartbeat"), &SessionHeartbeat { activity })
            .await
    }

    /// Logs out (the holder) or force-releases (an administrator).
    pub async fn delete_session(&self, id: LeaseId) -> Result<(), ClientError> {
        self.send::<()>(self.request(Method::DELETE, &format!("/v1/sessions/{id}")))
            .await
            .map(|_| ())
    }

    pub async fn list_sessions(&self, query: &SessionQuery) -> Result<Page<SessionView>, ClientError> {
        self.get("/v1/sessions", query).await
    }

    pub async fn get_session(&self, id: LeaseId) -> Result<SessionView, ClientError> {
        self.get(&format!("/v1/sessions/{id}"), &()).await
    }
}

/// What `create_session` came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checkout {
    Granted { grant: SessionGrant, new: bool },
    Queued(SessionQueued),
}

/// What `register_device` came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    Granted { grant: SeatGrant, new: bool },
    Queued(SeatQueued),
}
