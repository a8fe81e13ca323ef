/* controller.c - the embedded controller's decisions (PROTOCOL.md §12).
 *
 * Theory of operation. A NETWORK_CONFIG_REQUEST for one of our networks
 * runs ctl_decide(): unknown network -> ERROR 0x03; member created if new;
 * identity mismatch or not authorized -> ERROR 0x07; otherwise a config is
 * built (COM signed with our identity, pool addresses assigned and saved)
 * and sent as signed chunks. Each request is remembered (time, metadata,
 * packet id) so that a later change can be pushed to members that asked
 * within 120 s, LIKE/GATHER from recently configured members are accepted
 * (180 s), and repeats within 1 s are ignored.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zt_controller.h"
#include "node/dictionary.h"
#include "node/inaddr.h"
#include "node/network_internal.h"

#define CTL_CHUNK_MAX 9740
#define CTL_RATE_LIMIT 1000
#define CTL_PUSH_WINDOW 120000
#define CTL_CONFIGURED_WINDOW 180000
#define CTL_ONLINE_WINDOW 600000

struct ctl_recent {
	uint64_t nwid, address;
	int64_t last_request;
	int64_t last_config;		/* last time we issued a config */
	int authorized;			/* at the last request */
	uint64_t pid;
	unsigned meta_len;
	uint8_t meta[1024];
};

struct zt_controller {
	struct zt_controller_store st;
	void *uptr;
	struct ctl_recent *rec;
	unsigned n_rec, cap_rec;
};

int zt_controller_new(struct zt_controller **out, const struct zt_controller_store *store, void *uptr)
{
	struct zt_controller *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->st = *store;
	c->uptr = uptr;
	*out = c;
	return 0;
}

void zt_controller_free(struct zt_controller *c)
{
	if (!c)
		return;
	free(c->rec);
	free(c);
}

void zt_ctl_network_defaults(struct zt_ctl_network *net, uint64_t nwid)
{
	memset(net, 0, sizeof(*net));
	net->nwid = nwid;
	net->is_private = 1;
	net->enable_broadcast = 1;
	net->multicast_limit = 32;
	net->mtu = ZT_DEFAULT_MTU;
}

void zt_ctl_member_defaults(struct zt_ctl_member *m, uint64_t nwid, uint64_t address)
{
	memset(m, 0, sizeof(*m));
	m->nwid = nwid;
	m->address = address;
	m->vmajor = m->vminor = m->vrev = m->vproto = -1;
}

static struct ctl_recent *ctl_recent(struct zt_controller *c, uint64_t nwid, uint64_t addr, int create)
{
	for (unsigned i = 0; i < c->n_rec; i++)
		if (c->rec[i].nwid == nwid && c->rec[i].address == addr)
			return &c->rec[i];
	if (!create)
		return NULL;
	if (c->n_rec == c->cap_rec) {
		unsigned cap = c->cap_rec ? c->cap_rec * 2 : 16;
		struct ctl_recent *nr = realloc(c->rec, cap * sizeof(*nr));
		if (!nr)
			return NULL;
		c->rec = nr;
		c->cap_rec = cap;
	}
	memset(&c->rec[c->n_rec], 0, sizeof(c->rec[0]));
	c->rec[c->n_rec].nwid = nwid;
	c->rec[c->n_rec].address = addr;
	return &c->rec[c->n_rec++];
}

/* ---- addresses ---- */

