//! Domain → wire conversions, at the edge only.

use chrono::{DateTime, Utc};
use leasehold_core::licence::{Organisation, Product};
use leasehold_core::ports::{ApiKey, AuditEntry, LicenceDetails, Page as DomainPage, PageRequest, User};
use leasehold_core::values::Plan;
use leasehold_core::watch::Threshold;
use leasehold_core::wire::*;

pub fn page<T, V>(page: DomainPage<T>, request: PageRequest, view: impl Fn(T) -> V) -> Page<V> {
    Page {
        items: page.items.into_iter().map(view).collect(),
        total: page.total,
        page: request.page,
        per_page: request.per_page,
    }
}

pub fn organisation(o: Organisation) -> OrganisationView {
    OrganisationView {
        id: o.id,
        name: o.name,
        account_manager_id: o.account_manager_id,
        created_at: o.created_at,
    }
}

pub fn user(u: User) -> UserView {
    UserView {
        id: u.id,
        email: u.email,
        name: u.name,
        role: u.role,
        organisation_id: u.organisation_id,
        created_at: u.created_at,
    }
}

pub fn api_key(k: ApiKey) -> ApiKeyView {
    ApiKeyView {
        id: k.id,
        name: k.name,
        organisation_id: k.organisation_id,
        scopes: k.scopes,
        prefix: k.prefix,
        created_at: k.created_at,
        last_used_at: k.last_used_at,
        revoked_at: k.revoked_at,
    }
}

pub fn product(p: Product) -> ProductView {
    ProductView {
        id: p.id,
        code: p.code,
        name: p.name,
        seat_kind: p.seat_kind,
        currency: p.currency,
        prices: p.prices,
        default_lease_seconds: p.default_lease_seconds,
        created_at: p.created_at,
    }
}

/// A licence as callers see it at `now` (a running licence past its end is expired).
pub fn licence(d: LicenceDetails, now: DateTime<Utc>) -> LicenceView {
    let l = d.licence;
    LicenceView {
        id: l.id,
        product_id: l.product_id,
        product_name: d.product_name,
        plan: l.plan,
        status: l.status_at(now),
        amount: l.amount(),
        name: l.name,
        note: l.note,
        quantity: l.quantity,
        unit_price: l.unit_price,
        currency: l.currency,
        owner_organisation_id: l.owner_organisation_id,
        owner_organisation_name: d.owner_organisation_name,
        owner_user_id: l.owner_user_id,
        owner_user_email: d.owner_user_email,
        coupon_code: l.coupon_code.to_string(),
        billing_status: l.billing_status,
        source: l.source,
        created_at: l.created_at,
        activated_at: l.activated_at,
        ends_at: l.ends_at,
        redeemed_at: l.redeemed_at,
        auto_renew: l.auto_renew,
    }
}

pub fn audit_entry(a: AuditEntry) -> AuditEntryView {
    AuditEntryView {
        id: a.id,
        at: a.at,
        organisation_id: a.organisation_id,
        actor_kind: a.actor.kind,
        actor_id: a.actor.id,
        action: a.action,
        object_kind: a.object_kind,
        object_id: a.object_id,
        product_id: a.product_id,
        before: a.before,
        after: a.after,
        request_id: a.request_id,
    }
}

pub fn pool(d: leasehold_core::ports::PoolDetails, now: DateTime<Utc>) -> PoolView {
    let watch = d.pool.watch;
    PoolView {
        id: d.pool.id,
        organisation_id: d.pool.organisation_id,
        organisation_name: d.organisation_name,
        product_id: d.pool.product_id,
        product_name: d.product_name,
        seat_kind: d.seat_kind,
        capacity: d.pool.capacity,
        held: d.pool.held,
        available: d.pool.available(),
        over_capacity: d.pool.over_capacity(),
        queue_policy: d.pool.queue_policy,
        waiting: d.waiting,
        lease_seconds: d.pool.lease.lease_seconds,
        grace_seconds: d.pool.lease.grace_seconds,
        idle_seconds: d.pool.lease.idle_seconds,
        linger_seconds: d.pool.lease.linger_seconds,
        alert_below: match watch.alert {
            Some(Threshold::Seats(k)) => Some(k),
            _ => None,
        },
        alert_below_percent: match watch.alert {
            Some(Threshold::Percent(p)) => Some(p),
            _ => None,
        },
        low: watch.alert.is_some() && !watch.alert_armed,
        topup_enabled: watch.topup.is_some(),
        topup_below: watch.topup.map_or(0, |r| r.below),
        topup_add: watch.topup.map_or(0, |r| r.add),
        topup_max_per_month: watch.topup.map_or(0, |r| r.max_per_month),
        topup_needs_approval: watch.topup.is_some_and(|r| r.ask_first),
        topup_plan: watch.topup.map_or(Plan::Monthly, |r| r.plan),
        topups_this_month: watch.topups_this_month(now),
        topup_pending_since: watch.topup_pending_since,
    }
}

