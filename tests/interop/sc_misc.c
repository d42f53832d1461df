/*
 * Extra keys, ending sessions, heartbeats, multiple instances (brief §5.2 K1, E1, H*, I*).
 * libotr<->libotr versions are the self-tests T4, T5, T6, T8; these wait for offrec's OTR API.
 */
#include "interop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if HAVE_OFFREC_OTR
static offrec_result or_extra_key(struct party *o, uint32_t usage, const uint8_t *ctx, size_t len,
                                  uint8_t key[32]) {
    o->last_rc = offrec_client_extra_symmetric_key(o->client, o->peer, strlen(o->peer), 0, usage,
                                                   ctx, len, key);
    net_settle();
    return o->last_rc;
}

/* K1: offrec's extra key reaches libotr's received_symkey with the same use, context and key;
 * libotr's reaches offrec the same way; the key changes after a rotation. */
static void k1_extra_key(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    REQUIRE(ake_offrec_asks(o, l));
    static const uint8_t ctx[] = "photo.jpg";
    uint8_t k1[32], k2[32], k3[32];
    CHECK(or_extra_key(o, 0x01020304, ctx, 9, k1) == OFFREC_RESULT_OK);
    const struct evrec *r = ev_last(l, EV_OTR_OP, OP_RECEIVED_SYMKEY);
    REQUIRE(r != NULL);
    CHECK(r->usage == 0x01020304 && r->data_len == 9 && !memcmp(r->data, ctx, 9));
    CHECK(!memcmp(r->key, k1, 32));

    CHECK(otr_symkey(l, o, 77, ctx, 5, k2) == 0);
    const struct evrec *e = ev_last(o, EV_OFFREC, OFFREC_EVENT_CODE_EXTRA_KEY_RECEIVED);
    REQUIRE(e != NULL);
    CHECK(e->usage == 77 && e->data_len == 5 && !memcmp(e->data, ctx, 5));
    CHECK(e->has_key && !memcmp(e->key, k2, 32));

    chat(l, "rotate");
    chat(o, "rotated");
    CHECK(or_extra_key(o, 0x01020304, ctx, 9, k3) == OFFREC_RESULT_OK);
    CHECK(memcmp(k1, k3, 32) != 0);
    r = ev_last(l, EV_OTR_OP, OP_RECEIVED_SYMKEY);
    CHECK(r != NULL && !memcmp(r->key, k3, 32));
}

/* E1: libotr ends the session: offrec FINISHED (PEER_ENDED_SESSION), its sends fail with
 * SESSION_FINISHED; offrec ends it: libotr FINISHED and CONNECTION_ENDED on send; a new query
 * restarts it. */
static void e1_end(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    REQUIRE(ake_offrec_asks(o, l));
    otr_disconnect(l, o);
    struct offrec_session_info info;
    CHECK(or_session_info(o, l, &info) && info.state == OFFREC_SESSION_STATE_FINISHED);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_PEER_ENDED_SESSION) == 1);
    size_t before = net_count(o, l);
    CHECK(party_send(o, "too late") == OFFREC_RESULT_SESSION_FINISHED);
    CHECK(net_count(o, l) == before);

    REQUIRE(ake_libotr_asks(l, o));
    chat(o, "again");
    CHECK(offrec_client_end_session(o->client, "bob", 3, 0) == OFFREC_RESULT_OK);
    net_pump();
    ConnContext *c = otr_ctx(l, o);
    CHECK(c != NULL && c->msgstate == OTRL_MSGSTATE_FINISHED);
    CHECK(ev_count(l, EV_OTR_TLV, OTRL_TLV_DISCONNECTED) == 1);
    before = net_count(l, o);
    party_send(l, "anyone?");
    CHECK(ev_count(l, EV_OTR_MSG, OTRL_MSGEVENT_CONNECTION_ENDED) == 1);
    CHECK(net_count(l, o) == before);
    REQUIRE(ake_offrec_asks(o, l));
    chat(l, "back");
}

/* H1: libotr's heartbeat after 61 s of its silence: offrec HEARTBEAT_RECEIVED, nothing shown,
 * and offrec's next message uses libotr's new key. offrec's own heartbeats are off here. */
