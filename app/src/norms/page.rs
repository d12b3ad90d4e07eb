//! The norms panel on the KPI page: who is behind today and this week, the
//! lead alerts, and the norms editor for those who may set them. It reloads
//! with the KPI page and once a minute, since a lead becomes late by itself.

use leptos::prelude::*;
use strum::IntoEnumIterator;

use super::server::{load_norms, SaveNorms};
use super::{AlertList, Norm, NormKind, NormPer, NormPerson, NormSettings, NormsReport, Pace, NORM_ROLES};
use crate::access::Role;
use crate::funnel::page::{clock, duration_text, funnel_texts, FunnelTexts};
use crate::org::{DeptId, UserId};
use crate::shell::use_ui;

/// Error-message field names the norms use, in [`NormTexts::fields`] order.
pub const NORM_FIELDS: [&str; 3] = ["response_minutes", "norm_target", "norm"];

/// The panel's words in one language.
pub struct NormTexts {
    pub title: &'static str,
    pub behind_today: &'static str,
    pub behind_week: &'static str,
    pub kinds: [&'static str; 5],
    pub per: [&'static str; 2],
    pub paces: [&'static str; 4],
    pub roles: [&'static str; 2],
    pub expected: &'static str,
    pub day_off: &'static str,
    pub no_norms: &'static str,
    pub no_people: &'static str,
    pub unanswered: &'static str,
    pub silent: &'static str,
    pub waiting: &'static str,
    pub none: &'static str,
    pub more: &'static str,
    pub unassigned: &'static str,
    pub configure: &'static str,
    pub response: &'static str,
    pub role: &'static str,
    pub kind: &'static str,
    pub period: &'static str,
    pub target: &'static str,
    pub add: &'static str,
    pub remove: &'static str,
    pub save: &'static str,
    pub saved: &'static str,
    pub zero_hint: &'static str,
    pub fields: [&'static str; 3],
}

pub static RU: NormTexts = NormTexts {
    title: "Нормы: кто отстаёт",
    behind_today: "Отстают сегодня",
    behind_week: "за неделю",
    kinds: ["Звонки", "Встречи", "КП", "Чаты", "Обработано лидов"],
    per: ["в день", "в неделю"],
    paces: ["выполнено", "в темпе", "отстаёт", "выходной"],
    roles: ["Менеджер", "Руководитель отдела"],
    expected: "к этому часу нужно {n}",
    day_off: "Сегодня выходной: дневные нормы не действуют.",
    no_norms: "Нормы не заданы.",
    no_people: "У выбранных сотрудников нет норм.",
    unanswered: "Лиды без ответа дольше {m} мин",
    silent: "Отклонены без единого действия за 7 дней",
    waiting: "ждёт",
    none: "Нет — всё в порядке.",
    more: "и ещё {n}",
    unassigned: "без ответственного",
    configure: "Настроить нормы",
    response: "Первый ответ на лид, мин",
    role: "Роль",
    kind: "Показатель",
    period: "Период",
    target: "Норма",
    add: "Добавить норму",
    remove: "Убрать",
    save: "Сохранить нормы",
    saved: "Нормы сохранены",
    zero_hint: "Звонки считаются от порога длительности; норма 0 убирает строку.",
    fields: ["Первый ответ на лид", "Норма", "Роль, показатель и период нормы"],
};

pub static EN: NormTexts = NormTexts {
    title: "Norms: who is behind",
    behind_today: "Behind today",
    behind_week: "this week",
    kinds: ["Calls", "Meetings", "Proposals", "Chats", "Leads processed"],
    per: ["a day", "a week"],
    paces: ["done", "on pace", "behind", "day off"],
    roles: ["Manager", "Head of department"],
    expected: "{n} due by now",
    day_off: "A day off today: daily norms do not apply.",
    no_norms: "No norms are set.",
    no_people: "The chosen people have no norms.",
    unanswered: "Leads unanswered for over {m} min",
    silent: "Disqualified without a single activity, last 7 days",
    waiting: "waiting",
    none: "None — all fine.",
    more: "and {n} more",
    unassigned: "unassigned",
    configure: "Set the norms",
    response: "First response to a lead, min",
    role: "Role",
    kind: "Figure",
    period: "Period",
    target: "Norm",
    add: "Add a norm",
    remove: "Remove",
    save: "Save the norms",
    saved: "Norms saved",
    zero_hint: "Calls count from the length threshold; a norm of 0 removes the row.",
    fields: ["First response to a lead", "Norm", "The norm's role, figure and period"],
};

pub fn norm_texts(lang: &str) -> &'static NormTexts {
    if lang == "en" {
        &EN
    } else {
        &RU
    }
}

fn index_of<T: IntoEnumIterator + PartialEq>(value: T) -> usize {
    T::iter().position(|v| v == value).unwrap_or(0)
}

fn role_text(role: Role, nt: &NormTexts) -> &'static str {
    nt.roles[NORM_ROLES.iter().position(|r| *r == role).unwrap_or(0)]
}

#[component]
fn PersonRow(person: NormPerson, nt: &'static NormTexts) -> impl IntoView {
    let behind = person.behind(NormPer::Day) + person.behind(NormPer::Week) > 0;
    let chips = person
        .items
        .iter()
        .map(|i| {
            let pace = i.pace;
            let class = format!("norm-chip {}", pace.as_str().replace('_', "-"));
            let due = (pace == Pace::Behind || pace == Pace::OnPace)
                .then(|| format!(" · {}", nt.expected.replace("{n}", &i.expected.to_string())));
            view! {
                <li class=class data-testid=format!("norm-{}-{}", i.kind.as_str(), i.per.as_str()) data-pace=pace.as_str()>
                    <span>{format!("{} {}: ", nt.kinds[index_of(i.kind)], nt.per[index_of(i.per)])}</span>
                    <strong>{format!("{} / {}", i.actual, i.target)}</strong>
                    <span class="muted">{format!(" — {}{}", nt.paces[index_of(pace)], due.unwrap_or_default())}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <tr class:behind=behind data-testid=format!("norm-person-{}", person.user_id)>
            <th scope="row">{person.name.clone()}</th>
            <td><ul class="norm-chips">{chips}</ul></td>
        </tr>
    }
}

#[component]
fn Alerts(list: AlertList, title: String, testid: &'static str, now: i64, silent: bool) -> impl IntoView {
    let ui = use_ui();
    let nt = norm_texts(ui.texts().lang);
    let ft: &'static FunnelTexts = funnel_texts(ui.texts().lang);
    let more = list.total - list.leads.len() as i64;
    let raised = list.total > 0;
    let items = list
        .leads
        .iter()
        .map(|l| {
            let who = l.responsible.clone().unwrap_or_else(|| nt.unassigned.to_string());
            let detail = if silent {
                l.reason.clone().unwrap_or_default()
            } else {
                format!("{} {}", nt.waiting, duration_text(Some(now - l.at), ft))
            };
            view! {
                <li>
                    <a href="/leads">{l.title.clone()}</a>
                    <span class="muted">{format!(" — {who}; {detail}")}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="alerts" class:raised=raised data-testid=testid>
            <h3>{title}": " <span data-testid="count">{list.total}</span></h3>
            {if list.total == 0 {
                view! { <p class="muted">{nt.none}</p> }.into_any()
            } else {
                view! {
                    <ul>{items}</ul>
                    {(more > 0).then(|| view! { <p class="muted">{nt.more.replace("{n}", &more.to_string())}</p> })}
                }
                .into_any()
            }}
        </section>
    }
}

/// The norms editor: rows of (role, figure, period, count) and the response
/// norm. The draft lives in the panel, so a live reload keeps what is typed.
#[component]
fn Editor(
    settings: NormSettings,
    draft: RwSignal<Option<NormSettings>>,
    save: ServerAction<SaveNorms>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let ui = use_ui();
    let nt = move || norm_texts(ui.texts().lang);
    let current = StoredValue::new(settings);
    let value = move || draft.get().unwrap_or_else(|| current.get_value());
    let edit = move |f: &dyn Fn(&mut NormSettings)| {
        let mut s = value();
        f(&mut s);
        draft.set(Some(s));
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(SaveNorms { settings: value() });
    };
    let rows = move || {
        value()
            .norms
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let n = *n;
                view! {
                    <tr data-testid="norm-row">
                        <td>
                            <select aria-label=move || nt().role on:change=move |ev| {
                                let role = event_target_value(&ev).parse().unwrap_or(Role::Manager);
                                edit(&|s| s.norms[i].role = role);
                            }>
                                {NORM_ROLES.iter().map(|r| view! {
                                    <option value=r.as_str() selected=*r == n.role>{move || role_text(*r, nt())}</option>
                                }).collect_view()}
                            </select>
                        </td>
                        <td>
                            <select aria-label=move || nt().kind data-testid="norm-kind" on:change=move |ev| {
                                let kind = event_target_value(&ev).parse().unwrap_or(NormKind::Calls);
                                edit(&|s| s.norms[i].kind = kind);
                            }>
                                {NormKind::iter().enumerate().map(|(k, kind)| view! {
                                    <option value=kind.as_str() selected=kind == n.kind>{move || nt().kinds[k]}</option>
                                }).collect_view()}
                            </select>
                        </td>
                        <td>
                            <select aria-label=move || nt().period data-testid="norm-per" on:change=move |ev| {
                                let per = event_target_value(&ev).parse().unwrap_or(NormPer::Day);
                                edit(&|s| s.norms[i].per = per);
                            }>
                                {NormPer::iter().enumerate().map(|(k, per)| view! {
                                    <option value=per.as_str() selected=per == n.per>{move || nt().per[k]}</option>
                                }).collect_view()}
                            </select>
                        </td>
                        <td>
                            <input type="number" inputmode="numeric" aria-label=move || nt().target data-testid="norm-target"
                                prop:value=n.target.to_string() on:change=move |ev| {
                                    // Unreadable input goes to the server as -1 and comes back explained.
                                    let target = event_target_value(&ev).trim().parse().unwrap_or(-1);
                                    edit(&|s| s.norms[i].target = target);
                                } />
                        </td>
                        <td>
                            <button type="button" on:click=move |_| edit(&|s| { s.norms.remove(i); })>{move || nt().remove}</button>
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <details class="norms-editor" prop:open=move || open.get()>
            <summary data-testid="norms-configure" on:click=move |ev| {
                // The panel redraws on live reloads; the page keeps whether the editor is open.
                ev.prevent_default();
                open.update(|o| *o = !*o);
            }>{move || nt().configure}</summary>
            <form on:submit=submit>
                <label>
                    <span>{move || nt().response}</span>
                    <input type="number" inputmode="numeric" data-testid="norm-response"
                        prop:value=move || value().response_minutes.to_string()
                        on:change=move |ev| {
                            let m = event_target_value(&ev).trim().parse().unwrap_or(0);
                            edit(&|s| s.response_minutes = m);
                        } />
                </label>
                <div class="table-wrap">
                    <table class="norms-table">
                        <thead><tr>
                            <th scope="col">{move || nt().role}</th>
                            <th scope="col">{move || nt().kind}</th>
                            <th scope="col">{move || nt().period}</th>
                            <th scope="col">{move || nt().target}</th>
                            <th></th>
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
                <p class="muted">{move || nt().zero_hint}</p>
                <div class="row">
                    <button type="button" data-testid="norm-add" on:click=move |_| edit(&|s| s.norms.push(Norm {
                        role: Role::Manager, kind: NormKind::Calls, per: NormPer::Day, target: 1,
                    }))>{move || nt().add}</button>
                    <button type="submit" data-testid="norms-save" disabled=move || save.pending().get()>{move || nt().save}</button>
                    {move || match save.value().get() {
                        Some(Err(e)) => Some(view! { <span class="error" role="alert">{e.message(ui.texts())}</span> }.into_any()),
                        Some(Ok(_)) if draft.with(Option::is_none) => Some(view! { <span class="muted" role="status">{nt().saved}</span> }.into_any()),
                        _ => None,
                    }}
                </div>
            </form>
        </details>
    }
}

/// What the panel keeps across live reloads: the editor's draft, whether it is open, and the save.
#[derive(Clone, Copy)]
struct EditorState {
    draft: RwSignal<Option<NormSettings>>,
    open: RwSignal<bool>,
    save: ServerAction<SaveNorms>,
}

fn panel(r: NormsReport, editor: EditorState) -> impl IntoView {
    let ui = use_ui();
    let nt = norm_texts(ui.texts().lang);
    let ft = funnel_texts(ui.texts().lang);
    let today = r.people.iter().filter(|p| p.behind(NormPer::Day) > 0).count();
    let week = r.people.iter().filter(|p| p.behind(NormPer::Week) > 0).count();
    let body = if r.settings.norms.is_empty() {
        view! { <p class="empty">{nt.no_norms}</p> }.into_any()
    } else if r.people.is_empty() {
        view! { <p class="empty">{nt.no_people}</p> }.into_any()
    } else {
        let rows = r.people.iter().map(|p| view! { <PersonRow person=p.clone() nt /> }).collect_view();
        view! {
            <p class="meta row">
                <span data-testid="behind-today">{format!("{}: {today}", nt.behind_today)}</span>
                <span data-testid="behind-week">{format!("{}: {week}", nt.behind_week)}</span>
                <span>{format!("{} {}", ft.as_of, clock(r.computed_at))}</span>
            </p>
            {r.day_off.then(|| view! { <p class="muted">{nt.day_off}</p> })}
            <div class="table-wrap"><table class="norms-people"><tbody>{rows}</tbody></table></div>
        }
        .into_any()
    };
    let minutes = r.settings.response_minutes.to_string();
    view! {
        {body}
        <div class="alerts-grid">
            <Alerts list=r.unanswered.clone() title=nt.unanswered.replace("{m}", &minutes) testid="alert-unanswered"
                now=r.computed_at silent=false />
            <Alerts list=r.silent.clone() title=nt.silent.to_string() testid="alert-silent" now=r.computed_at silent=true />
        </div>
        {r.may_configure.then(|| {
            let EditorState { draft, open, save } = editor;
            view! { <Editor settings=r.settings.clone() draft save open /> }
        })}
    }
}

/// The panel for the KPI page's manager and department filters; `reload`
/// is the page's live counter.
#[component]
pub fn NormsPanel(
    manager_id: Signal<Option<UserId>>,
    department_id: Signal<Option<DeptId>>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let ui = use_ui();
    let report = LocalResource::new(move || {
        reload.track();
        load_norms(manager_id.get(), department_id.get())
    });
    let draft = RwSignal::new(None::<NormSettings>);
    let save = ServerAction::<SaveNorms>::new();
    let editor = EditorState { draft, open: RwSignal::new(false), save };
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            draft.set(None);
            reload.update(|n| *n += 1);
        }
    });
    // A lead turns late with nobody touching it, so the panel also looks again each minute.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let handle = set_interval_with_handle(move || reload.update(|n| *n += 1), std::time::Duration::from_secs(60));
        if let Ok(handle) = handle {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        <section class="norms" data-testid="norms" aria-labelledby="norms-title">
            <h2 id="norms-title">{move || norm_texts(ui.texts().lang).title}</h2>
            {move || match report.get() {
                None => view! { <p class="loading">{ui.texts().loading}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.message(ui.texts())}</p> }.into_any(),
                Some(Ok(r)) => panel(r, editor).into_any(),
            }}
        </section>
    }
}