static int ip_in_prefix(const struct sockaddr_storage *ip, const struct sockaddr_storage *pfx)
{
	unsigned bits = zt_inaddr_port(pfx);
	const uint8_t *a, *b;
	unsigned max;

	if (ip->ss_family != pfx->ss_family)
		return 0;
	if (ip->ss_family == AF_INET) {
		a = (const uint8_t *)&((const struct sockaddr_in *)ip)->sin_addr;
		b = (const uint8_t *)&((const struct sockaddr_in *)pfx)->sin_addr;
		max = 32;
	} else if (ip->ss_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)ip)->sin6_addr.s6_addr;
		b = ((const struct sockaddr_in6 *)pfx)->sin6_addr.s6_addr;
		max = 128;
	} else {
		return 0;
	}
	if (bits > max)
		return 0;
	for (unsigned i = 0; i < bits; i++) {
		unsigned m = 0x80u >> (i & 7);
		if ((a[i / 8] & m) != (b[i / 8] & m))
			return 0;
	}
	return 1;
}

/* ctl_route_bits() - prefix length of the longest route containing ip, or -1 */
static int ctl_route_bits(const struct zt_ctl_network *net, const struct sockaddr_storage *ip)
{
	int best = -1;

	for (unsigned i = 0; i < net->n_routes; i++)
		if (ip_in_prefix(ip, &net->routes[i].target) && (int)zt_inaddr_port(&net->routes[i].target) > best)
			best = (int)zt_inaddr_port(&net->routes[i].target);
	return best;
}

static int ip_equal_noport(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
	return 0;
}

/* struct ctl_taken - addresses other members of a network hold */
struct ctl_taken {
	unsigned n;
	struct sockaddr_storage ip[1024];
};

/* ctl_taken_load() - read every other member's assignments once */
static void ctl_taken_load(struct zt_controller *c, uint64_t nwid, uint64_t self, struct ctl_taken *t)
{
	uint64_t addrs[1024];
	int cnt = c->st.member_list ? c->st.member_list(c->uptr, nwid, addrs, 1024) : 0;
	struct zt_ctl_member *m = malloc(sizeof(*m));

	t->n = 0;
	if (!m)
		return;
	if (cnt > 1024)
		cnt = 1024;
	for (int i = 0; i < cnt; i++) {
		if (addrs[i] == self || c->st.member_get(c->uptr, nwid, addrs[i], m) != 0)
			continue;
		for (unsigned k = 0; k < m->n_ips && t->n < 1024; k++)
			t->ip[t->n++] = m->ips[k];
	}
	free(m);
}

static int ctl_ip_taken(const struct ctl_taken *t, const struct sockaddr_storage *ip)
{
	for (unsigned i = 0; i < t->n; i++)
		if (ip_equal_noport(&t->ip[i], ip))
			return 1;
	return 0;
}

/* ctl_assign_v4() - pool assignment (§12.2). Return 1 if one was added. */
static int ctl_assign_v4(const struct ctl_taken *taken, const struct zt_ctl_network *net, struct zt_ctl_member *m)
{
	for (unsigned p = 0; p < net->n_pools; p++) {
		const struct zt_ctl_pool *pool = &net->pools[p];
		uint32_t s, e, size;
		if (pool->start.ss_family != AF_INET || pool->end.ss_family != AF_INET)
			continue;
		s = ntohl(((const struct sockaddr_in *)&pool->start)->sin_addr.s_addr);
		e = ntohl(((const struct sockaddr_in *)&pool->end)->sin_addr.s_addr);
		if (e < s)
			continue;
		size = e - s + 1;
		if (!size)
			continue;
		uint32_t first = s + (uint32_t)((m->address & 0xffffffffULL) % size);
		for (uint32_t k = 0; k < size && k < 65536; k++) {
			uint32_t ip = s + (first - s + k) % size;
			struct sockaddr_storage a;
			struct sockaddr_in *sin = (struct sockaddr_in *)&a;
			if ((ip & 0xff) == 0xff || (ip & 0xff) == 0)
				continue;
			memset(&a, 0, sizeof(a));
			sin->sin_family = AF_INET;
			sin->sin_addr.s_addr = htonl(ip);
			if (ctl_route_bits(net, &a) < 0)
				continue;
			if (ctl_ip_taken(taken, &a))
				continue;
			if (m->n_ips < ZT_MAX_NETWORK_ASSIGNED)
				m->ips[m->n_ips++] = a;
			return 1;
		}
	}
	return 0;
}

