//! The kanban board: one pipeline's stages as columns of deal cards.
//!
//! A card moves by dragging (pointer events, so mouse, pen and touch all
//! work), by the arrow keys on a focused card, or by its "move to" list. The
//! move shows at once; the server's answer confirms it, or the card goes
//! back with a message. Other people's moves arrive over `/api/live`.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::currency;
use super::server::{board_options, create_deal, list_pipelines, list_violations, load_board, move_deal};
use super::{
    days_between, format_rubles, is_stale, parse_rubles, Board, BoardFilter, Card, DealId, MoveRequest, NewDealForm,
    Pipeline, PipelineId, Stage, StageId, StageKind,
};
use crate::access::{Action, Module, Scope};
use crate::error::AppError;
use crate::i18n::SOURCE_KEYS;
use crate::shell::{use_ui, ErrorPage, FormError};

/// A pointer pressed on a card, before and during a drag.
#[derive(Clone)]
struct Press {
    card: Card,
    start: (i32, i32),
    /// The pointer travelled far enough to be a drag rather than a click.
    dragging: bool,
}

/// The state every part of the board shares.
#[derive(Clone, Copy)]
struct BoardCtx {
    board: RwSignal<Option<Board>>,
    stages: Memo<Vec<Stage>>,
    /// Bumped to load the board again.
    reload: RwSignal<u32>,
    press: StoredValue<Option<Press>>,
    dragging: RwSignal<Option<DealId>>,
    ghost: RwSignal<(i32, i32)>,
    over: RwSignal<Option<StageId>>,
    notice: RwSignal<Option<Notice>>,
    asking_loss: RwSignal<Option<(Card, StageId)>>,
    /// The card whose quick "log a call" form is open.
    calling: RwSignal<Option<Card>>,
    /// The card that has keyboard focus: a reload draws the board anew, and
    /// the same card gets the focus back, so a live update never strands a
    /// keyboard user on the page's body.
    focused: StoredValue<Option<DealId>>,
    moves: MoveBook,
    can_move: Signal<bool>,
    /// Captured here: event handlers run outside the component tree's context.
    ui: crate::shell::UiState,
}

#[derive(Clone, Debug, PartialEq)]
enum Notice {
    Info(String),
    Error(String),
}

fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
    }
}

/// A key for one move: the same on its retry, different for any other move.
fn move_key(deal_id: DealId, version: i64, to: StageId) -> String {
    #[cfg(feature = "hydrate")]
    let salt = (js_sys::Math::random() * 1e12) as u64;
    #[cfg(not(feature = "hydrate"))]
    let salt = 0u64;
    format!("{deal_id}-{version}-{to}-{}-{salt}", now_ms())
}

impl BoardCtx {
    fn stage(&self, id: StageId) -> Option<Stage> {
        self.stages.with_untracked(|s| s.iter().find(|s| s.id == id).cloned())
    }

    /// Asks for a loss reason first where needed, then moves.
    fn request_move(&self, card: Card, to: StageId) {
        if card.stage_id == to || !self.can_move.get_untracked() {
            return;
        }
        match self.stage(to) {
            Some(stage) if stage.kind == StageKind::Lost => self.asking_loss.set(Some((card, to))),
            Some(_) => self.move_now(card, to, None),
            None => {}
        }
    }

    fn move_now(&self, card: Card, to: StageId, loss_reason: Option<String>) {
        let before = self.board.get_untracked();
        self.board.update(|b| {
            if let Some(b) = b {
                b.apply_move(card.id, to, now_ms());
            }
        });
        self.notice.set(None);
        self.moves.made.update_value(|n| *n += 1);
        let next = QueuedMove { to, loss_reason, before };
        if self.moves.in_flight.with_value(|m| m.contains_key(&card.id)) {
            // Only where the card ends up matters: a newer wish replaces an older waiting one.
            self.moves.in_flight.update_value(|m| {
                m.insert(card.id, Some(next));
            });
            return;
        }
        self.moves.in_flight.update_value(|m| {
            m.insert(card.id, None);
        });
        self.send_move(card.id, card.version, next, false);
    }

