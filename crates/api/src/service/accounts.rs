//! Organisations, users and API keys.

use super::sign_in::new_password_hash;
use super::{snapshot, Caller};
use crate::auth::{random_secret, secret_hash, API_KEY_PREFIX};
use crate::error::ApiError;
use crate::state::AppState;
use leasehold_core::access::Visibility;
use leasehold_core::error::Validator;
use leasehold_core::ids::{ApiKeyId, OrganisationId, UserId};
use leasehold_core::licence::Organisation;
use leasehold_core::ports::{ApiKey, AuditRecord, Change, ChangeSet, User};
use leasehold_core::values::{required_text, Email, Role};
use leasehold_core::wire::{CreateApiKey, CreateOrganisation, CreateUser, UpdateOrganisation};
use leasehold_core::{DomainError, FieldError};
use uuid::Uuid;

fn audit(
    action: &'static str,
    kind: &'static str,
    id: Uuid,
    org: Option<OrganisationId>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> AuditRecord {
    AuditRecord {
        organisation_id: org,
        product_id: None,
        action,
        object_kind: kind,
        object_id: id,
        before,
        after,
    }
}

/// The account manager named for an organisation must be one.
async fn check_account_manager(state: &AppState, id: Option<UserId>) -> Result<(), ApiError> {
    let Some(id) = id else { return Ok(()) };
    match state.store.user(Visibility::Everything, id).await? {
        Some(user) if user.role == Role::AccountManager => Ok(()),
        _ => Err(FieldError::new(
            "account_manager_id",
            "not_an_account_manager",
            "is not an account manager",
        )
        .into()),
    }
}

pub async fn create_organisation(
    state: &AppState,
    caller: &Caller,
    body: CreateOrganisation,
) -> Result<Organisation, ApiError> {
    caller.principal.may_administer_vendor()?;
    let name = required_text("name", &body.name, 200)?;
    check_account_manager(state, body.account_manager_id).await?;
    let organisation = Organisation {
        id: OrganisationId::from_uuid(Uuid::now_v7()),
        name,
        account_manager_id: body.account_manager_id,
        created_at: caller.now,
    };
    let set = ChangeSet {
        audit: vec![audit(
            "organisation.created",
            "organisation",
            organisation.id.as_uuid(),
            Some(organisation.id),
            None,
            snapshot(&organisation),
        )],
        changes: vec![Change::InsertOrganisation(organisation.clone())],
        idempotency: None,
    };
    state.store.commit(&caller.write_context(), set).await?;
    Ok(organisation)
}

pub async fn update_organisation(
    state: &AppState,
    caller: &Caller,
    id: OrganisationId,
    body: UpdateOrganisation,
) -> Result<Organisation, ApiError> {
    let before = get_organisation(state, caller, id).await?;
    caller.principal.may_administer_vendor()?;
    let mut after = before.clone();
    if let Some(name) = &body.name {
        after.name = required_text("name", name, 200)?;
    }
    if body.account_manager_id.is_some() {
        check_account_manager(state, body.account_manager_id).await?;
        after.account_manager_id = body.account_manager_id;
    }
    let set = ChangeSet {
        audit: vec![audit(
            "organisation.updated",
            "organisation",
            id.as_uuid(),
            Some(id),
            snapshot(&before),
            snapshot(&after),
        )],
        changes: vec![Change::UpdateOrganisation(after.clone())],
        idempotency: None,
    };
    state.store.commit(&caller.write_context(), set).await?;
    Ok(after)
}

pub async fn get_organisation(state: &AppState, caller: &Caller, id: OrganisationId) -> Result<Organisation, ApiError> {
    state
        .store
        .organisation(caller.principal.visibility(), id)
        .await?
        .ok_or(ApiError::Domain(DomainError::NotFound("organisation")))
}

pub async fn create_user(state: &AppState, caller: &Caller, body: CreateUser) -> Result<User, ApiError> {
    let organisation_id = if body.role.is_vendor() {
        None
    } else {
        body.organisation_id.or(caller.principal.visibility().organisation())
    };
    caller.principal.may_create_user(body.role, organisation_id)?;
    let mut v = Validator::new();
    let email = v.check(Email::parse(&body.email));
    let name = v.check(leasehold_core::values::optional_text("name", &body.name, 200));
    v.check(leasehold_core::values::check_password(&body.password));
    if body.role.is_vendor() && body.organisation_id.is_some() {
        v.push(FieldError::new(
            "organisation_id",
            "not_allowed",
            "vendor roles belong to no organisation",
        ));
    }
    match organisation_id {
        Some(org)
            if state
                .store
                .organisation(caller.principal.visibility(), org)
                .await?
                .is_none() =>
        {
            v.push(FieldError::new("organisation_id", "not_found", "no such organisation"));
        }
        None if !body.role.is_vendor() => {
            v.push(FieldError::new(
                "organisation_id",
                "required",
                "a customer user belongs to an organisation",
            ));
        }
        _ => {}
    }
    v.finish()?;
    let (Some(email), Some(name)) = (email, name) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let password_hash = new_password_hash(&body.password).await?;
    let user = User {
        id: UserId::from_uuid(Uuid::now_v7()),
        name: if name.is_empty() {
            email.as_str().split('@').next().unwrap_or_default().to_owned()
        } else {
            name
        },
        email: email.as_str().to_owned(),
        role: body.role,
        organisation_id,
        created_at: caller.now,
    };
    let after = serde_json::json!({"id": user.id, "email": user.email, "name": user.name, "role": user.role, "organisation_id": user.organisation_id});
    let set = ChangeSet {
        audit: vec![audit(
            "user.created",
            "user",
            user.id.as_uuid(),
            organisation_id,
            None,
            Some(after),
        )],
        changes: vec![Change::InsertUser {
            user: user.clone(),
            password_hash,
        }],
        idempotency: None,
    };
    state.store.commit(&caller.write_context(), set).await?;
    Ok(user)
}

pub async fn get_user(state: &AppState, caller: &Caller, id: UserId) -> Result<User, ApiError> {
    state
        .store
        .user(caller.principal.visibility(), id)
        .await?
        .ok_or(ApiError::Domain(DomainError::NotFound("user")))
}

/// Creates an API key; the secret is returned once and stored only as a hash.
pub async fn create_api_key(
    state: &AppState,
    caller: &Caller,
    body: CreateApiKey,
) -> Result<(ApiKey, String), ApiError> {
    let organisation_id = match body.organisation_id {
        Some(org) => Some(org),
        None => caller.principal.visibility().organisation(),
    };
    caller.principal.may_manage_api_keys(organisation_id)?;
    let mut v = Validator::new();
    let name = v.check(required_text("name", &body.name, 120));
    if body.scopes.is_empty() {
        v.push(FieldError::new("scopes", "required", "name at least one scope"));
    }
    if let Some(org) = organisation_id {
        if state
            .store
            .organisation(caller.principal.visibility(), org)
            .await?
            .is_none()
        {
            v.push(FieldError::new("organisation_id", "not_found", "no such organisation"));
        }
    }
    v.finish()?;
    let secret = format!("{API_KEY_PREFIX}{}", random_secret());
    let mut scopes = body.scopes.clone();
    scopes.sort();
    scopes.dedup();
    let key = ApiKey {
        id: ApiKeyId::from_uuid(Uuid::now_v7()),
        name: name.unwrap_or_default(),
        organisation_id,
        scopes,
        prefix: secret.chars().take(10).collect(),
        created_by: caller.principal.user_id(),
        created_at: caller.now,
        last_used_at: None,
        revoked_at: None,
    };
    let after = serde_json::json!({"id": key.id, "name": key.name, "organisation_id": key.organisation_id, "scopes": key.scopes, "prefix": key.prefix});
    let set = ChangeSet {
        audit: vec![audit(
            "api_key.created",
            "api_key",
            key.id.as_uuid(),
            organisation_id,
            None,
            Some(after),
        )],
        changes: vec![Change::InsertApiKey {
            key: key.clone(),
            key_hash: secret_hash(&secret),
        }],
        idempotency: None,
    };
    state.store.commit(&caller.write_context(), set).await?;
    Ok((key, secret))
}

pub async fn revoke_api_key(state: &AppState, caller: &Caller, id: ApiKeyId) -> Result<ApiKey, ApiError> {
    let key = state
        .store
        .api_key(caller.principal.visibility(), id)
        .await?
        .ok_or(ApiError::Domain(DomainError::NotFound("API key")))?;
    caller.principal.may_manage_api_keys(key.organisation_id)?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    let set = ChangeSet {
        audit: vec![audit(
            "api_key.revoked",
            "api_key",
            id.as_uuid(),
            key.organisation_id,
            None,
            Some(serde_json::json!({"revoked_at": caller.now})),
        )],
        changes: vec![Change::RevokeApiKey { id, at: caller.now }],
        idempotency: None,
    };
    state.store.commit(&caller.write_context(), set).await?;
    Ok(ApiKey {
        revoked_at: Some(caller.now),
        ..key
    })
}

/// Creates a user without a signed-in caller: `leasehold user create` and the
/// demo data. The same rules apply, and the audit log names the system.
pub async fn create_user_as_system(
    state: &AppState,
    email: &str,
    name: &str,
    password: &str,
    role: Role,
    organisation_id: Option<OrganisationId>,
) -> Result<User, ApiError> {
    let mut v = Validator::new();
    let email = v.check(Email::parse(email));
    v.check(leasehold_core::values::check_password(password));
    if role.is_vendor() != organisation_id.is_none() {
        v.push(FieldError::new(
            "organisation",
            "invalid",
            "customer roles need an organisation; vendor roles have none",
        ));
    }
    if let Some(org) = organisation_id {
        if state.store.organisation(Visibility::Everything, org).await?.is_none() {
            v.push(FieldError::new("organisation", "not_found", "no such organisation"));
        }
    }
    v.finish()?;
    let Some(email) = email else {
        return Err(ApiError::internal("validated e-mail missing"));
    };
    let user = User {
        id: UserId::from_uuid(Uuid::now_v7()),
        email: email.as_str().to_owned(),
        name: name.to_owned(),
        role,
        organisation_id,
        created_at: chrono::Utc::now(),
    };
    let password_hash = new_password_hash(password).await?;
    let after = serde_json::json!({"id": user.id, "email": user.email, "role": user.role, "organisation_id": user.organisation_id});
    let set = ChangeSet {
        audit: vec![audit(
            "user.created",
            "user",
            user.id.as_uuid(),
            organisation_id,
            None,
            Some(after),
        )],
        changes: vec![Change::InsertUser {
            user: user.clone(),
            password_hash,
        }],
        idempotency: None,
    };
    let ctx = leasehold_core::ports::WriteContext {
        actor: leasehold_core::access::Actor::SYSTEM,
        request_id: None,
        now: user.created_at,
    };
    state.store.commit(&ctx, set).await?;
    Ok(user)
}