static void h1_libotr_heartbeat(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    CHECK(offrec_client_set_option(o->client, OFFREC_OPTION_HEARTBEAT_INTERVAL, 0) == OFFREC_RESULT_OK);
    REQUIRE(ake_offrec_asks(o, l));
    chat(o, "hi");
    chat(l, "hey");
    clock_advance(61);
    size_t shown = delivered_count(o);
    chat(o, "ping");
    CHECK(ev_count(l, EV_OTR_MSG, OTRL_MSGEVENT_LOG_HEARTBEAT_SENT) == 1);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_HEARTBEAT_RECEIVED) == 1);
    CHECK(delivered_count(o) == shown);
    ConnContext *c = otr_ctx(l, o);
    REQUIRE(c != NULL);
    unsigned libotr_newest = c->context_priv->our_keyid;
    net_autopump = false;
    expect_delivery(l, "after the heartbeat", 19, SEC_ENCRYPTED);
    party_send(o, "after the heartbeat");
    struct otr_data d;
    REQUIRE(otr_wire_data(net_last(o, l), &d));
    CHECKF(d.recipient_keyid == libotr_newest, "offrec used key %u, libotr's newest is %u",
           d.recipient_keyid, libotr_newest);
    net_autopump = true;
    net_pump();
}

/* H2: offrec's heartbeat after it received and stayed silent for its interval (60 s):
 * libotr LOG_HEARTBEAT_RCVD, nothing shown. */
static void h2_offrec_heartbeat(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    REQUIRE(ake_offrec_asks(o, l));
    chat(o, "hi");
    chat(l, "say nothing for a while");
    size_t shown = delivered_count(l);
    clock_advance(61);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_HEARTBEAT_SENT) == 1);
    CHECK(ev_count(l, EV_OTR_MSG, OTRL_MSGEVENT_LOG_HEARTBEAT_RCVD) == 1);
    CHECK(delivered_count(l) == shown);
}

/* I1: a libotr account logged in twice; offrec queries: two commits to receiver 0, two
 * sessions; a message to one instance is FOR_OTHER_INSTANCE at the other. */
static void i1_two_logins(void) {
    struct party *o = party_offrec("alice", "alice", "bob", OR_POLICY_OTR);
    struct party *b1 = party_libotr("bob#1", "bob", "alice", OTRL_POLICY_MANUAL, NULL);
    struct party *b2 = party_libotr("bob#2", "bob", "alice", OTRL_POLICY_MANUAL, "bob-laptop");
    CHECK(or_start(o) == OFFREC_RESULT_OK);
    net_pump();
    CHECK(net_count_containing(b1, o, "?OTR:AAMC") == 1 && net_count_containing(b2, o, "?OTR:AAMC") == 1);
    size_t n = 0;
    CHECK(offrec_client_session_count(o->client, "bob", 3, &n) == OFFREC_RESULT_OK && n == 2);
    CHECK(party_encrypted_with(o, b1) && party_encrypted_with(b1, o));
    CHECK(party_encrypted_with(o, b2) && party_encrypted_with(b2, o));

    size_t other = ev_count(b2, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_FOR_OTHER_INSTANCE);
    expect_delivery(b1, "to the desktop", 14, SEC_ENCRYPTED);
    CHECK(party_send_to(o, party_instag(b1), "to the desktop") == OFFREC_RESULT_OK);
    CHECK(ev_count(b2, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_FOR_OTHER_INSTANCE) == other + 1);
    expect_delivery(b2, "to the laptop", 13, SEC_ENCRYPTED);
    CHECK(party_send_to(o, party_instag(b2), "to the laptop") == OFFREC_RESULT_OK);
    expect_delivery(o, "from the laptop", 15, SEC_ENCRYPTED);
    party_send(b2, "from the laptop");
    CHECK(last_delivery(o) != NULL && last_delivery(o)->instance == party_instag(b2));
}

/* I2: offrec's one D-H Commit (receiver 0) answered by both logins of a libotr account: one
 * commit, a D-H Key from each, two sessions keyed from the same g^x (libotr's their_y for key
 * id 1 is equal in both contexts) with different SSIDs; messages reach only their instance. */
