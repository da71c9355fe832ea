//! The vehicle crossing's rules: given past events, when a command, then the events or the
//! refusal. Dates are those a court would use, in Madrid: the application enters the registry
//! on Monday 2026-10-05; the request for the missing plan, notified on Thursday 2026-10-08, gives
//! until Friday 2026-10-23 (ten business days, Monday 12 October being a national holiday); the
//! last document enters on Wednesday 2026-10-14, so the month to resolve would end on Saturday
//! 2026-11-14 and moves to Monday 2026-11-16 (art. 30.5 LPAC).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use esrs::Aggregate;
use uuid::Uuid;

use super::values::*;
use super::*;
use crate::calendar::HolidayCalendar;
use crate::lpac::notification::{Delivery, Outcome};
use crate::lpac::{Appeal, Reasons, SubmissionKind};
use crate::procedure::{CaseParty, DomainEvent};
use crate::testing::given;
use crate::values::DocumentNumber;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}
fn day(m: u32, d: u32) -> NaiveDate {
    date(2026, m, d)
}
fn at(m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, m, d, 9, 0, 0).unwrap()
}
fn holder() -> CaseParty {
    CaseParty {
        document: "12345678Z".parse::<DocumentNumber>().unwrap(),
        name: "Ana García".into(),
        role: PartyRole::Interested,
    }
}
fn buyer() -> CaseParty {
    CaseParty {
        document: "X1234567L".parse::<DocumentNumber>().unwrap(),
        name: "Bilal Haddad".into(),
        role: PartyRole::Interested,
    }
}
fn entry(seq: u64, m: u32, d: u32) -> RegistryEntry {
    RegistryEntry {
        number: crate::values::RegistryNumber::new(
            &"28079".parse().unwrap(),
            2026,
            crate::values::RegistryDirection::In,
            seq,
        )
        .unwrap(),
        kind: SubmissionKind::Application,
        presented_at: at(m, d),
        counts_from: at(m, d),
        verification_code: "ABCDEFGHJKMNPQRSTVWX".parse().unwrap(),
    }
}
fn measures() -> Measures {
    Measures {
        crossing_width_cm: 450,
        access_width_cm: 400,
        pavement_width_cm: 300,
        kerb_height_cm: 15,
        parking_surface_m2: 250,
        parking_places: vec![ParkingPlaces {
            class: VehicleClass::Car,
            count: 12,
        }],
        loading_zone: false,
        affected_street_furniture: "un bolardo".into(),
    }
}
fn apply_with(works: Works, purpose: Purpose, until: Option<NaiveDate>) -> Command {
    Command::Apply {
        case_number: "28079/2026/000007".parse().unwrap(),
        sia_code: "123456".parse().unwrap(),
        parties: vec![holder()],
        standing: Standing::Owner,
        address: "Calle de Toledo 10".into(),
        purpose,
        works,
        measures: measures(),
        provisional_until: until,
        need: "Garaje comunitario de 12 plazas".into(),
        at: at(10, 5),
        today: day(10, 5),
        entry: entry(1, 10, 5),
        notify_by: Delivery::Electronic,
    }
}
fn applied_with(works: Works, purpose: Purpose, until: Option<NaiveDate>) -> Event {
    let mut events =
        VehicleCrossing::handle_command(&State::default(), apply_with(works, purpose, until))
            .unwrap();
    events.remove(0)
}
fn authorisation() -> Purpose {
    Purpose::Authorisation { replaces: None }
}
fn applied() -> Event {
    applied_with(Works::None, authorisation(), None)
}
fn max_rule() -> DeadlineRule {
    DeadlineRule::new(day(10, 14), 1, Unit::Months, None)
}
fn provided(requirement: Requirement, d: u32) -> Event {
    Event::DocumentProvided {
        requirement,
        document: Uuid::from_u128(requirement as u128 + 1),
        entered_on: day(10, d),
        at: at(10, d),
    }
}
fn accepted(requirement: Requirement) -> Event {
    Event::DocumentAccepted {
        requirement,
        at: at(10, 15),
    }
}
fn review(requirement: Requirement, verdict: Verdict) -> Command {
    Command::ReviewDocument {
        requirement,
        verdict,
        at: at(10, 15),
        resolution_due: day(11, 16),
        max_time_rule: max_rule(),
    }
}
/// Every document of a crossing without works brought and accepted but the detail plan,
/// brought on the 14th.
fn all_but_detail_plan() -> Vec<Event> {
    vec![
        applied(),
        provided(Requirement::Title, 5),
        provided(Requirement::DescriptiveReport, 5),
        provided(Requirement::LocationPlan, 5),
        accepted(Requirement::Title),
        accepted(Requirement::DescriptiveReport),
        accepted(Requirement::LocationPlan),
        provided(Requirement::DetailPlan, 14),
    ]
}
fn completed() -> Event {
    Event::DocumentationCompleted {
        complete_on: day(10, 14),
        resolution_due: day(11, 16),
        max_time_rule: max_rule(),
        at: at(10, 15),
    }
}
fn under_review() -> Vec<Event> {
    let mut events = all_but_detail_plan();
    events.push(accepted(Requirement::DetailPlan));
    events.push(completed());
    events
}
fn reasons() -> Reasons {
    Reasons::try_from("Cumple la ordenanza".to_owned()).unwrap()
}
fn appeals() -> Vec<Appeal> {
    Appeal::ending_administrative_route("la Concejalía del Distrito")
}
fn tariff() -> Tariff {
    Tariff {
        year: 2026,
        source: "Ordenanza fiscal de tasas por pasos de vehículos, BOCM 2025-12-30".into(),
        public_property_per_metre: 8_150,
        urban_services_fee: 12_000,
        construction_tax_basis_points: 400,
        quality_control_fee: 5_000,
        street_works_per_metre: 20_000,
    }
}
fn resolution_notice() -> Uuid {
    Uuid::from_u128(77)
}
fn authorisation_notice() -> Uuid {
    Uuid::from_u128(88)
}
fn grant(works: Works, restoration_cost: Option<i64>) -> Command {
    Command::Resolve {
        decision: Decision::Granted,
        reasons: reasons(),
        appeals: appeals(),
        liquidation: Some(liquidate(&tariff(), works, &measures(), 1_000_000)),
        restoration_cost,
        notification: resolution_notice(),
        at: at(11, 2),
    }
}
fn grant_without_liquidation() -> Command {
    match grant(Works::None, None) {
        Command::Resolve {
            decision,
            reasons,
            appeals,
            restoration_cost,
            notification,
            at,
            ..
        } => Command::Resolve {
            decision,
            reasons,
            appeals,
            liquidation: None,
            restoration_cost,
            notification,
            at,
        },
        _ => unreachable!(),
    }
}
fn granted() -> Vec<Event> {
    let mut events = under_review();
    events
        .extend(VehicleCrossing::handle_command(&fold(&events), grant(Works::None, None)).unwrap());
    events
}
fn fold(events: &[Event]) -> State {
    events
        .iter()
        .cloned()
        .fold(State::default(), VehicleCrossing::apply_event)
}
fn paid(total: i64) -> Event {
    Event::PaymentRecorded {
        amount: total,
        receipt: "CP-2026-1".into(),
        paid_on: day(11, 9),
        at: at(11, 9),
    }
}
fn number() -> CrossingNumber {
    "12-0345".parse().unwrap()
}
fn issue() -> Command {
    Command::IssueAuthorisation {
        number: number(),
        notification: authorisation_notice(),
        at: at(11, 10),
    }
}
fn authorised_with(works: Works, until: Option<NaiveDate>) -> Vec<Event> {
    let mut events = vec![applied_with(works, authorisation(), until)];
    let state = fold(&events);
    for item in state.checklist.clone() {
        events.push(provided(item.requirement, 14));
        events.push(accepted(item.requirement));
    }
    events.push(completed());
    let cost = (works == Works::ByApplicant).then_some(250_000);
    events.extend(VehicleCrossing::handle_command(&fold(&events), grant(works, cost)).unwrap());
    let total = fold(&events).liquidation.unwrap().total;
    events.push(paid(total));
    if works == Works::ByApplicant {
        events.push(Event::InsuranceRecorded {
            insurance: insurance(),
            at: at(11, 9),
        });
        events.push(Event::DepositRecorded {
            deposit: Deposit {
                amount: 250_000,
                receipt: "T-1".into(),
            },
            at: at(11, 9),
        });
    }
    events.extend(VehicleCrossing::handle_command(&fold(&events), issue()).unwrap());
    events
}
fn authorised() -> Vec<Event> {
    authorised_with(Works::None, None)
}
fn insurance() -> Insurance {
    Insurance {
        insurer: "Mutua Madrileña".into(),
        policy: "RC-998".into(),
        cover_per_claim: MINIMUM_INSURANCE_CENTS,
        excess: 0,
        covers_until: date(2027, 12, 31),
    }
}
fn calendar() -> HolidayCalendar {
    HolidayCalendar::bundled()
}
fn context(calendar: &HolidayCalendar, today: NaiveDate) -> TimerContext<'_> {
    TimerContext {
        now: today.and_hms_opt(0, 5, 0).unwrap().and_utc(),
        today,
        seat: "28079",
        calendar,
    }
}
fn took_effect(notification: Uuid, act: &str, on: NaiveDate) -> (String, serde_json::Value) {
    (
        crate::lpac::notification::follow_up_kind(notification),
        serde_json::json!({"notification": notification, "act": act, "outcome": "accessed", "on": on}),
    )
}

