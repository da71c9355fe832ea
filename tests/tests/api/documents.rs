//! Documents and the electronic file through the whole service: a party uploads a plan to their
//! application (a registry entry), a caseworker adds a report; both are in the file's index in
//! order with their digests; the plan is fetched back intact and checked by its code without a
//! login; bad uploads change nothing; strangers reach nothing.

use super::*;

fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.7\n{text}\n%%EOF\n").into_bytes()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test]
async fn a_document_is_uploaded_listed_in_the_index_and_checked_by_its_code() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let ana = app.citizen(ANA);
    let id = submit_own(&app, &ana, "Poda de un árbol", "Ana García").await;
    let upload = |token: &str, name: &str, content_type: &str, body: Vec<u8>| {
        post(format!("{}/documents?name={name}", case_uri(&id)))
            .bearer(token)
            .raw(content_type, body)
    };
    let plan = pdf("plano de la parcela");
    let reply = upload(&ana, "plano.pdf", "application/pdf", plan.clone())
        .header("idempotency-key", "plano-1")
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    let location = reply.header("location").unwrap().to_owned();
    // The same upload again with its key: the same document, nothing added.
    let again = upload(&ana, "plano.pdf", "application/pdf", plan.clone())
        .header("idempotency-key", "plano-1")
        .send(&app)
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let record = get(&location).bearer(&ana).send(&app).await.ok_json();
    assert_eq!(record["sha256"], sha256_hex(&plan));
    assert_eq!(record["uploaded_by_role"], "citizen");
    assert!(record["registry_number"]
        .as_str()
        .unwrap()
        .starts_with("28079/2026/E/"));

    // The caseworker adds the tree service's report.
    let report = pdf("informe del servicio de arbolado");
    upload(
        &app.caseworker(),
        "informe.pdf",
        "application/pdf",
        report.clone(),
    )
    .send(&app)
    .await
    .expect(StatusCode::CREATED);

    // Bad uploads change nothing: a type not accepted, a content that is not what it says, an
    // empty one, a name with a path, a stranger, a file that is not theirs.
    let before = get(format!("{}/documents", case_uri(&id)))
        .bearer(&ana)
        .send(&app)
        .await
        .ok_json();
    assert_problem(
        &upload(&ana, "x.html", "text/html", b"<html>".to_vec())
            .send(&app)
            .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    );
    let reply = upload(
        &ana,
        "x.pdf",
        "application/pdf",
        b"<html>hola</html>".to_vec(),
    )
    .send(&app)
    .await;
    assert_eq!(
        problem_fields(&assert_problem(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation"
        )),
        ["body"]
    );
    let reply = upload(&ana, "x.pdf", "application/pdf", Vec::new())
        .send(&app)
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "validation");
    let reply = upload(&ana, "..%2Fetc%2Fpasswd", "application/pdf", pdf("x"))
        .send(&app)
        .await;
    assert_eq!(
        problem_fields(&assert_problem(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation"
        )),
        ["name"]
    );
    upload(&app.citizen(BORIS), "x.pdf", "application/pdf", pdf("x"))
        .send(&app)
        .await
        .expect(StatusCode::NOT_FOUND);
    upload(&app.auditor(), "x.pdf", "application/pdf", pdf("x"))
        .send(&app)
        .await
        .expect(StatusCode::FORBIDDEN);
    // Over 10 MiB.
    let mut huge = pdf("x");
    huge.resize(10 * 1024 * 1024 + 1, b' ');
    assert_eq!(
        upload(&ana, "grande.pdf", "application/pdf", huge)
            .send(&app)
            .await
            .status,
        StatusCode::PAYLOAD_TOO_LARGE
    );

    // The electronic index: both documents, in order, with their digests; unchanged by the
    // refused uploads.
    let index = get(format!("{}/documents", case_uri(&id)))
        .bearer(&ana)
        .send(&app)
        .await
        .ok_json();
    assert_eq!(index["documents"], before["documents"]);
    assert_eq!(index["index_sha256"], before["index_sha256"]);
    let docs = index["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(
        (
            docs[0]["number"].as_u64(),
            docs[0]["name"].as_str(),
            docs[0]["sha256"].as_str()
        ),
        (Some(1), Some("plano.pdf"), Some(sha256_hex(&plan).as_str()))
    );
    assert_eq!(docs[1]["sha256"], sha256_hex(&report));
    assert_eq!(docs[1]["uploaded_by_role"], "caseworker");
    assert_eq!(index["index_sha256"].as_str().unwrap().len(), 64);
    get(format!("{}/documents", case_uri(&id)))
        .bearer(&app.citizen(BORIS))
        .send(&app)
        .await
        .expect(StatusCode::NOT_FOUND);

    // The plan comes back intact, to its party, not to others.
    let content = get(format!("{location}/content"))
        .bearer(&ana)
        .send(&app)
        .await
        .expect(StatusCode::OK);
    assert_eq!(content.body.as_ref(), plan.as_slice());
    assert_eq!(content.header("content-type"), Some("application/pdf"));
    assert!(content
        .header("content-disposition")
        .unwrap()
        .contains("plano.pdf"));
    get(format!("{location}/content"))
        .bearer(&app.citizen(BORIS))
        .send(&app)
        .await
        .expect(StatusCode::NOT_FOUND);

    // Anyone with the code checks it, and gets the copy, without a login; no personal data.
    let code = record["verification_code"].as_str().unwrap().to_owned();
    let checked = get(format!(
        "/v1/verification/documents/{}",
        code.to_lowercase()
    ))
    .send(&app)
    .await
    .ok_json();
    assert_eq!(checked["sha256"], sha256_hex(&plan));
    assert!(checked.get("name").is_none());
    assert!(!checked.to_string().contains(ANA));
    let copy = get(format!("/v1/verification/documents/{code}/content"))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    assert_eq!(sha256_hex(&copy.body), sha256_hex(&plan));
    // Its registry receipt is checked with the same code.
    get(format!("/v1/verification/{code}"))
        .send(&app)
        .await
        .expect(StatusCode::OK);
    get("/v1/verification/documents/0000000000000000000Z")
        .send(&app)
        .await
        .expect(StatusCode::NOT_FOUND);

    // The service's role cannot alter stored bytes…
    assert!(
        sqlx::query("UPDATE document_contents SET content = $1 WHERE sha256 = $2")
            .bind(pdf("otro plano"))
            .bind(sha256_hex(&plan))
            .execute(&app.state.pool)
            .await
            .is_err()
    );
    // …and bytes altered behind its back (by the database's owner) are not served.
    sqlx::query("UPDATE document_contents SET content = $1 WHERE sha256 = $2")
        .bind(pdf("otro plano"))
        .bind(sha256_hex(&plan))
        .execute(&app.db.pool(1).await)
        .await
        .unwrap();
    assert_eq!(
        get(format!("{location}/content"))
            .bearer(&ana)
            .send(&app)
            .await
            .status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

#[tokio::test]
async fn if_match_on_an_upload_names_the_files_version() {
    let app = TestApp::start(utc(2026, 3, 2, 9, 0)).await;
    let ana = app.citizen(ANA);
    let id = submit_own(&app, &ana, "Poda de un árbol", "Ana García").await;
    let upload = |if_match: &str| {
        post(format!("{}/documents?name=plano.pdf", case_uri(&id)))
            .bearer(&ana)
            .header("if-match", if_match)
            .raw("application/pdf", pdf("plano"))
    };
    let reply = upload("\"7\"").send(&app).await;
    assert_eq!(reply.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(reply.json()["current_version"], 1);
    upload("\"1\"").send(&app).await.expect(StatusCode::CREATED);
}
