#!/bin/bash
# hss_cli.sh - the provisioning CLI (`wims hss ...`) against a fresh store:
# add, list, show, passwd, remove, a 10k-line CSV import (fast, one
# transaction, bad lines reported FILE:LINE and skipped), the hss role
# seeding the demo subscribers, and no password anywhere in the files.
# AKA: --schemes, `schemes`, `aka` (K with OPc or OP, AMF, SQN), refusals
# of bad hex with a clear message and a non-zero status, the CSV's AKA
# columns, and K / OPc never in `show` or `list` output.
# TNA (TR 33.871 REQ 2.1, 2.2, 2.5, 3.2): `add --schemes tna`, wwsf-allow /
# -disallow, wwsf-block [--reason] (removing the registrations made
# through the WWSF, only those, and saying how many) / -unblock, wwsfs,
# pool-add / -remove
# (one pool per IMPI, all or nothing), links / link-remove, their refusals
# naming what was expected, and the demo's grace, pool1..pool4 and bob.
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

check "add with --password" wh add dora@ims.example.org --impu sip:dora@ims.example.org \
	--impu tel:+15550000009 --password 'Dave-Pa55word!'
check "add with --password-stdin" sh -c "printf 'Erin-Pa55word!\n' | $WIMS_BIN --set global.data_dir=$DATA hss add eric@ims.example.org --password-stdin"
expect_fail "add refuses a duplicate IMPI" wh add dora@ims.example.org --password x
expect_fail "add refuses an IMPU of another subscriber" \
	wh add frank@ims.example.org --impu sip:dora@ims.example.org --password x
expect_fail "add refuses an IMPI that is not user@realm" wh add frank --password x
check "list shows dora with both IMPUs" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss list | grep '^dora@ims.example.org' | grep 'sip:dora@ims.example.org' | grep -q 'tel:+15550000009'"
check "list shows eric with the default IMPU" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss list | grep '^eric@ims.example.org' | grep -q 'sip:eric@ims.example.org'"
check "show prints the subscriber without its hashes" sh -c \
	"out=\$($WIMS_BIN --set global.data_dir=$DATA hss show dora@ims.example.org) && echo \"\$out\" | grep -q 'ha1 md5 set, sha-256 set' && ! echo \"\$out\" | grep -Eq '[0-9a-f]{32}'"
# H(A1) SHA-256 of dora as stored equals the one of PASSWORD.
ha1_is() {
	python3 - "$DB" "$1" <<'PY'
import hashlib, sqlite3, sys
db, pw = sys.argv[1], sys.argv[2]
got = sqlite3.connect(db).execute(
    "select ha1_sha256 from subscriber where impi='dora@ims.example.org'").fetchone()[0]
want = hashlib.sha256(f"dora@ims.example.org:ims.example.org:{pw}".encode()).hexdigest()
sys.exit(0 if got == want else 1)
PY
}
check "add stored H(A1) of the given password" ha1_is 'Dave-Pa55word!'
check "passwd reads the new password from stdin" sh -c \
	"printf 'Dave-New-Pa55!\n' | $WIMS_BIN --set global.data_dir=$DATA hss passwd dora@ims.example.org"
check "passwd replaced H(A1)" ha1_is 'Dave-New-Pa55!'
expect_fail "passwd refuses an empty password" sh -c \
	"printf '\n' | $WIMS_BIN --set global.data_dir=$DATA hss passwd dora@ims.example.org"
expect_fail "passwd refuses an unknown IMPI" sh -c \
	"printf 'x\n' | $WIMS_BIN --set global.data_dir=$DATA hss passwd nobody@ims.example.org"

