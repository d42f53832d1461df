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

/* The SSID libotr's context with o holds (8 bytes; zero if none). */
static void libotr_ssid(struct party *l, struct party *o, uint8_t out[8]) {
    ConnContext *c = otr_ctx(l, o);
    memset(out, 0, 8);
    if (c != NULL && c->sessionid_len == 8) memcpy(out, c->sessionid, 8);
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

/* N6L: a re-key that loses one of the answering side's exchange messages, then the libotr
 * side asks again (libotr's "Refresh"); found by R2. The answering side x (offrec, or libotr as
 * the reference) keeps its half-done exchange with libotr's instance and starts a new one with
 * a new D-H Commit; libotr answers it with a D-H Key from its instance context. libotr as x
 * takes that D-H Key into a copy of its new commit (otrl_auth_copy_on_key overrides the
 * half-done exchange) and the re-key completes. offrec answers from the half-done exchange:
 *  - lost Reveal Signature (libotr asked first): libotr's context, still waiting for a Reveal
 *    Signature, keeps the new commit and sends the same D-H Key again (as the spec says);
 *    offrec sends its lost Reveal Signature again, which opens the old commit: libotr ignores it;
 *  - lost D-H Key (x asked first, libotr committed): offrec still waits for libotr's Reveal
 *    Signature and ignores the D-H Key (wrong state).
 * Either way no re-key completes until offrec's half-done exchange expires (120 s). */
static void n6l_lost_exchange_message(void) {
    for (int lose_dh_key = 0; lose_dh_key < 2; lose_dh_key++) {
        for (int reference = 1; reference >= 0; reference--) {
            struct party *x, *l; /* x: libotr (reference) or offrec */
            if (reference) {
                x = party_libotr("alice", "alice", "bob", OTRL_POLICY_MANUAL, NULL);
                l = party_libotr("bob", "bob", "alice", OTRL_POLICY_MANUAL, NULL);
            } else {
                otr_pair(&x, &l, 0, OTRL_POLICY_MANUAL, 0);
            }
            const char *what = lose_dh_key ? "?OTR:AAMK" : "?OTR:AAMR";
            /* the first AKE is asked for by the side that asks again below, so that x keeps no
             * commit of its own from it (see N6s) */
            if (!lose_dh_key) {
                otr_query(l);
            } else if (reference) {
                otr_query(x);
            } else {
                CHECK(or_start(x) == OFFREC_RESULT_OK);
            }
            REQUIRE(party_encrypted_with(x, l) && party_encrypted_with(l, x));
            chat(l, "hello");
            chat(x, "hi");
            uint8_t ssid0[8], ssid1[8];
            libotr_ssid(l, x, ssid0);
            clock_advance(3);
            size_t sent = net_count_containing(x, l, what);
            net_rule_add(x, l, (struct net_rule){.action = RULE_DROP, .match = what, .times = 1});
            if (!lose_dh_key) {
                otr_query(l); /* x commits, libotr sends its D-H Key, x's Reveal Signature is lost */
            } else if (reference) {
                otr_query(x); /* libotr commits, x's D-H Key is lost */
            } else {
                CHECK(or_start(x) == OFFREC_RESULT_OK);
            }
            CHECK(net_count_containing(x, l, what) == sent + 1); /* sent, and lost */
            char *lost = strdup(net_last(x, l));
            libotr_ssid(l, x, ssid1);
            /* the asking libotr keeps the old session; libotr as x is PLAINTEXT meanwhile (T16) */
            CHECK(!memcmp(ssid0, ssid1, 8) && party_encrypted_with(l, x));
            if (!reference) CHECK(party_encrypted_with(x, l));
            clock_advance(3);
            size_t dhkeys = net_count_containing(l, x, "?OTR:AAMK");
            otr_query(l); /* "Refresh" */
            CHECK(net_count_containing(l, x, "?OTR:AAMK") == dhkeys + 1);
            libotr_ssid(l, x, ssid1);
            bool rekeyed = party_encrypted_with(x, l) && party_encrypted_with(l, x) && memcmp(ssid0, ssid1, 8) != 0;
            if (reference) {
                CHECKF(rekeyed, "reference: libotr did not re-key after a lost %s", lose_dh_key ? "D-H Key" : "Reveal Signature");
            } else if (!rekeyed) {
                const char *last = net_last(x, l);
                check_fail(__FILE__, __LINE__,
                           "OFFREC BUG: no re-key after a lost %s and a new query: offrec answered libotr's D-H Key "
                           "to its new commit %s",
                           lose_dh_key ? "D-H Key" : "Reveal Signature",
                           lose_dh_key ? "with nothing (its old exchange waits for a Reveal Signature)"
                           : last != NULL && !strcmp(last, lost) ? "with the lost Reveal Signature, unchanged (it opens the old commit); libotr ignored it"
                                                                 : "with something else");
                /* it heals only when offrec's old exchange has expired */
                clock_advance(120);
                otr_query(l);
                libotr_ssid(l, x, ssid1);
                CHECK(party_encrypted_with(x, l) && memcmp(ssid0, ssid1, 8) != 0);
            }
            free(lost);
            chat(l, "after the refresh");
            chat(x, "read you");
            assert_global();
            parties_reset();
            net_reset();
        }
    }
}

/* N6s: libotr re-keys (offrec queried) within 120 s of an AKE offrec answered with its own D-H
 * Commit (receiver 0). offrec keeps that commit for other instances of the peer (as libotr keeps
 * its master commit for 60 s), and treats libotr's new commit as crossing it: when the old
 * commit's hash is the higher, offrec sends the old commit again instead of a D-H Key, and the
 * new session is keyed with offrec's old g^x. libotr never lets a commit cross its master's old
 * commit (a commit goes to the instance context, which answers it with a D-H Key). Asserted:
 * offrec answers a commit from an instance it completed an exchange with by a D-H Key. The
 * comparison is random, so the re-key is repeated until offrec's old hash was the higher. */
static void n6s_stale_commit(void) {
    int crossing = 0, tries = 0;
    for (; tries < 16 && crossing == 0; tries++) {
        struct party *o, *l;
        otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
        REQUIRE(ake_libotr_asks(l, o)); /* offrec answers with its commit to every instance */
        const char *first = NULL;
        for (size_t i = 0; i < net_log_count() && first == NULL; i++) {
            if (net_log(i)->from == o->id && !strncmp(net_log(i)->text, "?OTR:AAMC", 9)) first = net_log(i)->text;
        }
        uint8_t old_hash[32], h[32];
        REQUIRE(first != NULL && otr_wire_commit_hash(first, old_hash));
        ConnContext *c = otr_ctx(l, o);
        REQUIRE(c != NULL && c->context_priv->their_keyid == 1);
        gcry_mpi_t old_gx = gcry_mpi_copy(c->context_priv->their_y); /* offrec's g^x of that AKE */
        clock_advance(3);
        size_t from = net_log_count();
        CHECK(or_start(o) == OFFREC_RESULT_OK); /* libotr commits */
        const char *theirs = NULL, *answer = NULL;
        for (size_t i = from; i < net_log_count(); i++) {
            const struct wire_rec *w = net_log(i);
            if (w->from == l->id && !strncmp(w->text, "?OTR:AAMC", 9) && theirs == NULL) theirs = w->text;
            if (w->from == o->id && theirs != NULL && answer == NULL && !strncmp(w->text, "?OTR:AAM", 8)) answer = w->text;
        }
        if (theirs == NULL || answer == NULL || !otr_wire_commit_hash(theirs, h)) {
            check_fail(__FILE__, __LINE__, "no commit from libotr or no answer from offrec");
            gcry_mpi_release(old_gx);
            return;
        }
        CHECK(party_encrypted_with(o, l) && party_encrypted_with(l, o));
        if (memcmp(old_hash, h, 32) > 0) { /* else offrec answers with a D-H Key anyway */
            crossing = 1;
            if (strncmp(answer, "?OTR:AAMK", 9) != 0) {
                c = otr_ctx(l, o);
                bool reused = c != NULL && c->context_priv->their_keyid == 1 &&
                              gcry_mpi_cmp(c->context_priv->their_y, old_gx) == 0;
                check_fail(__FILE__, __LINE__,
                           "OFFREC BUG: offrec answered libotr's re-key commit with %s instead of a D-H Key (it took "
                           "the commit as crossing its own, kept from the AKE 3 s earlier)%s",
                           !strcmp(answer, first) ? "its old D-H Commit again" : "another message",
                           reused ? "; the new session is keyed with that AKE's g^x again" : "");
            }
        }
        gcry_mpi_release(old_gx);
        chat(o, "after the re-key");
        chat(l, "read you");
        assert_global();
        parties_reset();
        net_reset();
    }
    CHECKF(crossing, "no re-key met offrec's old commit with a lower hash in %d tries", tries);
}

/* N7g: offrec's flood guard: it sends no D-H Commit within 2 s of its last one, so a query
 * (libotr's "refresh") that arrives that soon after a re-key is ignored without a word; one
 * 2 s later re-keys. */
static void n7g_commit_guard(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    REQUIRE(ake_libotr_asks(l, o));
    uint8_t ssid0[8], ssid1[8];
    libotr_ssid(l, o, ssid0);
    size_t commits = net_count_containing(o, l, "?OTR:AAMC");
    clock_advance(1);
    otr_query(l);
    CHECK(net_count_containing(o, l, "?OTR:AAMC") == commits);
    libotr_ssid(l, o, ssid1);
    CHECK(!memcmp(ssid0, ssid1, 8));
    observe("offrec ignores an OTR query that arrives within 2 s of its last D-H Commit (no commit, no event)");
    clock_advance(1);
    otr_query(l);
    CHECK(net_count_containing(o, l, "?OTR:AAMC") == commits + 1);
    libotr_ssid(l, o, ssid1);
    CHECK(memcmp(ssid0, ssid1, 8) != 0);
    chat(l, "re-keyed");
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


/* N5: ERROR_START_AKE both ways. libotr (OPPORTUNISTIC includes it) answers offrec's
 * `?OTR Error:` with a query and the AKE re-keys; offrec with ERROR_START_AKE answers
 * libotr's error with its query and the AKE re-keys; offrec without it only reports the
 * error, and the session goes on. */
static void n5_error_start_ake(void) {
    static const char unreadable[] = "?OTR Error: You transmitted an unreadable encrypted message.";
    struct party *o, *l;
    /* libotr heals: a restarted offrec (same instance tag) cannot read libotr's data */
    otr_pair(&o, &l, 0, OTRL_POLICY_OPPORTUNISTIC, 0);
    REQUIRE(ake_offrec_asks(o, l));
    chat(l, "before the restart");
    party_offrec_restart(o);
    size_t queries = net_count_containing(l, o, "?OTRv23?");
    party_send(l, "lost in the restart");
    CHECK(net_count_containing(o, l, unreadable) == 1);
    CHECK(ev_count(l, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_GENERAL_ERR) == 1);
    CHECK(net_count_containing(l, o, "?OTRv23?") == queries + 1);
    CHECK(party_encrypted_with(o, l) && party_encrypted_with(l, o));
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED) == 2); /* before and after */
    CHECK(ev_count(l, EV_OTR_MSG, OTRL_MSGEVENT_MSG_RESENT) == 0);
    chat(l, "after libotr healed");
    chat(o, "read you");
    assert_global();
    parties_reset();
    net_reset();

    /* offrec heals: a MITM damages offrec's message, libotr sends its error, offrec queries */
    for (int error_start = 1; error_start >= 0; error_start--) {
        otr_pair(&o, &l, error_start ? OFFREC_POLICY_ERROR_START_AKE : 0, OTRL_POLICY_MANUAL, 0);
        REQUIRE(ake_offrec_asks(o, l));
        chat(o, "hello");
        chat(l, "hi");
        uint8_t ssid0[8], ssid1[8];
        libotr_ssid(l, o, ssid0);
        size_t offrec_queries = net_count_containing(o, l, "?OTRv");
        size_t n = net_count(o, l);
        net_rule_add(o, l, (struct net_rule){.action = RULE_REWRITE, .nth = (unsigned)n + 1,
                                             .rewrite = rewrite_flip_middle});
        party_send(o, "damaged on the way");
        CHECK(ev_count(l, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_UNREADABLE) == 1);
        CHECK(net_count_containing(l, o, unreadable) == 1);
        const struct evrec *pe = ev_last(o, EV_OFFREC, OFFREC_EVENT_CODE_PEER_ERROR);
        CHECK(pe != NULL && pe->text != NULL && strstr(pe->text, "unreadable encrypted message") != NULL);
        CHECK(party_encrypted_with(o, l) && party_encrypted_with(l, o));
        libotr_ssid(l, o, ssid1);
        if (error_start) {
            CHECK(net_count_containing(o, l, "?OTRv") == offrec_queries + 1);
            CHECK(memcmp(ssid0, ssid1, 8) != 0);
            CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED) == 2);
        } else {
            CHECK(net_count_containing(o, l, "?OTRv") == offrec_queries);
            CHECK(memcmp(ssid0, ssid1, 8) == 0);
            CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_LEGACY_SESSION_STARTED) == 1);
        }
        chat(o, "after the error");
        chat(l, "got it");
        if (error_start) {
            assert_global();
            parties_reset();
            net_reset();
        }
    }
}

