#!/usr/bin/env python3
"""Checks a KVM trace of hvt-vmm against the VMM's plan, exit by exit.

usage: kvmcheck.py [--reasons N,N] [--expect-none] [--ftrace FILE] TRACE PLAN
       kvmcheck.py --no-plan [--ftrace FILE] TRACE      (any guest, e.g. Linux)

TRACE is a trace folder (read with babeltrace2, independently of the
analyzer), PLAN the JSON-lines plan hvt-vmm wrote.  For every VM of the
plan's VMM pid (session START events give vm number and vmm_pid, in order)
and each of its vCPUs (the plan's "vcpus", 1 if absent; its lines name
vm_index and vcpu), apart:
  - seq runs 1, 2, 3... without a gap; every exit but the last has exactly
    one resume with the same seq;
  - the planned exits appear in order; each one's reason, RIP, RFLAGS, the 16
    GPRs, XMM0-15, MXCSR (and the I/O qualification or MMIO address) equal
    the plan, and its resume changes exactly the planned registers to the
    planned values, with the planned injected event (#GP for the unknown
    MSR) or none;
  - any other exit is asynchronous (external interrupt, EPT violation of
    RAM, preemption timer, ...): allowed, but its resume must change no
    register (only re-inject an interrupted event delivery);
  - the final HLT is the vCPU's last exit;
  - with several vCPUs: no exit of a vCPU the plan lacks, and the vCPUs'
    exits interleave in the trace (at least as many vCPU switches, from
    one exit of the VM to its next, as vCPUs: run one after the other
    they would make one fewer).
--reasons: the trace was filtered to these basic reasons: only planned
exits of those reasons are expected, and no other reason may appear.
--expect-none: the trace must hold no exit at all (e.g. --pid filter).
--no-plan: no plan (a real guest OS): per vCPU seq gap-free, one resume per
exit (STOP for the last), the session events and their counts.
--ftrace: the kernel's kvm:kvm_exit lines of the same run: per reason the
counts and the RIP sequence must equal ours.
--lttng-peer: the trace also holds lttng-modules' kvm_x86_exit events (same
LTTng session): per vCPU their count per basic exit reason must equal ours,
and exit by exit (in trace order) their exit reason and guest_rip must equal
our exit_reason and rip.  Their vCPU is only vcpu_id (no VM): each vCPU id
must belong to one VM of ours.
--perf VCPU,REPORT,HIST_CSV (repeatable; needs --vmx-h): `perf kvm stat
report --vcpu VCPU` of the same run against `hvtrace hist --vcpu VCPU
--format csv` of this trace.  perf kvm stat counts an exit when the vCPU's
next kvm_entry comes (it pairs exit and entry), so an exit with no entry
after it (our resume is a STOP: the VM ended there) is not in perf's table:
per reason, perf's count must equal hist's count minus those exits, and
hist's count must equal the exits this script reads.  perf's reason names
are mapped to codes by the kernel's VMX_EXIT_REASONS (asm/vmx.h, --vmx-h),
hist's by schemas/exit_reasons.h.
--hist HVTRACE: `hvtrace hist --by vm` and, per VM, `--vm N --by vcpu` of
TRACE (csv) must count per VM and per vCPU the exits this script reads.
--bt-text FILE: read babeltrace2's text output of TRACE from FILE instead of
running babeltrace2 (to show that a changed trace is reported).
Prints one line per VM and 'kvmcheck: OK' or the first differences; exit 0/1.
"""
import collections
import json
import os
import re
import subprocess
import sys

ASYNC_OK = {1, 7, 8, 48, 52, 29}   # ext. interrupt, irq/NMI window, EPT violation, preemption timer, MTF
NAMES = {0: "EXCEPTION_NMI", 1: "EXTERNAL_INTERRUPT", 10: "CPUID", 12: "HLT", 18: "VMCALL",
         30: "IO_INSTRUCTION", 31: "RDMSR", 32: "WRMSR", 48: "EPT_VIOLATION",
         49: "EPT_MISCONFIG", 52: "PREEMPTION_TIMER"}


