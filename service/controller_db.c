/* controller_db.c - controller.d/ on disk (the official file layout:
 * network/<nwid>.json and network/<nwid>/member/<addr>.json, one JSON
 * object each, official field names), and its conversion to the structs of
 * include/zt_controller.h. Files are re-read on every lookup, so what is on
 * disk is the state; writes go to a temporary file then rename().
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/inaddr.h"
#include "node/rules.h"
#include "service/controller_db.h"
#include "service/svc.h"

static int mkdir_p(const char *path)
{
	char tmp[4096];
	size_t l = strlen(path);

	if (l >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, l + 1);
	for (size_t i = 1; i < l; i++) {
		if (tmp[i] == '/') {
			tmp[i] = 0;
			if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
				return -errno;
			tmp[i] = '/';
		}
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int nc_ctl_db_init(struct nc_ctl_db *db, const char *home)
{
	char p[4200];

	if (snprintf(db->dir, sizeof(db->dir), "%s/controller.d", home) >= (int)sizeof(db->dir))
		return -ENAMETOOLONG;
	snprintf(p, sizeof(p), "%s/network", db->dir);
	return mkdir_p(p);
}

static void net_path(struct nc_ctl_db *db, uint64_t nwid, char *out, size_t cap)
{
	snprintf(out, cap, "%s/network/%016llx.json", db->dir, (unsigned long long)nwid);
}

static void member_dir(struct nc_ctl_db *db, uint64_t nwid, char *out, size_t cap)
{
	snprintf(out, cap, "%s/network/%016llx/member", db->dir, (unsigned long long)nwid);
}

static void member_path(struct nc_ctl_db *db, uint64_t nwid, uint64_t addr, char *out, size_t cap)
{
	snprintf(out, cap, "%s/network/%016llx/member/%010llx.json", db->dir, (unsigned long long)nwid,
		 (unsigned long long)addr);
}

static struct json_object *load_json(const char *path)
{
	struct json_object *o = json_object_from_file(path);

	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* save_json() - write o to path atomically (svc_file_write(): temp file,
 * fsync, rename), mode 0600. Return 0 or -errno. */
static int save_json(const char *path, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	return svc_file_write(path, s, strlen(s), 0600);
}

struct json_object *nc_ctl_db_network_json(struct nc_ctl_db *db, uint64_t nwid)
{
	char p[4200];

	net_path(db, nwid, p, sizeof(p));
	return load_json(p);
}

struct json_object *nc_ctl_db_member_json(struct nc_ctl_db *db, uint64_t nwid, uint64_t addr)
{
	char p[4200];

	member_path(db, nwid, addr, p, sizeof(p));
	return load_json(p);
}

int nc_ctl_db_network_save(struct nc_ctl_db *db, uint64_t nwid, struct json_object *o)
{
	char p[4200];

	net_path(db, nwid, p, sizeof(p));
	return save_json(p, o);
}

int nc_ctl_db_member_save(struct nc_ctl_db *db, uint64_t nwid, uint64_t addr, struct json_object *o)
{
	char p[4200];
	int r;

	member_dir(db, nwid, p, sizeof(p));
	r = mkdir_p(p);
	if (r < 0)
		return r;
	member_path(db, nwid, addr, p, sizeof(p));
	return save_json(p, o);
}

int nc_ctl_db_member_delete(struct nc_ctl_db *db, uint64_t nwid, uint64_t addr)
{
	char p[4200];

	member_path(db, nwid, addr, p, sizeof(p));
	return unlink(p) < 0 ? -errno : 0;
}

int nc_ctl_db_network_delete(struct nc_ctl_db *db, uint64_t nwid)
{
	char p[4200];
	uint64_t addrs[1024];
	int n = nc_ctl_db_members(db, nwid, addrs, 1024);

	for (int i = 0; i < n; i++)
		nc_ctl_db_member_delete(db, nwid, addrs[i]);
	member_dir(db, nwid, p, sizeof(p));
	rmdir(p);
	snprintf(p, sizeof(p), "%s/network/%016llx", db->dir, (unsigned long long)nwid);
	rmdir(p);
	net_path(db, nwid, p, sizeof(p));
	return unlink(p) < 0 ? -errno : 0;
}

