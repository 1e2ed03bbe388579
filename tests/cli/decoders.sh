#!/bin/bash
# The two decoders give the same answers: every verb, in every output
# format, prints byte-identical output with the same exit status under
# --decoder bt2 (libbabeltrace2) and --decoder auto (the fast decoder where
# it vouches for the trace); and under --decoder fast it either prints the
# same or refuses with "--decoder fast" (it steps aside).  Inputs: every
# sample (samples/), every trace under tests/, synthetic traces of
# hvtrace-synth (schema v3 by default: several vCPUs, lost events, broken
# chains, edits; and schema v1 and v2 traces), and truncated and damaged copies of them.  Also: --decoder-threads
# 1 and 2 agree, the fast decoder is really used on our own traces (-v), and
# the fast decoder's fuzz target (tests/unit/fuzz_fast.c) runs clean.
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash
export HVT_WATCHDOG_SECONDS=${HVT_WATCHDOG_SECONDS:-3}

# same NAME ARGS...: bt2 and auto agree; fast agrees or steps aside.
same() {
	local name=$1 rb ra rf
	shift
	timeout 120 "$HVTRACE" --decoder bt2 "$@" > "$T/o.bt2" 2> "$T/e.bt2"
	rb=$?
	timeout 120 "$HVTRACE" --decoder auto --decoder-threads 2 "$@" > "$T/o.auto" 2> "$T/e.auto"
	ra=$?
	timeout 120 "$HVTRACE" --decoder fast --decoder-threads 1 "$@" > "$T/o.fast" 2> "$T/e.fast"
	rf=$?
	# diff's max_buffered_exits depends on how its two reader threads
	# interleave (it differs between two runs with one decoder): not compared
	sed -i '/"max_buffered_exits"/d' "$T/o.bt2" "$T/o.auto" "$T/o.fast"
	if [ "$rb" = "$ra" ] && cmp -s "$T/o.bt2" "$T/o.auto" &&
	   { { [ "$rf" = "$rb" ] && cmp -s "$T/o.bt2" "$T/o.fast"; } ||
	     { [ "$rf" = 2 ] && grep -q -- '--decoder fast' "$T/e.fast"; }; }; then
		ok 0 "$name"
	else
		ok 1 "$name" "status bt2 $rb auto $ra fast $rf" \
			"$(diff "$T/o.bt2" "$T/o.auto" | head -5)" "$(diff "$T/o.bt2" "$T/o.fast" | head -5)" \
			"$(head -2 "$T/e.bt2" "$T/e.auto" "$T/e.fast")"
	fi
}

# every verb and format on one trace (and diff against a second one)
all_verbs() {
	local tr=$1 other=$2 name=$3 args
	while IFS= read -r args; do
		# shellcheck disable=SC2086
		same "$name: $args" $args "$tr"
	done <<'EOF'
hist
hist --format json
hist --format csv
hist --by qual
hist --by rip --format csv
hist --by vcpu --format json
hist --time ns
hist --by vm
hist --by pid --format json
hist --by comm --format csv
hist --comm hvt-synth --by qual
hist --vm 1 --format csv
dump
dump -v
dump --format json
dump --pid 4000
dump --comm hvt-synth --format json
replay --check
replay --check --format json
replay --check --format csv
replay --check --rules kvm
replay --step --count 40
replay --step --count 40 --format json
replay --at 3
replay --at 3 --format json
EOF
	# shellcheck disable=SC2086
	for args in "diff" "diff --format json" "diff --format csv" "diff --inputs loose" \
		    "diff --comm hvt-synth --format json"; do
		same "$name: $args against $(basename "$other")" $args "$tr" "$other"
	done
}

# fast_used NAME TRACE: -v says the fast decoder read it
fast_used() {
	timeout 120 "$HVTRACE" hist -v --decoder fast "$2" > /dev/null 2> "$T/v" 2>&1
	"$HVTRACE" dump -v --decoder fast "$2" 2>&1 >/dev/null | grep -q 'fast decoder' &&
		ok 0 "$1" || ok 1 "$1" "$(head -3 "$T/v")"
}

# ---- synthetic traces
synth plain --exits 3000 --seed 5
synth vcpus --exits 4000 --vcpus 3 --seed 6
synth lost --exits 3000 --vcpus 2 --seed 7 --discarded 7@1000 --discarded 3@2500
synth broken --exits 2000 --seed 8 --break no-resume@2000 --break gap@500 --break rip@700
synth v1 --exits 1500 --seed 9 --schema-version 1
synth v2 --exits 1500 --seed 9 --schema-version 2 --vcpus 2
synth edited --exits 3000 --seed 5 --drop-seq 100,2000 --insert-at 1500:2 --alter 700:rax=0x1234
synth multi --exits 5000 --seed 10 --vcpus 2
# several programs and VMs (hist --by pid|comm|vm, the --pid/--comm/--vm filters)
synth who --exits 3000 --seed 12 --vcpus 2 --alter 50:comm=other --alter 50:pid=77 \
	--alter 51:comm=other --alter 51:pid=77 --alter 60:vm=1 --alter 61:vm=1 --cpl 3

for s in plain vcpus lost broken v1 v2 edited multi who; do
	check "synth $s written" test -f "$T/$s/metadata"
