// SPDX-License-Identifier: GPL-2.0
/*
 * Decoding of plain LTTng kvm events (kvm_events.h): names, member indices
 * resolved once per event class, values read per event.
 */
#include <babeltrace2/babeltrace.h>
#include <stdio.h>
#include <string.h>

#include "decode/kvm_events.h"
#include "vmx/qual.h"

enum {
	F_EXIT_REASON, F_GUEST_RIP, F_ISA, F_INFO1, F_INFO2, F_INTR_INFO,
	F_ERROR_CODE, F_VCPU_ID,
};

static const char *const field_names[HVT_KVM_NFIELDS] = {
	"exit_reason", "guest_rip", "isa", "info1", "info2", "intr_info",
	"error_code", "vcpu_id",
};

int hvt_kvm_event_kind(const char *name)
{
	if (!name)
		return HVT_KVM_NONE;
	if (!strcmp(name, "kvm_x86_exit") || !strcmp(name, "kvm_exit"))
		return HVT_KVM_EXIT;
	if (!strcmp(name, "kvm_x86_entry") || !strcmp(name, "kvm_entry"))
		return HVT_KVM_ENTRY;
	return HVT_KVM_NONE;
}

void hvt_kvm_resolve(const void *event_class, struct hvt_kvm_class *c)
{
	const bt_event_class *ec = event_class;
	const bt_field_class *p = bt_event_class_borrow_payload_field_class_const(ec);
	uint64_t nm;

	memset(c, 0, sizeof(*c));
	for (int f = 0; f < HVT_KVM_NFIELDS; f++)
		c->idx[f] = -1;
	c->kind = hvt_kvm_event_kind(bt_event_class_get_name(ec));
	if (!c->kind)
		return;
	if (!p || bt_field_class_get_type(p) != BT_FIELD_CLASS_TYPE_STRUCTURE) {
		c->kind = HVT_KVM_NONE;	/* not the layout we know: left alone */
		return;
	}
	nm = bt_field_class_structure_get_member_count(p);
	for (uint64_t m = 0; m < nm; m++) {
		const bt_field_class_structure_member *mem =
			bt_field_class_structure_borrow_member_by_index_const(p, m);
		const bt_field_class *fc = bt_field_class_structure_member_borrow_field_class_const(mem);
		bt_field_class_type t = bt_field_class_get_type(fc);
		const char *name = bt_field_class_structure_member_get_name(mem);

		if (!bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_INTEGER))
			continue;
		for (int f = 0; f < HVT_KVM_NFIELDS; f++)
			if (!strcmp(name, field_names[f])) {
				c->idx[f] = (int64_t)m;
				c->sgn[f] = bt_field_class_type_is(t,
					BT_FIELD_CLASS_TYPE_SIGNED_INTEGER);
			}
	}
	/* an exit without its reason is not something to count */
	if (c->kind == HVT_KVM_EXIT && c->idx[F_EXIT_REASON] < 0)
		c->kind = HVT_KVM_NONE;
}

static uint64_t int_of(const bt_field *f)
{
	bt_field_class_type t = bt_field_get_class_type(f);

	if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER))
		return (uint64_t)bt_field_integer_signed_get_value(f);
	return bt_field_integer_unsigned_get_value(f);
}

static int member_int(const bt_field *st, const char *name, uint64_t *v)
{
	const bt_field *f;

	if (!st || bt_field_get_class_type(st) != BT_FIELD_CLASS_TYPE_STRUCTURE)
		return 0;
	f = bt_field_structure_borrow_member_field_by_name_const(st, name);
	if (!f || !bt_field_class_type_is(bt_field_get_class_type(f),
					  BT_FIELD_CLASS_TYPE_INTEGER))
		return 0;
	*v = int_of(f);
	return 1;
}

void hvt_kvm_decode(const struct hvt_kvm_class *c, const void *event,
		    struct hvt_kvm_rec *out)
{
	const bt_event *e = event;
	const bt_field *p = bt_event_borrow_payload_field_const(e);
	const bt_packet *pk = bt_event_borrow_packet_const(e);
	const bt_field *ctx = bt_event_borrow_common_context_field_const(e);
	uint64_t v[HVT_KVM_NFIELDS] = { 0 }, x;

	memset(out, 0, sizeof(*out));
	out->kind = (uint32_t)c->kind;
	for (int f = 0; f < HVT_KVM_NFIELDS; f++)
		if (c->idx[f] >= 0)
			v[f] = int_of(bt_field_structure_borrow_member_field_by_index_const(
				p, (uint64_t)c->idx[f]));
	out->exit_reason = (uint32_t)v[F_EXIT_REASON];
	out->guest_rip = v[F_GUEST_RIP];
	out->isa = (uint32_t)v[F_ISA];
	out->info1 = v[F_INFO1];
	out->info2 = v[F_INFO2];
	out->intr_info = (uint32_t)v[F_INTR_INFO];
	out->error_code = (uint32_t)v[F_ERROR_CODE];
	out->vcpu_id = (uint32_t)v[F_VCPU_ID];
	if (c->idx[F_VCPU_ID] >= 0)
		out->has |= HVT_KVM_HAS_VCPU;
	if (member_int(ctx, "tid", &x) || member_int(ctx, "vtid", &x)) {
		out->tid = (int64_t)x;
		out->has |= HVT_KVM_HAS_TID;
	}
	if (pk && member_int(bt_packet_borrow_context_field_const(pk), "cpu_id", &x)) {
		out->cpu = (uint32_t)x;
		out->has |= HVT_KVM_HAS_CPU;
	}
}

/* SVM exit codes (arch/x86/include/uapi/asm/svm.h) that guests hit most. */
static const struct { uint32_t code; const char *name; } svm_names[] = {
	{ 0x060, "INTR" }, { 0x061, "NMI" }, { 0x062, "SMI" }, { 0x063, "INIT" },
	{ 0x064, "VINTR" }, { 0x065, "CR0_SEL_WRITE" }, { 0x06e, "RDTSC" },
	{ 0x06f, "RDPMC" }, { 0x072, "CPUID" }, { 0x074, "IRET" }, { 0x076, "INVD" },
	{ 0x077, "PAUSE" }, { 0x078, "HLT" }, { 0x079, "INVLPG" }, { 0x07b, "IOIO" },
	{ 0x07c, "MSR" }, { 0x07d, "TASK_SWITCH" }, { 0x07f, "SHUTDOWN" },
	{ 0x081, "VMMCALL" }, { 0x087, "RDTSCP" }, { 0x089, "WBINVD" },
	{ 0x08a, "MONITOR" }, { 0x08b, "MWAIT" }, { 0x08d, "XSETBV" },
	{ 0x400, "NPF" }, { 0x401, "AVIC_INCOMPLETE_IPI" },
	{ 0x402, "AVIC_UNACCELERATED_ACCESS" },
};

void hvt_kvm_reason_format(uint32_t isa, uint32_t reason, char *buf, size_t len)
{
	if (isa == 2) {
		const char *n = NULL;

		for (size_t i = 0; i < sizeof(svm_names) / sizeof(svm_names[0]); i++)
			if (svm_names[i].code == reason)
				n = svm_names[i].name;
		if (!n && reason < 0x20)
			n = reason < 0x10 ? "READ_CR" : "WRITE_CR";
		else if (!n && reason >= 0x40 && reason < 0x60)
			n = "EXCP";
		snprintf(buf, len, "svm:0x%x%s%s", reason, n ? " " : "", n ? n : "");
		return;
	}
	hvt_exit_reason_format(reason, buf, len);
}
