//! Sign-in, sessions, lock-out, same-origin guard and input validation,
//! through HTTP against the real router, on SQLite and PostgreSQL.

use std::time::Duration;

use crate::common::*;
use app::access::guard::LoginPolicy;
use app::error::{AppError, Problem};
use serde_json::{json, Value};

#[tokio::test]
async fn login_succeeds_and_fails_correctly() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let c = server.client();

        let none: Option<Value> = c.call("me", &[]).await.unwrap();
        assert_eq!(none, None, "{backend:?}: nobody signed in yet");
        assert_eq!(c.login(org.manager_a, "wrong-password").await.unwrap_err(), AppError::BadCredentials);
        assert_eq!(c.login("nobody@t.ru", PASSWORD).await.unwrap_err(), AppError::BadCredentials);
        // E-mail is case- and space-insensitive.
        let me = c.login("  Manager.A@T.ru ", PASSWORD).await.unwrap();
        assert_eq!(me["user"]["email"], "manager.a@t.ru");
        assert_eq!(me["user"]["role"], "manager");
        assert_eq!(me["department_name"], "Отдел А");
        let again: Option<Value> = c.call("me", &[]).await.unwrap();
        assert_eq!(again.unwrap()["user"]["email"], "manager.a@t.ru");

        server.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn disabled_people_cannot_sign_in_and_lose_their_session() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let (manager, manager_id) = signed_in(&server, org.manager_a).await;

        let _: Value =
            admin.call_json("people/update", json!({"id": manager_id, "changes": {"active": false}})).await.unwrap();
        let me: Option<Value> = manager.call("me", &[]).await.unwrap();
        assert_eq!(me, None, "{backend:?}: a disabled person's session ends");
        assert_eq!(manager.login(org.manager_a, PASSWORD).await.unwrap_err(), AppError::BadCredentials);

        server.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn ten_wrong_passwords_lock_the_account_for_a_while() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let policy = LoginPolicy { window: Duration::from_secs(3), ..LoginPolicy::default() };
        let server = TestServer::start_with(&db, policy).await;
        let c = server.client();

        for i in 0..10 {
            assert_eq!(c.login(org.head_a, "wrong").await.unwrap_err(), AppError::BadCredentials, "attempt {i}");
        }
        // Now even the right password is refused, with a time to wait.
        match c.login(org.head_a, PASSWORD).await.unwrap_err() {
            AppError::RateLimited { retry_after_secs } => assert!((1..=3).contains(&retry_after_secs)),
            other => panic!("{backend:?}: expected a lock, got {other:?}"),
        }
        // Other accounts are not locked by it.
        c.login(org.manager_a, PASSWORD).await.unwrap();
        // After the window the account opens again.
        tokio::time::sleep(Duration::from_millis(3_100)).await;
        c.login(org.head_a, PASSWORD).await.unwrap();

        server.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn many_failures_from_one_address_lock_the_address() {
    let db = TestDb::new(Backend::Sqlite).await;
    let org = seed_org(&db).await;
    let policy = LoginPolicy { max_per_ip: 12, ..LoginPolicy::default() };
    let server = TestServer::start_with(&db, policy).await;
    let c = server.client();
    for i in 0..12 {
        let email = format!("guess{i}@t.ru");
        assert_eq!(c.login(&email, "wrong").await.unwrap_err(), AppError::BadCredentials);
    }
    assert!(matches!(c.login(org.admin, PASSWORD).await.unwrap_err(), AppError::RateLimited { .. }));
    server.stop().await;
}

