/*
 * OTR v3 SMP against libotr 4.1.1, for offrec's tests (tests/otr_smp.rs).
 *
 * Two libotr parties (full userstates, DSA keys, instance tags) run a real v3 AKE in one
 * process through an in-memory queue; the SMP then runs through libotr's own message layer
 * (otrl_message_initiate_smp[_q] / otrl_message_respond_smp / otrl_message_receiving), so the
 * secret derivation, TLV types, question format, events and trust are libotr's.
 *
 *   gen vectors          JSON on stdout: libotr against libotr (same secret, different
 *                        secret, with a question), every SMP TLV value, both fingerprints, the
 *                        ssid, events, trust, and libotr's internal SMP values at each step
 *                        (tests replay those into offrec's state machine).
 *   gen alice SECRET [QUESTION]
 *   gen bob SECRET       libotr plays Alice (initiator) or Bob (responder) against a caller on
 *                        stdin/stdout. The other libotr userstate only carries the caller's TLVs
 *                        (encrypts them into data messages and decrypts the replies).
 *
 * Line protocol of the interactive modes (hex lower case):
 *   out  ctx OUR_FP THEIR_FP SSID     once, after the AKE ("our" = the caller's side)
 *   out  tlv TYPE HEX                 a TLV libotr sent to the caller
 *   out  event NAME [QUESTION_HEX]    an SMP event of the libotr party
 *   out  trust VALUE                  its trust in the caller's fingerprint ("-" for none)
 *   out  done                         end of the answer to one input
 *   in   tlv TYPE HEX                 a TLV from the caller to libotr
 *
 * The libotr party behaves as Pidgin-OTR does: it calls otrl_message_abort_smp on
 * SMPEVENT_CHEATED and SMPEVENT_ERROR.
 *
 * Build: cc -O1 -o gen gen.c -lotr -lgcrypt   (see smp.mk)
 * Written for offrec from the OTR spec and libotr's public headers; no libotr code is copied.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gcrypt.h>
#include <libotr/proto.h>
#include <libotr/userstate.h>
#include <libotr/privkey.h>
#include <libotr/instag.h>
#include <libotr/context.h>
#include <libotr/message.h>
#include <libotr/tlv.h>
#include <libotr/sm.h>

#define PROTOCOL "prpl-offrec"
#define MAX_EVENTS 16
#define MAX_QUEUE 64

typedef struct Party {
    const char *name;
    OtrlUserState us;
    int pidgin_aborts;          /* abort on CHEATED/ERROR like Pidgin */
    const char *events[MAX_EVENTS];
    int nevents;
    int asked;                  /* an ASK_FOR_SECRET/ANSWER is pending */
    char question[4096];
    int has_question;
    int print_tlvs;             /* interactive transport: print received SMP TLVs */
    FILE *json;                 /* vector mode: where received TLVs are recorded */
} Party;

static Party parties[2];
static int json_count;          /* TLVs recorded so far in the current run */
static OtrlMessageAppOps ops;
static char keydir[64], keyfile[256], instagfile[256];

typedef struct { Party *to; char from[32]; char *text; } Msg;
static Msg queue[MAX_QUEUE];
static int qhead, qtail;

static void die(const char *what) {
    fprintf(stderr, "gen: %s\n", what);
    exit(2);
}

static Party *party_named(const char *name) {
    for (int i = 0; i < 2; i++)
        if (parties[i].name && strcmp(parties[i].name, name) == 0) return &parties[i];
    return NULL;
}

static void hex_print(FILE *out, const unsigned char *buf, size_t len) {
    for (size_t i = 0; i < len; i++) fprintf(out, "%02x", buf[i]);
}

static void mpi_hex(FILE *out, gcry_mpi_t m) {
    unsigned char *buf = NULL;
    size_t len = 0;
    if (!m) { fputs("", out); return; }
    gcry_mpi_aprint(GCRYMPI_FMT_USG, &buf, &len, m);
    hex_print(out, buf, len);
    gcry_free(buf);
}

/* ---- libotr callbacks ------------------------------------------------------------------- */

static OtrlPolicy cb_policy(void *opdata, ConnContext *context) {
    (void)opdata; (void)context;
    return OTRL_POLICY_ALLOW_V3;
}

static int cb_is_logged_in(void *opdata, const char *a, const char *p, const char *r) {
    (void)opdata; (void)a; (void)p; (void)r;
    return 1;
}

