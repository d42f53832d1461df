//! The `otr_client_receive` target: a client with an OTR v3 session receiving arbitrary text.
//!
//! Two clients (policy MANUAL, which speaks OTR v3 and v2) are rebuilt for every input from
//! stored state (identities and DSA keys, no sessions: OTR sessions are never stored) and run
//! the same deterministic OTR AKE, so every input starts from the same session. The input is
//! lines delivered to Bob as if from Alice, and what either sends is routed to the other:
//!
//! * `#k` — Alice's genuine message k ([`OtrClientFixture::items`]: her data messages, then her
//!   D-H Commit and Reveal Signature);
//! * `*k<bytes>` — item k's binary edited by the bytes after `k` and one space ([`mutate`]),
//!   armoured again;
//! * `>text` — Bob sends `text` to Alice (so that keys rotate and Alice answers);
//! * `@N` — the clock advances N seconds and both clients tick;
//! * anything else — the line itself.
//!
//! Checked: no panic; every encrypted delivery is a text that was really sent the other way,
//! and none is delivered twice.

use std::collections::VecDeque;
use std::sync::OnceLock;

use offrec::conversation::{Action, Client, Protocol, Security};
use offrec::otr::text::armour;
use offrec::store;

use super::{load_client, new_client, sends, Input, ALICE_TAG, BOB_TAG};

/// Alice's genuine data messages to Bob in the fixture.
pub const OTR_GENUINE_MESSAGES: usize = 4;

/// The stored clients and what Alice sent Bob in the fixture's session.
pub struct OtrClientFixture {
    pub alice_state: Vec<u8>,
    pub bob_state: Vec<u8>,
    /// Alice's genuine wire texts to Bob: her data messages, then her AKE messages.
    pub items: Vec<String>,
    /// The plaintexts of the data messages among `items`.
    pub sent: Vec<Vec<u8>>,
}

/// The two clients with their OTR session, as every input starts.
fn session_pair(f: &OtrClientFixture, now: u64) -> (Client, Client, Vec<String>) {
    let mut alice = load_client(&f.alice_state, "otr fuzz alice run");
    let mut bob = load_client(&f.bob_state, "otr fuzz bob run");
    let mut transcript = Vec::new();
    let mut queue: VecDeque<(bool, String)> =
        sends(alice.receive("bob", "?OTRv3?", now)).into_iter().map(|t| (true, t)).collect();
    let mut steps = 0;
    while let Some((to_bob, text)) = queue.pop_front() {
        steps += 1;
        assert!(steps < 100, "fixture network did not quiesce");
        if to_bob {
            transcript.push(text.clone());
        }
        let actions = if to_bob { bob.receive("alice", &text, now) } else { alice.receive("bob", &text, now) };
        queue.extend(sends(actions).into_iter().map(|t| (!to_bob, t)));
    }
    (alice, bob, transcript)
}

/// The fixture (built once; the DSA keys are made here, never per input).
pub fn otr_client_fixture() -> &'static OtrClientFixture {
    static FIXTURE: OnceLock<OtrClientFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut alice = new_client("alice", ALICE_TAG, "otr fuzz client alice");
        let mut bob = new_client("bob", BOB_TAG, "otr fuzz client bob");
        alice.generate_otr_key().expect("alice's DSA key");
        bob.generate_otr_key().expect("bob's DSA key");
        let stored = OtrClientFixture {
            alice_state: store::encode_client(&alice).to_vec(),
            bob_state: store::encode_client(&bob).to_vec(),
            items: Vec::new(),
            sent: Vec::new(),
        };
        let (mut alice, bob, transcript) = session_pair(&stored, 1_000);
        let sessions = bob.sessions("alice");
        assert!(sessions.len() == 1 && sessions[0].protocol == Protocol::OtrV3, "OTR session: {sessions:?}");
        let sent: Vec<Vec<u8>> =
            (0..OTR_GENUINE_MESSAGES).map(|i| format!("private OTR note {i} <b>&amp;</b>").into_bytes()).collect();
        let mut items = Vec::new();
        for text in &sent {
            let (_, actions) = alice.send("bob", text, 1_000).expect("send");
            let mut wire = sends(actions);
            assert_eq!(wire.len(), 1, "one unfragmented message");
            items.push(wire.remove(0));
        }
        items.extend(transcript);
        OtrClientFixture { items, sent, ..stored }
    })
}