/* One side's exchange messages (D-H Commit, Key, Reveal Signature, Signature) from wire log
 * entry `from_index` on. */
static size_t ake_messages(const struct party *p, size_t from_index) {
    size_t n = 0;
    for (size_t i = from_index; i < net_log_count(); i++) {
        const struct wire_rec *w = net_log(i);
        struct otr_header h;
        if (w->from == p->id && otr_wire_header(w->text, &h) && h.type != OTR_TYPE_DATA) n++;
    }
    return n;
}

/* Makes the D-H Commits of o and l cross: both queries are on the wire before either is read,
 * so each side answers the other's query with a commit before it sees the other's commit.
 * offrec_first: offrec's commit reaches libotr before libotr's reaches offrec. Returns which
 * side's commit has the higher hash (1 offrec, 0 libotr, -1 unknown). */
static int cross_commits(struct party *o, struct party *l, bool offrec_first, size_t *log_from) {
    net_autopump = false;
    *log_from = net_log_count();
    if (offrec_first) {
        otr_query(l); /* read first: offrec's commit goes out first */
        or_start(o);
    } else {
        or_start(o);
        otr_query(l);
    }
    net_pump_n(1);
    net_pump_n(1);
    /* both commits are on the wire now, nobody has read one */
    const char *co = NULL, *cl = NULL;
    size_t io = 0, il = 0;
    for (size_t i = *log_from; i < net_log_count(); i++) {
        const struct wire_rec *w = net_log(i);
        if (!strncmp(w->text, "?OTR:AAMC", 9) && w->from == o->id && co == NULL) co = w->text, io = i;
        if (!strncmp(w->text, "?OTR:AAMC", 9) && w->from == l->id && cl == NULL) cl = w->text, il = i;
    }
    CHECKF(co != NULL && cl != NULL, "the commits did not cross (offrec %s, libotr %s)", co ? "sent" : "none",
           cl ? "sent" : "none");
    if (co != NULL && cl != NULL) CHECK(offrec_first ? io < il : il < io);
    net_autopump = true;
    net_pump();
    uint8_t ho[32], hl[32];
    if (co == NULL || cl == NULL || !otr_wire_commit_hash(co, ho) || !otr_wire_commit_hash(cl, hl)) return -1;
    return memcmp(ho, hl, 32) > 0 ? 1 : 0;
}

