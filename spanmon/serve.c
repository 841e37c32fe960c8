// SPDX-License-Identifier: GPL-2.0
/*
 * spanmon serve: Prometheus text exposition at /metrics, over HTTP served by
 * libmicrohttpd (its own thread; each scrape takes a fresh snapshot).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "span/util.h"
#include "builtin.h"

static const char index_page[] =
	"<html><head><title>spanmon</title></head><body>"
	"<h1>spanmon</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     const char *type, void *buf, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, buf, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version,
			       const char *upload_data, size_t *upload_data_size,
			       void **con_cls)
{
	struct spanmon_collect *c = cls;
	struct spanmon_snapshot s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int err;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			     (void *)"method not allowed\n", 19, MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, "text/html", (void *)index_page,
			     sizeof(index_page) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain",
			     (void *)"not found\n", 10, MHD_RESPMEM_PERSISTENT);

	if (spanmon_collect_snapshot(c, &s))
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
			     (void *)"cannot read the BPF maps\n", 25, MHD_RESPMEM_PERSISTENT);
	f = open_memstream(&buf, &len);
	if (!f) {
		spanmon_snapshot_free(&s);
		return MHD_NO;
	}
	err = spanmon_format_prometheus(f, &s, SPANMON_VERSION);
	spanmon_snapshot_free(&s);
	if (fclose(f) || err) {
		free(buf);
		return MHD_NO;
	}
	return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", buf, len,
		     MHD_RESPMEM_MUST_FREE);
}

/* "HOST:PORT", IPv4 or [IPv6]; 0 or -1 with one line on stderr. */
static int parse_listen(const char *s, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	uint64_t port;
	size_t hlen;

	if (!colon || colon == s || span_parse_u64(colon + 1, 1, 65535, &port))
		return -1;
	hlen = colon - s;
	if (hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[hlen - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		host[hlen - 1] = '\0';
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		return inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1 ? 0 : -1;
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		return inet_pton(AF_INET, host, &a4->sin_addr) == 1 ? 0 : -1;
	}
}

int cmd_serve(void)
{
	struct sockaddr_storage ss;
	struct spanmon_collect c;
	struct MHD_Daemon *d;
	uint64_t deadline;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;

	if (parse_listen(env.listen, &ss)) {
		fprintf(stderr, "spanmon: invalid listen address '%s': want HOST:PORT, "
			"e.g. 127.0.0.1:9464 or [::1]:9464 (see --help)\n", env.listen);
		return SPAN_EXIT_USAGE;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (spanmon_start(&c))
		return 1;
	d = MHD_start_daemon(flags, 0, NULL, NULL, handler, &c,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			     MHD_OPTION_CONNECTION_TIMEOUT, 10u,
			     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "spanmon: cannot serve on %s (address in use?)\n", env.listen);
		spanmon_collect_close(&c);
		return 1;
	}
	fprintf(stderr, "spanmon: serving http://%s/metrics\n", env.listen);
	/*
	 * Polls: the signal may land on libmicrohttpd's thread, not this one;
	 * and a reader takes over when the collector exits.
	 */
	deadline = env.duration_set ? span_now_ns() + env.duration * 1000000000ull : 0;
	while (!spanmon_exiting && (!deadline || span_now_ns() < deadline)) {
		spanmon_sleep(1);
		spanmon_collect_poll(&c);
	}
	MHD_stop_daemon(d);
	spanmon_collect_close(&c);
	return 0;
}
