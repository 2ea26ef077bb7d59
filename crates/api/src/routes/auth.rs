use super::client_ip;
use crate::error::ApiError;
use crate::service::{sign_in, Caller};
use crate::state::AppState;
use actix_web::{get, post, web, HttpMessage, HttpRequest, HttpResponse};
use leasehold_core::wire::{LoginRequest, LogoutRequest, Me, Problem, RefreshRequest, TokenResponse};

/// Signs in with e-mail and password (rate-limited per client address).
#[utoipa::path(tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, description = "Wrong e-mail or password", body = Problem),
    (status = 429, description = "Too many attempts", body = Problem),
))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let rate = state.limits.login(client_ip(&req))?;
    req.extensions_mut().insert(rate);
    let body = body.into_inner();
    let tokens = sign_in::login(&state, &body.email, body.password, state.now()).await?;
    Ok(HttpResponse::Ok().json(tokens))
}

/// Exchanges a refresh token for new tokens. Each refresh token works once; a
/// used one presented again revokes the whole session.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, body = TokenResponse),
    (status = 401, body = Problem),
))]
#[post("/auth/refresh")]
pub async fn refresh(state: web::Data<AppState>, body: web::Json<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    let tokens = sign_in::refresh(&state, &body.refresh_token, state.now()).await?;
    Ok(HttpResponse::Ok().json(tokens))
}

/// Signs out: the session ends and its tokens stop working.
#[utoipa::path(tag = "auth", request_body = Option<LogoutRequest>, security(("bearer" = [])), responses(
    (status = 204, description = "Signed out"),
    (status = 401, body = Problem),
))]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    caller: Caller,
    body: crate::extract::OptionalJson<LogoutRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = body.into_inner().and_then(|b| b.refresh_token);
    sign_in::logout(&state, &caller.principal, presented.as_deref(), caller.now).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who is signed in.
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses(
    (status = 200, body = Me),
    (status = 401, body = Problem),
))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(sign_in::me(&state, &caller.principal).await?))
}
