//! OTR v3 SMP (src/otr/smp) against libotr 4.1.1 and against itself.
//!
//! * Frozen vectors (tests/vectors/otr3_smp.json, made by tests/otr_smp_vectors/gen.c: libotr
//!   against libotr through its message layer): our secret derivation equals libotr's, our
//!   responder accepts libotr's SMP1/SMP1Q, and every tampered SMP1 is cheating. (The unit tests
//!   in src/otr/smp/libotr_replay.rs replay libotr's SMP2..SMP4 into rebuilt states.)
//! * Mixed live runs: gen.c compiled here and run as a subprocess plays libotr's Alice against
//!   our Bob and libotr's Bob against our Alice. Skipped, loudly, without libotr's headers.
//! * Own runs: success, failure, questions, aborts at every step, simultaneous starts, degenerate
//!   values, and random input that must never panic.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::OnceLock;

use offrec::crypto::random::{DeterministicRandom, OsRandom, RandomSource};
use offrec::otr::group::{order_bytes, prime_bytes};
use offrec::otr::smp::secret::derive_secret;
use offrec::otr::smp::*;
use proptest::prelude::*;
use serde_json::Value;

const VECTORS: &str = include_str!("vectors/otr3_smp.json");

fn rng(label: &str) -> DeterministicRandom {
    DeterministicRandom::from_label(label)
}