#[test]
fn an_application_lists_the_documents_its_works_need() {
    let state = given::<VehicleCrossing>([applied()]).state().clone();
    let items: Vec<_> = state.checklist.iter().map(|i| i.requirement).collect();
    assert_eq!(
        items,
        [
            Requirement::Title,
            Requirement::DescriptiveReport,
            Requirement::LocationPlan,
            Requirement::DetailPlan
        ]
    );
    assert_eq!(
        required_documents(authorisation(), Works::ByApplicant).len(),
        6,
        "works by the applicant add the works' report and budget"
    );
    assert_eq!(
        required_documents(authorisation(), Works::Urbanisation),
        [Requirement::Title, Requirement::LocationPlan],
        "urbanisation works need only the title and the location plan"
    );
    assert_eq!(
        required_documents(
            Purpose::ProtectiveIsland {
                crossing: Uuid::nil()
            },
            Works::None
        ),
        [Requirement::IslandApproval]
    );
}

#[test]
fn an_application_without_need_address_or_sane_measures_is_refused() {
    let mut command = apply_with(Works::None, authorisation(), None);
    if let Command::Apply { need, .. } = &mut command {
        *need = "  ".into();
    }
    given::<VehicleCrossing>([])
        .when(command)
        .then_refused(|e| matches!(e, Refusal::Incomplete(_)));
    let mut command = apply_with(Works::None, authorisation(), None);
    if let Command::Apply { measures, .. } = &mut command {
        measures.crossing_width_cm = 0;
    }
    given::<VehicleCrossing>([])
        .when(command)
        .then_refused(|e| matches!(e, Refusal::Incomplete(_)));
    given::<VehicleCrossing>([applied()])
        .when(apply_with(Works::None, authorisation(), None))
        .then_refused(|e| *e == Refusal::AlreadyApplied);
}