# --- AKA ---
# TS 35.208 test set 1: K, OP and the OPc it gives.
K1=465b5ce8b199b49faa5f0a2ee238a6bc
OP1=cdc202d5123e20f62b6d676ac72cb318
OPC1=cd63cb71954a9f4e48a5994e37a02baf
K2=0123456789abcdef0123456789abcdef
OPC2=fedcba9876543210fedcba9876543210
show() { "$WIMS_BIN" --set "global.data_dir=$DATA" hss show "$1"; }
# stderr of a command that must fail, with its message.
fails_saying() {
	local want=$1
	shift
	if "$@" >"$TEST_TMP/fail.out" 2>&1; then
		echo "unexpectedly succeeded"
		return 1
	fi
	cat "$TEST_TMP/fail.out"
	grep -q -- "$want" "$TEST_TMP/fail.out"
}
stored_opc() {
	python3 - "$DB" "$1" "$2" <<'PY'
import sqlite3, sys
row = sqlite3.connect(sys.argv[1]).execute(
    "select lower(hex(opc)), lower(hex(amf)), sqn from aka where impi=?", (sys.argv[2],)).fetchone()
print(row)
sys.exit(0 if row and row[0] == sys.argv[3] else 1)
PY
}
check "add --schemes akav2 without a password" wh add gus@ims.example.org --schemes akav2
check "show prints the schemes as a list" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss show gus@ims.example.org | grep -qx 'schemes akav2'"
check "show says there is no AKA data yet" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss show gus@ims.example.org | grep -qx 'aka none'"
check "aka sets K and OPc" wh aka gus@ims.example.org --k $K2 --opc $OPC2
check "show prints SQN and AMF" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss show gus@ims.example.org | grep -qx 'aka sqn 0 amf 8000'"
check "aka --op stores OPc = OP xor AES_K(OP) (TS 35.208 set 1)" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss add hal@ims.example.org --schemes akav1,akav2 && $WIMS_BIN --set global.data_dir=$DATA hss aka hal@ims.example.org --k $K1 --op $OP1 --amf b9b9"
check "stored OPc is the test set's" stored_opc hal@ims.example.org $OPC1
check "aka --sqn alone sets the SQN" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss aka hal@ims.example.org --sqn 640 && $WIMS_BIN --set global.data_dir=$DATA hss show hal@ims.example.org | grep -qx 'aka sqn 640 amf b9b9'"
check "new keys keep the SQN" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss aka hal@ims.example.org --k $K1 --opc $OPC1 && $WIMS_BIN --set global.data_dir=$DATA hss show hal@ims.example.org | grep -qx 'aka sqn 640 amf 8000'"
check "aka refuses a short K" fails_saying "32 hex digits" wh aka gus@ims.example.org --k 0123 --opc $OPC2
check "aka refuses a K that is not hex" fails_saying "32 hex digits" \
	wh aka gus@ims.example.org --k 0123456789abcdef0123456789abcdeg --opc $OPC2
check "aka refuses a long OPc" fails_saying "opc: expected 32 hex digits" \
	wh aka gus@ims.example.org --k $K2 --opc ${OPC2}00
check "aka refuses a bad OP" fails_saying "op: expected 32 hex digits" \
	wh aka gus@ims.example.org --k $K2 --op xyz
check "aka refuses a bad AMF" fails_saying "amf: expected 4 hex digits" \
	wh aka gus@ims.example.org --k $K2 --opc $OPC2 --amf 800
check "aka refuses OPc and OP together" fails_saying "one of opc and op" \
	wh aka gus@ims.example.org --k $K2 --opc $OPC2 --op $OP1
check "aka refuses K without OPc" fails_saying "one of opc and op" wh aka gus@ims.example.org --k $K2
check "aka refuses a bad SQN" fails_saying "decimal SQN" wh aka gus@ims.example.org --sqn -1
check "aka refuses a SQN of 2^48" fails_saying "decimal SQN" wh aka gus@ims.example.org --sqn 281474976710656
check "aka --sqn without AKA data is refused" fails_saying "no AKA data" \
	wh aka eric@ims.example.org --sqn 5
check "aka of an unknown IMPI is refused" fails_saying "no such subscriber" \
	wh aka nobody@ims.example.org --k $K2 --opc $OPC2
check "a refused aka changed nothing" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss show gus@ims.example.org | grep -qx 'aka sqn 0 amf 8000' && python3 -c \"import sqlite3,sys; r=sqlite3.connect('$DB').execute(\\\"select lower(hex(k)) from aka where impi='gus@ims.example.org'\\\").fetchone(); sys.exit(r[0] != '$K2')\""
check "schemes sets the list" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss schemes gus@ims.example.org digest,akav1 && $WIMS_BIN --set global.data_dir=$DATA hss show gus@ims.example.org | grep -qx 'schemes digest,akav1'"
check "schemes refuses an unknown scheme" fails_saying "expected a list of digest, akav1, akav2, tna" \
	wh schemes gus@ims.example.org digest,akav3