fn ctxs() -> (OtrSmpContext, OtrSmpContext) {
    let alice = OtrSmpContext { our_fingerprint: [0xA1; 20], their_fingerprint: [0xB2; 20], ssid: [7; 8] };
    let bob = OtrSmpContext { our_fingerprint: [0xB2; 20], their_fingerprint: [0xA1; 20], ssid: [7; 8] };
    (alice, bob)
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn arr<const N: usize>(v: &Value) -> [u8; N] {
    unhex(v.as_str().unwrap()).try_into().unwrap()
}

fn vector_runs() -> Vec<Value> {
    let root: Value = serde_json::from_str(VECTORS).unwrap();
    assert_eq!(root["libotr"], "4.1.1");
    root["runs"].as_array().unwrap().clone()
}

/// The context each libotr party had in a vector run, from Bob's side.
fn bob_ctx(run: &Value) -> OtrSmpContext {
    OtrSmpContext {
        our_fingerprint: arr(&run["bob_fingerprint"]),
        their_fingerprint: arr(&run["alice_fingerprint"]),
        ssid: arr(&run["ssid"]),
    }
}

fn first_message(run: &Value) -> (u16, Vec<u8>) {
    let m = &run["messages"][0];
    (m["tlv_type"].as_u64().unwrap() as u16, unhex(m["value"].as_str().unwrap()))
}

/// The MPIs of an SMP value (after its count) as (offset of the length field, magnitude).
fn mpis(value: &[u8]) -> Vec<(usize, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 4;
    while at < value.len() {
        let len = u32::from_be_bytes(value[at..at + 4].try_into().unwrap()) as usize;
        out.push((at, value[at + 4..at + 4 + len].to_vec()));
        at += 4 + len;
    }
    out
}

fn replace_mpi(value: &[u8], index: usize, magnitude: &[u8]) -> Vec<u8> {
    let (at, old) = mpis(value)[index].clone();
    let mut out = value[..at].to_vec();
    out.extend_from_slice(&(magnitude.len() as u32).to_be_bytes());
    out.extend_from_slice(magnitude);
    out.extend_from_slice(&value[at + 4 + old.len()..]);
    out
}

fn plus_one(magnitude: &[u8]) -> Vec<u8> {
    let mut out = magnitude.to_vec();
    for byte in out.iter_mut().rev() {
        let (sum, carry) = byte.overflowing_add(1);
        *byte = sum;
        if !carry {
            return out;
        }
    }
    out.insert(0, 1);
    out
}

fn minus(magnitude: &[u8], k: u8) -> Vec<u8> {
    let mut out = magnitude.to_vec();
    let last = out.last_mut().unwrap();
    assert!(*last >= k, "test values end in 0xff");
    *last -= k;
    out
}

/// Degenerate group elements: 0, 1, p-1, p, p+1, a non-residue (p-2 = -2, as p ≡ 7 mod 8), and
/// one too long.
fn bad_elements() -> Vec<(&'static str, Vec<u8>)> {
    let p = prime_bytes();
    let mut too_long = vec![1u8];
    too_long.extend_from_slice(&p);
    vec![
        ("0", vec![]),
        ("1", vec![1]),
        ("p-1", minus(&p, 1)),
        ("p", p.clone()),
        ("p+1", plus_one(&p)),
        ("non-residue p-2", minus(&p, 2)),
        ("longer than p", too_long),
    ]
}

/// Degenerate exponents: 0, q, q+1, and one longer than any group value.
fn bad_exponents() -> Vec<(&'static str, Vec<u8>)> {
    let q = order_bytes();
    vec![("D = 0", vec![]), ("D = 0 (one zero byte)", vec![0]), ("D = q", q.clone()), ("D = q+1", plus_one(&q))]
}

/// Runs a full SMP between two of our machines and returns Alice's and Bob's final steps.
fn own_run(secret_a: &[u8], secret_b: &[u8], question: Option<&str>) -> (OtrSmpStep, OtrSmpStep) {
    let (ca, cb) = ctxs();
    let (mut ra, mut rb) = (rng("alice"), rng("bob"));
    let mut alice = OtrSmp::new();
    let mut bob = OtrSmp::new();
    let smp1 = alice.start(secret_a, question, &ca, &mut ra).unwrap().pop().unwrap();
    let asked = bob.receive(smp1.tlv_type, &smp1.payload, &mut rb);
    assert_eq!(
        asked.event,
        Some(OtrSmpEvent::AskedForSecret { question: question.filter(|q| !q.is_empty()).map(str::to_owned) })
    );
    assert!(bob.is_awaiting_secret() && !bob.holds_secrets());
    let smp2 = bob.respond(secret_b, &cb, &mut rb).unwrap();
    assert_eq!(smp2.tlv_type, TLV_SMP2);
    let step = alice.receive(smp2.tlv_type, &smp2.payload, &mut ra);
    assert_eq!(step.event, Some(OtrSmpEvent::InProgress), "{:?}", step.error);
    let smp3 = step.reply.unwrap();
    let bob_end = bob.receive(smp3.tlv_type, &smp3.payload, &mut rb);
    let smp4 = bob_end.reply.clone().unwrap();
    assert_eq!(smp4.tlv_type, TLV_SMP4);
    let alice_end = alice.receive(smp4.tlv_type, &smp4.payload, &mut ra);
    assert!(!alice.is_in_progress() && !bob.is_in_progress());
    assert!(!alice.holds_secrets() && !bob.holds_secrets());
    (alice_end, bob_end)
}

// ---- libotr's frozen vectors -------------------------------------------------------------

#[test]
fn secret_derivation_equals_libotrs_for_both_roles() {
    for run in vector_runs() {
        let alice_fp: [u8; 20] = arr(&run["alice_fingerprint"]);
        let bob_fp: [u8; 20] = arr(&run["bob_fingerprint"]);
        assert_eq!(arr::<20>(&run["alice_sees_bob"]), bob_fp);
        let ssid: [u8; 8] = arr(&run["ssid"]);
        for (who, secret, state) in
            [("alice", "alice_secret", "alice_after_smp1"), ("bob", "bob_secret", "bob_after_smp2")]
        {
            let secret = run[secret].as_str().unwrap().as_bytes();
            // Both sides hash the initiator's (Alice's) fingerprint first.
            let ours = derive_secret(&alice_fp, &bob_fp, &ssid, secret).unwrap();
            assert_eq!(
                hex::encode(&*ours.to_minimal_bytes()),
                run[state]["secret"].as_str().unwrap(),
                "{who} in {}",
                run["name"]
            );
        }
    }
}

#[test]
fn our_responder_accepts_libotrs_smp1_and_question() {
    for run in vector_runs() {
        let (tlv_type, value) = first_message(&run);
        let mut bob = OtrSmp::new();
        let step = bob.receive(tlv_type, &value, &mut rng("bob"));
        let question = run["question"].as_str().map(str::to_owned);
        assert_eq!(tlv_type, if question.is_some() { TLV_SMP1Q } else { TLV_SMP1 });
        assert_eq!(step.event, Some(OtrSmpEvent::AskedForSecret { question }), "{}: {:?}", run["name"], step.error);
        assert_eq!(step.reply, None);
        let smp2 = bob.respond(run["bob_secret"].as_str().unwrap().as_bytes(), &bob_ctx(&run), &mut rng("b")).unwrap();
        assert_eq!(mpis(&smp2.payload).len(), 11);
        assert_eq!(&smp2.payload[..4], &[0, 0, 0, 11]);
    }
}

fn assert_cheating(value: &[u8], tlv_type: u16, what: &str) {
    let mut bob = OtrSmp::new();
    let step = bob.receive(tlv_type, value, &mut rng("bob"));
    assert_eq!(step.event, Some(OtrSmpEvent::Cheated), "{what}: {:?}", step.error);
    assert_eq!(step.reply, Some(OtrSmpTlv::abort()), "{what}");
    assert!(step.error.as_ref().is_some_and(OtrSmpError::is_cheating), "{what}");
    assert!(!bob.is_in_progress(), "{what}");
}

#[test]
fn every_tampered_libotr_smp1_is_cheating() {
    let run = &vector_runs()[0];
    let (tlv_type, value) = first_message(run);
    assert_eq!(tlv_type, TLV_SMP1);
    let layout = mpis(&value);
    assert_eq!(layout.len(), 6);
    // g2a, c2, D2, g3a, c3, D3
    for (index, (_, old)) in layout.iter().enumerate() {
        assert_cheating(&replace_mpi(&value, index, &plus_one(old)), tlv_type, &format!("MPI {index} + 1"));
        let mut leading_zero = vec![0];
        leading_zero.extend_from_slice(old);
        // A leading zero byte does not change the integer: libotr reads it, so do we.
        let step = OtrSmp::new().receive(tlv_type, &replace_mpi(&value, index, &leading_zero), &mut rng("b"));
        assert!(matches!(step.event, Some(OtrSmpEvent::AskedForSecret { .. })), "MPI {index} with a leading zero");
    }
    for index in [0, 3] {
        for (what, bad) in bad_elements() {
            assert_cheating(&replace_mpi(&value, index, &bad), tlv_type, &format!("element {index} = {what}"));
        }
    }
    for index in [2, 5] {
        for (what, bad) in bad_exponents() {
            assert_cheating(&replace_mpi(&value, index, &bad), tlv_type, &format!("exponent {index}: {what}"));
        }
    }
    let mut long_c = vec![1];
    long_c.extend_from_slice(&[0; 32]);
    assert_cheating(&replace_mpi(&value, 1, &long_c), tlv_type, "c2 longer than a digest");
    // The MPI count must be exactly 6.
    for count in [0u32, 5, 7, 11, u32::MAX] {
        let mut v = value.clone();
        v[..4].copy_from_slice(&count.to_be_bytes());
        assert_cheating(&v, tlv_type, &format!("count {count}"));
    }
    let mut trailing = value.clone();
    trailing.push(0);
    assert_cheating(&trailing, tlv_type, "trailing byte");
    assert_cheating(&value[..value.len() - 1], tlv_type, "truncated");
    assert_cheating(&[], tlv_type, "empty");
    // Swapping the two proofs' commitments: each proof's version byte binds it.
    let swapped = replace_mpi(&replace_mpi(&value, 0, &layout[3].1), 3, &layout[0].1);
    assert_cheating(&swapped, tlv_type, "g2a and g3a swapped");
    // A libotr SMP1 is no SMP1Q: without its NUL the question never ends.
    assert_cheating(&value[4..], TLV_SMP1Q, "SMP1Q without NUL");
}

#[test]
fn smp1q_questions_are_split_at_the_first_nul_and_capped() {
    let run = vector_runs().into_iter().find(|r| !r["question"].is_null()).unwrap();
    let (tlv_type, value) = first_message(&run);
    let question = run["question"].as_str().unwrap();
    assert_eq!(&value[..question.len()], question.as_bytes());
    assert_eq!(value[question.len()], 0);
    let smp1 = &value[question.len() + 1..];
    // Not UTF-8 (libotr passes bytes through): shown with replacement characters.
    let mut latin1 = b"caf\xe9\0".to_vec();
    latin1.extend_from_slice(smp1);
    let step = OtrSmp::new().receive(tlv_type, &latin1, &mut rng("b"));
    assert_eq!(step.event, Some(OtrSmpEvent::AskedForSecret { question: Some("caf\u{fffd}".into()) }));
    // An empty question still counts as one (libotr: received_question = 1).
    let mut empty = vec![0];
    empty.extend_from_slice(smp1);
    let step = OtrSmp::new().receive(tlv_type, &empty, &mut rng("b"));
    assert_eq!(step.event, Some(OtrSmpEvent::AskedForSecret { question: Some(String::new()) }));
    // Over our cap: refused without a proof check, with an abort.
    let mut long = vec![b'x'; MAX_QUESTION_LEN + 1];
    long.push(0);
    long.extend_from_slice(smp1);
    let mut bob = OtrSmp::new();
    let step = bob.receive(tlv_type, &long, &mut rng("b"));
    assert_eq!(step.event, Some(OtrSmpEvent::Aborted));
    assert_eq!(step.error, Some(OtrSmpError::QuestionTooLong { max: MAX_QUESTION_LEN }));
    assert_eq!(step.reply, Some(OtrSmpTlv::abort()));
    assert!(!bob.is_in_progress());
}

// ---- mixed runs against live libotr ---------------------------------------------------------

/// gen.c compiled for this test run, or `None` (and a loud note) where libotr's headers are
/// missing.
fn generator() -> Option<PathBuf> {
    static GEN: OnceLock<Option<PathBuf>> = OnceLock::new();
    GEN.get_or_init(|| {
        if !std::path::Path::new("/usr/include/libotr/sm.h").exists() {
            eprintln!("SKIPPED: libotr's headers are missing (apt install libotr5-dev); no mixed runs against libotr");
            return None;
        }
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("otr-smp-gen");
        let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
            .args(["-O1", "-Wall", "-o"])
            .arg(&out)
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/otr_smp_vectors/gen.c"))
            .args(["-lotr", "-lgcrypt"])
            .status()
            .expect("a C compiler");
        assert!(status.success(), "tests/otr_smp_vectors/gen.c does not build against the installed libotr");
        Some(out)
    })
    .clone()
}

/// What the libotr party did in answer to one input.
#[derive(Debug, Default)]
struct Answer {
    tlvs: Vec<OtrSmpTlv>,
    events: Vec<String>,
    question: Option<Vec<u8>>,
    trust: String,
}

/// One libotr party (gen.c in alice or bob mode) and the context of our side of its session.
struct Libotr {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    ctx: OtrSmpContext,
}

impl Libotr {
    fn spawn(args: &[&str]) -> Option<(Libotr, Answer)> {
        let mut child = Command::new(generator()?)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("gen runs");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let parts: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(parts.first(), Some(&"ctx"), "gen said {line:?}");
        let ctx = OtrSmpContext {
            our_fingerprint: unhex(parts[1]).try_into().unwrap(),
            their_fingerprint: unhex(parts[2]).try_into().unwrap(),
            ssid: unhex(parts[3]).try_into().unwrap(),
        };
        let mut libotr = Libotr { child, stdin, stdout, ctx };
        let first = libotr.answer();
        Some((libotr, first))
    }

    fn answer(&mut self) -> Answer {
        let mut answer = Answer::default();
        loop {
            let mut line = String::new();
            assert!(self.stdout.read_line(&mut line).unwrap() > 0, "gen ended early");
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.as_slice() {
                ["done"] => return answer,
                ["tlv", t, rest @ ..] => answer.tlvs.push(OtrSmpTlv {
                    tlv_type: t.parse().unwrap(),
                    payload: rest.first().map(|h| unhex(h)).unwrap_or_default(),
                }),
                ["event", name, rest @ ..] => {
                    if *name == "ASK_FOR_ANSWER" {
                        answer.question = Some(rest.first().map(|h| unhex(h)).unwrap_or_default());
                    }
                    answer.events.push((*name).to_owned());
                }
                ["trust", t] => answer.trust = (*t).to_owned(),
                _ => panic!("gen said {line:?}"),
            }
        }
    }

    fn send(&mut self, tlv: &OtrSmpTlv) -> Answer {
        writeln!(self.stdin, "tlv {} {}", tlv.tlv_type, hex::encode(&tlv.payload)).unwrap();
        self.stdin.flush().unwrap();
        self.answer()
    }
}

impl Drop for Libotr {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.wait();
    }
}

