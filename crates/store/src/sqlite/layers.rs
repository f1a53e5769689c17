//! Layer version rows, in their own schema block ([`super::schema::LAYERS`]). `layer_counters` remembers
//! the last number a layer handed out, so a deleted version's number is never given again.

use ferric_types::layer::{layer_not_found, LayerCode, LayerSpec, LayerVersion};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::{db, from_json, paging, to_json};
use crate::layers::LayerVersionPage;
use crate::metadata::{ListQuery, Page, StoreError};

const COLUMNS: &str = "account_id, name, version, created_ms, spec, code_checksum, code_size";

fn from_row(row: &Row<'_>) -> Result<LayerVersion, StoreError> {
    let read = |row: &Row<'_>| -> rusqlite::Result<(String, String, u32, i64, String, String, i64)> {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?))
    };
    let (account_id, name, version, created_ms, spec, checksum, size) = read(row).map_err(db("read layer row"))?;
    Ok(LayerVersion {
        account_id,
        name,
        version,
        created_ms,
        spec: from_json("layer spec", &spec)?,
        code: LayerCode { checksum, size: size.max(0) as u64 },
    })
}

pub(super) fn publish(
    tx: &Transaction<'_>,
    account: &str,
    name: &str,
    spec: LayerSpec,
    code: LayerCode,
) -> Result<LayerVersion, StoreError> {
    let last: u32 = tx
        .query_row(
            "SELECT last_version FROM layer_counters WHERE account_id = ?1 AND name = ?2",
            params![account, name],
            |r| r.get(0),
        )
        .optional()
        .map_err(db("read layer counter"))?
        .unwrap_or(0);
    let version = last + 1;
    tx.execute(
        "INSERT INTO layer_counters (account_id, name, last_version) VALUES (?1, ?2, ?3)
         ON CONFLICT (account_id, name) DO UPDATE SET last_version = excluded.last_version",
        params![account, name, version],
    )
    .map_err(db("bump layer counter"))?;
    let created_ms = ferric_types::time::now_ms();
    let spec_json = to_json("layer spec", &spec)?;
    tx.execute(
        &format!("INSERT INTO layer_versions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        params![account, name, version, created_ms, spec_json, code.checksum, code.size as i64],
    )
    .map_err(db("insert layer version"))?;
    Ok(LayerVersion { account_id: account.to_string(), name: name.to_string(), version, spec, code, created_ms })
}

pub(super) fn get(
    conn: &Connection,
    account: &str,
    name: &str,
    version: u32,
) -> Result<Option<LayerVersion>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM layer_versions WHERE account_id = ?1 AND name = ?2 AND version = ?3"
        ))
        .map_err(db("prepare get layer version"))?;
    let mut rows = stmt.query(params![account, name, version]).map_err(db("get layer version"))?;
    rows.next().map_err(db("get layer version"))?.map(from_row).transpose()
}

pub(super) fn list_versions(
    conn: &Connection,
    account: &str,
    name: &str,
    start: u32,
    limit: u32,
) -> Result<LayerVersionPage, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM layer_versions WHERE account_id = ?1 AND name = ?2 AND version >= ?3
             ORDER BY version LIMIT ?4"
        ))
        .map_err(db("prepare list layer versions"))?;
    let mut rows =
        stmt.query(params![account, name, start, i64::from(limit) + 1]).map_err(db("list layer versions"))?;
    let mut items = Vec::new();
    while let Some(row) = rows.next().map_err(db("read layer version row"))? {
        items.push(from_row(row)?);
    }
    let next_version = if items.len() > limit as usize { items.pop().map(|v| v.version) } else { None };
    Ok(LayerVersionPage { items, next_version })
}

