/* svc_net.c - joined networks: join, leave, and applying configs to ports.
 *
 * Theory of operation. A struct svc_net exists from join until leave. Its
 * port (netcon stack or tap) exists while the engine says the network is up:
 *   join      -> svc_net allocated, zt_node_join(nuptr = svc_net)
 *   UP        -> port_ops->up() then apply(); failure = PORT_ERROR
 *   UPDATE    -> apply() (creates the port first if an earlier UP failed)
 *   DOWN      -> port_ops->down()
 *   DESTROY   -> nothing more (the engine deletes its cached config)
 *   leave     -> zt_node_leave() (DOWN+DESTROY), svc_net freed
 * The per-network settings (allowManaged/Global/Default/DNS) filter what the
 * port is given; they never change what the engine holds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "service/svc.h"

/**
 * svc_net_find() - the joined network with this id, or NULL
 */
struct svc_net *svc_net_find(struct svc *s, uint64_t nwid)
{
	int i;

	for (i = 0; i < SVC_MAX_NETS; i++)
		if (s->nets[i] && s->nets[i]->nwid == nwid)
			return s->nets[i];
	return NULL;
}

/**
 * svc_net_join() - join a network (idempotent)
 * @s:		daemon
 * @nwid:	network id
 * @from_api:	also create the networks.d marker
 * Return: 0 or -errno
 */
int svc_net_join(struct svc *s, uint64_t nwid, int from_api)
{
	struct svc_net *n;
	int i, r;

	if (from_api)
		svc_netdir_marker(s, nwid, 1);
	if (svc_net_find(s, nwid))
		return 0;
	for (i = 0; i < SVC_MAX_NETS && s->nets[i]; i++)
		;
	if (i == SVC_MAX_NETS)
		return -ENOSPC;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->nwid = nwid;
	n->slot = i;
	n->tap_fd = -1;
	n->svc = s;
	svc_netset_load(s->home, nwid, &n->set);
	s->nets[i] = n;
	svc_log("network %016llx: joining", (unsigned long long)nwid);
	r = zt_node_join(s->node, nwid, n, svc_now());
	if (r != ZT_OK) {
		s->nets[i] = NULL;
		free(n);
		svc_log("network %016llx: join failed (engine code %d)", (unsigned long long)nwid,
			r);
		return r == ZT_ERR_BAD_PARAMETER ? -EINVAL : -EIO;
	}
	s->deadline = svc_now();
	return 0;
}

/**
 * svc_net_leave() - leave a network: port removed, svc_net freed
 * @remove_marker:	also delete networks.d/NWID.conf
 * Return: 0, or -ENOENT if not joined
 */
int svc_net_leave(struct svc *s, uint64_t nwid, int remove_marker)
{
	struct svc_net *n = svc_net_find(s, nwid);
	void *nuptr = n;

	if (remove_marker)
		svc_netdir_marker(s, nwid, 0);
	if (!n)
		return -ENOENT;
	n->left = 1;
	if (s->node)
		zt_node_leave(s->node, nwid, &nuptr, svc_now());
	if (n->port_up)
		s->port_ops->down(s, n);
	n->port_up = 0;
	s->nets[n->slot] = NULL;
	free(n);
	s->deadline = svc_now();
	svc_log("network %016llx left", (unsigned long long)nwid);
	return 0;
}

/**
 * svc_net_leave_all() - take every port down (shutdown; markers stay)
 */
void svc_net_leave_all(struct svc *s)
{
	int i;

	for (i = 0; i < SVC_MAX_NETS; i++) {
		struct svc_net *n = s->nets[i];

		if (!n)
			continue;
		if (n->port_up)
			s->port_ops->down(s, n);
		n->port_up = 0;
	}
}

static int is_default_route(const struct sockaddr_storage *t)
{
	/* the prefix length rides in the port field */
	if (t->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)t)->sin_port) == 0;
	if (t->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)t)->sin6_port) == 0;
	return 0;
}

/* filter_info() - what the port may be given under the network's settings */
static void filter_info(const struct svc_netset *set, const struct zt_network_info *in,
			struct zt_network_info *out)
{
	unsigned i;