#[test]
fn a_provisional_crossing_ends_after_today_and_works_owners_apply_for_one() {
    given::<VehicleCrossing>([])
        .when(apply_with(Works::None, authorisation(), Some(day(10, 5))))
        .then_refused(|e| matches!(e, Refusal::Term(_)));
    let mut command = apply_with(Works::None, authorisation(), None);
    if let Command::Apply { standing, .. } = &mut command {
        *standing = Standing::WorksOwner;
    }
    given::<VehicleCrossing>([])
        .when(command)
        .then_refused(|e| matches!(e, Refusal::Term(_)));
}

#[test]
fn a_document_is_brought_only_for_an_item_the_file_needs() {
    given::<VehicleCrossing>([applied()])
        .when(Command::ProvideDocument {
            requirement: Requirement::WorksBudget,
            document: Uuid::nil(),
            entered_on: day(10, 6),
            at: at(10, 6),
        })
        .then_refused(|e| *e == Refusal::NotRequired(Requirement::WorksBudget));
    given::<VehicleCrossing>([])
        .when(Command::ProvideDocument {
            requirement: Requirement::Title,
            document: Uuid::nil(),
            entered_on: day(10, 6),
            at: at(10, 6),
        })
        .then_refused(|e| *e == Refusal::NotApplied);
}

#[test]
fn accepting_the_last_document_completes_the_file_from_its_entry() {
    let state = given::<VehicleCrossing>(all_but_detail_plan())
        .when(review(Requirement::DetailPlan, Verdict::Accept))
        .then([accepted(Requirement::DetailPlan), completed()]);
    assert_eq!(state.stage, Stage::UnderReview);
    assert_eq!(state.resolution_due, Some(day(11, 16)));
    assert_eq!(
        fold(&all_but_detail_plan()).complete_on_accepting(Requirement::DetailPlan),
        Some(day(10, 14)),
        "the month counts from the day after the last document's entry"
    );
}

#[test]
fn a_rejected_document_is_asked_for_again_and_must_say_why() {
    given::<VehicleCrossing>(all_but_detail_plan())
        .when(review(Requirement::DetailPlan, Verdict::Reject(" ".into())))
        .then_refused(|e| matches!(e, Refusal::Incomplete(_)));
    let mut events = all_but_detail_plan();
    events.push(Event::DocumentRejected {
        requirement: Requirement::DetailPlan,
        reason: "Falta la cota del pavimento".into(),
        at: at(10, 15),
    });
    let state = given::<VehicleCrossing>(events.clone())
        .when(Command::RequestRectification {
            note: String::new(),
            at: at(10, 15),
            notification: Uuid::from_u128(5),
        })
        .then([Event::RectificationIssued {
            items: vec![Requirement::DetailPlan],
            note: String::new(),
            at: at(10, 15),
            notification: Uuid::from_u128(5),
        }]);
    assert_eq!(state.stage, Stage::AwaitingRectification);
    given::<VehicleCrossing>(events)
        .when(review(Requirement::DetailPlan, Verdict::Accept))
        .then_refused(|e| *e == Refusal::NothingToReview(Requirement::DetailPlan));
}

#[test]
fn nothing_missing_nothing_to_ask_for() {
    let mut events = all_but_detail_plan();
    events.pop();
    events.push(provided(Requirement::DetailPlan, 14));
    given::<VehicleCrossing>(events)
        .when(Command::RequestRectification {
            note: String::new(),
            at: at(10, 15),
            notification: Uuid::nil(),
        })
        .then_refused(|e| *e == Refusal::NothingToFix);
}

