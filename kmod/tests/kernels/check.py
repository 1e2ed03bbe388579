#!/usr/bin/env python3
"""Checks one run of kmod/tests/kernels/run.sh: the ftrace text of hvtrace's
events and KVM's own kvm_exit, hvt-vmm's plan and attach-run's counters.

  check.py TRACE_TXT PLAN_JSONL ATTACH_RUN_OUT

Prints one line per finding and "ok: ..." lines; exits 1 on any finding.
  - counters: every exit traced, none dropped, none untraceable, one VM;
  - kvm_exit (KVM's tracepoint, printed by KVM) and hvtrace_exit (ours) come
    in pairs: the same number, the same RIP exit by exit (ours is a VMREAD
    of GUEST_RIP, KVM's its register cache);
  - hvtrace_exit: seq 1, 2, ... and the VMM's pid and comm;
  - one hvtrace_resume for each exit, same seq (the last: STOP at detach);
  - every exit the plan names, in order, has the resume mask the plan
    predicts (the GPRs, RIP, RFLAGS, XMM halves and MXCSR that KVM changed),
    and every other exit (asynchronous: EPT violations, interrupts) has an
    empty mask.  A register read from the wrong place (a layout that is not
    the one compiled in, host XMM instead of the guest's) shows up here as a
    wrong or spurious mask bit.
"""
import json
import re
import sys

LINE = re.compile(r"^\s*(?P<task>.+?)-(?P<tid>\d+)\s+\[\d+\].*?:\s+(?P<ev>\w+):\s+(?P<rest>.*)$")
CHG_BITS = (1 << 51) - 1	# GPRs, RIP, RFLAGS, XMM halves, MXCSR (schemas/hvtrace_events.h)


def kv(rest):
    return dict(x.split("=", 1) for x in rest.split() if "=" in x)


def main():
    trace, plan_path, counters_path = sys.argv[1:4]
    bad = []
    kexits, hexits, resumes = [], [], {}
    for line in open(trace, errors="replace"):
        m = LINE.match(line)
        if not m:
            continue
        ev, rest = m.group("ev"), m.group("rest")
        if ev == "kvm_exit":
            r = re.search(r"\brip 0x([0-9a-f]+)", rest)
            kexits.append(int(r.group(1), 16) if r else None)
        elif ev == "hvtrace_exit":
            f = kv(rest)
            hexits.append({"seq": int(f["seq"]), "rip": int(f["rip"], 16),
                           "reason": int(f["reason"], 16) & 0xffff,
                           "pid": int(f["pid"]), "comm": f["comm"]})
        elif ev == "hvtrace_resume":
            f = kv(rest)
            resumes[int(f["seq"])] = (int(f["changed"], 16), int(f["action"]))

    cnt = {}
    for line in open(counters_path):
        p = line.split()
        if len(p) == 2 and p[1].isdigit():
            cnt[p[0]] = int(p[1])
    n = len(hexits)
    if n == 0:
        bad.append("no hvtrace_exit event in the trace")
    if cnt.get("exits") != n or cnt.get("traced") != n:
        bad.append("counters: exits %s traced %s, trace has %d hvtrace_exit"
                   % (cnt.get("exits"), cnt.get("traced"), n))
    for k in ("dropped", "untraceable"):
        if cnt.get(k) != 0:
            bad.append("counters: %s %s" % (k, cnt.get(k)))
    if cnt.get("vms") != 1 or cnt.get("vcpus") != 1:
        bad.append("counters: vms %s vcpus %s" % (cnt.get("vms"), cnt.get("vcpus")))

    if len(kexits) != n:
        bad.append("kvm_exit %d events, hvtrace_exit %d" % (len(kexits), n))
    for i, (k, h) in enumerate(zip(kexits, hexits)):
        if k != h["rip"]:
            bad.append("exit %d: kvm_exit rip %s, hvtrace_exit rip %#x"
                       % (i + 1, hex(k) if k is not None else "?", h["rip"]))
            break

    plan = [json.loads(x) for x in open(plan_path)]
    head, ops = plan[0], [p for p in plan[1:] if "op" in p]
    for i, h in enumerate(hexits):
        if h["seq"] != i + 1:
            bad.append("hvtrace_exit %d has seq %d" % (i + 1, h["seq"]))
            break
        if h["pid"] != head.get("pid") or h["comm"] != "hvt-vmm":
            bad.append("hvtrace_exit seq %d: pid %d comm %s, the VMM is pid %s"
                       % (h["seq"], h["pid"], h["comm"], head.get("pid")))
            break
    missing = [h["seq"] for h in hexits if h["seq"] not in resumes]
    if missing:
        bad.append("%d exits without a resume (first seq %d)" % (len(missing), missing[0]))
    if n and resumes.get(n, (0, 0))[0] & CHG_BITS:
        bad.append("the last exit's resume changed %#x" % resumes[n][0])

    # the plan, in order; anything between two planned exits changes nothing
    j, matched, asyncs, lost = 0, 0, 0, False
    for op in ops:
        want = 0
        for b in op["changes"]:
            want |= 1 << int(b)
        k = j
        while k < n:
            h = hexits[k]
            got = resumes.get(h["seq"], (None, None))[0]
            if (h["rip"] == op["rip"] and got is not None and (got & CHG_BITS) == want and
                    (op["reason"] < 0 or h["reason"] == op["reason"])):
                break
            k += 1
        if k == n:
            bad.append("plan op %d (%s, rip %#x, changes %#x): no exit with that RIP and resume mask"
                       % (op["op"], op["kind"], op["rip"], want))
            lost = True
            break
        for h in hexits[j:k]:
            got = resumes.get(h["seq"], (0, 0))[0] & CHG_BITS
            if got:
                bad.append("exit seq %d (reason %d, rip %#x) is in no plan yet its resume changed %#x"
                           % (h["seq"], h["reason"], h["rip"], got))
            asyncs += 1
        matched += 1
        j = k + 1
    for h in hexits[j:] if not lost else []:
        if resumes.get(h["seq"], (0, 0))[0] & CHG_BITS:
            bad.append("exit seq %d after the plan's end changed registers" % h["seq"])

    for b in bad[:20]:
        print(b)
    if bad:
        return 1
    print("ok: %d exits: kvm_exit and hvtrace_exit agree on every RIP; %d resumes; "
          "%d planned exits with the planned change masks, %d asynchronous exits that changed nothing"
          % (n, len(resumes), matched, asyncs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
