/* svc_conf.c - HOME/local.conf and networks.d/NWID.local.conf.
 *
 * local.conf is JSON (the official layout, the parts we use):
 *   { "settings": { "primaryPort": 9993, "allowManagementFrom": ["10.0.0.0/8"],
 *                   "noPlanet": true,
 *                   "netconLocalPortRange": [32768, 65535] },
 *     "virtual": { "<addr10>": { "try": ["IP/PORT", ...] } } }
 * A missing file is an empty configuration; a malformed one is an error.
 * NWID.local.conf holds key=value lines: allowManaged, allowGlobal,
 * allowDefault, allowDNS (0 or 1).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "node/inaddr.h"
#include "service/svc.h"

/**
 * svc_parse_ipport() - "1.2.3.4/9993", "fd00::1/9993" or "[::1]:9993"
 * @s:		text
 * @ss:		address out
 * Return: 0 or -EINVAL
 */
int svc_parse_ipport(const char *s, struct sockaddr_storage *ss)
{
	char ip[64];
	const char *sep;
	char *end;
	long port;
	size_t n;

	memset(ss, 0, sizeof(*ss));
	if (!s)
		return -EINVAL;
	if (s[0] == '[') {
		sep = strchr(s, ']');
		if (!sep || sep[1] != ':')
			return -EINVAL;
		n = (size_t)(sep - s - 1);
		if (n >= sizeof(ip))
			return -EINVAL;
		memcpy(ip, s + 1, n);
		sep++;
	} else {
		sep = strrchr(s, '/');
		if (!sep)
			return -EINVAL;
		n = (size_t)(sep - s);
		if (n >= sizeof(ip))
			return -EINVAL;
		memcpy(ip, s, n);
	}
	ip[n] = 0;
	errno = 0;
	port = strtol(sep + 1, &end, 10);
	if (errno || *end || end == sep + 1 || port < 0 || port > 65535)
		return -EINVAL;
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, ip, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, ip, &a->sin_addr) != 1)
			return -EINVAL;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
	}
	return 0;
}

/**
 * svc_parse_cidr() - "10.0.0.0/8" or "fd00::/8" (no prefix: host route)
 * Return: 0 or -EINVAL
 */
int svc_parse_cidr(const char *s, struct svc_cidr *c)
{
	char ip[64];
	const char *sl = strchr(s, '/');
	size_t n = sl ? (size_t)(sl - s) : strlen(s);
	long bits = -1;

	memset(c, 0, sizeof(*c));
	if (n >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, n);
	ip[n] = 0;
	if (sl) {
		char *end;

		bits = strtol(sl + 1, &end, 10);
		if (*end || end == sl + 1)
			return -EINVAL;
	}
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&c->net;

		if (inet_pton(AF_INET6, ip, &a->sin6_addr) != 1)
			return -EINVAL;
		a->sin6_family = AF_INET6;
		if (bits < 0)
			bits = 128;
		if (bits > 128)
			return -EINVAL;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&c->net;

		if (inet_pton(AF_INET, ip, &a->sin_addr) != 1)
			return -EINVAL;
		a->sin_family = AF_INET;
		if (bits < 0)
			bits = 32;
		if (bits > 32)
			return -EINVAL;
	}
	c->bits = (unsigned)bits;
	return 0;
}

static const uint8_t *addr_bytes(const struct sockaddr_storage *a, unsigned *n)
{
	if (a->ss_family == AF_INET) {
		*n = 4;
		return (const uint8_t *)&((const struct sockaddr_in *)a)->sin_addr;
	}
	if (a->ss_family == AF_INET6) {
		*n = 16;
		return (const uint8_t *)&((const struct sockaddr_in6 *)a)->sin6_addr;
	}
	*n = 0;
	return NULL;
}

/**
 * svc_cidr_match() - is @a inside @c? IPv4-mapped IPv6 matches IPv4 nets.
 * Return: 1 or 0
 */
int svc_cidr_match(const struct svc_cidr *c, const struct sockaddr_storage *a)
{
	struct sockaddr_storage v4;
	const uint8_t *x, *y;
	unsigned nx, ny, i, bits = c->bits;

	if (a->ss_family == AF_INET6 && c->net.ss_family == AF_INET &&
	    IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)a)->sin6_addr)) {
		memset(&v4, 0, sizeof(v4));
		v4.ss_family = AF_INET;
		memcpy(&((struct sockaddr_in *)&v4)->sin_addr,
		       ((const struct sockaddr_in6 *)a)->sin6_addr.s6_addr + 12, 4);
		a = &v4;
	}
	if (a->ss_family != c->net.ss_family)
		return 0;
	x = addr_bytes(&c->net, &nx);
	y = addr_bytes(a, &ny);
	if (!x || nx != ny)
		return 0;
	for (i = 0; i < nx && bits; i++) {
		uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		if ((x[i] & m) != (y[i] & m))
			return 0;
		bits = bits >= 8 ? bits - 8 : 0;
	}
	return 1;
}

