/*
 * The calls a chat UI needs (issue #16 §2) against libotr itself: offrec's localised query
 * explanation starts libotr's AKE, its localised OTR error text is what libotr shows its user,
 * a per-peer REQUIRE_MODERN keeps offrec from answering one libotr peer, and offrec_classify
 * names every message libotr and offrec send as its header says.
 */
#include "interop.h"

#include <stdio.h>
#include <string.h>

#if HAVE_OFFREC_OTR
static const char QUERY_TEXT[] = "Bitte antworte verschlüsselt.";
static const char ERROR_TEXT[] = "Sitzung verloren: bitte neu beginnen.";

/* The kind offrec_classify must give a whole OTR message with this header type. */
static uint32_t kind_of_type(unsigned type) {
    switch (type) {
    case OTR_TYPE_COMMIT: return OFFREC_MESSAGE_KIND_OTR_DH_COMMIT;
    case OTR_TYPE_DHKEY: return OFFREC_MESSAGE_KIND_OTR_DH_KEY;
    case OTR_TYPE_REVEALSIG: return OFFREC_MESSAGE_KIND_OTR_REVEAL_SIGNATURE;
    case OTR_TYPE_SIGNATURE: return OFFREC_MESSAGE_KIND_OTR_SIGNATURE;
    case OTR_TYPE_DATA: return OFFREC_MESSAGE_KIND_OTR_DATA;
    default: return 0;
    }
}

static uint32_t classify(const char *text) {
    uint32_t kind = 0;
    CHECK(offrec_classify(text, strlen(text), &kind) == OFFREC_RESULT_OK);
    return kind;
}

/* U1: the query text and the OTR error text are the application's, and libotr reads both. */
static void u1_texts(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    CHECK(offrec_client_set_text(o->client, OFFREC_TEXT_QUERY, QUERY_TEXT, strlen(QUERY_TEXT)) ==
          OFFREC_RESULT_OK);
    REQUIRE(ake_offrec_asks(o, l)); /* libotr took the query for one */
    const char *query = NULL;
    for (size_t k = 0; k < net_log_count() && query == NULL; k++) {
        const struct wire_rec *w = net_log(k);
        if (w->from == o->id && strstr(w->text, "?OTRv") != NULL) query = w->text;
    }
    REQUIRE(query != NULL);
    size_t qlen = strlen(query), tlen = strlen(QUERY_TEXT);
    CHECKF(qlen > tlen && !strcmp(query + qlen - tlen, QUERY_TEXT), "query sent: %s", query);
    CHECK(otrl_proto_message_type(query) == OTRL_MSGTYPE_QUERY);
    CHECK(otrl_proto_query_bestversion(query, OTRL_POLICY_MANUAL) == 3);
    CHECK(classify(query) == OFFREC_MESSAGE_KIND_OFFREC_QUERY);
    chat(o, "hi");

    /* offrec restarts (texts are settings: set again), so libotr's next message finds no
     * session: the error message carries the application's words, which libotr shows. */
    party_offrec_restart(o);
    CHECK(offrec_client_set_text(o->client, OFFREC_TEXT_OTR_ERROR_NOT_IN_PRIVATE, ERROR_TEXT,
                                 strlen(ERROR_TEXT)) == OFFREC_RESULT_OK);
    party_send(l, "are you there?");
    const char *err = net_last(o, l);
    REQUIRE(err != NULL);
    CHECKF(!strncmp(err, "?OTR Error: ", 12) && !strcmp(err + 12, ERROR_TEXT), "error sent: %s", err);
    CHECK(otrl_proto_message_type(err) == OTRL_MSGTYPE_ERROR);
    CHECK(classify(err) == OFFREC_MESSAGE_KIND_OTR_ERROR);
    const struct evrec *shown = ev_last(l, EV_OTR_MSG, OTRL_MSGEVENT_RCVDMSG_GENERAL_ERR);
    REQUIRE(shown != NULL && shown->text != NULL);
    CHECKF(!strcmp(shown->text, ERROR_TEXT), "libotr showed: %s", shown->text);
    CHECK(delivered_count(o) == 0);
    otr_disconnect(l, o);
}

