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

/* The `i`th data message from -> to in the wire log (0-based), or NULL. */
static const char *nth_data(const struct party *from, const struct party *to, size_t i) {
    for (size_t k = 0; k < net_log_count(); k++) {
        const struct wire_rec *w = net_log(k);
        if (w->from == from->id && w->to == to->id && !strncmp(w->text, "?OTR:AAMD", 9) && i-- == 0) return w->text;
    }
    return NULL;
}

static size_t offrec_errors(const struct party *o, const struct party *l) {
    return net_count_containing(o, l, "?OTR Error:");
}

/* D4: reordered, duplicated and replayed data messages into offrec: the copy or the older
 * message (counter not above the last one read, or a key pair gone) is rejected, never shown
 * twice, reported UNREADABLE, and answered by at most one `?OTR Error:` per 10 s; a damaged
 * copy of an IGNORE_UNREADABLE message is dropped without a word. libotr rejects offrec's
 * duplicates the same way. */
static void d4_reorder_duplicate_replay(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    REQUIRE(ake_offrec_asks(o, l));
    chat(o, "start");
    chat(l, "started");

    /* duplication: the copy carries the same counter */
    size_t n = net_count(l, o);
    net_rule_add(l, o, (struct net_rule){.action = RULE_DUPLICATE, .nth = (unsigned)n + 1});
    chat(l, "said once");
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_UNREADABLE) == 1);
    CHECK(offrec_errors(o, l) == 1);

    /* reordering in one key pair: the later message reads, the earlier one's counter is lower;
     * the second error within 10 s is held back */
    n = net_count(l, o);
    net_rule_add(l, o, (struct net_rule){.action = RULE_REORDER, .nth = (unsigned)n + 1});
    party_send(l, "first");
    expect_delivery(o, "second", 6, SEC_ENCRYPTED);
    party_send(l, "second");
    net_release_held();
    CHECK(!delivered(o, "first", 5));
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_UNREADABLE) == 2);
    CHECK(offrec_errors(o, l) == 1);

    /* replay of the newest message (same key pair, same counter), and of an old one after the
     * keys turned (its key pair is gone) */
    const char *newest = net_last(l, o);
    REQUIRE(newest != NULL && !strncmp(newest, "?OTR:AAMD", 9));
    char *newest_copy = strdup(newest);
    clock_advance(11);
    net_inject(l, o, newest_copy);
    net_pump();
    free(newest_copy);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_UNREADABLE) == 3);
    CHECK(offrec_errors(o, l) == 2);
    chat(o, "turn");
    chat(l, "turned");
    chat(o, "turn again");
    chat(l, "turned again");
    const char *oldest = nth_data(l, o, 0);
    REQUIRE(oldest != NULL);
    char *oldest_copy = strdup(oldest);
    net_inject(l, o, oldest_copy);
    net_pump();
    free(oldest_copy);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_UNREADABLE) == 4);
    CHECK(offrec_errors(o, l) == 2); /* same 10 s as the last one */

    /* IGNORE_UNREADABLE (libotr's extra-key message): its duplicate is dropped silently, and
     * the key arrives once */
    clock_advance(11);
    n = net_count(l, o);
    net_rule_add(l, o, (struct net_rule){.action = RULE_DUPLICATE, .nth = (unsigned)n + 1});
    uint8_t key[32];
    CHECK(otr_symkey(l, o, 7, (const uint8_t *)"f", 1, key) == 0);
    struct otr_data d;
    REQUIRE(otr_wire_data(net_last(l, o), &d));
    CHECK(d.flags & OTRL_MSGFLAGS_IGNORE_UNREADABLE);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_EXTRA_KEY_RECEIVED) == 1);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_UNREADABLE) == 4);
    CHECK(offrec_errors(o, l) == 2);

    /* the other way: libotr reads offrec's message once and rejects the copy */
    clock_advance(11);
    n = net_count(o, l);
    net_rule_add(o, l, (struct net_rule){.action = RULE_DUPLICATE, .nth = (unsigned)n + 1});
    chat(o, "from offrec, once");
    CHECK(ev_count(l, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_UNREADABLE) == 1);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_PEER_ERROR) == 1);

    /* nothing broke */
    clock_advance(11);
    chat(l, "still readable");
    chat(o, "both ways");
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_UNREADABLE) == 4);
}

