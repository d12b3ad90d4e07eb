//! A seeded generator of a realistic sales department: three departments,
//! 25 managers, two pipelines and a year of leads, deals with their stage
//! history, calls and meetings. The same seed and clock give the same data.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::access::Role;
use crate::pipeline::{ActivityKind, ClientKind, LeadStatus, Money, StageKind};

pub const DEMO_PASSWORD: &str = "demo-pass-2026";
pub const DEMO_ADMIN: &str = "admin@voronka.demo";
pub const DEMO_HEAD: &str = "head1@voronka.demo";
pub const DEMO_MANAGER: &str = "manager1@voronka.demo";
pub const DEMO_VIEWER: &str = "viewer@voronka.demo";

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// Moscow is UTC+3 all year; the working day is placed in it.
const MSK_OFFSET: i64 = 3 * HOUR;

pub struct DemoOrg {
    pub id: i64,
    pub name: String,
    pub time_zone: String,
}

pub struct DemoDepartment {
    pub id: i64,
    pub name: String,
    pub head_id: i64,
}

pub struct DemoUser {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub department_id: Option<i64>,
}

pub struct DemoPipeline {
    pub id: i64,
    pub name: String,
    pub position: i32,
}

pub struct DemoStage {
    pub id: i64,
    pub pipeline_id: i64,
    pub name: String,
    pub position: i32,
    pub kind: StageKind,
    /// Win probability in percent.
    pub probability: i32,
    pub required: bool,
    /// A card waiting longer than this in the stage is marked stale.
    pub stale_days: i32,
}

pub struct DemoClient {
    pub id: i64,
    pub name: String,
    pub kind: ClientKind,
    pub phone: String,
    pub email: String,
    pub responsible_id: i64,
    pub created_at: i64,
}

pub struct DemoLead {
    pub id: i64,
    pub title: String,
    pub source: &'static str,
    pub contact_name: String,
    pub phone: String,
    pub status: LeadStatus,
    pub disqualify_reason: Option<&'static str>,
    pub responsible_id: i64,
    pub created_at: i64,
    pub first_response_at: Option<i64>,
    pub client_id: Option<i64>,
}

pub struct DemoDeal {
    pub id: i64,
    pub pipeline_id: i64,
    pub stage_id: i64,
    pub title: String,
    pub amount: Money,
    pub client_id: i64,
    pub lead_id: Option<i64>,
    pub source: &'static str,
    pub responsible_id: i64,
    pub created_at: i64,
    pub stage_entered_at: i64,
    pub closed_at: Option<i64>,
    pub loss_reason: Option<&'static str>,
    /// Bumped on every change; equals the number of events after creation.
    pub version: i64,
    /// What the client answered after the deal closed, if asked.
    pub csat: Option<i64>,
    pub nps: Option<i64>,
}

/// A closed deal's client answers to two in five: won deals mostly pleased,
/// lost ones less so. A generator of its own, so the rest of the data set
/// stays what it was before ratings existed.
pub fn rating(deal_id: i64, won: bool) -> (Option<i64>, Option<i64>) {
    let mut rng = StdRng::seed_from_u64(deal_id as u64 ^ 0x5eed_ca75);
    if rng.gen_range(0..5) >= 2 {
        return (None, None);
    }
    if won {
        (Some(rng.gen_range(3..=5)), Some(rng.gen_range(6..=10)))
    } else {
        (Some(rng.gen_range(1..=4)), Some(rng.gen_range(0..=8)))
    }
}

/// One stage change; the first event of a deal has no `from_stage_id`.
pub struct DemoDealEvent {
    pub id: i64,
    pub deal_id: i64,
    pub actor_id: i64,
    pub at: i64,
    pub from_stage_id: Option<i64>,
    pub to_stage_id: i64,
    pub amount: Money,
    pub skipped_required: bool,
}

pub struct DemoActivity {
    pub id: i64,
    pub kind: ActivityKind,
    pub user_id: i64,
    pub deal_id: Option<i64>,
    pub lead_id: Option<i64>,
    pub client_id: Option<i64>,
    pub at: i64,
    pub duration_s: Option<i32>,
    pub note: String,
}

