# wims: the README's commands.  Meson + Ninja do the building; this file
# only names the build directories and what each command runs.
#
#   make demo    install what is missing, build, run every role on loopback
#   make check   install, build with ASan+UBSan, run every test
#   make bench   install, build optimised, benchmark wims against Kamailio
#   make fuzz    build the libFuzzer targets with clang and run each a while

BUILD        ?= build
CHECK_BUILD  ?= build-check
BENCH_BUILD  ?= build-bench
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: all deps build demo check bench fuzz config-doc clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	@echo "wims demo: open https://127.0.0.1:8443/ (alice/alice-secret, bob/bob-secret, carol/carol-secret)"
	@echo "           IMS AKA: dave through this device's ISIM (the ME agent, https://127.0.0.1:8445),"
	@echo "           erin/erin-web or frank/frank-web through the network ISIM (sign in to the site)."
	@echo "           Operator sign-in (a token from the WAF, https://127.0.0.1:9443): grace/grace-web"
	@echo "           on https://127.0.0.1:8443/ -- no IMS password anywhere."
	@echo "           Third-party site webshop.example.net: https://127.0.0.1:8446/ ('Continue as a"
	@echo "           guest' registers an identity of its pool pool1..pool4)."
	@echo "           Isolate a WWSF: $(BUILD)/wims hss wwsf-block webshop.example.net"
	@echo "           Certificates are self-signed: accept them once in the browser (8443, 8445, 8446, 9443)."
	$(BUILD)/wims demo

$(CHECK_BUILD)/build.ninja:
	meson setup $(CHECK_BUILD) --buildtype=debug -Db_sanitize=address,undefined \
		-Db_lundef=false -Dwerror=true

check: deps $(CHECK_BUILD)/build.ninja
	ninja -C $(CHECK_BUILD)
	tests/run-checks.sh $(CHECK_BUILD)

$(BENCH_BUILD)/build.ninja:
	meson setup $(BENCH_BUILD) --buildtype=release -Db_ndebug=true

bench: deps $(BENCH_BUILD)/build.ninja
	ninja -C $(BENCH_BUILD)
	bench/run.sh $(BENCH_BUILD)

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link

fuzz: deps $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	@set -e; for f in $(FUZZ_BUILD)/fuzz/fuzz_*; do \
		case $$f in *_replay|*.p) continue;; esac; \
		[ -f $$f ] && [ -x $$f ] || continue; \
		t=$${f##*/fuzz_}; mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
		echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(FUZZ_BUILD)/corpus/$$t fuzz/corpus/$$t; \
	done

config-doc: build
	$(BUILD)/wims --config-doc > docs/config.md
	$(BUILD)/wims --config-sample > etc/wims.ini

clean:
	rm -rf $(BUILD) $(CHECK_BUILD) $(BENCH_BUILD) $(FUZZ_BUILD)
