//! `token-server [--port N]`: serves on 127.0.0.1 until killed. Prints its URL on the first
//! line of stdout, then `blackhole=URL` (connects time out) and `refused=URL` (nothing listens).

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
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
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