static void cb_inject(void *opdata, const char *account, const char *protocol, const char *recipient,
                      const char *message) {
    (void)protocol;
    Party *to = party_named(recipient);
    if (!to) die("message to an unknown party");
    if (qtail == MAX_QUEUE) die("queue full");
    queue[qtail].to = to;
    snprintf(queue[qtail].from, sizeof queue[qtail].from, "%s", account);
    queue[qtail].text = strdup(message);
    qtail++;
    (void)opdata;
}

static void cb_create_instag(void *opdata, const char *account, const char *protocol) {
    Party *p = opdata;
    otrl_instag_generate(p->us, instagfile, account, protocol);
}

static const char *event_name(OtrlSMPEvent e) {
    switch (e) {
    case OTRL_SMPEVENT_ASK_FOR_SECRET: return "ASK_FOR_SECRET";
    case OTRL_SMPEVENT_ASK_FOR_ANSWER: return "ASK_FOR_ANSWER";
    case OTRL_SMPEVENT_CHEATED: return "CHEATED";
    case OTRL_SMPEVENT_IN_PROGRESS: return "IN_PROGRESS";
    case OTRL_SMPEVENT_SUCCESS: return "SUCCESS";
    case OTRL_SMPEVENT_FAILURE: return "FAILURE";
    case OTRL_SMPEVENT_ABORT: return "ABORT";
    case OTRL_SMPEVENT_ERROR: return "ERROR";
    default: return "NONE";
    }
}

static void cb_smp_event(void *opdata, OtrlSMPEvent event, ConnContext *context, unsigned short percent,
                         char *question) {
    Party *p = opdata;
    (void)percent;
    if (p->nevents < MAX_EVENTS) p->events[p->nevents++] = event_name(event);
    if (event == OTRL_SMPEVENT_ASK_FOR_SECRET || event == OTRL_SMPEVENT_ASK_FOR_ANSWER) {
        p->asked = 1;
        p->has_question = question != NULL;
        snprintf(p->question, sizeof p->question, "%s", question ? question : "");
    }
    if (p->pidgin_aborts && (event == OTRL_SMPEVENT_CHEATED || event == OTRL_SMPEVENT_ERROR))
        otrl_message_abort_smp(p->us, &ops, p, context);
}

static void cb_msg_event(void *opdata, OtrlMessageEvent event, ConnContext *context, const char *message,
                         gcry_error_t err) {
    Party *p = opdata;
    (void)context; (void)message; (void)err;
    if (event != OTRL_MSGEVENT_LOG_HEARTBEAT_RCVD && event != OTRL_MSGEVENT_LOG_HEARTBEAT_SENT)
        fprintf(stderr, "gen: %s: message event %d\n", p->name, (int)event);
}

/* ---- parties and the network ------------------------------------------------------------- */

static void party_init(Party *p, const char *name, int pidgin_aborts) {
    memset(p, 0, sizeof *p);
    p->name = name;
    p->pidgin_aborts = pidgin_aborts;
    p->us = otrl_userstate_create();
    if (otrl_privkey_read(p->us, keyfile)) die("cannot read the key file");
    otrl_instag_read(p->us, instagfile);
}

static ConnContext *context_of(Party *p, const char *peer) {
    return otrl_context_find(p->us, peer, p->name, PROTOCOL, OTRL_INSTAG_BEST, 0, NULL, NULL, NULL);
}

static const char *peer_of(Party *p) {
    return p == &parties[0] ? parties[1].name : parties[0].name;
}

static void record_tlvs(Party *to, const char *from, OtrlTLV *tlvs) {
    for (OtrlTLV *t = tlvs; t; t = t->next) {
        if (t->type < OTRL_TLV_SMP1 || t->type > OTRL_TLV_SMP1Q) continue;
        if (to->print_tlvs) {
            printf("tlv %u ", t->type);
            hex_print(stdout, t->data, t->len);
            printf("\n");
        }
        if (to->json) {
            fprintf(to->json, "%s\n        {\"from\": \"%s\", \"tlv_type\": %u, \"value\": \"", json_count ? "," : "",
                    from, t->type);
            hex_print(to->json, t->data, t->len);
            fprintf(to->json, "\"}");
            json_count++;
        }
    }
}

static void deliver(Party *to, const char *from, const char *text) {
    char *newmsg = NULL;
    OtrlTLV *tlvs = NULL;
    otrl_message_receiving(to->us, &ops, to, to->name, PROTOCOL, from, text, &newmsg, &tlvs, NULL, NULL, NULL);
    record_tlvs(to, from, tlvs);
    otrl_tlv_free(tlvs);
    otrl_message_free(newmsg);
}

