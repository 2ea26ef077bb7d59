use crate::error::ApiError;
use crate::service::{reports, Caller};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use leasehold_core::ids::PoolId;
use leasehold_core::wire::{AdditionsQuery, AdditionsReport, PoolReport, PoolReportQuery, Problem};

/// A pool's usage over whole UTC days (`from` and `to` included), per day,
/// week or month: utilisation as time-weighted held ÷ capacity integrated
/// from the usage events, peak held, available seats, denials (a device's
/// burst of retries until it gets a seat counts once), queue waits, top-ups
/// and seats added by source. At most 732 days.
#[utoipa::path(tag = "reports", params(("id" = PoolId, Path), PoolReportQuery), security(("bearer" = [])), responses(
    (status = 200, body = PoolReport),
    (status = 401, body = Problem),
    (status = 403, body = Problem),
    (status = 404, body = Problem),
    (status = 422, body = Problem, description = "`invalid_range`, `range_too_long`"),
))]
#[get("/reports/pools/{id}")]
pub async fn pool_report(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<PoolId>,
    query: web::Query<PoolReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let report = reports::pool_report(&state, &caller, id.into_inner(), &query).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// The month-end list of licence additions per organisation, product and
/// source (automatic, purchase, coupon, account manager), with amounts, for
/// invoicing. `Accept: text/csv` returns it as a CSV download.
#[utoipa::path(tag = "reports", params(AdditionsQuery), security(("bearer" = [])), responses(
    (status = 200, body = AdditionsReport, content_type = "application/json"),
    (status = 200, body = String, content_type = "text/csv", description = "The same lines as CSV"),
    (status = 401, body = Problem),
    (status = 403, body = Problem),
    (status = 422, body = Problem, description = "`invalid_month`"),
))]
#[get("/reports/additions")]
pub async fn additions(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<AdditionsQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let report = reports::additions(&state, &caller, &query.month).await?;
    let wants_csv = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/csv"));
    if !wants_csv {
        return Ok(HttpResponse::Ok().json(report));
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"leasehold-additions-{}.csv\"", report.month),
        ))
        .body(reports::additions_csv(&report)))
}
