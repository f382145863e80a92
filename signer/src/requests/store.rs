//! The signer's tables for requests: `signer_requests` and `signer_documents` (both backends;
//! documents and signatures as BLOB / BYTEA).

use super::{Format, Level};
use crate::Signer;
use sqlx::Row;

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Waiting for the citizen.
    Pending,
    /// Signed: every document has its signature.
    Signed,
    /// The citizen declined.
    Declined,
    /// Nobody acted before `expires_at`.
    Expired,
}

impl Status {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Signed => "signed",
            Status::Declined => "declined",
            Status::Expired => "expired",
        }
    }
}

/// A document as listed (without its bytes).
#[derive(Clone, Debug)]
pub struct DocumentInfo {
    /// Position, from 1.
    pub n: i64,
    /// The file name the client gave.
    pub name: String,
    /// The media type recognised from the content.
    pub media_type: String,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
    /// Whether a signature is stored.
    pub signed: bool,
}

/// A request as stored, with its documents.
#[derive(Clone, Debug)]
pub struct RequestInfo {
    /// The request id.
    pub id: String,
    /// The client that made it.
    pub client_id: String,
    /// The account that is to sign.
    pub account_id: String,
    /// The signature format.
    pub format: Format,
    /// The baseline level.
    pub level: Level,
    /// Where it stands now.
    pub status: Status,
    /// Where events are posted, if anywhere.
    pub webhook_url: Option<String>,
    /// The digest of the document set (see [`super::set_digest`]).
    pub set_digest: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// When it was signed or declined.
    pub decided_at: Option<i64>,
    /// The certificate that signed (serial, DER).
    pub certificate: Option<(String, Vec<u8>)>,
    /// Wrong confirmations so far.
    pub failed_attempts: i64,
    /// The documents, in order.
    pub documents: Vec<DocumentInfo>,
}

/// A new document, checked.
pub(crate) struct NewDocument {
    pub name: String,
    pub media_type: &'static str,
    pub content: Vec<u8>,
    pub sha256: String,
}

/// A new request, checked.
pub(crate) struct NewRequest<'a> {
    pub id: &'a str,
    pub client_id: &'a str,
    pub account_id: &'a str,
    pub format: Format,
    pub level: Level,
    pub webhook_url: Option<&'a str>,
    pub set_digest: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

const COLUMNS: &str = "id, client_id, account_id, format, level, status, webhook_url, \
                       set_digest, created_at, expires_at, decided_at, cert_serial, cert_der, \
                       failed_attempts";

fn corrupt(what: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("signer_requests: unreadable {what}").into())
}

impl Signer {
    pub(crate) async fn insert_request(
        &self,
        r: &NewRequest<'_>,
        docs: &[NewDocument],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO signer_requests (id, client_id, account_id, format, level, status, \
             webhook_url, set_digest, created_at, expires_at, failed_attempts) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, 0)",
        )
        .bind(r.id)
        .bind(r.client_id)
        .bind(r.account_id)
        .bind(r.format.as_str())
        .bind(r.level.as_str())
        .bind(r.webhook_url)
        .bind(r.set_digest)
        .bind(r.created_at)
        .bind(r.expires_at)
        .execute(&mut *tx)
        .await?;
        for (i, d) in docs.iter().enumerate() {
            sqlx::query(
                "INSERT INTO signer_documents (request_id, n, name, media_type, size, sha256, \
                 content) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(r.id)
            .bind(i64::try_from(i + 1).unwrap_or(i64::MAX))
            .bind(&d.name)
            .bind(d.media_type)
            .bind(i64::try_from(d.content.len()).unwrap_or(i64::MAX))
            .bind(&d.sha256)
            .bind(d.content.as_slice())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// The request `id` with its documents, if it exists.
    pub async fn request(&self, id: &str) -> Result<Option<RequestInfo>, sqlx::Error> {
        let q = format!("SELECT {COLUMNS} FROM signer_requests WHERE id = $1");
        let Some(row) = sqlx::query(&q).bind(id).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let mut r = self.row_to_request(&row)?;
        r.documents = self.documents(id).await?;
        Ok(Some(r))
    }

    /// The requests addressed to `account_id`, newest first, with their documents.
    pub async fn requests_for_account(
        &self,
        account_id: &str,
        limit: i64,
    ) -> Result<Vec<RequestInfo>, sqlx::Error> {
        let q = format!(
            "SELECT {COLUMNS} FROM signer_requests WHERE account_id = $1 \
             ORDER BY created_at DESC, id LIMIT $2"
        );
        let rows = sqlx::query(&q)
            .bind(account_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut r = self.row_to_request(row)?;
            r.documents = self.documents(&r.id).await?;
            out.push(r);
        }
        Ok(out)
    }

    async fn documents(&self, id: &str) -> Result<Vec<DocumentInfo>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT n, name, media_type, size, sha256, \
             CASE WHEN signature IS NULL THEN 0 ELSE 1 END AS signed \
             FROM signer_documents WHERE request_id = $1 ORDER BY n",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DocumentInfo {
                    n: r.try_get("n")?,
                    name: r.try_get("name")?,
                    media_type: r.try_get("media_type")?,
                    size: r.try_get("size")?,
                    sha256: r.try_get("sha256")?,
                    signed: r.try_get::<i32, _>("signed")? != 0,
                })
            })
            .collect()
    }

    /// Document `n` of request `id`: its content and, once signed, its signature.
    pub async fn document_bytes(
        &self,
        id: &str,
        n: i64,
    ) -> Result<Option<(Vec<u8>, Option<Vec<u8>>)>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT content, signature FROM signer_documents WHERE request_id = $1 AND n = $2",
        )
        .bind(id)
        .bind(n)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get("content")?, r.try_get("signature")?)))
            .transpose()
    }

    fn row_to_request(&self, r: &sqlx::any::AnyRow) -> Result<RequestInfo, sqlx::Error> {
        let status: String = r.try_get("status")?;
        let expires_at: i64 = r.try_get("expires_at")?;
        let status = match status.as_str() {
            "pending" if expires_at <= self.clock.now() => Status::Expired,
            "pending" => Status::Pending,
            "signed" => Status::Signed,
            "declined" => Status::Declined,
            "expired" => Status::Expired,
            _ => return Err(corrupt("status")),
        };
        let format: String = r.try_get("format")?;
        let level: String = r.try_get("level")?;
        let serial: Option<String> = r.try_get("cert_serial")?;
        let der: Option<Vec<u8>> = r.try_get("cert_der")?;
        Ok(RequestInfo {
            id: r.try_get("id")?,
            client_id: r.try_get("client_id")?,
            account_id: r.try_get("account_id")?,
            format: Format::parse(&format).ok_or_else(|| corrupt("format"))?,
            level: Level::parse(&level).ok_or_else(|| corrupt("level"))?,
            status,
            webhook_url: r.try_get("webhook_url")?,
            set_digest: r.try_get("set_digest")?,
            created_at: r.try_get("created_at")?,
            expires_at,
            decided_at: r.try_get("decided_at")?,
            certificate: serial.zip(der),
            failed_attempts: r.try_get("failed_attempts")?,
            documents: Vec::new(),
        })
    }
}