    /// Sends one move; when it is answered, sends the move that waited for it
    /// with the version the answer brought.
    fn send_move(&self, deal_id: DealId, version: i64, next: QueuedMove, waited: bool) {
        let ctx = *self;
        let ui = self.ui;
        let QueuedMove { to, loss_reason, before } = next;
        let request =
            MoveRequest { deal_id, to_stage_id: to, version, key: move_key(deal_id, version, to), loss_reason };
        leptos::task::spawn_local(async move {
            let mut answer = move_deal(request.clone()).await;
            if matches!(answer, Err(AppError::Network { .. })) {
                // Same key: if the first attempt did land, this returns its answer.
                answer = move_deal(request).await;
            }
            // The person may have left the board meanwhile: then there is nothing to draw or send.
            let Some(waiting) = ctx.moves.in_flight.try_update_value(|m| m.get_mut(&deal_id).and_then(Option::take))
            else {
                return;
            };
            let t = ui.texts();
            match answer {
                Ok(moved) => {
                    ctx.board.update(|b| {
                        if let Some(card) = b.as_mut().and_then(|b| {
                            b.columns.iter_mut().flat_map(|c| c.cards.iter_mut()).find(|c| c.id == moved.deal_id)
                        }) {
                            card.version = moved.version;
                        }
                    });
                    if !moved.skipped.is_empty() {
                        let names: Vec<String> =
                            moved.skipped.iter().filter_map(|s| ctx.stage(*s)).map(|s| s.name).collect();
                        ctx.notice.set(Some(Notice::Info(t.skipped_note.replace("{stages}", &names.join(", ")))));
                    }
                    match waiting {
                        Some(next) => ctx.send_move(deal_id, moved.version, next, true),
                        None => ctx.settle(deal_id),
                    }
                    return;
                }
                Err(AppError::Conflict) => {
                    ctx.notice.set(Some(Notice::Error(AppError::Conflict.message(t))));
                    ctx.reload.update(|n| *n += 1);
                }
                // A move that waited was drawn on top of another; the server's board is the truth.
                Err(e) if waited || waiting.is_some() => {
                    ctx.notice.set(Some(Notice::Error(e.message(t))));
                    ctx.reload.update(|n| *n += 1);
                }
                Err(e) => {
                    // Back at once; the read after it brings other cards' moves made meanwhile.
                    ctx.board.set(before);
                    ctx.notice.set(Some(Notice::Error(e.message(t))));
                    ctx.moves.stale_load.set_value(true);
                }
            }
            ctx.settle(deal_id);
        });
    }

    /// The deal's moves are all answered; a read set aside meanwhile is made again.
    fn settle(&self, deal_id: DealId) {
        self.moves.in_flight.update_value(|m| {
            m.remove(&deal_id);
        });
        if self.moves.in_flight.with_value(|m| m.is_empty()) && self.moves.stale_load.get_value() {
            self.moves.stale_load.set_value(false);
            self.reload.update(|n| *n += 1);
        }
    }
}

/// The person's own moves on this board, so that neither a second move of a
/// card nor a board read overtakes a move the server has not answered yet.
#[derive(Clone, Copy)]
struct MoveBook {
    /// Moves drawn so far; a board read started before the latest one is stale.
    made: StoredValue<u32>,
    /// Deals with a move on its way to the server, and the move waiting for its answer.
    in_flight: StoredValue<std::collections::HashMap<DealId, Option<QueuedMove>>>,
    /// A read arrived while moves were on their way and was set aside.
    stale_load: StoredValue<bool>,
}

/// A move waiting for the answer to the previous move of the same deal.
struct QueuedMove {
    to: StageId,
    loss_reason: Option<String>,
    /// The board before this move was drawn, to go back to if it fails.
    before: Option<Board>,
}

