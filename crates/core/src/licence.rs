//! Licences, products and organisations as the domain sees them, with the rules
//! that move a licence through its lifecycle.

use crate::error::{DomainError, FieldError};
use crate::ids::{LicenceId, OrganisationId, ProductId, UserId};
use crate::values::{BillingStatus, CouponCode, LicenceSource, LicenceStatus, Plan, SeatKind};
use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How long a trial licence runs.
pub const TRIAL_DAYS: i64 = 14;
/// The default window of the "expiring soon" filter.
pub const DEFAULT_EXPIRING_SOON_DAYS: i64 = 30;
/// An "expiring soon" notice goes out this many days before a licence ends
/// (once per licence and term: a renewal or a new end date opens a new window).
pub const EXPIRY_NOTICE_DAYS: i64 = 14;
/// An auto-renewing licence renews this long before its end, so that its seats
/// never lapse between the end and the next run of the expiry job.
pub const RENEW_AHEAD_MINUTES: i64 = 60;

/// Prices per plan in minor units of the product's currency (cents, pence…).
pub type Prices = BTreeMap<Plan, i64>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
    pub account_manager_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    pub code: String,
    pub name: String,
    pub seat_kind: SeatKind,
    pub currency: String,
    pub prices: Prices,
    pub default_lease_seconds: i64,
    pub created_at: DateTime<Utc>,
}

impl Product {
    /// The price of one seat on `plan`; a trial is free unless priced.
    pub fn unit_price(&self, plan: Plan) -> Option<i64> {
        match (self.prices.get(&plan), plan) {
            (Some(price), _) => Some(*price),
            (None, Plan::Trial) => Some(0),
            (None, _) => None,
        }
    }
}

/// When a licence on `plan` that starts at `from` ends; `None` for perpetual.
pub fn end_of_term(plan: Plan, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match plan {
        Plan::Monthly => from.checked_add_months(Months::new(1)),
        Plan::Yearly => from.checked_add_months(Months::new(12)),
        Plan::Trial => Some(from + Duration::days(TRIAL_DAYS)),
        Plan::Perpetual => None,
    }
}

/// Only subscriptions renew: a trial ends, a perpetual licence never does.
pub fn renewable(plan: Plan) -> bool {
    matches!(plan, Plan::Monthly | Plan::Yearly)
}

/// `auto_renew` asked for a plan that cannot renew.
pub fn check_auto_renew(plan: Plan, auto_renew: bool) -> Result<(), FieldError> {
    if auto_renew && !renewable(plan) {
        return Err(FieldError::new(
            "auto_renew",
            "not_renewable",
            &format!("a {plan} licence cannot renew; only monthly and yearly ones do"),
        ));
    }
    Ok(())
}

/// The end after renewing a licence on `plan` that ends at `ends`, as the job
/// running at `now` does: one term, or as many as it takes to end more than
/// [`RENEW_AHEAD_MINUTES`] after `now` (a server that was down catches up).
/// `None` when it is not due yet or `plan` does not renew.
pub fn renewal(plan: Plan, ends: DateTime<Utc>, now: DateTime<Utc>) -> Option<(DateTime<Utc>, u32)> {
    if !renewable(plan) {
        return None;
    }
    let due = now + Duration::minutes(RENEW_AHEAD_MINUTES);
    let months = if plan == Plan::Yearly { 12 } else { 1 };
    // Terms count from the original end, so the anniversary does not drift
    // (31 March renews to 30 April, then 31 May, not 30 May).
    let (mut next, mut terms) = (ends, 0u32);
    while next <= due {
        terms += 1;
        next = ends.checked_add_months(Months::new(months * terms))?;
    }
    (terms > 0).then_some((next, terms))
}

/// Decimal places of a currency's minor unit (ISO 4217): 0 for the yen, 3
/// for the dinars, 2 for the rest.
pub fn currency_decimals(currency: &str) -> u32 {
    match currency.trim().to_ascii_uppercase().as_str() {
        "JPY" | "KRW" | "ISK" | "CLP" | "VND" | "HUF" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    }
}

/// Minor units as a plain decimal in the currency's places (`1234` EUR →
/// `12.34`, `4500` JPY → `4500`), as CSV files and e-mails write amounts.
pub fn decimal_amount(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let decimals = currency_decimals(currency);
    let scale = 10u64.pow(decimals);
    let abs = minor.unsigned_abs();
    if decimals == 0 {
        format!("{sign}{abs}")
    } else {
        format!(
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = decimals as usize
        )
    }
}

