//! The licence console: create, list, change, pause, resume, delete, redeem.

use super::{snapshot, Caller, Idempotency};
use crate::error::ApiError;
use crate::state::AppState;
use chrono::Duration;
use leasehold_core::access::Visibility;
use leasehold_core::error::Validator;
use leasehold_core::ids::{LicenceId, OrganisationId, UserId};
use leasehold_core::licence::{check_auto_renew, Licence, Owner};
use leasehold_core::ports::{
    AuditRecord, Change, ChangeSet, Committed, Expiring, LicenceDetails, LicenceFilter, LicenceSort, Page, PageRequest,
    StoreError,
};
use leasehold_core::values::{optional_text, required_text, CouponCode, LicenceSource, Quantity};
use leasehold_core::wire::{CreateLicence, LicenceQuery, UpdateLicence};
use leasehold_core::{DomainError, FieldError};
use rand::RngCore;
use uuid::Uuid;

/// A fresh coupon collides with an existing one about once in 2⁴⁰ licences;
/// a few retries make a failure practically impossible.
const COUPON_ATTEMPTS: usize = 5;

fn not_found() -> ApiError {
    ApiError::Domain(DomainError::NotFound("licence"))
}

fn new_coupon() -> CouponCode {
    let mut bytes = [0u8; CouponCode::LEN];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    CouponCode::from_random(bytes)
}

fn audit(action: &'static str, before: Option<&Licence>, after: Option<&Licence>) -> AuditRecord {
    let subject = after.or(before);
    AuditRecord {
        organisation_id: subject.and_then(|l| l.owner_organisation_id),
        product_id: subject.map(|l| l.product_id),
        action,
        object_kind: "licence",
        object_id: subject.map(|l| l.id.as_uuid()).unwrap_or_default(),
        before: before.and_then(snapshot),
        after: after.and_then(snapshot),
    }
}

/// Checks that the owner exists, is visible to the caller, and that the user
/// belongs to the organisation.
async fn resolve_owner(
    state: &AppState,
    vis: Visibility,
    organisation: Option<OrganisationId>,
    user: Option<UserId>,
    v: &mut Validator,
) -> Result<Owner, ApiError> {
    let Some(org) = organisation else {
        if user.is_some() {
            v.push(FieldError::new(
                "owner_organisation_id",
                "required",
                "name the organisation of the owning user",
            ));
        }
        return Ok(Owner::Unassigned);
    };
    if state.store.organisation(vis, org).await?.is_none() {
        v.push(FieldError::new(
            "owner_organisation_id",
            "not_found",
            "no such organisation",
        ));
    }
    if let Some(user_id) = user {
        match state.store.user(vis, user_id).await? {
            Some(u) if u.organisation_id == Some(org) => {}
            Some(_) => v.push(FieldError::new(
                "owner_user_id",
                "not_in_organisation",
                "the user belongs to another organisation",
            )),
            None => v.push(FieldError::new("owner_user_id", "not_found", "no such user")),
        }
    }
    Ok(Owner::Organisation {
        organisation_id: org,
        user_id: user,
    })
}

pub async fn create_licence(
    state: &AppState,
    caller: &Caller,
    body: CreateLicence,
    idempotency: Option<Idempotency>,
) -> Result<LicenceDetails, ApiError> {
    caller.principal.may_manage_licences()?;
    let vis = caller.principal.visibility();
    let mut v = Validator::new();
    let name = v.check(required_text("name", &body.name, 120));
    let note = v.check(optional_text("note", body.note.as_deref().unwrap_or_default(), 2000));
    let quantity = v.check(Quantity::new("quantity", body.quantity));
    v.check(check_auto_renew(body.plan, body.auto_renew));
    let product = state.store.product(body.product_id).await?;
    if product.is_none() {
        v.push(FieldError::new("product_id", "not_found", "no such product"));
    }
    let owner = resolve_owner(state, vis, body.owner_organisation_id, body.owner_user_id, &mut v).await?;
    v.finish()?;
    let (Some(name), Some(note), Some(quantity), Some(product)) = (name, note, quantity, product) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let id = LicenceId::from_uuid(Uuid::now_v7());
    let committed = with_unique_coupon(new_coupon, |coupon| {
        let licence = Licence::new(
            id,
            &product,
            body.plan,
            name.clone(),
            note.clone(),
            quantity.get(),
            owner.clone(),
            coupon,
            LicenceSource::AccountManager,
            caller.principal.user_id(),
            caller.now,
        );
        let licence = licence.map(|mut licence| {
            licence.auto_renew = body.auto_renew;
            licence
        });
        let set = licence.map(|licence| ChangeSet {
            audit: vec![audit("licence.created", None, Some(&licence))],
            changes: vec![Change::InsertLicence(licence)],
            idempotency: idempotency.as_ref().map(|i| i.claim(&caller.principal, id.as_uuid())),
        });
        async move {
            state
                .store
                .commit(&caller.write_context(), set.map_err(StoreError::Domain)?)
                .await
        }
    })
    .await?;
    match committed {
        Committed::Applied => get_licence(state, caller, id).await,
        Committed::Replayed { resource_id } => get_licence(state, caller, LicenceId::from_uuid(resource_id)).await,
    }
}

