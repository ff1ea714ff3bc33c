//! FileStore against someone who can write to its directory: planted symbolic links and
//! stale files are never followed or reused, the token file is 0600 after every write, a
//! failed write leaves no copy of the token behind, and a sealed file opens only under its
//! own name.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use std::sync::Arc;

use oauth_refresh::{Client, EncryptionKey, ErrorCode, FileStore, Token, TokenManager, TokenStore};
use token_server::TokenServer;

mod support;
use support::{credentials, seed_token};

/// A fresh directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "oauth-refresh-file-store-{name}-{}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A stored token whose access and refresh tokens are `at-{n}` and `rt-{n}`.
fn token(n: u32) -> Token {
    Token::from_stored_json(&format!(
        r#"{{"access_token":"at-{n}","token_type":"Bearer","refresh_token":"rt-{n}"}}"#
    ))
    .unwrap()
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// A file of ours that a planted link points at: "precious", mode 0644.
fn victim(dir: &Path) -> PathBuf {
    let path = dir.join("victim");
    fs::write(&path, "precious").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    path
}

fn assert_untouched(victim: &Path) {
    assert_eq!(fs::read_to_string(victim).unwrap(), "precious");
    assert_eq!(mode(victim), 0o644);
}

/// Names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_link_at_the_old_predictable_temp_path_is_not_written_through() {
    let dir = temp_dir("tmp-link");
    let file = dir.join("token.json");
    let victim = victim(&dir);
    // The name writes used to go to.
    let planted = with_suffix(&file, &format!(".tmp.{}", std::process::id()));
    symlink(&victim, &planted).unwrap();

    let store = FileStore::new(&file);
    assert!(store.compare_and_swap(None, &token(1)).unwrap());
    assert!(store.compare_and_swap(Some("rt-1"), &token(2)).unwrap());

    assert_untouched(&victim);
    assert!(fs::symlink_metadata(&planted).unwrap().is_symlink());
    let meta = fs::symlink_metadata(&file).unwrap();
    assert!(meta.is_file(), "the token file is a file, not a moved link");
    assert_eq!(mode(&file), 0o600);
    assert_eq!(store.load().unwrap().unwrap().access_token(), "at-2");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn links_at_the_lock_paths_are_refused_and_not_followed() {
    let dir = temp_dir("lock-link");
    let file = dir.join("token.json");
    let victim = victim(&dir);
    let store = FileStore::new(&file);
    let wait = Duration::from_millis(20);
    let ttl = Duration::from_secs(5);
    for suffix in [".lock", ".lease"] {
        let lock = with_suffix(&file, suffix);
        let missing = dir.join(format!("created-through{suffix}"));
        // To a file of ours (its mode must stay), and to a path that must not appear.
        for target in [&victim, &missing] {
            symlink(target, &lock).unwrap();
            let err = match suffix {
                ".lock" => store.compare_and_swap(None, &token(1)).unwrap_err(),
                _ => store.lease(ttl, wait).err().expect("the lease was taken"),
            };
            assert_eq!(err.code(), ErrorCode::StoreFailed, "{suffix}: {err}");
            assert!(err.message().contains("symbolic link"), "{err}");
            assert!(err.message().contains(suffix), "names the path: {err}");
            fs::remove_file(&lock).unwrap();
        }
        assert_untouched(&victim);
        assert!(!missing.exists(), "{suffix}: created through the link");
    }
    assert!(!file.exists(), "nothing was stored through a refused lock");

    // Without the links, the lock files are made 0600, even ones left 0644 before.
    fs::write(with_suffix(&file, ".lease"), "").unwrap();
    fs::set_permissions(
        with_suffix(&file, ".lease"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    assert!(store.compare_and_swap(None, &token(1)).unwrap());
    drop(store.lease(ttl, wait).unwrap().unwrap());
    for suffix in [".lock", ".lease"] {
        assert_eq!(mode(&with_suffix(&file, suffix)), 0o600, "{suffix}");
    }
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_0644_token_file_is_0600_after_a_write_despite_a_stale_0644_temp_file() {
    let dir = temp_dir("mode");
    let file = dir.join("token.json");
    let chmod = |path: &Path| fs::set_permissions(path, fs::Permissions::from_mode(0o644));
    fs::write(&file, token(1).to_stored_json().expose()).unwrap();
    chmod(&file).unwrap();
    // Left by a crash at the name writes used to go to: reusing it kept its mode.
    let stale = with_suffix(&file, &format!(".tmp.{}", std::process::id()));
    fs::write(&stale, "stale").unwrap();
    chmod(&stale).unwrap();
    let store = FileStore::new(&file);
    assert!(store.compare_and_swap(Some("rt-1"), &token(2)).unwrap());
    assert_eq!(mode(&file), 0o600);
    assert_eq!(fs::read_to_string(&stale).unwrap(), "stale");
    assert_eq!(store.load().unwrap().unwrap().access_token(), "at-2");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_failed_write_leaves_no_temp_file() {
    let dir = temp_dir("failed");
    // The path ends in a slash: reading finds nothing there, the temp file is written next
    // to it, and renaming a file onto "token.json/" fails (ENOTDIR). Permission bits would
    // not do: the tests may run as root.
    let file = dir.join("token.json/");
    let store = FileStore::new(&file);
    let err = store.compare_and_swap(None, &token(1)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::StoreFailed, "{err}");
    assert!(err.message().contains("cannot rename"), "{err}");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("at-1") && !text.contains("rt-1"), "{text}");
    assert_eq!(
        listing(&dir),
        ["token.json.lock"],
        "the temp file was removed"
    );
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_sealed_file_opens_under_its_own_name_only() {
    let dir = temp_dir("sealed-name");
    let accounts = dir.join("accounts");
    fs::create_dir(&accounts).unwrap();
    let key = EncryptionKey::from_bytes(&[7; 32]).unwrap();
    let sealed = |path: &Path| FileStore::new(path).with_encryption(key.clone());
    let (a, b) = (accounts.join("a.json"), accounts.join("b.json"));
    assert!(sealed(&a).compare_and_swap(None, &token(1)).unwrap());
    assert!(sealed(&b).compare_and_swap(None, &token(2)).unwrap());

    // Another account's file copied over this one does not open here.
    fs::copy(&a, &b).unwrap();
    let err = sealed(&b).load().unwrap_err();
    assert_eq!(err.code(), ErrorCode::StoreDecrypt, "{err}");
    assert!(!format!("{err}").contains("at-1"));

    // The whole directory moved elsewhere: every file keeps its name and opens.
    let moved = dir.join("restored");
    fs::rename(&accounts, &moved).unwrap();
    let opened = sealed(&moved.join("a.json")).load().unwrap().unwrap();
    assert_eq!(opened.access_token(), "at-1");
    fs::remove_dir_all(dir).unwrap();
}

/// Compiled without the `redis` feature too: file encryption does not depend on it.
#[test]
fn an_encrypted_file_holds_no_token_bytes_and_refuses_a_wrong_key() {
    let server = TokenServer::start();
    let token = seed_token(&server, "seed-fseal", "ok");
    let key = EncryptionKey::from_bytes(&[7; 32]).unwrap();
    let wrong = EncryptionKey::from_bytes(&[8; 32]).unwrap();
    let secrets = [token.access_token(), token.refresh_token().unwrap()];
    let dir = temp_dir("fseal");
    let file = dir.join("token.json");
    let sealed_file = FileStore::new(&file).with_encryption(key.clone());
    assert!(sealed_file.compare_and_swap(None, &token).unwrap());
    let contents = std::fs::read_to_string(&file).unwrap();
    for secret in secrets {
        assert!(!contents.contains(secret));
    }
    assert_eq!(
        sealed_file.load().unwrap().unwrap().access_token(),
        token.access_token()
    );
    for reader in [
        FileStore::new(&file).with_encryption(wrong),
        FileStore::new(&file),
    ] {
        assert_eq!(reader.load().unwrap_err().code(), ErrorCode::StoreDecrypt);
    }
    // The manager reports it too, before sending anything.
    let client = Arc::new(Client::new(format!("{}/fseal/ok/token", server.url())).unwrap());
    let manager = TokenManager::new(
        client,
        credentials("seed-unused"),
        Arc::new(FileStore::new(&file)),
    );
    assert_eq!(
        manager.access_token().unwrap_err().code(),
        ErrorCode::StoreDecrypt
    );
    assert_eq!(server.token_requests("fseal"), 0);
    std::fs::remove_dir_all(dir).unwrap();
}