/* list_hex() - names "<hex digits>.json" in dir */
static int list_hex(const char *dir, unsigned digits, uint64_t *out, int max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		char hex[17];
		uint64_t v;

		/* exactly digits hex digits: strtoull() would also take "-", "+", "0x" */
		if (digits >= sizeof(hex) || strlen(de->d_name) != digits + 5 ||
		    strcmp(de->d_name + digits, ".json"))
			continue;
		memcpy(hex, de->d_name, digits);
		hex[digits] = 0;
		if (svc_hex_u64(hex, (int)digits, &v) < 0)
			continue;
		out[n++] = v;
	}
	closedir(d);
	return n;
}

int nc_ctl_db_networks(struct nc_ctl_db *db, uint64_t *out, int max)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s/network", db->dir);
	return list_hex(p, 16, out, max);
}

int nc_ctl_db_members(struct nc_ctl_db *db, uint64_t nwid, uint64_t *out, int max)
{
	char p[4200];

	member_dir(db, nwid, p, sizeof(p));
	return list_hex(p, 10, out, max);
}

static void jset_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void jset_hex(struct json_object *o, const char *k, uint64_t v, int digits)
{
	char s[24];

	snprintf(s, sizeof(s), "%0*llx", digits, (unsigned long long)v);
	jset_str(o, k, s);
}

struct json_object *nc_ctl_db_network_new(uint64_t nwid, int64_t now)
{
	struct json_object *o = json_object_new_object(), *r, *a;

	json_object_object_add(o, "authTokens", json_object_new_object());
	jset_str(o, "authorizationEndpoint", "");
	json_object_object_add(o, "capabilities", json_object_new_array());
	jset_str(o, "clientId", "");
	json_object_object_add(o, "creationTime", json_object_new_int64(now));
	json_object_object_add(o, "dns", json_object_new_array());
	json_object_object_add(o, "enableBroadcast", json_object_new_boolean(1));
	jset_hex(o, "id", nwid, 16);
	json_object_object_add(o, "ipAssignmentPools", json_object_new_array());
	json_object_object_add(o, "mtu", json_object_new_int(ZT_DEFAULT_MTU));
	json_object_object_add(o, "multicastLimit", json_object_new_int(32));
	jset_str(o, "name", "");
	jset_hex(o, "nwid", nwid, 16);
	jset_str(o, "objtype", "network");
	json_object_object_add(o, "private", json_object_new_boolean(1));
	json_object_object_add(o, "remoteTraceLevel", json_object_new_int(0));
	json_object_object_add(o, "remoteTraceTarget", NULL);
	json_object_object_add(o, "revision", json_object_new_int64(0));
	json_object_object_add(o, "routes", json_object_new_array());
	r = json_object_new_array();
	a = json_object_new_object();
	json_object_object_add(a, "not", json_object_new_boolean(0));
	json_object_object_add(a, "or", json_object_new_boolean(0));
	jset_str(a, "type", "ACTION_ACCEPT");
	json_object_array_add(r, a);
	json_object_object_add(o, "rules", r);
	jset_str(o, "rulesSource", "");
	json_object_object_add(o, "ssoEnabled", json_object_new_boolean(0));
	json_object_object_add(o, "tags", json_object_new_array());
	a = json_object_new_object();
	json_object_object_add(a, "zt", json_object_new_boolean(0));
	json_object_object_add(o, "v4AssignMode", a);
	a = json_object_new_object();
	json_object_object_add(a, "6plane", json_object_new_boolean(0));
	json_object_object_add(a, "rfc4193", json_object_new_boolean(0));
	json_object_object_add(a, "zt", json_object_new_boolean(0));
	json_object_object_add(o, "v6AssignMode", a);
	return o;
}

