/*
 * The in-place integration style through the C API: offrec_client_send_inplace hands the wire
 * messages back instead of calling `send`; offrec_client_receive_inplace says "ignore" or
 * hands back the text to show instead of calling `deliver`, while protocol replies still go
 * through `send` and events through `event`. Alice is an in-place app (a Pidgin-style hook),
 * Bob a callback app. Covers plaintext, the handshake, encrypted text both ways, fragments,
 * holding (the query comes back), TLV-only lines (ignored), errors (nothing
 * written, nothing sent) and freeing. Prints "test_inplace: N passed, N failed".
 */
#include "harness.h"

#include <stdbool.h>

static int ignored, shown;
static char last_shown[MAX_TEXT];
static offrec_incoming last_incoming;

/* Bob's messages to Alice go through receive_inplace; the rest through receive. */
static int pump_one_inplace(struct party *alice) {
    struct wire_msg *m = queue_pop();
    const char *from;
    if (m == NULL) {
        return 0;
    }
    from = parties[m->from]->name;
    if (m->to == alice->index) {
        offrec_incoming in;
        memset(&in, 0xAB, sizeof in);
        CHECK_RC(offrec_client_receive_inplace(alice->client, from, strlen(from), m->text, m->len, &in),
                 OFFREC_RESULT_OK);
        if (in.ignore) {
            ignored++;
            CHECK(in.text.data == NULL && in.text.len == 0 && in.instance == 0 &&
                  in.security == OFFREC_SECURITY_PLAINTEXT);
        } else {
            size_t n = in.text.len < MAX_TEXT - 1 ? in.text.len : MAX_TEXT - 1;
            shown++;
            if (n > 0) {
                memcpy(last_shown, in.text.data, n);
            }
            last_shown[n] = '\0';
            last_incoming = in;
            last_incoming.text.data = NULL;
        }
        offrec_buffer_free(&in.text);
        CHECK(in.text.data == NULL && in.text.len == 0);
    } else {
        CHECK_RC(offrec_client_receive(parties[m->to]->client, from, strlen(from), m->text, m->len),
                 OFFREC_RESULT_OK);
    }
    free(m);
    return 1;
}

static void pump_all_inplace(struct party *alice) {
    while (pump_one_inplace(alice)) {
    }
}

/* Alice sends in place: the wire messages come back; she "sends" them by queueing them. */
static size_t send_inplace(struct party *alice, struct party *to, const char *text, uint64_t *id) {
    offrec_wire_messages wire;
    size_t i, count;
    int sent_before = alice->sent_count;
    memset(&wire, 0xCD, sizeof wire);
    CHECK_RC(offrec_client_send_inplace(alice->client, to->name, strlen(to->name), text, strlen(text),
                                        &wire, id),
             OFFREC_RESULT_OK);
    CHECK(alice->sent_count == sent_before); /* the send callback was not called */
    CHECK((wire.messages == NULL) == (wire.count == 0));
    for (i = 0; i < wire.count; i++) {
        const offrec_buffer *b = &wire.messages[i];
        CHECK(b->data != NULL && b->len > 0);
        CHECK(memchr(b->data, '\0', b->len) == NULL);
        {
            /* what a transport does with it: hand it to the peer */
            char *copy = malloc(b->len + 1);
            if (copy == NULL) {
                abort();
            }
            memcpy(copy, b->data, b->len);
            copy[b->len] = '\0';
            cb_send(alice, to->name, strlen(to->name), copy, b->len);
            free(copy);
        }
    }
    count = wire.count;
    offrec_wire_messages_free(&wire);
    CHECK(wire.messages == NULL && wire.count == 0);
    offrec_wire_messages_free(&wire); /* twice: harmless */
    return count;
}

