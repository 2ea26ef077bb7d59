//! HTTP handlers, one module per resource. Handlers extract, call a service and
//! map the result; nothing else.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod coupons;
pub mod devices;
pub mod health;
pub mod invoices;
pub mod licences;
pub mod notifications;
pub mod organisations;
pub mod pools;
pub mod products;
pub mod reports;
pub mod seat_requests;
pub mod seats;
pub mod sessions;
pub mod users;
pub mod webhooks;

use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::service::Caller;
use crate::state::AppState;
use actix_web::{dev::Payload, web, FromRequest, HttpMessage, HttpRequest};
use futures::future::LocalBoxFuture;
use std::net::{IpAddr, Ipv4Addr};

pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let authenticated = Authenticated::from_request(req, payload);
        let request_id = req
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(|id| id.to_string());
        let now = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.now())
            .unwrap_or_else(chrono::Utc::now);
        Box::pin(async move {
            let Authenticated(principal) = authenticated.await?;
            Ok(Caller {
                principal,
                request_id,
                now,
            })
        })
    }
}

/// The client's address, for rate limits (the direct peer: a proxy in front must
/// enforce its own limits).
pub fn client_ip(req: &HttpRequest) -> IpAddr {
    req.peer_addr()
        .map(|addr| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

pub fn idempotency_key(req: &HttpRequest) -> Option<&str> {
    req.headers().get(IDEMPOTENCY_KEY).and_then(|value| value.to_str().ok())
}
