//! The frame around every page: routes, the signed-in state, language and
//! theme, the desktop sidebar and the phone bottom bar, and error pages.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Outlet, ParentRoute, Redirect, Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

use crate::access::{Action, Module, Scope};
use crate::auth::server::{logout, me, set_preferences};
use crate::auth::ui::LoginPage;
use crate::auth::SessionUser;
use crate::error::AppError;
use crate::i18n::{Locale, Texts, Theme};

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="ru">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Who is signed in and how they want the interface, shared by every page.
#[derive(Clone, Copy)]
pub struct UiState {
    pub me: Resource<Result<Option<SessionUser>, AppError>>,
    /// The language picked before signing in (on the login page).
    pub guest_locale: RwSignal<Locale>,
}

impl UiState {
    pub fn user(&self) -> Option<SessionUser> {
        self.me.get().and_then(Result::ok).flatten()
    }

    pub fn locale(&self) -> Locale {
        self.user().map_or_else(|| self.guest_locale.get(), |u| u.user.locale)
    }

    pub fn texts(&self) -> &'static Texts {
        self.locale().texts()
    }

    pub fn theme(&self) -> Theme {
        self.user().map_or_else(Theme::default, |u| u.user.theme)
    }

    pub fn scope(&self, module: Module, action: Action) -> Scope {
        self.user().map_or(Scope::None, |u| u.scope(module, action))
    }

    /// Saves language and theme, then reloads the session so every page follows.
    pub fn save_preferences(&self, locale: Locale, theme: Theme) {
        let me = self.me;
        leptos::task::spawn_local(async move {
            let l: &'static str = locale.into();
            let t: &'static str = theme.into();
            if set_preferences(l.to_string(), t.to_string()).await.is_ok() {
                me.refetch();
            }
        });
    }
}

pub fn use_ui() -> UiState {
    expect_context::<UiState>()
}