def parse_value(s, i):
    """Parses a babeltrace2 value at s[i:]: [ [k] = v, ... ], "text" or a scalar."""
    if s[i] == '[':
        i += 1
        arr = []
        while True:
            while s[i] == ' ':
                i += 1
            if s[i] == ']':
                return arr, i + 1
            m = re.compile(r'\[\d+\] = ').match(s, i)
            i = m.end()
            v, i = parse_value(s, i)
            arr.append(v)
            while s[i] in ' ,':
                i += 1
    if s[i] == '"':
        j = s.index('"', i + 1)
        return s[i + 1:j], j + 1
    m = re.compile(r'[^,}\]]+').match(s, i)
    t = m.group(0).strip()
    try:
        v = int(t, 0)
    except ValueError:
        v = t
    return v, m.end()


def parse_payload(s):
    d = {}
    i = 0
    pat = re.compile(r'\s*(\w+) = ')
    while i < len(s):
        m = pat.match(s, i)
        if not m:
            break
        v, i = parse_value(s, m.end())
        d[m.group(1)] = v
        while i < len(s) and s[i] in ' ,':
            i += 1
    return d


BT_TEXT = None


def read_trace(path):
    if BT_TEXT:
        with open(BT_TEXT) as f:
            text = f.read()
    else:
        out = subprocess.run(["babeltrace2", path], capture_output=True, text=True)
        if out.returncode:
            sys.exit("kvmcheck: babeltrace2 failed: " + out.stderr.strip()[:300])
        text = out.stdout
    evs = []
    for line in text.splitlines():
        m = re.search(r' (hvtrace_\w+|kvm_x86_exit): \{ cpu_id = \d+ \}, \{ (.*) \}$', line)
        if m:
            evs.append((m.group(1), parse_payload(m.group(2))))
        elif "discarded" in line.lower():
            evs.append(("discarded", {"line": line}))
    return evs