fn outcome(same: bool, role: SmpRole, question: bool) -> OtrSmpEvent {
    if same {
        OtrSmpEvent::Succeeded { role, question }
    } else {
        OtrSmpEvent::Failed { role, question }
    }
}

/// libotr's Alice starts; our Bob answers. Returns our final step and libotr's last answer.
fn libotr_alice_our_bob(libotr_secret: &str, our_secret: &str, question: Option<&str>) -> Option<(OtrSmpStep, Answer)> {
    let mut args = vec!["alice", libotr_secret];
    args.extend(question);
    let (mut libotr, first) = Libotr::spawn(&args)?;
    let mut rng = OsRandom;
    let mut bob = OtrSmp::new();
    assert_eq!(first.tlvs.len(), 1);
    let smp1 = &first.tlvs[0];
    assert_eq!(smp1.tlv_type, if question.is_some() { TLV_SMP1Q } else { TLV_SMP1 });
    let step = bob.receive(smp1.tlv_type, &smp1.payload, &mut rng);
    assert_eq!(step.event, Some(OtrSmpEvent::AskedForSecret { question: question.map(str::to_owned) }));
    let smp2 = bob.respond(our_secret.as_bytes(), &libotr.ctx, &mut rng).unwrap();
    let answer = libotr.send(&smp2);
    assert_eq!(answer.events, ["IN_PROGRESS"], "libotr refused our SMP2");
    assert_eq!(answer.tlvs.iter().map(|t| t.tlv_type).collect::<Vec<_>>(), [TLV_SMP3]);
    let end = bob.receive(TLV_SMP3, &answer.tlvs[0].payload, &mut rng);
    let smp4 = end.reply.clone().expect("SMP4");
    let last = libotr.send(&smp4);
    Some((end, last))
}