/* N6: crossed D-H Commits, both arrival orders, on a fresh pair (libotr makes the child
 * context for offrec's instance from the commit) and on a re-key (the child context exists
 * and is ENCRYPTED), each until both winners of the hash comparison were seen: exactly one
 * session per side, libotr's one ENCRYPTED context is the child, no error messages, a
 * bounded number of exchange messages. */
static void n6_crossed_commits(void) {
    int runs = 0;
    size_t most[2][2] = {{0, 0}, {0, 0}}; /* [offrec's hash higher][offrec, libotr]: exchange messages */
    for (int rekey = 0; rekey < 2; rekey++) {
        for (int offrec_first = 1; offrec_first >= 0; offrec_first--) {
            bool seen[2] = {false, false};
            for (int attempt = 0; attempt < 24 && !(seen[0] && seen[1]); attempt++) {
                struct party *o, *l;
                otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
                uint8_t ssid0[8] = {0};
                if (rekey) {
                    REQUIRE(ake_offrec_asks(o, l));
                    chat(o, "before the crossing");
                    libotr_ssid(l, o, ssid0);
                }
                size_t from = 0;
                int offrec_wins = cross_commits(o, l, offrec_first, &from);
                if (offrec_wins >= 0) seen[offrec_wins] = true;
                trace("  N6 %s, %s commit first, %s hash higher", rekey ? "re-key" : "fresh",
                      offrec_first ? "offrec's" : "libotr's", offrec_wins ? "offrec's" : "libotr's");
                size_t n = 0;
                CHECK(offrec_client_session_count(o->client, "bob", 3, &n) == OFFREC_RESULT_OK && n == 1);
                CHECK(party_encrypted_with(o, l) && party_encrypted_with(l, o));
                CHECK(otr_encrypted_contexts(l, o) == 1);
                ConnContext *child = otr_ctx(l, o);
                CHECK(child != NULL && child->m_context != child && child->msgstate == OTRL_MSGSTATE_ENCRYPTED);
                CHECK(net_count_containing(o, l, "?OTR Error:") == 0 && net_count_containing(l, o, "?OTR Error:") == 0);
                size_t ao = ake_messages(o, from), al = ake_messages(l, from);
                CHECKF(ao <= 4 && al <= 4, "exchange messages after the crossing: offrec %zu, libotr %zu", ao, al);
                if (offrec_wins >= 0) {
                    size_t *m = most[offrec_wins];
                    m[0] = ao > m[0] ? ao : m[0];
                    m[1] = al > m[1] ? al : m[1];
                }
                if (rekey) {
                    uint8_t ssid1[8];
                    libotr_ssid(l, o, ssid1);
                    CHECK(memcmp(ssid0, ssid1, 8) != 0);
                }
                chat(o, "after the crossing");
                chat(l, "read you");
                assert_global();
                parties_reset();
                net_reset();
                runs++;
            }
            CHECKF(seen[0] && seen[1], "N6 %s/%s: not both hash winners seen", rekey ? "re-key" : "fresh",
                   offrec_first ? "offrec first" : "libotr first");
        }
    }
    observe("N6: %d crossed-commit runs converge to one session each side without errors; at most %zu/%zu "
            "exchange messages (offrec/libotr) when libotr's hash is higher, %zu/%zu when offrec's is",
            runs, most[0][0], most[0][1], most[1][0], most[1][1]);
}