check "schemes refuses an empty list" fails_saying "expected a list" wh schemes gus@ims.example.org ""
check "add refuses an unknown scheme" fails_saying "expected a list" \
	wh add ida@ims.example.org --schemes md5
expect_fail "schemes of an unknown IMPI fails" wh schemes nobody@ims.example.org akav2

# --- trusted node authentication ---
out_is() {
	local want=$1
	shift
	"$@" >"$TEST_TMP/ok.out" 2>&1 || { cat "$TEST_TMP/ok.out"; return 1; }
	cat "$TEST_TMP/ok.out"
	grep -qx -- "$want" "$TEST_TMP/ok.out"
}
check "add --schemes tna without a password" out_is \
	"added tia@ims.example.org (2 IMPUs); allow its WWSFs with \`wims hss wwsf-allow\` or \`pool-add\`" \
	wh add tia@ims.example.org --impu sip:tia@ims.example.org --impu tel:+15550000077 --schemes tna
check "schemes accepts tna in a list" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss schemes dora@ims.example.org digest,tna && $WIMS_BIN --set global.data_dir=$DATA hss show dora@ims.example.org | grep -qx 'schemes digest,tna'"
check "wwsf-allow" out_is "wwsf.ims.example.org may register tia@ims.example.org" \
	wh wwsf-allow tia@ims.example.org wwsf.ims.example.org
check "wwsf-allow again is fine" wh wwsf-allow tia@ims.example.org wwsf.ims.example.org
check "wwsf-allow notes an IMPI without tna" out_is \
	"shop.example.com may register eric@ims.example.org (note: its schemes lack tna: \`wims hss schemes IMPI ...,tna\`)" \
	wh wwsf-allow eric@ims.example.org shop.example.com
check "show lists the allowed WWSFs" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss show tia@ims.example.org | grep -qx 'wwsf allowed wwsf.ims.example.org'"
check "wwsf-allow refuses an unknown IMPI" fails_saying "wwsf-allow nobody@ims.example.org: no such subscriber" \
	wh wwsf-allow nobody@ims.example.org wwsf.ims.example.org
check "wwsf-allow refuses a WWSF identity with a space" fails_saying "expected a WWSF identity" \
	wh wwsf-allow tia@ims.example.org "evil wwsf"
check "wwsf-allow refuses a WWSF identity with a quote" fails_saying "expected a WWSF identity" \
	wh wwsf-allow tia@ims.example.org 'a"b'
check "wwsf-allow refuses an empty WWSF identity" fails_saying "expected a WWSF identity" \
	wh wwsf-allow tia@ims.example.org ""
check "wwsf-allow refuses a missing argument" fails_saying "wrong number of arguments" \
	wh wwsf-allow tia@ims.example.org
check "wwsf-disallow" out_is "shop.example.com may no longer register eric@ims.example.org" \
	wh wwsf-disallow eric@ims.example.org shop.example.com
check "wwsf-disallow of a WWSF not allowed says so" fails_saying "shop.example.com is not allowed for eric@ims.example.org" \
	wh wwsf-disallow eric@ims.example.org shop.example.com

check "pool-add puts several IMPIs in one go" out_is "added 2 IMPIs to the pool of shop.example.com" \
	sh -c "$WIMS_BIN --set global.data_dir=$DATA hss add pa@ims.example.org --schemes tna >/dev/null && $WIMS_BIN --set global.data_dir=$DATA hss add pb@ims.example.org --schemes tna >/dev/null && $WIMS_BIN --set global.data_dir=$DATA hss pool-add shop.example.com pa@ims.example.org pb@ims.example.org"
check "pool-add refuses an IMPI of another pool, naming it" fails_saying \
	"pa@ims.example.org is in the pool of shop.example.com already" wh pool-add other.example.com tia@ims.example.org pa@ims.example.org
check "a refused pool-add changed nothing" sh -c \
	"! $WIMS_BIN --set global.data_dir=$DATA hss wwsfs | grep -q 'pool other.example.com'"
check "pool-add refuses an unknown IMPI" fails_saying "no such subscriber" \
	wh pool-add shop.example.com nobody@ims.example.org