/// Our Alice starts; libotr's Bob answers. Returns our final step and libotr's answer to SMP3.
fn our_alice_libotr_bob(our_secret: &str, libotr_secret: &str, question: Option<&str>) -> Option<(OtrSmpStep, Answer)> {
    let (mut libotr, first) = Libotr::spawn(&["bob", libotr_secret])?;
    assert!(first.tlvs.is_empty() && first.events.is_empty());
    let mut rng = OsRandom;
    let mut alice = OtrSmp::new();
    let smp1 = alice.start(our_secret.as_bytes(), question, &libotr.ctx, &mut rng).unwrap().pop().unwrap();
    let answer = libotr.send(&smp1);
    let asked = if question.is_some() { "ASK_FOR_ANSWER" } else { "ASK_FOR_SECRET" };
    assert_eq!(answer.events, [asked], "libotr refused our SMP1");
    assert_eq!(answer.question.as_deref(), question.map(str::as_bytes));
    assert_eq!(answer.tlvs.iter().map(|t| t.tlv_type).collect::<Vec<_>>(), [TLV_SMP2]);
    let step = alice.receive(TLV_SMP2, &answer.tlvs[0].payload, &mut rng);
    assert_eq!(step.event, Some(OtrSmpEvent::InProgress), "{:?}", step.error);
    let last = libotr.send(&step.reply.unwrap());
    assert_eq!(last.tlvs.iter().map(|t| t.tlv_type).collect::<Vec<_>>(), [TLV_SMP4], "{last:?}");
    let end = alice.receive(TLV_SMP4, &last.tlvs[0].payload, &mut rng);
    assert!(!alice.is_in_progress());
    Some((end, last))
}