/* U2: REQUIRE_MODERN for this one libotr peer: its query is reported, never answered;
 * cleared, the same query gives an OTR session. */
static void u2_peer_policy(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    CHECK(offrec_client_set_peer_policy(o->client, l->account, strlen(l->account),
                                        OR_POLICY_OTR | OFFREC_POLICY_REQUIRE_MODERN) == OFFREC_RESULT_OK);
    CHECK(!ake_libotr_asks(l, o));
    CHECK(net_count(o, l) == 0);
    CHECK(ev_count(o, EV_OFFREC, OFFREC_EVENT_CODE_FOREIGN_PROTOCOL) >= 1);
    /* As for any OTR query offrec does not answer, its human words are shown. */
    const struct delivery *d = last_delivery(o);
    REQUIRE(d != NULL && !strncmp(d->text, "?OTRv23?", 8) && !d->encrypted);
    expect_delivery(o, d->text, d->len, SEC_PLAIN);
    CHECK(offrec_client_clear_peer_policy(o->client, l->account, strlen(l->account)) == OFFREC_RESULT_OK);
    REQUIRE(ake_libotr_asks(l, o));
    chat(l, "now in OTR");
}

/* U3: offrec_classify names every message of an exchange as its header says, libotr's and
 * offrec's alike (fragments included), and libotr's user text as plaintext. */
static void u3_classify_the_wire(void) {
    struct party *o, *l;
    otr_pair(&o, &l, 0, OTRL_POLICY_MANUAL, 0);
    REQUIRE(ake_libotr_asks(l, o));
    chat(o, "from offrec");
    chat(l, "from libotr");
    o->mms = 200;
    chat(o, "a message long enough to be cut into several fragments of two hundred bytes each, "
            "which libotr has to put back together before it can read any of it");
    size_t seen[32] = {0};
    for (size_t k = 0; k < net_log_count(); k++) {
        const char *text = net_log(k)->text;
        uint32_t kind = classify(text);
        struct otr_header h;
        if (otr_wire_header(text, &h)) {
            CHECKF(kind == kind_of_type(h.type), "type %u classified %s: %.40s", h.type,
                   offrec_message_kind_name(kind), text);
        } else if (!strncmp(text, "?OTR|", 5)) {
            CHECK(kind == OFFREC_MESSAGE_KIND_OTR_FRAGMENT);
        } else if (strstr(text, "?OTR") != NULL) {
            CHECKF(kind == OFFREC_MESSAGE_KIND_OTR_QUERY || kind == OFFREC_MESSAGE_KIND_OFFREC_QUERY,
                   "%s: %.40s", offrec_message_kind_name(kind), text);
        }
        if (kind < 32) seen[kind]++;
    }
    CHECK(seen[OFFREC_MESSAGE_KIND_OTR_DH_COMMIT] >= 1 && seen[OFFREC_MESSAGE_KIND_OTR_DH_KEY] >= 1);
    CHECK(seen[OFFREC_MESSAGE_KIND_OTR_REVEAL_SIGNATURE] >= 1 && seen[OFFREC_MESSAGE_KIND_OTR_SIGNATURE] >= 1);
    CHECK(seen[OFFREC_MESSAGE_KIND_OTR_DATA] >= 2 && seen[OFFREC_MESSAGE_KIND_OTR_FRAGMENT] >= 2);
    CHECK(seen[OFFREC_MESSAGE_KIND_OTR_QUERY] >= 1);
    CHECK(classify("from libotr") == OFFREC_MESSAGE_KIND_PLAINTEXT);
}
#endif

const struct scenario ui_scenarios[] = {
    OTR_SCENARIO("U1", "localised query and OTR error texts, as libotr reads and shows them", u1_texts),
    OTR_SCENARIO("U2", "a per-peer REQUIRE_MODERN refuses one libotr peer, cleared it answers", u2_peer_policy),
    OTR_SCENARIO("U3", "offrec_classify names every libotr and offrec message by its header", u3_classify_the_wire),
    {NULL, NULL, NULL},
};
