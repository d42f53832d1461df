//! offrec's OTR core against a live libotr 4.1.1 party (tests/otr_vectors/gen.c in `peer`
//! mode, driven over stdin/stdout): libotr must accept offrec's AKE messages (so verify its DSA
//! signatures and MACs) and its data messages (MACs, counters, key rotation, revealed keys),
//! and offrec must read libotr's — for v3 and v2, with offrec as initiator and as responder,
//! extra symmetric keys both ways, and the end of the session from either side.
//!
//! Needs libotr5-dev, so it is not in the default run:
//! `make -f tests/otr_vectors/vectors.mk otr-live` builds the peer and runs these tests.

mod otr_support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use base64::Engine;
use offrec::crypto::OsRandom;
use offrec::otr::ake::{Ake, AkeOutcome, EstablishedAke, SsidBoldHalf};
use offrec::otr::data::DataSession;
use offrec::otr::identity::DsaIdentity;
use offrec::otr::message::{OtrVersion, FLAG_IGNORE_UNREADABLE};
use offrec::otr::tlv::{decode_plaintext, encode_plaintext, OtrTlv, OtrTlvType};
use offrec::wire::InstanceTag;
use otr_support::Vector;

const OUR_TAG: InstanceTag = InstanceTag(0x4F46_5243);

struct Peer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    fingerprint: String,
}

impl Peer {
    fn spawn(version: OtrVersion) -> Peer {
        let path = std::env::var("OFFREC_OTR_PEER").unwrap_or_else(|_| "target/otr-vectors/gen".into());
        let mut child = Command::new(&path)
            .args(["peer", if version == OtrVersion::V2 { "2" } else { "3" }])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{path}: {e} (build it: make -f tests/otr_vectors/vectors.mk otr-live)"));
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut ready = String::new();
        stdout.read_line(&mut ready).unwrap();
        let fields: Vec<&str> = ready.split_whitespace().collect();
        assert_eq!(fields[0], "READY");
        Peer { child, stdin, stdout, fingerprint: fields[2].to_string() }
    }

    fn command(&mut self, line: &str) -> Vec<String> {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
        let mut out = Vec::new();
        loop {
            let mut reply = String::new();
            assert!(self.stdout.read_line(&mut reply).unwrap() > 0, "the libotr peer exited");
            let reply = reply.trim_end().to_string();
            if reply == "END" {
                return out;
            }
            assert!(!reply.starts_with("ERROR") && !reply.starts_with("EVENT"), "libotr: {reply} after {line:.60}");
            out.push(reply);
        }
    }

    /// libotr receives an OTR binary message; returns its answer lines.
    fn receive(&mut self, binary: &[u8]) -> Vec<String> {
        self.command(&format!("RECV {}", armour(binary)))
    }

