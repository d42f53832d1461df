/*
 * Data messages (brief §5.2 D*): texts of every size and kind, key ids and counters against
 * libotr's white-box context, revealed MAC keys, plaintext while encrypted, data without a
 * session. The checkers are shared with the libotr<->libotr self-test T11.
 */
#include "interop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *filled(size_t len, char first) {
    char *t = malloc(len + 1);
    if (t == NULL) exit(2);
    for (size_t i = 0; i < len; i++) t[i] = (char)('a' + (char)(i % 26));
    t[0] = first;
    t[len] = '\0';
    return t;
}

void chat_text_set(struct party *a, struct party *b) {
    static const size_t sizes[] = {1, 100, 1000, 10000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *t = filled(sizes[i], 'A');
        chat(a, t);
        t[0] = 'B';
        chat(b, t);
        free(t);
    }
    chat(a, "h\xc3\xa9llo w\xc3\xb6rld \xe2\x80\x93 \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x99\x82");
    chat(b, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xf0\x9f\x94\x90");
    chat(a, "<b>bold</b> &amp; \"quoted\" 'single' <a href=\"x\">link</a> &lt;");
    chat(b, "1 < 2 && 3 > 2");
}

/* The data message `from` just queued for `to`, checked against whichever end is libotr. A
 * receiving libotr accepts recipient keyid our_keyid or our_keyid - 1 and sender keyid
 * their_keyid or their_keyid - 1; `steady` (alternating, after the first exchange) demands the
 * newest of each. */
static void check_queued(struct party *from, struct party *to, uint64_t want_ctr,
                         const struct otr_data *same_keys, bool steady) {
    struct otr_data d;
    const char *text = net_last(from, to);
    REQUIRE(text != NULL && otr_wire_data(text, &d));
    CHECKF(otr_ctr_value(&d) == want_ctr, "%s: counter %llu, want %llu", from->label,
           (unsigned long long)otr_ctr_value(&d), (unsigned long long)want_ctr);
    if (same_keys != NULL) {
        CHECK(d.sender_keyid == same_keys->sender_keyid && d.recipient_keyid == same_keys->recipient_keyid);
    }
    if (from->kind == PARTY_LIBOTR) {
        ConnContext *c = otr_ctx(from, to);
        REQUIRE(c != NULL);
        CHECK(d.sender_keyid == c->context_priv->our_keyid - 1);
        CHECK(d.recipient_keyid == c->context_priv->their_keyid);
    }
    if (to->kind == PARTY_LIBOTR) {
        ConnContext *c = otr_ctx(to, from);
        REQUIRE(c != NULL);
        unsigned ours = c->context_priv->our_keyid, theirs = c->context_priv->their_keyid;
        unsigned slack = steady ? 0 : 1;
        CHECKF(d.recipient_keyid <= ours && d.recipient_keyid + slack >= ours,
               "%s: recipient keyid %u, libotr's our_keyid %u", from->label, d.recipient_keyid, ours);
        CHECKF(d.sender_keyid <= theirs && d.sender_keyid + slack >= theirs,
               "%s: sender keyid %u, libotr's their_keyid %u", from->label, d.sender_keyid, theirs);
    }
}

/* Sends one text with the network paused, checks it on the wire, then delivers it. */
static void send_checked(struct party *from, struct party *to, const char *text, uint64_t want_ctr,
                         const struct otr_data *same_keys, bool steady) {
    net_autopump = false;
    expect_delivery(to, text, strlen(text), SEC_ENCRYPTED);
    CHECK(party_send(from, text) == 0);
    check_queued(from, to, want_ctr, same_keys, steady);
    net_autopump = true;
    net_pump();
}

void check_alternating(struct party *a, struct party *b, int rounds) {
    char text[64];
    for (int r = 0; r < rounds; r++) {
        snprintf(text, sizeof text, "turn %d from %s", r, a->label);
        send_checked(a, b, text, 1, NULL, r > 0);
        snprintf(text, sizeof text, "turn %d from %s", r, b->label);
        send_checked(b, a, text, 1, NULL, true);
    }
    CHECK(otr_check_reveals(a, b) > 0);
    CHECK(otr_check_reveals(b, a) > 0);
}

void check_burst(struct party *from, struct party *to, int n) {
    char text[64];
    struct otr_data first;
    snprintf(text, sizeof text, "burst 1 from %s", from->label);
    send_checked(from, to, text, 1, NULL, false);
    REQUIRE(otr_wire_data(net_last(from, to), &first));
    for (int i = 2; i <= n; i++) {
        snprintf(text, sizeof text, "burst %d from %s", i, from->label);
        send_checked(from, to, text, (uint64_t)i, &first, false);
    }
    chat(to, "got them");
    snprintf(text, sizeof text, "after the reply, %s", from->label);
    send_checked(from, to, text, 1, NULL, false);
    struct otr_data after;
    REQUIRE(otr_wire_data(net_last(from, to), &after));
    CHECK(after.sender_keyid == first.sender_keyid + 1);
}

#if HAVE_OFFREC_OTR
/* ---- prepared for the OTR API -------------------------------------------------------------- */

/* D1: every text both ways, byte-exact, encrypted, v3; offrec as advertiser and as initiator,
 * mms 0 and 417. */
static void d1_texts(void) {
    static const int mmss[] = {0, 417};
    for (size_t m = 0; m < 2; m++) {
        for (int offrec_asks = 0; offrec_asks < 2; offrec_asks++) {
            struct party *o, *l;
            otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, mmss[m]);
            REQUIRE(offrec_asks ? ake_offrec_asks(o, l) : ake_libotr_asks(l, o));
            chat_text_set(o, l);
            struct offrec_session_protocol sp;
            CHECK(or_protocol(o, l, &sp) && sp.protocol == OR_PROTO_OTR_V3);
            assert_global();
            parties_reset();
            net_reset();
        }
    }
}

