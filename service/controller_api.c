/* controller_api.c - the embedded controller for the daemon: attach it to
 * the node over the controller.d/ store, and serve the /controller HTTP
 * routes of PROTOCOL.md §12.3 (same shapes as ZeroTier One's).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <sodium.h>

#include "service/controller.h"
#include "service/controller_db.h"
#include "service/svc.h"
#include "node/identity.h"
#include "node/inaddr.h"
#include "zt_controller.h"

struct nc_ctl {
	zt_node *node;
	struct zt_controller *ctl;
	struct nc_ctl_db db;
};

int nc_ctl_new(zt_node *node, const char *home, struct nc_ctl **out)
{
	struct nc_ctl *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->node = node;
	r = nc_ctl_db_init(&c->db, home);
	if (r < 0) {
		free(c);
		return r;
	}
	r = zt_controller_new(&c->ctl, &nc_ctl_db_store, &c->db);
	if (r < 0) {
		free(c);
		return r;
	}
	zt_node_set_controller(node, c->ctl);
	*out = c;
	return 0;
}

void nc_ctl_free(struct nc_ctl *c)
{
	if (!c)
		return;
	zt_node_set_controller(c->node, NULL);
	zt_controller_free(c->ctl);
	free(c);
}

static int reply(char **resp, int status, struct json_object *o)
{
	*resp = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return status;
}

static int error(char **resp, int status, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	return reply(resp, status, o);
}

/* parse_hex() - the len characters at s are exactly digits hex digits (either
 * case); 0 or -1. s need not end there (a path segment): svc_hex_u64() parses
 * a NUL-terminated copy. */