#[component]
pub fn BoardPage() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let pipelines = LocalResource::new(list_pipelines);
    let options = LocalResource::new(board_options);
    let pipeline = RwSignal::new(None::<PipelineId>);
    let manager = RwSignal::new(None::<i64>);
    let department = RwSignal::new(None::<i64>);
    let source = RwSignal::new(String::new());
    let period = RwSignal::new(None::<i64>);
    let search = RwSignal::new(String::new());
    let reload = RwSignal::new(0u32);
    let live = RwSignal::new(false);

    let all_pipelines = Memo::new(move |_| pipelines.get().and_then(Result::ok).unwrap_or_default());
    Effect::new(move |_| {
        if pipeline.get().is_none() {
            if let Some(first) = all_pipelines.get().iter().find(|p| !p.archived) {
                pipeline.set(Some(first.id));
            }
        }
    });
    let stages = Memo::new(move |_| {
        let id = pipeline.get();
        all_pipelines.get().into_iter().find(|p| Some(p.id) == id).map(|p| p.stages).unwrap_or_default()
    });
    let filter = Memo::new(move |_| {
        pipeline.get().map(|pipeline_id| BoardFilter {
            pipeline_id,
            manager_id: manager.get(),
            department_id: department.get(),
            source: Some(source.get()).filter(|s| !s.is_empty()),
            created_days: period.get(),
            search: Some(search.get()).filter(|s| !s.trim().is_empty()),
        })
    });
    let moves = MoveBook {
        made: StoredValue::new(0),
        in_flight: StoredValue::new(Default::default()),
        stale_load: StoredValue::new(false),
    };
    let loaded = LocalResource::new(move || {
        let f = filter.get();
        reload.track();
        // A read that starts while a move is unanswered may miss it, even if the answer comes first.
        let started = (moves.made.get_value(), moves.in_flight.with_value(|m| !m.is_empty()));
        async move {
            match f {
                Some(f) => Some((started, load_board(f).await)),
                None => None,
            }
        }
    });
    let board = RwSignal::new(None::<Board>);
    let load_error = RwSignal::new(None::<AppError>);
    Effect::new(move |_| match loaded.get() {
        // A board read before the person's latest move, or while a move is on its way,
        // would put cards back where they were: it is read again once the moves are answered.
        Some(Some(((made, busy), Ok(_))))
            if busy || made != moves.made.get_value() || moves.in_flight.with_value(|m| !m.is_empty()) =>
        {
            if moves.in_flight.with_value(|m| m.is_empty()) {
                reload.update(|n| *n += 1);
            } else {
                moves.stale_load.set_value(true);
            }
        }
        Some(Some((_, Ok(b)))) => {
            board.set(Some(b));
            load_error.set(None);
        }
        Some(Some((_, Err(e)))) => load_error.set(Some(e)),
        _ => {}
    });
    let ctx = BoardCtx {
        board,
        stages,
        reload,
        press: StoredValue::new(None),
        dragging: RwSignal::new(None),
        ghost: RwSignal::new((0, 0)),
        over: RwSignal::new(None),
        notice: RwSignal::new(None),
        asking_loss: RwSignal::new(None),
        calling: RwSignal::new(None),
        focused: StoredValue::new(None),
        moves,
        can_move: Signal::derive(move || ui.scope(Module::Deals, Action::Edit) != Scope::None),
        ui,
    };
    provide_context(ctx);
    listen_live(Some(pipeline), reload, live);

    let pipeline_choice = move || {
        let list = all_pipelines.get();
        (list.len() > 1).then(|| {
            let items = list
                .into_iter()
                .filter(|p| !p.archived)
                .map(|p| view! { <option value=p.id.to_string() selected=move || pipeline.get() == Some(p.id)>{p.name}</option> })
                .collect_view();
            view! {
                <label>
                    <span>{move || t().pipeline}</span>
                    <select data-testid="board-pipeline" on:change=move |ev| pipeline.set(event_target_value(&ev).parse().ok())>{items}</select>
                </label>
            }
        })
    };
    let person_options = move || {
        options
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .people
            .into_iter()
            .map(|(id, name)| {
                view! { <option value=id.to_string()>{name}</option> }
            })
            .collect_view()
    };
    let department_options = move || {
        options
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .departments
            .into_iter()
            .map(|(id, name)| {
                view! { <option value=id.to_string()>{name}</option> }
            })
            .collect_view()
    };
    let source_options = move || {
        SOURCE_KEYS.iter().map(|k| view! { <option value=*k>{t().source_name(k).to_string()}</option> }).collect_view()
    };
    let can_create = move || ui.scope(Module::Deals, Action::Create) != Scope::None;
    let sees_team = move || ui.scope(Module::Deals, Action::View) >= Scope::Department;
    let adding = RwSignal::new(false);

    view! {
        <div class="board-page">
            <div class="board-head">
                <h1>{move || t().nav_board}</h1>
                <span class="live" class:on=move || live.get() data-testid="live">
                    {move || if live.get() { t().live_on } else { t().live_off }}
                </span>
                {move || can_create().then(|| view! {
                    <button type="button" class="primary" on:click=move |_| adding.update(|a| *a = !*a)>
                        {move || t().new_deal}
                    </button>
                })}
            </div>
            {move || adding.get().then(|| view! { <NewDeal pipeline adding reload /> })}
            <div class="filters" role="search">
                {pipeline_choice}
                {move || sees_team().then(|| view! {
                    <label>
                        <span>{move || t().manager}</span>
                        <select on:change=move |ev| manager.set(event_target_value(&ev).parse().ok())>
                            <option value="">{move || t().all_managers}</option>
                            {person_options}
                        </select>
                    </label>
                    <label>
                        <span>{move || t().department}</span>
                        <select on:change=move |ev| department.set(event_target_value(&ev).parse().ok())>
                            <option value="">{move || t().all_departments}</option>
                            {department_options}
                        </select>
                    </label>
                })}
                <label>
                    <span>{move || t().source}</span>
                    <select on:change=move |ev| source.set(event_target_value(&ev))>
                        <option value="">{move || t().all_sources}</option>
                        {source_options}
                    </select>
                </label>
                <label>
                    <span>{move || t().period}</span>
                    <select on:change=move |ev| period.set(event_target_value(&ev).parse().ok())>
                        <option value="">{move || t().period_any}</option>
                        {[7, 30, 90, 365].map(|n| view! { <option value=n.to_string()>{move || t().period_days.replace("{n}", &n.to_string())}</option> }).collect_view()}
                    </select>
                </label>
                <label class="grow">
                    <span>{move || t().search}</span>
                    <input type="search" placeholder=move || t().search_hint maxlength="100"
                        on:input=move |ev| search.set(event_target_value(&ev)) />
                </label>
            </div>
            {move || ctx.notice.get().map(|n| match n {
                Notice::Info(text) => view! { <p class="notice" role="status">{text}</p> }.into_any(),
                Notice::Error(text) => view! { <p class="form-error" role="alert">{text}</p> }.into_any(),
            })}
            {move || load_error.get().map(|e| view! { <ErrorPage error=e /> })}
            {move || match board.get() {
                None if load_error.get().is_none() => view! { <p class="loading">{t().loading}</p> }.into_any(),
                None => ().into_any(),
                Some(b) => view! { <Columns board=b /> }.into_any(),
            }}
            // Erased to one type: the page's view type is otherwise too deep for the compiler.
            {view! { <Ghost /> <LossDialog /> <CallDialog /> }.into_any()}
            {move || sees_team().then(|| view! { <Violations stages=all_pipelines /> })}
        </div>
    }
}