#[test]
fn the_request_runs_ten_business_days_from_the_day_after_it_takes_effect() {
    let notification = Uuid::from_u128(5);
    let events = vec![
        applied(),
        Event::RectificationIssued {
            items: vec![Requirement::DetailPlan],
            note: String::new(),
            at: at(10, 6),
            notification,
        },
    ];
    let calendar = calendar();
    let (kind, data) = took_effect(notification, "rectification_request", day(10, 8));
    let command = VehicleCrossing::timer_command(
        &kind,
        &data,
        &fold(&events),
        &context(&calendar, day(10, 8)),
    )
    .unwrap();
    let Command::RecordRectificationNotified { due, .. } = &command else {
        panic!("{command:?}");
    };
    assert_eq!(*due, day(10, 23), "12 October is a national holiday");
    let state =
        given::<VehicleCrossing>(events)
            .when(command)
            .then([Event::RectificationNotified {
                notification,
                outcome: Outcome::Accessed,
                on: day(10, 8),
                due: day(10, 23),
                rule: DeadlineRule::new(day(10, 8), 10, Unit::BusinessDays, None),
            }]);
    assert_eq!(state.rectification_due, Some(day(10, 23)));
}

#[test]
fn the_period_ends_in_desistimiento_declared_by_resolution() {
    let notification = Uuid::from_u128(5);
    let rule = DeadlineRule::new(day(10, 8), 10, Unit::BusinessDays, None);
    let events = vec![
        applied(),
        Event::RectificationIssued {
            items: vec![Requirement::DetailPlan],
            note: String::new(),
            at: at(10, 6),
            notification,
        },
        Event::RectificationNotified {
            notification,
            outcome: Outcome::Accessed,
            on: day(10, 8),
            due: day(10, 23),
            rule,
        },
    ];
    given::<VehicleCrossing>(events.clone())
        .when(Command::CloseRectificationPeriod {
            due: day(10, 23),
            at: at(10, 23),
            today: day(10, 23),
        })
        .then_refused(|e| *e == Refusal::StalePeriod(day(10, 23)));
    given::<VehicleCrossing>(events.clone())
        .when(grant(Works::None, None))
        .then_refused(|e| *e == Refusal::AwaitingApplicant(day(10, 23)));
    let mut events = events;
    events.push(Event::DesistimientoProposed { at: at(10, 24) });
    given::<VehicleCrossing>(events.clone())
        .when(grant(Works::None, None))
        .then_refused(|e| *e == Refusal::DesistimientoPending);
    let state = given::<VehicleCrossing>(events)
        .when(Command::Resolve {
            decision: Decision::Desistimiento,
            reasons: reasons(),
            appeals: appeals(),
            liquidation: None,
            restoration_cost: None,
            notification: resolution_notice(),
            at: at(10, 26),
        })
        .then([Event::Resolved {
            decision: Decision::Desistimiento,
            grounds: "Cumple la ordenanza".into(),
            appeals: appeals(),
            notification: resolution_notice(),
            at: at(10, 26),
        }]);
    assert!(state.stage.is_closed());
}

#[test]
fn before_the_documentation_is_complete_nothing_is_resolved() {
    given::<VehicleCrossing>([applied()])
        .when(grant(Works::None, None))
        .then_refused(|e| *e == Refusal::DocumentationIncomplete);
    given::<VehicleCrossing>(under_review())
        .when(Command::Resolve {
            decision: Decision::Desistimiento,
            reasons: reasons(),
            appeals: appeals(),
            liquidation: None,
            restoration_cost: None,
            notification: resolution_notice(),
            at: at(11, 2),
        })
        .then_refused(|e| *e == Refusal::NoDesistimientoProposed);
}

#[test]
fn the_month_passed_unresolved_is_a_refusal_by_silence_and_the_duty_to_resolve_remains() {
    given::<VehicleCrossing>(under_review())
        .when(Command::ReachMaximumTime {
            due: day(11, 16),
            at: at(11, 16),
            today: day(11, 16),
        })
        .then_refused(|e| *e == Refusal::StaleMaximumTime(day(11, 16)));
    let silence = Event::SilenceReached {
        meaning: SilenceMeaning::Desestimatory,
        due: day(11, 16),
        at: at(11, 17),
    };
    given::<VehicleCrossing>(under_review())
        .when(Command::ReachMaximumTime {
            due: day(11, 16),
            at: at(11, 17),
            today: day(11, 17),
        })
        .then([silence.clone()]);
    // Art. 24.3.b: a later resolution is not bound by the silence.
    let mut events = under_review();
    events.push(silence);
    let state = fold(&events);
    assert!(VehicleCrossing::handle_command(&state, grant(Works::None, None)).is_ok());
}

