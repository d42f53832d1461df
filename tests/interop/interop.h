/*
 * The one-process OTR interop harness (tests/interop/README.md): offrec clients through the C
 * API and libotr 4.1.1 parties in one program, a fake clock both of them read, an in-memory
 * network with fault hooks and a wire tap, and the checks every scenario must pass.
 *
 * Files: clock.c (fake time), parties.c (libotr and offrec parties, key cache), network.c
 * (FIFOs, hooks, tap), asserts.c (checks run after every scenario), sc_*.c (scenarios by
 * group), main.c (runner).
 */
#ifndef OFFREC_INTEROP_H
#define OFFREC_INTEROP_H

#include "offrec.h"

/* libotr's headers depend on each other in this order. */
#include <gcrypt.h>
#include <libotr/proto.h>
#include <libotr/context.h>
#include <libotr/context_priv.h>
#include <libotr/instag.h>
#include <libotr/message.h>
#include <libotr/privkey.h>
#include <libotr/sm.h>
#include <libotr/tlv.h>
#include <libotr/userstate.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* ---- checks (main.c) ------------------------------------------------------------------- */

/* Records a failed check of the running scenario and prints where. */
void check_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prints a note about what a library did (always shown at the end of the run: these are
 * the facts the OTR implementation must match). */
void observe(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints only with -v. */
void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int verbose;

#define CHECK(cond)                                                   \
    do {                                                              \
        if (!(cond)) check_fail(__FILE__, __LINE__, "%s", #cond);     \
    } while (0)
#define CHECKF(cond, ...)                                             \
    do {                                                              \
        if (!(cond)) check_fail(__FILE__, __LINE__, __VA_ARGS__);     \
    } while (0)
/* A precondition: on failure the scenario function returns at once (void functions only). */
#define REQUIRE(cond)                                                 \
    do {                                                              \
        if (!(cond)) {                                                \
            check_fail(__FILE__, __LINE__, "required: %s", #cond);    \
            return;                                                   \
        }                                                             \
    } while (0)

/* ---- the scenario table (main.c, sc_*.c) ----------------------------------------------- */

struct scenario {
    const char *id;
    const char *title;
    void (*run)(void); /* NULL: waits for the OTR API (OFFREC_POLICY_ALLOW_OTR_V3) */
};

/* A scenario that needs offrec's OTR API: compiled and run only once offrec.h defines
 * OFFREC_POLICY_ALLOW_OTR_V3; listed as waiting before that. */
#ifdef OFFREC_POLICY_ALLOW_OTR_V3
#define HAVE_OFFREC_OTR 1
#define OTR_SCENARIO(id, title, fn) {id, title, fn}
#else
#define HAVE_OFFREC_OTR 0
#define OTR_SCENARIO(id, title, fn) {id, title, NULL}
#endif

extern const struct scenario selftest_scenarios[];
extern const struct scenario negotiation_scenarios[];
extern const struct scenario data_scenarios[];
extern const struct scenario fragment_scenarios[];
extern const struct scenario smp_scenarios[];
extern const struct scenario misc_scenarios[];
extern const struct scenario robust_scenarios[];
extern const struct scenario migrate_scenarios[];
/* S6 (sc_smp_hostile.c): only in the hooks harness (-DOFFREC_TEST_HOOKS), empty otherwise. */
extern const struct scenario smp_hostile_scenarios[];
extern const struct scenario ui_scenarios[];
/* Each table ends with an entry whose id is NULL. */

/* ---- the fake clock (clock.c) ---------------------------------------------------------- */

/* libotr calls time(); the harness defines time() so libotr.so sees this clock, and offrec's
 * `now` callback returns it too. */
/* A plausible epoch second (2023-11-14) so nothing treats the clock as unset. */
#define CLOCK_START ((time_t)1700000000)
time_t clock_now(void);
void clock_reset(void);
/* Moves the clock forward second by second, running libotr's poll timer and offrec's tick and
 * pumping the network after each second. */
void clock_advance(long seconds);

/* ---- parties (parties.c) --------------------------------------------------------------- */

#define OTR_PROTO "prpl-jabber"   /* libotr's protocol name for every libotr party */
#define OFFREC_NETWORK "xmpp"     /* offrec's network name for every offrec party */
#define MAX_PARTIES 8
#define NAME_LEN 32

enum party_kind { PARTY_LIBOTR, PARTY_OFFREC };

/* Where a recorded event came from. */
enum ev_src {
    EV_OFFREC,       /* offrec `event` callback: code = offrec_event_code */
    EV_OFFREC_STATE, /* offrec `state_changed`: code = offrec_session_state */
    EV_OTR_MSG,      /* libotr handle_msg_event: code = OtrlMessageEvent */
    EV_OTR_SMP,      /* libotr handle_smp_event: code = OtrlSMPEvent */
    EV_OTR_OP,       /* other libotr callbacks: code = enum otr_op */
    EV_OTR_TLV,      /* a TLV libotr handed back with a received message: code = TLV type */
};

enum otr_op {
    OP_GONE_SECURE,
    OP_GONE_INSECURE,
    OP_STILL_SECURE,
    OP_NEW_FINGERPRINT,
    OP_RECEIVED_SYMKEY,
    OP_TIMER_CONTROL, /* usage = interval */
    OP_CREATE_PRIVKEY,
    OP_CREATE_INSTAG,
    OP_ERROR_TEXT, /* otr_error_message asked: usage = OtrlErrorCode */
};

struct evrec {
    enum ev_src src;
    int code;
    uint32_t instance;  /* remote instance (libotr: context->their_instance) */
    time_t at;
    char *text;         /* event text / SMP question / libotr message (NUL-terminated), or NULL */
    size_t text_len;
    uint32_t usage;     /* extra key use; timer interval; error code; SMP progress */
    uint8_t *data;      /* extra key context bytes */
    size_t data_len;
    uint8_t key[32];    /* extra key, or a new fingerprint (20 bytes for libotr) */
    bool has_key;
};

struct delivery {
    char *text; /* NUL-terminated copy (may contain NUL for offrec) */
    size_t len;
    bool encrypted;
    uint32_t instance;
    int from; /* party id, -1 if the sender is not a party (injected) */
    time_t at;
};

/* What a scenario says a party must be shown (global assert: byte-exact, exactly once). */
enum sec_want { SEC_ANY, SEC_PLAIN, SEC_ENCRYPTED };
struct expectation {
    char *text;
    size_t len;
    enum sec_want security;
};

struct party {
    enum party_kind kind;
    int id;
    char label[NAME_LEN];   /* for logs: "alice", "bob#2" */
    char account[NAME_LEN]; /* the name others address it by */
    char peer[NAME_LEN];    /* the name it talks to by default */
    int mms;                /* max_message_size answer (0 = unlimited) */

    /* libotr */
    OtrlUserState us;
    OtrlPolicy otr_policy;
    char keyslot[NAME_LEN]; /* which cached DSA key (same slot = same key) */
    int logged_in;          /* is_logged_in answer */
    unsigned timer_interval;
    time_t next_poll;
    ConnContext *smp_ctx;   /* context of the last ASK_FOR_SECRET/ANSWER */
    bool smp_pending;       /* asked and not answered yet */
    const char *smp_auto_secret; /* answer SMP requests with this right after the message */

    /* offrec */
    offrec_client *client;
    uint32_t or_policy;
    uint32_t last_rc; /* result of the last offrec call made through the helpers */
    /* (smp_pending / smp_auto_secret above also serve offrec: SMP_ASKED_FOR_SECRET) */

    /* records */
    struct delivery *del;
    size_t ndel, capdel;
    struct evrec *ev;
    size_t nev, capev;
    struct expectation *exp;
    size_t nexp, capexp;
    /* scenario allowances for the global asserts */
    uint64_t allowed_otr_msg_events; /* bit per OtrlMessageEvent that is not a failure here */
    bool allow_offrec_malformed;
    bool allow_error_burst;
};

extern struct party *parties[MAX_PARTIES];
extern int nparties;

/* Creates a libotr party with the cached DSA key `keyslot` (NULL = its account) and a fresh
 * instance tag. Two parties with one account and different tags are two logins of it. */
struct party *party_libotr(const char *label, const char *account, const char *peer,
                           OtrlPolicy policy, const char *keyslot);
/* Creates an offrec client for `account` on OFFREC_NETWORK with `policy`. The first client of a
 * (label, account) is made with its OTR DSA key and saved; later ones load that store (same
 * identity, DSA key and instance tag, nothing else): two parties of one account need two labels. */
struct party *party_offrec(const char *label, const char *account, const char *peer,
                           uint32_t policy);
/* A libotr restart: a new userstate with the same DSA key and instance tag (contexts, and so
 * sessions, are gone: libotr does not persist them). */
void party_libotr_restart(struct party *p);
/* Frees every party and its records (between scenarios). */
void parties_reset(void);
/* Removes the DSA key cache and frees the offrec store cache (end of the run). */
void keys_cleanup(void);

/* Sends user text as the application would (libotr: otrl_message_sending with
 * FRAGMENT_SEND_ALL, sending the text itself when libotr leaves it alone; offrec:
 * offrec_client_send). Returns 0 or the library's error. */
long party_send(struct party *p, const char *text);
/* Sends to one remote instance (libotr: instag; offrec: offrec_client_send_to_instance). */
long party_send_to(struct party *p, uint32_t instance, const char *text);
/* Hands a transport message to a party (the network calls this). */
void party_receive(struct party *p, int from_id, const char *from_account, const char *text);
/* The party's own instance tag. */
uint32_t party_instag(const struct party *p);
/* Whether p has an encrypted session with q's instance (libotr: ENCRYPTED context; offrec:
 * session state 1 or 2). */
bool party_encrypted_with(struct party *p, struct party *q);
struct party *party_by_id(int id);

/* Records: how many events of (src, code); the last one (NULL if none). */
size_t ev_count(const struct party *p, enum ev_src src, int code);
const struct evrec *ev_last(const struct party *p, enum ev_src src, int code);
/* Deliveries: how many; whether one equals text exactly. */
size_t delivered_count(const struct party *p);
bool delivered(const struct party *p, const char *text, size_t len);
const struct delivery *last_delivery(const struct party *p);
/* Declares that `to` must be shown text exactly once (checked after the scenario). */
void expect_delivery(struct party *to, const char *text, size_t len, enum sec_want security);
/* Sends text from `from` and expects it at every party named from->peer (encrypted if the
 * sender has an encrypted session). Pumps the network. */
void chat(struct party *from, const char *text);
void chat_n(struct party *from, const char *text, size_t len);
/* Allows one libotr message event that is otherwise a global failure. */
void allow_otr_event(struct party *p, OtrlMessageEvent ev);

/* libotr helpers */
ConnContext *otr_ctx(struct party *p, struct party *q);  /* context for q's instance */
ConnContext *otr_master(struct party *p);               /* master context for p->peer */
void otr_query(struct party *p);                         /* sends "?OTR?" (libotr's query) */
void otr_disconnect(struct party *p, struct party *q);
void otr_smp_start(struct party *p, struct party *q, const char *question, const char *secret);
void otr_smp_respond(struct party *p, const char *secret);
void otr_smp_abort(struct party *p, struct party *q);   /* otrl_message_abort_smp (TLV 6) */
/* How many of libotr p's contexts for q's account are ENCRYPTED (master and children). */
size_t otr_encrypted_contexts(struct party *p, struct party *q);
gcry_error_t otr_symkey(struct party *p, struct party *q, unsigned use, const uint8_t *data,
                        size_t len, uint8_t key[32]);
void otr_fingerprint(struct party *p, uint8_t out[20]); /* our own DSA fingerprint */
void otr_poll(struct party *p);                          /* otrl_message_poll */
const char *otr_trust(struct party *p, struct party *q); /* trust of q's active fp, or NULL */
/* otrl_message_sending with `tlvs` (libotr injects the result; the caller frees `tlvs`). */
long otr_send_tlvs(struct party *p, const char *text, OtrlTLV *tlvs);
/* Hands `text` from `from` to libotr party p as the network does, and looks up TLV `type` in
 * what otrl_message_receiving handed back with otrl_tlv_find: true and its value (malloc'd,
 * *value; free it) if there. */
bool otr_receive_find_tlv(struct party *p, struct party *from, const char *text,
                          unsigned short type, uint8_t **value, size_t *len);

/* offrec helpers */
bool or_session_info(struct party *p, struct party *q, struct offrec_session_info *out);
offrec_result or_start(struct party *p);
/* An offrec restart: the client is saved, freed and loaded again (identity, OTR DSA key,
 * instance tag and trust come back; OTR sessions are never stored, so they are gone). */
void party_offrec_restart(struct party *p);

#if HAVE_OFFREC_OTR
/* Protocol numbers of offrec_session_protocol. */
#define OR_PROTO_MODERN 1
#define OR_PROTO_OTR_V3 2
#define OR_PROTO_OTR_V2 3
#define OR_STRENGTH_STRONG 1
#define OR_STRENGTH_LEGACY 2
/* The offrec policy of the OTR scenarios: the protocol and both OTR versions, without the
 * downgrade guard (its probe TLV is scenario N11's business, not every scenario's). */
#define OR_POLICY_OTR (OFFREC_POLICY_ALLOW | OFFREC_POLICY_ALLOW_OTR_V3 | OFFREC_POLICY_ALLOW_OTR_V2)
/* offrec's OTR view of its session with q's instance (v2 sessions: the first OTR v2 one). */
bool or_protocol(struct party *p, struct party *q, struct offrec_session_protocol *out);
/* An offrec party "alice" (OR_POLICY_OTR | extra) and a libotr party "bob" (policy). */
void otr_pair(struct party **o, struct party **l, uint32_t or_extra, OtrlPolicy policy, int mms);
/* The AKE started by offrec's query / by libotr's query; true when both ends are encrypted. */
bool ake_offrec_asks(struct party *o, struct party *l);
bool ake_libotr_asks(struct party *l, struct party *o);
#endif

/* ---- the network (network.c) ----------------------------------------------------------- */

enum rule_action {
    RULE_DROP,      /* the message never arrives */
    RULE_DUPLICATE, /* it arrives twice */
    RULE_REORDER,   /* it arrives right after the next message on the same link (held until
                     * then, or until net_release_held) */
    RULE_DELAY,     /* it arrives `delay` seconds later (later messages overtake it) */
    RULE_REWRITE,   /* `rewrite` replaces the text (a MITM); NULL from it drops */
    RULE_SPLIT,     /* the transport cuts it into pieces of `split_at` bytes */
};

struct net_rule {
    enum rule_action action;
    unsigned nth;      /* only the nth message entering the link (1-based); 0 = every one */
    const char *match; /* only messages containing this (NULL = any) */
    unsigned times;    /* at most this many times (0 = no limit) */
    long delay;
    char *(*rewrite)(const char *text, void *arg); /* returns a malloc'd text */
    void *arg;
    size_t split_at;
    unsigned applied; /* bookkeeping */
};

/* A wire message as the log keeps it. */
struct wire_rec {
    int from, to; /* party ids; from -1 = injected by the scenario */
    time_t at;
    char *text;
};

/* Helpers that send (chat, otr_query, or_start, ...) pump the network afterwards while this is
 * true (the default; reset before every scenario). Scenarios that interleave by hand set it
 * false and call net_pump themselves. */
extern bool net_autopump;
void net_settle(void);
void net_reset(void);
/* Sends `text` from party `from` to every party whose account is `to_account`. */
void net_send(struct party *from, const char *to_account, const char *text);
/* Puts a message on the from->to link as if `from` had sent it (scenario-made traffic). */
void net_inject(struct party *from, struct party *to, const char *text);
/* Delivers until nothing is deliverable now. Returns the number delivered. */
size_t net_pump(void);
/* Delivers at most `max` messages (stepping through an exchange). */
size_t net_pump_n(size_t max);
/* Lets messages held back by RULE_REORDER go (and pumps). */
void net_release_held(void);
/* While true, wire-tap findings are observations instead of failures (for scenarios that
 * record a known libotr defect). */
extern bool net_tap_lenient;
/* Adds a fault rule to the from->to link. */
void net_rule_add(struct party *from, struct party *to, struct net_rule rule);
/* A RULE_REWRITE that flips the middle character (a MITM damaging a message; `arg` unused). */
char *rewrite_flip_middle(const char *text, void *arg);
/* Messages kept off the wire by a RULE_REWRITE with `rewrite_capture` and `arg` = the capture:
 * while `on`, each text entering the link is kept here (in order) and dropped; otherwise it
 * passes. Scenarios then hand the texts on in any order, damaged or not (net_inject, or
 * party_receive directly). Free with net_capture_free. */
#define CAPTURE_MAX 256
struct net_capture {
    bool on;
    size_t n;
    char *texts[CAPTURE_MAX];
};
char *rewrite_capture(const char *text, void *arg);
/* Takes the oldest captured text (malloc'd; NULL if none). */
char *net_capture_take(struct net_capture *c);
void net_capture_free(struct net_capture *c);
/* The wire log: every text that entered the network, in order. */
size_t net_log_count(void);
const struct wire_rec *net_log(size_t i);
/* The last text from -> to (NULL if none), and how many went from -> to. */
const char *net_last(const struct party *from, const struct party *to);
size_t net_count(const struct party *from, const struct party *to);
/* Counts messages from -> to that contain `needle`. */
size_t net_count_containing(const struct party *from, const struct party *to, const char *needle);
/* Violations the wire tap found (checked globally) and messages over the sender's mms. */
size_t net_tap_violations(void);
void net_dump_tail(size_t n);
/* Largest text length sent by `from` of OTR encoded/fragment kind. */
size_t net_max_otr_len(const struct party *from);

/* ---- reading wire messages (wire.c) --------------------------------------------------- */

/* Message types in the header. */
#define OTR_TYPE_COMMIT 0x02
#define OTR_TYPE_DATA 0x03
#define OTR_TYPE_DHKEY 0x0a
#define OTR_TYPE_REVEALSIG 0x11
#define OTR_TYPE_SIGNATURE 0x12

struct otr_header {
    unsigned version; /* 2 or 3 */
    unsigned type;
    uint32_t sender, receiver; /* v3 only */
};
#define OTR_MAX_REVEALED 32
struct otr_data {
    unsigned flags;
    uint32_t sender_keyid, recipient_keyid;
    uint8_t ctr[8];
    size_t ct_len;   /* bytes of ciphertext (= plaintext body: AES-CTR) */
    size_t mac_span; /* the MAC covers the decoded bytes [0, mac_span) */
    uint8_t mac[20];
    size_t nrevealed; /* old MAC keys revealed by this message */
    uint8_t revealed[OTR_MAX_REVEALED * 20];
};
/* Decode a whole `?OTR:...` message (not a fragment); false if it is not one. */
bool otr_wire_header(const char *text, struct otr_header *out);
/* The binary message inside `?OTR:...` (malloc'd), and back (malloc'd `?OTR:...`), with
 * libotr's own base64 code. */
bool otr_wire_decode(const char *text, unsigned char **buf, size_t *len);
char *otr_wire_encode(const unsigned char *buf, size_t len);
/* The committed hash of g^x in a D-H Commit (what decides crossed commits). */
bool otr_wire_commit_hash(const char *text, uint8_t out[32]);
bool otr_wire_data(const char *text, struct otr_data *out);
uint64_t otr_ctr_value(const struct otr_data *d);
/* Whether HMAC-SHA1 with mac_key verifies this data message's MAC. */
bool otr_wire_mac_verifies(const char *text, const uint8_t mac_key[20]);
/* Checks that every MAC key x revealed to y (in the wire log) verifies one of y's earlier data
 * messages to x (OTR's deniability); returns how many did. */
size_t otr_check_reveals(const struct party *x, const struct party *y);

/* ---- building blocks shared by scenario groups (sc_data.c) ----------------------------- */

/* D1's texts both ways: 1, 100, 1 000, 10 000 B, multibyte UTF-8, HTML characters. */
void chat_text_set(struct party *a, struct party *b);
/* `rounds` alternating messages (mms 0): each uses a fresh key pair (counter 1) and the key
 * ids libotr's context says (checked on whichever end is libotr, before it reads). */
void check_alternating(struct party *a, struct party *b, int rounds);
/* `n` messages one way: one key pair, counters 1..n, no rotation until the reply, after
 * which the counter starts at 1 again. */
void check_burst(struct party *from, struct party *to, int n);

/* ---- global asserts (asserts.c); the wire tap fails scenarios by itself (network.c) ---- */

void assert_deliveries(void);
void assert_no_bad_events(void);
void assert_no_error_loops(void);
void assert_msgstates_agree(void);
void assert_fingerprints_match(void);
void assert_ssids_match(void);
/* All of the above, run by the runner after every scenario. */
void assert_global(void);

/* Building blocks scenarios use. */
void assert_libotr_pair_secure(struct party *a, struct party *b, unsigned version);

#endif
