/*
 * chat: a terminal chat between two people over one TCP connection, encrypted with offrec.
 *
 *   chat listen PORT NAME            wait for the other side
 *   chat connect HOST PORT NAME      connect to it
 *
 * The first line each side sends is "NAME <name>"; after that every line on the socket is one
 * offrec wire message. Type a line to send it. Commands:
 *   /start                 start an encrypted session      /end     end it
 *   /fp                    show both fingerprints and the session id
 *   /smp SECRET [QUESTION] verify the peer with a shared secret (SMP)
 *   /answer SECRET         answer the peer's SMP question
 *   /trust                 mark the peer's current fingerprint as verified by hand
 *   /quit                  leave
 * The prompt shows the session state. Single-threaded: poll() on stdin and the socket.
 */
#define _POSIX_C_SOURCE 200809L
#include "offrec.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

enum { LINE_MAX_LEN = 256 * 1024 };

static int sock = -1;
static char peer[256];
static offrec_client *client;

static const char *state_name(offrec_session_state s) {
    switch (s) {
    case OFFREC_SESSION_STATE_PLAINTEXT: return "plaintext";
    case OFFREC_SESSION_STATE_ENCRYPTED_UNVERIFIED: return "encrypted, unverified";
    case OFFREC_SESSION_STATE_ENCRYPTED_VERIFIED: return "encrypted, verified";
    case OFFREC_SESSION_STATE_FINISHED: return "finished: /end or /start";
    default: return "?";
    }
}

static void write_all(const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(sock, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            perror("chat: write");
            exit(1);
        }
        p += w;
        n -= (size_t)w;
    }
}

static void prompt(void) {
    offrec_session_state s = OFFREC_SESSION_STATE_PLAINTEXT;
    if (peer[0] != '\0') {
        offrec_client_session_state(client, peer, strlen(peer), &s);
    }
    printf("[%s] > ", state_name(s));
    fflush(stdout);
}

static void on_send(void *ud, const char *to, size_t to_len, const char *text, size_t len) {
    (void)ud;
    (void)to;
    (void)to_len;
    write_all(text, len);
    write_all("\n", 1);
}

static void on_deliver(void *ud, const char *from, size_t from_len, uint32_t instance,
                       const uint8_t *text, size_t len, offrec_security security) {
    (void)ud;
    (void)instance;
    printf("\n<%.*s> %.*s   (%s)\n", (int)from_len, from, (int)len, (const char *)text,
           security == OFFREC_SECURITY_PLAINTEXT            ? "plaintext"
           : security == OFFREC_SECURITY_ENCRYPTED_VERIFIED ? "encrypted, verified"
                                                            : "encrypted, unverified");
}

static void on_state(void *ud, const char *from, size_t from_len, uint32_t instance,
                     offrec_session_state state) {
    (void)ud;
    (void)instance;
    printf("\n* session with %.*s is now %s\n", (int)from_len, from, state_name(state));
}

static void print_fp(const char *label, const uint8_t *fp) {
    char text[OFFREC_FINGERPRINT_TEXT_SIZE];
    size_t len;
    if (offrec_fingerprint_format(fp, text, sizeof text, &len) == OFFREC_RESULT_OK) {
        printf("%s %s\n", label, text);
    }
}

