//! Shared helpers for the OTR core tests: the libotr vectors (tests/vectors/otr3_*.json, made
//! by tests/otr_vectors/gen.c), a scripted random source that hands out libotr's secrets in the
//! order offrec draws them, and ready-made identities.
#![allow(dead_code)]

use std::collections::VecDeque;

use offrec::crypto::{RandomError, RandomSource};
use offrec::otr::identity::DsaIdentity;
use serde_json::Value;

/// A parsed vector file.
pub struct Vector(pub Value);

impl Vector {
    pub fn load(name: &str) -> Vector {
        let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Vector(serde_json::from_str(&text).unwrap())
    }

    pub fn v3() -> Vector {
        Vector::load("otr3_session.json")
    }

    pub fn v2() -> Vector {
        Vector::load("otr3_v2_session.json")
    }

    pub fn party(&self, name: &str) -> &Value {
        &self.0["parties"][name]
    }

    pub fn messages(&self) -> &Vec<Value> {
        self.0["messages"].as_array().unwrap()
    }

    pub fn identity(&self, name: &str) -> DsaIdentity {
        let dsa = &self.party(name)["dsa"];
        let h = |k: &str| unhex(dsa[k].as_str().unwrap());
        DsaIdentity::from_components(&h("p"), &h("q"), &h("g"), &h("y"), &h("x")).unwrap()
    }

    pub fn instance_tag(&self, name: &str) -> u32 {
        self.party(name)["instance_tag"].as_u64().unwrap() as u32
    }

    /// The party's DH secrets in keyid order, each as the 40 bytes libotr drew.
    pub fn dh_secrets(&self, name: &str) -> Vec<Vec<u8>> {
        let mut keys: Vec<(u64, Vec<u8>)> = self.party(name)["dh_keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| (k["keyid"].as_u64().unwrap(), pad(&unhex(k["secret"].as_str().unwrap()), 40)))
            .collect();
        keys.sort_by_key(|(keyid, _)| *keyid);
        for (index, (keyid, _)) in keys.iter().enumerate() {
            assert_eq!(*keyid, index as u64 + 1, "one key per keyid, from 1");
        }
        keys.into_iter().map(|(_, secret)| secret).collect()
    }
}

pub fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

pub fn pad(bytes: &[u8], len: usize) -> Vec<u8> {
    assert!(bytes.len() <= len);
    let mut out = vec![0u8; len - bytes.len()];
    out.extend_from_slice(bytes);
    out
}

/// Hands out fixed chunks, each draw exactly one chunk of exactly the requested size, so a test
/// notices if offrec draws randomness in another order or amount than expected.
pub struct Script(VecDeque<Vec<u8>>);

impl Script {
    pub fn new(chunks: Vec<Vec<u8>>) -> Script {
        Script(chunks.into())
    }

    pub fn push(&mut self, chunk: Vec<u8>) {
        self.0.push_back(chunk);
    }

    pub fn remaining(&self) -> usize {
        self.0.len()
    }
}

impl RandomSource for Script {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), RandomError> {
        let chunk = self.0.pop_front().expect("the script ran out of random chunks");
        assert_eq!(chunk.len(), out.len(), "offrec drew a chunk of unexpected size");
        out.copy_from_slice(&chunk);
        Ok(())
    }
}
