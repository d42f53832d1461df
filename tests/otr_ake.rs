//! The OTR AKE between two offrec `Ake` objects (v3 and v2): normal runs, crossed commits in
//! both orders, retransmissions, several instances answering one commit (copy-on-key),
//! routing by version and instance tag, reflection, and forged or corrupted messages, which
//! must be refused with the exchange left as it was.

mod otr_support;

use offrec::crypto::{DeterministicRandom, RandomSource};
use offrec::otr::ake::{Ake, AkeError, AkeOutcome, AkeState, EstablishedAke, IgnoreReason, SsidBoldHalf};
use offrec::otr::data::symmetric::{aes128_ctr, hmac_sha256};
use offrec::otr::data::DhKeyPair;
use offrec::otr::group::Exponent;
use offrec::otr::identity::{DsaIdentity, IdentityError};
use offrec::otr::kdf::AkeKeys;
use offrec::otr::message::{DhKey, Header, MessageError, MessageType, OtrVersion, RevealSignature};
use offrec::otr::mpi;
use offrec::wire::{InstanceTag, Writer};
use otr_support::{Script, Vector};

const ALICE_TAG: InstanceTag = InstanceTag(0x1111_1111);
const BOB_TAG: InstanceTag = InstanceTag(0x2222_2222);

struct Party {
    identity: DsaIdentity,
    ake: Ake,
    rng: DeterministicRandom,
    established: Option<EstablishedAke>,
}

fn identities() -> (DsaIdentity, DsaIdentity) {
    let vector = Vector::v3();
    (vector.identity("alice"), vector.identity("bob"))
}

fn parties(version: OtrVersion, seed: &str) -> (Party, Party) {
    let (alice, bob) = identities();
    (
        Party {
            identity: alice,
            ake: Ake::new(version, ALICE_TAG, InstanceTag::NONE),
            rng: DeterministicRandom::from_label(&format!("{seed} alice")),
            established: None,
        },
        Party {
            identity: bob,
            ake: Ake::new(version, BOB_TAG, InstanceTag::NONE),
            rng: DeterministicRandom::from_label(&format!("{seed} bob")),
            established: None,
        },
    )
}

impl Party {
    fn receive(&mut self, bytes: &[u8]) -> Option<Vec<u8>> {
        match self.ake.receive(bytes, &self.identity, &mut self.rng).unwrap() {
            AkeOutcome::Reply(reply) => Some(reply),
            AkeOutcome::Established { reply, session } => {
                assert!(self.established.is_none(), "established twice");
                self.established = Some(*session);
                reply
            }
            AkeOutcome::Ignored(_) => None,
        }
    }
}

/// Delivers messages in FIFO order until nothing is left; returns how many were delivered.
fn run(alice: &mut Party, bob: &mut Party, mut queue: Vec<(bool, Vec<u8>)>) -> usize {
    let mut delivered = 0;
    while !queue.is_empty() {
        let (to_alice, bytes) = queue.remove(0);
        delivered += 1;
        assert!(delivered < 20, "the AKE does not converge");
        let reply = if to_alice { alice.receive(&bytes) } else { bob.receive(&bytes) };
        if let Some(reply) = reply {
            queue.push((!to_alice, reply));
        }
    }
    delivered
}

fn check_agreement(alice: &Party, bob: &Party, version: OtrVersion) {
    let a = alice.established.as_ref().expect("alice established");
    let b = bob.established.as_ref().expect("bob established");
    assert_eq!(a.ssid, b.ssid);
    // The two words clients print are the ssid's halves, big-endian.
    let (high, low) = a.ssid_words();
    assert_eq!([high.to_be_bytes(), low.to_be_bytes()].concat(), a.ssid);
    assert_ne!(a.bold_half, b.bold_half);
    assert_eq!(a.their_fingerprint, bob.identity.fingerprint());
    assert_eq!(b.their_fingerprint, alice.identity.fingerprint());
    assert_eq!(a.their_dh, *b.our_dh.public());
    assert_eq!(b.their_dh, *a.our_dh.public());
    assert_eq!((a.our_keyid, a.their_keyid, b.our_keyid, b.their_keyid), (1, 1, 1, 1));
    assert_eq!((a.version, b.version), (version, version));
    match version {
        OtrVersion::V3 => {
            assert_eq!((a.our_tag, a.their_tag), (ALICE_TAG, BOB_TAG));
            assert_eq!((b.our_tag, b.their_tag), (BOB_TAG, ALICE_TAG));
        }
        OtrVersion::V2 => {
            assert!(a.their_tag.is_none() && b.their_tag.is_none());
        }
    }
    assert_eq!(alice.ake.state(), AkeState::None);
    assert_eq!(bob.ake.state(), AkeState::None);
}

