//! Notifications to citizens: e-mail over SMTP (lettre), SMS through an HTTP gateway, and in
//! development mode an outbox (one JSON file per message under `<data dir>/outbox`, and the
//! page `/dev/outbox`).
//!
//! Rules: a channel without a configured transport refuses to send (`NotConfigured`) except
//! in development, where the outbox receives everything (as well as any configured
//! transport). Message bodies carry one-time codes, so nothing here logs a body, an SMTP
//! password or a gateway token; failures are logged with the channel and the error only.
//!
//! Notices to a citizen ([`tell`]) follow their notification settings: the chosen channel
//! among the confirmed addresses (every confirmed one when the choice is no longer
//! confirmed), and only the kinds in [`OPTIONAL_NOTICES`] can be turned off; security
//! notices (password, factors, lock-out, deletion, contact changes) always go out.
//!
//! A notice the mail server or SMS gateway could not take for a reason that may pass (a
//! network error, an SMTP 4xx, a gateway 5xx, 408, 425, 429) is not lost: it is queued in the
//! database (`pending_notices`: address, kind and language, never a text or a code) and tried
//! again by [`spawn_retries`] on any node, with a delay that doubles from
//! [`RetryPolicy::base`] up to [`RetryPolicy::cap`], until it goes out, is refused for good,
//! or has failed [`RetryPolicy::max_attempts`] times. Messages with one-time codes are not
//! queued: the person asks for a new code.

use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where a message goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "channel", content = "to", rename_all = "lowercase")]
pub enum Recipient {
    /// An e-mail address.
    Email(String),
    /// A phone number (E.164).
    Sms(String),
}

/// One notification.
#[derive(Clone, Debug, Serialize)]
pub struct Message {
    /// The recipient.
    #[serde(flatten)]
    pub to: Recipient,
    /// What it is about (`registration_code`, `new_device`, ...), for the outbox and logs.
    pub kind: String,
    /// The e-mail subject (SMS ignores it).
    pub subject: String,
    /// The text.
    pub text: String,
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// No transport for this channel.
    #[error("no transport is configured for {0}")]
    NotConfigured(&'static str),
    /// The recipient or sender address is not usable.
    #[error("bad address: {0}")]
    Address(String),
    /// The transport failed; trying again later may succeed.
    #[error("{0}")]
    Transport(String),
    /// The mail server or SMS gateway refused the message for good (a permanent SMTP reply,
    /// an HTTP 4xx other than 408, 425 and 429): sending it again would be refused again.
    #[error("{0}")]
    Refused(String),
}

/// How long a detached delivery waits before each further attempt after a transient failure
/// (two more attempts, within a recovery code's lifetime and within the 10 s shutdown waits).
const RETRY_AFTER: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(4)];

/// How notices that failed, and back-channel logouts the first attempts did not deliver
/// ([`crate::oauth::backchannel`]), are tried again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay after the first failure; it doubles after each further one.
    pub base: Duration,
    /// Longest delay between two attempts.
    pub cap: Duration,
    /// Attempts (the first included) after which a notice is given up.
    pub max_attempts: i64,
    /// How often a node looks for due notices.
    pub interval: Duration,
}

impl Default for RetryPolicy {
    /// 1 min doubling to 1 h, twelve attempts: about seven hours.
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_secs(60),
            cap: Duration::from_secs(3600),
            max_attempts: 12,
            interval: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// When a delivery that has failed `failures` times, the last at `now`, is due again;
    /// `None` once it has had all its attempts.
    pub fn again_at(&self, failures: i64, now: i64) -> Option<i64> {
        (failures < self.max_attempts).then(|| now.saturating_add(self.delay_after(failures)))
    }

    /// The delay after the `failures`-th failure (1 = the first), seconds, at least 1.
    pub fn delay_after(&self, failures: i64) -> i64 {
        let doublings = u32::try_from(failures.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let d = self
            .base
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.cap);
        i64::try_from(d.as_secs()).unwrap_or(i64::MAX).max(1)
    }
}