#[tokio::test]
async fn session_survives_a_restart_and_logout_kills_it() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let c = server.client();
        c.login(org.viewer_a, PASSWORD).await.unwrap();
        let base = server.base.clone();
        server.stop().await;

        // A new server process on the same database, reached with the same cookie jar.
        let server = TestServer::start(&db).await;
        let c = Client { base: server.base.clone(), http: c.http.clone() };
        assert_ne!(base, server.base);
        let me: Option<Value> = c.call("me", &[]).await.unwrap();
        assert_eq!(me.expect("still signed in")["user"]["email"], org.viewer_a, "{backend:?}");

        let _: () = c.call("logout", &[]).await.unwrap();
        let me: Option<Value> = c.call("me", &[]).await.unwrap();
        assert_eq!(me, None);
        let people: Result<Value, _> = c.call("people", &[]).await;
        assert_eq!(people.unwrap_err(), AppError::Unauthenticated);

        server.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn session_cookie_is_http_only_and_same_site() {
    let db = TestDb::new(Backend::Sqlite).await;
    let org = seed_org(&db).await;
    let server = TestServer::start(&db).await;
    let resp = reqwest::Client::new()
        .post(format!("{}/api/login", server.base))
        .form(&[("email", org.admin), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = resp.headers().get("set-cookie").expect("a session cookie").to_str().unwrap().to_string();
    assert!(cookie.starts_with("voronka_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    server.stop().await;
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let db = TestDb::new(Backend::Sqlite).await;
    let org = seed_org(&db).await;
    let server = TestServer::start(&db).await;
    let (c, _) = signed_in(&server, org.admin).await;
    let resp = c
        .http
        .post(format!("{}/api/departments/create", server.base))
        .header("origin", "http://evil.example")
        .form(&[("name", "Взлом")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let depts: Vec<Value> = c.call("departments", &[]).await.unwrap();
    assert!(depts.iter().all(|d| d["name"] != "Взлом"), "nothing was created");
    server.stop().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_stores_nothing() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (admin, _) = signed_in(&server, org.admin).await;
        let before: Vec<Value> = admin.call("people", &[]).await.unwrap();

        let good = json!({"email": "new@t.ru", "name": "Новый", "password": "long-enough", "role": "manager", "department_id": org.dept_a});
        let cases = [
            ("email", json!(""), "email", Problem::Required),
            ("email", json!("not-an-email"), "email", Problem::BadEmail),
            ("email", json!(format!("{}@t.ru", "x".repeat(300))), "email", Problem::TooLong { max: 254 }),
            ("email", json!(org.manager_b), "email", Problem::Taken),
            ("name", json!("   "), "name", Problem::Required),
            ("name", json!("я".repeat(500)), "name", Problem::TooLong { max: 120 }),
            ("password", json!("short"), "password", Problem::TooShort { min: 8 }),
            ("role", json!("superuser"), "role", Problem::Unknown),
            ("department_id", json!(999_999), "department", Problem::Unknown),
        ];
        for (key, value, field, problem) in cases {
            let mut form = good.clone();
            form[key] = value;
            let err = admin.call_json::<Value>("people/create", json!({ "form": form })).await.unwrap_err();
            assert_eq!(err, AppError::invalid(field, problem.clone()), "{backend:?} {key}");
        }
        let dept_err = admin.call::<Value>("departments/create", &[("name", "")]).await.unwrap_err();
        assert_eq!(dept_err, AppError::invalid("name", Problem::Required));
        let dup = admin.call::<Value>("departments/create", &[("name", "Отдел А")]).await.unwrap_err();
        assert_eq!(dup, AppError::invalid("name", Problem::Taken));
        let lang = admin.call::<()>("preferences", &[("locale", "de"), ("theme", "dark")]).await.unwrap_err();
        assert_eq!(lang, AppError::invalid("language", Problem::Unknown));

        let after: Vec<Value> = admin.call("people", &[]).await.unwrap();
        assert_eq!(before, after, "{backend:?}: nothing stored");
        let me: Option<Value> = admin.call("me", &[]).await.unwrap();
        assert_eq!(me.unwrap()["user"]["locale"], "ru", "preferences unchanged");

        // The good form does go through.
        let created: Value = admin.call_json("people/create", json!({ "form": good })).await.unwrap();
        assert_eq!(created["email"], "new@t.ru");
        let newcomer = server.client();
        newcomer.login("new@t.ru", "long-enough").await.unwrap();

        server.stop().await;
        db.drop_db().await;
    }
}

#[tokio::test]
async fn preferences_are_saved_per_user() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let org = seed_org(&db).await;
        let server = TestServer::start(&db).await;
        let (c, _) = signed_in(&server, org.manager_b).await;
        let _: () = c.call("preferences", &[("locale", "en"), ("theme", "dark")]).await.unwrap();
        let me: Option<Value> = c.call("me", &[]).await.unwrap();
        let me = me.unwrap();
        assert_eq!((me["user"]["locale"].as_str(), me["user"]["theme"].as_str()), (Some("en"), Some("dark")));
        let (other, _) = signed_in(&server, org.manager_a).await;
        let them: Option<Value> = other.call("me", &[]).await.unwrap();
        assert_eq!(them.unwrap()["user"]["locale"], "ru", "{backend:?}");
        server.stop().await;
        db.drop_db().await;
    }
}
