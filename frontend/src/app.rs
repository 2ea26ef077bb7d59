//! The router, the signed-in shell (sidebar, top bar) and the session guard.

use crate::api::{self, Auth};
use crate::components::format::role_label;
use crate::components::icons::{icon, Icon};
use crate::components::state::{EmptyState, ErrorPanel, Spinner};
use crate::components::toast::{use_toasts, ToastArea, Toasts};
use crate::pages;
use leasehold_core::values::Role;
use leasehold_core::wire::Me;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Outlet, ParentRoute, Redirect, Route, Router, Routes, A};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::{path, NavigateOptions};

#[component]
pub fn App() -> impl IntoView {
    provide_context(Toasts::new());
    let auth = api::auth();
    if matches!(auth.get_untracked(), Auth::Checking) {
        spawn_local(api::restore_session());
    }

    view! {
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/login") view=pages::login::LoginPage />
                <ParentRoute path=path!("") view=Shell>
                    <Route path=path!("") view=|| view! { <Redirect path=api::home(api::current_role()).0 /> } />
                    <Route path=path!("licences") view=pages::licences::LicencesPage />
                    <Route path=path!("licences/new") view=pages::licence_new::NewLicencePage />
                    <Route path=path!("licences/:id") view=pages::licence_detail::LicenceDetailPage />
                    <Route path=path!("redeem") view=pages::redeem::RedeemPage />
                    <Route path=path!("organisations") view=pages::organisations::OrganisationsPage />
                    <Route path=path!("users") view=pages::users::UsersPage />
                    <Route path=path!("logs") view=pages::audit::AuditPage />
                    <Route path=path!("pools") view=pages::dashboard::DashboardPage />
                    <Route path=path!("devices") view=pages::devices::DevicesPage />
                    <Route path=path!("sessions") view=pages::sessions::SessionsPage />
                    <Route path=path!("notifications") view=pages::notifications::NotificationsPage />
                    <Route path=path!("reports") view=pages::reports::ReportsPage />
                    <Route path=path!("invoices") view=pages::invoices::InvoicesPage />
                    <Route path=path!("invoices/:id") view=pages::invoices::InvoicePage />
                    <Route
                        path=path!("notifications/settings")
                        view=pages::notification_settings::NotificationSettingsPage
                    />
                </ParentRoute>
            </Routes>
        </Router>
        <ToastArea />
    }
}

