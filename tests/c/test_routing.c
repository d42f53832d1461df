/*
 * Issue #13 items 2 and 4 through the C API.
 *
 * Routing: Alice verified Bob's key. Mallory completes a handshake with Alice under the name
 * "bob" with her own key, on a new instance tag or on Bob's own tag. Plain sends never go to
 * her key without Alice's consent (offrec_client_accept_key, send_to_instance, set_trust);
 * control messages never move routing; KEY_CONSENT_REQUIRED carries the fingerprint.
 *
 * SMP: with a question only the asker verifies; the answerer gets SMP_VERIFIED_BY_PEER and its
 * trust is unchanged. Without a question both verify.
 *
 * The network: every message addressed to "bob" reaches the real Bob and Mallory (who both
 * are instances of the account "bob"), unless Bob is offline.
 */
#include "harness.h"

enum { ALICE = 0, BOB = 1, MALLORY = 2 };

static int bob_offline;
/* What KEY_CONSENT_REQUIRED said last, per party. */
static int consent_events[MAX_PARTIES];
static uint64_t consent_message[MAX_PARTIES];
static uint8_t consent_fp[MAX_PARTIES][32];
static uint32_t consent_instance[MAX_PARTIES];
static uint64_t held_sent[MAX_PARTIES][8];
static int held_sent_count[MAX_PARTIES];
static uint64_t not_sent_id[MAX_PARTIES];
static uint32_t not_sent_reason[MAX_PARTIES];

static void routing_event(void *ud, const offrec_event *e) {
    struct party *p = ud;
    if (e->code == OFFREC_EVENT_CODE_KEY_CONSENT_REQUIRED) {
        consent_events[p->index]++;
        consent_message[p->index] = e->message_id;
        consent_instance[p->index] = e->instance;
        if (e->fingerprint != NULL) {
            memcpy(consent_fp[p->index], e->fingerprint, 32);
        } else {
            failed++;
        }
    }
    if (e->code == OFFREC_EVENT_CODE_HELD_MESSAGE_SENT && held_sent_count[p->index] < 8) {
        held_sent[p->index][held_sent_count[p->index]++] = e->message_id;
    }
    if (e->code == OFFREC_EVENT_CODE_MESSAGE_NOT_SENT) {
        not_sent_id[p->index] = e->message_id;
        not_sent_reason[p->index] = e->reason;
    }
    cb_event(ud, e);
}

/* A party named `name`; with `tag` non-zero, with a fresh identity and that instance tag. */
static struct party *make_party(const char *name, uint32_t tag, uint8_t seed) {
    struct party *p = calloc(1, sizeof *p);
    offrec_callbacks cb;
    offrec_result rc;
    uint8_t secret[32];
    if (p == NULL || party_count >= MAX_PARTIES) {
        abort();
    }
    memset(&cb, 0, sizeof cb);
    cb.send = cb_send;
    cb.deliver = cb_deliver;
    cb.state_changed = cb_state;
    cb.event = routing_event;
    cb.now = cb_now;
    p->index = party_count;
    snprintf(p->name, sizeof p->name, "%s", name);
    pthread_mutex_init(&p->lock, NULL);
    if (tag != 0) {
        memset(secret, seed, sizeof secret);
        rc = offrec_client_new_with_identity(p->name, strlen(p->name), S("testnet"),
                                             OFFREC_POLICY_MANUAL, secret, tag, &cb, p, &p->client);
    } else {
        rc = offrec_client_new(p->name, strlen(p->name), S("testnet"), OFFREC_POLICY_MANUAL, &cb, p,
                               &p->client);
    }
    if (rc != OFFREC_RESULT_OK) {
        fprintf(stderr, "creating %s: %s\n", name, offrec_result_message(rc));
        abort();
    }
    parties[party_count++] = p;
    consent_events[p->index] = 0;
    held_sent_count[p->index] = 0;
    not_sent_id[p->index] = 0;
    return p;
}