/// Runs `insert` with fresh coupon codes until one is not taken (a few
/// attempts: with 32⁸ codes a collision is rare, two in a row rarer still).
async fn with_unique_coupon<T, Fut>(
    mut next_code: impl FnMut() -> CouponCode,
    mut insert: impl FnMut(CouponCode) -> Fut,
) -> Result<T, ApiError>
where
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    for _ in 0..COUPON_ATTEMPTS {
        match insert(next_code()).await {
            Err(StoreError::Domain(DomainError::Conflict {
                code: "coupon_collision",
                ..
            })) => continue,
            other => return other.map_err(ApiError::from),
        }
    }
    Err(ApiError::internal("could not generate a unique coupon code"))
}

pub async fn get_licence(state: &AppState, caller: &Caller, id: LicenceId) -> Result<LicenceDetails, ApiError> {
    caller.principal.may_read_licences()?;
    state
        .store
        .licence(caller.principal.visibility(), id)
        .await?
        .ok_or_else(not_found)
}

pub async fn list_licences(
    state: &AppState,
    caller: &Caller,
    query: &LicenceQuery,
) -> Result<(Page<LicenceDetails>, PageRequest), ApiError> {
    caller.principal.may_read_licences()?;
    let mut v = Validator::new();
    let page = v.check(PageRequest::new(query.page, query.per_page));
    let sort = v.check(LicenceSort::parse(query.sort.as_deref()));
    let expiring = match query.expiring.as_deref() {
        None | Some("") => None,
        Some("soon") => Some(Expiring::Soon),
        Some("expired") => Some(Expiring::Expired),
        Some(_) => {
            v.push(FieldError::new("expiring", "invalid_value", "use soon or expired"));
            None
        }
    };
    v.finish()?;
    let page = page.unwrap_or_default();
    let filter = LicenceFilter {
        organisation: query.organisation,
        user: query.user,
        product: query.product,
        status: query.status,
        billing_status: query.billing_status,
        expiring,
        q: query.q.clone(),
        sort: sort.unwrap_or(LicenceSort {
            key: leasehold_core::ports::LicenceSortKey::CreatedAt,
            descending: true,
        }),
        page,
        now: caller.now,
        soon_until: caller.now + Duration::days(state.settings.expiring_soon_days),
    };
    Ok((
        state.store.licences(caller.principal.visibility(), &filter).await?,
        page,
    ))
}

/// Loads a licence the caller may manage, applies `change` and saves it with
/// its audit entry; a concurrent change makes it `conflict_retry`.
async fn change_licence(
    state: &AppState,
    caller: &Caller,
    id: LicenceId,
    action: &'static str,
    change: impl FnOnce(&mut Licence) -> Result<(), ApiError>,
) -> Result<LicenceDetails, ApiError> {
    let before = get_licence(state, caller, id).await?.licence;
    caller.principal.may_manage_licences()?;
    let mut after = before.clone();
    change(&mut after)?;
    after.version = before.version + 1;
    let set = ChangeSet {
        audit: vec![audit(action, Some(&before), Some(&after))],
        changes: vec![Change::UpdateLicence(after)],
        idempotency: None,
    };
    state.store.commit(&caller.write_context(), set).await?;
    get_licence(state, caller, id).await
}

pub async fn update_licence(
    state: &AppState,
    caller: &Caller,
    id: LicenceId,
    body: UpdateLicence,
) -> Result<LicenceDetails, ApiError> {
    let vis = caller.principal.visibility();
    let mut v = Validator::new();
    let owner = match body.owner_organisation_id {
        Some(_) => Some(resolve_owner(state, vis, body.owner_organisation_id, body.owner_user_id, &mut v).await?),
        None if body.owner_user_id.is_some() => {
            // A new user within the licence's current organisation.
            let current = get_licence(state, caller, id).await?.licence.owner_organisation_id;
            Some(resolve_owner(state, vis, current, body.owner_user_id, &mut v).await?)
        }
        None => None,
    };
    let name = body
        .name
        .as_deref()
        .map(|n| required_text("name", n, 120))
        .and_then(|r| v.check(r));
    let note = body
        .note
        .as_deref()
        .map(|n| optional_text("note", n, 2000))
        .and_then(|r| v.check(r));
    let quantity = body
        .quantity
        .map(|q| Quantity::new("quantity", q))
        .and_then(|r| v.check(r));
    v.finish()?;
    let now = caller.now;
    change_licence(state, caller, id, "licence.updated", move |licence| {
        if let Some(name) = name {
            licence.name = name;
        }
        if let Some(note) = note {
            licence.note = note;
        }
        if let Some(quantity) = quantity {
            licence.quantity = quantity.get();
        }
        if let Some(Owner::Organisation {
            organisation_id,
            user_id,
        }) = owner
        {
            licence.assign(organisation_id, user_id, now)?;
        }
        if let Some(ends_at) = body.ends_at {
            if licence.activated_at.is_none_or(|start| ends_at <= start) {
                return Err(FieldError::new("ends_at", "before_start", "must be after the activation date").into());
            }
            licence.ends_at = Some(ends_at);
        }
        if let Some(auto_renew) = body.auto_renew {
            check_auto_renew(licence.plan, auto_renew)?;
            licence.auto_renew = auto_renew;
        }
        Ok(())
    })
    .await
}