static int parse_hex(const char *s, size_t len, unsigned digits, uint64_t *v)
{
	char tmp[17];

	if (len != digits || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = 0;
	return svc_hex_u64(tmp, (int)digits, v) < 0 ? -1 : 0;
}

static int is_bool(struct json_object *v)
{
	return v && json_object_is_type(v, json_type_boolean);
}

static int jtruthy(struct json_object *v)
{
	if (!v)
		return 0;
	if (json_object_is_type(v, json_type_string))
		return !strcmp(json_object_get_string(v), "true") || !strcmp(json_object_get_string(v), "1");
	return json_object_get_boolean(v);
}

/* valid_cidr() / valid_ip() - checks for routes, pools and assignments */
static int valid_ip(const char *s)
{
	struct sockaddr_storage a;
	return s && zt_inaddr_parse(&a, s) == 0 && (a.ss_family == AF_INET || a.ss_family == AF_INET6);
}

static int valid_cidr(const char *s)
{
	struct sockaddr_storage a;
	unsigned bits;

	if (!s || !strchr(s, '/') || zt_inaddr_parse(&a, s) < 0)
		return 0;
	bits = zt_inaddr_port(&a);
	return (a.ss_family == AF_INET && bits <= 32) || (a.ss_family == AF_INET6 && bits <= 128);
}

/* net_apply() - copy accepted network fields from body into o. Return NULL or an error text. */
static const char *net_apply(struct json_object *o, struct json_object *body)
{
	json_object_object_foreach(body, key, v) {
		if (!strcmp(key, "name")) {
			json_object_object_add(o, key, json_object_new_string(v ? json_object_get_string(v) : ""));
		} else if (!strcmp(key, "private") || !strcmp(key, "enableBroadcast")) {
			json_object_object_add(o, key, json_object_new_boolean(jtruthy(v)));
		} else if (!strcmp(key, "multicastLimit") || !strcmp(key, "remoteTraceLevel") ||
			   !strcmp(key, "certificateTimeoutWindowSize")) {
			json_object_object_add(o, key, json_object_new_int64(v ? json_object_get_int64(v) : 0));
		} else if (!strcmp(key, "mtu")) {
			int64_t m = v ? json_object_get_int64(v) : 2800;
			if (m < 1280)
				m = 1280;
			if (m > 10000)
				m = 10000;
			json_object_object_add(o, key, json_object_new_int64(m));
		} else if (!strcmp(key, "v4AssignMode")) {
			struct json_object *m = json_object_new_object(), *zt;
			if (v && json_object_is_type(v, json_type_object) && json_object_object_get_ex(v, "zt", &zt))
				json_object_object_add(m, "zt", json_object_new_boolean(jtruthy(zt)));
			else if (v && json_object_is_type(v, json_type_string))
				json_object_object_add(m, "zt", json_object_new_boolean(strstr(json_object_get_string(v), "zt") != NULL));
			else
				json_object_object_add(m, "zt", json_object_new_boolean(0));
			json_object_object_add(o, key, m);
		} else if (!strcmp(key, "v6AssignMode")) {
			static const char *k6[3] = { "6plane", "rfc4193", "zt" };
			struct json_object *m = json_object_new_object(), *x;
			for (int i = 0; i < 3; i++) {
				int b = 0;
				if (v && json_object_is_type(v, json_type_object) && json_object_object_get_ex(v, k6[i], &x))
					b = jtruthy(x);
				else if (v && json_object_is_type(v, json_type_string))
					b = strstr(json_object_get_string(v), k6[i]) != NULL;
				json_object_object_add(m, k6[i], json_object_new_boolean(b));
			}
			json_object_object_add(o, key, m);
		} else if (!strcmp(key, "routes")) {
			struct json_object *arr = json_object_new_array();
			if (!v || !json_object_is_type(v, json_type_array)) {
				json_object_put(arr);
				return "routes must be an array";
			}
			for (size_t i = 0; i < json_object_array_length(v); i++) {
				struct json_object *r = json_object_array_get_idx(v, i), *t = NULL, *via = NULL, *n;
				if (!r || !json_object_is_type(r, json_type_object) ||
				    !json_object_object_get_ex(r, "target", &t) || !valid_cidr(json_object_get_string(t))) {
					json_object_put(arr);
					return "invalid route target";
				}
				json_object_object_get_ex(r, "via", &via);
				if (via && !json_object_is_type(via, json_type_null) && !valid_ip(json_object_get_string(via))) {
					json_object_put(arr);
					return "invalid route via";
				}
				n = json_object_new_object();
				json_object_object_add(n, "target", json_object_new_string(json_object_get_string(t)));
				json_object_object_add(n, "via", via && !json_object_is_type(via, json_type_null)
						       ? json_object_new_string(json_object_get_string(via)) : NULL);
				json_object_array_add(arr, n);
			}
			json_object_object_add(o, key, arr);
		} else if (!strcmp(key, "ipAssignmentPools")) {
			struct json_object *arr = json_object_new_array();
			if (!v || !json_object_is_type(v, json_type_array)) {
				json_object_put(arr);
				return "ipAssignmentPools must be an array";
			}
			for (size_t i = 0; i < json_object_array_length(v); i++) {
				struct json_object *p = json_object_array_get_idx(v, i), *a = NULL, *b = NULL, *n;
				if (!p || !json_object_object_get_ex(p, "ipRangeStart", &a) ||
				    !json_object_object_get_ex(p, "ipRangeEnd", &b) ||
				    !valid_ip(json_object_get_string(a)) || !valid_ip(json_object_get_string(b))) {
					json_object_put(arr);
					return "invalid ipAssignmentPool";
				}
				n = json_object_new_object();
				json_object_object_add(n, "ipRangeEnd", json_object_new_string(json_object_get_string(b)));
				json_object_object_add(n, "ipRangeStart", json_object_new_string(json_object_get_string(a)));
				json_object_array_add(arr, n);
			}
			json_object_object_add(o, key, arr);
		} else if (!strcmp(key, "rules")) {
			uint8_t tmp[ZT_CTL_RULES_MAX];
			if (nc_ctl_db_rules_encode(v, tmp, sizeof(tmp)) < 0)
				return "invalid rules";
			json_object_object_add(o, key, json_object_get(v));
		} else if (!strcmp(key, "authTokens")) {
			if (v && !json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array))
				return "authTokens must be an object";
			json_object_object_add(o, key, json_object_get(v));
		} else if (!strcmp(key, "capabilities") || !strcmp(key, "tags")) {
			if (!v || !json_object_is_type(v, json_type_array))
				return "must be an array";
			json_object_object_add(o, key, json_object_get(v));
		} else if (!strcmp(key, "dns")) {
			json_object_object_add(o, key, json_object_get(v));
		} else if (!strcmp(key, "remoteTraceTarget")) {
			json_object_object_add(o, key, json_object_get(v));
		}
	}
	return NULL;
}

