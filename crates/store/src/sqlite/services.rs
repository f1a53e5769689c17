//! Service rows.

use ferric_types::service::{Meta, Service, ServiceSpec};
use ferric_types::FcError;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::{check_etag, db, from_json, new_etag, new_meta, paging, to_json};
use crate::metadata::{ListQuery, Page, ServiceUpdate, StoreError};

const COLUMNS: &str = "name, id, etag, created_ms, modified_ms, spec";

fn from_row(row: &Row<'_>) -> Result<Service, StoreError> {
    let read = |row: &Row<'_>| -> rusqlite::Result<(String, Meta, String)> {
        Ok((
            row.get(0)?,
            Meta { id: row.get(1)?, etag: row.get(2)?, created_ms: row.get(3)?, modified_ms: row.get(4)? },
            row.get(5)?,
        ))
    };
    let (name, meta, spec) = read(row).map_err(db("read service row"))?;
    Ok(Service { name, meta, spec: from_json("service spec", &spec)? })
}

pub(super) fn get(conn: &Connection, account: &str, name: &str) -> Result<Option<Service>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM services WHERE account_id = ?1 AND name = ?2"))
        .map_err(db("prepare get service"))?;
    let mut rows = stmt.query(params![account, name]).map_err(db("get service"))?;
    rows.next().map_err(db("get service"))?.map(from_row).transpose()
}

/// The service or `ServiceNotFound`: every function and trigger operation starts here.
pub(super) fn require(conn: &Connection, account: &str, name: &str) -> Result<Service, StoreError> {
    get(conn, account, name)?.ok_or_else(|| FcError::service_not_found(name).into())
}

pub(super) fn create(
    tx: &Transaction<'_>,
    account: &str,
    name: &str,
    spec: ServiceSpec,
) -> Result<Service, StoreError> {
    if get(tx, account, name)?.is_some() {
        return Err(FcError::new(
            ferric_types::ErrorCode::ServiceAlreadyExists,
            format!("service '{name}' already exists"),
        )
        .into());
    }
    let meta = new_meta();
    let spec_json = to_json("service spec", &spec)?;
    tx.prepare_cached(
        "INSERT INTO services (account_id, name, id, etag, created_ms, modified_ms, spec)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut s| {
        s.execute(params![account, name, meta.id, meta.etag, meta.created_ms, meta.modified_ms, spec_json])
    })
    .map_err(db("insert service"))?;
    Ok(Service { name: name.to_string(), meta, spec })
}

pub(super) fn list(conn: &Connection, account: &str, query: &ListQuery) -> Result<Page<Service>, StoreError> {
    paging::list(
        conn,
        &format!("SELECT {COLUMNS} FROM services WHERE account_id = ?1"),
        &[&account],
        query,
        from_row,
        |s| &s.name,
    )
}

pub(super) fn update(
    tx: &Transaction<'_>,
    account: &str,
    name: &str,
    if_match: Option<&str>,
    update: ServiceUpdate,
) -> Result<Service, StoreError> {
    let mut service = require(tx, account, name)?;
    check_etag(&service.meta.etag, if_match)?;
    update(&mut service.spec)?;
    service.meta.etag = new_etag();
    service.meta.modified_ms = ferric_types::time::now_ms().max(service.meta.created_ms);
    let spec = to_json("service spec", &service.spec)?;
    tx.execute(
        "UPDATE services SET etag = ?3, modified_ms = ?4, spec = ?5 WHERE account_id = ?1 AND name = ?2",
        params![account, name, service.meta.etag, service.meta.modified_ms, spec],
    )
    .map_err(db("update service"))?;
    Ok(service)
}

pub(super) fn delete(
    tx: &Transaction<'_>,
    account: &str,
    name: &str,
    if_match: Option<&str>,
) -> Result<(), StoreError> {
    let service = require(tx, account, name)?;
    check_etag(&service.meta.etag, if_match)?;
    // Versions and aliases belong to the service too: FC refuses to delete a service that has any.
    let has_functions: bool = tx
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM functions WHERE account_id = ?1 AND service = ?2)
                 OR EXISTS (SELECT 1 FROM versions WHERE account_id = ?1 AND service = ?2)
                 OR EXISTS (SELECT 1 FROM aliases WHERE account_id = ?1 AND service = ?2)",
            params![account, name],
            |r| r.get(0),
        )
        .optional()
        .map_err(db("count functions"))?
        .unwrap_or(false);
    if has_functions {
        return Err(
            FcError::new(ferric_types::ErrorCode::ServiceNotEmpty, format!("service '{name}' is not empty")).into()
        );
    }
    tx.execute("DELETE FROM services WHERE account_id = ?1 AND name = ?2", params![account, name])
        .map_err(db("delete service"))?;
    // A service created again under this name numbers its versions from 1.
    tx.execute("DELETE FROM version_counters WHERE account_id = ?1 AND service = ?2", params![account, name])
        .map_err(db("delete version counter"))?;
    super::tags::delete_all(tx, account, name)
}