/// What one invoice of a licence covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingPeriod {
    /// Tells periods apart: the term's end, or the plan for a one-off licence.
    pub key: String,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

/// Days an invoice is due after it is sent.
pub const INVOICE_DUE_DAYS: i64 = 30;

/// At most this many licences are invoiced at once.
pub const MAX_INVOICE_BATCH: usize = 20;

/// `too_many_selected`: more licences than one request may invoice.
pub fn too_many_selected(selected: usize) -> DomainError {
    DomainError::Unprocessable {
        code: "too_many_selected",
        message: format!("at most {MAX_INVOICE_BATCH} licences are invoiced at once; {selected} were selected"),
    }
}

/// A grant of `quantity` seats of one product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Licence {
    pub id: LicenceId,
    pub product_id: ProductId,
    pub plan: Plan,
    pub name: String,
    pub note: String,
    pub quantity: u32,
    /// Price of one seat on this plan when the licence was made, in minor units.
    pub unit_price: i64,
    pub currency: String,
    pub owner_organisation_id: Option<OrganisationId>,
    pub owner_user_id: Option<UserId>,
    pub coupon_code: CouponCode,
    /// The stored lifecycle state; see [`Licence::status_at`] for what callers see.
    pub status: LicenceStatus,
    pub billing_status: BillingStatus,
    pub source: LicenceSource,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub redeemed_at: Option<DateTime<Utc>>,
    /// Monthly and yearly licences renew by themselves before they end.
    #[serde(default)]
    pub auto_renew: bool,
    /// Optimistic-concurrency counter: every saved change increments it.
    pub version: i64,
}

/// Why a new licence exists and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// Nobody yet: the coupon code is the hand-over.
    Unassigned,
    Organisation {
        organisation_id: OrganisationId,
        user_id: Option<UserId>,
    },
}