/* member_apply() - accepted member fields. Return NULL or an error text. */
static const char *member_apply(struct json_object *o, struct json_object *body, int64_t now)
{
	json_object_object_foreach(body, key, v) {
		if (!strcmp(key, "authorized")) {
			struct json_object *old;
			int was = json_object_object_get_ex(o, "authorized", &old) && jtruthy(old);
			int b = jtruthy(v);
			if (v && !is_bool(v) && !json_object_is_type(v, json_type_int) &&
			    !json_object_is_type(v, json_type_string))
				return "authorized must be a boolean";
			json_object_object_add(o, key, json_object_new_boolean(b));
			if (b != was) {
				json_object_object_add(o, b ? "lastAuthorizedTime" : "lastDeauthorizedTime",
						       json_object_new_int64(now));
				if (b) {
					json_object_object_add(o, "lastAuthorizedCredentialType", json_object_new_string("api"));
					json_object_object_add(o, "lastAuthorizedCredential", NULL);
				}
			}
		} else if (!strcmp(key, "activeBridge") || !strcmp(key, "noAutoAssignIps") ||
			   !strcmp(key, "ssoExempt")) {
			json_object_object_add(o, key, json_object_new_boolean(jtruthy(v)));
		} else if (!strcmp(key, "ipAssignments")) {
			struct json_object *arr;
			if (!v || !json_object_is_type(v, json_type_array))
				return "ipAssignments must be an array";
			arr = json_object_new_array();
			for (size_t i = 0; i < json_object_array_length(v); i++) {
				struct json_object *e = json_object_array_get_idx(v, i);
				const char *s = e ? json_object_get_string(e) : NULL;
				if (!s || !valid_ip(s)) {
					json_object_put(arr);
					return "invalid IP in ipAssignments";
				}
				json_object_array_add(arr, json_object_new_string(s));
			}
			json_object_object_add(o, key, arr);
		} else if (!strcmp(key, "tags") || !strcmp(key, "capabilities")) {
			if (!v || !json_object_is_type(v, json_type_array))
				return "must be an array";
			json_object_object_add(o, key, json_object_get(v));
		} else if (!strcmp(key, "name") || !strcmp(key, "authenticationURL")) {
			json_object_object_add(o, key, json_object_new_string(v ? json_object_get_string(v) : ""));
		} else if (!strcmp(key, "remoteTraceLevel") || !strcmp(key, "authenticationExpiryTime")) {
			json_object_object_add(o, key, json_object_new_int64(v ? json_object_get_int64(v) : 0));
		} else if (!strcmp(key, "remoteTraceTarget")) {
			json_object_object_add(o, key, json_object_get(v));
		}
	}
	return NULL;
}

static void bump_revision(struct json_object *o)
{
	struct json_object *r;
	int64_t rev = json_object_object_get_ex(o, "revision", &r) ? json_object_get_int64(r) : 0;

	json_object_object_add(o, "revision", json_object_new_int64(rev + 1));
}

static int authorized_of(struct json_object *o)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, "authorized", &v) && jtruthy(v);
}

/* network_post() - create or update nwid from body */
static int network_post(struct nc_ctl *c, int64_t now, uint64_t nwid, struct json_object *body, char **resp)
{
	struct json_object *o = nc_ctl_db_network_json(&c->db, nwid);
	const char *err;

	if (!o)
		o = nc_ctl_db_network_new(nwid, now);
	err = net_apply(o, body);
	if (err) {
		json_object_put(o);
		return error(resp, 400, err);
	}
	bump_revision(o);
	if (nc_ctl_db_network_save(&c->db, nwid, o) < 0) {
		json_object_put(o);
		return error(resp, 500, "cannot write network");
	}
	zt_controller_network_changed(c->node, now, nwid);
	return reply(resp, 200, o);
}

static uint64_t new_nwid(struct nc_ctl *c)
{
	uint64_t base = zt_node_address(c->node) << 24;

	for (int tries = 0; tries < 1000; tries++) {
		uint64_t r;
		struct json_object *o;
		randombytes_buf(&r, sizeof(r));
		r &= 0xffffff;
		if (!r)
			continue;
		o = nc_ctl_db_network_json(&c->db, base | r);
		if (!o)
			return base | r;
		json_object_put(o);
	}
	return 0;
}

/* parse_body() - NULL body = {}; bad JSON -> NULL and *bad set */
static struct json_object *parse_body(const char *body, size_t len, int *bad)
{
	struct json_tokener *tok;
	struct json_object *o;

	*bad = 0;
	if (!body || !len)
		return json_object_new_object();
	tok = json_tokener_new();
	if (!tok) {
		*bad = 1;
		return NULL;
	}
	o = json_tokener_parse_ex(tok, body, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		if (o)
			json_object_put(o);
		o = NULL;
		*bad = 1;
	}
	json_tokener_free(tok);
	return o;
}

