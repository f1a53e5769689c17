//! [`ProvisionStore`] for SQLite: `provision_configs` and `on_demand_configs`, in their own schema block
//! ([`super::schema::PROVISION`]). Each row's `name` is its list key: `<service>/<qualifier>/<function>`
//! (names hold no `/`, so a page token needs no escaping in a query string)
//! for provision configs, FC's resource string for on-demand configs.

use async_trait::async_trait;
use ferric_types::provision::{ConfigTarget, OnDemandConfig, ProvisionConfig, ProvisionSpec};
use rusqlite::{params, Connection, Row};

use super::{db, from_json, paging, to_json, SqliteStore};
use crate::metadata::{ListQuery, Page, StoreError};
use crate::provision::{ProvisionFilter, ProvisionStore};

fn provision_key(t: &ConfigTarget) -> String {
    format!("{}/{}/{}", t.service, t.qualifier, t.function)
}

fn target_of(row: &Row<'_>, from: usize) -> rusqlite::Result<ConfigTarget> {
    Ok(ConfigTarget { service: row.get(from)?, qualifier: row.get(from + 1)?, function: row.get(from + 2)? })
}

fn provision_row(row: &Row<'_>) -> Result<ProvisionConfig, StoreError> {
    let read = |row: &Row<'_>| -> rusqlite::Result<(String, ConfigTarget, String)> {
        Ok((row.get(0)?, target_of(row, 2)?, row.get(5)?))
    };
    let (account_id, target, spec) = read(row).map_err(db("read provision config row"))?;
    Ok(ProvisionConfig { account_id, target, spec: from_json("provision config", &spec)? })
}

fn on_demand_row(row: &Row<'_>) -> Result<OnDemandConfig, StoreError> {
    let read = |row: &Row<'_>| -> rusqlite::Result<OnDemandConfig> {
        Ok(OnDemandConfig { account_id: row.get(0)?, target: target_of(row, 2)?, maximum_instance_count: row.get(5)? })
    };
    read(row).map_err(db("read on-demand config row"))
}

const PROVISION_COLUMNS: &str = "account_id, name, service, qualifier, function, spec";
const ON_DEMAND_COLUMNS: &str = "account_id, name, service, qualifier, function, maximum_instances";

fn all(conn: &Connection) -> Result<(Vec<ProvisionConfig>, Vec<OnDemandConfig>), StoreError> {
    let mut stmt = conn
        .prepare(&format!("SELECT {PROVISION_COLUMNS} FROM provision_configs ORDER BY account_id, name"))
        .map_err(db("prepare all provision configs"))?;
    let mut rows = stmt.query([]).map_err(db("all provision configs"))?;
    let mut provisions = Vec::new();
    while let Some(row) = rows.next().map_err(db("all provision configs"))? {
        provisions.push(provision_row(row)?);
    }
    let mut stmt = conn
        .prepare(&format!("SELECT {ON_DEMAND_COLUMNS} FROM on_demand_configs ORDER BY account_id, name"))
        .map_err(db("prepare all on-demand configs"))?;
    let mut rows = stmt.query([]).map_err(db("all on-demand configs"))?;
    let mut caps = Vec::new();
    while let Some(row) = rows.next().map_err(db("all on-demand configs"))? {
        caps.push(on_demand_row(row)?);
    }
    Ok((provisions, caps))
}

#[async_trait]
impl ProvisionStore for SqliteStore {
    async fn put_provision_config(
        &self,
        account: &str,
        target: &ConfigTarget,
        spec: ProvisionSpec,
    ) -> Result<(), StoreError> {
        let (account, target) = (account.to_string(), target.clone());
        let text = to_json("provision config", &spec)?;
        self.write(move |tx| {
            if spec.target == 0 {
                tx.execute(
                    "DELETE FROM provision_configs WHERE account_id = ?1 AND name = ?2",
                    params![account, provision_key(&target)],
                )
                .map_err(db("delete provision config"))?;
                return Ok(());
            }
            tx.execute(
                "INSERT INTO provision_configs (account_id, name, service, qualifier, function, spec, modified_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (account_id, name) DO UPDATE SET spec = excluded.spec, modified_ms = excluded.modified_ms",
                params![
                    account,
                    provision_key(&target),
                    target.service,
                    target.qualifier,
                    target.function,
                    text,
                    ferric_types::time::now_ms()
                ],
            )
            .map_err(db("write provision config"))?;
            Ok(())
        })
        .await
    }