#[test]
fn ake_completes_v3_and_v2() {
    for version in [OtrVersion::V3, OtrVersion::V2] {
        let (mut alice, mut bob) = parties(version, "plain");
        let commit = bob.ake.start(&mut bob.rng).unwrap();
        assert_eq!(&commit[..2], &[0, version.wire() as u8]);
        assert_eq!(run(&mut alice, &mut bob, vec![(true, commit)]), 4);
        check_agreement(&alice, &bob, version);
        assert_eq!(
            bob.established.as_ref().unwrap().bold_half,
            SsidBoldHalf::First,
            "the committer sent the Reveal Signature"
        );
    }
}

#[test]
fn crossed_commits_converge_in_both_orders() {
    let mut seen_winner = [false, false];
    for seed in 0..8 {
        for alice_first in [true, false] {
            let (mut alice, mut bob) = parties(OtrVersion::V3, &format!("crossed {seed}"));
            let from_alice = alice.ake.start(&mut alice.rng).unwrap();
            let from_bob = bob.ake.start(&mut bob.rng).unwrap();
            // The commit ends with the 32-byte hash of g^x: the higher one wins.
            let alice_wins = from_alice[from_alice.len() - 32..] > from_bob[from_bob.len() - 32..];
            let queue = if alice_first {
                vec![(true, from_bob), (false, from_alice)]
            } else {
                vec![(false, from_alice), (true, from_bob)]
            };
            let delivered = run(&mut alice, &mut bob, queue);
            check_agreement(&alice, &bob, OtrVersion::V3);
            assert!(delivered <= 8, "{delivered} messages");
            seen_winner[usize::from(alice_wins)] = true;
            // The higher commit's sender sent the Reveal Signature.
            let expected = if alice_wins { SsidBoldHalf::First } else { SsidBoldHalf::Second };
            assert_eq!(alice.established.as_ref().unwrap().bold_half, expected);
        }
    }
    assert!(seen_winner[0] && seen_winner[1], "both parties won a crossing at least once");
}

#[test]
fn retransmissions_get_the_same_answers() {
    let (mut alice, mut bob) = parties(OtrVersion::V3, "retransmit");
    let commit = bob.ake.start(&mut bob.rng).unwrap();
    assert_eq!(bob.ake.last_message(), Some(&commit[..]));
    let key = alice.receive(&commit).unwrap();
    // A retransmitted commit gets the same D-H Key.
    assert_eq!(alice.receive(&commit).unwrap(), key);
    let reveal = bob.receive(&key).unwrap();
    // A retransmitted D-H Key gets the same Reveal Signature.
    assert_eq!(bob.receive(&key).unwrap(), reveal);
    // Another D-H Key is ignored while waiting for the Signature.
    let other = DhKey {
        header: Header::new(OtrVersion::V3, MessageType::DhKey, ALICE_TAG, BOB_TAG),
        gy: DhKeyPair::generate(&mut DeterministicRandom::from_label("other")).unwrap().public().clone(),
    };
    assert!(matches!(
        bob.ake.receive(&other.to_bytes(), &bob.identity, &mut bob.rng).unwrap(),
        AkeOutcome::Ignored(IgnoreReason::OtherDhKey)
    ));
    let signature = alice.receive(&reveal).unwrap();
    // A late duplicate Reveal Signature is ignored once done.
    assert!(matches!(
        alice.ake.receive(&reveal, &alice.identity, &mut alice.rng).unwrap(),
        AkeOutcome::Ignored(IgnoreReason::WrongState)
    ));
    assert!(bob.receive(&signature).is_none());
    check_agreement(&alice, &bob, OtrVersion::V3);
    assert!(matches!(
        bob.ake.receive(&signature, &bob.identity, &mut bob.rng).unwrap(),
        AkeOutcome::Ignored(IgnoreReason::WrongState)
    ));
}