fn theme_name(theme: Theme) -> &'static str {
    theme.into()
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let ui = UiState { me: Resource::new(|| (), |_| me()), guest_locale: RwSignal::new(Locale::Ru) };
    provide_context(ui);
    provide_context(crate::funnel::period::ReportPeriod(RwSignal::new(Default::default())));
    provide_context(crate::goals::page::NoticesSeen(RwSignal::new(0)));

    view! {
        <Stylesheet id="leptos" href="/pkg/voronka.css" />
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=Frame ssr=SsrMode::Async>
                    <Route path=path!("") view=crate::org::ui::HomePage />
                    <Route path=path!("board") view=crate::pipeline::board::BoardPage />
                    <Route path=path!("deals") view=crate::pipeline::deals::DealsPage />
                    <Route path=path!("deals/:id") view=crate::pipeline::deal::DealPage />
                    <Route path=path!("clients") view=crate::pipeline::clients::ClientsPage />
                    <Route path=path!("activities") view=crate::pipeline::activities::ActivitiesPage />
                    <Route path=path!("leads") view=crate::pipeline::leads::LeadsPage />
                    <Route path=path!("funnel") view=crate::funnel::page::FunnelPage />
                    <Route path=path!("kpi") view=crate::kpi::page::KpiPage />
                    <Route path=path!("goals") view=crate::goals::page::GoalsPage />
                    <Route path=path!("goals/:id") view=crate::goals::page::GoalPage />
                    <Route path=path!("pipelines") view=crate::pipeline::settings::PipelinesPage />
                    <Route path=path!("team") view=crate::org::ui::TeamPage />
                    <Route path=path!("rights") view=crate::access::ui::RightsPage />
                    <Route path=path!("profile") view=ProfilePage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Renders `children` once the session is known, in the user's language and
/// theme; everything that reads [`UiState`] sits inside one of these.
#[component]
pub fn SessionGate(children: ChildrenFn) -> impl IntoView {
    let ui = use_ui();
    let children = StoredValue::new(children);
    view! {
        // A transition, not a suspense: saving a preference reloads the session
        // and the page should stay as it is meanwhile, not blink.
        <Transition fallback=|| view! { <p class="loading">"…"</p> }>
            {move || Suspend::new(async move {
                let _ = ui.me.await;
                view! {
                    <Title text=move || ui.texts().app_name />
                    <div class="app" data-theme=move || theme_name(ui.theme())>
                        {children.read_value()()}
                    </div>
                }
            })}
        </Transition>
    }
}

/// Sidebar, top bar and bottom bar around a signed-in page; guests go to /login.
#[component]
fn Frame() -> impl IntoView {
    let ui = use_ui();
    view! {
        <SessionGate>
            {move || match ui.me.get() {
                Some(Ok(Some(_))) => view! { <Layout /> }.into_any(),
                Some(Ok(None) | Err(AppError::Unauthenticated)) | None => {
                    view! { <Redirect path="/login" /> }.into_any()
                }
                Some(Err(e)) => view! { <ErrorPage error=e /> }.into_any(),
            }}
        </SessionGate>
    }
}

#[component]
fn Layout() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    // With "own" scope the team page would show only oneself, so it is not offered.
    let can_team = move || ui.scope(Module::Settings, Action::View) >= Scope::Department;
    let can_rights = move || ui.scope(Module::Settings, Action::View) == Scope::All;
    let links = move || {
        let t = t();
        let mut v = vec![("/", t.nav_home, "⌂")];
        if ui.scope(Module::Deals, Action::View) != Scope::None {
            v.push(("/board", t.nav_board, "▦"));
        }
        // Third, so a manager's own goals are one tap away in the phone's bottom bar.
        if ui.scope(Module::Goals, Action::View) != Scope::None {
            v.push(("/goals", t.nav_goals, "◎"));
        }
        if ui.scope(Module::Deals, Action::View) != Scope::None {
            v.push(("/deals", t.nav_deals, "≡"));
        }
        if ui.scope(Module::Leads, Action::View) != Scope::None {
            v.push(("/leads", t.nav_leads, "☎"));
        }
        if ui.scope(Module::Deals, Action::View) != Scope::None {
            v.push(("/clients", t.nav_clients, "◉"));
            v.push(("/activities", t.nav_activities, "✓"));
        }
        if ui.scope(Module::Analytics, Action::View) != Scope::None {
            v.push(("/funnel", t.nav_funnel, "⏷"));
            v.push(("/kpi", t.nav_kpi, "◔"));
        }
        if ui.scope(Module::Deals, Action::Edit) >= Scope::Department {
            v.push(("/pipelines", t.nav_pipelines, "⇶"));
        }
        if can_team() {
            v.push(("/team", t.nav_team, "☺"));
        }
        if can_rights() {
            v.push(("/rights", t.nav_access, "⚿"));
        }
        v.push(("/profile", t.nav_profile, "⚙"));
        v
    };
    // Pages load their data in the browser (local resources), so the server
    // renders the frame around them and leaves the page to the browser. Were
    // the page rendered on the server, its local reads would leave the
    // session's suspense unresolved with a watcher that outlives the request
    // and reads what the request already dropped. Effects run only in the
    // browser, after hydration, so both sides agree on the placeholder first.
    let in_browser = RwSignal::new(false);
    Effect::new(move |_| in_browser.set(true));
    // Unread goal notifications, counted again on every page change and
    // whenever the goals page reads or marks them; read in the browser only,
    // for the reason above.
    let seen = expect_context::<crate::goals::page::NoticesSeen>().0;
    let location = leptos_router::hooks::use_location();
    let unread = LocalResource::new(move || {
        location.pathname.track();
        seen.track();
        let sees_goals = ui.scope(Module::Goals, Action::View) != Scope::None;
        async move {
            match sees_goals {
                true => crate::goals::server::unread_notices().await.unwrap_or(0),
                false => 0,
            }
        }
    });
    let badge = move || {
        in_browser.get().then(|| unread.get()).flatten().filter(|n| *n > 0).map(|n| {
            view! {
                <span class="badge" data-testid="nav-unread">
                    {n}<span class="sr-only">{move || format!(" {}", t().unread_notices)}</span>
                </span>
            }
        })
    };
    let nav = move || {
        links()
            .into_iter()
            .map(|(href, label, icon)| {
                view! {
                    <A href=href exact=true>
                        <span class="icon" aria-hidden="true">{icon}</span>
                        <span class="label">{label}</span>
                        {(href == "/goals").then_some(badge)}
                    </A>
                }
            })
            .collect_view()
    };
    let name = move || ui.user().map(|u| u.user.name).unwrap_or_default();
    let page = move || match in_browser.get() {
        true => view! { <Outlet /> }.into_any(),
        false => view! { <p class="loading">{t().loading}</p> }.into_any(),
    };

    view! {
        <header class="topbar">
            <a class="brand" href="/">{move || t().app_name}</a>
            <LanguageSwitch />
            <span class="who" data-testid="who">{name}</span>
            <LogoutButton />
        </header>
        <nav class="sidebar" aria-label="main">{nav}</nav>
        <main class="content">{page}</main>
        <nav class="bottombar" aria-label="main-phone">{nav}</nav>
    }
}

