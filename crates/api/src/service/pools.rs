//! Pool settings (queue policy, leases, the low-seat alert and the automatic
//! top-up), buying seats, approving top-ups, and the notifications pools raise.

use super::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use leasehold_core::ids::{NotificationId, PoolId};
use leasehold_core::licence::Licence;
use leasehold_core::ports::{NotificationFilter, PageRequest, PoolDetails};
use leasehold_core::seat::LeaseSettings;
use leasehold_core::values::{Plan, QueuePolicy, SeatKind};
use leasehold_core::watch::{check_alert, check_topup, PoolWatch, Threshold, TopUpRule, MAX_TOPUP_SEATS};
use leasehold_core::wire::{BuySeats, NotificationPage, NotificationQuery, UpdatePool};
use leasehold_core::{DomainError, FieldError};

async fn visible(state: &AppState, caller: &Caller, pool: PoolId) -> Result<PoolDetails, ApiError> {
    state
        .store
        .pool(caller.principal.visibility(), pool)
        .await?
        .ok_or(ApiError::Domain(DomainError::NotFound("pool")))
}

/// The lease settings `body` asks for, if it touches them.
fn lease_settings(current: LeaseSettings, body: &UpdatePool) -> Result<Option<LeaseSettings>, Vec<FieldError>> {
    let touched = body.lease_seconds.is_some()
        || body.grace_seconds.is_some()
        || body.idle_seconds.is_some()
        || body.linger_seconds.is_some();
    if !touched {
        return Ok(None);
    }
    LeaseSettings {
        lease_seconds: body.lease_seconds.unwrap_or(current.lease_seconds),
        grace_seconds: body.grace_seconds.unwrap_or(current.grace_seconds),
        idle_seconds: match body.idle_seconds {
            Some(0) => None,
            Some(idle) => Some(idle),
            None => current.idle_seconds,
        },
        linger_seconds: body.linger_seconds.unwrap_or(current.linger_seconds),
    }
    .check()
    .map(Some)
}

/// The alert and top-up settings `body` asks for, checked against the pool's
/// capacity, if it touches them.
fn watch_settings(current: PoolWatch, capacity: i64, body: &UpdatePool) -> Result<Option<PoolWatch>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let alert = match (body.alert_below, body.alert_below_percent) {
        (None, None) => current.alert,
        (Some(_), Some(_)) => {
            let both = "give a threshold in seats or in percent, not both";
            errors.push(FieldError::new("alert_below_percent", "conflicting", both));
            None
        }
        (Some(0), None) | (None, Some(0)) => None,
        (Some(k), None) => check_alert(Threshold::Seats(k), capacity)
            .map_err(|e| errors.push(e))
            .ok(),
        (None, Some(p)) => check_alert(Threshold::Percent(p), capacity)
            .map_err(|e| errors.push(e))
            .ok(),
    };
    let touched_rule = body.topup_below.is_some()
        || body.topup_add.is_some()
        || body.topup_max_per_month.is_some()
        || body.topup_needs_approval.is_some()
        || body.topup_plan.is_some();
    let enabled = body.topup_enabled.unwrap_or(current.topup.is_some());
    let topup = if !enabled {
        None
    } else if body.topup_enabled.is_none() && !touched_rule {
        current.topup
    } else {
        let base = current.topup;
        let mut required = |field: &'static str, value: Option<i64>| {
            value.or_else(|| {
                errors.push(FieldError::new(
                    field,
                    "required",
                    "needed to turn the automatic top-up on",
                ));
                None
            })
        };
        let below = required("topup_below", body.topup_below.or(base.map(|r| r.below)));
        let add = required("topup_add", body.topup_add.or(base.map(|r| r.add)));
        let max = required(
            "topup_max_per_month",
            body.topup_max_per_month.or(base.map(|r| r.max_per_month)),
        );
        match (below, add, max) {
            (Some(below), Some(add), Some(max_per_month)) => {
                let rule = TopUpRule {
                    below,
                    add,
                    max_per_month,
                    ask_first: body.topup_needs_approval.or(base.map(|r| r.ask_first)).unwrap_or(false),
                    plan: body.topup_plan.or(base.map(|r| r.plan)).unwrap_or(Plan::Monthly),
                };
                check_topup(rule, capacity).map_err(|e| errors.extend(e)).ok()
            }
            _ => None,
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    if alert == current.alert && topup == current.topup {
        return Ok(None);
    }
    Ok(Some(PoolWatch {
        alert,
        topup,
        ..current
    }))
}

/// Changes a pool's queue policy, lease settings, low-seat alert and automatic
/// top-up. Everything is checked before anything is written.
pub async fn update_pool(state: &AppState, caller: &Caller, pool: PoolId, body: &UpdatePool) -> Result<(), ApiError> {
    caller.principal.may_manage_seats()?;
    let vis = caller.principal.visibility();
    let current = visible(state, caller, pool).await?;
    let mut errors = Vec::new();
    if body.queue_policy == Some(QueuePolicy::Approval) && current.seat_kind == SeatKind::Concurrent {
        errors.push(FieldError::new(
            "queue_policy",
            "not_for_concurrent",
            "members wait in line for a concurrent seat: use auto_grant or refuse",
        ));
    }
    let lease = lease_settings(current.pool.lease, body).unwrap_or_else(|e| {
        errors.extend(e);
        None
    });
    let watch = watch_settings(current.pool.watch, current.pool.capacity, body).unwrap_or_else(|e| {
        errors.extend(e);
        None
    });
    if !errors.is_empty() {
        return Err(DomainError::Validation(errors).into());
    }
    let ctx = caller.write_context();
    if let Some(policy) = body.queue_policy {
        state.store.set_queue_policy(&ctx, vis, pool, policy).await?;
    }
    if let Some(settings) = lease {
        state.store.set_lease_settings(&ctx, vis, pool, settings).await?;
    }
    if let Some(watch) = watch {
        state.store.set_pool_watch(&ctx, vis, pool, watch).await?;
    }
    Ok(())
}

