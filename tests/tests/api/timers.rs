//! The deadline timers of a general application through the whole service: the subsanación
//! period closes at the first minute after its last local day (not a UTC day), and a fix in time
//! leaves nothing to fire.

use super::*;

/// 00:00 in Madrid on `day` (summer time: UTC+2).
fn madrid_midnight(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap()) - Duration::hours(2)
}

#[tokio::test]
async fn an_unfixed_application_is_proposed_for_desistimiento_when_its_last_local_day_ends_and_declared_by_resolution(
) {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let id = submit_own(&app, &app.citizen(ANA), "Poda de un árbol", "Ana García").await;
    ask_to_fix(&app, &id, "falta el plano").await;
    let view = get(case_uri(&id))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    let due: NaiveDate = view["citizen_action"]["due"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        due,
        day(2026, 8, 3),
        "10 business days from Monday 20 July 2026"
    );
    settle(&app).await;

    // One minute before midnight in Madrid on the last day (21:59 UTC): still running.
    app.clock
        .set(madrid_midnight(due.succ_opt().unwrap()) - Duration::minutes(1));
    assert_eq!(app.state.scheduler.run_once().await.unwrap().handled(), 0);
    // At midnight in Madrid (22:00 UTC, still 3 August in UTC) the period is over.
    app.clock.set(madrid_midnight(due.succ_opt().unwrap()));
    let pass = app.state.scheduler.run_once().await.unwrap();
    assert_eq!((pass.fired, pass.closed), (1, 0), "{pass:?}");
    settle(&app).await;
    let view = get(case_uri(&id))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    // Art. 68.1: the timer only proposes; the council declares it by resolution.
    assert_eq!(view["state"], "desistimiento_proposed");
    assert_eq!(view["open"], true);
    // Granting it now is refused: the caseworker must declare the desistimiento (or record a
    // late fix first, art. 73.3).
    post(format!("{}/resolutions", case_uri(&id)))
        .bearer(&app.caseworker())
        .json(&json!({"decision": "granted", "grounds": "Procede"}))
        .send(&app)
        .await
        .expect(StatusCode::CONFLICT);
    post(format!("{}/resolutions", case_uri(&id)))
        .bearer(&app.caseworker())
        .json(&json!({"decision": "desistimiento", "grounds": "No se aportó el plano en plazo", "body": "la Concejalía de Medio Ambiente"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let view = get(case_uri(&id))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(view["state"], "deemed_withdrawn");
    assert_eq!(view["open"], false);
    // The resolution carries its reasons and the appeals its notification must state.
    let events = get(format!("{}/events", case_uri(&id)))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    let resolved = events["items"]
        .as_array()
        .or(events.as_array())
        .unwrap()
        .iter()
        .find(|e| e["event_type"] == "resolved")
        .unwrap()
        .clone();
    assert_eq!(resolved["payload"]["decision"], "desistimiento");
    assert_eq!(resolved["payload"]["appeals"][0]["kind"], "reposicion");
    assert_eq!(
        resolved["payload"]["appeals"][0]["before"],
        "la Concejalía de Medio Ambiente"
    );
    assert_eq!(
        resolved["payload"]["appeals"][1]["kind"],
        "contencioso_administrativo"
    );
    // Once she opens the resolution, she sees it closed, with nothing left to do.
    open_notification(&app, &id, "resolution", ANA).await;
    let carpeta = get("/v1/carpeta")
        .bearer(&app.citizen(ANA))
        .send(&app)
        .await
        .ok_json();
    let file = &carpeta["files"][0];
    assert_eq!(
        (file["state"].as_str(), file["citizen_must_act"].as_bool()),
        (Some("closed"), Some(false))
    );
}

#[tokio::test]
async fn a_fix_in_time_leaves_no_timer_to_fire() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let id = submit_own(&app, &app.citizen(ANA), "Poda de un árbol", "Ana García").await;
    ask_to_fix(&app, &id, "falta el plano").await;
    post(format!("{}/rectifications", case_uri(&id)))
        .bearer(&app.citizen(ANA))
        .json(&json!({"note": "adjunto el plano"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    settle(&app).await;
    app.clock.set(utc(2026, 9, 1, 8, 0));
    assert_eq!(app.state.scheduler.run_once().await.unwrap().handled(), 0);
    let view = get(case_uri(&id))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(view["state"], "submitted");
}

/// Waits until the read models have applied every event so far.
async fn settle(app: &TestApp) {
    app.state
        .runner
        .settle(StdDuration::from_secs(20))
        .await
        .unwrap();
}

#[tokio::test]
async fn silence_takes_effect_the_day_after_the_maximum_time_and_the_duty_to_resolve_remains() {
    // Filed on Monday 20 July 2026: three months (art. 21.3) end on Tuesday 20 October.
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let id = submit_own(&app, &app.citizen(ANA), "Poda de un árbol", "Ana García").await;
    let view = get(case_uri(&id))
        .bearer(&app.citizen(ANA))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(view["resolution_due"], "2026-10-20");
    assert_eq!(view["silence"]["meaning"], "estimatory");
    assert_eq!(view["silence"]["reached_on"], Value::Null);
    settle(&app).await;
    app.clock
        .set(madrid_midnight(day(2026, 10, 21)) - Duration::minutes(1));
    assert_eq!(app.state.scheduler.run_once().await.unwrap().handled(), 0);
    app.clock.set(madrid_midnight(day(2026, 10, 21)));
    let pass = app.state.scheduler.run_once().await.unwrap();
    assert_eq!((pass.fired, pass.closed), (1, 0), "{pass:?}");
    settle(&app).await;
    let view = get(case_uri(&id))
        .bearer(&app.citizen(ANA))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(view["silence"]["reached_on"], "2026-10-21");
    assert_eq!(
        view["open"], true,
        "the duty to resolve remains (art. 24.3)"
    );
    // Art. 24.3.a: after estimatory silence, a later resolution may only confirm it.
    post(format!("{}/resolutions", case_uri(&id)))
        .bearer(&app.caseworker())
        .json(&json!({"decision": "denied", "grounds": "No procede"}))
        .send(&app)
        .await
        .expect(StatusCode::CONFLICT);
    post(format!("{}/resolutions", case_uri(&id)))
        .bearer(&app.caseworker())
        .json(&json!({"decision": "granted", "grounds": "Se confirma lo estimado por silencio"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn a_request_to_fix_suspends_the_maximum_time_by_the_business_days_it_lasted() {
    let app = TestApp::start(utc(2026, 7, 20, 8, 0)).await;
    let id = submit_own(&app, &app.citizen(ANA), "Poda de un árbol", "Ana García").await;
    ask_to_fix(&app, &id, "falta el plano").await;
    let view = get(case_uri(&id))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(
        view["resolution_due"],
        Value::Null,
        "suspended (art. 22.1.a)"
    );
    // Fixed on Monday 27 July: the clock stood still for five business days (21 to 27 July),
    // so the last day moves from Tuesday 20 October to Tuesday 27 October.
    app.clock.set(utc(2026, 7, 27, 9, 0));
    post(format!("{}/rectifications", case_uri(&id)))
        .bearer(&app.citizen(ANA))
        .json(&json!({"note": "adjunto el plano"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let view = get(case_uri(&id))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(view["resolution_due"], "2026-10-27");
    settle(&app).await;
    // The timer moved with it: nothing fires at the end of the original last day.
    app.clock.set(madrid_midnight(day(2026, 10, 21)));
    assert_eq!(app.state.scheduler.run_once().await.unwrap().handled(), 0);
    // 00:00 of Wednesday 28 October in Madrid is 23:00 UTC: winter time began on 25 October.
    app.clock.set(utc(2026, 10, 27, 22, 59));
    assert_eq!(app.state.scheduler.run_once().await.unwrap().handled(), 0);
    app.clock.set(utc(2026, 10, 27, 23, 0));
    assert_eq!(app.state.scheduler.run_once().await.unwrap().fired, 1);
}

#[tokio::test]
async fn a_calendar_published_after_files_were_opened_moves_their_deadlines_and_timers() {
    // Tuesday 22 December 2026, 10:00 in Madrid: no calendar for 2027 is published yet.
    let app = TestApp::start(utc(2026, 12, 22, 9, 0)).await;
    let id = submit_own(&app, &app.citizen(ANA), "Poda de un árbol", "Ana García").await;
    ask_to_fix(&app, &id, "falta el plano").await;
    settle(&app).await;
    let view = get(case_uri(&id))
        .bearer(&app.citizen(ANA))
        .send(&app)
        .await
        .ok_json();
    // Ten business days from Wednesday 23 December: 1 and 6 January are assumed (national),
    // so Friday 8 January 2027 — provisional, and the file says why.
    assert_eq!(view["citizen_action"]["due"], "2027-01-08");
    let why = view["provisional"].as_str().expect("provisional");
    assert!(why.contains("no calendar for 2027"), "{why}");
    let carpeta = get("/v1/carpeta")
        .bearer(&app.citizen(ANA))
        .send(&app)
        .await
        .ok_json();
    assert!(carpeta["files"][0]["provisional"]
        .as_str()
        .unwrap()
        .contains("2027"));
    let listed = get("/v1/cases")
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert!(listed["items"][0]["provisional"].is_string());
    // Nothing moves while the calendar is the same.
    assert_eq!(app.state.scheduler.run_once().await.unwrap().moved, 0);

    // On 28 December the administrator publishes 2027: the national holidays (BOE), Madrid's
    // regional ones and — for this test, hypothetically — a local holiday on Thursday 7 January.
    app.clock.set(utc(2026, 12, 28, 9, 0));
    let admin = app.token(Role::Admin, MADRID, "admin-0001");
    call(Method::PUT, "/v1/calendars/2027")
        .bearer(&admin)
        .json(
            &json!({"source": "BOE y BOCM de 2026", "calendar": {"year": 2027, "official": true,
            "national": ["2027-01-01", "2027-01-06", "2027-03-26", "2027-05-01", "2027-10-12",
                         "2027-11-01", "2027-12-06", "2027-12-08", "2027-12-25"],
            "regional": {"MD": ["2027-03-25", "2027-05-03"]}}}),
        )
        .send(&app)
        .await
        .expect(StatusCode::OK);
    call(Method::PUT, "/v1/calendars/2027/municipalities/28079")
        .bearer(&admin)
        .json(&json!({"source": "BOCM (hipotético, para la prueba)", "days": ["2027-01-07", "2027-11-09"]}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    let pass = app.state.scheduler.run_once().await.unwrap();
    assert_eq!(pass.moved, 1, "{pass:?}");
    settle(&app).await;
    assert_eq!(
        app.state.scheduler.run_once().await.unwrap().moved,
        0,
        "moved once"
    );
    let view = get(case_uri(&id))
        .bearer(&app.citizen(ANA))
        .send(&app)
        .await
        .ok_json();
    assert_eq!(
        view["citizen_action"]["due"], "2027-01-11",
        "7 January is now a holiday"
    );
    assert_eq!(
        view["provisional"],
        Value::Null,
        "every day it counts is known now"
    );
    // The file records the move; the timer fires after the new last day, not before.
    let history = get(format!("{}/events", case_uri(&id)))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    let moved = history
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_type"] == "deadline_moved")
        .expect("the move is on the file");
    assert_eq!(
        (
            moved["payload"]["was"].as_str(),
            moved["payload"]["due"].as_str()
        ),
        (Some("2027-01-08"), Some("2027-01-11"))
    );
    app.clock.set(madrid_midnight_winter(day(2027, 1, 9)));
    assert_eq!(app.state.scheduler.run_once().await.unwrap().fired, 0);
    app.clock.set(madrid_midnight_winter(day(2027, 1, 12)));
    assert_eq!(app.state.scheduler.run_once().await.unwrap().fired, 1);
}

/// 00:00 in Madrid on `day` (winter time: UTC+1).
fn madrid_midnight_winter(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap()) - Duration::hours(1)
}

#[tokio::test]
async fn the_applicants_residence_holidays_count_too() {
    // Tuesday 8 September 2026. Madrid works on Friday 11 September; Barcelona keeps the Diada.
    let app = TestApp::start(utc(2026, 9, 8, 8, 0)).await;
    let ana = app.citizen(ANA);
    let filed = |residence: Option<&str>| {
        let mut body = json!({"subject": "Poda de un árbol", "name": "Ana García"});
        if let Some(r) = residence {
            body["residence"] = json!(r);
        }
        post("/v1/general-applications").bearer(&ana).json(&body)
    };
    // An unknown municipality is refused, naming the field.
    let reply = filed(Some("99999")).send(&app).await;
    assert_eq!(
        problem_fields(&assert_problem(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation"
        )),
        ["residence"]
    );
    let here = id_of(
        &filed(None)
            .send(&app)
            .await
            .expect(StatusCode::CREATED)
            .json(),
    );
    let barcelona = id_of(
        &filed(Some("08019"))
            .send(&app)
            .await
            .expect(StatusCode::CREATED)
            .json(),
    );
    let mut dues = Vec::new();
    for id in [&here, &barcelona] {
        ask_to_fix(&app, id, "falta el plano").await;
        let view = get(case_uri(id)).bearer(&ana).send(&app).await.ok_json();
        dues.push(view["citizen_action"]["due"].as_str().unwrap().to_owned());
    }
    // Ten business days from Wednesday 9 September: Tuesday 22 at the seat; with the residence
    // in Barcelona, 11 September is not one either (art. 30.6): Wednesday 23.
    assert_eq!(dues, ["2026-09-22", "2026-09-23"]);
}

#[tokio::test]
async fn a_maximum_time_moved_by_a_suspension_is_counted_again_with_it_when_the_calendar_changes() {
    // Tuesday 22 December 2026: three months to resolve, to Monday 22 March 2027.
    let app = TestApp::start(utc(2026, 12, 22, 9, 0)).await;
    let id = submit_own(&app, &app.citizen(ANA), "Poda de un árbol", "Ana García").await;
    ask_to_fix(&app, &id, "falta el plano").await;
    // Fixed on Monday 28 December: the time stood still three business days (23, 24 and 28
    // December; 25 is Christmas), so it ends three business days after 22 March: Thursday 25
    // March by the national holidays assumed for 2027 — provisional.
    app.clock.set(utc(2026, 12, 28, 9, 0));
    post(format!("{}/rectifications", case_uri(&id)))
        .bearer(&app.citizen(ANA))
        .json(&json!({"note": "adjunto el plano"}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    settle(&app).await;
    let view = get(case_uri(&id))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(view["resolution_due"], "2027-03-25", "{view}");
    assert!(view["provisional"].is_string());

    // Then 2027 is published: Holy Thursday (25 March) is a holiday in Madrid, and — for this
    // test, hypothetically — 23 March a local one. Counted again from the filing, with the
    // suspension: 22 March + three business days = Tuesday 30 March (not 22 March, as counting
    // the three months alone would give).
    let admin = app.token(Role::Admin, MADRID, "admin-0001");
    call(Method::PUT, "/v1/calendars/2027")
        .bearer(&admin)
        .json(
            &json!({"source": "BOE y BOCM de 2026", "calendar": {"year": 2027, "official": true,
            "national": ["2027-01-01", "2027-01-06", "2027-03-26", "2027-05-01", "2027-10-12",
                         "2027-11-01", "2027-12-06", "2027-12-08", "2027-12-25"],
            "regional": {"MD": ["2027-03-25", "2027-05-03"]}}}),
        )
        .send(&app)
        .await
        .expect(StatusCode::OK);
    call(Method::PUT, "/v1/calendars/2027/municipalities/28079")
        .bearer(&admin)
        .json(&json!({"source": "BOCM (hipotético, para la prueba)", "days": ["2027-03-23", "2027-11-09"]}))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    assert_eq!(app.state.scheduler.run_once().await.unwrap().moved, 1);
    settle(&app).await;
    let view = get(case_uri(&id))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(view["resolution_due"], "2027-03-30", "{view}");
    assert_eq!(view["provisional"], Value::Null);
    // The silence's timer follows: nothing on 30 March, silence at 00:00 on 31 March.
    app.clock.set(madrid_midnight_summer(day(2027, 3, 30)));
    assert_eq!(app.state.scheduler.run_once().await.unwrap().fired, 0);
    app.clock.set(madrid_midnight_summer(day(2027, 3, 31)));
    assert_eq!(app.state.scheduler.run_once().await.unwrap().fired, 1);
}

/// 00:00 in Madrid on `day` (summer time: UTC+2; from the last Sunday of March).
fn madrid_midnight_summer(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap()) - Duration::hours(2)
}
