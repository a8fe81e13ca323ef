/* netconf.c - network config dictionaries (PROTOCOL.md §7.2). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/dictionary.h"
#include "node/inaddr.h"
#include "node/netconf.h"

/* nc_blob() - fetch a binary value into a malloc'd buffer. Return length,
 * -ENOENT if absent, -ENOMEM. *out must be freed. */
static int nc_blob(const void *dict, size_t len, const char *key, uint8_t **out)
{
	uint8_t *b = malloc(len ? len : 1);	/* an unescaped value is never longer */
	int r;

	*out = NULL;
	if (!b)
		return -ENOMEM;
	r = zt_dict_get(dict, len, key, b, len);
	if (r < 0) {
		free(b);
		return r;
	}
	*out = b;
	return r;
}

/* The keys zt_netconf_parse() reads, found in one scan (zt_dict_index):
 * each lookup then starts at its key's line instead of rescanning. */
enum { NK_V, NK_NWID, NK_ID, NK_TS, NK_CTMD, NK_R, NK_F, NK_ML, NK_T, NK_MTU, NK_N, NK_COM, NK_IPS,
       NK_ROUTES, NK_SPEC, NK_RULES, NK_CAP, NK_TAG, NK_COO, NK_DNS, NK_COUNT };
static const char *const nc_keys[NK_COUNT] = {
	"v", "nwid", "id", "ts", "ctmd", "r", "f", "ml", "t", "mtu", "n", "C", "I",
	"RT", "S", "R", "CAP", "TAG", "COO", "DNS",
};
/* NC(k) - the (dict, len, key) arguments of a lookup of key k */
#define NC(k) d + at[k], len - at[k], nc_keys[k]

