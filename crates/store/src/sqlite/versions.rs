//! Version and alias rows, and the [`VersionStore`] half of the SQLite store.

use async_trait::async_trait;
use ferric_types::alias::{Alias, AliasSpec};
use ferric_types::service::Meta;
use ferric_types::version::{parse_version_id, Snapshot, Version};
use ferric_types::{ErrorCode, FcError};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::{check_etag, db, from_json, functions, new_etag, new_meta, paging, services, to_json, SqliteStore};
use crate::metadata::{ListQuery, Page, StoreError};
use crate::versions::{AliasUpdate, VersionQuery, VersionStore};

const VERSION_COLUMNS: &str = "version_id, description, created_ms, modified_ms, snapshot";
const ALIAS_COLUMNS: &str = "name, id, etag, created_ms, modified_ms, spec";

fn version_from_row(row: &Row<'_>) -> Result<Version, StoreError> {
    let read = |row: &Row<'_>| -> rusqlite::Result<(i64, String, i64, i64, String)> {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
    };
    let (id, description, created_ms, modified_ms, snapshot) = read(row).map_err(db("read version row"))?;
    Ok(Version {
        id: id.max(0) as u64,
        description,
        created_ms,
        modified_ms,
        snapshot: from_json("version snapshot", &snapshot)?,
    })
}

fn get_version(conn: &Connection, account: &str, service: &str, id: u64) -> Result<Option<Version>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {VERSION_COLUMNS} FROM versions WHERE account_id = ?1 AND service = ?2 AND version_id = ?3"
        ))
        .map_err(db("prepare get version"))?;
    let mut rows = stmt.query(params![account, service, id as i64]).map_err(db("get version"))?;
    rows.next().map_err(db("get version"))?.map(version_from_row).transpose()
}

fn newest_version(conn: &Connection, account: &str, service: &str) -> Result<Option<Version>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {VERSION_COLUMNS} FROM versions WHERE account_id = ?1 AND service = ?2
             ORDER BY version_id DESC LIMIT 1"
        ))
        .map_err(db("prepare newest version"))?;
    let mut rows = stmt.query(params![account, service]).map_err(db("newest version"))?;
    rows.next().map_err(db("newest version"))?.map(version_from_row).transpose()
}

fn publish(
    tx: &Transaction<'_>,
    account: &str,
    service: &str,
    description: &str,
    if_match: Option<&str>,
) -> Result<Version, StoreError> {
    let svc = services::require(tx, account, service)?;
    check_etag(&svc.meta.etag, if_match)?;
    let snapshot = Snapshot::of(&svc, &functions::all(tx, account, service)?);
    if newest_version(tx, account, service)?.is_some_and(|v| snapshot.same_content(&v.snapshot)) {
        // FC's message (the Go SDK's users quote it); FC's code for it is not in any SDK, so the
        // generic client-error code carries it.
        return Err(FcError::new(
            ErrorCode::InvalidArgument,
            format!(
                "can not publish version for service '{service}', detail: 'No changes were made since last publish'"
            ),
        )
        .into());
    }
    let last: i64 = tx
        .query_row(
            "SELECT last_id FROM version_counters WHERE account_id = ?1 AND service = ?2",
            params![account, service],
            |r| r.get(0),
        )
        .optional()
        .map_err(db("read version counter"))?
        .unwrap_or(0);
    let id = last + 1;
    tx.execute(
        "INSERT INTO version_counters (account_id, service, last_id) VALUES (?1, ?2, ?3)
         ON CONFLICT (account_id, service) DO UPDATE SET last_id = excluded.last_id",
        params![account, service, id],
    )
    .map_err(db("bump version counter"))?;
    let now = ferric_types::time::now_ms();
    tx.execute(
        "INSERT INTO versions (account_id, service, version_id, description, created_ms, modified_ms, snapshot)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
        params![account, service, id, description, now, to_json("version snapshot", &snapshot)?],
    )
    .map_err(db("insert version"))?;
    for checksum in snapshot.code_checksums() {
        tx.execute(
            "INSERT OR IGNORE INTO version_code (account_id, service, version_id, code_checksum)
             VALUES (?1, ?2, ?3, ?4)",
            params![account, service, id, checksum],
        )
        .map_err(db("insert version code"))?;
    }
    Ok(Version { id: id as u64, description: description.to_string(), created_ms: now, modified_ms: now, snapshot })
}

