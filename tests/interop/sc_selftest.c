/*
 * Self-tests: libotr talking to libotr through the harness. They prove the machinery (parties,
 * fake clock, network hooks, wire tap, global asserts) on a pair whose behaviour is the
 * reference, and they pin down the libotr facts the OTR scenarios rely on.
 */
#include "interop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Two libotr users, alice and bob, talking to each other. */
static void libotr_pair(struct party **a, struct party **b, OtrlPolicy policy, int mms) {
    *a = party_libotr("alice", "alice", "bob", policy, NULL);
    *b = party_libotr("bob", "bob", "alice", policy, NULL);
    (*a)->mms = (*b)->mms = mms;
}

/* alice asks with libotr's query; the AKE runs to the end. */
static bool libotr_ake(struct party *a, struct party *b) {
    otr_query(a);
    net_pump();
    return party_encrypted_with(a, b) && party_encrypted_with(b, a);
}

static char *text_of(size_t len, char fill) {
    char *t = malloc(len + 1);
    if (t == NULL) exit(2);
    for (size_t i = 0; i < len; i++) t[i] = (char)(fill + (char)(i % 23));
    t[len] = '\0';
    return t;
}

/* T1: the AKE's messages, in order and by type, as the brief describes them. */
static void t1_ake(void) {
    struct party *a, *b;
    libotr_pair(&a, &b, OTRL_POLICY_MANUAL, 0);
    REQUIRE(libotr_ake(a, b));
    assert_libotr_pair_secure(a, b, 3);
    CHECK(ev_count(a, EV_OTR_OP, OP_GONE_SECURE) == 1 && ev_count(b, EV_OTR_OP, OP_GONE_SECURE) == 1);

    /* new_fingerprint on both sides, with the other's key */
    uint8_t fpa[20], fpb[20];
    otr_fingerprint(a, fpa);
    otr_fingerprint(b, fpb);
    const struct evrec *na = ev_last(a, EV_OTR_OP, OP_NEW_FINGERPRINT);
    const struct evrec *nb = ev_last(b, EV_OTR_OP, OP_NEW_FINGERPRINT);
    CHECK(na && !memcmp(na->key, fpb, 20));
    CHECK(nb && !memcmp(nb->key, fpa, 20));

    /* query (it names the account), commit to receiver 0, key, reveal, signature */
    CHECK(net_count(a, b) == 3 && net_count(b, a) == 2);
    const struct wire_rec *w0 = net_log(0);
    REQUIRE(w0 != NULL && w0->from == a->id);
    CHECKF(!strncmp(w0->text, "?OTRv23?\n<b>alice</b> has requested", 35), "query: %.40s", w0->text);
    static const unsigned order[] = {OTR_TYPE_COMMIT, OTR_TYPE_DHKEY, OTR_TYPE_REVEALSIG,
                                     OTR_TYPE_SIGNATURE};
    for (size_t i = 0; i < 4; i++) {
        struct otr_header h;
        const struct wire_rec *w = net_log(i + 1);
        REQUIRE(w != NULL && otr_wire_header(w->text, &h));
        struct party *sender = party_by_id(w->from), *receiver = party_by_id(w->to);
        CHECKF(h.version == 3 && h.type == order[i], "message %zu: v%u type %#x", i + 1, h.version, h.type);
        CHECK(h.sender == party_instag(sender));
        CHECKF(h.receiver == (i == 0 ? 0 : party_instag(receiver)), "message %zu to %08x", i + 1, h.receiver);
    }
    /* The commit came from bob's master context: libotr asks for its poll timer. */
    const struct evrec *timer = ev_last(b, EV_OTR_OP, OP_TIMER_CONTROL);
    CHECK(timer != NULL && timer->usage == 70);
    /* The Reveal Signature's sender (bob) shows the first half of the SSID bold. */
    ConnContext *cb = otr_ctx(b, a);
    CHECK(cb && cb->sessionid_half == OTRL_SESSIONID_FIRST_HALF_BOLD);
    /* The master context keeps waiting for more D-H Keys (other instances) until the poll
     * after MAX_AKE_WAIT_TIME (60 s) clears it and stops the timer. */
    ConnContext *mb = otr_master(b);
    REQUIRE(mb != NULL);
    CHECK(mb->auth.authstate == OTRL_AUTHSTATE_AWAITING_DHKEY);
    clock_advance(75);
    CHECK(mb->auth.authstate == OTRL_AUTHSTATE_NONE);
    timer = ev_last(b, EV_OTR_OP, OP_TIMER_CONTROL);
    CHECK(timer != NULL && timer->usage == 0);
    CHECK(party_encrypted_with(a, b) && party_encrypted_with(b, a));
}

