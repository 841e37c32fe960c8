// SPDX-License-Identifier: GPL-2.0
/*
 * spanctl status GUEST [--json]: what the guest's controller reports.
 */
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "server.h"
#include "span/util.h"
#include "spanctl.h"

static int json;

static const struct opt status_opts[] = {
	OPT_FLAG('j', "json", &json, "one JSON object"),
	OPT_END(),
};

static const char *state__name(uint32_t s)
{
	switch (s) {
	case SPAN_GUEST_BOOTING: return "booting";
	case SPAN_GUEST_RUNNING: return "running";
	case SPAN_GUEST_STOPPING: return "stopping";
	case SPAN_GUEST_PAUSED: return "paused";
	default: return "unknown";
	}
}

static const char *fv__state(uint32_t s)
{
	return s == SPAN_FV_RUNNING ? "running" : s == SPAN_FV_STOPPED ? "stopped" :
	       s == SPAN_FV_HUNG ? "hung" : "unknown";
}

void status__print(FILE *f, const struct span_msg_status *st, int as_json)
{
	char name[SPAN_NAME_MAX], fvname[SPAN_NAME_MAX];
	uint32_t i, n = st->nr_fvs < SPAN_MAX_FVS ? st->nr_fvs : SPAN_MAX_FVS;

	memcpy(name, st->name, sizeof(name));
	name[sizeof(name) - 1] = 0;
	if (as_json) {
		fprintf(f, "{\"name\":");
		span_json_str(f, name, sizeof(name));
		fprintf(f, ",\"state\":\"%s\",\"span\":%s,\"pid\":%d,\"vcpus\":%u,"
			"\"vcpu_owner\":\"%s\",\"mem_bytes\":%llu,\"uptime_s\":%.3f,"
			"\"exits\":%llu,\"console_bytes\":%llu,\"reboots\":%u,\"featurevisors\":[",
			state__name(st->state), st->span ? "true" : "false", st->pid,
			st->nr_vcpus, st->vcpu_owner ? "L1" : "L0",
			(unsigned long long)st->mem_bytes, st->uptime_ns / 1e9,
			(unsigned long long)st->exits, (unsigned long long)st->console_bytes,
			st->reboots);
		for (i = 0; i < n; i++) {
			const struct span_fv_status *v = &st->fvs[i];

			memcpy(fvname, v->name, sizeof(fvname));
			fvname[sizeof(fvname) - 1] = 0;
			fprintf(f, "%s{\"name\":", i ? "," : "");
			span_json_str(f, fvname, sizeof(fvname));
			fprintf(f, ",\"state\":\"%s\",\"attached\":%s,\"readonly\":%s,"
				"\"window_gpa\":%llu,\"window_bytes\":%llu,\"attach_s\":%.6f,"
				"\"detach_s\":%.6f,\"mem_bytes\":%llu,\"exits\":%llu}",
				fv__state(v->state), v->attached ? "true" : "false",
				v->readonly ? "true" : "false",
				(unsigned long long)v->window_gpa, (unsigned long long)v->window_size,
				v->attach_ns / 1e9, v->detach_ns / 1e9,
				(unsigned long long)v->mem_bytes, (unsigned long long)v->exits);
		}
		fprintf(f, "]}\n");
		return;
	}
	fprintf(f, "guest          %s (%s, controller pid %d)\n", name,
		st->span ? "span guest" : "plain VM", st->pid);
	fprintf(f, "state          %s, up %.1f s, %u reboots\n", state__name(st->state),
		st->uptime_ns / 1e9, st->reboots);
	fprintf(f, "vcpus          %u, run by %s\n", st->nr_vcpus, st->vcpu_owner ? "an L1" : "L0");
	fprintf(f, "memory         %llu MiB\n", (unsigned long long)(st->mem_bytes >> 20));
	fprintf(f, "exits          %llu\n", (unsigned long long)st->exits);
	fprintf(f, "console        %llu bytes\n", (unsigned long long)st->console_bytes);
	fprintf(f, "featurevisors  %u\n", n);
	for (i = 0; i < n; i++) {
		const struct span_fv_status *v = &st->fvs[i];

		memcpy(fvname, v->name, sizeof(fvname));
		fvname[sizeof(fvname) - 1] = 0;
		fprintf(f, "  %-12s %s, %s", fvname, fv__state(v->state),
			v->attached ? (v->readonly ? "attached read-only" : "attached") : "detached");
		if (v->attached)
			fprintf(f, " at L1 %#llx", (unsigned long long)v->window_gpa);
		if (v->attach_ns)
			fprintf(f, ", attach %.3f ms", v->attach_ns / 1e6);
		if (v->detach_ns)
			fprintf(f, ", detach %.3f ms", v->detach_ns / 1e6);
		fprintf(f, "\n");
	}
}

int cmd_status(int argc, char **argv)
{
	static char buf[SPAN_MSG_BUF_SIZE];
	struct span_msg_status st;
	char *name;
	int ret, fd, type;

	ret = spanctl__args("status", "GUEST [--json]",
			    "    spanctl status g1\n    spanctl status g1 --json | jq .exits\n",
			    status_opts, argc, argv, &name, 1);
	if (ret >= 0)
		return ret;
	fd = spanctl__connect("status", name);
	if (fd < 0)
		return SPANCTL_EXIT_FAIL;
	type = ctl__call(fd, SPAN_MSG_STATUS, NULL, 0, buf, sizeof(buf));
	close(fd);
	if (type != SPAN_MSG_STATUS_REPLY) {
		spanctl__bad_reply("status", name, type, buf);
		return SPANCTL_EXIT_FAIL;
	}
	memcpy(&st, buf + sizeof(struct span_msg_hdr), sizeof(st));
	status__print(stdout, &st, json);
	return 0;
}