/* N8: a message in flight across a re-key. libotr's message is delayed; offrec's query re-keys
 * meanwhile; the message arrives under the old keys: offrec reports it unreadable and answers
 * with one `?OTR Error:`. libotr (OPPORTUNISTIC: ERROR_START_AKE) queries and the AKE re-keys
 * again, but does not resend the message (T15: v3 handles the error in the master context);
 * nothing loops. */
static void n8_in_flight(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_OPPORTUNISTIC, 0);
    REQUIRE(ake_offrec_asks(o, l));
    chat(o, "hello");
    chat(l, "hi");
    uint8_t ssid0[8], ssid1[8], ssid2[8];
    libotr_ssid(l, o, ssid0);
    size_t n = net_count(l, o);
    net_rule_add(l, o, (struct net_rule){.action = RULE_DELAY, .nth = (unsigned)n + 1, .delay = 5});
    static const char lost[] = "in flight across the re-key";
    party_send(l, lost);
    CHECK(or_start(o) == OFFREC_RESULT_OK);
    REQUIRE(party_encrypted_with(o, l) && party_encrypted_with(l, o));
    libotr_ssid(l, o, ssid1);
    CHECK(memcmp(ssid0, ssid1, 8) != 0);
    CHECK(!delivered(o, lost, strlen(lost)));
    size_t queries = net_count_containing(l, o, "?OTRv23?");
    clock_advance(5); /* the old message arrives */
    CHECK(!delivered(o, lost, strlen(lost)));
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_UNREADABLE) == 1);
    CHECK(net_count_containing(o, l, "?OTR Error: You transmitted an unreadable encrypted message.") == 1);
    CHECK(ev_count(l, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_GENERAL_ERR) == 1);
    CHECK(net_count_containing(l, o, "?OTRv23?") == queries + 1);
    CHECK(party_encrypted_with(o, l) && party_encrypted_with(l, o));
    libotr_ssid(l, o, ssid2);
    CHECK(memcmp(ssid1, ssid2, 8) != 0);
    size_t log_before = net_log_count();
    clock_advance(60);
    CHECK(ev_count(l, EV_OTR_MSG, OTRL_MSGEVENT_MSG_RESENT) == 0);
    CHECK(net_count_containing(o, l, "?OTR Error:") == 1);
    CHECK(net_count_containing(l, o, "?OTRv23?") == queries + 1);
    CHECKF(net_log_count() - log_before <= 2, "%zu messages in the 60 s after healing",
           net_log_count() - log_before);
    observe("N8: libotr re-keys after offrec's error for a message in flight across a re-key, but does "
            "not resend it (no [resent] within 60 s)");
    chat(l, "after the re-keys");
    chat(o, "read you");
}
#endif

