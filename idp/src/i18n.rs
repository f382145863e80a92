//! Page texts in Russian and English, and choosing between them.
//!
//! The language comes from `ui_locales` (OIDC Core §3.1.2.1) first, then `Accept-Language`,
//! then Russian.

use axum::http::HeaderMap;
use std::collections::BTreeMap;

mod certificates;

/// Every table of texts.
fn all() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    TEXTS.iter().chain(certificates::TEXTS)
}

/// A supported page language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Русский.
    Ru,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 tag.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    /// The language of a stored locale (an account's), Russian when none is usable.
    pub fn of_locale(locale: Option<&str>) -> Lang {
        locale.and_then(Lang::from_tag).unwrap_or(Lang::Ru)
    }

    fn from_tag(t: &str) -> Option<Lang> {
        let primary = t.trim().split(['-', '_', ';']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "ru" => Some(Lang::Ru),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks from `ui_locales` (space-separated, in order), then `Accept-Language`.
    pub fn choose(ui_locales: &[String], headers: &HeaderMap) -> Lang {
        if let Some(l) = ui_locales.iter().find_map(|t| Lang::from_tag(t)) {
            return l;
        }
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mut best: Option<(f32, Lang)> = None;
        for part in accept.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("");
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(l) = Lang::from_tag(tag) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, l));
                }
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Ru)
    }

    /// Every text of the pages in this language.
    pub fn texts(self) -> BTreeMap<&'static str, &'static str> {
        all()
            .map(|(k, ru, en)| (*k, if self == Lang::Ru { *ru } else { *en }))
            .collect()
    }

    /// One text.
    pub fn t(self, key: &str) -> &'static str {
        all()
            .find(|(k, _, _)| *k == key)
            .map(|(_, ru, en)| if self == Lang::Ru { *ru } else { *en })
            .unwrap_or("")
    }
}

