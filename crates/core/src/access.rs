//! Who is asking, what they may see, and how they appear in the audit log.

use crate::error::DomainError;
use crate::ids::{ApiKeyId, AuthSessionId, OrganisationId, UserId};
use crate::values::{ApiScope, Role};
use serde::{Deserialize, Serialize};

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User {
        id: UserId,
        role: Role,
        organisation_id: Option<OrganisationId>,
        session_id: AuthSessionId,
    },
    /// An integration. A key without an organisation belongs to the vendor.
    ApiKey {
        id: ApiKeyId,
        organisation_id: Option<OrganisationId>,
        scopes: Vec<ApiScope>,
    },
}

/// The slice of the world a caller may see. Storage applies it to every read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// The vendor's administrators and vendor integrations.
    Everything,
    /// An account manager: the organisations assigned to them, and the
    /// unassigned licences they created.
    ManagedBy(UserId),
    /// A customer: their own organisation only.
    Organisation(OrganisationId),
}

impl Visibility {
    pub fn organisation(&self) -> Option<OrganisationId> {
        match self {
            Visibility::Organisation(id) => Some(*id),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    ApiKey,
    Device,
    System,
}

impl ActorKind {
    pub const fn as_str(&self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::ApiKey => "api_key",
            ActorKind::Device => "device",
            ActorKind::System => "system",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [ActorKind::User, ActorKind::ApiKey, ActorKind::Device, ActorKind::System]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

/// Who did something, as the audit log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<uuid::Uuid>,
}

impl Actor {
    pub const SYSTEM: Actor = Actor {
        kind: ActorKind::System,
        id: None,
    };
}

impl Principal {
    pub fn visibility(&self) -> Visibility {
        match self {
            Principal::User {
                role: Role::VendorAdmin,
                ..
            } => Visibility::Everything,
            Principal::User {
                role: Role::AccountManager,
                id,
                ..
            } => Visibility::ManagedBy(*id),
            Principal::User {
                organisation_id: Some(org),
                ..
            } => Visibility::Organisation(*org),
            // A customer role without an organisation cannot exist (the schema forbids
            // it); seeing nothing is the safe reading.
            Principal::User { id, .. } => Visibility::ManagedBy(*id),
            Principal::ApiKey {
                organisation_id: Some(org),
                ..
            } => Visibility::Organisation(*org),
            Principal::ApiKey {
                organisation_id: None, ..
            } => Visibility::Everything,
        }
    }

    pub fn actor(&self) -> Actor {
        match self {
            Principal::User { id, .. } => Actor {
                kind: ActorKind::User,
                id: Some(id.as_uuid()),
            },
            Principal::ApiKey { id, .. } => Actor {
                kind: ActorKind::ApiKey,
                id: Some(id.as_uuid()),
            },
        }
    }

    pub fn role(&self) -> Option<Role> {
        match self {
            Principal::User { role, .. } => Some(*role),
            Principal::ApiKey { .. } => None,
        }
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Principal::User { id, .. } => Some(*id),
            Principal::ApiKey { .. } => None,
        }
    }

    fn has_scope(&self, scope: ApiScope) -> bool {
        matches!(self, Principal::ApiKey { scopes, .. } if scopes.contains(&scope))
    }

    fn is_vendor_staff(&self) -> bool {
        match self {
            Principal::User { role, .. } => role.is_vendor(),
            Principal::ApiKey { organisation_id, .. } => organisation_id.is_none(),
        }
    }

    /// Read licences (customers read their own organisation's).
    pub fn may_read_licences(&self) -> Result<(), DomainError> {
        let allowed = match self {
            Principal::User { role, .. } => !matches!(role, Role::Member),
            Principal::ApiKey { .. } => {
                self.has_scope(ApiScope::LicencesRead) || self.has_scope(ApiScope::LicencesWrite)
            }
        };
        allowed.then_some(()).ok_or(DomainError::Forbidden(
            "reading licences needs a console role or the licences:read scope",
        ))
    }

    /// Create, assign, pause, resume and delete licences: the vendor's side.
    pub fn may_manage_licences(&self) -> Result<(), DomainError> {
        let allowed = self.is_vendor_staff()
            && match self {
                Principal::User { .. } => true,
                Principal::ApiKey { .. } => self.has_scope(ApiScope::LicencesWrite),
            };
        allowed
            .then_some(())
            .ok_or(DomainError::Forbidden("managing licences is for the vendor's staff"))
    }

    /// Redeem a coupon into the caller's own organisation.
    pub fn may_redeem_coupons(&self) -> Result<OrganisationId, DomainError> {
        match self {
            Principal::User {
                role: Role::OrgAdmin,
                organisation_id: Some(org),
                ..
            } => Ok(*org),
            Principal::ApiKey {
                organisation_id: Some(org),
                ..
            } if self.has_scope(ApiScope::LicencesWrite) => Ok(*org),
            _ => Err(DomainError::Forbidden(
                "redeeming a coupon is for a customer's administrator",
            )),
        }
    }

    /// Create organisations and products: the vendor's administrators only.
    pub fn may_administer_vendor(&self) -> Result<(), DomainError> {
        match self {
            Principal::User {
                role: Role::VendorAdmin,
                ..
            } => Ok(()),
            _ => Err(DomainError::Forbidden("only a vendor administrator may do this")),
        }
    }

    /// Create a user with `role` in `organisation`.
    pub fn may_create_user(&self, role: Role, organisation: Option<OrganisationId>) -> Result<(), DomainError> {
        let allowed = match self {
            Principal::User {
                role: Role::VendorAdmin,
                ..
            } => true,
            Principal::User {
                role: Role::AccountManager,
                ..
            } => !role.is_vendor(),
            Principal::User {
                role: Role::OrgAdmin,
                organisation_id,
                ..
            } => !role.is_vendor() && organisation.is_some() && organisation == *organisation_id,
            _ => false,
        };
        allowed
            .then_some(())
            .ok_or(DomainError::Forbidden("you may not create a user with this role"))
    }

    /// Create or revoke API keys of `organisation` (`None`: a vendor key).
    pub fn may_manage_api_keys(&self, organisation: Option<OrganisationId>) -> Result<(), DomainError> {
        let allowed = match self {
            Principal::User {
                role: Role::VendorAdmin,
                ..
            } => true,
            Principal::User {
                role: Role::OrgAdmin,
                organisation_id,
                ..
            } => organisation.is_some() && organisation == *organisation_id,
            _ => false,
        };
        allowed
            .then_some(())
            .ok_or(DomainError::Forbidden("managing API keys is for administrators"))
    }

    /// A device app registering, renewing or releasing its seat: an organisation's
    /// key with `devices:register`.
    pub fn may_register_devices(&self) -> Result<OrganisationId, DomainError> {
        match self {
            Principal::ApiKey {
                organisation_id: Some(org),
                ..
            } if self.has_scope(ApiScope::DevicesRegister) => Ok(*org),
            _ => Err(DomainError::Forbidden(
                "device registration needs an organisation's API key with devices:register",
            )),
        }
    }

    /// Check out a concurrent seat: a customer user for themselves, or an
    /// organisation's key with `sessions:write` for one of its members.
    pub fn may_check_out(&self) -> Result<(OrganisationId, Option<UserId>), DomainError> {
        match self {
            Principal::User {
                id,
                organisation_id: Some(org),
                role,
                ..
            } if !role.is_vendor() => Ok((*org, Some(*id))),
            Principal::ApiKey {
                organisation_id: Some(org),
                ..
            } if self.has_scope(ApiScope::SessionsWrite) => Ok((*org, None)),
            _ => Err(DomainError::Forbidden(
                "checking out a seat is for an organisation's members and integrations",
            )),
        }
    }

    /// Revoke, block and unblock devices, answer requests, set queue policies:
    /// customer administrators and the vendor's staff.
    pub fn may_manage_seats(&self) -> Result<(), DomainError> {
        match self {
            Principal::User {
                role: Role::VendorAdmin | Role::AccountManager | Role::OrgAdmin,
                ..
            } => Ok(()),
            _ => Err(DomainError::Forbidden("managing seats is for administrators")),
        }
    }

    /// Pool reports and the month-end additions: console users but members,
    /// and API keys with the `reports:read` scope.
    pub fn may_read_reports(&self) -> Result<(), DomainError> {
        let allowed = match self {
            Principal::User { role, .. } => !matches!(role, Role::Member),
            Principal::ApiKey { .. } => self.has_scope(ApiScope::ReportsRead),
        };
        allowed.then_some(()).ok_or(DomainError::Forbidden(
            "reports need a console role or the reports:read scope",
        ))
    }

    /// Send invoices and mark them paid: the vendor's staff (account managers
    /// for their organisations), or an API key with `licences:write`.
    pub fn may_invoice(&self) -> Result<(), DomainError> {
        let allowed = match self {
            Principal::User { role, .. } => role.is_vendor(),
            Principal::ApiKey { organisation_id, .. } => {
                organisation_id.is_none() && self.has_scope(ApiScope::LicencesWrite)
            }
        };
        allowed
            .then_some(())
            .ok_or(DomainError::Forbidden("invoices are sent by the vendor's staff"))
    }

    /// Read and mark read an organisation's notifications: console users but members.
    pub fn may_read_notifications(&self) -> Result<(), DomainError> {
        match self {
            Principal::User { role, .. } if !matches!(role, Role::Member) => Ok(()),
            _ => Err(DomainError::Forbidden("notifications are for console users")),
        }
    }

    /// Who is e-mailed and which webhooks are called: administrators.
    pub fn may_manage_notifications(&self) -> Result<(), DomainError> {
        match self {
            Principal::User {
                role: Role::VendorAdmin | Role::AccountManager | Role::OrgAdmin,
                ..
            } => Ok(()),
            _ => Err(DomainError::Forbidden(
                "notification recipients and webhooks are for administrators",
            )),
        }
    }

    /// Read the audit log.
    pub fn may_read_audit(&self) -> Result<(), DomainError> {
        match self {
            Principal::User { role, .. } if !matches!(role, Role::Member) => Ok(()),
            _ => Err(DomainError::Forbidden("the audit log is for console users")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn user(role: Role, org: Option<OrganisationId>) -> Principal {
        Principal::User {
            id: UserId::from_uuid(Uuid::from_u128(7)),
            role,
            organisation_id: org,
            session_id: AuthSessionId::from_uuid(Uuid::nil()),
        }
    }

    #[test]
    fn visibility_follows_role() {
        let org = OrganisationId::from_uuid(Uuid::from_u128(1));
        assert_eq!(user(Role::VendorAdmin, None).visibility(), Visibility::Everything);
        assert!(matches!(
            user(Role::AccountManager, None).visibility(),
            Visibility::ManagedBy(_)
        ));
        assert_eq!(
            user(Role::OrgViewer, Some(org)).visibility(),
            Visibility::Organisation(org)
        );
        let key = Principal::ApiKey {
            id: ApiKeyId::from_uuid(Uuid::nil()),
            organisation_id: Some(org),
            scopes: vec![],
        };
        assert_eq!(key.visibility(), Visibility::Organisation(org));
    }

    #[test]
    fn only_vendor_side_manages_licences_and_only_org_admins_redeem() {
        let org = OrganisationId::from_uuid(Uuid::from_u128(1));
        assert!(user(Role::AccountManager, None).may_manage_licences().is_ok());
        assert!(user(Role::OrgAdmin, Some(org)).may_manage_licences().is_err());
        assert_eq!(user(Role::OrgAdmin, Some(org)).may_redeem_coupons(), Ok(org));
        assert!(user(Role::OrgViewer, Some(org)).may_redeem_coupons().is_err());
        assert!(user(Role::VendorAdmin, None).may_redeem_coupons().is_err());
        let writer = Principal::ApiKey {
            id: ApiKeyId::from_uuid(Uuid::nil()),
            organisation_id: Some(org),
            scopes: vec![ApiScope::LicencesWrite],
        };
        assert_eq!(writer.may_redeem_coupons(), Ok(org));
        assert!(
            writer.may_manage_licences().is_err(),
            "a customer's key never mints seats"
        );
    }

    #[test]
    fn org_admins_create_customer_users_in_their_own_organisation_only() {
        let org = OrganisationId::from_uuid(Uuid::from_u128(1));
        let other = OrganisationId::from_uuid(Uuid::from_u128(2));
        let admin = user(Role::OrgAdmin, Some(org));
        assert!(admin.may_create_user(Role::Member, Some(org)).is_ok());
        assert!(admin.may_create_user(Role::Member, Some(other)).is_err());
        assert!(admin.may_create_user(Role::VendorAdmin, None).is_err());
    }
}