/* T2: D1 between two libotr users, unfragmented and at IRC's 417. */
static void t2_text(void) {
    static const int mmss[] = {0, 417};
    for (size_t m = 0; m < 2; m++) {
        struct party *a, *b;
        libotr_pair(&a, &b, OTRL_POLICY_MANUAL, mmss[m]);
        REQUIRE(libotr_ake(a, b));
        chat_text_set(a, b);
        if (mmss[m] > 0) {
            CHECK(net_count_containing(a, b, "?OTR|") > 20); /* 10 000 B is ~36 fragments */
            CHECK(net_max_otr_len(a) <= (size_t)mmss[m] && net_max_otr_len(b) <= (size_t)mmss[m]);
        } else {
            CHECK(net_count_containing(a, b, "?OTR|") == 0);
        }
        assert_global();
        parties_reset();
        net_reset();
    }
}

/* T3: SMP without a question, with one, and with the wrong secret. */
static void t3_smp(void) {
    struct party *a, *b;
    libotr_pair(&a, &b, OTRL_POLICY_MANUAL, 0);
    REQUIRE(libotr_ake(a, b));
    b->smp_auto_secret = "correct horse";
    otr_smp_start(a, b, NULL, "correct horse");
    CHECK(ev_count(b, EV_OTR_SMP, OTRL_SMPEVENT_ASK_FOR_SECRET) == 1);
    CHECK(ev_count(a, EV_OTR_SMP, OTRL_SMPEVENT_SUCCESS) == 1);
    CHECK(ev_count(b, EV_OTR_SMP, OTRL_SMPEVENT_SUCCESS) == 1);
    CHECK(otr_trust(a, b) && !strcmp(otr_trust(a, b), "smp"));
    CHECK(otr_trust(b, a) && !strcmp(otr_trust(b, a), "smp"));
    parties_reset();
    net_reset();

    /* With a question only the asker gains trust (brief P16). */
    libotr_pair(&a, &b, OTRL_POLICY_MANUAL, 0);
    REQUIRE(libotr_ake(a, b));
    b->smp_auto_secret = "blue";
    otr_smp_start(a, b, "Favourite colour?", "blue");
    const struct evrec *ask = ev_last(b, EV_OTR_SMP, OTRL_SMPEVENT_ASK_FOR_ANSWER);
    CHECK(ask && ask->text && !strcmp(ask->text, "Favourite colour?"));
    CHECK(ev_count(a, EV_OTR_SMP, OTRL_SMPEVENT_SUCCESS) == 1);
    CHECK(ev_count(b, EV_OTR_SMP, OTRL_SMPEVENT_SUCCESS) == 1);
    CHECK(otr_trust(a, b) && !strcmp(otr_trust(a, b), "smp"));
    const char *tb = otr_trust(b, a);
    CHECKF(tb == NULL || tb[0] == '\0', "answerer's trust became \"%s\"", tb);
    assert_global();
    parties_reset();
    net_reset();

    /* Wrong secret: FAILURE on both sides, trust stays empty. */
    libotr_pair(&a, &b, OTRL_POLICY_MANUAL, 0);
    REQUIRE(libotr_ake(a, b));
    b->smp_auto_secret = "wrong";
    otr_smp_start(a, b, NULL, "right");
    CHECK(ev_count(a, EV_OTR_SMP, OTRL_SMPEVENT_FAILURE) == 1);
    CHECK(ev_count(b, EV_OTR_SMP, OTRL_SMPEVENT_FAILURE) == 1);
    CHECK(otr_trust(a, b) == NULL || otr_trust(a, b)[0] == '\0');
    CHECK(otr_trust(b, a) == NULL || otr_trust(b, a)[0] == '\0');
}

