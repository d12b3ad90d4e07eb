//! Live updates: every committed change to a deal, lead, client or activity
//! is published to the hub, and each signed-in browser listens on
//! `/api/live` (server-sent events): `deal` events carry the deal and its
//! pipeline, `work` events (the rest, which only KPIs and goals show) carry nothing.
//!
//! Events carry only ids; the browser refetches through the usual, rights-
//! checked server functions. A browser only hears which deal changed if it
//! may see that deal; of any other change it hears a bare `work` event.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use tokio::sync::broadcast;
use tower_sessions::Session;

use super::{DealId, LiveEvent, PipelineId};
use crate::access::guard::{AppState, SESSION_USER_KEY};
use crate::access::{Action, Actor, Grant, Module, Owner};
use crate::org::OrgId;

/// The data of `work` and `resync` events, which carry nothing: a browser
/// drops an event whose data is empty (the EventSource processing rules),
/// so they must carry something.
const NO_DETAILS: &str = "-";

/// What changed, owned by someone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub org: OrgId,
    pub owner: Owner,
    pub subject: Subject,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    Deal {
        pipeline_id: PipelineId,
        deal_id: DealId,
    },
    /// A lead, a client or an activity off a deal: boards stay, KPIs move.
    Work,
    /// Goals were set, changed, closed or noticed: goal pages refetch what
    /// their rights show, so every listener of the organisation hears it.
    Goals,
    /// An organisation-wide setting changed (the activity norms): every
    /// listener of the organisation refetches.
    Settings,
}

/// The fan-out point between mutations and open browsers of this server.
#[derive(Clone)]
pub struct Hub {
    sender: broadcast::Sender<Change>,
}

impl Default for Hub {
    fn default() -> Self {
        // Enough for bursts; a browser further behind gets a "resync".
        Hub { sender: broadcast::channel(1024).0 }
    }
}

impl Hub {
    /// Call after the change is committed, never before.
    pub fn publish(&self, change: Change) {
        // No listeners is fine.
        let _ = self.sender.send(change);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }
}

/// `GET /api/live`: the signed-in user's stream of deal changes.
pub async fn stream(State(state): State<AppState>, session: Session) -> Response {
    let user_id: Option<i64> = session.get(SESSION_USER_KEY).await.ok().flatten();
    let user = match user_id {
        Some(id) => state.storage.user(id).await.ok().flatten().filter(|u| u.active),
        None => None,
    };
    let Some(user) = user else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let scope = match state.storage.permissions(user.org_id).await {
        Ok(m) => m.scope(user.role, Module::Deals, Action::View),
        Err(e) => {
            tracing::error!(error = %e, "live stream: rights unavailable");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let grant = Grant { actor: Actor { user: user.id, department: user.department_id, role: user.role }, scope };
    let org = user.org_id;
    let receiver = state.hub.subscribe();
    Sse::new(events(receiver, org, grant))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

fn events(
    receiver: broadcast::Receiver<Change>,
    org: OrgId,
    grant: Grant,
) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold(receiver, move |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(change) if change.org == org => {
                    let event = match change.subject {
                        Subject::Deal { pipeline_id, deal_id } if grant.permits(change.owner) => Event::default()
                            .event("deal")
                            .json_data(LiveEvent { pipeline_id, deal_id })
                            .unwrap_or_default(),
                        // Someone else's record still moves the goals and
                        // KPIs that count everyone's (a department's or the
                        // company's goal): those pages hear that something
                        // changed, without what.
                        Subject::Deal { .. } | Subject::Work | Subject::Goals | Subject::Settings => {
                            Event::default().event("work").data(NO_DETAILS)
                        }
                    };
                    return Some((Ok(event), receiver));
                }
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    return Some((Ok(Event::default().event("resync").data(NO_DETAILS)), receiver));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}