static int pump_one(void) {
    if (qhead == qtail) return 0;
    Msg m = queue[qhead++];
    if (qhead == qtail) qhead = qtail = 0;
    deliver(m.to, m.from, m.text);
    free(m.text);
    return 1;
}

static void pump(void) {
    while (pump_one()) {}
}

/* Runs the v3 AKE between the two parties and checks both ended ENCRYPTED. */
static void ake(void) {
    deliver(&parties[0], parties[1].name, "?OTRv3?");
    pump();
    for (int i = 0; i < 2; i++) {
        ConnContext *c = context_of(&parties[i], peer_of(&parties[i]));
        if (!c || c->msgstate != OTRL_MSGSTATE_ENCRYPTED) die("AKE did not complete");
        if (c->sessionid_len != 8) die("unexpected ssid length");
    }
}

/* Sends one TLV from `from` to `to` inside a libotr data message (empty text, IGNORE_UNREADABLE,
 * as libotr sends SMP). */
static void send_tlv(Party *from, Party *to, unsigned short type, const unsigned char *data, size_t len) {
    ConnContext *c = context_of(from, to->name);
    OtrlTLV *tlv = otrl_tlv_new(type, (unsigned short)len, data);
    char *msg = NULL;
    if (otrl_proto_create_data(&msg, c, "", tlv, OTRL_MSGFLAGS_IGNORE_UNREADABLE, NULL)) die("create_data failed");
    otrl_tlv_free(tlv);
    deliver(to, from->name, msg);
    free(msg);
}

static const char *trust_of(Party *p) {
    ConnContext *c = context_of(p, peer_of(p));
    const char *t = c && c->active_fingerprint ? c->active_fingerprint->trust : NULL;
    return t && *t ? t : "-";
}

static void remove_keys(void) {
    unlink(keyfile);
    unlink(instagfile);
    rmdir(keydir);
}

static void setup_keys(void) {
    snprintf(keydir, sizeof keydir, "%s", "/tmp/offrec-otr-smp-XXXXXX");
    if (!mkdtemp(keydir)) die("mkdtemp failed");
    snprintf(keyfile, sizeof keyfile, "%s/otr.private_key", keydir);
    snprintf(instagfile, sizeof instagfile, "%s/otr.instance_tags", keydir);
    atexit(remove_keys);
    OtrlUserState us = otrl_userstate_create();
    if (otrl_privkey_generate(us, keyfile, "alice", PROTOCOL)) die("keygen failed");
    if (otrl_privkey_generate(us, keyfile, "bob", PROTOCOL)) die("keygen failed");
    if (otrl_instag_generate(us, instagfile, "alice", PROTOCOL)) die("instag failed");
    if (otrl_instag_generate(us, instagfile, "bob", PROTOCOL)) die("instag failed");
    otrl_userstate_free(us);
}

static void ops_init(void) {
    memset(&ops, 0, sizeof ops);
    ops.policy = cb_policy;
    ops.is_logged_in = cb_is_logged_in;
    ops.inject_message = cb_inject;
    ops.create_instag = cb_create_instag;
    ops.handle_smp_event = cb_smp_event;
    ops.handle_msg_event = cb_msg_event;
}

/* ---- vector mode -------------------------------------------------------------------------- */

static void json_string(FILE *out, const char *s) {
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') fprintf(out, "\\%c", *c);
        else if (*c < 0x20) fprintf(out, "\\u%04x", *c);
        else fputc(*c, out);
    }
    fputc('"', out);
}

static void json_events(FILE *out, Party *p) {
    fputc('[', out);
    for (int i = 0; i < p->nevents; i++) fprintf(out, "%s\"%s\"", i ? ", " : "", p->events[i]);
    fputc(']', out);
}

static void json_mpis(FILE *out, const char *names[], gcry_mpi_t values[], int n) {
    fputc('{', out);
    for (int i = 0; i < n; i++) {
        fprintf(out, "%s\"%s\": \"", i ? ", " : "", names[i]);
        mpi_hex(out, values[i]);
        fputc('"', out);
    }
    fputc('}', out);
}