pub fn notification(n: leasehold_core::ports::Notification) -> NotificationView {
    NotificationView {
        id: n.id,
        organisation_id: n.organisation_id,
        pool_id: n.pool_id,
        kind: n.kind,
        message: n.message,
        data: n.data,
        created_at: n.created_at,
        read_at: n.read_at,
    }
}

pub fn session(d: leasehold_core::ports::LeaseDetails, now: DateTime<Utc>) -> SessionView {
    SessionView {
        state: d.lease.state_at(now, &d.settings),
        id: d.lease.id,
        pool_id: d.lease.pool_id,
        organisation_id: d.organisation_id,
        product_id: d.product_id,
        product_name: d.product_name,
        user_id: d.lease.user_id,
        user_email: d.user_email,
        user_name: d.user_name,
        client_id: d.lease.client_id,
        granted_at: d.lease.granted_at,
        last_heartbeat_at: d.lease.last_heartbeat_at,
        last_activity_at: d.lease.last_activity_at,
        expires_at: d.lease.expires_at,
        idle_expires_at: d.lease.idle_expires_at,
        linger_until: d.lease.linger_until,
    }
}

pub fn seat_request(r: leasehold_core::ports::RequestDetails) -> SeatRequestView {
    SeatRequestView {
        id: r.request.id,
        pool_id: r.request.pool_id,
        organisation_id: r.organisation_id,
        product_id: r.product_id,
        product_name: r.product_name,
        device_id: r.request.device_id,
        device_name: r.device_name,
        fingerprint: r.fingerprint,
        state: r.request.state,
        requested_at: r.request.requested_at,
        resolved_at: r.request.resolved_at,
        position: r.position,
    }
}

pub fn device(d: leasehold_core::ports::DeviceDetails) -> DeviceView {
    DeviceView {
        id: d.device.id,
        organisation_id: d.device.organisation_id,
        fingerprint: d.device.fingerprint,
        name: d.device.name,
        created_at: d.device.created_at,
        last_seen_at: d.device.last_seen_at,
        blocked_at: d.device.blocked_at,
        seats: d
            .seats
            .into_iter()
            .map(|s| DeviceSeatView {
                seat_id: s.seat.id,
                pool_id: s.seat.pool_id,
                product_id: s.product_id,
                product_name: s.product_name,
                licence_id: s.seat.licence_id,
                granted_at: s.seat.granted_at,
            })
            .collect(),
        requests: d.waiting.into_iter().map(seat_request).collect(),
    }
}

pub fn webhook(w: leasehold_core::ports::Webhook, secret: Option<String>) -> leasehold_core::wire::WebhookView {
    leasehold_core::wire::WebhookView {
        id: w.id,
        organisation_id: w.organisation_id,
        url: w.url,
        description: w.description,
        events: w.events.into_iter().collect(),
        enabled: w.enabled,
        consecutive_failures: w.consecutive_failures,
        created_at: w.created_at,
        secret,
    }
}

pub fn delivery(d: leasehold_core::ports::Delivery) -> leasehold_core::wire::DeliveryView {
    leasehold_core::wire::DeliveryView {
        next_attempt_at: (d.status == leasehold_core::values::DeliveryStatus::Pending).then_some(d.next_attempt_at),
        id: d.id,
        notification_id: d.notification_id,
        organisation_id: d.organisation_id,
        channel: d.channel,
        recipient: d.recipient,
        webhook_id: d.webhook_id,
        kind: d.kind,
        status: d.status,
        attempts: d.attempts,
        last_error: d.last_error,
        response_status: d.response_status,
        delivered_at: d.delivered_at,
        replay_of: d.replay_of,
        created_at: d.created_at,
    }
}