/* ctl_assign_v6() - IPv6 pool assignment, same walk on the low 64 bits */
static int ctl_assign_v6(const struct ctl_taken *taken, const struct zt_ctl_network *net, struct zt_ctl_member *m)
{
	for (unsigned p = 0; p < net->n_pools; p++) {
		const struct zt_ctl_pool *pool = &net->pools[p];
		const uint8_t *s6, *e6;
		uint64_t s, e, size;
		if (pool->start.ss_family != AF_INET6 || pool->end.ss_family != AF_INET6)
			continue;
		s6 = ((const struct sockaddr_in6 *)&pool->start)->sin6_addr.s6_addr;
		e6 = ((const struct sockaddr_in6 *)&pool->end)->sin6_addr.s6_addr;
		if (memcmp(s6, e6, 8))
			continue;	/* only pools within one /64 */
		s = zt_load_be(s6 + 8, 8);
		e = zt_load_be(e6 + 8, 8);
		if (e < s)
			continue;
		size = e - s + 1;
		if (!size)
			size = UINT64_MAX;
		for (uint64_t k = 0; k < size && k < 65536; k++) {
			uint64_t v = s + ((m->address % size) + k) % size;
			struct sockaddr_storage a;
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a;
			memset(&a, 0, sizeof(a));
			sin6->sin6_family = AF_INET6;
			memcpy(sin6->sin6_addr.s6_addr, s6, 8);
			zt_store_be(sin6->sin6_addr.s6_addr + 8, v, 8);
			if (ctl_route_bits(net, &a) < 0 || ctl_ip_taken(taken, &a))
				continue;
			if (m->n_ips < ZT_MAX_NETWORK_ASSIGNED)
				m->ips[m->n_ips++] = a;
			return 1;
		}
	}
	return 0;
}

static void ctl_add_ip(struct zt_netconf *nc, const struct sockaddr_storage *a, unsigned bits)
{
	if (nc->n_ips >= ZT_MAX_NETWORK_ASSIGNED)
		return;
	nc->ips[nc->n_ips] = *a;
	zt_inaddr_set_port(&nc->ips[nc->n_ips], bits);
	nc->n_ips++;
}

/* ctl_decide() - §12.1/§12.2. Return 0 with *dict (malloc'd), -ENOENT
 * (no such network) or -EACCES (not authorized). */
