/*
 * The calls a chat UI needs (issue #16 §2) through the C API: listing peers and keys with their
 * kind, forgetting a key or a peer (refused while an encrypted session uses it), a policy per
 * peer (changing behaviour for that peer only, and kept by save/load), the texts we send
 * (the peer receives them; libotr-style parsing still finds the query and the error), the
 * is_logged_in callback (no heartbeat or session end to a peer reported offline), classifying
 * a line without a client, the name functions, and the function-pointer typedefs. Prints
 * "test_uiapi: N passed, N failed"; exits non-zero on failure.
 */
#include "harness.h"

/* The typedefs compile against the real functions (a changed signature breaks this file). */
static const offrec_client_send_fn send_fn = offrec_client_send;
static const offrec_classify_fn classify_fn = offrec_classify;
static const offrec_event_name_fn event_name_fn = offrec_event_name;
static const offrec_client_forget_peer_fn forget_peer_fn = offrec_client_forget_peer;

static int presence = -1;       /* what is_logged_in answers */
static int presence_asked;      /* how often it was asked */
static char presence_peer[32];  /* about whom, last */

static int cb_is_logged_in(void *ud, const char *peer, size_t peer_len) {
    (void)ud;
    presence_asked++;
    snprintf(presence_peer, sizeof presence_peer, "%.*s", (int)peer_len, peer);
    return presence;
}

/* A party as party_new makes it, plus is_logged_in and, with `tag`, a fixed instance tag. */
static struct party *make_party(const char *name, uint32_t policy, uint32_t tag) {
    struct party *p = calloc(1, sizeof *p);
    offrec_callbacks cb;
    uint8_t secret[32];
    offrec_result rc;
    if (p == NULL || party_count >= MAX_PARTIES) abort();
    memset(&cb, 0, sizeof cb);
    cb.send = cb_send;
    cb.deliver = cb_deliver;
    cb.state_changed = cb_state;
    cb.event = cb_event;
    cb.now = cb_now;
    cb.is_logged_in = cb_is_logged_in;
    p->index = party_count;
    snprintf(p->name, sizeof p->name, "%s", name);
    pthread_mutex_init(&p->lock, NULL);
    memset(secret, 0x40 + party_count, sizeof secret);
    if (tag != 0) {
        rc = offrec_client_new_with_identity(p->name, strlen(p->name), S("testnet"), policy, secret, tag, &cb, p,
                                             &p->client);
    } else {
        rc = offrec_client_new(p->name, strlen(p->name), S("testnet"), policy, &cb, p, &p->client);
    }
    if (rc != OFFREC_RESULT_OK) abort();
    parties[party_count++] = p;
    return p;
}

static const char *last_sent(struct party *p) {
    return p->sent_count > 0 ? p->sent[p->sent_count - 1] : "";
}

static int count_event(struct party *p, uint32_t code) {
    int i, n = 0;
    for (i = 0; i < p->event_count; i++) n += p->events[i] == code;
    return n;
}

static uint32_t classify(const char *text) {
    uint32_t kind = 0;
    CHECK_RC(offrec_classify(text, strlen(text), &kind), OFFREC_RESULT_OK);
    return kind;
}