/* D6: a NUL in the text of a message to a v3 peer would cut it short at libotr: offrec
 * refuses it (INVALID_ARGUMENT) and sends nothing; an SMP question with NUL too. */
static void d6_nul(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    REQUIRE(ake_offrec_asks(o, l));
    size_t before = net_count(o, l);
    uint64_t id = 0;
    static const char texts[][8] = {"a\0b", "\0", "end\0"};
    static const size_t lens[] = {3, 1, 4};
    for (size_t i = 0; i < 3; i++) {
        offrec_result rc = offrec_client_send(o->client, "bob", 3, texts[i], lens[i], &id);
        CHECKF(rc == OFFREC_RESULT_INVALID_ARGUMENT, "send of %zu bytes with NUL: %u", lens[i], (unsigned)rc);
        rc = offrec_client_send_to_instance(o->client, "bob", 3, party_instag(l), texts[i], lens[i], &id);
        CHECKF(rc == OFFREC_RESULT_INVALID_ARGUMENT, "send_to_instance with NUL: %u", (unsigned)rc);
    }
    offrec_result rc = offrec_client_smp_start(o->client, "bob", 3, 0, (const uint8_t *)"s", 1, "who\0?", 5);
    CHECKF(rc == OFFREC_RESULT_INVALID_ARGUMENT, "SMP question with NUL: %u", (unsigned)rc);
    net_pump();
    CHECK(net_count(o, l) == before);
    CHECK(delivered_count(l) == 0);
    chat(o, "without NUL");
    chat(l, "fine");
}

/* D7: offrec pads bodies with a padding TLV (type 0) to a multiple of
 * OFFREC_OPTION_PADDING_BLOCK: libotr shows the exact text and hands the padding TLV back; the
 * ciphertext (= body) length is a multiple of the block. Block 0: no padding TLV. */
static void d7_padding(void) {
    static const long blocks[] = {0, 16, 256, 4096};
    static const size_t lens[] = {1, 11, 12, 13, 14, 15, 16, 17, 100, 255, 256, 1000, 5000};
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    REQUIRE(ake_offrec_asks(o, l));
    size_t bad = 0;
    for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
        REQUIRE(offrec_client_set_option(o->client, OFFREC_OPTION_PADDING_BLOCK, (uint64_t)blocks[b]) ==
                OFFREC_RESULT_OK);
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            char *t = malloc(lens[i] + 1);
            REQUIRE(t != NULL);
            for (size_t k = 0; k < lens[i]; k++) t[k] = (char)('a' + (char)((k + i) % 26));
            t[lens[i]] = '\0';
            size_t ev_before = l->nev;
            chat(o, t);
            free(t);
            struct otr_data d;
            REQUIRE(otr_wire_data(net_last(o, l), &d));
            size_t padding_tlvs = 0, body = lens[i] + 1;
            for (size_t e = ev_before; e < l->nev; e++) {
                if (l->ev[e].src != EV_OTR_TLV) continue;
                body += 4 + l->ev[e].data_len;
                padding_tlvs += l->ev[e].code == OTRL_TLV_PADDING;
            }
            CHECKF(body == d.ct_len, "body %zu B, ciphertext %zu B", body, d.ct_len);
            if (blocks[b] == 0) {
                CHECKF(padding_tlvs == 0, "block 0, text %zu B: %zu padding TLVs", lens[i], padding_tlvs);
                continue;
            }
            CHECK(padding_tlvs == 1);
            if (d.ct_len % (size_t)blocks[b] != 0) {
                bad++;
                check_fail(__FILE__, __LINE__,
                           "OFFREC BUG: padding block %ld, text %zu B: body %zu B is not a multiple of the block "
                           "(unpadded %zu B within 4 bytes below a boundary: the TLV header is not counted)",
                           blocks[b], lens[i], d.ct_len, lens[i] + 1);
            }
        }
        chat(l, "next block");
    }
    if (bad > 0) observe("OFFREC BUG (D7): %zu of %zu padded bodies not a multiple of the padding block", bad,
                         (sizeof blocks / sizeof blocks[0] - 1) * (sizeof lens / sizeof lens[0]));
}