const struct scenario negotiation_scenarios[] = {
    OTR_SCENARIO("N1", "offrec queries, libotr commits (v3), mms 0/417", n1_offrec_queries),
    OTR_SCENARIO("N2", "libotr queries, offrec commits to receiver 0, mms 0/417", n2_libotr_queries),
    OTR_SCENARIO("N3", "offrec whitespace tag starts libotr's AKE, tags stripped", n3_offrec_tag),
    OTR_SCENARIO("N4", "libotr whitespace tag starts offrec's AKE; offrec stops tagging", n4_libotr_tag),
    OTR_SCENARIO("N5", "ERROR_START_AKE both ways; offrec without it only reports", n5_error_start_ake),
    OTR_SCENARIO("N6", "crossed D-H Commits: both orders, fresh and re-key, both winners", n6_crossed_commits),
    OTR_SCENARIO("N6L", "re-key losing offrec's Reveal Signature or D-H Key, then a new query", n6l_lost_exchange_message),
    OTR_SCENARIO("N6s", "libotr's re-key commit vs offrec's old commit kept for other instances", n6s_stale_commit),
    OTR_SCENARIO("N7", "re-key by query while encrypted, both directions", n7_rekey),
    OTR_SCENARIO("N7g", "offrec's 2 s commit guard: a query right after a re-key is ignored", n7g_commit_guard),
    OTR_SCENARIO("N8", "message in flight across a re-key: one error, no resend, no loop", n8_in_flight),
    OTR_SCENARIO("N9", "libotr v2 only: v2 session; offrec v2 off: none", n9_v2_only),
    {"N10", "offrec without OTR: never answers, never sends ?OTR, reports it", n10_no_otr},
    {"N10r", "libotr REQUIRE_ENCRYPTION vs offrec without OTR", n10r_libotr_requires},
    {NULL, NULL, NULL},
};
