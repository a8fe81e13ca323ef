/* test_controller.c - the embedded controller through its HTTP routes and on
 * the simulated wire: public networks, rules from JSON enforced by members,
 * IPv6 auto-addresses, pushes on change, identity collision, API errors. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "node/buf.h"
#include "node/node_internal.h"
#include "node/network_internal.h"
#include "service/controller.h"
#include "service/controller_db.h"
#include "tests/check.h"
#include "tests/sim.h"

static char idents[16][300];

/* load_identities() - the 16 test-vector identities into idents[] */
static void load_identities(void)
{
	if (sim_load_identities(idents, 16) != 16) {
		fprintf(stderr, "FAIL: cannot read the 16 identities of tests/vectors/identity\n");
		exit(1);
	}
}

static unsigned updates[8], ups[8], arp_in[8], ip_in[8];
static char last_name[8][128];

static int on_netconf(struct sim_engine *e, uint64_t nwid, void **nuptr, enum zt_netconf_op op,
		      const struct zt_network_info *info)
{
	(void)nwid;
	(void)nuptr;
	if (op == ZT_NETCONF_UP)
		ups[e->idx]++;
	if (op == ZT_NETCONF_UPDATE)
		updates[e->idx]++;
	snprintf(last_name[e->idx], sizeof(last_name[0]), "%s", info->name);
	return 0;
}

static void on_frame(struct sim_engine *e, uint64_t nwid, void **nuptr, uint64_t src, uint64_t dst,
		     unsigned ethertype, unsigned vlan, const void *data, unsigned len)
{
	(void)nwid; (void)nuptr; (void)src; (void)dst; (void)vlan; (void)data; (void)len;
	if (ethertype == 0x0806)
		arp_in[e->idx]++;
	if (ethertype == 0x0800)
		ip_in[e->idx]++;
}

static int api(struct nc_ctl *ctl, struct sim *s, const char *method, const char *path, const char *body,
	       struct json_object **out)
{
	char *resp = NULL;
	int st = nc_ctl_api(ctl, s->now, method, path, body, body ? strlen(body) : 0, &resp);
	if (out)
		*out = resp ? json_tokener_parse(resp) : NULL;
	else if (resp && st >= 400 && !strstr(resp, "\"error\""))
		st = -st;	/* error bodies must carry "error" */
	free(resp);
	return st;
}

struct want {
	struct sim_engine *e;
	uint64_t nwid;
	enum zt_network_status st;
};

static int has_status(struct sim *s, void *arg)
{
	struct want *w = arg;
	struct zt_network_info info;
	(void)s;
	return zt_node_network_info(w->e->node, w->nwid, &info) == ZT_OK && info.status == w->st;
}

static unsigned *cnt_p, cnt_want;
static int cnt_ok(struct sim *s, void *arg)
{
	(void)s;
	(void)arg;
	return *cnt_p >= cnt_want;
}

static uint64_t create(struct nc_ctl *ctl, struct sim *s, const char *body)
{
	struct json_object *o = NULL, *v;
	uint64_t nwid = 0;
	if (api(ctl, s, "POST", "/controller/network", body, &o) == 200 && o &&
	    json_object_object_get_ex(o, "id", &v))
		nwid = strtoull(json_object_get_string(v), NULL, 16);
	json_object_put(o);
	return nwid;
}

static uint64_t drops(struct sim_engine *e, enum zt_drop_reason r)
{
	struct zt_node_counters c;
	zt_node_counters(e->node, &c);
	return c.drops[r];
}

