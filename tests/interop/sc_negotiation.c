/*
 * Negotiation (brief §5.2 N*): who advertises, who starts the AKE, which version, re-keys.
 * N10 runs today (offrec without OTR); the others wait for offrec's OTR API.
 */
#include "interop.h"

#include <stdio.h>
#include <string.h>

/* OTR's whitespace tag base ("OT") and offrec's ("OF"), as the wire carries them. */
#define OTR_TAG_BASE " \t  \t\t\t\t \t \t \t  "
#define OFR_TAG_BASE " \t  \t\t\t\t \t   \t\t "

/* Expects `to` to be shown exactly the last text `from` put on the wire (plaintext passes
 * through a party that does not understand it unchanged). */
static void expect_as_sent(struct party *from, struct party *to) {
    const char *t = net_last(from, to);
    if (t != NULL) expect_delivery(to, t, strlen(t), SEC_PLAIN);
}

/* Sends plaintext and expects it shown exactly as it went over the wire. */
static void say_plain(struct party *from, struct party *to, const char *text) {
    net_autopump = false;
    size_t before = net_count(from, to);
    CHECKF(party_send(from, text) == 0, "%s: send failed", from->label);
    CHECK(net_count(from, to) == before + 1);
    expect_as_sent(from, to);
    net_autopump = true;
    net_pump();
}

static size_t foreign(struct party *o) {
    return ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_FOREIGN_PROTOCOL);
}

/* N10: offrec without the OTR bits never answers OTR, never sends ?OTR, reports
 * ForeignProtocol; both sides keep chatting in plaintext. */
static void n10_no_otr(void) {
    struct party *o = party_offrec("alice", "alice", "bob", OFFREC_POLICY_ALLOW | OFFREC_POLICY_SEND_WHITESPACE_TAG | OFFREC_POLICY_WHITESPACE_START_AKE);
    struct party *l = party_libotr("bob", "bob", "alice", OTRL_POLICY_OPPORTUNISTIC, NULL);
    struct party *c = party_libotr("carol", "carol", "bob", OTRL_POLICY_MANUAL, NULL);

    /* libotr tags its first plaintext; offrec (no OTR) reports it and shows the text as it
     * came, tag whitespace included */
    say_plain(l, o, "hi alice");
    CHECK(strstr(net_last(l, o), OTR_TAG_BASE) != NULL);
    CHECK(foreign(o) == 1);
    observe("offrec without OTR shows libotr's whitespace-tagged text with the tag left in");

    /* offrec tags its plaintext with its own tag; libotr does not know it and shows it raw */
    say_plain(o, l, "hello bob");
    CHECK(strstr(net_last(o, l), OFR_TAG_BASE) != NULL);
    observe("libotr shows offrec's whitespace tag as part of the text (it only strips OTR's base)");
    CHECK(ev_count(l, EV_OTR_OP, OP_GONE_SECURE) == 0);

    /* libotr, offer rejected, stops tagging; offrec stops after that untagged reply */
    say_plain(l, o, "how are you");
    CHECK(!strcmp(net_last(l, o), "how are you"));
    say_plain(o, l, "fine");
    CHECK(!strcmp(net_last(o, l), "fine"));

    /* libotr's query: reported, shown (a human wrote the text around it), not answered */
    size_t sent_by_o = net_count(o, l);
    otr_query(l);
    expect_as_sent(l, o);
    CHECK(!strncmp(net_last(l, o), "?OTRv23?\n<b>bob</b>", 19));
    CHECK(foreign(o) == 2);
    CHECK(net_count(o, l) == sent_by_o);

    /* a D-H Commit (bob answers a query alice's address seems to send): not shown, not answered */
    net_inject(o, l, "?OTRv3?");
    net_pump();
    CHECK(!strncmp(net_last(l, o), "?OTR:AAMC", 9));
    CHECK(foreign(o) == 3);
    CHECK(net_count(o, l) == sent_by_o);

    /* a data message (bob's, from his session with carol): not shown, not answered */
    snprintf(l->peer, sizeof l->peer, "carol");
    otr_query(c);
    REQUIRE(party_encrypted_with(l, c));
    expect_delivery(c, "for carol only", 14, SEC_ENCRYPTED);
    party_send(l, "for carol only");
    snprintf(l->peer, sizeof l->peer, "alice");
    const char *data = net_last(l, c);
    REQUIRE(data != NULL && !strncmp(data, "?OTR:AAMD", 9));
    net_inject(l, o, data);
    net_pump();
    CHECK(foreign(o) == 4);
    CHECK(net_count(o, l) == sent_by_o);

    /* offrec's own query goes out as `?OFRv1?` text; libotr shows it as plaintext */
    CHECK(or_start(o) == OFFREC_RESULT_OK);
    const char *q = net_last(o, l);
    REQUIRE(q != NULL && !strncmp(q, "?OFRv1?", 7));
    expect_as_sent(o, l);
    net_pump();
    observe("libotr shows offrec's query `%.7s...` as plain text, unchanged", q);

    /* offrec never put anything OTR on the wire */
    for (size_t i = 0; i < net_log_count(); i++) {
        const struct wire_rec *w = net_log(i);
        if (w->from == o->id) CHECKF(strstr(w->text, "?OTR") == NULL, "offrec sent %.30s", w->text);
    }

    /* and plaintext chat goes on */
    say_plain(l, o, "still there?");
    say_plain(o, l, "yes");
    CHECK(!party_encrypted_with(o, l) && !party_encrypted_with(l, o));
}

