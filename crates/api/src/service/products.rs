//! Products (SKUs): what is sold, how its seats are held and what a seat costs.

use super::{snapshot, Caller};
use crate::error::ApiError;
use crate::state::AppState;
use leasehold_core::error::Validator;
use leasehold_core::ids::ProductId;
use leasehold_core::licence::{Prices, Product};
use leasehold_core::ports::{AuditRecord, Change, ChangeSet};
use leasehold_core::values::{parse_currency, required_text};
use leasehold_core::wire::{CreateProduct, UpdateProduct};
use leasehold_core::{DomainError, FieldError};
use uuid::Uuid;

/// The lease of a concurrent seat unless the product says otherwise.
pub const DEFAULT_LEASE_SECONDS: i64 = 900;

fn parse_code(input: &str) -> Result<String, FieldError> {
    let code = input.trim().to_ascii_uppercase();
    let valid = (2..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if valid {
        Ok(code)
    } else {
        Err(FieldError::new(
            "code",
            "invalid_code",
            "2–32 letters, digits, '-' or '_'",
        ))
    }
}

fn check_prices(prices: &Prices) -> Result<(), FieldError> {
    if prices.values().any(|price| *price < 0) {
        return Err(FieldError::new("prices", "negative_price", "prices cannot be negative"));
    }
    Ok(())
}

fn check_lease(seconds: i64) -> Result<i64, FieldError> {
    if (60..=86_400).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(FieldError::new(
            "default_lease_seconds",
            "out_of_range",
            "must be between 60 and 86400 seconds",
        ))
    }
}

fn audit(action: &'static str, product: &Product, before: Option<serde_json::Value>) -> AuditRecord {
    AuditRecord {
        organisation_id: None,
        product_id: Some(product.id),
        action,
        object_kind: "product",
        object_id: product.id.as_uuid(),
        before,
        after: snapshot(product),
    }
}

pub async fn create_product(state: &AppState, caller: &Caller, body: CreateProduct) -> Result<Product, ApiError> {
    caller.principal.may_administer_vendor()?;
    let mut v = Validator::new();
    let code = v.check(parse_code(&body.code));
    let name = v.check(required_text("name", &body.name, 200));
    let currency = v.check(parse_currency(&body.currency));
    v.check(check_prices(&body.prices));
    let lease = v.check(check_lease(body.default_lease_seconds.unwrap_or(DEFAULT_LEASE_SECONDS)));
    v.finish()?;
    let (Some(code), Some(name), Some(currency), Some(lease)) = (code, name, currency, lease) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let product = Product {
        id: ProductId::from_uuid(Uuid::now_v7()),
        code,
        name,
        seat_kind: body.seat_kind,
        currency,
        prices: body.prices,
        default_lease_seconds: lease,
        created_at: caller.now,
    };
    let set = ChangeSet {
        audit: vec![audit("product.created", &product, None)],
        changes: vec![Change::InsertProduct(product.clone())],
        idempotency: None,
    };
    state.store.commit(&caller.write_context(), set).await?;
    Ok(product)
}

pub async fn update_product(
    state: &AppState,
    caller: &Caller,
    id: ProductId,
    body: UpdateProduct,
) -> Result<Product, ApiError> {
    let before = get_product(state, id).await?;
    caller.principal.may_administer_vendor()?;
    let mut after = before.clone();
    let mut v = Validator::new();
    if let Some(name) = &body.name {
        after.name = v.check(required_text("name", name, 200)).unwrap_or_default();
    }
    if let Some(prices) = body.prices {
        v.check(check_prices(&prices));
        after.prices = prices;
    }
    if let Some(lease) = body.default_lease_seconds {
        after.default_lease_seconds = v.check(check_lease(lease)).unwrap_or(before.default_lease_seconds);
    }
    v.finish()?;
    let set = ChangeSet {
        audit: vec![audit("product.updated", &after, snapshot(&before))],
        changes: vec![Change::UpdateProduct(after.clone())],
        idempotency: None,
    };
    state.store.commit(&caller.write_context(), set).await?;
    Ok(after)
}

pub async fn get_product(state: &AppState, id: ProductId) -> Result<Product, ApiError> {
    state
        .store
        .product(id)
        .await?
        .ok_or(ApiError::Domain(DomainError::NotFound("product")))
}