struct json_object *nc_ctl_db_member_new(uint64_t nwid, uint64_t addr, int64_t now)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "activeBridge", json_object_new_boolean(0));
	jset_hex(o, "address", addr, 10);
	json_object_object_add(o, "authenticationExpiryTime", json_object_new_int64(0));
	json_object_object_add(o, "authorized", json_object_new_boolean(0));
	json_object_object_add(o, "capabilities", json_object_new_array());
	json_object_object_add(o, "creationTime", json_object_new_int64(now));
	jset_hex(o, "id", addr, 10);
	json_object_object_add(o, "identity", json_object_new_string(""));
	json_object_object_add(o, "ipAssignments", json_object_new_array());
	json_object_object_add(o, "lastAuthorizedCredential", NULL);
	json_object_object_add(o, "lastAuthorizedCredentialType", NULL);
	json_object_object_add(o, "lastAuthorizedTime", json_object_new_int64(0));
	json_object_object_add(o, "lastDeauthorizedTime", json_object_new_int64(0));
	json_object_object_add(o, "noAutoAssignIps", json_object_new_boolean(0));
	jset_hex(o, "nwid", nwid, 16);
	jset_str(o, "objtype", "member");
	json_object_object_add(o, "remoteTraceLevel", json_object_new_int(0));
	json_object_object_add(o, "remoteTraceTarget", NULL);
	json_object_object_add(o, "revision", json_object_new_int64(0));
	json_object_object_add(o, "ssoExempt", json_object_new_boolean(0));
	json_object_object_add(o, "tags", json_object_new_array());
	json_object_object_add(o, "vMajor", json_object_new_int(-1));
	json_object_object_add(o, "vMinor", json_object_new_int(-1));
	json_object_object_add(o, "vProto", json_object_new_int(-1));
	json_object_object_add(o, "vRev", json_object_new_int(-1));
	return o;
}

static int jbool(struct json_object *o, const char *k, int def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !v)
		return def;
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		return !strcmp(s, "true") || !strcmp(s, "1");
	}
	return json_object_get_boolean(v);
}

static int64_t jint(struct json_object *o, const char *k, int64_t def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !v)
		return def;
	return json_object_get_int64(v);
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !v || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* juint_any() - an integer given as a JSON number, or as a string in base (0 = auto) */
static uint64_t juint_any(struct json_object *o, const char *k, int base, int *ok)
{
	struct json_object *v;

	*ok = 0;
	if (!json_object_object_get_ex(o, k, &v) || !v)
		return 0;
	if (json_object_is_type(v, json_type_string)) {
		char *end;
		const char *s = json_object_get_string(v);
		uint64_t x = strtoull(s, &end, base);
		*ok = end != s;
		return x;
	}
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
		*ok = 1;
		return (uint64_t)json_object_get_int64(v);
	}
	return 0;
}

static int parse_mac(const char *s, uint64_t *mac)
{
	uint64_t m = 0;
	int digits = 0;

	for (; *s; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else if (*s == ':' || *s == '-')
			continue;
		else
			return -1;
		m = (m << 4) | (uint64_t)d;
		digits++;
	}
	if (digits != 12)
		return -1;
	*mac = m;
	return 0;
}

