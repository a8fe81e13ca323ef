/* svc_api.c - the local JSON API (the routes of ZeroTier One 1.14).
 *
 *   GET /status                      node info
 *   GET /network                     joined networks
 *   GET|POST|DELETE /network/NWID    one network; POST joins (body: settings),
 *                                    DELETE leaves
 *   GET /peer, GET /peer/ADDR        peers
 *   GET /moon, GET|POST|DELETE /moon/WORLDID   moons (POST orbits, body {"seed"})
 *   GET /metrics                     Prometheus text
 *   /controller..., /unstable/controller...   the embedded controller
 * Every route needs the token (X-ZT1-Auth, Authorization: Bearer, ?auth=):
 * otherwise 401 {}. Field names are those of the official service so its
 * tools and ours read the same JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "service/svc.h"
#include "service/controller.h"

static char *json_take(struct json_object *o)
{
	char *s = strdup(json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	return s;
}

static char *json_error(const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	return json_take(o);
}

static const char *status_name(enum zt_network_status st)
{
	switch (st) {
	case ZT_NETWORK_REQUESTING_CONFIGURATION: return "REQUESTING_CONFIGURATION";
	case ZT_NETWORK_OK: return "OK";
	case ZT_NETWORK_ACCESS_DENIED: return "ACCESS_DENIED";
	case ZT_NETWORK_NOT_FOUND: return "NOT_FOUND";
	case ZT_NETWORK_PORT_ERROR: return "PORT_ERROR";
	case ZT_NETWORK_CLIENT_TOO_OLD: return "CLIENT_TOO_OLD";
	}
	return "UNKNOWN";
}

static void fmt_mac(uint64_t mac, char *out, size_t cap)
{
	snprintf(out, cap, "%02x:%02x:%02x:%02x:%02x:%02x", (unsigned)(mac >> 40) & 0xff,
		 (unsigned)(mac >> 32) & 0xff, (unsigned)(mac >> 24) & 0xff,
		 (unsigned)(mac >> 16) & 0xff, (unsigned)(mac >> 8) & 0xff, (unsigned)mac & 0xff);
}

static struct json_object *jaddr(const struct sockaddr_storage *ss)
{
	char a[80];

	svc_format_ipport(ss, a, sizeof(a));
	return json_object_new_string(a);
}

static struct json_object *network_json(struct svc *s, struct svc_net *n)
{
	struct zt_network_info *info = calloc(1, sizeof(*info));
	struct json_object *o = json_object_new_object(), *arr, *dns;
	char hex[20], mac[24];
	unsigned i;
	int have;

	if (!info)
		return o;
	have = zt_node_network_info(s->node, n->nwid, info) == ZT_OK;
	if (!have) {
		info->nwid = n->nwid;
		info->status = ZT_NETWORK_REQUESTING_CONFIGURATION;
	}
	if (!info->mac)
		info->mac = zt_mac_from_address(zt_node_address(s->node), n->nwid);
	if (n->port_error)
		info->status = ZT_NETWORK_PORT_ERROR;
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)n->nwid);
	fmt_mac(info->mac, mac, sizeof(mac));
	json_object_object_add(o, "allowDNS", json_object_new_boolean(n->set.allow_dns));
	json_object_object_add(o, "allowDefault", json_object_new_boolean(n->set.allow_default));
	json_object_object_add(o, "allowGlobal", json_object_new_boolean(n->set.allow_global));
	json_object_object_add(o, "allowManaged", json_object_new_boolean(n->set.allow_managed));
	arr = json_object_new_array();
	for (i = 0; n->port_up && i < n->applied.n_assigned; i++)
		json_object_array_add(arr, jaddr(&n->applied.assigned[i]));
	json_object_object_add(o, "assignedAddresses", arr);
	json_object_object_add(o, "bridge", json_object_new_boolean(info->bridge));
	json_object_object_add(o, "broadcastEnabled",
			       json_object_new_boolean(info->broadcast_enabled));
	json_object_object_add(o, "dhcp", json_object_new_boolean(0));
	dns = json_object_new_object();
	json_object_object_add(dns, "domain", json_object_new_string(""));
	json_object_object_add(dns, "servers", json_object_new_array());
	json_object_object_add(o, "dns", dns);
	json_object_object_add(o, "id", json_object_new_string(hex));
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "mtu", json_object_new_int((int)(info->mtu ? info->mtu
								    : ZT_DEFAULT_MTU)));
	json_object_object_add(o, "multicastSubscriptions", json_object_new_array());
	json_object_object_add(o, "name", json_object_new_string(info->name));
	json_object_object_add(o, "netconfRevision",
			       json_object_new_int64((int64_t)info->netconf_revision));
	json_object_object_add(o, "nwid", json_object_new_string(hex));
	json_object_object_add(o, "portDeviceName", json_object_new_string(n->port_up ? n->dev : ""));
	json_object_object_add(o, "portError", json_object_new_int(n->port_error));
	arr = json_object_new_array();
	for (i = 0; n->port_up && i < n->applied.n_routes; i++) {
		const struct zt_route *rt = &n->applied.routes[i];
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "flags", json_object_new_int(rt->flags));
		json_object_object_add(r, "metric", json_object_new_int(rt->metric));
		json_object_object_add(r, "target", jaddr(&rt->target));
		json_object_object_add(r, "via", rt->via.ss_family ? jaddr(&rt->via) : NULL);
		json_object_array_add(arr, r);
	}
	json_object_object_add(o, "routes", arr);
	json_object_object_add(o, "status", json_object_new_string(status_name(info->status)));
	json_object_object_add(o, "type", json_object_new_string(
					       info->type == ZT_NETWORK_PUBLIC ? "PUBLIC" : "PRIVATE"));
	json_object_object_add(o, "netcon", json_object_new_boolean(s->opts.netcon));
	free(info);
	return o;
}

static struct json_object *status_json(struct svc *s)
{
	struct zt_node_status st;
	struct json_object *o = json_object_new_object(), *cfg, *set, *lo;
	char a[16], lbuf[64], ver[32];
	int64_t now = svc_now();

	memset(&st, 0, sizeof(st));
	zt_node_status(s->node, now, &st);
	snprintf(a, sizeof(a), "%010llx", (unsigned long long)st.address);
	snprintf(ver, sizeof(ver), "%d.%d.%d", ZT_VERSION_MAJOR, ZT_VERSION_MINOR,
		 ZT_VERSION_REVISION);
	json_object_object_add(o, "address", json_object_new_string(a));
	json_object_object_add(o, "clock", json_object_new_int64(now));
	cfg = json_object_new_object();
	set = json_object_new_object();
	json_object_object_add(set, "allowSecondaryPort", json_object_new_boolean(0));
	json_object_object_add(set, "allowTcpFallbackRelay", json_object_new_boolean(0));
	json_object_object_add(set, "forceTcpRelay", json_object_new_boolean(0));
	json_object_object_add(set, "homeDir", json_object_new_string(s->home));
	lo = json_object_new_array();
	snprintf(lbuf, sizeof(lbuf), "0.0.0.0/%d", s->port);
	json_object_array_add(lo, json_object_new_string(lbuf));
	json_object_object_add(set, "listeningOn", lo);
	json_object_object_add(set, "noPlanet", json_object_new_boolean(s->conf.no_planet));
	json_object_object_add(set, "portMappingEnabled", json_object_new_boolean(0));
	json_object_object_add(set, "primaryPort", json_object_new_int(s->port));
	json_object_object_add(set, "secondaryPort", json_object_new_int(0));
	json_object_object_add(set, "softwareUpdate", json_object_new_string("disable"));
	json_object_object_add(set, "softwareUpdateChannel", json_object_new_string("release"));
	json_object_object_add(set, "surfaceAddresses", json_object_new_array());
	json_object_object_add(set, "tertiaryPort", json_object_new_int(0));
	json_object_object_add(cfg, "settings", set);
	json_object_object_add(o, "config", cfg);
	json_object_object_add(o, "netcon", json_object_new_boolean(s->opts.netcon));
	json_object_object_add(o, "online", json_object_new_boolean(st.online));
	json_object_object_add(o, "planetWorldId", json_object_new_int64((int64_t)st.planet_id));
	json_object_object_add(o, "planetWorldTimestamp",
			       json_object_new_int64((int64_t)st.planet_ts));
	json_object_object_add(o, "publicIdentity", json_object_new_string(st.public_identity));
	json_object_object_add(o, "tcpFallbackActive", json_object_new_boolean(0));
	json_object_object_add(o, "version", json_object_new_string(ver));
	json_object_object_add(o, "versionBuild", json_object_new_int(0));
	json_object_object_add(o, "versionMajor", json_object_new_int(ZT_VERSION_MAJOR));
	json_object_object_add(o, "versionMinor", json_object_new_int(ZT_VERSION_MINOR));
	json_object_object_add(o, "versionRev", json_object_new_int(ZT_VERSION_REVISION));
	return o;
}

static const char *role_name(enum zt_peer_role r)
{
	return r == ZT_PEER_PLANET ? "PLANET" : r == ZT_PEER_MOON ? "MOON" : "LEAF";
}

static struct json_object *peer_json(const struct zt_peer_info *p)
{
	struct json_object *o = json_object_new_object(), *paths = json_object_new_array();
	char a[16], ver[48];
	unsigned i;

	snprintf(a, sizeof(a), "%010llx", (unsigned long long)p->address);
	snprintf(ver, sizeof(ver), "%d.%d.%d", p->version_major, p->version_minor,
		 p->version_rev);
	json_object_object_add(o, "address", json_object_new_string(a));
	json_object_object_add(o, "isBonded", json_object_new_boolean(0));
	json_object_object_add(o, "latency", json_object_new_int(p->latency));
	for (i = 0; i < p->n_paths && i < ZT_MAX_PEER_PATHS; i++) {
		const struct zt_peer_path *pp = &p->paths[i];
		struct json_object *po = json_object_new_object();

		json_object_object_add(po, "active", json_object_new_boolean(!pp->expired));
		json_object_object_add(po, "address", jaddr(&pp->address));
		json_object_object_add(po, "expired", json_object_new_boolean(pp->expired));
		json_object_object_add(po, "lastReceive", json_object_new_int64(pp->last_receive));
		json_object_object_add(po, "lastSend", json_object_new_int64(pp->last_send));
		json_object_object_add(po, "localPort", json_object_new_int(0));
		json_object_object_add(po, "localSocket", json_object_new_int64(0));
		json_object_object_add(po, "preferred", json_object_new_boolean(pp->preferred));
		json_object_object_add(po, "trustedPathId", json_object_new_int(0));
		json_object_array_add(paths, po);
	}
	json_object_object_add(o, "paths", paths);
	json_object_object_add(o, "role", json_object_new_string(role_name(p->role)));
	json_object_object_add(o, "tunneled", json_object_new_boolean(0));
	json_object_object_add(o, "version", json_object_new_string(ver));
	json_object_object_add(o, "versionMajor", json_object_new_int(p->version_major));
	json_object_object_add(o, "versionMinor", json_object_new_int(p->version_minor));
	json_object_object_add(o, "versionRev", json_object_new_int(p->version_rev));
	return o;
}

/* peers_get() - snapshot of all peers (caller frees). */
static struct zt_peer_info *peers_get(struct svc *s, int *count)
{
	int max = 64, n;
	struct zt_peer_info *p = NULL;

