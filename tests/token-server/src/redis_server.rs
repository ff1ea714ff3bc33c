//! A private `redis-server` on a free loopback port, in a temporary directory, with no
//! persistence: a restart comes back empty. The tests never touch any other Redis. Under
//! `make test` (`LEAK_DIR` set) what it held is saved there when it is dropped, for the leak
//! scanner.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`; dropping it stops it and removes its directory.
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

/// Why the Redis tests cannot run here, if they cannot: `redis-server` is not installed.
/// In CI (`CI` set) a missing server is a failure, never a skip.
fn redis_missing() -> Option<String> {
    let found = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return None;
    }
    let why = "redis-server is not installed (`make test` installs the Debian package \
               redis-server when run as root)"
        .to_owned();
    assert!(std::env::var_os("CI").is_none(), "{why}");
    Some(why)
}

impl RedisServer {
    /// Starts one, or says why the Redis tests are skipped (see [`redis_missing`]).
    pub fn start(test: &str) -> Option<RedisServer> {
        if let Some(why) = redis_missing() {
            eprintln!("SKIPPED {test}: {why}");
            return None;
        }
        let dir = std::env::temp_dir().join(format!(
            "oauth-refresh-redis-{}-{}",
            std::process::id(),
            test
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir for redis-server");
        let mut server = RedisServer {
            port: 0,
            dir,
            child: None,
        };
        server.restart();
        Some(server)
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL: it keeps nothing).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again, empty, on the same port (a new port the first time).
    pub fn restart(&mut self) {
        self.stop();
        for _ in 0..20 {
            let port = if self.port == 0 {
                free_port()
            } else {
                self.port
            };
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .args(["--rdbcompression", "no"])
                .arg("--dir")
                .arg(&self.dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server starts");
            self.child = Some(child);
            if wait_for_pong(port) {
                self.port = port;
                return;
            }
            self.stop(); // the port was taken meanwhile: try another
            if self.port != 0 {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("redis-server did not start");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(leak_dir) = std::env::var_os("LEAK_DIR") {
            if self.child.is_some() && ask(self.port, b"SAVE\r\n", b"+OK\r\n") {
                let kept = format!("redis-{}-{}.rdb", std::process::id(), self.port);
                let _ = std::fs::copy(
                    self.dir.join("dump.rdb"),
                    PathBuf::from(leak_dir).join(kept),
                );
            }
        }
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().unwrap().port()
}

fn wait_for_pong(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if ask(port, b"PING\r\n", b"+PONG\r\n") {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Sends one inline command; whether the answer is `expected`.
fn ask(port: u16, command: &[u8], expected: &[u8]) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reply = vec![0u8; expected.len()];
    stream.write_all(command).is_ok() && stream.read_exact(&mut reply).is_ok() && reply == expected
}
