//! Why an inscription command is refused, in words for the person at the counter.

/// Why an inscription command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InscriptionRefusal {
    /// Regularising a removal file by a "move" to the same dwelling.
    #[error("the new address is the same dwelling: it does not regularise the removal file")]
    SameDwelling,
    /// The document on record belongs to someone else.
    #[error("that document is on record for another person (another date of birth): check it, or record the newcomer's document as it is")]
    DocumentOfAnotherPerson,
    /// Nothing to record: no confirmation due, or its day recorded already.
    #[error("the inscription's confirmation day is recorded already, or it confirms nothing")]
    ConfirmationDayRecorded,
    /// A change of residence status to the one recorded.
    #[error("that residence status is already the one recorded")]
    SameResidenceStatus,
    /// A change of residence status without what proves it.
    #[error("say what proves the new residence status (the resolution or card seen)")]
    EvidenceMissing,
    /// Inscribe twice.
    #[error("the person is already inscribed")]
    AlreadyInscribed,
    /// Anything on a person not inscribed.
    #[error("the person is not inscribed")]
    NotInscribed,
    /// Anything on a removed inscription.
    #[error("the inscription was removed")]
    Removed,
    /// The lapse was already declared.
    #[error("the lapse was already declared; the removal follows its notification")]
    LapseAlreadyResolved,
    /// A correction of a removal on an inscription not removed.
    #[error("the inscription is not removed: there is no removal to correct")]
    NotRemoved,
    /// A removal by resolution is not a material error.
    #[error("a removal decided by resolution (lapse, wrong inscription) is reviewed by appeal or revision (arts. 106-126 of Ley 39/2015), not corrected as a material error")]
    RemovalByResolution,
    /// A removal file is open.
    #[error(
        "a removal file for wrong inscription is open against this person: regularise it first"
    )]
    BlockedByRemovalFile,
    /// Confirmation by someone who renews instead.
    #[error("only EU citizens and non-EU permanent residents confirm their residence")]
    ConfirmationNotRequired,
    /// Renewal by someone who does not have to.
    #[error("only non-EU foreigners without permanent residence renew their inscription")]
    RenewalNotRequired,
    /// Renewal with a passport when a foreigner card is on record.
    #[error("the foreigner card takes precedence over the passport: show the card")]
    CardTakesPrecedence,
    /// A minor acting alone, or an adult's representative without authorisation.
    #[error("{0}")]
    ActorNotEntitled(&'static str),
    /// A timer for an expiry that is no longer the current one.
    #[error("the inscription's renewal is now due on another date")]
    StaleTimer,
    /// Lapse removal not proposed.
    #[error("a removal for lapse needs the inscription to have been proposed for lapse")]
    LapseNotProposed,
    /// Removing for a wrong inscription without the file.
    #[error("a removal for wrong inscription comes from a removal file's resolution")]
    NoRemovalFile,
    /// A second file while one is open.
    #[error("a removal file is already open against this person")]
    FileAlreadyOpen,
}