static int ctl_decide(struct zt_node *n, int64_t now, uint64_t nwid, const struct zt_identity *id,
		      const uint8_t *meta, unsigned meta_len, uint8_t **dict, size_t *dict_len)
{
	struct zt_controller *c = n->controller;
	struct zt_ctl_network *net = malloc(sizeof(*net));
	struct zt_ctl_member *m = malloc(sizeof(*m));
	struct zt_netconf *nc = malloc(sizeof(*nc));
	char idstr[ZT_IDENTITY_STRING_MAX];
	int rc = -EACCES, authorized, dirty = 0;
	uint64_t revr;

	*dict = NULL;
	if (!net || !m || !nc) {
		rc = -ENOMEM;
		goto out;
	}
	if ((nwid >> 24) != n->self.address || c->st.network_get(c->uptr, nwid, net) != 0) {
		rc = -ENOENT;
		goto out;
	}
	if (zt_identity_to_string(id, 0, idstr, sizeof(idstr)) < 0)
		goto out;
	if (c->st.member_get(c->uptr, nwid, id->address, m) != 0) {
		zt_ctl_member_defaults(m, nwid, id->address);
		dirty = 1;
	}
	if (m->identity[0]) {
		struct zt_identity stored;
		if (zt_identity_from_string(&stored, m->identity) != 0 || !zt_identity_equal(&stored, id)) {
			zt_trace(n, "controller: identity collision for %010llx", (unsigned long long)id->address);
			goto out;
		}
	} else {
		memcpy(m->identity, idstr, sizeof(m->identity));
		m->identity[sizeof(m->identity) - 1] = 0;
		dirty = 1;
	}
	if (meta_len) {
		int vmaj = (int)zt_dict_get_u64_def(meta, meta_len, "majv", (uint64_t)-1);
		int vmin = (int)zt_dict_get_u64_def(meta, meta_len, "minv", (uint64_t)-1);
		int vrev = (int)zt_dict_get_u64_def(meta, meta_len, "revv", (uint64_t)-1);
		int vpro = (int)zt_dict_get_u64_def(meta, meta_len, "pv", (uint64_t)-1);
		if (vmaj != m->vmajor || vmin != m->vminor || vrev != m->vrev || vpro != m->vproto) {
			m->vmajor = vmaj;
			m->vminor = vmin;
			m->vrev = vrev;
			m->vproto = vpro;
			dirty = 1;
		}
	}
	authorized = m->authorized;
	if (!authorized && !net->is_private) {
		authorized = 1;
		m->authorized = 1;
		m->last_authorized_time = now;
		strcpy(m->auth_type, "public");
		m->auth_credential[0] = 0;
		dirty = 1;
	}
	if (!authorized && meta_len) {
		char a[160];
		if (zt_dict_get_str(meta, meta_len, "a", a, sizeof(a)) > 6 && !strncmp(a, "token:", 6)) {
			for (unsigned i = 0; i < net->n_tokens; i++) {
				if (!strcmp(net->tokens[i].token, a + 6) &&
				    (net->tokens[i].expires == 0 || net->tokens[i].expires > now)) {
					authorized = 1;
					m->authorized = 1;
					m->last_authorized_time = now;
					strcpy(m->auth_type, "token");
					snprintf(m->auth_credential, sizeof(m->auth_credential), "%.127s", a + 6);
					dirty = 1;
					break;
				}
			}
		}
	}
	if (!authorized)
		goto out;

	/* build the config */
	memset(nc, 0, sizeof(*nc));
	nc->version = 7;
	nc->nwid = nwid;
	nc->ts = (uint64_t)now;
	nc->ctmd = net->ctmd ? net->ctmd : 1800000;
	if (nc->ctmd < 300000)
		nc->ctmd = 300000;
	if (nc->ctmd > 7200000)
		nc->ctmd = 7200000;
	nc->revision = net->revision;
	nc->issued_to = id->address;
	nc->type = net->is_private ? ZT_NETWORK_PRIVATE : ZT_NETWORK_PUBLIC;
	nc->flags = net->enable_broadcast ? ZT_NETCONF_FLAG_BROADCAST : 0;
	if (net->v6_rfc4193 || net->v6_6plane)
		nc->flags |= ZT_NETCONF_FLAG_NDP_EMULATION;
	snprintf(nc->name, sizeof(nc->name), "%s", net->name);
	nc->mtu = net->mtu ? net->mtu : ZT_DEFAULT_MTU;
	if (nc->mtu < 1280)
		nc->mtu = 1280;
	if (nc->mtu > 10000)
		nc->mtu = 10000;
	nc->multicast_limit = net->multicast_limit;
	revr = meta_len ? zt_dict_get_u64_def(meta, meta_len, "revr", 0) : 1;
	if (net->has_rules && revr > 0) {
		int r = zt_rules_parse(net->rules, net->rules_len, nc->rules, ZT_MAX_RULES);
		nc->n_rules = r > 0 ? (unsigned)r : 0;
	}
	if (!nc->n_rules) {
		if (net->has_rules && revr > 0 && net->rules_len == 0) {
			/* an explicitly empty rule list drops everything */
		} else {
			nc->rules[0].t = ZT_RULE_ACTION_ACCEPT;
			nc->n_rules = 1;
		}
	}
	nc->n_routes = net->n_routes;
	memcpy(nc->routes, net->routes, sizeof(net->routes[0]) * net->n_routes);

	if (net->v6_rfc4193) {
		struct sockaddr_storage a;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a;
		memset(&a, 0, sizeof(a));
		s6->sin6_family = AF_INET6;
		s6->sin6_addr.s6_addr[0] = 0xfd;
		zt_store_be(s6->sin6_addr.s6_addr + 1, nwid, 8);
		s6->sin6_addr.s6_addr[9] = 0x99;
		s6->sin6_addr.s6_addr[10] = 0x93;
		zt_store_be(s6->sin6_addr.s6_addr + 11, id->address, 5);
		ctl_add_ip(nc, &a, 88);
	}
	if (net->v6_6plane) {
		struct sockaddr_storage a;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a;
		memset(&a, 0, sizeof(a));
		s6->sin6_family = AF_INET6;
		s6->sin6_addr.s6_addr[0] = 0xfc;
		zt_store_be(s6->sin6_addr.s6_addr + 1, (uint32_t)(nwid ^ (nwid >> 32)), 4);
		zt_store_be(s6->sin6_addr.s6_addr + 5, id->address, 5);
		s6->sin6_addr.s6_addr[15] = 0x01;
		ctl_add_ip(nc, &a, 40);
	}
	if (!m->no_auto_assign_ips) {
		int have4 = 0, have6 = 0;
		for (unsigned i = 0; i < m->n_ips; i++) {
			if (m->ips[i].ss_family == AF_INET && ctl_route_bits(net, &m->ips[i]) >= 0)
				have4 = 1;
			if (m->ips[i].ss_family == AF_INET6 && ctl_route_bits(net, &m->ips[i]) >= 0)
				have6 = 1;
		}
		if ((!have4 && net->v4_zt) || (!have6 && net->v6_zt)) {
			struct ctl_taken *taken = malloc(sizeof(*taken));
			if (taken) {
				ctl_taken_load(c, nwid, m->address, taken);
				if (!have4 && net->v4_zt && ctl_assign_v4(taken, net, m))
					dirty = 1;
				if (!have6 && net->v6_zt && ctl_assign_v6(taken, net, m))
					dirty = 1;
				free(taken);
			}
		}
	}
	for (unsigned i = 0; i < m->n_ips; i++) {
		int bits = ctl_route_bits(net, &m->ips[i]);
		if (bits >= 0)
			ctl_add_ip(nc, &m->ips[i], (unsigned)bits);
	}
	/* active bridges */
	if (c->st.member_list) {
		uint64_t addrs[256];
		int cnt = c->st.member_list(c->uptr, nwid, addrs, 256);
		struct zt_ctl_member *o = malloc(sizeof(*o));
		for (int i = 0; o && i < cnt && i < 256 && nc->n_specialists < ZT_MAX_SPECIALISTS; i++) {
			const struct zt_ctl_member *bm = o;
			if (addrs[i] == m->address)
				bm = m;
			else if (c->st.member_get(c->uptr, nwid, addrs[i], o) != 0)
				continue;
			if (bm->active_bridge && bm->authorized)
				nc->specialists[nc->n_specialists++] = addrs[i] | ZT_SPECIALIST_ACTIVE_BRIDGE;
		}
		free(o);
	}
	if (net->dns_domain[0] || net->n_dns) {
		nc->has_dns = 1;
		snprintf(nc->dns_domain, sizeof(nc->dns_domain), "%s", net->dns_domain);
		nc->n_dns = net->n_dns > 4 ? 4 : net->n_dns;
		memcpy(nc->dns, net->dns, sizeof(nc->dns[0]) * nc->n_dns);
	}
	zt_com_init(&nc->com, nc->ts, nc->ctmd, nwid, id);
	if (zt_com_sign(&nc->com, &n->self) != 0) {
		rc = -EINVAL;
		goto out;
	}
	nc->has_com = 1;
	{
		size_t cap = 32768 + 4 * (size_t)nc->n_rules * (2 + ZT_RULE_FIELD_MAX);
		uint8_t *buf = malloc(cap);
		struct zt_wbuf w;
		if (!buf) {
			rc = -ENOMEM;
			goto out;
		}
		zt_wbuf_init(&w, buf, cap);
		if (zt_netconf_build(nc, &w) != 0) {
			free(buf);
			rc = -ENOSPC;
			goto out;
		}
		*dict = buf;
		*dict_len = w.len;
	}
	rc = 0;
out:
	if (m && rc != -ENOENT && rc != -ENOMEM && dirty && c->st.member_put)
		c->st.member_put(c->uptr, m);
	free(net);
	free(m);
	free(nc);
	return rc;
}