#[test]
fn a_grant_carries_the_liquidation_and_with_works_by_the_applicant_the_deposit() {
    given::<VehicleCrossing>(under_review())
        .when(grant_without_liquidation())
        .then_refused(|e| *e == Refusal::NoLiquidation);
    let state = fold(&granted());
    assert_eq!(state.stage, Stage::Granted);
    assert_eq!(state.liquidation.as_ref().unwrap().total, 5 * 8_150);
}

#[test]
fn the_liquidation_follows_the_tariff_and_the_works() {
    let without = liquidate(&tariff(), Works::None, &measures(), 0);
    assert_eq!(
        without.lines.len(),
        1,
        "without works, the public-property fee"
    );
    assert_eq!(without.lines[0].concept, FeeConcept::PublicPropertyFee);
    assert_eq!(without.total, 5 * 8_150, "4.5 m count as 5 started metres");
    let with = liquidate(&tariff(), Works::ByApplicant, &measures(), 1_000_000);
    let concepts: Vec<_> = with.lines.iter().map(|l| l.concept).collect();
    assert_eq!(
        concepts,
        [
            FeeConcept::PublicPropertyFee,
            FeeConcept::UrbanServicesFee,
            FeeConcept::ConstructionTax,
            FeeConcept::QualityControlFee
        ]
    );
    assert_eq!(with.lines[2].amount, 40_000, "4 % of 10.000,00 €");
    assert_eq!(with.total, 40_750 + 12_000 + 40_000 + 5_000);
    assert_eq!(euros(1_234_550), "12.345,50 €");
}

#[test]
fn a_tariff_names_its_source_and_keeps_the_tax_within_the_law() {
    let mut bad = tariff();
    bad.construction_tax_basis_points = 500;
    assert!(bad.check().is_err());
    let mut bad = tariff();
    bad.source = " ".into();
    assert!(bad.check().is_err());
    assert!(tariff().check().is_ok());
}

#[test]
fn the_authorisation_waits_for_the_payment_insurance_and_deposit() {
    given::<VehicleCrossing>(granted())
        .when(issue())
        .then_refused(|e| *e == Refusal::PrerequisiteMissing("the payment of the fees"));
    given::<VehicleCrossing>(granted())
        .when(Command::RecordPayment {
            amount: 1,
            receipt: "CP".into(),
            paid_on: day(11, 9),
            at: at(11, 9),
            today: day(11, 9),
        })
        .then_refused(|e| matches!(e, Refusal::WrongAmount(_)));
    // With works by the applicant.
    let mut events = vec![applied_with(Works::ByApplicant, authorisation(), None)];
    for item in fold(&events).checklist.clone() {
        events.push(provided(item.requirement, 14));
        events.push(accepted(item.requirement));
    }
    events.push(completed());
    given::<VehicleCrossing>(events.clone())
        .when(grant(Works::ByApplicant, None))
        .then_refused(|e| *e == Refusal::NoRestorationCost);
    events.extend(
        VehicleCrossing::handle_command(&fold(&events), grant(Works::ByApplicant, Some(250_000)))
            .unwrap(),
    );
    let total = fold(&events).liquidation.unwrap().total;
    events.push(paid(total));
    given::<VehicleCrossing>(events.clone())
        .when(issue())
        .then_refused(|e| *e == Refusal::PrerequisiteMissing("the insurance"));
    let short = |f: fn(&mut Insurance)| {
        let mut insurance = insurance();
        f(&mut insurance);
        Command::RecordInsurance {
            insurance,
            at: at(11, 9),
            today: day(11, 9),
        }
    };
    for command in [
        short(|i| i.cover_per_claim = MINIMUM_INSURANCE_CENTS - 1),
        short(|i| i.excess = 30_000),
        short(|i| i.covers_until = date(2026, 11, 9)),
    ] {
        given::<VehicleCrossing>(events.clone())
            .when(command)
            .then_refused(|e| matches!(e, Refusal::InsuranceInsufficient(_)));
    }
    events.push(Event::InsuranceRecorded {
        insurance: insurance(),
        at: at(11, 9),
    });
    given::<VehicleCrossing>(events.clone())
        .when(issue())
        .then_refused(|e| *e == Refusal::PrerequisiteMissing("the deposit"));
    given::<VehicleCrossing>(events.clone())
        .when(Command::RecordDeposit {
            deposit: Deposit {
                amount: 249_999,
                receipt: "T-1".into(),
            },
            at: at(11, 9),
        })
        .then_refused(|e| matches!(e, Refusal::DepositInsufficient(_)));
    events.push(Event::DepositRecorded {
        deposit: Deposit {
            amount: 250_000,
            receipt: "T-1".into(),
        },
        at: at(11, 9),
    });
    let state = given::<VehicleCrossing>(events)
        .when(issue())
        .then([Event::AuthorisationIssued {
            number: number(),
            holder: vec![holder()],
            address: "Calle de Toledo 10".into(),
            measures: measures(),
            provisional_until: None,
            replaces: None,
            notification: authorisation_notice(),
            at: at(11, 10),
        }]);
    assert_eq!(state.stage, Stage::Authorised);
    assert_eq!(
        state.sign,
        Sign::NotDue,
        "with works, the sign waits for their acceptance"
    );
}

