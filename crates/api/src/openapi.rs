//! The OpenAPI document: every handler is registered through utoipa-actix-web,
//! so a route cannot exist without appearing in the spec.

use crate::routes::*;
use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{scope, service_config::ServiceConfig, AppExt};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Leasehold API",
        description = "Licences, seats and pools. Errors are `application/problem+json` with a stable `code`. \
                       Authenticate with `Authorization: Bearer <access token or API key>`."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in, tokens and the current user"),
        (name = "organisations", description = "Customer organisations"),
        (name = "users", description = "Console users"),
        (name = "api-keys", description = "Integrations' credentials"),
        (name = "products", description = "Products (SKUs) and their prices"),
        (name = "licences", description = "Licences and coupons"),
        (name = "audit", description = "The audit log"),
        (name = "pools", description = "Seats per organisation and product"),
        (name = "notifications", description = "What an organisation's admins should know"),
        (name = "invoices", description = "Invoices of licences, sent to their owners"),
        (name = "reports", description = "Pool usage over time and the month-end additions"),
        (name = "webhooks", description = "Signed webhook endpoints and the log of e-mail and webhook deliveries"),
        (name = "devices", description = "Device seats, the request queue, block and reallocate"),
        (name = "sessions", description = "Concurrent seats: leases kept by heartbeats"),
        (name = "seats", description = "Seat tokens: the signing keys and online validation"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT access token or API key")
                        .build(),
                ),
            );
        }
    }
}

/// Registers every route of the API.
pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(seats::jwks)
        .service(
            scope("/v1")
                .service(auth::login)
                .service(auth::refresh)
                .service(auth::logout)
                .service(auth::me)
                .service(organisations::list_organisations)
                .service(organisations::create_organisation)
                .service(organisations::get_organisation)
                .service(organisations::update_organisation)
                .service(users::list_users)
                .service(users::create_user)
                .service(users::get_user)
                .service(api_keys::list_api_keys)
                .service(api_keys::create_api_key)
                .service(api_keys::revoke_api_key)
                .service(products::list_products)
                .service(products::create_product)
                .service(products::get_product)
                .service(products::update_product)
                .service(licences::list_licences)
                .service(licences::create_licence)
                .service(licences::get_licence)
                .service(licences::update_licence)
                .service(licences::delete_licence)
                .service(licences::pause_licence)
                .service(licences::resume_licence)
                .service(coupons::redeem_coupon)
                .service(audit::list_audit)
                .service(audit::verify_audit)
                .service(pools::list_pools)
                .service(pools::get_pool)
                .service(pools::update_pool)
                .service(pools::buy_seats)
                .service(pools::approve_topup)
                .service(pools::dismiss_topup)
                .service(notifications::list_notifications)
                .service(notifications::read_all_notifications)
                .service(notifications::read_notification)
                .service(webhooks::list_recipients)
                .service(webhooks::put_recipients)
                .service(webhooks::list_webhooks)
                .service(webhooks::create_webhook)
                .service(webhooks::get_webhook)
                .service(webhooks::update_webhook)
                .service(webhooks::delete_webhook)
                .service(webhooks::list_deliveries)
                .service(webhooks::replay_delivery)
                .service(reports::pool_report)
                .service(reports::additions)
                .service(invoices::send_invoices)
                .service(invoices::list_invoices)
                .service(invoices::get_invoice)
                .service(invoices::mark_invoice_paid)
                .service(devices::register_device)
                .service(devices::heartbeat_device)
                .service(devices::release_device)
                .service(devices::list_devices)
                .service(devices::get_device)
                .service(devices::revoke_device)
                .service(devices::block_device)
                .service(devices::unblock_device)
                .service(seat_requests::list_seat_requests)
                .service(seat_requests::approve_seat_request)
                .service(seat_requests::reject_seat_request)
                .service(seat_requests::reallocate_seat)
                .service(seats::validate_seat)
                .service(sessions::create_session)
                .service(sessions::list_sessions)
                .service(sessions::get_session)
                .service(sessions::heartbeat_session)
                .service(sessions::delete_session)
                .default_service(actix_web::web::to(unknown_route)),
        );
}

async fn unknown_route() -> Result<actix_web::HttpResponse, crate::error::ApiError> {
    Err(leasehold_core::DomainError::NotFound("route").into())
}

/// The document as the server serves it.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(register)
        .split_for_parts();
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    standard_problems(&mut api);
    api
}

/// What any operation under `/v1` may answer besides what its handler
/// documents: malformed input, authentication, unknown ids, validation,
/// rate limits, shed load and failures, all `application/problem+json`.
const STANDARD_PROBLEMS: [(&str, &str); 8] = [
    (
        "400",
        "Malformed request: unreadable JSON body, query or path parameter",
    ),
    ("401", "Missing, expired or revoked credentials"),
    ("403", "The credentials do not allow this (role, scope or organisation)"),
    (
        "404",
        "No such object (another organisation's objects are not found either)",
    ),
    (
        "422",
        "Invalid input (`validation_failed` with `fields`) or a rule refused",
    ),
    (
        "429",
        "`rate_limited` or `account_locked`; see `Retry-After` and `RateLimit-*`",
    ),
    ("500", "Internal error; the body says nothing internal"),
    (
        "503",
        "`overloaded`: more requests in flight than the process takes; see `Retry-After`",
    ),
];

/// Every error response is written as `application/problem+json` (as the
/// server sends it), and every `/v1` operation lists the standard problems.
fn standard_problems(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
    const PROBLEM: &str = "application/problem+json";
    for (path, item) in api.paths.paths.iter_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses.responses;
            for (status, response) in responses.iter_mut() {
                let (RefOr::T(response), true) = (response, status.as_str() >= "400") else {
                    continue;
                };
                if let Some(content) = response.content.shift_remove("application/json") {
                    response.content.insert(PROBLEM.to_owned(), content);
                }
            }
            if !path.starts_with("/v1/") {
                continue;
            }
            for (status, description) in STANDARD_PROBLEMS {
                responses.entry(status.to_owned()).or_insert_with(|| {
                    let content = Content::new(Some(Ref::from_schema_name("Problem")));
                    RefOr::T(
                        ResponseBuilder::new()
                            .description(description)
                            .content(PROBLEM, content)
                            .build(),
                    )
                });
            }
        }
    }
}

/// The document as checked in at `openapi/openapi.json`.
pub fn spec_json() -> Result<String, serde_json::Error> {
    spec().to_pretty_json().map(|mut json| {
        json.push('\n');
        json
    })
}