/* ctl_send_config() - signed chunks as OK(NETWORK_CONFIG_REQUEST) (reply)
 * or NETWORK_CONFIG (push) */
static void ctl_send_config(struct zt_node *n, int64_t now, uint64_t dest, uint64_t nwid,
			    const uint8_t *dict, size_t len, int reply, uint64_t in_re_pid)
{
	uint8_t *pkt = malloc(CTL_CHUNK_MAX + 180);
	uint64_t uid = zt_random_u64() | 1;
	size_t off = 0;

	if (!pkt)
		return;
	do {
		size_t cl = len - off > CTL_CHUNK_MAX ? CTL_CHUNK_MAX : len - off;
		struct zt_wbuf w;
		uint8_t sig[ZT_SIGNATURE_LEN];
		zt_wbuf_init(&w, pkt, CTL_CHUNK_MAX + 160);
		zt_wbuf_u64(&w, nwid);
		zt_wbuf_u16(&w, (uint16_t)cl);
		zt_wbuf_put(&w, dict + off, cl);
		zt_wbuf_u8(&w, 0);
		zt_wbuf_u64(&w, uid);
		zt_wbuf_u32(&w, (uint32_t)len);
		zt_wbuf_u32(&w, (uint32_t)off);
		if (w.err || zt_identity_sign(&n->self, pkt, w.len, sig) != 0)
			break;
		zt_wbuf_u8(&w, 1);
		zt_wbuf_u16(&w, ZT_SIGNATURE_LEN);
		zt_wbuf_put(&w, sig, ZT_SIGNATURE_LEN);
		if (reply) {
			/* an OK built by hand so that it can be compressed like the official one */
			memmove(pkt + 9, pkt, w.len);
			pkt[0] = ZT_VERB_NETWORK_CONFIG_REQUEST;
			zt_store_be(pkt + 1, in_re_pid, 8);
			zt_send_packet(n, now, dest, ZT_VERB_OK, pkt, (unsigned)w.len + 9, 1, NULL);
		} else
			zt_send_packet(n, now, dest, ZT_VERB_NETWORK_CONFIG, pkt, (unsigned)w.len, 1, NULL);
		off += cl;
	} while (off < len);
	free(pkt);
}