#[test]
fn the_resolution_notified_opens_the_voluntary_payment_period() {
    let calendar = calendar();
    let (kind, data) = took_effect(resolution_notice(), "resolution", day(11, 10));
    let command = VehicleCrossing::timer_command(
        &kind,
        &data,
        &fold(&granted()),
        &context(&calendar, day(11, 10)),
    )
    .unwrap();
    assert_eq!(
        command,
        Command::RecordResolutionNotified {
            notification: resolution_notice(),
            outcome: Outcome::Accessed,
            on: day(11, 10),
            // Notified on the 10th: the 20th of the next month, a Sunday, moves to Monday.
            payment_due: Some(day(12, 21)),
        }
    );
    assert_eq!(voluntary_payment_day(day(11, 16)), date(2027, 1, 5));
}

#[test]
fn the_sign_is_due_one_month_after_the_authorisation_is_notified() {
    let calendar = calendar();
    let events = authorised();
    let (kind, data) = took_effect(authorisation_notice(), "resolution", day(11, 10));
    let command = VehicleCrossing::timer_command(
        &kind,
        &data,
        &fold(&events),
        &context(&calendar, day(11, 10)),
    )
    .unwrap();
    let notified = Event::AuthorisationNotified {
        notification: authorisation_notice(),
        outcome: Outcome::Accessed,
        on: day(11, 10),
        sign_due: Some(day(12, 10)),
    };
    let state = given::<VehicleCrossing>(events.clone())
        .when(command)
        .then([notified.clone()]);
    assert_eq!(state.sign, Sign::Due { due: day(12, 10) });
    assert_eq!(
        VehicleCrossing::timer_effects(&notified),
        [TimerEffect::Set {
            kind: SIGNAGE_TIMER.into(),
            fires_on: day(12, 11),
            data: serde_json::json!({"due": day(12, 10)}),
        }]
    );
    let mut events = events;
    events.push(notified);
    given::<VehicleCrossing>(events.clone())
        .when(Command::MarkSignOverdue {
            due: day(12, 10),
            at: at(12, 10),
            today: day(12, 10),
        })
        .then_refused(|e| *e == Refusal::StaleSign(day(12, 10)));
    let overdue = Event::SignOverdue {
        due: day(12, 10),
        at: at(12, 11),
    };
    given::<VehicleCrossing>(events.clone())
        .when(Command::MarkSignOverdue {
            due: day(12, 10),
            at: at(12, 11),
            today: day(12, 11),
        })
        .then([overdue.clone()]);
    events.push(overdue);
    given::<VehicleCrossing>(events)
        .when(Command::RecordSign {
            on: day(12, 14),
            at: at(12, 14),
        })
        .then([Event::SignInstalled {
            on: day(12, 14),
            late: true,
            at: at(12, 14),
        }]);
}

#[test]
fn with_works_the_sign_counts_from_their_acceptance() {
    let events = authorised_with(Works::ByCouncil, None);
    let calendar = calendar();
    let (kind, data) = took_effect(authorisation_notice(), "resolution", day(11, 10));
    let command = VehicleCrossing::timer_command(
        &kind,
        &data,
        &fold(&events),
        &context(&calendar, day(11, 10)),
    )
    .unwrap();
    let state = given::<VehicleCrossing>(events.clone())
        .when(command)
        .then([Event::AuthorisationNotified {
            notification: authorisation_notice(),
            outcome: Outcome::Accessed,
            on: day(11, 10),
            sign_due: None,
        }]);
    assert_eq!(state.sign, Sign::NotDue);
    let state = given::<VehicleCrossing>(events)
        .when(Command::AcceptWorks {
            on: day(11, 20),
            sign_due: day(12, 21),
            at: at(11, 20),
        })
        .then([Event::WorksAccepted {
            on: day(11, 20),
            sign_due: day(12, 21),
            at: at(11, 20),
        }]);
    assert_eq!(state.sign, Sign::Due { due: day(12, 21) });
}

fn change_holder(filed_on: NaiveDate) -> Command {
    Command::ChangeHolder {
        parties: vec![buyer()],
        standing: Standing::Owner,
        act_on: day(11, 12),
        due: day(11, 26),
        filed_on,
        proof: Uuid::from_u128(9),
        entry: None,
        at: filed_on.and_hms_opt(10, 0, 0).unwrap().and_utc(),
    }
}

