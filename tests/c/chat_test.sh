#!/usr/bin/env bash
# Two chat processes over 127.0.0.1: Bob listens, Alice connects, starts a session and sends a
# message. Asserts Bob printed the message and an "encrypted" state. Usage: chat_test.sh CHAT
set -euo pipefail
chat=$1
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
port=$(( 20000 + RANDOM % 20000 ))

( sleep 6; echo /quit ) | "$chat" listen "$port" bob >"$tmp/bob.out" 2>&1 &
bob=$!
sleep 0.5
( sleep 0.5; echo /start; sleep 1.5; echo "hello over tcp"; sleep 1; echo /fp; sleep 1; echo /quit ) \
    | "$chat" connect 127.0.0.1 "$port" alice >"$tmp/alice.out" 2>&1
wait "$bob" || true

fail() { echo "chat_test: $*"; echo "--- bob"; cat "$tmp/bob.out"; echo "--- alice"; cat "$tmp/alice.out"; exit 1; }
grep -q "<alice> hello over tcp   (encrypted, unverified)" "$tmp/bob.out" || fail "bob did not get the encrypted message"
grep -q "session with alice is now encrypted" "$tmp/bob.out" || fail "bob never showed an encrypted state"
grep -q "theirs: " "$tmp/alice.out" || fail "alice's /fp showed no fingerprint"
echo "chat_test: two chat processes talked encrypted over TCP"