def main():
    args = sys.argv[1:]
    reasons = None
    expect_none = False
    ftrace = None
    no_plan = False
    peers = {"lttng": False, "perf": [], "vmx_h": None}
    hist_bin = None
    global BT_TEXT
    while args and args[0].startswith("--"):
        a = args.pop(0)
        if a == "--lttng-peer":
            peers["lttng"] = True
            continue
        if a == "--perf":
            v = args.pop(0).split(",")
            if len(v) != 3:
                sys.exit("kvmcheck: --perf VCPU,REPORT,HIST_CSV")
            peers["perf"].append((int(v[0]), v[1], v[2]))
            continue
        if a == "--vmx-h":
            peers["vmx_h"] = args.pop(0)
            continue
        if a == "--hist":
            hist_bin = args.pop(0)
            continue
        if a == "--bt-text":
            BT_TEXT = args.pop(0)
            continue
        if a == "--reasons":
            reasons = {int(x) for x in args.pop(0).split(",")}
        elif a == "--expect-none":
            expect_none = True
        elif a == "--no-plan":
            no_plan = True
        elif a == "--ftrace":
            ftrace = args.pop(0)
        else:
            sys.exit("kvmcheck: unknown option " + a)
    if peers["perf"] and not peers["vmx_h"]:
        sys.exit("kvmcheck: --perf needs --vmx-h")
    if no_plan:
        return check_no_plan(args[0], ftrace, peers)
    trace, plan_path = args
    with open(plan_path) as f:
        lines = [json.loads(x) for x in f if x.strip()]
    head, plan = lines[0], lines[1:]
    evs = read_trace(trace)
    errors = []

    def err(msg):
        if len(errors) < 30:
            errors.append(msg)

    if any(k == "discarded" for k, _ in evs):
        err("the trace has discarded events")
    sessions = [d for k, d in evs if k == "hvtrace_session"]
    exits = [d for k, d in evs if k == "hvtrace_exit"]
    resumes = [d for k, d in evs if k == "hvtrace_resume"]
    phases = collections.Counter(s["phase"] for s in sessions)
    if phases[2] != 1 or phases[3] != 1:
        err("expected one ATTACH and one DETACH session event, got phases %s" % dict(phases))
    if expect_none:
        if exits or resumes:
            err("%d exits and %d resumes in a trace that should have none" % (len(exits), len(resumes)))
        det = [s for s in sessions if s["phase"] == 3]
        if det and det[0]["filtered"] == 0:
            err("DETACH session says nothing was filtered")
        print("kvmcheck: %d exits; DETACH: exits %s filtered %s" %
              (len(exits), det[0]["exits"] if det else "?", det[0]["filtered"] if det else "?"))
        return finish(errors)

    starts = [s for s in sessions if s["phase"] == 0 and s["vmm_pid"] == head["pid"]]
    vm_numbers = [s["vm"] for s in starts]
    if len(vm_numbers) != head["vms"]:
        err("plan has %d VMs for pid %d, trace START events name %d: %s" %
            (head["vms"], head["pid"], len(vm_numbers), vm_numbers))
    ends = {s["vm"]: s for s in sessions if s["phase"] == 1}
    by_vm = collections.defaultdict(list)
    res_by = {}
    for e in exits:
        by_vm[(e["vm"], e["vcpu"])].append(e)
    for r in resumes:
        key = (r["vm"], r["vcpu"], r["seq"])
        if key in res_by:
            err("two resumes for vm %d vcpu %d seq %d" % key)
        res_by[key] = r
    ft_rips = collections.defaultdict(list)

    nvcpus = head.get("vcpus", 1)
    planned_by = {}
    for vm_index, vm in enumerate(vm_numbers):
        vm_exits = 0
        end = ends.get(vm)
        for vc in range(nvcpus):
            tag = "vm %d" % vm if nvcpus == 1 else "vm %d vcpu %d" % (vm, vc)
            vplan = [p for p in plan if p["vm_index"] == vm_index and p.get("vcpu", 0) == vc]
            if reasons is not None:
                vplan = [p for p in vplan if p["reason"] in reasons or
                         (p["reason"] == -1 and reasons & {48, 49})]
            ex = by_vm.get((vm, vc), [])
            stats = collections.Counter()
            pi = 0
            for n, e in enumerate(ex):
                ft_rips[e["exit_reason"] & 0xffff].append(e["rip"])
                if reasons is None and e["seq"] != n + 1:
                    err("%s: exit %d has seq %d (gap)" % (tag, n + 1, e["seq"]))
                if n and e["seq"] <= ex[n - 1]["seq"]:
                    err("%s: seq not increasing at %d" % (tag, e["seq"]))
                basic = e["exit_reason"] & 0xffff
                if reasons is not None and basic not in reasons:
                    err("%s seq %d: reason %d is not among the selected %s" % (tag, e["seq"], basic, sorted(reasons)))
                r = res_by.get((vm, vc, e["seq"]))
                last = n == len(ex) - 1
                p = vplan[pi] if pi < len(vplan) else None
                planned = False
                if p is not None and e["rip"] == p["rip"]:
                    if p["reason"] == -1:
                        planned = basic in (48, 49) and e["guest_phys"] == p["mmio_gpa"]
                    else:
                        planned = basic == p["reason"]
                if not planned:
                    if basic not in ASYNC_OK or (basic == 48 and e["guest_phys"] >= 0x20000000):
                        err("%s seq %d: unexpected exit %s at rip %#x (next planned: op %s %s at %s)" %
                            (tag, e["seq"], NAMES.get(basic, basic), e["rip"],
                             p and p["op"], p and p["kind"], p and hex(p["rip"])))
                        continue
                    stats["async " + NAMES.get(basic, str(basic))] += 1
                    if r is None:
                        err("%s seq %d: no resume" % (tag, e["seq"]))
                    elif r["changed"] != 0:
                        err("%s seq %d: asynchronous exit %s but the resume changed %#x" %
                            (tag, e["seq"], NAMES.get(basic, basic), r["changed"]))
                    elif r["action"] == 2 and not (e["idt_info"] & 0x80000000):
                        err("%s seq %d: injection after an asynchronous exit without an event being delivered" %
                            (tag, e["seq"]))
                    continue
                pi += 1
                stats[p["kind"]] += 1
                where = "%s seq %d op %d %s" % (tag, e["seq"], p["op"], p["kind"])
                if p["kind"] == "end":
                    if not last:
                        err("%s: the final HLT is not the last exit" % where)
                    if r is None or r["action"] != 1 or r["changed"] != 0:
                        err("%s: the final HLT has no STOP resume (the VM ended)" % where)
                    continue
                for f in ("rflags", "mxcsr"):
                    if e[f] != p[f]:
                        err("%s: %s %#x, planned %#x" % (where, f, e[f], p[f]))
                for i in range(16):
                    if e["gpr"][i] != p["gpr"][i]:
                        err("%s: gpr[%d] %#x, planned %#x" % (where, i, e["gpr"][i], p["gpr"][i]))
                if e["rsp"] != p["gpr"][4]:
                    err("%s: rsp %#x, planned %#x" % (where, e["rsp"], p["gpr"][4]))
                for i in range(32):
                    if e["xmm"][i] != p["xmm"][i]:
                        err("%s: xmm[%d] %#x, planned %#x" % (where, i, e["xmm"][i], p["xmm"][i]))
                if p["qual"] is not None and e["exit_qual"] != p["qual"]:
                    err("%s: exit_qual %#x, planned %#x" % (where, e["exit_qual"], p["qual"]))
                if r is None:
                    err("%s: no resume" % where)
                    continue
                want_mask = 0
                want_vals = []
                for bit in sorted(int(b) for b in p["changes"]):
                    want_mask |= 1 << bit
                    want_vals.append(p["changes"][str(bit)])
                if r["changed"] != want_mask:
                    err("%s: resume changed %#x, planned %#x" % (where, r["changed"], want_mask))
                elif list(r["values"]) != want_vals:
                    err("%s: resume values %s, planned %s" % (where, [hex(v) for v in r["values"]],
                                                              [hex(v) for v in want_vals]))
                if p["inject"]:
                    if r["action"] != 2 or [r["inject_info"], r["inject_error"]] != p["inject"]:
                        err("%s: resume action %d inject %#x/%#x, planned INJECT %#x/%#x" %
                            (where, r["action"], r["inject_info"], r["inject_error"], *p["inject"]))
                elif r["action"] != 0:
                    err("%s: resume action %d, planned RESUME" % (where, r["action"]))
            if pi != len(vplan):
                err("%s: %d of %d planned exits found (next: op %s)" %
                    (tag, pi, len(vplan), vplan[pi]["op"] if pi < len(vplan) else "-"))
            print("kvmcheck: %s (pid %d): %d exits, %d planned exits found in order and compared value by value; %s; END exits %s filtered %s" %
                  (tag, head["pid"], len(ex), pi,
                   ", ".join("%s %d" % kv for kv in sorted(stats.items())),
                   end["exits"] if end else "?", end["filtered"] if end else "?"))
            vm_exits += len(ex)
            planned_by[(vm, vc)] = (pi, len(ex))
        if nvcpus > 1:
            # the vCPUs ran at the same time: their exits interleave
            order = [e["vcpu"] for e in exits if e["vm"] == vm]
            switches = sum(1 for a, b in zip(order, order[1:]) if a != b)
            print("kvmcheck: vm %d: %d vCPUs, %d exits, %d vCPU switches in the trace's order of exits" %
                  (vm, nvcpus, len(order), switches))
            if switches < nvcpus:
                err("vm %d: only %d vCPU switches in the trace: its vCPUs' exits do not interleave" % (vm, switches))
            extra = sorted({e["vcpu"] for e in exits if e["vm"] == vm} - set(range(nvcpus)))
            if extra:
                err("vm %d: exits of vCPUs %s the plan does not have" % (vm, extra))
        if end is None:
            err("vm %d: no END session event" % vm)
        elif reasons is None and end["exits"] != vm_exits:
            err("vm %d: END says %d exits, the trace has %d" % (vm, end["exits"], vm_exits))

    if ftrace:
        check_ftrace(ftrace, ft_rips, err)
    if hist_bin:
        check_hist(hist_bin, trace, head["pid"], vm_numbers, nvcpus, planned_by, err)
    check_peers(evs, peers, err)
    return finish(errors)


