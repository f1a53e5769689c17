//! The Host routing table: which custom domain (and so which account) a request's Host names.
//!
//! Every request whose Host could be a custom domain asks this table, so it never reads the database on
//! that path: all domains are loaded once, and any control-plane write to a domain drops the table, to be
//! loaded again by the next lookup. A generation counter keeps a load that raced with a write from
//! installing what it read. The server's own host names (`--public-url`'s host and the machine's host
//! name) are API hosts: no domain may take them, and requests on them are never looked up.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use ferric_store::{MetadataStore, StoreError};
use ferric_types::custom_domain::CustomDomain;

/// Lowercase domain name → domain.
type ByHost = Arc<HashMap<String, Arc<CustomDomain>>>;

pub struct DomainTable {
    loaded: RwLock<Option<ByHost>>,
    generation: AtomicU64,
    api_hosts: Vec<String>,
}

impl DomainTable {
    /// `api_hosts`: the names this server's API answers on, compared without case.
    pub fn new(api_hosts: impl IntoIterator<Item = String>) -> DomainTable {
        DomainTable {
            loaded: RwLock::new(None),
            generation: AtomicU64::new(0),
            api_hosts: api_hosts.into_iter().map(|h| h.to_ascii_lowercase()).filter(|h| !h.is_empty()).collect(),
        }
    }

    /// Whether `host` is one of the server's own names.
    pub fn is_api_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.api_hosts.contains(&host)
    }

    /// A domain changed: the next lookup reloads.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The domain serving `host` (already without its port): the exact name, else a `*.` wildcard one
    /// label up.
    pub async fn lookup(&self, store: &dyn MetadataStore, host: &str) -> Result<Option<Arc<CustomDomain>>, StoreError> {
        let host = host.to_ascii_lowercase();
        let cached = self.loaded.read().unwrap_or_else(|p| p.into_inner()).clone();
        let table = match cached {
            Some(table) => table,
            None => {
                let generation = self.generation.load(Ordering::SeqCst);
                let all = store.all_custom_domains().await?;
                let table: ByHost =
                    Arc::new(all.into_iter().map(|d| (d.name.to_ascii_lowercase(), Arc::new(d))).collect());
                let mut slot = self.loaded.write().unwrap_or_else(|p| p.into_inner());
                if self.generation.load(Ordering::SeqCst) == generation {
                    *slot = Some(table.clone());
                }
                table
            }
        };
        if let Some(hit) = table.get(&host) {
            return Ok(Some(hit.clone()));
        }
        let wildcard = host.split_once('.').map(|(_, parent)| format!("*.{parent}"));
        Ok(wildcard.and_then(|w| table.get(&w).cloned()))
    }
}

/// The host names a server answers its API on: the public URL's host and the machine's host name.
pub fn api_hosts(public_url: Option<&str>) -> Vec<String> {
    let mut hosts = Vec::new();
    if let Some(url) = public_url {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or("");
        hosts.push(strip_port(authority).to_string());
    }
    if let Ok(name) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        hosts.push(name.trim().to_string());
    }
    hosts
}

/// `host[:port]` or `[v6]:port` without the port.
pub fn strip_port(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_and_api_hosts() {
        assert_eq!(strip_port("api.example.test:8080"), "api.example.test");
        assert_eq!(strip_port("api.example.test"), "api.example.test");
        assert_eq!(strip_port("[::1]:80"), "::1");
        let hosts = api_hosts(Some("http://Ferric.Example.com:9000/x"));
        assert_eq!(hosts[0], "Ferric.Example.com");
        let table = DomainTable::new(hosts);
        assert!(table.is_api_host("ferric.example.com"));
        assert!(!table.is_api_host("api.example.com"));
    }
}