/* T4: K1 between two libotr users: same key, repeated within one key pair, new after a turn. */
static void t4_symkey(void) {
    struct party *a, *b;
    libotr_pair(&a, &b, OTRL_POLICY_MANUAL, 0);
    REQUIRE(libotr_ake(a, b));
    static const uint8_t use_data[] = "file.txt";
    uint8_t k1[32], k2[32], k3[32];
    CHECK(otr_symkey(a, b, 0x01020304, use_data, 8, k1) == 0);
    const struct evrec *r = ev_last(b, EV_OTR_OP, OP_RECEIVED_SYMKEY);
    REQUIRE(r != NULL);
    CHECK(r->usage == 0x01020304 && r->data_len == 8 && !memcmp(r->data, use_data, 8));
    CHECK(!memcmp(r->key, k1, 32));
    CHECK(otr_symkey(a, b, 7, NULL, 0, k2) == 0);
    CHECK(!memcmp(k1, k2, 32)); /* P18: one key per key pair */
    chat(b, "a turn");
    chat(a, "and back");
    CHECK(otr_symkey(a, b, 7, NULL, 0, k3) == 0);
    CHECK(memcmp(k1, k3, 32) != 0);
    r = ev_last(b, EV_OTR_OP, OP_RECEIVED_SYMKEY);
    CHECK(r && !memcmp(r->key, k3, 32) && ev_count(b, EV_OTR_OP, OP_RECEIVED_SYMKEY) == 3);
}

/* T5: E1 between two libotr users. */
static void t5_disconnect(void) {
    struct party *a, *b;
    libotr_pair(&a, &b, OTRL_POLICY_MANUAL, 0);
    REQUIRE(libotr_ake(a, b));
    otr_disconnect(a, b);
    CHECK(otr_ctx(a, b) == NULL || otr_ctx(a, b)->msgstate == OTRL_MSGSTATE_PLAINTEXT);
    CHECK(otr_ctx(b, a) && otr_ctx(b, a)->msgstate == OTRL_MSGSTATE_FINISHED);
    CHECK(ev_count(b, EV_OTR_TLV, OTRL_TLV_DISCONNECTED) == 1);
    size_t before = net_count(b, a);
    party_send(b, "into the void");
    CHECK(ev_count(b, EV_OTR_MSG, OTRL_MSGEVENT_CONNECTION_ENDED) == 1);
    CHECK(net_count(b, a) == before); /* nothing leaves */
    REQUIRE(libotr_ake(a, b));        /* a new query restarts it */
    CHECK(ev_count(b, EV_OTR_OP, OP_GONE_SECURE) == 2);
    chat(b, "back again");

    /* Not logged in: libotr sends no TLV 1, the peer stays ENCRYPTED. */
    a->logged_in = 0;
    before = net_count(a, b);
    otr_disconnect(a, b);
    CHECK(net_count(a, b) == before);
    CHECK(party_encrypted_with(b, a));
    otr_disconnect(b, a); /* tidy up: a is PLAINTEXT and ignores the IGNORE_UNREADABLE TLV 1 */
    CHECK(ev_count(a, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_NOT_IN_PRIVATE) == 0);
}

/* T6: H1 between two libotr users on the fake clock; proves libotr reads the harness's time(). */
static void t6_heartbeat(void) {
    struct party *a, *b;
    libotr_pair(&a, &b, OTRL_POLICY_MANUAL, 0);
    REQUIRE(libotr_ake(a, b));
    chat(a, "hi");
    chat(b, "hey");
    ConnContext *cb = otr_ctx(b, a);
    REQUIRE(cb != NULL);
    CHECKF(cb->context_priv->lastsent == clock_now(), "libotr lastsent %ld, fake clock %ld",
           (long)cb->context_priv->lastsent, (long)clock_now());
    clock_advance(59);
    chat(a, "within a minute");
    CHECK(ev_count(b, EV_OTR_MSG, OTRL_MSGEVENT_LOG_HEARTBEAT_SENT) == 0);
    ConnContext *ca = otr_ctx(a, b);
    REQUIRE(ca != NULL);
    unsigned their_before = ca->context_priv->their_keyid;
    clock_advance(61);
    chat(a, "ping");
    CHECK(ev_count(b, EV_OTR_MSG, OTRL_MSGEVENT_LOG_HEARTBEAT_SENT) == 1);
    CHECK(ev_count(a, EV_OTR_MSG, OTRL_MSGEVENT_LOG_HEARTBEAT_RCVD) == 1);
    CHECK(cb->context_priv->lastsent == clock_now());
    CHECKF(ca->context_priv->their_keyid == their_before + 1, "their_keyid %u -> %u", their_before,
           ca->context_priv->their_keyid);
    CHECK(delivered_count(a) == 1); /* only "hey": the heartbeat is not shown */
}