/// How long a page waits after a bare `work` event before it reloads.
#[cfg(feature = "hydrate")]
const WORK_RELOAD_WAIT_MS: u64 = 300;

/// Subscribes to `/api/live` and bumps `reload` when a deal of `pipeline`
/// changes, or, without a pipeline, when anything the caller may see does;
/// `live` tells whether the stream is connected. Used by every live page.
pub(crate) fn listen_live(pipeline: Option<RwSignal<Option<PipelineId>>>, reload: RwSignal<u32>, live: RwSignal<bool>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        Effect::new(move |_| {
            let Ok(source) = web_sys::EventSource::new("/api/live") else { return };
            let on_deal = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                let event = e.data().as_string().and_then(|d| serde_json::from_str::<super::LiveEvent>(&d).ok());
                let wanted = match pipeline {
                    None => true,
                    Some(p) => event.is_some_and(|ev| Some(ev.pipeline_id) == p.get_untracked()),
                };
                if wanted {
                    reload.update(|n| *n += 1);
                }
            });
            let on_resync = Closure::<dyn FnMut()>::new(move || reload.update(|n| *n += 1));
            // Changes elsewhere in the organisation come in bursts (every move
            // of every colleague): the first waits a moment and those arriving
            // meanwhile share its reload, so a page refetches a few times a
            // second at most.
            let waiting = StoredValue::new(false);
            let on_work = Closure::<dyn FnMut()>::new(move || {
                if waiting.get_value() {
                    return;
                }
                waiting.set_value(true);
                set_timeout(
                    // The page may have gone meanwhile, and its signals with it.
                    move || {
                        waiting.try_set_value(false);
                        reload.try_update(|n| *n += 1);
                    },
                    std::time::Duration::from_millis(WORK_RELOAD_WAIT_MS),
                );
            });
            // The browser reconnects by itself; the flag tells people whether they see live data.
            let on_open = Closure::<dyn FnMut()>::new(move || {
                live.set(true);
                reload.update(|n| *n += 1);
            });
            let on_error = Closure::<dyn FnMut()>::new(move || live.set(false));
            let _ = source.add_event_listener_with_callback("deal", on_deal.as_ref().unchecked_ref());
            let _ = source.add_event_listener_with_callback("resync", on_resync.as_ref().unchecked_ref());
            if pipeline.is_none() {
                let _ = source.add_event_listener_with_callback("work", on_work.as_ref().unchecked_ref());
            }
            source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
            source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            let kept = StoredValue::new_local((source, on_deal, on_resync, on_work, on_open, on_error));
            on_cleanup(move || {
                kept.with_value(|(source, ..)| source.close());
                kept.dispose();
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (pipeline, reload, live);
}

#[component]
fn Columns(board: Board) -> impl IntoView {
    let ctx = expect_context::<BoardCtx>();
    let ui = use_ui();
    let now = board.now_ms;
    let columns = board
        .columns
        .into_iter()
        .map(|column| {
            let stage = column.stage.clone();
            let stage_id = stage.id;
            let more = column.count - column.cards.len() as i64;
            let cards = column
                .cards
                .into_iter()
                .map(|card| view! { <CardView card stage=stage.clone() now /> })
                .collect_view();
            let empty = column.count == 0;
            view! {
                <section
                    class="column"
                    class:won=stage.kind == StageKind::Won
                    class:lost=stage.kind == StageKind::Lost
                    class:drop-target=move || ctx.dragging.get().is_some() && ctx.over.get() == Some(stage_id)
                    data-stage=stage_id.to_string()
                    aria-label=stage.name.clone()
                >
                    <header>
                        <h2>{stage.name.clone()}</h2>
                        <span class="count" data-testid="count">{column.count}</span>
                        <span class="total">{format_rubles(column.total)}</span>
                    </header>
                    <div class="cards">
                        {cards}
                        {empty.then(|| view! { <p class="empty">{move || ui.texts().no_deals}</p> })}
                        {(more > 0).then(|| view! { <p class="more">{move || ui.texts().more_cards.replace("{n}", &more.to_string())}</p> })}
                    </div>
                </section>
            }
        })
        .collect_view();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::JsCast;
        let Some(id) = ctx.focused.get_value() else { return };
        let document = document();
        // Only when the focus went down with the old board, never away from where the person put it.
        if document.active_element().is_some_and(|el| el.tag_name() != "BODY") {
            return;
        }
        let card = document.query_selector(&format!("[data-deal=\"{id}\"]")).ok().flatten();
        if let Some(card) = card.and_then(|c| c.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = card.focus();
        }
    });
    let on_focus_in = move |ev: leptos::ev::FocusEvent| ctx.focused.set_value(card_of(ev.target()));
    let on_focus_out = move |ev: leptos::ev::FocusEvent| {
        // Focus that went to something else drops the claim. A card taken out
        // of the page by a reload loses focus to nothing, and keeps it.
        if let Some(next) = ev.related_target() {
            if card_of(Some(next)).is_none() {
                ctx.focused.set_value(None);
            }
        }
    };
    view! { <div class="board" data-testid="board" on:focusin=on_focus_in on:focusout=on_focus_out>{columns}</div> }
}