def hist_csv(hist_bin, args, err):
    out = subprocess.run([hist_bin, "hist", "--format", "csv"] + args, capture_output=True, text=True)
    if out.returncode:
        err("hvtrace hist %s: status %d: %s" % (" ".join(args), out.returncode, out.stderr.strip()[:200]))
        return []
    rows = out.stdout.splitlines()
    cols = rows[0].split(",") if rows else []
    return [dict(zip(cols, r.split(","))) for r in rows[1:]]


def check_hist(hist_bin, trace, pid, vm_numbers, nvcpus, planned_by, err):
    """hvtrace hist --by vm, and --vm N --by vcpu per VM: the exit counts
    must equal the trace's per VM and per vCPU of each VM (which hold the
    plan's exits, each found above, plus the asynchronous ones)."""
    rows = {int(r["vm"]): r for r in hist_csv(hist_bin, ["--by", "vm", trace], err)}
    for vm in vm_numbers:
        want = sum(planned_by.get((vm, vc), (0, 0))[1] for vc in range(nvcpus))
        r = rows.get(vm)
        if r is None or int(r["count"]) != want or int(r["vm_pid"]) != pid:
            err("hist --by vm: vm %d: %s, the trace has %d exits of pid %d" %
                (vm, r and "%s exits of pid %s" % (r["count"], r["vm_pid"]), want, pid))
        vrows = {int(x["vcpu"]): int(x["count"])
                 for x in hist_csv(hist_bin, ["--vm", str(vm), "--by", "vcpu", trace], err)}
        cells = []
        for vc in range(nvcpus):
            planned, n = planned_by.get((vm, vc), (0, 0))
            if vrows.get(vc) != n:
                err("hist --vm %d --by vcpu: vcpu %d: %s exits, the trace has %d" % (vm, vc, vrows.get(vc), n))
            cells.append("vcpu %d %s (%d planned + %d async)" % (vc, vrows.get(vc), planned, n - planned))
        if set(vrows) != set(range(nvcpus)):
            err("hist --vm %d --by vcpu: vCPUs %s, the plan has %d" % (vm, sorted(vrows), nvcpus))
        print("kvmcheck: hist: vm %d: %s exits (--by vm); --by vcpu: %s" %
              (vm, r and r["count"], ", ".join(cells)))