static const char *const local_scope_nets[] = {
	"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
	"100.64.0.0/10", "169.254.0.0/16", "::1/128", "fc00::/7", "fe80::/10",
	"::ffff:127.0.0.0/104", "::ffff:10.0.0.0/104", "::ffff:192.168.0.0/112",
};
static struct svc_cidr local_scope[sizeof(local_scope_nets) / sizeof(local_scope_nets[0])];

static void local_scope_parse(void)
{
	for (size_t i = 0; i < sizeof(local_scope_nets) / sizeof(local_scope_nets[0]); i++)
		if (svc_parse_cidr(local_scope_nets[i], &local_scope[i]) < 0)
			abort();	/* the table above is wrong */
}

/**
 * svc_addr_is_local_scope() - loopback, private (RFC 1918, CGNAT), link-local
 * or ULA: where a node with noPlanet may send.
 * Return: 1 or 0
 */
int svc_addr_is_local_scope(const struct sockaddr_storage *a)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	size_t i;

	/* parsed once: with noPlanet every datagram sent is checked */
	pthread_once(&once, local_scope_parse);
	for (i = 0; i < sizeof(local_scope_nets) / sizeof(local_scope_nets[0]); i++)
		if (svc_cidr_match(&local_scope[i], a))
			return 1;
	return 0;
}

/**
 * svc_format_ip() - the address without port
 */
void svc_format_ip(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	zt_inaddr_format_ip(ss, ip, sizeof(ip));
	snprintf(out, cap, "%s", ip[0] ? ip : "?");
}

/**
 * svc_format_ipport() - "IP/PORT" as ZeroTier prints it (port in the port
 * field; for assigned addresses that field is the prefix length)
 */
void svc_format_ipport(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	if (ss->ss_family == AF_INET || ss->ss_family == AF_INET6)
		zt_inaddr_format(ss, out, cap);
	else
		snprintf(out, cap, "?/0");
}

static int conf_settings(struct json_object *set, struct svc_conf *c, char *err, size_t errlen)
{
	struct json_object *v;

	if (json_object_object_get_ex(set, "primaryPort", &v)) {
		int p = json_object_get_int(v);

		if (!json_object_is_type(v, json_type_int) || p < 0 || p > 65535) {
			snprintf(err, errlen, "settings.primaryPort must be 0..65535");
			return -EINVAL;
		}
		c->primary_port = p;
	}
	if (json_object_object_get_ex(set, "noPlanet", &v))
		c->no_planet = json_object_get_boolean(v);
	if (json_object_object_get_ex(set, "netconLocalPortRange", &v)) {
		struct json_object *lo = NULL, *hi = NULL;

		if (json_object_is_type(v, json_type_array) && json_object_array_length(v) == 2) {
			lo = json_object_array_get_idx(v, 0);
			hi = json_object_array_get_idx(v, 1);
		}
		if (!lo || !hi || !json_object_is_type(lo, json_type_int) ||
		    !json_object_is_type(hi, json_type_int) || json_object_get_int(lo) < 1 ||
		    json_object_get_int(hi) > 65535 || json_object_get_int(lo) > json_object_get_int(hi)) {
			snprintf(err, errlen, "settings.netconLocalPortRange must be [LOW, HIGH], 1 <= LOW <= HIGH <= 65535");
			return -EINVAL;
		}
		c->port_lo = json_object_get_int(lo);
		c->port_hi = json_object_get_int(hi);
	}
	if (json_object_object_get_ex(set, "allowManagementFrom", &v)) {
		size_t i, n;

		if (!json_object_is_type(v, json_type_array)) {
			snprintf(err, errlen, "settings.allowManagementFrom must be an array");
			return -EINVAL;
		}
		n = json_object_array_length(v);
		for (i = 0; i < n && c->n_mgmt < SVC_MAX_MGMT; i++) {
			const char *s = json_object_get_string(json_object_array_get_idx(v, i));

			if (!s || svc_parse_cidr(s, &c->mgmt[c->n_mgmt]) < 0) {
				snprintf(err, errlen, "allowManagementFrom: bad network '%s'",
					 s ? s : "");
				return -EINVAL;
			}
			c->n_mgmt++;
		}
	}
	return 0;
}

