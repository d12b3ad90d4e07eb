//! The sign-in page. It is a real form, so it works before the WASM loads.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use super::server::Login;
use crate::shell::{use_ui, FormError, LanguageSwitch, SessionGate};

#[component]
pub fn LoginPage() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let login = ServerAction::<Login>::new();
    let pending = login.pending();
    let error = Signal::derive(move || login.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(_)) = login.value().get() {
            ui.me.refetch();
        }
    });

    view! {
        <SessionGate>
        {move || ui.user().map(|_| view! { <Redirect path="/" /> })}
        <main class="login">
            <div class="login-card card">
                <div class="login-head">
                    <h1>{move || t().app_name}</h1>
                    <LanguageSwitch />
                </div>
                <p class="muted">{move || t().tagline}</p>
                <ActionForm action=login>
                    <label>
                        <span>{move || t().email}</span>
                        <input
                            type="email"
                            name="email"
                            autocomplete="username"
                            required
                            maxlength="254"
                            autofocus
                        />
                    </label>
                    <label>
                        <span>{move || t().password}</span>
                        <input type="password" name="password" autocomplete="current-password" required />
                    </label>
                    <FormError error />
                    <button type="submit" class="primary" disabled=move || pending.get()>
                        {move || if pending.get() { t().signing_in } else { t().sign_in }}
                    </button>
                </ActionForm>
            </div>
        </main>
        </SessionGate>
    }
}