#[test]
fn a_new_commit_restarts_an_exchange_waiting_for_the_signature() {
    let (mut alice, mut bob) = parties(OtrVersion::V3, "restart");
    let commit = bob.ake.start(&mut bob.rng).unwrap();
    let key = alice.receive(&commit).unwrap();
    let _reveal = bob.receive(&key).unwrap();
    assert_eq!(bob.ake.state(), AkeState::AwaitingSignature);
    // Alice starts over: Bob answers her commit with a new D-H Key.
    let alice_commit = alice.ake.start(&mut alice.rng).unwrap();
    let bob_key = bob.receive(&alice_commit).unwrap();
    assert_eq!(bob.ake.state(), AkeState::AwaitingRevealSignature);
    assert_ne!(DhKey::parse(&bob_key).unwrap().gy, DhKey::parse(&key).unwrap().gy);
    assert_eq!(run(&mut alice, &mut bob, vec![(true, bob_key)]), 3);
    check_agreement(&alice, &bob, OtrVersion::V3);
}

#[test]
fn reset_abandons_the_exchange_in_progress() {
    let (mut alice, mut bob) = parties(OtrVersion::V3, "reset");
    let commit = bob.ake.start(&mut bob.rng).unwrap();
    let key = alice.receive(&commit).unwrap();
    bob.ake.reset();
    assert_eq!(bob.ake.state(), AkeState::None);
    assert_eq!(bob.ake.last_message(), None, "nothing left to retransmit");
    // Alice's answer to the abandoned commit continues nothing.
    assert_eq!(bob.receive(&key), None);
    assert_eq!(bob.ake.state(), AkeState::None);
    assert!(bob.established.is_none());
}

#[test]
fn one_commit_serves_several_instances_by_cloning() {
    let (alice_identity, bob_identity) = identities();
    let mut rng = DeterministicRandom::from_label("instances");
    let mut bob = Ake::new(OtrVersion::V3, BOB_TAG, InstanceTag::NONE);
    let commit = bob.start(&mut rng).unwrap();
    let waiting = bob.clone();
    let tags = [InstanceTag(0x3000), InstanceTag(0x4000)];
    let mut sessions = Vec::new();
    for tag in tags {
        let mut alice = Ake::new(OtrVersion::V3, tag, InstanceTag::NONE);
        let AkeOutcome::Reply(key) = alice.receive(&commit, &alice_identity, &mut rng).unwrap() else { panic!() };
        // Bob's conversation serves each new instance from a copy of the waiting exchange.
        let mut bob_for_instance = waiting.clone();
        let AkeOutcome::Reply(reveal) = bob_for_instance.receive(&key, &bob_identity, &mut rng).unwrap() else {
            panic!()
        };
        assert_eq!(bob_for_instance.their_tag(), tag);
        let AkeOutcome::Established { reply: Some(signature), session: alice_session } =
            alice.receive(&reveal, &alice_identity, &mut rng).unwrap()
        else {
            panic!()
        };
        let AkeOutcome::Established { session: bob_session, .. } =
            bob_for_instance.receive(&signature, &bob_identity, &mut rng).unwrap()
        else {
            panic!()
        };
        assert_eq!(alice_session.ssid, bob_session.ssid);
        assert_eq!(bob_session.their_tag, tag);
        sessions.push(bob_session.ssid);
        // The uncloned exchange adopts the first instance that answers and ignores the others.
        if tag == tags[0] {
            assert!(matches!(bob.receive(&key, &bob_identity, &mut rng).unwrap(), AkeOutcome::Reply(_)));
        } else {
            assert!(matches!(
                bob.receive(&key, &bob_identity, &mut rng).unwrap(),
                AkeOutcome::Ignored(IgnoreReason::OtherInstance)
            ));
        }
    }
    assert_ne!(sessions[0], sessions[1], "each instance has its own session");
}