	for (;;) {
		free(p);
		p = calloc((size_t)max, sizeof(*p));
		if (!p) {
			*count = 0;
			return NULL;
		}
		n = zt_node_peers(s->node, svc_now(), p, max);
		if (n <= max || max >= 65536)
			break;
		max = n;
	}
	*count = n < 0 ? 0 : n > max ? max : n;
	return p;
}

/* moon_roots() - roots listed in moons.d/ID.moon (World format, PROTOCOL §10.1) */
static struct json_object *moon_roots(struct svc *s, uint64_t id)
{
	struct json_object *arr = json_object_new_array();
	char p[1100];
	uint8_t *w;
	size_t len, off;
	unsigned nroots, i;

	snprintf(p, sizeof(p), "%s/moons.d/%016llx.moon", s->home, (unsigned long long)id);
	w = (uint8_t *)svc_file_read_all(p, 65536, &len);
	if (!w)
		return arr;
	if (len < 178)
		goto out;
	nroots = w[177];
	off = 178;
	for (i = 0; i < nroots; i++) {
		struct json_object *r = json_object_new_object(), *eps = json_object_new_array();
		char ident[200];
		unsigned ne, j, k;
		int pos;

		if (off + 71 > len) {
			json_object_put(r);
			json_object_put(eps);
			break;
		}
		pos = snprintf(ident, sizeof(ident), "%02x%02x%02x%02x%02x:0:", w[off], w[off + 1],
			       w[off + 2], w[off + 3], w[off + 4]);
		for (k = 0; k < 64; k++)
			pos += snprintf(ident + pos, sizeof(ident) - (size_t)pos, "%02x",
					w[off + 6 + k]);
		off += 70;
		off += 1 + w[off];	/* private key length, normally 0 */
		if (off >= len) {
			json_object_put(r);
			json_object_put(eps);
			break;
		}
		ne = w[off++];
		for (j = 0; j < ne && off < len; j++) {
			struct sockaddr_storage ss;

			memset(&ss, 0, sizeof(ss));
			if (w[off] == 4 && off + 7 <= len) {
				struct sockaddr_in *a = (struct sockaddr_in *)&ss;

				a->sin_family = AF_INET;
				memcpy(&a->sin_addr, w + off + 1, 4);
				memcpy(&a->sin_port, w + off + 5, 2);
				off += 7;
			} else if (w[off] == 6 && off + 19 <= len) {
				struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

				a->sin6_family = AF_INET6;
				memcpy(&a->sin6_addr, w + off + 1, 16);
				memcpy(&a->sin6_port, w + off + 17, 2);
				off += 19;
			} else {
				off = len;
				break;
			}
			json_object_array_add(eps, jaddr(&ss));
		}
		json_object_object_add(r, "identity", json_object_new_string(ident));
		json_object_object_add(r, "stableEndpoints", eps);
		json_object_array_add(arr, r);
	}
out:
	free(w);
	return arr;
}