static void scenario(const char *name, const char *secret_a, const char *secret_b, const char *question, int first) {
    Party *alice, *bob;
    ConnContext *ca, *cb;
    unsigned char fp[20];

    party_init(&parties[0], "alice", 1);
    party_init(&parties[1], "bob", 1);
    alice = &parties[0];
    bob = &parties[1];
    ake();
    ca = context_of(alice, "bob");
    cb = context_of(bob, "alice");

    printf("%s  {\n    \"name\": \"%s\",\n", first ? "" : ",\n", name);
    otrl_privkey_fingerprint_raw(alice->us, fp, "alice", PROTOCOL);
    printf("    \"alice_fingerprint\": \"");
    hex_print(stdout, fp, 20);
    printf("\",\n    \"bob_fingerprint\": \"");
    otrl_privkey_fingerprint_raw(bob->us, fp, "bob", PROTOCOL);
    hex_print(stdout, fp, 20);
    printf("\",\n    \"alice_sees_bob\": \"");
    hex_print(stdout, ca->active_fingerprint->fingerprint, 20);
    printf("\",\n    \"ssid\": \"");
    hex_print(stdout, ca->sessionid, ca->sessionid_len);
    if (memcmp(ca->sessionid, cb->sessionid, 8) != 0) die("ssids differ");
    printf("\",\n    \"alice_secret\": ");
    json_string(stdout, secret_a);
    printf(",\n    \"bob_secret\": ");
    json_string(stdout, secret_b);
    printf(",\n    \"question\": ");
    if (question) json_string(stdout, question); else printf("null");

    /* Every TLV is recorded by its receiver. */
    alice->json = bob->json = stdout;
    json_count = 0;
    printf(",\n    \"messages\": [");

    if (question)
        otrl_message_initiate_smp_q(alice->us, &ops, alice, ca, question, (const unsigned char *)secret_a,
                                    strlen(secret_a));
    else
        otrl_message_initiate_smp(alice->us, &ops, alice, ca, (const unsigned char *)secret_a, strlen(secret_a));
    static char after_smp1[8192];
    {
        FILE *m = fmemopen(after_smp1, sizeof after_smp1, "w");
        const char *names[] = {"secret", "x2", "x3"};
        gcry_mpi_t values[] = {ca->smstate->secret, ca->smstate->x2, ca->smstate->x3};
        json_mpis(m, names, values, 3);
        fclose(m);
    }
    pump(); /* SMP1 reaches Bob */
    if (!bob->asked) die("bob was not asked for the secret");
    otrl_message_respond_smp(bob->us, &ops, bob, cb, (const unsigned char *)secret_b, strlen(secret_b));
    static char after_smp2[8192];
    {
        FILE *m = fmemopen(after_smp2, sizeof after_smp2, "w");
        const char *names[] = {"secret", "x3", "g3o", "g2", "g3", "p", "q"};
        gcry_mpi_t values[] = {cb->smstate->secret, cb->smstate->x3, cb->smstate->g3o, cb->smstate->g2,
                               cb->smstate->g3, cb->smstate->p, cb->smstate->q};
        json_mpis(m, names, values, 7);
        fclose(m);
    }
    pump_one(); /* SMP2 reaches Alice, who queues SMP3 */
    static char after_smp3[8192];
    {
        FILE *m = fmemopen(after_smp3, sizeof after_smp3, "w");
        const char *names[] = {"x3", "g3o", "pab", "qab"};
        gcry_mpi_t values[] = {ca->smstate->x3, ca->smstate->g3o, ca->smstate->pab, ca->smstate->qab};
        json_mpis(m, names, values, 4);
        fclose(m);
    }
    pump();
    printf("\n    ],\n");
    alice->json = bob->json = NULL;

    printf("    \"alice_after_smp1\": %s,\n", after_smp1);
    printf("    \"bob_after_smp2\": %s,\n", after_smp2);
    printf("    \"alice_after_smp3\": %s,\n", after_smp3);
    printf("    \"alice_events\": ");
    json_events(stdout, alice);
    printf(",\n    \"bob_events\": ");
    json_events(stdout, bob);
    printf(",\n    \"bob_question\": ");
    if (bob->has_question) json_string(stdout, bob->question); else printf("null");
    printf(",\n    \"alice_trust\": \"%s\",\n    \"bob_trust\": \"%s\"\n  }", trust_of(alice), trust_of(bob));

    otrl_userstate_free(alice->us);
    otrl_userstate_free(bob->us);
}

