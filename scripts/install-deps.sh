#!/usr/bin/env bash
# Installs what wims needs on Debian 12, idempotently: Debian packages for the
# build and the test peers, then the npm modules of the WIC and the browser
# tests.  Run as root (or with sudo on PATH).  Nothing is fetched at run time.
set -euo pipefail
cd "$(dirname "$0")/.."

build_pkgs=(gcc clang make meson ninja-build pkg-config
	libevent-dev libssl-dev libwslay-dev libosmocore-dev libcjose-dev
	libjansson-dev libinih-dev libsqlite3-dev libclang-rt-14-dev openssl)
peer_pkgs=(sip-tester sipsak sipvicious chromium
	kamailio kamailio-tls-modules kamailio-websocket-modules python3 procps iproute2 curl)

missing=()
for p in "${build_pkgs[@]}" "${peer_pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done

# Node.js may come from elsewhere than Debian (with npm inside it, which
# conflicts with Debian's npm package): ask for the commands, not packages.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]})); then
	echo "install-deps: installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -q
	$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Kamailio is a benchmark peer, started by our scripts only: keep the
# packaged service from holding port 5060.
if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled kamailio >/dev/null 2>&1; then
	systemctl disable --now kamailio >/dev/null 2>&1 || true
fi
if [ -x /etc/init.d/kamailio ] && pgrep -x kamailio >/dev/null 2>&1; then
	/etc/init.d/kamailio stop >/dev/null 2>&1 || true
fi

for dir in web tests/e2e; do
	[ -f "$dir/package.json" ] || continue
	if [ ! -d "$dir/node_modules" ] || [ "$dir/package.json" -nt "$dir/node_modules/.stamp" ]; then
		echo "install-deps: npm modules in $dir"
		(cd "$dir" && npm install --no-audit --no-fund --loglevel=error && touch node_modules/.stamp)
	fi
done

# The WIC is served from web/dist, built from web/src (esbuild, offline).
if [ -f web/package.json ]; then
	echo "install-deps: building the WIC (web/dist)"
	(cd web && npm run build --silent)
fi
