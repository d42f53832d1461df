#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| offrec_fuzz::migrate::migrate_fingerprints(data));