#[test]
fn routing_by_version_and_instance() {
    let (mut alice, mut bob) = parties(OtrVersion::V3, "routing");
    let commit = bob.ake.start(&mut bob.rng).unwrap();
    // A v2 Ake ignores v3 messages.
    let mut v2 = Ake::new(OtrVersion::V2, ALICE_TAG, InstanceTag::NONE);
    assert!(matches!(
        v2.receive(&commit, &alice.identity, &mut alice.rng).unwrap(),
        AkeOutcome::Ignored(IgnoreReason::WrongVersion)
    ));
    let key = alice.receive(&commit).unwrap();
    // The D-H Key is for Bob's tag; another instance of Bob's ignores it.
    let mut other_bob = bob.ake.clone();
    let mut to_other = key.clone();
    to_other[7..11].copy_from_slice(&0x2222_3333u32.to_be_bytes());
    assert!(matches!(
        other_bob.receive(&to_other, &bob.identity, &mut bob.rng).unwrap(),
        AkeOutcome::Ignored(IgnoreReason::NotForUs)
    ));
    // Receiver 0 is only for commits.
    let mut to_anyone = key.clone();
    to_anyone[7..11].copy_from_slice(&[0; 4]);
    assert!(matches!(
        other_bob.receive(&to_anyone, &bob.identity, &mut bob.rng).unwrap(),
        AkeOutcome::Ignored(IgnoreReason::NotForUs)
    ));
    assert_eq!(other_bob.state(), AkeState::AwaitingDhKey);
    let reveal = bob.receive(&key).unwrap();
    // An exchange with Bob's instance ignores another Bob instance's messages.
    let mut from_other = reveal.clone();
    from_other[3..7].copy_from_slice(&0x2222_4444u32.to_be_bytes());
    let mut alice_other = Ake::new(OtrVersion::V3, ALICE_TAG, BOB_TAG);
    assert!(matches!(
        alice_other.receive(&from_other, &alice.identity, &mut alice.rng).unwrap(),
        AkeOutcome::Ignored(IgnoreReason::OtherInstance)
    ));
    // And one idle exchange ignores a Reveal Signature.
    assert!(matches!(
        alice_other.receive(&reveal, &alice.identity, &mut alice.rng).unwrap(),
        AkeOutcome::Ignored(IgnoreReason::WrongState)
    ));
    let signature = alice.receive(&reveal).unwrap();
    let mut signature_other = signature.clone();
    signature_other[3..7].copy_from_slice(&0x1111_2222u32.to_be_bytes());
    assert!(matches!(
        bob.ake.receive(&signature_other, &bob.identity, &mut bob.rng).unwrap(),
        AkeOutcome::Ignored(IgnoreReason::OtherInstance)
    ));
    assert!(bob.receive(&signature).is_none());
    check_agreement(&alice, &bob, OtrVersion::V3);
    // Data messages are not the AKE's.
    assert!(matches!(
        bob.ake
            .receive(&[0, 3, 3, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22], &bob.identity, &mut bob.rng)
            .unwrap(),
        AkeOutcome::Ignored(IgnoreReason::NotAkeMessage)
    ));
}

#[test]
fn reflected_messages_are_ignored() {
    let (alice_identity, _) = identities();
    let mut rng = DeterministicRandom::from_label("reflect");
    let mut ake = Ake::new(OtrVersion::V3, ALICE_TAG, InstanceTag::NONE);
    let commit = ake.start(&mut rng).unwrap();
    // Our own commit, sent back to us (the sender tag is ours, but the hash is what tells).
    let mut reflected = commit.clone();
    reflected[3..7].copy_from_slice(&BOB_TAG.0.to_be_bytes());
    assert!(matches!(
        ake.receive(&reflected, &alice_identity, &mut rng).unwrap(),
        AkeOutcome::Ignored(IgnoreReason::Reflected)
    ));
    assert_eq!(ake.state(), AkeState::AwaitingDhKey);

    // Our own g^x as a D-H Key: recover it through a scripted run.
    let secret = vec![7u8; 40];
    let mut script = Script::new(vec![secret.clone(), vec![9; 16]]);
    let mut ake = Ake::new(OtrVersion::V3, ALICE_TAG, InstanceTag::NONE);
    ake.start(&mut script).unwrap();
    let ours = DhKeyPair::from_secret(Exponent::from_be_bytes(&secret).unwrap());
    let key = DhKey {
        header: Header::new(OtrVersion::V3, MessageType::DhKey, BOB_TAG, ALICE_TAG),
        gy: ours.public().clone(),
    };
    assert!(matches!(
        ake.receive(&key.to_bytes(), &alice_identity, &mut rng).unwrap(),
        AkeOutcome::Ignored(IgnoreReason::Reflected)
    ));
    assert_eq!(ake.state(), AkeState::AwaitingDhKey);
}