/* T7: the AKE and 3000 B (50 kB at mms 40) both ways at F1's sizes. The query goes out whole (see T10), then
 * the size applies: libotr's fragments are at most mms - 1 characters. */
static void t7_fragment_sizes(void) {
    static const int mmss[] = {40, 120, 200, 417, 1409};
    for (size_t m = 0; m < sizeof mmss / sizeof mmss[0]; m++) {
        struct party *a, *b;
        libotr_pair(&a, &b, OTRL_POLICY_MANUAL, 0);
        net_autopump = false;
        otr_query(a);
        a->mms = b->mms = mmss[m];
        net_autopump = true;
        net_pump();
        REQUIRE(party_encrypted_with(a, b) && party_encrypted_with(b, a));
        char *t = text_of(mmss[m] == 40 ? 50000 : 3000, 'k'); /* F1's heaviest case at 40 */
        chat(a, t);
        chat(b, t);
        free(t);
        size_t longest = net_max_otr_len(a) > net_max_otr_len(b) ? net_max_otr_len(a) : net_max_otr_len(b);
        CHECKF(longest <= (size_t)mmss[m] - 1, "mms %d: a fragment of %zu", mmss[m], longest);
        trace("libotr at mms %d: %zu wire messages for the AKE and 3000 B each way", mmss[m], net_log_count());
        assert_global();
        parties_reset();
        net_reset();
    }
}

/* T10: libotr fragments its own plaintext query when it is longer than mms, in the v2 format
 * (`?OTR,k,n,piece,`) with commas inside pieces: a receiver cuts such a piece at its first
 * comma, and at mms 40 the query never arrives whole, so no AKE starts. */
static void t10_query_fragments(void) {
    struct party *a, *b;
    libotr_pair(&a, &b, OTRL_POLICY_MANUAL, 40);
    net_tap_lenient = true;
    otr_query(a);
    CHECK(net_count_containing(a, b, "?OTR,") > 10);
    CHECK(net_tap_violations() > 0); /* pieces holding commas */
    CHECK(!party_encrypted_with(a, b) && !party_encrypted_with(b, a));
    parties_reset();
    net_reset();

    libotr_pair(&a, &b, OTRL_POLICY_MANUAL, 200);
    net_tap_lenient = true;
    otr_query(a);
    CHECK(net_count_containing(a, b, "?OTR,") == 2);
    CHECK(party_encrypted_with(a, b) && party_encrypted_with(b, a)); /* "?OTRv23?" survives the cut */
    observe("libotr fragments its own query (341 chars) when mms is smaller, as v2 `?OTR,k,n,` "
            "fragments whose pieces may hold commas; at mms 40 no AKE starts");
}

/* T8: one libotr account logged in twice (the I1 machinery): one query, two sessions. */
static void t8_two_instances(void) {
    struct party *a = party_libotr("alice", "alice", "bob", OTRL_POLICY_MANUAL, NULL);
    struct party *b1 = party_libotr("bob#1", "bob", "alice", OTRL_POLICY_MANUAL, NULL);
    struct party *b2 = party_libotr("bob#2", "bob", "alice", OTRL_POLICY_MANUAL, "bob-laptop");
    CHECK(party_instag(b1) != party_instag(b2));
    otr_query(a);
    CHECK(party_encrypted_with(a, b1) && party_encrypted_with(b1, a));
    CHECK(party_encrypted_with(a, b2) && party_encrypted_with(b2, a));
    CHECK(ev_count(a, EV_OTR_OP, OP_GONE_SECURE) == 2);
    /* each bob sees the other's AKE traffic addressed to another instance */
    CHECK(ev_count(b1, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_FOR_OTHER_INSTANCE) > 0);

    size_t other_before = ev_count(b2, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_FOR_OTHER_INSTANCE);
    expect_delivery(b1, "to the desktop", 14, SEC_ENCRYPTED);
    CHECK(party_send_to(a, party_instag(b1), "to the desktop") == 0);
    CHECK(ev_count(b2, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_FOR_OTHER_INSTANCE) == other_before + 1);
    expect_delivery(b2, "to the laptop", 13, SEC_ENCRYPTED);
    CHECK(party_send_to(a, party_instag(b2), "to the laptop") == 0);
    expect_delivery(a, "from the laptop", 15, SEC_ENCRYPTED);
    party_send(b2, "from the laptop");
    CHECK(last_delivery(a) && last_delivery(a)->instance == party_instag(b2));
}

