use super::{client_ip, idempotency_key};
use crate::error::ApiError;
use crate::service::{licences, Caller, Idempotency};
use crate::state::AppState;
use crate::views;
use actix_web::{post, web, HttpMessage, HttpRequest, HttpResponse};
use leasehold_core::values::CouponCode;
use leasehold_core::wire::{LicenceView, Problem, RedeemCoupon};

/// Redeems a coupon code into the caller's organisation (customer admin, or an
/// organisation's key with `licences:write`). A code works once. Attempts are
/// rate-limited per client address; honours `Idempotency-Key`.
#[utoipa::path(tag = "licences", request_body = RedeemCoupon, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the same licence")),
    responses(
    (status = 200, body = LicenceView),
    (status = 403, body = Problem),
    (status = 422, description = "`coupon_not_redeemable` or an invalid code", body = Problem),
    (status = 429, body = Problem),
))]
#[post("/coupons/redeem")]
pub async fn redeem_coupon(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: web::Json<RedeemCoupon>,
) -> Result<HttpResponse, ApiError> {
    let rate = state.limits.redeem(client_ip(&req))?;
    req.extensions_mut().insert(rate);
    // Fingerprint the code as parsed: "abcd-efgh" retried as "ABCDEFGH" is the same request.
    let canonical = CouponCode::parse(&body.code)
        .map(String::from)
        .unwrap_or_else(|_| body.code.clone());
    let idempotency = Idempotency::from_header(idempotency_key(&req), "POST /v1/coupons/redeem", &canonical)?;
    let licence = licences::redeem_coupon(&state, &caller, &body.code, idempotency).await?;
    Ok(HttpResponse::Ok().json(views::licence(licence, caller.now)))
}
