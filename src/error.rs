//! The one error type of the crate.
//!
//! An [`Error`] carries a [`ErrorKind`] (which decides the HTTP status), an
//! optional client-safe message, an optional internal source (only ever
//! logged) and the caller's location. It is rendered once per surface: JSON
//! `{"error": …}` here, HTML pages in `web`. Tests assert on the kind, never on
//! the text.

use actix_web::{http::StatusCode, HttpResponse, ResponseError};
use std::{fmt, panic::Location};

/// What went wrong, as far as the caller is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Gone,
    Conflict,
    PayloadTooLarge,
    Unprocessable,
    TooManyRequests,
    /// A remote server misbehaved or could not be reached.
    Federation,
    Unavailable,
    Internal,
    /// Not a failure: an inbox received an activity it has processed
    /// before. It travels the error path only because the federation crate's
    /// receive hook can stop processing by returning an error; the inbox
    /// answers it with 202 Accepted.
    AlreadyProcessed,
}

impl ErrorKind {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Gone => StatusCode::GONE,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Federation => StatusCode::BAD_GATEWAY,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::AlreadyProcessed => StatusCode::ACCEPTED,
        }
    }

    fn default_message(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad request",
            ErrorKind::Unauthorized => "not authorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "record not found",
            ErrorKind::Gone => "gone",
            ErrorKind::Conflict => "conflict",
            ErrorKind::PayloadTooLarge => "payload too large",
            ErrorKind::Unprocessable => "validation failed",
            ErrorKind::TooManyRequests => "too many requests",
            ErrorKind::Federation => "a remote server did not answer as expected",
            ErrorKind::Unavailable => "service unavailable",
            ErrorKind::Internal => "internal server error",
            ErrorKind::AlreadyProcessed => "already processed",
        }
    }
}

/// See the module documentation.
pub struct Error {
    pub kind: ErrorKind,
    message: Option<String>,
    source: Option<anyhow::Error>,
    location: &'static Location<'static>,
}

/// The crate-wide result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    #[track_caller]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: Some(message.into()),
            source: None,
            location: Location::caller(),
        }
    }

    #[track_caller]
    pub fn bad_request(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::BadRequest, message)
    }

    #[track_caller]
    pub fn not_found(what: impl Into<String>) -> Error {
        Error::new(ErrorKind::NotFound, what)
    }

    #[track_caller]
    pub fn conflict(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Conflict, message)
    }

    #[track_caller]
    pub fn unprocessable(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Unprocessable, message)
    }

    #[track_caller]
    pub fn forbidden(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Forbidden, message)
    }

    #[track_caller]
    pub fn unauthorized(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Unauthorized, message)
    }

    /// An internal failure; `source` is logged, never shown.
    #[track_caller]
    pub fn internal(source: impl Into<anyhow::Error>) -> Error {
        Error::from_source(ErrorKind::Internal, source)
    }

    #[track_caller]
    pub fn from_source(kind: ErrorKind, source: impl Into<anyhow::Error>) -> Error {
        Error {
            kind,
            message: None,
            source: Some(source.into()),
            location: Location::caller(),
        }
    }

    /// Whether the database refused a row because an equal one exists: on
    /// PostgreSQL, usually a concurrent request that stored the same thing
    /// between this one's read and its write. Doing the work again then
    /// finds the other's row.
    pub fn is_unique_violation(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error as D};
        matches!(
            self.source.as_ref().and_then(|s| s.downcast_ref::<D>()),
            Some(D::DatabaseError(DatabaseErrorKind::UniqueViolation, _))
        )
    }

    /// Replaces the kind, keeping message and source.
    pub fn with_kind(mut self, kind: ErrorKind) -> Error {
        self.kind = kind;
        self
    }

    /// Sets the client-safe message.
    pub fn with_message(mut self, message: impl Into<String>) -> Error {
        self.message = Some(message.into());
        self
    }

    /// The text a client may see.
    pub fn safe_message(&self) -> &str {
        match (&self.message, self.kind) {
            // 5xx never leak internals; a message set on purpose is fine.
            (Some(m), _) => m,
            (None, kind) => kind.default_message(),
        }
    }

    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.safe_message())?;
        if let Some(source) = &self.source {
            write!(f, ": {source:#}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {} (at {})", self.kind, self, self.location)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|s| s.as_ref() as _)
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        self.kind.status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        } else {
            tracing::debug!(error = ?self, "request refused");
        }
        HttpResponse::build(status).json(serde_json::json!({ "error": self.safe_message() }))
    }
}