fn list_versions(
    conn: &Connection,
    account: &str,
    service: &str,
    query: &VersionQuery,
) -> Result<Page<Version>, StoreError> {
    services::require(conn, account, service)?;
    let bound = |text: &Option<String>, what: &str| -> Result<Option<u64>, StoreError> {
        match text {
            None => Ok(None),
            Some(t) => parse_version_id(t)
                .map(Some)
                .ok_or_else(|| FcError::invalid(format!("{what} '{t}' is not a version id")).into()),
        }
    };
    let start = match bound(&query.next_token, "nextToken")? {
        Some(token) => Some(token),
        None => bound(&query.start_key, "startKey")?,
    };
    let (cmp, order, default) = if query.forward { (">=", "ASC", 0) } else { ("<=", "DESC", i64::MAX) };
    let start = start.map(|s| s as i64).unwrap_or(default);
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {VERSION_COLUMNS} FROM versions WHERE account_id = ?1 AND service = ?2 AND version_id {cmp} ?3
             ORDER BY version_id {order} LIMIT ?4"
        ))
        .map_err(db("prepare list versions"))?;
    let fetch = i64::from(query.limit) + 1;
    let mut rows = stmt.query(params![account, service, start, fetch]).map_err(db("list versions"))?;
    let mut items = Vec::new();
    while let Some(row) = rows.next().map_err(db("read version row"))? {
        items.push(version_from_row(row)?);
    }
    let next_token =
        if items.len() > query.limit as usize { items.pop().map(|extra| extra.id.to_string()) } else { None };
    Ok(Page { items, next_token })
}

fn delete_version(tx: &Transaction<'_>, account: &str, service: &str, id: u64) -> Result<Version, StoreError> {
    services::require(tx, account, service)?;
    let version =
        get_version(tx, account, service, id)?.ok_or_else(|| FcError::version_not_found(service, &id.to_string()))?;
    if let Some(alias) = all_aliases(tx, account, service)?.iter().find(|a| a.spec.versions().any(|v| v == id)) {
        return Err(FcError::invalid(format!(
            "version '{id}' of service '{service}' is used by alias '{}'; change or delete the alias first",
            alias.name
        ))
        .into());
    }
    let key = params![account, service, id as i64];
    tx.execute("DELETE FROM versions WHERE account_id = ?1 AND service = ?2 AND version_id = ?3", key)
        .map_err(db("delete version"))?;
    tx.execute("DELETE FROM version_code WHERE account_id = ?1 AND service = ?2 AND version_id = ?3", key)
        .map_err(db("delete version code"))?;
    Ok(version)
}

fn alias_from_row(row: &Row<'_>) -> Result<Alias, StoreError> {
    let read = |row: &Row<'_>| -> rusqlite::Result<(String, Meta, String)> {
        Ok((
            row.get(0)?,
            Meta { id: row.get(1)?, etag: row.get(2)?, created_ms: row.get(3)?, modified_ms: row.get(4)? },
            row.get(5)?,
        ))
    };
    let (name, meta, spec) = read(row).map_err(db("read alias row"))?;
    Ok(Alias { name, meta, spec: from_json("alias spec", &spec)? })
}

fn get_alias(conn: &Connection, account: &str, service: &str, name: &str) -> Result<Option<Alias>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {ALIAS_COLUMNS} FROM aliases WHERE account_id = ?1 AND service = ?2 AND name = ?3"
        ))
        .map_err(db("prepare get alias"))?;
    let mut rows = stmt.query(params![account, service, name]).map_err(db("get alias"))?;
    rows.next().map_err(db("get alias"))?.map(alias_from_row).transpose()
}

fn all_aliases(conn: &Connection, account: &str, service: &str) -> Result<Vec<Alias>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {ALIAS_COLUMNS} FROM aliases WHERE account_id = ?1 AND service = ?2"))
        .map_err(db("prepare all aliases"))?;
    let mut rows = stmt.query(params![account, service]).map_err(db("all aliases"))?;
    let mut items = Vec::new();
    while let Some(row) = rows.next().map_err(db("read alias row"))? {
        items.push(alias_from_row(row)?);
    }
    Ok(items)
}

fn require_alias(conn: &Connection, account: &str, service: &str, name: &str) -> Result<Alias, StoreError> {
    services::require(conn, account, service)?;
    get_alias(conn, account, service, name)?.ok_or_else(|| FcError::alias_not_found(service, name).into())
}

/// Every version an alias routes to must exist.
fn check_versions(conn: &Connection, account: &str, service: &str, spec: &AliasSpec) -> Result<(), StoreError> {
    for id in spec.versions() {
        if get_version(conn, account, service, id)?.is_none() {
            return Err(FcError::version_not_found(service, &id.to_string()).into());
        }
    }
    Ok(())
}

fn write_alias(tx: &Transaction<'_>, account: &str, service: &str, alias: &Alias) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO aliases (account_id, service, name, id, etag, created_ms, modified_ms, spec)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (account_id, service, name) DO UPDATE
         SET etag = excluded.etag, modified_ms = excluded.modified_ms, spec = excluded.spec",
        params![
            account,
            service,
            alias.name,
            alias.meta.id,
            alias.meta.etag,
            alias.meta.created_ms,
            alias.meta.modified_ms,
            to_json("alias spec", &alias.spec)?
        ],
    )
    .map_err(db("write alias"))?;
    Ok(())
}

