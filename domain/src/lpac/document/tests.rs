//! Documents: given past events, when a command, then the events or the refusal.

use super::*;
use crate::testing::given;

fn add(size: u64) -> Command {
    Command::Add {
        case: CaseRef {
            stream_type: "general_application".into(),
            stream_id: uuid::Uuid::from_u128(1),
            case_number: "28079/2026/000001".parse().unwrap(),
        },
        name: DocumentName::try_from("plano.pdf".to_owned()).unwrap(),
        media_type: MediaType::Pdf,
        size,
        sha256: Digest::of(b"%PDF-1.7"),
        by: Uploader {
            role: "citizen".into(),
            subject: "12345678Z".into(),
        },
        entry: None,
        verification_code: VerificationCode::from_random([1; 20]),
        at: "2026-03-02T09:00:00Z".parse().unwrap(),
    }
}

#[test]
fn a_document_is_added_once_within_its_size() {
    let Command::Add {
        case,
        name,
        media_type,
        size,
        sha256,
        by,
        entry,
        verification_code,
        at,
    } = add(8);
    let added = Event::Added {
        case,
        name,
        media_type,
        size,
        sha256,
        by,
        entry,
        verification_code,
        at,
    };
    given::<Document>([]).when(add(8)).then([added.clone()]);
    given::<Document>([added])
        .when(add(8))
        .then_refused(|r| *r == Refusal::AlreadyAdded);
    given::<Document>([])
        .when(add(0))
        .then_refused(|r| *r == Refusal::Size);
    given::<Document>([])
        .when(add(MAX_BYTES + 1))
        .then_refused(|r| *r == Refusal::Size);
}

#[test]
fn values_parse_not_validate() {
    assert_eq!(
        Digest::of(b"abc").as_str(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert!(Digest::try_from("AB".repeat(32)).is_err(), "lowercase only");
    for bad in ["", "   ", "../plano.pdf", "a\\b.pdf", "plano\u{0}.pdf"] {
        assert!(DocumentName::try_from(bad.to_owned()).is_err(), "{bad:?}");
    }
    assert!(DocumentName::try_from("x".repeat(201)).is_err());
    assert_eq!(
        DocumentName::try_from("  Plano de la parcela.pdf ".to_owned())
            .unwrap()
            .as_str(),
        "Plano de la parcela.pdf"
    );
    assert_eq!(
        MediaType::from_mime("application/pdf; charset=binary"),
        Some(MediaType::Pdf)
    );
    assert_eq!(MediaType::from_mime("text/html"), None);
    assert!(MediaType::Pdf.matches(b"%PDF-1.7\n"));
    assert!(!MediaType::Pdf.matches(b"<html>"));
    assert!(MediaType::Png.matches(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]));
    assert!(MediaType::Jpeg.matches(&[0xFF, 0xD8, 0xFF, 0xE0]));
}
