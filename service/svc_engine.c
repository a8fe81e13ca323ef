/* svc_engine.c - what the engine asks of the daemon (struct zt_node_callbacks).
 *
 * Every callback runs on the loop thread from inside a zt_node_*() call, so
 * none of them may call back into the node. Port work that would need the
 * node (none today) would have to be deferred to the loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "service/svc.h"

/**
 * svc_now() - wall clock in milliseconds since the epoch (the engine's time)
 */
int64_t svc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/**
 * svc_deadline() - record the engine's next background deadline
 * @s:	daemon
 * @nd:	absolute ms; 0 means "not given" and is ignored
 */
void svc_deadline(struct svc *s, int64_t nd)
{
	if (nd > 0)
		s->deadline = nd;
}

static int cb_state_get(void *uptr, enum zt_state_type type, const uint64_t id[2], void *buf,
			unsigned cap)
{
	struct svc *s = uptr;
	char path[1100];
	int r;

	if (type == ZT_STATE_PLANET && s->conf.no_planet)
		return 0;	/* the engine reads an empty planet as "no planet" */
	if (svc_state_path(s->home, type, id, path, sizeof(path)) < 0)
		return -1;
	r = svc_file_read(path, buf, cap);
	if (r < 0)
		return -1;
	return r;
}

static void cb_state_put(void *uptr, enum zt_state_type type, const uint64_t id[2],
			 const void *data, int len)
{
	struct svc *s = uptr;
	char path[1100];
	int r, mode = type == ZT_STATE_IDENTITY_SECRET ? 0600 : 0644;

	if (svc_state_path(s->home, type, id, path, sizeof(path)) < 0)
		return;
	if (len < 0) {
		unlink(path);
		return;
	}
	r = svc_file_write(path, data, (size_t)len, mode);
	if (r < 0)
		svc_log("cannot write %s: %s", path, strerror(-r));
}

static int cb_wire_send(void *uptr, int64_t local_socket, const struct sockaddr_storage *to,
			const void *data, unsigned len, unsigned ttl)
{
	return svc_udp_send(uptr, local_socket, to, data, len, ttl);
}

static void cb_frame_out(void *uptr, uint64_t nwid, void **nuptr, uint64_t src_mac,
			 uint64_t dst_mac, unsigned ethertype, unsigned vlan, const void *data,
			 unsigned len)
{
	struct svc *s = uptr;
	struct svc_net *n = nuptr ? *nuptr : NULL;

	if (!n)
		n = svc_net_find(s, nwid);
	if (!n || !n->port_up)
		return;
	s->port_ops->frame(s, n, src_mac, dst_mac, ethertype, data, len);
}

static int cb_network_config(void *uptr, uint64_t nwid, void **nuptr, enum zt_netconf_op op,
			     const struct zt_network_info *info)
{
	struct svc *s = uptr;
	struct svc_net *n = nuptr ? *nuptr : NULL;

	if (!n)
		n = svc_net_find(s, nwid);
	if (!n)
		return op == ZT_NETCONF_UP || op == ZT_NETCONF_UPDATE ? -1 : 0;
	if (nuptr)
		*nuptr = n;
	return svc_net_config(s, n, op, info);
}

static void cb_event(void *uptr, enum zt_event ev, const void *meta)
{
	struct svc *s = uptr;

	switch (ev) {
	case ZT_EVENT_IDENTITY_CREATED:
		svc_log("identity created: %.10s", meta ? (const char *)meta : "?");
		break;
	case ZT_EVENT_PEER_REACHED:
		if (meta)
			svc_log("peer reached: %010llx",
				(unsigned long long)*(const uint64_t *)meta);
		break;
	case ZT_EVENT_ONLINE:
		if (!s->was_online)
			svc_log("online");
		s->was_online = 1;
		break;
	case ZT_EVENT_OFFLINE:
		if (s->was_online)
			svc_log("offline");
		s->was_online = 0;
		break;
	case ZT_EVENT_TRACE:
		if (meta && s->trace)
			svc_log("trace: %s", (const char *)meta);
		break;
	default:
		break;
	}
}

const struct zt_node_callbacks svc_engine_callbacks = {
	.version = ZT_NODE_CALLBACKS_VERSION,
	.state_get = cb_state_get,
	.state_put = cb_state_put,
	.wire_send = cb_wire_send,
	.frame_out = cb_frame_out,
	.network_config = cb_network_config,
	.event = cb_event,
};