check "pool-add needs an IMPI" fails_saying "wrong number of arguments" wh pool-add shop.example.com
check "show names the pool" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss show pb@ims.example.org | grep -qx 'pool of shop.example.com'"
check "pool-remove" out_is "removed 1 IMPI from the pool of shop.example.com" \
	wh pool-remove shop.example.com pb@ims.example.org
check "pool-remove of an IMPI not in that pool says so" fails_saying \
	"pb@ims.example.org is not in the pool of shop.example.com" wh pool-remove shop.example.com pb@ims.example.org

# Bindings as the cscf writes them (in the same store by default): two
# registrations through shop.example.com (pa: one Contact for its two
# IMPUs; pb), one through the operator WWSF, one by Digest.
mkbind() {
	python3 - "$DB" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
exp = int(time.time()) + 600
for impu, contact, wwsf in [("sip:pa@ims.example.org", "sip:pa@192.0.2.1", "shop.example.com"),
                            ("tel:+15550000088", "sip:pa@192.0.2.1", "shop.example.com"),
                            ("sip:pb@ims.example.org", "sip:pb@192.0.2.2", "shop.example.com"),
                            ("sip:tia@ims.example.org", "sip:tia@192.0.2.3", "wwsf.ims.example.org"),
                            ("sip:eric@ims.example.org", "sip:eric@192.0.2.4", "")]:
    db.execute("insert into binding (impu, contact, expires, received, wwsf) values (?, ?, ?, 'tcp:127.0.0.1:5070', ?)",
               (impu, contact, exp, wwsf))
db.commit()
PY
}
nbind() { sqlite3 "$DB" "select count(*) from binding where $1"; }
check "bindings through two WWSFs and by Digest, as the cscf writes them" mkbind
check "wwsf-block with a reason removes that WWSF's registrations and says how many" out_is \
	"blocked shop.example.com; removed 2 registrations (3 bindings); reason: leaked tokens" \
	wh wwsf-block shop.example.com --reason "leaked tokens"
check "... none of shop.example.com's bindings is left" test "$(nbind "wwsf = 'shop.example.com'")" = 0
check "... the other WWSF's and the Digest binding stay" test "$(nbind "impu in ('sip:tia@ims.example.org', 'sip:eric@ims.example.org')")" = 2
check "wwsf-block without a reason (no registrations)" out_is \
	"blocked evil.example.com; removed 0 registrations" wh wwsf-block evil.example.com
check "wwsf-block of the operator WWSF takes its one registration" out_is \
	"blocked wwsf.ims.example.org; removed 1 registration" wh wwsf-block wwsf.ims.example.org
check "wwsf-unblock wwsf.ims.example.org" out_is "unblocked wwsf.ims.example.org" \
	wh wwsf-unblock wwsf.ims.example.org
check "the Digest binding is still there" test "$(nbind "impu = 'sip:eric@ims.example.org'")" = 1
check "wwsf-block refuses a misspelt option" fails_saying "usage: wims hss wwsf-block WWSF \[--reason TEXT\]" \
	wh wwsf-block shop.example.com --reasons x
check "wwsf-block refuses a bad identity" fails_saying "expected a WWSF identity" wh wwsf-block "a b"
check "wwsfs lists allowed, pools and blocks" sh -c \
	"out=\$($WIMS_BIN --set global.data_dir=$DATA hss wwsfs) && echo \"\$out\" && echo \"\$out\" | grep -qx 'allowed wwsf.ims.example.org tia@ims.example.org' && echo \"\$out\" | grep -qx 'pool shop.example.com pa@ims.example.org' && echo \"\$out\" | grep -qx 'blocked shop.example.com leaked tokens' && echo \"\$out\" | grep -qx 'blocked evil.example.com'"
check "wwsf-unblock" out_is "unblocked evil.example.com" wh wwsf-unblock evil.example.com
check "wwsf-unblock of a WWSF not blocked says so" fails_saying "evil.example.com is not blocked" \
	wh wwsf-unblock evil.example.com

