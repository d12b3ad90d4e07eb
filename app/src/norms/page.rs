//! The norms panel on the KPI page: who is behind today and this week, the
//! lead alerts, and the norms editor for those who may set them. It reloads
//! on the KPI page's live events and once a minute, since a lead becomes late by itself.

use leptos::prelude::*;
use strum::IntoEnumIterator;

use super::server::{load_norms, SaveNorms};
use super::{AlertList, Norm, NormKind, NormPer, NormPerson, NormSettings, NormsReport, Pace, NORM_ROLES};
use crate::access::Role;
use crate::error::{AppError, Problem};
use crate::funnel::csv;
use crate::funnel::page::{clock, duration_text, encode, funnel_texts, FunnelTexts};
use crate::org::{DeptId, UserId};
use crate::shell::use_ui;

/// Error-message field names the norms use, in [`NormTexts::fields`] order.
pub const NORM_FIELDS: [&str; 3] = ["response_minutes", "norm_target", "norm"];

/// The panel's words in one language.
pub struct NormTexts {
    pub title: &'static str,
    pub behind_today: &'static str,
    pub behind_week: &'static str,
    pub only_behind: &'static str,
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
    pub discard: &'static str,
    pub zero_hint: &'static str,
    pub fields: [&'static str; 3],
    /// The CSV's columns for people: name, figure, period, done, norm, due by now, pace.
    pub csv_people: [&'static str; 7],
    /// The CSV's columns for an alert's leads: lead, responsible, minutes waiting or reason.
    pub csv_alert: [&'static str; 3],
    /// The CSV's line under an alert when it lists fewer leads than it counts.
    pub csv_listed: &'static str,
}

pub static RU: NormTexts = NormTexts {
    title: "Нормы: кто отстаёт",
    behind_today: "Отстают сегодня",
    behind_week: "за неделю",
    only_behind: "Только отстающие",
    kinds: ["Звонки", "Встречи", "КП", "Чаты", "Обработано лидов"],
    per: ["в день", "в неделю"],
    paces: ["выполнено", "в темпе", "отстаёт", "выходной"],
    roles: ["Менеджер", "Руководитель отдела"],
    expected: "нужно {n}",
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
    discard: "Отменить изменения",
    zero_hint: "Звонки считаются от порога длительности; норма 0 убирает строку.",
    fields: ["Первый ответ на лид", "Норма", "Роль, показатель и период нормы"],
    csv_people: ["Сотрудник", "Показатель", "Период", "Сделано", "Норма", "Нужно к этому времени", "Темп"],
    csv_alert: ["Лид", "Ответственный", "Ждёт, мин / причина"],
    csv_listed: "Показаны первые {n}",
};

pub static EN: NormTexts = NormTexts {
    title: "Norms: who is behind",
    behind_today: "Behind today",
    behind_week: "this week",
    only_behind: "Only those behind",
    kinds: ["Calls", "Meetings", "Proposals", "Chats", "Leads processed"],
    per: ["a day", "a week"],
    paces: ["done", "on pace", "behind", "day off"],
    roles: ["Manager", "Head of department"],
    expected: "{n} due",
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
    discard: "Discard changes",
    zero_hint: "Calls count from the length threshold; a norm of 0 removes the row.",
    fields: ["First response to a lead", "Norm", "The norm's role, figure and period"],
    csv_people: ["Person", "Figure", "Period", "Done", "Norm", "Due by now", "Pace"],
    csv_alert: ["Lead", "Responsible", "Waiting, min / reason"],
    csv_listed: "The first {n} are listed",
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

/// The panel as CSV: a row per person and norm as the panel shows them (the
/// "only those behind" choice aside), then each alert with its total and the
/// leads it lists. An unanswered lead's wait is in whole minutes at `computed_at`.
pub fn norms_csv(report: &NormsReport, nt: &NormTexts) -> String {
    let mut rows: Vec<Vec<String>> = vec![nt.csv_people.iter().map(|h| h.to_string()).collect()];
    for person in &report.people {
        for i in &person.items {
            rows.push(vec![
                person.name.clone(),
                nt.kinds[index_of(i.kind)].to_string(),
                nt.per[index_of(i.per)].to_string(),
                i.actual.to_string(),
                i.target.to_string(),
                i.expected.to_string(),
                nt.paces[index_of(i.pace)].to_string(),
            ]);
        }
    }
    let minutes = report.settings.response_minutes.to_string();
    let alerts = [
        (nt.unanswered.replace("{m}", &minutes), &report.unanswered, false),
        (nt.silent.to_string(), &report.silent, true),
    ];
    for (title, list, silent) in alerts {
        rows.push(vec![]);
        rows.push(vec![title, list.total.to_string()]);
        rows.push(nt.csv_alert.iter().map(|h| h.to_string()).collect());
        for lead in &list.leads {
            let detail = if silent {
                lead.reason.clone().unwrap_or_default()
            } else {
                ((report.computed_at - lead.at) / 60_000).to_string()
            };
            let who = lead.responsible.clone().unwrap_or_else(|| nt.unassigned.to_string());
            rows.push(vec![lead.title.clone(), who, detail]);
        }
        if list.total > list.leads.len() as i64 {
            rows.push(vec![nt.csv_listed.replace("{n}", &list.leads.len().to_string())]);
        }
    }
    csv(&rows)
}

/// The mark before each figure, in [`Pace`] order, explained once in the legend.
const PACE_MARKS: [&str; 4] = ["✓", "●", "▼", "–"];

#[component]
fn PersonRow(person: NormPerson, nt: &'static NormTexts) -> impl IntoView {
    let behind = person.behind(NormPer::Day) + person.behind(NormPer::Week) > 0;
    let chips = person
        .items
        .iter()
        .map(|i| {
            let pace = i.pace;
            let class = format!("norm-chip {}", pace.as_str().replace('_', "-"));
            // Only a shortfall needs its number; the mark and colour tell the rest.
            let due = (pace == Pace::Behind).then(|| format!(" ({})", nt.expected.replace("{n}", &i.expected.to_string())));
            let word = nt.paces[index_of(pace)];
            view! {
                <li class=class data-testid=format!("norm-{}-{}", i.kind.as_str(), i.per.as_str()) data-pace=pace.as_str() title=word>
                    <span aria-hidden="true">{PACE_MARKS[index_of(pace)]}" "</span>
                    <span>{format!("{} {}: ", nt.kinds[index_of(i.kind)], nt.per[index_of(i.per)])}</span>
                    <strong>{format!("{} / {}", i.actual, i.target)}</strong>
                    <span class="sr-only">{format!(", {word}")}</span>
                    {due.map(|d| view! { <span class="muted">{d}</span> })}
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

/// One row of the editor as typed: the count stays text until it is saved,
/// so half-typed input is never rewritten under the cursor.
#[derive(Clone, Debug, PartialEq)]
struct EditRow {
    /// Keeps a row's inputs in place while others are added or removed.
    key: u32,
    role: Role,
    kind: NormKind,
    per: NormPer,
    target: String,
}

/// The editor's working copy of the norms.
#[derive(Clone, Debug, Default, PartialEq)]
struct Draft {
    rows: Vec<EditRow>,
    response: String,
    version: i64,
    /// Changed since it was last loaded or saved: a live reload then leaves it alone.
    dirty: bool,
    next_key: u32,
}

impl Draft {
    fn of(settings: &NormSettings) -> Draft {
        let rows: Vec<EditRow> = settings
            .norms
            .iter()
            .zip(0..)
            .map(|(n, key)| EditRow { key, role: n.role, kind: n.kind, per: n.per, target: n.target.to_string() })
            .collect();
        Draft {
            next_key: rows.len() as u32,
            rows,
            response: settings.response_minutes.to_string(),
            version: settings.version,
            dirty: false,
        }
    }

    /// The settings to send, or the field that is not a number.
    fn settings(&self) -> Result<NormSettings, AppError> {
        let number = |text: &str, field: &str| {
            text.trim().parse::<i64>().map_err(|_| AppError::invalid(field, Problem::NotANumber))
        };
        let norms = self
            .rows
            .iter()
            .map(|r| Ok(Norm { role: r.role, kind: r.kind, per: r.per, target: number(&r.target, "norm_target")? }))
            .collect::<Result<Vec<Norm>, AppError>>()?;
        Ok(NormSettings { norms, response_minutes: number(&self.response, "response_minutes")?, version: self.version })
    }

    fn edit(&mut self, key: u32, change: impl FnOnce(&mut EditRow)) {
        if let Some(row) = self.rows.iter_mut().find(|r| r.key == key) {
            change(row);
            self.dirty = true;
        }
    }
}

/// A value of the draft's row `key`, or the default once the row is gone.
fn row_value<T: Default>(draft: RwSignal<Draft>, key: u32, f: impl FnOnce(&EditRow) -> T) -> T {
    draft.with(|d| d.rows.iter().find(|r| r.key == key).map(f).unwrap_or_default())
}

/// One editable norm; it reads and writes its own row of the draft.
#[component]
fn NormRowEditor(key: u32, draft: RwSignal<Draft>) -> impl IntoView {
    let ui = use_ui();
    let nt = move || norm_texts(ui.texts().lang);
    let read = move |f: fn(&EditRow) -> String| row_value(draft, key, f);
    view! {
        <tr data-testid="norm-row" data-norm=move || read(|r| format!("{}-{}-{}", r.role.as_str(), r.kind.as_str(), r.per.as_str()))>
            <td>
                <select aria-label=move || nt().role on:change=move |ev| {
                    let role = event_target_value(&ev).parse().unwrap_or(Role::Manager);
                    draft.update(|d| d.edit(key, |r| r.role = role));
                }>
                    {NORM_ROLES.iter().map(|r| {
                        let value = r.as_str();
                        view! { <option value=value selected=move || row_value(draft, key, |row| row.role.as_str() == value)>{move || role_text(*r, nt())}</option> }
                    }).collect_view()}
                </select>
            </td>
            <td>
                <select aria-label=move || nt().kind data-testid="norm-kind" on:change=move |ev| {
                    let kind = event_target_value(&ev).parse().unwrap_or(NormKind::Calls);
                    draft.update(|d| d.edit(key, |r| r.kind = kind));
                }>
                    {NormKind::iter().enumerate().map(|(k, kind)| {
                        let value = kind.as_str();
                        view! { <option value=value selected=move || row_value(draft, key, |row| row.kind.as_str() == value)>{move || nt().kinds[k]}</option> }
                    }).collect_view()}
                </select>
            </td>
            <td>
                <select aria-label=move || nt().period data-testid="norm-per" on:change=move |ev| {
                    let per = event_target_value(&ev).parse().unwrap_or(NormPer::Day);
                    draft.update(|d| d.edit(key, |r| r.per = per));
                }>
                    {NormPer::iter().enumerate().map(|(k, per)| {
                        let value = per.as_str();
                        view! { <option value=value selected=move || row_value(draft, key, |row| row.per.as_str() == value)>{move || nt().per[k]}</option> }
                    }).collect_view()}
                </select>
            </td>
            <td>
                <input type="number" inputmode="numeric" aria-label=move || nt().target data-testid="norm-target"
                    prop:value=move || read(|r| r.target.clone())
                    on:input=move |ev| {
                        let target = event_target_value(&ev);
                        draft.update(|d| d.edit(key, |r| r.target = target));
                    } />
            </td>
            <td>
                <button type="button" on:click=move |_| draft.update(|d| {
                    d.rows.retain(|r| r.key != key);
                    d.dirty = true;
                })>{move || nt().remove}</button>
            </td>
        </tr>
    }
}

/// The norms editor: rows of (role, figure, period, count) and the response
/// norm. It lives outside the panel's reloads, so nothing typed is lost; a
/// draft nobody touched follows the latest saved norms.
#[component]
fn Editor(base: Memo<Option<NormSettings>>, tick: RwSignal<u32>) -> impl IntoView {
    let ui = use_ui();
    let nt = move || norm_texts(ui.texts().lang);
    let draft = RwSignal::new(Draft::default());
    let open = RwSignal::new(false);
    let save = ServerAction::<SaveNorms>::new();
    // Unreadable numbers are explained here, without a round trip.
    let local_error = RwSignal::new(None::<AppError>);
    Effect::new(move |_| {
        if let Some(settings) = base.get() {
            if !draft.with_untracked(|d| d.dirty) {
                draft.set(Draft::of(&settings));
            }
        }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(saved)) => {
            draft.set(Draft::of(&saved));
            tick.update(|n| *n += 1);
        }
        // Someone saved first: their norms replace the draft, with the message.
        Some(Err(AppError::Conflict)) => {
            if let Some(latest) = base.get_untracked() {
                draft.set(Draft::of(&latest));
            }
            tick.update(|n| *n += 1);
        }
        _ => {}
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match draft.with_untracked(Draft::settings) {
            Ok(settings) => {
                local_error.set(None);
                save.dispatch(SaveNorms { settings });
            }
            Err(e) => local_error.set(Some(e)),
        }
    };
    let add = move |_| {
        draft.update(|d| {
            let key = d.next_key;
            d.next_key += 1;
            d.rows.push(EditRow {
                key,
                role: Role::Manager,
                kind: NormKind::Calls,
                per: NormPer::Day,
                target: "1".into(),
            });
            d.dirty = true;
        })
    };
    let discard = move |_| {
        local_error.set(None);
        if let Some(settings) = base.get_untracked() {
            draft.set(Draft::of(&settings));
        }
    };
    let message = move || {
        if let Some(e) = local_error.get() {
            return Some(view! { <span class="error" role="alert">{e.message(ui.texts())}</span> }.into_any());
        }
        match save.value().get() {
            Some(Err(e)) => Some(view! { <span class="error" role="alert">{e.message(ui.texts())}</span> }.into_any()),
            Some(Ok(_)) if !draft.with(|d| d.dirty) => {
                Some(view! { <span class="muted" role="status">{nt().saved}</span> }.into_any())
            }
            _ => None,
        }
    };
    view! {
        <details class="norms-editor" prop:open=move || open.get()>
            <summary data-testid="norms-configure" on:click=move |ev| {
                // Drawn by the page, not the browser, so the state is the page's to keep.
                ev.prevent_default();
                open.update(|o| *o = !*o);
            }>{move || nt().configure}</summary>
            <form on:submit=submit>
                <label>
                    <span>{move || nt().response}</span>
                    <input type="number" inputmode="numeric" data-testid="norm-response"
                        prop:value=move || draft.with(|d| d.response.clone())
                        on:input=move |ev| {
                            let text = event_target_value(&ev);
                            draft.update(|d| {
                                d.response = text;
                                d.dirty = true;
                            });
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
                        <tbody>
                            <For each=move || draft.with(|d| d.rows.iter().map(|r| r.key).collect::<Vec<u32>>())
                                key=|key| *key
                                children=move |key| view! { <NormRowEditor key draft /> } />
                        </tbody>
                    </table>
                </div>
                <p class="muted">{move || nt().zero_hint}</p>
                <div class="row">
                    <button type="button" data-testid="norm-add" on:click=add>{move || nt().add}</button>
                    <button type="submit" data-testid="norms-save" disabled=move || save.pending().get()>{move || nt().save}</button>
                    <Show when=move || draft.with(|d| d.dirty)>
                        <button type="button" data-testid="norms-discard" on:click=discard>{move || nt().discard}</button>
                    </Show>
                    {message}
                </div>
            </form>
        </details>
    }
}

/// The report as read; `only_behind` is kept by the panel across reloads.
fn panel(r: NormsReport, only_behind: RwSignal<bool>) -> impl IntoView {
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
        let people = r.people.clone();
        let rows = move || {
            let only = only_behind.get();
            people
                .iter()
                .filter(|p| !only || p.behind(NormPer::Day) + p.behind(NormPer::Week) > 0)
                .map(|p| view! { <PersonRow person=p.clone() nt /> })
                .collect_view()
        };
        view! {
            <p class="meta row">
                <span data-testid="behind-today">{format!("{}: {today}", nt.behind_today)}</span>
                <span data-testid="behind-week">{format!("{}: {week}", nt.behind_week)}</span>
                <span class="muted" aria-hidden="true">
                    {PACE_MARKS.iter().zip(nt.paces).map(|(m, w)| format!("{m} {w}")).collect::<Vec<_>>().join(" · ")}
                </span>
                <span>{format!("{} {}", ft.as_of, clock(r.computed_at))}</span>
            </p>
            {r.day_off.then(|| view! { <p class="muted">{nt.day_off}</p> })}
            <label class="check">
                <input type="checkbox" data-testid="only-behind" prop:checked=move || only_behind.get()
                    on:change=move |ev| only_behind.set(event_target_checked(&ev)) />
                <span>{nt.only_behind}</span>
            </label>
            <div class="table-wrap"><table class="norms-people"><tbody>{rows}</tbody></table></div>
        }
        .into_any()
    };
    let minutes = r.settings.response_minutes.to_string();
    let href = format!("data:text/csv;charset=utf-8,{}", encode(&norms_csv(&r, nt)));
    view! {
        <p class="row"><a class="button" data-testid="norms-csv" download="norms.csv" href=href>{ft.export}</a></p>
        {body}
        <div class="alerts-grid">
            <Alerts list=r.unanswered.clone() title=nt.unanswered.replace("{m}", &minutes) testid="alert-unanswered"
                now=r.computed_at silent=false />
            <Alerts list=r.silent.clone() title=nt.silent.to_string() testid="alert-silent" now=r.computed_at silent=true />
        </div>
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
    // The panel's own reasons to look again: a save, and the clock.
    let tick = RwSignal::new(0u32);
    let only_behind = RwSignal::new(false);
    let report = LocalResource::new(move || {
        reload.track();
        tick.track();
        load_norms(manager_id.get(), department_id.get())
    });
    let latest = Memo::new(move |_| report.get().and_then(Result::ok));
    let base = Memo::new(move |_| latest.get().filter(|r| r.may_configure).map(|r| r.settings));
    let may_configure = Memo::new(move |_| base.with(Option::is_some));
    // A lead turns late with nobody touching it, so the panel also looks again each minute.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let handle = set_interval_with_handle(move || tick.update(|n| *n += 1), std::time::Duration::from_secs(60));
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
                Some(Ok(r)) => panel(r, only_behind).into_any(),
            }}
            <Show when=move || may_configure.get()>
                <Editor base tick />
            </Show>
        </section>
    }
}
