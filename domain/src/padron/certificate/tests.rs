//! Issuing a certificate, given / when / then.

use chrono::{NaiveDate, TimeZone, Utc};
use uuid::Uuid;

use super::*;
use crate::testing::given;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn issue(periods: Vec<CertifiedPeriod>, historical: bool) -> Issue {
    Issue {
        kind: CertificateKind::Volante,
        scope: CertificateScope::Individual,
        historical,
        inscription: Uuid::nil(),
        persons: vec![CertifiedPerson {
            inscription: Uuid::nil(),
            name: "Bilal Haddad".into(),
            document: "X1234567L".into(),
            periods,
            in_municipality_since: None,
        }],
        as_of: d(2026, 3, 2),
        sha256: Digest::of(b"%PDF-1.4"),
        size: 8,
        verification_code: "ABCDEFGHJKMNPQRSTVWX".parse().unwrap(),
        requested_by: "X1234567L".into(),
        at: Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap(),
    }
}

fn in_force() -> CertifiedPeriod {
    CertifiedPeriod {
        address: "Calle de Toledo 10".into(),
        from: d(2024, 1, 10),
        until: None,
        removal_cause: None,
    }
}

fn ended() -> CertifiedPeriod {
    CertifiedPeriod {
        address: "Calle Mayor 1".into(),
        from: d(2020, 1, 10),
        until: Some(d(2023, 5, 1)),
        removal_cause: Some("change_of_residence".into()),
    }
}

#[test]
fn a_document_is_issued_once_and_states_what_it_may() {
    let current = issue(vec![in_force()], false);
    given::<PadronCertificate>([])
        .when(CertificateCommand::Issue(current.clone()))
        .then([CertificateEvent::Issued(current.clone())]);
    given::<PadronCertificate>([CertificateEvent::Issued(current.clone())])
        .when(CertificateCommand::Issue(current))
        .then_refused(|e| *e == CertificateRefusal::AlreadyIssued);
    // A current one for someone whose period ended: only a historical one.
    given::<PadronCertificate>([])
        .when(CertificateCommand::Issue(issue(vec![ended()], false)))
        .then_refused(|e| *e == CertificateRefusal::NotInscribedNow);
    let historical = issue(vec![ended(), in_force()], true);
    given::<PadronCertificate>([])
        .when(CertificateCommand::Issue(historical.clone()))
        .then([CertificateEvent::Issued(historical)]);
    given::<PadronCertificate>([])
        .when(CertificateCommand::Issue(issue(Vec::new(), true)))
        .then_refused(|e| *e == CertificateRefusal::NobodyToCertify);
    assert_eq!(
        CertificateEvent::Issued(issue(vec![in_force()], false)).event_type(),
        "issued"
    );
}
