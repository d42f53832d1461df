//! The `offrec` command-line tool, run as a separate process: help and usage errors, identity
//! round trip, parsing every kind of wire message, forging, and two chats talking over TCP
//! (and IRC on a private ngircd, which must be installed unless OFFREC_SKIP_IRC is set).

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use offrec::conversation::Policy;
use offrec::crypto::aead::RevealedMaterial;
use offrec::forge::parse_captured;
use offrec::wire::{encode_query, error_message, split, whitespace, InstanceTag, Versions};
use support::{settings, Net};

const BIN: &str = env!("CARGO_BIN_EXE_offrec");

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("OFFREC_PASSPHRASE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A fresh directory under the system temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "offrec-cli-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn key_file(dir: &TempDir) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.path("key");
    std::fs::write(&path, format!("{}\n", "5a".repeat(32))).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn new_identity(dir: &TempDir, store: &str, account: &str, network: &str) -> String {
    let key = key_file(dir);
    let out = run(
        &[
            "identity",
            "new",
            "--store",
            &dir.path(store),
            "--account",
            account,
            "--network",
            network,
            "--key-file",
            &key,
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    key
}

#[test]
fn help_on_every_command() {
    for args in [
        &["--help"][..],
        &["identity", "--help"],
        &["identity", "new", "--help"],
        &["identity", "show", "--help"],
        &["parse", "--help"],
        &["forge", "--help"],
        &["chat", "--help"],
        &["chat", "--tcp-listen", "1", "-h"],
    ] {
        let out = run(args, None);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(out.stdout.contains("Usage"), "{args:?}: {}", out.stdout);
    }
    assert!(run(&["identity", "new", "--help"], None).stdout.contains("ps"), "explains why no passphrase argument");
    assert!(run(&["forge", "--help"], None).stdout.contains("deniab"), "explains deniability");
}

#[test]
fn unknown_commands_and_flags_print_usage_and_exit_2() {
    for args in [
        &[][..],
        &["frobnicate"],
        &["identity"],
        &["identity", "delete"],
        &["identity", "new", "--bogus"],
        &["parse", "--bogus"],
        &["parse", "a", "b"],
        &["forge", "--captured"],
        &["chat", "--store", "x", "--peer", "bob"],
        &["chat", "--store", "x", "--peer", "bob", "--tcp-listen", "1", "--policy", "sometimes"],
    ] {
        let out = run(args, None);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("Usage"), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn identity_new_and_show_round_trip() {
    let dir = TempDir::new();
    let store = dir.path("store");
    let key = key_file(&dir);
    let new = run(
        &["identity", "new", "--store", &store, "--account", "alice", "--network", "irc", "--key-file", &key],
        None,
    );
    assert_eq!(new.code, 0, "{}", new.stderr);
    let fingerprint_line = |text: &str| text.lines().find(|l| l.starts_with("fingerprint:")).unwrap().to_owned();
    let show = run(&["identity", "show", "--store", &store, "--key-file", &key], None);
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert_eq!(fingerprint_line(&new.stdout), fingerprint_line(&show.stdout));
    assert_eq!(fingerprint_line(&show.stdout).split_whitespace().count(), 9, "8 groups");
    assert!(show.stdout.contains("account:      alice"));
    assert!(show.stdout.contains("instance tag:"));

    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(Path::new(&store).join("offrec.store")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    // No overwrite without --force; --force makes a new identity.
    let again = run(
        &["identity", "new", "--store", &store, "--account", "alice", "--network", "irc", "--key-file", &key],
        None,
    );
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("--force"), "{}", again.stderr);
    let forced = run(
        &[
            "identity",
            "new",
            "--store",
            &store,
            "--account",
            "alice",
            "--network",
            "irc",
            "--key-file",
            &key,
            "--force",
        ],
        None,
    );
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_ne!(fingerprint_line(&forced.stdout), fingerprint_line(&new.stdout));

    // Passphrase from the environment, and the errors that say what to do.
    let pw_store = dir.path("pw");
    let out = Command::new(BIN)
        .args([
            "identity",
            "new",
            "--store",
            &pw_store,
            "--account",
            "a",
            "--network",
            "n",
            "--passphrase-env",
            "OFFREC_TEST_PW",
        ])
        .env("OFFREC_TEST_PW", "correct horse")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let wrong = Command::new(BIN)
        .args(["identity", "show", "--store", &pw_store, "--passphrase-env", "OFFREC_TEST_PW"])
        .env("OFFREC_TEST_PW", "wrong")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("wrong key or passphrase"));
    let unset = run(&["identity", "show", "--store", &pw_store, "--passphrase-env", "OFFREC_TEST_UNSET"], None);
    assert!(unset.stderr.contains("OFFREC_TEST_UNSET is not set"), "{}", unset.stderr);
    let missing = run(&["identity", "show", "--store", &dir.path("nothing"), "--key-file", &key], None);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("run `offrec identity new --store"), "{}", missing.stderr);
    let no_key = run(&["identity", "show", "--store", &store], None);
    assert!(no_key.stderr.contains("--passphrase-env"), "{}", no_key.stderr);
}

/// Two clients with an encrypted session; the wire log holds every message.
fn encrypted_pair() -> Net {
    let mut net = Net::new();
    net.add("alice", "alice", settings(Policy::MANUAL));
    net.add("bob", "bob", settings(Policy::MANUAL));
    net.start("alice", "bob");
    net.run();
    net
}

fn field<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).unwrap_or_else(|| panic!("no {name} in {stdout}"))
}

#[test]
fn parse_every_kind() {
    let out = run(&["parse", &encode_query(Versions::V1, "hello")], None);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("kind: query"));
    assert_eq!(field(&out.stdout, "versions"), "v1");

    // From stdin, with the tag's tabs and spaces intact.
    let tagged = whitespace::append_tag("hi there", Versions::V1);
    let out = run(&["parse", "-"], Some(&format!("{tagged}\n")));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("whitespace tag"), "{}", out.stdout);
    assert_eq!(field(&out.stdout, "tag versions"), "v1");
    assert_eq!(field(&out.stdout, "text"), "hi there");

    let out = run(&["parse", &error_message::encode("something broke")], None);
    assert!(out.stdout.contains("kind: error message"));
    assert!(field(&out.stdout, "error text").contains("something broke"));

    // OTR v1 is never spoken: named, not dissected (OTR v3/v2: parse_otr_messages_from_libotr).
    let out = run(&["parse", "?OTR:AAEDAA."], None);
    assert!(out.stdout.contains("foreign"), "{}", out.stdout);

    let out = run(&["parse", "just words"], None);
    assert!(out.stdout.contains("plaintext"));

    // Real handshake and data messages from the library.
    let mut net = encrypted_pair();
    let alice_tag = net.party("alice").client.instance_tag();
    let bob_tag = net.party("bob").client.instance_tag();
    let start = net.wire_log.iter().find(|(from, _, t)| from == "bob" && t.starts_with("?OFR:")).unwrap().2.clone();
    let out = run(&["parse", &start], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("kind: handshake message Start"), "{}", out.stdout);
    assert_eq!(field(&out.stdout, "sender instance"), format!("{bob_tag:08x}"));
    assert_eq!(field(&out.stdout, "ephemeral key").len(), 64);
    let reply = net.wire_log.iter().find(|(from, _, t)| from == "alice" && t.starts_with("?OFR:")).unwrap().2.clone();
    let out = run(&["parse", &reply], None);
    assert!(out.stdout.contains("kind: handshake message Reply"), "{}", out.stdout);
    assert!(out.stdout.contains("encrypted payload length"));

    net.send("alice", "bob", "hello bob");
    net.run();
    let data = net.party("alice").sent.last().unwrap().1.clone();
    let out = run(&["parse", &data], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("kind: data message"), "{}", out.stdout);
    assert_eq!(field(&out.stdout, "sender instance"), format!("{alice_tag:08x}"));
    assert_eq!(field(&out.stdout, "receiver instance"), format!("{bob_tag:08x}"));
    assert_eq!(field(&out.stdout, "ratchet key").len(), 64);
    assert_eq!(field(&out.stdout, "tag").len(), 32);
    for name in ["PN", "N", "revealed", "ciphertext length", "flags", "version"] {
        field(&out.stdout, name);
    }
    // Bob's reply carries the revealed material of Alice's message key.
    net.send("bob", "alice", "hello alice");
    net.run();
    let reply = net.party("bob").sent.last().unwrap().1.clone();
    let out = run(&["parse", &reply], None);
    assert_ne!(field(&out.stdout, "revealed"), "0", "{}", out.stdout);
    let reveal = field(&out.stdout, "revealed[0]");
    assert!(reveal.starts_with("H ") && reveal.contains(" E_K(J0) "), "{reveal}");

    // A fragment of a real message.
    let pieces = split(&data, 80, 7, InstanceTag(alice_tag), InstanceTag(bob_tag)).unwrap();
    let out = run(&["parse", &pieces[1]], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("kind: fragment"));
    assert_eq!(field(&out.stdout, "id"), "00000007");
    assert_eq!(field(&out.stdout, "piece"), format!("2 of {}", pieces.len()));
    assert_eq!(field(&out.stdout, "sender instance"), format!("{alice_tag:08x}"));
    assert!(field(&out.stdout, "piece length").parse::<usize>().unwrap() > 0);
}