/// The deal of the card an event target sits in, if any.
fn card_of(target: Option<web_sys::EventTarget>) -> Option<DealId> {
    let element = wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(target?).ok()?;
    element.closest("[data-deal]").ok()??.get_attribute("data-deal")?.parse().ok()
}

/// Where the pointer is over the board: the stage of the column under it.
#[cfg(feature = "hydrate")]
fn stage_at(x: i32, y: i32) -> Option<StageId> {
    let el = document().element_from_point(x as f32, y as f32)?;
    let column = el.closest("[data-stage]").ok()??;
    column.get_attribute("data-stage")?.parse().ok()
}

/// Scrolls the board sideways while a card is held near its edge.
#[cfg(feature = "hydrate")]
fn auto_scroll(x: i32) {
    use wasm_bindgen::JsCast;
    let Some(board) = document().query_selector(".board").ok().flatten() else { return };
    let rect = board.get_bounding_client_rect();
    let edge = 48.0;
    let step = if (x as f64) < rect.left() + edge {
        -24
    } else if (x as f64) > rect.right() - edge {
        24
    } else {
        return;
    };
    if let Some(el) = board.dyn_ref::<web_sys::HtmlElement>() {
        el.scroll_by_with_x_and_y(step as f64, 0.0);
    }
}

#[component]
fn CardView(card: Card, stage: Stage, now: i64) -> impl IntoView {
    let ctx = expect_context::<BoardCtx>();
    let ui = use_ui();
    let t = move || ui.texts();
    let navigate = use_navigate();
    let id = card.id;
    let stale = is_stale(&stage, card.stage_entered_at, now);
    let days = days_between(card.stage_entered_at, now);
    let card_for_keys = card.clone();
    let card_for_select = card.clone();
    let card_for_press = card.clone();

    let on_down = move |ev: leptos::ev::PointerEvent| {
        if !ctx.can_move.get_untracked() || ev.button() != 0 {
            return;
        }
        // The "move to" list and links keep their own behaviour.
        let target = ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok());
        if target.is_some_and(|t| t.closest("select, a, button").ok().flatten().is_some()) {
            return;
        }
        if let Some(el) = ev.current_target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok()) {
            let _ = el.set_pointer_capture(ev.pointer_id());
        }
        ctx.press.set_value(Some(Press {
            card: card_for_press.clone(),
            start: (ev.client_x(), ev.client_y()),
            dragging: false,
        }));
    };
    let on_move = move |ev: leptos::ev::PointerEvent| {
        let Some(mut press) = ctx.press.get_value() else { return };
        let (x, y) = (ev.client_x(), ev.client_y());
        if !press.dragging {
            let (dx, dy) = (x - press.start.0, y - press.start.1);
            if dx * dx + dy * dy < 36 {
                return;
            }
            press.dragging = true;
            ctx.dragging.set(Some(press.card.id));
            ctx.press.set_value(Some(press));
        }
        ev.prevent_default();
        ctx.ghost.set((x, y));
        #[cfg(feature = "hydrate")]
        {
            let over = stage_at(x, y);
            if ctx.over.get_untracked() != over {
                ctx.over.set(over);
            }
            auto_scroll(x);
        }
    };
    let navigate_click = navigate.clone();
    let on_up = move |_ev: leptos::ev::PointerEvent| {
        let Some(press) = ctx.press.get_value() else { return };
        ctx.press.set_value(None);
        let over = ctx.over.get_untracked();
        ctx.dragging.set(None);
        ctx.over.set(None);
        if press.dragging {
            if let Some(to) = over {
                ctx.request_move(press.card, to);
            }
        } else {
            navigate_click(&format!("/deals/{}", press.card.id), Default::default());
        }
    };
    let on_cancel = move |_ev: leptos::ev::PointerEvent| {
        ctx.press.set_value(None);
        ctx.dragging.set(None);
        ctx.over.set(None);
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let stages: Vec<Stage> = ctx.stages.get_untracked().into_iter().filter(|s| !s.archived).collect();
        let here = stages.iter().position(|s| s.id == card_for_keys.stage_id);
        let target = match (ev.key().as_str(), here) {
            ("ArrowRight", Some(i)) => stages.get(i + 1),
            ("ArrowLeft", Some(i)) if i > 0 => stages.get(i - 1),
            ("Enter", _) => {
                navigate(&format!("/deals/{}", card_for_keys.id), Default::default());
                return;
            }
            _ => return,
        };
        if let Some(to) = target {
            ev.prevent_default();
            ctx.request_move(card_for_keys.clone(), to.id);
        }
    };
    let move_options = move || {
        ctx.stages
            .get()
            .into_iter()
            .filter(|s| !s.archived)
            .map(|s| view! { <option value=s.id.to_string() selected=s.id == stage.id>{s.name}</option> })
            .collect_view()
    };
    let can_move = ctx.can_move;

    view! {
        <article
            class="deal-card"
            class:stale=stale
            class:dragging=move || ctx.dragging.get() == Some(id)
            tabindex="0"
            data-deal=id.to_string()
            aria-label=card.title.clone()
            on:pointerdown=on_down
            on:pointermove=on_move
            on:pointerup=on_up
            on:pointercancel=on_cancel
            on:keydown=on_key
        >
            <div class="title">{card.title.clone()}</div>
            // A foreign price tells its value in roubles, which the column total counts.
            <div class="amount" title=card.rubles_if_foreign()>{card.price()}</div>
            {card.client.clone().map(|c| view! { <div class="client muted">{c}</div> })}
            <div class="meta">
                <span class="manager">{card.manager.clone()}</span>
                <span class="days" class:stale=stale>
                    {move || if stale { format!("{} · {}", t().stale, t().days_in_stage.replace("{n}", &days.to_string())) } else { t().days_in_stage.replace("{n}", &days.to_string()) }}
                </span>
            </div>
            {move || can_move.get().then(|| {
                let card = card_for_select.clone();
                let for_call = card.clone();
                view! {
                    <div class="card-actions">
                        <select class="move-to" aria-label=move || t().move_card
                            on:change=move |ev| {
                                if let Ok(to) = event_target_value(&ev).parse() {
                                    ctx.request_move(card.clone(), to);
                                }
                            }>
                            {move_options}
                        </select>
                        <button type="button" class="quick-call" title=move || t().log_call aria-label=move || t().log_call
                            on:click=move |_| ctx.calling.set(Some(for_call.clone()))>"☎"</button>
                    </div>
                }
            })}
        </article>
    }
}