/* N10r: libotr with REQUIRE_ENCRYPTION (ALWAYS) against offrec without OTR: libotr holds the
 * text and queries; offrec reports; offrec's plaintext reaches libotr only as an
 * RCVDMSG_UNENCRYPTED event. */
static void n10r_libotr_requires(void) {
    struct party *o = party_offrec("alice", "alice", "bob", OFFREC_POLICY_ALLOW);
    struct party *l = party_libotr("bob", "bob", "alice", OTRL_POLICY_ALWAYS, NULL);
    party_send(l, "secret plans");
    CHECK(ev_count(l, EV_OTR_MSG, OTRL_MSGEVENT_ENCRYPTION_REQUIRED) == 1);
    CHECK(net_count_containing(l, o, "secret plans") == 0);
    CHECK(net_count(l, o) == 1 && !strncmp(net_last(l, o), "?OTRv23?", 8));
    expect_as_sent(l, o);
    CHECK(foreign(o) == 1);
    CHECK(net_count(o, l) == 0);

    party_send(o, "what was that?");
    const struct evrec *u = ev_last(l, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_UNENCRYPTED);
    CHECK(u != NULL && u->text && !strcmp(u->text, "what was that?"));
    CHECK(delivered_count(l) == 0);
    CHECK(!party_encrypted_with(o, l) && !party_encrypted_with(l, o));
}

#if HAVE_OFFREC_OTR
/* ---- prepared for the OTR API -------------------------------------------------------------- */

/* The common checks of a fresh v3 session between offrec o and libotr l. */
static void check_v3_session(struct party *o, struct party *l) {
    struct offrec_session_protocol sp;
    REQUIRE(or_protocol(o, l, &sp));
    CHECK(sp.protocol == OR_PROTO_OTR_V3 && sp.strength == OR_STRENGTH_LEGACY);
    CHECK(sp.has_otr_fingerprint);
    ConnContext *c = otr_ctx(l, o);
    REQUIRE(c != NULL);
    CHECK(c->protocol_version == 3 && c->msgstate == OTRL_MSGSTATE_ENCRYPTED);
    CHECK(ev_count(l, EV_OTR_OP, OP_GONE_SECURE) == 1);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED) == 1);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_NEW_FINGERPRINT) == 1);
    uint8_t ofp[20];
    REQUIRE(offrec_client_otr_fingerprint(o->client, ofp) == OFFREC_RESULT_OK);
    const struct evrec *nf = ev_last(l, EV_OTR_OP, OP_NEW_FINGERPRINT);
    CHECK(nf != NULL && !memcmp(nf->key, ofp, 20));
    chat(o, "over v3");
    chat(l, "back over v3");
}

/* N1: offrec start_session -> combined query -> libotr commits (v3). */
static void n1_offrec_queries(void) {
    static const int mmss[] = {0, 417};
    for (size_t m = 0; m < 2; m++) {
        struct party *o, *l;
        otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, mmss[m]);
        CHECK(or_start(o) == OFFREC_RESULT_OK);
        const struct wire_rec *q = net_log(0);
        REQUIRE(q != NULL && q->from == o->id);
        CHECKF(!strncmp(q->text, "?OTRv", 5), "query must start with ?OTRv (CoyIM): %.30s", q->text);
        CHECK(strstr(q->text, "?OFRv1?") != NULL);
        CHECK(strstr(q->text, "alice") == NULL); /* unlike libotr's, names no account */
        net_pump();
        REQUIRE(party_encrypted_with(o, l) && party_encrypted_with(l, o));
        struct otr_header h;
        const char *commit = NULL;
        for (size_t i = 0; i < net_log_count() && commit == NULL; i++) {
            if (net_log(i)->from == l->id && !strncmp(net_log(i)->text, "?OTR:AAMC", 9)) commit = net_log(i)->text;
        }
        CHECK(commit != NULL && otr_wire_header(commit, &h) && h.receiver == 0);
        check_v3_session(o, l);
        assert_global();
        parties_reset();
        net_reset();
    }
}