def check_no_plan(trace, ftrace, peers):
    evs = read_trace(trace)
    errors = []

    def err(msg):
        if len(errors) < 30:
            errors.append(msg)

    if any(k == "discarded" for k, _ in evs):
        err("the trace has discarded events")
    sessions = [d for k, d in evs if k == "hvtrace_session"]
    phases = collections.Counter(s["phase"] for s in sessions)
    if phases[2] != 1 or phases[3] != 1:
        err("expected one ATTACH and one DETACH session event, got phases %s" % dict(phases))
    by = collections.defaultdict(list)
    res = collections.defaultdict(list)
    ours = collections.defaultdict(list)
    for k, d in evs:
        if k == "hvtrace_exit":
            by[(d["vm"], d["vcpu"])].append(d)
            ours[d["exit_reason"] & 0xffff].append(d["rip"])
        elif k == "hvtrace_resume":
            res[(d["vm"], d["vcpu"])].append(d)
    ends = {s["vm"]: s for s in sessions if s["phase"] == 1}
    for key, ex in sorted(by.items()):
        seqs = [e["seq"] for e in ex]
        if seqs != list(range(seqs[0], seqs[0] + len(seqs))):
            err("vm %d vcpu %d: seq has gaps" % key)
        rs = [r["seq"] for r in res[key]]
        if rs != seqs:
            err("vm %d vcpu %d: resumes %d for %d exits, or out of order" % (key[0], key[1], len(rs), len(seqs)))
        stops = sum(1 for r in res[key] if r["action"] == 1)
        print("kvmcheck: vm %d vcpu %d: %d exits (seq %d..%d), %d resumes (%d INJECT, %d STOP)" %
              (key[0], key[1], len(ex), seqs[0], seqs[-1], len(rs),
               sum(1 for r in res[key] if r["action"] == 2), stops))
    for vm in {k[0] for k in by}:
        n = sum(len(v) for k, v in by.items() if k[0] == vm)
        if vm not in ends or ends[vm]["exits"] != n:
            err("vm %d: END session says %s exits, the trace has %d" %
                (vm, ends[vm]["exits"] if vm in ends else "?", n))
    if not by:
        err("no exit in the trace")
    if ftrace:
        check_ftrace(ftrace, ours, err)
    check_peers(evs, peers, err)
    return finish(errors)


