//! Invoices (`/invoices`): every invoice sent, filtered by status and
//! organisation, marked paid by the vendor's staff; and one invoice as a
//! printable page (`/invoices/:id`).

use crate::api;
use crate::components::dialog::ConfirmDialog;
use crate::components::format::{count_label, date, money, opt_date, plan_label};
use crate::components::icons::{icon, Icon};
use crate::components::pagination::Pagination;
use crate::components::state::{set_title, table_placeholder, EmptyState, ErrorPanel, NoAccess, PageHeader, Spinner};
use crate::components::toast::use_toasts;
use crate::lookups::{self, OrganisationOptions};
use crate::resource::fetch;
use leasehold_core::ids::{InvoiceId, OrganisationId};
use leasehold_core::values::{InvoiceStatus, Role};
use leasehold_core::wire::{InvoiceQuery, InvoiceView, Page};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;

const PER_PAGE: u32 = 25;

/// Vendor staff and customer admins see invoices; only the vendor marks them paid.
fn may_see(role: Role) -> bool {
    matches!(role, Role::VendorAdmin | Role::AccountManager | Role::OrgAdmin)
}

fn status_label(status: InvoiceStatus) -> &'static str {
    match status {
        InvoiceStatus::Sent => "Sent",
        InvoiceStatus::Paid => "Paid",
    }
}

fn period(invoice: &InvoiceView) -> String {
    match (invoice.period_start, invoice.period_end) {
        (Some(start), Some(end)) => format!("{} – {}", date(start), date(end)),
        (Some(start), None) => format!("From {}", date(start)),
        _ => "One-off".into(),
    }
}

fn status_pill(status: InvoiceStatus) -> impl IntoView {
    let tone = match status {
        InvoiceStatus::Sent => "pill pill-billing pill-invoiced",
        InvoiceStatus::Paid => "pill pill-billing pill-paid",
    };
    view! {
        <span class=tone data-testid="invoice-status" data-status=status.as_str()>
            {status_label(status)}
        </span>
    }
}