#[test]
fn a_change_of_holder_after_its_ten_days_is_recorded_as_late() {
    let on_time = given::<VehicleCrossing>(authorised())
        .when(change_holder(day(11, 26)))
        .then([Event::HolderChanged {
            parties: vec![buyer()],
            standing: Standing::Owner,
            act_on: day(11, 12),
            due: day(11, 26),
            filed_on: day(11, 26),
            late: false,
            proof: Uuid::from_u128(9),
            entry: None,
            at: day(11, 26).and_hms_opt(10, 0, 0).unwrap().and_utc(),
        }]);
    assert_eq!(on_time.parties, [buyer()]);
    let events =
        VehicleCrossing::handle_command(&fold(&authorised()), change_holder(day(11, 27))).unwrap();
    assert!(matches!(events[0], Event::HolderChanged { late: true, .. }));
    given::<VehicleCrossing>(granted())
        .when(change_holder(day(11, 26)))
        .then_refused(|e| *e == Refusal::NotAuthorised);
}

#[test]
fn a_modification_with_works_is_a_new_authorisation_and_one_that_ends_it_ends_it() {
    let modification = |with_works, ends_crossing| Command::CommunicateModification {
        description: "Se suprime el garaje".into(),
        occurred_on: day(11, 12),
        due: day(11, 26),
        filed_on: day(11, 20),
        with_works,
        ends_crossing,
        entry: None,
        at: at(11, 20),
    };
    given::<VehicleCrossing>(authorised())
        .when(modification(true, false))
        .then_refused(|e| *e == Refusal::ModificationWithWorks);
    let state = given::<VehicleCrossing>(authorised())
        .when(modification(false, true))
        .then([
            Event::ModificationCommunicated {
                description: "Se suprime el garaje".into(),
                occurred_on: day(11, 12),
                due: day(11, 26),
                filed_on: day(11, 20),
                late: false,
                ends_crossing: true,
                entry: None,
                at: at(11, 20),
            },
            Event::Ended {
                reason: EndReason::Modification,
                grounds: None,
                replaced_by: None,
                on: day(11, 12),
                entry: None,
                at: at(11, 20),
            },
        ]);
    assert!(state.stage.is_closed());
}

#[test]
fn a_new_authorisation_replacing_a_crossing_ends_it_when_issued() {
    let old = Uuid::from_u128(1000);
    let events = authorised_with(Works::None, None);
    let mut events = events;
    if let Event::Applied { purpose, .. } = &mut events[0] {
        *purpose = Purpose::Authorisation {
            replaces: Some(old),
        };
    }
    let state = fold(&events[..events.len() - 1]);
    let issued = VehicleCrossing::handle_command(&state, issue()).unwrap();
    let follow_ups = VehicleCrossing::follow_ups(Uuid::from_u128(2000), &issued[0]);
    assert_eq!(follow_ups.len(), 1);
    assert_eq!(follow_ups[0].stream_id, old);
    let calendar = calendar();
    let command = VehicleCrossing::timer_command(
        &follow_ups[0].kind,
        &follow_ups[0].data,
        &fold(&authorised()),
        &context(&calendar, day(11, 10)),
    )
    .unwrap();
    let ended = given::<VehicleCrossing>(authorised())
        .when(command)
        .then([Event::Ended {
            reason: EndReason::Replaced,
            grounds: None,
            replaced_by: Some(Uuid::from_u128(2000)),
            on: day(11, 10),
            entry: None,
            at: context(&calendar, day(11, 10)).now,
        }]);
    assert_eq!(ended.ended, Some(EndReason::Replaced));
}

#[test]
fn a_provisional_crossing_is_extended_when_asked_in_time_and_ends_otherwise() {
    let until = day(12, 31);
    let events = authorised_with(Works::None, Some(until));
    assert!(
        VehicleCrossing::timer_effects(events.last().unwrap()).contains(&TimerEffect::Set {
            kind: TERM_TIMER.into(),
            fires_on: date(2027, 1, 1),
            data: serde_json::json!({"due": until}),
        })
    );
    let ask = |today| Command::RequestExtension {
        until: date(2027, 3, 31),
        need: "Las obras se retrasan".into(),
        today,
        entry: None,
        at: at(12, 1),
    };
    given::<VehicleCrossing>(events.clone())
        .when(ask(date(2027, 1, 1)))
        .then_refused(|e| matches!(e, Refusal::Extension(_)));
    given::<VehicleCrossing>(authorised())
        .when(ask(day(12, 1)))
        .then_refused(|e| matches!(e, Refusal::Extension(_)));
    let mut extended = events.clone();
    extended.extend(VehicleCrossing::handle_command(&fold(&events), ask(day(12, 1))).unwrap());
    given::<VehicleCrossing>(extended.clone())
        .when(Command::EndTerm {
            until,
            at: at(12, 1),
            today: date(2027, 1, 1),
        })
        .then_refused(|e| *e == Refusal::TermNotEnding(until));
    let state = given::<VehicleCrossing>(extended)
        .when(Command::DecideExtension {
            granted: true,
            reasons: reasons(),
            today: day(12, 10),
            at: at(12, 10),
        })
        .then([Event::TermExtended {
            was: until,
            until: date(2027, 3, 31),
            grounds: "Cumple la ordenanza".into(),
            at: at(12, 10),
        }]);
    assert_eq!(state.provisional_until, Some(date(2027, 3, 31)));
    let ended = given::<VehicleCrossing>(events)
        .when(Command::EndTerm {
            until,
            at: at(12, 1),
            today: date(2027, 1, 1),
        })
        .then([Event::Ended {
            reason: EndReason::TermEnded,
            grounds: None,
            replaced_by: None,
            on: date(2027, 1, 1),
            entry: None,
            at: at(12, 1),
        }]);
    assert!(ended.stage.is_closed());
}

