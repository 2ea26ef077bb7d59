//! One-click copy with a toast.

use super::toast::Toasts;
use leptos::task::spawn_local;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

async fn write_text(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator = window.navigator();
    // Outside a secure context `navigator.clipboard` is undefined.
    let available = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard"))
        .map(|value| !value.is_undefined() && !value.is_null())
        .unwrap_or(false);
    if !available {
        return false;
    }
    JsFuture::from(navigator.clipboard().write_text(text)).await.is_ok()
}

/// Copies `text` and says so (`what` names it: "coupon code", "API key").
pub fn copy_with_toast(toasts: Toasts, text: String, what: &'static str) {
    spawn_local(async move {
        if write_text(&text).await {
            toasts.success(format!("Copied {what} {text}"));
        } else {
            toasts.error(format!(
                "Could not copy the {what}; select it and copy it by hand: {text}"
            ));
        }
    });
}

/// Copies a secret without repeating it in the toast.
pub fn copy_secret_with_toast(toasts: Toasts, text: String, what: &'static str) {
    spawn_local(async move {
        if write_text(&text).await {
            toasts.success(format!("Copied the {what}"));
        } else {
            toasts.error(format!("Could not copy the {what}; select it and copy it by hand"));
        }
    });
}