/// Everything the generator makes, ready to be written in one go.
pub struct DemoData {
    pub org: DemoOrg,
    pub departments: Vec<DemoDepartment>,
    pub users: Vec<DemoUser>,
    pub password_hash: String,
    pub pipelines: Vec<DemoPipeline>,
    pub stages: Vec<DemoStage>,
    pub clients: Vec<DemoClient>,
    pub leads: Vec<DemoLead>,
    pub deals: Vec<DemoDeal>,
    pub events: Vec<DemoDealEvent>,
    pub activities: Vec<DemoActivity>,
    /// Roubles for one unit of a foreign currency, in millionths, so deals may be priced in it.
    pub rates: Vec<(&'static str, i64)>,
}

const FIRST_NAMES: [&str; 16] = [
    "Анна",
    "Иван",
    "Мария",
    "Дмитрий",
    "Елена",
    "Сергей",
    "Ольга",
    "Алексей",
    "Татьяна",
    "Павел",
    "Наталья",
    "Андрей",
    "Юлия",
    "Максим",
    "Ксения",
    "Никита",
];
const LAST_NAMES: [&str; 16] = [
    "Смирнов",
    "Иванов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
];
const COMPANY_WORDS: [&str; 12] = [
    "Альфа",
    "Вектор",
    "Гранит",
    "Север",
    "Меридиан",
    "Прогресс",
    "Технолайн",
    "Ресурс",
    "Стройком",
    "Логистик",
    "Интегра",
    "Орбита",
];
const SOURCES: [(&str, u32); 6] =
    [("website", 30), ("phone", 20), ("referral", 15), ("ads", 20), ("exhibition", 5), ("social", 10)];
const DISQUALIFY_REASONS: [&str; 4] = ["Нет бюджета", "Не целевой запрос", "Не дозвонились", "Дубль"];
const LOSS_REASONS: [&str; 4] = ["Дорого", "Выбрали конкурента", "Пропала потребность", "Не устроили сроки"];
const DEPARTMENTS: [(&str, i64); 3] = [("Продажи Москва", 1), ("Продажи регионы", 1), ("Корпоративные продажи", 4)];

/// Female surnames take an "а" in Russian; the first eight first names are female or male alternately.
fn person_name(rng: &mut StdRng) -> String {
    let i = rng.gen_range(0..FIRST_NAMES.len());
    let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
    let female = matches!(i, 0 | 2 | 4 | 6 | 8 | 10 | 12 | 14);
    format!("{} {}{}", FIRST_NAMES[i], last, if female { "а" } else { "" })
}

fn pick_source(rng: &mut StdRng) -> &'static str {
    let total: u32 = SOURCES.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen_range(0..total);
    for (s, w) in SOURCES {
        if x < w {
            return s;
        }
        x -= w;
    }
    SOURCES[0].0
}

fn phone(rng: &mut StdRng) -> String {
    format!(
        "+7 9{:02} {:03}-{:02}-{:02}",
        rng.gen_range(0..100),
        rng.gen_range(0..1000),
        rng.gen_range(0..100),
        rng.gen_range(0..100)
    )
}

/// Monday is 0. 1970-01-01 was a Thursday.
fn weekday(day_index: i64) -> i64 {
    (day_index + 3).rem_euclid(7)
}

/// A moment in Moscow working hours (9:00–18:00) on the given UTC day.
fn working_time(rng: &mut StdRng, day_index: i64) -> i64 {
    day_index * DAY + 9 * HOUR - MSK_OFFSET + rng.gen_range(0..9 * HOUR)
}