static struct json_object *moon_json(struct svc *s, uint64_t id, uint64_t ts, int waiting)
{
	struct json_object *o = json_object_new_object();
	char hex[20];

	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)id);
	json_object_object_add(o, "id", json_object_new_string(hex));
	json_object_object_add(o, "roots", moon_roots(s, id));
	json_object_object_add(o, "timestamp", json_object_new_int64((int64_t)ts));
	json_object_object_add(o, "waiting", json_object_new_boolean(waiting));
	return o;
}

static int token_ok(const struct svc *s, const char *tok)
{
	size_t a, b, i;
	unsigned char d = 0;

	if (!tok)
		return 0;
	a = strlen(tok);
	b = strlen(s->token);
	if (a != b)
		return 0;
	for (i = 0; i < a; i++)
		d |= (unsigned char)(tok[i] ^ s->token[i]);
	return d == 0;
}

/* parse_body() - the request body as a JSON object (empty body: NULL, ok) */
static int parse_body(const struct svc_http_req *rq, struct json_object **out, char **err)
{
	struct json_tokener *tk;
	struct json_object *o;
	size_t i;

	*out = NULL;
	for (i = 0; i < rq->body_len && (rq->body[i] == ' ' || rq->body[i] == '\n' ||
					 rq->body[i] == '\r' || rq->body[i] == '\t');
	     i++)
		;
	if (i == rq->body_len)
		return 0;
	tk = json_tokener_new();
	o = json_tokener_parse_ex(tk, rq->body, (int)rq->body_len);
	if (!o || json_tokener_get_error(tk) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		char m[160];

		snprintf(m, sizeof(m), "invalid JSON body: %s",
			 o && json_tokener_get_error(tk) == json_tokener_success
				 ? "expected an object"
				 : json_tokener_error_desc(json_tokener_get_error(tk)));
		json_object_put(o);
		json_tokener_free(tk);
		*err = json_error(m);
		return -1;
	}
	json_tokener_free(tk);
	*out = o;
	return 0;
}