/* ctl_answer() - decide for a recorded request and send config or ERROR */
static void ctl_answer(struct zt_node *n, int64_t now, struct ctl_recent *r, const struct zt_identity *id,
		       int reply)
{
	uint8_t *dict = NULL;
	size_t len = 0;
	uint8_t nw[8];
	int rc = ctl_decide(n, now, r->nwid, id, r->meta, r->meta_len, &dict, &len);

	zt_store_be(nw, r->nwid, 8);
	if (rc == 0) {
		r->authorized = 1;
		r->last_config = now;
		ctl_send_config(n, now, r->address, r->nwid, dict, len, reply, r->pid);
	} else if (rc == -ENOENT) {
		r->authorized = 0;
		zt_send_error(n, now, r->address, ZT_VERB_NETWORK_CONFIG_REQUEST, r->pid,
			      ZT_ERROR_OBJ_NOT_FOUND, nw, 8);
	} else if (rc == -EACCES) {
		r->authorized = 0;
		zt_send_error(n, now, r->address, ZT_VERB_NETWORK_CONFIG_REQUEST, r->pid,
			      ZT_ERROR_NETWORK_ACCESS_DENIED, nw, 8);
	}
	free(dict);
}

/* zt_ctl_on_request() - NETWORK_CONFIG_REQUEST arriving at our controller */
void zt_ctl_on_request(struct zt_node *n, int64_t now, const struct zt_rx *rx)
{
	struct zt_controller *c = n->controller;
	struct zt_rbuf r;
	uint64_t nwid;
	unsigned ml;
	const uint8_t *meta;
	const struct zt_identity *id;
	struct ctl_recent *rec;
	uint8_t nw[8];

	zt_rbuf_init(&r, rx->payload, rx->len);
	nwid = zt_rbuf_u64(&r);
	ml = zt_rbuf_u16(&r);
	meta = zt_rbuf_take(&r, ml);
	if (r.err) {
		zt_count_drop(n, ZT_DROP_MALFORMED);
		return;
	}
	zt_store_be(nw, nwid, 8);
	if ((nwid >> 24) != n->self.address) {
		zt_send_error(n, now, rx->source, rx->verb, rx->packet_id, ZT_ERROR_OBJ_NOT_FOUND, nw, 8);
		return;
	}
	id = zt_peer_identity(n, rx->source);
	if (!id) {
		zt_request_whois(n, now, rx->source);
		return;
	}
	rec = ctl_recent(c, nwid, rx->source, 1);
	if (!rec)
		return;
	if (rec->last_request && now - rec->last_request < CTL_RATE_LIMIT && now >= rec->last_request) {
		zt_count_drop(n, ZT_DROP_RATE_LIMIT);
		return;
	}
	rec->last_request = now;
	rec->pid = rx->packet_id;
	rec->meta_len = ml <= sizeof(rec->meta) ? ml : 0;
	if (rec->meta_len)
		memcpy(rec->meta, meta, ml);
	ctl_answer(n, now, rec, id, 1);
}