/// The e-mail transport settings.
#[derive(Clone)]
pub struct SmtpSettings {
    /// `smtps://user:pass@host:465`, `smtp://host:587?tls=required`, ... (lettre's URL form).
    pub url: String,
    /// The From address, e.g. `vhod <no-reply@id.example>`.
    pub from: String,
}

/// The SMS gateway settings: vhod POSTs `{"to": "+7…", "text": "…"}` as JSON.
#[derive(Clone)]
pub struct SmsSettings {
    /// The gateway's URL.
    pub url: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub token: Option<String>,
}

/// The development outbox: recent messages in memory for the page, and one file each.
pub struct Outbox {
    dir: PathBuf,
    recent: Mutex<Vec<OutboxEntry>>,
}

/// A message as the outbox keeps it.
#[derive(Clone, Debug, Serialize)]
pub struct OutboxEntry {
    /// Unix time it was sent.
    pub at: i64,
    /// The message.
    #[serde(flatten)]
    pub message: Message,
}

/// How many messages the outbox page shows.
const OUTBOX_RECENT: usize = 200;

impl Outbox {
    /// An outbox writing into `dir` (created on first use).
    pub fn new(dir: PathBuf) -> Outbox {
        Outbox {
            dir,
            recent: Mutex::new(Vec::new()),
        }
    }

    fn put(&self, at: i64, message: &Message) -> Result<(), NotifyError> {
        let entry = OutboxEntry {
            at,
            message: message.clone(),
        };
        let json =
            serde_json::to_vec_pretty(&entry).map_err(|e| NotifyError::Transport(e.to_string()))?;
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| NotifyError::Transport(format!("outbox: {e}")))?;
        let name = format!("{at}-{}.json", crate::crypto::random_token(6));
        std::fs::write(self.dir.join(name), json)
            .map_err(|e| NotifyError::Transport(format!("outbox: {e}")))?;
        let mut recent = match self.recent.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        recent.push(entry);
        if recent.len() > OUTBOX_RECENT {
            let extra = recent.len() - OUTBOX_RECENT;
            recent.drain(..extra);
        }
        Ok(())
    }

    /// The recent messages, newest first.
    pub fn recent(&self) -> Vec<OutboxEntry> {
        let recent = match self.recent.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        recent.iter().rev().cloned().collect()
    }
}

type Mailer = lettre::AsyncSmtpTransport<lettre::Tokio1Executor>;

/// Sends notifications through whatever is configured.
pub struct Notifier {
    transports: Transports,
    /// The development outbox, if enabled.
    pub outbox: Option<Arc<Outbox>>,
    /// Deliveries under way after their answer ([`Notifier::send_detached`]), waited for at
    /// shutdown.
    pub(crate) background: tokio_util::task::TaskTracker,
    /// How failed notices are tried again.
    pub retry: RetryPolicy,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("smtp", &self.transports.smtp.is_some())
            .field("sms", &self.transports.sms.is_some())
            .field("outbox", &self.outbox.is_some())
            .finish()
    }
}