/* ---- T9: the network's fault rules on libotr traffic ------------------------------------ */

static void t9_faults(void) {
    struct party *a, *b;
    libotr_pair(&a, &b, OTRL_POLICY_MANUAL, 0);
    REQUIRE(libotr_ake(a, b));
    size_t n = net_count(a, b);

    /* drop: the message is lost, the next one still reads */
    net_rule_add(a, b, (struct net_rule){.action = RULE_DROP, .nth = (unsigned)n + 1});
    party_send(a, "lost");
    chat(a, "after the loss");
    CHECK(!delivered(b, "lost", 4));

    /* duplicate: shown once; the copy is unreadable (counter did not increase) */
    n = net_count(a, b);
    net_rule_add(a, b, (struct net_rule){.action = RULE_DUPLICATE, .nth = (unsigned)n + 1});
    chat(a, "twice on the wire");
    CHECK(ev_count(b, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_UNREADABLE) == 1);
    CHECK(net_count_containing(b, a, "?OTR Error: You transmitted an unreadable encrypted message.") == 1);
    CHECK(ev_count(a, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_GENERAL_ERR) == 1);

    /* delay: arrives once the clock has moved (and is still readable) */
    clock_advance(10); /* keep the error rate rule of the global asserts */
    n = net_count(a, b);
    net_rule_add(a, b, (struct net_rule){.action = RULE_DELAY, .nth = (unsigned)n + 1, .delay = 5});
    expect_delivery(b, "late", 4, SEC_ENCRYPTED);
    party_send(a, "late");
    CHECK(!delivered(b, "late", 4));
    clock_advance(5);
    CHECK(delivered(b, "late", 4));

    /* reorder: the later message reads, the earlier one (lower counter) is unreadable */
    clock_advance(10);
    n = net_count(a, b);
    net_rule_add(a, b, (struct net_rule){.action = RULE_REORDER, .nth = (unsigned)n + 1});
    party_send(a, "first");
    CHECK(!delivered(b, "first", 5)); /* held back */
    expect_delivery(b, "second", 6, SEC_ENCRYPTED);
    party_send(a, "second");
    CHECK(!delivered(b, "first", 5));
    CHECK(ev_count(b, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_UNREADABLE) == 2);

    /* rewrite (MITM flips a character): not shown, reported */
    clock_advance(10);
    n = net_count(a, b);
    net_rule_add(a, b, (struct net_rule){.action = RULE_REWRITE, .nth = (unsigned)n + 1, .rewrite = rewrite_flip_middle});
    party_send(a, "tampered");
    CHECK(!delivered(b, "tampered", 8));
    CHECK(ev_count(b, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_UNREADABLE) == 3); /* MAC check fails */

    /* split (the transport cuts a line): libotr cannot read either piece */
    clock_advance(10);
    n = net_count(a, b);
    net_rule_add(a, b, (struct net_rule){.action = RULE_SPLIT, .nth = (unsigned)n + 1, .split_at = 200});
    size_t unenc_before = ev_count(b, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_UNENCRYPTED);
    party_send(a, "cut in two");
    CHECK(!delivered(b, "cut in two", 10));
    /* the head fails to parse (MALFORMED, "malformed" error sent), the tail is shown as
     * unencrypted text in an event */
    CHECK(ev_count(b, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_MALFORMED) == 1);
    CHECK(ev_count(b, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_UNENCRYPTED) == unenc_before + 1);
    CHECK(net_count_containing(b, a, "?OTR Error: You transmitted a malformed data message.") == 1);
    allow_otr_event(b, OTRL_MSGEVENT_RCVDMSG_MALFORMED);

    /* the session still works */
    clock_advance(10);
    chat(a, "still fine");
    chat(b, "yes");
    /* Alice got three error messages; with MANUAL (no ERROR_START_AKE) she neither re-keys
     * nor resends. */
    CHECK(ev_count(a, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_GENERAL_ERR) == 4);
    CHECK(ev_count(a, EV_OTR_MSG, OTRL_MSGEVENT_MSG_RESENT) == 0);
}