static int vectors(void) {
    printf("{\n  \"generator\": \"tests/otr_smp_vectors/gen.c\",\n  \"libotr\": \"%s\",\n", OTRL_VERSION);
    printf("  \"note\": \"libotr against libotr through otrl_message_*; values are hex; *_after_* are libotr's "
           "OtrlSMState MPIs after that message was sent\",\n  \"runs\": [\n");
    scenario("same secret", "correct horse battery staple", "correct horse battery staple", NULL, 1);
    scenario("different secret", "correct horse battery staple", "correct horse battery stapler", NULL, 0);
    scenario("question, right answer", "Kreuzberg", "Kreuzberg", "Wo haben wir uns getroffen? \xc3\xbc", 0);
    scenario("question, wrong answer", "Kreuzberg", "Neukoelln", "Where did we meet?", 0);
    printf("\n  ]\n}\n");
    return 0;
}

/* ---- interactive modes -------------------------------------------------------------------- */

static void flush_party(Party *p) {
    for (int i = 0; i < p->nevents; i++) {
        printf("event %s", p->events[i]);
        if (strcmp(p->events[i], "ASK_FOR_ANSWER") == 0) {
            printf(" ");
            hex_print(stdout, (const unsigned char *)p->question, strlen(p->question));
        }
        printf("\n");
    }
    p->nevents = 0;
    printf("trust %s\ndone\n", trust_of(p));
    fflush(stdout);
}

static int from_hex(const char *hex, unsigned char *out, size_t cap, size_t *len) {
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > cap) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned int b;
        if (sscanf(hex + 2 * i, "%2x", &b) != 1) return -1;
        out[i] = (unsigned char)b;
    }
    *len = n / 2;
    return 0;
}

static int interactive(int libotr_is_alice, const char *secret, const char *question) {
    Party *lib, *caller;
    unsigned char fp[20];
    static char line[200000];
    static unsigned char value[65535];

    party_init(&parties[0], libotr_is_alice ? "alice" : "bob", 1);
    party_init(&parties[1], libotr_is_alice ? "bob" : "alice", 0);
    lib = &parties[0];
    caller = &parties[1];
    caller->print_tlvs = 1;
    ake();

    ConnContext *cl = context_of(lib, caller->name);
    ConnContext *cc = context_of(caller, lib->name);
    printf("ctx ");
    otrl_privkey_fingerprint_raw(caller->us, fp, caller->name, PROTOCOL);
    hex_print(stdout, fp, 20);
    printf(" ");
    hex_print(stdout, cc->active_fingerprint->fingerprint, 20);
    printf(" ");
    hex_print(stdout, cl->sessionid, 8);
    printf("\n");

    if (libotr_is_alice) {
        if (question)
            otrl_message_initiate_smp_q(lib->us, &ops, lib, cl, question, (const unsigned char *)secret,
                                        strlen(secret));
        else
            otrl_message_initiate_smp(lib->us, &ops, lib, cl, (const unsigned char *)secret, strlen(secret));
        pump();
    }
    caller->nevents = 0;
    flush_party(lib);

    while (fgets(line, sizeof line, stdin)) {
        unsigned int type;
        char hex[sizeof line];
        size_t len = 0;
        line[strcspn(line, "\n")] = 0;
        if (strcmp(line, "quit") == 0) break;
        hex[0] = 0;
        if (sscanf(line, "tlv %u %s", &type, hex) < 1) die("bad input line");
        if (from_hex(hex, value, sizeof value, &len)) die("bad hex");
        send_tlv(caller, lib, (unsigned short)type, value, len);
        pump();
        if (!libotr_is_alice && lib->asked) {
            lib->asked = 0;
            otrl_message_respond_smp(lib->us, &ops, lib, cl, (const unsigned char *)secret, strlen(secret));
            pump();
        }
        caller->nevents = 0;
        flush_party(lib);
    }
    otrl_userstate_free(lib->us);
    otrl_userstate_free(caller->us);
    return 0;
}

int main(int argc, char **argv) {
    OTRL_INIT;
    ops_init();
    if (argc < 2) die("usage: gen vectors | gen alice SECRET [QUESTION] | gen bob SECRET");
    setup_keys();
    if (strcmp(argv[1], "vectors") == 0) return vectors();
    if (strcmp(argv[1], "alice") == 0 && argc >= 3) return interactive(1, argv[2], argc >= 4 ? argv[3] : NULL);
    if (strcmp(argv[1], "bob") == 0 && argc >= 3) return interactive(0, argv[2], NULL);
    die("usage: gen vectors | gen alice SECRET [QUESTION] | gen bob SECRET");
    return 2;
}