#[test]
fn protective_islands_are_granted_by_their_own_file_and_recorded_on_the_crossing() {
    let crossing = Uuid::from_u128(1000);
    let island = Purpose::ProtectiveIsland { crossing };
    let mut events = vec![applied_with(Works::None, island, None)];
    events.push(provided(Requirement::IslandApproval, 14));
    events.push(accepted(Requirement::IslandApproval));
    events.push(completed());
    let state = given::<VehicleCrossing>(events)
        .when(grant_without_liquidation())
        .then([
            Event::Resolved {
                decision: Decision::Granted,
                grounds: "Cumple la ordenanza".into(),
                appeals: appeals(),
                notification: resolution_notice(),
                at: at(11, 2),
            },
            Event::ProtectiveIslandGranted {
                crossing,
                at: at(11, 2),
            },
        ]);
    assert_eq!(state.stage, Stage::IslandGranted);
    let state = given::<VehicleCrossing>(authorised())
        .when(Command::RecordProtectiveIsland {
            file: Uuid::from_u128(3),
            at: at(11, 3),
        })
        .then([Event::ProtectiveIslandAuthorised {
            file: Uuid::from_u128(3),
            at: at(11, 3),
        }]);
    assert_eq!(state.islands, [Uuid::from_u128(3)]);
    given::<VehicleCrossing>(granted())
        .when(Command::RecordProtectiveIsland {
            file: Uuid::from_u128(3),
            at: at(11, 3),
        })
        .then_refused(|e| *e == Refusal::NotAuthorised);
}

#[test]
fn a_removal_ends_the_crossing_and_its_fees() {
    let state = given::<VehicleCrossing>(authorised())
        .when(Command::Remove {
            at_holder_request: true,
            reasons: reasons(),
            on: day(12, 1),
            entry: None,
            at: at(12, 1),
        })
        .then([Event::Ended {
            reason: EndReason::RemovedAtHolderRequest,
            grounds: Some("Cumple la ordenanza".into()),
            replaced_by: None,
            on: day(12, 1),
            entry: None,
            at: at(12, 1),
        }]);
    assert!(state.stage.is_closed());
    given::<VehicleCrossing>(granted())
        .when(Command::Remove {
            at_holder_request: false,
            reasons: reasons(),
            on: day(12, 1),
            entry: None,
            at: at(12, 1),
        })
        .then_refused(|e| *e == Refusal::NotAuthorised);
}

#[test]
fn withdrawal_only_before_the_resolution() {
    given::<VehicleCrossing>(under_review())
        .when(Command::Withdraw { at: at(10, 20) })
        .then([Event::Withdrawn { at: at(10, 20) }]);
    given::<VehicleCrossing>(granted())
        .when(Command::Withdraw { at: at(11, 5) })
        .then_refused(|e| *e == Refusal::AlreadyResolved);
}

#[test]
fn crossing_numbers_parse() {
    assert_eq!(number().as_str(), "12-0345");
    assert!("".parse::<CrossingNumber>().is_err());
    assert!("12 0345".parse::<CrossingNumber>().is_err());
    assert!("x".repeat(21).parse::<CrossingNumber>().is_err());
}

#[test]
fn case_effects_show_what_the_applicant_must_do() {
    let effects = VehicleCrossing::case_effects(&applied());
    assert!(matches!(effects[0], CaseEffect::Opened { .. }));
    assert!(effects.iter().any(|e| matches!(
        e,
        CaseEffect::Silence {
            meaning: SilenceMeaning::Desestimatory,
            ..
        }
    )));
    assert!(VehicleCrossing::case_effects(&completed())
        .contains(&CaseEffect::ResolutionDue(Some(day(11, 16)))));
    let effects = VehicleCrossing::case_effects(&Event::ResolutionNotified {
        notification: resolution_notice(),
        outcome: Outcome::Accessed,
        on: day(11, 10),
        payment_due: Some(day(12, 21)),
    });
    assert!(matches!(
        &effects[..],
        [CaseEffect::CitizenMustAct(Some(CitizenAction { due, .. }))] if *due == day(12, 21)
    ));
}

#[test]
fn event_types_are_the_names_stored_in_the_log() {
    assert_eq!(applied().event_type(), "applied");
    assert_eq!(completed().event_type(), "documentation_completed");
    assert_eq!(
        Event::SignOverdue {
            due: day(1, 1),
            at: at(1, 1)
        }
        .event_type(),
        "sign_overdue"
    );
    // Every event reads back as it was written.
    for event in authorised_with(Works::ByApplicant, Some(day(12, 31))) {
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], event.event_type());
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
    }
}