impl Licence {
    /// A new licence; owned licences start at once, unassigned ones when redeemed.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: LicenceId,
        product: &Product,
        plan: Plan,
        name: String,
        note: String,
        quantity: u32,
        owner: Owner,
        coupon_code: CouponCode,
        source: LicenceSource,
        created_by: Option<UserId>,
        now: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        let unit_price = product
            .unit_price(plan)
            .ok_or_else(|| DomainError::field("plan", "no_price", &format!("the product has no {plan} price")))?;
        let mut licence = Self {
            id,
            product_id: product.id,
            plan,
            name,
            note,
            quantity,
            unit_price,
            currency: product.currency.clone(),
            owner_organisation_id: None,
            owner_user_id: None,
            coupon_code,
            status: LicenceStatus::Unassigned,
            billing_status: BillingStatus::Uninvoiced,
            source,
            created_by,
            created_at: now,
            activated_at: None,
            ends_at: None,
            redeemed_at: None,
            auto_renew: false,
            version: 0,
        };
        if let Owner::Organisation {
            organisation_id,
            user_id,
        } = owner
        {
            licence.activate(organisation_id, user_id, now);
        }
        Ok(licence)
    }

    fn activate(&mut self, organisation_id: OrganisationId, user_id: Option<UserId>, now: DateTime<Utc>) {
        self.owner_organisation_id = Some(organisation_id);
        self.owner_user_id = user_id;
        self.status = LicenceStatus::Active;
        self.activated_at = Some(now);
        self.ends_at = end_of_term(self.plan, now);
    }

    /// What a caller sees at `now`: a licence past its end is expired even before
    /// the expiry job has stored it so.
    pub fn status_at(&self, now: DateTime<Utc>) -> LicenceStatus {
        match (self.status, self.ends_at) {
            (LicenceStatus::Active | LicenceStatus::Paused, Some(ends)) if ends <= now => LicenceStatus::Expired,
            (status, _) => status,
        }
    }

    /// The period an invoice of this licence covers now: the current term of
    /// a subscription (monthly, yearly: the term ending at `ends_at`), or the
    /// whole licence otherwise. One invoice per period.
    pub fn billing_period(&self) -> BillingPeriod {
        let months = match self.plan {
            Plan::Monthly => Some(1),
            Plan::Yearly => Some(12),
            Plan::Perpetual | Plan::Trial => None,
        };
        match (months, self.ends_at) {
            (Some(months), Some(end)) => BillingPeriod {
                key: end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                start: end.checked_sub_months(Months::new(months)),
                end: Some(end),
            },
            _ => BillingPeriod {
                key: self.plan.as_str().to_owned(),
                start: self.activated_at,
                end: self.ends_at,
            },
        }
    }

    /// Why this licence cannot be invoiced, if it cannot: it needs an owning
    /// user to send the invoice to, and a price.
    pub fn invoice_refusal(&self) -> Option<crate::values::InvoiceOutcome> {
        if self.owner_user_id.is_none() {
            Some(crate::values::InvoiceOutcome::NoOwner)
        } else if self.amount() <= 0 {
            Some(crate::values::InvoiceOutcome::NotBillable)
        } else {
            None
        }
    }

    /// Price × quantity in minor units.
    pub fn amount(&self) -> i64 {
        self.unit_price.saturating_mul(i64::from(self.quantity))
    }

    pub fn pause(&mut self, now: DateTime<Utc>) -> Result<(), DomainError> {
        match self.status_at(now) {
            LicenceStatus::Active => {
                self.status = LicenceStatus::Paused;
                Ok(())
            }
            other => Err(transition_refused("pause", other)),
        }
    }

    pub fn resume(&mut self, now: DateTime<Utc>) -> Result<(), DomainError> {
        match self.status_at(now) {
            LicenceStatus::Paused => {
                self.status = LicenceStatus::Active;
                Ok(())
            }
            other => Err(transition_refused("resume", other)),
        }
    }

    /// Hands an unassigned licence to an organisation (coupon redemption).
    pub fn redeem(&mut self, organisation_id: OrganisationId, now: DateTime<Utc>) -> Result<(), DomainError> {
        if self.status != LicenceStatus::Unassigned || self.redeemed_at.is_some() {
            return Err(DomainError::CouponNotRedeemable);
        }
        self.activate(organisation_id, None, now);
        self.redeemed_at = Some(now);
        Ok(())
    }

    /// Vendor staff assign an unassigned licence to an organisation (and maybe a user).
    pub fn assign(
        &mut self,
        organisation_id: OrganisationId,
        user_id: Option<UserId>,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        match self.status {
            LicenceStatus::Unassigned => {
                self.activate(organisation_id, user_id, now);
                Ok(())
            }
            _ if self.owner_organisation_id == Some(organisation_id) => {
                self.owner_user_id = user_id;
                Ok(())
            }
            _ => Err(DomainError::Conflict {
                code: "licence_already_assigned",
                message: "the licence already belongs to another organisation".into(),
            }),
        }
    }

    /// A licence may be deleted only while nobody depends on it.
    pub fn check_deletable(&self, seats_held: u64) -> Result<(), DomainError> {
        if let Some(at) = self.redeemed_at {
            return Err(DomainError::LicenceInUse {
                reason: format!("it was redeemed by a customer on {}", at.format("%Y-%m-%d")),
            });
        }
        if seats_held > 0 {
            return Err(DomainError::LicenceInUse {
                reason: match seats_held {
                    1 => "one of its seats is held".to_owned(),
                    n => format!("{n} of its seats are held"),
                },
            });
        }
        Ok(())
    }
}