int nc_ctl_db_rules_encode(struct json_object *rules, uint8_t *out, unsigned cap)
{
	struct zt_wbuf w;
	size_t n;

	if (!rules || !json_object_is_type(rules, json_type_array))
		return -EINVAL;
	zt_wbuf_init(&w, out, cap);
	n = json_object_array_length(rules);
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(rules, i);
		const char *t;
		uint8_t f[32];
		unsigned fl = 0, type;
		int ok, ok2;
		uint8_t flags;

		if (!r || !json_object_is_type(r, json_type_object))
			return -EINVAL;
		t = jstr(r, "type");
		if (!t)
			return -EINVAL;
		flags = (uint8_t)((jbool(r, "not", 0) ? ZT_RULE_NOT : 0) | (jbool(r, "or", 0) ? ZT_RULE_OR : 0));
		if (!strcmp(t, "ACTION_DROP")) type = ZT_RULE_ACTION_DROP;
		else if (!strcmp(t, "ACTION_ACCEPT")) type = ZT_RULE_ACTION_ACCEPT;
		else if (!strcmp(t, "ACTION_BREAK")) type = ZT_RULE_ACTION_BREAK;
		else if (!strcmp(t, "ACTION_TEE") || !strcmp(t, "ACTION_WATCH") || !strcmp(t, "ACTION_REDIRECT")) {
			type = !strcmp(t, "ACTION_TEE") ? ZT_RULE_ACTION_TEE : !strcmp(t, "ACTION_WATCH") ?
				ZT_RULE_ACTION_WATCH : ZT_RULE_ACTION_REDIRECT;
			zt_store_be(f, juint_any(r, "address", 16, &ok), 8);
			zt_store_be(f + 8, juint_any(r, "flags", 0, &ok), 4);
			zt_store_be(f + 12, juint_any(r, "length", 0, &ok), 2);
			fl = 14;
		} else if (!strcmp(t, "MATCH_SOURCE_ZEROTIER_ADDRESS") || !strcmp(t, "MATCH_DEST_ZEROTIER_ADDRESS")) {
			type = t[6] == 'S' ? ZT_RULE_MATCH_SOURCE_ZTADDR : ZT_RULE_MATCH_DEST_ZTADDR;
			zt_store_be(f, juint_any(r, "zt", 16, &ok), 5);
			if (!ok)
				return -EINVAL;
			fl = 5;
		} else if (!strcmp(t, "MATCH_VLAN_ID")) {
			type = ZT_RULE_MATCH_VLAN_ID;
			zt_store_be(f, juint_any(r, "vlanId", 0, &ok), 2);
			fl = 2;
		} else if (!strcmp(t, "MATCH_MAC_SOURCE") || !strcmp(t, "MATCH_MAC_DEST")) {
			uint64_t mac;
			const char *s = jstr(r, "mac");
			type = t[10] == 'S' ? ZT_RULE_MATCH_MAC_SOURCE : ZT_RULE_MATCH_MAC_DEST;
			if (!s || parse_mac(s, &mac))
				return -EINVAL;
			zt_store_be(f, mac, 6);
			fl = 6;
		} else if (!strcmp(t, "MATCH_IPV4_SOURCE") || !strcmp(t, "MATCH_IPV4_DEST") ||
			   !strcmp(t, "MATCH_IPV6_SOURCE") || !strcmp(t, "MATCH_IPV6_DEST")) {
			struct sockaddr_storage a;
			const char *s = jstr(r, "ip");
			int v6 = t[9] == '6';
			type = v6 ? (t[11] == 'S' ? ZT_RULE_MATCH_IPV6_SOURCE : ZT_RULE_MATCH_IPV6_DEST)
				  : (t[11] == 'S' ? ZT_RULE_MATCH_IPV4_SOURCE : ZT_RULE_MATCH_IPV4_DEST);
			if (!s || zt_inaddr_parse(&a, s) < 0 || a.ss_family != (v6 ? AF_INET6 : AF_INET))
				return -EINVAL;
			/* as the official controller: the mask is the "/bits" part (0 if absent) */
			if (v6) {
				memcpy(f, &((struct sockaddr_in6 *)&a)->sin6_addr, 16);
				f[16] = (uint8_t)(zt_inaddr_port(&a) > 128 ? 128 : zt_inaddr_port(&a));
				fl = 17;
			} else {
				memcpy(f, &((struct sockaddr_in *)&a)->sin_addr, 4);
				f[4] = (uint8_t)(zt_inaddr_port(&a) > 32 ? 32 : zt_inaddr_port(&a));
				fl = 5;
			}
		} else if (!strcmp(t, "MATCH_IP_TOS")) {
			type = ZT_RULE_MATCH_IP_TOS;
			f[0] = (uint8_t)juint_any(r, "mask", 0, &ok);
			f[1] = (uint8_t)juint_any(r, "start", 0, &ok);
			f[2] = (uint8_t)juint_any(r, "end", 0, &ok);
			fl = 3;
		} else if (!strcmp(t, "MATCH_IP_PROTOCOL")) {
			type = ZT_RULE_MATCH_IP_PROTOCOL;
			f[0] = (uint8_t)juint_any(r, "ipProtocol", 0, &ok);
			if (!ok)
				return -EINVAL;
			fl = 1;
		} else if (!strcmp(t, "MATCH_ETHERTYPE")) {
			type = ZT_RULE_MATCH_ETHERTYPE;
			zt_store_be(f, juint_any(r, "etherType", 0, &ok), 2);
			if (!ok)
				return -EINVAL;
			fl = 2;
		} else if (!strcmp(t, "MATCH_ICMP")) {
			type = ZT_RULE_MATCH_ICMP;
			f[0] = (uint8_t)juint_any(r, "icmpType", 0, &ok);
			f[1] = (uint8_t)juint_any(r, "icmpCode", 0, &ok2);
			f[2] = ok2 ? 1 : 0;
			fl = 3;
		} else if (!strcmp(t, "MATCH_IP_SOURCE_PORT_RANGE") || !strcmp(t, "MATCH_IP_DEST_PORT_RANGE") ||
			   !strcmp(t, "MATCH_FRAME_SIZE_RANGE")) {
			type = !strcmp(t, "MATCH_FRAME_SIZE_RANGE") ? ZT_RULE_MATCH_FRAME_SIZE_RANGE :
				t[9] == 'S' ? ZT_RULE_MATCH_IP_SOURCE_PORT_RANGE : ZT_RULE_MATCH_IP_DEST_PORT_RANGE;
			zt_store_be(f, juint_any(r, "start", 0, &ok), 2);
			zt_store_be(f + 2, juint_any(r, "end", 0, &ok2), 2);
			if (!ok2)
				zt_store_be(f + 2, zt_load_be(f, 2), 2);
			fl = 4;
		} else if (!strcmp(t, "MATCH_CHARACTERISTICS")) {
			type = ZT_RULE_MATCH_CHARACTERISTICS;
			zt_store_be(f, juint_any(r, "mask", 16, &ok), 8);
			fl = 8;
		} else if (!strcmp(t, "MATCH_RANDOM")) {
			type = ZT_RULE_MATCH_RANDOM;
			zt_store_be(f, juint_any(r, "probability", 0, &ok), 4);
			fl = 4;
		} else if (!strncmp(t, "MATCH_TAG", 9)) {
			static const char *tags[7] = { "MATCH_TAGS_DIFFERENCE", "MATCH_TAGS_BITWISE_AND",
				"MATCH_TAGS_BITWISE_OR", "MATCH_TAGS_BITWISE_XOR", "MATCH_TAGS_EQUAL",
				"MATCH_TAG_SENDER", "MATCH_TAG_RECEIVER" };
			type = 0;
			for (unsigned k = 0; k < 7; k++)
				if (!strcmp(t, tags[k]))
					type = 44 + k;
			if (!type)
				continue;
			zt_store_be(f, juint_any(r, "id", 0, &ok), 4);
			zt_store_be(f + 4, juint_any(r, "value", 0, &ok), 4);
			fl = 8;
		} else {
			continue;	/* unknown rule types are skipped, as the official controller does */
		}
		zt_wbuf_u8(&w, (uint8_t)(type | flags));
		zt_wbuf_u8(&w, (uint8_t)fl);
		zt_wbuf_put(&w, f, fl);
	}
	return w.err ? -E2BIG : (int)w.len;
}