# A link as the WAF makes it (store_link_request + confirm), then the CLI.
mklink() {
	python3 - "$DB" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
now = int(time.time())
db.execute("insert into web_identity (web_id, idp, impu, impi, wwsf_grant, confirmed, code_hash, code_expires, created_at) values ('tia-web', 'waf', 'sip:tia@ims.example.org', 'tia@ims.example.org', 'wwsf.ims.example.org', 1, NULL, 0, ?)", (now,))
db.execute("insert into web_identity (web_id, idp, impu, impi, confirmed, code_hash, code_expires, created_at) values ('erin', 'wwsf.ims.example.org', 'tel:+15550000077', 'tia@ims.example.org', 0, x'00', ?, ?)", (now + 600, now))
db.commit()
PY
}
check "a confirmed and a pending link, as the WAF makes them" mklink
check "links lists confirmed and pending links" sh -c \
	"out=\$($WIMS_BIN --set global.data_dir=$DATA hss links) && echo \"\$out\" && echo \"\$out\" | grep -qx 'tia-web waf sip:tia@ims.example.org tia@ims.example.org confirmed grant wwsf.ims.example.org' && echo \"\$out\" | grep -qx 'erin wwsf.ims.example.org tel:+15550000077 tia@ims.example.org pending'"
check "links never prints the code hash" sh -c \
	"! $WIMS_BIN --set global.data_dir=$DATA hss links | grep -q '00$'"
check "link-remove" out_is "removed the link of tia-web (idp waf) to sip:tia@ims.example.org" \
	wh link-remove tia-web waf sip:tia@ims.example.org
check "link-remove of no such link says so" fails_saying "no link of tia-web (idp waf) to sip:tia@ims.example.org" \
	wh link-remove tia-web waf sip:tia@ims.example.org
check "link-remove needs three arguments" fails_saying "wrong number of arguments" wh link-remove tia-web waf
check "an unknown command is named" fails_saying 'unknown command "wwsf-ban"' wh wwsf-ban x

acsv=$TEST_TMP/aka.csv
{
	echo "impi,impu,password,schemes,k,opc,amf"
	echo "ann@ims.example.org,sip:ann@ims.example.org,,akav2,$K2,$OPC2,8000"
	echo "ben@ims.example.org,sip:ben@ims.example.org,Ben-pw,with-comma,digest;akav1;akav2,$K1,$OPC1,"
	echo "cal@ims.example.org,sip:cal@ims.example.org,,akav2,0123,$OPC2,8000"
	echo "cyd@ims.example.org,sip:cyd@ims.example.org,,akav2,,,"
	echo "cem@ims.example.org,sip:cem@ims.example.org,,digest,,,"
	echo "cox@ims.example.org,sip:cox@ims.example.org,,akav2,$K2"
} >"$acsv"
check "import with AKA columns: good lines in, bad ones named" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss import $acsv >$TEST_TMP/aimport.out 2>&1; rc=\$?; cat $TEST_TMP/aimport.out; [ \$rc -eq 1 ] && grep -q 'imported 2 subscribers, skipped 4 lines' $TEST_TMP/aimport.out && grep -q 'aka.csv:4: k: expected 32 hex digits' $TEST_TMP/aimport.out && grep -q 'aka.csv:5: schemes akav1/akav2 need k' $TEST_TMP/aimport.out && grep -q 'aka.csv:6: password empty' $TEST_TMP/aimport.out && grep -q 'aka.csv:7: fewer fields' $TEST_TMP/aimport.out"
check "imported AKA-only subscriber" sh -c \
	"out=\$($WIMS_BIN --set global.data_dir=$DATA hss show ann@ims.example.org) && echo \"\$out\" | grep -qx 'schemes akav2' && echo \"\$out\" | grep -qx 'aka sqn 0 amf 8000' && echo \"\$out\" | grep -q 'ha1 md5 unset'"
check "imported password with a comma, schemes and default AMF" sh -c \
	"out=\$($WIMS_BIN --set global.data_dir=$DATA hss show ben@ims.example.org) && echo \"\$out\" | grep -qx 'schemes digest,akav1,akav2' && echo \"\$out\" | grep -qx 'aka sqn 0 amf 8000'" 
check "imported H(A1) is of the password with its comma" sh -c \
	"python3 -c \"import hashlib,sqlite3,sys; g=sqlite3.connect('$DB').execute(\\\"select ha1_md5 from subscriber where impi='ben@ims.example.org'\\\").fetchone()[0]; sys.exit(g != hashlib.md5(b'ben@ims.example.org:ims.example.org:Ben-pw,with-comma').hexdigest())\""
