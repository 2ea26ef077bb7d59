use crate::error::ApiError;
use crate::service::{outbox, Caller};
use crate::state::AppState;
use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use leasehold_core::ids::{DeliveryId, WebhookId};
use leasehold_core::wire::{
    CreateWebhook, DeliveryQuery, DeliveryView, Page, Problem, PutRecipients, RecipientList, RecipientQuery,
    UpdateWebhook, WebhookQuery, WebhookView,
};

/// An organisation's e-mail recipients and the events each is told about.
#[utoipa::path(tag = "notifications", params(RecipientQuery), security(("bearer" = [])), responses(
    (status = 200, body = RecipientList),
    (status = 401, body = Problem),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
    (status = 422, body = Problem, description = "vendor staff did not name the organisation"),
))]
#[get("/notification-recipients")]
pub async fn list_recipients(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<RecipientQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(outbox::recipients(&state, &caller, query.organisation).await?))
}

/// Replaces an organisation's e-mail recipients (at most 50; each address once
/// per pool). Notifications from now on are e-mailed to the recipients whose
/// toggles, and pool, match.
#[utoipa::path(tag = "notifications", request_body = PutRecipients, security(("bearer" = [])), responses(
    (status = 200, body = RecipientList),
    (status = 401, body = Problem),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
    (status = 422, body = Problem),
))]
#[put("/notification-recipients")]
pub async fn put_recipients(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<PutRecipients>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(outbox::set_recipients(&state, &caller, body.into_inner()).await?))
}

/// Webhook endpoints the caller may see (never their secrets).
#[utoipa::path(tag = "webhooks", params(WebhookQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<WebhookView>),
    (status = 401, body = Problem),
    (status = 403, body = Problem),
))]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<WebhookQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(outbox::webhooks(&state, &caller, &query).await?))
}

/// Adds a webhook endpoint. Every delivery is a `POST` of the event as JSON,
/// signed in the `Leasehold-Signature` header: `t=<unix seconds>,v1=<hex
/// HMAC-SHA256 of "<t>.<body>">` under the endpoint's secret, which is in this
/// response only. Answer 2xx within 10 s; anything else is retried with backoff
/// (10 s doubling, 8 attempts).
#[utoipa::path(tag = "webhooks", request_body = CreateWebhook, security(("bearer" = [])), responses(
    (status = 201, body = WebhookView),
    (status = 401, body = Problem),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
    (status = 409, body = Problem, description = "too_many_webhooks"),
    (status = 422, body = Problem),
))]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    body: web::Json<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(outbox::create_webhook(&state, &caller, body.into_inner()).await?))
}

/// One webhook endpoint.
#[utoipa::path(tag = "webhooks", params(("id" = WebhookId, Path)), security(("bearer" = [])), responses(
    (status = 200, body = WebhookView),
    (status = 401, body = Problem),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
))]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(outbox::webhook(&state, &caller, id.into_inner()).await?))
}

/// Changes an endpoint's URL, description, events or whether it is enabled, or
/// rotates its secret (the new one is in this response only).
#[utoipa::path(tag = "webhooks", params(("id" = WebhookId, Path)), request_body = UpdateWebhook, security(("bearer" = [])), responses(
    (status = 200, body = WebhookView),
    (status = 401, body = Problem),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
    (status = 422, body = Problem),
))]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<WebhookId>,
    body: web::Json<UpdateWebhook>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(outbox::update_webhook(&state, &caller, id.into_inner(), body.into_inner()).await?))
}

/// Removes an endpoint and its delivery log.
#[utoipa::path(tag = "webhooks", params(("id" = WebhookId, Path)), security(("bearer" = [])), responses(
    (status = 204),
    (status = 401, body = Problem),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
))]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    outbox::delete_webhook(&state, &caller, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The delivery log: every e-mail and webhook delivery, newest first, with its
/// attempts, last error and the endpoint's answer.
#[utoipa::path(tag = "webhooks", params(DeliveryQuery), security(("bearer" = [])), responses(
    (status = 200, body = Page<DeliveryView>),
    (status = 401, body = Problem),
    (status = 403, body = Problem),
))]
#[get("/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<DeliveryQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(outbox::deliveries(&state, &caller, &query).await?))
}

/// Sends a delivered or failed delivery again, as a new delivery of the same
/// event (same event `id`) to the same recipient or endpoint.
#[utoipa::path(tag = "webhooks", params(("id" = DeliveryId, Path)), security(("bearer" = [])), responses(
    (status = 201, body = DeliveryView),
    (status = 401, body = Problem),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
    (status = 409, body = Problem, description = "delivery_pending: it is still being retried"),
))]
#[post("/deliveries/{id}/replay")]
pub async fn replay_delivery(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<DeliveryId>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Created().json(outbox::replay_delivery(&state, &caller, id.into_inner()).await?))
}