/* parse_ip_noport() - "1.2.3.4" or "fd00::1" (a "/n" suffix is ignored) */
static int parse_ip_noport(const char *s, struct sockaddr_storage *a)
{
	if (zt_inaddr_parse(a, s) < 0)
		return -1;
	zt_inaddr_set_port(a, 0);
	return 0;
}

int nc_ctl_db_network_from_json(struct json_object *o, struct zt_ctl_network *net)
{
	struct json_object *v;
	const char *s;
	int ok;

	zt_ctl_network_defaults(net, juint_any(o, "id", 16, &ok));
	if (!ok)
		return -EINVAL;
	s = jstr(o, "name");
	if (s)
		snprintf(net->name, sizeof(net->name), "%s", s);
	net->is_private = jbool(o, "private", 1);
	net->enable_broadcast = jbool(o, "enableBroadcast", 1);
	net->multicast_limit = (unsigned)jint(o, "multicastLimit", 32);
	net->mtu = (unsigned)jint(o, "mtu", ZT_DEFAULT_MTU);
	net->revision = (uint64_t)jint(o, "revision", 0);
	net->ctmd = (uint64_t)jint(o, "certificateTimeoutWindowSize", 0);
	if (json_object_object_get_ex(o, "v4AssignMode", &v) && v) {
		if (json_object_is_type(v, json_type_object))
			net->v4_zt = jbool(v, "zt", 0);
		else if (json_object_is_type(v, json_type_string))
			net->v4_zt = strstr(json_object_get_string(v), "zt") != NULL;
	}
	if (json_object_object_get_ex(o, "v6AssignMode", &v) && v) {
		if (json_object_is_type(v, json_type_object)) {
			net->v6_zt = jbool(v, "zt", 0);
			net->v6_rfc4193 = jbool(v, "rfc4193", 0);
			net->v6_6plane = jbool(v, "6plane", 0);
		} else if (json_object_is_type(v, json_type_string)) {
			const char *m = json_object_get_string(v);
			net->v6_zt = strstr(m, "zt") != NULL;
			net->v6_rfc4193 = strstr(m, "rfc4193") != NULL;
			net->v6_6plane = strstr(m, "6plane") != NULL;
		}
	}
	if (json_object_object_get_ex(o, "routes", &v) && v && json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);
		for (size_t i = 0; i < n && net->n_routes < ZT_MAX_NETWORK_ROUTES; i++) {
			struct json_object *r = json_object_array_get_idx(v, i);
			struct zt_route rt;
			const char *t = r ? jstr(r, "target") : NULL, *via = r ? jstr(r, "via") : NULL;
			memset(&rt, 0, sizeof(rt));
			if (!t || zt_inaddr_parse(&rt.target, t) < 0)
				continue;
			if (via && parse_ip_noport(via, &rt.via) < 0)
				memset(&rt.via, 0, sizeof(rt.via));
			rt.flags = (uint16_t)jint(r, "flags", 0);
			rt.metric = (uint16_t)jint(r, "metric", 0);
			net->routes[net->n_routes++] = rt;
		}
	}
	if (json_object_object_get_ex(o, "ipAssignmentPools", &v) && v && json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);
		for (size_t i = 0; i < n && net->n_pools < ZT_CTL_MAX_POOLS; i++) {
			struct json_object *p = json_object_array_get_idx(v, i);
			const char *a = p ? jstr(p, "ipRangeStart") : NULL, *b = p ? jstr(p, "ipRangeEnd") : NULL;
			struct zt_ctl_pool pool;
			if (!a || !b || parse_ip_noport(a, &pool.start) || parse_ip_noport(b, &pool.end))
				continue;
			net->pools[net->n_pools++] = pool;
		}
	}
	if (json_object_object_get_ex(o, "rules", &v) && v && json_object_is_type(v, json_type_array)) {
		int l = nc_ctl_db_rules_encode(v, net->rules, sizeof(net->rules));
		if (l >= 0) {
			net->has_rules = 1;
			net->rules_len = (unsigned)l;
		}
	}
	if (json_object_object_get_ex(o, "authTokens", &v) && v && json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, key, val) {
			if (net->n_tokens >= ZT_CTL_MAX_TOKENS)
				break;
			snprintf(net->tokens[net->n_tokens].token, sizeof(net->tokens[0].token), "%s", key);
			net->tokens[net->n_tokens].expires = val ? json_object_get_int64(val) : 0;
			net->n_tokens++;
		}
	}
	if (json_object_object_get_ex(o, "dns", &v) && v && json_object_is_type(v, json_type_object)) {
		struct json_object *sv;
		s = jstr(v, "domain");
		if (s)
			snprintf(net->dns_domain, sizeof(net->dns_domain), "%s", s);
		if (json_object_object_get_ex(v, "servers", &sv) && sv && json_object_is_type(sv, json_type_array)) {
			size_t n = json_object_array_length(sv);
			for (size_t i = 0; i < n && net->n_dns < 4; i++) {
				struct json_object *e = json_object_array_get_idx(sv, i);
				if (e && json_object_is_type(e, json_type_string) &&
				    parse_ip_noport(json_object_get_string(e), &net->dns[net->n_dns]) == 0)
					net->n_dns++;
			}
		}
	}
	return 0;
}

