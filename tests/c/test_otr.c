/*
 * OTR v3/v2 compatibility through the C API, between two offrec clients forced onto OTR: one
 * client is handed `?OTRv3?` (or `?OTRv2?`) as if the other had sent it (a query whose modern
 * offer was stripped on the way), and the traffic is relayed. Covers the presets' OTR bits,
 * the protocol/strength/fingerprint/ssid report of offrec_client_session_protocol, the OTR DSA
 * key (NO_OTR_KEY before it exists, generate, idempotence, save/load), the fingerprint and key
 * id helpers, SMP with a question, the extra key and ending over OTR, REQUIRE_MODERN, and the
 * NULL-argument paths of every new call. Prints "test_otr: N passed, N failed".
 */
#include "harness.h"

#include <stdbool.h>

/* The presets' OTR fallback without DOWNGRADE_GUARD: two offrec clients forced onto OTR stay
 * there (with the guard, its probe is meant to upgrade them to the modern protocol). */
#define OTR_POLICY (OFFREC_POLICY_ALLOW | OFFREC_POLICY_ALLOW_OTR_V3 | OFFREC_POLICY_ALLOW_OTR_V2)

static const uint8_t OTR_PREFIX[12] = {'o', 't', 'r', '-', 'd', 's', 'a', '-', 's', 'h', 'a', '1'};

static void test_constants(void) {
    const uint32_t fallback =
        OFFREC_POLICY_ALLOW_OTR_V3 | OFFREC_POLICY_ALLOW_OTR_V2 | OFFREC_POLICY_DOWNGRADE_GUARD;
    CHECK(OFFREC_POLICY_ALLOW_OTR_V3 == 32);
    CHECK(OFFREC_POLICY_ALLOW_OTR_V2 == 64);
    CHECK(OFFREC_POLICY_DOWNGRADE_GUARD == 128);
    CHECK(OFFREC_POLICY_REQUIRE_MODERN == 256);
    /* The presets are usable from C and carry OTR as fallback, as libotr's presets do. */
    CHECK(OFFREC_POLICY_MANUAL == (OFFREC_POLICY_ALLOW | fallback));
    CHECK(OFFREC_POLICY_OPPORTUNISTIC == (OFFREC_POLICY_ALLOW | OFFREC_POLICY_SEND_WHITESPACE_TAG |
                                          OFFREC_POLICY_WHITESPACE_START_AKE | fallback));
    CHECK(OFFREC_POLICY_ALWAYS == (OFFREC_POLICY_ALLOW | OFFREC_POLICY_REQUIRE_ENCRYPTION |
                                   OFFREC_POLICY_WHITESPACE_START_AKE | fallback));
    CHECK(OFFREC_PROTOCOL_MODERN_V1 == 1 && OFFREC_PROTOCOL_OTR_V3 == 2 && OFFREC_PROTOCOL_OTR_V2 == 3);
    CHECK(OFFREC_STRENGTH_STRONG == 1 && OFFREC_STRENGTH_LEGACY == 2);
    CHECK(OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED == 34);
    CHECK(OFFREC_RESULT_NO_OTR_KEY == 123);
    CHECK(strcmp(offrec_result_message(OFFREC_RESULT_NO_OTR_KEY), "unknown result code") != 0);
}