static void i2_one_commit_two_sessions(void) {
    struct party *o = party_offrec("alice", "alice", "bob", OR_POLICY_OTR);
    struct party *b1 = party_libotr("bob#1", "bob", "alice", OTRL_POLICY_MANUAL, NULL);
    struct party *b2 = party_libotr("bob#2", "bob", "alice", OTRL_POLICY_MANUAL, "bob-laptop");
    otr_query(b1); /* offrec answers with its commit to every instance of bob */
    CHECK(net_count_containing(o, b1, "?OTR:AAMC") == 1 && net_count_containing(o, b2, "?OTR:AAMC") == 1);
    CHECK(net_count_containing(b1, o, "?OTR:AAMK") == 1 && net_count_containing(b2, o, "?OTR:AAMK") == 1);
    const char *c1 = NULL, *c2 = NULL;
    for (size_t i = 0; i < net_log_count(); i++) {
        const struct wire_rec *w = net_log(i);
        if (w->from != o->id || strncmp(w->text, "?OTR:AAMC", 9) != 0) continue;
        if (w->to == b1->id) c1 = w->text;
        if (w->to == b2->id) c2 = w->text;
    }
    CHECK(c1 != NULL && c2 != NULL && !strcmp(c1, c2));
    size_t n = 0;
    CHECK(offrec_client_session_count(o->client, "bob", 3, &n) == OFFREC_RESULT_OK && n == 2);
    REQUIRE(party_encrypted_with(o, b1) && party_encrypted_with(b1, o));
    REQUIRE(party_encrypted_with(o, b2) && party_encrypted_with(b2, o));
    ConnContext *x1 = otr_ctx(b1, o), *x2 = otr_ctx(b2, o);
    REQUIRE(x1 != NULL && x2 != NULL);
    CHECK(x1->context_priv->their_keyid == 1 && x2->context_priv->their_keyid == 1);
    CHECK(gcry_mpi_cmp(x1->context_priv->their_y, x2->context_priv->their_y) == 0);
    CHECK(memcmp(x1->sessionid, x2->sessionid, 8) != 0);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED) == 2);

    expect_delivery(b1, "to the desktop", 14, SEC_ENCRYPTED);
    CHECK(party_send_to(o, party_instag(b1), "to the desktop") == OFFREC_RESULT_OK);
    expect_delivery(b2, "to the laptop", 13, SEC_ENCRYPTED);
    CHECK(party_send_to(o, party_instag(b2), "to the laptop") == OFFREC_RESULT_OK);
    expect_delivery(o, "from the desktop", 16, SEC_ENCRYPTED);
    party_send(b1, "from the desktop");
    CHECK(last_delivery(o) != NULL && last_delivery(o)->instance == party_instag(b1));
    expect_delivery(o, "from the laptop", 15, SEC_ENCRYPTED);
    party_send(b2, "from the laptop");
    CHECK(last_delivery(o) != NULL && last_delivery(o)->instance == party_instag(b2));
}

/* I3: one offrec account on two devices (two clients, two instance tags, two DSA keys) and one
 * libotr user. The first device's query makes libotr commit from its master context (receiver
 * 0); both devices answer with a D-H Key, and libotr copies the master's exchange into a child
 * context per device (otrl_auth_copy_on_key): two sessions, each device reads only its own. */
static void i3_two_offrec_devices(void) {
    struct party *o1 = party_offrec("alice#1", "alice", "bob", OR_POLICY_OTR);
    struct party *o2 = party_offrec("alice#2", "alice", "bob", OR_POLICY_OTR);
    struct party *l = party_libotr("bob", "bob", "alice", OTRL_POLICY_MANUAL, NULL);
    CHECK(party_instag(o1) != party_instag(o2));
    CHECK(or_start(o1) == OFFREC_RESULT_OK);
    CHECK(net_count_containing(l, o1, "?OTR:AAMC") == 1 && net_count_containing(l, o2, "?OTR:AAMC") == 1);
    CHECK(net_count_containing(o1, l, "?OTR:AAMK") == 1 && net_count_containing(o2, l, "?OTR:AAMK") == 1);
    REQUIRE(party_encrypted_with(o1, l) && party_encrypted_with(l, o1));
    REQUIRE(party_encrypted_with(o2, l) && party_encrypted_with(l, o2));
    CHECK(otr_encrypted_contexts(l, o1) == 2);
    CHECK(ev_count(l, EV_OTR_OP, OP_GONE_SECURE) == 2);
    ConnContext *x1 = otr_ctx(l, o1), *x2 = otr_ctx(l, o2);
    REQUIRE(x1 != NULL && x2 != NULL && x1 != x2);
    CHECK(x1->their_instance == party_instag(o1) && x2->their_instance == party_instag(o2));
    CHECK(x1->m_context == x2->m_context && x1->m_context->msgstate == OTRL_MSGSTATE_PLAINTEXT);

    size_t other = ev_count(o2, EV_OFFREC, OFFREC_EVENT_CODE_FOR_OTHER_INSTANCE);
    expect_delivery(o1, "to the phone", 12, SEC_ENCRYPTED);
    party_send_to(l, party_instag(o1), "to the phone");
    CHECK(ev_count(o2, EV_OFFREC, OFFREC_EVENT_CODE_FOR_OTHER_INSTANCE) == other + 1);
    expect_delivery(o2, "to the laptop", 13, SEC_ENCRYPTED);
    party_send_to(l, party_instag(o2), "to the laptop");
    expect_delivery(l, "from the phone", 14, SEC_ENCRYPTED);
    CHECK(party_send(o1, "from the phone") == OFFREC_RESULT_OK);
    CHECK(last_delivery(l) != NULL && last_delivery(l)->instance == party_instag(o1));
    expect_delivery(l, "from the laptop", 15, SEC_ENCRYPTED);
    CHECK(party_send(o2, "from the laptop") == OFFREC_RESULT_OK);
    CHECK(last_delivery(l) != NULL && last_delivery(l)->instance == party_instag(o2));
}

