# Statistics of one hvtrace trace from babeltrace2's text output, computed
# independently of the hvtrace analyzer (the e2e checks compare the two).
# Run with gawk:  babeltrace2 TRACE | gawk -f trace-stats.awk schemas/exit_reasons.h -
# The first file is the schema's exit-reason table (names by code).
# Prints lines:
#   reason NAME COUNT           exits per reason, as `hvtrace hist` names them
#   exits N / resumes N / sessions N
#   gaps N                      per-vCPU seq steps other than +1
#   unmatched N                 resumes without their exit
#   latency min|mean|p50|p99|max N   resume.tsc - exit.tsc in TSC cycles
FNR == NR {
	if (match($0, /X\(([0-9]+), *([A-Z0-9_]+)/, m))
		name[m[1] + 0] = m[2]
	next
}
function field(line, key,    m) {
	if (match(line, "[ {]" key " = (0x[0-9A-Fa-f]+|-?[0-9]+)", m))
		return strtonum(m[1])
	return ""
}
/ hvtrace_exit: / {
	v = field($0, "vcpu"); s = field($0, "seq"); r = field($0, "exit_reason")
	t = field($0, "tsc")
	b = and(r, 0xffff)
	n = (b in name) ? name[b] : "UNKNOWN(" b ")"
	if (and(r, 0x80000000))
		n = n "(entry-failure)"
	count[n]++
	exits++
	if ((v in last) && s != last[v] + 1)
		gaps++
	last[v] = s
	etsc[v, s] = t
	next
}
/ hvtrace_resume: / {
	v = field($0, "vcpu"); s = field($0, "seq"); t = field($0, "tsc")
	resumes++
	if (!((v, s) in etsc)) {
		unmatched++
		next
	}
	lat[++nl] = t - etsc[v, s]
	sum += t - etsc[v, s]
	delete etsc[v, s]
	next
}
/ hvtrace_session: / { sessions++ }
END {
	for (n in count)
		printf "reason %s %d\n", n, count[n]
	printf "exits %d\nresumes %d\nsessions %d\ngaps %d\nunmatched %d\n",
		exits, resumes, sessions, gaps, unmatched
	if (nl) {
		asort(lat)
		printf "latency min %d\nlatency mean %.1f\nlatency p50 %d\nlatency p99 %d\nlatency max %d\n",
			lat[1], sum / nl, lat[int((nl - 1) * 0.50) + 1],
			lat[int((nl - 1) * 0.99) + 1], lat[nl]
	}
}
