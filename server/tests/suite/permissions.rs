//! The permission matrix: every server function so far, called by every role
//! on its own record, a colleague's (same department) and a stranger's (other
//! department), is allowed or refused exactly as the rights table says —
//! first with the defaults, then after an admin has changed the table.

use crate::common::*;
use app::access::{Action, Module, Role, Scope};
use app::error::{AppError, Problem};
use serde_json::{json, Value};

/// Whose record it is, seen from the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Mine,
    Colleague,
    Stranger,
    /// Organisation-wide settings that belong to nobody.
    Nobody,
}

/// What the rights table promises, written independently of the server code.
fn promised(scope: Scope, target: Target) -> bool {
    matches!(
        (scope, target),
        (Scope::All, _) | (Scope::Department, Target::Mine | Target::Colleague) | (Scope::Own, Target::Mine)
    )
}

fn classify(me: i64, my_dept: Option<i64>, owner: Option<i64>, dept: Option<i64>) -> Target {
    if owner == Some(me) {
        Target::Mine
    } else if dept.is_some() && dept == my_dept {
        Target::Colleague
    } else if owner.is_some() || dept.is_some() {
        Target::Stranger
    } else {
        Target::Nobody
    }
}

fn allowed<T: std::fmt::Debug>(r: &Result<T, AppError>, what: &str) -> bool {
    match r {
        Ok(_) => true,
        Err(AppError::Forbidden) => false,
        // Refused for a reason other than rights: the check was passed.
        Err(AppError::Invalid { problem: Problem::InUse, .. }) => true,
        Err(e) => panic!("{what}: unexpected error {e:?}"),
    }
}

struct Seen {
    id: i64,
    dept: Option<i64>,
}