impl From<diesel::result::Error> for Error {
    #[track_caller]
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error as D};
        let kind = match &e {
            D::NotFound => ErrorKind::NotFound,
            D::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => ErrorKind::Conflict,
            _ => ErrorKind::Internal,
        };
        Error::from_source(kind, e)
    }
}

impl From<diesel::r2d2::PoolError> for Error {
    #[track_caller]
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Error::from_source(ErrorKind::Unavailable, e).with_message("database unavailable")
    }
}

impl From<tokio::task::JoinError> for Error {
    #[track_caller]
    fn from(e: tokio::task::JoinError) -> Self {
        Error::internal(e)
    }
}

impl From<openssl::error::ErrorStack> for Error {
    #[track_caller]
    fn from(e: openssl::error::ErrorStack) -> Self {
        Error::internal(e)
    }
}

impl From<serde_json::Error> for Error {
    #[track_caller]
    fn from(e: serde_json::Error) -> Self {
        Error::internal(e)
    }
}

impl From<url::ParseError> for Error {
    #[track_caller]
    fn from(e: url::ParseError) -> Self {
        Error::internal(e)
    }
}

impl From<activitypub_federation::error::Error> for Error {
    /// Maps the federation crate's errors to what a remote server should be
    /// told: bad signatures are 401, malformed activities 400 (research/stack.md
    /// §3 found a missing signature surfacing as 500 without this).
    #[track_caller]
    fn from(e: activitypub_federation::error::Error) -> Self {
        use activitypub_federation::error::Error as F;
        let kind = match &e {
            F::NotFound => ErrorKind::NotFound,
            F::ObjectDeleted(_) => ErrorKind::Gone,
            F::ActivitySignatureInvalid | F::ActivityBodyDigestInvalid => ErrorKind::Unauthorized,
            F::Other(msg) if msg.contains("Signature is missing") => ErrorKind::Unauthorized,
            F::ParseReceivedActivity { .. } | F::UrlVerificationError(_) => ErrorKind::BadRequest,
            F::WebfingerResolveFailed(_)
            | F::RequestLimit
            | F::ResponseBodyLimit
            | F::FetchInvalidContentType(_)
            | F::FetchWrongId(_)
            | F::DomainResolveError(_)
            | F::ResolveInternalIpError(..)
            | F::ParseFetchedObject(..)
            | F::Reqwest(_)
            | F::ReqwestMiddleware(_) => ErrorKind::Federation,
            _ => ErrorKind::Internal,
        };
        let message = match kind {
            ErrorKind::Internal => None,
            _ => Some(e.to_string()),
        };
        let mut err = Error::from_source(kind, e);
        err.message = message;
        err
    }
}

/// Tags a foreign error with a kind and a client-safe message.
pub trait ResultExt<T> {
    #[track_caller]
    fn or_kind(self, kind: ErrorKind, message: &str) -> Result<T>;
}

impl<T, E: Into<anyhow::Error>> ResultExt<T> for std::result::Result<T, E> {
    #[track_caller]
    fn or_kind(self, kind: ErrorKind, message: &str) -> Result<T> {
        let location = Location::caller();
        self.map_err(|e| Error {
            kind,
            message: Some(message.to_string()),
            source: Some(e.into()),
            location,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diesel_errors_map_to_kinds() {
        let e: Error = diesel::result::Error::NotFound.into();
        assert_eq!(e.kind, ErrorKind::NotFound);
        let e: Error = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            Box::new("dup".to_string()),
        )
        .into();
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert!(e.is_unique_violation());
        assert!(!Error::conflict("name taken").is_unique_violation());
        let e: Error = diesel::result::Error::RollbackTransaction.into();
        assert_eq!(e.kind, ErrorKind::Internal);
    }

    #[test]
    fn internal_errors_do_not_leak() {
        let e = Error::internal(anyhow::anyhow!("password=hunter2"));
        assert_eq!(e.safe_message(), "internal server error");
        assert_eq!(e.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn federation_errors_map_to_statuses() {
        use activitypub_federation::error::Error as F;
        let e: Error = F::ActivitySignatureInvalid.into();
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        let e: Error = F::Other("Http Signature is missing".into()).into();
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        let e: Error = F::UrlVerificationError("nope").into();
        assert_eq!(e.kind, ErrorKind::BadRequest);
        let e: Error = F::NotFound.into();
        assert_eq!(e.kind, ErrorKind::NotFound);
    }

    #[test]
    fn error_records_caller_location() {
        let e = Error::not_found("user");
        assert!(e.location().file().ends_with("error.rs"));
    }
}
