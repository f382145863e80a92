//! How a client of the signing API names the citizen who is to sign: by the `sub` it was
//! told at sign-in, which for a client with pairwise subject identifiers (OpenID Connect
//! Core 1.0 §8.1) is not the account's id. The IdP knows the clients; it supplies the
//! mapping with [`crate::Signer::with_subjects`].

/// Why a `sub` could not be read or made (a store failure).
pub type SubjectError = Box<dyn std::error::Error + Send + Sync>;

/// The two directions of a client's identifiers.
#[async_trait::async_trait]
pub trait Subjects: Send + Sync {
    /// The account that `client_id` names `sub`; `None` when it names none this client
    /// could have been told of.
    async fn account(&self, client_id: &str, sub: &str) -> Result<Option<String>, SubjectError>;
    /// The `sub` that `client_id` knows `account_id` as.
    async fn subject(&self, client_id: &str, account_id: &str) -> Result<String, SubjectError>;
}

/// Every client is told the account's own id (public identifiers only).
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicSubjects;

#[async_trait::async_trait]
impl Subjects for PublicSubjects {
    async fn account(&self, _: &str, sub: &str) -> Result<Option<String>, SubjectError> {
        Ok(Some(sub.to_owned()))
    }
    async fn subject(&self, _: &str, account_id: &str) -> Result<String, SubjectError> {
        Ok(account_id.to_owned())
    }
}
