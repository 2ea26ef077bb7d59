//! Validated values ("parse, don't validate") and the closed sets of the domain.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:tt),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name { $($(#[$vdoc])* #[serde(rename = $text)] $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub const fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)* _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// How a licence is sold; decides its end date and its price.
    Plan {
        Monthly = "monthly",
        Yearly = "yearly",
        Perpetual = "perpetual",
        Trial = "trial",
    }
);

string_enum!(
    /// Whether a product's seats are held by devices or by signed-in users (floating).
    SeatKind {
        Device = "device",
        Concurrent = "concurrent",
    }
);

string_enum!(
    /// What a console user may do.
    Role {
        /// The vendor: everything, every organisation.
        VendorAdmin = "vendor_admin",
        /// The vendor's staff for the organisations assigned to them.
        AccountManager = "account_manager",
        /// A customer's administrator.
        OrgAdmin = "org_admin",
        /// A customer's read-only user.
        OrgViewer = "org_viewer",
        /// A customer's person who uses concurrent seats.
        Member = "member",
    }
);

impl Role {
    /// Vendor roles see more than one organisation; customer roles belong to exactly one.
    pub const fn is_vendor(&self) -> bool {
        matches!(self, Role::VendorAdmin | Role::AccountManager)
    }
}

string_enum!(
    /// A licence's lifecycle: `unassigned → active ⇄ paused → expired`.
    LicenceStatus {
        Unassigned = "unassigned",
        Active = "active",
        Paused = "paused",
        Expired = "expired",
    }
);

string_enum!(
    /// A licence's billing: `uninvoiced → invoiced → paid`, independent of its lifecycle.
    BillingStatus {
        Uninvoiced = "uninvoiced",
        Invoiced = "invoiced",
        Paid = "paid",
    }
);

string_enum!(
    /// Where a licence came from (reports count additions by source).
    LicenceSource {
        /// Created by vendor staff in the console or over the API.
        AccountManager = "account_manager",
        /// Bought by a customer admin.
        Purchase = "purchase",
        /// Added by an automatic top-up.
        AutoTopup = "auto_topup",
    }
);

string_enum!(
    /// How seats were added, as reports and the month-end invoice list count them.
    AdditionSource {
        /// An automatic top-up.
        Automatic = "automatic",
        /// Bought by a customer admin.
        Purchase = "purchase",
        /// A coupon redeemed by the customer.
        Coupon = "coupon",
        /// Assigned by vendor staff.
        AccountManager = "account_manager",
    }
);

impl AdditionSource {
    /// The source of a licence's seats: a licence created by vendor staff
    /// counts as a coupon when the customer redeemed it.
    pub const fn of(source: LicenceSource, redeemed: bool) -> Self {
        match (source, redeemed) {
            (LicenceSource::AutoTopup, _) => AdditionSource::Automatic,
            (LicenceSource::Purchase, _) => AdditionSource::Purchase,
            (LicenceSource::AccountManager, true) => AdditionSource::Coupon,
            (LicenceSource::AccountManager, false) => AdditionSource::AccountManager,
        }
    }
}

string_enum!(
    /// The buckets of a pool report.
    ReportBucket {
        Day = "day",
        Week = "week",
        Month = "month",
    }
);

impl ReportBucket {
    pub const fn bucket(self) -> crate::report::Bucket {
        match self {
            ReportBucket::Day => crate::report::Bucket::Day,
            ReportBucket::Week => crate::report::Bucket::Week,
            ReportBucket::Month => crate::report::Bucket::Month,
        }
    }
}

string_enum!(
    /// Where an invoice stands.
    InvoiceStatus {
        /// Sent to the licence's owner, not paid yet.
        Sent = "sent",
        Paid = "paid",
    }
);

string_enum!(
    /// What sending invoices did with one selected licence.
    InvoiceOutcome {
        /// An invoice was created and e-mailed to the owner.
        Invoiced = "invoiced",
        /// The licence's current period was invoiced before: nothing new.
        AlreadyInvoiced = "already_invoiced",
        /// The licence has no owning user to send the invoice to.
        NoOwner = "no_owner",
        /// The licence costs nothing (a free trial).
        NotBillable = "not_billable",
        /// No such licence, or not one the caller may invoice.
        NotFound = "not_found",
    }
);

string_enum!(
    /// What an API key may do.
    ApiScope {
        DevicesRegister = "devices:register",
        SessionsWrite = "sessions:write",
        LicencesRead = "licences:read",
        LicencesWrite = "licences:write",
        ReportsRead = "reports:read",
    }
);

