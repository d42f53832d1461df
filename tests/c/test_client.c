/*
 * Every exported client function from C, on its success and error paths: creation and its
 * argument checks, a two-party conversation, re-entrant sends from deliver, sessions, trust,
 * SMP (success, failure, abort, rate limit), extra keys, options, fragmentation, ending,
 * forging. Prints "test_client: N passed, N failed"; exits non-zero on failure.
 */
#include "harness.h"

static const offrec_callbacks *good_callbacks(void) {
    static offrec_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.send = cb_send;
    cb.deliver = cb_deliver;
    return &cb;
}

static void test_create_errors(void) {
    offrec_client *c = (offrec_client *)&c; /* sentinel: must stay untouched on error */
    offrec_client *sentinel = c;
    offrec_callbacks cb = *good_callbacks();
    char long_name[OFFREC_MAX_NAME_LEN + 1];
    uint8_t secret[32];
    uint8_t fp1[32], fp2[32];
    uint32_t tag = 0;

    memset(long_name, 'a', sizeof long_name);
    CHECK_RC(offrec_client_new(S("a"), S("n"), OFFREC_POLICY_MANUAL, &cb, NULL, NULL),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_new(NULL, 1, S("n"), OFFREC_POLICY_MANUAL, &cb, NULL, &c),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_new(NULL, 0, S("n"), OFFREC_POLICY_MANUAL, &cb, NULL, &c),
             OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_new("", 0, S("n"), OFFREC_POLICY_MANUAL, &cb, NULL, &c),
             OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_new(long_name, sizeof long_name, S("n"), OFFREC_POLICY_MANUAL, &cb, NULL,
                               &c),
             OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_new(S("a"), NULL, 5, OFFREC_POLICY_MANUAL, &cb, NULL, &c),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_new(S("\xff\xfe"), S("n"), OFFREC_POLICY_MANUAL, &cb, NULL, &c),
             OFFREC_RESULT_INVALID_UTF8);
    /* the lowest bit that names no flag (32..256 are the OTR flags) */
    CHECK_RC(offrec_client_new(S("a"), S("n"), 1u << 9, &cb, NULL, &c), OFFREC_RESULT_INVALID_POLICY);
    CHECK_RC(offrec_client_new(S("a"), S("n"), UINT32_MAX, &cb, NULL, &c),
             OFFREC_RESULT_INVALID_POLICY);
    CHECK_RC(offrec_client_new(S("a"), S("n"), OFFREC_POLICY_MANUAL, NULL, NULL, &c),
             OFFREC_RESULT_NULL_ARGUMENT);
    cb.send = NULL;
    CHECK_RC(offrec_client_new(S("a"), S("n"), OFFREC_POLICY_MANUAL, &cb, NULL, &c),
             OFFREC_RESULT_NULL_ARGUMENT);
    cb = *good_callbacks();
    cb.deliver = NULL;
    CHECK_RC(offrec_client_new(S("a"), S("n"), OFFREC_POLICY_MANUAL, &cb, NULL, &c),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK(c == sentinel);

    /* Every preset is accepted; the name may be exactly the maximum length. */
    cb = *good_callbacks();
    {
        uint32_t presets[] = {OFFREC_POLICY_NEVER, OFFREC_POLICY_MANUAL, OFFREC_POLICY_OPPORTUNISTIC,
                              OFFREC_POLICY_ALWAYS,
                              OFFREC_POLICY_ALLOW | OFFREC_POLICY_ERROR_START_AKE};
        size_t i;
        for (i = 0; i < sizeof presets / sizeof presets[0]; i++) {
            c = NULL;
            CHECK_RC(offrec_client_new(long_name, OFFREC_MAX_NAME_LEN, S("n"), presets[i], &cb, NULL,
                                       &c),
                     OFFREC_RESULT_OK);
            CHECK(c != NULL);
            offrec_client_free(c);
        }
    }

    /* A stored identity comes back with the same fingerprint and tag. */
    CHECK_RC(offrec_client_new(S("a"), S("n"), OFFREC_POLICY_MANUAL, &cb, NULL, &c), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_identity_secret(c, secret), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_identity_secret(c, NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_identity_secret(NULL, secret), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_fingerprint(c, fp1), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_fingerprint(c, NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_fingerprint(NULL, fp1), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_instance_tag(c, &tag), OFFREC_RESULT_OK);
    CHECK(tag >= 0x100);
    CHECK_RC(offrec_client_instance_tag(c, NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_instance_tag(NULL, &tag), OFFREC_RESULT_NULL_ARGUMENT);
    offrec_client_free(c);
    c = NULL;
    CHECK_RC(offrec_client_new_with_identity(S("a"), S("n"), OFFREC_POLICY_MANUAL, secret, tag, &cb,
                                             NULL, &c),
             OFFREC_RESULT_OK);
    {
        uint32_t tag2 = 0;
        CHECK_RC(offrec_client_fingerprint(c, fp2), OFFREC_RESULT_OK);
        CHECK(memcmp(fp1, fp2, 32) == 0);
        CHECK_RC(offrec_client_instance_tag(c, &tag2), OFFREC_RESULT_OK);
        CHECK(tag2 == tag);
    }
    offrec_client_free(c);
    c = sentinel;
    CHECK_RC(offrec_client_new_with_identity(S("a"), S("n"), OFFREC_POLICY_MANUAL, NULL, tag, &cb,
                                             NULL, &c),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_new_with_identity(S("a"), S("n"), OFFREC_POLICY_MANUAL, secret, 0xff,
                                             &cb, NULL, &c),
             OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_new_with_identity(S("a"), S("n"), 1u << 9, secret, tag, &cb, NULL, &c),
             OFFREC_RESULT_INVALID_POLICY);
    CHECK_RC(offrec_client_new_with_identity(S("a"), S("n"), OFFREC_POLICY_MANUAL, secret, tag, &cb,
                                             NULL, NULL),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK(c == sentinel);
    offrec_client_free(NULL);
}

static void test_null_handles(void) {
    uint8_t fp[32] = {0};
    uint64_t id = 0;
    size_t n = 0;
    offrec_session_state st;
    offrec_session_info info;
    offrec_trust tr;
    uint8_t key[32];

    CHECK_RC(offrec_client_send(NULL, S("b"), S("x"), &id), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_send_to_instance(NULL, S("b"), 0x100, S("x"), &id),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_receive(NULL, S("b"), S("x")), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_start_session(NULL, S("b")), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_end_session(NULL, S("b"), 0), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_tick(NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_set_policy(NULL, OFFREC_POLICY_MANUAL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_set_option(NULL, OFFREC_OPTION_PADDING_BLOCK, 16),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_set_max_message_size(NULL, S("b"), 0), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_session_state(NULL, S("b"), &st), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_session_count(NULL, S("b"), &n), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_session_info(NULL, S("b"), 0, &info), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_set_trust(NULL, S("b"), fp, OFFREC_TRUST_VERIFIED_MANUAL),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_trust(NULL, S("b"), fp, &tr), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_known_key_count(NULL, S("b"), &n), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_known_key(NULL, S("b"), 0, fp, &tr), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_smp_start(NULL, S("b"), 0, (const uint8_t *)"s", 1, NULL, 0),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_smp_respond(NULL, S("b"), 0, (const uint8_t *)"s", 1),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_smp_abort(NULL, S("b"), 0), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_extra_symmetric_key(NULL, S("b"), 0, 1, NULL, 0, key),
             OFFREC_RESULT_NULL_ARGUMENT);
}

/* Bob answers "ping ..." with "pong ..." from inside his deliver callback. */
static void bob_pongs(struct party *self, const char *peer, size_t peer_len, const uint8_t *text,
                      size_t len) {
    char reply[MAX_TEXT];
    uint64_t id = 0;
    if (len >= 5 && len < MAX_TEXT - 1 && memcmp(text, "ping ", 5) == 0) {
        memcpy(reply, "pong", 4);
        memcpy(reply + 4, text + 4, len - 4);
        CHECK_RC(offrec_client_send(self->client, peer, peer_len, reply, len, &id), OFFREC_RESULT_OK);
        CHECK(id != 0);
    }
}

static void test_argument_checks(struct party *a) {
    char long_name[OFFREC_MAX_NAME_LEN + 1];
    uint64_t id = 77;
    uint8_t fp[32] = {0};
    offrec_session_state st = 99;
    size_t n = 99;
    offrec_trust tr = 99;
    char *big = malloc(OFFREC_MAX_TEXT_LEN + OFFREC_MAX_NAME_LEN + 2);

    memset(long_name, 'x', sizeof long_name);
    /* names: NULL with length, empty, too long, not UTF-8 */
    CHECK_RC(offrec_client_send(a->client, NULL, 3, S("x"), &id), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_send(a->client, "", 0, S("x"), &id), OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_send(a->client, long_name, sizeof long_name, S("x"), &id),
             OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_send(a->client, S("\xc3"), S("x"), &id), OFFREC_RESULT_INVALID_UTF8);
    CHECK_RC(offrec_client_receive(a->client, "", 0, S("x")), OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_start_session(a->client, NULL, 1), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_end_session(a->client, long_name, sizeof long_name, 0),
             OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_session_state(a->client, "", 0, &st), OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_session_count(a->client, NULL, 2, &n), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_known_key_count(a->client, "", 0, &n), OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_set_max_message_size(a->client, "", 0, 0), OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_smp_abort(a->client, "", 0, 0), OFFREC_RESULT_INVALID_ARGUMENT);
    /* texts: NULL with length, too long, not UTF-8 where text is required */
    CHECK_RC(offrec_client_send(a->client, S("zed"), NULL, 4, &id), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_receive(a->client, S("zed"), NULL, 4), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_receive(a->client, S("zed"), S("\xff")), OFFREC_RESULT_INVALID_UTF8);
    if (big != NULL) {
        memset(big, 'a', OFFREC_MAX_TEXT_LEN + OFFREC_MAX_NAME_LEN + 2);
        CHECK_RC(offrec_client_send(a->client, S("zed"), big, OFFREC_MAX_TEXT_LEN + 1, &id),
                 OFFREC_RESULT_MESSAGE_TOO_LARGE);
        CHECK_RC(offrec_client_receive(a->client, S("zed"), big,
                                       OFFREC_MAX_TEXT_LEN + OFFREC_MAX_NAME_LEN + 1),
                 OFFREC_RESULT_MESSAGE_TOO_LARGE);
        free(big);
    }
    /* NULL outputs */
    CHECK_RC(offrec_client_send(a->client, S("zed"), S("x"), NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_session_state(a->client, S("zed"), NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_session_count(a->client, S("zed"), NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_session_info(a->client, S("zed"), 0, NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_trust(a->client, S("zed"), fp, NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_trust(a->client, S("zed"), NULL, &tr), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_known_key_count(a->client, S("zed"), NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_known_key(a->client, S("zed"), 0, NULL, &tr), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_known_key(a->client, S("zed"), 0, fp, NULL), OFFREC_RESULT_NULL_ARGUMENT);
    /* enums and ranges */
    CHECK_RC(offrec_client_set_trust(a->client, S("zed"), fp, 3), OFFREC_RESULT_UNKNOWN_ENUM_VALUE);
    CHECK_RC(offrec_client_set_trust(a->client, S("zed"), fp, UINT32_MAX),
             OFFREC_RESULT_UNKNOWN_ENUM_VALUE);
    CHECK_RC(offrec_client_set_trust(a->client, S("zed"), NULL, OFFREC_TRUST_VERIFIED_MANUAL),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_set_option(a->client, 8, 1), OFFREC_RESULT_UNKNOWN_ENUM_VALUE);
    CHECK_RC(offrec_client_set_option(a->client, UINT32_MAX, 1), OFFREC_RESULT_UNKNOWN_ENUM_VALUE);
    CHECK_RC(offrec_client_set_option(a->client, OFFREC_OPTION_PADDING_BLOCK, 4097),
             OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_set_option(a->client, OFFREC_OPTION_MAX_MESSAGE_SIZE, 63),
             OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_set_option(a->client, OFFREC_OPTION_HEARTBEAT_INTERVAL, 60),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_set_option(a->client, OFFREC_OPTION_SESSION_EXPIRY, 7200),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_set_option(a->client, OFFREC_OPTION_HELD_MESSAGE_TIMEOUT, 120),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_set_option(a->client, OFFREC_OPTION_HANDSHAKE_TIMEOUT, 120),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_set_option(a->client, OFFREC_OPTION_PADDING_BLOCK, 16), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_set_option(a->client, OFFREC_OPTION_MAX_MESSAGE_SIZE, 0), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_set_max_message_size(a->client, S("zed"), 10),
             OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_set_max_message_size(a->client, S("zed"), 0), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_set_policy(a->client, 1u << 9), OFFREC_RESULT_INVALID_POLICY);
    CHECK_RC(offrec_client_send_to_instance(a->client, S("zed"), 0, S("x"), &id),
             OFFREC_RESULT_INVALID_ARGUMENT);
    /* nothing written on failure */
    CHECK(id == 77 && st == 99 && n == 99 && tr == 99);
    /* No session yet */
    CHECK_RC(offrec_client_session_state(a->client, S("zed"), &st), OFFREC_RESULT_OK);
    CHECK(st == OFFREC_SESSION_STATE_PLAINTEXT);
    CHECK_RC(offrec_client_smp_start(a->client, S("zed"), 0, (const uint8_t *)"s", 1, NULL, 0),
             OFFREC_RESULT_NO_SESSION);
    CHECK_RC(offrec_client_smp_respond(a->client, S("zed"), 0, (const uint8_t *)"s", 1),
             OFFREC_RESULT_NO_SESSION);
    CHECK_RC(offrec_client_smp_abort(a->client, S("zed"), 0), OFFREC_RESULT_NO_SESSION);
    {
        uint8_t key[32];
        CHECK_RC(offrec_client_extra_symmetric_key(a->client, S("zed"), 0, 1, NULL, 0, key),
                 OFFREC_RESULT_NO_SESSION);
        CHECK_RC(offrec_client_extra_symmetric_key(a->client, S("zed"), 0, 1, NULL, 0, NULL),
                 OFFREC_RESULT_NULL_ARGUMENT);
        CHECK_RC(offrec_client_extra_symmetric_key(a->client, S("zed"), 0, 1, NULL, 3, key),
                 OFFREC_RESULT_NULL_ARGUMENT);
        CHECK_RC(offrec_client_extra_symmetric_key(a->client, S("zed"), 0, 1, (const uint8_t *)"c",
                                                   OFFREC_MAX_CONTEXT_LEN + 1, key),
                 OFFREC_RESULT_MESSAGE_TOO_LARGE);
    }
    CHECK_RC(offrec_client_end_session(a->client, S("zed"), 0), OFFREC_RESULT_OK); /* no-op */
    CHECK_RC(offrec_client_tick(a->client), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_smp_start(a->client, S("zed"), 0, NULL, 1, NULL, 0),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_smp_start(a->client, S("zed"), 0, (const uint8_t *)"s", 1, NULL, 2),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_smp_start(a->client, S("zed"), 0, (const uint8_t *)"s",
                                     OFFREC_MAX_SMP_SECRET_LEN + 1, NULL, 0),
             OFFREC_RESULT_MESSAGE_TOO_LARGE);
    CHECK_RC(offrec_client_smp_start(a->client, S("zed"), 0, (const uint8_t *)"s", 1, "q",
                                     OFFREC_MAX_SMP_QUESTION_LEN + 1),
             OFFREC_RESULT_MESSAGE_TOO_LARGE);
    CHECK_RC(offrec_client_smp_respond(a->client, S("zed"), 0, NULL, 1), OFFREC_RESULT_NULL_ARGUMENT);
}

static void test_formatting(void) {
    uint8_t fp[32];
    char buf[OFFREC_FINGERPRINT_TEXT_SIZE];
    char small[8];
    size_t len = 0;
    int i;
    for (i = 0; i < 32; i++) {
        fp[i] = (uint8_t)(i * 7);
    }
    CHECK_RC(offrec_fingerprint_format(fp, NULL, 0, &len), OFFREC_RESULT_BUFFER_TOO_SMALL);
    CHECK(len == OFFREC_FINGERPRINT_TEXT_SIZE);
    len = 0;
    memset(small, 'z', sizeof small);
    CHECK_RC(offrec_fingerprint_format(fp, small, sizeof small, &len), OFFREC_RESULT_BUFFER_TOO_SMALL);
    CHECK(len == OFFREC_FINGERPRINT_TEXT_SIZE && small[0] == 'z');
    CHECK_RC(offrec_fingerprint_format(fp, buf, sizeof buf, &len), OFFREC_RESULT_OK);
    CHECK(len == sizeof buf && strlen(buf) == sizeof buf - 1);
    CHECK(strncmp(buf, "00070E15 ", 9) == 0);
    CHECK_RC(offrec_fingerprint_format(NULL, buf, sizeof buf, &len), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_fingerprint_format(fp, buf, sizeof buf, NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_fingerprint_format(fp, NULL, 5, &len), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_ssid_format(fp, buf, sizeof buf, &len), OFFREC_RESULT_OK);
    CHECK(len == OFFREC_SSID_TEXT_SIZE && strcmp(buf, "00070e15 1c232a31") == 0);
    CHECK_RC(offrec_ssid_format(fp, small, sizeof small, &len), OFFREC_RESULT_BUFFER_TOO_SMALL);
    CHECK(len == OFFREC_SSID_TEXT_SIZE);
    CHECK_RC(offrec_ssid_format(NULL, buf, sizeof buf, &len), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_ssid_format(fp, buf, sizeof buf, NULL), OFFREC_RESULT_NULL_ARGUMENT);
}

static void test_conversation(void) {
    struct party *a = party_new("alice", OFFREC_POLICY_MANUAL, 0);
    struct party *b = party_new("bob", OFFREC_POLICY_MANUAL, 0);
    uint64_t id = 0;
    size_t n = 0;
    offrec_session_info ia, ib;
    uint8_t fa[32], fb[32], got[32];
    offrec_trust tr = 99;
    uint32_t tag_b = 0;

    test_argument_checks(a);

    /* plaintext first */
    CHECK_RC(offrec_client_send(a->client, S("bob"), S("hello in the clear"), &id), OFFREC_RESULT_OK);
    CHECK(id != 0);
    pump_all();
    CHECK(b->delivered_count == 1 && strcmp(b->delivered[0], "hello in the clear") == 0);
    CHECK(b->delivered_security[0] == OFFREC_SECURITY_PLAINTEXT);

    /* handshake */
    CHECK_RC(offrec_client_start_session(a->client, S("bob")), OFFREC_RESULT_OK);
    pump_all();
    CHECK(state_of(a, b) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    CHECK(state_of(b, a) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    CHECK(a->last_state == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED && a->state_changes > 0);
    CHECK(party_has_event(a, OFFREC_EVENT_CODE_NEW_FINGERPRINT));
    CHECK(party_has_event(b, OFFREC_EVENT_CODE_NEW_FINGERPRINT));

    /* encrypted messages, with a re-entrant reply from inside deliver */
    b->on_deliver = bob_pongs;
    CHECK_RC(offrec_client_send(a->client, S("bob"), S("ping 1"), &id), OFFREC_RESULT_OK);
    pump_all();
    CHECK(b->delivered_count == 2 && strcmp(b->delivered[1], "ping 1") == 0);
    CHECK(b->delivered_security[1] == OFFREC_SECURITY_ENCRYPTED_UNVERIFIED);
    CHECK(a->delivered_count == 1 && strcmp(a->delivered[0], "pong 1") == 0);
    CHECK(a->delivered_security[0] == OFFREC_SECURITY_ENCRYPTED_UNVERIFIED);
    b->on_deliver = NULL;

    /* sessions and fingerprints */
    CHECK_RC(offrec_client_session_count(a->client, S("bob"), &n), OFFREC_RESULT_OK);
    CHECK(n == 1);
    CHECK_RC(offrec_client_session_info(a->client, S("bob"), 0, &ia), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_session_info(b->client, S("alice"), 0, &ib), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_session_info(a->client, S("bob"), 1, &ia), OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK(memcmp(ia.ssid, ib.ssid, 32) == 0);
    CHECK(ia.we_initiated != ib.we_initiated);
    CHECK(!ia.smp_in_progress && ia.state == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    CHECK_RC(offrec_client_fingerprint(a->client, fa), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_fingerprint(b->client, fb), OFFREC_RESULT_OK);
    CHECK(memcmp(ia.their_fingerprint, fb, 32) == 0 && memcmp(ib.their_fingerprint, fa, 32) == 0);
    CHECK_RC(offrec_client_instance_tag(b->client, &tag_b), OFFREC_RESULT_OK);
    CHECK(ia.instance == tag_b);

    /* send to an instance */
    CHECK_RC(offrec_client_send_to_instance(a->client, S("bob"), tag_b, S("to your instance"), &id),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_send_to_instance(a->client, S("bob"), 0x1234, S("nobody"), &id),
             OFFREC_RESULT_NO_SESSION);
    pump_all();
    CHECK(strcmp(b->delivered[b->delivered_count - 1], "to your instance") == 0);

    /* trust by hand */
    CHECK_RC(offrec_client_known_key_count(a->client, S("bob"), &n), OFFREC_RESULT_OK);
    CHECK(n == 1);
    CHECK_RC(offrec_client_known_key(a->client, S("bob"), 0, got, &tr), OFFREC_RESULT_OK);
    CHECK(memcmp(got, fb, 32) == 0 && tr == OFFREC_TRUST_UNVERIFIED);
    CHECK_RC(offrec_client_known_key(a->client, S("bob"), 1, got, &tr), OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_set_trust(a->client, S("bob"), fb, OFFREC_TRUST_VERIFIED_MANUAL),
             OFFREC_RESULT_OK);
    CHECK(a->last_state == OFFREC_SESSION_STATE_ENCRYPTED_VERIFIED);
    CHECK_RC(offrec_client_trust(a->client, S("bob"), fb, &tr), OFFREC_RESULT_OK);
    CHECK(tr == OFFREC_TRUST_VERIFIED_MANUAL);
    CHECK(state_of(a, b) == OFFREC_SESSION_STATE_ENCRYPTED_VERIFIED);
    CHECK_RC(offrec_client_set_trust(a->client, S("bob"), fb, OFFREC_TRUST_UNVERIFIED),
             OFFREC_RESULT_OK);
    CHECK(state_of(a, b) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);

    /* SMP with a question, success */
    CHECK_RC(offrec_client_smp_respond(b->client, S("alice"), 0, (const uint8_t *)"x", 1),
             OFFREC_RESULT_SMP_ERROR); /* nothing asked yet */
    CHECK_RC(offrec_client_smp_start(a->client, S("bob"), 0, (const uint8_t *)"blue", 4,
                                     S("favourite colour?")),
             OFFREC_RESULT_OK);
    pump_all();
    CHECK(party_has_event(b, OFFREC_EVENT_CODE_SMP_ASKED_FOR_SECRET));
    CHECK(strcmp(b->smp_question, "favourite colour?") == 0);
    CHECK_RC(offrec_client_smp_respond(b->client, S("alice"), 0, (const uint8_t *)"blue", 4),
             OFFREC_RESULT_OK);
    pump_all();
    CHECK(party_has_event(a, OFFREC_EVENT_CODE_SMP_SUCCEEDED));
    /* With a question only the asker verifies; the answerer is told it was verified. */
    CHECK(!party_has_event(b, OFFREC_EVENT_CODE_SMP_SUCCEEDED));
    CHECK(party_has_event(b, OFFREC_EVENT_CODE_SMP_VERIFIED_BY_PEER));
    CHECK_RC(offrec_client_trust(a->client, S("bob"), fb, &tr), OFFREC_RESULT_OK);
    CHECK(tr == OFFREC_TRUST_VERIFIED_SMP);
    CHECK_RC(offrec_client_trust(b->client, S("alice"), fa, &tr), OFFREC_RESULT_OK);
    CHECK(tr == OFFREC_TRUST_UNVERIFIED);
    CHECK(state_of(a, b) == OFFREC_SESSION_STATE_ENCRYPTED_VERIFIED);
    CHECK(state_of(b, a) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);

    /* SMP again too soon: rate limited */
    CHECK_RC(offrec_client_smp_start(a->client, S("bob"), 0, (const uint8_t *)"x", 1, NULL, 0),
             OFFREC_RESULT_SMP_RATE_LIMITED);
    /* The result code is the whole signal: there is no rate-limit event. */

    /* SMP without a question, different secrets: failure */
    clock_advance(11);
    CHECK_RC(offrec_client_smp_start(b->client, S("alice"), 0, (const uint8_t *)"red", 3, NULL, 0),
             OFFREC_RESULT_OK);
    pump_all();
    CHECK(a->smp_question[0] == '\0');
    CHECK_RC(offrec_client_smp_respond(a->client, S("bob"), 0, (const uint8_t *)"green", 5),
             OFFREC_RESULT_OK);
    pump_all();
    CHECK(party_has_event(a, OFFREC_EVENT_CODE_SMP_FAILED));
    CHECK(party_has_event(b, OFFREC_EVENT_CODE_SMP_FAILED));

    /* SMP abort */
    clock_advance(11);
    CHECK_RC(offrec_client_smp_start(a->client, S("bob"), tag_b, (const uint8_t *)"x", 1, NULL, 0),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_smp_abort(a->client, S("bob"), 0), OFFREC_RESULT_OK);
    pump_all();
    CHECK(party_has_event(a, OFFREC_EVENT_CODE_SMP_ABORTED));
    CHECK(party_has_event(b, OFFREC_EVENT_CODE_SMP_ABORTED));

    /* extra symmetric key */
    {
        uint8_t key[32];
        memset(key, 0, sizeof key);
        CHECK_RC(offrec_client_extra_symmetric_key(a->client, S("bob"), 0, 42,
                                                   (const uint8_t *)"file.txt", 8, key),
                 OFFREC_RESULT_OK);
        pump_all();
        CHECK(party_has_event(b, OFFREC_EVENT_CODE_EXTRA_KEY_RECEIVED));
        CHECK(memcmp(key, b->extra_key, 32) == 0);
        CHECK(b->extra_usage == 42 && strcmp(b->extra_context, "file.txt") == 0);
    }

    /* tick with time passing: heartbeats, no errors */
    clock_advance(61);
    CHECK_RC(offrec_client_tick(a->client), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_tick(b->client), OFFREC_RESULT_OK);
    pump_all();

    /* fragmentation through a per-peer limit: the message still arrives whole */
    CHECK_RC(offrec_client_set_max_message_size(a->client, S("bob"), 80), OFFREC_RESULT_OK);
    a->max_sent_len = 0;
    CHECK_RC(offrec_client_send(a->client, S("bob"),
                                S("a long message that certainly needs several fragments at 80 bytes"),
                                &id),
             OFFREC_RESULT_OK);
    CHECK(a->max_sent_len <= 80);
    pump_all();
    CHECK(strcmp(b->delivered[b->delivered_count - 1],
                 "a long message that certainly needs several fragments at 80 bytes") == 0);
    CHECK_RC(offrec_client_set_max_message_size(a->client, S("bob"), 0), OFFREC_RESULT_OK);

    /* a per-peer 0 means the client-wide limit again, not "no limit" for bob */
    CHECK_RC(offrec_client_set_option(a->client, OFFREC_OPTION_MAX_MESSAGE_SIZE, 100), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_set_max_message_size(a->client, S("bob"), 1000), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_set_max_message_size(a->client, S("bob"), 0), OFFREC_RESULT_OK);
    a->max_sent_len = 0;
    CHECK_RC(offrec_client_send(a->client, S("bob"),
                                S("a long message past the client-wide limit of one hundred bytes, so it is sent in pieces"),
                                &id),
             OFFREC_RESULT_OK);
    CHECK(a->max_sent_len > 0 && a->max_sent_len <= 100);
    pump_all();
    CHECK(strcmp(b->delivered[b->delivered_count - 1],
                 "a long message past the client-wide limit of one hundred bytes, so it is sent in pieces") == 0);
    CHECK_RC(offrec_client_set_option(a->client, OFFREC_OPTION_MAX_MESSAGE_SIZE, 0), OFFREC_RESULT_OK);

    /* policy: never lets nothing start */
    CHECK_RC(offrec_client_set_policy(b->client, OFFREC_POLICY_NEVER), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_start_session(b->client, S("carol")), OFFREC_RESULT_POLICY_FORBIDS);
    CHECK_RC(offrec_client_set_policy(b->client, OFFREC_POLICY_MANUAL), OFFREC_RESULT_OK);

    /* ending */
    CHECK_RC(offrec_client_end_session(a->client, S("bob"), 0), OFFREC_RESULT_OK);
    CHECK(state_of(a, b) == OFFREC_SESSION_STATE_PLAINTEXT);
    pump_all();
    CHECK(party_has_event(b, OFFREC_EVENT_CODE_PEER_ENDED_SESSION));
    CHECK(state_of(b, a) == OFFREC_SESSION_STATE_FINISHED);
    id = 5;
    CHECK_RC(offrec_client_send(b->client, S("alice"), S("are you there?"), &id),
             OFFREC_RESULT_SESSION_FINISHED);
    CHECK(id == 5);
    CHECK_RC(offrec_client_end_session(b->client, S("alice"), 0), OFFREC_RESULT_OK);
    CHECK(state_of(b, a) == OFFREC_SESSION_STATE_PLAINTEXT);
    pump_all();
    party_free_all();
}

static void test_held_messages_and_size_callback(void) {
    struct party *a = party_new("ann", OFFREC_POLICY_ALWAYS, 1);
    struct party *b = party_new("ben", OFFREC_POLICY_ALWAYS, 1);
    uint64_t id = 0;
    a->size_limit = 100;
    b->size_limit = 100;
    CHECK_RC(offrec_client_send(a->client, S("ben"), S("held until encrypted"), &id), OFFREC_RESULT_OK);
    CHECK(party_has_event(a, OFFREC_EVENT_CODE_ENCRYPTION_REQUIRED));
    pump_all();
    CHECK(party_has_event(a, OFFREC_EVENT_CODE_HELD_MESSAGE_SENT));
    CHECK(b->delivered_count == 1 && strcmp(b->delivered[0], "held until encrypted") == 0);
    CHECK(b->delivered_security[0] == OFFREC_SECURITY_ENCRYPTED_UNVERIFIED);
    CHECK(a->max_sent_len <= 100 && b->max_sent_len <= 100 && a->max_sent_len > 0);
    party_free_all();
}

static void test_forge(void) {
    struct party *a = party_new("amy", OFFREC_POLICY_MANUAL, 0);
    struct party *b = party_new("bill", OFFREC_POLICY_MANUAL, 0);
    uint64_t id = 0;
    int captured_index, reply_index;
    const char *later[1];
    size_t later_lens[1];
    offrec_buffer out = {NULL, 0};
    offrec_buffer untouched = {(uint8_t *)"x", 1};

    CHECK_RC(offrec_client_start_session(a->client, S("bill")), OFFREC_RESULT_OK);
    pump_all();
    CHECK_RC(offrec_client_send(a->client, S("bill"), S("I will pay you 10 euros"), &id),
             OFFREC_RESULT_OK);
    captured_index = a->sent_count - 1;
    pump_all();
    CHECK_RC(offrec_client_send(b->client, S("amy"), S("ok"), &id), OFFREC_RESULT_OK);
    reply_index = b->sent_count - 1;
    pump_all();
    if (captured_index < 0 || reply_index < 0) {
        failed++;
        party_free_all();
        return;
    }
    later[0] = b->sent[reply_index];
    later_lens[0] = strlen(later[0]);
    CHECK_RC(offrec_forge(a->sent[captured_index], strlen(a->sent[captured_index]), later, later_lens,
                          1, (const uint8_t *)"I will pay you 10 euros", 23,
                          (const uint8_t *)"I will pay you 99 euros", 23, &out),
             OFFREC_RESULT_OK);
    CHECK(out.data != NULL && out.len > 5 && memcmp(out.data, "?OFR", 4) == 0);
    CHECK(out.len == strlen(a->sent[captured_index]) &&
          memcmp(out.data, a->sent[captured_index], out.len) != 0);
    offrec_buffer_free(&out);
    CHECK(out.data == NULL && out.len == 0);

    /* errors, with *out untouched */
    CHECK_RC(offrec_forge(S("hello"), later, later_lens, 1, (const uint8_t *)"a", 1,
                          (const uint8_t *)"b", 1, &untouched),
             OFFREC_RESULT_NOT_A_DATA_MESSAGE);
    CHECK_RC(offrec_forge(a->sent[captured_index], strlen(a->sent[captured_index]), NULL, NULL, 0,
                          (const uint8_t *)"I will pay you 10 euros", 23, (const uint8_t *)"b", 1,
                          &untouched),
             OFFREC_RESULT_NO_MATCHING_REVEAL);
    CHECK_RC(offrec_forge(a->sent[captured_index], strlen(a->sent[captured_index]), later, later_lens,
                          1, (const uint8_t *)"way too long to be the text of this message at all",
                          50, (const uint8_t *)"b", 1, &untouched),
             OFFREC_RESULT_TEXT_DOES_NOT_FIT);
    CHECK_RC(offrec_forge(a->sent[captured_index], strlen(a->sent[captured_index]), later, NULL, 1,
                          (const uint8_t *)"a", 1, (const uint8_t *)"b", 1, &untouched),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_forge(a->sent[captured_index], strlen(a->sent[captured_index]), later, later_lens,
                          OFFREC_MAX_FORGE_LATER + 1, (const uint8_t *)"a", 1, (const uint8_t *)"b",
                          1, &untouched),
             OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_forge(NULL, 3, later, later_lens, 1, (const uint8_t *)"a", 1,
                          (const uint8_t *)"b", 1, &untouched),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_forge(S("x"), later, later_lens, 1, NULL, 1, (const uint8_t *)"b", 1, &untouched),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_forge(S("x"), later, later_lens, 1, (const uint8_t *)"a", 1, NULL, 1, &untouched),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_forge(S("x"), later, later_lens, 1, (const uint8_t *)"a", 1, (const uint8_t *)"b",
                          1, NULL),
             OFFREC_RESULT_NULL_ARGUMENT);
    CHECK(untouched.len == 1);
    party_free_all();
}

/* Peer names of every length reach the callbacks whole and NUL-terminated (the library keeps
 * short names on the stack and long ones on the heap: both ways checked). */
static struct {
    size_t sends, delivers, sizes, bad;
    const char *want;
    size_t want_len;
} long_names;

static int long_name_ok(const char *peer, size_t peer_len) {
    return peer_len == long_names.want_len && memcmp(peer, long_names.want, peer_len) == 0 &&
           peer[peer_len] == '\0';
}

static void ln_send(void *ud, const char *peer, size_t peer_len, const char *text, size_t len) {
    (void)ud;
    (void)text;
    (void)len;
    long_names.sends++;
    long_names.bad += !long_name_ok(peer, peer_len);
}

static void ln_deliver(void *ud, const char *peer, size_t peer_len, uint32_t instance, const uint8_t *text,
                       size_t len, offrec_security security) {
    (void)ud;
    (void)instance;
    (void)security;
    long_names.delivers++;
    long_names.bad += !long_name_ok(peer, peer_len) || len != 2 || memcmp(text, "hi", 3) != 0;
}

static size_t ln_size(void *ud, const char *peer, size_t peer_len) {
    (void)ud;
    long_names.sizes++;
    long_names.bad += !long_name_ok(peer, peer_len);
    return 0;
}

static void test_peer_names_in_callbacks(void) {
    static char name[OFFREC_MAX_NAME_LEN + 1];
    const size_t lengths[] = {1, 127, 128, 129, 300, OFFREC_MAX_NAME_LEN};
    offrec_callbacks cb;
    offrec_client *c = NULL;
    uint64_t id = 0;
    size_t i, j;
    memset(&cb, 0, sizeof cb);
    cb.send = ln_send;
    cb.deliver = ln_deliver;
    cb.max_message_size = ln_size;
    CHECK_RC(offrec_client_new(S("alice"), S("testnet"), OFFREC_POLICY_MANUAL, &cb, NULL, &c), OFFREC_RESULT_OK);
    for (i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        for (j = 0; j < lengths[i]; j++) {
            name[j] = (char)('a' + (i + j) % 26);
        }
        name[lengths[i]] = 'X'; /* the library must not rely on the caller's NUL */
        memset(&long_names, 0, sizeof long_names);
        long_names.want = name;
        long_names.want_len = lengths[i];
        CHECK_RC(offrec_client_send(c, name, lengths[i], S("hi"), &id), OFFREC_RESULT_OK);
        CHECK_RC(offrec_client_receive(c, name, lengths[i], S("hi")), OFFREC_RESULT_OK);
        CHECK(long_names.sends == 1 && long_names.delivers == 1 && long_names.sizes == 2);
        CHECK(long_names.bad == 0);
    }
    offrec_client_free(c);
}

int main(void) {
    CHECK(strcmp(offrec_version(), OFFREC_VERSION) == 0);
    test_create_errors();
    test_null_handles();
    test_formatting();
    test_conversation();
    test_held_messages_and_size_callback();
    test_forge();
    test_peer_names_in_callbacks();
    printf("test_client: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
