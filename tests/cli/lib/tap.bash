# Shared helpers of the CLI tests (tests/cli/*.sh): TAP output, a scratch
# folder, running hvtrace with its stdout/stderr/status captured, synthetic
# traces, and JSON Schema validation.  Source it; run from the tree's top.
#
#   HVTRACE   the binary under test (default build/bin/hvtrace)
#   HVT_SYNTH the synthetic trace writer (default build/bin/hvtrace-synth)
set -u
HVTRACE=${HVTRACE:-build/bin/hvtrace}
HVT_SYNTH=${HVT_SYNTH:-build/bin/hvtrace-synth}
TAP_N=0
TAP_FAILED=0
T=$(mktemp -d "${TMPDIR:-/tmp}/hvt-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT

ok() {		# ok CONDITION-STATUS NAME [DIAGNOSTIC...]
	local st=$1 name=$2
	shift 2
	TAP_N=$((TAP_N + 1))
	if [ "$st" -eq 0 ]; then
		echo "ok $TAP_N - $name"
	else
		echo "not ok $TAP_N - $name"
		TAP_FAILED=$((TAP_FAILED + 1))
		local d
		for d in "$@"; do
			printf '%s\n' "$d" | sed 's/^/# /'
		done
	fi
}

check() {	# check NAME COMMAND...: ok when the command succeeds
	local name=$1
	shift
	if "$@"; then ok 0 "$name"; else ok 1 "$name" "failed: $*"; fi
}

skip() {	# skip NAME REASON
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1 # SKIP $2"
}

done_testing() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}

# run ARGS...: hvtrace ARGS with stdout in $T/out, stderr in $T/err, status in $RC.
run() {
	timeout 120 "$HVTRACE" "$@" > "$T/out" 2> "$T/err"
	RC=$?
}

# expect_error NAME NEEDLE ARGS...: status 2, one stderr line naming NEEDLE.
expect_error() {
	local name=$1 needle=$2
	shift 2
	run "$@"
	local lines
	lines=$(wc -l < "$T/err")
	if [ "$RC" -eq 2 ] && [ "$lines" -eq 1 ] && grep -q '^hvtrace: ' "$T/err" &&
	   grep -qF -- "$needle" "$T/err"; then
		ok 0 "$name"
	else
		ok 1 "$name" "status $RC (want 2), $lines stderr lines (want 1), want '$needle':" \
			"$(head -5 "$T/err")"
	fi
}

# synth DIR ARGS...: a synthetic trace in $T/DIR.
synth() {
	local d=$1
	shift
	"$HVT_SYNTH" --out "$T/$d" --quiet "$@"
}

# A Python with jsonschema from Debian (installed when missing and root).
json_validator() {
	if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
		return 0
	fi
	if [ "$(id -u)" -eq 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			python3-jsonschema > /dev/null 2>&1
	fi
	/usr/bin/python3 -c 'import jsonschema' 2>/dev/null
}

# validate_json SCHEMA FILE [lines]: FILE (or each line of it) against SCHEMA.
validate_json() {
	/usr/bin/python3 - "$1" "$2" "${3:-doc}" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
docs = []
if sys.argv[3] == "lines":
    docs = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
    if not docs:
        sys.exit("no JSON lines")
else:
    docs = [json.load(open(sys.argv[2]))]
for i, d in enumerate(docs):
    errs = sorted(v.iter_errors(d), key=lambda e: list(e.path))
    if errs:
        sys.exit("document %d: %s at %s" % (i + 1, errs[0].message, list(errs[0].path)))
PY
}

# bt_reason_counts TRACE: "CODE COUNT" lines, counted by babeltrace2's own
# text output (independent of hvtrace's reader).
bt_reason_counts() {
	babeltrace2 "$1" 2>/dev/null | grep ' hvtrace_exit: ' |
		grep -o 'exit_reason = [0-9A-Fa-fx]*' | awk '{print $3}' | sort | uniq -c |
		while read -r n code; do echo "$((code & 0xffff | (code & 0x80000000))) $n"; done |
		sort -n
}