impl Notifier {
    /// A notifier with the given transports; `outbox` only in development mode.
    pub fn new(
        smtp: Option<SmtpSettings>,
        sms: Option<SmsSettings>,
        outbox: Option<Outbox>,
    ) -> Result<Notifier, NotifyError> {
        let smtp = match smtp {
            None => None,
            Some(s) => {
                let mailer = Mailer::from_url(&s.url)
                    .map_err(|e| NotifyError::Transport(format!("smtp url: {e}")))?
                    .timeout(Some(Duration::from_secs(20)))
                    .build();
                let from: lettre::message::Mailbox = s
                    .from
                    .parse()
                    .map_err(|e| NotifyError::Address(format!("email_from: {e}")))?;
                Some((mailer, from))
            }
        };
        let sms = match sms {
            None => None,
            Some(s) => {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(20))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| NotifyError::Transport(format!("sms client: {e}")))?;
                Some((client, s))
            }
        };
        Ok(Notifier {
            transports: Transports { smtp, sms },
            outbox: outbox.map(Arc::new),
            background: tokio_util::task::TaskTracker::new(),
            retry: RetryPolicy::default(),
        })
    }

    /// The same notifier trying failed notices again as `retry` says.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Notifier {
        self.retry = retry;
        self
    }

    /// Whether `channel` (`email` or `sms`) can deliver (a transport, or the outbox).
    pub fn can_send(&self, to: &Recipient) -> bool {
        self.outbox.is_some()
            || match to {
                Recipient::Email(_) => self.transports.smtp.is_some(),
                Recipient::Sms(_) => self.transports.sms.is_some(),
            }
    }

    /// Sends `m` at unix time `now` without waiting for the mail or SMS server: the outbox
    /// (development mode) gets it at once, the transport on a task of its own, which
    /// [`crate::app::App::finish_background`] waits for at shutdown. Nobody is waiting to be
    /// told of a failure, so a transient one (a network error, an SMTP 4xx, a gateway 5xx,
    /// 408, 425 or 429) is tried again after 1 s and after 4 s more, and a failure that stays
    /// is logged. For answers whose timing must not tell whether anything was sent: password
    /// recovery writes only to logins that exist, and an SMTP or gateway round trip (tens to
    /// hundreds of milliseconds) would tell a caller which ones do. Fails at once only when no
    /// transport serves the channel, or the outbox cannot keep the message.
    pub fn send_detached(&self, m: Message, now: i64) -> Result<(), NotifyError> {
        if !self.can_send(&m.to) {
            return Err(NotifyError::NotConfigured(match m.to {
                Recipient::Email(_) => "e-mail",
                Recipient::Sms(_) => "SMS",
            }));
        }
        if let Some(o) = &self.outbox {
            o.put(now, &m)?;
        }
        let transports = self.transports.clone();
        self.background.spawn(async move {
            let mut waits = RETRY_AFTER.iter();
            loop {
                // Only the outbox serves the channel: it has the message.
                let sent = transports.deliver(&m).await.unwrap_or(Ok(()));
                match (sent, waits.next()) {
                    (Ok(()), _) => break,
                    (Err(e @ NotifyError::Transport(_)), Some(wait)) => {
                        tracing::warn!(kind = %m.kind, error = %e, retry_in_s = wait.as_secs(), "notification not sent yet");
                        tokio::time::sleep(*wait).await;
                    }
                    (Err(e), _) => {
                        tracing::error!(kind = %m.kind, error = %e, "notification not sent");
                        break;
                    }
                }
            }
        });
        Ok(())
    }

    /// Waits for the deliveries [`Notifier::send_detached`] left under way, their further
    /// attempts included.
    pub async fn finish_detached(&self) {
        self.background.close();
        self.background.wait().await;
    }

    /// Sends `m` at unix time `now`.
    pub async fn send(&self, m: &Message, now: i64) -> Result<(), NotifyError> {
        if let Some(o) = &self.outbox {
            o.put(now, m)?;
        }
        self.transport(m).await
    }

    /// Sends `m` through its channel's transport only (the outbox has it already).
    async fn transport(&self, m: &Message) -> Result<(), NotifyError> {
        match self.transports.deliver(m).await {
            Some(Err(e)) => {
                tracing::error!(kind = %m.kind, error = %e, "notification not sent");
                Err(e)
            }
            Some(Ok(())) => Ok(()),
            None if self.outbox.is_some() => Ok(()),
            None => Err(NotifyError::NotConfigured(match m.to {
                Recipient::Email(_) => "e-mail",
                Recipient::Sms(_) => "SMS",
            })),
        }
    }
}

/// The mail and SMS transports, cheap to clone onto a delivery's own task.
#[derive(Clone)]
struct Transports {
    smtp: Option<(Mailer, lettre::message::Mailbox)>,
    sms: Option<(reqwest::Client, SmsSettings)>,
}

impl Transports {
    /// Delivers `m` through its channel's transport; `None` when no transport serves it.
    async fn deliver(&self, m: &Message) -> Option<Result<(), NotifyError>> {
        match &m.to {
            Recipient::Email(addr) => match &self.smtp {
                Some((mailer, from)) => Some(send_email(mailer, from, addr, m).await),
                None => None,
            },
            Recipient::Sms(phone) => match &self.sms {
                Some((client, s)) => Some(send_sms(client, s, phone, &m.text).await),
                None => None,
            },
        }
    }
}