/// (key, Russian, English).
const TEXTS: &[(&str, &str, &str)] = &[
    ("brand", "Вход", "Vhod"),
    ("device_title", "Вход на устройстве", "Sign in on a device"),
    (
        "device_intro",
        "Введите код, который показывает телевизор, терминал или программа.",
        "Type the code your television, terminal or program shows.",
    ),
    ("device_code_label", "Код с устройства", "The code on the device"),
    ("device_button", "Продолжить", "Continue"),
    (
        "device_warning",
        "Вводите только код с вашего собственного устройства. Никогда не вводите код, который вам продиктовали или прислали.",
        "Only type a code from a device of your own. Never type a code someone read out or sent to you.",
    ),
    (
        "device_consent_warning",
        "Вы входите на другом устройстве. Продолжайте, только если код на нём вы получили сами, только что.",
        "You are signing in on another device. Go on only if you got its code yourself, just now.",
    ),
    (
        "device_wrong_code",
        "Такого кода нет или он больше не действует. Проверьте код на экране устройства.",
        "There is no such code, or it no longer works. Check the code on the device's screen.",
    ),
    (
        "device_too_many",
        "Слишком много неверных кодов. Попробуйте позже.",
        "Too many wrong codes. Try again later.",
    ),
    (
        "device_expired",
        "Время на вход истекло. Начните вход на устройстве заново.",
        "The time to sign in ran out. Start signing in on the device again.",
    ),
    (
        "device_answered",
        "На этот запрос уже ответили.",
        "This request was already answered.",
    ),
    (
        "device_approved",
        "Готово. Вернитесь к устройству: вход на нём продолжится сам.",
        "Done. Go back to the device: it will finish signing in by itself.",
    ),
    (
        "device_refused",
        "Вход на устройстве отклонён. Устройство не получит доступ.",
        "Signing in on the device was refused. The device gets no access.",
    ),
    (
        "sign_in_title",
        "Вход в учётную запись",
        "Sign in to your account",
    ),
    ("sign_in_to", "чтобы продолжить в сервисе", "to continue to"),
    (
        "login_label",
        "Телефон, e-mail или логин",
        "Phone, e-mail or login",
    ),
    ("password_label", "Пароль", "Password"),
    ("sign_in_button", "Войти", "Sign in"),
    (
        "bad_credentials",
        "Неверный логин или пароль.",
        "Wrong login or password.",
    ),
    ("reg_title", "Регистрация", "Create an account"),
    ("reg_link", "Создать учётную запись", "Create an account"),
    (
        "reg_contact_label",
        "Телефон или электронная почта",
        "Phone number or e-mail address",
    ),
    (
        "reg_contact_help",
        "Мы пришлём код, чтобы убедиться, что это ваш адрес.",
        "We will send a code to make sure it is yours.",
    ),
    ("reg_send_button", "Получить код", "Send the code"),
    ("reg_code_sent", "Код отправлен на", "We sent a code to"),
    ("reg_code_label", "Код из сообщения", "The code from the message"),
    ("reg_code_button", "Подтвердить", "Confirm"),
    ("reg_resend_button", "Отправить код ещё раз", "Send a new code"),
    (
        "reg_password_help",
        "Придумайте пароль не короче 15 символов. Подойдёт фраза из нескольких слов; особых символов не нужно.",
        "Choose a password of at least 15 characters. A phrase of a few words is fine; no special characters are needed.",
    ),
    ("reg_password_label", "Пароль", "Password"),
    ("reg_password2_label", "Пароль ещё раз", "Password again"),
    ("reg_create_button", "Создать учётную запись", "Create the account"),
    (
        "reg_done_text",
        "Учётная запись создана. Войдите, указав",
        "Your account is ready. Sign in with",
    ),
    ("reg_done_next", "Войти в личный кабинет", "Sign in to your account"),
    ("reg_code_subject", "Код подтверждения vhod", "Your vhod code"),
    (
        "reg_code_text",
        "Код для регистрации в vhod: {code}. Он действует 10 минут. Если вы не регистрировались, ничего делать не нужно.",
        "Your vhod registration code: {code}. It is valid for 10 minutes. If you did not ask for it, you need not do anything.",
    ),
    (
        "reg_taken_text",
        "Кто-то пытается зарегистрироваться в vhod с вашим адресом, но у вас уже есть учётная запись. Если это были вы, войдите или восстановите пароль. Если нет, ничего делать не нужно.",
        "Someone tried to register with vhod using your address, but you already have an account. If it was you, sign in or reset your password. If not, you need not do anything.",
    ),
    (
        "err_contact_format",
        "Введите телефон (например, +7 999 000-11-22) или адрес электронной почты.",
        "Enter a phone number (e.g. +7 999 000-11-22) or an e-mail address.",
    ),
    (
        "err_channel_unavailable",
        "Сейчас мы не можем отправить сообщение на этот адрес. Попробуйте другой способ или позже.",
        "We cannot send a message there right now. Try another way, or later.",
    ),
    ("err_code_wrong", "Неверный код.", "Wrong code."),
    (
        "err_code_expired",
        "Срок действия кода истёк. Запросите новый.",
        "The code has expired. Ask for a new one.",
    ),
    (
        "err_code_attempts",
        "Слишком много неверных попыток. Запросите новый код.",
        "Too many wrong attempts. Ask for a new code.",
    ),
    (
        "err_resend_wait",
        "Новый код можно запросить через минуту после предыдущего (не больше пяти раз).",
        "A new code can be sent a minute after the last one (five times at most).",
    ),
    (
        "err_passwords_differ",
        "Пароли не совпадают.",
        "The passwords do not match.",
    ),
    (
        "err_already_registered",
        "Этот адрес уже занят.",
        "This address is already registered.",
    ),
    ("totp_title", "Код из приложения", "Authenticator code"),
    (
        "totp_prompt",
        "Введите шестизначный код из приложения-аутентификатора.",
        "Enter the six-digit code from your authenticator app.",
    ),
    ("totp_label", "Код", "Code"),
    ("totp_button", "Подтвердить", "Confirm"),
    (
        "bad_totp",
        "Неверный или уже использованный код.",
        "Wrong or already used code.",
    ),
    (
        "too_many_attempts",
        "Слишком много попыток. Попробуйте позже.",
        "Too many attempts. Try again later.",
    ),
    ("consent_title", "Разрешить доступ", "Allow access"),
    (
        "consent_intro",
        "Сервис запрашивает доступ к вашим данным:",
        "This service asks for access to your data:",
    ),
    (
        "consent_resources",
        "Доступ будет у сервисов по адресам:",
        "The access will be for the services at:",
    ),
    ("consent_allow", "Разрешить", "Allow"),
    ("consent_deny", "Отказать", "Deny"),
    (
        "consent_note",
        "Вы сможете отозвать это разрешение в личном кабинете.",
        "You can withdraw this permission in your account at any time.",
    ),
    (
        "scope_openid",
        "Ваш идентификатор в системе",
        "Your identifier in the system",
    ),
    (
        "scope_profile",
        "Имя, фамилия и другие данные профиля",
        "Your name and other profile data",
    ),
    (
        "scope_email",
        "Адрес электронной почты",
        "Your e-mail address",
    ),
    ("scope_phone", "Номер телефона", "Your phone number"),
    ("scope_address", "Почтовый адрес", "Your postal address"),
    (
        "scope_offline_access",
        "Доступ, пока вы не в сети (долгосрочный)",
        "Access while you are away (long-lived)",
    ),
    ("claim", "Сведение", "Item"),
    ("error_title", "Ошибка", "Error"),
    (
        "error_back",
        "Вернитесь в сервис, с которого пришли, и попробуйте снова.",
        "Go back to the service you came from and try again.",
    ),
    (
        "err_unknown_client",
        "Сервис, который направил вас сюда, не зарегистрирован.",
        "The service that sent you here is not registered.",
    ),
    (
        "err_bad_redirect",
        "Адрес возврата сервиса не зарегистрирован, поэтому мы не можем вернуть вас туда.",
        "The service's return address is not registered, so we cannot send you back there.",
    ),
    (
        "err_request_uri",
        "Запрос на вход устарел или уже использован. Вернитесь в сервис и начните вход заново.",
        "This sign-in request has expired or has already been used. Go back to the service and start again.",
    ),
    (
        "err_bad_request",
        "Запрос сервиса составлен неверно.",
        "The service's request is malformed.",
    ),
    (
        "err_expired",
        "Страница устарела. Начните вход заново из сервиса.",
        "This page has expired. Start signing in again from the service.",
    ),
    (
        "err_csrf",
        "Форма устарела или отправлена не из этого браузера. Начните заново.",
        "The form has expired or was not sent from this browser. Please start again.",
    ),
    (
        "err_server",
        "Что-то пошло не так на нашей стороне. Попробуйте позже.",
        "Something went wrong on our side. Please try again later.",
    ),
    (
        "err_access_denied",
        "Вход не выполнен.",
        "You are not signed in.",
    ),
    ("account_title", "Личный кабинет", "Your account"),
    ("account_login", "Логин", "Login"),
    ("account_name", "Имя", "Name"),
    ("account_email", "Электронная почта", "E-mail"),
    ("account_phone", "Телефон", "Phone"),
    ("account_verified", "подтверждён", "confirmed"),
    ("account_not_verified", "не подтверждён", "not confirmed"),
    ("account_level", "Уровень учётной записи", "Account level"),
    ("account_second_factor", "Второй фактор", "Second factor"),
    ("account_totp_on", "приложение-аутентификатор", "authenticator app"),
    ("account_totp_off", "не подключён", "none"),
    (
        "account_raise_level",
        "Повысить до стандартной: указать паспорт и СНИЛС",
        "Raise to standard: give your passport and SNILS",
    ),
    ("account_update_identity", "Изменить паспортные данные", "Update your identity data"),
    ("level_simplified", "упрощённая", "simplified"),
    ("level_standard", "стандартная", "standard"),
    ("level_confirmed", "подтверждённая", "confirmed"),
    ("identity_title", "Паспорт и СНИЛС", "Passport and SNILS"),
    (
        "identity_help",
        "Данные проверяются при вводе и хранятся в зашифрованном виде. После проверки учётная запись становится стандартной.",
        "The data is checked as you type it in and stored encrypted. Once it checks out, your account becomes standard.",
    ),
    ("identity_family_name", "Фамилия", "Family name"),
    ("identity_given_name", "Имя", "Given name"),
    ("identity_middle_name", "Отчество (если есть)", "Patronymic (if any)"),
    ("identity_birth_date", "Дата рождения (ДД.ММ.ГГГГ)", "Date of birth (DD.MM.YYYY)"),
    ("identity_snils", "СНИЛС", "SNILS"),
    ("identity_passport_series", "Серия паспорта", "Passport series"),
    ("identity_passport_number", "Номер паспорта", "Passport number"),
    ("identity_inn", "ИНН (необязательно)", "INN (optional)"),
    ("identity_button", "Сохранить", "Save"),
    (
        "err_snils_taken",
        "Этот СНИЛС уже указан в другой учётной записи. Если это ваш номер, обратитесь в центр обслуживания.",
        "This SNILS is already on another account. If it is yours, please visit a service point.",
    ),
    ("account_add_totp", "Подключить приложение-аутентификатор", "Add an authenticator app"),
    ("totp_enrol_title", "Приложение-аутентификатор", "Authenticator app"),
    (
        "totp_enrol_scan",
        "Отсканируйте код приложением-аутентификатором и введите шестизначный код, который оно покажет.",
        "Scan the code with your authenticator app and enter the six-digit code it shows.",
    ),
    ("totp_enrol_manual", "Или введите ключ вручную:", "Or type the key in by hand:"),
    ("totp_enrol_button", "Подключить", "Turn on"),
    (
        "recovery_help",
        "Приложение подключено. Сохраните коды восстановления: каждый действует один раз, если телефона с приложением не будет под рукой. Больше они не будут показаны.",
        "The app is on. Keep these recovery codes: each works once, for when the phone with the app is not at hand. They will not be shown again.",
    ),
    ("factor_added_subject", "vhod: подключён второй фактор", "vhod: a second factor was added"),
    (
        "factor_added_text",
        "К вашей учётной записи vhod подключено приложение-аутентификатор. Если это были не вы, смените пароль и обратитесь в поддержку.",
        "An authenticator app was added to your vhod account. If it was not you, change your password and contact support.",
    ),
    ("services_title", "Сервисы с доступом", "Services with access"),
    ("services_since", "Разрешено:", "Allowed:"),
    ("services_revoke", "Отозвать доступ", "Revoke access"),
    (
        "services_none",
        "Вы пока не давали доступ ни одному сервису.",
        "You have not given any service access yet.",
    ),
    (
        "account_locked",
        "Учётная запись заблокирована после множества неудачных попыток входа. Чтобы разблокировать её, восстановите пароль или обратитесь в центр обслуживания.",
        "The account is locked after too many failed sign-ins. To unlock it, reset your password or visit a service point.",
    ),
    ("account_locked_subject", "vhod: учётная запись заблокирована", "vhod: your account is locked"),
    (
        "account_locked_text",
        "После 100 неудачных попыток входа подряд ваша учётная запись vhod заблокирована. Если это были не вы, кто-то подбирает ваш пароль. Чтобы разблокировать учётную запись, восстановите пароль или обратитесь в центр обслуживания.",
        "After 100 failed sign-ins in a row your vhod account is locked. If it was not you, someone is guessing your password. To unlock it, reset your password or visit a service point.",
    ),
    ("recover_title", "Восстановление доступа", "Recover access"),
    ("recover_link", "Забыли пароль?", "Forgot your password?"),
    (
        "recover_login_label",
        "Логин, телефон или электронная почта",
        "Login, phone number or e-mail address",
    ),
    (
        "recover_code_sent",
        "Если такая учётная запись есть и у неё подтверждён адрес, мы отправили код:",
        "If the account exists and has a confirmed address, we sent a code to:",
    ),
    (
        "recover_factor_prompt",
        "Теперь подтвердите, что это вы, вторым фактором вашей учётной записи.",
        "Now confirm it is you with your account's second factor.",
    ),
    (
        "recover_passkey_prompt",
        "Нажмите кнопку и выберите ключ доступа этой учётной записи на своём устройстве.",
        "Press the button and choose this account's passkey on your device.",
    ),
    ("recover_send_prompt_sms", "Мы отправим шестизначный код в SMS на номер", "We will send a six-digit code by text message to"),
    ("recover_send_prompt_email", "Мы отправим шестизначный код на адрес", "We will send a six-digit code by e-mail to"),
    ("recover_send_button", "Отправить код", "Send the code"),
    ("recover_new_password", "Новый пароль", "New password"),
    (
        "recover_done_text",
        "Пароль изменён. Все прежние входы завершены; войдите с новым паролем.",
        "Your password is changed. Every earlier sign-in has ended; sign in with the new password.",
    ),
    (
        "recover_code_text",
        "Код для восстановления доступа к vhod: {code}. Он действует 10 минут. Если вы не восстанавливали доступ, никому его не сообщайте.",
        "Your vhod recovery code: {code}. It is valid for 10 minutes. If you did not ask for it, do not share it with anyone.",
    ),
    ("level_changed_subject", "vhod: уровень учётной записи изменён", "vhod: your account's level was changed"),
    (
        "level_changed_text",
        "Оператор изменил уровень вашей учётной записи vhod. Текущий уровень показан в личном кабинете. Если вы не обращались за этим, обратитесь в поддержку.",
        "An operator changed the level of your vhod account. Your account page shows the level it has now. If you did not ask for this, contact support.",
    ),
    ("password_changed_subject", "vhod: пароль изменён", "vhod: your password was changed"),
    (
        "password_changed_text",
        "Пароль вашей учётной записи vhod изменён, все прежние входы завершены. Если это были не вы, срочно обратитесь в поддержку.",
        "The password of your vhod account was changed and every earlier sign-in ended. If it was not you, contact support at once.",
    ),
    ("new_device_subject", "vhod: вход с нового устройства", "vhod: sign-in from a new device"),
    (
        "new_device_text",
        "В вашу учётную запись vhod вошли с устройства, с которого вы раньше не входили. Если это были не вы, смените пароль в разделе восстановления доступа.",
        "Someone signed in to your vhod account from a device you have not used before. If it was not you, change your password through access recovery.",
    ),
    ("history_title", "История входов", "Sign-in history"),
    ("history_time", "Время (UTC)", "Time (UTC)"),
    ("history_device", "Устройство", "Device"),
    ("history_ip", "IP-адрес", "IP address"),
    ("history_methods", "Способ", "Methods"),
    ("history_none", "Входов пока не было.", "No sign-ins yet."),
    ("export_link", "Скачать мои данные (JSON)", "Download my data (JSON)"),
    ("delete_title", "Удаление учётной записи", "Delete the account"),
    (
        "delete_warning",
        "Учётная запись и все её данные будут удалены, все входы и выданный сервисам доступ прекратятся. Это нельзя отменить.",
        "The account and all its data will be deleted, and every sign-in and every service's access will end. This cannot be undone.",
    ),
    ("delete_button", "Удалить навсегда", "Delete for good"),
    (
        "delete_refused",
        "Неверный пароль или код — учётная запись не удалена.",
        "Wrong password or code: the account was not deleted.",
    ),
    ("delete_done", "Учётная запись удалена.", "The account is deleted."),
    ("delete_link", "Удалить учётную запись", "Delete the account"),
    ("password_change_link", "Сменить пароль", "Change the password"),
    ("password_change_title", "Смена пароля", "Change the password"),
    (
        "password_change_intro",
        "После смены пароля все остальные браузеры будут выведены из учётной записи, а сервисам придётся заново получить доступ. Этот браузер останется в системе.",
        "Once the password is changed, every other browser is signed out and services must ask for access again. This browser stays signed in.",
    ),
    ("password_current_label", "Текущий пароль", "Current password"),
    ("password_change_button", "Сменить пароль", "Change the password"),
    (
        "password_change_done",
        "Пароль изменён. Остальные входы завершены.",
        "The password is changed. Every other sign-in has ended.",
    ),
    ("err_current_password", "Текущий пароль введён неверно.", "The current password is wrong."),
    (
        "err_password_wait",
        "Слишком много неверных попыток. Подождите несколько минут и попробуйте снова.",
        "Too many wrong attempts. Wait a few minutes and try again.",
    ),
    ("account_deleted_subject", "vhod: учётная запись удалена", "vhod: your account was deleted"),
    (
        "account_deleted_text",
        "Ваша учётная запись vhod и её данные удалены, все входы завершены. Если это были не вы, срочно обратитесь в поддержку.",
        "Your vhod account and its data were deleted and every sign-in ended. If it was not you, contact support at once.",
    ),
    ("profile_title", "Профиль", "Profile"),
    ("profile_names", "Имя", "Name"),
    ("profile_display_name", "Отображаемое имя", "Display name"),
    (
        "profile_names_locked",
        "Имя подтверждено вместе с уровнем учётной записи и не меняется здесь. Если оно изменилось (например, после смены фамилии), обновите данные документов в разделе подтверждения личности или в центре обслуживания.",
        "Your name was confirmed with the account level and cannot be changed here. If it has changed (for example after a change of surname), update your document data in the identity section or at a service point.",
    ),
    ("profile_save", "Сохранить", "Save"),
    ("profile_contacts", "Контакты", "Contacts"),
    ("profile_new_contact", "Новый телефон или адрес электронной почты", "New phone number or e-mail address"),
    (
        "profile_contact_help",
        "На новый адрес придёт код; изменение вступит в силу после его ввода. Для подтверждения введите текущий пароль.",
        "A code goes to the new address; the change takes effect once you enter it. Enter your current password to confirm it is you.",
    ),
    ("profile_cancel", "Отменить изменение", "Cancel the change"),
    ("profile_remove_email", "Удалить адрес электронной почты", "Remove the e-mail address"),
    ("profile_remove_phone", "Удалить телефон", "Remove the phone number"),
    (
        "profile_err_name",
        "Имя может содержать только буквы, пробел, дефис, апостроф и точку — не длиннее 100 знаков.",
        "A name may contain only letters, space, hyphen, apostrophe and dot, at most 100 characters.",
    ),
    ("profile_err_password", "Неверный пароль — ничего не изменено.", "Wrong password: nothing was changed."),
    ("profile_err_same", "Этот адрес уже подтверждён в вашей учётной записи.", "This address is already confirmed in your account."),
    (
        "profile_err_only_contact",
        "Нельзя удалить единственный подтверждённый контакт: по нему вы входите и восстанавливаете доступ. Сначала добавьте и подтвердите другой.",
        "You cannot remove your only confirmed contact: you sign in and recover access with it. Add and confirm another one first.",
    ),
    ("profile_code_sent", "Код отправлен.", "The code was sent."),
    (
        "profile_code_text",
        "Код для смены контакта в vhod: {code}. Он действует 10 минут. Если вы ничего не меняли, никому его не сообщайте.",
        "Your vhod code to change a contact: {code}. It is valid for 10 minutes. If you did not ask for it, do not share it with anyone.",
    ),
    (
        "profile_taken_text",
        "Кто-то пытается добавить ваш адрес в другую учётную запись vhod, но он уже привязан к вашей. Если это были не вы, ничего делать не нужно.",
        "Someone tried to add your address to another vhod account, but it already belongs to yours. If it was not you, you need not do anything.",
    ),
    ("contact_changed_subject", "vhod: контакт изменён", "vhod: a contact was changed"),
    (
        "contact_changed_text",
        "В вашей учётной записи vhod изменён адрес электронной почты или телефон. Если это были не вы, срочно восстановите доступ и обратитесь в поддержку.",
        "The e-mail address or phone number of your vhod account was changed. If it was not you, recover access and contact support at once.",
    ),
    ("notif_title", "Уведомления", "Notifications"),
    ("notif_channel", "Куда присылать", "Where to send them"),
    ("notif_channel_all", "На почту и по SMS", "By e-mail and SMS"),
    ("notif_channel_email", "Только на электронную почту", "By e-mail only"),
    ("notif_channel_sms", "Только по SMS", "By SMS only"),
    ("notif_unconfirmed", "адрес не подтверждён", "address not confirmed"),
    ("notif_which", "О чём сообщать", "What to tell you about"),
    ("notif_new_device", "Вход с нового устройства", "Sign-in from a new device"),
    (
        "notif_always",
        "Уведомления о безопасности приходят всегда: смена пароля, подключение или отключение второго фактора, блокировка, удаление учётной записи, смена контакта.",
        "Security notices are always sent: password changed, second factor added or removed, lock-out, account deletion, contact changed.",
    ),
    ("notif_save", "Сохранить", "Save"),
    ("notif_saved", "Настройки сохранены.", "Settings saved."),
    (
        "notif_err_unconfirmed",
        "Этот способ недоступен: сначала подтвердите адрес в профиле.",
        "This channel is not available: confirm the address in your profile first.",
    ),
    (
        "registry_field_mismatch",
        "Не совпадает с данными реестра.",
        "Does not match the registry's data.",
    ),
    (
        "registry_not_confirmed",
        "Реестр не подтвердил эти данные — уровень не изменён. Проверьте отмеченные поля и попробуйте снова.",
        "The registry did not confirm this data; the level is unchanged. Check the marked fields and try again.",
    ),
    (
        "registry_unavailable",
        "Реестр сейчас недоступен, данные не проверены и уровень не изменён. Ваши данные сохранены в форме — попробуйте позже.",
        "The registry is not available now: the data was not checked and the level is unchanged. What you typed is kept in the form; please try later.",
    ),
    ("sessions_title", "Активные входы", "Active sign-ins"),
    ("sessions_this", "этот браузер", "this browser"),
    ("sessions_end", "Завершить", "Sign out"),
    (
        "sessions_end_others",
        "Выйти на всех других устройствах",
        "Sign out everywhere else",
    ),
    ("logout_title", "Выход", "Sign out"),
    (
        "logout_question",
        "Выйти из учётной записи на этом устройстве?",
        "Sign out of your account on this device?",
    ),
    ("logout_button", "Выйти", "Sign out"),
    (
        "logged_out",
        "Вы вышли из учётной записи.",
        "You have signed out.",
    ),
    (
        "logout_services",
        "Выходим и из сервисов, в которые вы входили с этой учётной записью…",
        "Signing you out of the services you used with this account too…",
    ),
    (
        "logout_frame",
        "Выход из сервиса",
        "Signing out of a service",
    ),
    ("continue", "Продолжить", "Continue"),
    (
        "noscript_continue",
        "Нажмите «Продолжить», чтобы вернуться в сервис.",
        "Press Continue to return to the service.",
    ),
    ("lang_switch", "English", "Русский"),
    // Second factors: codes by SMS or e-mail, the choice of factor, removal, step-up.
    ("otp_code_subject", "Код для входа в vhod", "Your vhod sign-in code"),
    (
        "otp_code_text",
        "Код vhod: {code}. Он действует 10 минут. Никому его не сообщайте.",
        "vhod code: {code}. It works for 10 minutes. Do not tell it to anyone.",
    ),
    ("mfa_title_totp", "Код из приложения", "Authenticator code"),
    ("mfa_title_sms", "Код из SMS", "Code from a text message"),
    ("mfa_title_email", "Код из письма", "Code from an e-mail"),
    ("mfa_title_recovery", "Код восстановления", "Recovery code"),
    (
        "mfa_prompt_totp",
        "Введите шестизначный код из приложения-аутентификатора или один из кодов восстановления.",
        "Enter the six-digit code from your authenticator app, or one of your recovery codes.",
    ),
    ("mfa_prompt_sms", "Мы отправили шестизначный код в SMS на номер", "We sent a six-digit code by text message to"),
    ("mfa_prompt_email", "Мы отправили шестизначный код на адрес", "We sent a six-digit code by e-mail to"),
    (
        "mfa_prompt_recovery",
        "Введите один из кодов восстановления, которые вы сохранили при подключении приложения.",
        "Enter one of the recovery codes you kept when you added the authenticator app.",
    ),
    ("otp_resend", "Отправить код ещё раз", "Send the code again"),
    ("mfa_other_method", "Другой способ подтверждения:", "Another way to confirm:"),
    ("mfa_method_totp", "Приложение-аутентификатор", "Authenticator app"),
    ("mfa_method_sms", "Код по SMS", "Code by text message"),
    ("mfa_method_email", "Код на e-mail", "Code by e-mail"),
    ("mfa_method_recovery", "Код восстановления", "Recovery code"),
    ("mfa_method_passkey", "Ключ доступа", "Passkey"),
    ("mfa_title_passkey", "Ключ доступа", "Passkey"),
    (
        "err_mfa_method",
        "Этот способ подтверждения недоступен для вашей учётной записи.",
        "This way of confirming is not available for your account.",
    ),
    ("reauth_signed_in_as", "Вы вошли как", "You are signed in as"),
    (
        "reauth_prompt",
        "Сервис просит подтвердить, что это по-прежнему вы. Введите пароль.",
        "The service asks you to confirm it is still you. Enter your password.",
    ),
    ("reauth_switch", "Войти под другой учётной записью", "Sign in as someone else"),
    ("factors_link", "Способы входа", "Sign-in methods"),
    ("factors_title", "Второй фактор", "Second factor"),
    (
        "factors_help",
        "Второй фактор защищает учётную запись, даже если пароль узнают. С ним пароль может быть от 8 символов, без него — от 15.",
        "A second factor protects the account even if someone learns the password. With one, a password may be 8 characters long; without, 15.",
    ),
    ("factor_on", "включён", "on"),
    ("factor_off", "выключен", "off"),
    ("factor_turn_on", "Включить", "Turn on"),
    ("factor_remove", "Отключить", "Turn off"),
    (
        "factor_needs_confirmed",
        "нужен подтверждённый адрес",
        "needs a confirmed address",
    ),
    (
        "factor_code_sent",
        "Мы отправили код на",
        "We sent a code to",
    ),
    (
        "factor_confirm_help",
        "Введите код из сообщения и ваш пароль.",
        "Enter the code from the message and your password.",
    ),
    ("factor_confirm_button", "Подтвердить", "Confirm"),
    ("err_factor_password", "Неверный пароль.", "Wrong password."),
    (
        "err_last_factor",
        "Нельзя отключить последний второй фактор, пока пароль короче 15 символов: без второго фактора пароль должен быть длиннее. Сначала смените пароль или подключите другой способ.",
        "You cannot turn off your last second factor while your password is shorter than 15 characters: without a second factor the password must be longer. Change the password or add another method first.",
    ),
    ("factor_added_sms_subject", "vhod: подключён вход по SMS", "vhod: codes by text message turned on"),
    (
        "factor_added_sms_text",
        "Для входа в vhod теперь запрашивается код из SMS. Если это были не вы, смените пароль и обратитесь в поддержку.",
        "Signing in to vhod now asks for a code sent by text message. If it was not you, change your password and contact support.",
    ),
    ("factor_added_email_subject", "vhod: подключён вход по коду из письма", "vhod: codes by e-mail turned on"),
    (
        "factor_added_email_text",
        "Для входа в vhod теперь запрашивается код из письма. Если это были не вы, смените пароль и обратитесь в поддержку.",
        "Signing in to vhod now asks for a code sent by e-mail. If it was not you, change your password and contact support.",
    ),
    ("factor_removed_totp_subject", "vhod: отключено приложение-аутентификатор", "vhod: authenticator app turned off"),
    (
        "factor_removed_totp_text",
        "От вашей учётной записи vhod отключено приложение-аутентификатор, коды восстановления больше не действуют. Если это были не вы, смените пароль и обратитесь в поддержку.",
        "The authenticator app was removed from your vhod account and its recovery codes no longer work. If it was not you, change your password and contact support.",
    ),
    ("factor_removed_sms_subject", "vhod: отключён вход по SMS", "vhod: codes by text message turned off"),
    (
        "factor_removed_sms_text",
        "Вход в vhod больше не запрашивает код из SMS. Если это были не вы, смените пароль и обратитесь в поддержку.",
        "Signing in to vhod no longer asks for a code by text message. If it was not you, change your password and contact support.",
    ),
    ("factor_removed_email_subject", "vhod: отключён вход по коду из письма", "vhod: codes by e-mail turned off"),
    (
        "factor_removed_email_text",
        "Вход в vhod больше не запрашивает код из письма. Если это были не вы, смените пароль и обратитесь в поддержку.",
        "Signing in to vhod no longer asks for a code by e-mail. If it was not you, change your password and contact support.",
    ),
    // Passkeys.
    ("passkeys_title", "Ключи доступа", "Passkeys"),
    (
        "passkeys_intro",
        "Ключ доступа (passkey) хранится в вашем устройстве или электронном ключе и разблокируется PIN-кодом или отпечатком. Им можно подтвердить вход после пароля или войти вовсе без пароля.",
        "A passkey lives on your device or security key and is unlocked with a PIN or fingerprint. Use it to confirm a sign-in after the password, or to sign in with no password at all.",
    ),
    ("passkeys_none", "Ключей доступа пока нет.", "No passkeys yet."),
    ("passkey_name", "Название", "Name"),
    ("passkey_new_name", "Новое название", "New name"),
    ("passkey_created", "Добавлен (UTC)", "Added (UTC)"),
    ("passkey_last_used", "Последний вход (UTC)", "Last sign-in (UTC)"),
    ("passkey_never_used", "ещё не использовался", "not used yet"),
    ("passkey_default_name", "Ключ доступа", "Passkey"),
    ("passkey_add_title", "Добавить ключ доступа", "Add a passkey"),
    ("passkey_add_button", "Продолжить", "Continue"),
    ("passkey_rename_button", "Переименовать", "Rename"),
    ("passkey_remove_button", "Удалить", "Remove"),
    (
        "passkey_create_prompt",
        "Нажмите кнопку и подтвердите создание ключа на устройстве.",
        "Press the button and confirm the new passkey on your device.",
    ),
    ("passkey_create_button", "Создать ключ доступа", "Create the passkey"),
    (
        "passkey_needs_js",
        "Для ключей доступа нужен JavaScript: включите его в браузере.",
        "Passkeys need JavaScript: turn it on in your browser.",
    ),
    (
        "passkey_unsupported",
        "Этот браузер не поддерживает ключи доступа.",
        "This browser does not support passkeys.",
    ),
    (
        "passkey_unavailable",
        "Ключи доступа недоступны по этому адресу: для них адрес сервиса должен быть доменным именем, а не IP-адресом.",
        "Passkeys are not available at this address: they need the service to be reached by a host name, not an IP address.",
    ),
    (
        "passkey_bad_password",
        "Неверный пароль — изменения не сохранены.",
        "Wrong password: nothing was changed.",
    ),
    (
        "passkey_bad_name",
        "Название — не длиннее 64 символов, без служебных знаков.",
        "The name must be at most 64 characters, with no control characters.",
    ),
    (
        "passkey_expired",
        "Запрос ключа устарел или уже использован. Попробуйте ещё раз.",
        "This passkey request has expired or was already used. Please try again.",
    ),
    (
        "passkey_refused",
        "Ключ доступа не принят. Попробуйте ещё раз или выберите другой способ входа.",
        "The passkey was not accepted. Try again or choose another way to sign in.",
    ),
    (
        "passkey_taken",
        "Этот ключ доступа уже зарегистрирован.",
        "This passkey is already registered.",
    ),
    ("passkey_sign_in_link", "Войти с ключом доступа", "Sign in with a passkey"),
    ("passkey_sign_in_title", "Ключ доступа", "Passkey"),
    (
        "passkey_sign_in_prompt",
        "Нажмите кнопку и выберите ключ доступа на устройстве — пароль не нужен.",
        "Press the button and choose your passkey on your device: no password needed.",
    ),
    (
        "passkey_factor_prompt",
        "Подтвердите вход ключом доступа.",
        "Confirm the sign-in with your passkey.",
    ),
    ("passkey_sign_in_button", "Использовать ключ доступа", "Use a passkey"),
    ("passkey_use", "Подтвердить ключом доступа", "Use a passkey instead"),
    ("passkey_use_code", "Ввести код из приложения", "Enter an authenticator code instead"),
    ("passkey_use_password", "Войти с паролем", "Sign in with a password"),
    ("passkey_removed_subject", "vhod: удалён ключ доступа", "vhod: a passkey was removed"),
    (
        "passkey_removed_text",
        "Из вашей учётной записи vhod удалён ключ доступа. Если это были не вы, срочно смените пароль и обратитесь в поддержку.",
        "A passkey was removed from your vhod account. If it was not you, change your password and contact support at once.",
    ),
    ("sign_title", "Подписание документов", "Signing documents"),
    ("sign_asks", "Подписать документы просит", "Documents to sign, sent by"),
    ("sign_status", "Состояние", "Status"),
    ("sign_status_pending", "ожидает подписи", "waiting for your signature"),
    ("sign_status_signed", "подписано", "signed"),
    ("sign_status_declined", "отклонено", "declined"),
    ("sign_status_expired", "срок истёк", "expired"),
    ("sign_format", "Формат", "Format"),
    ("sign_expires", "действует до", "open until"),
    ("sign_open_document", "Открыть документ", "Open the document"),
    (
        "sign_set_digest",
        "Контрольная сумма набора документов",
        "Digest of the document set",
    ),
    ("sign_certificate", "Сертификат для подписи", "Signing certificate"),
    ("sign_valid_until", "действителен до", "valid until"),
    (
        "sign_code_label",
        "Код из приложения-аутентификатора",
        "Code from your authenticator app",
    ),
    ("sign_button", "Подписать", "Sign"),
    ("sign_decline", "Отказаться подписывать", "Decline"),
    (
        "sign_need_factor",
        "Для подписи нужен второй фактор — приложение-аутентификатор.",
        "Signing needs a second factor: an authenticator app.",
    ),
    (
        "sign_no_certificate",
        "У вас нет действующего сертификата электронной подписи, поэтому подписать документы нельзя. Выпустите сертификат в личном кабинете.",
        "You have no valid e-signature certificate, so the documents cannot be signed. Issue one in your account.",
    ),
    ("sign_certificates_link", "Сертификаты", "Certificates"),
    (
        "sign_not_found",
        "Такого запроса на подпись нет.",
        "There is no such signing request.",
    ),
    (
        "sign_closed",
        "Запрос уже подписан, отклонён или просрочен.",
        "The request has already been signed, declined or has expired.",
    ),
    (
        "sign_digest_mismatch",
        "Набор документов не совпадает с показанным. Откройте страницу заново и проверьте документы.",
        "The documents differ from the ones shown. Reload the page and check them again.",
    ),
    (
        "sign_locked",
        "Слишком много неверных кодов: подписать этот запрос уже нельзя.",
        "Too many wrong codes: this request can no longer be signed.",
    ),
    (
        "sign_passkey_button",
        "Подписать, подтвердив ключом доступа",
        "Sign, confirming with a passkey",
    ),
    (
        "sign_passkey_refused",
        "Ключ доступа не принят, документы не подписаны. Попробуйте ещё раз.",
        "The passkey was not accepted and nothing was signed. Please try again.",
    ),
    ("signatures_title", "Подписание документов", "Document signing"),
    ("signatures_pending", "Ждут подписи", "Waiting for your signature"),
    ("signatures_none_pending", "Нет документов на подпись.", "Nothing to sign."),
    ("signatures_history", "История подписания", "Signing history"),
    ("signatures_none", "Вы ещё ничего не подписывали.", "You have not signed anything yet."),
    ("signatures_client", "Сервис", "Service"),
    ("signatures_documents", "Документы", "Documents"),
    ("sign_send_sms", "Получить код по SMS", "Send a code by SMS"),
    ("sign_send_email", "Получить код по e-mail", "Send a code by e-mail"),
    ("sign_code_sent", "Код отправлен на", "A code was sent to"),
    ("sign_code_subject", "vhod: подписание документов", "vhod: signing documents"),
    (
        "sign_code_text",
        "Код vhod {code} подтверждает подписание документов ({count} шт.), контрольная сумма набора {digest}…. Если вы ничего не подписываете, никому не сообщайте код.",
        "vhod code {code} confirms signing {count} document(s), set digest {digest}…. If you are not signing anything, do not tell the code to anyone.",
    ),
    ("sign_or", "или", "or"),
    (
        "val_title",
        "Проверка электронной подписи",
        "Check an electronic signature",
    ),
    (
        "val_intro",
        "Загрузите подписанный документ: PDF с подписью, файл подписи CMS со вложенным документом, или документ вместе с отдельным файлом подписи (.sig). Вход не нужен; файлы не сохраняются.",
        "Upload a signed document: a signed PDF, a CMS signature file that holds the document, or the document with its separate signature file (.sig). No sign-in needed; the files are not kept.",
    ),
    (
        "val_document_label",
        "Документ",
        "Document",
    ),
    (
        "val_document_help",
        "Подписанный PDF, файл CMS (.p7m, .p7s) или документ, к которому приложена отдельная подпись",
        "A signed PDF, a CMS file (.p7m, .p7s), or the document a separate signature belongs to",
    ),
    (
        "val_signature_label",
        "Отдельная подпись (если есть)",
        "Separate signature (if any)",
    ),
    (
        "val_signature_help",
        "Файл открепленной подписи CAdES/CMS, DER или PEM",
        "A detached CAdES/CMS signature file, DER or PEM",
    ),
    (
        "val_mb",
        "МБ максимум",
        "MB at most",
    ),
    (
        "val_button",
        "Проверить",
        "Check",
    ),
    (
        "val_again",
        "Проверить другой документ",
        "Check another document",
    ),
    (
        "val_headline_ok",
        "Подпись действительна",
        "The signature is valid",
    ),
    (
        "val_headline_bad",
        "Подпись недействительна",
        "The signature is not valid",
    ),
    (
        "val_headline_unknown",
        "Действительность подписи установить не удалось",
        "The signature's validity cannot be determined",
    ),
    (
        "val_sig_ok",
        "действительна",
        "valid",
    ),
    (
        "val_sig_bad",
        "недействительна",
        "not valid",
    ),
    (
        "val_sig_unknown",
        "не установлено",
        "cannot be determined",
    ),
    (
        "val_technical",
        "Подробности",
        "Details",
    ),
    (
        "val_signature",
        "Подпись",
        "Signature",
    ),
    (
        "val_signed_by",
        "Кто подписал",
        "Signed by",
    ),
    (
        "val_unknown_signer",
        "не удалось определить",
        "could not be identified",
    ),
    (
        "val_snils",
        "СНИЛС",
        "SNILS",
    ),
    (
        "val_signing_time",
        "Время подписания",
        "Signing time",
    ),
    (
        "val_claimed",
        "по словам подписавшего",
        "as the signer states it",
    ),
    (
        "val_timestamp",
        "Штамп времени",
        "Timestamp",
    ),
    (
        "val_timestamp_valid",
        "подтверждает время",
        "proves the time",
    ),
    (
        "val_timestamp_invalid",
        "недействителен",
        "not valid",
    ),
    (
        "val_none",
        "нет",
        "none",
    ),
    (
        "val_chain",
        "Цепочка сертификатов",
        "Certificate chain",
    ),
    (
        "val_no_chain",
        "не построена до доверенного корня",
        "not built up to a trusted root",
    ),
    (
        "val_detail_in_english",
        "Технические подробности (на английском)",
        "Technical details",
    ),
    (
        "val_checks",
        "Проверки",
        "Checks",
    ),
    (
        "val_outcome_passed",
        "пройдена",
        "passed",
    ),
    (
        "val_outcome_failed",
        "не пройдена",
        "failed",
    ),
    (
        "val_outcome_warning",
        "с замечанием",
        "passed with a note",
    ),
    (
        "val_outcome_skipped",
        "не выполнялась",
        "not run",
    ),
    (
        "val_too_large",
        "Файл слишком большой: документ — не больше 10 МБ, подпись — не больше 1 МБ.",
        "The file is too large: a document may have at most 10 MB, a signature at most 1 MB.",
    ),
    (
        "val_too_many",
        "Слишком много проверок с вашего адреса. Подождите минуту и попробуйте снова.",
        "Too many checks from your address. Wait a minute and try again.",
    ),
    (
        "val_bad_form",
        "Форму не удалось прочитать. Выберите файлы и отправьте её ещё раз.",
        "The form could not be read. Choose the files and send it again.",
    ),
    (
        "val_no_document",
        "Выберите документ для проверки.",
        "Choose a document to check.",
    ),
    (
        "val_check_format",
        "Формат",
        "Format",
    ),
    (
        "val_check_content_type",
        "Тип подписанных данных",
        "Type of the signed data",
    ),
    (
        "val_check_message_digest",
        "Целостность документа (хеш)",
        "Document integrity (hash)",
    ),
    (
        "val_check_signing_certificate",
        "Сертификат подписавшего",
        "Signer's certificate",
    ),
    (
        "val_check_signing_certificate_reference",
        "Ссылка подписи на сертификат",
        "The signature's reference to the certificate",
    ),
    (
        "val_check_signature_value",
        "Значение подписи",
        "Signature value",
    ),
    (
        "val_check_algorithms",
        "Стойкость алгоритмов",
        "Algorithm strength",
    ),
    (
        "val_check_signature_timestamp",
        "Штамп времени подписи",
        "Signature timestamp",
    ),
    (
        "val_check_document_timestamp",
        "Штамп времени документа",
        "Document timestamp",
    ),
    (
        "val_check_key_usage",
        "Назначение ключа",
        "Key usage",
    ),
    (
        "val_check_certificate_chain",
        "Цепочка до доверенного корня",
        "Chain to a trusted root",
    ),
    (
        "val_check_revocation",
        "Отзыв сертификата подписавшего",
        "Revocation of the signer's certificate",
    ),
    (
        "val_check_revocation_ca",
        "Отзыв сертификата удостоверяющего центра",
        "Revocation of a CA certificate",
    ),
    (
        "val_check_validity_period",
        "Срок действия сертификата",
        "Certificate validity period",
    ),
    (
        "val_sub_none",
        "Документ не изменялся после подписания, сертификат подписавшего выдан доверенным удостоверяющим центром и был действителен.",
        "The document has not changed since it was signed, and the signer's certificate was issued by a trusted certificate authority and was valid.",
    ),
    (
        "val_sub_format_failure",
        "Файл не удалось прочитать как подпись: он повреждён или это не подписанный документ.",
        "The file could not be read as a signature: it is damaged or is not a signed document.",
    ),
    (
        "val_sub_hash_failure",
        "Документ изменён после подписания: подпись относится к другому содержимому.",
        "The document was changed after it was signed: the signature belongs to different content.",
    ),
    (
        "val_sub_sig_crypto_failure",
        "Подпись не соответствует ключу из сертификата: она подделана или повреждена.",
        "The signature does not match the key in the certificate: it is forged or damaged.",
    ),
    (
        "val_sub_revoked",
        "Сертификат подписавшего был отозван до подписания.",
        "The signer's certificate had been revoked before the signature was made.",
    ),
    (
        "val_sub_expired",
        "Подпись сделана после окончания срока действия сертификата.",
        "The signature was made after the certificate expired.",
    ),
    (
        "val_sub_not_yet_valid",
        "Подпись сделана до начала срока действия сертификата.",
        "The signature was made before the certificate became valid.",
    ),
    (
        "val_sub_sig_constraints_failure",
        "Подпись не отвечает требованиям политики проверки.",
        "The signature does not meet the validation policy's requirements.",
    ),
    (
        "val_sub_chain_constraints_failure",
        "Сертификат не предназначен для подписи или выдан центром, которому это не разрешено.",
        "The certificate is not meant for signing, or was issued by an authority not allowed to issue it.",
    ),
    (
        "val_sub_certificate_chain_general_failure",
        "Цепочку сертификатов не удалось проверить.",
        "The certificate chain could not be checked.",
    ),
    (
        "val_sub_crypto_constraints_failure",
        "Использован ненадёжный алгоритм или слишком короткий ключ.",
        "An unsafe algorithm or too short a key was used.",
    ),
    (
        "val_sub_crypto_constraints_failure_no_poe",
        "Алгоритм или длина ключа больше не считаются надёжными, и нет доказательства, что подпись сделана, когда они ещё были надёжны.",
        "The algorithm or key length is no longer considered safe, and nothing proves the signature was made while it still was.",
    ),
    (
        "val_sub_no_signing_certificate_found",
        "В подписи не найден сертификат подписавшего.",
        "The signer's certificate was not found in the signature.",
    ),
    (
        "val_sub_no_certificate_chain_found",
        "Сертификат подписавшего выдан удостоверяющим центром, которому этот сервис не доверяет.",
        "The signer's certificate was issued by a certificate authority this service does not trust.",
    ),
    (
        "val_sub_revoked_no_poe",
        "Сертификат подписавшего отозван, и нет доказательства (штампа времени), что подпись сделана до отзыва.",
        "The signer's certificate is revoked, and nothing (no timestamp) proves the signature was made before that.",
    ),
    (
        "val_sub_revoked_ca_no_poe",
        "Сертификат удостоверяющего центра в цепочке отозван, и нет доказательства, что подпись сделана до отзыва.",
        "A certificate authority in the chain is revoked, and nothing proves the signature was made before that.",
    ),
    (
        "val_sub_out_of_bounds_no_poe",
        "Срок действия сертификата сейчас не идёт, и нет доказательства (штампа времени), что подпись сделана в этот срок.",
        "The certificate is outside its validity period now, and nothing (no timestamp) proves the signature was made within it.",
    ),
    (
        "val_sub_out_of_bounds_not_revoked",
        "Срок действия сертификата истёк (он не отзывался), и нет доказательства, что подпись сделана в этот срок.",
        "The certificate has expired (it was not revoked), and nothing proves the signature was made while it was valid.",
    ),
    (
        "val_sub_try_later",
        "Не удалось узнать, отозван ли сертификат. Попробуйте проверить позже.",
        "Whether the certificate is revoked could not be found out. Try again later.",
    ),
    (
        "val_sub_signed_data_not_found",
        "Подписанные данные не найдены: к отдельной подписи нужно приложить документ.",
        "The signed data was not found: a separate signature needs its document.",
    ),
];