/* T11: the D2/D3 checkers on libotr<->libotr: key ids follow the context, counters restart
 * per key pair, revealed MAC keys verify earlier messages. */
static void t11_keys_and_counters(void) {
    struct party *a, *b;
    libotr_pair(&a, &b, OTRL_POLICY_MANUAL, 0);
    REQUIRE(libotr_ake(a, b));
    check_alternating(a, b, 20);
    check_burst(a, b, 50);
    check_burst(b, a, 50);
}

/* The longest OTR message p sent that starts with `prefix`. */
static size_t longest_sent(const struct party *p, const char *prefix) {
    size_t max = 0;
    for (size_t i = 0; i < net_log_count(); i++) {
        const struct wire_rec *w = net_log(i);
        if (w->from == p->id && !strncmp(w->text, prefix, strlen(prefix)) && strlen(w->text) > max) {
            max = strlen(w->text);
        }
    }
    return max;
}

/* T12: libotr fragments user messages and SMP messages to fit max_message_size, but injects
 * heartbeats, extra-key messages, TLV 1 disconnects and error messages whole, however long. */
static void t12_unfragmented_kinds(void) {
    struct party *a, *b;
    libotr_pair(&a, &b, OTRL_POLICY_MANUAL, 0);
    REQUIRE(libotr_ake(a, b));
    a->mms = b->mms = 200;
    chat(a, "fragmented to fit");
    CHECK(net_count_containing(a, b, "?OTR|") > 0);
    b->smp_auto_secret = "s";
    otr_smp_start(a, b, NULL, "s");
    CHECK(ev_count(a, EV_OTR_SMP, OTRL_SMPEVENT_SUCCESS) == 1);
    CHECK(longest_sent(a, "?OTR|") <= 199 && longest_sent(b, "?OTR|") <= 199);
    size_t whole_before = net_count_containing(a, b, "?OTR:AAMD");
    uint8_t key[32];
    otr_symkey(a, b, 1, NULL, 0, key);
    CHECK(net_count_containing(a, b, "?OTR:AAMD") == whole_before + 1);
    chat(b, "turn");
    clock_advance(61);
    chat(b, "wakes a heartbeat");
    CHECK(ev_count(a, EV_OTR_MSG, OTRL_MSGEVENT_LOG_HEARTBEAT_SENT) == 1);
    CHECK(net_count_containing(a, b, "?OTR:AAMD") == whole_before + 2);
    otr_disconnect(a, b);
    CHECK(net_count_containing(a, b, "?OTR:AAMD") == whole_before + 3);
    CHECK(longest_sent(a, "?OTR:AAMD") > 200);
    observe("libotr injects heartbeats, extra-key and TLV 1 messages whole (here %zu chars at mms 200); "
            "only user and SMP messages are fragmented", longest_sent(a, "?OTR:AAMD"));
}

/* T13: a data message to a libotr party without a session (reference for D8): only
 * RCVDMSG_NOT_IN_PRIVATE, no error message. */
static void t13_not_in_private(void) {
    struct party *a, *b;
    libotr_pair(&a, &b, OTRL_POLICY_OPPORTUNISTIC, 0);
    REQUIRE(libotr_ake(a, b));
    otrl_context_force_plaintext(otr_ctx(a, b));
    size_t sent = net_count(a, b);
    party_send(b, "hello?");
    CHECK(ev_count(a, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_NOT_IN_PRIVATE) == 1);
    CHECK(net_count(a, b) == sent);
    CHECK(delivered_count(a) == 0);
    otr_disconnect(b, a);
}

/* T14: libotr restarted (same key and instance tag, contexts gone; reference for D9/P10):
 * the peer's data messages vanish without an event or error; a new query recovers. */
