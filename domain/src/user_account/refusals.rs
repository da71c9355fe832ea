//! Why an account command is refused, in words for the person registering.

/// Why a command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Register twice.
    #[error("this person is already registered")]
    AlreadyRegistered,
    /// Anything on an unregistered account.
    #[error("there is no such registration")]
    NotRegistered,
    /// A legal person without an electronic certificate.
    #[error("legal persons register online with an electronic certificate only")]
    LegalPersonWithCertificateOnly,
    /// A legal person's NIF that is not one.
    #[error("a legal person registers with its NIF")]
    NotALegalPersonNif,
    /// A minor who is not emancipated.
    #[error("minors can register only if emancipated")]
    MinorNotEmancipated,
    /// The identity document does not fit the nationality.
    #[error("{0}")]
    DocumentNotValidForNationality(&'static str),
    /// Phone registration of an unknown person.
    #[error("registration by phone is only for people already in the council's records")]
    PhoneOnlyForKnownPersons,
    /// In person without a document check.
    #[error("in person, a caseworker must check the identity document")]
    DocumentNotChecked,
    /// Certificate channel whose certificate is someone else's.
    #[error("the electronic certificate is not the applicant's nor the representative's")]
    CertificateMismatch,
    /// A representative without power or documents.
    #[error("a representative needs a general notarial power and both identity documents")]
    RepresentationNotAccredited,
    /// Missing or malformed contact data.
    #[error("contact data: {0}")]
    InvalidContact(&'static str),
    /// A command that does not fit the account's stage.
    #[error("not possible while the account is {0}")]
    WrongStage(&'static str),
    /// Login on a locked account (the fourth attempt and after).
    #[error("the account is locked after three wrong passwords: unlock it in person or with an electronic certificate")]
    AccountLocked,
    /// Login with an expired password.
    #[error("the password expired after a year without use: recover it")]
    PasswordExpired,
    /// Online recovery while locked.
    #[error("a locked account cannot recover its password online: go in person or use an electronic certificate")]
    RecoveryWhileLocked,
    /// Personal data changed other than in person.
    #[error("personal data given at registration can only be changed in person")]
    DataChangeOnlyInPerson,
    /// The expiry timer of a password used since.
    #[error("the password was used since; it does not expire yet")]
    NotExpired,
    /// A PIN without a verified mobile.
    #[error("a PIN needs a verified mobile phone")]
    MobileNotVerified,
}
