/*
 * The downgrade guard through the C API (PROTOCOL.md part B.12 and "Key links and pins"),
 * between two offrec clients with a man in the middle in their send callback: he removes
 * offrec's offer (" ?OFRv1?") from every query and, when told to, drops offrec messages or each
 * sender's first OTR data message (the upgrade probe travels alone in it). Covers
 * DOWNGRADE_SUSPECTED (modern blocked after the probe), the probe repeated on the first user
 * message, DOWNGRADE_DETECTED with a pinned key link (held text delivered over the modern
 * session, never over OTR; also after a save and load), LEGACY_WITH_MODERN_PEER with another
 * DSA key, and OTR_KEY_LINKED with trust flowing only from the verified side.
 * Prints "test_downgrade: N passed, N failed".
 */
#include "harness.h"

#include <stdbool.h>

/* OTR as fallback without DOWNGRADE_GUARD: an OTR-only peer (it never sends the probe). */
#define OTR_POLICY (OFFREC_POLICY_ALLOW | OFFREC_POLICY_ALLOW_OTR_V3 | OFFREC_POLICY_ALLOW_OTR_V2)

static const uint8_t OTR_PREFIX[12] = {'o', 't', 'r', '-', 'd', 's', 'a', '-', 's', 'h', 'a', '1'};

static struct {
    bool strip, block_modern, drop_first_data;
    bool dropped[MAX_PARTIES];
    int blocked_modern[MAX_PARTIES];
    /* the fingerprint of each party's last OTR_KEY_LINKED event */
    uint8_t linked[MAX_PARTIES][32];
} mitm;

static void mitm_reset(void) {
    memset(&mitm, 0, sizeof mitm);
}

static void mitm_send(void *ud, const char *peer, size_t peer_len, const char *text, size_t len) {
    struct party *p = ud;
    const char *offer = strstr(text, " ?OFRv1?");
    if (mitm.block_modern && strncmp(text, "?OFR", 4) == 0) {
        mitm.blocked_modern[p->index]++;
        return;
    }
    if (mitm.drop_first_data && strncmp(text, "?OTR:AAMD", 9) == 0 && !mitm.dropped[p->index]) {
        mitm.dropped[p->index] = true;
        return;
    }
    if (mitm.strip && strncmp(text, "?OTRv", 5) == 0 && offer != NULL) {
        size_t head = (size_t)(offer - text), cut = strlen(" ?OFRv1?");
        char *copy = malloc(len + 1);
        if (copy == NULL) {
            abort();
        }
        memcpy(copy, text, head);
        memcpy(copy + head, offer + cut, len - head - cut + 1); /* with the NUL */
        cb_send(ud, peer, peer_len, copy, len - cut);
        free(copy);
        return;
    }
    cb_send(ud, peer, peer_len, text, len);
}

static void mitm_event(void *ud, const offrec_event *e) {
    struct party *p = ud;
    cb_event(ud, e);
    if (e->code == OFFREC_EVENT_CODE_OTR_KEY_LINKED && e->fingerprint != NULL) {
        memcpy(mitm.linked[p->index], e->fingerprint, 32);
    }
}

static offrec_callbacks mitm_callbacks(void) {
    offrec_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.send = mitm_send;
    cb.deliver = cb_deliver;
    cb.state_changed = cb_state;
    cb.event = mitm_event;
    cb.now = cb_now;
    return cb;
}

