//! Moving around and looking: `cd`, `ls`, `info`, and `rm`. Listing and fetching are the one-shot
//! `ferric ls` / `ferric info` code (`commands::ls`), given a path resolved from the current resource.

use anyhow::{bail, Result};
use clap::Args;
use serde_json::Value;

use super::path::{Kind, ResourcePath};
use super::Session;
use crate::commands::ls::{self, Output};

#[derive(Args, Debug)]
pub struct CdArgs {
    /// Where to go: a name below the current resource, `..`, or an absolute path; nothing for the root.
    #[arg(default_value = "/")]
    path: String,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Whose children to list; the current resource by default.
    #[arg(default_value = ".")]
    path: String,
    /// text: one line per resource; json: the server's objects.
    #[arg(short, long, value_enum, default_value_t = Output::Text)]
    output: Output,
    /// Names only, one per line.
    #[arg(short = '1', long)]
    names: bool,
}

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// The resource; the current one by default.
    #[arg(default_value = ".")]
    path: String,
    /// text: one `key: value` line per field; json: the server's object.
    #[arg(short, long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// The service, function or trigger to delete.
    path: String,
    /// Delete what is inside first: a function's triggers, a service's functions and their triggers.
    #[arg(short, long)]
    recursive: bool,
}

/// Goes there if it exists (the server is asked, so a typo fails here and not at the next verb).
pub fn cd(session: &Session, args: &CdArgs) -> Result<()> {
    let target = session.cwd().resolve(&args.path)?;
    if target.kind() != Kind::Root {
        let client = session.client()?;
        session.block_on(ls::fetch(&client, &target.parts()))?;
    }
    session.set_cwd(target);
    Ok(())
}

pub fn ls(session: &Session, args: &LsArgs) -> Result<()> {
    let target = session.cwd().resolve(&args.path)?;
    let client = session.client()?;
    let (items, columns) = session.block_on(ls::list(&client, &target.parts()))?;
    if args.names {
        for name in names_of(&items, columns) {
            println!("{name}");
        }
        return Ok(());
    }
    ls::print_list(&items, columns, args.output)
}

pub fn info(session: &Session, args: &InfoArgs) -> Result<()> {
    let target = session.cwd().resolve(&args.path)?;
    let client = session.client()?;
    if target.kind() == Kind::Root {
        println!("endpoint: {}", client.endpoint());
        return Ok(());
    }
    let item = session.block_on(ls::fetch(&client, &target.parts()))?;
    ls::print_item(&item, args.output)
}

/// The resources' names: the first column is always the name.
pub fn names_of(items: &[Value], columns: &[&str]) -> Vec<String> {
    let Some(key) = columns.first() else { return Vec::new() };
    items.iter().filter_map(|item| item.get(*key).and_then(Value::as_str)).map(str::to_string).collect()
}

pub fn rm(session: &Session, args: &RmArgs) -> Result<()> {
    let cwd = session.cwd();
    let target = cwd.resolve(&args.path)?;
    let client = session.client()?;
    session.block_on(async {
        if args.recursive {
            delete_children(&client, &target).await?;
        }
        delete(&client, &target).await
    })?;
    session.forget_names();
    println!("deleted {} {target}", target.kind());
    // Standing inside what was deleted: step out to what is left.
    if cwd.names().starts_with(target.names()) {
        session.set_cwd(target.parent());
    }
    Ok(())
}

async fn delete(client: &ferric_client::Client, target: &ResourcePath) -> Result<()> {
    match target.parts().as_slice() {
        [s] => client.delete_service(s).await?,
        [s, f] => client.delete_function(s, f).await?,
        [s, f, t] => client.delete_trigger(s, f, t).await?,
        _ => bail!("the root cannot be deleted; name a service, function or trigger"),
    }
    Ok(())
}

/// Everything below `target`, deepest first, as FC refuses to delete a resource that has children.
async fn delete_children(client: &ferric_client::Client, target: &ResourcePath) -> Result<()> {
    if target.kind() == Kind::Trigger || target.kind() == Kind::Root {
        return Ok(());
    }
    let (items, columns) = ls::list(client, &target.parts()).await?;
    for name in names_of(&items, columns) {
        let child = target.child(&name);
        Box::pin(delete_children(client, &child)).await?;
        delete(client, &child).await?;
    }
    Ok(())
}