async fn send_email(
    mailer: &Mailer,
    from: &lettre::message::Mailbox,
    to: &str,
    m: &Message,
) -> Result<(), NotifyError> {
    use lettre::AsyncTransport;
    let to: lettre::message::Mailbox = to
        .parse()
        .map_err(|e| NotifyError::Address(format!("{e}")))?;
    let email = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(m.subject.clone())
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(m.text.clone())
        .map_err(|e| NotifyError::Transport(e.to_string()))?;
    mailer.send(email).await.map(|_| ()).map_err(|e| {
        if e.is_permanent() {
            NotifyError::Refused(format!("smtp: {e}"))
        } else {
            NotifyError::Transport(format!("smtp: {e}"))
        }
    })
}

async fn send_sms(
    client: &reqwest::Client,
    s: &SmsSettings,
    phone: &str,
    text: &str,
) -> Result<(), NotifyError> {
    let mut rb = client
        .post(&s.url)
        .json(&serde_json::json!({ "to": phone, "text": text }));
    if let Some(t) = &s.token {
        rb = rb.bearer_auth(t);
    }
    let r = rb
        .send()
        .await
        .map_err(|e| NotifyError::Transport(format!("sms gateway: {}", e.without_url())))?;
    let status = r.status();
    let what = format!("sms gateway: HTTP {}", status.as_u16());
    if status.is_success() {
        Ok(())
    } else if status.is_client_error() && ![408, 425, 429].contains(&status.as_u16()) {
        Err(NotifyError::Refused(what))
    } else {
        Err(NotifyError::Transport(what))
    }
}

/// `GET /dev/outbox`: the development outbox, newest first; 404 outside development mode.
pub async fn outbox_page(
    axum::extract::State(app): axum::extract::State<crate::app::AppState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    let lang = crate::i18n::Lang::choose(&[], &headers);
    let Some(outbox) = &app.notifier.outbox else {
        // Outside development mode the page does not exist, like any unknown path.
        return crate::api_error::problem(
            axum::http::StatusCode::NOT_FOUND,
            "Not Found",
            "no such resource",
        );
    };
    let messages = outbox.recent();
    app.pages.page(
        axum::http::StatusCode::OK,
        "outbox.html",
        lang,
        minijinja::context! { messages },
    )
}

/// Notices a citizen may turn off; every other kind is security-critical and always sent.
pub const OPTIONAL_NOTICES: &[&str] = &["new_device"];

/// The addresses a notice of `kind` to `a` goes to under the settings `s`.
pub fn recipients(
    a: &crate::store::Account,
    kind: &str,
    s: &crate::store::notifications::NotificationSettings,
) -> Vec<Recipient> {
    use crate::store::notifications::Channel;
    if kind == "new_device" && !s.new_device {
        return Vec::new();
    }
    let mut confirmed = Vec::new();
    if let (Some(e), true) = (&a.email, a.email_verified) {
        confirmed.push(Recipient::Email(e.clone()));
    }
    if let (Some(p), true) = (&a.phone, a.phone_verified) {
        confirmed.push(Recipient::Sms(p.clone()));
    }
    let chosen: Vec<Recipient> = confirmed
        .iter()
        .filter(|r| {
            matches!(
                (s.channel, r),
                (Channel::All, _)
                    | (Channel::Email, Recipient::Email(_))
                    | (Channel::Sms, Recipient::Sms(_))
            )
        })
        .cloned()
        .collect();
    // A channel chosen earlier and no longer confirmed does not silence the account.
    if chosen.is_empty() {
        confirmed
    } else {
        chosen
    }
}

/// Tells the citizen about `kind` (texts `{kind}_subject`, `{kind}_text`) as their settings
/// say. Best effort: what happened stands whether or not the message goes out.
pub async fn tell(
    app: &crate::app::App,
    a: &crate::store::Account,
    kind: &str,
    lang: crate::i18n::Lang,
) {
    let settings = match app.db.notification_settings().get(&a.id).await {
        Ok(s) => s,
        Err(e) => {
            // The defaults tell more, never less.
            tracing::error!(error = %e, "notification settings lookup failed");
            Default::default()
        }
    };
    tell_as(app, a, kind, lang, &settings);
}

