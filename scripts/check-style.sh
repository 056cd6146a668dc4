#!/usr/bin/env bash
# check-style.sh - calls wims does not use, and why:
#   sprintf, strcpy, strcat, gets  unbounded writes: use snprintf / buf_*
#   strtok                         hidden state, not thread-safe: walk slices
#   atoi, atol                     no error reporting: use strtol or slice_to_u64
#   memcmp in src/auth             secrets compare in constant time: CRYPTO_memcmp
set -u
cd "$(dirname "$0")/.."
status=0
files=$(git ls-files -co --exclude-standard 'src/*.c' 'src/*.h' 'bench/*.c' 'fuzz/*.c' 'tests/*.c' 'tests/*.h')
banned='(^|[^a-z_])(sprintf|vsprintf|strcpy|strcat|gets|strtok|atoi|atol)[[:space:]]*\('
if [ -n "$files" ] && grep -nE "$banned" $files; then
	echo "check-style: banned call above (see scripts/check-style.sh for why)"
	status=1
fi
auth=$(git ls-files -co --exclude-standard 'src/auth/*.c' | grep -v '_test\.c$')
if [ -n "$auth" ] && grep -nE '(^|[^_A-Za-z])memcmp[[:space:]]*\(' $auth; then
	echo "check-style: memcmp in src/auth: compare secrets with CRYPTO_memcmp"
	status=1
fi
exit $status
