//! Function rows. A function row also carries the code package it points at, so garbage collection of
//! packages is a query, and the form API's opaque configuration text.

use ferric_types::function::{CodeRef, Function, FunctionSpec};
use ferric_types::service::Meta;
use ferric_types::{ErrorCode, FcError};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::{check_etag, db, from_json, new_etag, new_meta, paging, services, to_json};
use crate::metadata::{FunctionSearch, FunctionUpdate, ListQuery, Page, StoreError};

const COLUMNS: &str = "service, name, id, etag, created_ms, modified_ms, spec, code_checksum, code_size";

fn from_row(row: &Row<'_>) -> Result<Function, StoreError> {
    let read = |row: &Row<'_>| -> rusqlite::Result<(String, String, Meta, String, CodeRef)> {
        Ok((
            row.get(0)?,
            row.get(1)?,
            Meta { id: row.get(2)?, etag: row.get(3)?, created_ms: row.get(4)?, modified_ms: row.get(5)? },
            row.get(6)?,
            CodeRef { checksum: row.get(7)?, size: row.get::<_, i64>(8)?.max(0) as u64 },
        ))
    };
    let (service, name, meta, spec, code) = read(row).map_err(db("read function row"))?;
    Ok(Function { service, name, meta, spec: from_json("function spec", &spec)?, code })
}

pub(super) fn get(conn: &Connection, account: &str, service: &str, name: &str) -> Result<Option<Function>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM functions WHERE account_id = ?1 AND service = ?2 AND name = ?3"
        ))
        .map_err(db("prepare get function"))?;
    let mut rows = stmt.query(params![account, service, name]).map_err(db("get function"))?;
    rows.next().map_err(db("get function"))?.map(from_row).transpose()
}

/// The function or the right not-found error (a missing service is reported as such).
pub(super) fn require(conn: &Connection, account: &str, service: &str, name: &str) -> Result<Function, StoreError> {
    match get(conn, account, service, name)? {
        Some(f) => Ok(f),
        None => {
            services::require(conn, account, service)?;
            Err(FcError::function_not_found(service, name).into())
        }
    }
}

pub(super) fn create(
    tx: &Transaction<'_>,
    account: &str,
    service: &str,
    name: &str,
    spec: FunctionSpec,
    code: CodeRef,
) -> Result<Function, StoreError> {
    services::require(tx, account, service)?;
    if get(tx, account, service, name)?.is_some() {
        return Err(FcError::new(
            ErrorCode::FunctionAlreadyExists,
            format!("function '{name}' already exists in service '{service}'"),
        )
        .into());
    }
    let meta = new_meta();
    let spec_json = to_json("function spec", &spec)?;
    tx.prepare_cached(
        "INSERT INTO functions
         (account_id, service, name, id, etag, created_ms, modified_ms, spec, code_checksum, code_size)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut s| {
        s.execute(params![
            account,
            service,
            name,
            meta.id,
            meta.etag,
            meta.created_ms,
            meta.modified_ms,
            spec_json,
            code.checksum,
            code.size as i64
        ])
    })
    .map_err(db("insert function"))?;
    Ok(Function { service: service.to_string(), name: name.to_string(), meta, spec, code })
}

pub(super) fn list(
    conn: &Connection,
    account: &str,
    service: &str,
    query: &ListQuery,
) -> Result<Page<Function>, StoreError> {
    services::require(conn, account, service)?;
    paging::list(
        conn,
        &format!("SELECT {COLUMNS} FROM functions WHERE account_id = ?1 AND service = ?2"),
        &[&account, &service],
        query,
        from_row,
        |f| &f.name,
    )
}

/// Every function of a service, by name (a version snapshots them all).
pub(super) fn all(conn: &Connection, account: &str, service: &str) -> Result<Vec<Function>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM functions WHERE account_id = ?1 AND service = ?2 ORDER BY name"
        ))
        .map_err(db("prepare all functions"))?;
    let mut rows = stmt.query(params![account, service]).map_err(db("all functions"))?;
    let mut items = Vec::new();
    while let Some(row) = rows.next().map_err(db("read function row"))? {
        items.push(from_row(row)?);
    }
    Ok(items)
}