/// libotr's wire messages of an OTR v3 (or v2) session (tests/vectors, generated by
/// tests/otr_vectors/gen.c against libotr 4.1.1): (kind, text, binary).
fn libotr_messages(file: &str) -> Vec<(String, String, Vec<u8>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(file);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let binary = m["binary"].as_str().map(|b| hex::decode(b).unwrap()).unwrap_or_default();
            (m["kind"].as_str().unwrap().to_owned(), m["text"].as_str().unwrap().to_owned(), binary)
        })
        .collect()
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap())
}

#[test]
fn parse_otr_messages_from_libotr() {
    let messages = libotr_messages("otr3_session.json");
    let mut seen = std::collections::BTreeSet::new();
    let mut revealed = 0;
    for (kind, text, bin) in &messages {
        let out = run(&["parse", text], None);
        assert_eq!(out.code, 0, "{kind}: {}", out.stderr);
        let o = &out.stdout;
        if kind == "query" {
            assert!(o.contains("kind: OTR query"), "{o}");
            assert_eq!(field(o, "OTR versions"), "v3");
            continue;
        }
        seen.insert(kind.clone());
        assert_eq!(field(o, "version"), "3");
        assert_eq!(field(o, "type"), format!("0x{:02x}", bin[2]));
        assert_eq!(field(o, "sender instance"), hex::encode(&bin[3..7]));
        assert!(field(o, "receiver instance").starts_with(&hex::encode(&bin[7..11])));
        match kind.as_str() {
            "dh_commit" => {
                assert!(o.contains("kind: OTR D-H Commit"), "{o}");
                assert_eq!(field(o, "receiver instance"), "00000000 (any)");
                assert_eq!(field(o, "encrypted g^x length"), be32(bin, 11).to_string());
                assert_eq!(field(o, "hash of g^x"), hex::encode(&bin[bin.len() - 32..]));
            }
            "dh_key" => {
                assert!(o.contains("kind: OTR D-H Key"), "{o}");
                assert_eq!(field(o, "g^y length"), be32(bin, 11).to_string());
                assert_eq!(field(o, "g^y"), hex::encode(&bin[15..]));
            }
            "reveal_signature" => {
                assert!(o.contains("kind: OTR Reveal Signature"), "{o}");
                assert_eq!(field(o, "r length"), "16");
                assert_eq!(field(o, "r"), format!("{} (opens the D-H Commit)", hex::encode(&bin[15..31])));
                assert_eq!(field(o, "encrypted signature length"), be32(bin, 31).to_string());
                assert_eq!(field(o, "MAC"), hex::encode(&bin[bin.len() - 20..]));
            }
            "signature" => {
                assert!(o.contains("kind: OTR Signature"), "{o}");
                assert_eq!(field(o, "encrypted signature length"), be32(bin, 11).to_string());
                assert_eq!(field(o, "MAC"), hex::encode(&bin[bin.len() - 20..]));
            }
            "data" => {
                assert!(o.contains("kind: OTR data message"), "{o}");
                assert!(field(o, "flags").starts_with(&format!("0x{:02x}", bin[11])));
                assert_eq!(field(o, "flags").contains("ignore-unreadable"), bin[11] & 1 == 1);
                assert_eq!(field(o, "sender keyid"), be32(bin, 12).to_string());
                assert_eq!(field(o, "recipient keyid"), be32(bin, 16).to_string());
                let dh_len = be32(bin, 20) as usize;
                assert_eq!(field(o, "next DH key length"), dh_len.to_string());
                assert_eq!(field(o, "next DH key"), hex::encode(&bin[24..24 + dh_len]));
                let counter = 24 + dh_len;
                assert_eq!(field(o, "counter"), hex::encode(&bin[counter..counter + 8]));
                let ct_len = be32(bin, counter + 8) as usize;
                assert_eq!(field(o, "ciphertext length"), ct_len.to_string());
                let mac = counter + 12 + ct_len;
                assert_eq!(field(o, "authenticated length"), mac.to_string());
                assert_eq!(field(o, "MAC"), hex::encode(&bin[mac..mac + 20]));
                let keys = be32(bin, mac + 20) as usize / 20;
                assert_eq!(field(o, "revealed MAC keys"), keys.to_string());
                if keys > 0 {
                    revealed += 1;
                    assert_eq!(
                        field(o, &format!("revealed MAC key[{}]", keys - 1)),
                        hex::encode(&bin[bin.len() - 20..])
                    );
                }
            }
            other => panic!("unexpected kind {other}"),
        }
    }
    assert_eq!(seen.len(), 5, "every message type: {seen:?}");
    assert!(revealed > 0, "some message revealed old MAC keys");

    // v2: no instance tags.
    let v2 = libotr_messages("otr3_v2_session.json");
    let (_, text, _) = v2.iter().find(|(kind, _, _)| kind == "data").unwrap();
    let out = run(&["parse", text], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(field(&out.stdout, "version"), "2");
    assert_eq!(field(&out.stdout, "instance tags"), "none (v2)");
    assert!(!out.stdout.contains("sender instance"));

    // Fragments of a libotr data message, both forms.
    let (_, data, _) = messages.iter().find(|(kind, _, _)| kind == "data").unwrap();
    let (sender, receiver) = (offrec::wire::InstanceTag(0x7ead_cae6), offrec::wire::InstanceTag(0x730f_a0c9));
    let pieces = offrec::otr::text::split(data, 120, offrec::otr::message::OtrVersion::V3, sender, receiver).unwrap();
    let out = run(&["parse", &pieces[1]], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(field(&out.stdout, "kind"), "OTR fragment (v3 form)");
    assert_eq!(field(&out.stdout, "sender instance"), "7eadcae6");
    assert_eq!(field(&out.stdout, "receiver instance"), "730fa0c9");
    assert_eq!(field(&out.stdout, "piece"), format!("2 of {}", pieces.len()));
    let pieces = offrec::otr::text::split(data, 120, offrec::otr::message::OtrVersion::V2, sender, receiver).unwrap();
    let out = run(&["parse", &pieces[0]], None);
    assert_eq!(field(&out.stdout, "kind"), "OTR fragment (v2 form)");
    assert!(!out.stdout.contains("instance"), "{}", out.stdout);

    // Queries, tags, errors, foreign versions.
    for (text, name, value) in [
        ("?OTRv23? ?OFRv1? hi", "OTR versions", "v2, v3"),
        ("?OTRv23? ?OFRv1? hi", "offrec versions", "v1"),
        ("?OTRv4?", "OTR versions", "v4 (OTRv4, another protocol)"),
        ("?OTR?v2?", "OTR versions", "v1 (retired, never spoken), v2"),
        (
            "?OTR Error: You transmitted an unreadable encrypted message.",
            "error text",
            "You transmitted an unreadable encrypted message.",
        ),
        ("?OTR:AAQDAAAA.", "kind", "foreign (an OTRv4 encoded message: another protocol, never answered)"),
        (
            "?OTR|00000001|00000100|00000200,1,2,?OTR:AAQD,",
            "kind",
            "foreign (an OTRv4 fragment: another protocol, never answered)",
        ),
    ] {
        let out = run(&["parse", text], None);
        assert_eq!(out.code, 0, "{text}: {}", out.stderr);
        assert_eq!(field(&out.stdout, name), value, "{text}");
    }
    let otr = offrec::otr::text::OtrVersions::V2.union(offrec::otr::text::OtrVersions::V3);
    let tagged = offrec::otr::text::append_combined_tag("tagged <b>hi</b>", otr, Versions::V1);
    let out = run(&["parse", "-"], Some(&format!("{tagged}\n")));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(field(&out.stdout, "kind"), "plaintext with combined whitespace tag (advertises OTR and offrec)");
    assert_eq!(field(&out.stdout, "OTR tag versions"), "v2, v3");
    assert_eq!(field(&out.stdout, "offrec tag versions"), "v1");
    assert_eq!(field(&out.stdout, "text"), "tagged <b>hi</b>");

    // Broken OTR messages exit 2 naming the problem.
    let (_, _, bin) = messages.iter().find(|(kind, _, _)| kind == "data").unwrap();
    let truncated = offrec::otr::text::armour::encode(&bin[..bin.len() - 1]);
    let mut bad_key = messages.iter().find(|(kind, _, _)| kind == "dh_key").unwrap().2.clone();
    bad_key.truncate(15);
    bad_key.extend_from_slice(&[1]);
    bad_key[11..15].copy_from_slice(&1u32.to_be_bytes());
    for (text, problem) in [
        (truncated, "malformed OTR message"),
        (offrec::otr::text::armour::encode(&bad_key), "malformed OTR message"),
        ("?OTR:AAM1.".to_owned(), "malformed OTR message"),
        ("?OTR|00000001|00000100,0,2,?OTR:AA,".to_owned(), "malformed OTR fragment"),
    ] {
        let out = run(&["parse", &text], None);
        assert_eq!(out.code, 2, "{text}: {}", out.stdout);
        assert!(out.stderr.contains(problem), "{text}: {}", out.stderr);
    }
}

#[test]
fn malformed_input_exits_2_naming_the_problem() {
    for (text, problem) in [
        ("?OFR:.", "empty payload"),
        ("?OFR:aGk*.", "bad base64"),
        ("?OFR:aGk=", "missing terminator"),
        ("?OFR:aGk=.", "unknown protocol version"),
        ("?OFR|zz|00000100|00000000,1,1,AAAA,", "bad fragment"),
        ("?OFR:TwEDAAABAA==.", "data message truncated"),
    ] {
        let out = run(&["parse", text], None);
        assert_eq!(out.code, 2, "{text}: {}", out.stdout);
        assert!(out.stderr.contains(problem), "{text}: {}", out.stderr);
    }
}

#[test]
fn forge_round_trip_and_read() {
    let mut net = encrypted_pair();
    let known = "I will pay alice 10 euros";
    net.send("bob", "alice", known);
    net.run();
    let captured = net.party("bob").sent.last().unwrap().1.clone();
    net.send("alice", "bob", "thanks");
    net.run();
    let later = net.party("alice").sent.last().unwrap().1.clone();

    let new = "I will pay alice 99 euros";
    let out = run(&["forge", "--captured", &captured, "--reveal-from", &later, "--known", known, "--new", new], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let forged = out.stdout.trim();
    assert_ne!(forged, captured);
    let forged = parse_captured(forged).unwrap();
    let original = parse_captured(&captured).unwrap();
    assert_eq!(forged.header_bytes, original.header_bytes);
    let reveals = parse_captured(&later).unwrap().header.revealed;
    assert!(
        reveals.iter().map(RevealedMaterial::from_bytes).any(|m| m.verifies(
            &forged.header_bytes,
            &forged.ciphertext,
            &forged.tag
        )),
        "the forged tag verifies under revealed material"
    );

    let read = run(&["forge", "--read", "--captured", &captured, "--reveal-from", &later], None);
    assert_eq!(read.code, 0, "{}", read.stderr);
    assert!(read.stdout.contains("MATCHES"), "{}", read.stdout);
    assert!(read.stdout.contains("public data only"));

    // Without the reveal, nothing matches; a bad capture is malformed input.
    let none =
        run(&["forge", "--captured", &captured, "--reveal-from", &captured, "--known", known, "--new", new], None);
    assert_eq!(none.code, 1);
    assert!(none.stderr.contains("no revealed material"), "{}", none.stderr);
    let bad = run(&["forge", "--captured", "?OFR:.", "--reveal-from", &later, "--known", known, "--new", new], None);
    assert_eq!(bad.code, 2);
    let long = "x".repeat(200);
    let too_long =
        run(&["forge", "--captured", &captured, "--reveal-from", &later, "--known", known, "--new", &long], None);
    assert_eq!(too_long.code, 2, "{}", too_long.stderr);
    assert!(too_long.stderr.contains("shorten --new"), "{}", too_long.stderr);
}

/// A running `offrec chat` with its output collected by a thread.
struct ChatProcess {
    name: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    output: Arc<Mutex<String>>,
}

impl ChatProcess {
    fn spawn(name: &'static str, args: &[String]) -> Self {
        let mut child = Command::new(BIN)
            .arg("chat")
            .args(args)
            .env_remove("OFFREC_PASSPHRASE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = Arc::clone(&output);
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                // Raw reads, not lines: the prompt has no newline after it.
                while let Ok(n @ 1..) = stream.read(&mut buf) {
                    output.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        let stdin = child.stdin.take();
        ChatProcess { name, child, stdin, output }
    }

    fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        if let Err(e) = stdin.write_all(format!("{line}\n").as_bytes()).and_then(|()| stdin.flush()) {
            panic!("{} stopped reading ({e}) before {line:?}; output:\n{}", self.name, self.output());
        }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    fn wait_for(&self, wanted: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.output().contains(wanted) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{} never printed {wanted:?}; output:\n{}", self.name, self.output());
    }

    fn quit(mut self) -> i32 {
        self.type_line("/quit");
        self.exit_code()
    }

    fn exit_code(mut self) -> i32 {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "{} did not exit", self.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ChatProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// Starts a session from Alice, sends a message, runs SMP, and checks what both sides print.
fn converse(alice: &mut ChatProcess, bob: &mut ChatProcess) {
    alice.type_line("/start");
    alice.wait_for("now encrypted-unverified");
    bob.wait_for("now encrypted-unverified");
    alice.wait_for("[encrypted-unverified] bob> ");
    alice.type_line("hello bob, this is private");
    bob.wait_for("[encrypted-unverified] <alice> hello bob, this is private");

    alice.type_line("/smp tr0ub4dor what is our word");
    bob.wait_for("Question: what is our word");
    bob.type_line("/answer tr0ub4dor");
    alice.wait_for("SMP succeeded");
    // With a question only the asker learns the result: Bob is told he was verified, and
    // verifies Alice with his own question.
    bob.wait_for("alice has verified YOU");
    bob.wait_for("to verify them, ask your own");
    assert!(!bob.output().contains("SMP succeeded"), "{}", bob.output());
    alice.wait_for("[encrypted-verified] bob> ");
    bob.type_line("verified now");
    alice.wait_for("[encrypted-verified] <bob> verified now");
    bob.type_line("/smp c0rrect-h0rse and yours?");
    alice.wait_for("Question: and yours?");
    alice.type_line("/answer c0rrect-h0rse");
    bob.wait_for("SMP succeeded");
    alice.wait_for("bob has verified YOU");
    bob.wait_for("[encrypted-verified] alice> ");

    alice.type_line("/fp");
    alice.wait_for("session id: [");
    alice.type_line("/bogus");
    alice.wait_for("unknown command");
}

#[test]
fn chat_over_tcp_with_smp() {
    let dir = TempDir::new();
    let key = new_identity(&dir, "alice", "alice", "tcp");
    new_identity(&dir, "bob", "bob", "tcp");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut bob = ChatProcess::spawn(
        "bob",
        &strings(&[
            "--store",
            &dir.path("bob"),
            "--key-file",
            &key,
            "--tcp-listen",
            &listen,
            "--peer",
            "alice",
            "--policy",
            "manual",
        ]),
    );
    bob.wait_for("listening on");
    let mut alice = ChatProcess::spawn(
        "alice",
        &strings(&[
            "--store",
            &dir.path("alice"),
            "--key-file",
            &key,
            "--tcp-connect",
            &listen,
            "--peer",
            "bob",
            "--policy",
            "manual",
        ]),
    );
    alice.wait_for("connected");
    bob.wait_for("connected");
    converse(&mut alice, &mut bob);
    assert_eq!(alice.quit(), 0);
    // Bob sees Alice leave, saves and exits.
    bob.wait_for("the peer closed the connection");
    assert_eq!(bob.exit_code(), 0);

    // Saved on exit: Bob's store knows Alice's key as verified by SMP.
    let show = run(&["identity", "show", "--store", &dir.path("bob"), "--key-file", &key], None);
    assert!(show.stdout.contains("alice") && show.stdout.contains("verified (SMP)"), "{}", show.stdout);
}

#[test]
fn chat_reports_a_missing_store_and_a_refused_connection() {
    let dir = TempDir::new();
    let key = key_file(&dir);
    let out = run(
        &["chat", "--store", &dir.path("none"), "--key-file", &key, "--tcp-connect", "127.0.0.1:1", "--peer", "bob"],
        None,
    );
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("run `offrec identity new"), "{}", out.stderr);
}

/// A private ngircd on a free port, stopped on drop.
struct IrcServer {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl IrcServer {
    fn start() -> Option<Self> {
        let binary = ["/usr/sbin/ngircd", "/usr/bin/ngircd", "/usr/local/sbin/ngircd", "/usr/local/bin/ngircd"]
            .into_iter()
            .find(|p| Path::new(p).exists())?;
        let dir = TempDir::new();
        let port = free_port();
        let config = dir.path("ngircd.conf");
        std::fs::write(
            &config,
            format!(
                "[Global]\nName = irc.offrec.test\nInfo = offrec test server\nListen = 127.0.0.1\nPorts = {port}\n\
                 MotdPhrase = offrec test\n[Limits]\nMaxNickLength = 30\n[Options]\nPAM = no\nIdent = no\nDNS = no\n"
            ),
        )
        .unwrap();
        let child = Command::new(binary)
            .args(["-n", "-f", &config])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = IrcServer { child, port, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "ngircd did not start listening on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(server)
    }
}

impl Drop for IrcServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn chat_over_irc_with_smp() {
    let Some(server) = IrcServer::start() else {
        // A missing tool fails the suite instead of passing it quietly; skipping is a decision
        // someone has to write down.
        if std::env::var_os("OFFREC_SKIP_IRC").is_some() {
            eprintln!("SKIPPED chat_over_irc_with_smp: OFFREC_SKIP_IRC is set");
            return;
        }
        panic!("ngircd is not installed (apt-get install -y ngircd), or set OFFREC_SKIP_IRC=1 to skip this test");
    };
    let dir = TempDir::new();
    let key = new_identity(&dir, "alice", "alice", "irc");
    new_identity(&dir, "bob", "bob", "irc");
    let addr = format!("127.0.0.1:{}", server.port);
    let mut bob = ChatProcess::spawn(
        "bob",
        &strings(&[
            "--store",
            &dir.path("bob"),
            "--key-file",
            &key,
            "--irc",
            &addr,
            "--channel-less",
            "--peer",
            "alice",
            "--policy",
            "manual",
        ]),
    );
    bob.wait_for("registered on");
    let mut alice = ChatProcess::spawn(
        "alice",
        &strings(&[
            "--store",
            &dir.path("alice"),
            "--key-file",
            &key,
            "--irc",
            &addr,
            "--nick",
            "alice",
            "--peer",
            "bob",
            "--policy",
            "manual",
        ]),
    );
    alice.wait_for("registered on");
    converse(&mut alice, &mut bob);
    // A message longer than one IRC line travels in fragments.
    let long = "long ".repeat(200);
    alice.type_line(long.trim_end());
    bob.wait_for(&format!("[encrypted-verified] <alice> {}", long.trim_end()));
    assert_eq!(alice.quit(), 0);
    assert_eq!(bob.quit(), 0);
}

// ---- the CLI as people use it (issue 18): secrets, loopback, texts, the wire log -----------

#[test]
fn without_a_secret_or_a_terminal_the_error_names_every_option() {
    let dir = TempDir::new();
    new_identity(&dir, "alice", "alice", "tcp");
    // Standard input is a pipe: no prompt that nobody can answer, an error saying what to give.
    let out = run(&["identity", "show", "--store", &dir.path("alice")], None);
    assert_eq!(out.code, 2, "{}", out.stderr);
    for option in ["--passphrase-env", "--key-file", "OFFREC_PASSPHRASE", "terminal"] {
        assert!(out.stderr.contains(option), "{option}: {}", out.stderr);
    }
    let out = run(&["chat", "--store", &dir.path("alice"), "--peer", "bob", "--tcp-listen", "1"], Some("/quit\n"));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--passphrase-env"), "{}", out.stderr);
}

/// An address of this machine other than loopback, if it has one (no packet is sent).
fn outward_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    Some(socket.local_addr().ok()?.ip()).filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
}

#[test]
fn tcp_listen_with_a_port_alone_listens_on_loopback_only() {
    let dir = TempDir::new();
    let key = new_identity(&dir, "alice", "alice", "tcp");
    new_identity(&dir, "bob", "bob", "tcp");
    let port = free_port();
    let bob = ChatProcess::spawn(
        "bob",
        &strings(&[
            "--store",
            &dir.path("bob"),
            "--key-file",
            &key,
            "--tcp-listen",
            &port.to_string(),
            "--peer",
            "alice",
        ]),
    );
    bob.wait_for(&format!("listening on 127.0.0.1:{port} (this machine only"));
    if let Some(ip) = outward_address() {
        let refused = std::net::TcpStream::connect_timeout(&(ip, port).into(), Duration::from_secs(2));
        assert!(refused.is_err(), "{ip}:{port} accepted a connection");
    }
    let alice = ChatProcess::spawn(
        "alice",
        &strings(&[
            "--store",
            &dir.path("alice"),
            "--key-file",
            &key,
            "--tcp-connect",
            &format!("127.0.0.1:{port}"),
            "--peer",
            "bob",
        ]),
    );
    bob.wait_for("connected");
    assert_eq!(alice.quit(), 0);
    assert_eq!(bob.exit_code(), 0);
}

#[test]
fn a_failed_handshake_and_a_held_message_are_told_in_words() {
    let dir = TempDir::new();
    let key = new_identity(&dir, "alice", "alice", "tcp");
    new_identity(&dir, "bob", "bob", "tcp");
    let listen = format!("127.0.0.1:{}", free_port());
    // Bob knows Alice by another name: the two sides bind different names into the handshake.
    let bob = ChatProcess::spawn(
        "bob",
        &strings(&["--store", &dir.path("bob"), "--key-file", &key, "--tcp-listen", &listen, "--peer", "alicia"]),
    );
    bob.wait_for("listening on");
    let mut alice = ChatProcess::spawn(
        "alice",
        &strings(&[
            "--store",
            &dir.path("alice"),
            "--key-file",
            &key,
            "--tcp-connect",
            &listen,
            "--peer",
            "bob",
            "--policy",
            "always",
        ]),
    );
    alice.wait_for("chatting with bob");
    alice.type_line("a held hello");
    alice.wait_for("* your message \"a held hello\" is held until the session is encrypted");
    let words = "failed: the two sides bind different names (account names, network or name-binding setting): \
                 each side must name the other by the account the other's store has";
    alice.wait_for(&format!("the handshake with bob {words}"));
    bob.wait_for(&format!("the handshake with alicia {words}"));
    for output in [alice.output(), bob.output()] {
        assert!(!output.contains("code") && !output.contains("reason"), "{output}");
    }
    assert_eq!(alice.quit(), 0);
    assert_eq!(bob.exit_code(), 0);
}

#[test]
fn chat_logs_the_wire_and_parse_takes_the_log_apart() {
    let dir = TempDir::new();
    let key = new_identity(&dir, "alice", "alice", "tcp");
    new_identity(&dir, "bob", "bob", "tcp");
    let listen = format!("127.0.0.1:{}", free_port());
    let (alice_log, bob_log) = (dir.path("alice.wire"), dir.path("bob.wire"));
    let chat_args = |store: &str, transport: &str, peer: &str, log: &str| {
        strings(&[
            "--store",
            &dir.path(store),
            "--key-file",
            &key,
            transport,
            &listen,
            "--peer",
            peer,
            "--policy",
            "manual",
            "--log-wire",
            log,
        ])
    };
    let mut bob = ChatProcess::spawn("bob", &chat_args("bob", "--tcp-listen", "alice", &bob_log));
    bob.wait_for("listening on");
    let mut alice = ChatProcess::spawn("alice", &chat_args("alice", "--tcp-connect", "bob", &alice_log));
    alice.wait_for(&format!("every wire message in and out is logged to {alice_log}"));
    alice.wait_for("chatting with bob");

    // /help: one line per command.
    alice.type_line("/help");
    alice.wait_for("  //text");
    let output = alice.output();
    let help: Vec<&str> = output.lines().skip_while(|l| !l.contains("* commands:")).skip(1).take(14).collect();
    for command in
        ["/start", "/end", "/fp", "/trust", "/distrust", "/accept", "/smp SECRET [QUESTION]", "/answer SECRET"]
            .iter()
            .chain(&["/abort", "/state", "/wire [on [FILE]|off]", "/help", "/quit", "//text"])
    {
        let line =
            help.iter().find(|l| l.trim_start().starts_with(command)).unwrap_or_else(|| panic!("{command}: {help:?}"));
        assert!(line.len() > command.len() + 10, "{command} is explained on its line: {line}");
    }

    // /wire off pauses Alice's log; Bob's keeps logging.
    alice.type_line("plain before");
    bob.wait_for("[plaintext] <alice> plain before");
    alice.type_line("/wire off");
    alice.wait_for(&format!("the wire log {alice_log} is paused"));
    alice.type_line("plain hidden");
    bob.wait_for("[plaintext] <alice> plain hidden");
    alice.type_line("/wire on");
    alice.wait_for(&format!("logging every wire message to {alice_log}"));
    alice.type_line("plain after");
    bob.wait_for("[plaintext] <alice> plain after");

    // An encrypted session, and SMP with a quoted secret and question.
    alice.type_line("/start");
    alice.wait_for("now encrypted-unverified");
    bob.wait_for("now encrypted-unverified");
    alice.type_line("an encrypted hello");
    bob.wait_for("[encrypted-unverified] <alice> an encrypted hello");
    alice.type_line(r#"/smp "two words" "is it 'quoted'?""#);
    bob.wait_for("Question: is it 'quoted'?");
    bob.type_line(r#"/answer "two words""#);
    alice.wait_for("SMP succeeded");
    bob.wait_for("alice has verified YOU");
    alice.type_line("/smp \"unclosed");
    alice.wait_for("the quote \" is not closed");
    assert_eq!(alice.quit(), 0);
    assert_eq!(bob.exit_code(), 0);

    // Every line is TIME, in|out, PEER, MESSAGE.
    let read = |path: &str| std::fs::read_to_string(path).unwrap();
    let (alice_wire, bob_wire) = (read(&alice_log), read(&bob_log));
    for (text, peer) in [(&alice_wire, "bob"), (&bob_wire, "alice")] {
        for line in text.lines() {
            let fields: Vec<&str> = line.splitn(4, '\t').collect();
            assert_eq!(fields.len(), 4, "{line}");
            let time = fields[0];
            assert!(time.len() == 24 && time.ends_with('Z') && time.as_bytes()[10] == b'T', "{line}");
            assert!(fields[1] == "in" || fields[1] == "out", "{line}");
            assert_eq!(fields[2], peer, "{line}");
        }
    }
    let sent = |text: &str, what: &str| text.lines().any(|l| l.contains("\tout\t") && l.contains(what));
    let received = |text: &str, what: &str| text.lines().any(|l| l.contains("\tin\t") && l.contains(what));
    assert!(sent(&alice_wire, "plain before") && sent(&alice_wire, "plain after"), "{alice_wire}");
    assert!(!alice_wire.contains("plain hidden"), "logged while paused: {alice_wire}");
    assert!(received(&bob_wire, "plain hidden"), "{bob_wire}");
    assert!(!alice_wire.contains("an encrypted hello") && !bob_wire.contains("two words"), "plaintext of the session");
    assert!(sent(&alice_wire, "?OFR") && received(&alice_wire, "?OFR"), "{alice_wire}");

    // offrec parse over the log's lines, one by one and as a whole log.
    for line in alice_wire.lines() {
        let message = line.splitn(4, '\t').nth(3).unwrap();
        let out = run(&["parse", message], None);
        assert_eq!(out.code, 0, "{message}: {}", out.stderr);
        assert!(out.stdout.starts_with("kind: "), "{}", out.stdout);
    }
    let out = run(&["parse", "--log", &alice_log], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let entries = alice_wire.lines().count();
    assert!(out.stdout.ends_with(&format!("{entries} messages, 0 malformed\n")), "{}", out.stdout);
    // Alice's /start sends a query; Bob starts the handshake; Alice replies.
    assert!(out.stdout.contains(" out bob\n  kind: combined query"), "{}", out.stdout);
    assert!(out.stdout.contains(" in bob\n  kind: handshake message Start"), "{}", out.stdout);
    assert!(out.stdout.contains(" out bob\n  kind: handshake message Reply"), "{}", out.stdout);
    assert!(out.stdout.contains("  kind: data message"), "{}", out.stdout);
    assert!(out.stdout.contains("  text: plain after"), "{}", out.stdout);
    // The same from standard input; a damaged entry is reported in place, with exit status 2.
    let out = run(&["parse", "--log", "-"], Some(&bob_wire));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let damaged = format!("{bob_wire}2024-01-01T00:00:00.000Z\tin\talice\t?OFR:AAAA.\n");
    let out = run(&["parse", "--log", "-"], Some(&damaged));
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stdout.contains("malformed"), "{}", out.stdout);
    assert!(out.stderr.contains("1 of the"), "{}", out.stderr);
}

// ---- offrec import / export (issue 16, MIGRATING.md) ----------------------------------------

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/migrate/fixtures").join(name)
}

/// A copy of the libotr fixtures as a Pidgin user's ~/.purple.
fn purple_dir(dir: &TempDir) -> String {
    let purple = dir.path("purple");
    std::fs::create_dir_all(&purple).unwrap();
    for name in ["otr.private_key", "otr.fingerprints", "otr.instance_tags"] {
        std::fs::copy(fixture(name), Path::new(&purple).join(name)).unwrap();
    }
    purple
}

const ALICE_OTR_FP: &str = "982DEAE9 CE05DE82 BD900150 E6031B4C 2FE568C4";

#[test]
fn import_and_export_help_and_usage_errors() {
    for args in [&["import", "--help"][..], &["export", "-h"]] {
        let out = run(args, None);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(out.stdout.contains("Usage") && out.stdout.contains("potr"), "{}", out.stdout);
    }
    for args in [
        &["import"][..],
        &["import", "--store", "x"],
        &["import", "--store", "x", "--format", "gpg", "y"],
        &["export", "--store", "x"],
        &["export", "--store", "x", "a", "b"],
        &["export", "--store", "x", "--format", "potr", "--instance-tag", "out"],
    ] {
        let out = run(args, None);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("Usage"), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn import_a_pidgin_directory_then_export_it_back() {
    let dir = TempDir::new();
    let store = dir.path("store");
    let key = new_identity(&dir, "store", "alice@example.org", "xmpp");
    let purple = purple_dir(&dir);
    let import = |extra: &[&str]| {
        let mut args = vec!["import", "--store", &store, "--key-file", &key];
        args.extend_from_slice(extra);
        run(&args, None)
    };
    let out = import(&[&purple]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains(ALICE_OTR_FP), "{}", out.stdout);
    assert!(out.stdout.contains("5 keys (5 new, 0 newly verified), 1 lines of other accounts"), "{}", out.stdout);
    assert!(!out.stdout.contains("instance tag"), "only with --instance-tag");
    let show = run(&["identity", "show", "--store", &store, "--key-file", &key], None);
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert!(show.stdout.contains(&format!("OTR fingerprint: {ALICE_OTR_FP}")), "{}", show.stdout);
    assert!(show.stdout.contains("dave@example.org  A0222222"), "{}", show.stdout);
    assert!(show.stdout.lines().any(|l| l.contains("dave@example.org") && l.contains("verified (SMP)")));
    assert!(show.stdout.lines().any(|l| l.contains("erin@example.org") && l.contains("verified (by hand)")));

    // Bob's key is another key: refused without --replace-key, and the store is unchanged.
    let out = import(&["--account-in-file", "bob", "--protocol-in-file", "IRC", &format!("{purple}/otr.private_key")]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("--replace-key"), "{}", out.stderr);
    // A damaged file: exit 2, nothing saved.
    let broken = dir.path("otr.fingerprints");
    std::fs::write(&broken, "carol\talice@example.org\tprpl-jabber\tnot hex\n").unwrap();
    let out = import(&[&broken]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stderr.contains("line 1"), "{}", out.stderr);
    let again = run(&["identity", "show", "--store", &store, "--key-file", &key], None);
    assert_eq!(again.stdout, show.stdout, "a refused import changed the store");
    // No account of that name: the error lists what the file has.
    let out = import(&["--account-in-file", "mallory", &purple]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("bob on IRC") && out.stderr.contains("--account-in-file"), "{}", out.stderr);

    // Export into the Pidgin directory: libotr's own bytes for the key file (bob's key kept).
    let out = run(&["export", "--store", &store, "--key-file", &key, &purple], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let written = std::fs::read(format!("{purple}/otr.private_key")).unwrap();
    assert_eq!(written, std::fs::read(fixture("otr.private_key")).unwrap());
    let fps = std::fs::read_to_string(format!("{purple}/otr.fingerprints")).unwrap();
    assert!(fps.contains("zed\tbob\tIRC\ta06666666666666666666666666666666666663c\tsmp\n"), "{fps}");
    assert!(fps.contains(
        "frank@example.org\talice@example.org\tprpl-jabber\ta04444444444444444444444444444444444441e\tverified\n"
    ));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(format!("{purple}/otr.private_key")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn instance_tag_and_potr_files() {
    let dir = TempDir::new();
    let store = dir.path("store");
    let key = new_identity(&dir, "store", "alice@example.org", "xmpp");
    let purple = purple_dir(&dir);
    let out = run(&["import", "--store", &store, "--key-file", &key, "--instance-tag", &purple], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("instance tag cfc1f450"), "{}", out.stdout);
    let show = run(&["identity", "show", "--store", &store, "--key-file", &key], None);
    assert!(show.stdout.contains("instance tag: cfc1f450"), "{}", show.stdout);

    // weechat-otr's layout: NAME.key3 and NAME.fpr, NAME = nick@server.
    let weechat = dir.path("weechat-otr");
    let out = run(
        &[
            "export",
            "--store",
            &store,
            "--key-file",
            &key,
            "--format",
            "potr",
            "--account-in-file",
            "alice@libera",
            &weechat,
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let fpr = std::fs::read_to_string(format!("{weechat}/alice@libera.fpr")).unwrap();
    assert!(
        fpr.contains("dave@example.org\talice@libera\txmpp\ta022222222222222222222222222222222222278\tsmp\n"),
        "{fpr}"
    );
    assert!(Path::new(&format!("{weechat}/alice@libera.key3")).is_file());

    let other = dir.path("other");
    let key2 = new_identity(&dir, "other", "alice", "irc");
    let out = run(&["import", "--store", &other, "--key-file", &key2, "--format", "potr", &weechat], None);
    // The .fpr names the network xmpp, the store irc: the protocol must be named.
    assert_eq!(out.code, 2, "{}", out.stdout);
    let out = run(
        &["import", "--store", &other, "--key-file", &key2, "--format", "potr", "--protocol-in-file", "xmpp", &weechat],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains(ALICE_OTR_FP) && out.stdout.contains("5 keys (5 new"), "{}", out.stdout);
    let out = run(&["import", "--store", &other, "--key-file", &key2, &format!("{weechat}/nothing.txt")], None);
    assert_eq!(out.code, 1);
}

#[test]
fn export_into_an_irssi_directory_uses_irssis_names() {
    let dir = TempDir::new();
    let store = dir.path("store");
    let key = new_identity(&dir, "store", "nick", "irc");
    let purple = purple_dir(&dir);
    let out = run(
        &[
            "import",
            "--store",
            &store,
            "--key-file",
            &key,
            "--account-in-file",
            "bob",
            "--protocol-in-file",
            "IRC",
            &purple,
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("1 keys (1 new"), "{}", out.stdout);
    let irssi = dir.path("irssi-otr");
    std::fs::create_dir_all(&irssi).unwrap();
    std::fs::write(format!("{irssi}/otr.key"), "(privkeys)\n").unwrap();
    std::fs::write(format!("{irssi}/otr.fp"), "").unwrap();
    let out = run(
        &[
            "export",
            "--store",
            &store,
            "--key-file",
            &key,
            "--account-in-file",
            "nick@irc.libera.chat",
            "--protocol-in-file",
            "IRC",
            &irssi,
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let key_text = std::fs::read_to_string(format!("{irssi}/otr.key")).unwrap();
    assert!(key_text.contains("(name \"nick@irc.libera.chat\")\n(protocol IRC)"), "{key_text}");
    let fp = std::fs::read_to_string(format!("{irssi}/otr.fp")).unwrap();
    assert_eq!(fp, "zed\tnick@irc.libera.chat\tIRC\ta06666666666666666666666666666666666663c\tsmp\n");
    assert!(!Path::new(&format!("{irssi}/otr.private_key")).exists());
}