/// The text Bob receives for an input line (see the module documentation).
fn line_text(f: &OtrClientFixture, line: &str) -> String {
    let item = |k: &str| k.parse::<usize>().ok().and_then(|k| f.items.get(k));
    if let Some(text) = line.strip_prefix('#').and_then(item) {
        return text.clone();
    }
    if let Some(rest) = line.strip_prefix('*') {
        let (k, edits) = rest.split_once(' ').unwrap_or((rest, ""));
        if let Some(Ok(bytes)) = item(k).map(|t| armour::decode(t)) {
            return armour::encode(&super::mutate(&bytes, &mut Input::new(edits.as_bytes())));
        }
    }
    line.to_owned()
}

/// Lines into Bob, replies routed both ways.
pub fn otr_client_receive(data: &[u8]) {
    let f = otr_client_fixture();
    let mut now = 1_000u64;
    let (mut alice, mut bob, _) = session_pair(f, now);
    let text = String::from_utf8_lossy(data);
    // What each side may still deliver: every text sent, once per time it was sent.
    let mut to_bob: Vec<Vec<u8>> = f.sent.clone();
    let mut to_alice: Vec<Vec<u8>> = Vec::new();
    for line in text.split('\n').take(32) {
        let mut actions: Vec<(bool, Action)> = Vec::new();
        if let Some(dt) = line.strip_prefix('@') {
            now = now.saturating_add(dt.parse::<u64>().unwrap_or(0) % 100_000);
            actions.extend(bob.tick(now).into_iter().map(|a| (true, a)));
            actions.extend(alice.tick(now).into_iter().map(|a| (false, a)));
        } else if let Some(said) = line.strip_prefix('>') {
            if let Ok((_, sent)) = bob.send("alice", said.as_bytes(), now) {
                to_alice.push(said.as_bytes().to_vec());
                actions.extend(sent.into_iter().map(|a| (true, a)));
            }
        } else {
            let text = line_text(f, line);
            actions.extend(bob.receive("alice", &text, now).into_iter().map(|a| (true, a)));
        }
        let mut queue: VecDeque<(bool, String)> = VecDeque::new();
        let mut steps = 0;
        loop {
            for (at_bob, action) in actions.drain(..) {
                match action {
                    Action::Send { text, .. } => queue.push_back((!at_bob, text)),
                    Action::Deliver { text, security, .. } if security != Security::Plaintext => {
                        let pending = if at_bob { &mut to_bob } else { &mut to_alice };
                        let idx = pending
                            .iter()
                            .position(|s| **s == *text)
                            .expect("delivered a text never sent, or more often than it was sent");
                        pending.swap_remove(idx);
                    }
                    _ => {}
                }
            }
            let Some((to_bob, text)) = queue.pop_front() else { break };
            steps += 1;
            if steps > 64 {
                break;
            }
            if to_bob {
                actions.extend(bob.receive("alice", &text, now).into_iter().map(|a| (true, a)));
            } else {
                actions.extend(alice.receive("bob", &text, now).into_iter().map(|a| (false, a)));
            }
        }
    }
}

/// Seeds: genuine messages in order and replayed, edited messages, a rotation, AKE replays,
/// fragments, queries, errors and time.
pub fn seeds() -> Vec<Vec<u8>> {
    let f = otr_client_fixture();
    let data = OTR_GENUINE_MESSAGES;
    let mut out: Vec<String> = vec![
        "#0\n#1\n#2\n#3".to_owned(),
        "#2\n#0\n#0\n@70\n#1".to_owned(),
        ">hello alice\n#0\n>again\n#1\n#1".to_owned(),
        format!("*0 {}\n#0", "\u{0}\u{0}\u{90}\u{1}"),
        format!("#{data}\n#{}\n#0", data + 1),
        "?OTRv3?\n#0\n@3\n?OTRv23? hello\n#1".to_owned(),
        "?OTR Error: You transmitted an unreadable encrypted message.\n#0\n?OTRv4?\n?OTR:AAEDAA.".to_owned(),
    ];
    let pieces = offrec::otr::text::split(
        &f.items[0],
        80,
        offrec::otr::message::OtrVersion::V3,
        offrec::wire::InstanceTag(ALICE_TAG),
        offrec::wire::InstanceTag(BOB_TAG),
    )
    .expect("split");
    out.push(format!("{}\n#1", pieces.join("\n")));
    out.into_iter().map(String::into_bytes).collect()
}