string_enum!(
    /// What a pool does when a seat is asked for and none is free.
    QueuePolicy {
        /// Queue the request; the oldest waiting request gets the next seat that frees.
        AutoGrant = "auto_grant",
        /// Queue the request; an administrator approves it.
        Approval = "approval",
        /// Refuse at once, without queueing.
        Refuse = "refuse",
    }
);

string_enum!(
    /// Where a seat request stands.
    RequestState {
        Waiting = "waiting",
        Granted = "granted",
        Rejected = "rejected",
    }
);

string_enum!(
    /// Why a seat was given back.
    ReleaseReason {
        /// An administrator revoked it.
        Revoked = "revoked",
        /// The device was blocked.
        Blocked = "blocked",
        /// The device gave it up.
        Released = "released",
        /// An administrator moved it to a waiting request.
        Reallocated = "reallocated",
        /// The member logged out.
        Logout = "logout",
        /// No heartbeat within the lease and its grace.
        Lapsed = "lapsed",
        /// No activity within the pool's idle timeout.
        Idle = "idle",
        /// An administrator released it.
        Forced = "forced",
    }
);

string_enum!(
    /// What an organisation can be told about: the kind of a notification, and
    /// the toggles of e-mail recipients and webhook endpoints.
    EventKind {
        /// A pool's available seats fell below its alert threshold.
        LowSeats = "low_seats",
        /// An automatic top-up added seats.
        TopupDone = "topup_done",
        /// A top-up waits for an administrator's approval.
        TopupAwaitingApproval = "topup_awaiting_approval",
        /// The month's automatic top-ups are used up.
        TopupLimitReached = "topup_limit_reached",
        /// A licence ends soon and will not renew.
        ExpiringSoon = "expiring_soon",
        /// A licence ended.
        Expired = "expired",
        /// A licence renewed itself.
        Renewed = "renewed",
        /// A device waits for a seat.
        DeviceRequest = "device_request",
        /// A device or member was refused a seat.
        SeatDenied = "seat_denied",
        /// An invoice was sent.
        InvoiceSent = "invoice_sent",
        /// A webhook endpoint keeps failing.
        WebhookFailing = "webhook_failing",
    }
);

impl EventKind {
    /// What a person reads in a settings screen or an e-mail subject.
    pub const fn label(&self) -> &'static str {
        match self {
            Self::LowSeats => "Low on seats",
            Self::TopupDone => "Top-up done",
            Self::TopupAwaitingApproval => "Top-up awaiting approval",
            Self::TopupLimitReached => "Monthly top-ups used up",
            Self::ExpiringSoon => "Licence expiring soon",
            Self::Expired => "Licence expired",
            Self::Renewed => "Licence renewed",
            Self::DeviceRequest => "Device request waiting",
            Self::SeatDenied => "Seat denied",
            Self::InvoiceSent => "Invoice sent",
            Self::WebhookFailing => "Webhook failing",
        }
    }
}

string_enum!(
    /// How a notification leaves Leasehold.
    Channel {
        Email = "email",
        Webhook = "webhook",
    }
);

string_enum!(
    /// Where a delivery of the outbox stands.
    DeliveryStatus {
        /// Not delivered yet: waiting for its first or next attempt.
        Pending = "pending",
        Delivered = "delivered",
        /// Given up after the last attempt.
        Failed = "failed",
    }
);

/// A coupon code: 8 characters from an alphabet without look-alikes
/// (A–Z and 2–9, without O, I, 0 and 1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "K7PMW2QX"))]
#[serde(try_from = "String", into = "String")]
pub struct CouponCode(String);

impl CouponCode {
    pub const LEN: usize = 8;
    /// 32 symbols, so five random bits pick one without bias.
    pub const ALPHABET: &'static [u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

