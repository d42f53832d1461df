/*
 * Application TLVs through the C API: offrec_client_send_tlvs and the TLV_RECEIVED event, in
 * offrec's protocol and in OTR v3 (two offrec clients forced onto OTR), the refusal in OTR v2,
 * the type range, the caps, NULL arguments, and that nothing is sent without a session or on
 * an error. Prints "test_tlv: N passed, N failed".
 */
#include "harness.h"

#include <stdbool.h>

#define OTR_POLICY (OFFREC_POLICY_ALLOW | OFFREC_POLICY_ALLOW_OTR_V3 | OFFREC_POLICY_ALLOW_OTR_V2)

/* Every TLV_RECEIVED event, in order, with where the party's deliveries stood when it came. */
struct tlv_seen {
    int party;
    uint32_t type;
    size_t len;
    uint8_t data[64];
    int delivered_before;
};
static struct tlv_seen seen[64];
static int seen_count;

static void tlv_event(void *ud, const offrec_event *e) {
    struct party *p = ud;
    cb_event(ud, e);
    if (e->code != OFFREC_EVENT_CODE_TLV_RECEIVED || seen_count >= 64) {
        return;
    }
    seen[seen_count].party = p->index;
    seen[seen_count].type = e->usage;
    seen[seen_count].len = e->context_len;
    seen[seen_count].delivered_before = p->delivered_count;
    if (e->context_len > 0 && e->context_len <= sizeof seen[seen_count].data) {
        memcpy(seen[seen_count].data, e->context, e->context_len);
    }
    CHECK((e->context == NULL) == (e->context_len == 0));
    seen_count++;
}

/* party_new with the TLV-recording event callback. */
static struct party *tlv_party(const char *name, uint32_t policy) {
    struct party *p = calloc(1, sizeof *p);
    offrec_callbacks cb;
    if (p == NULL || party_count >= MAX_PARTIES) {
        abort();
    }
    memset(&cb, 0, sizeof cb);
    cb.send = cb_send;
    cb.deliver = cb_deliver;
    cb.state_changed = cb_state;
    cb.event = tlv_event;
    cb.now = cb_now;
    p->index = party_count;
    snprintf(p->name, sizeof p->name, "%s", name);
    pthread_mutex_init(&p->lock, NULL);
    if (offrec_client_new(p->name, strlen(p->name), S("testnet"), policy, &cb, p, &p->client) !=
        OFFREC_RESULT_OK) {
        abort();
    }
    parties[party_count++] = p;
    party_use_fixture_otr_key(p);
    return p;
}

static void test_constants(void) {
    CHECK(OFFREC_TLV_APP_FIRST == 0x8000);
    CHECK(OFFREC_MAX_TLVS == 16);
    CHECK(OFFREC_MAX_TLV_BYTES == 65535);
    CHECK(OFFREC_EVENT_CODE_TLV_RECEIVED == 44);
    CHECK(OFFREC_RESULT_TLV_TYPE_RESERVED == 144);
    CHECK(OFFREC_RESULT_TOO_MANY_TLVS == 145);
    CHECK(OFFREC_RESULT_TLVS_UNSUPPORTED == 146);
    CHECK(strcmp(offrec_result_message(OFFREC_RESULT_TLV_TYPE_RESERVED), "unknown result code") != 0);
    CHECK(strcmp(offrec_result_message(OFFREC_RESULT_TOO_MANY_TLVS), "unknown result code") != 0);
    CHECK(strcmp(offrec_result_message(OFFREC_RESULT_TLVS_UNSUPPORTED), "unknown result code") != 0);
}

/* Alice sends text with two TLVs, then a TLV-only message; Bob gets them in order, before the
 * text, and no heartbeat event for the TLV-only one; then Bob answers with one. */
