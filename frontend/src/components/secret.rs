//! A secret shown once (an API key, a webhook's signing secret), with a copy button.

use super::clipboard::copy_secret_with_toast;
use super::dialog::Modal;
use super::icons::{icon, Icon};
use super::toast::use_toasts;
use leptos::prelude::*;

#[component]
pub fn SecretDialog(
    #[prop(into)] title: String,
    /// The field's label, e.g. "Secret key".
    label: &'static str,
    /// What the toast calls it, e.g. "API key".
    what: &'static str,
    value: String,
    /// Prefix of the test ids: `<testid>-secret-dialog`, `<testid>-secret`, `<testid>-copy`.
    testid: &'static str,
    on_close: Callback<()>,
    /// What to do with it, under the field.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let toasts = use_toasts();
    let copy_value = value.clone();
    let input_id = format!("{testid}-secret");
    view! {
        <Modal title=title on_close=on_close testid=format!("{testid}-secret-dialog")>
            <div class="modal-body">
                <div class="banner banner-warning" role="note">
                    {icon(Icon::Alert)}
                    <p class="banner-title">
                        {format!("Copy the {what} now. It is shown only this once and cannot be recovered.")}
                    </p>
                </div>
                <label class="field-label" for=input_id.clone()>
                    {label}
                </label>
                <div class="secret">
                    <input
                        id=input_id.clone()
                        class="input input-code"
                        type="text"
                        readonly=true
                        data-testid=input_id
                        prop:value=value
                        on:focus=move |ev| {
                            use wasm_bindgen::JsCast;
                            if let Some(input) = ev
                                .target()
                                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                            {
                                input.select();
                            }
                        }
                    />
                    <button
                        type="button"
                        class="btn btn-secondary"
                        data-testid=format!("{testid}-copy")
                        on:click=move |_| copy_secret_with_toast(toasts, copy_value.clone(), what)
                    >
                        {icon(Icon::Copy)}
                        "Copy"
                    </button>
                </div>
                {children.map(|c| c())}
            </div>
            <div class="modal-footer">
                <button type="button" class="btn btn-primary" on:click=move |_| on_close.run(())>
                    "Done"
                </button>
            </div>
        </Modal>
    }
}
