#!/bin/bash
# hss_cli.sh - the provisioning CLI (`wims hss ...`) against a fresh store:
# add, list, show, passwd, remove, a 10k-line CSV import (fast, one
# transaction, bad lines reported FILE:LINE and skipped), the hss role
# seeding the demo subscribers, and no password anywhere in the files.
. "$(dirname "$0")/../lib/harness.sh"

DATA=$TEST_TMP/data
wh() { "$WIMS_BIN" --set "global.data_dir=$DATA" hss "$@"; }
DB=$DATA/hss.db

# The db and its WAL/SHM companions must not hold any of the passwords.
no_plaintext() {
	local f pw
	for pw in "$@"; do
		for f in "$DB" "$DB-wal" "$DB-shm"; do
			[ -e "$f" ] || continue
			if grep -a -F -q -- "$pw" "$f"; then
				echo "password $pw found in $f"
				return 1
			fi
		done
	done
}

check "add with --password" wh add dave@ims.example.org --impu sip:dave@ims.example.org \
	--impu tel:+15550000009 --password 'Dave-Pa55word!'
check "add with --password-stdin" sh -c "printf 'Erin-Pa55word!\n' | $WIMS_BIN --set global.data_dir=$DATA hss add erin@ims.example.org --password-stdin"
expect_fail "add refuses a duplicate IMPI" wh add dave@ims.example.org --password x
expect_fail "add refuses an IMPU of another subscriber" \
	wh add frank@ims.example.org --impu sip:dave@ims.example.org --password x
expect_fail "add refuses an IMPI that is not user@realm" wh add frank --password x
check "list shows dave with both IMPUs" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss list | grep '^dave@ims.example.org' | grep 'sip:dave@ims.example.org' | grep -q 'tel:+15550000009'"
check "list shows erin with the default IMPU" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss list | grep '^erin@ims.example.org' | grep -q 'sip:erin@ims.example.org'"
check "show prints the subscriber without its hashes" sh -c \
	"out=\$($WIMS_BIN --set global.data_dir=$DATA hss show dave@ims.example.org) && echo \"\$out\" | grep -q 'ha1 md5 set, sha-256 set' && ! echo \"\$out\" | grep -Eq '[0-9a-f]{32}'"
# H(A1) SHA-256 of dave as stored equals the one of PASSWORD.
ha1_is() {
	python3 - "$DB" "$1" <<'PY'
import hashlib, sqlite3, sys
db, pw = sys.argv[1], sys.argv[2]
got = sqlite3.connect(db).execute(
    "select ha1_sha256 from subscriber where impi='dave@ims.example.org'").fetchone()[0]
want = hashlib.sha256(f"dave@ims.example.org:ims.example.org:{pw}".encode()).hexdigest()
sys.exit(0 if got == want else 1)
PY
}
check "add stored H(A1) of the given password" ha1_is 'Dave-Pa55word!'
check "passwd reads the new password from stdin" sh -c \
	"printf 'Dave-New-Pa55!\n' | $WIMS_BIN --set global.data_dir=$DATA hss passwd dave@ims.example.org"
check "passwd replaced H(A1)" ha1_is 'Dave-New-Pa55!'
expect_fail "passwd refuses an empty password" sh -c \
	"printf '\n' | $WIMS_BIN --set global.data_dir=$DATA hss passwd dave@ims.example.org"
expect_fail "passwd refuses an unknown IMPI" sh -c \
	"printf 'x\n' | $WIMS_BIN --set global.data_dir=$DATA hss passwd nobody@ims.example.org"

# 10k rows, two IMPUs each, plus three bad lines.
csv=$TEST_TMP/users.csv
{
	echo "impi,impu,password"
	for i in $(seq 1 10000); do
		echo "user$i@ims.example.org,sip:user$i@ims.example.org;tel:+1666$(printf '%07d' "$i"),Imp0rt-pw-$i-zq"
	done
	echo "not-an-impi,sip:x@ims.example.org,pw"
	echo "user1@ims.example.org,sip:dup@ims.example.org,Dup-pw"
	echo "missing-fields@ims.example.org"
} >"$csv"
import() {
	local start end
	start=$(date +%s)
	wh import "$csv" >"$TEST_TMP/import.out" 2>"$TEST_TMP/import.err"
	local rc=$?
	end=$(date +%s)
	cat "$TEST_TMP/import.out" "$TEST_TMP/import.err"
	echo "took $((end - start)) s, exit $rc"
	# Exit 1 because lines were skipped; the good ones are in.
	[ $rc -eq 1 ] && grep -q 'imported 10000 subscribers, skipped 3 lines' "$TEST_TMP/import.out" &&
		[ $((end - start)) -le 60 ]
}
check "import of 10k rows in one transaction" import
check "import names each bad line FILE:LINE" sh -c \
	"grep -q 'users.csv:10002: ' $TEST_TMP/import.err && grep -q 'users.csv:10003: IMPI or IMPU already exists' $TEST_TMP/import.err && grep -q 'users.csv:10004: expected' $TEST_TMP/import.err"
check "imported subscribers are listed" sh -c \
	"[ \$($WIMS_BIN --set global.data_dir=$DATA hss list | wc -l) -eq 10002 ]"
check "imported IMPUs share one implicit set" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss show user777@ims.example.org | grep -c ' set ' | grep -q '^2$'"
check "remove deletes a subscriber" wh remove user5@ims.example.org
expect_fail "removed subscriber is gone" wh show user5@ims.example.org
expect_fail "remove of an unknown IMPI fails" wh remove user5@ims.example.org
check "--db selects another store" sh -c \
	"$WIMS_BIN hss --db $TEST_TMP/other.db add zed@ims.example.org --password Zed-pw-1 && $WIMS_BIN hss --db $TEST_TMP/other.db list | grep -q '^zed@' && ! $WIMS_BIN --set global.data_dir=$DATA hss list | grep -q '^zed@'"

# The role: provisions alice, bob, carol on start.
spawn hss-role "$WIMS_BIN" --set "global.data_dir=$DATA" hss
HSS_PID=$SPAWNED_PID
seeded() {
	for _ in $(seq 50); do
		grep -q 'provisioned 3 demo subscribers' "$TEST_TMP/hss-role.log" && return 0
		sleep 0.1
	done
	cat "$TEST_TMP/hss-role.log"
	return 1
}
check "hss role seeds the demo subscribers" seeded
kill "$HSS_PID" 2>/dev/null
wait "$HSS_PID" 2>/dev/null
check "demo subscribers have sip and tel IMPUs" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss list | grep '^alice@ims.example.org' | grep -q 'tel:+15550000001'"

check "no plaintext password in the store files" no_plaintext 'Dave-Pa55word!' \
	'Erin-Pa55word!' 'Dave-New-Pa55!' 'Imp0rt-pw-1-zq' 'Imp0rt-pw-5000-zq' \
	'Imp0rt-pw-10000-zq' 'alice-secret' 'bob-secret'
finish