    async fn get_provision_config(
        &self,
        account: &str,
        target: &ConfigTarget,
    ) -> Result<Option<ProvisionSpec>, StoreError> {
        let (account, key) = (account.to_string(), provision_key(target));
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached("SELECT spec FROM provision_configs WHERE account_id = ?1 AND name = ?2")
                .map_err(db("prepare get provision config"))?;
            let mut rows = stmt.query(params![account, key]).map_err(db("get provision config"))?;
            match rows.next().map_err(db("get provision config"))? {
                Some(row) => {
                    let text: String = row.get(0).map_err(db("read provision config"))?;
                    Ok(Some(from_json("provision config", &text)?))
                }
                None => Ok(None),
            }
        })
        .await
    }

    async fn list_provision_configs(
        &self,
        account: &str,
        filter: ProvisionFilter,
        query: ListQuery,
    ) -> Result<Page<ProvisionConfig>, StoreError> {
        let account = account.to_string();
        let service = filter.service.unwrap_or_default();
        let qualifier = filter.qualifier.unwrap_or_default();
        self.read(move |c| {
            let select = format!(
                "SELECT {PROVISION_COLUMNS} FROM provision_configs WHERE account_id = ?1 \
                 AND (?2 = '' OR service = ?2) AND (?3 = '' OR qualifier = ?3)"
            );
            // Each item carries its row's key (column 1) for the page's token.
            let keyed = |row: &Row<'_>| Ok((row.get::<_, String>(1).map_err(db("read key"))?, provision_row(row)?));
            let page = paging::list(c, &select, &[&account, &service, &qualifier], &query, keyed, |(k, _)| k)?;
            Ok(Page { items: page.items.into_iter().map(|(_, p)| p).collect(), next_token: page.next_token })
        })
        .await
    }

    async fn put_on_demand_config(&self, account: &str, target: &ConfigTarget, maximum: u32) -> Result<(), StoreError> {
        let (account, target) = (account.to_string(), target.clone());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO on_demand_configs
                     (account_id, name, service, qualifier, function, maximum_instances, modified_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (account_id, name) DO UPDATE SET
                     maximum_instances = excluded.maximum_instances, modified_ms = excluded.modified_ms",
                params![
                    account,
                    target.on_demand_resource(),
                    target.service,
                    target.qualifier,
                    target.function,
                    maximum,
                    ferric_types::time::now_ms()
                ],
            )
            .map_err(db("write on-demand config"))?;
            Ok(())
        })
        .await
    }

    async fn get_on_demand_config(&self, account: &str, target: &ConfigTarget) -> Result<Option<u32>, StoreError> {
        let (account, key) = (account.to_string(), target.on_demand_resource());
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached("SELECT maximum_instances FROM on_demand_configs WHERE account_id = ?1 AND name = ?2")
                .map_err(db("prepare get on-demand config"))?;
            let mut rows = stmt.query(params![account, key]).map_err(db("get on-demand config"))?;
            match rows.next().map_err(db("get on-demand config"))? {
                Some(row) => Ok(Some(row.get(0).map_err(db("read on-demand config"))?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn delete_on_demand_config(&self, account: &str, target: &ConfigTarget) -> Result<bool, StoreError> {
        let (account, key) = (account.to_string(), target.on_demand_resource());
        self.write(move |tx| {
            let deleted = tx
                .execute("DELETE FROM on_demand_configs WHERE account_id = ?1 AND name = ?2", params![account, key])
                .map_err(db("delete on-demand config"))?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn list_on_demand_configs(
        &self,
        account: &str,
        query: ListQuery,
    ) -> Result<Page<OnDemandConfig>, StoreError> {
        let account = account.to_string();
        self.read(move |c| {
            let select = format!("SELECT {ON_DEMAND_COLUMNS} FROM on_demand_configs WHERE account_id = ?1");
            let keyed = |row: &Row<'_>| Ok((row.get::<_, String>(1).map_err(db("read key"))?, on_demand_row(row)?));
            let page = paging::list(c, &select, &[&account], &query, keyed, |(k, _)| k)?;
            Ok(Page { items: page.items.into_iter().map(|(_, o)| o).collect(), next_token: page.next_token })
        })
        .await
    }

    async fn delete_function_configs(
        &self,
        account: &str,
        service: &str,
        function: &str,
    ) -> Result<(Vec<ConfigTarget>, Vec<ConfigTarget>), StoreError> {
        let (account, service, function) = (account.to_string(), service.to_string(), function.to_string());
        self.write(move |tx| {
            let mut removed = Vec::new();
            for table in ["provision_configs", "on_demand_configs"] {
                let mut stmt = tx
                    .prepare(&format!(
                        "SELECT service, qualifier, function FROM {table} \
                         WHERE account_id = ?1 AND service = ?2 AND function = ?3"
                    ))
                    .map_err(db("prepare a function's configs"))?;
                let targets = stmt
                    .query_map(params![account, service, function], |row| target_of(row, 0))
                    .map_err(db("read a function's configs"))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(db("read a function's config row"))?;
                tx.execute(
                    &format!("DELETE FROM {table} WHERE account_id = ?1 AND service = ?2 AND function = ?3"),
                    params![account, service, function],
                )
                .map_err(db("delete a function's configs"))?;
                removed.push(targets);
            }
            let on_demand = removed.pop().unwrap_or_default();
            let provision = removed.pop().unwrap_or_default();
            Ok((provision, on_demand))
        })
        .await
    }

    async fn all_capacity_configs(&self) -> Result<(Vec<ProvisionConfig>, Vec<OnDemandConfig>), StoreError> {
        self.read(all).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(service: &str, qualifier: &str, function: &str) -> ConfigTarget {
        ConfigTarget { service: service.into(), qualifier: qualifier.into(), function: function.into() }
    }

    fn spec(target: u32) -> ProvisionSpec {
        ProvisionSpec {
            target,
            scheduled_actions: vec![serde_json::json!({"name": "a"})],
            target_tracking_policies: Vec::new(),
            always_allocate_cpu: true,
        }
    }

    fn page(limit: u32, next_token: Option<String>) -> ListQuery {
        ListQuery { limit, next_token, ..Default::default() }
    }

    #[tokio::test]
    async fn provision_configs_are_kept_filtered_paged_and_removed_at_zero() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("db")).expect("open");
        store.put_provision_config("a", &at("s", "prod", "f1"), spec(2)).await.expect("put");
        store.put_provision_config("a", &at("s", "prod", "f2"), spec(1)).await.expect("put");
        store.put_provision_config("a", &at("t", "prod", "f1"), spec(1)).await.expect("put");
        store.put_provision_config("b", &at("s", "prod", "f1"), spec(9)).await.expect("put");
        assert_eq!(store.get_provision_config("a", &at("s", "prod", "f1")).await.expect("get"), Some(spec(2)));

        let only_s = ProvisionFilter { service: Some("s".into()), qualifier: Some("prod".into()) };
        let first = store.list_provision_configs("a", only_s.clone(), page(1, None)).await.expect("list");
        assert_eq!(first.items.len(), 1);
        let second = store.list_provision_configs("a", only_s.clone(), page(1, first.next_token)).await.expect("list");
        assert_eq!(second.items[0].target.function, "f2");
        assert!(second.next_token.is_none());
        let everything = store.list_provision_configs("a", ProvisionFilter::default(), page(10, None)).await;
        assert_eq!(everything.expect("list").items.len(), 3);

        store.put_provision_config("a", &at("s", "prod", "f1"), spec(0)).await.expect("put 0");
        assert_eq!(store.get_provision_config("a", &at("s", "prod", "f1")).await.expect("get"), None);
        let (provisions, _) = store.all_capacity_configs().await.expect("all");
        assert_eq!(provisions.len(), 3, "b's and a's two left");
    }

    #[tokio::test]
    async fn on_demand_configs_page_by_resource_and_go_with_their_function() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("db")).expect("open");
        for i in 0..5 {
            store.put_on_demand_config("a", &at("s", &format!("q{i}"), "f"), i).await.expect("put");
        }
        assert_eq!(store.get_on_demand_config("a", &at("s", "q3", "f")).await.expect("get"), Some(3));
        let prefix = ListQuery { limit: 20, prefix: Some("services/s.q1".into()), ..Default::default() };
        assert_eq!(store.list_on_demand_configs("a", prefix).await.expect("list").items.len(), 1);
        let start = ListQuery { limit: 20, start_key: Some("services/s.q3".into()), ..Default::default() };
        assert_eq!(store.list_on_demand_configs("a", start).await.expect("list").items.len(), 2);
        let first = store.list_on_demand_configs("a", page(3, None)).await.expect("list");
        let rest = store.list_on_demand_configs("a", page(3, first.next_token.clone())).await.expect("list");
        assert_eq!((first.items.len(), rest.items.len()), (3, 2));
        assert!(first.next_token.is_some() && rest.next_token.is_none());

        assert!(store.delete_on_demand_config("a", &at("s", "q0", "f")).await.expect("delete"));
        assert!(!store.delete_on_demand_config("a", &at("s", "q0", "f")).await.expect("delete again"));
        store.put_provision_config("a", &at("s", "q1", "f"), spec(1)).await.expect("put");
        let (provisions, caps) = store.delete_function_configs("a", "s", "f").await.expect("cascade");
        assert_eq!((provisions.len(), caps.len()), (1, 4));
        assert_eq!(store.all_capacity_configs().await.expect("all"), (Vec::new(), Vec::new()));
    }
}