/// Alice waiting for Bob's Reveal Signature, with both DH secrets known, so a test can forge
/// Reveal Signatures with the right keys but wrong contents.
struct Forgery {
    alice: Party,
    bob_identity: DsaIdentity,
    keys: AkeKeys,
    gx: Vec<u8>,
    gy: Vec<u8>,
    r: [u8; 16],
    genuine: Vec<u8>,
}

fn forgery() -> Forgery {
    let (mut alice, mut bob) = parties(OtrVersion::V3, "forgery");
    let bob_secret = vec![0x42u8; 40];
    let r = [0x24u8; 16];
    let mut script = Script::new(vec![bob_secret.clone(), r.to_vec()]);
    let commit = bob.ake.start(&mut script).unwrap();
    let alice_secret = vec![0x17u8; 40];
    alice.rng = DeterministicRandom::from_label("unused");
    let AkeOutcome::Reply(key) =
        alice.ake.receive(&commit, &alice.identity, &mut Script::new(vec![alice_secret.clone()])).unwrap()
    else {
        panic!()
    };
    let genuine = bob.receive(&key).unwrap();
    let bob_pair = DhKeyPair::from_secret(Exponent::from_be_bytes(&bob_secret).unwrap());
    let alice_pair = DhKeyPair::from_secret(Exponent::from_be_bytes(&alice_secret).unwrap());
    let keys = AkeKeys::derive(&bob_pair.shared_secbytes(alice_pair.public()));
    Forgery {
        alice,
        bob_identity: bob.identity,
        keys,
        gx: bob_pair.public().to_minimal_bytes(),
        gy: alice_pair.public().to_minimal_bytes(),
        r,
        genuine,
    }
}

impl Forgery {
    /// A Reveal Signature with Bob's block replaced by `plain_block`, encrypted and MACed with
    /// the right keys.
    fn reveal_with_block(&self, plain_block: &[u8]) -> Vec<u8> {
        let mut encrypted = plain_block.to_vec();
        aes128_ctr(&self.keys.c, &[0; 8], &mut encrypted);
        let len = (encrypted.len() as u32).to_be_bytes();
        let mac = hmac_sha256(&self.keys.m2, &[&len, &encrypted]);
        RevealSignature {
            header: Header::new(OtrVersion::V3, MessageType::RevealSignature, BOB_TAG, ALICE_TAG),
            r: self.r,
            encrypted_signature: encrypted,
            mac: mac[..20].try_into().unwrap(),
        }
        .to_bytes()
    }

    /// Bob's block, signed over `m` instead of the right value.
    fn block(&self, public_key: &[u8], keyid: u32, signed: Option<[u8; 32]>) -> Vec<u8> {
        let m = signed.unwrap_or_else(|| {
            hmac_sha256(
                &self.keys.m1,
                &[&mpi::encode(&self.gx), &mpi::encode(&self.gy), public_key, &keyid.to_be_bytes()],
            )
        });
        let signature = self.bob_identity.sign(&m).unwrap();
        let mut w = Writer::new();
        w.bytes(public_key).u32(keyid).bytes(&signature);
        w.into_vec()
    }

    fn refuses(&mut self, message: &[u8]) -> AkeError {
        let error = self.alice.ake.receive(message, &self.alice.identity, &mut self.alice.rng).unwrap_err();
        assert_eq!(self.alice.ake.state(), AkeState::AwaitingRevealSignature, "state unchanged after {error:?}");
        error
    }
}