int zt_netconf_parse(struct zt_netconf *nc, const void *dict, size_t len)
{
	const uint8_t *d = dict;
	size_t at[NK_COUNT];
	uint8_t *b = NULL;
	int l, rc = -EINVAL;
	struct zt_rbuf r;

	memset(nc, 0, sizeof(*nc));
	zt_dict_index(dict, len, nc_keys, NK_COUNT, at);
	nc->version = zt_dict_get_u64_def(NC(NK_V), 0);
	if (zt_dict_get_u64(NC(NK_NWID), &nc->nwid) || !nc->nwid)
		return -EINVAL;
	if (zt_dict_get_u64(NC(NK_ID), &nc->issued_to))
		return -EINVAL;
	nc->issued_to &= 0xffffffffffULL;
	if (!nc->issued_to)
		return -EINVAL;
	if (nc->version < 6)
		return -EINVAL;
	nc->ts = zt_dict_get_u64_def(NC(NK_TS), 0);
	nc->ctmd = zt_dict_get_u64_def(NC(NK_CTMD), 1800000);
	nc->revision = zt_dict_get_u64_def(NC(NK_R), 0);
	nc->flags = zt_dict_get_u64_def(NC(NK_F), 0);
	nc->multicast_limit = (unsigned)zt_dict_get_u64_def(NC(NK_ML), 32);
	nc->type = zt_dict_get_u64_def(NC(NK_T), 0) == 1 ? ZT_NETWORK_PUBLIC : ZT_NETWORK_PRIVATE;
	{
		uint64_t mtu = zt_dict_get_u64_def(NC(NK_MTU), ZT_DEFAULT_MTU);
		if (mtu < 1280)
			mtu = 1280;
		if (mtu > 10000)
			mtu = 10000;
		nc->mtu = (unsigned)mtu;
	}
	if (zt_dict_get_str(NC(NK_N), nc->name, sizeof(nc->name)) == -ENOSPC) {
		char *tmp = malloc(len + 1);
		if (!tmp)
			return -ENOMEM;
		zt_dict_get_str(NC(NK_N), tmp, len + 1);
		memcpy(nc->name, tmp, sizeof(nc->name) - 1);
		nc->name[sizeof(nc->name) - 1] = 0;
		free(tmp);
	}

	/* C: our COM */
	l = nc_blob(NC(NK_COM), &b);
	if (l == -ENOMEM)
		return l;
	if (l > 0) {
		if (zt_com_deserialize(&nc->com, b, (size_t)l) < 0)
			goto out;
		nc->has_com = 1;
	}
	free(b);
	b = NULL;

	/* I: static IPs */
	l = nc_blob(NC(NK_IPS), &b);
	if (l == -ENOMEM)
		return l;
	if (l > 0) {
		zt_rbuf_init(&r, b, (size_t)l);
		while (zt_rbuf_left(&r) > 0) {
			struct sockaddr_storage a;
			if (zt_inaddr_read(&r, &a) < 0)
				goto out;
			if (a.ss_family != AF_INET && a.ss_family != AF_INET6)
				continue;
			if (nc->n_ips < ZT_MAX_NETWORK_ASSIGNED)
				nc->ips[nc->n_ips++] = a;
		}
	}
	free(b);
	b = NULL;

	/* RT: routes */
	l = nc_blob(NC(NK_ROUTES), &b);
	if (l == -ENOMEM)
		return l;
	if (l > 0) {
		zt_rbuf_init(&r, b, (size_t)l);
		while (zt_rbuf_left(&r) > 0) {
			struct zt_route rt;
			memset(&rt, 0, sizeof(rt));
			if (zt_inaddr_read(&r, &rt.target) < 0 || zt_inaddr_read(&r, &rt.via) < 0)
				goto out;
			rt.flags = zt_rbuf_u16(&r);
			rt.metric = zt_rbuf_u16(&r);
			if (r.err)
				goto out;
			if (rt.target.ss_family != AF_INET && rt.target.ss_family != AF_INET6)
				continue;
			if (nc->n_routes < ZT_MAX_NETWORK_ROUTES)
				nc->routes[nc->n_routes++] = rt;
		}
	}
	free(b);
	b = NULL;

	/* S: specialists */
	l = nc_blob(NC(NK_SPEC), &b);
	if (l == -ENOMEM)
		return l;
	if (l > 0) {
		zt_rbuf_init(&r, b, (size_t)l);
		while (zt_rbuf_left(&r) >= 8 && nc->n_specialists < ZT_MAX_SPECIALISTS)
			nc->specialists[nc->n_specialists++] = zt_rbuf_u64(&r);
	}
	free(b);
	b = NULL;

	/* R: rules; absent means none, which drops everything (official behaviour) */
	l = nc_blob(NC(NK_RULES), &b);
	if (l == -ENOMEM)
		return l;
	if (l > 0) {
		int n = zt_rules_parse(b, (size_t)l, nc->rules, ZT_MAX_RULES);
		if (n < 0)
			goto out;
		nc->n_rules = (unsigned)n;
	}
	free(b);
	b = NULL;

	/* CAP, TAG, COO: skip-parse to check their framing */
	{
		for (int k = 0; k < 3; k++) {
			size_t p = 0;
			l = nc_blob(NC(NK_CAP + k), &b);
			if (l == -ENOMEM)
				return l;
			while (l > 0 && p < (size_t)l) {
				int c = k == 0 ? zt_capability_skip(b + p, (size_t)l - p)
					: k == 1 ? zt_tag_skip(b + p, (size_t)l - p)
						 : zt_coo_skip(b + p, (size_t)l - p);
				if (c <= 0)
					goto out;
				p += (size_t)c;
			}
			free(b);
			b = NULL;
		}
	}

	/* DNS */
	l = nc_blob(NC(NK_DNS), &b);
	if (l == -ENOMEM)
		return l;
	if (l >= 128) {
		nc->has_dns = 1;
		memcpy(nc->dns_domain, b, 128);
		nc->dns_domain[128] = 0;
		zt_rbuf_init(&r, b + 128, (size_t)l - 128);
		for (int i = 0; i < 4 && zt_rbuf_left(&r) > 0; i++) {
			struct sockaddr_storage a;
			if (zt_inaddr_read(&r, &a) < 0)
				break;
			if (a.ss_family == AF_INET || a.ss_family == AF_INET6)
				nc->dns[nc->n_dns++] = a;
		}
	}
	rc = 0;
out:
	free(b);
	return rc;
}

#undef NC

