#!/usr/bin/env bash
# check-includes.sh - the folders are the layers (STYLE.md): a lower layer
# never includes a higher one, and a role never includes another role,
# except the Cx interface of hss (hss/cx.h), which is how cscf talks to it.
#
#   core < sip < auth < store, isim (the soft ISIM, for me and wwsf) < roles (src/<role>/) < src/main.c
set -u
cd "$(dirname "$0")/.."
status=0
rank() {
	case $1 in
	core) echo 0 ;; sip) echo 1 ;; auth) echo 2 ;; store) echo 3 ;; isim) echo 3 ;; *) echo 4 ;;
	esac
}
while IFS= read -r file; do
	dir=${file#src/}
	dir=${dir%%/*}
	[ "$dir" = "${file#src/}" ] && continue # src/main.c, src/role.h
	from=$(rank "$dir")
	while IFS= read -r inc; do
		target=${inc%%/*}
		[ "$target" = "$inc" ] && continue # "unit.h", "role.h"
		[ -d "src/$target" ] || continue
		to=$(rank "$target")
		if [ "$to" -gt "$from" ] ||
			{ [ "$from" -eq 4 ] && [ "$to" -eq 4 ] && [ "$target" != "$dir" ] &&
				[ "$inc" != "hss/cx.h" ]; }; then
			echo "$file includes \"$inc\": $dir may not use $target"
			status=1
		fi
	done < <(sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
	if [ "$from" -lt 4 ] && grep -q '"role.h"' "$file"; then
		echo "$file includes role.h: only roles may"
		status=1
	fi
done < <(git ls-files -co --exclude-standard 'src/*.c' 'src/*.h')
[ $status -eq 0 ] || echo "check-includes: layering broken (see scripts/check-includes.sh)"
exit $status