fn create_alias(
    tx: &Transaction<'_>,
    account: &str,
    service: &str,
    name: &str,
    spec: AliasSpec,
) -> Result<Alias, StoreError> {
    services::require(tx, account, service)?;
    if get_alias(tx, account, service, name)?.is_some() {
        return Err(FcError::new(
            ErrorCode::AliasAlreadyExists,
            format!("alias '{name}' of service '{service}' already exists"),
        )
        .into());
    }
    check_versions(tx, account, service, &spec)?;
    let alias = Alias { name: name.to_string(), meta: new_meta(), spec };
    write_alias(tx, account, service, &alias)?;
    Ok(alias)
}

fn list_aliases(conn: &Connection, account: &str, service: &str, query: &ListQuery) -> Result<Page<Alias>, StoreError> {
    services::require(conn, account, service)?;
    paging::list(
        conn,
        &format!("SELECT {ALIAS_COLUMNS} FROM aliases WHERE account_id = ?1 AND service = ?2"),
        &[&account, &service],
        query,
        alias_from_row,
        |a| &a.name,
    )
}

fn update_alias(
    tx: &Transaction<'_>,
    account: &str,
    service: &str,
    name: &str,
    if_match: Option<&str>,
    update: AliasUpdate,
) -> Result<Alias, StoreError> {
    let mut alias = require_alias(tx, account, service, name)?;
    check_etag(&alias.meta.etag, if_match)?;
    update(&mut alias.spec)?;
    check_versions(tx, account, service, &alias.spec)?;
    alias.meta.etag = new_etag();
    alias.meta.modified_ms = ferric_types::time::now_ms().max(alias.meta.created_ms);
    write_alias(tx, account, service, &alias)?;
    Ok(alias)
}

fn delete_alias(
    tx: &Transaction<'_>,
    account: &str,
    service: &str,
    name: &str,
    if_match: Option<&str>,
) -> Result<(), StoreError> {
    let alias = require_alias(tx, account, service, name)?;
    check_etag(&alias.meta.etag, if_match)?;
    tx.execute(
        "DELETE FROM aliases WHERE account_id = ?1 AND service = ?2 AND name = ?3",
        params![account, service, name],
    )
    .map_err(db("delete alias"))?;
    Ok(())
}

fn owned(parts: [&str; 3]) -> [String; 3] {
    parts.map(str::to_string)
}

#[async_trait]
impl VersionStore for SqliteStore {
    async fn publish_version(
        &self,
        account: &str,
        service: &str,
        description: String,
        if_match: Option<String>,
    ) -> Result<Version, StoreError> {
        let [a, s, _] = owned([account, service, ""]);
        self.write(move |tx| publish(tx, &a, &s, &description, if_match.as_deref())).await
    }

    async fn get_version(&self, account: &str, service: &str, id: u64) -> Result<Option<Version>, StoreError> {
        let [a, s, _] = owned([account, service, ""]);
        self.read(move |c| get_version(c, &a, &s, id)).await
    }

    async fn list_versions(
        &self,
        account: &str,
        service: &str,
        query: VersionQuery,
    ) -> Result<Page<Version>, StoreError> {
        let [a, s, _] = owned([account, service, ""]);
        self.read(move |c| list_versions(c, &a, &s, &query)).await
    }

    async fn delete_version(&self, account: &str, service: &str, id: u64) -> Result<Version, StoreError> {
        let [a, s, _] = owned([account, service, ""]);
        self.write(move |tx| delete_version(tx, &a, &s, id)).await
    }

    async fn create_alias(
        &self,
        account: &str,
        service: &str,
        name: &str,
        spec: AliasSpec,
    ) -> Result<Alias, StoreError> {
        let [a, s, n] = owned([account, service, name]);
        self.write(move |tx| create_alias(tx, &a, &s, &n, spec)).await
    }

    async fn get_alias(&self, account: &str, service: &str, name: &str) -> Result<Option<Alias>, StoreError> {
        let [a, s, n] = owned([account, service, name]);
        self.read(move |c| get_alias(c, &a, &s, &n)).await
    }

    async fn list_aliases(&self, account: &str, service: &str, query: ListQuery) -> Result<Page<Alias>, StoreError> {
        let [a, s, _] = owned([account, service, ""]);
        self.read(move |c| list_aliases(c, &a, &s, &query)).await
    }

    async fn update_alias(
        &self,
        account: &str,
        service: &str,
        name: &str,
        if_match: Option<String>,
        update: AliasUpdate,
    ) -> Result<Alias, StoreError> {
        let [a, s, n] = owned([account, service, name]);
        self.write(move |tx| update_alias(tx, &a, &s, &n, if_match.as_deref(), update)).await
    }

    async fn delete_alias(
        &self,
        account: &str,
        service: &str,
        name: &str,
        if_match: Option<String>,
    ) -> Result<(), StoreError> {
        let [a, s, n] = owned([account, service, name]);
        self.write(move |tx| delete_alias(tx, &a, &s, &n, if_match.as_deref())).await
    }
}