#[component]
pub fn InvoicesPage() -> impl IntoView {
    set_title("Invoices");
    let role = api::current_role();
    if !may_see(role) {
        return view! { <NoAccess what="Invoices" /> }.into_any();
    }
    let vendor = role.is_vendor();
    let toasts = use_toasts();
    let status = RwSignal::new(None::<InvoiceStatus>);
    let organisation = RwSignal::new(None::<OrganisationId>);
    let page = RwSignal::new(1u32);
    let orgs = lookups::organisations();
    let invoices = fetch(
        move || InvoiceQuery {
            status: status.get(),
            organisation: organisation.get(),
            page: Some(page.get()),
            per_page: Some(PER_PAGE),
        },
        |query| async move { api::call(async |c| c.list_invoices(&query).await).await },
    );
    let to_pay = RwSignal::new(None::<InvoiceView>);
    let paying = RwSignal::new(false);
    let confirm_paid = move |_| {
        let Some(invoice) = to_pay.get_untracked() else { return };
        paying.set(true);
        spawn_local(async move {
            match api::call(async |c| c.mark_invoice_paid(invoice.id).await).await {
                Ok(paid) => {
                    toasts.success(format!("Invoice {} marked paid", paid.number));
                    if status.get_untracked().is_some_and(|shown| shown != paid.status) {
                        // It no longer matches the filter: the page is asked again.
                        invoices.reload();
                    } else {
                        invoices.update_ok(|p| {
                            if let Some(row) = p.items.iter_mut().find(|i| i.id == paid.id) {
                                *row = paid.clone();
                            }
                        });
                    }
                    to_pay.set(None);
                }
                Err(error) => toasts.error(error.summary()),
            }
            paying.try_set(false);
        });
    };
    let subtitle = Signal::derive(move || {
        invoices
            .with_ok(|p| count_label(p.total, "invoice", "invoices"))
            .unwrap_or_else(|| "Invoices sent to licence owners".into())
    });
    let columns = if vendor { 9 } else { 8 };

    view! {
        <PageHeader title="Invoices" subtitle=subtitle>
            {vendor
                .then(|| {
                    view! {
                        <a class="btn btn-secondary" href="/licences" data-testid="invoices-from-licences">
                            {icon(Icon::Licence)}
                            "Select licences to invoice"
                        </a>
                    }
                })}
        </PageHeader>
        <section class="card" aria-label="Invoices">
            <div class="toolbar">
                <label class="toolbar-label" for="invoice-status">
                    "Status"
                </label>
                <select
                    id="invoice-status"
                    class="select"
                    data-testid="invoice-status-filter"
                    on:change=move |ev| {
                        status.set(InvoiceStatus::parse(&event_target_value(&ev)));
                        page.set(1);
                    }
                >
                    <option value="" prop:selected=move || status.get().is_none()>
                        "All statuses"
                    </option>
                    {InvoiceStatus::ALL
                        .iter()
                        .map(|s| {
                            let s = *s;
                            view! {
                                <option value=s.as_str() prop:selected=move || status.get() == Some(s)>
                                    {status_label(s)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                {vendor
                    .then(|| {
                        view! {
                            <label class="toolbar-label" for="invoice-organisation">
                                "Organisation"
                            </label>
                            <select
                                id="invoice-organisation"
                                class="select"
                                data-testid="invoice-organisation-filter"
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
            <div class="table-wrap" class:is-loading=move || invoices.loading.get()>
                <div class="progress" aria-hidden="true"></div>
                <table class="table" data-testid="invoices-table">
                    <thead>
                        <tr>
                            <th scope="col">"Number"</th>
                            <th scope="col">"Organisation"</th>
                            <th scope="col">"Licence"</th>
                            <th scope="col">"Period"</th>
                            <th scope="col" class="num">
                                "Amount"
                            </th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Sent"</th>
                            <th scope="col">"Due"</th>
                            {vendor.then(|| view! { <th scope="col" class="col-actions"><span class="visually-hidden">"Actions"</span></th> })}
                        </tr>
                    </thead>
                    <tbody>
                        {move || {
                            table_placeholder(
                                invoices,
                                columns,
                                4,
                                |p: &Page<InvoiceView>| p.items.is_empty(),
                                move || {
                                    let hint = if vendor {
                                        "Select licences with an owner on the licence list and send their invoices."
                                    } else {
                                        "Invoices your vendor sends you appear here."
                                    };
                                    view! { <EmptyState title="No invoices" hint=hint symbol=Icon::Invoices /> }
                                        .into_any()
                                },
                            )
                                .unwrap_or_else(|| {
                                    invoices
                                        .with_ok(|p| {
                                            p.items
                                                .iter()
                                                .cloned()
                                                .map(|invoice| invoice_row(invoice, vendor, to_pay))
                                                .collect_view()
                                                .into_any()
                                        })
                                        .unwrap_or_else(|| ().into_any())
                                })
                        }}
                    </tbody>
                </table>
            </div>
            <Pagination
                page=Signal::derive(move || page.get())
                per_page=Signal::derive(move || PER_PAGE)
                total=Signal::derive(move || invoices.with_ok(|p| p.total).unwrap_or(0))
                busy=invoices.loading
                on_page=Callback::new(move |p| page.set(p))
            />
        </section>
        {move || {
            to_pay
                .get()
                .map(|invoice| {
                    view! {
                        <ConfirmDialog
                            title=format!("Mark invoice {} paid?", invoice.number)
                            message=format!(
                                "{} from {} is recorded as received today, and the licence's billing status becomes paid.",
                                money(invoice.amount, &invoice.currency),
                                invoice.organisation_name,
                            )
                            confirm_label="Mark paid"
                            busy=paying
                            on_confirm=Callback::new(confirm_paid)
                            on_cancel=Callback::new(move |_| to_pay.set(None))
                        />
                    }
                })
        }}
    }
    .into_any()
}

fn invoice_row(invoice: InvoiceView, vendor: bool, to_pay: RwSignal<Option<InvoiceView>>) -> impl IntoView {
    let href = format!("/invoices/{}", invoice.id);
    let open = invoice.status == InvoiceStatus::Sent;
    let for_pay = invoice.clone();
    view! {
        <tr data-testid="invoice-row" data-number=invoice.number.clone()>
            <td class="nowrap">
                <a class="row-link mono" href=href.clone() data-testid="invoice-link">
                    {invoice.number.clone()}
                </a>
            </td>
            <td>
                <div class="cell-stack">
                    <span>{invoice.organisation_name.clone()}</span>
                    <span class="muted small">{invoice.owner_email.clone()}</span>
                </div>
            </td>
            <td>
                <div class="cell-stack">
                    <span>{invoice.licence_name.clone()}</span>
                    <span class="muted small">
                        {format!("{} · {}", invoice.product_name, plan_label(invoice.plan))}
                    </span>
                </div>
            </td>
            <td class="nowrap">{period(&invoice)}</td>
            <td class="num">{money(invoice.amount, &invoice.currency)}</td>
            <td>{status_pill(invoice.status)}</td>
            <td class="nowrap">{date(invoice.created_at)}</td>
            <td class="nowrap">
                {if open { date(invoice.due_at) } else { format!("Paid {}", opt_date(invoice.paid_at)) }}
            </td>
            {vendor
                .then(|| {
                    view! {
                        <td class="col-actions">
                            <div class="row-actions">
                                {open
                                    .then(|| {
                                        view! {
                                            <button
                                                type="button"
                                                class="btn btn-secondary btn-sm"
                                                data-testid="invoice-mark-paid"
                                                on:click=move |_| to_pay.set(Some(for_pay.clone()))
                                            >
                                                {icon(Icon::Check)}
                                                "Mark paid"
                                            </button>
                                        }
                                    })}
                            </div>
                        </td>
                    }
                })}
        </tr>
    }
}

/// One invoice as a page that prints on its own.
#[component]
pub fn InvoicePage() -> impl IntoView {
    set_title("Invoice");
    if !may_see(api::current_role()) {
        return view! { <NoAccess what="Invoices" /> }.into_any();
    }
    let params = use_params_map();
    let id = Memo::new(move |_| {
        params
            .with(|p| p.get("id"))
            .and_then(|raw| raw.parse::<InvoiceId>().ok())
    });
    let invoice = fetch(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => api::call(async |c| c.get_invoice(id).await).await.map(Some),
                None => Ok(None),
            }
        },
    );
    (move || {
        invoice.data.with(|data| match data {
            None => view! { <div class="card"><Spinner label="Loading the invoice…" /></div> }.into_any(),
            Some(Err(error)) if error.is_status(404) => not_found().into_any(),
            Some(Err(error)) => view! {
                <div class="card">
                    <ErrorPanel error=error.clone() on_retry=Callback::new(move |_| invoice.reload()) />
                </div>
            }
            .into_any(),
            Some(Ok(None)) => not_found().into_any(),
            Some(Ok(Some(i))) => printable(i).into_any(),
        })
    })
    .into_any()
}

fn not_found() -> impl IntoView {
    view! {
        <div class="card">
            <EmptyState
                title="Invoice not found"
                hint="It belongs to an organisation you cannot see, or the address is mistyped."
                symbol=Icon::Alert
            >
                <a class="btn btn-secondary" href="/invoices">
                    "Back to invoices"
                </a>
            </EmptyState>
        </div>
    }
}

fn printable(invoice: &InvoiceView) -> impl IntoView {
    set_title(&format!("Invoice {}", invoice.number));
    let print = |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    };
    view! {
        <div class="invoice-actions no-print">
            <a class="btn btn-ghost" href="/invoices">
                "← Invoices"
            </a>
            <button type="button" class="btn btn-secondary" data-testid="invoice-print" on:click=print>
                {icon(Icon::Invoices)}
                "Print"
            </button>
        </div>
        <article class="card invoice-sheet" data-testid="invoice-sheet">
            <header class="invoice-head">
                <div>
                    <p class="invoice-brand">"Leasehold"</p>
                    <h1 class="invoice-title">"Invoice " <span class="mono">{invoice.number.clone()}</span></h1>
                </div>
                {status_pill(invoice.status)}
            </header>
            <dl class="invoice-facts">
                <div>
                    <dt>"Billed to"</dt>
                    <dd>
                        <strong>{invoice.organisation_name.clone()}</strong>
                        <br />
                        {invoice.owner_email.clone()}
                    </dd>
                </div>
                <div>
                    <dt>"Sent"</dt>
                    <dd>{date(invoice.created_at)}</dd>
                </div>
                <div>
                    <dt>"Due"</dt>
                    <dd>{date(invoice.due_at)}</dd>
                </div>
                {invoice
                    .paid_at
                    .map(|paid| {
                        view! {
                            <div>
                                <dt>"Paid"</dt>
                                <dd>{date(paid)}</dd>
                            </div>
                        }
                    })}
            </dl>
            <table class="table invoice-lines">
                <thead>
                    <tr>
                        <th scope="col">"Description"</th>
                        <th scope="col">"Period"</th>
                        <th scope="col" class="num">
                            "Seats"
                        </th>
                        <th scope="col" class="num">
                            "Unit price"
                        </th>
                        <th scope="col" class="num">
                            "Amount"
                        </th>
                    </tr>
                </thead>
                <tbody>
                    <tr>
                        <td>
                            <div class="cell-stack">
                                <span>{format!("{} — {}", invoice.product_name, invoice.licence_name)}</span>
                                <span class="muted small">{format!("{} licence", plan_label(invoice.plan))}</span>
                            </div>
                        </td>
                        <td class="nowrap">{period(invoice)}</td>
                        <td class="num">{invoice.quantity}</td>
                        <td class="num">{money(invoice.unit_price, &invoice.currency)}</td>
                        <td class="num">{money(invoice.amount, &invoice.currency)}</td>
                    </tr>
                </tbody>
                <tfoot>
                    <tr class="table-total">
                        <td colspan="4">"Total due"</td>
                        <td class="num" data-testid="invoice-total">
                            {money(invoice.amount, &invoice.currency)}
                        </td>
                    </tr>
                </tfoot>
            </table>
            <p class="muted small invoice-foot">
                {format!("Please quote {} with your payment.", invoice.number)}
            </p>
        </article>
    }
}