/// A row of buttons of which exactly one is pressed, such as RU | EN.
#[component]
pub fn Choice<T: Copy + PartialEq + Send + Sync + 'static>(
    label: &'static str,
    options: Vec<(T, Signal<&'static str>)>,
    current: Signal<T>,
    pick: Callback<T>,
) -> impl IntoView {
    let buttons = options
        .into_iter()
        .map(|(value, text)| {
            view! {
                <button
                    type="button"
                    aria-pressed=move || (current.get() == value).to_string()
                    on:click=move |_| pick.run(value)
                >
                    {text}
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="choice" role="group" aria-label=label>
            {buttons}
        </div>
    }
}

/// RU | EN; saves the choice for a signed-in user.
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let ui = use_ui();
    let pick = Callback::new(move |locale: Locale| {
        if let Some(u) = ui.user() {
            ui.save_preferences(locale, u.user.theme);
        } else {
            ui.guest_locale.set(locale);
        }
    });
    let options = vec![(Locale::Ru, Signal::stored("RU")), (Locale::En, Signal::stored("EN"))];
    view! { <Choice label="Language / Язык" options current=Signal::derive(move || ui.locale()) pick /> }
}

#[component]
fn LogoutButton() -> impl IntoView {
    let ui = use_ui();
    let navigate = leptos_router::hooks::use_navigate();
    let out = leptos::prelude::Action::new(move |_: &()| async move { logout().await });
    Effect::new(move |_| {
        if let Some(Ok(())) = out.value().get() {
            ui.me.refetch();
            navigate("/login", Default::default());
        }
    });
    view! {
        <button type="button" class="logout" on:click=move |_| { out.dispatch(()); }>
            {move || ui.texts().logout}
        </button>
    }
}

#[component]
fn ProfilePage() -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let pick_theme = Callback::new(move |theme: Theme| ui.save_preferences(ui.locale(), theme));
    let themes = vec![
        (Theme::Light, Signal::derive(move || t().theme_light)),
        (Theme::Dark, Signal::derive(move || t().theme_dark)),
    ];
    view! {
        <h1>{move || t().profile_title}</h1>
        <section class="card">
            <h2>{move || t().language}</h2>
            <LanguageSwitch />
        </section>
        <section class="card">
            <h2>{move || t().theme}</h2>
            <Choice label="Theme / Тема" options=themes current=Signal::derive(move || ui.theme()) pick=pick_theme />
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    let ui = use_ui();
    let t = move || ui.texts();
    view! {
        <SessionGate>
            <main class="error-page">
                <h1>{move || t().not_found_title}</h1>
                <p>{move || t().not_found_text}</p>
                <a href="/">{move || t().back_home}</a>
            </main>
        </SessionGate>
    }
}

#[component]
pub fn ErrorPage(error: AppError) -> impl IntoView {
    let ui = use_ui();
    let t = move || ui.texts();
    let message = move || error.message(t());
    view! {
        <main class="error-page" role="alert">
            <h1>{move || t().error_title}</h1>
            <p>{message}</p>
            <a href="/">{move || t().back_home}</a>
        </main>
    }
}

/// A translated error under a form, or nothing.
#[component]
pub fn FormError(error: Signal<Option<AppError>>) -> impl IntoView {
    let ui = use_ui();
    move || {
        error.get().map(|e| {
            view! {
                <p class="form-error" role="alert">
                    {e.message(ui.texts())}
                </p>
            }
        })
    }
}