/// [`tell`] with the account's notification settings already read. The request does not
/// wait for the mail server or SMS gateway ([`notice_detached`]).
pub fn tell_as(
    app: &crate::app::App,
    a: &crate::store::Account,
    kind: &str,
    lang: crate::i18n::Lang,
    settings: &crate::store::notifications::NotificationSettings,
) {
    let now = app.now();
    for to in recipients(a, kind, settings) {
        notice_detached(&app.notifier, &app.db, to, kind, lang, now);
    }
}

/// [`tell_as`] through `notifier`, outside a running server (the command line), waiting for
/// the deliveries; a notice that failed for a reason that may pass is queued in `db` for a
/// running server to try again.
pub async fn tell_with(
    notifier: &Notifier,
    db: &crate::store::Db,
    a: &crate::store::Account,
    kind: &str,
    lang: crate::i18n::Lang,
    settings: &crate::store::notifications::NotificationSettings,
    now: i64,
) {
    for to in recipients(a, kind, settings) {
        notice_detached(notifier, db, to, kind, lang, now);
    }
    notifier.finish_detached().await;
}

/// Sends one notice of `kind` to `to`, best effort, without waiting for the transport
/// ([`notice_detached`]).
pub fn send_notice(app: &crate::app::App, to: Recipient, kind: &str, lang: crate::i18n::Lang) {
    notice_detached(&app.notifier, &app.db, to, kind, lang, app.now());
}

fn notice_message(to: Recipient, kind: &str, lang: crate::i18n::Lang) -> Message {
    Message {
        to,
        kind: kind.into(),
        subject: lang.t(&format!("{kind}_subject")).into(),
        text: lang.t(&format!("{kind}_text")).into(),
    }
}

/// Sends a notice from a task of its own: a sign-in from a new browser, a password change or
/// a contact change answers without waiting for an SMTP or gateway round trip (up to the
/// transports' 20 s timeout when the server hangs, on every such request). The development
/// outbox gets the message at once. The notice is written to `db`'s queue before the
/// transport is tried and removed once it went out (or was refused for good); one that
/// failed for a reason that may pass stays, due again for [`spawn_retries`]. Shutdown waits for the deliveries under way
/// ([`crate::app::App::finish_background`]; the command line, [`tell_with`]).
fn notice_detached(
    notifier: &Notifier,
    db: &crate::store::Db,
    to: Recipient,
    kind: &str,
    lang: crate::i18n::Lang,
    now: i64,
) {
    if !notifier.can_send(&to) {
        // As [`Notifier::send`] refuses it: nothing could ever deliver it, so nothing is queued.
        return;
    }
    let m = notice_message(to, kind, lang);
    // As in [`Notifier::send`], a message the outbox could not keep goes no further.
    let kept = match &notifier.outbox {
        Some(o) => o.put(now, &m),
        None => Ok(()),
    };
    let transports = notifier.transports.clone();
    let retry = notifier.retry;
    let db = db.clone();
    let kind = kind.to_owned();
    notifier.background.spawn(async move {
        let queue = db.pending_notices();
        // Written before the transport is tried and held for [`CLAIM_FOR`], so a node that
        // stops while the mail server or gateway works leaves it to be sent by another.
        let row = match &kept {
            Ok(()) => {
                let held = now.saturating_add(CLAIM_FOR);
                match queue.add(&m.to, &kind, lang.tag(), 0, held, now).await {
                    Ok(id) => Some(id),
                    Err(e) => {
                        tracing::error!(kind, error = %e, "notice not queued; sent from memory");
                        None
                    }
                }
            }
            Err(_) => None,
        };
        let sent = match kept {
            // No transport serves the channel: `can_send` says the outbox then does.
            Ok(()) => transports.deliver(&m).await.unwrap_or(Ok(())),
            Err(e) => Err(e),
        };
        let rows = queue.rows();
        match (sent, row) {
            (Ok(()), Some(id)) => rows.settle(&id, 0, None).await,
            (Ok(()), None) => {}
            (Err(e @ NotifyError::Transport(_)), Some(id)) => {
                tracing::error!(kind, error = %e, "notification not sent");
                let next = now.saturating_add(retry.delay_after(1));
                tracing::info!(kind, retry_at = next, "notice queued to be tried again");
                rows.settle(&id, 1, Some(next)).await;
            }
            (Err(e @ NotifyError::Transport(_)), None) => {
                tracing::error!(kind, error = %e, "notification not sent");
                enqueue(&retry, &db, &m.to, &kind, lang, now).await;
            }
            (Err(e), row) => {
                tracing::error!(kind, error = %e, "notification not sent");
                if let Some(id) = row {
                    rows.settle(&id, 0, None).await;
                }
            }
        }
    });
}

