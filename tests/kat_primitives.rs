//! Known-answer tests for the primitives exactly as the Noise layer uses them: X25519
//! (`x25519-dalek`), HMAC-SHA256 (`hmac` + `sha2`), HKDF-SHA256 (`hkdf`) and AES-256-GCM
//! (`aes-gcm`, 96-bit nonces).
//!
//! Sources: RFC 7748 §5.2 and §6.1; RFC 4231 §4.2–4.8; RFC 5869 A.1–A.3; McGrew & Viega,
//! "The Galois/Counter Mode of Operation (GCM)", test cases 13–16 (as in nettle's
//! testsuite/gcm-test.c).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::Aes256Gcm;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn h32(s: &str) -> [u8; 32] {
    h(s).try_into().unwrap()
}

// ---------------------------------------------------------------- X25519 (RFC 7748)

#[test]
fn rfc7748_5_2_scalar_mult() {
    let cases = [
        (
            "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
            "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
        ),
        (
            "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
            "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
        ),
    ];
    for (scalar, u, out) in cases {
        let secret = StaticSecret::from(h32(scalar));
        let shared = secret.diffie_hellman(&PublicKey::from(h32(u)));
        assert_eq!(hex::encode(shared.as_bytes()), out);
        assert!(shared.was_contributory());
        assert_eq!(x25519_dalek::x25519(h32(scalar), h32(u)), h32(out));
    }
}

#[test]
fn rfc7748_6_1_diffie_hellman() {
    let alice = StaticSecret::from(h32("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
    let bob = StaticSecret::from(h32("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
    let alice_pub = PublicKey::from(&alice);
    let bob_pub = PublicKey::from(&bob);
    assert_eq!(hex::encode(alice_pub.as_bytes()), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    assert_eq!(hex::encode(bob_pub.as_bytes()), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    let k = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    assert_eq!(hex::encode(alice.diffie_hellman(&bob_pub).as_bytes()), k);
    assert_eq!(hex::encode(bob.diffie_hellman(&alice_pub).as_bytes()), k);
}

#[test]
fn low_order_points_are_not_contributory() {
    let low_order = [
        // u = 0 and u = 1 (small order)
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        // the two points of order 8
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        // p - 1, and p and p + 1 (non-canonical encodings of 0 and 1), from libsodium's blocklist
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        // the order-8 points with the top bit set (X25519 ignores it). (libsodium's blocklist
        // also has "order-8 point + p" entries, cdeb..80 and 4c9c..d7; they are only low-order
        // if bit 255 is kept, which RFC 7748 X25519 does not, so they do not belong here.)
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
    ];
    let secrets = [
        StaticSecret::from([0x42; 32]),
        StaticSecret::from(h32("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")),
    ];
    for point in low_order {
        for secret in &secrets {
            let shared = secret.diffie_hellman(&PublicKey::from(h32(point)));
            assert!(!shared.was_contributory(), "{point}");
            assert_eq!(shared.as_bytes(), &[0u8; 32], "{point}");
        }
    }
}

// ---------------------------------------------------------------- HMAC-SHA256 (RFC 4231)

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[test]
fn rfc4231_hmac_sha256() {
    let key_131 = vec![0xaa; 131];
    let cases: [(Vec<u8>, Vec<u8>, &str); 7] = [
        (vec![0x0b; 20], b"Hi There".to_vec(), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (
            b"Jefe".to_vec(),
            b"what do ya want for nothing?".to_vec(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        ),
        (vec![0xaa; 20], vec![0xdd; 50], "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        ((0x01..=0x19).collect(), vec![0xcd; 50], "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        // Test case 5 is truncated to 128 bits.
        (vec![0x0c; 20], b"Test With Truncation".to_vec(), "a3b6167473100ee06e0c796c2955552b"),
        (
            key_131.clone(),
            b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
        (
            key_131,
            b"This is a test using a larger than block-size key and a larger than block-size \
              data. The key needs to be hashed before being used by the HMAC algorithm."
                .to_vec(),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        ),
    ];
    for (n, (key, data, expected)) in cases.iter().enumerate() {
        let mac = hmac_sha256(key, data);
        let shown = &mac[..expected.len() / 2];
        assert_eq!(hex::encode(shown), *expected, "RFC 4231 test case {}", n + 1);
    }
}

// ---------------------------------------------------------------- HKDF-SHA256 (RFC 5869)

#[test]
fn rfc5869_hkdf_sha256() {
    let cases = [
        // A.1
        (
            h("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
            h("000102030405060708090a0b0c"),
            h("f0f1f2f3f4f5f6f7f8f9"),
            "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        ),
        // A.2
        (
            (0x00..=0x4f).collect::<Vec<u8>>(),
            (0x60..=0xaf).collect::<Vec<u8>>(),
            (0xb0..=0xff).collect::<Vec<u8>>(),
            "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c\
             59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71\
             cc30c58179ec3e87c14c01d5c1f3434f1d87",
        ),
        // A.3: zero-length salt and info
        (
            h("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
            vec![],
            vec![],
            "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
        ),
    ];
    for (n, (ikm, salt, info, prk, okm)) in cases.iter().enumerate() {
        let (got_prk, hk) = Hkdf::<Sha256>::extract(Some(salt), ikm);
        assert_eq!(hex::encode(got_prk), *prk, "A.{}", n + 1);
        let mut out = vec![0u8; okm.len() / 2];
        hk.expand(info, &mut out).unwrap();
        assert_eq!(hex::encode(&out), *okm, "A.{}", n + 1);
        // The PRK is HMAC(salt, IKM), as Noise's HKDF assumes.
        assert_eq!(hex::encode(hmac_sha256(salt, ikm)), *prk);
    }
}

// ---------------------------------------------------------------- AES-256-GCM (GCM spec)

#[test]
fn gcm_spec_aes256_test_cases_13_to_16() {
    let k15 = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
    let p15 = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
               1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
    let c15 = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
               8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad";
    // (name, key, iv, aad, plaintext, ciphertext, tag)
    let cases = [
        ("13", &"00".repeat(32)[..], "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"),
        (
            "14",
            &"00".repeat(32)[..],
            "000000000000000000000000",
            "",
            "00000000000000000000000000000000",
            "cea7403d4d606b6e074ec5d3baf39d18",
            "d0d1c8a799996bf0265b98b5d48ab919",
        ),
        ("15", k15, "cafebabefacedbaddecaf888", "", p15, c15, "b094dac5d93471bdec1a502270e3cc6c"),
        (
            "16",
            k15,
            "cafebabefacedbaddecaf888",
            "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            &p15[..120],
            &c15[..120],
            "76fc6ece0f4e1768cddf8853bb2d551b",
        ),
    ];
    for (name, key, iv, aad, pt, ct, tag) in cases {
        let cipher = Aes256Gcm::new(&h32(key).into());
        let nonce: [u8; 12] = h(iv).try_into().unwrap();
        let (aad, pt) = (h(aad), h(pt));
        let sealed = cipher.encrypt(&nonce.into(), Payload { msg: &pt, aad: &aad }).unwrap();
        assert_eq!(hex::encode(&sealed), format!("{ct}{tag}"), "test case {name}");
        let opened = cipher.decrypt(&nonce.into(), Payload { msg: &sealed, aad: &aad }).unwrap();
        assert_eq!(opened, pt, "test case {name}");
        let mut forged = sealed.clone();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        assert!(cipher.decrypt(&nonce.into(), Payload { msg: &forged, aad: &aad }).is_err());
    }
}