SCHEMA_NAMES = {}


def reason_name(code):
    if not SCHEMA_NAMES:
        SCHEMA_NAMES.update({v: k for k, v in schema_names().items()})
    return SCHEMA_NAMES.get(code, NAMES.get(code, str(code)))


def check_peers(evs, peers, err):
    exits = [d for k, d in evs if k == "hvtrace_exit"]
    if peers["lttng"]:
        check_lttng_peer(exits, [d for k, d in evs if k == "kvm_x86_exit"], err)
    if peers["perf"]:
        stops = collections.Counter()
        last = {}
        for e in exits:
            last[(e["vm"], e["vcpu"])] = e
        res = {(d["vm"], d["vcpu"], d["seq"]): d for k, d in evs if k == "hvtrace_resume"}
        for key, e in last.items():
            r = res.get((key[0], key[1], e["seq"]))
            if r is not None and r["action"] == 1:
                stops[(key[1], e["exit_reason"] & 0xffff)] += 1
        check_perf(exits, stops, peers, err)


def check_lttng_peer(exits, theirs, err):
    """lttng-modules' kvm_x86_exit of the same session, per vCPU id."""
    if not theirs:
        err("lttng peer: no kvm_x86_exit event in the trace")
        return
    ours_by = collections.defaultdict(list)
    vms = collections.defaultdict(set)
    for e in exits:
        ours_by[e["vcpu"]].append(e)
        vms[e["vcpu"]].add(e["vm"])
    theirs_by = collections.defaultdict(list)
    for t in theirs:
        theirs_by[t["vcpu_id"]].append(t)
    for vcpu in sorted(set(ours_by) | set(theirs_by)):
        if len(vms[vcpu]) > 1:
            err("lttng peer: vCPU id %d is in VMs %s: kvm_x86_exit cannot tell them apart" %
                (vcpu, sorted(vms[vcpu])))
            continue
        o, t = ours_by.get(vcpu, []), theirs_by.get(vcpu, [])
        co = collections.Counter(e["exit_reason"] & 0xffff for e in o)
        ct = collections.Counter(x["exit_reason"] & 0xffff for x in t)
        for r in sorted(set(co) | set(ct)):
            if co[r] != ct[r]:
                err("lttng peer: vcpu %d reason %s: kvm_x86_exit %d, hvtrace %d" %
                    (vcpu, reason_name(r), ct[r], co[r]))
        bad = 0
        for i, (a, b) in enumerate(zip(o, t)):
            if (a["exit_reason"] & 0xffff) != (b["exit_reason"] & 0xffff) or a["rip"] != b["guest_rip"]:
                if bad < 5:
                    err("lttng peer: vcpu %d exit %d (seq %d): kvm_x86_exit %s rip %#x, hvtrace %s rip %#x" %
                        (vcpu, i + 1, a["seq"], reason_name(b["exit_reason"] & 0xffff), b["guest_rip"],
                         reason_name(a["exit_reason"] & 0xffff), a["rip"]))
                bad += 1
        if len(o) != len(t):
            err("lttng peer: vcpu %d: %d kvm_x86_exit events, %d hvtrace exits" % (vcpu, len(t), len(o)))
        print("kvmcheck: lttng peer: vcpu %d: %d kvm_x86_exit, %d hvtrace_exit; %d exits differ in reason or rip; per reason %s" %
              (vcpu, len(t), len(o), bad,
               ", ".join("%s %d/%d" % (reason_name(r), ct[r], co[r]) for r in sorted(set(co) | set(ct)))))


def vmx_exit_names(path):
    """perf's reason names (the kernel's VMX_EXIT_REASONS) to codes."""
    text = open(path).read()
    code = {m.group(1): int(m.group(2), 0)
            for m in re.finditer(r'#define\s+EXIT_REASON_(\w+)\s+(\w+)', text)}
    names = {}
    for m in re.finditer(r'\{\s*EXIT_REASON_(\w+),\s*"(\w+)"\s*\}', text):
        if m.group(1) in code:
            names[m.group(2)] = code[m.group(1)]
    if not names:
        sys.exit("kvmcheck: no VMX_EXIT_REASONS table in " + path)
    return names