#[test]
fn forged_and_corrupted_reveal_signatures_are_refused_without_state_change() {
    let mut f = forgery();
    let bob_key = f.bob_identity.public_key().to_bytes().to_vec();
    // Sanity: the forging helper makes an acceptable message when nothing is wrong.
    let honest = f.reveal_with_block(&f.block(&bob_key, 1, None));

    // Bit flips in the MAC, the block, r.
    let mut bad = f.genuine.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(f.refuses(&bad), AkeError::BadMac);
    let mut bad = f.genuine.clone();
    bad[11 + 4 + 16 + 4 + 10] ^= 1;
    assert_eq!(f.refuses(&bad), AkeError::BadMac);
    let mut bad = f.genuine.clone();
    bad[11 + 4] ^= 1;
    assert_eq!(f.refuses(&bad), AkeError::CommitmentMismatch);
    // Right keys, wrong contents.
    assert_eq!(f.refuses(&f.reveal_with_block(&f.block(&bob_key, 1, Some([1; 32])))), AkeError::BadSignature);
    assert_eq!(f.refuses(&f.reveal_with_block(&f.block(&bob_key, 0, None))), AkeError::MalformedBlock);
    let mut short = f.block(&bob_key, 1, None);
    short.pop();
    assert_eq!(f.refuses(&f.reveal_with_block(&short)), AkeError::BadSignature);
    // Someone else's key claiming Bob's signature.
    let alice_key = f.alice.identity.public_key().to_bytes().to_vec();
    assert_eq!(f.refuses(&f.reveal_with_block(&f.block(&alice_key, 1, None))), AkeError::BadSignature);
    // A PUBKEY with a non-minimal MPI (a leading zero before p) is refused.
    let mut padded = vec![0, 0];
    let p_len = u32::from_be_bytes(bob_key[2..6].try_into().unwrap());
    padded.extend_from_slice(&(p_len + 1).to_be_bytes());
    padded.push(0);
    padded.extend_from_slice(&bob_key[6..]);
    assert_eq!(
        f.refuses(&f.reveal_with_block(&f.block(&padded, 1, None))),
        AkeError::BadPublicKey(IdentityError::NonMinimalMpi)
    );
    let mut wrong_type = bob_key.clone();
    wrong_type[1] = 1;
    assert_eq!(
        f.refuses(&f.reveal_with_block(&f.block(&wrong_type, 1, None))),
        AkeError::BadPublicKey(IdentityError::UnsupportedKeyType)
    );
    // Not a Reveal Signature at all.
    let cut = f.genuine[..40].to_vec();
    assert!(matches!(f.refuses(&cut), AkeError::Malformed(MessageError::Wire(_))));

    // After all that, the honest messages still work.
    let AkeOutcome::Established { session, .. } =
        f.alice.ake.receive(&honest, &f.alice.identity, &mut f.alice.rng).unwrap()
    else {
        panic!("the forging helper's honest message is accepted")
    };
    assert_eq!(session.their_fingerprint, f.bob_identity.fingerprint());
    let mut again = forgery();
    let genuine = again.genuine.clone();
    assert!(matches!(
        again.alice.ake.receive(&genuine, &again.alice.identity, &mut again.alice.rng).unwrap(),
        AkeOutcome::Established { .. }
    ));
}

#[test]
fn corrupted_signature_messages_are_refused_without_state_change() {
    let (mut alice, mut bob) = parties(OtrVersion::V2, "signature");
    let commit = bob.ake.start(&mut bob.rng).unwrap();
    let key = alice.receive(&commit).unwrap();
    let reveal = bob.receive(&key).unwrap();
    let signature = alice.receive(&reveal).unwrap();
    for position in [3, 3 + 4 + 5, signature.len() - 21, signature.len() - 1] {
        let mut bad = signature.clone();
        bad[position] ^= 0x80;
        let error = bob.ake.receive(&bad, &bob.identity, &mut bob.rng).unwrap_err();
        assert!(matches!(error, AkeError::BadMac | AkeError::Malformed(_)), "{error:?}");
        assert_eq!(bob.ake.state(), AkeState::AwaitingSignature);
    }
    assert!(bob.receive(&signature).is_none());
    check_agreement(&alice, &bob, OtrVersion::V2);
}

