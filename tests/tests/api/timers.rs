//! The deadline timers of a general application through the whole service: the subsanación
//! period closes at the first minute after its last local day (not a UTC day), and a fix in time
//! leaves nothing to fire.

use super::*;

/// 00:00 in Madrid on `day` (summer time: UTC+2).
fn madrid_midnight(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap()) - Duration::hours(2)
}

#[tokio::test]
async fn an_unfixed_application_is_deemed_withdrawn_when_its_last_local_day_ends() {
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
    app.state
        .runner
        .settle(StdDuration::from_secs(20))
        .await
        .unwrap();

    // One minute before midnight in Madrid on the last day (21:59 UTC): still running.
    app.clock
        .set(madrid_midnight(due.succ_opt().unwrap()) - Duration::minutes(1));
    assert_eq!(app.state.scheduler.run_once().await.unwrap().handled(), 0);
    // At midnight in Madrid (22:00 UTC, still 3 August in UTC) the period is over.
    app.clock.set(madrid_midnight(due.succ_opt().unwrap()));
    let pass = app.state.scheduler.run_once().await.unwrap();
    assert_eq!((pass.fired, pass.closed), (1, 0), "{pass:?}");
    app.state
        .runner
        .settle(StdDuration::from_secs(20))
        .await
        .unwrap();
    let view = get(case_uri(&id))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(view["state"], "deemed_withdrawn");
    assert_eq!(view["open"], false);
    // The citizen sees it closed, with nothing left to do.
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
    app.state
        .runner
        .settle(StdDuration::from_secs(20))
        .await
        .unwrap();
    app.clock.set(utc(2026, 9, 1, 8, 0));
    assert_eq!(app.state.scheduler.run_once().await.unwrap().handled(), 0);
    let view = get(case_uri(&id))
        .bearer(&app.caseworker())
        .send(&app)
        .await
        .ok_json();
    assert_eq!(view["state"], "submitted");
}
