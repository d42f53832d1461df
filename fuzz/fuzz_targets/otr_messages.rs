#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| offrec_fuzz::otr_messages::otr_messages(data));