fn transition_refused(action: &str, status: LicenceStatus) -> DomainError {
    DomainError::Conflict {
        code: "invalid_transition",
        message: format!("a licence that is {status} cannot {action}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use uuid::Uuid;

    fn product() -> Product {
        Product {
            id: ProductId::from_uuid(Uuid::nil()),
            code: "CAD".into(),
            name: "CAD Pro".into(),
            seat_kind: SeatKind::Device,
            currency: "EUR".into(),
            prices: [(Plan::Monthly, 1500), (Plan::Yearly, 15000)].into_iter().collect(),
            default_lease_seconds: 900,
            created_at: Utc::now(),
        }
    }

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).single().unwrap_or_default()
    }

    fn licence(plan: Plan, owner: Owner, now: DateTime<Utc>) -> Licence {
        Licence::new(
            LicenceId::from_uuid(Uuid::now_v7()),
            &product(),
            plan,
            "Seats".into(),
            String::new(),
            3,
            owner,
            CouponCode::from_random([1; 8]),
            LicenceSource::AccountManager,
            None,
            now,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn org() -> Owner {
        Owner::Organisation {
            organisation_id: OrganisationId::from_uuid(Uuid::nil()),
            user_id: None,
        }
    }

    #[test]
    fn renewals_add_whole_terms_once_due() {
        let ends = at(2026, 3, 31);
        // Not due yet: more than an hour before the end.
        assert_eq!(renewal(Plan::Monthly, ends, at(2026, 3, 30)), None);
        // Due: one term.
        let hour_before = ends - Duration::minutes(30);
        assert_eq!(renewal(Plan::Monthly, ends, hour_before), Some((at(2026, 4, 30), 1)));
        assert_eq!(renewal(Plan::Yearly, ends, hour_before), Some((at(2027, 3, 31), 1)));
        // A server down for six weeks catches up in one go, on the same anniversary.
        assert_eq!(
            renewal(Plan::Monthly, ends, at(2026, 5, 15)),
            Some((at(2026, 5, 31), 2))
        );
        assert_eq!(
            renewal(Plan::Monthly, ends, at(2026, 5, 31)),
            Some((at(2026, 6, 30), 3))
        );
        assert_eq!(renewal(Plan::Trial, ends, hour_before), None);
        assert_eq!(renewal(Plan::Perpetual, ends, hour_before), None);
        assert!(check_auto_renew(Plan::Yearly, true).is_ok());
        assert!(check_auto_renew(Plan::Perpetual, false).is_ok());
        assert_eq!(
            check_auto_renew(Plan::Trial, true).map_err(|e| e.code),
            Err("not_renewable".to_string())
        );
    }

    #[test]
    fn end_of_term_follows_the_plan() {
        let start = at(2026, 1, 31);
        assert_eq!(end_of_term(Plan::Monthly, start), Some(at(2026, 2, 28)));
        assert_eq!(end_of_term(Plan::Yearly, start), Some(at(2027, 1, 31)));
        assert_eq!(end_of_term(Plan::Trial, start), Some(at(2026, 2, 14)));
        assert_eq!(end_of_term(Plan::Perpetual, start), None);
    }

    #[test]
    fn owned_licences_start_at_once_unassigned_ones_on_redemption() {
        let now = at(2026, 3, 1);
        let owned = licence(Plan::Monthly, org(), now);
        assert_eq!(owned.status, LicenceStatus::Active);
        assert_eq!(owned.activated_at, Some(now));
        assert_eq!(owned.ends_at, Some(at(2026, 4, 1)));
        assert_eq!(owned.amount(), 4500);

        let mut spare = licence(Plan::Yearly, Owner::Unassigned, now);
        assert_eq!(
            (spare.status, spare.activated_at, spare.ends_at),
            (LicenceStatus::Unassigned, None, None)
        );
        let later = at(2026, 5, 1);
        spare
            .redeem(OrganisationId::from_uuid(Uuid::nil()), later)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spare.status, LicenceStatus::Active);
        assert_eq!(spare.ends_at, Some(at(2027, 5, 1)));
        assert_eq!(
            spare.redeem(OrganisationId::from_uuid(Uuid::nil()), later),
            Err(DomainError::CouponNotRedeemable)
        );
        assert!(matches!(
            spare.check_deletable(0),
            Err(DomainError::LicenceInUse { .. })
        ));
    }

    #[test]
    fn pause_resume_and_expiry() {
        let now = at(2026, 3, 1);
        let mut l = licence(Plan::Monthly, org(), now);
        assert!(l.resume(now).is_err());
        l.pause(now).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(l.status, LicenceStatus::Paused);
        assert!(l.pause(now).is_err());
        l.resume(now).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            l.status_at(at(2026, 4, 1)),
            LicenceStatus::Expired,
            "ends_at itself is expired"
        );
        assert!(l.pause(at(2026, 4, 2)).is_err());
    }

    #[test]
    fn missing_price_is_a_field_error() {
        let result = Licence::new(
            LicenceId::from_uuid(Uuid::nil()),
            &product(),
            Plan::Perpetual,
            "x".into(),
            String::new(),
            1,
            Owner::Unassigned,
            CouponCode::from_random([0; 8]),
            LicenceSource::AccountManager,
            None,
            Utc::now(),
        );
        assert!(matches!(result, Err(DomainError::Validation(f)) if f[0].field == "plan"));
    }

    #[test]
    fn seats_held_block_deletion() {
        let l = licence(Plan::Monthly, org(), Utc::now());
        assert!(l.check_deletable(0).is_ok());
        assert!(
            matches!(l.check_deletable(2), Err(DomainError::LicenceInUse { reason }) if reason.contains("2 of its seats"))
        );
    }
}
