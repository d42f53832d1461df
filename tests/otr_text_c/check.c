/* Feeds offrec's OTR text (queries, tags, encoded messages, fragments) to libotr's own parsers
 * and prints what libotr makes of it; tests/otr_text.rs drives it and compares. One command
 * per line on stdin, every text hex-encoded (texts hold tabs and newlines); one answer line per
 * command on stdout (several for F).
 *
 *   Q <hex>                      query: best version for policies V1|V2|V3, V2|V3, V2, V1
 *   W <hex>                      tag: best for V3, V2, V1 alone; start and end offsets or -1
 *   T <hex>                      otrl_proto_message_type and otrl_proto_message_version
 *   B <hex>                      otrl_base64_otr_decode: rc and decoded hex
 *   F <v> <mms> <s> <r> <hex>    otrl_proto_fragment_create (version 2 or 3, tags in hex)
 *   A <instag> <hex>             otrl_proto_fragment_accumulate in the context of that
 *                                instance (0 = master): result and completed hex or "-"
 *   D <policy>                   otrl_proto_default_query_msg("ACCOUNT", policy)
 *
 * Built and run by tests/otr_text.rs: cc check.c -lotr -lgcrypt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gcrypt.h>
#include <libotr/proto.h>
#include <libotr/userstate.h>
#include <libotr/context.h>
#include <libotr/b64.h>

static char *unhex(const char *hex, size_t *outlen)
{
    size_t n = strlen(hex) / 2, i;
    char *out = malloc(n + 1);
    if (!out) exit(2);
    for (i = 0; i < n; i++) {
        unsigned int b;
        if (sscanf(hex + 2 * i, "%2x", &b) != 1) exit(3);
        out[i] = (char)b;
    }
    out[n] = '\0';
    if (outlen) *outlen = n;
    return out;
}

static void puthex(const unsigned char *data, size_t len)
{
    size_t i;
    if (len == 0) {
        fputs("-", stdout);
        return;
    }
    for (i = 0; i < len; i++) printf("%02x", data[i]);
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    OtrlUserState us;

    OTRL_INIT;
    us = otrl_userstate_create();

    while ((got = getline(&line, &cap, stdin)) > 0) {
        char cmd = line[0];
        char *arg = line + 2;
        if (got > 0 && line[got - 1] == '\n') line[got - 1] = '\0';
        if (cmd == 'Q') {
            char *m = unhex(arg, NULL);
            printf("Q %u %u %u %u\n",
                otrl_proto_query_bestversion(m, OTRL_POLICY_ALLOW_V1 | OTRL_POLICY_ALLOW_V2 | OTRL_POLICY_ALLOW_V3),
                otrl_proto_query_bestversion(m, OTRL_POLICY_ALLOW_V2 | OTRL_POLICY_ALLOW_V3),
                otrl_proto_query_bestversion(m, OTRL_POLICY_ALLOW_V2),
                otrl_proto_query_bestversion(m, OTRL_POLICY_ALLOW_V1));
            free(m);
        } else if (cmd == 'W') {
            char *m = unhex(arg, NULL);
            const char *s, *e;
            unsigned int v3, v2, v1;
            v2 = otrl_proto_whitespace_bestversion(m, &s, &e, OTRL_POLICY_ALLOW_V2);
            v1 = otrl_proto_whitespace_bestversion(m, &s, &e, OTRL_POLICY_ALLOW_V1);
            v3 = otrl_proto_whitespace_bestversion(m, &s, &e, OTRL_POLICY_ALLOW_V3);
            printf("W %u %u %u %ld %ld\n", v3, v2, v1, s ? (long)(s - m) : -1L, e ? (long)(e - m) : -1L);
            free(m);
        } else if (cmd == 'T') {
            char *m = unhex(arg, NULL);
            printf("T %d %d\n", (int)otrl_proto_message_type(m), otrl_proto_message_version(m));
            free(m);
        } else if (cmd == 'B') {
            char *m = unhex(arg, NULL);
            unsigned char *buf = NULL;
            size_t len = 0;
            int rc = otrl_base64_otr_decode(m, &buf, &len);
            printf("B %d ", rc);
            puthex(buf, rc == 0 ? len : 0);
            printf("\n");
            free(buf);
            free(m);
        } else if (cmd == 'F') {
            int version, mms, count, i, headerlen, msglen;
            unsigned int sender, receiver;
            char hex[1 << 20];
            char *m, **frags = NULL;
            ConnContext *ctx;
            if (sscanf(arg, "%d %d %x %x %s", &version, &mms, &sender, &receiver, hex) != 5) exit(4);
            m = unhex(hex, NULL);
            ctx = otrl_context_find(us, "peer", "me", "prpl", OTRL_INSTAG_MASTER, 1, NULL, NULL, NULL);
            ctx->protocol_version = version;
            ctx->auth.protocol_version = version;
            ctx->our_instance = sender;
            ctx->their_instance = receiver;
            /* The count libotr's fragment_and_send computes. */
            headerlen = version == 3 ? 37 : 19;
            msglen = strlen(m);
            count = ((msglen - 1) / (mms - headerlen)) + 1;
            if (otrl_proto_fragment_create(mms, count, &frags, ctx, m)) {
                printf("F -1\n");
            } else {
                printf("F %d\n", count);
                for (i = 0; i < count; i++) {
                    printf("f ");
                    puthex((unsigned char *)frags[i], strlen(frags[i]));
                    printf("\n");
                }
                otrl_proto_fragment_free(&frags, count);
            }
            free(m);
        } else if (cmd == 'A') {
            unsigned int instag;
            char hex[1 << 20];
            char *m, *whole = NULL;
            ConnContext *ctx;
            OtrlFragmentResult res;
            if (sscanf(arg, "%x %s", &instag, hex) != 2) exit(5);
            m = unhex(hex, NULL);
            ctx = otrl_context_find(us, "peer", "me", "prpl", instag ? instag : OTRL_INSTAG_MASTER, 1, NULL,
                NULL, NULL);
            res = otrl_proto_fragment_accumulate(&whole, ctx, m);
            printf("A %d ", (int)res);
            puthex((unsigned char *)whole, whole ? strlen(whole) : 0);
            printf("\n");
            free(whole);
            free(m);
        } else if (cmd == 'D') {
            unsigned int policy = (unsigned int)strtoul(arg, NULL, 0);
            char *q = otrl_proto_default_query_msg("ACCOUNT", policy);
            printf("D ");
            puthex((unsigned char *)q, strlen(q));
            printf("\n");
            free(q);
        } else {
            exit(6);
        }
        fflush(stdout);
    }
    free(line);
    otrl_userstate_free(us);
    return 0;
}