/// The card under the finger or mouse while dragging.
#[component]
fn Ghost() -> impl IntoView {
    let ctx = expect_context::<BoardCtx>();
    move || {
        let id = ctx.dragging.get()?;
        let card = ctx.board.with(|b| b.as_ref().and_then(|b| b.card(id).cloned()))?;
        let price = card.price();
        Some(view! {
            <div class="drag-ghost" aria-hidden="true"
                style:left=move || format!("{}px", ctx.ghost.get().0 + 8)
                style:top=move || format!("{}px", ctx.ghost.get().1 + 8)>
                <div class="title">{card.title}</div>
                <div class="amount">{price}</div>
            </div>
        })
    }
}

/// The quick "log a call" form for one card, over the board.
#[component]
fn CallDialog() -> impl IntoView {
    let ctx = expect_context::<BoardCtx>();
    let ui = use_ui();
    let t = move || ui.texts();
    let close = move || ctx.calling.set(None);
    move || {
        ctx.calling.get().map(|card| {
            let title = card.title.clone();
            let logged = Callback::new(move |_| {
                close();
                ctx.notice.set(Some(Notice::Info(format!("{}: {title}", ui.texts().saved))));
            });
            view! {
                <div class="dialog-backdrop" on:keydown=move |ev| if ev.key() == "Escape" { close() }>
                    <div class="dialog card" role="dialog" aria-modal="true" aria-label=move || t().log_call data-testid="call-dialog">
                        <p class="muted">{card.title.clone()}</p>
                        <super::deal::LogActivity on=super::deal::LoggedOn::Deal(card.id) on_logged=logged />
                        <div class="actions">
                            <button type="button" on:click=move |_| close()>{move || t().close}</button>
                        </div>
                    </div>
                </div>
            }
        })
    }
}