static void t14_libotr_restart(void) {
    struct party *a, *b;
    libotr_pair(&a, &b, OTRL_POLICY_OPPORTUNISTIC, 0);
    REQUIRE(libotr_ake(a, b));
    uint32_t tag = party_instag(b);
    party_libotr_restart(b);
    CHECK(party_instag(b) == tag);
    size_t events = b->nev, sent = net_count(b, a);
    party_send(a, "into the void");
    CHECK(delivered_count(b) == 0);
    CHECK(b->nev == events); /* not even an event */
    CHECK(net_count(b, a) == sent);
    CHECK(party_encrypted_with(a, b));
    REQUIRE(libotr_ake(a, b));
    chat(a, "recovered");
}

/* T15: libotr's healing (reference for N8). An unreadable message makes the receiver send
 * an error; the sender (ERROR_START_AKE) queries and the AKE re-keys. But libotr does NOT
 * resend the lost message: the error message carries no instance tag, so libotr handles it
 * in the master context, which is not ENCRYPTED, and never marks the instance context's last
 * message for retransmission. The re-key also reports gone_secure (not still_secure) on the
 * side that answered the query: taking the D-H Key into the instance context copies the
 * master context's PLAINTEXT state over it first. */
static void t15_healing(void) {
    struct party *a, *b;
    libotr_pair(&a, &b, OTRL_POLICY_OPPORTUNISTIC, 0);
    REQUIRE(libotr_ake(a, b));
    chat(b, "hello");
    size_t n = net_count(a, b);
    net_rule_add(a, b, (struct net_rule){.action = RULE_REWRITE, .nth = (unsigned)n + 1, .rewrite = rewrite_flip_middle});
    party_send(a, "lost once");
    CHECK(ev_count(b, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_UNREADABLE) == 1);
    CHECK(ev_count(a, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_GENERAL_ERR) == 1);
    CHECK(net_count_containing(a, b, "?OTRv23?") == 2); /* the first AKE's and the healing one */
    CHECK(party_encrypted_with(a, b) && party_encrypted_with(b, a));
    CHECK(ev_count(a, EV_OTR_OP, OP_STILL_SECURE) == 1 && ev_count(a, EV_OTR_OP, OP_GONE_SECURE) == 1);
    CHECK(ev_count(b, EV_OTR_OP, OP_STILL_SECURE) == 0 && ev_count(b, EV_OTR_OP, OP_GONE_SECURE) == 2);
    CHECK(ev_count(a, EV_OTR_MSG, OTRL_MSGEVENT_MSG_RESENT) == 0);
    CHECK(!delivered(b, "[resent] lost once", 18));
    CHECK(otr_master(a) != NULL && otr_master(a)->context_priv->may_retransmit == 0);
    observe("libotr v3 does not resend after an error message (handled in the master context); "
            "the query-answering side reports gone_secure on a re-key");
    chat(a, "after healing");
}

/* T16: a re-key started by a query while ENCRYPTED: the answering libotr's instance context is
 * PLAINTEXT from the D-H Key until the Signature, and user text typed then goes out in the
 * clear (MANUAL policy: no tag, no query). A message held for REQUIRE_ENCRYPTION is sent
 * without "[resent]" once the session is up. */
static void t16_rekey_window(void) {
    struct party *a, *b;
    libotr_pair(&a, &b, OTRL_POLICY_MANUAL, 0);
    REQUIRE(libotr_ake(a, b));
    net_autopump = false;
    otr_query(a);
    net_pump_n(1); /* b: query -> D-H Commit from the master context */
    net_pump_n(1); /* a: commit -> D-H Key */
    net_pump_n(1); /* b: D-H Key -> Reveal Signature */
    ConnContext *cb = otr_ctx(b, a);
    CHECK(cb != NULL && cb->msgstate == OTRL_MSGSTATE_PLAINTEXT);
    size_t before = net_count(b, a);
    party_send(b, "typed during the re-key");
    CHECK(net_count(b, a) == before + 1 && !strcmp(net_last(b, a), "typed during the re-key"));
    net_autopump = true;
    net_pump();
    CHECK(party_encrypted_with(a, b) && party_encrypted_with(b, a));
    const struct evrec *u = ev_last(a, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_UNENCRYPTED);
    CHECK(u != NULL && u->text && !strcmp(u->text, "typed during the re-key"));
    observe("libotr: during a query-started re-key the answering side is PLAINTEXT from D-H Key to "
            "Signature; user text sent then goes out in the clear (MANUAL)");
    parties_reset();
    net_reset();

    a = party_libotr("alice", "alice", "bob", OTRL_POLICY_ALWAYS, NULL);
    b = party_libotr("bob", "bob", "alice", OTRL_POLICY_MANUAL, NULL);
    expect_delivery(b, "held until encrypted", 20, SEC_ENCRYPTED);
    party_send(a, "held until encrypted");
    CHECK(ev_count(a, EV_OTR_MSG, OTRL_MSGEVENT_ENCRYPTION_REQUIRED) == 1);
    CHECK(party_encrypted_with(a, b) && party_encrypted_with(b, a));
    CHECK(ev_count(a, EV_OTR_MSG, OTRL_MSGEVENT_MSG_RESENT) == 0);
}

