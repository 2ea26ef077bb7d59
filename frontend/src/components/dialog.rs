//! Modal dialogs on the native `<dialog>` element: the page behind is inert,
//! Escape closes, the first control takes the focus, and the focus goes back to
//! where it was when the dialog closes.

use super::icons::{icon, Icon};
use leptos::html;
use leptos::prelude::*;
use std::cell::RefCell;
use wasm_bindgen::JsCast;

thread_local! {
    /// What had the focus before the (single) open dialog took it.
    static RETURN_FOCUS: RefCell<Option<web_sys::HtmlElement>> = const { RefCell::new(None) };
}

fn focus_first_control(dialog: &web_sys::HtmlDialogElement) {
    let selector = ".modal-body input:not([disabled]):not([type=hidden]), .modal-body select:not([disabled]), \
                    .modal-body textarea:not([disabled]), .modal-body button:not([disabled]), \
                    .modal-footer button:not([disabled])";
    if let Ok(Some(element)) = dialog.query_selector(selector) {
        if let Ok(element) = element.dyn_into::<web_sys::HtmlElement>() {
            let _ = element.focus();
        }
    }
}

/// A modal dialog; `on_close` runs on Escape, on the close button and on a click
/// on the backdrop. The footer (buttons) is part of `children`: use
/// `<div class="modal-footer">`.
#[component]
pub fn Modal(
    #[prop(into)] title: String,
    on_close: Callback<()>,
    children: Children,
    /// A wider dialog (forms with two columns, JSON).
    #[prop(optional)]
    wide: bool,
    #[prop(optional, into)] testid: String,
) -> impl IntoView {
    let node = NodeRef::<html::Dialog>::new();
    let title_id = format!("dialog-title-{}", uuid::Uuid::new_v4().simple());

    RETURN_FOCUS.with(|cell| {
        let active = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element())
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        *cell.borrow_mut() = active;
    });
    let this_dialog = format!("dialog[aria-labelledby=\"{title_id}\"]");
    on_cleanup(move || {
        // While a modal dialog is open the page behind it is inert and cannot
        // take the focus: close this one first (it may still be in the DOM).
        if let Some(dialog) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector(&this_dialog).ok().flatten())
            .and_then(|e| e.dyn_into::<web_sys::HtmlDialogElement>().ok())
        {
            dialog.close();
        }
        RETURN_FOCUS.with(|cell| {
            if let Some(element) = cell.borrow_mut().take() {
                if element.is_connected() {
                    let _ = element.focus();
                }
            }
        });
    });

    Effect::new(move |_| {
        if let Some(dialog) = node.get() {
            if !dialog.open() {
                let _ = dialog.show_modal();
            }
            focus_first_control(&dialog);
        }
    });

    let class = if wide { "modal modal-wide" } else { "modal" };
    let labelled_by = title_id.clone();
    view! {
        <dialog
            node_ref=node
            class=class
            aria-labelledby=labelled_by
            data-testid=if testid.is_empty() { "dialog".to_string() } else { testid }
            on:keydown=move |ev: web_sys::KeyboardEvent| {
                if ev.key() == "Escape" {
                    ev.prevent_default();
                    ev.stop_propagation();
                    on_close.run(());
                }
            }
            on:mousedown=move |ev: web_sys::MouseEvent| {
                // A press on the backdrop lands on the <dialog> itself.
                let on_dialog = ev
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::HtmlDialogElement>().ok())
                    .is_some();
                if on_dialog {
                    on_close.run(());
                }
            }
        >
            <div class="modal-header">
                <h2 id=title_id class="modal-title">
                    {title}
                </h2>
                <button
                    type="button"
                    class="icon-btn"
                    aria-label="Close dialog"
                    title="Close (Esc)"
                    on:click=move |_| on_close.run(())
                >
                    {icon(Icon::Close)}
                </button>
            </div>
            {children()}
        </dialog>
    }
}

/// The footer of a form in a dialog: Cancel, and the submit button, which is
/// disabled and says `busy_label` while the form is `pending`.
#[component]
pub fn FormFooter(
    on_cancel: Callback<()>,
    #[prop(into)] pending: Signal<bool>,
    label: &'static str,
    busy_label: &'static str,
) -> impl IntoView {
    view! {
        <div class="modal-footer">
            <button
                type="button"
                class="btn btn-secondary"
                data-testid="dialog-cancel"
                on:click=move |_| on_cancel.run(())
            >
                "Cancel"
            </button>
            <button
                type="submit"
                class="btn btn-primary"
                data-testid="dialog-confirm"
                disabled=move || pending.get()
                aria-busy=move || pending.get().to_string()
            >
                {move || if pending.get() { busy_label } else { label }}
            </button>
        </div>
    }
}

/// "Delete licence X?" with Cancel and a confirm button.
#[component]
pub fn ConfirmDialog(
    #[prop(into)] title: String,
    #[prop(into)] message: String,
    #[prop(into)] confirm_label: String,
    /// The confirmed action is in flight.
    #[prop(into)]
    busy: Signal<bool>,
    on_confirm: Callback<()>,
    on_cancel: Callback<()>,
    /// A destructive action (red confirm button).
    #[prop(optional)]
    danger: bool,
) -> impl IntoView {
    let confirm_class = if danger { "btn btn-danger" } else { "btn btn-primary" };
    let busy_label = format!("{confirm_label}…");
    view! {
        <Modal title=title on_close=on_cancel testid="confirm-dialog">
            <div class="modal-body">
                <p>{message}</p>
            </div>
            <div class="modal-footer">
                <button
                    type="button"
                    class="btn btn-secondary"
                    data-testid="dialog-cancel"
                    on:click=move |_| on_cancel.run(())
                >
                    "Cancel"
                </button>
                <button
                    type="button"
                    class=confirm_class
                    data-testid="dialog-confirm"
                    disabled=move || busy.get()
                    aria-busy=move || busy.get().to_string()
                    on:click=move |_| on_confirm.run(())
                >
                    {move || if busy.get() { busy_label.clone() } else { confirm_label.clone() }}
                </button>
            </div>
        </Modal>
    }
}