static void exchange(struct party *a, struct party *b) {
    offrec_tlv two[2] = {{0x8001, (const uint8_t *)"typing", 6}, {0xFFFF, NULL, 0}};
    offrec_tlv one = {OFFREC_TLV_APP_FIRST, (const uint8_t *)"\x00\x01\x02", 3};
    uint64_t id = 0;
    int i, start = seen_count, sent_before = a->sent_count;

    CHECK_RC(offrec_client_send_tlvs(a->client, S("bob"), S("with tlvs"), two, 2, &id),
             OFFREC_RESULT_OK);
    CHECK(id != 0);
    CHECK(a->sent_count == sent_before + 1);
    for (i = sent_before; i < a->sent_count; i++) {
        CHECK(strstr(a->sent[i], "typing") == NULL);
    }
    pump_all();
    CHECK(seen_count == start + 2);
    CHECK(seen[start].party == b->index && seen[start].type == 0x8001 && seen[start].len == 6 &&
          memcmp(seen[start].data, "typing", 6) == 0);
    CHECK(seen[start + 1].type == 0xFFFF && seen[start + 1].len == 0);
    CHECK(b->delivered_count == 1 && strcmp(b->delivered[0], "with tlvs") == 0);
    CHECK(seen[start].delivered_before == 0 && seen[start + 1].delivered_before == 0);

    CHECK_RC(offrec_client_send_tlvs(a->client, S("bob"), NULL, 0, &one, 1, &id), OFFREC_RESULT_OK);
    pump_all();
    CHECK(seen_count == start + 3);
    CHECK(seen[start + 2].type == 0x8000 && seen[start + 2].len == 3 &&
          memcmp(seen[start + 2].data, "\x00\x01\x02", 3) == 0);
    CHECK(b->delivered_count == 1);
    CHECK(!party_has_event(b, OFFREC_EVENT_CODE_HEARTBEAT_RECEIVED));

    one.type = 0x9000;
    CHECK_RC(offrec_client_send_tlvs(b->client, S("alice"), S(""), &one, 1, &id), OFFREC_RESULT_OK);
    pump_all();
    CHECK(seen_count == start + 4 && seen[start + 3].party == a->index && seen[start + 3].type == 0x9000);
}