/// Asks why a deal was lost before moving it into a lost stage.
#[component]
fn LossDialog() -> impl IntoView {
    let ctx = expect_context::<BoardCtx>();
    let ui = use_ui();
    let t = move || ui.texts();
    let reason = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    let confirm = move || {
        let Some((card, to)) = ctx.asking_loss.get_untracked() else { return };
        match super::clean_text("loss_reason", &reason.get_untracked(), super::MAX_REASON) {
            Ok(text) => {
                ctx.asking_loss.set(None);
                reason.set(String::new());
                error.set(None);
                ctx.move_now(card, to, Some(text));
            }
            Err(e) => error.set(Some(e)),
        }
    };
    move || {
        ctx.asking_loss.get().map(|_| {
            view! {
                <div class="dialog-backdrop">
                    <form class="dialog card" role="dialog" aria-modal="true" aria-labelledby="loss-title"
                        on:submit=move |ev| { ev.prevent_default(); confirm(); }>
                        <h2 id="loss-title">{t().loss_title}</h2>
                        <label>
                            <span>{t().loss_reason}</span>
                            <input type="text" maxlength="300" autofocus prop:value=move || reason.get()
                                on:input=move |ev| reason.set(event_target_value(&ev)) />
                        </label>
                        <FormError error=error.into() />
                        <div class="actions">
                            <button type="submit" class="primary">{t().confirm}</button>
                            <button type="button" on:click=move |_| { ctx.asking_loss.set(None); error.set(None); }>{t().cancel}</button>
                        </div>
                    </form>
                </div>
            }
        })
    }
}

