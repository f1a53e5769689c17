//! `ferric config` on a terminal (rexpect's pseudo-terminal): it asks for each setting as `fun config`
//! does, saves `~/.fcli/config.yaml` (0600), and on the next run offers the saved values (the secret
//! masked), Enter keeping each.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ferric");

fn config_command(home: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("config")
        .current_dir(home)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

#[test]
fn the_interactive_prompt_saves_the_fcli_file_and_offers_it_back() -> Result<(), rexpect::error::Error> {
    let home = tempfile::tempdir().expect("home");
    let options = rexpect::reader::Options::new().timeout_ms(Some(20_000)).strip_ansi_escape_codes(true);
    let mut p = rexpect::session::spawn_with_options(config_command(home.path()), options)?;
    for (label, answer) in [
        ("endpoint: ", "http://127.0.0.1:9999"),
        ("account id: ", "1234567"),
        ("access key id: ", "PROMPTKEY"),
        ("access key secret: ", "prompt-secret-value"),
        // The region has a default (the one 'ferric serve' uses), offered like a saved value.
        ("region [local]: ", "cn-local"),
    ] {
        p.exp_string(label)?;
        p.send_line(answer)?;
    }
    p.exp_string("Saved to")?;
    p.exp_eof()?;
    let path = home.path().join(".fcli/config.yaml");
    let saved = std::fs::read_to_string(&path).expect("config.yaml");
    for value in ["http://127.0.0.1:9999", "1234567", "PROMPTKEY", "prompt-secret-value"] {
        assert!(saved.contains(value), "{value} not in:\n{saved}");
    }
    assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);

    // Again: each saved value is offered, the secret masked; Enter keeps it, a new answer replaces it.
    let options = rexpect::reader::Options::new().timeout_ms(Some(20_000)).strip_ansi_escape_codes(true);
    let mut p = rexpect::session::spawn_with_options(config_command(home.path()), options)?;
    p.exp_string("endpoint [http://127.0.0.1:9999]: ")?;
    p.send_line("")?;
    p.exp_string("account id [1234567]: ")?;
    p.send_line("")?;
    p.exp_string("access key id [PROMPTKEY]: ")?;
    p.send_line("NEWKEY")?;
    p.exp_string("access key secret [***********alue]: ")?;
    p.send_line("")?;
    p.exp_string("region [cn-local]: ")?;
    p.send_line("")?;
    p.exp_string("Saved to")?;
    p.exp_eof()?;
    let saved = std::fs::read_to_string(&path).expect("config.yaml");
    assert!(saved.contains("NEWKEY") && !saved.contains("PROMPTKEY"), "{saved}");
    assert!(saved.contains("prompt-secret-value") && saved.contains("http://127.0.0.1:9999"), "{saved}");
    assert!(saved.contains("cn-local"), "{saved}");
    Ok(())
}
