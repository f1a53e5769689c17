//! Trigger rows, scoped by account, service and function.

use ferric_types::service::Meta;
use ferric_types::trigger::{Trigger, TriggerSpec};
use ferric_types::{ErrorCode, FcError};
use rusqlite::{params, Connection, Row, Transaction};

use super::{check_etag, db, from_json, functions, new_etag, new_meta, paging, to_json};
use crate::metadata::{ListQuery, Page, StoreError, TriggerUpdate};

/// The function a trigger belongs to.
pub(super) struct Scope {
    account: String,
    service: String,
    function: String,
}

impl Scope {
    pub(super) fn new(account: &str, service: &str, function: &str) -> Scope {
        Scope { account: account.to_string(), service: service.to_string(), function: function.to_string() }
    }
}

const COLUMNS: &str = "service, function, name, id, etag, created_ms, modified_ms, spec";
const WHERE_SCOPE: &str = "account_id = ?1 AND service = ?2 AND function = ?3";

fn from_row(row: &Row<'_>) -> Result<Trigger, StoreError> {
    from_row_at(row, 0)
}

/// A trigger from the row's columns starting at `at`.
fn from_row_at(row: &Row<'_>, at: usize) -> Result<Trigger, StoreError> {
    let read = |row: &Row<'_>| -> rusqlite::Result<(String, String, String, Meta, String)> {
        Ok((
            row.get(at)?,
            row.get(at + 1)?,
            row.get(at + 2)?,
            Meta {
                id: row.get(at + 3)?,
                etag: row.get(at + 4)?,
                created_ms: row.get(at + 5)?,
                modified_ms: row.get(at + 6)?,
            },
            row.get(at + 7)?,
        ))
    };
    let (service, function, name, meta, spec) = read(row).map_err(db("read trigger row"))?;
    Ok(Trigger { service, function, name, meta, spec: from_json("trigger spec", &spec)? })
}

pub(super) fn get(conn: &Connection, scope: &Scope, name: &str) -> Result<Option<Trigger>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM triggers WHERE {WHERE_SCOPE} AND name = ?4"))
        .map_err(db("prepare get trigger"))?;
    let mut rows =
        stmt.query(params![scope.account, scope.service, scope.function, name]).map_err(db("get trigger"))?;
    rows.next().map_err(db("get trigger"))?.map(from_row).transpose()
}

fn require(conn: &Connection, scope: &Scope, name: &str) -> Result<Trigger, StoreError> {
    match get(conn, scope, name)? {
        Some(t) => Ok(t),
        None => {
            functions::require(conn, &scope.account, &scope.service, &scope.function)?;
            Err(FcError::trigger_not_found(&scope.function, name).into())
        }
    }
}

pub(super) fn create(
    tx: &Transaction<'_>,
    scope: &Scope,
    name: &str,
    spec: TriggerSpec,
) -> Result<Trigger, StoreError> {
    functions::require(tx, &scope.account, &scope.service, &scope.function)?;
    if get(tx, scope, name)?.is_some() {
        return Err(FcError::new(
            ErrorCode::TriggerAlreadyExists,
            format!("trigger '{name}' already exists in function '{}'", scope.function),
        )
        .into());
    }
    let meta = new_meta();
    let spec_json = to_json("trigger spec", &spec)?;
    tx.execute(
        "INSERT INTO triggers (account_id, service, function, name, id, etag, created_ms, modified_ms, spec)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            scope.account,
            scope.service,
            scope.function,
            name,
            meta.id,
            meta.etag,
            meta.created_ms,
            meta.modified_ms,
            spec_json
        ],
    )
    .map_err(db("insert trigger"))?;
    Ok(Trigger { service: scope.service.clone(), function: scope.function.clone(), name: name.to_string(), meta, spec })
}

pub(super) fn list(conn: &Connection, scope: &Scope, query: &ListQuery) -> Result<Page<Trigger>, StoreError> {
    functions::require(conn, &scope.account, &scope.service, &scope.function)?;
    paging::list(
        conn,
        &format!("SELECT {COLUMNS} FROM triggers WHERE {WHERE_SCOPE}"),
        &[&scope.account, &scope.service, &scope.function],
        query,
        from_row,
        |t| &t.name,
    )
}

pub(super) fn update(
    tx: &Transaction<'_>,
    scope: &Scope,
    name: &str,
    if_match: Option<&str>,
    update: TriggerUpdate,
) -> Result<Trigger, StoreError> {
    let mut trigger = require(tx, scope, name)?;
    check_etag(&trigger.meta.etag, if_match)?;
    update(&mut trigger.spec)?;
    trigger.meta.etag = new_etag();
    trigger.meta.modified_ms = ferric_types::time::now_ms().max(trigger.meta.created_ms);
    let spec = to_json("trigger spec", &trigger.spec)?;
    tx.execute(
        &format!("UPDATE triggers SET etag = ?5, modified_ms = ?6, spec = ?7 WHERE {WHERE_SCOPE} AND name = ?4"),
        params![scope.account, scope.service, scope.function, name, trigger.meta.etag, trigger.meta.modified_ms, spec],
    )
    .map_err(db("update trigger"))?;
    Ok(trigger)
}

pub(super) fn of_type(conn: &Connection, trigger_type: &str) -> Result<Vec<(String, Trigger)>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT account_id, {COLUMNS} FROM triggers WHERE json_extract(spec, '$.triggerType') = ?1"
        ))
        .map_err(db("prepare triggers of type"))?;
    let mut rows = stmt.query(params![trigger_type]).map_err(db("triggers of type"))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db("read trigger row"))? {
        let account: String = row.get(0).map_err(db("read trigger account"))?;
        out.push((account, from_row_at(row, 1)?));
    }
    Ok(out)
}

pub(super) fn delete(
    tx: &Transaction<'_>,
    scope: &Scope,
    name: &str,
    if_match: Option<&str>,
) -> Result<(), StoreError> {
    let trigger = require(tx, scope, name)?;
    check_etag(&trigger.meta.etag, if_match)?;
    tx.execute(
        &format!("DELETE FROM triggers WHERE {WHERE_SCOPE} AND name = ?4"),
        params![scope.account, scope.service, scope.function, name],
    )
    .map_err(db("delete trigger"))?;
    Ok(())
}