#[component]
fn NewDeal(pipeline: RwSignal<Option<PipelineId>>, adding: RwSignal<bool>, reload: RwSignal<u32>) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let (title, amount, client, source) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new("website".to_string()),
    );
    let currency = RwSignal::new(currency::default_currency());
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(pipeline_id) = pipeline.get_untracked() else { return };
        let amount = match parse_rubles(&amount.get_untracked()) {
            Ok(a) => a,
            Err(e) => return error.set(Some(e)),
        };
        let form = NewDealForm {
            pipeline_id,
            title: title.get_untracked(),
            amount,
            currency: currency.get_untracked(),
            client_name: client.get_untracked(),
            source: source.get_untracked(),
            responsible_id: None,
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match create_deal(form).await {
                Ok(_) => {
                    adding.set(false);
                    reload.update(|n| *n += 1);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card new-deal" on:submit=submit>
            <h2>{move || t().new_deal}</h2>
            <label><span>{move || t().title}</span>
                <input type="text" required maxlength="200" on:input=move |ev| title.set(event_target_value(&ev)) /></label>
            <div class="amount-in">
                <label><span>{move || currency::amount_label(t().lang, &currency.get())}</span>
                    <input type="text" inputmode="decimal" required placeholder="150 000" on:input=move |ev| amount.set(event_target_value(&ev)) /></label>
                <currency::CurrencyPicker currency />
            </div>
            <label><span>{move || t().client}</span>
                <input type="text" maxlength="200" on:input=move |ev| client.set(event_target_value(&ev)) /></label>
            <label><span>{move || t().source}</span>
                <select on:change=move |ev| source.set(event_target_value(&ev))>
                    {SOURCE_KEYS.iter().map(|k| view! { <option value=*k>{move || t().source_name(k).to_string()}</option> }).collect_view()}
                </select></label>
            <FormError error=error.into() />
            <div class="actions">
                <button type="submit" class="primary" disabled=move || busy.get()>
                    {move || if busy.get() { t().saving } else { t().create }}
                </button>
                <button type="button" on:click=move |_| adding.set(false)>{move || t().cancel}</button>
            </div>
        </form>
    }
}

/// Moves that jumped over required stages, for heads to follow up.
#[component]
fn Violations(stages: Memo<Vec<Pipeline>>) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let list = LocalResource::new(list_violations);
    let stage_name = move |id: StageId| {
        stages
            .with(|p| p.iter().flat_map(|p| p.stages.iter()).find(|s| s.id == id).map(|s| s.name.clone()))
            .unwrap_or_default()
    };
    view! {
        <details class="card violations">
            <summary>{move || t().violations}</summary>
            {move || list.get().map(|r| match r {
                Ok(v) if v.is_empty() => view! { <p class="empty">{t().no_violations}</p> }.into_any(),
                Ok(v) => view! {
                    <ul>
                        {v.into_iter().map(|v| view! {
                            <li>
                                <a href=format!("/deals/{}", v.deal_id)>{v.deal_title}</a>
                                {format!(" — {}: «{}» → «{}» ({})", v.actor, stage_name(v.from_stage_id), stage_name(v.to_stage_id),
                                    if v.blocked { t().blocked } else { t().allowed })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
                Err(e) => view! { <ErrorPage error=e /> }.into_any(),
            })}
        </details>
    }
}
