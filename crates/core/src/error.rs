//! The domain's errors. Each carries a stable machine `code` that the API renders
//! in its problem+json bodies; clients may branch on it.

use serde::{Deserialize, Serialize};

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The request field, e.g. `quantity` or `owner.user_id`.
    pub field: String,
    /// A stable code, e.g. `required`, `too_small`, `invalid_email`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

impl FieldError {
    pub fn new(field: &str, code: &str, message: &str) -> Self {
        Self {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    /// Also used when the object exists but the caller may not see it.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A well-formed request the rules refuse as a whole (422), e.g. `too_many_selected`.
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    #[error("the licence cannot be deleted: {reason}")]
    LicenceInUse { reason: String },
    #[error("the coupon code is unknown or was already redeemed")]
    CouponNotRedeemable,
    #[error("the Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
}

impl DomainError {
    pub fn field(field: &str, code: &str, message: &str) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }

    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::Validation(_) => "validation_failed",
            DomainError::NotFound(_) => "not_found",
            DomainError::Forbidden(_) => "forbidden",
            DomainError::Conflict { code, .. } => code,
            DomainError::Unprocessable { code, .. } => code,
            DomainError::LicenceInUse { .. } => "licence_in_use",
            DomainError::CouponNotRedeemable => "coupon_not_redeemable",
            DomainError::IdempotencyKeyReused => "idempotency_key_reused",
        }
    }
}

impl From<FieldError> for DomainError {
    fn from(error: FieldError) -> Self {
        Self::Validation(vec![error])
    }
}

/// Collects field errors so a request reports all of its problems at once.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value, or records its error and returns `None`.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.errors.push(error);
                None
            }
        }
    }

    pub fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// `Ok(())` when nothing was recorded.
    pub fn finish(self) -> Result<(), DomainError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(self.errors))
        }
    }
}