/* Like party_new, with the man in the middle in the send callback, and a fixture OTR key. */
static struct party *mitm_party(const char *name, uint32_t policy) {
    struct party *p = calloc(1, sizeof *p);
    offrec_callbacks cb = mitm_callbacks();
    if (p == NULL || party_count >= MAX_PARTIES) {
        abort();
    }
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

static void forget_what_was_seen(struct party *p) {
    pthread_mutex_lock(&p->lock);
    p->delivered_count = 0;
    p->event_count = 0;
    pthread_mutex_unlock(&p->lock);
}

static int count_events(struct party *p, uint32_t code) {
    int i, n = 0;
    pthread_mutex_lock(&p->lock);
    for (i = 0; i < p->event_count; i++) {
        n += p->events[i] == code;
    }
    pthread_mutex_unlock(&p->lock);
    return n;
}

static int event_index(struct party *p, uint32_t code) {
    int i, at = -1;
    pthread_mutex_lock(&p->lock);
    for (i = 0; i < p->event_count && at < 0; i++) {
        if (p->events[i] == code) {
            at = i;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return at;
}

static uint32_t protocol_with(struct party *p, struct party *peer) {
    offrec_session_protocol sp;
    size_t n = 0;
    if (offrec_client_session_count(p->client, peer->name, strlen(peer->name), &n) !=
            OFFREC_RESULT_OK ||
        n != 1) {
        return 0;
    }
    memset(&sp, 0, sizeof sp);
    offrec_client_session_protocol(p->client, peer->name, strlen(peer->name), 0, &sp);
    return sp.protocol;
}

/* Delivers one message; its text (as delivered) goes to `text`. 0 if nothing was queued. */
static int pump_one_text(char *text, size_t cap) {
    struct wire_msg *m = queue_pop();
    if (m == NULL) {
        return 0;
    }
    snprintf(text, cap, "%s", m->text);
    CHECK_RC(offrec_client_receive(parties[m->to]->client, parties[m->from]->name,
                                   strlen(parties[m->from]->name), m->text, m->len),
             OFFREC_RESULT_OK);
    free(m);
    return 1;
}

static void otr_key_id(struct party *p, uint8_t id[32]) {
    memcpy(id, OTR_PREFIX, sizeof OTR_PREFIX);
    CHECK_RC(offrec_client_otr_fingerprint(p->client, id + sizeof OTR_PREFIX), OFFREC_RESULT_OK);
}

static offrec_trust trust_in(struct party *p, struct party *peer, const uint8_t key[32]) {
    offrec_trust tr = 99;
    CHECK_RC(offrec_client_trust(p->client, peer->name, strlen(peer->name), key, &tr),
             OFFREC_RESULT_OK);
    return tr;
}

/* A modern session (which links each side's DSA key), then both sides end it. */
static void modern_then_ended(struct party *a, struct party *b) {
    CHECK_RC(offrec_client_start_session(a->client, b->name, strlen(b->name)), OFFREC_RESULT_OK);
    pump_all();
    CHECK(protocol_with(a, b) == OFFREC_PROTOCOL_MODERN_V1);
    CHECK_RC(offrec_client_end_session(a->client, b->name, strlen(b->name), 0), OFFREC_RESULT_OK);
    pump_all();
    CHECK_RC(offrec_client_end_session(b->client, a->name, strlen(a->name), 0), OFFREC_RESULT_OK);
    pump_all();
}

static void test_blocked_upgrade_is_suspected(void) {
    struct party *a, *b;
    uint64_t id = 0;
    mitm_reset();
    a = mitm_party("alice", OFFREC_POLICY_MANUAL);
    b = mitm_party("bob", OFFREC_POLICY_MANUAL);
    mitm.strip = mitm.block_modern = true;
    CHECK_RC(offrec_client_start_session(a->client, S("bob")), OFFREC_RESULT_OK);
    pump_all();
    CHECK(protocol_with(a, b) == OFFREC_PROTOCOL_OTR_V3);
    /* each side read the other's probe and tried the modern handshake, which was dropped */
    CHECK(mitm.blocked_modern[a->index] > 0 && mitm.blocked_modern[b->index] > 0);
    CHECK(!party_has_event(a, OFFREC_EVENT_CODE_DOWNGRADE_SUSPECTED));
    clock_advance(121);
    CHECK_RC(offrec_client_tick(a->client), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_tick(b->client), OFFREC_RESULT_OK);
    pump_all();
    CHECK(count_events(a, OFFREC_EVENT_CODE_DOWNGRADE_SUSPECTED) == 1);
    CHECK(count_events(b, OFFREC_EVENT_CODE_DOWNGRADE_SUSPECTED) == 1);
    clock_advance(1000);
    CHECK_RC(offrec_client_tick(a->client), OFFREC_RESULT_OK);
    CHECK(count_events(a, OFFREC_EVENT_CODE_DOWNGRADE_SUSPECTED) == 1); /* once */
    CHECK_RC(offrec_client_send(a->client, S("bob"), S("still here"), &id), OFFREC_RESULT_OK);
    pump_all();
    CHECK(b->delivered_count == 1 && strcmp(b->delivered[0], "still here") == 0);
    party_free_all();
}

static void test_probe_repeated_on_the_first_user_message(void) {
    struct party *a, *b;
    uint64_t id = 0;
    mitm_reset();
    a = mitm_party("alice", OFFREC_POLICY_MANUAL);
    b = mitm_party("bob", OFFREC_POLICY_MANUAL);
    mitm.strip = mitm.drop_first_data = true;
    CHECK_RC(offrec_client_start_session(a->client, S("bob")), OFFREC_RESULT_OK);
    pump_all();
    CHECK(mitm.dropped[a->index] && mitm.dropped[b->index]); /* both probes were lost */
    CHECK(!party_has_event(a, OFFREC_EVENT_CODE_PROTOCOL_UPGRADED));
    CHECK(protocol_with(a, b) == OFFREC_PROTOCOL_OTR_V3);
    CHECK_RC(offrec_client_send(a->client, S("bob"), S("one"), &id), OFFREC_RESULT_OK);
    pump_all();
    CHECK(b->delivered_count == 1 && strcmp(b->delivered[0], "one") == 0);
    CHECK(party_has_event(a, OFFREC_EVENT_CODE_PROTOCOL_UPGRADED));
    CHECK(party_has_event(b, OFFREC_EVENT_CODE_PROTOCOL_UPGRADED));
    CHECK(protocol_with(a, b) == OFFREC_PROTOCOL_MODERN_V1);
    CHECK(protocol_with(b, a) == OFFREC_PROTOCOL_MODERN_V1);
    party_free_all();
}

/* After a modern session, a stripped OTR session (`block`: and offrec messages dropped) that
 * Alice starts; returns once Alice reported DOWNGRADE_DETECTED. `reload` saves and loads Alice
 * first, so the pins come from the store. */
static void detected_downgrade(struct party **pa, struct party **pb, bool block, bool reload) {
    struct party *a, *b;
    uint8_t fp[20];
    char text[64];
    mitm_reset();
    a = mitm_party("alice", OFFREC_POLICY_MANUAL);
    b = mitm_party("bob", OFFREC_POLICY_MANUAL);
    CHECK_RC(offrec_client_generate_otr_key(a->client, fp), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_generate_otr_key(b->client, fp), OFFREC_RESULT_OK);
    modern_then_ended(a, b);
    if (reload) {
        offrec_callbacks cb = mitm_callbacks();
        offrec_buffer sealed = {NULL, 0};
        uint8_t key[32];
        memset(key, 3, sizeof key);
        CHECK_RC(offrec_client_save(a->client, key, NULL, 0, &sealed), OFFREC_RESULT_OK);
        offrec_client_free(a->client);
        a->client = NULL;
        CHECK_RC(offrec_client_load(sealed.data, sealed.len, S("alice"), key, NULL, 0,
                                    OFFREC_POLICY_MANUAL, &cb, a, &a->client),
                 OFFREC_RESULT_OK);
        offrec_buffer_free(&sealed);
        forget_what_was_seen(a);
    }
    mitm.strip = true;
    mitm.block_modern = block;
    CHECK_RC(offrec_client_start_session(a->client, S("bob")), OFFREC_RESULT_OK);
    while (!party_has_event(a, OFFREC_EVENT_CODE_DOWNGRADE_DETECTED) &&
           pump_one_text(text, sizeof text)) {
    }
    CHECK(party_has_event(a, OFFREC_EVENT_CODE_DOWNGRADE_DETECTED));
    CHECK(protocol_with(a, b) == OFFREC_PROTOCOL_OTR_V3);
    CHECK(event_index(a, OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED) <
          event_index(a, OFFREC_EVENT_CODE_DOWNGRADE_DETECTED));
    *pa = a;
    *pb = b;
}

static void test_pinned_link_holds_text_for_the_modern_session(bool reload) {
    struct party *a, *b;
    char text[64], carrier[64] = "";
    uint64_t id = 0;
    int sent_before;
    uint32_t reason = 0;

    detected_downgrade(&a, &b, false, reload);
    sent_before = a->sent_count;
    CHECK_RC(offrec_client_send(a->client, S("bob"), S("held for offrec"), &id), OFFREC_RESULT_OK);
    CHECK(a->sent_count == sent_before); /* held: nothing went out over OTR */
    CHECK(party_has_event(a, OFFREC_EVENT_CODE_ENCRYPTION_REQUIRED));
    while (pump_one_text(text, sizeof text)) {
        if (carrier[0] == '\0' && b->delivered_count == 1) {
            snprintf(carrier, sizeof carrier, "%s", text);
        }
    }
    CHECK(strncmp(carrier, "?OFR:", 5) == 0); /* delivered over the modern session */
    CHECK(b->delivered_count == 1 && strcmp(b->delivered[0], "held for offrec") == 0);
    CHECK(party_has_event(a, OFFREC_EVENT_CODE_HELD_MESSAGE_SENT));
    CHECK(party_has_event(b, OFFREC_EVENT_CODE_DOWNGRADE_DETECTED));
    CHECK(party_has_event(a, OFFREC_EVENT_CODE_PROTOCOL_UPGRADED));
    CHECK(party_has_event(b, OFFREC_EVENT_CODE_PROTOCOL_UPGRADED));
    CHECK(!party_has_event(a, OFFREC_EVENT_CODE_DOWNGRADE_SUSPECTED));
    CHECK(!party_event_reason(a, OFFREC_EVENT_CODE_MESSAGE_NOT_SENT, &reason));
    CHECK(protocol_with(a, b) == OFFREC_PROTOCOL_MODERN_V1);
    CHECK(protocol_with(b, a) == OFFREC_PROTOCOL_MODERN_V1);
    party_free_all();
}

static void test_pinned_link_with_modern_blocked_fails_the_held_text(void) {
    struct party *a, *b;
    uint64_t id = 0;
    uint32_t reason = 0;

    detected_downgrade(&a, &b, true, false);
    CHECK_RC(offrec_client_send(a->client, S("bob"), S("never over otr"), &id), OFFREC_RESULT_OK);
    pump_all();
    clock_advance(10);
    CHECK_RC(offrec_client_tick(a->client), OFFREC_RESULT_OK);
    pump_all();
    CHECK(b->delivered_count == 0); /* a tick does not flush it to the OTR session */
    clock_advance(120);
    CHECK_RC(offrec_client_tick(a->client), OFFREC_RESULT_OK);
    pump_all();
    CHECK(count_events(a, OFFREC_EVENT_CODE_DOWNGRADE_SUSPECTED) == 1);
    CHECK(party_event_reason(a, OFFREC_EVENT_CODE_MESSAGE_NOT_SENT, &reason));
    CHECK(reason == OFFREC_NOT_SENT_REASON_ENCRYPTION_TIMEOUT);
    CHECK(b->delivered_count == 0);
    /* the user was warned: what they send now uses the OTR session */
    CHECK_RC(offrec_client_send(a->client, S("bob"), S("after the warning"), &id),
             OFFREC_RESULT_OK);
    pump_all();
    CHECK(b->delivered_count == 1 && strcmp(b->delivered[0], "after the warning") == 0);
    party_free_all();
}

static void test_another_dsa_key_of_a_modern_peer(void) {
    struct party *a, *b;
    offrec_callbacks cb = mitm_callbacks();
    uint8_t fp[20], old_fp[20], new_fp[20];
    uint64_t id = 0;

    mitm_reset();
    a = mitm_party("alice", OFFREC_POLICY_MANUAL);
    b = mitm_party("bob", OFFREC_POLICY_MANUAL);
    CHECK_RC(offrec_client_generate_otr_key(a->client, fp), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_generate_otr_key(b->client, old_fp), OFFREC_RESULT_OK);
    modern_then_ended(a, b);
    /* Bob now talks from another device: an OTR-only program with another DSA key. */
    offrec_client_free(b->client);
    b->client = NULL;
    CHECK_RC(offrec_client_new(S("bob"), S("testnet"), OTR_POLICY, &cb, b, &b->client),
             OFFREC_RESULT_OK);
    forget_what_was_seen(b);
    mitm.strip = true;
    CHECK_RC(offrec_client_start_session(a->client, S("bob")), OFFREC_RESULT_OK);
    pump_all();
    CHECK_RC(offrec_client_otr_fingerprint(b->client, new_fp), OFFREC_RESULT_OK);
    CHECK(memcmp(old_fp, new_fp, 20) != 0);
    CHECK(party_has_event(a, OFFREC_EVENT_CODE_LEGACY_WITH_MODERN_PEER));
    CHECK(!party_has_event(a, OFFREC_EVENT_CODE_DOWNGRADE_DETECTED));
    CHECK(protocol_with(a, b) == OFFREC_PROTOCOL_OTR_V3);
    CHECK_RC(offrec_client_send(a->client, S("bob"), S("over otr"), &id), OFFREC_RESULT_OK);
    pump_all();
    /* allowed: sent over OTR at once */
    CHECK(b->delivered_count == 1 && strcmp(b->delivered[0], "over otr") == 0);
    party_free_all();
}

static void test_links_carry_trust_only_from_the_verified_side(void) {
    struct party *a, *b;
    uint8_t fp[20], a_key[32], b_key[32], a_dsa[32], b_dsa[32];

    mitm_reset();
    a = mitm_party("alice", OFFREC_POLICY_MANUAL);
    b = mitm_party("bob", OFFREC_POLICY_MANUAL);
    CHECK_RC(offrec_client_generate_otr_key(a->client, fp), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_generate_otr_key(b->client, fp), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_fingerprint(a->client, a_key), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_fingerprint(b->client, b_key), OFFREC_RESULT_OK);
    otr_key_id(a, a_dsa);
    otr_key_id(b, b_dsa);
    /* Alice verified Bob's offrec key; Bob verified Alice's OTR key, not her offrec key. */
    CHECK_RC(offrec_client_set_trust(a->client, S("bob"), b_key, OFFREC_TRUST_VERIFIED_SMP),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_set_trust(b->client, S("alice"), a_dsa, OFFREC_TRUST_VERIFIED_MANUAL),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_start_session(a->client, S("bob")), OFFREC_RESULT_OK);
    pump_all();
    CHECK(count_events(a, OFFREC_EVENT_CODE_OTR_KEY_LINKED) == 1);
    CHECK(count_events(b, OFFREC_EVENT_CODE_OTR_KEY_LINKED) == 1);
    CHECK(memcmp(mitm.linked[a->index], b_dsa, 32) == 0);
    CHECK(memcmp(mitm.linked[b->index], a_dsa, 32) == 0);
    CHECK(trust_in(a, b, b_dsa) == OFFREC_TRUST_VERIFIED_SMP);   /* verified via the link */
    CHECK(trust_in(b, a, a_key) == OFFREC_TRUST_UNVERIFIED);     /* never the reverse */
    CHECK(trust_in(b, a, a_dsa) == OFFREC_TRUST_VERIFIED_MANUAL); /* unchanged */
    party_free_all();
}

int main(void) {
    CHECK(OFFREC_EVENT_CODE_DOWNGRADE_DETECTED == 37);
    CHECK(OFFREC_EVENT_CODE_LEGACY_WITH_MODERN_PEER == 38);
    CHECK(OFFREC_EVENT_CODE_OTR_KEY_LINKED == 39);
    test_blocked_upgrade_is_suspected();
    test_probe_repeated_on_the_first_user_message();
    test_pinned_link_holds_text_for_the_modern_session(false);
    test_pinned_link_holds_text_for_the_modern_session(true);
    test_pinned_link_with_modern_blocked_fails_the_held_text();
    test_another_dsa_key_of_a_modern_peer();
    test_links_carry_trust_only_from_the_verified_side();
    printf("test_downgrade: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
