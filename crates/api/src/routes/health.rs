use crate::state::AppState;
use actix_web::{get, web, HttpResponse};
use leasehold_core::wire::{Health, Problem};

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok".into() })
}

/// The process can reach its database.
#[utoipa::path(tag = "health", responses((status = 200, body = Health), (status = 503, body = Problem)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(Health { status: "ready".into() }),
        Err(error) => {
            tracing::warn!(error = %error, "not ready");
            HttpResponse::ServiceUnavailable()
                .content_type("application/problem+json")
                .json(Problem {
                    problem_type: "https://leasehold.dev/problems/database_unreachable".into(),
                    title: "Not ready".into(),
                    status: 503,
                    detail: Some("The database cannot be reached.".into()),
                    code: "database_unreachable".into(),
                    fields: vec![],
                })
        }
    }
}