/* zt_ctl_recently_configured() - we issued a config to address within 180 s */
int zt_ctl_recently_configured(struct zt_node *n, int64_t now, uint64_t nwid, uint64_t address)
{
	struct ctl_recent *r = n->controller ? ctl_recent(n->controller, nwid, address, 0) : NULL;

	return r && r->last_config && now - r->last_config <= CTL_CONFIGURED_WINDOW;
}

/* zt_ctl_self_config() - a config for our own node (we are a member too) */
int zt_ctl_self_config(struct zt_node *n, int64_t now, uint64_t nwid, uint8_t **dict, size_t *len)
{
	uint8_t meta[64];
	struct zt_wbuf w;
	struct ctl_recent *r = ctl_recent(n->controller, nwid, n->self.address, 1);
	int rc;

	zt_wbuf_init(&w, meta, sizeof(meta));
	zt_dict_add_u64(&w, "revr", 1);
	zt_dict_add_u64(&w, "pv", ZT_PROTO_VERSION);
	rc = ctl_decide(n, now, nwid, &n->self, meta, (unsigned)w.len, dict, len);
	if (r) {
		r->last_request = now;
		r->authorized = rc == 0;
		if (rc == 0)
			r->last_config = now;
		memcpy(r->meta, meta, w.len);
		r->meta_len = (unsigned)w.len;
	}
	return rc;
}

/* ctl_push() - re-answer a recent request (push) */
static void ctl_push(struct zt_node *n, int64_t now, struct ctl_recent *r)
{
	const struct zt_identity *id;

	if (r->address == n->self.address) {
		struct zt_network *net = zt_net_find(n, r->nwid);
		if (net)
			zt_net_request_config(n, now, net);
		return;
	}
	id = zt_peer_identity(n, r->address);
	if (!id)
		return;
	ctl_answer(n, now, r, id, 0);
}

