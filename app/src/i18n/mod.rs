//! Russian and English text of the interface.
//!
//! Every string lives in one [`Texts`] value per language, so a missing
//! translation is a compile error rather than a blank on screen.

use crate::access::{Action, Module, Role, Scope};

named_enum!(
    /// The language of the interface. Russian is the default: the users work in it.
    #[derive(Default)]
    Locale {
        #[default]
        Ru,
        En,
    }
);

impl Locale {
    pub fn texts(self) -> &'static Texts {
        match self {
            Locale::Ru => &RU,
            Locale::En => &EN,
        }
    }
}

named_enum!(
    /// Light or dark colours, chosen per user.
    #[derive(Default)]
    Theme {
        #[default]
        Light,
        Dark,
    }
);

/// All words of the interface in one language.
pub struct Texts {
    pub lang: &'static str,
    pub app_name: &'static str,
    pub tagline: &'static str,
    pub nav_home: &'static str,
    pub nav_team: &'static str,
    pub nav_access: &'static str,
    pub nav_profile: &'static str,
    pub logout: &'static str,
    pub login_title: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub sign_in: &'static str,
    pub signing_in: &'static str,
    pub loading: &'static str,
    pub saving: &'static str,
    pub saved: &'static str,
    pub save: &'static str,
    pub add: &'static str,
    pub cancel: &'static str,
    pub edit: &'static str,
    pub retry: &'static str,
    pub hello: &'static str,
    pub your_role: &'static str,
    pub your_department: &'static str,
    pub no_department: &'static str,
    pub your_rights: &'static str,
    pub people: &'static str,
    pub departments: &'static str,
    pub add_person: &'static str,
    pub add_department: &'static str,
    pub name: &'static str,
    pub role: &'static str,
    pub department: &'static str,
    pub head: &'static str,
    pub no_head: &'static str,
    pub status: &'static str,
    pub active: &'static str,
    pub inactive: &'static str,
    pub deactivate: &'static str,
    pub activate: &'static str,
    pub members: &'static str,
    pub nobody_yet: &'static str,
    pub no_departments_yet: &'static str,
    pub access_title: &'static str,
    pub access_hint: &'static str,
    pub admin_fixed: &'static str,
    pub profile_title: &'static str,
    pub language: &'static str,
    pub theme: &'static str,
    pub theme_light: &'static str,
    pub theme_dark: &'static str,
    pub not_found_title: &'static str,
    pub not_found_text: &'static str,
    pub back_home: &'static str,
    pub error_title: &'static str,
    pub err_unauthenticated: &'static str,
    pub err_bad_credentials: &'static str,
    pub err_rate_limited: &'static str,
    pub err_forbidden: &'static str,
    pub err_not_found: &'static str,
    pub err_required: &'static str,
    pub err_too_long: &'static str,
    pub err_too_short: &'static str,
    pub err_bad_email: &'static str,
    pub err_unknown_value: &'static str,
    pub err_taken: &'static str,
    pub err_in_use: &'static str,
    pub err_conflict: &'static str,
    pub err_internal: &'static str,
    pub err_network: &'static str,
    pub roles: [&'static str; 4],
    pub modules: [&'static str; 6],
    pub actions: [&'static str; 4],
    pub scopes: [&'static str; 4],
}

impl Texts {
    pub fn role(&self, r: Role) -> &'static str {
        self.roles[r as usize]
    }

    pub fn module(&self, m: Module) -> &'static str {
        self.modules[m as usize]
    }

    pub fn action(&self, a: Action) -> &'static str {
        self.actions[a as usize]
    }

    pub fn scope(&self, s: Scope) -> &'static str {
        self.scopes[s as usize]
    }

    /// The label of an input field named in an [`crate::error::AppError`].
    pub fn field_name(&self, field: &str) -> &'static str {
        match field {
            "email" => self.email,
            "password" => self.password,
            "name" => self.name,
            "role" => self.role,
            "department" => self.department,
            "head" => self.head,
            "language" => self.language,
            "theme" => self.theme,
            _ => self.err_unknown_value,
        }
    }
}

