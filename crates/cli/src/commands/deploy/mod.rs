//! `ferric deploy`: fun's deploy of `template.yml` onto Ferric, incrementally. It validates the template,
//! builds the plan (`plan.rs`), prints it, asks (on a terminal, unless `-y`), then carries it out in order:
//! services, functions, triggers, custom domains (and `Aliyun::Serverless::Api`s, mapped onto domains:
//! `template/domains.rs`); deletions last, triggers before their function.
//!
//! Uploads show a progress bar (`indicatif`) when stderr is a terminal, plain lines otherwise, so CI logs
//! stay readable. The bar counts bytes per finished upload: the request body is sent in one piece.

mod plan;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use base64::Engine;
use clap::Args;
use ferric_client::Client;
use serde_json::{json, Value};

use crate::template;
pub(crate) use plan::function_body;
use plan::{Action, Step, Target};

#[derive(Args, Debug)]
#[command(after_help = "Examples:
  ferric deploy                    # template.yml in this directory; asks before changing anything
  ferric deploy -t app/template.yml -y
  ferric deploy --prune -y         # also delete functions, triggers and domains the template no longer lists

Aliyun::Serverless::CustomDomain is deployed as a custom domain (routes to functions by path).
Aliyun::Serverless::Api NAME becomes the custom domain NAME.api.internal, one route per path, its
backend function given an ANONYMOUS HTTP trigger 'api-gateway' when it has none (its handler must be
an HTTP handler): curl -H 'Host: NAME.api.internal' http://<server>/<path>.
Parameters: each Default replaces !Ref Name and ${Name}. Cloud-only resources (Log, Table Store,
MNS, RAM, ...) are skipped with one line each.")]
pub struct DeployArgs {
    /// The template to deploy.
    #[arg(short, long, default_value = template::DEFAULT_FILE)]
    template: PathBuf,
    /// Also delete functions (of the template's services), triggers and custom domains (routing only to
    /// the template's services) that the template no longer lists.
    #[arg(long)]
    prune: bool,
    /// Carry out the plan without asking.
    #[arg(short = 'y', long = "yes", alias = "assume-yes")]
    yes: bool,
}

pub fn run(args: DeployArgs) -> Result<()> {
    let loaded = template::load(&args.template)?;
    for note in &loaded.template.skipped {
        eprintln!("{note}");
    }
    if !loaded.errors.is_empty() {
        for error in &loaded.errors {
            eprintln!("{error}");
        }
        bail!("{} is not valid ({} errors); nothing was deployed", args.template.display(), loaded.errors.len());
    }
    let client = crate::config::client()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(deploy(&client, &loaded.template, &args))
}

async fn deploy(client: &Client, template: &template::Template, args: &DeployArgs) -> Result<()> {
    let mut steps = plan::plan(client, template, args.prune).await?;
    if !args.prune {
        steps.retain(|s| s.action != Action::Delete);
    }
    println!("Plan for {} on {}:", args.template.display(), client.endpoint());
    for step in &steps {
        println!("{}", step.line());
    }
    let count = |f: fn(&Action) -> bool| steps.iter().filter(|s| f(&s.action)).count();
    let changes = count(|a| *a != Action::Unchanged);
    let deletes = count(|a| *a == Action::Delete || *a == Action::Replace);
    println!(
        "{} to create, {} to update, {} unchanged, {} to delete",
        count(|a| *a == Action::Create),
        count(|a| matches!(a, Action::Update(_) | Action::Replace)),
        count(|a| *a == Action::Unchanged),
        count(|a| *a == Action::Delete),
    );
    if changes == 0 {
        println!("Nothing to do.");
        return Ok(());
    }
    if !args.yes {
        if std::io::stdin().is_terminal() {
            print!("Deploy? [y/N] ");
            std::io::stdout().flush()?;
            let mut answer = String::new();
            std::io::stdin().lock().read_line(&mut answer)?;
            if !matches!(answer.trim(), "y" | "Y" | "yes") {
                bail!("cancelled; nothing was changed");
            }
        } else if deletes > 0 {
            bail!("the plan deletes {deletes} resources; run again with -y to allow it without a terminal");
        }
    }
    let progress = Progress::new(&steps);
    // Creates and updates in template order; deletions after, triggers before their functions (the plan
    // already lists them in that order).
    for step in steps.iter().filter(|s| s.action != Action::Delete) {
        apply(client, step, &progress).await.with_context(|| format!("cannot deploy {}", step.target))?;
    }
    // Domains go first: their routes lead to the functions deleted after them.
    let (domains, others): (Vec<&Step>, Vec<&Step>) =
        steps.iter().filter(|s| s.action == Action::Delete).partition(|s| matches!(s.target, Target::Domain(_)));
    for step in domains.into_iter().chain(others) {
        apply(client, step, &progress).await.with_context(|| format!("cannot deploy {}", step.target))?;
    }
    progress.finish();
    println!("Deployed: {changes} changes.");
    Ok(())
}