static void peers_and_keys(void) {
    struct party *alice = party_new("alice", OFFREC_POLICY_MANUAL, 0);
    struct party *bob = party_new("bob", OFFREC_POLICY_MANUAL, 0);
    size_t n = 99, len = 0;
    char name[16];
    offrec_known_key key, otr_key;
    uint8_t otr_id[32] = "otr-dsa-sha1";
    uint8_t unknown[32] = {9};
    int i, persists;

    CHECK_RC(offrec_client_peer_count(alice->client, &n), OFFREC_RESULT_OK);
    CHECK(n == 0);
    CHECK_RC(offrec_client_peer(alice->client, 0, name, sizeof name, &len), OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_start_session(alice->client, S("bob")), OFFREC_RESULT_OK);
    pump_all();
    CHECK(state_of(alice, bob) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    CHECK_RC(offrec_client_peer_count(alice->client, &n), OFFREC_RESULT_OK);
    CHECK(n == 1);
    CHECK_RC(offrec_client_peer(alice->client, 0, name, 2, &len), OFFREC_RESULT_BUFFER_TOO_SMALL);
    CHECK(len == 4);
    CHECK_RC(offrec_client_peer(alice->client, 0, name, sizeof name, &len), OFFREC_RESULT_OK);
    CHECK(len == 4 && strcmp(name, "bob") == 0);

    /* Bob's offrec key, and an OTR DSA key alice marks verified by hand. */
    CHECK_RC(offrec_client_known_key_info(alice->client, S("bob"), 0, &key), OFFREC_RESULT_OK);
    CHECK(key.kind == OFFREC_KEY_KIND_MODERN && key.fingerprint_len == 32);
    CHECK(key.trust == OFFREC_TRUST_UNVERIFIED && memcmp(key.fingerprint, key.key_id, 32) == 0);
    for (i = 12; i < 32; i++) otr_id[i] = (uint8_t)(0xC0 + i);
    CHECK_RC(offrec_client_set_trust(alice->client, S("bob"), otr_id, OFFREC_TRUST_VERIFIED_MANUAL), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_known_key_count(alice->client, S("bob"), &n), OFFREC_RESULT_OK);
    CHECK(n == 2);
    CHECK_RC(offrec_client_known_key_info(alice->client, S("bob"), 0, &otr_key), OFFREC_RESULT_OK);
    CHECK(otr_key.kind == OFFREC_KEY_KIND_OTR_DSA && otr_key.fingerprint_len == 20);
    CHECK(otr_key.trust == OFFREC_TRUST_VERIFIED_MANUAL);
    CHECK(memcmp(otr_key.fingerprint, otr_id + 12, 20) == 0 && otr_key.fingerprint[20] == 0);
    CHECK_RC(offrec_client_known_key_info(alice->client, S("bob"), 2, &key), OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_known_key_info(alice->client, S("bob"), 0, NULL), OFFREC_RESULT_NULL_ARGUMENT);

    /* Nothing in use is forgotten; refusals change nothing. */
    CHECK_RC(offrec_client_known_key_info(alice->client, S("bob"), 1, &key), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_forget_key(alice->client, S("bob"), key.key_id), OFFREC_RESULT_KEY_IN_USE);
    CHECK_RC(offrec_client_forget_key(alice->client, S("bob"), unknown), OFFREC_RESULT_UNKNOWN_KEY);
    CHECK_RC(forget_peer_fn(alice->client, S("bob")), OFFREC_RESULT_SESSION_ACTIVE);
    CHECK_RC(offrec_client_forget_peer(alice->client, S("carol")), OFFREC_RESULT_UNKNOWN_PEER);
    CHECK_RC(offrec_client_forget_key(alice->client, S("bob"), NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_known_key_count(alice->client, S("bob"), &n), OFFREC_RESULT_OK);
    CHECK(n == 2);

    /* The DSA key is not in use: forgotten, and a save is asked for (reported once until
     * saved: save first, so the notice is not already pending). */
    save_now(alice);
    persists = alice->persist_events;
    CHECK_RC(offrec_client_forget_key(alice->client, S("bob"), otr_id), OFFREC_RESULT_OK);
    CHECK(alice->persist_events == persists + 1);
    CHECK_RC(offrec_client_known_key_count(alice->client, S("bob"), &n), OFFREC_RESULT_OK);
    CHECK(n == 1);

    /* After the session ends, the peer goes whole. */
    CHECK_RC(offrec_client_end_session(alice->client, S("bob"), 0), OFFREC_RESULT_OK);
    drop_all();
    save_now(alice);
    persists = alice->persist_events;
    CHECK_RC(offrec_client_forget_peer(alice->client, S("bob")), OFFREC_RESULT_OK);
    CHECK(alice->persist_events == persists + 1);
    CHECK_RC(offrec_client_peer_count(alice->client, &n), OFFREC_RESULT_OK);
    CHECK(n == 0);
    CHECK_RC(offrec_client_known_key_count(alice->client, S("bob"), &n), OFFREC_RESULT_OK);
    CHECK(n == 0);
    party_free_all();
}

static void peer_policies(void) {
    struct party *alice = party_new("alice", OFFREC_POLICY_OPPORTUNISTIC, 0);
    struct party *bob = party_new("bob", OFFREC_POLICY_OPPORTUNISTIC, 0);
    struct party *carol = party_new("carol", OFFREC_POLICY_OPPORTUNISTIC, 0);
    uint32_t policy = 0;
    bool own = true;
    uint64_t id;
    uint8_t key[32] = {7};
    offrec_buffer saved = {NULL, 0};
    offrec_client *loaded = NULL;
    offrec_callbacks cb;
    int sent_before;
    (void)carol;

    CHECK_RC(offrec_client_set_peer_policy(alice->client, S("bob"), OFFREC_POLICY_NEVER), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_set_peer_policy(alice->client, S("bob"), 1u << 20), OFFREC_RESULT_INVALID_POLICY);
    CHECK_RC(offrec_client_set_peer_policy(alice->client, "", 0, OFFREC_POLICY_NEVER), OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK_RC(offrec_client_peer_policy(alice->client, S("bob"), &policy, &own), OFFREC_RESULT_OK);
    CHECK(policy == OFFREC_POLICY_NEVER && own);
    CHECK_RC(offrec_client_peer_policy(alice->client, S("carol"), &policy, &own), OFFREC_RESULT_OK);
    CHECK(policy == OFFREC_POLICY_OPPORTUNISTIC && !own);
    CHECK_RC(offrec_client_peer_policy(alice->client, S("carol"), &policy, NULL), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_peer_policy(alice->client, S("carol"), NULL, NULL), OFFREC_RESULT_NULL_ARGUMENT);

    /* NEVER for bob: untagged plaintext, and his query is not answered; carol gets the tag. */
    CHECK_RC(send_fn(alice->client, S("bob"), S("hi bob"), &id), OFFREC_RESULT_OK);
    CHECK(strcmp(last_sent(alice), "hi bob") == 0);
    CHECK_RC(offrec_client_send(alice->client, S("carol"), S("hi carol"), &id), OFFREC_RESULT_OK);
    CHECK(strncmp(last_sent(alice), "hi carol", 8) == 0 && strlen(last_sent(alice)) > 8);
    CHECK(classify(last_sent(alice)) == OFFREC_MESSAGE_KIND_OFFREC_TAGGED);
    pump_all();
    CHECK_RC(offrec_client_start_session(bob->client, S("alice")), OFFREC_RESULT_OK);
    pump_all();
    CHECK(state_of(alice, bob) == OFFREC_SESSION_STATE_PLAINTEXT);
    CHECK_RC(offrec_client_start_session(alice->client, S("bob")), OFFREC_RESULT_POLICY_FORBIDS);

    /* REQUIRE_MODERN for bob: his OTR query is reported, never answered. */
    CHECK_RC(offrec_client_set_peer_policy(alice->client, S("bob"),
                                           OFFREC_POLICY_MANUAL | OFFREC_POLICY_REQUIRE_MODERN),
             OFFREC_RESULT_OK);
    sent_before = alice->sent_count;
    CHECK_RC(offrec_client_receive(alice->client, S("bob"), S("?OTRv3?")), OFFREC_RESULT_OK);
    CHECK(alice->sent_count == sent_before);
    CHECK(party_has_event(alice, OFFREC_EVENT_CODE_FOREIGN_PROTOCOL));

    /* ALWAYS for dave (no session yet): his message is held, a query goes out. */
    CHECK_RC(offrec_client_set_peer_policy(alice->client, S("dave"), OFFREC_POLICY_ALWAYS), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_send(alice->client, S("dave"), S("secret"), &id), OFFREC_RESULT_OK);
    CHECK(party_has_event(alice, OFFREC_EVENT_CODE_ENCRYPTION_REQUIRED));
    CHECK(classify(last_sent(alice)) == OFFREC_MESSAGE_KIND_OFFREC_QUERY);
    drop_all();

    /* Peer policies are stored with the client. */
    CHECK_RC(offrec_client_save(alice->client, key, NULL, 0, &saved), OFFREC_RESULT_OK);
    memset(&cb, 0, sizeof cb);
    cb.send = cb_send;
    cb.deliver = cb_deliver;
    CHECK_RC(offrec_client_load(saved.data, saved.len, S("alice"), key, NULL, 0, OFFREC_POLICY_MANUAL, &cb, alice,
                                &loaded),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_peer_policy(loaded, S("dave"), &policy, &own), OFFREC_RESULT_OK);
    CHECK(policy == OFFREC_POLICY_ALWAYS && own);
    CHECK_RC(offrec_client_peer_policy(loaded, S("carol"), &policy, &own), OFFREC_RESULT_OK);
    CHECK(policy == OFFREC_POLICY_MANUAL && !own);
    CHECK_RC(offrec_client_clear_peer_policy(loaded, S("dave")), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_clear_peer_policy(loaded, S("dave")), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_peer_policy(loaded, S("dave"), &policy, &own), OFFREC_RESULT_OK);
    CHECK(policy == OFFREC_POLICY_MANUAL && !own);
    offrec_client_free(loaded);
    offrec_buffer_free(&saved);
    party_free_all();
}

static void texts(void) {
    /* Alice with a fixed instance tag, so an OTR data message can be addressed to her. */
    struct party *alice = make_party("alice", OFFREC_POLICY_MANUAL, 0x1234abcd);
    struct party *bob = party_new("bob", OFFREC_POLICY_MANUAL, 0);
    const char query_text[] = "Verschlüsseltes Gespräch angefragt.";
    const char error_text[] = "Diese Nachricht kam ohne Sitzung.";
    char buf[OFFREC_MAX_CUSTOM_TEXT_LEN + 1];
    char too_long[OFFREC_MAX_CUSTOM_TEXT_LEN + 2];
    size_t len = 0;
    const char *sent;

    CHECK_RC(offrec_client_set_text(alice->client, OFFREC_TEXT_QUERY, S(query_text)), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_text(alice->client, OFFREC_TEXT_QUERY, buf, sizeof buf, &len), OFFREC_RESULT_OK);
    CHECK(len == sizeof query_text && strcmp(buf, query_text) == 0);
    CHECK_RC(offrec_client_start_session(alice->client, S("bob")), OFFREC_RESULT_OK);
    sent = last_sent(alice);
    CHECK(strncmp(sent, "?OTRv", 5) == 0 && strstr(sent, "?OFRv1?") != NULL);
    CHECK(strstr(sent, query_text) != NULL);
    CHECK(classify(sent) == OFFREC_MESSAGE_KIND_OFFREC_QUERY);
    pump_all();
    CHECK(state_of(bob, alice) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);

    /* Bad texts are refused and change nothing. */
    CHECK_RC(offrec_client_set_text(alice->client, OFFREC_TEXT_QUERY, S("x ?OTRv3? y")), OFFREC_RESULT_INVALID_TEXT);
    CHECK_RC(offrec_client_set_text(alice->client, OFFREC_TEXT_QUERY, S("tab\there")), OFFREC_RESULT_INVALID_TEXT);
    CHECK_RC(offrec_client_set_text(alice->client, OFFREC_TEXT_QUERY, "a\0b", 3), OFFREC_RESULT_INVALID_TEXT);
    CHECK_RC(offrec_client_set_text(alice->client, OFFREC_TEXT_QUERY, "\xff", 1), OFFREC_RESULT_INVALID_UTF8);
    memset(too_long, 'a', sizeof too_long);
    CHECK_RC(offrec_client_set_text(alice->client, OFFREC_TEXT_QUERY, too_long, sizeof too_long),
             OFFREC_RESULT_MESSAGE_TOO_LARGE);
    CHECK_RC(offrec_client_set_text(alice->client, 99, S("x")), OFFREC_RESULT_UNKNOWN_ENUM_VALUE);
    CHECK_RC(offrec_client_set_text(alice->client, OFFREC_TEXT_QUERY, NULL, 3), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_text(alice->client, OFFREC_TEXT_QUERY, buf, sizeof buf, &len), OFFREC_RESULT_OK);
    CHECK(strcmp(buf, query_text) == 0);
    /* NULL restores the default. */
    CHECK_RC(offrec_client_set_text(alice->client, OFFREC_TEXT_QUERY, NULL, 0), OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_text(alice->client, OFFREC_TEXT_QUERY, buf, sizeof buf, &len), OFFREC_RESULT_OK);
    CHECK(strncmp(buf, "An encrypted conversation was requested", 39) == 0);

    /* OTR data with no OTR session: answered with the app's words, as libotr parses them. */
    CHECK_RC(offrec_client_set_text(alice->client, OFFREC_TEXT_OTR_ERROR_NOT_IN_PRIVATE, S(error_text)),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_receive(alice->client, S("mallory"), S("?OTR:AAMDAAASNBI0q80A.")), OFFREC_RESULT_OK);
    sent = last_sent(alice);
    CHECK(strncmp(sent, "?OTR Error: ", 12) == 0 && strcmp(sent + 12, error_text) == 0);
    CHECK(classify(sent) == OFFREC_MESSAGE_KIND_OTR_ERROR);
    party_free_all();
}

static void offline_peers(void) {
    struct party *alice = party_new("alice", OFFREC_POLICY_MANUAL, 0);
    struct party *bob = make_party("bob", OFFREC_POLICY_MANUAL, 0);
    uint64_t id;
    struct wire_msg *m;

    presence = -1;
    CHECK_RC(offrec_client_start_session(alice->client, S("bob")), OFFREC_RESULT_OK);
    pump_all();
    CHECK_RC(offrec_client_send(alice->client, S("bob"), S("ping"), &id), OFFREC_RESULT_OK);
    pump_all();
    clock_advance(61);

    /* Offline: no heartbeat; the callback was asked about alice. */
    presence = 0;
    presence_asked = 0;
    CHECK_RC(offrec_client_tick(bob->client), OFFREC_RESULT_OK);
    CHECK(presence_asked >= 1 && strcmp(presence_peer, "alice") == 0);
    CHECK(count_event(bob, OFFREC_EVENT_CODE_HEARTBEAT_SENT) == 0);
    m = queue_pop();
    CHECK(m == NULL);
    free(m);
    /* Unknown (-1) sends, as without the callback. */
    presence = -1;
    CHECK_RC(offrec_client_tick(bob->client), OFFREC_RESULT_OK);
    CHECK(count_event(bob, OFFREC_EVENT_CODE_HEARTBEAT_SENT) == 1);
    pump_all();
    /* Other calls do not ask. */
    presence_asked = 0;
    CHECK_RC(offrec_client_send(bob->client, S("alice"), S("pong"), &id), OFFREC_RESULT_OK);
    CHECK(presence_asked == 0);
    pump_all();

    /* Ending while alice is offline: ended here, nothing sent, alice not told. */
    presence = 0;
    CHECK_RC(offrec_client_end_session(bob->client, S("alice"), 0), OFFREC_RESULT_OK);
    CHECK(state_of(bob, alice) == OFFREC_SESSION_STATE_PLAINTEXT);
    m = queue_pop();
    CHECK(m == NULL);
    free(m);
    CHECK(state_of(alice, bob) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    party_free_all();

    /* Online (1): the session end goes out and the peer's session finishes. */
    alice = party_new("alice", OFFREC_POLICY_MANUAL, 0);
    bob = make_party("bob", OFFREC_POLICY_MANUAL, 0);
    presence = 1;
    CHECK_RC(offrec_client_start_session(alice->client, S("bob")), OFFREC_RESULT_OK);
    pump_all();
    CHECK_RC(offrec_client_end_session(bob->client, S("alice"), 0), OFFREC_RESULT_OK);
    pump_all();
    CHECK(state_of(alice, bob) == OFFREC_SESSION_STATE_FINISHED);
    party_free_all();
}

static void classifying_and_names(void) {
    uint32_t kind = 0;
    CHECK(classify("hello") == OFFREC_MESSAGE_KIND_PLAINTEXT);
    CHECK(classify("?OTRv23?") == OFFREC_MESSAGE_KIND_OTR_QUERY);
    CHECK(classify("?OTR Error: x") == OFFREC_MESSAGE_KIND_OTR_ERROR);
    CHECK(classify("?OFR Error: x") == OFFREC_MESSAGE_KIND_OFFREC_ERROR);
    CHECK(classify("?OTR,1,2,A,") == OFFREC_MESSAGE_KIND_OTR_FRAGMENT);
    CHECK(classify("?OTR:AAMDAAASNBI0q80A.") == OFFREC_MESSAGE_KIND_OTR_DATA);
    CHECK(classify("?OTR:AAEC.") == OFFREC_MESSAGE_KIND_OTR_FOREIGN);
    CHECK(classify("?OFR:@@@") == OFFREC_MESSAGE_KIND_MALFORMED);
    CHECK(classify("") == OFFREC_MESSAGE_KIND_PLAINTEXT);
    CHECK_RC(classify_fn(NULL, 3, &kind), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_classify(S("x"), NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_classify("\xff", 1, &kind), OFFREC_RESULT_INVALID_UTF8);

    CHECK(strcmp(event_name_fn(OFFREC_EVENT_CODE_SMP_FAILED), "smp_failed") == 0);
    CHECK(strcmp(offrec_event_name(29), "unknown") == 0);
    CHECK(strcmp(offrec_state_name(OFFREC_SESSION_STATE_ENCRYPTED_VERIFIED), "encrypted_verified") == 0);
    CHECK(strcmp(offrec_trust_name(OFFREC_TRUST_VERIFIED_SMP), "verified_smp") == 0);
    CHECK(strcmp(offrec_handshake_failure_name(OFFREC_HANDSHAKE_FAILURE_NAMES_DIFFER), "names_differ") == 0);
    CHECK(strcmp(offrec_not_sent_reason_name(OFFREC_NOT_SENT_REASON_KEY_CHANGED), "key_changed") == 0);
    CHECK(strcmp(offrec_protocol_name(OFFREC_PROTOCOL_OTR_V2), "otr_v2") == 0);
    CHECK(strcmp(offrec_key_kind_name(OFFREC_KEY_KIND_OTR_DSA), "otr_dsa") == 0);
    CHECK(strcmp(offrec_message_kind_name(OFFREC_MESSAGE_KIND_OTR_DH_COMMIT), "otr_dh_commit") == 0);
    CHECK(strcmp(offrec_message_kind_name(12345), "unknown") == 0);
}

int main(void) {
    peers_and_keys();
    peer_policies();
    texts();
    offline_peers();
    classifying_and_names();
    printf("test_uiapi: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
