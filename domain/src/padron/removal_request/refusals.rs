//! Why a removal-request command is refused.

/// Why a removal-request command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestRefusal {
    /// Submitted twice.
    #[error("the request is already submitted")]
    AlreadySubmitted,
    /// Anything on a request never submitted.
    #[error("there is no such removal request")]
    NotSubmitted,
    /// Decided already.
    #[error("the request was already examined ({0})")]
    Examined(&'static str),
    /// The declaration that the data are true is missing.
    #[error("the requester must declare the data true, having been warned that declaring false data may be an offence")]
    NotDeclaredTrue,
    /// Nothing said of the whereabouts.
    #[error("a request for removal must say what is known of the person's whereabouts")]
    WhereaboutsMissing,
}