done
fast_used "the fast decoder reads hvtrace-synth traces" "$T/plain"

all_verbs "$T/plain" "$T/edited" synth-plain
all_verbs "$T/vcpus" "$T/multi" synth-3vcpus
all_verbs "$T/lost" "$T/plain" synth-lost
all_verbs "$T/broken" "$T/plain" synth-broken
all_verbs "$T/v1" "$T/plain" synth-v1
all_verbs "$T/v2" "$T/v1" synth-v2
all_verbs "$T/who" "$T/plain" synth-who
same "synth: hist of two traces at once" hist --format json "$T/plain" "$T/vcpus"
same "synth: dump of two traces at once" dump "$T/plain" "$T/lost"

# threads: one, two and more give the same bytes
for th in 1 2 5; do
	timeout 120 "$HVTRACE" --decoder fast --decoder-threads "$th" dump --format json \
		"$T/vcpus" > "$T/th.$th" 2>&1
done
check "--decoder-threads 1, 2 and 5 give the same records" \
	sh -c "cmp -s '$T/th.1' '$T/th.2' && cmp -s '$T/th.1' '$T/th.5'"

# ---- recorded traces: samples and everything under tests/
traces=$(find samples tests -name metadata 2>/dev/null | xargs -r -n1 dirname | sort)
first=
for tr in $traces; do
	case $tr in tests/cli/data/*) ;; *) [ -n "$first" ] || first=$tr ;; esac
done
for tr in $traces; do
	case $tr in
	tests/cli/data/*)	# traces made to break libbabeltrace2: a few verbs
		same "$tr: hist" hist "$tr"
		same "$tr: dump" dump "$tr"
		same "$tr: replay --check" replay --check "$tr"
		;;
	*)
		all_verbs "$tr" "${first:-$tr}" "$tr"
		;;
	esac
done
[ -n "$first" ] && fast_used "the fast decoder reads recorded LTTng traces" "$first"

# ---- damaged copies: truncated files, flipped bytes, a lost index
damage() {	# damage NAME SRC-TRACE PYTHON-EXPRESSION-ON-b
	rm -rf "${T:?}/$1"
	cp -r "$2" "$T/$1"
	local f
	f=$(find "$T/$1" -maxdepth 1 -type f ! -name metadata | sort | head -n 1)
	/usr/bin/python3 - "$f" "$3" <<'PY'
import sys
f, expr = sys.argv[1], sys.argv[2]
b = bytearray(open(f, 'rb').read())
exec(expr)
open(f, 'wb').write(bytes(b))
PY
}
src=${first:-$T/plain}
damage cut-mid "$T/plain" 'del b[len(b) // 2:]'
damage cut-hdr "$T/plain" 'del b[20:]'
damage cut-one "$T/lost" 'del b[-1:]'
damage flip-ev "$T/plain" 'b[5000] ^= 0x40'
damage flip-id "$T/vcpus" 'b[300] ^= 0x01'
damage zero-run "$T/plain" 'b[8000:8064] = bytes(64)'
damage bad-magic "$T/plain" 'b[0] ^= 0xff'
damage bad-size "$T/plain" 'b[36] ^= 0x08'
damage rec-cut "$src" 'del b[len(b) * 2 // 3:]'
damage rec-flip "$src" 'b[len(b) // 3] ^= 0x10'
for d in cut-mid cut-hdr cut-one flip-ev flip-id zero-run bad-magic bad-size rec-cut rec-flip; do
	same "damaged $d: hist" hist "$T/$d"
	same "damaged $d: hist --format json" hist --format json "$T/$d"
	same "damaged $d: dump" dump "$T/$d"
	same "damaged $d: replay --check" replay --check "$T/$d"
done
if [ -d "$src/index" ]; then
	rm -rf "$T/noindex" "$T/badindex"
	cp -r "$src" "$T/noindex"
	rm -rf "$T/noindex/index"
	same "recorded trace without its index: dump" dump "$T/noindex"
	cp -r "$src" "$T/badindex"
	for i in "$T"/badindex/index/*.idx; do printf 'garbage' | dd of="$i" bs=1 seek=40 conv=notrunc 2>/dev/null; done
	same "recorded trace with a damaged index: dump" dump "$T/badindex"
fi

# ---- the fast decoder's fuzz target (ASan/UBSan)
FZ=${HVT_FUZZ_FAST:-build/asan/tests/fuzz/fuzz_fast_mut}
if [ -x "$FZ" ]; then
	synth fseed --exits 60 --seed 9
	(cd "$T" && HVT_FUZZ_TRACE=$T/fseed ASAN_OPTIONS=detect_leaks=0 HVT_WATCHDOG_SECONDS=2 \
		timeout 900 "$OLDPWD/$FZ" "${HVT_FUZZ_FAST_ITERS:-150}" "${HVT_FUZZ_META_ITERS:-2000}" \
		> "$T/fz.log" 2>&1)
	ok $? "fast decoder fuzz target: no crash, no disagreement" "$(grep -v 'libbabeltrace2' "$T/fz.log" | tail -5)"
	check "fuzz inputs were read by the fast decoder" \
		grep -Eq 'inputs: [1-9][0-9]* read alike' "$T/fz.log"
else
	ok 1 "fast decoder fuzz target built ($FZ)"
fi

done_testing
