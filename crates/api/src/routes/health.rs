use crate::state::AppState;
use actix_web::{get, web, HttpResponse};
use leasehold_core::wire::{Health, Problem};

/// The process is up.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok".into() })
}

/// How long `/readyz` waits for the database.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The process can reach its database.
#[utoipa::path(tag = "health", responses((status = 200, body = Health), (status = 503, body = Problem)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    // A database that hangs is as unready as one that refuses: answer within READY_TIMEOUT.
    let ping = tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await;
    match ping
        .map_err(|_| format!("no answer within {READY_TIMEOUT:?}"))
        .and_then(|r| r.map_err(|e| e.to_string()))
    {
        Ok(()) => HttpResponse::Ok().json(Health { status: "ready".into() }),
        Err(error) => {
            tracing::warn!(%error, "not ready");
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