int zt_netconf_build(const struct zt_netconf *nc, struct zt_wbuf *w)
{
	uint8_t *tmp = malloc(ZT_MAX_RULES * (2 + ZT_RULE_FIELD_MAX) + 2048);
	struct zt_wbuf b;

	if (!tmp)
		return -ENOMEM;
	zt_dict_add_u64(w, "v", nc->version ? nc->version : 7);
	zt_dict_add_u64(w, "nwid", nc->nwid);
	zt_dict_add_u64(w, "ts", nc->ts);
	zt_dict_add_u64(w, "ctmd", nc->ctmd);
	zt_dict_add_u64(w, "r", nc->revision);
	zt_dict_add_addr(w, "id", nc->issued_to);
	zt_dict_add_addr(w, "tt", 0);
	zt_dict_add_u64(w, "tl", 0);
	zt_dict_add_u64(w, "f", nc->flags);
	zt_dict_add_u64(w, "ml", nc->multicast_limit);
	zt_dict_add_u64(w, "t", nc->type == ZT_NETWORK_PUBLIC ? 1 : 0);
	zt_dict_add_str(w, "n", nc->name);
	zt_dict_add_u64(w, "mtu", nc->mtu);
	if (nc->has_com) {
		uint8_t c[ZT_COM_MAX_LEN];
		int l = zt_com_serialize(&nc->com, c, sizeof(c));
		if (l > 0)
			zt_dict_add(w, "C", c, (size_t)l);
	}
	if (nc->n_specialists) {
		zt_wbuf_init(&b, tmp, 2048);
		for (unsigned i = 0; i < nc->n_specialists; i++)
			zt_wbuf_u64(&b, nc->specialists[i]);
		zt_dict_add(w, "S", tmp, b.len);
	}
	if (nc->n_routes) {
		zt_wbuf_init(&b, tmp, 2048);
		for (unsigned i = 0; i < nc->n_routes; i++) {
			zt_inaddr_write(&b, &nc->routes[i].target);
			zt_inaddr_write(&b, &nc->routes[i].via);
			zt_wbuf_u16(&b, nc->routes[i].flags);
			zt_wbuf_u16(&b, nc->routes[i].metric);
		}
		zt_dict_add(w, "RT", tmp, b.len);
	}
	if (nc->n_ips) {
		zt_wbuf_init(&b, tmp, 2048);
		for (unsigned i = 0; i < nc->n_ips; i++)
			zt_inaddr_write(&b, &nc->ips[i]);
		zt_dict_add(w, "I", tmp, b.len);
	}
	zt_wbuf_init(&b, tmp, ZT_MAX_RULES * (2 + ZT_RULE_FIELD_MAX) + 2048);
	zt_rules_write(&b, nc->rules, nc->n_rules);
	zt_dict_add(w, "R", tmp, b.len);
	{
		zt_wbuf_init(&b, tmp, 2048);
		uint8_t dom[128];
		memset(dom, 0, sizeof(dom));
		if (nc->has_dns)
			memcpy(dom, nc->dns_domain, strnlen(nc->dns_domain, sizeof(dom) - 1));
		zt_wbuf_put(&b, dom, 128);
		for (unsigned i = 0; i < 4; i++) {
			if (nc->has_dns && i < nc->n_dns)
				zt_inaddr_write(&b, &nc->dns[i]);
			else
				zt_wbuf_u8(&b, 0);
		}
		zt_dict_add(w, "DNS", tmp, b.len);
	}
	zt_dict_add_u64(w, "ssov", 0);
	zt_dict_add_bool(w, "ssoe", 0);
	free(tmp);
	return w->err ? -ENOSPC : 0;
}

void zt_netconf_to_info(const struct zt_netconf *nc, struct zt_network_info *info)
{
	info->nwid = nc->nwid;
	strncpy(info->name, nc->name, sizeof(info->name) - 1);
	info->name[sizeof(info->name) - 1] = 0;
	info->type = nc->type == ZT_NETWORK_PUBLIC ? ZT_NETWORK_PUBLIC : ZT_NETWORK_PRIVATE;
	info->mtu = nc->mtu;
	info->broadcast_enabled = (nc->flags & ZT_NETCONF_FLAG_BROADCAST) != 0;
	info->multicast_limit = nc->multicast_limit;
	info->netconf_revision = nc->revision;
	info->n_assigned = nc->n_ips;
	memcpy(info->assigned, nc->ips, sizeof(nc->ips[0]) * nc->n_ips);
	info->n_routes = nc->n_routes;
	memcpy(info->routes, nc->routes, sizeof(nc->routes[0]) * nc->n_routes);
	info->bridge = zt_netconf_is_bridge(nc, nc->issued_to);
}

int zt_netconf_is_bridge(const struct zt_netconf *nc, uint64_t address)
{
	for (unsigned i = 0; i < nc->n_specialists; i++)
		if ((nc->specialists[i] & 0xffffffffffULL) == (address & 0xffffffffffULL) &&
		    (nc->specialists[i] & ZT_SPECIALIST_ACTIVE_BRIDGE))
			return 1;
	return 0;
}
