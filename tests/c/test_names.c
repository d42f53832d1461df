/*
 * Name binding through the C API (issue #13 item 7): a full vs a bare XMPP JID and xmpp vs
 * prpl-jabber agree after normalisation; a real mismatch (alice vs mallory) fails at once on
 * both sides with OFFREC_HANDSHAKE_FAILURE_NAMES_DIFFER; OFFREC_OPTION_NAME_BINDING = 0 lets
 * an IRC nick change through. Each side sees the other under its own name for it, as real
 * transports do, so this test has its own two-party transport. Prints
 * "test_names: N passed, N failed"; exits non-zero on failure.
 */
#include "harness.h"

enum { OUTBOX = 16 };

struct side {
    offrec_client *client;
    const char *peer; /* this side's name for the other side */
    char *outbox[OUTBOX];
    size_t outbox_len[OUTBOX];
    int out_count;
    uint32_t failures[8];
    int failure_count;
    int peer_errors;
    uint32_t last_state;
};

static void side_send(void *ud, const char *peer, size_t peer_len, const char *text, size_t len) {
    struct side *s = ud;
    (void)peer;
    (void)peer_len;
    if (s->out_count < OUTBOX) {
        s->outbox[s->out_count] = malloc(len + 1);
        if (s->outbox[s->out_count] == NULL) abort();
        memcpy(s->outbox[s->out_count], text, len + 1);
        s->outbox_len[s->out_count] = len;
        s->out_count++;
    }
}

static void side_deliver(void *ud, const char *peer, size_t peer_len, uint32_t instance, const uint8_t *text,
                         size_t len, offrec_security security) {
    (void)ud, (void)peer, (void)peer_len, (void)instance, (void)text, (void)len, (void)security;
}

static void side_state(void *ud, const char *peer, size_t peer_len, uint32_t instance, offrec_session_state state) {
    struct side *s = ud;
    (void)peer, (void)peer_len, (void)instance;
    s->last_state = state;
}

static void side_event(void *ud, const offrec_event *e) {
    struct side *s = ud;
    if (e->code == OFFREC_EVENT_CODE_HANDSHAKE_FAILED && s->failure_count < 8) {
        s->failures[s->failure_count++] = e->reason;
    }
    if (e->code == OFFREC_EVENT_CODE_PEER_ERROR) {
        s->peer_errors++;
    }
}

static uint64_t side_now(void *ud) {
    (void)ud;
    return 1000;
}

static void side_new(struct side *s, const char *account, const char *protocol, const char *peer, uint64_t binding) {
    offrec_callbacks cb;
    memset(s, 0, sizeof *s);
    memset(&cb, 0, sizeof cb);
    cb.send = side_send;
    cb.deliver = side_deliver;
    cb.state_changed = side_state;
    cb.event = side_event;
    cb.now = side_now;
    s->peer = peer;
    CHECK_RC(offrec_client_new(account, strlen(account), protocol, strlen(protocol), OFFREC_POLICY_MANUAL, &cb, s,
                               &s->client),
             OFFREC_RESULT_OK);
    CHECK_RC(offrec_client_set_option(s->client, OFFREC_OPTION_NAME_BINDING, binding), OFFREC_RESULT_OK);
}

static void side_free(struct side *s) {
    int i;
    for (i = 0; i < s->out_count; i++) free(s->outbox[i]);
    offrec_client_free(s->client);
}

/* Moves everything in one side's outbox to the other; returns how many messages moved. */
static int flush(struct side *from, struct side *to) {
    int i, n = from->out_count;
    char *texts[OUTBOX];
    size_t lens[OUTBOX];
    memcpy(texts, from->outbox, sizeof texts);
    memcpy(lens, from->outbox_len, sizeof lens);
    from->out_count = 0;
    for (i = 0; i < n; i++) {
        CHECK_RC(offrec_client_receive(to->client, to->peer, strlen(to->peer), texts[i], lens[i]), OFFREC_RESULT_OK);
        free(texts[i]);
    }
    return n;
}

/* Alice starts a session; returns the number of messages that crossed the wire. */
static int converse(struct side *a, struct side *b) {
    int crossed = 0, moved;
    CHECK_RC(offrec_client_start_session(a->client, a->peer, strlen(a->peer)), OFFREC_RESULT_OK);
    do {
        moved = flush(a, b);
        moved += flush(b, a);
        crossed += moved;
    } while (moved > 0);
    return crossed;
}

static void test_full_and_bare_jid_and_protocol_alias(void) {
    struct side a, b;
    side_new(&a, "alice@example.org/laptop", "prpl-jabber", "bob@example.org", 1);
    side_new(&b, "bob@example.org", "xmpp", "alice@example.org/laptop", 1);
    converse(&a, &b);
    CHECK(a.failure_count == 0 && b.failure_count == 0);
    CHECK(a.last_state == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    CHECK(b.last_state == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    side_free(&a);
    side_free(&b);
}

static void test_real_mismatch_fails_at_once_on_both_sides(void) {
    struct side a, b;
    side_new(&a, "alice@example.org", "xmpp", "bob@example.org", 1);
    side_new(&b, "mallory@example.org", "xmpp", "alice@example.org", 1);
    /* query, Start, names-differ error: no timeout involved */
    CHECK(converse(&a, &b) == 3);
    CHECK(a.failure_count == 1 && a.failures[0] == OFFREC_HANDSHAKE_FAILURE_NAMES_DIFFER);
    CHECK(b.failure_count == 1 && b.failures[0] == OFFREC_HANDSHAKE_FAILURE_NAMES_DIFFER);
    CHECK(b.peer_errors == 0);
    CHECK(a.last_state != OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    CHECK(OFFREC_HANDSHAKE_FAILURE_NAMES_DIFFER == 8 && OFFREC_HANDSHAKE_FAILURE_AUTHENTICATION_FAILED == 4 &&
          OFFREC_HANDSHAKE_FAILURE_UNSENDABLE == 7);
    side_free(&a);
    side_free(&b);
}

static void test_binding_off_allows_a_nick_change(void) {
    struct side a, b;
    side_new(&a, "alice", "irc", "bob_away", 0);
    side_new(&b, "bob", "prpl-irc", "alice", 0);
    converse(&a, &b);
    CHECK(a.failure_count == 0 && b.failure_count == 0);
    CHECK(a.last_state == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    CHECK(b.last_state == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    /* Only 0 and 1 are values of the option. */
    CHECK_RC(offrec_client_set_option(a.client, OFFREC_OPTION_NAME_BINDING, 2), OFFREC_RESULT_INVALID_ARGUMENT);
    side_free(&a);
    side_free(&b);
}

int main(void) {
    test_full_and_bare_jid_and_protocol_alias();
    test_real_mismatch_fails_at_once_on_both_sides();
    test_binding_off_allows_a_nick_change();
    printf("test_names: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