static int body_settings(struct json_object *b, struct svc_netset *set)
{
	struct json_object *v;
	int changed = 0;

	if (!b)
		return 0;
#define NC_SETTING(key, field)                                                        \
	if (json_object_object_get_ex(b, key, &v)) {                                  \
		int nv = json_object_get_boolean(v);                                  \
		changed |= nv != set->field;                                          \
		set->field = nv;                                                      \
	}
	NC_SETTING("allowManaged", allow_managed)
	NC_SETTING("allowGlobal", allow_global)
	NC_SETTING("allowDefault", allow_default)
	NC_SETTING("allowDNS", allow_dns)
#undef NC_SETTING
	return changed;
}

static int api_network(struct svc *s, const struct svc_http_req *rq, const char *rest,
		       char **body)
{
	struct json_object *b = NULL;
	struct svc_net *n;
	uint64_t nwid;
	int r;

	if (svc_hex_u64(rest, 16, &nwid) < 0) {
		*body = json_error("network id must be 16 hex digits");
		return 404;
	}
	n = svc_net_find(s, nwid);
	if (!strcmp(rq->method, "GET")) {
		if (!n) {
			*body = json_error("not a member of this network");
			return 404;
		}
		*body = json_take(network_json(s, n));
		return 200;
	}
	if (!strcmp(rq->method, "POST") || !strcmp(rq->method, "PUT")) {
		if (parse_body(rq, &b, body) < 0)
			return 400;
		r = svc_net_join(s, nwid, 1);
		n = svc_net_find(s, nwid);
		if (r < 0 || !n) {
			json_object_put(b);
			*body = json_error(r == -ENOSPC ? "too many networks" : "join failed");
			return r == -EINVAL ? 400 : 500;
		}
		if (body_settings(b, &n->set)) {
			svc_netset_save(s->home, nwid, &n->set);
			svc_net_reapply(s, n);
		}
		json_object_put(b);
		*body = json_take(network_json(s, n));
		return 200;
	}
	if (!strcmp(rq->method, "DELETE")) {
		struct json_object *o;

		if (!n) {
			svc_netdir_marker(s, nwid, 0);
			*body = json_error("not a member of this network");
			return 404;
		}
		svc_net_leave(s, nwid, 1);
		o = json_object_new_object();
		json_object_object_add(o, "result", json_object_new_boolean(1));
		*body = json_take(o);
		return 200;
	}
	*body = json_error("method not allowed");
	return 405;
}