def schema_names():
    """hvtrace's reason names (schemas/exit_reasons.h) to codes."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                        "schemas", "exit_reasons.h")
    with open(path) as f:
        text = f.read()
    return {m.group(2): int(m.group(1)) for m in re.finditer(r'X\((\d+),\s*(\w+),', text)}


def check_perf(exits, stops, peers, err):
    perf_names = vmx_exit_names(peers["vmx_h"])
    hist_names = schema_names()
    for vcpu, report, hist_csv in peers["perf"]:
        pc = collections.Counter()
        with open(report) as f:
            text = f.read()
        if re.search(r'lost \d+ chunks|LOST', text):
            err("perf peer: vcpu %d: the report says events were lost" % vcpu)
        for line in text.splitlines():
            m = re.match(r'\s*(\w+)\s+(\d+)\s+[\d.]+%\s+[\d.]+%', line)
            if m:
                if m.group(1) not in perf_names:
                    err("perf peer: unknown exit reason name %s" % m.group(1))
                    continue
                pc[perf_names[m.group(1)]] += int(m.group(2))
        if not pc:
            err("perf peer: vcpu %d: no VM-EXIT row in %s" % (vcpu, report))
        hc = collections.Counter()
        with open(hist_csv) as f:
            rows = f.read().splitlines()
        for line in rows[1:]:
            name, count = line.split(",")[:2]
            if name not in hist_names:
                err("perf peer: hist row %s is no schema reason" % name)
                continue
            hc[hist_names[name]] += int(count)
        ours = collections.Counter(e["exit_reason"] & 0xffff for e in exits if e["vcpu"] == vcpu)
        cells = []
        for r in sorted(set(pc) | set(hc) | set(ours)):
            st = stops[(vcpu, r)]
            if hc[r] != ours[r]:
                err("perf peer: vcpu %d %s: hvtrace hist %d, the trace %d" % (vcpu, reason_name(r), hc[r], ours[r]))
            if pc[r] != hc[r] - st:
                err("perf peer: vcpu %d %s: perf kvm stat %d, hvtrace hist %d%s" %
                    (vcpu, reason_name(r), pc[r], hc[r], " - %d ending the VM" % st if st else ""))
            cells.append("%s %d/%d%s" % (reason_name(r), pc[r], hc[r], "-%d" % st if st else ""))
        print("kvmcheck: perf peer: vcpu %d: perf kvm stat %d exits, hvtrace hist %d (%d ending a VM); per reason perf/hist: %s" %
              (vcpu, sum(pc.values()), sum(hc.values()), sum(v for k, v in stops.items() if k[0] == vcpu),
               ", ".join(cells)))


def check_ftrace(path, ours, err):
    """kvm:kvm_exit lines of the same run: counts and RIPs per reason."""
    theirs = collections.defaultdict(list)
    name2code = {}
    for line in open(path):
        m = re.search(r'kvm_exit: vcpu \d+ reason (\w+) rip 0x([0-9a-f]+)', line)
        if m:
            theirs[m.group(1)].append(int(m.group(2), 16))
    # map ftrace's reason names to codes through the RIP sequences
    total_t = sum(len(v) for v in theirs.values())
    total_o = sum(len(v) for v in ours.values())
    if total_t != total_o:
        err("ftrace kvm:kvm_exit has %d exits, hvtrace %d" % (total_t, total_o))
    unmatched = dict(ours)
    for name, rips in sorted(theirs.items()):
        code = next((c for c, r in unmatched.items() if r == rips), None)
        if code is None:
            err("ftrace reason %s: %d exits whose RIP sequence matches no hvtrace reason" % (name, len(rips)))
        else:
            name2code[name] = code
            del unmatched[code]
    print("kvmcheck: ftrace peer: %d kvm:kvm_exit events; per reason count and RIP sequence equal: %s" %
          (total_t, ", ".join("%s=%d(%d)" % (n, c, len(theirs[n])) for n, c in sorted(name2code.items()))))


def finish(errors):
    for e in errors:
        print("kvmcheck: FAIL " + e)
    print("kvmcheck: " + ("OK" if not errors else "%d+ differences" % len(errors)))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
