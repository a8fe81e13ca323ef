/* svc_metrics.c - GET /metrics: Prometheus text exposition (version 0.0.4).
 *
 * Counters come from the engine (packets, bytes, frames, drops by reason),
 * from the stacks of joined netcon networks (connections, frames) and from
 * the daemon itself (API requests, sends refused by the noPlanet guard).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/svc.h"

struct mbuf {
	char *p;
	size_t len, cap;
};

static void mb_printf(struct mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mb_printf(struct mbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			return;
	}
}

static void counter(struct mbuf *b, const char *name, const char *help, uint64_t v)
{
	mb_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
		  (unsigned long long)v);
}

/* net_sample() - one per-network sample: NAME{network="NWID"} V */
static void net_sample(struct mbuf *b, const char *name, uint64_t nwid, uint64_t v)
{
	mb_printf(b, "%s{network=\"%016llx\"} %llu\n", name, (unsigned long long)nwid, (unsigned long long)v);
}

struct net_row {
	const char *name;
	uint64_t v;
};

static void net_rows(struct mbuf *b, uint64_t nwid, const struct net_row *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		net_sample(b, r[i].name, nwid, r[i].v);
}

/* net_samples() - the per-network samples of one port */
static void net_samples(struct mbuf *b, uint64_t nwid, const struct svc_port_stats *st)
{
	const struct net_row stack[] = {
		{ "zt_stack_connections", st->conns_open },
		{ "zt_stack_connections_total", st->conns_total },
		{ "zt_stack_listeners", st->listeners },
		{ "zt_stack_tcp_time_wait", st->time_wait },
		{ "zt_stack_frames_dropped_total", st->frames_dropped },
		{ "zt_stack_frames_in_total", st->frames_in },
		{ "zt_stack_frames_out_total", st->frames_out },
	};
	const struct net_row netcon[] = {
		/* the intercept's RPC connections: one per process, plus the few
		 * it keeps for blocking connects */
		{ "zt_rpc_clients", st->rpc_clients },
		{ "zt_rpc_clients_total", st->rpc_clients_total },
		{ "zt_rpc_clients_refused_total", st->rpc_refused },
		{ "zt_rpc_requests_total", st->rpc_requests },
		{ "zt_rpc_clients_malformed_total", st->rpc_malformed },
		/* frames a stack thread sent itself while the loop slept */
		{ "zt_netcon_direct_sends_total", st->direct_drains },
	};

	net_rows(b, nwid, stack, sizeof(stack) / sizeof(stack[0]));
	if (st->has_rpc)
		net_rows(b, nwid, netcon, sizeof(netcon) / sizeof(netcon[0]));
}

static void gauge(struct mbuf *b, const char *name, const char *help, uint64_t v)
{
	mb_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", name, help, name, name,
		  (unsigned long long)v);
}

/**
 * svc_metrics_text() - the whole exposition
 * Return: malloc'd text (caller frees)
 */
char *svc_metrics_text(struct svc *s)
{
	static const char *const reasons[ZT_DROP_REASONS] = {
		"malformed", "mac", "unknown_peer", "invalid_identity", "rate_limit",
		"not_member", "no_network", "rules", "queue_full", "relay", "duplicate",
	};
	struct zt_node_counters c;
	struct mbuf b = { 0 };
	int i, nets = 0, peers;

	memset(&c, 0, sizeof(c));
	zt_node_counters(s->node, &c);
	peers = zt_node_peers(s->node, svc_now(), NULL, 0);
	for (i = 0; i < SVC_MAX_NETS; i++)
		nets += s->nets[i] != NULL;
	counter(&b, "zt_packets_in_total", "UDP datagrams received", c.packets_in);
	counter(&b, "zt_packets_out_total", "UDP datagrams sent", c.packets_out);
	counter(&b, "zt_bytes_in_total", "UDP bytes received", c.bytes_in);
	counter(&b, "zt_bytes_out_total", "UDP bytes sent", c.bytes_out);
	counter(&b, "zt_frames_in_total", "virtual Ethernet frames from ports", c.frames_in);
	counter(&b, "zt_frames_out_total", "virtual Ethernet frames to ports", c.frames_out);
	counter(&b, "zt_relayed_total", "packets relayed for other peers", c.relayed);
	mb_printf(&b, "# HELP zt_packets_dropped_total packets dropped, by reason\n"
		      "# TYPE zt_packets_dropped_total counter\n");
	for (i = 0; i < ZT_DROP_REASONS; i++)
		mb_printf(&b, "zt_packets_dropped_total{reason=\"%s\"} %llu\n", reasons[i],
			  (unsigned long long)c.drops[i]);
	counter(&b, "zt_wire_send_refused_total", "sends refused by the noPlanet scope guard",
		s->udp_dropped_scope);
	counter(&b, "zt_udp_gro_datagrams_total", "UDP datagrams received coalesced by the kernel (UDP_GRO)",
		s->udp_gro_datagrams);
	counter(&b, "zt_udp_truncated_total", "UDP messages larger than a receive slot (dropped)", s->udp_rx_truncated);
	counter(&b, "zt_udp_datagrams_out_total", "UDP datagrams the kernel took", s->udp_datagrams_out);
	counter(&b, "zt_udp_gso_datagrams_total", "of them, sent as segments of one UDP_SEGMENT (GSO) message",
		s->udp_gso_sends);
	counter(&b, "zt_udp_gso_messages_total", "UDP_SEGMENT messages", s->udp_gso_sends_msgs);
	counter(&b, "zt_udp_gso_refused_total", "UDP_SEGMENT messages the kernel refused, sent again one datagram each",
		s->udp_gso_refused);
	counter(&b, "zt_udp_send_errors_total", "UDP datagrams the kernel refused (dropped)", s->udp_send_errors);
	gauge(&b, "zt_peers", "known peers", peers > 0 ? (uint64_t)peers : 0);
	gauge(&b, "zt_networks", "joined networks", (uint64_t)nets);
	counter(&b, "zt_api_requests_total", "local API requests", s->http_requests);
	counter(&b, "zt_api_errors_total", "local API requests answered >= 400", s->http_errors);
	mb_printf(&b, "# HELP zt_stack_connections open TCP connections in a network's stack\n"
		      "# TYPE zt_stack_connections gauge\n");
	for (i = 0; i < SVC_MAX_NETS; i++) {
		struct svc_port_stats st;

		memset(&st, 0, sizeof(st));
		if (!s->nets[i] || !s->nets[i]->port_up || !s->port_ops->stats ||
		    !s->port_ops->stats(s, s->nets[i], &st))
			continue;
		net_samples(&b, s->nets[i]->nwid, &st);
	}
	if (!b.p)
		return strdup("");
	return b.p;
}