static int api_peers(struct svc *s, const char *rest, char **body)
{
	struct zt_peer_info *p;
	struct json_object *arr;
	uint64_t addr = 0;
	int n, i;

	if (rest && svc_hex_u64(rest, 10, &addr) < 0) {
		*body = json_error("peer address must be 10 hex digits");
		return 404;
	}
	p = peers_get(s, &n);
	if (rest) {
		for (i = 0; i < n; i++)
			if (p[i].address == addr) {
				*body = json_take(peer_json(&p[i]));
				free(p);
				return 200;
			}
		free(p);
		*body = json_error("no such peer");
		return 404;
	}
	arr = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(arr, peer_json(&p[i]));
	free(p);
	*body = json_take(arr);
	return 200;
}

static int api_moons(struct svc *s, const struct svc_http_req *rq, const char *rest, char **body)
{
	uint64_t ids[64], ts[64], id = 0;
	int n, i;

	n = zt_node_moons(s->node, ids, ts, 64);
	if (n > 64)
		n = 64;
	if (!rest) {
		struct json_object *arr;

		if (strcmp(rq->method, "GET")) {
			*body = json_error("method not allowed");
			return 405;
		}
		arr = json_object_new_array();
		for (i = 0; i < n; i++)
			json_object_array_add(arr, moon_json(s, ids[i], ts[i], 0));
		*body = json_take(arr);
		return 200;
	}
	if (svc_hex_u64(rest, 16, &id) < 0) {
		*body = json_error("world id must be 16 hex digits");
		return 404;
	}
	if (!strcmp(rq->method, "GET")) {
		for (i = 0; i < n; i++)
			if (ids[i] == id) {
				*body = json_take(moon_json(s, id, ts[i], 0));
				return 200;
			}
		*body = json_error("not orbiting this moon");
		return 404;
	}
	if (!strcmp(rq->method, "POST") || !strcmp(rq->method, "PUT")) {
		struct json_object *b = NULL, *v;
		uint64_t seed = 0;
		int r;

		if (parse_body(rq, &b, body) < 0)
			return 400;
		if (b && json_object_object_get_ex(b, "seed", &v)) {
			const char *ss = json_object_get_string(v);

			if (ss && *ss && strcmp(ss, "0") &&
			    svc_hex_u64(ss, 10, &seed) < 0 && svc_hex_u64(ss, 16, &seed) < 0) {
				json_object_put(b);
				*body = json_error("seed must be a 10-digit address");
				return 400;
			}
		}
		json_object_put(b);
		r = zt_node_orbit(s->node, svc_now(), id, seed);
		s->deadline = svc_now();
		if (r != ZT_OK) {
			*body = json_error("orbit failed");
			return 400;
		}
		*body = json_take(moon_json(s, id, 0, 1));
		return 200;
	}
	if (!strcmp(rq->method, "DELETE")) {
		struct json_object *o;
		int r = zt_node_deorbit(s->node, svc_now(), id);
		char p[1100];

		snprintf(p, sizeof(p), "%s/moons.d/%016llx.moon", s->home, (unsigned long long)id);
		unlink(p);
		if (r != ZT_OK) {
			*body = json_error("not orbiting this moon");
			return 404;
		}
		o = json_object_new_object();
		json_object_object_add(o, "result", json_object_new_boolean(1));
		*body = json_take(o);
		return 200;
	}
	*body = json_error("method not allowed");
	return 405;
}