/// Runs every server function as `email` and checks it against `scopes`.
async fn check_role(server: &TestServer, org: &Org, email: &str, role: Role, scope: impl Fn(Module, Action) -> Scope) {
    let (c, my_id) = signed_in(server, email).await;
    let me: Option<Value> = c.call("me", &[]).await.unwrap();
    let me = me.unwrap();
    let my_dept = me["user"]["department_id"].as_i64();
    let ctx = |what: &str| format!("{role:?} {email}: {what}");

    // The session tells the browser the same rights the server enforces.
    for (m, a, s) in serde_json::from_value::<Vec<(Module, Action, Scope)>>(me["rights"].clone()).unwrap() {
        assert_eq!(s, scope(m, a), "{}", ctx("rights in session"));
    }

    let (admin, _) = signed_in(server, org.admin).await;
    let everyone: Vec<Value> = admin.call("people", &[]).await.unwrap();
    let person = |mail: &str| {
        let p = everyone.iter().find(|p| p["email"] == mail).unwrap();
        Seen { id: p["id"].as_i64().unwrap(), dept: p["department_id"].as_i64() }
    };
    let targets = [person(email), person(org.manager_a2), person(org.manager_b)];
    assert_eq!(
        targets.iter().map(|t| classify(my_id, my_dept, Some(t.id), t.dept)).collect::<Vec<_>>(),
        if role == Role::Admin {
            vec![Target::Mine, Target::Stranger, Target::Stranger]
        } else {
            vec![Target::Mine, Target::Colleague, Target::Stranger]
        },
        "{}",
        ctx("test set-up")
    );

    // list_people
    let view = scope(Module::Settings, Action::View);
    let listed: Result<Vec<Value>, _> = c.call("people", &[]).await;
    assert_eq!(allowed(&listed, &ctx("people")), view != Scope::None, "{}", ctx("people"));
    if let Ok(listed) = &listed {
        for t in &targets {
            let visible = listed.iter().any(|p| p["id"] == t.id);
            let target = classify(my_id, my_dept, Some(t.id), t.dept);
            assert_eq!(visible, promised(view, target), "{}", ctx(&format!("sees person {} ({target:?})", t.id)));
        }
    }

    // update_person (a harmless rename)
    let edit = scope(Module::Settings, Action::Edit);
    for t in &targets {
        let target = classify(my_id, my_dept, Some(t.id), t.dept);
        let r: Result<Value, _> =
            c.call_json("people/update", json!({"id": t.id, "changes": {"name": format!("Имя {}", t.id)}})).await;
        assert_eq!(allowed(&r, &ctx("people/update")), promised(edit, target), "{}", ctx(&format!("edits {target:?}")));
    }

    // create_person in my department and in the other one
    let create = scope(Module::Settings, Action::Create);
    for dept in [org.dept_a, org.dept_b] {
        let target = classify(my_id, my_dept, None, Some(dept));
        let mail = format!("{}.{}.{}@new.ru", role.as_str(), dept, rand::random::<u32>());
        let r: Result<Value, _> = c
            .call_json(
                "people/create",
                json!({"form": {"email": mail, "name": "Новичок", "password": "long-enough", "role": "viewer", "department_id": dept}}),
            )
            .await;
        assert_eq!(
            allowed(&r, &ctx("people/create")),
            promised(create, target),
            "{}",
            ctx(&format!("creates in {target:?}"))
        );
    }

    // Departments: A is headed by head_a, B by head_b.
    let depts: Vec<Value> = admin.call("departments", &[]).await.unwrap();
    let dept = |id: i64| depts.iter().find(|d| d["id"] == id).unwrap();
    let dept_targets: Vec<(i64, Target)> = [org.dept_a, org.dept_b]
        .into_iter()
        .map(|id| (id, classify(my_id, my_dept, dept(id)["head_id"].as_i64(), Some(id))))
        .collect();

    let listed: Result<Vec<Value>, _> = c.call("departments", &[]).await;
    assert_eq!(allowed(&listed, &ctx("departments")), view != Scope::None);
    if let Ok(listed) = &listed {
        for (id, target) in &dept_targets {
            let visible = listed.iter().any(|d| d["id"] == *id);
            assert_eq!(visible, promised(view, *target), "{}", ctx(&format!("sees department {target:?}")));
        }
    }
    for (id, target) in &dept_targets {
        let d = dept(*id);
        let head = d["head_id"].as_i64().map(|h| h.to_string()).unwrap_or_default();
        let id_s = id.to_string();
        let name = d["name"].as_str().unwrap();
        let mut args = vec![("id", id_s.as_str()), ("name", name)];
        if !head.is_empty() {
            args.push(("head_id", head.as_str()));
        }
        let r: Result<Value, _> = c.call("departments/update", &args).await;
        assert_eq!(
            allowed(&r, &ctx("departments/update")),
            promised(edit, *target),
            "{}",
            ctx(&format!("edits department {target:?}"))
        );
        // Both departments have people, so an allowed delete is refused as in use and nothing is lost.
        let r: Result<(), _> = c.call("departments/delete", &[("id", id_s.as_str())]).await;
        let delete = scope(Module::Settings, Action::Delete);
        assert_eq!(
            allowed(&r, &ctx("departments/delete")),
            promised(delete, *target),
            "{}",
            ctx(&format!("deletes department {target:?}"))
        );
    }
    let name = format!("Новый отдел {role:?} {}", rand::random::<u32>());
    let r: Result<Value, _> = c.call("departments/create", &[("name", name.as_str())]).await;
    assert_eq!(
        allowed(&r, &ctx("departments/create")),
        promised(create, Target::Nobody),
        "{}",
        ctx("creates a department")
    );

    // The rights table itself belongs to nobody.
    let r: Result<Vec<Value>, _> = c.call("rights", &[]).await;
    assert_eq!(allowed(&r, &ctx("rights")), promised(view, Target::Nobody), "{}", ctx("reads rights"));
    // Re-set the viewers' goal right to what it is, so the call changes nothing.
    let table: Vec<(Role, Module, Action, Scope)> = admin.call("rights", &[]).await.unwrap();
    let current: &str = table
        .iter()
        .find(|r| (r.0, r.1, r.2) == (Role::Viewer, Module::Goals, Action::View))
        .map_or(Scope::None, |r| r.3)
        .into();
    let r: Result<(), _> =
        c.call("rights/set", &[("role", "viewer"), ("module", "goals"), ("action", "view"), ("scope", current)]).await;
    assert_eq!(allowed(&r, &ctx("rights/set")), promised(edit, Target::Nobody), "{}", ctx("sets a right"));

    // Anyone signed in may set their own preferences and sign out.
    let _: () = c.call("preferences", &[("locale", "ru"), ("theme", "light")]).await.unwrap();
    let _: () = c.call("logout", &[]).await.unwrap();
}

async fn check_everyone(server: &TestServer, org: &Org, rights: &[(Role, Module, Action, Scope)]) {
    let scope_of = |role: Role| {
        let rights = rights.to_vec();
        move |m: Module, a: Action| rights.iter().find(|r| (r.0, r.1, r.2) == (role, m, a)).map_or(Scope::None, |r| r.3)
    };
    for (email, role) in [
        (org.admin, Role::Admin),
        (org.head_a, Role::Head),
        (org.manager_a, Role::Manager),
        (org.viewer_a, Role::Viewer),
    ] {
        check_role(server, org, email, role, scope_of(role)).await;
    }
}

