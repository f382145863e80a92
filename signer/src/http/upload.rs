//! Reading a document and its optional detached signature from a `multipart/form-data` body
//! (RFC 7578), for the validation API and the public validation page alike.
//!
//! - the parts `document` and `signature` are read chunk by chunk and refused as soon as they
//!   pass [`MAX_DOCUMENT`] / [`MAX_SIGNATURE`], so an oversized upload is never held whole;
//! - an empty `signature` part (a browser's file input left empty) counts as none;
//! - other parts are short text fields (the page's CSRF token), at most [`MAX_FIELDS`] of at
//!   most [`MAX_FIELD`] bytes each.

use crate::{MAX_DOCUMENT, MAX_SIGNATURE};
use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::http::StatusCode;

/// The most text fields accepted beside the files.
pub const MAX_FIELDS: usize = 8;
/// The longest text field accepted.
pub const MAX_FIELD: usize = 1024;

/// What a validation upload holds.
#[derive(Debug, Default)]
pub struct Upload {
    /// The `document` part.
    pub document: Option<Vec<u8>>,
    /// The `signature` part, unless absent or empty.
    pub signature: Option<Vec<u8>>,
    /// Other parts, as text.
    pub fields: Vec<(String, String)>,
}

impl Upload {
    /// A text field by name.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why an upload could not be read.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// A part, or the whole body, is over its limit.
    #[error("{0}")]
    TooLarge(String),
    /// The body is not well-formed multipart, or has unexpected parts.
    #[error("{0}")]
    Malformed(String),
}

impl UploadError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            UploadError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            UploadError::Malformed(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl From<MultipartError> for UploadError {
    fn from(e: MultipartError) -> Self {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            UploadError::TooLarge(format!(
                "the upload is larger than a document of {} bytes and a signature of {} bytes",
                MAX_DOCUMENT, MAX_SIGNATURE
            ))
        } else {
            UploadError::Malformed(format!(
                "the multipart body is malformed: {}",
                e.body_text()
            ))
        }
    }
}

/// The most a whole upload can take: both files and room for the multipart framing and fields.
pub const MAX_BODY: usize = MAX_DOCUMENT + MAX_SIGNATURE + 64 * 1024;

/// Reads every part of `multipart`.
pub async fn read(mut multipart: Multipart) -> Result<Upload, UploadError> {
    let mut upload = Upload::default();
    while let Some(field) = multipart.next_field().await? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "document" if upload.document.is_none() => {
                upload.document = Some(bounded(field, MAX_DOCUMENT, "the document").await?);
            }
            "signature" if upload.signature.is_none() => {
                let bytes = bounded(field, MAX_SIGNATURE, "the signature").await?;
                upload.signature = (!bytes.is_empty()).then_some(bytes);
            }
            "document" | "signature" => {
                return Err(UploadError::Malformed(format!("more than one {name} part")));
            }
            _ => {
                if upload.fields.len() >= MAX_FIELDS {
                    return Err(UploadError::Malformed("too many form fields".into()));
                }
                let bytes = bounded(field, MAX_FIELD, "a form field").await?;
                let text = String::from_utf8(bytes).map_err(|_| {
                    UploadError::Malformed(format!("the field {name:?} is not UTF-8"))
                })?;
                upload.fields.push((name, text));
            }
        }
    }
    Ok(upload)
}

/// A part's bytes, refused once they pass `limit`.
async fn bounded(mut field: Field<'_>, limit: usize, what: &str) -> Result<Vec<u8>, UploadError> {
    let mut out = Vec::new();
    while let Some(chunk) = field.chunk().await? {
        if out.len() + chunk.len() > limit {
            return Err(UploadError::TooLarge(format!(
                "{what} is larger than {limit} bytes"
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