/// The frame around every signed-in page. Sends signed-out visitors to /login
/// (remembering where they were going).
#[component]
fn Shell() -> impl IntoView {
    let auth = api::auth();
    let navigate = use_navigate();
    let location = use_location();
    let toasts = use_toasts();
    let was_signed_in = StoredValue::new(false);

    Effect::new(move |_| match auth.get() {
        Auth::SignedOut => {
            let target = if api::signed_out_by_user() {
                "/login".to_string()
            } else {
                if was_signed_in.get_value() {
                    toasts.info("Your session has ended. Please sign in again.");
                }
                let here = format!(
                    "{}{}",
                    location.pathname.get_untracked(),
                    location.search.get_untracked()
                );
                if here == "/" || here == "/licences" || here == "/sessions" {
                    "/login".to_string()
                } else {
                    format!("/login?next={}", String::from(js_sys::encode_uri_component(&here)))
                }
            };
            was_signed_in.set_value(false);
            navigate(
                &target,
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
        Auth::SignedIn(_) => was_signed_in.set_value(true),
        _ => {}
    });

    let user = Memo::new(move |_| match auth.get() {
        Auth::SignedIn(me) => Some(me),
        _ => None,
    });
    pages::notifications::Unread::provide();

    view! {
        {move || match auth.get() {
            Auth::Checking | Auth::SignedOut => {
                view! {
                    <div class="splash">
                        <Spinner label="Opening the console…" />
                    </div>
                }
                    .into_any()
            }
            Auth::Unreachable(error) => {
                view! {
                    <div class="splash">
                        <div class="card splash-card">
                            <ErrorPanel
                                error=error
                                on_retry=Callback::new(|_| spawn_local(api::restore_session()))
                            />
                        </div>
                    </div>
                }
                    .into_any()
            }
            Auth::SignedIn(_) => ().into_any(),
        }}
        <Show when=move || user.with(Option::is_some)>
            <div class="layout">
                <a class="skip-link" href="#content">
                    "Skip to content"
                </a>
                <Sidebar user=user />
                <div class="main">
                    <TopBar user=user />
                    <main id="content" class="content" tabindex="-1">
                        <Outlet />
                    </main>
                </div>
            </div>
        </Show>
    }
}

/// A destination in the sidebar.
struct NavItem {
    label: &'static str,
    /// `None`: not built yet (shown disabled, with a "soon" badge).
    href: Option<&'static str>,
    symbol: Icon,
    roles: &'static [Role],
    testid: &'static str,
}

const VENDOR: &[Role] = &[Role::VendorAdmin, Role::AccountManager];
const VENDOR_AND_ORG_ADMIN: &[Role] = &[Role::VendorAdmin, Role::AccountManager, Role::OrgAdmin];
const STAFF_AND_CUSTOMERS: &[Role] = &[Role::VendorAdmin, Role::AccountManager, Role::OrgAdmin, Role::OrgViewer];
const EVERYONE: &[Role] = &[
    Role::VendorAdmin,
    Role::AccountManager,
    Role::OrgAdmin,
    Role::OrgViewer,
    Role::Member,
];

const NAV: &[(&str, &[NavItem])] = &[
    (
        "Overview",
        &[NavItem {
            label: "Dashboard",
            href: Some("/pools"),
            symbol: Icon::Dashboard,
            roles: STAFF_AND_CUSTOMERS,
            testid: "nav-dashboard",
        }],
    ),
    (
        "Licensing",
        &[
            NavItem {
                label: "Licences",
                href: Some("/licences"),
                symbol: Icon::Licence,
                // Members may not read licences (the API answers 403).
                roles: STAFF_AND_CUSTOMERS,
                testid: "nav-licences",
            },
            NavItem {
                label: "Redeem coupon",
                href: Some("/redeem"),
                symbol: Icon::Ticket,
                roles: &[Role::OrgAdmin],
                testid: "nav-redeem",
            },
            NavItem {
                label: "Devices",
                href: Some("/devices"),
                symbol: Icon::Devices,
                roles: STAFF_AND_CUSTOMERS,
                testid: "nav-devices",
            },
            NavItem {
                label: "Sessions",
                href: Some("/sessions"),
                symbol: Icon::Sessions,
                // Members see (and sign out of) their own.
                roles: EVERYONE,
                testid: "nav-sessions",
            },
        ],
    ),
    (
        "Customers",
        &[
            NavItem {
                label: "Organisations",
                href: Some("/organisations"),
                symbol: Icon::Building,
                roles: VENDOR,
                testid: "nav-organisations",
            },
            NavItem {
                label: "Users & API keys",
                href: Some("/users"),
                symbol: Icon::Users,
                roles: VENDOR_AND_ORG_ADMIN,
                testid: "nav-users",
            },
        ],
    ),
    (
        "Insight",
        &[
            NavItem {
                label: "Reports",
                href: Some("/reports"),
                symbol: Icon::Reports,
                roles: STAFF_AND_CUSTOMERS,
                testid: "nav-reports",
            },
            NavItem {
                label: "Invoices",
                href: Some("/invoices"),
                symbol: Icon::Invoices,
                roles: VENDOR_AND_ORG_ADMIN,
                testid: "nav-invoices",
            },
            NavItem {
                label: "Audit log",
                href: Some("/logs"),
                symbol: Icon::Logs,
                roles: STAFF_AND_CUSTOMERS,
                testid: "nav-logs",
            },
            NavItem {
                label: "Notifications",
                href: Some("/notifications"),
                symbol: Icon::Bell,
                roles: STAFF_AND_CUSTOMERS,
                testid: "nav-notifications",
            },
        ],
    ),
];

#[component]
fn Sidebar(user: Memo<Option<Me>>) -> impl IntoView {
    let role = move || user.with(|u| u.as_ref().map(|me| me.role).unwrap_or(Role::Member));
    view! {
        <aside class="sidebar">
            <a
                class="brand"
                href=move || api::home(role()).0
                aria-label=move || format!("Leasehold, {}", api::home(role()).1.to_lowercase())
            >
                <span class="brand-mark" aria-hidden="true">
                    "L"
                </span>
                <span class="brand-name">"Leasehold"</span>
            </a>
            <nav class="nav" aria-label="Main">
                {move || {
                    let role = role();
                    NAV.iter()
                        .filter_map(|(group, items)| {
                            let visible: Vec<&'static NavItem> = items.iter().filter(|i| i.roles.contains(&role)).collect();
                            if visible.is_empty() {
                                return None;
                            }
                            Some(
                                view! {
                                    <div class="nav-group">
                                        <p class="nav-group-title">{*group}</p>
                                        <ul class="nav-list">
                                            {visible.into_iter().map(nav_item).collect_view()}
                                        </ul>
                                    </div>
                                },
                            )
                        })
                        .collect_view()
                }}
            </nav>
            <p class="sidebar-foot">"Licence & seat manager"</p>
        </aside>
    }
}

fn nav_item(item: &'static NavItem) -> AnyView {
    match item.href {
        Some(href) => view! {
            <li>
                <A href=href attr:class="nav-item" attr:data-testid=item.testid>
                    {icon(item.symbol)}
                    <span>{item.label}</span>
                </A>
            </li>
        }
        .into_any(),
        None => view! {
            <li>
                <span
                    class="nav-item nav-item-disabled"
                    aria-disabled="true"
                    title=format!("{} is coming soon", item.label)
                    data-testid=item.testid
                >
                    {icon(item.symbol)}
                    <span>{item.label}</span>
                    <span class="badge-soon">"soon"</span>
                </span>
            </li>
        }
        .into_any(),
    }
}

#[component]
fn TopBar(user: Memo<Option<Me>>) -> impl IntoView {
    let signing_out = RwSignal::new(false);
    // Ending the session flips the auth state; the shell then goes to /login.
    let sign_out = move |_| {
        if signing_out.get_untracked() {
            return;
        }
        signing_out.set(true);
        spawn_local(async move {
            api::logout().await;
            signing_out.try_set(false);
        });
    };
    view! {
        <header class="topbar">
            <div class="topbar-org" data-testid="current-organisation">
                {icon(Icon::Building)}
                <span>
                    {move || {
                        user.with(|u| match u {
                            Some(me) if me.role.is_vendor() => "Vendor console".to_string(),
                            Some(me) => me.organisation_name.clone().unwrap_or_else(|| "Your organisation".into()),
                            None => String::new(),
                        })
                    }}
                </span>
            </div>
            <div class="topbar-user">
                {move || {
                    user.with(|u| u.as_ref().is_some_and(|me| pages::notifications::may_read(me.role)))
                        .then(|| view! { <pages::notifications::Bell /> })
                }}
                <div class="avatar" aria-hidden="true">
                    {move || user.with(|u| u.as_ref().map(initials).unwrap_or_default())}
                </div>
                <div class="topbar-user-text">
                    <span class="topbar-user-name" data-testid="current-user">
                        {move || user.with(|u| u.as_ref().map(display_name).unwrap_or_default())}
                    </span>
                    <span class="topbar-user-role">
                        {move || user.with(|u| u.as_ref().map(|me| role_label(me.role)).unwrap_or_default())}
                    </span>
                </div>
                <button
                    type="button"
                    class="btn btn-secondary btn-sm"
                    data-testid="sign-out"
                    disabled=move || signing_out.get()
                    on:click=sign_out
                >
                    {icon(Icon::SignOut)}
                    {move || if signing_out.get() { "Signing out…" } else { "Sign out" }}
                </button>
            </div>
        </header>
    }
}

fn display_name(me: &Me) -> String {
    if me.name.trim().is_empty() {
        me.email.clone()
    } else {
        format!("{} · {}", me.name, me.email)
    }
}

fn initials(me: &Me) -> String {
    let source = if me.name.trim().is_empty() { &me.email } else { &me.name };
    source
        .split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

#[component]
fn NotFound() -> impl IntoView {
    // Shown outside the shell, possibly before the session is restored.
    let auth = api::auth();
    let home = move || match auth.get() {
        Auth::SignedIn(me) => api::home(me.role),
        _ => api::home(Role::OrgViewer),
    };
    view! {
        <div class="splash">
            <div class="card splash-card">
                <EmptyState
                    title="Page not found"
                    hint="The address does not match any page of the console."
                    symbol=Icon::Alert
                >
                    <a class="btn btn-primary" href=move || home().0>
                        {move || home().1}
                    </a>
                </EmptyState>
            </div>
        </div>
    }
}
