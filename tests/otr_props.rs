//! No OTR parser, AKE state or data session panics on arbitrary bytes: random input, inputs
//! that start with a valid header of every type, and mutations (flips, cuts, insertions) of
//! real libotr messages from the vectors.

mod otr_support;

use offrec::crypto::DeterministicRandom;
use offrec::otr::ake::{Ake, AkeOutcome};
use offrec::otr::data::DataSession;
use offrec::otr::identity::DsaPublicKey;
use offrec::otr::message::{parse_header, DataMessage, DhCommit, DhKey, OtrVersion, RevealSignature, Signature};
use offrec::otr::tlv::decode_plaintext;
use offrec::wire::InstanceTag;
use otr_support::{unhex, Script, Vector};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn parse_everything(bytes: &[u8]) {
    let _ = parse_header(bytes);
    let _ = DhCommit::parse(bytes);
    let _ = DhKey::parse(bytes);
    let _ = RevealSignature::parse(bytes);
    let _ = Signature::parse(bytes);
    let _ = DataMessage::parse(bytes);
    let _ = DataMessage::peek_flags(bytes);
    let _ = DsaPublicKey::from_bytes(bytes);
    let _ = decode_plaintext(bytes);
}

fn header_prefix() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![2u8, 3]),
        prop::sample::select(vec![0x02u8, 0x0a, 0x11, 0x12, 0x03]),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|(version, kind, sender, receiver)| {
            let mut out = vec![0, version, kind];
            if version == 3 {
                out.extend_from_slice(&(sender | 0x100).to_be_bytes());
                out.extend_from_slice(&receiver.to_be_bytes());
            }
            out
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..700)) {
        parse_everything(&bytes);
    }

    #[test]
    fn valid_headers_with_random_bodies_never_panic(
        prefix in header_prefix(),
        body in prop::collection::vec(any::<u8>(), 0..700),
    ) {
        let mut bytes = prefix;
        bytes.extend_from_slice(&body);
        parse_everything(&bytes);
    }

    #[test]
    fn plausible_lengths_never_panic(
        prefix in header_prefix(),
        fields in prop::collection::vec((0u32..600, prop::collection::vec(any::<u8>(), 0..80)), 0..6),
    ) {
        // Length-prefixed fields with lengths near the real ones, to reach the deeper checks.
        let mut bytes = prefix;
        for (len, filler) in fields {
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes.extend_from_slice(&filler);
        }
        parse_everything(&bytes);
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Cut(usize),
    Insert(usize, u8),
    SetLength(usize, u32),
}

fn mutate(bytes: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for mutation in mutations {
        if out.is_empty() {
            break;
        }
        match *mutation {
            Mutation::Flip(at, mask) => {
                let at = at % out.len();
                out[at] ^= mask.max(1);
            }
            Mutation::Cut(at) => out.truncate(at % out.len()),
            Mutation::Insert(at, byte) => {
                let at = at % (out.len() + 1);
                out.insert(at, byte);
            }
            Mutation::SetLength(at, value) => {
                let at = at % out.len();
                let end = (at + 4).min(out.len());
                out[at..end].copy_from_slice(&value.to_be_bytes()[..end - at]);
            }
        }
    }
    out
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(a, m)| Mutation::Flip(a, m)),
        any::<usize>().prop_map(Mutation::Cut),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::Insert(a, b)),
        (any::<usize>(), prop_oneof![Just(0u32), Just(1), Just(16), Just(20), Just(32), Just(u32::MAX), any::<u32>()])
            .prop_map(|(a, v)| Mutation::SetLength(a, v)),
    ]
}

/// Mutated libotr messages fed to the parsers, to an offrec Alice in every AKE state libotr's
/// messages would meet, and to an established offrec session.
#[test]
fn mutated_libotr_messages_never_panic() {
    let vector = Vector::v3();
    let messages: Vec<Vec<u8>> =
        vector.messages().iter().filter_map(|m| m.get("binary").map(|b| unhex(b.as_str().unwrap()))).collect();
    let alice_identity = vector.identity("alice");
    let alice_tag = InstanceTag(vector.instance_tag("alice"));
    let secrets = vector.dh_secrets("alice");

    // Alice after each AKE step, and her data session (offrec plays Alice with libotr's keys).
    let mut script = Script::new(secrets.clone());
    let mut ake = Ake::new(OtrVersion::V3, alice_tag, InstanceTag::NONE);
    let fresh = ake.clone();
    let _ = ake.receive(&messages[0], &alice_identity, &mut script).unwrap();
    let awaiting_reveal = ake.clone();
    let AkeOutcome::Established { session, .. } = ake.receive(&messages[2], &alice_identity, &mut script).unwrap()
    else {
        panic!("libotr's reveal verifies")
    };
    let data = std::cell::RefCell::new(DataSession::new(*session, &mut script).unwrap());

    let mut runner = TestRunner::new(Config { cases: 384, ..Config::default() });
    let strategy = (0..messages.len(), prop::collection::vec(mutation(), 1..4));
    runner
        .run(&strategy, |(index, mutations)| {
            let bytes = mutate(&messages[index], &mutations);
            parse_everything(&bytes);
            let mut rng = DeterministicRandom::from_label("mutations");
            for state in [&fresh, &awaiting_reveal] {
                let mut ake = state.clone();
                let _ = ake.receive(&bytes, &alice_identity, &mut rng);
            }
            let _ = data.borrow_mut().decrypt(&bytes, &mut rng);
            Ok(())
        })
        .unwrap();
}
