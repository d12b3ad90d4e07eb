//! The rights editor: a table of roles × areas × actions with a scope in each cell.

use leptos::prelude::*;
use strum::IntoEnumIterator;

use super::server::{rights_matrix, set_right};
use super::{Action, Module, Role, Scope};
use crate::shell::{use_ui, ErrorPage, FormError};

#[component]
pub fn RightsPage() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let changed = RwSignal::new(0u32);
    let rights = Resource::new(move || changed.get(), |_| rights_matrix());
    let save = leptos::prelude::Action::new(move |(role, module, action, scope): &(Role, Module, Action, Scope)| {
        let names: [&'static str; 4] = [(*role).into(), (*module).into(), (*action).into(), (*scope).into()];
        async move {
            let r = set_right(names[0].into(), names[1].into(), names[2].into(), names[3].into()).await;
            changed.update(|n| *n += 1);
            r
        }
    });
    let error = Signal::derive(move || save.value().get().and_then(Result::err));

    view! {
        <h1>{move || t().access_title}</h1>
        <p class="muted">{move || t().access_hint} " " {move || t().admin_fixed}</p>
        <FormError error />
        <Transition fallback=move || view! { <p class="loading">{t().loading}</p> }>
            {move || Suspend::new(async move {
                match rights.await {
                    Err(e) => view! { <ErrorPage error=e /> }.into_any(),
                    Ok(rows) => {
                        let t = t();
                        Role::iter()
                            .filter(|r| *r != Role::Admin)
                            .map(|role| {
                                let body = Module::iter()
                                    .map(|module| {
                                        let cells = Action::iter()
                                            .map(|action| {
                                                let current = rows
                                                    .iter()
                                                    .find(|(r, m, a, _)| (*r, *m, *a) == (role, module, action))
                                                    .map_or(Scope::None, |row| row.3);
                                                let label = format!(
                                                    "{} — {} — {}",
                                                    t.role(role),
                                                    t.module(module),
                                                    t.action(action),
                                                );
                                                let options = Scope::iter()
                                                    .map(|s| {
                                                        let v: &'static str = s.into();
                                                        view! {
                                                            <option value=v selected=s == current>
                                                                {t.scope(s)}
                                                            </option>
                                                        }
                                                    })
                                                    .collect_view();
                                                view! {
                                                    <td>
                                                        <select
                                                            aria-label=label
                                                            on:change=move |ev| {
                                                                if let Ok(scope) = event_target_value(&ev).parse() {
                                                                    save.dispatch((role, module, action, scope));
                                                                }
                                                            }
                                                        >
                                                            {options}
                                                        </select>
                                                    </td>
                                                }
                                            })
                                            .collect_view();
                                        view! {
                                            <tr>
                                                <th scope="row">{t.module(module)}</th>
                                                {cells}
                                            </tr>
                                        }
                                    })
                                    .collect_view();
                                view! {
                                    <section class="card">
                                        <h2>{t.role(role)}</h2>
                                        <div class="table-wrap">
                                            <table class="rights">
                                                <thead>
                                                    <tr>
                                                        <th></th>
                                                        {Action::iter()
                                                            .map(|a| view! { <th scope="col">{t.action(a)}</th> })
                                                            .collect_view()}
                                                    </tr>
                                                </thead>
                                                <tbody>{body}</tbody>
                                            </table>
                                        </div>
                                    </section>
                                }
                            })
                            .collect_view()
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}