/* D9: libotr restarts (same DSA key and instance tag, contexts gone): offrec's messages are
 * dropped by libotr without an event or an error message (P10), offrec cannot tell; a query
 * from either side recovers. */
static void d9_libotr_restart(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    REQUIRE(ake_offrec_asks(o, l));
    chat(o, "before");
    chat(l, "before too");
    for (int offrec_recovers = 0; offrec_recovers < 2; offrec_recovers++) {
        uint32_t tag = party_instag(l);
        party_libotr_restart(l);
        CHECK(party_instag(l) == tag);
        size_t events = l->nev, sent = net_count(l, o), shown = delivered_count(l);
        size_t nip = ev_count(l, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_NOT_IN_PRIVATE);
        /* the first message makes libotr's context for offrec's instance and is dropped without
         * an event (P10); the next ones find it PLAINTEXT: NOT_IN_PRIVATE, still no error */
        CHECK(party_send(o, "into the void") == OFFREC_RESULT_OK);
        CHECK(l->nev == events);
        CHECK(party_send(o, "and again") == OFFREC_RESULT_OK);
        CHECK(ev_count(l, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_NOT_IN_PRIVATE) == nip + 1);
        CHECK(l->nev == events + 1);
        CHECK(delivered_count(l) == shown);
        CHECK(net_count(l, o) == sent);
        CHECK(party_encrypted_with(o, l)); /* offrec cannot know */
        CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_PEER_ERROR) == 0);
        if (offrec_recovers) {
            REQUIRE(ake_offrec_asks(o, l));
        } else {
            REQUIRE(ake_libotr_asks(l, o));
        }
        CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_FINGERPRINT_CHANGED) == 0);
        chat(o, offrec_recovers ? "recovered by offrec's query" : "recovered by libotr's query");
        chat(l, "reading you again");
    }
    observe("a restarted libotr drops the first data message of an instance silently (it creates the "
            "context), and reports the next ones RCVDMSG_NOT_IN_PRIVATE; no error message either way");
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED) == 3);
}
#endif

const struct scenario data_scenarios[] = {
    OTR_SCENARIO("D1", "texts 1 B..10 kB, UTF-8, HTML both ways; both roles, mms 0/417", d1_texts),
    OTR_SCENARIO("D2", "200 alternating: key ids, counters, revealed MAC keys", d2_alternating),
    OTR_SCENARIO("D3", "1 000-message bursts both ways: one key pair, counters 1..1000", d3_burst),
    OTR_SCENARIO("D4", "reordered, duplicated, replayed data: rejected once, errors rate-limited", d4_reorder_duplicate_replay),
    OTR_SCENARIO("D5", "plaintext while encrypted, both ways", d5_plain_while_encrypted),
    OTR_SCENARIO("D6", "NUL in text or SMP question: INVALID_ARGUMENT, nothing sent", d6_nul),
    OTR_SCENARIO("D7", "padding TLV to OFFREC_OPTION_PADDING_BLOCK: exact text, body a block multiple", d7_padding),
    OTR_SCENARIO("D8", "data without a session, both ways", d8_no_session),
    OTR_SCENARIO("D9", "libotr restart: offrec's data dropped silently; a query recovers", d9_libotr_restart),
    {NULL, NULL, NULL},
};
