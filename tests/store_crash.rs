//! Crash safety: a child process saves continuously and is killed with SIGKILL at random
//! moments; every time, the store loads and holds one complete state.

use std::process::{Command, Stdio};
use std::time::Duration;

use offrec::conversation::{Client, Policy, Settings};
use offrec::crypto::{DeterministicRandom, IdentityKey, RandomSource};
use offrec::store::{FileStore, StoreKey};
use zeroize::Zeroizing;

const CHILD_ENV: &str = "OFFREC_CRASH_CHILD_DIR";

fn key() -> StoreKey {
    StoreKey::Raw(Zeroizing::new([0x5A; 32]))
}

fn client_with_peers(count: usize) -> Client {
    let identity = IdentityKey::from_secret_bytes([3; 32]);
    let mut client =
        Client::with_parts("writer", "crashnet", identity, 0x1234, Settings { policy: Policy::MANUAL, ..Settings::default() }, Box::new(DeterministicRandom::from_label("c")))
            .unwrap();
    for i in 0..count {
        // Each peer records its own index, so a loaded state can be checked for consistency.
        client.set_max_message_size(&format!("peer-{i}"), 1000 + i).unwrap();
    }
    client
}

/// The writer: saves states with a growing number of peers, forever, until killed.
#[test]
#[ignore = "child process of crash_at_random_moments_leaves_a_loadable_store"]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let store = FileStore::open_dir(&dir).unwrap();
    let mut count = 1;
    loop {
        store.save(&client_with_peers(count), &key()).unwrap();
        count = count % 40 + 1;
    }
}

#[test]
fn crash_at_random_moments_leaves_a_loadable_store() {
    let dir = std::env::temp_dir().join(format!("offrec-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = FileStore::open_dir(&dir).unwrap();
    store.save(&client_with_peers(1), &key()).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = DeterministicRandom::from_label("crash timing");
    let trials = 200;
    let mut seen = std::collections::BTreeSet::new();
    for trial in 0..trials {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--ignored", "--test-threads=1"])
            .env(CHILD_ENV, &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut delay = [0u8; 1];
        rng.fill(&mut delay).unwrap();
        std::thread::sleep(Duration::from_micros(2_000 + u64::from(delay[0]) * 60));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let loaded = store
            .load(&key(), Settings::default(), Box::new(DeterministicRandom::from_label("load")))
            .unwrap_or_else(|e| panic!("trial {trial}: store did not load after kill -9: {e}"));
        let peers = loaded.peers();
        seen.insert(peers.len());
        assert!(!peers.is_empty() && peers.len() <= 40, "trial {trial}: {} peers", peers.len());
        for i in 0..peers.len() {
            assert!(peers.contains(&format!("peer-{i}")), "trial {trial}: torn state, peer-{i} missing");
        }
    }
    // The kills really landed while the child was saving different states.
    assert!(seen.len() >= 5, "only saw states {seen:?}");
    // Reopening cleans up the temporary files that killed writers left behind.
    FileStore::open_dir(&dir).unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("offrec.store")]);
    std::fs::remove_dir_all(&dir).unwrap();
}
