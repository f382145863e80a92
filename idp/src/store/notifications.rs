//! The citizen's notification settings: one row per account, absent until first saved
//! (absent means the defaults: every notice, every confirmed address).

use super::sql::{query, Sql};
use super::StoreError;

/// Where notices go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Every confirmed address.
    All,
    /// The confirmed e-mail address only.
    Email,
    /// The confirmed phone only.
    Sms,
}

impl Channel {
    /// The stored and posted name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::All => "all",
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    /// Parses a stored or posted name.
    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "all" => Some(Channel::All),
            "email" => Some(Channel::Email),
            "sms" => Some(Channel::Sms),
            _ => None,
        }
    }
}

/// What the citizen wants to be told, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct NotificationSettings {
    /// The channel.
    pub channel: Channel,
    /// Whether a sign-in from a new device is told.
    pub new_device: bool,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            channel: Channel::All,
            new_device: true,
        }
    }
}

/// The settings from a row's `channel` and `new_device` columns; the defaults when the
/// account has no row (both absent).
pub(crate) fn settings_from(
    channel: Option<String>,
    new_device: Option<i64>,
) -> Result<NotificationSettings, StoreError> {
    let (Some(channel), Some(new_device)) = (channel, new_device) else {
        return Ok(NotificationSettings::default());
    };
    Ok(NotificationSettings {
        channel: Channel::parse(&channel).ok_or(StoreError::Corrupt("notification channel"))?,
        new_device: new_device != 0,
    })
}

/// Notification settings of the accounts.
pub struct NotificationPrefs<'a>(pub(crate) &'a Sql);

impl NotificationPrefs<'_> {
    /// The account's settings; the defaults when never saved.
    pub async fn get(&self, account_id: &str) -> Result<NotificationSettings, StoreError> {
        let row =
            query("SELECT channel, new_device FROM notification_settings WHERE account_id = $1")
                .bind(account_id)
                .fetch_optional(self.0)
                .await?;
        let Some(r) = row else {
            return Ok(NotificationSettings::default());
        };
        settings_from(r.try_get("channel")?, r.try_get("new_device")?)
    }

    /// Saves the account's settings.
    pub async fn set(
        &self,
        account_id: &str,
        s: &NotificationSettings,
        now: i64,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO notification_settings (account_id, channel, new_device, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (account_id) DO UPDATE SET \
             channel = excluded.channel, new_device = excluded.new_device, \
             updated_at = excluded.updated_at",
        )
        .bind(account_id)
        .bind(s.channel.as_str())
        .bind(i64::from(s.new_device))
        .bind(now)
        .execute(self.0)
        .await?;
        Ok(())
    }
}
