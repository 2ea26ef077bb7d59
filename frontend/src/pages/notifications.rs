//! Notifications (`/notifications`): what happened to an organisation's pools
//! and licences, newest first, read or unread; and the unread count the top
//! bar's bell shows.

use crate::api;
use crate::components::format::{count_label, datetime_full, relative};
use crate::components::icons::{icon, Icon};
use crate::components::pagination::Pagination;
use crate::components::state::{set_title, table_placeholder, EmptyState, NoAccess, PageHeader};
use crate::components::toast::use_toasts;
use crate::lookups::{self, OrganisationOptions};
use crate::resource::fetch;
use gloo_timers::future::TimeoutFuture;
use leasehold_core::ids::OrganisationId;
use leasehold_core::values::{EventKind, Role};
use leasehold_core::wire::{NotificationQuery, NotificationView};
use leptos::prelude::*;
use leptos::task::spawn_local;

const PER_PAGE: u32 = 25;
/// How often the bell asks for the unread count.
const BELL_REFRESH_MS: u32 = 30_000;

/// The unread count shared by the bell and the Notifications page.
#[derive(Debug, Clone, Copy)]
pub struct Unread(pub RwSignal<Option<u64>>);

impl Unread {
    pub fn provide() -> Self {
        let unread = Unread(RwSignal::new(None));
        provide_context(unread);
        unread
    }

    /// Asks the server again.
    pub fn refresh(self) {
        spawn_local(async move {
            let query = NotificationQuery {
                unread: true,
                per_page: Some(1),
                ..Default::default()
            };
            if let Ok(page) = api::call(async |c| c.list_notifications(&query).await).await {
                self.0.try_set(Some(page.unread));
            }
        });
    }
}

fn use_unread() -> Option<Unread> {
    use_context::<Unread>()
}

/// Who sees notifications (members do not).
pub fn may_read(role: Role) -> bool {
    role != Role::Member
}

/// What a kind of notification is about, in a few words.
pub fn kind_label(kind: &str) -> &'static str {
    EventKind::parse(kind).map_or("Notice", |kind| kind.label())
}

/// "Inbox | Settings" above both notification pages (settings for administrators).
#[component]
pub fn NotificationTabs(current: &'static str) -> impl IntoView {
    let role = api::current_role();
    let settings = crate::pages::notification_settings::may_manage(role);
    let tab = move |key: &'static str, label: &'static str, href: &'static str| {
        let here = key == current;
        view! {
            <a
                class="page-tab"
                class:page-tab-active=here
                href=href
                aria-current=if here { "page" } else { "false" }
                data-testid=format!("notifications-tab-{key}")
            >
                {label}
            </a>
        }
    };
    settings.then(|| {
        view! {
            <nav class="page-tabs" aria-label="Notifications">
                {tab("inbox", "Inbox", "/notifications")}
                {tab("settings", "Recipients & webhooks", "/notifications/settings")}
            </nav>
        }
    })
}

fn kind_icon(kind: &str) -> Icon {
    match kind {
        "low_seats" | "topup_limit_reached" | "expired" | "seat_denied" | "webhook_failing" => Icon::Alert,
        "topup_done" => Icon::Plus,
        "renewed" => Icon::Refresh,
        "invoice_sent" => Icon::Invoices,
        "device_request" => Icon::Devices,
        _ => Icon::Bell,
    }
}

/// How serious it is: the row's accent colour.
fn kind_tone(kind: &str) -> &'static str {
    match kind {
        "low_seats" | "topup_awaiting_approval" | "expiring_soon" => "warning",
        "topup_limit_reached" | "expired" | "seat_denied" | "webhook_failing" => "danger",
        "topup_done" | "renewed" | "invoice_sent" => "success",
        _ => "info",
    }
}

/// The bell in the top bar: a link to the Notifications page with the number
/// of unread ones, asked for every 30 s while the tab is visible.
#[component]
pub fn Bell() -> impl IntoView {
    let unread = use_unread().unwrap_or_else(Unread::provide);
    unread.refresh();
    let alive = StoredValue::new(());
    spawn_local(async move {
        loop {
            TimeoutFuture::new(BELL_REFRESH_MS).await;
            if alive.try_get_value().is_none() {
                break;
            }
            let hidden = web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden());
            if !hidden {
                unread.refresh();
            }
        }
    });
    let count = move || unread.0.get().unwrap_or(0);
    let label = move || match count() {
        0 => "Notifications, none unread".to_string(),
        n => format!("Notifications, {} unread", n),
    };
    view! {
        <a class="bell" href="/notifications" aria-label=label title=label data-testid="bell">
            {icon(Icon::Bell)}
            {move || {
                let n = count();
                (n > 0)
                    .then(|| {
                        view! {
                            <span class="bell-count" data-testid="bell-count" aria-hidden="true">
                                {if n > 99 { "99+".to_string() } else { n.to_string() }}
                            </span>
                        }
                    })
            }}
        </a>
    }
}

