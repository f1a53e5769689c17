//! `ferric ls [path]` and `ferric info path`: the one-shot forms of fcli's `ls` and `info`, for scripts.
//! The shell reuses `list`/`fetch` and their printers. A path is `svc`, `svc/fn`, `svc/fn/trigger`, or fcli's long form `/services/svc/functions/fn/triggers/t`.

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use ferric_client::Client;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  ferric ls                        # services
  ferric ls demo                   # functions of service demo
  ferric ls demo/hello             # triggers of function demo/hello
  ferric ls /services/demo/functions -o json")]
pub struct LsArgs {
    /// What to list the children of: nothing (services), SERVICE (functions) or SERVICE/FUNCTION (triggers).
    #[arg(default_value = "")]
    path: String,
    /// text: one line per resource; json: the server's objects as a JSON array.
    #[arg(short, long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  ferric info demo
  ferric info demo/hello -o json
  ferric info demo/hello/http-trigger")]
pub struct InfoArgs {
    /// SERVICE, SERVICE/FUNCTION or SERVICE/FUNCTION/TRIGGER.
    path: String,
    /// text: one `key: value` line per field; json: the server's object.
    #[arg(short, long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

/// The names in a path, short or fcli-long.
pub fn segments(path: &str) -> Vec<&str> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.first() == Some(&"services") {
        parts.iter().skip(1).step_by(2).copied().collect()
    } else {
        parts
    }
}

pub fn run_ls(args: LsArgs) -> Result<()> {
    let client = crate::config::client()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (items, columns) = runtime.block_on(list(&client, &segments(&args.path)))?;
    print_list(&items, columns, args.output)
}

/// The children of the resource named by `parts` (the shell's `ls` too), with the columns that show them.
pub async fn list(client: &Client, parts: &[&str]) -> Result<(Vec<Value>, &'static [&'static str])> {
    Ok(match parts {
        [] => {
            let fetch = |t: Option<String>| async move { client.list_services(&page_query(&t)).await };
            (all("services", fetch).await?, &SERVICE_COLUMNS[..])
        }
        [s] => {
            let fetch = |t: Option<String>| async move { client.list_functions(s, &page_query(&t)).await };
            (all("functions", fetch).await?, &FUNCTION_COLUMNS[..])
        }
        [s, f] => {
            let fetch = |t: Option<String>| async move { client.list_triggers(s, f, &page_query(&t)).await };
            (all("triggers", fetch).await?, &TRIGGER_COLUMNS[..])
        }
        _ => bail!("'{}' has no children to list (a trigger is the deepest resource)", parts.join("/")),
    })
}

pub fn print_list(items: &[Value], columns: &[&str], output: Output) -> Result<()> {
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&items)?),
        Output::Text => {
            for item in items {
                let cells: Vec<String> = columns.iter().map(|c| text(item.get(*c))).collect();
                println!("{}", cells.join("\t").trim_end());
            }
        }
    }
    Ok(())
}

const SERVICE_COLUMNS: [&str; 3] = ["serviceName", "lastModifiedTime", "description"];
const FUNCTION_COLUMNS: [&str; 5] = ["functionName", "runtime", "handler", "memorySize", "lastModifiedTime"];
const TRIGGER_COLUMNS: [&str; 3] = ["triggerName", "triggerType", "lastModifiedTime"];

fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Every page of a list, following `nextToken`.
async fn all<F, Fut>(key: &str, fetch: F) -> Result<Vec<Value>>
where
    F: Fn(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Value, ferric_client::ClientError>>,
{
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = fetch(token.take()).await?;
        out.extend(page.get(key).and_then(Value::as_array).cloned().unwrap_or_default());
        match page.get("nextToken").and_then(Value::as_str) {
            Some(next) if !next.is_empty() => token = Some(next.to_string()),
            _ => return Ok(out),
        }
    }
}

/// A list query: the largest page, after `token`.
fn page_query(token: &Option<String>) -> Vec<(&str, &str)> {
    let mut query = vec![("limit", "100")];
    if let Some(t) = token {
        query.push(("nextToken", t.as_str()));
    }
    query
}

pub fn run_info(args: InfoArgs) -> Result<()> {
    let client = crate::config::client()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let item = runtime.block_on(fetch(&client, &segments(&args.path)))?;
    print_item(&item, args.output)
}

/// The service, function or trigger named by `parts`.
pub async fn fetch(client: &Client, parts: &[&str]) -> Result<Value> {
    Ok(match parts {
        [s] => client.get_service(s).await?,
        [s, f] => client.get_function(s, f).await?,
        [s, f, t] => client.get_trigger(s, f, t).await?,
        _ => bail!("'/{}' is not SERVICE, SERVICE/FUNCTION or SERVICE/FUNCTION/TRIGGER", parts.join("/")),
    })
}

pub fn print_item(item: &Value, output: Output) -> Result<()> {
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(item)?),
        Output::Text => {
            if let Some(map) = item.as_object() {
                for (key, value) in map {
                    println!("{key}: {}", text(Some(value)));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::segments;

    #[test]
    fn short_and_fcli_paths_name_the_same_resources() {
        assert_eq!(segments("demo/hello"), ["demo", "hello"]);
        assert_eq!(segments("/services/demo/functions/hello"), ["demo", "hello"]);
        assert_eq!(segments("/services/demo/functions/hello/triggers/t"), ["demo", "hello", "t"]);
        assert_eq!(segments("/"), Vec::<&str>::new());
        assert_eq!(segments("/services"), Vec::<&str>::new());
    }
}