#[tokio::test]
async fn every_server_function_follows_the_rights_table() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;

        let defaults: Vec<(Role, Module, Action, Scope)> = admin.call("rights", &[]).await.unwrap();
        assert_eq!(defaults, app::access::PermissionMatrix::defaults().rows(), "{backend:?}: defaults seeded");
        check_everyone(&server, &org, &defaults).await;

        // The admin reconfigures: managers may see and edit their department's
        // people, heads get organisation-wide settings, viewers lose them.
        let changes = [
            ("manager", "settings", "view", "department"),
            ("manager", "settings", "edit", "department"),
            ("head", "settings", "view", "all"),
            ("head", "settings", "create", "all"),
            ("head", "settings", "edit", "all"),
            ("head", "settings", "delete", "department"),
            ("viewer", "settings", "view", "none"),
        ];
        for (role, module, action, scope) in changes {
            let _: () = admin
                .call("rights/set", &[("role", role), ("module", module), ("action", action), ("scope", scope)])
                .await
                .unwrap();
        }
        let configured: Vec<(Role, Module, Action, Scope)> = admin.call("rights", &[]).await.unwrap();
        assert_ne!(configured, defaults);
        check_everyone(&server, &org, &configured).await;

        server.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn admin_rights_are_fixed_and_bad_names_are_refused() {
    let db = TestDb::new(Backend::Sqlite).await;
    let org = seed_org(&db).await;
    let server = TestServer::start(&db).await;
    let (admin, _) = signed_in(&server, org.admin).await;
    let before: Vec<Value> = admin.call("rights", &[]).await.unwrap();
    let cases = [
        (["admin", "settings", "view", "none"], "role"),
        (["owner", "deals", "view", "all"], "role"),
        (["head", "finance", "view", "all"], "module"),
        (["head", "deals", "approve", "all"], "action"),
        (["head", "deals", "view", "everything"], "scope"),
    ];
    for ([role, module, action, scope], field) in cases {
        let r: Result<(), _> =
            admin.call("rights/set", &[("role", role), ("module", module), ("action", action), ("scope", scope)]).await;
        assert_eq!(r.unwrap_err(), AppError::invalid(field, Problem::Unknown));
    }
    let after: Vec<Value> = admin.call("rights", &[]).await.unwrap();
    assert_eq!(before, after);
    server.stop().await;
}

#[tokio::test]
async fn nobody_grants_admin_without_being_one() {
    let db = TestDb::new(Backend::Sqlite).await;
    let org = seed_org(&db).await;
    let server = TestServer::start(&db).await;
    let (admin, admin_id) = signed_in(&server, org.admin).await;
    for (role, module, action) in [("head", "settings", "create"), ("head", "settings", "edit")] {
        let _: () = admin
            .call("rights/set", &[("role", role), ("module", module), ("action", action), ("scope", "all")])
            .await
            .unwrap();
    }
    let (head, head_id) = signed_in(&server, org.head_a).await;
    let (_, manager_id) = signed_in(&server, org.manager_a).await;
    let promote: Result<Value, _> =
        head.call_json("people/update", json!({"id": manager_id, "changes": {"role": "admin"}})).await;
    assert_eq!(promote.unwrap_err(), AppError::Forbidden);
    let demote: Result<Value, _> =
        head.call_json("people/update", json!({"id": admin_id, "changes": {"role": "viewer"}})).await;
    assert_eq!(demote.unwrap_err(), AppError::Forbidden);
    let create: Result<Value, _> = head
        .call_json(
            "people/create",
            json!({"form": {"email": "boss@t.ru", "name": "Boss", "password": "long-enough", "role": "admin", "department_id": null}}),
        )
        .await;
    assert_eq!(create.unwrap_err(), AppError::Forbidden);
    let own: Result<Value, _> =
        head.call_json("people/update", json!({"id": head_id, "changes": {"active": false}})).await;
    assert_eq!(own.unwrap_err(), AppError::Forbidden, "nobody disables themselves");
    // Ordinary role changes are fine.
    let ok: Value =
        head.call_json("people/update", json!({"id": manager_id, "changes": {"role": "viewer"}})).await.unwrap();
    assert_eq!(ok["role"], "viewer");
    server.stop().await;
}