static void receive_into(int to, const struct wire_msg *m) {
    offrec_result rc = offrec_client_receive(parties[to]->client, parties[m->from]->name,
                                             strlen(parties[m->from]->name), m->text, m->len);
    if (rc != OFFREC_RESULT_OK) {
        failed++;
        fprintf(stderr, "receive: %s\n", offrec_result_message(rc));
    }
}

/* Delivers everything; what goes to "bob" reaches every online instance of the account. */
static void pump(void) {
    for (;;) {
        struct wire_msg *m = queue_pop();
        if (m == NULL) {
            return;
        }
        if (m->to == BOB) {
            if (!bob_offline) {
                receive_into(BOB, m);
            }
            if (party_count > MALLORY) {
                receive_into(MALLORY, m);
            }
        } else {
            receive_into(m->to, m);
        }
        free(m);
    }
}

static int delivered(struct party *p, const char *text) {
    int i, found = 0;
    pthread_mutex_lock(&p->lock);
    for (i = 0; i < p->delivered_count; i++) {
        if (strcmp(p->delivered[i], text) == 0) {
            found = 1;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return found;
}

/* Alice and Bob in a session in which Alice verified Bob's key; Mallory then completes a
 * handshake with Alice as "bob" on instance `mallory_tag` (0: Bob's own tag). */
static void setup(uint32_t mallory_tag, struct party **a, struct party **b, struct party **m) {
    uint8_t fb[32];
    uint32_t tag_b = 0;
    *a = make_party("alice", 0, 0);
    *b = make_party("bob", 0, 0);
    CHECK_RC(offrec_client_start_session((*a)->client, S("bob")), OFFREC_RESULT_OK);
    pump();
    CHECK_RC(offrec_client_fingerprint((*b)->client, fb), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_set_trust((*a)->client, S("bob"), fb, OFFREC_TRUST_VERIFIED_MANUAL),
             OFFREC_RESULT_OK);
    CHECK(state_of(*a, *b) == OFFREC_SESSION_STATE_ENCRYPTED_VERIFIED);
    CHECK_RC(offrec_client_instance_tag((*b)->client, &tag_b), OFFREC_RESULT_OK);
    *m = make_party("bob", mallory_tag != 0 ? mallory_tag : tag_b, 0x4d);
    bob_offline = 1;
    CHECK_RC(offrec_client_start_session((*m)->client, S("alice")), OFFREC_RESULT_OK);
    pump();
    bob_offline = 0;
    CHECK(party_has_event(*a, OFFREC_EVENT_CODE_FINGERPRINT_CHANGED));
    CHECK(consent_events[ALICE] == 1 && consent_message[ALICE] == 0);
    {
        uint8_t fm[32];
        offrec_trust tr = 99;
        CHECK_RC(offrec_client_fingerprint((*m)->client, fm), OFFREC_RESULT_OK);
        CHECK(memcmp(consent_fp[ALICE], fm, 32) == 0);
        CHECK_RC(offrec_client_trust((*a)->client, S("bob"), fm, &tr), OFFREC_RESULT_OK);
        CHECK(tr == OFFREC_TRUST_UNVERIFIED);
    }
}

static void test_new_instance_does_not_take_over(void) {
    struct party *a, *b, *m;
    uint64_t id = 0;
    uint8_t mkey[32];
    setup(0x0bad0bad, &a, &b, &m);
    CHECK_RC(offrec_client_send(a->client, S("bob"), S("for bob"), &id), OFFREC_RESULT_OK);
    pump();
    CHECK(delivered(b, "for bob") && m->delivered_count == 0);

    /* A control message from Mallory (extra key TLV, no text) does not move routing. */
    CHECK_RC(offrec_client_extra_symmetric_key(m->client, S("alice"), 0, 1, NULL, 0, mkey),
             OFFREC_RESULT_OK);
    pump();
    CHECK(party_has_event(a, OFFREC_EVENT_CODE_EXTRA_KEY_RECEIVED));
    /* Nor does her text. */
    CHECK_RC(offrec_client_send(m->client, S("alice"), S("it's me, bob"), &id), OFFREC_RESULT_OK);
    pump();
    CHECK(delivered(a, "it's me, bob"));
    CHECK_RC(offrec_client_send(a->client, S("bob"), S("still for bob"), &id), OFFREC_RESULT_OK);
    pump();
    CHECK(delivered(b, "still for bob") && m->delivered_count == 0);

    /* Explicit send to her instance reaches her: consent. */
    CHECK_RC(offrec_client_send_to_instance(a->client, S("bob"), 0x0bad0bad, S("explicitly"), &id),
             OFFREC_RESULT_OK);
    pump();
    CHECK(delivered(m, "explicitly"));
    party_free_all();
}

static void test_same_tag_held_until_accepted(void) {
    struct party *a, *b, *m;
    uint64_t id = 0, first = 0;
    size_t n = 0;
    int sent_before;
    uint32_t tag_b = 0;
    offrec_trust tr = 99;
    setup(0, &a, &b, &m);
    CHECK_RC(offrec_client_instance_tag(b->client, &tag_b), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_session_count(a->client, S("bob"), &n), OFFREC_RESULT_OK);
    CHECK(n == 1); /* Mallory's session replaced Bob's under his tag */
    CHECK(state_of(a, b) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);

    sent_before = a->sent_count;
    CHECK_RC(offrec_client_send(a->client, S("bob"), S("held one"), &first), OFFREC_RESULT_OK);
    CHECK(a->sent_count == sent_before); /* not to her, not in the clear */
    CHECK(consent_events[ALICE] == 2 && consent_message[ALICE] == first);
    CHECK(consent_instance[ALICE] == tag_b);
    pump();
    CHECK(m->delivered_count == 0 && b->delivered_count == 0);

    /* Accepting: bad arguments first, nothing changes. */
    CHECK_RC(offrec_client_accept_key(a->client, S("bob"), 0), OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_accept_key(a->client, S("bob"), 0x4242), OFFREC_RESULT_NO_SESSION);
    CHECK_RC(offrec_client_accept_key(a->client, NULL, 3, tag_b), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_accept_key(NULL, S("bob"), tag_b), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK(a->sent_count == sent_before);

    CHECK_RC(offrec_client_accept_key(a->client, S("bob"), tag_b), OFFREC_RESULT_OK);
    CHECK(held_sent_count[ALICE] == 1 && held_sent[ALICE][0] == first);
    bob_offline = 1;
    pump();
    CHECK(delivered(m, "held one"));
    CHECK_RC(offrec_client_send(a->client, S("bob"), S("after consent"), &id), OFFREC_RESULT_OK);
    pump();
    bob_offline = 0;
    CHECK(delivered(m, "after consent"));
    /* Consent is not verification. */
    {
        uint8_t fm[32];
        CHECK_RC(offrec_client_fingerprint(m->client, fm), OFFREC_RESULT_OK);
        CHECK_RC(offrec_client_trust(a->client, S("bob"), fm, &tr), OFFREC_RESULT_OK);
        CHECK(tr == OFFREC_TRUST_UNVERIFIED);
    }
    party_free_all();
}

static void test_same_tag_times_out_with_key_changed(void) {
    struct party *a, *b, *m;
    uint64_t id = 0;
    setup(0, &a, &b, &m);
    CHECK_RC(offrec_client_send(a->client, S("bob"), S("never sent"), &id), OFFREC_RESULT_OK);
    clock_advance(121);
    CHECK_RC(offrec_client_tick(a->client), OFFREC_RESULT_OK);
    CHECK(not_sent_id[ALICE] == id && not_sent_reason[ALICE] == OFFREC_NOT_SENT_REASON_KEY_CHANGED);
    bob_offline = 1;
    pump();
    bob_offline = 0;
    CHECK(m->delivered_count == 0);
    party_free_all();
}

static void test_set_trust_is_consent(void) {
    struct party *a, *b, *m;
    uint64_t id = 0;
    uint8_t fm[32];
    setup(0, &a, &b, &m);
    CHECK_RC(offrec_client_send(a->client, S("bob"), S("held until verified"), &id), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_fingerprint(m->client, fm), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_set_trust(a->client, S("bob"), fm, OFFREC_TRUST_VERIFIED_MANUAL),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_tick(a->client), OFFREC_RESULT_OK);
    CHECK(held_sent_count[ALICE] == 1 && held_sent[ALICE][0] == id);
    bob_offline = 1;
    pump();
    bob_offline = 0;
    CHECK(delivered(m, "held until verified"));
    party_free_all();
}

static void test_smp_question_verifies_only_the_asker(void) {
    struct party *a = make_party("alice", 0, 0);
    struct party *b = make_party("bob", 0, 0);
    uint8_t fa[32], fb[32];
    offrec_trust tr = 99;
    CHECK_RC(offrec_client_fingerprint(a->client, fa), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_fingerprint(b->client, fb), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_start_session(a->client, S("bob")), OFFREC_RESULT_OK);
    pump();
    CHECK_RC(offrec_client_smp_start(a->client, S("bob"), 0, (const uint8_t *)"blue", 4, S("colour?")),
             OFFREC_RESULT_OK);
    pump();
    CHECK_RC(offrec_client_smp_respond(b->client, S("alice"), 0, (const uint8_t *)"blue", 4),
             OFFREC_RESULT_OK);
    pump();
    CHECK(party_has_event(a, OFFREC_EVENT_CODE_SMP_SUCCEEDED));
    CHECK(!party_has_event(a, OFFREC_EVENT_CODE_SMP_VERIFIED_BY_PEER));
    CHECK(party_has_event(b, OFFREC_EVENT_CODE_SMP_VERIFIED_BY_PEER));
    CHECK(!party_has_event(b, OFFREC_EVENT_CODE_SMP_SUCCEEDED));
    CHECK_RC(offrec_client_trust(a->client, S("bob"), fb, &tr), OFFREC_RESULT_OK);
    CHECK(tr == OFFREC_TRUST_VERIFIED_SMP);
    CHECK_RC(offrec_client_trust(b->client, S("alice"), fa, &tr), OFFREC_RESULT_OK);
    CHECK(tr == OFFREC_TRUST_UNVERIFIED);
    CHECK(state_of(a, b) == OFFREC_SESSION_STATE_ENCRYPTED_VERIFIED);
    CHECK(state_of(b, a) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);

    /* Without a question both sides verify. */
    clock_advance(11);
    CHECK_RC(offrec_client_smp_start(b->client, S("alice"), 0, (const uint8_t *)"red", 3, NULL, 0),
             OFFREC_RESULT_OK);
    pump();
    CHECK_RC(offrec_client_smp_respond(a->client, S("bob"), 0, (const uint8_t *)"red", 3),
             OFFREC_RESULT_OK);
    pump();
    CHECK(party_has_event(b, OFFREC_EVENT_CODE_SMP_SUCCEEDED));
    CHECK_RC(offrec_client_trust(b->client, S("alice"), fa, &tr), OFFREC_RESULT_OK);
    CHECK(tr == OFFREC_TRUST_VERIFIED_SMP);
    CHECK(state_of(b, a) == OFFREC_SESSION_STATE_ENCRYPTED_VERIFIED);
    party_free_all();
}

int main(void) {
    test_new_instance_does_not_take_over();
    test_same_tag_held_until_accepted();
    test_same_tag_times_out_with_key_changed();
    test_set_trust_is_consent();
    test_smp_question_verifies_only_the_asker();
    printf("test_routing: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