int main(void)
{
	struct sim *s;
	struct sim_engine *c, *a, *b;
	struct nc_ctl *ctl = NULL;
	char dir[] = "/tmp/netcon-ctl2-XXXXXX";
	uint8_t moon[1024];
	char path[256];
	struct json_object *o, *v;
	uint64_t pub, ruled;
	struct want w;
	int ml;

	load_identities();
	s = sim_new(7);
	c = sim_engine_new(s, idents[4]);
	a = sim_engine_new(s, idents[5]);
	b = sim_engine_new(s, idents[6]);
	if (!c || !a || !b || !mkdtemp(dir)) {
		CHECK_BEGIN("controller: setup");
		CHECK(0);
		CHECK_END();
		return CHECK_EXIT();
	}
	ml = sim_make_moon(s, 0, 1000, moon, sizeof(moon));
	for (int i = 0; i < 3; i++) {
		s->e[i]->on_netconf = on_netconf;
		s->e[i]->on_frame = on_frame;
		zt_node_add_moon(s->e[i]->node, s->now, moon, (unsigned)ml);
	}
	nc_ctl_new(c->node, dir, &ctl);

	CHECK_BEGIN("controller: JSON rules encode to the wire form (§7.4)");
	{
		uint8_t out[256];
		const uint8_t want[] = {
			37 | 0x80, 2, 0x08, 0x06,			/* not ethertype ARP */
			0, 0,						/* DROP */
			24 | 0x40, 5, 0x12, 0x34, 0x56, 0x78, 0x9a,	/* or source ZT address */
			32, 5, 10, 1, 2, 0, 24,				/* IPv4 dest 10.1.2.0/24 */
			40, 4, 0, 80, 0, 81,				/* dest port 80-81 */
			36, 1, 6,					/* IP protocol TCP */
			30, 6, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55,	/* dest MAC */
			5, 0, 1, 0,					/* BREAK, ACCEPT */
		};
		struct json_object *r = json_tokener_parse("[{\"type\":\"MATCH_ETHERTYPE\",\"etherType\":2054,\"not\":true},"
			"{\"type\":\"ACTION_DROP\"},{\"type\":\"MATCH_SOURCE_ZEROTIER_ADDRESS\",\"zt\":\"123456789a\",\"or\":true},"
			"{\"type\":\"MATCH_IPV4_DEST\",\"ip\":\"10.1.2.0/24\"},{\"type\":\"MATCH_IP_DEST_PORT_RANGE\",\"start\":80,\"end\":81},"
			"{\"type\":\"MATCH_IP_PROTOCOL\",\"ipProtocol\":6},{\"type\":\"MATCH_MAC_DEST\",\"mac\":\"02:11:22:33:44:55\"},"
			"{\"type\":\"MATCH_SOMETHING_NEW\"},{\"type\":\"ACTION_BREAK\"},{\"type\":\"ACTION_ACCEPT\"}]");
		int l = nc_ctl_db_rules_encode(r, out, sizeof(out));
		CHECK(l == (int)sizeof(want) && !memcmp(out, want, sizeof(want)));
		json_object_put(r);
		r = json_tokener_parse("[{\"type\":\"MATCH_MAC_DEST\",\"mac\":\"zz\"}]");
		CHECK(nc_ctl_db_rules_encode(r, out, sizeof(out)) < 0);
		json_object_put(r);
		r = json_tokener_parse("[{\"type\":\"ACTION_ACCEPT\"}]");
		CHECK(nc_ctl_db_rules_encode(r, out, 1) < 0);
		json_object_put(r);
	}
	CHECK_END();

	CHECK_BEGIN("controller API: defaults, validation, listing, legacy forms");
	pub = create(ctl, s, "{\"name\":\"pub\",\"private\":false,\"v4AssignMode\":\"zt\",\"mtu\":99999,"
		     "\"v6AssignMode\":{\"rfc4193\":true,\"6plane\":true},"
		     "\"ipAssignmentPools\":[{\"ipRangeStart\":\"10.9.0.1\",\"ipRangeEnd\":\"10.9.0.254\"}],"
		     "\"routes\":[{\"target\":\"10.9.0.0/24\"}]}");
	CHECK((pub >> 24) == c->address);
	snprintf(path, sizeof(path), "/controller/network/%016llx", (unsigned long long)pub);
	CHECK(api(ctl, s, "GET", path, NULL, &o) == 200);
	CHECK(o && json_object_object_get_ex(o, "mtu", &v) && json_object_get_int(v) == 10000);
	CHECK(o && json_object_object_get_ex(o, "multicastLimit", &v) && json_object_get_int(v) == 32);
	CHECK(o && json_object_object_get_ex(o, "enableBroadcast", &v) && json_object_get_boolean(v));
	CHECK(o && json_object_object_get_ex(o, "v4AssignMode", &v) && json_object_object_get_ex(v, "zt", &v) &&
	      json_object_get_boolean(v));
	CHECK(o && json_object_object_get_ex(o, "objtype", &v) && !strcmp(json_object_get_string(v), "network"));
	CHECK(o && json_object_object_get_ex(o, "rules", &v) && json_object_array_length(v) == 1);
	json_object_put(o);
	CHECK(api(ctl, s, "POST", path, "{\"routes\":[{\"target\":\"10.9.0.0\"}]}", NULL) == 400);
	CHECK(api(ctl, s, "POST", path, "{\"rules\":[{\"type\":\"MATCH_ETHERTYPE\"}]}", NULL) == 400);
	CHECK(api(ctl, s, "POST", path, "[1,2]", NULL) == 400);
	CHECK(api(ctl, s, "GET", "/controller/network", NULL, &o) == 200);
	CHECK(o && json_object_is_type(o, json_type_array) && json_object_array_length(o) == 1);
	json_object_put(o);
	CHECK(api(ctl, s, "GET", "/controller/network/zzzz", NULL, NULL) == 404);
	snprintf(path, sizeof(path), "/controller/network/%016llx/member/%010llx", (unsigned long long)pub,
		 (unsigned long long)a->address);
	CHECK(api(ctl, s, "POST", path, "{\"ipAssignments\":[\"not-an-ip\"]}", NULL) == 400);
	CHECK(api(ctl, s, "GET", path, NULL, NULL) == 404);
	snprintf(path, sizeof(path), "/controller/network/%016llx/member/%010llx", (unsigned long long)(pub + 1),
		 (unsigned long long)a->address);
	CHECK(api(ctl, s, "POST", path, "{}", NULL) == 404);	/* no such network */
	CHECK_END();

	CHECK_BEGIN("controller: public network auto-authorizes; rfc4193 + 6plane + pool addresses");
	CHECK(zt_node_join(a->node, pub, NULL, s->now) == ZT_OK);
	w = (struct want){ a, pub, ZT_NETWORK_OK };
	CHECK(sim_run_until(s, 30000, has_status, &w));
	{
		struct zt_network_info info;
		int have4 = 0, have_rfc = 0, have_6p = 0;
		CHECK(zt_node_network_info(a->node, pub, &info) == ZT_OK);
		CHECK(info.type == ZT_NETWORK_PUBLIC && info.mtu == 10000);
		for (unsigned i = 0; i < info.n_assigned; i++) {
			const struct sockaddr_storage *x = &info.assigned[i];
			if (x->ss_family == AF_INET)
				have4 = (ntohl(((const struct sockaddr_in *)x)->sin_addr.s_addr) >> 8) == 0x0a0900;
			if (x->ss_family == AF_INET6) {
				const uint8_t *b6 = ((const struct sockaddr_in6 *)x)->sin6_addr.s6_addr;
				if (b6[0] == 0xfd && zt_load_be(b6 + 1, 8) == pub && b6[9] == 0x99 && b6[10] == 0x93 &&
				    zt_load_be(b6 + 11, 5) == a->address)
					have_rfc = 1;
				if (b6[0] == 0xfc && zt_load_be(b6 + 5, 5) == a->address && b6[15] == 1)
					have_6p = 1;
			}
		}
		CHECK(have4 && have_rfc && have_6p && info.n_assigned == 3);
	}
	snprintf(path, sizeof(path), "/controller/network/%016llx/member/%010llx", (unsigned long long)pub,
		 (unsigned long long)a->address);
	CHECK(api(ctl, s, "GET", path, NULL, &o) == 200);
	CHECK(o && json_object_object_get_ex(o, "authorized", &v) && json_object_get_boolean(v));
	CHECK(o && json_object_object_get_ex(o, "lastAuthorizedCredentialType", &v) &&
	      !strcmp(json_object_get_string(v), "public"));
	CHECK(o && json_object_object_get_ex(o, "vProto", &v) && json_object_get_int(v) == ZT_PROTO_VERSION);
	json_object_put(o);
	CHECK_END();

	CHECK_BEGIN("controller: a network change is pushed to members at once");
	{
		unsigned u = updates[a->idx];
		snprintf(path, sizeof(path), "/controller/network/%016llx", (unsigned long long)pub);
		CHECK(api(ctl, s, "POST", path, "{\"name\":\"renamed\"}", NULL) == 200);
		cnt_p = &updates[a->idx];
		cnt_want = u + 1;
		CHECK(sim_run_until(s, 3000, cnt_ok, NULL));
		CHECK(!strcmp(last_name[a->idx], "renamed"));
	}
	CHECK_END();

	CHECK_BEGIN("controller: an active bridge carries a bridged MAC both ways (EXT_FRAME, learned)");
	{
		uint64_t host = 0x02aabbccddeeULL, bmac = zt_mac_from_address(b->address, pub);
		uint8_t p[28];
		int64_t dl;
		struct zt_network_info info;
		snprintf(path, sizeof(path), "/controller/network/%016llx/member/%010llx", (unsigned long long)pub,
			 (unsigned long long)a->address);
		CHECK(api(ctl, s, "POST", path, "{\"activeBridge\":true}", NULL) == 200);
		sim_run(s, 2000);
		CHECK(zt_node_network_info(a->node, pub, &info) == ZT_OK && info.bridge);
		CHECK(zt_node_join(b->node, pub, NULL, s->now) == ZT_OK);
		w = (struct want){ b, pub, ZT_NETWORK_OK };
		CHECK(sim_run_until(s, 30000, has_status, &w));
		memset(p, 0, sizeof(p));
		p[0] = 0x45;
		cnt_p = &ip_in[b->idx];
		cnt_want = ip_in[b->idx] + 1;
		CHECK(zt_node_frame_in(a->node, s->now, pub, host, bmac, 0x0800, 0, p, 28, &dl) == ZT_OK);
		CHECK(sim_run_until(s, 5000, cnt_ok, NULL));
		CHECK(b->last_frame_src == host);
		cnt_p = &ip_in[a->idx];
		cnt_want = ip_in[a->idx] + 1;
		CHECK(zt_node_frame_in(b->node, s->now, pub, bmac, host, 0x0800, 0, p, 28, &dl) == ZT_OK);
		CHECK(sim_run_until(s, 5000, cnt_ok, NULL));
		CHECK(a->last_frame_dst == host && a->last_frame_src == bmac);
		/* B is no bridge: it may not send with a foreign source MAC */
		{
			uint64_t d0 = drops(b, ZT_DROP_RULES);
			CHECK(zt_node_frame_in(b->node, s->now, pub, host + 1, zt_mac_from_address(a->address, pub),
					       0x0800, 0, p, 28, &dl) == ZT_OK);
			CHECK(drops(b, ZT_DROP_RULES) == d0 + 1);
		}
	}
	CHECK_END();

	CHECK_BEGIN("controller: rules from JSON are enforced (only ARP allowed)");
	ruled = create(ctl, s, "{\"name\":\"arp-only\",\"private\":false,\"v4AssignMode\":{\"zt\":true},"
		       "\"ipAssignmentPools\":[{\"ipRangeStart\":\"10.8.0.1\",\"ipRangeEnd\":\"10.8.0.254\"}],"
		       "\"routes\":[{\"target\":\"10.8.0.0/24\"}],"
		       "\"rules\":[{\"type\":\"MATCH_ETHERTYPE\",\"etherType\":2054,\"not\":true},"
		       "{\"type\":\"ACTION_DROP\"},{\"type\":\"ACTION_ACCEPT\"}]}");
	CHECK(ruled != 0);
	CHECK(zt_node_join(a->node, ruled, NULL, s->now) == ZT_OK);
	CHECK(zt_node_join(b->node, ruled, NULL, s->now) == ZT_OK);
	w = (struct want){ a, ruled, ZT_NETWORK_OK };
	CHECK(sim_run_until(s, 30000, has_status, &w));
	w = (struct want){ b, ruled, ZT_NETWORK_OK };
	CHECK(sim_run_until(s, 30000, has_status, &w));
	{
		uint64_t am = zt_mac_from_address(a->address, ruled), bm = zt_mac_from_address(b->address, ruled);
		uint8_t p[28];
		int64_t dl;
		uint64_t d0 = drops(a, ZT_DROP_RULES);
		unsigned ipb = ip_in[b->idx];
		memset(p, 0, sizeof(p));
		p[0] = 0x45;
		CHECK(zt_node_frame_in(a->node, s->now, ruled, am, bm, 0x0800, 0, p, 28, &dl) == ZT_OK);
		sim_run(s, 3000);
		CHECK(ip_in[b->idx] == ipb && drops(a, ZT_DROP_RULES) == d0 + 1);
		p[1] = 1; p[2] = 8; p[4] = 6; p[5] = 4; p[7] = 2;	/* an ARP reply */
		cnt_p = &arp_in[b->idx];
		cnt_want = arp_in[b->idx] + 1;
		CHECK(zt_node_frame_in(a->node, s->now, ruled, am, bm, 0x0806, 0, p, 28, &dl) == ZT_OK);
		CHECK(sim_run_until(s, 5000, cnt_ok, NULL));
	}
	CHECK_END();

	CHECK_BEGIN("controller: a config of several signed chunks, over a duplicating, reordering wire");
	{
		size_t cap = 64 * 1024, l;
		char *body = malloc(cap);
		uint64_t big;
		struct zt_network_info info;
		struct zt_network *net;
		l = (size_t)snprintf(body, cap, "{\"name\":\"big\",\"private\":false,\"rules\":[");
		for (int i = 0; i < 700; i++)
			l += (size_t)snprintf(body + l, cap - l, "{\"type\":\"MATCH_IPV6_SOURCE\",\"ip\":\"fd00::%x/128\",\"not\":true},", i);
		snprintf(body + l, cap - l, "{\"type\":\"ACTION_ACCEPT\"}]}");
		big = create(ctl, s, body);
		free(body);
		CHECK(big != 0);
		s->dup = 0.3;
		s->jitter_ms = 20;
		CHECK(zt_node_join(b->node, big, NULL, s->now) == ZT_OK);
		w = (struct want){ b, big, ZT_NETWORK_OK };
		CHECK(sim_run_until(s, 60000, has_status, &w));
		s->dup = 0;
		s->jitter_ms = 0;
		CHECK(zt_node_network_info(b->node, big, &info) == ZT_OK && !strcmp(info.name, "big"));
		net = zt_net_find((struct zt_node *)b->node, big);
		CHECK(net && net->conf && net->conf->n_rules == 701 && net->dict_len > 9740);
	}
	CHECK_END();

	CHECK_BEGIN("controller: identity collision is denied; delete member and network");
	{
		uint64_t priv = create(ctl, s, "{\"name\":\"p\"}");
		struct nc_ctl_db db;
		struct json_object *m;
		char other[300];
		nc_ctl_db_init(&db, dir);
		m = nc_ctl_db_member_new(priv, b->address, s->now);
		/* b's address with someone else's key */
		snprintf(other, sizeof(other), "%010llx%s", (unsigned long long)b->address, strchr(idents[7], ':'));
		*strrchr(other, ':') = 0;
		json_object_object_add(m, "identity", json_object_new_string(other));
		json_object_object_add(m, "authorized", json_object_new_boolean(1));
		CHECK(nc_ctl_db_member_save(&db, priv, b->address, m) == 0);
		json_object_put(m);
		CHECK(zt_node_join(b->node, priv, NULL, s->now) == ZT_OK);
		w = (struct want){ b, priv, ZT_NETWORK_ACCESS_DENIED };
		CHECK(sim_run_until(s, 30000, has_status, &w));
		snprintf(path, sizeof(path), "/controller/network/%016llx/member/%010llx", (unsigned long long)priv,
			 (unsigned long long)b->address);
		CHECK(api(ctl, s, "DELETE", path, NULL, NULL) == 200);
		CHECK(api(ctl, s, "GET", path, NULL, NULL) == 404);
		snprintf(path, sizeof(path), "/unstable/controller/network/%016llx/member", (unsigned long long)pub);
		CHECK(api(ctl, s, "GET", path, NULL, &o) == 200);
		CHECK(o && json_object_object_get_ex(o, "meta", &v) && json_object_object_get_ex(v, "authorizedCount", &v) &&
		      json_object_get_int(v) == 2);	/* A and B, auto-authorized */
		json_object_put(o);
		snprintf(path, sizeof(path), "/controller/network/%016llx", (unsigned long long)priv);
		CHECK(api(ctl, s, "DELETE", path, NULL, NULL) == 200);
		CHECK(api(ctl, s, "GET", path, NULL, NULL) == 404);
		CHECK(api(ctl, s, "DELETE", path, NULL, NULL) == 404);
		/* the deleted network now answers NOT_FOUND */
		w = (struct want){ b, priv, ZT_NETWORK_NOT_FOUND };
		CHECK(sim_run_until(s, 30000, has_status, &w));
	}
	CHECK_END();

	nc_ctl_free(ctl);
	sim_free(s);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return CHECK_EXIT();
}
