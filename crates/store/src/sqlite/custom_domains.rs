//! Custom domain rows. The name is the key across accounts; every read but [`all`] is scoped by account.

use ferric_types::custom_domain::{CustomDomain, CustomDomainSpec};
use ferric_types::service::Meta;
use ferric_types::{ErrorCode, FcError};
use rusqlite::{params, Connection, Row, Transaction};

use super::{db, from_json, new_etag, new_meta, paging, to_json};
use crate::account::DomainUpdate;
use crate::metadata::{ListQuery, Page, StoreError};

const COLUMNS: &str = "name, account_id, id, etag, created_ms, modified_ms, spec";

fn from_row(row: &Row<'_>) -> Result<CustomDomain, StoreError> {
    let read = |row: &Row<'_>| -> rusqlite::Result<(String, String, Meta, String)> {
        Ok((
            row.get(0)?,
            row.get(1)?,
            Meta { id: row.get(2)?, etag: row.get(3)?, created_ms: row.get(4)?, modified_ms: row.get(5)? },
            row.get(6)?,
        ))
    };
    let (name, account_id, meta, spec) = read(row).map_err(db("read custom domain row"))?;
    Ok(CustomDomain { name, account_id, meta, spec: from_json("custom domain spec", &spec)? })
}

pub(super) fn get(conn: &Connection, account: &str, name: &str) -> Result<Option<CustomDomain>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM custom_domains WHERE account_id = ?1 AND name = ?2"))
        .map_err(db("prepare get custom domain"))?;
    let mut rows = stmt.query(params![account, name]).map_err(db("get custom domain"))?;
    rows.next().map_err(db("get custom domain"))?.map(from_row).transpose()
}

fn require(conn: &Connection, account: &str, name: &str) -> Result<CustomDomain, StoreError> {
    get(conn, account, name)?.ok_or_else(|| FcError::domain_not_found(name).into())
}

pub(super) fn create(
    tx: &Transaction<'_>,
    account: &str,
    name: &str,
    spec: CustomDomainSpec,
) -> Result<CustomDomain, StoreError> {
    let host = name.to_ascii_lowercase();
    let taken: bool = tx
        .query_row("SELECT EXISTS (SELECT 1 FROM custom_domains WHERE host = ?1)", params![host], |r| r.get(0))
        .map_err(db("check custom domain"))?;
    if taken {
        return Err(
            FcError::new(ErrorCode::DomainNameAlreadyExists, format!("domain name '{name}' already exists")).into()
        );
    }
    let meta = new_meta();
    let spec_json = to_json("custom domain spec", &spec)?;
    tx.prepare_cached(
        "INSERT INTO custom_domains (name, host, account_id, id, etag, created_ms, modified_ms, spec)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![name, host, account, meta.id, meta.etag, meta.created_ms, meta.modified_ms, spec_json])
    })
    .map_err(db("insert custom domain"))?;
    Ok(CustomDomain { name: name.to_string(), account_id: account.to_string(), meta, spec })
}

pub(super) fn list(conn: &Connection, account: &str, query: &ListQuery) -> Result<Page<CustomDomain>, StoreError> {
    paging::list(
        conn,
        &format!("SELECT {COLUMNS} FROM custom_domains WHERE account_id = ?1"),
        &[&account],
        query,
        from_row,
        |d| &d.name,
    )
}

pub(super) fn all(conn: &Connection) -> Result<Vec<CustomDomain>, StoreError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM custom_domains")).map_err(db("prepare all domains"))?;
    let mut rows = stmt.query([]).map_err(db("all domains"))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db("read domain row"))? {
        out.push(from_row(row)?);
    }
    Ok(out)
}

pub(super) fn update(
    tx: &Transaction<'_>,
    account: &str,
    name: &str,
    update: DomainUpdate,
) -> Result<CustomDomain, StoreError> {
    let mut domain = require(tx, account, name)?;
    update(&mut domain.spec)?;
    domain.meta.etag = new_etag();
    domain.meta.modified_ms = ferric_types::time::now_ms().max(domain.meta.created_ms);
    let spec = to_json("custom domain spec", &domain.spec)?;
    tx.execute(
        "UPDATE custom_domains SET etag = ?3, modified_ms = ?4, spec = ?5 WHERE account_id = ?1 AND name = ?2",
        params![account, name, domain.meta.etag, domain.meta.modified_ms, spec],
    )
    .map_err(db("update custom domain"))?;
    Ok(domain)
}

pub(super) fn delete(tx: &Transaction<'_>, account: &str, name: &str) -> Result<(), StoreError> {
    let n = tx
        .execute("DELETE FROM custom_domains WHERE account_id = ?1 AND name = ?2", params![account, name])
        .map_err(db("delete custom domain"))?;
    if n == 0 {
        return Err(FcError::domain_not_found(name).into());
    }
    Ok(())
}