static int conf_virtual(struct json_object *virt, struct svc_conf *c, char *err, size_t errlen)
{
	json_object_object_foreach(virt, key, val)
	{
		struct json_object *tr;
		uint64_t addr;
		size_t i, n;

		if (svc_hex_u64(key, 10, &addr) < 0) {
			snprintf(err, errlen, "virtual: '%s' is not a 10-digit address", key);
			return -EINVAL;
		}
		if (!json_object_object_get_ex(val, "try", &tr) ||
		    !json_object_is_type(tr, json_type_array))
			continue;
		n = json_object_array_length(tr);
		for (i = 0; i < n && c->n_static < SVC_MAX_STATIC; i++) {
			const char *s = json_object_get_string(json_object_array_get_idx(tr, i));
			struct svc_static_path *sp = &c->statics[c->n_static];

			if (!s || svc_parse_ipport(s, &sp->ep) < 0) {
				snprintf(err, errlen, "virtual.%s.try: bad endpoint '%s'", key,
					 s ? s : "");
				return -EINVAL;
			}
			sp->address = addr;
			c->n_static++;
		}
	}
	return 0;
}

/**
 * svc_conf_parse() - parse local.conf text
 * @json:	text
 * @len:	length
 * @c:		result (reset first)
 * Return: 0, or -EINVAL with @err set
 */
int svc_conf_parse(const char *json, size_t len, struct svc_conf *c, char *err, size_t errlen)
{
	struct json_tokener *tk;
	struct json_object *root, *v;
	int r = 0;

	memset(c, 0, sizeof(*c));
	c->primary_port = -1;
	tk = json_tokener_new();
	if (!tk)
		return -ENOMEM;
	root = json_tokener_parse_ex(tk, json, (int)len);
	if (!root || json_tokener_get_error(tk) != json_tokener_success) {
		snprintf(err, errlen, "local.conf: %s",
			 json_tokener_error_desc(json_tokener_get_error(tk)));
		json_object_put(root);
		json_tokener_free(tk);
		return -EINVAL;
	}
	json_tokener_free(tk);
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "local.conf: top level must be an object");
		r = -EINVAL;
		goto out;
	}
	if (json_object_object_get_ex(root, "settings", &v) &&
	    json_object_is_type(v, json_type_object)) {
		r = conf_settings(v, c, err, errlen);
		if (r < 0)
			goto out;
	}
	if (json_object_object_get_ex(root, "virtual", &v) &&
	    json_object_is_type(v, json_type_object))
		r = conf_virtual(v, c, err, errlen);
out:
	json_object_put(root);
	return r;
}

/**
 * svc_conf_load() - read HOME/local.conf (absent: defaults)
 * Return: 0 or -errno with @err set
 */
int svc_conf_load(const char *home, struct svc_conf *c, char *err, size_t errlen)
{
	char path[1024];
	size_t len;
	char *txt;
	int r;

	memset(c, 0, sizeof(*c));
	c->primary_port = -1;
	snprintf(path, sizeof(path), "%s/local.conf", home);
	txt = svc_file_read_all(path, 1 << 20, &len);
	if (!txt) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -errno;
	}
	r = svc_conf_parse(txt, len, c, err, errlen);
	free(txt);
	return r;
}

/**
 * svc_netset_defaults() - official defaults: managed on, the rest off
 */
void svc_netset_defaults(struct svc_netset *s)
{
	s->allow_managed = 1;
	s->allow_global = 0;
	s->allow_default = 0;
	s->allow_dns = 0;
}

static void netset_path(const char *home, uint64_t nwid, char *p, size_t cap)
{
	snprintf(p, cap, "%s/networks.d/%016llx.local.conf", home, (unsigned long long)nwid);
}

/**
 * svc_netset_load() - read networks.d/NWID.local.conf over the defaults
 * Return: 0 (absent or unreadable: defaults)
 */
int svc_netset_load(const char *home, uint64_t nwid, struct svc_netset *s)
{
	char p[1024], buf[1024], *line, *save = NULL;
	int r;

	svc_netset_defaults(s);
	netset_path(home, nwid, p, sizeof(p));
	r = svc_file_read(p, buf, sizeof(buf) - 1);
	if (r < 0)
		return 0;
	buf[r] = 0;
	for (line = strtok_r(buf, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char *eq = strchr(line, '=');
		int v;

		if (!eq)
			continue;
		*eq = 0;
		v = atoi(eq + 1) != 0 || !strcmp(eq + 1, "true");
		if (!strcmp(line, "allowManaged"))
			s->allow_managed = v;
		else if (!strcmp(line, "allowGlobal"))
			s->allow_global = v;
		else if (!strcmp(line, "allowDefault"))
			s->allow_default = v;
		else if (!strcmp(line, "allowDNS"))
			s->allow_dns = v;
	}
	return 0;
}

/**
 * svc_netset_save() - write networks.d/NWID.local.conf
 * Return: 0 or -errno
 */
int svc_netset_save(const char *home, uint64_t nwid, const struct svc_netset *s)
{
	char p[1024], buf[256];
	int n;

	netset_path(home, nwid, p, sizeof(p));
	n = snprintf(buf, sizeof(buf), "allowManaged=%d\nallowGlobal=%d\nallowDefault=%d\nallowDNS=%d\n",
		     s->allow_managed, s->allow_global, s->allow_default, s->allow_dns);
	return svc_file_write(p, buf, (size_t)n, 0644);
}