#[test]
fn libotr_alice_and_our_bob_agree() {
    for (libotr_secret, our_secret) in [("open sesame", "open sesame"), ("open sesame", "open sesame!")] {
        let same = libotr_secret == our_secret;
        let Some((ours, libotr)) = libotr_alice_our_bob(libotr_secret, our_secret, None) else { return };
        assert_eq!(ours.event, Some(outcome(same, SmpRole::Responder, false)), "{:?}", ours.error);
        assert_eq!(ours.trust, Some(if same { SmpTrust::Verified } else { SmpTrust::Cleared }));
        assert_eq!(libotr.events, [if same { "SUCCESS" } else { "FAILURE" }], "libotr's verdict on our SMP4");
        assert_eq!(libotr.trust, if same { "smp" } else { "-" });
    }
}

#[test]
fn our_alice_and_libotr_bob_agree() {
    for (our_secret, libotr_secret) in [("open sesame", "open sesame"), ("open sesame", "Open sesame")] {
        let same = libotr_secret == our_secret;
        let Some((ours, libotr)) = our_alice_libotr_bob(our_secret, libotr_secret, None) else { return };
        assert_eq!(libotr.events, [if same { "SUCCESS" } else { "FAILURE" }], "libotr's verdict on our SMP3");
        assert_eq!(libotr.trust, if same { "smp" } else { "-" });
        assert_eq!(ours.event, Some(outcome(same, SmpRole::Initiator, false)), "{:?}", ours.error);
        assert_eq!(ours.trust, Some(if same { SmpTrust::Verified } else { SmpTrust::Cleared }));
    }
}

/// P16: with a question only the asker's trust changes, on both implementations.
#[test]
fn with_a_question_only_the_asker_gains_trust_on_both_sides() {
    let question = "Where did we first meet? (Kneipe, 2019) ü";
    let Some((ours, libotr)) = libotr_alice_our_bob("Kreuzberg", "Kreuzberg", Some(question)) else { return };
    assert_eq!(ours.event, Some(outcome(true, SmpRole::Responder, true)));
    assert_eq!(ours.trust, None, "we answered: our trust stays");
    assert_eq!(libotr.events, ["SUCCESS"]);
    assert_eq!(libotr.trust, "smp", "libotr asked: it trusts us");

    let Some((ours, libotr)) = our_alice_libotr_bob("Kreuzberg", "Kreuzberg", Some(question)) else { return };
    assert_eq!(libotr.events, ["SUCCESS"]);
    assert_eq!(libotr.trust, "-", "libotr answered: its trust stays");
    assert_eq!(ours.event, Some(outcome(true, SmpRole::Initiator, true)));
    assert_eq!(ours.trust, Some(SmpTrust::Verified), "we asked: we trust libotr");
}

/// What libotr does with our aborts and our refusals: an abort returns it to EXPECT1 with an
/// ABORT event; an out-of-order message is its SMPEVENT_ERROR, after which (as Pidgin) it sends
/// an abort; a message its checks refuse is CHEATED, also followed by an abort.
#[test]
fn libotr_handles_our_aborts_and_out_of_order_messages() {
    let Some((mut libotr, _)) = Libotr::spawn(&["bob", "secret"]) else { return };
    let mut rng = OsRandom;
    let mut alice = OtrSmp::new();
    let smp1 = alice.start(b"secret", None, &libotr.ctx, &mut rng).unwrap().pop().unwrap();
    let answer = libotr.send(&smp1);
    assert_eq!(answer.events, ["ASK_FOR_SECRET"]);
    // We abort while libotr's Bob waits for SMP3.
    let answer = libotr.send(&alice.abort());
    assert_eq!(answer.events, ["ABORT"]);
    assert!(answer.tlvs.is_empty());
    // Out of order now (libotr expects SMP1): ERROR, and libotr's application aborts.
    let smp2 = smp2_of_another_run(&mut rng);
    let answer = libotr.send(&OtrSmpTlv { tlv_type: TLV_SMP2, payload: smp2 });
    assert_eq!(answer.events, ["ERROR"]);
    assert_eq!(answer.tlvs, [OtrSmpTlv::abort()]);
    // Our own refusal rule agrees with libotr's: D2 = 0 in SMP1 is cheating there too.
    let smp1 = alice.start(b"secret", None, &libotr.ctx, &mut rng).unwrap().pop().unwrap();
    let answer = libotr.send(&OtrSmpTlv { tlv_type: TLV_SMP1, payload: replace_mpi(&smp1.payload, 2, &[]) });
    assert_eq!(answer.events, ["CHEATED"]);
    assert_eq!(answer.tlvs, [OtrSmpTlv::abort()]);
}

/// An SMP2 made by a second pair of our machines, to be out of place at libotr.
fn smp2_of_another_run(rng: &mut dyn RandomSource) -> Vec<u8> {
    let (ca, cb) = ctxs();
    let mut a = OtrSmp::new();
    let mut b = OtrSmp::new();
    let smp1 = a.start(b"x", None, &ca, rng).unwrap().pop().unwrap();
    b.receive(smp1.tlv_type, &smp1.payload, rng);
    b.respond(b"x", &cb, rng).unwrap().payload
}