static void on_event(void *ud, const offrec_event *e) {
    (void)ud;
    switch (e->code) {
    case OFFREC_EVENT_CODE_NEW_FINGERPRINT:
        printf("\n* new key for %s:\n", e->peer);
        print_fp("  ", e->fingerprint);
        printf("  compare it with them (/fp), then /trust or /smp\n");
        break;
    case OFFREC_EVENT_CODE_FINGERPRINT_CHANGED:
        printf("\n* WARNING: %s uses a different key now%s\n", e->peer,
               e->old_was_verified ? " (the old one was verified!)" : "");
        print_fp("  new:", e->fingerprint);
        break;
    case OFFREC_EVENT_CODE_SMP_ASKED_FOR_SECRET:
        printf("\n* %s wants to verify you%s%s%s; reply with /answer SECRET\n", e->peer,
               e->text ? ", asking: \"" : "", e->text ? e->text : "", e->text ? "\"" : "");
        break;
    case OFFREC_EVENT_CODE_SMP_SUCCEEDED: printf("\n* SMP succeeded: %s is verified\n", e->peer); break;
    case OFFREC_EVENT_CODE_SMP_VERIFIED_BY_PEER:
        printf("\n* you answered %s's question: %s has verified you; %s is NOT verified by this\n"
               "  (they chose the question): ask your own with /smp SECRET QUESTION\n",
               e->peer, e->peer, e->peer);
        break;
    case OFFREC_EVENT_CODE_KEY_CONSENT_REQUIRED:
        printf("\n* %s's session with a NEW, unverified key is not used for your messages%s\n"
               "  (an earlier key was verified): verify it (/fp, /trust or /smp)\n",
               e->peer, e->message_id != 0 ? "; your message is held" : "");
        print_fp("  new:", e->fingerprint);
        break;
    case OFFREC_EVENT_CODE_SMP_FAILED: printf("\n* SMP failed: the secrets differ\n"); break;
    case OFFREC_EVENT_CODE_SMP_ABORTED: printf("\n* SMP aborted\n"); break;
    case OFFREC_EVENT_CODE_SMP_CHEATED: printf("\n* SMP: someone cheated!\n"); break;
    case OFFREC_EVENT_CODE_PEER_ENDED_SESSION: printf("\n* %s ended the private session\n", e->peer); break;
    case OFFREC_EVENT_CODE_MESSAGE_NOT_SENT: printf("\n* message %llu not sent\n", (unsigned long long)e->message_id); break;
    case OFFREC_EVENT_CODE_UNREADABLE: printf("\n* an encrypted message could not be read\n"); break;
    case OFFREC_EVENT_CODE_PEER_ERROR: printf("\n* peer error: %s\n", e->text ? e->text : ""); break;
    default: break;
    }
}

static void show_fingerprints(void) {
    uint8_t fp[32];
    offrec_session_info info;
    char ssid[OFFREC_SSID_TEXT_SIZE];
    size_t len;
    if (offrec_client_fingerprint(client, fp) == OFFREC_RESULT_OK) {
        print_fp("yours:  ", fp);
    }
    if (offrec_client_session_info(client, peer, strlen(peer), 0, &info) == OFFREC_RESULT_OK) {
        print_fp("theirs: ", info.their_fingerprint);
        if (offrec_ssid_format(info.ssid, ssid, sizeof ssid, &len) == OFFREC_RESULT_OK) {
            printf("session id: %s\n", ssid);
        }
    } else {
        printf("no encrypted session: /start one\n");
    }
}

static void report(const char *what, offrec_result rc) {
    if (rc != OFFREC_RESULT_OK) {
        printf("%s: %s\n", what, offrec_result_message(rc));
    }
}

/* Returns 0 on /quit. */
static int handle_input(char *line) {
    size_t n = strlen(line);
    uint64_t id;
    if (strcmp(line, "/quit") == 0) {
        return 0;
    } else if (strcmp(line, "/start") == 0) {
        report("start", offrec_client_start_session(client, peer, strlen(peer)));
    } else if (strcmp(line, "/end") == 0) {
        report("end", offrec_client_end_session(client, peer, strlen(peer), 0));
    } else if (strcmp(line, "/fp") == 0) {
        show_fingerprints();
    } else if (strncmp(line, "/smp ", 5) == 0) {
        char *secret = line + 5, *question = strchr(secret, ' ');
        if (question != NULL) {
            *question++ = '\0';
        }
        report("smp", offrec_client_smp_start(client, peer, strlen(peer), 0, (const uint8_t *)secret,
                                              strlen(secret), question,
                                              question ? strlen(question) : 0));
    } else if (strncmp(line, "/answer ", 8) == 0) {
        report("answer", offrec_client_smp_respond(client, peer, strlen(peer), 0,
                                                   (const uint8_t *)line + 8, strlen(line + 8)));
    } else if (strcmp(line, "/trust") == 0) {
        offrec_session_info info;
        offrec_result rc = offrec_client_session_info(client, peer, strlen(peer), 0, &info);
        if (rc == OFFREC_RESULT_OK) {
            rc = offrec_client_set_trust(client, peer, strlen(peer), info.their_fingerprint,
                                         OFFREC_TRUST_VERIFIED_MANUAL);
        }
        report("trust", rc);
    } else if (line[0] == '/') {
        printf("commands: /start /end /fp /smp SECRET [QUESTION] /answer SECRET /trust /quit\n");
    } else if (n > 0) {
        report("send", offrec_client_send(client, peer, strlen(peer), line, n, &id));
    }
    return 1;
}

