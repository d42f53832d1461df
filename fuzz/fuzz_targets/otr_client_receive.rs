#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| offrec_fuzz::otr_client_receive::otr_client_receive(data));