ocsv=$TEST_TMP/aka-op.csv
{
	echo "impi,impu,password,k,op,schemes"
	echo "oli@ims.example.org,sip:oli@ims.example.org,,$K1,$OP1,akav1"
} >"$ocsv"
check "import with an op column stores OPc" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss import $ocsv && $WIMS_BIN --set global.data_dir=$DATA hss show oli@ims.example.org | grep -qx 'schemes akav1'"
check "imported OPc from OP is the test set's" stored_opc oli@ims.example.org $OPC1
bcsv=$TEST_TMP/aka-bad-header.csv
printf 'impi,impu,password,k,opc,op\nx@ims.example.org,,,,,\n' >"$bcsv"
check "import refuses a header with opc and op" fails_saying "aka-bad-header.csv:1: header: opc and op together" \
	wh import "$bcsv"

# K and OPc never printed.
no_keys_in() {
	local out k
	out=$("$@" 2>&1)
	for k in $K1 $K2 $OPC1 $OPC2 $OP1; do
		if echo "$out" | grep -qi -- "$k"; then
			echo "$k printed by $*"
			return 1
		fi
	done
}
check "show never prints K or OPc" no_keys_in sh -c \
	"for u in gus hal ann ben oli; do $WIMS_BIN --set global.data_dir=$DATA hss show \$u@ims.example.org; done"
check "list never prints K or OPc" no_keys_in wh list
check "aka's own output never prints K or OPc" no_keys_in wh aka gus@ims.example.org --k $K2 --opc $OPC2
check "nor its errors" no_keys_in wh aka gus@ims.example.org --k $K2 --opc ${OPC2}ff

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
	"[ \$($WIMS_BIN --set global.data_dir=$DATA hss list | wc -l) -eq 10010 ]"
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
		grep -q 'provisioned 11 demo subscribers' "$TEST_TMP/hss-role.log" && return 0
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
check "demo AKA subscribers dave, erin, frank: AKAv2 only, SQN 0" sh -c \
	"for n in dave:4 erin:5 frank:6; do u=\${n%%:*}; out=\$($WIMS_BIN --set global.data_dir=$DATA hss show \$u@ims.example.org) || exit 1; echo \"\$out\" | grep -qx 'schemes akav2' && echo \"\$out\" | grep -qx 'aka sqn 0 amf 8000' && echo \"\$out\" | grep -q \"tel:+1555000000\${n#*:}\" || exit 1; done"
check "demo Digest subscribers have no AKA data" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss show alice@ims.example.org | grep -qx 'aka none'"
check "demo grace: tna only, no password, sip and tel IMPUs, allows the operator WWSF" sh -c \
	"out=\$($WIMS_BIN --set global.data_dir=$DATA hss show grace@ims.example.org) && echo \"\$out\" | grep -qx 'schemes tna' && echo \"\$out\" | grep -q 'ha1 md5 unset, sha-256 unset' && echo \"\$out\" | grep -q 'impu sip:grace@ims.example.org' && echo \"\$out\" | grep -q 'impu tel:+15550000007' && echo \"\$out\" | grep -qx 'wwsf allowed wwsf.ims.example.org'"
check "demo pool1..pool4: tna only, one IMPU, webshop's pool" sh -c \
	"for n in 1 2 3 4; do out=\$($WIMS_BIN --set global.data_dir=$DATA hss show pool\$n@ims.example.org) || exit 1; echo \"\$out\" | grep -qx 'schemes tna' && echo \"\$out\" | grep -qx 'pool of webshop.example.net' && [ \$(echo \"\$out\" | grep -c ' impu ') -eq 1 ] || exit 1; done"
check "demo bob: digest,tna" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss show bob@ims.example.org | grep -qx 'schemes digest,tna'"
check "demo alice keeps Digest only" sh -c \
	"$WIMS_BIN --set global.data_dir=$DATA hss show alice@ims.example.org | grep -qx 'schemes digest'"

check "no plaintext password in the store files" no_plaintext 'Dave-Pa55word!' \
	'Erin-Pa55word!' 'Ben-pw,with-comma' 'Dave-New-Pa55!' 'Imp0rt-pw-1-zq' 'Imp0rt-pw-5000-zq' \
	'Imp0rt-pw-10000-zq' 'alice-secret' 'bob-secret'
finish