async fn apply(client: &Client, step: &Step, progress: &Progress) -> Result<()> {
    let what = step.target.to_string();
    let what = what.split_whitespace().collect::<Vec<_>>().join(" ");
    let with_code = |body: &Value| -> Value {
        let mut body = body.clone();
        if let Some(p) = &step.package {
            body["code"] = json!({ "zipFile": base64::engine::general_purpose::STANDARD.encode(&p.zip) });
        }
        body
    };
    match (&step.action, &step.target) {
        (Action::Unchanged, _) => return Ok(()),
        (Action::Create, Target::Service(_)) => client.create_service(&step.body).await.map(drop)?,
        (Action::Update(_), Target::Service(s)) => client.update_service(s, &step.body).await.map(drop)?,
        (Action::Create, Target::Function(s, _)) => {
            progress.uploading(&what);
            client.create_function_from(s, &with_code(&step.body)).await.map(drop)?
        }
        (Action::Update(_), Target::Function(s, f)) => {
            if step.package.is_some() {
                progress.uploading(&what);
            }
            let mut body = with_code(&step.body);
            if let Some(map) = body.as_object_mut() {
                map.remove("functionName");
            }
            client.update_function(s, f, &body).await.map(drop)?
        }
        (Action::Create, Target::Trigger(s, f, _)) => client.create_trigger(s, f, &step.body).await.map(drop)?,
        (Action::Replace, Target::Trigger(s, f, t)) => {
            client.delete_trigger(s, f, t).await?;
            client.create_trigger(s, f, &step.body).await.map(drop)?
        }
        (Action::Update(_), Target::Trigger(s, f, t)) => {
            let mut body = step.body.clone();
            if let Some(map) = body.as_object_mut() {
                map.remove("triggerName");
                map.remove("triggerType");
            }
            client.update_trigger(s, f, t, &body).await.map(drop)?
        }
        (Action::Create, Target::Domain(_)) => {
            client.call(reqwest::Method::POST, "/custom-domains", &[], Some(&step.body)).await.map(drop)?
        }
        (Action::Update(_), Target::Domain(d)) => {
            let mut body = step.body.clone();
            if let Some(map) = body.as_object_mut() {
                map.remove("domainName");
            }
            let path = format!("/custom-domains/{d}");
            client.call(reqwest::Method::PUT, &path, &[], Some(&body)).await.map(drop)?
        }
        (Action::Delete, Target::Trigger(s, f, t)) => client.delete_trigger(s, f, t).await?,
        (Action::Delete, Target::Function(s, f)) => client.delete_function(s, f).await?,
        (Action::Delete, Target::Domain(d)) => {
            client.call(reqwest::Method::DELETE, &format!("/custom-domains/{d}"), &[], None).await.map(drop)?
        }
        (action, target) => bail!("cannot {action:?} {target}"),
    }
    progress.done(step, &what);
    Ok(())
}

/// Upload progress: a bar on a terminal, lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(steps: &[Step]) -> Progress {
        let total: usize = steps.iter().filter_map(|s| s.package.as_ref()).map(|p| p.zip.len()).sum();
        let bar = (std::io::stderr().is_terminal() && total > 0).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            let style = indicatif::ProgressStyle::with_template("{msg:30} [{bar:30}] {bytes}/{total_bytes}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar
        });
        Progress { bar }
    }

    fn uploading(&self, what: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(format!("uploading {what}")),
            None => eprintln!("uploading {what} ..."),
        }
    }

    fn done(&self, step: &Step, what: &str) {
        let verb = match step.action {
            Action::Create => "created",
            Action::Update(_) => "updated",
            Action::Replace => "replaced",
            Action::Delete => "deleted",
            Action::Unchanged => return,
        };
        match &self.bar {
            Some(bar) => {
                if let Some(p) = &step.package {
                    bar.inc(p.zip.len() as u64);
                }
                bar.println(format!("{verb} {what}"));
            }
            None => println!("{verb} {what}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
