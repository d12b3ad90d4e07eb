//! The deals list: every deal the caller may see, filtered by pipeline,
//! stage, manager, state, source and text, sorted by any column, a page at
//! a time. Each title opens the deal's page.

use leptos::prelude::*;
use strum::IntoEnumIterator;

use super::lists::{when, DealFilter, DealList, DealSort, ListBody, Order, SortHeader};
use super::server::{board_options, list_deals, list_pipelines};
use super::{Deal, Pipeline, StageKind};
use crate::i18n::SOURCE_KEYS;
use crate::shell::use_ui;

#[component]
pub fn DealsPage() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let filter = RwSignal::new(DealFilter::default());
    let order = RwSignal::new(Order::<DealSort>::default());
    let page = RwSignal::new(0i64);
    let search = RwSignal::new(String::new());
    let pipelines = LocalResource::new(list_pipelines);
    let options = LocalResource::new(board_options);
    let deals = LocalResource::new(move || {
        let text = search.get();
        let filter = DealFilter {
            search: Some(text).filter(|s| !s.trim().is_empty()),
            order: order.get(),
            page: page.get(),
            ..filter.get()
        };
        list_deals(filter)
    });
    let all_pipelines = move || pipelines.get().and_then(Result::ok).unwrap_or_default();
    let stage_name = move |deal: &Deal| {
        all_pipelines()
            .iter()
            .flat_map(|p| p.stages.iter())
            .find(|s| s.id == deal.card.stage_id)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    };
    // A filter change starts again from the first page.
    let set = move |change: &dyn Fn(&mut DealFilter)| {
        filter.update(|f| change(f));
        page.set(0);
    };
    let parse_id = |ev: &leptos::ev::Event| event_target_value(ev).parse::<i64>().ok();

    view! {
        <h1>{move || t().nav_deals}</h1>
        <div class="filters" role="search">
            <label>
                <span>{move || t().pipeline}</span>
                <select data-testid="deals-pipeline" on:change=move |ev| {
                    let id = parse_id(&ev);
                    set(&|f| { f.pipeline_id = id; f.stage_id = None; });
                }>
                    <option value="">{move || t().all_pipelines}</option>
                    {move || all_pipelines().into_iter().map(|p: Pipeline| view! { <option value=p.id>{p.name}</option> }).collect_view()}
                </select>
            </label>
            <label>
                <span>{move || t().stage}</span>
                <select on:change=move |ev| { let id = parse_id(&ev); set(&|f| f.stage_id = id); }>
                    <option value="">{move || t().all_stages}</option>
                    {move || {
                        let chosen = filter.with(|f| f.pipeline_id);
                        all_pipelines().into_iter().filter(|p| chosen.is_none_or(|c| c == p.id))
                            .flat_map(|p| p.stages.into_iter().filter(|s| !s.archived))
                            .map(|s| view! { <option value=s.id prop:selected=move || filter.with(|f| f.stage_id == Some(s.id))>{s.name}</option> })
                            .collect_view()
                    }}
                </select>
            </label>
            <label>
                <span>{move || t().deal_state}</span>
                <select data-testid="deals-state" on:change=move |ev| {
                    let state = event_target_value(&ev).parse().ok();
                    set(&|f| f.state = state);
                }>
                    <option value="">{move || t().all_states}</option>
                    {StageKind::iter().map(|k| view! { <option value=k.as_str()>{move || t().stage_kind(k)}</option> }).collect_view()}
                </select>
            </label>
            <label>
                <span>{move || t().manager}</span>
                <select on:change=move |ev| { let id = parse_id(&ev); set(&|f| f.manager_id = id); }>
                    <option value="">{move || t().all_managers}</option>
                    {move || options.get().and_then(Result::ok).map(|o| o.people.into_iter()
                        .map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view())}
                </select>
            </label>
            <label>
                <span>{move || t().source}</span>
                <select on:change=move |ev| {
                    let source = Some(event_target_value(&ev)).filter(|s| !s.is_empty());
                    set(&|f| f.source = source.clone());
                }>
                    <option value="">{move || t().all_sources}</option>
                    {SOURCE_KEYS.iter().map(|k| view! { <option value=*k>{move || t().source_name(k).to_string()}</option> }).collect_view()}
                </select>
            </label>
            <label class="grow">
                <span>{move || t().search}</span>
                <input type="search" maxlength="100" placeholder=move || t().search_hint
                    on:input=move |ev| { search.set(event_target_value(&ev)); page.set(0); } />
            </label>
        </div>
        <ListBody list=deals empty=Signal::derive(move || t().no_deals) page table=move |list: DealList| view! {
            <table data-testid="deals">
                <caption class="muted" data-testid="deals-total">{format!("{}: {}", t().deals_count, list.total)}</caption>
                <thead>
                    <tr>
                        <SortHeader order by=DealSort::Title label=Signal::derive(move || t().title) page />
                        <th>{t().client}</th>
                        <SortHeader order by=DealSort::Amount label=Signal::derive(move || t().amount) page />
                        <SortHeader order by=DealSort::Stage label=Signal::derive(move || t().stage) page />
                        <SortHeader order by=DealSort::Manager label=Signal::derive(move || t().manager) page />
                        <SortHeader order by=DealSort::Created label=Signal::derive(move || t().created_at) page />
                        <SortHeader order by=DealSort::Closed label=Signal::derive(move || t().closed_at) page />
                    </tr>
                </thead>
                <tbody>
                    {list.rows.into_iter().map(|deal| {
                        let stage = stage_name(&deal);
                        view! {
                            <tr>
                                <td><a href=format!("/deals/{}", deal.card.id)>{deal.card.title.clone()}</a></td>
                                <td>{deal.card.client.clone().unwrap_or_default()}</td>
                                <td class="num" data-testid="deal-amount" data-kopecks=deal.card.amount
                                    title=deal.card.rubles_if_foreign()>{deal.card.price()}</td>
                                <td>{stage}</td>
                                <td>{deal.card.manager.clone()}</td>
                                <td class="nowrap">{when(deal.created_at)}</td>
                                <td class="nowrap">{deal.closed_at.map(when).unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        } />
    }
}