pub(super) fn list_layers(
    conn: &Connection,
    account: &str,
    query: &ListQuery,
    public_only: bool,
) -> Result<Page<LayerVersion>, StoreError> {
    // The newest version of each name; `paging` adds the name bounds, order and limit.
    let select = format!(
        "SELECT {COLUMNS} FROM layer_versions AS l WHERE account_id = ?1 AND ?2 <= json_extract(spec, '$.acl')
         AND version = (SELECT MAX(version) FROM layer_versions AS m WHERE m.account_id = l.account_id AND m.name = l.name)"
    );
    let min_acl: i64 = if public_only { 1 } else { 0 };
    paging::list(conn, &select, &[&account, &min_acl], query, from_row, |v| &v.name)
}

pub(super) fn delete(
    tx: &Transaction<'_>,
    account: &str,
    name: &str,
    version: u32,
) -> Result<LayerVersion, StoreError> {
    let found = get(tx, account, name, version)?.ok_or_else(|| layer_not_found(name, Some(version)))?;
    tx.execute(
        "DELETE FROM layer_versions WHERE account_id = ?1 AND name = ?2 AND version = ?3",
        params![account, name, version],
    )
    .map_err(db("delete layer version"))?;
    Ok(found)
}

pub(super) fn set_acl(tx: &Transaction<'_>, account: &str, name: &str, acl: u8) -> Result<(), StoreError> {
    let n = tx
        .execute(
            "UPDATE layer_versions SET spec = json_set(spec, '$.acl', ?3) WHERE account_id = ?1 AND name = ?2",
            params![account, name, acl],
        )
        .map_err(db("set layer acl"))?;
    if n == 0 {
        return Err(layer_not_found(name, None).into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ferric_types::layer::{LayerCode, LayerSpec};

    use crate::layers::LayerStore;
    use crate::metadata::{ListQuery, MetadataStore};

    fn code(checksum: &str) -> LayerCode {
        LayerCode { checksum: checksum.into(), size: 10 }
    }

    #[tokio::test]
    async fn numbers_are_never_reused_and_lists_show_the_newest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::sqlite::SqliteStore::open(&dir.path().join("db")).expect("open");
        let spec = LayerSpec::default;
        assert_eq!(store.publish_layer_version("a", "x", spec(), code("1")).await.expect("p").version, 1);
        assert_eq!(store.publish_layer_version("a", "x", spec(), code("2")).await.expect("p").version, 2);
        store.delete_layer_version("a", "x", 2).await.expect("delete");
        assert!(store.delete_layer_version("a", "x", 2).await.is_err(), "deleted twice");
        assert_eq!(store.publish_layer_version("a", "x", spec(), code("3")).await.expect("p").version, 3);
        store.publish_layer_version("a", "y", spec(), code("4")).await.expect("p");
        store.publish_layer_version("b", "x", spec(), code("5")).await.expect("other account");

        let query = ListQuery { limit: 1, ..Default::default() };
        let page = store.list_layers("a", query.clone(), false).await.expect("list");
        assert_eq!((page.items[0].name.as_str(), page.items[0].version), ("x", 3));
        let next = ListQuery { next_token: page.next_token, ..query };
        let page = store.list_layers("a", next, false).await.expect("list");
        assert_eq!(page.items[0].name, "y");
        assert!(page.next_token.is_none());
        assert!(store
            .list_layers("a", ListQuery { limit: 10, ..Default::default() }, true)
            .await
            .expect("l")
            .items
            .is_empty());
        store.set_layer_acl("a", "y", 1).await.expect("acl");
        let public = store.list_layers("a", ListQuery { limit: 10, ..Default::default() }, true).await.expect("l");
        assert_eq!(public.items.len(), 1);

        let versions = store.list_layer_versions("a", "x", 0, 1).await.expect("versions");
        assert_eq!((versions.items[0].version, versions.next_version), (1, Some(3)));
        assert!(store.code_in_use("3").await.expect("in use"));
        assert!(!store.code_in_use("2").await.expect("in use"));
        assert!(store.referenced_code().await.expect("refs").contains("4"));
    }
}