int nc_ctl_db_member_from_json(struct json_object *o, struct zt_ctl_member *m)
{
	struct json_object *v;
	const char *s;
	int ok;
	uint64_t addr = juint_any(o, "address", 16, &ok);
	uint64_t nwid;

	if (!ok)
		addr = juint_any(o, "id", 16, &ok);
	nwid = juint_any(o, "nwid", 16, &ok);
	zt_ctl_member_defaults(m, nwid, addr);
	m->authorized = jbool(o, "authorized", 0);
	m->active_bridge = jbool(o, "activeBridge", 0);
	m->no_auto_assign_ips = jbool(o, "noAutoAssignIps", 0);
	s = jstr(o, "identity");
	if (s)
		snprintf(m->identity, sizeof(m->identity), "%s", s);
	m->vmajor = (int)jint(o, "vMajor", -1);
	m->vminor = (int)jint(o, "vMinor", -1);
	m->vrev = (int)jint(o, "vRev", -1);
	m->vproto = (int)jint(o, "vProto", -1);
	s = jstr(o, "lastAuthorizedCredentialType");
	if (s)
		snprintf(m->auth_type, sizeof(m->auth_type), "%s", s);
	s = jstr(o, "lastAuthorizedCredential");
	if (s)
		snprintf(m->auth_credential, sizeof(m->auth_credential), "%s", s);
	m->last_authorized_time = jint(o, "lastAuthorizedTime", 0);
	m->last_deauthorized_time = jint(o, "lastDeauthorizedTime", 0);
	if (json_object_object_get_ex(o, "ipAssignments", &v) && v && json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);
		for (size_t i = 0; i < n && m->n_ips < ZT_MAX_NETWORK_ASSIGNED; i++) {
			struct json_object *e = json_object_array_get_idx(v, i);
			if (e && json_object_is_type(e, json_type_string) &&
			    parse_ip_noport(json_object_get_string(e), &m->ips[m->n_ips]) == 0)
				m->n_ips++;
		}
	}
	return 0;
}