void zt_controller_network_changed(zt_node *n, int64_t now, uint64_t nwid)
{
	struct zt_controller *c = n->controller;

	if (!c)
		return;
	n->now = now;
	for (unsigned i = 0; i < c->n_rec; i++) {
		struct ctl_recent *r = &c->rec[i];
		if (r->nwid == nwid && r->authorized && now - r->last_request <= CTL_PUSH_WINDOW)
			ctl_push(n, now, r);
	}
}

/* ctl_revoke() - COM revocation for target to every recent member */
static void ctl_revoke(struct zt_node *n, int64_t now, uint64_t nwid, uint64_t target)
{
	struct zt_controller *c = n->controller;
	struct zt_revocation rv;
	uint8_t buf[512];
	int l;
	struct zt_network *net;

	memset(&rv, 0, sizeof(rv));
	rv.id = (uint32_t)zt_random_u64();
	rv.nwid = nwid;
	rv.credential_id = 0;
	rv.threshold = (uint64_t)now;
	rv.flags = ZT_REVOCATION_FLAG_FAST_PROPAGATE;
	rv.target = target;
	rv.type = ZT_CRED_COM;
	if (zt_revocation_sign(&rv, &n->self) != 0)
		return;
	l = zt_credentials_build(buf, sizeof(buf), NULL, &rv, 1);
	if (l < 0)
		return;
	for (unsigned i = 0; i < c->n_rec; i++) {
		struct ctl_recent *r = &c->rec[i];
		if (r->nwid != nwid || r->address == target || now - r->last_request > CTL_ONLINE_WINDOW)
			continue;
		if (r->address == n->self.address)
			continue;
		zt_send_packet(n, now, r->address, ZT_VERB_NETWORK_CREDENTIALS, buf, (unsigned)l, 1, NULL);
	}
	/* our own member side, if we are on the network */
	net = zt_net_find(n, nwid);
	if (net) {
		struct zt_member *m = zt_net_member(net, target);
		if (m) {
			if ((uint64_t)now > m->com_revoked_before)
				m->com_revoked_before = (uint64_t)now;
			if (m->has_com && zt_com_timestamp(&m->com) <= m->com_revoked_before)
				m->has_com = 0;
		}
	}
}

void zt_controller_member_changed(zt_node *n, int64_t now, uint64_t nwid, uint64_t address,
				  int was_authorized)
{
	struct zt_controller *c = n->controller;
	struct zt_ctl_member *m;
	struct ctl_recent *r;
	int authorized = 0;

	if (!c)
		return;
	n->now = now;
	int exists = 0;

	m = malloc(sizeof(*m));
	if (m && c->st.member_get(c->uptr, nwid, address, m) == 0) {
		authorized = m->authorized;
		exists = 1;
	}
	free(m);
	if (was_authorized && !authorized)
		ctl_revoke(n, now, nwid, address);
	r = ctl_recent(c, nwid, address, 0);
	/* a deleted member is not recreated until it asks again */
	if (r && exists && now - r->last_request <= CTL_PUSH_WINDOW &&
	    (r->authorized || authorized || was_authorized))
		ctl_push(n, now, r);
}

int64_t zt_controller_member_last_request(const zt_node *n, uint64_t nwid, uint64_t address)
{
	struct zt_controller *c = n->controller;
	struct ctl_recent *r = c ? ctl_recent(c, nwid, address, 0) : NULL;

	return r ? r->last_request : 0;
}

/* zt_ctl_background() - forget requests older than an hour */
int64_t zt_ctl_background(struct zt_node *n, int64_t now)
{
	struct zt_controller *c = n->controller;

	for (unsigned i = 0; i < c->n_rec;) {
		if (now - c->rec[i].last_request > 3600000)
			c->rec[i] = c->rec[--c->n_rec];
		else
			i++;
	}
	return now + 60000;
}