pub async fn pause_licence(state: &AppState, caller: &Caller, id: LicenceId) -> Result<LicenceDetails, ApiError> {
    let now = caller.now;
    change_licence(state, caller, id, "licence.paused", |l| Ok(l.pause(now)?)).await
}

pub async fn resume_licence(state: &AppState, caller: &Caller, id: LicenceId) -> Result<LicenceDetails, ApiError> {
    let now = caller.now;
    change_licence(state, caller, id, "licence.resumed", |l| Ok(l.resume(now)?)).await
}

pub async fn delete_licence(state: &AppState, caller: &Caller, id: LicenceId) -> Result<(), ApiError> {
    let licence = get_licence(state, caller, id).await?.licence;
    caller.principal.may_manage_licences()?;
    licence.check_deletable(state.store.seats_held_by_licence(id).await?)?;
    let set = ChangeSet {
        audit: vec![audit("licence.deleted", Some(&licence), None)],
        changes: vec![Change::DeleteLicence {
            id,
            version: licence.version,
        }],
        idempotency: None,
    };
    match state.store.commit(&caller.write_context(), set).await {
        Ok(_) => Ok(()),
        // Redeemed or changed since it was read: say why, from a fresh read.
        Err(StoreError::Stale) => {
            let fresh = get_licence(state, caller, id).await?.licence;
            fresh.check_deletable(state.store.seats_held_by_licence(id).await?)?;
            Err(ApiError::Stale)
        }
        Err(error) => Err(error.into()),
    }
}

/// Redeems a coupon into the caller's organisation, once.
pub async fn redeem_coupon(
    state: &AppState,
    caller: &Caller,
    code: &str,
    idempotency: Option<Idempotency>,
) -> Result<LicenceDetails, ApiError> {
    let organisation = caller.principal.may_redeem_coupons()?;
    let code = CouponCode::parse(code)?;
    let before = state
        .store
        .licence_by_coupon(code.as_str())
        .await?
        .ok_or(ApiError::Domain(DomainError::CouponNotRedeemable))?;
    let claim = idempotency
        .as_ref()
        .map(|i| i.claim(&caller.principal, before.id.as_uuid()));
    if let Some(claim) = &claim {
        // A retried redemption that already succeeded replays its answer.
        if let Some(resource_id) = super::replayed(state, claim).await? {
            return get_licence(state, caller, LicenceId::from_uuid(resource_id)).await;
        }
    }
    let mut after = before.clone();
    after.redeem(organisation, caller.now)?;
    after.version = before.version + 1;
    let set = ChangeSet {
        audit: vec![audit("coupon.redeemed", Some(&before), Some(&after))],
        changes: vec![Change::UpdateLicence(after)],
        idempotency: claim,
    };
    match state.store.commit(&caller.write_context(), set).await {
        Ok(_) => get_licence(state, caller, before.id).await,
        // Someone redeemed it between our read and our write.
        Err(StoreError::Stale) => Err(ApiError::Domain(DomainError::CouponNotRedeemable)),
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn collision() -> StoreError {
        StoreError::Domain(DomainError::Conflict {
            code: "coupon_collision",
            message: "taken".into(),
        })
    }

    #[tokio::test]
    async fn a_taken_coupon_is_retried_with_a_new_code() {
        let tried = Cell::new(Vec::new());
        let result = with_unique_coupon(new_coupon, |code| {
            let mut seen = tried.take();
            seen.push(code);
            let attempt = seen.len();
            tried.set(seen);
            async move {
                if attempt < 3 {
                    Err(collision())
                } else {
                    Ok(attempt)
                }
            }
        })
        .await;
        assert_eq!(result.ok(), Some(3), "the third code was free");
        let seen = tried.take();
        assert_eq!(seen.len(), 3);
        assert!(
            seen[0] != seen[1] || seen[1] != seen[2],
            "each attempt draws a new code"
        );
    }

    #[tokio::test]
    async fn other_errors_are_not_retried_and_attempts_are_bounded() {
        let calls = Cell::new(0);
        let stale = with_unique_coupon(new_coupon, |_| {
            calls.set(calls.get() + 1);
            async { Err::<(), _>(StoreError::Stale) }
        })
        .await;
        assert!(matches!(stale, Err(ApiError::Stale)), "{stale:?}");
        assert_eq!(calls.get(), 1);
        calls.set(0);
        let exhausted = with_unique_coupon(new_coupon, |_| {
            calls.set(calls.get() + 1);
            async { Err::<(), _>(collision()) }
        })
        .await;
        assert!(exhausted.is_err());
        assert_eq!(calls.get(), COUPON_ATTEMPTS);
    }
}
