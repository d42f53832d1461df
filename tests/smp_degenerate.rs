//! Degenerate differences in SMP with *valid* proofs. A cheating initiator who learned Bob's
//! `r4` (here: from the test's deterministic randomness, standing in for any leak) can send
//! `Pa = Pb` with correct proofs. Only the `Pa − Pb ≠ identity` check tells this apart from an
//! honest run; without it the run reports an ordinary failure instead of an attack.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use offrec::crypto::random::{DeterministicRandom, RandomError, RandomSource};
use offrec::smp::messages::{Smp1, Smp2, Smp3};
use offrec::smp::proofs::{CoordsProof, CoordsStatement, EqualLogsProof, EqualLogsStatement, TAG_PQ_A, TAG_R_A};
use offrec::smp::{Smp, SmpContext, SmpError, SmpEvent, TLV_SMP3};

const SSID: [u8; 32] = [9; 32];
const FP_A: [u8; 32] = [2; 32];
const FP_B: [u8; 32] = [3; 32];

/// A deterministic source that remembers every byte it handed out.
struct Recording {
    inner: DeterministicRandom,
    log: Vec<u8>,
}

impl RandomSource for Recording {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), RandomError> {
        self.inner.fill(out)?;
        self.log.extend_from_slice(out);
        Ok(())
    }
}

impl Recording {
    fn new(label: &str) -> Self {
        Recording { inner: DeterministicRandom::from_label(label), log: Vec::new() }
    }

    /// Every scalar drawn so far (each draw is 64 bytes reduced mod ℓ).
    fn scalars(&self) -> Vec<Scalar> {
        self.log.chunks_exact(64).map(|c| Scalar::from_bytes_mod_order_wide(c.try_into().unwrap())).collect()
    }

    /// The drawn scalar `s` with `base·s == target`.
    fn exponent_of(&self, base: &RistrettoPoint, target: &RistrettoPoint) -> Scalar {
        *self.scalars().iter().find(|s| base * *s == *target).expect("exponent among the draws")
    }
}

#[test]
fn pa_equal_to_pb_with_valid_proofs_is_detected_as_cheating() {
    let mut alice = Smp::new(SmpContext { ssid: SSID, our_fingerprint: FP_A, their_fingerprint: FP_B });
    let mut bob = Smp::new(SmpContext { ssid: SSID, our_fingerprint: FP_B, their_fingerprint: FP_A });
    let mut ra = Recording::new("alice smp");
    let mut rb = Recording::new("bob smp");

    let smp1 = alice.start(b"alice's secret", None, &mut ra).unwrap().pop().unwrap();
    let parsed1 = Smp1::parse(&smp1.payload).unwrap();
    let a2 = ra.exponent_of(&RistrettoPoint::mul_base(&Scalar::ONE), &parsed1.g2a);
    let a3 = ra.exponent_of(&RistrettoPoint::mul_base(&Scalar::ONE), &parsed1.g3a);
    assert!(bob.receive(smp1.tlv_type, &smp1.payload, &mut rb).event.is_some());
    let smp2 = bob.respond(b"bob's different secret", &mut rb).unwrap();
    let parsed2 = Smp2::parse(&smp2.payload).unwrap();

    // Alice's view of the shared generators, and Bob's r4 recovered from his draws.
    let g2 = parsed2.g2b * a2;
    let g3 = parsed2.g3b * a3;
    let r4_bob = rb.exponent_of(&g3, &parsed2.pb);

    // Pa = Pb, with Qa for another secret, and proofs that verify.
    let x = Scalar::from(12345u64);
    let pa = parsed2.pb;
    let qa = RistrettoPoint::mul_base(&r4_bob) + g2 * x;
    let mut rm = DeterministicRandom::from_label("mallory proofs");
    let proof_pq =
        CoordsProof::prove(&SSID, TAG_PQ_A, CoordsStatement { g2: &g2, g3: &g3, p: &pa, q: &qa }, &r4_bob, &x, &mut rm)
            .unwrap();
    let qa_minus_qb = qa - parsed2.qb;
    let ra_point = qa_minus_qb * a3;
    let g3a = parsed1.g3a;
    let proof_r = EqualLogsProof::prove(
        &SSID,
        TAG_R_A,
        EqualLogsStatement { g3x: &g3a, d: &qa_minus_qb, r: &ra_point },
        &a3,
        &mut rm,
    )
    .unwrap();
    let smp3 = Smp3 { pa, qa, proof_pq, ra: ra_point, proof_r }.to_bytes();

    let step = bob.receive(TLV_SMP3, &smp3, &mut rb);
    assert_eq!(step.error, Some(SmpError::IdentityPoint), "Pa − Pb = identity must be refused");
    assert_eq!(step.event, Some(SmpEvent::Cheated));
    assert!(!bob.is_in_progress());
}

#[test]
fn the_recovery_helper_finds_honest_exponents() {
    // Guards the test above: if the draw layout changed, `exponent_of` would panic, not pass.
    let mut ra = Recording::new("layout");
    let mut alice = Smp::new(SmpContext { ssid: SSID, our_fingerprint: FP_A, their_fingerprint: FP_B });
    let smp1 = alice.start(b"s", None, &mut ra).unwrap().pop().unwrap();
    let parsed = Smp1::parse(&smp1.payload).unwrap();
    let a2 = ra.exponent_of(&RistrettoPoint::mul_base(&Scalar::ONE), &parsed.g2a);
    assert_eq!(RistrettoPoint::mul_base(&a2), parsed.g2a);
}
