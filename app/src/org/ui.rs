//! The home page and the team page (people and departments).

use leptos::prelude::*;
use strum::IntoEnumIterator;

use super::server::{create_department, create_person, list_departments, list_people, update_person};
use super::{Department, NewUserForm, User, UserChanges};
use crate::access::{Action, Module, Role, Scope};
use crate::error::AppError;
use crate::shell::{use_ui, ErrorPage, FormError};

#[component]
pub fn HomePage() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    move || {
        ui.user().map(|me| {
            let t = t();
            let rights = Module::iter()
                .map(|m| {
                    let cells = Action::iter()
                        .map(|a| view! { <td>{t.scope(me.scope(m, a))}</td> })
                        .collect_view();
                    view! {
                        <tr>
                            <th scope="row">{t.module(m)}</th>
                            {cells}
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <h1 data-testid="greeting">{format!("{}, {}", t.hello, me.user.name)}</h1>
                <section class="card facts">
                    <div>
                        <span class="muted">{t.your_role}</span>
                        <strong>{t.role(me.user.role)}</strong>
                    </div>
                    <div>
                        <span class="muted">{t.your_department}</span>
                        <strong>{me.department_name.clone().unwrap_or_else(|| t.no_department.into())}</strong>
                    </div>
                </section>
                <section class="card">
                    <h2>{t.your_rights}</h2>
                    <div class="table-wrap">
                        <table>
                            <thead>
                                <tr>
                                    <th></th>
                                    {Action::iter().map(|a| view! { <th scope="col">{t.action(a)}</th> }).collect_view()}
                                </tr>
                            </thead>
                            <tbody>{rights}</tbody>
                        </table>
                    </div>
                </section>
            }
        })
    }
}

#[component]
pub fn TeamPage() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    // Bumped after every change so both lists reload.
    let changed = RwSignal::new(0u32);
    let people = Resource::new(move || changed.get(), |_| list_people());
    let departments = Resource::new(move || changed.get(), |_| list_departments());
    let can_create = move || ui.scope(Module::Settings, Action::Create) != Scope::None;

    view! {
        <h1>{move || t().nav_team}</h1>
        <Transition fallback=move || view! { <p class="loading">{t().loading}</p> }>
            {move || Suspend::new(async move {
                match (people.await, departments.await) {
                    (Ok(people), Ok(depts)) => {
                        view! {
                            <PeopleTable people=people.clone() depts=depts.clone() changed />
                            {can_create().then(|| view! { <AddPerson depts=depts.clone() changed /> })}
                            <DepartmentList depts people changed />
                        }
                            .into_any()
                    }
                    (Err(e), _) | (_, Err(e)) => view! { <ErrorPage error=e /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn department_name(depts: &[Department], id: Option<i64>) -> Option<String> {
    id.and_then(|id| depts.iter().find(|d| d.id == id)).map(|d| d.name.clone())
}

#[component]
fn PeopleTable(people: Vec<User>, depts: Vec<Department>, changed: RwSignal<u32>) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let can_edit = ui.scope(Module::Settings, Action::Edit) != Scope::None;
    let me = ui.user().map(|u| u.user.id);
    let toggle = leptos::prelude::Action::new(move |(id, active): &(i64, bool)| {
        let (id, active) = (*id, *active);
        async move {
            let r = update_person(id, UserChanges { active: Some(active), ..Default::default() }).await;
            if r.is_ok() {
                changed.update(|n| *n += 1);
            }
            r
        }
    });
    let error = Signal::derive(move || toggle.value().get().and_then(Result::err));
    if people.is_empty() {
        return view! { <p class="empty">{t().nobody_yet}</p> }.into_any();
    }
    let rows = people
        .into_iter()
        .map(|p| {
            let t = t();
            let dept = department_name(&depts, p.department_id).unwrap_or_else(|| t.no_department.into());
            let (id, active) = (p.id, p.active);
            let button = (can_edit && Some(id) != me).then(|| {
                view! {
                    <button type="button" on:click=move |_| { toggle.dispatch((id, !active)); }>
                        {if active { t.deactivate } else { t.activate }}
                    </button>
                }
            });
            view! {
                <tr class:inactive=!active>
                    <td data-label=t.name>{p.name}</td>
                    <td data-label=t.email>{p.email}</td>
                    <td data-label=t.role>{t.role(p.role)}</td>
                    <td data-label=t.department>{dept}</td>
                    <td data-label=t.status>{if active { t.active } else { t.inactive }} " " {button}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card">
            <h2>{move || t().people}</h2>
            <FormError error />
            <div class="table-wrap">
                <table class="stack-on-phone" data-testid="people">
                    <thead>
                        <tr>
                            <th scope="col">{move || t().name}</th>
                            <th scope="col">{move || t().email}</th>
                            <th scope="col">{move || t().role}</th>
                            <th scope="col">{move || t().department}</th>
                            <th scope="col">{move || t().status}</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn AddPerson(depts: Vec<Department>, changed: RwSignal<u32>) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new("manager".to_string());
    let department = RwSignal::new(String::new());
    let save = leptos::prelude::Action::new(move |form: &NewUserForm| {
        let form = form.clone();
        async move {
            let r = create_person(form).await;
            if r.is_ok() {
                changed.update(|n| *n += 1);
            }
            r
        }
    });
    let error: Signal<Option<AppError>> = Signal::derive(move || save.value().get().and_then(Result::err));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(NewUserForm {
            email: email.get(),
            name: name.get(),
            password: password.get(),
            role: role.get(),
            department_id: department.get().parse().ok(),
        });
    };
    let dept_options =
        depts.into_iter().map(|d| view! { <option value=d.id.to_string()>{d.name}</option> }).collect_view();
    view! {
        <section class="card">
            <h2>{move || t().add_person}</h2>
            <form class="grid-form" on:submit=submit>
                <label>
                    <span>{move || t().name}</span>
                    <input name="name" required maxlength="120" bind:value=name />
                </label>
                <label>
                    <span>{move || t().email}</span>
                    <input name="email" type="email" required maxlength="254" bind:value=email />
                </label>
                <label>
                    <span>{move || t().password}</span>
                    <input name="password" type="password" required minlength="8" bind:value=password />
                </label>
                <label>
                    <span>{move || t().role}</span>
                    <select name="role" bind:value=role>
                        {move || {
                            Role::iter()
                                .map(|r| {
                                    let v: &'static str = r.into();
                                    view! { <option value=v>{t().role(r)}</option> }
                                })
                                .collect_view()
                        }}
                    </select>
                </label>
                <label>
                    <span>{move || t().department}</span>
                    <select name="department" bind:value=department>
                        <option value="">{move || t().no_department}</option>
                        {dept_options}
                    </select>
                </label>
                <FormError error />
                <button type="submit" class="primary" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { t().saving } else { t().add }}
                </button>
            </form>
        </section>
    }
}

#[component]
fn DepartmentList(depts: Vec<Department>, people: Vec<User>, changed: RwSignal<u32>) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let name = RwSignal::new(String::new());
    let add = leptos::prelude::Action::new(move |name: &String| {
        let name = name.clone();
        async move {
            let r = create_department(name, None).await;
            if r.is_ok() {
                changed.update(|n| *n += 1);
            }
            r
        }
    });
    let error = Signal::derive(move || add.value().get().and_then(Result::err));
    let can_create = ui.scope(Module::Settings, Action::Create) == Scope::All;
    let person = |id: Option<i64>| id.and_then(|id| people.iter().find(|p| p.id == id)).map(|p| p.name.clone());
    let rows = depts
        .iter()
        .map(|d| {
            let head = person(d.head_id).unwrap_or_else(|| t().no_head.into());
            view! {
                <tr>
                    <td>{d.name.clone()}</td>
                    <td>{head}</td>
                    <td class="num">{d.members}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card">
            <h2>{move || t().departments}</h2>
            {if depts.is_empty() {
                view! { <p class="empty">{t().no_departments_yet}</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table data-testid="departments">
                            <thead>
                                <tr>
                                    <th scope="col">{t().name}</th>
                                    <th scope="col">{t().head}</th>
                                    <th scope="col" class="num">{t().members}</th>
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }}
            <Show when=move || can_create>
                <form
                    class="inline-form"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        add.dispatch(name.get());
                    }
                >
                    <input name="department-name" required maxlength="120" bind:value=name placeholder=move || t().name />
                    <button type="submit">{move || t().add_department}</button>
                </form>
                <FormError error />
            </Show>
        </section>
    }
}