// ---- our own runs ---------------------------------------------------------------------------

#[test]
fn same_secret_succeeds_on_both_sides() {
    let (alice, bob) = own_run(b"correct horse", b"correct horse", None);
    assert_eq!(bob.event, Some(outcome(true, SmpRole::Responder, false)));
    assert_eq!(alice.event, Some(outcome(true, SmpRole::Initiator, false)));
    assert_eq!((alice.trust, bob.trust), (Some(SmpTrust::Verified), Some(SmpTrust::Verified)));
    assert_eq!((alice.reply, alice.error, bob.error), (None, None, None));
}

#[test]
fn different_secrets_fail_on_both_sides() {
    let (alice, bob) = own_run(b"correct horse", b"correct horse ", None);
    assert_eq!(bob.event, Some(outcome(false, SmpRole::Responder, false)));
    assert_eq!(alice.event, Some(outcome(false, SmpRole::Initiator, false)));
    assert_eq!((alice.trust, bob.trust), (Some(SmpTrust::Cleared), Some(SmpTrust::Cleared)));
}

#[test]
fn a_question_goes_as_smp1q_and_only_the_asker_gains_trust() {
    let (alice, bob) = own_run(b"Berlin", b"Berlin", Some("Where?"));
    assert_eq!(bob.event, Some(outcome(true, SmpRole::Responder, true)));
    assert_eq!(bob.trust, None);
    assert_eq!(alice.event, Some(outcome(true, SmpRole::Initiator, true)));
    assert_eq!(alice.trust, Some(SmpTrust::Verified));

    let (ca, _) = ctxs();
    let tlvs = OtrSmp::new().start(b"s", Some("Where?"), &ca, &mut rng("q")).unwrap();
    assert_eq!(tlvs[0].tlv_type, TLV_SMP1Q);
    assert!(tlvs[0].payload.starts_with(b"Where?\0\0\0\0\x06"));
    // An empty question is sent as none.
    let tlvs = OtrSmp::new().start(b"s", Some(""), &ca, &mut rng("q")).unwrap();
    assert_eq!(tlvs[0].tlv_type, TLV_SMP1);
}

#[test]
fn fingerprints_and_ssid_are_bound() {
    // Bob derives with his view of the session; a relay with another ssid fails the comparison.
    let (ca, mut cb) = ctxs();
    cb.ssid = [8; 8];
    let mut rng = rng("bound");
    let mut alice = OtrSmp::new();
    let mut bob = OtrSmp::new();
    let smp1 = alice.start(b"s", None, &ca, &mut rng).unwrap().pop().unwrap();
    bob.receive(smp1.tlv_type, &smp1.payload, &mut rng);
    let smp2 = bob.respond(b"s", &cb, &mut rng).unwrap();
    let smp3 = alice.receive(smp2.tlv_type, &smp2.payload, &mut rng).reply.unwrap();
    assert_eq!(
        bob.receive(smp3.tlv_type, &smp3.payload, &mut rng).event,
        Some(outcome(false, SmpRole::Responder, false))
    );
}

/// Either side aborts after each step: the other side reports Aborted, nobody holds secrets,
/// and a message of the aborted run arriving later is out of order (abort reply, WrongState).
#[test]
fn abort_at_every_step() {
    let (ca, cb) = ctxs();
    for stop_after in 1..=3 {
        for alice_aborts in [true, false] {
            let mut rng = rng("abort");
            let mut alice = OtrSmp::new();
            let mut bob = OtrSmp::new();
            let smp1 = alice.start(b"s", None, &ca, &mut rng).unwrap().pop().unwrap();
            bob.receive(smp1.tlv_type, &smp1.payload, &mut rng);
            let mut in_flight = smp1;
            if stop_after >= 2 {
                in_flight = bob.respond(b"s", &cb, &mut rng).unwrap();
            }
            if stop_after >= 3 {
                in_flight = alice.receive(in_flight.tlv_type, &in_flight.payload, &mut rng).reply.unwrap();
            }
            let (aborter, other) = if alice_aborts { (&mut alice, &mut bob) } else { (&mut bob, &mut alice) };
            let abort = aborter.abort();
            assert_eq!(abort, OtrSmpTlv::abort());
            assert!(!aborter.is_in_progress() && !aborter.holds_secrets());
            let step = other.receive(abort.tlv_type, &abort.payload, &mut rng);
            assert_eq!(step.event, Some(OtrSmpEvent::Aborted), "step {stop_after}");
            assert_eq!(step.reply, None);
            assert_eq!(step.error, Some(OtrSmpError::PeerAborted));
            assert!(!other.is_in_progress() && !other.holds_secrets());
            // A second abort while idle is silent.
            assert_eq!(other.receive(TLV_SMP_ABORT, &[], &mut rng), OtrSmpStep::default());
            // The run's last message, late: SMP1 restarts (libotr does the same); the others are
            // out of order.
            let receiver = if in_flight.tlv_type == TLV_SMP3 { &mut bob } else { &mut alice };
            if in_flight.tlv_type != TLV_SMP1 {
                let step = receiver.receive(in_flight.tlv_type, &in_flight.payload, &mut rng);
                assert_eq!(step.event, Some(OtrSmpEvent::WrongState), "step {stop_after}");
                assert_eq!(step.reply, Some(OtrSmpTlv::abort()));
                assert_eq!(step.error, Some(OtrSmpError::UnexpectedMessage { tlv_type: in_flight.tlv_type }));
            }
        }
    }
    // After an abort, a new run succeeds.
    let (alice, bob) = own_run(b"again", b"again", None);
    assert_eq!((alice.trust, bob.trust), (Some(SmpTrust::Verified), Some(SmpTrust::Verified)));
}