#[component]
pub fn NotificationsPage() -> impl IntoView {
    set_title("Notifications");
    let role = api::current_role();
    if !may_read(role) {
        return view! { <NoAccess what="Notifications" /> }.into_any();
    }
    let vendor = role.is_vendor();
    let toasts = use_toasts();
    let unread_count = use_unread();
    let page = RwSignal::new(1u32);
    let only_unread = RwSignal::new(false);
    let organisation = RwSignal::new(None::<OrganisationId>);
    let list = fetch(
        move || (page.get(), only_unread.get(), organisation.get()),
        |(page, unread, organisation)| async move {
            let query = NotificationQuery {
                organisation,
                unread,
                page: Some(page),
                per_page: Some(PER_PAGE),
            };
            api::call(async |c| c.list_notifications(&query).await).await
        },
    );
    // The bell follows what this page learns.
    Effect::new(move |_| {
        if let (Some(count), Some(bell)) = (list.with_ok(|p| p.unread), unread_count) {
            bell.0.set(Some(count));
        }
    });
    let orgs = lookups::organisations();
    let marking = RwSignal::new(false);

    let mark_all = move |_| {
        if marking.get_untracked() {
            return;
        }
        marking.set(true);
        spawn_local(async move {
            let result = api::call(async |c| c.read_all_notifications().await).await;
            marking.try_set(false);
            match result {
                Ok(done) => {
                    toasts.success(if done.marked == 0 {
                        "Nothing was unread".to_string()
                    } else {
                        format!(
                            "{} marked as read",
                            count_label(done.marked, "notification", "notifications")
                        )
                    });
                    list.reload();
                }
                Err(error) => toasts.error(format!("Could not mark them as read: {}", error.message())),
            }
        });
    };

    let subtitle = Signal::derive(move || {
        list.with_ok(|p| match p.unread {
            0 => "Everything is read.".to_string(),
            n => format!("{} unread", n),
        })
        .unwrap_or_else(|| "What happened to your pools and licences".into())
    });

    view! {
        <PageHeader title="Notifications" subtitle=subtitle>
            <button
                type="button"
                class="btn btn-secondary"
                data-testid="mark-all-read"
                disabled=move || marking.get() || list.with_ok(|p| p.unread == 0).unwrap_or(true)
                on:click=mark_all
            >
                {icon(Icon::Check)}
                "Mark all as read"
            </button>
        </PageHeader>
        <NotificationTabs current="inbox" />
        <section class="card" aria-label="Notifications">
            <div class="toolbar">
                <div class="chips" role="group" aria-label="Show">
                    <button
                        type="button"
                        class="chip"
                        class:chip-active=move || !only_unread.get()
                        aria-pressed=move || (!only_unread.get()).to_string()
                        data-testid="notifications-all"
                        on:click=move |_| {
                            only_unread.set(false);
                            page.set(1);
                        }
                    >
                        "All"
                    </button>
                    <button
                        type="button"
                        class="chip"
                        class:chip-active=move || only_unread.get()
                        aria-pressed=move || only_unread.get().to_string()
                        data-testid="notifications-unread"
                        on:click=move |_| {
                            only_unread.set(true);
                            page.set(1);
                        }
                    >
                        "Unread"
                    </button>
                </div>
                {vendor
                    .then(|| {
                        view! {
                            <label class="toolbar-label" for="notifications-organisation">
                                "Organisation"
                            </label>
                            <select
                                id="notifications-organisation"
                                class="select"
                                data-testid="notifications-organisation"
                                on:change=move |ev| {
                                    organisation.set(event_target_value(&ev).parse().ok());
                                    page.set(1);
                                }
                            >
                                <OrganisationOptions orgs=orgs selected=organisation />
                            </select>
                        }
                    })}
            </div>
            <div class="table-wrap" class:is-loading=move || list.loading.get()>
                <div class="progress" aria-hidden="true"></div>
                <table class="table" aria-busy=move || list.loading.get().to_string()>
                    <thead>
                        <tr>
                            <th scope="col">"What happened"</th>
                            {vendor.then(|| view! { <th scope="col">"Organisation"</th> })}
                            <th scope="col">"When"</th>
                            <th scope="col" class="col-actions">
                                <span class="visually-hidden">"Actions"</span>
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            let columns = if vendor { 4 } else { 3 };
                            let (title, hint) = if only_unread.get_untracked() {
                                ("Nothing unread", "You have read every notification.")
                            } else {
                                (
                                    "No notifications yet",
                                    "Low seats, top-ups and expiring licences will be announced here.",
                                )
                            };
                            table_placeholder(
                                list,
                                columns,
                                0,
                                |p| p.items.is_empty(),
                                || view! { <EmptyState title=title hint=hint symbol=Icon::Bell /> }.into_any(),
                            )
                        }}
                        <For
                            each=move || list.with_ok(|p| p.items.clone()).unwrap_or_default()
                            key=|n| (n.id, n.read_at.is_some())
                            children=move |n| notification_row(n, vendor, orgs, list)
                        />
                    </tbody>
                </table>
            </div>
            <Pagination
                page=page
                per_page=Signal::derive(move || list.with_ok(|p| p.per_page).unwrap_or(PER_PAGE))
                total=Signal::derive(move || list.with_ok(|p| p.total).unwrap_or(0))
                busy=list.loading
                on_page=Callback::new(move |p| page.set(p))
            />
        </section>
    }
    .into_any()
}

