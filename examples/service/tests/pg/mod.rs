//! A throw-away PostgreSQL cluster for one test: `initdb` in a temporary directory owned by
//! the `postgres` user (PostgreSQL refuses to run as root), started with `pg_ctl` on a free
//! loopback port with its Unix socket in that directory and trust authentication, stopped
//! and removed when the handle drops (a panicking test too).
//!
//! Debian's `postgresql-15` puts the binaries in /usr/lib/postgresql/15/bin
//! (`SWITCHBOARD_PG_BIN` names another folder). Without them the test is skipped, unless
//! `SWITCHBOARD_REQUIRE_POSTGRES=1` (as in CI), which makes it fail with that message.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A running cluster; dropping it stops it and deletes its files.
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
}

fn bin_dir() -> PathBuf {
    std::env::var_os("SWITCHBOARD_PG_BIN").map_or_else(
        || PathBuf::from("/usr/lib/postgresql/15/bin"),
        PathBuf::from,
    )
}

fn is_root() -> bool {
    // SAFETY: geteuid only reads the process's credentials.
    unsafe { libc::geteuid() == 0 }
}

/// Runs a PostgreSQL server binary as the `postgres` user when this process is root.
fn as_postgres(bin: &Path, program: &str, args: &[&str]) -> Output {
    let program = bin.join(program);
    let mut command = if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(&program);
        command
    } else {
        Command::new(&program)
    };
    command
        .args(args)
        .current_dir("/")
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()))
}

fn check(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Postgres {
    /// Starts a cluster for `test`, or returns `None` (the test is skipped) when PostgreSQL is
    /// not installed and not required.
    pub fn start(test: &str) -> Option<Postgres> {
        let bin = bin_dir();
        if !bin.join("initdb").exists() {
            let message = format!(
                "PostgreSQL is not installed ({} has no initdb): `apt-get install postgresql-15`",
                bin.display()
            );
            assert!(
                std::env::var("SWITCHBOARD_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "{message}; SWITCHBOARD_REQUIRE_POSTGRES=1 requires it"
            );
            eprintln!("skipped: {message}");
            return None;
        }
        let dir =
            std::env::temp_dir().join(format!("switchboard-pg-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the cluster's directory can be made");
        if is_root() {
            let output = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .output()
                .expect("chown runs");
            check(&output, "chown postgres");
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let postgres = Postgres { dir, bin, port };
        let data = postgres.dir.join("data");
        let data = data.to_str().expect("a UTF-8 path");
        let output = as_postgres(
            &postgres.bin,
            "initdb",
            &[
                "-D",
                data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        check(&output, "initdb");
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            postgres.dir.display()
        );
        let log = postgres.dir.join("postgres.log");
        let output = as_postgres(
            &postgres.bin,
            "pg_ctl",
            &[
                "-D",
                data,
                "-l",
                log.to_str().expect("a UTF-8 path"),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        check(&output, "pg_ctl start");
        Some(postgres)
    }

    /// The connection string the service takes (`--postgres`).
    pub fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }

    /// Runs SQL with psql; returns its unaligned, tuples-only output, one row a line, fields
    /// separated by tabs.
    pub fn sql(&self, sql: &str) -> String {
        let output = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"])
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"])
            .args(["-p", &self.port.to_string(), "-c", sql])
            .output()
            .expect("psql runs");
        check(&output, sql);
        String::from_utf8(output.stdout).expect("psql prints UTF-8")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = as_postgres(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap_or(""),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
