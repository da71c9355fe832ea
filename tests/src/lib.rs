//! Test support shared by every crate's integration tests: a private, migrated database per test.
//!
//! Each test gets its own database, created as a copy of a template database that is migrated once
//! per set of migrations (the template's name carries a digest of the migrations, so a changed
//! migration gets a new template). Tests therefore run in parallel without sharing state. The
//! server is the one in `DATABASE_URL` (the README's test command starts a private one).

use std::str::FromStr;

use sha2::{Digest, Sha256};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor, PgConnection, PgPool};

/// A database created for one test. It is left behind when the test ends so that a failure can be
/// inspected; `scripts/test` drops the leftovers of earlier runs before starting.
#[derive(Debug)]
pub struct TestDatabase {
    /// The database's name.
    pub name: String,
    /// Options to connect to it as its owner.
    pub options: PgConnectOptions,
    /// Its URL, for code that takes one.
    pub url: String,
}

impl TestDatabase {
    /// Creates a fresh database with every migration applied.
    pub async fn create(migrator: &Migrator) -> Self {
        let base_url = std::env::var("DATABASE_URL").expect(
            "DATABASE_URL must point at a PostgreSQL server; run the tests with scripts/test",
        );
        let base = PgConnectOptions::from_str(&base_url).expect("DATABASE_URL is not a valid URL");
        let admin_options = base
            .clone()
            .database("postgres")
            .disable_statement_logging();
        let mut admin = PgConnection::connect_with(&admin_options)
            .await
            .expect("cannot connect to the test PostgreSQL server");

        let template = template_name(migrator);
        // One process migrates the template; the others wait for it (tests run as many processes).
        admin
            .execute("SELECT pg_advisory_lock(727172)")
            .await
            .expect("advisory lock");
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)")
                .bind(&template)
                .fetch_one(&mut admin)
                .await
                .expect("query pg_database");
        if !exists {
            let building = format!("{template}_building");
            admin
                .execute(format!("DROP DATABASE IF EXISTS {building}").as_str())
                .await
                .expect("drop half-built template");
            admin
                .execute(format!("CREATE DATABASE {building}").as_str())
                .await
                .expect("create template");
            {
                let mut conn = PgConnection::connect_with(&base.clone().database(&building))
                    .await
                    .expect("connect to template");
                migrator.run(&mut conn).await.expect("migrate template");
                conn.close().await.ok();
            }
            admin
                .execute(format!("ALTER DATABASE {building} RENAME TO {template}").as_str())
                .await
                .expect("publish template");
        }
        admin
            .execute("SELECT pg_advisory_unlock(727172)")
            .await
            .expect("advisory unlock");

        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute(format!("CREATE DATABASE {name} TEMPLATE {template}").as_str())
            .await
            .expect("create test database");
        admin.close().await.ok();
        let options = base.clone().database(&name);
        let url = replace_database(&base_url, &name);
        Self { name, options, url }
    }

    /// A connection pool to the database, as its owner.
    pub async fn pool(&self, max_connections: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_with(self.options.clone())
            .await
            .expect("connect to the test database")
    }
}

fn template_name(migrator: &Migrator) -> String {
    let mut digest = Sha256::new();
    for m in migrator.iter() {
        digest.update(m.version.to_le_bytes());
        digest.update(&m.checksum);
    }
    format!("tpl_{}", &hex::encode(digest.finalize())[..16])
}

fn replace_database(url: &str, name: &str) -> String {
    let (before_query, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = before_query.find("://").map_or(0, |i| i + 3);
    let base = match before_query[scheme_end..].find('/') {
        Some(i) => &before_query[..scheme_end + i],
        None => before_query,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_in_a_url() {
        assert_eq!(
            super::replace_database("postgres://u@h:1/x?sslmode=disable", "t_1"),
            "postgres://u@h:1/t_1?sslmode=disable"
        );
        assert_eq!(
            super::replace_database("postgres://u@h:1", "t_1"),
            "postgres://u@h:1/t_1"
        );
    }
}