fn notification_row(
    n: NotificationView,
    vendor: bool,
    orgs: crate::resource::Fetch<Vec<leasehold_core::wire::OrganisationView>>,
    list: crate::resource::Fetch<leasehold_core::wire::NotificationPage>,
) -> impl IntoView {
    let toasts = use_toasts();
    let unread = n.read_at.is_none();
    let busy = RwSignal::new(false);
    let id = n.id;
    let mark = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let result = api::call(async |c| c.read_notification(id).await).await;
            busy.try_set(false);
            match result {
                Ok(_) => list.reload(),
                Err(error) => toasts.error(format!("Could not mark it as read: {}", error.message())),
            }
        });
    };
    let organisation = n.organisation_id;
    let tone = kind_tone(&n.kind);
    let label = kind_label(&n.kind);
    view! {
        <tr
            class="notification-row"
            class:is-unread=unread
            data-testid="notification-row"
            data-kind=n.kind.clone()
            data-unread=unread.to_string()
        >
            <td>
                <div class="notification">
                    <span class=format!("notification-icon tone-{tone}") aria-hidden="true">
                        {icon(kind_icon(&n.kind))}
                    </span>
                    <div class="cell-stack">
                        <span class="notification-kind">
                            {label}
                            {unread.then(|| view! { <span class="unread-dot" title="Unread"></span> })}
                            {unread.then(|| view! { <span class="visually-hidden">" (unread)"</span> })}
                        </span>
                        <span class="notification-message">{n.message.clone()}</span>
                        {n.pool_id
                            .map(|_| {
                                view! {
                                    <a class="row-link small" href="/pools">
                                        "Open the dashboard"
                                    </a>
                                }
                            })}
                    </div>
                </div>
            </td>
            {vendor
                .then(|| {
                    view! {
                        <td>
                            {move || {
                                lookups::org_name(&orgs, organisation).unwrap_or_else(|| "—".into())
                            }}
                        </td>
                    }
                })}
            <td class="nowrap" title=datetime_full(n.created_at)>
                <div class="cell-stack">
                    <span>{relative(n.created_at)}</span>
                    {n.read_at
                        .map(|at| view! { <span class="muted small">{format!("Read {}", relative(at))}</span> })}
                </div>
            </td>
            <td class="col-actions">
                {unread
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="btn btn-ghost btn-sm"
                                data-testid="mark-read"
                                disabled=move || busy.get()
                                on:click=mark
                            >
                                "Mark as read"
                            </button>
                        }
                    })}
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_words_and_a_tone() {
        for kind in [
            "low_seats",
            "topup_done",
            "topup_awaiting_approval",
            "topup_limit_reached",
        ] {
            assert_ne!(kind_label(kind), "Notice", "{kind}");
            assert_ne!(kind_tone(kind), "info", "{kind}");
        }
        assert_eq!(kind_label("something_new"), "Notice");
    }

    #[test]
    fn members_see_no_notifications() {
        assert!(!may_read(Role::Member));
        assert!(may_read(Role::OrgViewer));
    }
}
