//! A private PostgreSQL on a free loopback port, in a temporary directory, for the tests that
//! must kill and restart it (durability); the other suites share the one that
//! `scripts/with-postgres.sh` starts (`POSTGRES_URL`). The tests never touch another database.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The password of the test databases' user `oauth` (a fixture, not a secret).
pub const PASSWORD: &str = "oauth-test-db";

/// A running `postgres`; dropping it stops it and removes its directory.
pub struct PostgresServer {
    port: u16,
    dir: PathBuf,
    bin: PathBuf,
    child: Option<Child>,
}

/// The directory of `initdb` and `postgres` (Debian: /usr/lib/postgresql/<version>/bin), or why
/// the PostgreSQL tests cannot run here. In CI (`CI` set) a missing server is a failure.
pub fn postgres_bin() -> Result<PathBuf, String> {
    let found = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|versions| {
            let mut bins: Vec<PathBuf> = versions
                .filter_map(|v| v.ok().map(|v| v.path().join("bin")))
                .filter(|b| b.join("postgres").exists())
                .collect();
            bins.sort();
            bins.pop()
        });
    found.ok_or_else(|| {
        let why = "PostgreSQL is not installed (`make test` installs the Debian package \
                   postgresql when run as root)"
            .to_owned();
        assert!(std::env::var_os("CI").is_none(), "{why}");
        why
    })
}

/// Whether this process runs as root (the owner of `/proc/self` is its effective user).
fn root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `program` as the unprivileged `postgres` user when we are root (PostgreSQL refuses root).
fn as_postgres(program: &Path) -> Command {
    if root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl PostgresServer {
    /// Starts one with a user `oauth` (password [`PASSWORD`]) owning database `oauth`, or says
    /// why the PostgreSQL tests are skipped.
    pub fn start(test: &str) -> Option<PostgresServer> {
        let bin = match postgres_bin() {
            Ok(bin) => bin,
            Err(why) => {
                eprintln!("SKIPPED {test}: {why}");
                return None;
            }
        };
        // Under /tmp, not TMPDIR: the `postgres` user must reach it.
        let dir = PathBuf::from(format!(
            "/tmp/oauth-refresh-pg-{}-{test}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir for PostgreSQL");
        let data = dir.join("data");
        let pwfile = dir.join("pw");
        std::fs::write(&pwfile, PASSWORD).unwrap();
        chown_to_postgres(&dir);
        let status = as_postgres(&bin.join("initdb"))
            .args(["-D"])
            .arg(&data)
            .args(["-U", "oauth", "--auth=scram-sha-256", "--pwfile"])
            .arg(&pwfile)
            .args(["-E", "UTF8", "--no-sync"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("initdb runs");
        assert!(status.success(), "initdb failed");
        let mut server = PostgresServer {
            port: free_port(),
            dir,
            bin,
            child: None,
        };
        server.restart();
        server.sql("postgres", "CREATE DATABASE oauth");
        Some(server)
    }

    /// `postgres://oauth:PASSWORD@127.0.0.1:PORT/oauth`.
    pub fn url(&self) -> String {
        format!("postgres://oauth:{PASSWORD}@127.0.0.1:{}/oauth", self.port)
    }

    /// Kills it with SIGKILL, the postmaster and every backend at once (they share the
    /// process group it was started in): no shutdown, nothing flushed beyond what was
    /// already durable.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-9", "--", &group]).status();
            let _ = child.wait();
            // Until the last backend is gone, a new postmaster refuses the data directory.
            let deadline = Instant::now() + Duration::from_secs(10);
            while Command::new("kill")
                .args(["-0", "--", &group])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// Starts it (again) on the same port and data, waiting until it answers.
    pub fn restart(&mut self) {
        self.kill();
        let data = self.dir.join("data");
        use std::os::unix::process::CommandExt;
        let child = as_postgres(&self.bin.join("postgres"))
            .process_group(0)
            .arg("-D")
            .arg(&data)
            .args(["-p", &self.port.to_string(), "-h", "127.0.0.1", "-k"])
            .arg(&self.dir)
            .args(["-c", "fsync=on", "-c", "synchronous_commit=on"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("postgres starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "PostgreSQL did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        // Accepting connections is not yet answering them: after a crash it replays its log.
        self.sql("postgres", "SELECT 1");
    }

    /// Runs `statement` in `database` through `psql`, waiting until the server accepts it.
    pub fn sql(&self, database: &str, statement: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = Command::new(self.bin.join("psql"))
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    "oauth",
                    "-d",
                    database,
                ])
                .args(["-qtAc", statement])
                .env("PGPASSWORD", PASSWORD)
                .output()
                .expect("psql runs");
            if out.status.success() {
                return String::from_utf8_lossy(&out.stdout).trim().to_owned();
            }
            assert!(Instant::now() < deadline, "PostgreSQL refused: {statement}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().unwrap().port()
}

fn chown_to_postgres(dir: &Path) {
    if root() {
        let _ = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir)
            .status();
    }
}
