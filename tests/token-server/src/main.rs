//! `token-server [--port N]`: serves on 127.0.0.1 until killed. Prints its URL on the first
//! line of stdout, then `blackhole=URL` (connects time out) and `refused=URL` (nothing listens),
//! then `https=URL`, `https_wrong_host=URL`, `https_expired=URL`, `https_port=N`,
//! `ca_file=PATH`, `other_ca_file=PATH`, `proxy=URL` and `authenticated_proxy=URL`
//! (see the library's `TokenServer` for what each one is).

use std::io::Write;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut port = 0u16;
    let mut threads = 2usize;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| usage("--port needs a number"));
            }
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| usage("--threads needs a number"));
            }
            "--help" | "-h" => usage(""),
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    let server = token_server::TokenServer::start_with(port, threads).unwrap_or_else(|e| {
        eprintln!("token-server: cannot listen on 127.0.0.1:{port}: {e}");
        std::process::exit(1)
    });
    println!("{}", server.url());
    println!("blackhole={}", server.blackhole_url());
    println!("refused={}", server.refused_url());
    println!("https={}", server.https_url());
    println!("https_wrong_host={}", server.https_wrong_host_url());
    println!("https_expired={}", server.https_expired_url());
    println!("https_port={}", server.https_port());
    println!("ca_file={}", server.ca_file().display());
    println!("other_ca_file={}", server.other_ca_file().display());
    println!("proxy={}", server.proxy_url());
    println!("authenticated_proxy={}", server.authenticated_proxy_url());
    let _ = std::io::stdout().flush();
    wait_for_termination();
    // Dropping the server removes its certificate directory; SIGKILL leaves it behind.
    drop(server);
}

/// Blocks until SIGTERM (what test harnesses send) or SIGINT.
fn wait_for_termination() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("a runtime for signals");
    runtime.block_on(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let mut term = signal(SignalKind::terminate()).expect("a SIGTERM handler");
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    });
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("token-server: {problem}");
    }
    eprintln!(
        "usage: token-server [--port N] [--threads N]   (prints http://127.0.0.1:PORT, serves until killed)"
    );
    std::process::exit(if problem.is_empty() { 0 } else { 2 })
}