/// Queues a notice that failed for a reason that may pass, to be tried again.
async fn enqueue(
    retry: &RetryPolicy,
    db: &crate::store::Db,
    to: &Recipient,
    kind: &str,
    lang: crate::i18n::Lang,
    now: i64,
) {
    let next = now.saturating_add(retry.delay_after(1));
    match db
        .pending_notices()
        .add(to, kind, lang.tag(), 1, next, now)
        .await
    {
        Ok(_) => tracing::info!(kind, retry_at = next, "notice queued to be tried again"),
        Err(e) => tracing::error!(kind, error = %e, "a failed notice could not be queued"),
    }
}

/// How long a node holds a claimed notice before another may take it, seconds: longer than
/// a delivery can take (the transports time out after 20 s).
const CLAIM_FOR: i64 = 120;

/// One pass over the queued notices due at `now`: each is claimed (one node wins), sent
/// again, then removed, or put back with a longer delay, or given up (a refusal for good,
/// or [`RetryPolicy::max_attempts`] reached). Safe on any number of nodes at once.
pub async fn retry_pending(notifier: &Notifier, db: &crate::store::Db, now: i64) {
    let queue = db.pending_notices();
    let due = match queue.due(now, 50).await {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "queued notices could not be read");
            return;
        }
    };
    let rows = queue.rows();
    for n in due {
        if !rows
            .take(&n.id, n.next_at, now.saturating_add(CLAIM_FOR))
            .await
        {
            continue;
        }
        let lang = crate::i18n::Lang::of_locale(Some(&n.lang));
        let m = notice_message(n.to.clone(), &n.kind, lang);
        let attempts = n.attempts.saturating_add(1);
        let again = match notifier.transport(&m).await {
            Ok(()) => {
                tracing::info!(kind = %n.kind, attempts, "queued notice sent");
                None
            }
            Err(e @ NotifyError::Transport(_)) => {
                let again = notifier.retry.again_at(attempts, now);
                if again.is_none() {
                    tracing::error!(kind = %n.kind, attempts, error = %e, "queued notice given up");
                }
                again
            }
            Err(e) => {
                tracing::error!(kind = %n.kind, attempts, error = %e, "queued notice given up");
                None
            }
        };
        rows.settle(&n.id, attempts, again).await;
    }
}

/// Tries queued notices, and queued back-channel logouts
/// ([`crate::oauth::backchannel::retry_pending`]), again every [`RetryPolicy::interval`]
/// while `app` lives.
pub fn spawn_retries(app: &Arc<crate::app::App>) -> tokio::task::JoinHandle<()> {
    let me = Arc::downgrade(app);
    let every = app.notifier.retry.interval.max(Duration::from_millis(10));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(app) = me.upgrade() else { break };
            retry_pending(&app.notifier, &app.db, app.now()).await;
            crate::oauth::backchannel::retry_pending(&app, app.now()).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_from_the_base_up_to_the_cap_and_is_at_least_a_second() {
        let p = RetryPolicy::default();
        let delays: Vec<i64> = (1..=8).map(|n| p.delay_after(n)).collect();
        assert_eq!(delays, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(p.delay_after(i64::MAX), 3600);
        assert_eq!(p.delay_after(0), 60);
        let fast = RetryPolicy {
            base: Duration::from_millis(100),
            ..p
        };
        assert_eq!(fast.delay_after(1), 1);
    }
}