pub static RU: Texts = Texts {
    lang: "ru",
    app_name: "Воронка",
    tagline: "Отдел продаж в одном окне",
    nav_home: "Главная",
    nav_team: "Команда",
    nav_access: "Права",
    nav_profile: "Профиль",
    logout: "Выйти",
    login_title: "Вход",
    email: "E-mail",
    password: "Пароль",
    sign_in: "Войти",
    signing_in: "Входим…",
    loading: "Загрузка…",
    saving: "Сохраняем…",
    saved: "Сохранено",
    save: "Сохранить",
    add: "Добавить",
    cancel: "Отмена",
    edit: "Изменить",
    retry: "Повторить",
    hello: "Здравствуйте",
    your_role: "Роль",
    your_department: "Отдел",
    no_department: "Без отдела",
    your_rights: "Ваши права",
    people: "Сотрудники",
    departments: "Отделы",
    add_person: "Добавить сотрудника",
    add_department: "Добавить отдел",
    name: "Имя",
    role: "Роль",
    department: "Отдел",
    head: "Руководитель",
    no_head: "Не назначен",
    status: "Статус",
    active: "Работает",
    inactive: "Отключён",
    deactivate: "Отключить",
    activate: "Включить",
    members: "Сотрудников",
    nobody_yet: "Пока никого нет. Добавьте первого сотрудника.",
    no_departments_yet: "Отделов пока нет.",
    access_title: "Права доступа",
    access_hint: "Для каждой роли: что можно делать в каждом разделе и с чьими записями.",
    admin_fixed: "Администратор всегда имеет все права.",
    profile_title: "Профиль",
    language: "Язык",
    theme: "Тема",
    theme_light: "Светлая",
    theme_dark: "Тёмная",
    not_found_title: "Страница не найдена",
    not_found_text: "Такой страницы нет. Возможно, ссылка устарела.",
    back_home: "На главную",
    error_title: "Что-то пошло не так",
    err_unauthenticated: "Войдите, чтобы продолжить.",
    err_bad_credentials: "Неверный e-mail или пароль.",
    err_rate_limited: "Слишком много неудачных попыток. Повторите через {min} мин.",
    err_forbidden: "Недостаточно прав.",
    err_not_found: "Запись не найдена.",
    err_required: "обязательное поле",
    err_too_long: "не длиннее {n} символов",
    err_too_short: "не короче {n} символов",
    err_bad_email: "это не похоже на адрес e-mail",
    err_unknown_value: "недопустимое значение",
    err_taken: "уже занято",
    err_in_use: "ещё используется (в отделе есть сотрудники)",
    err_conflict: "Запись изменил кто-то другой. Показаны актуальные данные.",
    err_internal: "Ошибка на сервере. Мы уже записали её; попробуйте ещё раз.",
    err_network: "Нет связи с сервером. Проверьте сеть и повторите.",
    roles: ["Администратор", "Руководитель отдела продаж", "Менеджер", "Наблюдатель"],
    modules: ["Сделки", "Лиды", "Аналитика", "Цели", "Премии", "Настройки"],
    actions: ["Просмотр", "Создание", "Изменение", "Удаление"],
    scopes: ["Нет", "Свои", "Отдела", "Все"],
};

pub static EN: Texts = Texts {
    lang: "en",
    app_name: "Voronka",
    tagline: "Your sales department in one window",
    nav_home: "Home",
    nav_team: "Team",
    nav_access: "Rights",
    nav_profile: "Profile",
    logout: "Log out",
    login_title: "Sign in",
    email: "E-mail",
    password: "Password",
    sign_in: "Sign in",
    signing_in: "Signing in…",
    loading: "Loading…",
    saving: "Saving…",
    saved: "Saved",
    save: "Save",
    add: "Add",
    cancel: "Cancel",
    edit: "Edit",
    retry: "Retry",
    hello: "Hello",
    your_role: "Role",
    your_department: "Department",
    no_department: "No department",
    your_rights: "Your rights",
    people: "People",
    departments: "Departments",
    add_person: "Add a person",
    add_department: "Add a department",
    name: "Name",
    role: "Role",
    department: "Department",
    head: "Head",
    no_head: "Not set",
    status: "Status",
    active: "Active",
    inactive: "Disabled",
    deactivate: "Disable",
    activate: "Enable",
    members: "People",
    nobody_yet: "Nobody here yet. Add the first person.",
    no_departments_yet: "No departments yet.",
    access_title: "Access rights",
    access_hint: "For each role: what it may do in each area, and whose records.",
    admin_fixed: "Admins always have every right.",
    profile_title: "Profile",
    language: "Language",
    theme: "Theme",
    theme_light: "Light",
    theme_dark: "Dark",
    not_found_title: "Page not found",
    not_found_text: "There is no such page. The link may be out of date.",
    back_home: "Back to home",
    error_title: "Something went wrong",
    err_unauthenticated: "Sign in to continue.",
    err_bad_credentials: "Wrong e-mail or password.",
    err_rate_limited: "Too many failed attempts. Try again in {min} min.",
    err_forbidden: "You do not have the rights for this.",
    err_not_found: "Record not found.",
    err_required: "required",
    err_too_long: "at most {n} characters",
    err_too_short: "at least {n} characters",
    err_bad_email: "this does not look like an e-mail address",
    err_unknown_value: "not an accepted value",
    err_taken: "already taken",
    err_in_use: "still in use (the department has people)",
    err_conflict: "Someone else changed this record. The current data is shown.",
    err_internal: "Server error. It has been logged; please try again.",
    err_network: "Cannot reach the server. Check the network and retry.",
    roles: ["Admin", "Head of sales", "Manager", "Viewer"],
    modules: ["Deals", "Leads", "Analytics", "Goals", "Bonuses", "Settings"],
    actions: ["View", "Create", "Edit", "Delete"],
    scopes: ["None", "Own", "Department", "All"],
};
