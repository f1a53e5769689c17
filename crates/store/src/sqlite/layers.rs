//! Layer version rows, in their own schema block ([`super::schema::LAYERS`]). `layer_counters` remembers
//! the last number a layer handed out, so a deleted version's number is never given again.
//!
//! Deleting a version that a function still lists only hides it (`deleted_ms`), as Lambda keeps a deleted
//! layer version for the functions that use it: they keep starting, and no new function can add it.
//! [`purge`] removes hidden versions once nothing lists them.

use async_trait::async_trait;
use ferric_types::layer::{layer_not_found, LayerCode, LayerSpec, LayerVersion};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::{db, from_json, paging, to_json, SqliteStore};
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
    get_any(conn, account, name, version, false)
}

/// With `hidden`, a deleted version still listed by a function is found too (the data plane's read).
pub(super) fn get_any(
    conn: &Connection,
    account: &str,
    name: &str,
    version: u32,
    hidden: bool,
) -> Result<Option<LayerVersion>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM layer_versions WHERE account_id = ?1 AND name = ?2 AND version = ?3
             AND (?4 OR deleted_ms IS NULL)"
        ))
        .map_err(db("prepare get layer version"))?;
    let mut rows = stmt.query(params![account, name, version, hidden]).map_err(db("get layer version"))?;
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
             AND deleted_ms IS NULL ORDER BY version LIMIT ?4"
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
         AND version = (SELECT MAX(version) FROM layer_versions AS m
                        WHERE m.account_id = l.account_id AND m.name = l.name AND m.deleted_ms IS NULL)"
    );
    let min_acl: i64 = if public_only { 1 } else { 0 };
    paging::list(conn, &select, &[&account, &min_acl], query, from_row, |v| &v.name)
}

/// Whether any function of the account, at LATEST or in a published version, lists the version (by
/// either ARN form, as it appears quoted in the stored JSON).
fn listed(conn: &Connection, found: &LayerVersion) -> Result<bool, StoreError> {
    let v2 = format!(":layers/{}/versions/{}\"", found.name, found.version);
    let v1 = format!("\"{}\"", found.arn());
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM functions WHERE account_id = ?1 AND (instr(spec, ?2) > 0 OR instr(spec, ?3) > 0))
             OR EXISTS (SELECT 1 FROM versions WHERE account_id = ?1
                        AND (instr(snapshot, ?2) > 0 OR instr(snapshot, ?3) > 0))",
        params![found.account_id, v2, v1],
        |r| r.get(0),
    )
    .map_err(db("check layer use"))
}

/// Deletes (or, while a function lists it, hides) a version; the version, and whether its row is gone.
pub(super) fn delete(
    tx: &Transaction<'_>,
    account: &str,
    name: &str,
    version: u32,
) -> Result<(LayerVersion, bool), StoreError> {
    let found = get(tx, account, name, version)?.ok_or_else(|| layer_not_found(name, Some(version)))?;
    let gone = if listed(tx, &found)? {
        tx.execute(
            "UPDATE layer_versions SET deleted_ms = ?4 WHERE account_id = ?1 AND name = ?2 AND version = ?3",
            params![account, name, version, ferric_types::time::now_ms()],
        )
        .map_err(db("hide layer version"))?;
        false
    } else {
        tx.execute(
            "DELETE FROM layer_versions WHERE account_id = ?1 AND name = ?2 AND version = ?3",
            params![account, name, version],
        )
        .map_err(db("delete layer version"))?;
        true
    };
    Ok((found, gone))
}

/// Removes the account's hidden versions that nothing lists any more; their packages, for code GC.
pub(super) fn purge(tx: &Transaction<'_>, account: &str) -> Result<Vec<String>, StoreError> {
    let hidden = {
        let mut stmt = tx
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM layer_versions WHERE account_id = ?1 AND deleted_ms IS NOT NULL LIMIT 1000"
            ))
            .map_err(db("prepare hidden layers"))?;
        let mut rows = stmt.query(params![account]).map_err(db("hidden layers"))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db("read hidden layer"))? {
            out.push(from_row(row)?);
        }
        out
    };
    let mut released = Vec::new();
    for version in hidden {
        if !listed(tx, &version)? {
            tx.execute(
                "DELETE FROM layer_versions WHERE account_id = ?1 AND name = ?2 AND version = ?3",
                params![account, version.name, version.version],
            )
            .map_err(db("purge layer version"))?;
            released.push(version.code.checksum);
        }
    }
    Ok(released)
}

pub(super) fn set_acl(tx: &Transaction<'_>, account: &str, name: &str, acl: u8) -> Result<(), StoreError> {
    let n = tx
        .execute(
            "UPDATE layer_versions SET spec = json_set(spec, '$.acl', ?3)
             WHERE account_id = ?1 AND name = ?2 AND deleted_ms IS NULL",
            params![account, name, acl],
        )
        .map_err(db("set layer acl"))?;
    if n == 0 {
        return Err(layer_not_found(name, None).into());
    }
    Ok(())
}

