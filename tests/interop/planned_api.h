/*
 * The OTR additions to offrec.h as planned while they are being written (additive ABI change).
 * Only `make interop-planned` includes this (-DINTEROP_PLANNED_API, compile only, never
 * linked), so the prepared scenarios keep compiling before the real declarations land. Once
 * offrec.h defines OFFREC_POLICY_ALLOW_OTR_V3 this file is a no-op and the scenarios build and
 * run against the real API; if the real API differs, adapt the scenarios and delete this file.
 */
#ifndef OFFREC_POLICY_ALLOW_OTR_V3

#define OFFREC_POLICY_ALLOW_OTR_V3 32
#define OFFREC_POLICY_ALLOW_OTR_V2 64
#define OFFREC_POLICY_DOWNGRADE_GUARD 128
#define OFFREC_POLICY_REQUIRE_MODERN 256

#define OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED 34
#define OFFREC_EVENT_CODE_PROTOCOL_UPGRADED 35
#define OFFREC_EVENT_CODE_DOWNGRADE_SUSPECTED 36
#define OFFREC_EVENT_CODE_DOWNGRADE_DETECTED 37
#define OFFREC_EVENT_CODE_LEGACY_WITH_MODERN_PEER 38
#define OFFREC_EVENT_CODE_OTR_KEY_LINKED 39

/* What an OTR-aware UI needs to know about one session. */
struct offrec_session_protocol {
    uint32_t instance;
    uint32_t protocol; /* 1 MODERN_V1, 2 OTR_V3, 3 OTR_V2 */
    uint32_t strength; /* 1 STRONG, 2 LEGACY */
    bool has_otr_fingerprint;
    uint8_t their_otr_fingerprint[20];
    uint8_t otr_ssid[8];
    bool otr_ssid_first_half_bold;
};

offrec_result offrec_client_generate_otr_key(offrec_client *client);
offrec_result offrec_client_otr_fingerprint(const offrec_client *client, uint8_t out[20]);
size_t offrec_otr_fingerprint_format(const uint8_t fp[20], char *buf, size_t buf_len);
offrec_result offrec_client_session_protocol(const offrec_client *client, const char *peer,
                                             size_t peer_len, size_t index,
                                             struct offrec_session_protocol *out);

#endif