/* D2: 200 alternating messages: key ids as libotr says, counter 1 per pair, revealed MAC keys
 * verify earlier messages both ways. */
static void d2_alternating(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    REQUIRE(ake_offrec_asks(o, l));
    check_alternating(o, l, 100);
}

/* D3: a one-way burst of 1 000 each way: one key pair, counters 1..1000, rotation after the
 * reply. */
static void d3_burst(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    REQUIRE(ake_offrec_asks(o, l));
    check_burst(o, l, 1000);
    check_burst(l, o, 1000);
}

/* D5: plaintext while encrypted: libotr RCVDMSG_UNENCRYPTED; offrec UNENCRYPTED_WHILE_ENCRYPTED
 * (and shows it marked plaintext, as for modern sessions). */
static void d5_plain_while_encrypted(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    REQUIRE(ake_offrec_asks(o, l));
    net_inject(o, l, "sent in the clear by another client");
    net_pump();
    const struct evrec *u = ev_last(l, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_UNENCRYPTED);
    CHECK(u != NULL && u->text != NULL && !strcmp(u->text, "sent in the clear by another client"));
    expect_delivery(o, "clear from bob", 14, SEC_PLAIN);
    net_inject(l, o, "clear from bob");
    net_pump();
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_UNENCRYPTED_WHILE_ENCRYPTED) == 1);
    chat(o, "still encrypted");
}

/* D8: data without a session. libotr: NOT_IN_PRIVATE and no error message. offrec (restarted,
 * same instance tag): one `?OTR Error:` with the unreadable text; nothing for an
 * IGNORE_UNREADABLE message. */
static void d8_no_session(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    REQUIRE(ake_offrec_asks(o, l));
    otrl_context_force_plaintext(otr_ctx(l, o)); /* libotr forgot the session */
    party_send(o, "nobody reads this");
    CHECK(ev_count(l, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_NOT_IN_PRIVATE) == 1);
    CHECK(net_count_containing(l, o, "?OTR Error:") == 0);
    CHECK(delivered_count(l) == 0);
    CHECK(offrec_client_end_session(o->client, "bob", 3, 0) == OFFREC_RESULT_OK); /* tidy up */
    net_pump();
    assert_global();
    parties_reset();
    net_reset();

    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    REQUIRE(ake_offrec_asks(o, l));
    party_offrec_restart(o);
    uint8_t key[32];
    otr_symkey(l, o, 1, NULL, 0, key); /* IGNORE_UNREADABLE */
    CHECK(net_count_containing(o, l, "?OTR Error:") == 0);
    party_send(l, "are you there?");
    CHECK(net_count_containing(o, l, "?OTR Error: You transmitted an unreadable encrypted message.") == 1);
    CHECK(ev_count(l, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_GENERAL_ERR) == 1);
    CHECK(delivered_count(o) == 0);
    /* MANUAL has no ERROR_START_AKE, so libotr stops here (and would not resend: T15) */
    otr_disconnect(l, o);
}
#endif

const struct scenario data_scenarios[] = {
    OTR_SCENARIO("D1", "texts 1 B..10 kB, UTF-8, HTML both ways; both roles, mms 0/417", d1_texts),
    OTR_SCENARIO("D2", "200 alternating: key ids, counters, revealed MAC keys", d2_alternating),
    OTR_SCENARIO("D3", "1 000-message bursts both ways: one key pair, counters 1..1000", d3_burst),
    OTR_SCENARIO("D5", "plaintext while encrypted, both ways", d5_plain_while_encrypted),
    OTR_SCENARIO("D8", "data without a session, both ways", d8_no_session),
    {NULL, NULL, NULL},
};