/// `LIKE` with the user's text escaped, so `%` and `_` match themselves.
fn like_pattern(needle: &str) -> String {
    let escaped = needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

pub(super) fn search(
    conn: &Connection,
    account: &str,
    service: &str,
    search: &FunctionSearch,
) -> Result<(Vec<Function>, u64), StoreError> {
    let pattern = like_pattern(search.name_contains.as_deref().unwrap_or(""));
    let filter = "account_id = ?1 AND service = ?2 AND name LIKE ?3 ESCAPE '\\'";
    let total: i64 = conn
        .query_row(&format!("SELECT COUNT(*) FROM functions WHERE {filter}"), params![account, service, pattern], |r| {
            r.get(0)
        })
        .map_err(db("count functions"))?;
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM functions WHERE {filter} ORDER BY name LIMIT ?4 OFFSET ?5"))
        .map_err(db("prepare search functions"))?;
    let offset = i64::try_from(search.offset).unwrap_or(i64::MAX);
    let mut rows = stmt
        .query(params![account, service, pattern, i64::from(search.limit), offset])
        .map_err(db("search functions"))?;
    let mut items = Vec::new();
    while let Some(row) = rows.next().map_err(db("read function row"))? {
        items.push(from_row(row)?);
    }
    Ok((items, total.max(0) as u64))
}

pub(super) fn update(
    tx: &Transaction<'_>,
    account: &str,
    service: &str,
    name: &str,
    if_match: Option<&str>,
    update: FunctionUpdate,
    code: Option<CodeRef>,
) -> Result<(Function, Option<String>), StoreError> {
    let mut function = require(tx, account, service, name)?;
    check_etag(&function.meta.etag, if_match)?;
    update(&mut function.spec)?;
    let replaced = match code {
        Some(code) if code.checksum != function.code.checksum => {
            Some(std::mem::replace(&mut function.code, code).checksum)
        }
        _ => None,
    };
    function.meta.etag = new_etag();
    function.meta.modified_ms = ferric_types::time::now_ms().max(function.meta.created_ms);
    let spec = to_json("function spec", &function.spec)?;
    tx.execute(
        "UPDATE functions SET etag = ?4, modified_ms = ?5, spec = ?6, code_checksum = ?7, code_size = ?8
         WHERE account_id = ?1 AND service = ?2 AND name = ?3",
        params![
            account,
            service,
            name,
            function.meta.etag,
            function.meta.modified_ms,
            spec,
            function.code.checksum,
            function.code.size as i64
        ],
    )
    .map_err(db("update function"))?;
    Ok((function, replaced))
}

pub(super) fn delete(
    tx: &Transaction<'_>,
    account: &str,
    service: &str,
    name: &str,
    if_match: Option<&str>,
) -> Result<Function, StoreError> {
    let function = require(tx, account, service, name)?;
    check_etag(&function.meta.etag, if_match)?;
    let has_triggers: bool = tx
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM triggers WHERE account_id = ?1 AND service = ?2 AND function = ?3)",
            params![account, service, name],
            |r| r.get(0),
        )
        .map_err(db("count triggers"))?;
    if has_triggers {
        return Err(FcError::new(ErrorCode::FunctionNotEmpty, format!("function '{name}' has active triggers")).into());
    }
    tx.execute(
        "DELETE FROM functions WHERE account_id = ?1 AND service = ?2 AND name = ?3",
        params![account, service, name],
    )
    .map_err(db("delete function"))?;
    Ok(function)
}

pub(super) fn code_in_use(conn: &Connection, checksum: &str) -> Result<bool, StoreError> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM functions WHERE code_checksum = ?1)
             OR EXISTS (SELECT 1 FROM version_code WHERE code_checksum = ?1)
             OR EXISTS (SELECT 1 FROM layer_versions WHERE code_checksum = ?1)",
        params![checksum],
        |r| r.get(0),
    )
    .map_err(db("check code use"))
}

pub(super) fn referenced_code(conn: &Connection) -> Result<std::collections::HashSet<String>, StoreError> {
    let mut stmt = conn
        .prepare(
            "SELECT code_checksum FROM functions UNION SELECT code_checksum FROM version_code
             UNION SELECT code_checksum FROM layer_versions",
        )
        .map_err(db("prepare code list"))?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(db("list code"))?;
    rows.collect::<Result<_, _>>().map_err(db("read code list"))
}

pub(super) fn get_form_config(
    conn: &Connection,
    account: &str,
    service: &str,
    name: &str,
) -> Result<Option<String>, StoreError> {
    require(conn, account, service, name)?;
    conn.query_row(
        "SELECT form_config FROM functions WHERE account_id = ?1 AND service = ?2 AND name = ?3",
        params![account, service, name],
        |r| r.get::<_, Option<String>>(0),
    )
    .optional()
    .map(Option::flatten)
    .map_err(db("get form config"))
}

pub(super) fn set_form_config(
    tx: &Transaction<'_>,
    account: &str,
    service: &str,
    name: &str,
    config: &str,
) -> Result<(), StoreError> {
    require(tx, account, service, name)?;
    tx.execute(
        "UPDATE functions SET form_config = ?4 WHERE account_id = ?1 AND service = ?2 AND name = ?3",
        params![account, service, name, config],
    )
    .map_err(db("set form config"))?;
    Ok(())
}