/* H3: an exchange answered after its commit expired completes nowhere. libotr's master commit
 * (answering offrec's query) is cleared by its poll after 60 s (T1); offrec's D-H Key, delayed
 * 80 s, then starts nothing: no Reveal Signature, no session. offrec's own commit to every
 * instance ages out with its handshake timeout (120 s) the same way. A fresh AKE then works. */
static void h3_commit_expiry(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    net_rule_add(o, l, (struct net_rule){.action = RULE_DELAY, .match = "?OTR:AAMK", .times = 1, .delay = 80});
    CHECK(or_start(o) == OFFREC_RESULT_OK);
    ConnContext *m = otr_master(l);
    REQUIRE(m != NULL);
    CHECK(m->auth.authstate == OTRL_AUTHSTATE_AWAITING_DHKEY);
    CHECK(net_count_containing(o, l, "?OTR:AAMK") == 1);
    clock_advance(75);
    CHECK(m->auth.authstate == OTRL_AUTHSTATE_NONE);
    size_t events = l->nev;
    clock_advance(10); /* the late D-H Key arrives */
    CHECK(net_count_containing(l, o, "?OTR:AAMR") == 0);
    CHECK(!party_encrypted_with(o, l) && !party_encrypted_with(l, o));
    CHECK(ev_count(l, EV_OTR_OP, OP_GONE_SECURE) == 0);
    observe("H3: libotr ignores a D-H Key answering its expired master commit (%zu event(s))", l->nev - events);
    clock_advance(40); /* offrec drops its half-done exchange (120 s) */
    REQUIRE(ake_offrec_asks(o, l));
    chat(o, "fresh session");
    chat(l, "fresh indeed");
    assert_global();
    parties_reset();
    net_reset();

    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    net_rule_add(l, o, (struct net_rule){.action = RULE_DELAY, .match = "?OTR:AAMK", .times = 1, .delay = 130});
    otr_query(l); /* offrec commits to every instance */
    CHECK(net_count_containing(o, l, "?OTR:AAMC") == 1 && net_count_containing(l, o, "?OTR:AAMK") == 1);
    clock_advance(131);
    CHECK(net_count_containing(o, l, "?OTR:AAMR") == 0);
    CHECK(!party_encrypted_with(o, l) && !party_encrypted_with(l, o));
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED) == 0);
    REQUIRE(ake_libotr_asks(l, o));
    chat(l, "fresh session");
    chat(o, "fresh indeed");
}
#endif

#if HAVE_OFFREC_OTR
/* X1: application TLVs both ways. libotr's otrl_message_sending with TLVs (an application
 * type, and type 9, which no protocol defines and is below offrec's application range) reaches
 * offrec as one TLV_RECEIVED for the application type only, before the text; a TLV-only
 * message shows nothing. offrec_client_send_tlvs reaches libotr's otrl_message_receiving,
 * whose TLV list otrl_tlv_find searches, with the text shown as usual; a TLV-only one shows
 * nothing at libotr either. */
