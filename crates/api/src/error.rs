//! One error type for every handler, rendered as `application/problem+json`
//! (RFC 9457) with a stable `code`. 5xx bodies say nothing internal; the cause
//! goes to the log.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use leasehold_core::ports::StoreError;
use leasehold_core::wire::Problem;
use leasehold_core::{DomainError, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("authentication required: {0}")]
    Unauthorized(&'static str),
    #[error("too many requests")]
    RateLimited { retry_after_seconds: u64, limit: u32 },
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("the object changed while this request ran")]
    Stale,
    #[error("the device is blocked")]
    DeviceBlocked,
    /// Too many failed sign-ins for an address: locked for a while.
    #[error("sign-in is locked for this address")]
    AccountLocked { retry_after_seconds: u64 },
    /// More requests in flight than the process takes: shed at once rather than queued.
    #[error("the server is overloaded")]
    Overloaded,
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Domain(domain) => ApiError::Domain(domain),
            StoreError::Stale => ApiError::Stale,
            StoreError::Backend(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        ApiError::Domain(error.into())
    }
}

impl ApiError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    fn parts(&self) -> (StatusCode, &str, &'static str, Option<String>, Vec<FieldError>) {
        match self {
            ApiError::Domain(domain) => {
                let code = domain.code();
                match domain {
                    DomainError::Validation(fields) => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        code,
                        "The request has invalid fields",
                        None,
                        fields.clone(),
                    ),
                    DomainError::NotFound(what) => (
                        StatusCode::NOT_FOUND,
                        code,
                        "Not found",
                        Some(format!("No such {what}.")),
                        vec![],
                    ),
                    DomainError::Forbidden(why) => (
                        StatusCode::FORBIDDEN,
                        code,
                        "Forbidden",
                        Some(format!("{}.", capitalise(why))),
                        vec![],
                    ),
                    DomainError::Conflict { message, .. } => (
                        StatusCode::CONFLICT,
                        code,
                        "Conflict",
                        Some(format!("{}.", capitalise(message))),
                        vec![],
                    ),
                    DomainError::Unprocessable { message, .. } => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        code,
                        "Unprocessable request",
                        Some(format!("{}.", capitalise(message))),
                        vec![],
                    ),
                    DomainError::LicenceInUse { reason } => (
                        StatusCode::CONFLICT,
                        code,
                        "The licence is in use",
                        Some(format!("The licence cannot be deleted: {reason}.")),
                        vec![],
                    ),
                    DomainError::CouponNotRedeemable => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        code,
                        "The coupon cannot be redeemed",
                        Some("The coupon code is unknown or was already redeemed.".into()),
                        vec![],
                    ),
                    DomainError::IdempotencyKeyReused => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        code,
                        "Idempotency-Key reused",
                        Some("This Idempotency-Key was already used with a different request.".into()),
                        vec![],
                    ),
                }
            }
            ApiError::Unauthorized(why) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authentication required",
                Some(format!("{}.", capitalise(why))),
                vec![],
            ),
            ApiError::RateLimited {
                retry_after_seconds, ..
            } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests",
                Some(format!("Try again in {retry_after_seconds} s.")),
                vec![],
            ),
            ApiError::BadRequest { code, detail } => (
                StatusCode::BAD_REQUEST,
                code,
                "Bad request",
                Some(detail.clone()),
                vec![],
            ),
            ApiError::DeviceBlocked => (
                StatusCode::FORBIDDEN,
                "device_blocked",
                "Device blocked",
                Some("An administrator blocked this device; it cannot hold a seat.".into()),
                vec![],
            ),
            ApiError::Stale => (
                StatusCode::CONFLICT,
                "conflict_retry",
                "Changed meanwhile",
                Some("The object changed while this request ran; reload it and try again.".into()),
                vec![],
            ),
            ApiError::AccountLocked { retry_after_seconds } => (
                StatusCode::TOO_MANY_REQUESTS,
                "account_locked",
                "Sign-in locked",
                Some(format!(
                    "Too many failed sign-ins for this address; try again in {} min.",
                    retry_after_seconds.div_ceil(60)
                )),
                vec![],
            ),
            ApiError::Overloaded => (
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "Overloaded",
                Some("The server has more requests in flight than it takes; try again in a second.".into()),
                vec![],
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                None,
                vec![],
            ),
        }
    }

    pub fn problem(&self) -> Problem {
        let (status, code, title, detail, fields) = self.parts();
        Problem {
            problem_type: format!("https://leasehold.dev/problems/{code}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            fields,
        }
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.parts().0
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            tracing::error!(error.cause = %cause, "request failed");
        }
        let problem = self.problem();
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        match self {
            ApiError::RateLimited {
                retry_after_seconds,
                limit,
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
                let state = crate::limits::RateState {
                    limit: *limit,
                    remaining: 0,
                    reset_seconds: *retry_after_seconds,
                };
                let mut headers = header::HeaderMap::new();
                state.write(&mut headers);
                for (name, value) in headers {
                    response.insert_header((name, value));
                }
            }
            ApiError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::Overloaded => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            ApiError::AccountLocked { retry_after_seconds } => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
            }
            _ => {}
        }
        response.json(problem)
    }
}

/// Malformed JSON bodies, query strings and paths become problems too.
pub fn json_error(error: actix_web::error::JsonPayloadError, _: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::BadRequest {
        code: "invalid_body",
        detail: format!("The body is not valid: {error}"),
    }
    .into()
}

pub fn query_error(error: actix_web::error::QueryPayloadError, _: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::BadRequest {
        code: "invalid_query",
        detail: format!("The query is not valid: {error}"),
    }
    .into()
}

/// A malformed id in a path names nothing that exists.
pub fn path_error(_: actix_web::error::PathError, _: &actix_web::HttpRequest) -> actix_web::Error {
    ApiError::Domain(DomainError::NotFound("object")).into()
}
