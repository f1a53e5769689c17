//! The sandbox helper as a binary of its own, for this crate's tests and for in-process test servers
//! (the `ferric` binary offers the same as its hidden `sandbox-exec` subcommand).

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let code = match args.as_slice() {
        [_, fd, config] => ferric_sandbox::helper_main(fd, config),
        _ => ferric_sandbox::helper_main("", ""),
    };
    std::process::exit(code);
}
