#!/bin/bash
# Traces libbabeltrace2 cannot open: metadata truncated inside a packet (what
# a host that died while tracing leaves) is refused in milliseconds, not
# after the watchdog; every other refusal names the file and the root cause
# in user words, never libbabeltrace2's internal addresses.
cd "$(dirname "$0")/../.." || exit 2
. tests/cli/lib/tap.bash

# no_internals NAME: the last stderr holds no object address or bt2 wrapper text.
no_internals() {
	if grep -Eq '0x[0-9a-f]{6,}|comp-addr|Component initialization method failed' "$T/err"; then
		ok 1 "$1: no internal addresses" "$(cat "$T/err")"
	else
		ok 0 "$1: no internal addresses"
	fi
}

# timed_error NAME NEEDLE ARGS...: expect_error, and within 2 s.
timed_error() {
	local name=$1 t0 t1
	t0=$(date +%s%N)
	expect_error "$@"
	t1=$(date +%s%N)
	test $(( (t1 - t0) / 1000000 )) -lt 2000
	ok $? "$name: refused in $(( (t1 - t0) / 1000000 )) ms (under 2 s)"
}

sample=samples/mix-s42-a
cp -r "$sample" "$T/cut6000"
truncate -s 6000 "$T/cut6000/kernel/metadata"
cp -r "$sample" "$T/cut20"
truncate -s 20 "$T/cut20/kernel/metadata"
cp -r "$sample" "$T/cut4133"
truncate -s 4133 "$T/cut4133/kernel/metadata"
for verb in hist dump replay "replay --check"; do
	timed_error "$verb: metadata cut inside packet 2" \
		"kernel: metadata truncated: packet 2 at byte 4096 declares 4096 bytes but the file ends 1904 bytes into it" \
		$verb "$T/cut6000"
done
timed_error "diff: metadata cut inside packet 2" "metadata truncated: packet 2" \
	diff "$sample" "$T/cut6000"
timed_error "hist: metadata cut inside the first header" \
	"metadata truncated: packet 1 at byte 0 has only 20 of its 37 header bytes" hist "$T/cut20"
timed_error "hist: metadata cut just past a header" "metadata truncated: packet 2" \
	hist "$T/cut4133"
# Cut on a packet boundary: whole packets, but the text stops mid-declaration.
cp -r "$sample" "$T/cut4096"
truncate -s 4096 "$T/cut4096/kernel/metadata"
timed_error "hist: metadata cut on a packet boundary" \
	"metadata: At line 123 in metadata stream: the text ends inside a declaration" hist "$T/cut4096"
no_internals "metadata cut on a packet boundary"

# Traces libbabeltrace2 refuses: the root cause, in words, with the file.
synth good --exits 20 --seed 2
cp -r "$T/good" "$T/freq0"
sed -i 's/freq = 1000000000;/freq = 0;/' "$T/freq0/metadata"
expect_error "a clock libbabeltrace2 cannot use" \
	"freq0: metadata: At line 31 in metadata stream: Invalid clock class frequency: freq=0" hist "$T/freq0"
no_internals "a clock libbabeltrace2 cannot use"
cp -r "$T/good" "$T/ctf2"
printf '\036{"type":"preamble","version":2}\n' > "$T/ctf2/metadata"
expect_error "a CTF 2 trace" "ctf2: metadata is CTF 2" dump "$T/ctf2"
no_internals "a CTF 2 trace"
cp -r "$T/good" "$T/nottsdl"
echo 'this is not TSDL {' > "$T/nottsdl/metadata"
expect_error "metadata that is not CTF" "nottsdl: metadata is not CTF" hist "$T/nottsdl"
synth cutstream --exits 4000 --seed 2
f=$(ls "$T"/cutstream/channel* | head -1)
truncate -s $(( $(stat -c %s "$f") / 2 + 3 )) "$f"
expect_error "a truncated stream file is named" \
	"cutstream: stream file channel0_0: its packets cannot be indexed: the file is truncated or corrupt" \
	hist "$T/cutstream"
no_internals "a truncated stream file"
# What a good trace reads is unchanged.
run hist "$T/good"
ok $RC "a good trace still reads" "$(cat "$T/err")"

done_testing