/// Name, kind, win probability %, required, days before a card is stale.
type StageSpec = (&'static str, StageKind, i32, bool, i32);

struct Ids {
    next: [i64; 5],
}

impl Ids {
    fn take(&mut self, which: usize) -> i64 {
        self.next[which] += 1;
        self.next[which]
    }
}
const CLIENT: usize = 0;
const LEAD: usize = 1;
const DEAL: usize = 2;
const EVENT: usize = 3;
const ACTIVITY: usize = 4;

/// Makes the demo organisation as of `now_ms`, with a year of history.
pub fn generate(seed: u64, now_ms: i64, password_hash: String) -> DemoData {
    let mut rng = StdRng::seed_from_u64(seed);
    let org = DemoOrg { id: 1, name: "ООО «Вектор Продаж»".into(), time_zone: "Europe/Moscow".into() };

    let mut users = vec![DemoUser {
        id: 1,
        email: DEMO_ADMIN.into(),
        name: "Администратор".into(),
        role: Role::Admin,
        department_id: None,
    }];
    let mut departments = Vec::new();
    // (user id, department index) of every manager, 8 + 8 + 9 = 25.
    let mut managers: Vec<(i64, usize)> = Vec::new();
    for (d, (name, _)) in DEPARTMENTS.iter().enumerate() {
        let dept_id = d as i64 + 1;
        let head_id = users.len() as i64 + 1;
        users.push(DemoUser {
            id: head_id,
            email: format!("head{}@voronka.demo", d + 1),
            name: person_name(&mut rng),
            role: Role::Head,
            department_id: Some(dept_id),
        });
        departments.push(DemoDepartment { id: dept_id, name: (*name).into(), head_id });
        for _ in 0..(if d == 2 { 9 } else { 8 }) {
            let id = users.len() as i64 + 1;
            managers.push((id, d));
            users.push(DemoUser {
                id,
                email: format!("manager{}@voronka.demo", managers.len()),
                name: person_name(&mut rng),
                role: Role::Manager,
                department_id: Some(dept_id),
            });
        }
    }
    users.push(DemoUser {
        id: users.len() as i64 + 1,
        email: DEMO_VIEWER.into(),
        name: person_name(&mut rng),
        role: Role::Viewer,
        department_id: Some(1),
    });

    let pipelines = vec![
        DemoPipeline { id: 1, name: "Новые продажи".into(), position: 0 },
        DemoPipeline { id: 2, name: "Повторные продажи".into(), position: 1 },
    ];
    let stage_specs: [(i64, &[StageSpec]); 2] = [
        (
            1,
            &[
                ("Новая", StageKind::Open, 10, false, 3),
                ("Квалификация", StageKind::Open, 20, true, 5),
                ("Встреча", StageKind::Open, 40, false, 7),
                ("КП отправлено", StageKind::Open, 60, true, 7),
                ("Переговоры", StageKind::Open, 80, false, 10),
                ("Успешно", StageKind::Won, 100, false, 0),
                ("Провалена", StageKind::Lost, 0, false, 0),
            ],
        ),
        (
            2,
            &[
                ("Новая", StageKind::Open, 30, false, 3),
                ("Предложение", StageKind::Open, 60, true, 5),
                ("Согласование", StageKind::Open, 85, false, 7),
                ("Успешно", StageKind::Won, 100, false, 0),
                ("Провалена", StageKind::Lost, 0, false, 0),
            ],
        ),
    ];
    let mut stages = Vec::new();
    for (pipeline_id, specs) in stage_specs {
        for (position, (name, kind, probability, required, stale_days)) in specs.iter().enumerate() {
            stages.push(DemoStage {
                id: stages.len() as i64 + 1,
                pipeline_id,
                name: (*name).into(),
                position: position as i32,
                kind: *kind,
                probability: *probability,
                required: *required,
                stale_days: *stale_days,
            });
        }
    }

    let mut ids = Ids { next: [0; 5] };
    let mut clients: Vec<DemoClient> = Vec::new();
    let mut leads = Vec::new();
    let mut deals = Vec::new();
    let mut events = Vec::new();
    let mut activities = Vec::new();

    let today = now_ms.div_euclid(DAY);
    for day in (today - 365)..=today {
        if weekday(day) >= 5 {
            continue;
        }
        for &(manager, dept) in &managers {
            let amount_scale = DEPARTMENTS[dept].1;
            for _ in 0..rng.gen_range(0..=2) {
                let created_at = working_time(&mut rng, day);
                if created_at > now_ms {
                    continue;
                }
                let lead_id = ids.take(LEAD);
                let source = pick_source(&mut rng);
                let contact_name = person_name(&mut rng);
                let age_days = (now_ms - created_at) / DAY;
                // Most leads are answered within the hour; some wait much longer.
                let response_delay = if rng.gen_bool(0.8) {
                    rng.gen_range(2 * MINUTE..60 * MINUTE)
                } else {
                    rng.gen_range(HOUR..2 * DAY)
                };
                let first_response_at = Some(created_at + response_delay).filter(|t| *t <= now_ms);
                let roll: f64 = rng.gen();
                let status = match (age_days, first_response_at) {
                    (_, None) => LeadStatus::New,
                    (0..=6, _) if roll < 0.5 => LeadStatus::InWork,
                    _ if roll < 0.45 => LeadStatus::Qualified,
                    _ if roll < 0.85 => LeadStatus::Disqualified,
                    _ => LeadStatus::InWork,
                };
                if let Some(at) = first_response_at {
                    let duration = rng.gen_range(5..400);
                    activities.push(DemoActivity {
                        id: ids.take(ACTIVITY),
                        kind: ActivityKind::CallOut,
                        user_id: manager,
                        deal_id: None,
                        lead_id: Some(lead_id),
                        client_id: None,
                        at,
                        duration_s: Some(duration),
                        note: String::new(),
                    });
                }
                let mut lead = DemoLead {
                    id: lead_id,
                    title: format!("Заявка: {contact_name}"),
                    source,
                    contact_name: contact_name.clone(),
                    phone: phone(&mut rng),
                    status,
                    disqualify_reason: (status == LeadStatus::Disqualified)
                        .then(|| DISQUALIFY_REASONS[rng.gen_range(0..DISQUALIFY_REASONS.len())]),
                    responsible_id: manager,
                    created_at,
                    first_response_at,
                    client_id: None,
                };
                if status == LeadStatus::Qualified {
                    let qualified_at = first_response_at.unwrap_or(created_at) + rng.gen_range(HOUR..3 * DAY);
                    let qualified_at = qualified_at.min(now_ms);
                    // A quarter of qualified leads come from clients who bought before.
                    let mine: Vec<usize> = clients
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| c.responsible_id == manager)
                        .map(|(i, _)| i)
                        .collect();
                    let (client_id, repeat) = if !mine.is_empty() && rng.gen_bool(0.25) {
                        (clients[mine[rng.gen_range(0..mine.len())]].id, true)
                    } else {
                        let id = ids.take(CLIENT);
                        let company = rng.gen_bool(0.7);
                        clients.push(DemoClient {
                            id,
                            name: if company {
                                format!(
                                    "ООО «{}-{}»",
                                    COMPANY_WORDS[rng.gen_range(0..COMPANY_WORDS.len())],
                                    rng.gen_range(1..100)
                                )
                            } else {
                                contact_name.clone()
                            },
                            kind: if company { ClientKind::Company } else { ClientKind::Person },
                            phone: lead.phone.clone(),
                            email: format!("client{id}@example.ru"),
                            responsible_id: manager,
                            created_at: qualified_at,
                        });
                        (id, false)
                    };
                    lead.client_id = Some(client_id);
                    let pipeline_id = if repeat { 2 } else { 1 };
                    let base: Money = rng.gen_range(30_000..400_000) * amount_scale * 100;
                    let deal_stages: Vec<&DemoStage> = stages.iter().filter(|s| s.pipeline_id == pipeline_id).collect();
                    let deal = walk_deal(
                        &mut rng,
                        &mut ids,
                        &deal_stages,
                        DealSeed {
                            title: format!(
                                "{} — {}",
                                clients.iter().find(|c| c.id == client_id).map_or("", |c| &c.name),
                                source
                            ),
                            amount: base,
                            client_id,
                            lead_id: Some(lead_id),
                            source,
                            manager,
                            created_at: qualified_at,
                            now_ms,
                        },
                        &mut events,
                        &mut activities,
                    );
                    deals.push(deal);
                }
                leads.push(lead);
            }
            // Incoming calls and chats that are not tied to a lead.
            for _ in 0..rng.gen_range(0..4) {
                let at = working_time(&mut rng, day);
                if at > now_ms {
                    continue;
                }
                let kind = if rng.gen_bool(0.7) { ActivityKind::CallIn } else { ActivityKind::Chat };
                activities.push(DemoActivity {
                    id: ids.take(ACTIVITY),
                    kind,
                    user_id: manager,
                    deal_id: None,
                    lead_id: None,
                    client_id: None,
                    at,
                    duration_s: (kind == ActivityKind::CallIn).then(|| rng.gen_range(10..900)),
                    note: String::new(),
                });
            }
        }
    }
    activities.sort_by_key(|a| a.at);
    for (i, a) in activities.iter_mut().enumerate() {
        a.id = i as i64 + 1;
    }

    // Illustrative rates, for deals priced abroad; heads change them on the pipelines page.
    let rates = vec![("USD", 92_500_000), ("EUR", 100_250_000), ("CNY", 12_700_000)];
    DemoData {
        org,
        departments,
        users,
        password_hash,
        pipelines,
        stages,
        clients,
        leads,
        deals,
        events,
        activities,
        rates,
    }
}

