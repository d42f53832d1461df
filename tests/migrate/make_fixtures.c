/* Writes the frozen libotr files under tests/migrate/fixtures/ that the Rust tests of
 * src/migrate read (a key file with two accounts, a fingerprints file with every trust string
 * seen in the wild, an instance-tags file), and prints the fingerprints libotr computes for
 * the keys. Run by hand only (the files are committed):
 *
 *   cc tests/migrate/make_fixtures.c -o /tmp/make_fixtures -lotr -lgcrypt
 *   (cd tests/migrate/fixtures && /tmp/make_fixtures)
 */
#include <stdio.h>
#include <string.h>

#include <gcrypt.h>
#include <libotr/context.h>
#include <libotr/instag.h>
#include <libotr/privkey.h>
#include <libotr/proto.h>
#include <libotr/userstate.h>

static void add(OtrlUserState us, const char *user, const char *account, const char *protocol, unsigned char fill,
                const char *trust) {
    unsigned char fp[20];
    memset(fp, fill, sizeof fp);
    fp[0] = 0xA0;
    fp[19] = fill ^ 0x5A;
    ConnContext *context = otrl_context_find(us, user, account, protocol, OTRL_INSTAG_MASTER, 1, NULL, NULL, NULL);
    Fingerprint *f = otrl_context_find_fingerprint(context, fp, 1, NULL);
    otrl_context_set_trust(f, trust);
}

int main(void) {
    OTRL_INIT;
    OtrlUserState us = otrl_userstate_create();
    if (otrl_privkey_generate(us, "otr.private_key", "bob", "IRC") ||
        otrl_privkey_generate(us, "otr.private_key", "alice@example.org", "prpl-jabber"))
        return 1;
    char human[45];
    printf("bob/IRC %s\n", otrl_privkey_fingerprint(us, human, "bob", "IRC"));
    printf("alice/prpl-jabber %s\n", otrl_privkey_fingerprint(us, human, "alice@example.org", "prpl-jabber"));

    add(us, "carol@example.org", "alice@example.org", "prpl-jabber", 0x11, "");
    add(us, "dave@example.org", "alice@example.org", "prpl-jabber", 0x22, "smp");
    add(us, "erin@example.org", "alice@example.org", "prpl-jabber", 0x33, "verified");
    add(us, "frank@example.org", "alice@example.org", "prpl-jabber", 0x44, "manual");
    add(us, "frank@example.org", "alice@example.org", "prpl-jabber", 0x55, NULL);
    add(us, "zed", "bob", "IRC", 0x66, "smp");
    if (otrl_privkey_write_fingerprints(us, "otr.fingerprints")) return 1;

    if (otrl_instag_generate(us, "otr.instance_tags", "alice@example.org", "prpl-jabber") ||
        otrl_instag_generate(us, "otr.instance_tags", "bob", "IRC"))
        return 1;
    otrl_userstate_free(us);
    return 0;
}
