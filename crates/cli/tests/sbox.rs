//! `sbox` through a pseudo-terminal (rexpect's): from `ferric shell`, a shell in the nodejs20 sandbox
//! with the code directory writable at /code; a file written there is on the host, owned by the
//! directory's owner; the shell has no capability and a read-only /proc/sys; the runtime's interpreter
//! runs; a resize reaches it; ^C reaches the shell inside (not ferric); `exit` comes back to ferric's prompt, which still
//! reads its input. Then the refusals: `--sandbox off`, no terminal, an unknown runtime.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ferric");

fn ferric(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    cmd
}

fn options() -> rexpect::reader::Options {
    rexpect::reader::Options::new().timeout_ms(Some(30_000)).strip_ansi_escape_codes(true)
}

#[test]
fn sbox_in_the_shell_writes_the_code_dir_and_comes_back() {
    let project = tempfile::tempdir().expect("tempdir");
    let dir = project.path();
    std::fs::create_dir_all(dir.join("code")).expect("mkdir");
    let cmd = ferric(dir, &["shell"]);
    let run = || -> Result<(), rexpect::error::Error> {
        let mut p = rexpect::session::spawn_with_options(cmd, options())?;
        p.exp_string("ferric:/> ")?;
        p.send_line("sbox -d code -t nodejs20")?;
        p.exp_string("sbox(nodejs20):/code")?;
        p.send_line("echo made-inside > from-sbox.txt && node -e 'console.log(\"node says \" + 6 * 7)'")?;
        p.exp_string("node says 42")?;
        p.exp_string("sbox(nodejs20):/code")?;
        // Running as the directory's owner (root here) grants no capability, and the kernel's knobs
        // under /proc stay read-only.
        p.send_line("grep CapEff /proc/self/status; echo 1 > /proc/sys/vm/drop_caches || echo refused-$?")?;
        p.exp_string("CapEff:\t0000000000000000")?;
        p.exp_string("refused-1")?;
        // Resizing ferric's terminal resizes the session's (the kernel signals ferric, ferric the pty).
        let master = p.process().get_file_handle()?;
        let size = rustix::termios::Winsize { ws_row: 33, ws_col: 101, ws_xpixel: 0, ws_ypixel: 0 };
        rustix::termios::tcsetwinsize(&master, size).expect("resize the outer terminal");
        std::thread::sleep(std::time::Duration::from_millis(300));
        p.send_line("stty size")?;
        p.exp_string("33 101")?;
        // ^C ends the command inside; ferric, outside, is untouched.
        p.send_line("sleep 60")?;
        std::thread::sleep(std::time::Duration::from_millis(500));
        p.send_control('c')?;
        p.exp_string("sbox(nodejs20):/code")?;
        p.send_line("exit")?;
        p.exp_string("ferric:/> ")?;
        p.send_line("pwd")?;
        p.exp_string("\r\n/\r\n")?;
        p.send_line("exit")?;
        p.exp_eof()?;
        Ok(())
    };
    run().expect("the sbox session");
    let made = dir.join("code/from-sbox.txt");
    assert_eq!(std::fs::read_to_string(&made).expect("the file sbox wrote"), "made-inside\n");
    let owner = std::fs::metadata(dir.join("code")).expect("stat").uid();
    assert_eq!(std::fs::metadata(&made).expect("stat").uid(), owner, "written as the directory's owner");
}

#[test]
fn sbox_refuses_without_a_sandbox_or_a_terminal() {
    let project = tempfile::tempdir().expect("tempdir");
    let dir = project.path();
    let cmd = ferric(dir, &["sbox", "-d", ".", "-t", "nodejs20", "--sandbox", "off"]);
    let run = || -> Result<String, rexpect::error::Error> {
        let mut p = rexpect::session::spawn_with_options(cmd, options())?;
        p.exp_eof()
    };
    let said = run().expect("ferric sbox --sandbox off");
    assert!(said.contains("sbox needs a sandbox with a mount namespace, and --sandbox off has none"), "{said}");

    let out = ferric(dir, &["sbox", "-d", ".", "-t", "nodejs20"]).output().expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sbox is an interactive shell: run it from a terminal"), "{stderr}");

    let out = ferric(dir, &["sbox", "-d", ".", "-t", "cobol85"]).output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cobol85"));
}