static void test_modern(void) {
    struct party *a = tlv_party("alice", OFFREC_POLICY_MANUAL);
    struct party *b = tlv_party("bob", OFFREC_POLICY_MANUAL);
    CHECK_RC(offrec_client_start_session(a->client, S("bob")), OFFREC_RESULT_OK);
    pump_all();
    CHECK(state_of(a, b) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    exchange(a, b);
    party_free_all();
}

static void test_otr(void) {
    struct party *a = tlv_party("alice", OTR_POLICY);
    struct party *b = tlv_party("bob", OTR_POLICY);
    offrec_session_protocol proto;
    offrec_tlv one = {0x8000, (const uint8_t *)"x", 1};
    uint64_t id = 7;
    int sent_before;

    CHECK_RC(offrec_client_receive(a->client, S("bob"), S("?OTRv3?")), OFFREC_RESULT_OK);
    pump_all();
    CHECK_RC(offrec_client_session_protocol(a->client, S("bob"), 0, &proto), OFFREC_RESULT_OK);
    CHECK(proto.protocol == OFFREC_PROTOCOL_OTR_V3);
    exchange(a, b);
    party_free_all();

    /* OTR v2: refused (python-potr fails on unknown TLVs); text alone still goes. */
    a = tlv_party("alice", OTR_POLICY);
    b = tlv_party("bob", OTR_POLICY);
    CHECK_RC(offrec_client_receive(a->client, S("bob"), S("?OTRv2?")), OFFREC_RESULT_OK);
    pump_all();
    CHECK_RC(offrec_client_session_protocol(a->client, S("bob"), 0, &proto), OFFREC_RESULT_OK);
    CHECK(proto.protocol == OFFREC_PROTOCOL_OTR_V2);
    sent_before = a->sent_count;
    CHECK_RC(offrec_client_send_tlvs(a->client, S("bob"), S("hi"), &one, 1, &id),
             OFFREC_RESULT_TLVS_UNSUPPORTED);
    CHECK(id == 7 && a->sent_count == sent_before);
    CHECK_RC(offrec_client_send_tlvs(a->client, S("bob"), S("text only"), NULL, 0, &id),
             OFFREC_RESULT_OK);
    pump_all();
    CHECK(b->delivered_count == 1 && strcmp(b->delivered[0], "text only") == 0);
    party_free_all();
}

static void test_refusals(void) {
    struct party *a = tlv_party("alice", OFFREC_POLICY_ALWAYS);
    struct party *b = tlv_party("bob", OFFREC_POLICY_ALWAYS);
    static uint8_t big[65535];
    offrec_tlv many[17], two_big[2] = {{0x8000, big, 40000}, {0x8001, big, 40000}};
    offrec_tlv reserved[2] = {{0x8000, NULL, 0}, {0x7FFF, NULL, 0}};
    offrec_tlv probe = {0x4F46, NULL, 0}, smp = {2, NULL, 0}, null_data = {0x8000, NULL, 3};
    uint64_t id = 42;
    int i, start = seen_count;

    for (i = 0; i < 17; i++) {
        many[i].type = (uint16_t)(0x8000 + i);
        many[i].data = (const uint8_t *)"v";
        many[i].len = 1;
    }
    /* No session (policy ALWAYS): nothing is held, nothing goes out, not even a query. */
    CHECK_RC(offrec_client_send_tlvs(a->client, S("bob"), S("secret"), many, 1, &id),
             OFFREC_RESULT_NO_SESSION);
    CHECK(id == 42 && a->sent_count == 0 && a->event_count == 0);

    CHECK_RC(offrec_client_start_session(a->client, S("bob")), OFFREC_RESULT_OK);
    pump_all();
    CHECK(state_of(a, b) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    {
        int sent_before = a->sent_count;
        CHECK_RC(offrec_client_send_tlvs(a->client, S("bob"), S("x"), reserved, 2, &id),
                 OFFREC_RESULT_TLV_TYPE_RESERVED);
        CHECK_RC(offrec_client_send_tlvs(a->client, S("bob"), S("x"), &probe, 1, &id),
                 OFFREC_RESULT_TLV_TYPE_RESERVED);
        CHECK_RC(offrec_client_send_tlvs(a->client, S("bob"), S("x"), &smp, 1, &id),
                 OFFREC_RESULT_TLV_TYPE_RESERVED);
        CHECK_RC(offrec_client_send_tlvs(a->client, S("bob"), S(""), many, 17, &id),
                 OFFREC_RESULT_TOO_MANY_TLVS);
        CHECK_RC(offrec_client_send_tlvs(a->client, S("bob"), S(""), two_big, 2, &id),
                 OFFREC_RESULT_MESSAGE_TOO_LARGE);
        CHECK_RC(offrec_client_send_tlvs(a->client, S("bob"), S(""), NULL, 0, &id),
                 OFFREC_RESULT_INVALID_ARGUMENT);
        CHECK_RC(offrec_client_send_tlvs(a->client, S("bob"), S(""), NULL, 1, &id),
                 OFFREC_RESULT_NULL_ARGUMENT);
        CHECK_RC(offrec_client_send_tlvs(a->client, S("bob"), S(""), &null_data, 1, &id),
                 OFFREC_RESULT_NULL_ARGUMENT);
        CHECK_RC(offrec_client_send_tlvs(a->client, S("bob"), S("x"), many, 1, NULL),
                 OFFREC_RESULT_NULL_ARGUMENT);
        CHECK_RC(offrec_client_send_tlvs(NULL, S("bob"), S("x"), many, 1, &id),
                 OFFREC_RESULT_NULL_ARGUMENT);
        CHECK(id == 42 && a->sent_count == sent_before);
        pump_all();
        CHECK(seen_count == start);
    }
    /* The most there may be, together. */
    CHECK_RC(offrec_client_send_tlvs(a->client, S("bob"), S(""), many, 16, &id), OFFREC_RESULT_OK);
    two_big[0].len = 65535;
    CHECK_RC(offrec_client_send_tlvs(a->client, S("bob"), S(""), two_big, 1, &id), OFFREC_RESULT_OK);
    pump_all();
    CHECK(seen_count == start + 17);
    CHECK(seen[start + 15].type == 0x800F);
    party_free_all();
}

int main(void) {
    test_constants();
    test_modern();
    test_otr();
    test_refusals();
    printf("test_tlv: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