/* N2: libotr's query -> offrec commits with receiver tag 0 -> libotr makes a child context
 * for offrec's instance. */
static void n2_libotr_queries(void) {
    static const int mmss[] = {0, 417};
    for (size_t m = 0; m < 2; m++) {
        struct party *o, *l;
        otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, mmss[m]);
        REQUIRE(ake_libotr_asks(l, o));
        const char *commit = NULL;
        for (size_t i = 0; i < net_log_count() && commit == NULL; i++) {
            const struct wire_rec *w = net_log(i);
            if (w->from == o->id && !strncmp(w->text, "?OTR:AAMC", 9)) commit = w->text;
        }
        struct otr_header h;
        REQUIRE(commit != NULL && otr_wire_header(commit, &h));
        CHECK(h.version == 3 && h.receiver == 0 && h.sender == party_instag(o));
        ConnContext *child = otrl_context_find(l->us, "alice", "bob", OTR_PROTO, party_instag(o), 0,
                                               NULL, NULL, NULL);
        CHECK(child != NULL && child->m_context != child && child->msgstate == OTRL_MSGSTATE_ENCRYPTED);
        check_v3_session(o, l);
        assert_global();
        parties_reset();
        net_reset();
    }
}

/* N3: offrec's whitespace tag, libotr OPPORTUNISTIC: libotr shows the text with every tag
 * stripped and starts the AKE. */
static void n3_offrec_tag(void) {
    struct party *o, *l;
    otr_pair(&o, &l, OFFREC_POLICY_SEND_WHITESPACE_TAG, OTRL_POLICY_OPPORTUNISTIC, 0);
    expect_delivery(l, "hello bob", 9, SEC_PLAIN);
    party_send(o, "hello bob");
    const struct wire_rec *w = net_log(0);
    REQUIRE(w != NULL && w->from == o->id);
    CHECK(strstr(w->text, OTR_TAG_BASE) != NULL && strstr(w->text, OFR_TAG_BASE) != NULL);
    net_pump();
    CHECK(party_encrypted_with(o, l) && party_encrypted_with(l, o));
    check_v3_session(o, l);
}

/* N4: libotr's whitespace tag, offrec WHITESPACE_START_AKE: offrec shows the text without the
 * tag and the AKE completes; offrec stops tagging after an untagged reply. */
static void n4_libotr_tag(void) {
    struct party *o, *l;
    otr_pair(&o, &l, OFFREC_POLICY_WHITESPACE_START_AKE, OTRL_POLICY_OPPORTUNISTIC, 0);
    expect_delivery(o, "hi alice", 8, SEC_PLAIN);
    party_send(l, "hi alice");
    CHECK(strstr(net_log(0)->text, OTR_TAG_BASE) != NULL);
    net_pump();
    CHECK(party_encrypted_with(o, l) && party_encrypted_with(l, o));
    check_v3_session(o, l);
    assert_global();
    parties_reset();
    net_reset();

    otr_pair(&o, &l, OFFREC_POLICY_SEND_WHITESPACE_TAG, OTRL_POLICY_MANUAL, 0);
    expect_delivery(l, "one", 3, SEC_PLAIN); /* libotr strips the tags even under MANUAL */
    party_send(o, "one");
    CHECK(strstr(net_last(o, l), OTR_TAG_BASE) != NULL);
    chat(l, "two");
    chat(o, "three");
    CHECK(!strcmp(net_last(o, l), "three"));
}

/* N7: a query while encrypted re-keys, in both directions: new SSID, messages readable after.
 * libotr's callbacks follow its rules as T15/T16 record them: answering offrec's query it
 * reports gone_secure again (its instance context passes through PLAINTEXT); re-keyed by
 * offrec's commit after its own query it reports still_secure. */