/* strip_slash() - "/network/" and "/network" are the same route */
static void strip_slash(char *p)
{
	size_t l = strlen(p);

	while (l > 1 && p[l - 1] == '/')
		p[--l] = 0;
}

/**
 * svc_api_handle() - route one authenticated-or-not request
 * @s:		daemon
 * @rq:		the request (path is writable)
 * @body:	response body out (malloc'd)
 * @ctype:	content type out
 * Return: HTTP status
 */
int svc_api_handle(struct svc *s, const struct svc_http_req *rq, char **body, const char **ctype)
{
	char *path = rq->path;
	int get = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");

	*ctype = "application/json";
	if (!token_ok(s, rq->auth)) {
		*body = strdup("{}");
		return 401;
	}
	strip_slash(path);
	if (!strncmp(path, "/controller", 11) || !strncmp(path, "/unstable/controller", 20)) {
		char *resp = NULL;
		int st;

		if (!s->ctl) {
			*body = json_error("controller not available");
			return 503;
		}
		st = nc_ctl_api(s->ctl, svc_now(), rq->method, path, rq->body, rq->body_len, &resp);
		s->deadline = svc_now();
		*body = resp ? resp : strdup("{}");
		return st;
	}
	if (!strcmp(path, "/status")) {
		if (!get)
			goto not_allowed;
		*body = json_take(status_json(s));
		return 200;
	}
	if (!strcmp(path, "/network")) {
		struct json_object *arr;
		int i;

		if (!get)
			goto not_allowed;
		arr = json_object_new_array();
		for (i = 0; i < SVC_MAX_NETS; i++)
			if (s->nets[i])
				json_object_array_add(arr, network_json(s, s->nets[i]));
		*body = json_take(arr);
		return 200;
	}
	if (!strncmp(path, "/network/", 9))
		return api_network(s, rq, path + 9, body);
	if (!strcmp(path, "/peer") || !strncmp(path, "/peer/", 6)) {
		if (!get)
			goto not_allowed;
		return api_peers(s, path[5] ? path + 6 : NULL, body);
	}
	if (!strcmp(path, "/moon"))
		return api_moons(s, rq, NULL, body);
	if (!strncmp(path, "/moon/", 6))
		return api_moons(s, rq, path + 6, body);
	if (!strcmp(path, "/metrics")) {
		if (!get)
			goto not_allowed;
		*ctype = "text/plain; version=0.0.4";
		*body = svc_metrics_text(s);
		return 200;
	}
	*body = json_error("no such route");
	return 404;
not_allowed:
	*body = json_error("method not allowed");
	return 405;
}