static void test_conversation(void) {
    struct party *alice = party_new("alice", OFFREC_POLICY_MANUAL, 0);
    struct party *bob = party_new("bob", OFFREC_POLICY_MANUAL, 1);
    uint64_t id = 0;
    size_t n;
    int i, alice_sent;

    /* Plaintext: the line comes back as is; Bob's plain line is shown as is. */
    n = send_inplace(alice, bob, "hello in the clear", &id);
    CHECK(n == 1 && id != 0);
    CHECK(alice->sent_count == 1 && strcmp(alice->sent[0], "hello in the clear") == 0);
    pump_all_inplace(alice);
    CHECK(bob->delivered_count == 1 && strcmp(bob->delivered[0], "hello in the clear") == 0);
    CHECK_RC(offrec_client_send(bob->client, S("alice"), S("plain reply"), &id), OFFREC_RESULT_OK);
    pump_all_inplace(alice);
    CHECK(shown == 1 && strcmp(last_shown, "plain reply") == 0);
    CHECK(last_incoming.security == OFFREC_SECURITY_PLAINTEXT && last_incoming.instance == 0);

    /* The handshake: Bob starts; Alice's in-place receive hides every protocol line, and her
     * answers go out through `send`. */
    ignored = 0;
    alice_sent = alice->sent_count;
    CHECK_RC(offrec_client_start_session(bob->client, S("alice")), OFFREC_RESULT_OK);
    pump_all_inplace(alice);
    CHECK(ignored >= 2);
    CHECK(alice->sent_count > alice_sent);
    CHECK(state_of(alice, bob) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    CHECK(state_of(bob, alice) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    CHECK(party_has_event(alice, OFFREC_EVENT_CODE_HANDSHAKE_COMPLETE)); /* events: callbacks */
    CHECK(alice->delivered_count == 0); /* deliver is never called for Alice */

    /* Encrypted both ways. */
    n = send_inplace(alice, bob, "secret to bob", &id);
    CHECK(n == 1);
    CHECK(strncmp(alice->sent[alice->sent_count - 1], "?OFR", 4) == 0);
    pump_all_inplace(alice);
    CHECK(bob->delivered_count == 2 && strcmp(bob->delivered[1], "secret to bob") == 0);
    CHECK_RC(offrec_client_send(bob->client, S("alice"), S("secret to alice"), &id), OFFREC_RESULT_OK);
    pump_all_inplace(alice);
    CHECK(shown == 2 && strcmp(last_shown, "secret to alice") == 0);
    CHECK(last_incoming.security == OFFREC_SECURITY_ENCRYPTED_UNVERIFIED);
    CHECK(last_incoming.instance != 0);
    CHECK(alice->delivered_count == 0);

    /* Fragments: every piece comes back, in order; Bob gets the message once. */
    CHECK_RC(offrec_client_set_max_message_size(alice->client, S("bob"), 120), OFFREC_RESULT_OK);
    {
        char big[400];
        memset(big, 'f', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        n = send_inplace(alice, bob, big, &id);
        CHECK(n > 4);
        for (i = alice->sent_count - (int)n; i < alice->sent_count; i++) {
            CHECK(strlen(alice->sent[i]) <= 120);
        }
        pump_all_inplace(alice);
        CHECK(bob->delivered_count == 3 && strlen(bob->delivered[2]) == sizeof big - 1);
    }
    /* Fragments arriving in place: all but the last are ignored, the last shows the text. */
    bob->size_limit = 120; /* Bob's max_message_size callback answers it */
    ignored = 0;
    CHECK_RC(offrec_client_send(bob->client, S("alice"), S("a long message from bob, long enough to be cut "
                                                             "into several fragments by a small transport"),
                                &id),
             OFFREC_RESULT_OK);
    pump_all_inplace(alice);
    CHECK(ignored >= 1 && shown == 3 && strncmp(last_shown, "a long message from bob", 23) == 0);

    /* A TLV-only message is an ignored line; the TLV is an event. */
    bob->size_limit = 0;
    {
        offrec_tlv tlv = {0x8001, (const uint8_t *)"t", 1};
        ignored = 0;
        CHECK_RC(offrec_client_send_tlvs(bob->client, S("alice"), S(""), &tlv, 1, &id), OFFREC_RESULT_OK);
        pump_all_inplace(alice);
        CHECK(ignored == 1 && shown == 3);
        CHECK(party_has_event(alice, OFFREC_EVENT_CODE_TLV_RECEIVED));
    }
    party_free_all();
}

static void test_holding_and_errors(void) {
    struct party *alice = party_new("alice", OFFREC_POLICY_ALWAYS, 0);
    struct party *bob = party_new("bob", OFFREC_POLICY_ALWAYS, 0);
    offrec_wire_messages wire = {NULL, 0};
    offrec_incoming in;
    uint64_t id = 77;
    size_t n;

    /* Held until encrypted: the query that starts the session comes back in its place. */
    n = send_inplace(alice, bob, "held", &id);
    CHECK(n == 1 && strncmp(alice->sent[0], "?OTR", 4) == 0);
    CHECK(party_has_event(alice, OFFREC_EVENT_CODE_ENCRYPTION_REQUIRED));
    pump_all_inplace(alice);
    CHECK(state_of(alice, bob) == OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED);
    /* The handshake completed while Alice received in place: her held message went out through
     * `send` then (it was not the answer to an in-place send). */
    CHECK(bob->delivered_count == 1 && strcmp(bob->delivered[0], "held") == 0);

    /* Errors write nothing and send nothing. */
    id = 77;
    n = (size_t)alice->sent_count;
    CHECK_RC(offrec_client_send_inplace(alice->client, S("bob"), S("x"), NULL, &id), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_send_inplace(alice->client, S("bob"), S("x"), &wire, NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_send_inplace(NULL, S("bob"), S("x"), &wire, &id), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_send_inplace(alice->client, "", 0, S("x"), &wire, &id), OFFREC_RESULT_INVALID_ARGUMENT);
    CHECK(wire.messages == NULL && wire.count == 0 && id == 77 && (size_t)alice->sent_count == n);
    pump_all_inplace(alice);
    CHECK(bob->delivered_count == 1);
    memset(&in, 0x5A, sizeof in);
    CHECK_RC(offrec_client_receive_inplace(alice->client, S("bob"), S("hi"), NULL), OFFREC_RESULT_NULL_ARGUMENT);
    CHECK_RC(offrec_client_receive_inplace(alice->client, S("bob"), "\xff", 1, &in), OFFREC_RESULT_INVALID_UTF8);
    CHECK(in.instance == 0x5A5A5A5A); /* untouched */
    offrec_wire_messages_free(NULL);
    party_free_all();
}

int main(void) {
    test_conversation();
    test_holding_and_errors();
    printf("test_inplace: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