/// Buys seats for a pool: a new licence of its organisation, priced from the
/// product, uninvoiced (ready for the next invoice).
pub async fn buy_seats(state: &AppState, caller: &Caller, pool: PoolId, body: &BuySeats) -> Result<Licence, ApiError> {
    caller.principal.may_manage_seats()?;
    let mut errors = Vec::new();
    if !(1..=MAX_TOPUP_SEATS).contains(&body.quantity) {
        errors.push(FieldError::new(
            "quantity",
            "out_of_range",
            &format!("must be between 1 and {MAX_TOPUP_SEATS}"),
        ));
    }
    if body.plan == Plan::Trial {
        errors.push(FieldError::new(
            "plan",
            "not_for_purchase",
            "seats are bought monthly, yearly or perpetual",
        ));
    }
    if !errors.is_empty() {
        return Err(DomainError::Validation(errors).into());
    }
    let vis = caller.principal.visibility();
    Ok(state
        .store
        .buy_seats(&caller.write_context(), vis, pool, body.quantity, body.plan)
        .await?)
}

/// Approves or dismisses the top-up waiting for approval.
pub async fn settle_topup(state: &AppState, caller: &Caller, pool: PoolId, approve: bool) -> Result<(), ApiError> {
    caller.principal.may_manage_seats()?;
    let vis = caller.principal.visibility();
    state
        .store
        .settle_topup(&caller.write_context(), vis, pool, approve)
        .await?;
    Ok(())
}

pub async fn notifications(
    state: &AppState,
    caller: &Caller,
    query: &NotificationQuery,
) -> Result<NotificationPage, ApiError> {
    caller.principal.may_read_notifications()?;
    let page = PageRequest::new(query.page, query.per_page)?;
    let filter = NotificationFilter {
        organisation: query.organisation,
        unread: query.unread,
        page,
    };
    let (found, unread) = state
        .store
        .notifications(caller.principal.visibility(), &filter)
        .await?;
    Ok(NotificationPage {
        items: found.items.into_iter().map(crate::views::notification).collect(),
        total: found.total,
        page: page.page,
        per_page: page.per_page,
        unread,
    })
}

/// Marks one notification, or all of them, read; returns how many changed.
pub async fn mark_read(state: &AppState, caller: &Caller, id: Option<NotificationId>) -> Result<u64, ApiError> {
    caller.principal.may_read_notifications()?;
    let vis = caller.principal.visibility();
    Ok(state.store.mark_notifications_read(vis, id, caller.now).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(f: impl FnOnce(&mut UpdatePool)) -> UpdatePool {
        let mut body = UpdatePool::default();
        f(&mut body);
        body
    }

    fn codes(result: Result<Option<PoolWatch>, Vec<FieldError>>) -> Vec<(String, String)> {
        match result {
            Err(errors) => errors.into_iter().map(|e| (e.field, e.code)).collect(),
            Ok(watch) => panic!("accepted {watch:?}"),
        }
    }

    fn changed(result: Result<Option<PoolWatch>, Vec<FieldError>>) -> PoolWatch {
        match result {
            Ok(Some(watch)) => watch,
            other => panic!("no change: {other:?}"),
        }
    }

    #[test]
    fn turning_the_topup_on_needs_its_rule() {
        let on = body(|b| b.topup_enabled = Some(true));
        assert_eq!(
            codes(watch_settings(PoolWatch::default(), 10, &on)),
            [
                ("topup_below".into(), "required".into()),
                ("topup_add".into(), "required".into()),
                ("topup_max_per_month".into(), "required".into())
            ]
        );
        let full = body(|b| {
            b.topup_enabled = Some(true);
            b.topup_below = Some(2);
            b.topup_add = Some(5);
            b.topup_max_per_month = Some(3);
        });
        let watch = changed(watch_settings(PoolWatch::default(), 10, &full));
        assert_eq!(
            watch.topup.map(|r| (r.below, r.add, r.max_per_month, r.plan)),
            Some((2, 5, 3, Plan::Monthly))
        );
        // Changing one field keeps the rest; turning it off forgets the rule.
        let k = body(|b| b.topup_below = Some(4));
        let moved = changed(watch_settings(watch, 10, &k));
        assert_eq!(moved.topup.map(|r| (r.below, r.add)), Some((4, 5)));
        let off = body(|b| b.topup_enabled = Some(false));
        assert_eq!(changed(watch_settings(moved, 10, &off)).topup, None);
    }

    #[test]
    fn thresholds_are_seats_or_percent_and_below_capacity() {
        let both = body(|b| {
            b.alert_below = Some(2);
            b.alert_below_percent = Some(10);
        });
        assert_eq!(
            codes(watch_settings(PoolWatch::default(), 10, &both)),
            [("alert_below_percent".into(), "conflicting".into())]
        );
        let high = body(|b| b.alert_below = Some(10));
        assert_eq!(
            codes(watch_settings(PoolWatch::default(), 10, &high)),
            [("alert_below".into(), "not_below_capacity".into())]
        );
        let percent = body(|b| b.alert_below_percent = Some(20));
        let watch = changed(watch_settings(PoolWatch::default(), 10, &percent));
        assert_eq!(watch.alert, Some(Threshold::Percent(20)));
        let off = body(|b| b.alert_below = Some(0));
        assert_eq!(changed(watch_settings(watch, 10, &off)).alert, None);
        assert_eq!(
            watch_settings(watch, 10, &UpdatePool::default()),
            Ok(None),
            "nothing asked, nothing changes"
        );
    }
}