	*out = *in;
	out->n_assigned = 0;
	out->n_routes = 0;
	if (!set->allow_managed)
		return;
	for (i = 0; i < in->n_assigned && i < ZT_MAX_NETWORK_ASSIGNED; i++) {
		if (!set->allow_global && !svc_addr_is_local_scope(&in->assigned[i]))
			continue;
		out->assigned[out->n_assigned++] = in->assigned[i];
	}
	for (i = 0; i < in->n_routes && i < ZT_MAX_NETWORK_ROUTES; i++) {
		const struct zt_route *rt = &in->routes[i];

		if (is_default_route(&rt->target) && !set->allow_default)
			continue;
		if (!is_default_route(&rt->target) && !set->allow_global &&
		    !svc_addr_is_local_scope(&rt->target))
			continue;
		out->routes[out->n_routes++] = *rt;
	}
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return !memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			       &((const struct sockaddr_in *)b)->sin_addr, 4) &&
		       ((const struct sockaddr_in *)a)->sin_port ==
			       ((const struct sockaddr_in *)b)->sin_port;
	if (a->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr, 16) &&
		       ((const struct sockaddr_in6 *)a)->sin6_port ==
			       ((const struct sockaddr_in6 *)b)->sin6_port;
	return 0;
}

static void log_new_addrs(struct svc_net *n, const struct zt_network_info *f)
{
	unsigned i, j;

	for (i = 0; i < f->n_assigned; i++) {
		char a[80];
		int seen = 0;

		for (j = 0; j < n->applied.n_assigned; j++)
			if (same_addr(&f->assigned[i], &n->applied.assigned[j]))
				seen = 1;
		if (seen)
			continue;
		svc_format_ipport(&f->assigned[i], a, sizeof(a));
		svc_log("network %016llx: address assigned %s on %s", (unsigned long long)n->nwid,
			a, n->dev);
	}
}

static int net_apply(struct svc *s, struct svc_net *n, const struct zt_network_info *info)
{
	struct zt_network_info *f = malloc(sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	filter_info(&n->set, info, f);
	if (!n->port_up) {
		r = s->port_ops->up(s, n, f);
		if (r < 0) {
			if (!n->port_error)
				svc_log("network %016llx: %s port failed: %s",
					(unsigned long long)n->nwid, s->port_ops->kind,
					strerror(-r));
			n->port_error = -r;	/* positive errno, as portError shows it */
			free(f);
			return -1;
		}
		n->port_up = 1;
		n->port_error = 0;
		memset(&n->applied, 0, sizeof(n->applied));
		svc_log("network %016llx: port %s up (%s)", (unsigned long long)n->nwid, n->dev,
			s->port_ops->kind);
	}
	r = s->port_ops->apply(s, n, f);
	if (r < 0)
		svc_log("network %016llx: applying config to %s: %s", (unsigned long long)n->nwid,
			n->dev, strerror(-r));
	log_new_addrs(n, f);
	n->applied = *f;
	free(f);
	return 0;
}

/**
 * svc_net_config() - the engine's network_config for one of our networks
 * Return: 0, or -1 if the port could not be brought up (PORT_ERROR)
 */
int svc_net_config(struct svc *s, struct svc_net *n, enum zt_netconf_op op,
		   const struct zt_network_info *info)
{
	switch (op) {
	case ZT_NETCONF_UP:
	case ZT_NETCONF_UPDATE:
		if (!info || n->left)
			return 0;
		return net_apply(s, n, info);
	case ZT_NETCONF_DOWN:
	case ZT_NETCONF_DESTROY:
		if (n->port_up) {
			s->port_ops->down(s, n);
			svc_log("network %016llx: port %s removed", (unsigned long long)n->nwid,
				n->dev);
		}
		n->port_up = 0;
		return 0;
	}
	return 0;
}

/**
 * svc_net_reapply() - settings changed: give the port the filtered config again
 * Return: 0 or -errno
 */
int svc_net_reapply(struct svc *s, struct svc_net *n)
{
	struct zt_network_info *info = malloc(sizeof(*info));
	int r = 0;

	if (!info)
		return -ENOMEM;
	if (zt_node_network_info(s->node, n->nwid, info) == ZT_OK &&
	    info->status == ZT_NETWORK_OK && n->port_up)
		r = net_apply(s, n, info) < 0 ? -EIO : 0;
	free(info);
	return r;
}