    fn status(&mut self) -> Vec<String> {
        let lines = self.command("STATUS");
        lines[0].split_whitespace().map(String::from).collect()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn armour(binary: &[u8]) -> String {
    format!("?OTR:{}.", base64::engine::general_purpose::STANDARD.encode(binary))
}

fn dearmour(text: &str) -> Vec<u8> {
    let body = text.strip_prefix("?OTR:").and_then(|t| t.strip_suffix('.')).expect("an encoded OTR message");
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}

/// The messages libotr sent in an answer.
fn sent(lines: &[String]) -> Vec<Vec<u8>> {
    lines.iter().filter_map(|l| l.strip_prefix("SEND ")).map(dearmour).collect()
}

/// The text libotr showed its user.
fn shown(lines: &[String]) -> Option<Vec<u8>> {
    lines.iter().find_map(|l| l.strip_prefix("MSG ")).map(|h| hex::decode(h).unwrap())
}

struct Us {
    identity: DsaIdentity,
    rng: OsRandom,
}

impl Us {
    fn new() -> Us {
        Us { identity: Vector::v3().identity("bob"), rng: OsRandom }
    }

    fn expect_reply(&mut self, ake: &mut Ake, message: &[u8]) -> Vec<u8> {
        match ake.receive(message, &self.identity, &mut self.rng).unwrap() {
            AkeOutcome::Reply(reply) => reply,
            other => panic!("expected a reply, got {other:?}"),
        }
    }
}

/// Runs the AKE with libotr; offrec sends the commit if `we_initiate`.
fn handshake(peer: &mut Peer, us: &mut Us, version: OtrVersion, we_initiate: bool) -> EstablishedAke {
    let mut ake = Ake::new(version, OUR_TAG, InstanceTag::NONE);
    let established = if we_initiate {
        let commit = ake.start(&mut us.rng).unwrap();
        let key = sent(&peer.receive(&commit));
        assert_eq!(key.len(), 1, "libotr answers the commit with a D-H Key");
        let reveal = us.expect_reply(&mut ake, &key[0]);
        let signature = sent(&peer.receive(&reveal));
        assert_eq!(signature.len(), 1, "libotr accepted offrec's Reveal Signature");
        let AkeOutcome::Established { reply: None, session } =
            ake.receive(&signature[0], &us.identity, &mut us.rng).unwrap()
        else {
            panic!("libotr's Signature verifies")
        };
        *session
    } else {
        let query = if version == OtrVersion::V2 { "?OTRv2?" } else { "?OTRv3?" };
        let commit = sent(&peer.command(&format!("RECV {query}")));
        let key = us.expect_reply(&mut ake, &commit[0]);
        let reveal = sent(&peer.receive(&key));
        let AkeOutcome::Established { reply: Some(signature), session } =
            ake.receive(&reveal[0], &us.identity, &mut us.rng).unwrap()
        else {
            panic!("libotr's Reveal Signature verifies")
        };
        assert!(sent(&peer.receive(&signature)).is_empty());
        *session
    };
    let status = peer.status();
    assert_eq!(status[1], "1", "libotr is ENCRYPTED");
    assert_eq!(status[2], hex::encode(established.ssid));
    let ours = if established.bold_half == SsidBoldHalf::First { "first" } else { "second" };
    assert_ne!(status[3], ours, "opposite halves in bold");
    assert_eq!(status[6], hex::encode(us.identity.fingerprint()), "libotr saw offrec's key");
    assert_eq!(hex::encode(established.their_fingerprint), peer.fingerprint);
    established
}

fn text(message: &str) -> Vec<u8> {
    encode_plaintext(message.as_bytes(), &[]).unwrap().to_vec()
}

/// offrec sends `message`; libotr must show it. Heartbeats libotr sends back are read.
fn offrec_says(peer: &mut Peer, session: &mut DataSession, rng: &mut OsRandom, message: &str) {
    let answer = peer.receive(&session.encrypt(0, &text(message)).unwrap());
    assert_eq!(shown(&answer).as_deref(), Some(message.as_bytes()));
    for extra in sent(&answer) {
        let out = session.decrypt(&extra, rng).unwrap();
        assert!(!decode_plaintext(&out.plaintext).unwrap().has_text(), "only heartbeats come back unasked");
    }
    assert_eq!(peer.status()[5].parse::<u32>().unwrap(), session.keyids().0, "libotr knows our newest key");
}

/// libotr sends `message`; offrec must read it.
fn libotr_says(peer: &mut Peer, session: &mut DataSession, rng: &mut OsRandom, message: &str) {
    let messages = sent(&peer.command(&format!("SENDMSG {}", hex::encode(message))));
    let out = session.decrypt(&messages[0], rng).unwrap();
    assert_eq!(decode_plaintext(&out.plaintext).unwrap().text, message.as_bytes());
    assert_eq!(peer.status()[4].parse::<u32>().unwrap(), session.keyids().1, "we know libotr's newest key");
}

fn conversation(version: OtrVersion, we_initiate: bool) {
    let mut peer = Peer::spawn(version);
    let mut us = Us::new();
    let established = handshake(&mut peer, &mut us, version, we_initiate);
    let mut rng = OsRandom;
    let mut session = DataSession::new(established, &mut rng).unwrap();

    for round in 0..6 {
        offrec_says(&mut peer, &mut session, &mut rng, &format!("offrec {round}: h\u{e9}llo \u{2603} <b>x</b>"));
        libotr_says(&mut peer, &mut session, &mut rng, &format!("libotr {round}"));
        if round % 2 == 0 {
            for burst in 0..3 {
                offrec_says(&mut peer, &mut session, &mut rng, &format!("offrec burst {round}.{burst}"));
            }
        } else {
            for burst in 0..3 {
                libotr_says(&mut peer, &mut session, &mut rng, &format!("libotr burst {round}.{burst}"));
            }
        }
    }
    offrec_says(&mut peer, &mut session, &mut rng, &"long ".repeat(2000));

    // Extra symmetric key, libotr to offrec.
    let answer = peer.command("SYMKEY 5 abcd");
    let key = answer.iter().find_map(|l| l.strip_prefix("KEY ")).unwrap().to_string();
    let out = session.decrypt(&sent(&answer)[0], &mut rng).unwrap();
    assert_eq!(hex::encode(*out.extra_key), key);
    let plain = decode_plaintext(&out.plaintext).unwrap();
    let tlv = plain.find(OtrTlvType::EXTRA_SYMMETRIC_KEY).unwrap();
    assert_eq!(OtrTlv::parse_extra_symmetric_key(&tlv.value), Some((5, &[0xab, 0xcd][..])));
    // And offrec to libotr.
    let key = session.sending_extra_key();
    let plaintext = encode_plaintext(b"", &[OtrTlv::extra_symmetric_key(9, b"xyz")]).unwrap();
    let answer = peer.receive(&session.encrypt(FLAG_IGNORE_UNREADABLE, &plaintext).unwrap());
    assert!(answer.contains(&format!("SYMKEY 9 78797a {}", hex::encode(*key))), "{answer:?}");

    // A corrupted message is not shown by libotr.
    let mut corrupted = session.encrypt(0, &text("corrupted")).unwrap();
    let at = corrupted.len() / 2;
    corrupted[at] ^= 1;
    writeln!(peer.stdin, "RECV {}", armour(&corrupted)).unwrap();
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        peer.stdout.read_line(&mut line).unwrap();
        if line.trim_end() == "END" {
            break;
        }
        lines.push(line);
    }
    assert!(!lines.iter().any(|l| l.starts_with("MSG")), "libotr refused the corrupted message: {lines:?}");
    libotr_says(&mut peer, &mut session, &mut rng, "still talking after the corrupted one");

    if we_initiate {
        // offrec ends the session: libotr goes to FINISHED.
        let disconnect = encode_plaintext(b"", &[OtrTlv::new(OtrTlvType::DISCONNECTED, &[])]).unwrap();
        let answer = peer.receive(&session.finish(FLAG_IGNORE_UNREADABLE, &disconnect).unwrap());
        assert!(answer.contains(&"TLV 1".to_string()));
        assert_eq!(peer.status()[1], "2", "libotr is FINISHED");
    } else {
        let last = sent(&peer.command("DISCONNECT"));
        let out = session.decrypt(&last[0], &mut rng).unwrap();
        assert!(decode_plaintext(&out.plaintext).unwrap().find(OtrTlvType::DISCONNECTED).is_some());
    }
}

#[test]
#[ignore = "needs the libotr peer: make -f tests/otr_vectors/vectors.mk otr-live"]
fn live_v3_offrec_initiates() {
    conversation(OtrVersion::V3, true);
}

#[test]
#[ignore = "needs the libotr peer: make -f tests/otr_vectors/vectors.mk otr-live"]
fn live_v3_libotr_initiates() {
    conversation(OtrVersion::V3, false);
}

#[test]
#[ignore = "needs the libotr peer: make -f tests/otr_vectors/vectors.mk otr-live"]
fn live_v2_offrec_initiates() {
    conversation(OtrVersion::V2, true);
}

#[test]
#[ignore = "needs the libotr peer: make -f tests/otr_vectors/vectors.mk otr-live"]
fn live_v2_libotr_initiates() {
    conversation(OtrVersion::V2, false);
}