static void n7_rekey(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    REQUIRE(ake_offrec_asks(o, l));
    uint8_t ssid0[8], ssid1[8];
    ConnContext *c = otr_ctx(l, o);
    REQUIRE(c != NULL);
    memcpy(ssid0, c->sessionid, 8);
    chat(o, "before");

    CHECK(or_start(o) == OFFREC_RESULT_OK);
    c = otr_ctx(l, o);
    REQUIRE(c != NULL && c->msgstate == OTRL_MSGSTATE_ENCRYPTED);
    memcpy(ssid1, c->sessionid, 8);
    CHECK(memcmp(ssid0, ssid1, 8) != 0);
    CHECK(ev_count(l, EV_OTR_OP, OP_GONE_SECURE) == 2 && ev_count(l, EV_OTR_OP, OP_STILL_SECURE) == 0);
    chat(o, "after offrec's re-key");
    chat(l, "read you");

    otr_query(l);
    c = otr_ctx(l, o);
    REQUIRE(c != NULL && c->msgstate == OTRL_MSGSTATE_ENCRYPTED);
    CHECK(memcmp(ssid1, c->sessionid, 8) != 0);
    CHECK(ev_count(l, EV_OTR_OP, OP_GONE_SECURE) == 2 && ev_count(l, EV_OTR_OP, OP_STILL_SECURE) == 1);
    chat(l, "after libotr's re-key");
    chat(o, "read you too");
}

/* N9: libotr allows v2 only: a v2 session (header 00 02, `?OTR,` fragments, no tags); with
 * offrec's v2 off: no session and nothing breaks. */
static void n9_v2_only(void) {
    static const int mmss[] = {0, 417};
    for (size_t m = 0; m < 2; m++) {
        struct party *o, *l;
        otr_pair(&o, &l, 0, OTRL_POLICY_ALLOW_V2, mmss[m]);
        REQUIRE(ake_offrec_asks(o, l));
        ConnContext *master = otr_master(l);
        REQUIRE(master != NULL);
        CHECK(master->protocol_version == 2 && master->msgstate == OTRL_MSGSTATE_ENCRYPTED);
        struct offrec_session_protocol sp;
        CHECK(or_protocol(o, l, &sp) && sp.protocol == OR_PROTO_OTR_V2 && sp.strength == OR_STRENGTH_LEGACY);
        chat(o, "v2 from offrec, long enough to need fragments at IRC sizes ....................."
                "...................................................................................");
        chat(l, "v2 from libotr");
        for (size_t i = 0; i < net_log_count(); i++) {
            const struct wire_rec *w = net_log(i);
            CHECKF(strncmp(w->text, "?OTR|", 5) != 0, "v3 fragment in a v2 session: %.30s", w->text);
            CHECKF(strncmp(w->text, "?OTR:AAM", 8) != 0, "v3 message in a v2 session: %.30s", w->text);
        }
        if (mmss[m] > 0) CHECK(net_count_containing(o, l, "?OTR,") > 0);
        assert_global();
        parties_reset();
        net_reset();
    }

    struct party *o = party_offrec("alice", "alice", "bob", OFFREC_POLICY_ALLOW | OFFREC_POLICY_ALLOW_OTR_V3);
    struct party *l = party_libotr("bob", "bob", "alice", OTRL_POLICY_ALLOW_V2, NULL);
    CHECK(or_start(o) == OFFREC_RESULT_OK);
    otr_query(l);
    CHECK(!party_encrypted_with(o, l) && !party_encrypted_with(l, o));
    CHECK(net_count_containing(o, l, "?OTR:") == 0);
}
#endif

const struct scenario negotiation_scenarios[] = {
    OTR_SCENARIO("N1", "offrec queries, libotr commits (v3), mms 0/417", n1_offrec_queries),
    OTR_SCENARIO("N2", "libotr queries, offrec commits to receiver 0, mms 0/417", n2_libotr_queries),
    OTR_SCENARIO("N3", "offrec whitespace tag starts libotr's AKE, tags stripped", n3_offrec_tag),
    OTR_SCENARIO("N4", "libotr whitespace tag starts offrec's AKE; offrec stops tagging", n4_libotr_tag),
    OTR_SCENARIO("N7", "re-key by query while encrypted, both directions", n7_rekey),
    OTR_SCENARIO("N9", "libotr v2 only: v2 session; offrec v2 off: none", n9_v2_only),
    {"N10", "offrec without OTR: never answers, never sends ?OTR, reports it", n10_no_otr},
    {"N10r", "libotr REQUIRE_ENCRYPTION vs offrec without OTR", n10r_libotr_requires},
    {NULL, NULL, NULL},
};