struct DealSeed {
    title: String,
    amount: Money,
    client_id: i64,
    lead_id: Option<i64>,
    source: &'static str,
    manager: i64,
    created_at: i64,
    now_ms: i64,
}

/// Moves a new deal through its pipeline until it is won, lost or reaches today,
/// recording every stage change and the calls, meetings and proposals around it.
fn walk_deal(
    rng: &mut StdRng,
    ids: &mut Ids,
    stages: &[&DemoStage],
    seed: DealSeed,
    events: &mut Vec<DemoDealEvent>,
    activities: &mut Vec<DemoActivity>,
) -> DemoDeal {
    let deal_id = ids.take(DEAL);
    let open: Vec<&DemoStage> = stages.iter().copied().filter(|s| s.kind == StageKind::Open).collect();
    let won = stages.iter().find(|s| s.kind == StageKind::Won).expect("pipeline has a won stage");
    let lost = stages.iter().find(|s| s.kind == StageKind::Lost).expect("pipeline has a lost stage");
    let mut at = seed.created_at;
    let mut current = open[0];
    let mut version = 0;
    events.push(DemoDealEvent {
        id: ids.take(EVENT),
        deal_id,
        actor_id: seed.manager,
        at,
        from_stage_id: None,
        to_stage_id: current.id,
        amount: seed.amount,
        skipped_required: false,
    });
    // (kind, time) of what the manager did along the way; numbered at the end.
    let mut done: Vec<(ActivityKind, i64)> = Vec::new();
    let mut closed_at = None;
    let mut loss_reason = None;
    let mut position = 0;
    loop {
        let next_at = at + rng.gen_range(6 * HOUR..6 * DAY);
        if next_at > seed.now_ms {
            break;
        }
        done.push((ActivityKind::CallOut, at + rng.gen_range(0..(next_at - at))));
        let roll: f64 = rng.gen();
        let (to, skipped) = if roll < 0.22 {
            (*lost, false)
        } else if position + 1 >= open.len() {
            (*won, false)
        } else if roll > 0.95 && position + 2 < open.len() {
            // Now and then a manager jumps a stage; required ones are violations.
            (open[position + 2], open[position + 1].required)
        } else {
            (open[position + 1], false)
        };
        match to.name.as_str() {
            "Встреча" => done.push((ActivityKind::Meeting, next_at)),
            "КП отправлено" | "Предложение" => done.push((ActivityKind::Proposal, next_at)),
            _ => {}
        }
        version += 1;
        events.push(DemoDealEvent {
            id: ids.take(EVENT),
            deal_id,
            actor_id: seed.manager,
            at: next_at,
            from_stage_id: Some(current.id),
            to_stage_id: to.id,
            amount: seed.amount,
            skipped_required: skipped,
        });
        at = next_at;
        current = to;
        match to.kind {
            StageKind::Open => position = open.iter().position(|s| s.id == to.id).unwrap_or(position),
            StageKind::Won => {
                closed_at = Some(at);
                break;
            }
            StageKind::Lost => {
                closed_at = Some(at);
                loss_reason = Some(LOSS_REASONS[rng.gen_range(0..LOSS_REASONS.len())]);
                break;
            }
        }
    }
    for (kind, at) in done {
        activities.push(DemoActivity {
            id: ids.take(ACTIVITY),
            kind,
            user_id: seed.manager,
            deal_id: Some(deal_id),
            lead_id: None,
            client_id: Some(seed.client_id),
            at,
            duration_s: (kind == ActivityKind::CallOut).then(|| rng.gen_range(15..1200)),
            note: String::new(),
        });
    }
    let (csat, nps) = match closed_at {
        Some(_) => rating(deal_id, current.kind == StageKind::Won),
        None => (None, None),
    };
    DemoDeal {
        csat,
        nps,
        id: deal_id,
        pipeline_id: current.pipeline_id,
        stage_id: current.id,
        title: seed.title,
        amount: seed.amount,
        client_id: seed.client_id,
        lead_id: seed.lead_id,
        source: seed.source,
        responsible_id: seed.manager,
        created_at: seed.created_at,
        stage_entered_at: at,
        closed_at,
        loss_reason,
        version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_000_000_000;

    #[test]
    fn same_seed_same_data() {
        let a = generate(7, NOW, String::new());
        let b = generate(7, NOW, String::new());
        assert_eq!(a.leads.len(), b.leads.len());
        assert_eq!(a.events.len(), b.events.len());
        assert_eq!(a.deals.iter().map(|d| d.amount).sum::<i64>(), b.deals.iter().map(|d| d.amount).sum::<i64>());
    }

    #[test]
    fn the_department_is_realistic() {
        let d = generate(1, NOW, String::new());
        assert_eq!(d.departments.len(), 3);
        assert_eq!(d.users.iter().filter(|u| u.role == Role::Manager).count(), 25);
        assert_eq!(d.pipelines.len(), 2);
        assert!(d.leads.len() > 5_000, "{} leads", d.leads.len());
        assert!(d.deals.len() > 1_000, "{} deals", d.deals.len());
        assert!(d.activities.iter().any(|a| a.kind == ActivityKind::Meeting));
        let first = d.leads.iter().map(|l| l.created_at).min().unwrap();
        assert!(NOW - first > 360 * DAY, "a year of history");
        assert!(d.leads.iter().all(|l| l.created_at <= NOW));
        assert!(d.activities.iter().all(|a| a.at <= NOW));
    }

    #[test]
    fn every_deal_stage_equals_its_last_event() {
        let d = generate(3, NOW, String::new());
        for deal in &d.deals {
            let evs: Vec<&DemoDealEvent> = d.events.iter().filter(|e| e.deal_id == deal.id).collect();
            assert_eq!(evs.last().unwrap().to_stage_id, deal.stage_id);
            assert_eq!(evs.len() as i64 - 1, deal.version);
            assert!(evs.windows(2).all(|w| w[0].at <= w[1].at && w[1].from_stage_id == Some(w[0].to_stage_id)));
            let stage = d.stages.iter().find(|s| s.id == deal.stage_id).unwrap();
            assert_eq!(stage.kind != StageKind::Open, deal.closed_at.is_some());
            assert_eq!(stage.kind == StageKind::Lost, deal.loss_reason.is_some());
        }
    }

    #[test]
    fn disqualified_leads_have_a_reason() {
        let d = generate(5, NOW, String::new());
        for l in &d.leads {
            assert_eq!(l.status == LeadStatus::Disqualified, l.disqualify_reason.is_some());
            assert_eq!(l.status == LeadStatus::Qualified, l.client_id.is_some());
        }
    }
}