static void x1_app_tlvs(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    REQUIRE(ake_offrec_asks(o, l));

    OtrlTLV *tlvs = otrl_tlv_new(0x8001, 5, (const unsigned char *)"hello");
    tlvs->next = otrl_tlv_new(9, 3, (const unsigned char *)"abc");
    expect_delivery(o, "libotr with tlvs", 16, SEC_ENCRYPTED);
    CHECK(otr_send_tlvs(l, "libotr with tlvs", tlvs) == 0);
    otrl_tlv_free(tlvs);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_TLV_RECEIVED) == 1);
    const struct evrec *e = ev_last(o, EV_OFFREC, OFFREC_EVENT_CODE_TLV_RECEIVED);
    REQUIRE(e != NULL);
    CHECK(e->usage == 0x8001 && e->data_len == 5 && !memcmp(e->data, "hello", 5));
    CHECK(e->instance == party_instag(l));

    size_t shown = delivered_count(o);
    tlvs = otrl_tlv_new(0xFFFF, 0, (const unsigned char *)"");
    CHECK(otr_send_tlvs(l, "", tlvs) == 0);
    otrl_tlv_free(tlvs);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_TLV_RECEIVED) == 2);
    e = ev_last(o, EV_OFFREC, OFFREC_EVENT_CODE_TLV_RECEIVED);
    CHECK(e != NULL && e->usage == 0xFFFF && e->data_len == 0);
    CHECK(delivered_count(o) == shown);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_HEARTBEAT_RECEIVED) == 0);

    /* offrec -> libotr, the message taken off the wire and read with otrl_tlv_find. */
    struct net_capture cap = {.on = true};
    net_rule_add(o, l, (struct net_rule){.action = RULE_REWRITE, .rewrite = rewrite_capture, .arg = &cap});
    offrec_tlv t = {0x8002, (const uint8_t *)"world", 5};
    uint64_t id = 0;
    CHECK(offrec_client_send_tlvs(o->client, "bob", 3, "offrec with a tlv", 17, &t, 1, &id) ==
          OFFREC_RESULT_OK);
    net_settle();
    cap.on = false;
    char *wire = net_capture_take(&cap);
    REQUIRE(wire != NULL);
    CHECK(cap.n == 0);
    uint8_t *value = NULL;
    size_t len = 0;
    expect_delivery(l, "offrec with a tlv", 17, SEC_ENCRYPTED);
    CHECK(otr_receive_find_tlv(l, o, wire, 0x8002, &value, &len));
    CHECK(len == 5 && value != NULL && !memcmp(value, "world", 5));
    free(value);
    free(wire);
    net_capture_free(&cap);

    shown = delivered_count(l);
    t.type = 0xFFFE;
    CHECK(offrec_client_send_tlvs(o->client, "bob", 3, NULL, 0, &t, 1, &id) == OFFREC_RESULT_OK);
    net_settle();
    CHECK(ev_count(l, EV_OTR_TLV, 0xFFFE) == 1);
    CHECK(delivered_count(l) == shown);
    /* A reserved type never leaves offrec. */
    size_t before = net_count(o, l);
    t.type = OTRL_TLV_DISCONNECTED;
    CHECK(offrec_client_send_tlvs(o->client, "bob", 3, "x", 1, &t, 1, &id) == OFFREC_RESULT_TLV_TYPE_RESERVED);
    CHECK(net_count(o, l) == before);
    CHECK(otr_ctx(l, o) != NULL && otr_ctx(l, o)->msgstate == OTRL_MSGSTATE_ENCRYPTED);
    chat(l, "still fine");
    observe("X1: libotr ignores offrec's application TLVs beside the text (shown as usual) and "
            "hands them back in otrl_message_receiving's list; a TLV-only message shows nothing");
}
#endif

const struct scenario misc_scenarios[] = {
    OTR_SCENARIO("K1", "extra symmetric key both ways, changes after rotation", k1_extra_key),
    OTR_SCENARIO("X1", "application TLVs both ways (send_tlvs / otrl_message_sending with tlvs)", x1_app_tlvs),
    OTR_SCENARIO("E1", "ending the session from either side, restart", e1_end),
    OTR_SCENARIO("H1", "libotr heartbeat after 61 s (fake clock)", h1_libotr_heartbeat),
    OTR_SCENARIO("H2", "offrec heartbeat after 60 s (fake clock)", h2_offrec_heartbeat),
    OTR_SCENARIO("H3", "commit expiry (libotr 60 s poll, offrec 120 s): no stale AKE completes", h3_commit_expiry),
    OTR_SCENARIO("I1", "libotr account logged in twice: two sessions from one query", i1_two_logins),
    OTR_SCENARIO("I2", "offrec's one commit answered by two libotr logins: two sessions", i2_one_commit_two_sessions),
    OTR_SCENARIO("I3", "two offrec devices of one account vs libotr (copy-on-key)", i3_two_offrec_devices),
    {NULL, NULL, NULL},
};
