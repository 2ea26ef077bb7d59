use crate::error::ApiError;
use crate::service::seats;
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};
use leasehold_core::wire::{Jwks, SeatValidity, ValidateSeat};

/// The public keys that sign seat tokens, for offline verification.
#[utoipa::path(tag = "seats", responses((status = 200, body = Jwks)))]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(state.tokens.jwks())
}

/// Asks online whether a seat token's seat still holds. Needs no credential:
/// the token is one.
#[utoipa::path(tag = "seats", request_body = ValidateSeat, responses((status = 200, body = SeatValidity)))]
#[post("/seats/validate")]
pub async fn validate_seat(
    state: web::Data<AppState>,
    body: web::Json<ValidateSeat>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(seats::validate(&state, &body.token).await?))
}