static struct json_object *member_list_json(struct nc_ctl *c, uint64_t nwid, int full, unsigned *n_auth, unsigned *n_total)
{
	uint64_t addrs[4096];
	int n = nc_ctl_db_members(&c->db, nwid, addrs, 4096);
	struct json_object *out = full ? json_object_new_array() : json_object_new_object();

	*n_auth = *n_total = 0;
	for (int i = 0; i < n; i++) {
		struct json_object *m = nc_ctl_db_member_json(&c->db, nwid, addrs[i]), *r;
		char k[16];
		if (!m)
			continue;
		(*n_total)++;
		if (authorized_of(m))
			(*n_auth)++;
		if (full) {
			json_object_array_add(out, m);
			continue;
		}
		snprintf(k, sizeof(k), "%010llx", (unsigned long long)addrs[i]);
		json_object_object_add(out, k, json_object_new_int64(json_object_object_get_ex(m, "revision", &r)
								      ? json_object_get_int64(r) : 0));
		json_object_put(m);
	}
	return out;
}

/* nc_ctl_api() - one /controller or /unstable/controller request */
int nc_ctl_api(struct nc_ctl *c, int64_t now, const char *method, const char *path,
	       const char *body, size_t body_len, char **resp)
{
	char p[512];
	size_t pl;
	int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	int post = !strcmp(method, "POST") || !strcmp(method, "PUT");
	int del = !strcmp(method, "DELETE");
	int unstable = 0;
	const char *rest;
	uint64_t nwid, addr;

	*resp = NULL;
	pl = strcspn(path, "?");
	if (pl >= sizeof(p))
		return error(resp, 404, "not found");
	memcpy(p, path, pl);
	p[pl] = 0;
	while (pl > 1 && p[pl - 1] == '/')
		p[--pl] = 0;
	if (!strncmp(p, "/unstable", 9)) {
		unstable = 1;
		memmove(p, p + 9, strlen(p + 9) + 1);
	}
	if (strncmp(p, "/controller", 11))
		return error(resp, 404, "not found");
	rest = p + 11;

	if (!*rest && !unstable) {
		struct json_object *o;
		if (!get)
			return error(resp, 405, "method not allowed");
		o = json_object_new_object();
		json_object_object_add(o, "controller", json_object_new_boolean(1));
		json_object_object_add(o, "apiVersion", json_object_new_int(4));
		json_object_object_add(o, "clock", json_object_new_int64(now));
		json_object_object_add(o, "databaseReady", json_object_new_boolean(1));
		return reply(resp, 200, o);
	}
	if (strncmp(rest, "/network", 8))
		return error(resp, 404, "not found");
	rest += 8;

	if (!*rest) {
		uint64_t ids[4096];
		int n = nc_ctl_db_networks(&c->db, ids, 4096);
		if (get && unstable) {
			struct json_object *o = json_object_new_object(), *arr = json_object_new_array(), *meta;
			for (int i = 0; i < n; i++) {
				struct json_object *nj = nc_ctl_db_network_json(&c->db, ids[i]), *mm, *ml;
				unsigned na, nt;
				if (!nj)
					continue;
				ml = member_list_json(c, ids[i], 0, &na, &nt);
				json_object_put(ml);
				mm = json_object_new_object();
				json_object_object_add(mm, "totalMemberCount", json_object_new_int((int)nt));
				json_object_object_add(mm, "authorizedMemberCount", json_object_new_int((int)na));
				json_object_object_add(nj, "meta", mm);
				json_object_array_add(arr, nj);
			}
			json_object_object_add(o, "data", arr);
			meta = json_object_new_object();
			json_object_object_add(meta, "networkCount", json_object_new_int(n));
			json_object_object_add(o, "meta", meta);
			return reply(resp, 200, o);
		}
		if (get) {
			struct json_object *arr = json_object_new_array();
			for (int i = 0; i < n; i++) {
				char s[20];
				snprintf(s, sizeof(s), "%016llx", (unsigned long long)ids[i]);
				json_object_array_add(arr, json_object_new_string(s));
			}
			return reply(resp, 200, arr);
		}
		if (post && !unstable) {
			int bad;
			struct json_object *b = parse_body(body, body_len, &bad);
			int st;
			if (!b)
				return error(resp, 400, "invalid JSON");
			nwid = new_nwid(c);
			if (!nwid) {
				json_object_put(b);
				return error(resp, 500, "no free network id");
			}
			st = network_post(c, now, nwid, b, resp);
			json_object_put(b);
			return st;
		}
		return error(resp, 405, "method not allowed");
	}
	if (*rest != '/')
		return error(resp, 404, "not found");
	rest++;
	{
		const char *slash = strchr(rest, '/');
		size_t idl = slash ? (size_t)(slash - rest) : strlen(rest);

		/* legacy create: <ctrl10>______ */
		if (!slash && idl == 16 && !strcmp(rest + 10, "______") && !unstable) {
			uint64_t ctl;
			int bad, st;
			struct json_object *b;
			if (!post)
				return error(resp, 405, "method not allowed");
			if (parse_hex(rest, 10, 10, &ctl) < 0 || ctl != zt_node_address(c->node))
				return error(resp, 400, "not this controller's address");
			b = parse_body(body, body_len, &bad);
			if (!b)
				return error(resp, 400, "invalid JSON");
			nwid = new_nwid(c);
			st = nwid ? network_post(c, now, nwid, b, resp) : error(resp, 500, "no free network id");
			json_object_put(b);
			return st;
		}
		if (parse_hex(rest, idl, 16, &nwid) < 0)
			return error(resp, 404, "not found");
		rest += idl;
	}

	if (!*rest) {
		struct json_object *o;
		if (unstable)
			return error(resp, 404, "not found");
		if (get) {
			o = nc_ctl_db_network_json(&c->db, nwid);
			return o ? reply(resp, 200, o) : error(resp, 404, "network not found");
		}
		if (post) {
			int bad, st;
			struct json_object *b;
			if ((nwid >> 24) != zt_node_address(c->node))
				return error(resp, 400, "network id is not this controller's");
			b = parse_body(body, body_len, &bad);
			if (!b)
				return error(resp, 400, "invalid JSON");
			st = network_post(c, now, nwid, b, resp);
			json_object_put(b);
			return st;
		}
		if (del) {
			o = nc_ctl_db_network_json(&c->db, nwid);
			if (!o)
				return error(resp, 404, "network not found");
			nc_ctl_db_network_delete(&c->db, nwid);
			zt_controller_network_changed(c->node, now, nwid);
			return reply(resp, 200, o);
		}
		return error(resp, 405, "method not allowed");
	}
	if (strncmp(rest, "/member", 7))
		return error(resp, 404, "not found");
	rest += 7;
	{
		struct json_object *net = nc_ctl_db_network_json(&c->db, nwid);
		if (!net)
			return error(resp, 404, "network not found");
		json_object_put(net);
	}
	if (!*rest) {
		unsigned na, nt;
		struct json_object *l;
		if (!get)
			return error(resp, 405, "method not allowed");
		l = member_list_json(c, nwid, unstable, &na, &nt);
		if (unstable) {
			struct json_object *o = json_object_new_object(), *meta = json_object_new_object();
			json_object_object_add(o, "data", l);
			json_object_object_add(meta, "totalCount", json_object_new_int((int)nt));
			json_object_object_add(meta, "authorizedCount", json_object_new_int((int)na));
			json_object_object_add(o, "meta", meta);
			return reply(resp, 200, o);
		}
		return reply(resp, 200, l);
	}
	if (unstable || *rest != '/' || parse_hex(rest + 1, strlen(rest + 1), 10, &addr) < 0)
		return error(resp, 404, "not found");

	if (get) {
		struct json_object *o = nc_ctl_db_member_json(&c->db, nwid, addr);
		return o ? reply(resp, 200, o) : error(resp, 404, "member not found");
	}
	if (post) {
		int bad, was;
		struct json_object *b = parse_body(body, body_len, &bad), *o;
		const char *err;
		if (!b)
			return error(resp, 400, "invalid JSON");
		o = nc_ctl_db_member_json(&c->db, nwid, addr);
		if (!o)
			o = nc_ctl_db_member_new(nwid, addr, now);
		was = authorized_of(o);
		err = member_apply(o, b, now);
		json_object_put(b);
		if (err) {
			json_object_put(o);
			return error(resp, 400, err);
		}
		bump_revision(o);
		if (nc_ctl_db_member_save(&c->db, nwid, addr, o) < 0) {
			json_object_put(o);
			return error(resp, 500, "cannot write member");
		}
		zt_controller_member_changed(c->node, now, nwid, addr, was);
		return reply(resp, 200, o);
	}
	if (del) {
		struct json_object *o = nc_ctl_db_member_json(&c->db, nwid, addr);
		int was;
		if (!o)
			return error(resp, 404, "member not found");
		was = authorized_of(o);
		nc_ctl_db_member_delete(&c->db, nwid, addr);
		zt_controller_member_changed(c->node, now, nwid, addr, was);
		return reply(resp, 200, o);
	}
	return error(resp, 405, "method not allowed");
}