/// Both start at once: each SMP1 is out of order at the other (libotr: SMPEVENT_ERROR, the
/// application aborts). Both reply abort and end idle; the aborts then cross silently.
#[test]
fn simultaneous_starts_end_idle_on_both_sides() {
    let (ca, cb) = ctxs();
    let mut rng = rng("simultaneous");
    let mut alice = OtrSmp::new();
    let mut bob = OtrSmp::new();
    let from_alice = alice.start(b"s", None, &ca, &mut rng).unwrap().pop().unwrap();
    let from_bob = bob.start(b"s", None, &cb, &mut rng).unwrap().pop().unwrap();
    let at_bob = bob.receive(from_alice.tlv_type, &from_alice.payload, &mut rng);
    let at_alice = alice.receive(from_bob.tlv_type, &from_bob.payload, &mut rng);
    for step in [&at_bob, &at_alice] {
        assert_eq!(step.event, Some(OtrSmpEvent::WrongState));
        assert_eq!(step.reply, Some(OtrSmpTlv::abort()));
    }
    assert!(!alice.is_in_progress() && !bob.is_in_progress());
    assert_eq!(alice.receive(TLV_SMP_ABORT, &[], &mut rng).event, None);
    assert_eq!(bob.receive(TLV_SMP_ABORT, &[], &mut rng).event, None);
    // Starting again while a run is in progress sends an abort first, in its own message.
    let again = alice.start(b"s", None, &ca, &mut rng).unwrap();
    assert_eq!(again.len(), 1);
    let restart = alice.start(b"s", None, &ca, &mut rng).unwrap();
    assert_eq!(restart.iter().map(|t| t.tlv_type).collect::<Vec<_>>(), [TLV_SMP_ABORT, TLV_SMP1]);
    assert!(matches!(
        bob.receive(restart[1].tlv_type, &restart[1].payload, &mut rng).event,
        Some(OtrSmpEvent::AskedForSecret { .. })
    ));
}

#[test]
fn a_new_smp1_replaces_one_waiting_for_our_secret() {
    let (ca, cb) = ctxs();
    let mut rng = rng("replace");
    let mut alice = OtrSmp::new();
    let mut bob = OtrSmp::new();
    let first = alice.start(b"old", Some("first?"), &ca, &mut rng).unwrap().pop().unwrap();
    bob.receive(first.tlv_type, &first.payload, &mut rng);
    let second = alice.start(b"new", None, &ca, &mut rng).unwrap();
    assert_eq!(second[0], OtrSmpTlv::abort());
    let step = bob.receive(second[1].tlv_type, &second[1].payload, &mut rng);
    assert_eq!(step.event, Some(OtrSmpEvent::AskedForSecret { question: None }));
    // Even without the abort in between (a libotr peer restarting), SMP1 replaces SMP1.
    let third = OtrSmp::new().start(b"x", Some("third?"), &ca, &mut rng).unwrap().pop().unwrap();
    let step = bob.receive(third.tlv_type, &third.payload, &mut rng);
    assert_eq!(step.event, Some(OtrSmpEvent::AskedForSecret { question: Some("third?".into()) }));
    assert!(bob.respond(b"x", &cb, &mut rng).is_ok());
}

#[test]
fn errors_from_calls_change_nothing() {
    let (ca, cb) = ctxs();
    let mut rng = rng("calls");
    let mut bob = OtrSmp::new();
    assert_eq!(bob.respond(b"s", &cb, &mut rng).unwrap_err(), OtrSmpError::NotAwaitingSecret);
    let smp1 = OtrSmp::new().start(b"s", None, &ca, &mut rng).unwrap().pop().unwrap();
    bob.receive(smp1.tlv_type, &smp1.payload, &mut rng);
    let long_secret = vec![b's'; MAX_SECRET_LEN + 1];
    let err = OtrSmpError::SecretTooLong { max: MAX_SECRET_LEN };
    assert_eq!(bob.respond(&long_secret, &cb, &mut rng).unwrap_err(), err);
    assert_eq!(bob.start(&long_secret, None, &cb, &mut rng).unwrap_err(), err);
    let long_question = "q".repeat(MAX_QUESTION_LEN + 1);
    assert_eq!(
        bob.start(b"s", Some(&long_question), &cb, &mut rng).unwrap_err(),
        OtrSmpError::QuestionTooLong { max: MAX_QUESTION_LEN }
    );
    assert_eq!(bob.start(b"s", Some("a\0b"), &cb, &mut rng).unwrap_err(), OtrSmpError::QuestionHasNul);
    assert!(bob.is_awaiting_secret(), "a refused call leaves the pending request alone");
    assert!(bob.start(b"s", Some(&long_question[1..]), &cb, &mut rng).is_ok(), "the caps are inclusive");
    // TLVs that are not SMP's change nothing.
    assert_eq!(bob.receive(0, b"padding", &mut rng), OtrSmpStep::default());
    assert_eq!(bob.receive(8, b"\0\0\0\x01", &mut rng), OtrSmpStep::default());
    assert!(bob.holds_secrets());
}