/* ---- the store callbacks ---- */

static int st_network_get(void *uptr, uint64_t nwid, struct zt_ctl_network *out)
{
	struct json_object *o = nc_ctl_db_network_json(uptr, nwid);
	int r;

	if (!o)
		return -ENOENT;
	r = nc_ctl_db_network_from_json(o, out);
	out->nwid = nwid;
	json_object_put(o);
	return r;
}

static int st_member_get(void *uptr, uint64_t nwid, uint64_t address, struct zt_ctl_member *out)
{
	struct json_object *o = nc_ctl_db_member_json(uptr, nwid, address);
	int r;

	if (!o)
		return -ENOENT;
	r = nc_ctl_db_member_from_json(o, out);
	out->nwid = nwid;
	out->address = address;
	json_object_put(o);
	return r;
}

/* ip_string() - the IP as the member JSON stores it ("0.0.0.0" if none) */
static void ip_string(const struct sockaddr_storage *a, char *buf, size_t cap)
{
	if (!zt_inaddr_format_ip(a, buf, cap)[0])
		snprintf(buf, cap, "0.0.0.0");
}

static int st_member_put(void *uptr, const struct zt_ctl_member *m)
{
	struct nc_ctl_db *db = uptr;
	struct json_object *o = nc_ctl_db_member_json(db, m->nwid, m->address), *ips;
	int r;

	if (!o)
		o = nc_ctl_db_member_new(m->nwid, m->address, svc_now());
	json_object_object_add(o, "authorized", json_object_new_boolean(m->authorized));
	json_object_object_add(o, "identity", json_object_new_string(m->identity));
	ips = json_object_new_array();
	for (unsigned i = 0; i < m->n_ips; i++) {
		char s[64];
		ip_string(&m->ips[i], s, sizeof(s));
		json_object_array_add(ips, json_object_new_string(s));
	}
	json_object_object_add(o, "ipAssignments", ips);
	json_object_object_add(o, "vMajor", json_object_new_int(m->vmajor));
	json_object_object_add(o, "vMinor", json_object_new_int(m->vminor));
	json_object_object_add(o, "vRev", json_object_new_int(m->vrev));
	json_object_object_add(o, "vProto", json_object_new_int(m->vproto));
	if (m->auth_type[0])
		json_object_object_add(o, "lastAuthorizedCredentialType", json_object_new_string(m->auth_type));
	json_object_object_add(o, "lastAuthorizedCredential",
			       m->auth_credential[0] ? json_object_new_string(m->auth_credential) : NULL);
	json_object_object_add(o, "lastAuthorizedTime", json_object_new_int64(m->last_authorized_time));
	json_object_object_add(o, "revision", json_object_new_int64(jint(o, "revision", 0) + 1));
	r = nc_ctl_db_member_save(db, m->nwid, m->address, o);
	json_object_put(o);
	return r;
}

static int st_member_list(void *uptr, uint64_t nwid, uint64_t *out, int max)
{
	return nc_ctl_db_members(uptr, nwid, out, max);
}

const struct zt_controller_store nc_ctl_db_store = {
	.network_get = st_network_get,
	.member_get = st_member_get,
	.member_put = st_member_put,
	.member_list = st_member_list,
};
