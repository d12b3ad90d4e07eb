//! Pipelines and their stages for heads and admins: add, rename, reorder,
//! mark required, set stale days, archive (history keeps the name). A
//! pipeline is renamed and archived the same way. Below them, the rates of
//! the currencies deals may be priced in.

use leptos::prelude::*;

use super::currency::CurrencyRates;
use super::server::{archive_pipeline, list_pipelines, save_pipeline, save_stage};
use super::{Pipeline, Stage, StageForm, StageKind};
use crate::error::AppError;
use crate::shell::{use_ui, ErrorPage, FormError};

fn form_of(stage: &Stage) -> StageForm {
    StageForm {
        id: Some(stage.id),
        pipeline_id: stage.pipeline_id,
        name: stage.name.clone(),
        kind: stage.kind,
        probability: stage.probability,
        required: stage.required,
        stale_days: stage.stale_days,
        archived: stage.archived,
        position: stage.position,
    }
}

#[component]
pub fn PipelinesPage() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let reload = RwSignal::new(0u32);
    let error = RwSignal::new(None::<AppError>);
    let pipelines = LocalResource::new(move || {
        reload.track();
        list_pipelines()
    });
    let new_name = RwSignal::new(String::new());
    let add_pipeline = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = new_name.get_untracked();
        leptos::task::spawn_local(async move {
            match save_pipeline(None, name, false).await {
                Ok(_) => {
                    new_name.set(String::new());
                    error.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <h1>{move || t().nav_pipelines}</h1>
        <FormError error=error.into() />
        {move || match pipelines.get() {
            None => view! { <p class="loading">{t().loading}</p> }.into_any(),
            Some(Err(e)) => view! { <ErrorPage error=e /> }.into_any(),
            Some(Ok(list)) => list
                .into_iter()
                .map(|p| view! { <PipelineCard pipeline=p reload error /> })
                .collect_view()
                .into_any(),
        }}
        <form class="card inline" on:submit=add_pipeline>
            <input type="text" maxlength="60" aria-label=move || t().add_pipeline placeholder=move || t().add_pipeline
                prop:value=move || new_name.get() on:input=move |ev| new_name.set(event_target_value(&ev)) />
            <button type="submit" class="primary">{move || t().add}</button>
        </form>
        <CurrencyRates />
    }
}

#[component]
fn PipelineCard(pipeline: Pipeline, reload: RwSignal<u32>, error: RwSignal<Option<AppError>>) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let save = move |form: StageForm| {
        leptos::task::spawn_local(async move {
            match save_stage(form).await {
                Ok(_) => {
                    error.set(None);
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let (id, block, archived) = (pipeline.id, pipeline.block_skips, pipeline.archived);
    let name = StoredValue::new(pipeline.name.clone());
    let done = move |result: Result<Pipeline, AppError>| match result {
        Ok(_) => {
            error.set(None);
            reload.update(|n| *n += 1);
        }
        Err(e) => error.set(Some(e)),
    };
    let toggle_block = move |_| {
        let name = name.get_value();
        leptos::task::spawn_local(async move { done(save_pipeline(Some(id), name, !block).await) });
    };
    let rename = move |ev: leptos::ev::Event| {
        let new_name = event_target_value(&ev);
        leptos::task::spawn_local(async move { done(save_pipeline(Some(id), new_name, block).await) });
    };
    let toggle_archived = move |_| {
        leptos::task::spawn_local(async move { done(archive_pipeline(id, !archived).await) });
    };
    let count = pipeline.stages.len() as i32;
    let rows = pipeline
        .stages
        .iter()
        .map(|s| {
            let form = form_of(s);
            let (f1, f2, f3, f4, f5, f6) = (form.clone(), form.clone(), form.clone(), form.clone(), form.clone(), form.clone());
            let position = s.position;
            view! {
                <tr class:muted=s.archived>
                    <td><input type="text" maxlength="60" aria-label=move || t().name value=s.name.clone()
                        on:change=move |ev| save(StageForm { name: event_target_value(&ev), ..f1.clone() }) /></td>
                    <td>{move || t().stage_kind(form.kind)}</td>
                    <td><input type="number" min="0" max="100" aria-label=move || t().probability value=s.probability
                        on:change=move |ev| save(StageForm { probability: event_target_value(&ev).parse().unwrap_or(-1), ..f2.clone() }) /></td>
                    <td><input type="checkbox" aria-label=move || t().required_stage checked=s.required
                        on:change=move |ev| save(StageForm { required: event_target_checked(&ev), ..f3.clone() }) /></td>
                    <td><input type="number" min="0" max="365" aria-label=move || t().stale_days value=s.stale_days
                        on:change=move |ev| save(StageForm { stale_days: event_target_value(&ev).parse().unwrap_or(-1), ..f4.clone() }) /></td>
                    <td class="actions">
                        <button type="button" disabled=position == 0 aria-label=move || t().move_up
                            on:click=move |_| save(StageForm { position: position - 1, ..f5.clone() })>"↑"</button>
                        <button type="button" disabled=position + 1 >= count aria-label=move || t().move_down
                            on:click=move |_| save(StageForm { position: position + 1, ..f5.clone() })>"↓"</button>
                        <button type="button" on:click=move |_| save(StageForm { archived: !f6.archived, ..f6.clone() })>
                            {move || if f6.archived { t().restore } else { t().archive }}
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let new_stage = RwSignal::new(String::new());
    let add_stage = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // New stages go before won and lost, which stay last.
        save(StageForm {
            id: None,
            pipeline_id: id,
            name: new_stage.get_untracked(),
            kind: StageKind::Open,
            probability: 50,
            required: false,
            stale_days: 7,
            archived: false,
            position: (count - 2).max(0),
        });
        new_stage.set(String::new());
    };
    view! {
        <section class="card" class:muted=archived data-testid="pipeline-card">
            <div class="row pipeline-head">
                <h2><input type="text" maxlength="60" class="title-input" aria-label=move || t().pipeline_name
                    value=name.get_value() on:change=rename /></h2>
                {archived.then(|| view! { <span class="badge first">{move || t().archived}</span> })}
                <button type="button" on:click=toggle_archived>
                    {move || if archived { t().restore } else { t().archive }}
                </button>
            </div>
            <label class="check">
                <input type="checkbox" checked=block on:change=toggle_block />
                <span>{move || t().block_skips}</span>
            </label>
            <div class="table-wrap">
                <table>
                    <thead><tr>
                        <th>{move || t().stage}</th><th>{move || t().kind}</th><th>{move || t().probability}</th>
                        <th>{move || t().required_stage}</th><th>{move || t().stale_days}</th><th></th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <form class="inline" on:submit=add_stage>
                <input type="text" maxlength="60" aria-label=move || t().add_stage placeholder=move || t().add_stage
                    prop:value=move || new_stage.get() on:input=move |ev| new_stage.set(event_target_value(&ev)) />
                <button type="submit">{move || t().add}</button>
            </form>
        </section>
    }
}