static int open_socket(int argc, char **argv) {
    struct addrinfo hints, *res, *ai;
    int fd = -1, one = 1;
    const char *host = strcmp(argv[1], "listen") == 0 ? NULL : argv[2];
    const char *port = host ? argv[3] : argv[2];
    (void)argc;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = host ? 0 : AI_PASSIVE;
    if (getaddrinfo(host ? host : "127.0.0.1", port, &hints, &res) != 0) {
        fprintf(stderr, "chat: cannot resolve address\n");
        return -1;
    }
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        if (host != NULL) {
            if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
                close(fd);
                fd = -1;
            }
        } else {
            int lfd = fd;
            setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (bind(lfd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(lfd, 1) != 0) {
                close(lfd);
                fd = -1;
                continue;
            }
            printf("waiting on port %s...\n", port);
            fflush(stdout);
            fd = accept(lfd, NULL, NULL);
            close(lfd);
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        perror("chat: connection");
    }
    return fd;
}

int main(int argc, char **argv) {
    offrec_callbacks cb;
    const char *name;
    char *net = NULL, *in = NULL;
    size_t net_len = 0;
    int stdin_open = 1, running = 1;
    offrec_result rc;

    if (!((argc == 4 && strcmp(argv[1], "listen") == 0) ||
          (argc == 5 && strcmp(argv[1], "connect") == 0))) {
        fprintf(stderr, "usage: chat listen PORT NAME | chat connect HOST PORT NAME\n");
        return 2;
    }
    name = argv[argc - 1];
    memset(&cb, 0, sizeof cb);
    cb.send = on_send;
    cb.deliver = on_deliver;
    cb.state_changed = on_state;
    cb.event = on_event;
    rc = offrec_client_new(name, strlen(name), "tcp-chat", 8, OFFREC_POLICY_MANUAL, &cb, NULL, &client);
    if (rc != OFFREC_RESULT_OK) {
        fprintf(stderr, "chat: %s\n", offrec_result_message(rc));
        return 1;
    }
    sock = open_socket(argc, argv);
    net = malloc(LINE_MAX_LEN);
    in = malloc(LINE_MAX_LEN);
    if (sock < 0 || net == NULL || in == NULL) {
        offrec_client_free(client);
        free(net);
        free(in);
        return 1;
    }
    write_all("NAME ", 5);
    write_all(name, strlen(name));
    write_all("\n", 1);
    printf("offrec %s chat as %s; type /start to go private\n", offrec_version(), name);

    while (running) {
        struct pollfd fds[2];
        int ready;
        fds[0].fd = sock;
        fds[0].events = POLLIN;
        fds[1].fd = stdin_open ? 0 : -1;
        fds[1].events = POLLIN;
        ready = poll(fds, 2, 1000);
        if (ready < 0 && errno != EINTR) {
            perror("chat: poll");
            break;
        }
        if (ready == 0) {
            report("tick", offrec_client_tick(client));
            continue;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(sock, net + net_len, LINE_MAX_LEN - net_len);
            char *nl;
            if (r <= 0) {
                printf("\n* connection closed\n");
                break;
            }
            net_len += (size_t)r;
            while ((nl = memchr(net, '\n', net_len)) != NULL) {
                size_t len = (size_t)(nl - net);
                if (peer[0] == '\0') {
                    if (len > 5 && len - 5 < sizeof peer && memcmp(net, "NAME ", 5) == 0) {
                        memcpy(peer, net + 5, len - 5);
                        peer[len - 5] = '\0';
                        printf("* talking to %s\n", peer);
                    }
                } else {
                    report("receive", offrec_client_receive(client, peer, strlen(peer), net, len));
                }
                memmove(net, nl + 1, net_len - len - 1);
                net_len -= len + 1;
            }
            if (net_len == LINE_MAX_LEN) {
                net_len = 0; /* an overlong line: drop it */
            }
            prompt();
        }
        if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP))) {
            if (fgets(in, LINE_MAX_LEN, stdin) == NULL) {
                stdin_open = 0; /* keep listening to the peer */
                continue;
            }
            in[strcspn(in, "\r\n")] = '\0';
            if (peer[0] == '\0') {
                printf("not connected to anyone yet\n");
            } else {
                running = handle_input(in);
            }
            if (running) {
                prompt();
            }
        }
    }
    close(sock);
    offrec_client_free(client);
    free(net);
    free(in);
    return 0;
}