/// Degenerate values in SMP2 reach our initiator as cheating (the range checks come before any
/// proof), for every element and exponent position.
#[test]
fn degenerate_values_in_smp2_are_cheating() {
    let (ca, cb) = ctxs();
    let mut rng = rng("degenerate");
    let mut bob = OtrSmp::new();
    let smp1 = OtrSmp::new().start(b"s", None, &ca, &mut rng).unwrap().pop().unwrap();
    bob.receive(smp1.tlv_type, &smp1.payload, &mut rng);
    let smp2 = bob.respond(b"s", &cb, &mut rng).unwrap().payload;
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for index in [0, 3, 6, 7] {
        for (what, bad) in bad_elements() {
            cases.push((format!("element {index} = {what}"), replace_mpi(&smp2, index, &bad)));
        }
    }
    for index in [2, 5, 9, 10] {
        for (what, bad) in bad_exponents() {
            cases.push((format!("exponent {index}: {what}"), replace_mpi(&smp2, index, &bad)));
        }
    }
    for (what, value) in cases {
        let mut alice = OtrSmp::new();
        alice.start(b"s", None, &ca, &mut rng).unwrap();
        let step = alice.receive(TLV_SMP2, &value, &mut rng);
        assert_eq!(step.event, Some(OtrSmpEvent::Cheated), "{what}");
        assert!(matches!(step.error, Some(OtrSmpError::BadValue(_))), "{what}: {:?}", step.error);
        assert_eq!(step.reply, Some(OtrSmpTlv::abort()));
        assert!(!alice.holds_secrets());
    }
}

#[test]
fn debug_output_shows_no_secret() {
    let (ca, _) = ctxs();
    let mut alice = OtrSmp::new();
    alice.start(b"hunter2", None, &ca, &mut rng("debug")).unwrap();
    let shown = format!("{alice:?}");
    assert_eq!(shown, "OtrSmp { state: \"Expect2\" }");
}

/// Full-run cost on our side (both parties), printed for BENCHMARKS.md; the bound only catches
/// a pathological slowdown (debug builds are ~20× slower than release).
#[test]
fn full_run_cost() {
    let start = std::time::Instant::now();
    own_run(b"s", b"s", None);
    let elapsed = start.elapsed();
    eprintln!("OTR SMP, full run (both sides, this build profile): {elapsed:?}");
    assert!(elapsed < std::time::Duration::from_secs(60));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Random TLVs never panic and always leave an idle machine idle or waiting for a secret.
    #[test]
    fn random_tlvs_never_panic(tlv_type in 0u16..10, value in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut smp = OtrSmp::new();
        let step = smp.receive(tlv_type, &value, &mut rng("prop"));
        if (TLV_SMP1..=TLV_SMP1Q).contains(&tlv_type) && tlv_type != TLV_SMP_ABORT {
            prop_assert!(step.reply.is_some() || smp.is_awaiting_secret());
        }
        prop_assert!(!smp.holds_secrets());
    }

    /// MPI arrays with the right count and random small MPIs (which pass parsing and reach the
    /// value checks and proofs) never panic and never succeed.
    #[test]
    fn random_mpi_arrays_never_panic(
        tlv_type in 2u16..8,
        values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..24), 0..12),
    ) {
        let mut value = (values.len() as u32).to_be_bytes().to_vec();
        for v in &values {
            value.extend_from_slice(&(v.len() as u32).to_be_bytes());
            value.extend_from_slice(v);
        }
        let mut smp = OtrSmp::new();
        let step = smp.receive(tlv_type, &value, &mut rng("prop"));
        let asked = matches!(step.event, Some(OtrSmpEvent::AskedForSecret { .. }));
        prop_assert!(!asked, "random MPIs were accepted as SMP1");
        prop_assert!(!smp.is_in_progress());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// The same for a machine mid-run (each case pays for one start).
    #[test]
    fn random_tlvs_mid_run_never_panic(tlv_type in 2u16..8, value in proptest::collection::vec(any::<u8>(), 0..400)) {
        let (ca, _) = ctxs();
        let mut smp = OtrSmp::new();
        smp.start(b"s", None, &ca, &mut rng("prop")).unwrap();
        let step = smp.receive(tlv_type, &value, &mut rng("prop"));
        if tlv_type != TLV_SMP_ABORT {
            prop_assert_eq!(step.reply, Some(OtrSmpTlv::abort()));
        }
        prop_assert!(!smp.is_in_progress() && !smp.holds_secrets());
    }
}