#[test]
fn random_source_failure_is_an_error_not_a_panic() {
    struct Broken;
    impl RandomSource for Broken {
        fn fill(&mut self, _: &mut [u8]) -> Result<(), offrec::crypto::RandomError> {
            Err(offrec::crypto::RandomError)
        }
    }
    let mut ake = Ake::new(OtrVersion::V3, ALICE_TAG, InstanceTag::NONE);
    assert_eq!(ake.start(&mut Broken).unwrap_err(), AkeError::Random);
    assert_eq!(ake.state(), AkeState::None);
    let (_, mut bob) = parties(OtrVersion::V3, "broken");
    let commit = bob.ake.start(&mut bob.rng).unwrap();
    let (alice_identity, _) = identities();
    assert_eq!(ake.receive(&commit, &alice_identity, &mut Broken).unwrap_err(), AkeError::Random);
    assert_eq!(ake.state(), AkeState::None);
}

/// Costs, printed: `cargo test --test otr_ake -- --ignored --nocapture` (dev profile, with the
/// crypto crates optimised as Cargo.toml sets).
#[test]
#[ignore]
fn timings() {
    use std::time::Instant;
    let mut rng = offrec::crypto::OsRandom;
    for _ in 0..3 {
        let start = Instant::now();
        let identity = DsaIdentity::generate(&mut rng).unwrap();
        println!("DSA-1024 key generation: {:?}", start.elapsed());
        drop(identity);
    }
    let (alice_identity, bob_identity) = identities();
    let rounds = 10;
    let (mut initiator, mut responder) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    for _ in 0..rounds {
        let mut bob = Ake::new(OtrVersion::V3, BOB_TAG, InstanceTag::NONE);
        let mut alice = Ake::new(OtrVersion::V3, ALICE_TAG, InstanceTag::NONE);
        let t = Instant::now();
        let commit = bob.start(&mut rng).unwrap();
        initiator += t.elapsed();
        let t = Instant::now();
        let AkeOutcome::Reply(key) = alice.receive(&commit, &alice_identity, &mut rng).unwrap() else { panic!() };
        responder += t.elapsed();
        let t = Instant::now();
        let AkeOutcome::Reply(reveal) = bob.receive(&key, &bob_identity, &mut rng).unwrap() else { panic!() };
        initiator += t.elapsed();
        let t = Instant::now();
        let AkeOutcome::Established { reply: Some(signature), .. } =
            alice.receive(&reveal, &alice_identity, &mut rng).unwrap()
        else {
            panic!()
        };
        responder += t.elapsed();
        let t = Instant::now();
        let AkeOutcome::Established { .. } = bob.receive(&signature, &bob_identity, &mut rng).unwrap() else {
            panic!()
        };
        initiator += t.elapsed();
    }
    println!("AKE per side: initiator {:?}, responder {:?}", initiator / rounds, responder / rounds);
}

#[test]
#[ignore]
fn timings_parts() {
    use std::time::Instant;
    let (alice_identity, _) = identities();
    let mut rng = offrec::crypto::OsRandom;
    let n = 20;
    let t = Instant::now();
    for _ in 0..n {
        alice_identity.sign(&[5; 32]).unwrap();
    }
    println!("sign {:?}", t.elapsed() / n);
    let sig = alice_identity.sign(&[5; 32]).unwrap();
    let t = Instant::now();
    for _ in 0..n {
        alice_identity.public_key().verify(&[5; 32], &sig).unwrap();
    }
    println!("verify {:?}", t.elapsed() / n);
    let t = Instant::now();
    for _ in 0..n {
        offrec::otr::identity::DsaPublicKey::from_bytes(alice_identity.public_key().to_bytes()).unwrap();
    }
    println!("pubkey parse {:?}", t.elapsed() / n);
    let t = Instant::now();
    let mut pairs = Vec::new();
    for _ in 0..n {
        pairs.push(DhKeyPair::generate(&mut rng).unwrap());
    }
    println!("dh keygen {:?}", t.elapsed() / n);
    let t = Instant::now();
    for pair in &pairs {
        pair.shared_secbytes(pairs[0].public());
    }
    println!("dh shared {:?}", t.elapsed() / n);
    let t = Instant::now();
    for pair in &pairs {
        offrec::otr::group::Element::from_peer(&pair.public().to_minimal_bytes()).unwrap();
    }
    println!("element check {:?}", t.elapsed() / n);
}