/// The trait's glue: each call runs one of the functions above on the store's reader pool or writer.
#[async_trait]
impl crate::LayerStore for SqliteStore {
    async fn publish_layer_version(
        &self,
        account: &str,
        name: &str,
        spec: ferric_types::layer::LayerSpec,
        code: ferric_types::layer::LayerCode,
    ) -> Result<ferric_types::layer::LayerVersion, StoreError> {
        let (account, name) = (account.to_string(), name.to_string());
        self.write(move |tx| publish(tx, &account, &name, spec, code)).await
    }

    async fn get_layer_version(
        &self,
        account: &str,
        name: &str,
        version: u32,
    ) -> Result<Option<ferric_types::layer::LayerVersion>, StoreError> {
        let (account, name) = (account.to_string(), name.to_string());
        self.read(move |c| get(c, &account, &name, version)).await
    }

    async fn layer_version_in_use(
        &self,
        account: &str,
        name: &str,
        version: u32,
    ) -> Result<Option<ferric_types::layer::LayerVersion>, StoreError> {
        let (account, name) = (account.to_string(), name.to_string());
        self.read(move |c| get_any(c, &account, &name, version, true)).await
    }

    async fn purge_unlisted_layers(&self, account: &str) -> Result<Vec<String>, StoreError> {
        let account = account.to_string();
        self.write(move |tx| purge(tx, &account)).await
    }

    async fn list_layer_versions(
        &self,
        account: &str,
        name: &str,
        start_version: u32,
        limit: u32,
    ) -> Result<crate::LayerVersionPage, StoreError> {
        let (account, name) = (account.to_string(), name.to_string());
        self.read(move |c| list_versions(c, &account, &name, start_version, limit)).await
    }

    async fn list_layers(
        &self,
        account: &str,
        query: ListQuery,
        public_only: bool,
    ) -> Result<Page<ferric_types::layer::LayerVersion>, StoreError> {
        let account = account.to_string();
        self.read(move |c| list_layers(c, &account, &query, public_only)).await
    }

    async fn delete_layer_version(
        &self,
        account: &str,
        name: &str,
        version: u32,
    ) -> Result<(ferric_types::layer::LayerVersion, bool), StoreError> {
        let (account, name) = (account.to_string(), name.to_string());
        self.write(move |tx| delete(tx, &account, &name, version)).await
    }

    async fn set_layer_acl(&self, account: &str, name: &str, acl: u8) -> Result<(), StoreError> {
        let (account, name) = (account.to_string(), name.to_string());
        self.write(move |tx| set_acl(tx, &account, &name, acl)).await
    }
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

    #[tokio::test]
    async fn a_listed_version_is_hidden_until_nothing_lists_it() {
        use ferric_types::function::{CodeRef, FunctionSpec};
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::sqlite::SqliteStore::open(&dir.path().join("db")).expect("open");
        let v1 = store.publish_layer_version("a", "x", LayerSpec::default(), code("7")).await.expect("p");
        store.publish_layer_version("a", "x", LayerSpec::default(), code("8")).await.expect("p");
        store.create_service("a", "s", Default::default()).await.expect("service");
        let spec = FunctionSpec {
            runtime: "nodejs20".into(),
            handler: "index.handler".into(),
            layers: vec![v1.arn_v2("r")],
            ..Default::default()
        };
        store.create_function("a", "s", "f", spec, CodeRef { checksum: "c".into(), size: 1 }).await.expect("f");

        let (_, gone) = store.delete_layer_version("a", "x", 1).await.expect("delete");
        assert!(!gone, "a listed version is only hidden");
        assert!(store.get_layer_version("a", "x", 1).await.expect("get").is_none());
        assert!(store.layer_version_in_use("a", "x", 1).await.expect("in use").is_some());
        let versions = store.list_layer_versions("a", "x", 0, 10).await.expect("versions");
        assert_eq!(versions.items.iter().map(|v| v.version).collect::<Vec<_>>(), [2]);
        assert!(store.code_in_use("7").await.expect("code"), "a hidden version keeps its package");
        assert!(store.delete_layer_version("a", "x", 1).await.is_err(), "deleted twice");
        assert!(store.purge_unlisted_layers("a").await.expect("purge").is_empty(), "still listed");

        store.delete_function("a", "s", "f", None).await.expect("delete f");
        assert_eq!(store.purge_unlisted_layers("a").await.expect("purge"), ["7"]);
        assert!(store.layer_version_in_use("a", "x", 1).await.expect("gone").is_none());
        assert!(!store.code_in_use("7").await.expect("code"));
        let (_, gone) = store.delete_layer_version("a", "x", 2).await.expect("delete unlisted");
        assert!(gone);
    }
}