static void test_fingerprint_format(void) {
    uint8_t fp[20];
    char buf[64], small[44];
    size_t len = 0, i;

    for (i = 0; i < sizeof fp; i++) {
        fp[i] = (uint8_t)(i * 0x11);
    }
    CHECK_RC(offrec_otr_fingerprint_format(fp, buf, sizeof buf, &len), OFFREC_RESULT_OK);
    CHECK(len == 45 && strcmp(buf, "00112233 44556677 8899AABB CCDDEEFF 10213243") == 0);
    /* exactly 45 fits; 44 is too small and reports the size needed, writing nothing */
    len = 0;
    CHECK_RC(offrec_otr_fingerprint_format(fp, buf, 45, &len), OFFREC_RESULT_OK);
    CHECK(len == 45);
    memset(small, 'z', sizeof small);
    CHECK_RC(offrec_otr_fingerprint_format(fp, small, sizeof small, &len),
             OFFREC_RESULT_BUFFER_TOO_SMALL);
    CHECK(len == 45 && small[0] == 'z' && small[43] == 'z');
    len = 0;
    CHECK_RC(offrec_otr_fingerprint_format(fp, NULL, 0, &len), OFFREC_RESULT_BUFFER_TOO_SMALL);
    CHECK(len == 45);
    /* NULL arguments */
    len = 7;
    CHECK_RC(offrec_otr_fingerprint_format(NULL, buf, sizeof buf, &len), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_otr_fingerprint_format(fp, buf, sizeof buf, NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_otr_fingerprint_format(fp, NULL, 5, &len), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK(len == 7);
}

static void test_key_id(void) {
    uint8_t id[32], dsa[20], want[20];
    char a[80], b[64];
    size_t la = 0, lb = 0;
    bool is_otr = false;
    size_t i;

    for (i = 0; i < sizeof want; i++) {
        want[i] = (uint8_t)(0xa0 + i);
    }
    memcpy(id, OTR_PREFIX, sizeof OTR_PREFIX);
    memcpy(id + sizeof OTR_PREFIX, want, sizeof want);
    memset(dsa, 0, sizeof dsa);
    CHECK_RC(offrec_key_id_is_otr(id, dsa, &is_otr), OFFREC_RESULT_OK);
    CHECK(is_otr && memcmp(dsa, want, 20) == 0);
    is_otr = false;
    CHECK_RC(offrec_key_id_is_otr(id, NULL, &is_otr), OFFREC_RESULT_OK); /* dsa_out is optional */
    CHECK(is_otr);
    /* An OTR key id is shown in the OTR 5x8 form by both formatters. */
    CHECK_RC(offrec_fingerprint_format(id, a, sizeof a, &la), OFFREC_RESULT_OK);
    CHECK_RC(offrec_otr_fingerprint_format(want, b, sizeof b, &lb), OFFREC_RESULT_OK);
    CHECK(la == lb && strcmp(a, b) == 0);

    /* Anything else is an offrec key: false, and dsa_out untouched. */
    id[0] ^= 1;
    memset(dsa, 0x5a, sizeof dsa);
    is_otr = true;
    CHECK_RC(offrec_key_id_is_otr(id, dsa, &is_otr), OFFREC_RESULT_OK);
    CHECK(!is_otr && dsa[0] == 0x5a && dsa[19] == 0x5a);
    memset(id, 0, sizeof id);
    is_otr = true;
    CHECK_RC(offrec_key_id_is_otr(id, NULL, &is_otr), OFFREC_RESULT_OK);
    CHECK(!is_otr);

    /* NULL arguments */
    CHECK_RC(offrec_key_id_is_otr(NULL, dsa, &is_otr), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_key_id_is_otr(id, dsa, NULL), OFFREC_RESULT_NULL_ARGUMENT);
}

static offrec_callbacks plain_callbacks(void) {
    offrec_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.send = cb_send;
    cb.deliver = cb_deliver;
    cb.event = cb_event;
    return cb;
}

/* The OTR key: NO_OTR_KEY before it exists, made once, kept through save and load. */
static void test_otr_key(void) {
    struct party *p = party_new("keeper", OFFREC_POLICY_MANUAL, 0);
    offrec_callbacks cb = plain_callbacks();
    offrec_client *restored = NULL;
    offrec_buffer sealed = {NULL, 0};
    uint8_t key[32], fp[20], fp2[20], fp3[20], untouched[20];
    int persist_before;

    memset(key, 9, sizeof key);
    memset(untouched, 0xee, sizeof untouched);
    memcpy(fp, untouched, sizeof fp);
    CHECK_RC(offrec_client_otr_fingerprint(p->client, fp), OFFREC_RESULT_NO_OTR_KEY);
    CHECK(memcmp(fp, untouched, sizeof fp) == 0);

    persist_before = p->persist_events;
    CHECK_RC(offrec_client_generate_otr_key(p->client, fp), OFFREC_RESULT_OK);
    CHECK(memcmp(fp, untouched, sizeof fp) != 0);
    CHECK(p->persist_events == persist_before + 1); /* the new key is worth saving */
    CHECK_RC(offrec_client_otr_fingerprint(p->client, fp2), OFFREC_RESULT_OK);
    CHECK(memcmp(fp, fp2, sizeof fp) == 0);
    /* idempotent: the same key again, nothing new to save */
    persist_before = p->persist_events;
    CHECK_RC(offrec_client_generate_otr_key(p->client, fp3), OFFREC_RESULT_OK);
    CHECK(memcmp(fp, fp3, sizeof fp) == 0);
    CHECK(p->persist_events == persist_before);
    CHECK_RC(offrec_client_generate_otr_key(p->client, NULL), OFFREC_RESULT_OK);

    /* persisted: the restored client has the same DSA key */
    CHECK_RC(offrec_client_save(p->client, key, NULL, 0, &sealed), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_load(sealed.data, sealed.len, S("keeper"), key, NULL, 0,
                                OFFREC_POLICY_MANUAL, &cb, p, &restored),
             OFFREC_RESULT_OK);
    memset(fp2, 0, sizeof fp2);
    CHECK_RC(offrec_client_otr_fingerprint(restored, fp2), OFFREC_RESULT_OK);
    CHECK(memcmp(fp, fp2, sizeof fp) == 0);
    offrec_client_free(restored);
    offrec_buffer_free(&sealed);

    /* NULL arguments */
    CHECK_RC(offrec_client_generate_otr_key(NULL, fp), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_generate_otr_key(NULL, NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_otr_fingerprint(NULL, fp), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_otr_fingerprint(p->client, NULL), OFFREC_RESULT_NULL_ARGUMENT);
    party_free_all();
}

/* A party with a fixture OTR key (harness.h); the keeper test above and alice in the v3
 * session below make theirs. */
static struct party *otr_party(const char *name, uint32_t policy) {
    struct party *p = party_new(name, policy, 0);
    party_use_fixture_otr_key(p);
    return p;
}

static int sent_starting_with(struct party *p, const char *prefix) {
    int i, n = 0;
    for (i = 0; i < p->sent_count; i++) {
        if (strncmp(p->sent[i], prefix, strlen(prefix)) == 0) {
            n++;
        }
    }
    return n;
}

static int sent_containing(struct party *p, const char *needle) {
    int i, n = 0;
    for (i = 0; i < p->sent_count; i++) {
        if (strstr(p->sent[i], needle) != NULL) {
            n++;
        }
    }
    return n;
}

/* `to` receives `query` as if `from` had sent it, then everything is relayed. */
static void force_otr(struct party *to, struct party *from, const char *query) {
    CHECK_RC(offrec_client_receive(to->client, from->name, strlen(from->name), query, strlen(query)),
             OFFREC_RESULT_OK);
    pump_all();
}

static void check_otr_view(struct party *p, struct party *peer, uint32_t protocol,
                           offrec_session_protocol *out) {
    offrec_session_info info;
    uint8_t peer_otr_fp[20], dsa[20];
    uint32_t tag = 0, reason = 0;
    size_t n = 0;
    bool is_otr = false;

    CHECK_RC(offrec_client_session_count(p->client, peer->name, strlen(peer->name), &n),
             OFFREC_RESULT_OK);
    CHECK(n == 1);
    CHECK_RC(offrec_client_session_protocol(p->client, peer->name, strlen(peer->name), 0, out),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_instance_tag(peer->client, &tag), OFFREC_RESULT_OK);
    /* OTR v2 has no instance tags: its session is kept under the pseudo-instance 2 (an
     * instance tag below 0x100 is never a real one). */
    CHECK(out->instance == (protocol == OFFREC_PROTOCOL_OTR_V2 ? 2u : tag));
    CHECK(out->protocol == protocol);
    CHECK(out->strength == OFFREC_STRENGTH_LEGACY);
    CHECK(out->has_otr_fingerprint);
    CHECK_RC(offrec_client_otr_fingerprint(peer->client, peer_otr_fp), OFFREC_RESULT_OK);
    CHECK(memcmp(out->their_otr_fingerprint, peer_otr_fp, 20) == 0);
    CHECK(state_of(p, peer) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    CHECK(party_event_reason(p, OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED, &reason));
    CHECK(reason == protocol);

    /* session_info names the peer's DSA key by its 32-byte key id */
    CHECK_RC(offrec_client_session_info(p->client, peer->name, strlen(peer->name), 0, &info),
             OFFREC_RESULT_OK);
    CHECK(info.instance == out->instance);
    CHECK_RC(offrec_key_id_is_otr(info.their_fingerprint, dsa, &is_otr), OFFREC_RESULT_OK);
    CHECK(is_otr && memcmp(dsa, peer_otr_fp, 20) == 0);
    CHECK(memcmp(info.their_fingerprint, OTR_PREFIX, sizeof OTR_PREFIX) == 0);
}

static void test_otr_v3_session(void) {
    struct party *a = party_new("alice", OTR_POLICY, 0); /* makes its key in the handshake */
    struct party *b = otr_party("bob", OTR_POLICY);
    offrec_session_protocol pa, pb;
    offrec_session_info ib;
    offrec_trust tr = 99;
    uint8_t key[32];
    uint64_t id = 0;
    int i;

    /* No OTR key before the first OTR need: it is made inside the handshake. */
    CHECK_RC(offrec_client_otr_fingerprint(a->client, key), OFFREC_RESULT_NO_OTR_KEY);
    force_otr(a, b, "?OTRv3?");
    check_otr_view(a, b, OFFREC_PROTOCOL_OTR_V3, &pa);
    check_otr_view(b, a, OFFREC_PROTOCOL_OTR_V3, &pb);
    CHECK(memcmp(pa.otr_ssid, pb.otr_ssid, 8) == 0);
    CHECK(pa.otr_ssid_first_half_bold != pb.otr_ssid_first_half_bold);
    CHECK(sent_starting_with(a, "?OTR:AAMC") == 1); /* alice answered with an OTR v3 D-H Commit */
    CHECK(sent_starting_with(a, "?OFR") == 0 && sent_starting_with(b, "?OFR") == 0);

    /* text both ways, OTR v3 data messages only, never in the clear */
    for (i = 0; i < 3; i++) {
        CHECK_RC(offrec_client_send(a->client, S("bob"), S("to bob <b>&amp;</b> \xe2\x9c\x93"), &id),
                 OFFREC_RESULT_OK);
        pump_all();
        CHECK_RC(offrec_client_send(b->client, S("alice"), S("to alice"), &id), OFFREC_RESULT_OK);
        pump_all();
    }
    CHECK(b->delivered_count == 3 && strcmp(b->delivered[2], "to bob <b>&amp;</b> \xe2\x9c\x93") == 0);
    CHECK(a->delivered_count == 3 && strcmp(a->delivered[0], "to alice") == 0);
    CHECK(b->delivered_security[0] == OFFREC_SECURITY_ENCRYPTED_UNVERIFIED);
    CHECK(sent_starting_with(a, "?OTR:AAMD") >= 3 && sent_starting_with(b, "?OTR:AAMD") >= 3);
    CHECK(sent_containing(a, "to bob") == 0 && sent_containing(b, "to alice") == 0);

    /* a message longer than any receiver accepts (128 KiB armoured) is refused, even with no
       transport limit set, and nothing goes out */
    {
        size_t big_len = 100000;
        char *big = malloc(big_len);
        int sent_before = a->sent_count;
        CHECK(big != NULL);
        if (big != NULL) {
            memset(big, 'm', big_len);
            CHECK_RC(offrec_client_send(a->client, S("bob"), big, big_len, &id), OFFREC_RESULT_MESSAGE_TOO_LARGE);
            CHECK(a->sent_count == sent_before);
            free(big);
        }
    }

    /* SMP arguments an OTR session cannot carry are refused and start nothing: a secret over
       its limit, and a question with a NUL in it (OTR's question ends at its first NUL) */
    {
        static uint8_t long_secret[OFFREC_MAX_SMP_SECRET_LEN + 1];
        int sent_before = a->sent_count;
        memset(long_secret, 's', sizeof long_secret);
        CHECK_RC(offrec_client_smp_start(a->client, S("bob"), 0, long_secret, sizeof long_secret, NULL, 0),
                 OFFREC_RESULT_MESSAGE_TOO_LARGE);
        CHECK_RC(offrec_client_smp_start(a->client, S("bob"), 0, (const uint8_t *)"s", 1, S("which\0one")),
                 OFFREC_RESULT_INVALID_ARGUMENT);
        CHECK(a->sent_count == sent_before);
    }

    /* SMP with a question: only the asker verifies the peer */
    CHECK_RC(offrec_client_smp_start(a->client, S("bob"), 0, (const uint8_t *)"shared secret", 13,
                                     S("our city?")),
             OFFREC_RESULT_OK);
    pump_all();
    CHECK(party_has_event(b, OFFREC_EVENT_CODE_SMP_ASKED_FOR_SECRET));
    CHECK(strcmp(b->smp_question, "our city?") == 0);
    CHECK_RC(offrec_client_smp_respond(b->client, S("alice"), 0, (const uint8_t *)"shared secret", 13),
             OFFREC_RESULT_OK);
    pump_all();
    CHECK(party_has_event(a, OFFREC_EVENT_CODE_SMP_SUCCEEDED));
    CHECK(party_has_event(b, OFFREC_EVENT_CODE_SMP_VERIFIED_BY_PEER));
    CHECK(!party_has_event(b, OFFREC_EVENT_CODE_SMP_SUCCEEDED));
    CHECK(state_of(a, b) == OFFREC_SESSION_STATE_ENCRYPTED_VERIFIED);
    CHECK(state_of(b, a) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    /* the trust calls take the OTR key id */
    CHECK_RC(offrec_client_session_info(b->client, S("alice"), 0, &ib), OFFREC_RESULT_OK);
    {
        offrec_session_info ia;
        CHECK_RC(offrec_client_session_info(a->client, S("bob"), 0, &ia), OFFREC_RESULT_OK);
        CHECK_RC(offrec_client_trust(a->client, S("bob"), ia.their_fingerprint, &tr), OFFREC_RESULT_OK);
        CHECK(tr == OFFREC_TRUST_VERIFIED_SMP);
    }
    CHECK_RC(offrec_client_trust(b->client, S("alice"), ib.their_fingerprint, &tr), OFFREC_RESULT_OK);
    CHECK(tr == OFFREC_TRUST_UNVERIFIED);
    CHECK_RC(offrec_client_set_trust(b->client, S("alice"), ib.their_fingerprint,
                                     OFFREC_TRUST_VERIFIED_MANUAL),
             OFFREC_RESULT_OK);
    CHECK(state_of(b, a) == OFFREC_SESSION_STATE_ENCRYPTED_VERIFIED);
    /* Each delivered message carries the trust of the moment: verified, then (trust revoked
     * through the C API) unverified, then verified again; nothing kept from an earlier one. */
    CHECK_RC(offrec_client_send(a->client, S("bob"), S("while verified"), &id), OFFREC_RESULT_OK);
    pump_all();
    CHECK(b->delivered_count >= 1 && strcmp(b->delivered[b->delivered_count - 1], "while verified") == 0);
    CHECK(b->delivered_security[b->delivered_count - 1] == OFFREC_SECURITY_ENCRYPTED_VERIFIED);
    CHECK_RC(offrec_client_set_trust(b->client, S("alice"), ib.their_fingerprint, OFFREC_TRUST_UNVERIFIED),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_send(a->client, S("bob"), S("after distrust"), &id), OFFREC_RESULT_OK);
    pump_all();
    CHECK(strcmp(b->delivered[b->delivered_count - 1], "after distrust") == 0);
    CHECK(b->delivered_security[b->delivered_count - 1] == OFFREC_SECURITY_ENCRYPTED_UNVERIFIED);
    CHECK_RC(offrec_client_set_trust(b->client, S("alice"), ib.their_fingerprint,
                                     OFFREC_TRUST_VERIFIED_MANUAL),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_send(a->client, S("bob"), S("verified again"), &id), OFFREC_RESULT_OK);
    pump_all();
    CHECK(strcmp(b->delivered[b->delivered_count - 1], "verified again") == 0);
    CHECK(b->delivered_security[b->delivered_count - 1] == OFFREC_SECURITY_ENCRYPTED_VERIFIED);

    /* the extra symmetric key: the same 32 bytes on both sides */
    memset(key, 0, sizeof key);
    CHECK_RC(offrec_client_extra_symmetric_key(b->client, S("alice"), 0, 7, (const uint8_t *)"file.txt",
                                               8, key),
             OFFREC_RESULT_OK);
    pump_all();
    CHECK(party_has_event(a, OFFREC_EVENT_CODE_EXTRA_KEY_RECEIVED));
    CHECK(memcmp(a->extra_key, key, 32) == 0 && a->extra_usage == 7);
    CHECK(strcmp(a->extra_context, "file.txt") == 0);

    /* ending: the peer sees it finished, and a send fails rather than going out in the clear */
    CHECK_RC(offrec_client_end_session(a->client, S("bob"), 0), OFFREC_RESULT_OK);
    pump_all();
    CHECK(state_of(b, a) == OFFREC_SESSION_STATE_FINISHED);
    CHECK(party_has_event(b, OFFREC_EVENT_CODE_PEER_ENDED_SESSION));
    CHECK_RC(offrec_client_send(b->client, S("alice"), S("after the end"), &id),
             OFFREC_RESULT_SESSION_FINISHED);
    party_free_all();
}

static void test_otr_v2_session(void) {
    struct party *a = otr_party("ann", OTR_POLICY);
    struct party *b = otr_party("ben", OTR_POLICY);
    offrec_session_protocol pa, pb;
    uint64_t id = 0;

    force_otr(a, b, "?OTRv2?");
    check_otr_view(a, b, OFFREC_PROTOCOL_OTR_V2, &pa);
    check_otr_view(b, a, OFFREC_PROTOCOL_OTR_V2, &pb);
    CHECK(memcmp(pa.otr_ssid, pb.otr_ssid, 8) == 0);
    CHECK(pa.otr_ssid_first_half_bold != pb.otr_ssid_first_half_bold);
    CHECK_RC(offrec_client_send(b->client, S("ann"), S("over v2"), &id), OFFREC_RESULT_OK);
    pump_all();
    CHECK(a->delivered_count == 1 && strcmp(a->delivered[0], "over v2") == 0);
    CHECK(sent_starting_with(b, "?OTR:AAID") == 1);
    party_free_all();
}

/* A modern session reports itself as such, with the OTR fields unset. */
static void test_modern_session_and_arguments(void) {
    struct party *a = party_new("amy", OFFREC_POLICY_MANUAL, 0);
    struct party *b = party_new("bill", OFFREC_POLICY_MANUAL, 0);
    offrec_session_protocol sp, untouched;
    uint8_t zero[20];
    uint32_t reason = 0;

    CHECK_RC(offrec_client_start_session(a->client, S("bill")), OFFREC_RESULT_OK);
    CHECK(a->sent_count == 1 && strncmp(a->sent[0], "?OTRv23? ?OFRv1?", 16) == 0);
    pump_all();
    memset(&sp, 0xcc, sizeof sp);
    memset(zero, 0, sizeof zero);
    CHECK_RC(offrec_client_session_protocol(a->client, S("bill"), 0, &sp), OFFREC_RESULT_OK);
    CHECK(sp.protocol == OFFREC_PROTOCOL_MODERN_V1 && sp.strength == OFFREC_STRENGTH_STRONG);
    CHECK(!sp.has_otr_fingerprint && !sp.otr_ssid_first_half_bold);
    CHECK(memcmp(sp.their_otr_fingerprint, zero, 20) == 0 && memcmp(sp.otr_ssid, zero, 8) == 0);
    CHECK(!party_event_reason(a, OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED, &reason));
    CHECK(sent_starting_with(b, "?OTR") == 0); /* the modern protocol wins when both are offered */
    /* no OTR need arose: no DSA key was made */
    CHECK_RC(offrec_client_otr_fingerprint(a->client, zero), OFFREC_RESULT_NO_OTR_KEY);

    /* errors write nothing */
    memset(&untouched, 0xab, sizeof untouched);
    memcpy(&sp, &untouched, sizeof sp);
    CHECK_RC(offrec_client_session_protocol(a->client, S("bill"), 1, &sp), OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_session_protocol(a->client, S("nobody"), 0, &sp),
             OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_session_protocol(NULL, S("bill"), 0, &sp), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_session_protocol(a->client, NULL, 4, 0, &sp), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_session_protocol(a->client, S("bill"), 0, NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_session_protocol(a->client, S("\xff\xfe"), 0, &sp), OFFREC_RESULT_INVALID_UTF8);
    CHECK(memcmp(&sp, &untouched, sizeof sp) == 0);
    party_free_all();
}

/* REQUIRE_MODERN, or a policy without the OTR bits: OTR is reported, never answered, and no
 * DSA key is made. */
static void test_no_otr(uint32_t policy) {
    struct party *a = party_new("ada", policy, 0); /* no fixture key: none may be made */
    struct party *b = otr_party("bo", OFFREC_POLICY_MANUAL);
    uint8_t fp[20];
    size_t n = 99;

    force_otr(a, b, "?OTRv3?");
    CHECK_RC(offrec_client_session_count(a->client, S("bo"), &n), OFFREC_RESULT_OK);
    CHECK(n == 0);
    CHECK(party_has_event(a, OFFREC_EVENT_CODE_FOREIGN_PROTOCOL));
    CHECK(!party_has_event(a, OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED));
    CHECK(a->sent_count == 0);
    CHECK_RC(offrec_client_otr_fingerprint(a->client, fp), OFFREC_RESULT_NO_OTR_KEY);
    /* and its own query offers only the modern protocol */
    CHECK_RC(offrec_client_start_session(a->client, S("bo")), OFFREC_RESULT_OK);
    CHECK(a->sent_count == 1 && strncmp(a->sent[0], "?OFRv1?", 7) == 0);
    pump_all();
    CHECK(state_of(a, b) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    party_free_all();
}

/* The user ends the conversation while Alice's D-H Commit is out: Bob's answer, arriving
 * after, must bring up no session (the end cancels the handshake in progress). */
static void test_ending_cancels_an_otr_handshake(void) {
    struct party *a = otr_party("alice", OTR_POLICY);
    struct party *b = otr_party("bob", OTR_POLICY);
    size_t n = 99;

    CHECK_RC(offrec_client_receive(a->client, S("bob"), S("?OTRv3?")), OFFREC_RESULT_OK);
    CHECK(sent_starting_with(a, "?OTR:AAMC") == 1);
    CHECK(pump_one()); /* Bob answers the commit; his D-H Key is on its way */
    CHECK_RC(offrec_client_end_session(a->client, S("bob"), 0), OFFREC_RESULT_OK);
    pump_all();
    CHECK_RC(offrec_client_session_count(a->client, S("bob"), &n), OFFREC_RESULT_OK);
    CHECK(n == 0);
    CHECK(!party_has_event(a, OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED));
    CHECK(state_of(a, b) == OFFREC_SESSION_STATE_PLAINTEXT);
    party_free_all();
}

int main(void) {
    test_constants();
    test_fingerprint_format();
    test_key_id();
    test_otr_key();
    test_otr_v3_session();
    test_otr_v2_session();
    test_ending_cancels_an_otr_handshake();
    test_modern_session_and_arguments();
    test_no_otr(OFFREC_POLICY_MANUAL | OFFREC_POLICY_REQUIRE_MODERN);
    test_no_otr(OFFREC_POLICY_ALLOW);
    printf("test_otr: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