/* T17: whitespace tags between libotr users (reference for N3/N4): the receiver strips the tag
 * whatever its policy, starts the AKE only with WHITESPACE_START_AKE, and the sender stops
 * tagging after an untagged reply. */
static void t17_whitespace_tags(void) {
    struct party *a = party_libotr("alice", "alice", "bob", OTRL_POLICY_OPPORTUNISTIC, NULL);
    struct party *b = party_libotr("bob", "bob", "alice", OTRL_POLICY_MANUAL, NULL);
    expect_delivery(b, "one", 3, SEC_PLAIN);
    party_send(a, "one");
    CHECK(strlen(net_last(a, b)) == 3 + 16 + 8 + 8); /* base, v2 and v3 groups */
    CHECK(!party_encrypted_with(a, b) && net_count(b, a) == 0);
    chat(b, "two");
    chat(a, "three");
    CHECK(!strcmp(net_last(a, b), "three"));
    parties_reset();
    net_reset();

    a = party_libotr("alice", "alice", "bob", OTRL_POLICY_OPPORTUNISTIC, NULL);
    b = party_libotr("bob", "bob", "alice", OTRL_POLICY_OPPORTUNISTIC, NULL);
    expect_delivery(b, "hi", 2, SEC_PLAIN);
    party_send(a, "hi");
    CHECK(party_encrypted_with(a, b) && party_encrypted_with(b, a));
}

const struct scenario selftest_scenarios[] = {
    {"T1", "libotr<->libotr: AKE via query, message order and tags", t1_ake},
    {"T2", "libotr<->libotr: D1 text both ways, mms 0 and 417", t2_text},
    {"T3", "libotr<->libotr: SMP without/with question, wrong secret", t3_smp},
    {"T4", "libotr<->libotr: K1 extra symmetric key", t4_symkey},
    {"T5", "libotr<->libotr: E1 disconnect, CONNECTION_ENDED, restart", t5_disconnect},
    {"T6", "libotr<->libotr: H1 heartbeat on the fake clock", t6_heartbeat},
    {"T7", "libotr<->libotr: AKE and 3-50 kB at mms 40/120/200/417/1409", t7_fragment_sizes},
    {"T8", "libotr<->libotr: one account logged in twice", t8_two_instances},
    {"T9", "libotr<->libotr: drop, duplicate, delay, reorder, rewrite, split", t9_faults},
    {"T10", "libotr<->libotr: libotr fragments its own query at small mms", t10_query_fragments},
    {"T11", "libotr<->libotr: key ids, counters, revealed MAC keys (D2/D3 checkers)", t11_keys_and_counters},
    {"T12", "libotr<->libotr: which messages libotr leaves unfragmented", t12_unfragmented_kinds},
    {"T13", "libotr<->libotr: data without a session: NOT_IN_PRIVATE, no error", t13_not_in_private},
    {"T14", "libotr<->libotr: restarted libotr drops data silently; query recovers", t14_libotr_restart},
    {"T15", "libotr<->libotr: healing: error, query, re-key, but no [resent]", t15_healing},
    {"T16", "libotr<->libotr: re-key window in plaintext; held message sent", t16_rekey_window},
    {"T17", "libotr<->libotr: whitespace tags stripped, AKE only with WS_START", t17_whitespace_tags},
    {NULL, NULL, NULL},
};