    /// Accepts what a person types: lower case, spaces and hyphens are forgiven.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let code: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if code.len() != Self::LEN {
            return Err(FieldError::new(
                "code",
                "invalid_length",
                "a coupon code has 8 characters",
            ));
        }
        if !code.bytes().all(|b| Self::ALPHABET.contains(&b)) {
            return Err(FieldError::new(
                "code",
                "invalid_character",
                "a coupon code uses A–Z and 2–9, without O, I, 0 and 1",
            ));
        }
        Ok(Self(code))
    }

    /// Builds a code from random bytes supplied by the caller (the core does no I/O).
    pub fn from_random(bytes: [u8; Self::LEN]) -> Self {
        let code = bytes
            .iter()
            .map(|b| Self::ALPHABET[usize::from(b & 0x1f)] as char)
            .collect();
        Self(code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CouponCode {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CouponCode> for String {
    fn from(code: CouponCode) -> Self {
        code.0
    }
}

impl fmt::Display for CouponCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A number of seats: at least one, at most [`Quantity::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(u32);

impl Quantity {
    pub const MAX: u32 = 1_000_000;

    pub fn new(field: &str, value: i64) -> Result<Self, FieldError> {
        if value < 1 {
            return Err(FieldError::new(field, "too_small", "must be at least 1"));
        }
        if value > i64::from(Self::MAX) {
            return Err(FieldError::new(field, "too_large", "must be at most 1000000"));
        }
        u32::try_from(value)
            .map(Self)
            .map_err(|_| FieldError::new(field, "too_large", "must be at most 1000000"))
    }

    pub const fn get(&self) -> u32 {
        self.0
    }
}

/// A lower-cased e-mail address with one `@` and a dotted domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let email = input.trim().to_lowercase();
        let invalid = || FieldError::new("email", "invalid_email", "is not an e-mail address");
        if email.len() > 254 || email.chars().any(char::is_whitespace) {
            return Err(invalid());
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(invalid());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Trimmed, non-empty text of bounded length (names).
pub fn required_text(field: &str, input: &str, max_chars: usize) -> Result<String, FieldError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, "required", "must not be empty"));
    }
    optional_text(field, text, max_chars)
}

/// Trimmed text of bounded length (notes); may be empty.
pub fn optional_text(field: &str, input: &str, max_chars: usize) -> Result<String, FieldError> {
    let text = input.trim();
    if text.chars().count() > max_chars {
        return Err(FieldError::new(
            field,
            "too_long",
            &format!("must be at most {max_chars} characters"),
        ));
    }
    Ok(text.to_owned())
}

/// The password policy: long enough to resist guessing, short enough to hash cheaply.
pub fn check_password(password: &str) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < 10 {
        return Err(FieldError::new(
            "password",
            "too_short",
            "must be at least 10 characters",
        ));
    }
    if chars > 256 {
        return Err(FieldError::new(
            "password",
            "too_long",
            "must be at most 256 characters",
        ));
    }
    Ok(())
}

/// An ISO 4217 currency code such as `EUR`.
pub fn parse_currency(input: &str) -> Result<String, FieldError> {
    let code = input.trim().to_ascii_uppercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(FieldError::new(
            "currency",
            "invalid_currency",
            "must be a three-letter ISO 4217 code",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coupon_alphabet_has_no_look_alikes() {
        for bad in [b'O', b'I', b'0', b'1'] {
            assert!(!CouponCode::ALPHABET.contains(&bad), "{}", bad as char);
        }
        let mut sorted = CouponCode::ALPHABET.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 32, "every symbol is distinct");
    }

    #[test]
    fn coupon_from_random_uses_only_the_alphabet() {
        for seed in 0..=255u8 {
            let code = CouponCode::from_random([seed; 8]);
            assert_eq!(code.as_str().len(), 8);
            assert!(CouponCode::parse(code.as_str()).is_ok(), "{code}");
        }
    }

    #[test]
    fn coupon_parse_forgives_case_and_separators_but_not_look_alikes() {
        assert_eq!(CouponCode::parse("k7pm-w2qx").map(|c| c.0), Ok("K7PMW2QX".to_owned()));
        assert_eq!(
            CouponCode::parse("K7PMW2Q0").map_err(|e| e.code),
            Err("invalid_character".into())
        );
        assert_eq!(
            CouponCode::parse("K7PMW2QI").map_err(|e| e.code),
            Err("invalid_character".into())
        );
        assert_eq!(
            CouponCode::parse("K7PMW2Q").map_err(|e| e.code),
            Err("invalid_length".into())
        );
    }

    #[test]
    fn quantity_bounds() {
        assert!(Quantity::new("quantity", 0).is_err());
        assert!(Quantity::new("quantity", -3).is_err());
        assert_eq!(Quantity::new("quantity", 1).map(|q| q.get()), Ok(1));
        assert!(Quantity::new("quantity", 1_000_001).is_err());
    }

    #[test]
    fn email_parse() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").map(|e| e.0),
            Ok("ann@example.com".into())
        );
        for bad in ["ann", "ann@", "@x.io", "ann@localhost", "a b@x.io", "a@@x.io"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn enums_round_trip_through_text() {
        for plan in Plan::ALL {
            assert_eq!(Plan::parse(plan.as_str()), Some(*plan));
        }
        for scope in ApiScope::ALL {
            assert_eq!(ApiScope::parse(scope.as_str()), Some(*scope));
        }
        assert_eq!(Role::parse("vendor_admin"), Some(Role::VendorAdmin));
        assert_eq!(Role::parse("root"), None);
    }
}
