//! Service tags: one row per (account, service, key).

use std::collections::BTreeMap;

use ferric_types::tag::MAX_TAGS;
use ferric_types::FcError;
use rusqlite::{params, Connection, Row, Transaction};

use super::{db, paging, services};
use crate::account::TaggedService;
use crate::metadata::{ListQuery, Page, StoreError};

fn read_tags(conn: &Connection, account: &str, service: &str) -> Result<BTreeMap<String, String>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT key, value FROM service_tags WHERE account_id = ?1 AND service = ?2 ORDER BY key")
        .map_err(db("prepare read tags"))?;
    let rows = stmt
        .query_map(params![account, service], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(db("read tags"))?;
    rows.collect::<Result<BTreeMap<_, _>, _>>().map_err(db("read tag row"))
}

pub(super) fn tags(conn: &Connection, account: &str, service: &str) -> Result<BTreeMap<String, String>, StoreError> {
    services::require(conn, account, service)?;
    read_tags(conn, account, service)
}

pub(super) fn tag(
    tx: &Transaction<'_>,
    account: &str,
    service: &str,
    tags: BTreeMap<String, String>,
) -> Result<(), StoreError> {
    services::require(tx, account, service)?;
    let mut merged = read_tags(tx, account, service)?;
    merged.extend(tags.clone());
    if merged.len() > MAX_TAGS {
        return Err(FcError::invalid(format!("a service holds at most {MAX_TAGS} tags")).into());
    }
    for (key, value) in tags {
        tx.execute(
            "INSERT INTO service_tags (account_id, service, key, value) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (account_id, service, key) DO UPDATE SET value = excluded.value",
            params![account, service, key, value],
        )
        .map_err(db("write tag"))?;
    }
    Ok(())
}

pub(super) fn untag(
    tx: &Transaction<'_>,
    account: &str,
    service: &str,
    keys: &[String],
    all: bool,
) -> Result<(), StoreError> {
    services::require(tx, account, service)?;
    if all {
        return delete_all(tx, account, service);
    }
    for key in keys {
        tx.execute(
            "DELETE FROM service_tags WHERE account_id = ?1 AND service = ?2 AND key = ?3",
            params![account, service, key],
        )
        .map_err(db("delete tag"))?;
    }
    Ok(())
}

/// Also called when a service is deleted, so a new service of that name starts untagged.
pub(super) fn delete_all(tx: &Transaction<'_>, account: &str, service: &str) -> Result<(), StoreError> {
    tx.execute("DELETE FROM service_tags WHERE account_id = ?1 AND service = ?2", params![account, service])
        .map_err(db("delete tags"))?;
    Ok(())
}

pub(super) fn list_tagged(
    conn: &Connection,
    account: &str,
    query: &ListQuery,
) -> Result<Page<TaggedService>, StoreError> {
    let name_of = |row: &Row<'_>| -> Result<String, StoreError> { row.get(0).map_err(db("read tagged service")) };
    let page = paging::list(
        conn,
        "SELECT name FROM services s WHERE account_id = ?1 AND EXISTS
            (SELECT 1 FROM service_tags t WHERE t.account_id = s.account_id AND t.service = s.name)",
        &[&account],
        query,
        name_of,
        |n| n,
    )?;
    let items = page
        .items
        .into_iter()
        .map(|service| Ok(TaggedService { tags: read_tags(conn, account, &service)?, service }))
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Page { items, next_token: page.next_token })
}
