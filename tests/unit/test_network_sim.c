/* test_network_sim.c - the network layer and the embedded controller on the
 * simulated wire (tests/sim.h): a controller engine C (service/ controller
 * over a temp controller.d), members A and B, an unauthorized X. Configs
 * with pool addresses, ARP + IPv4 frames through the frame callbacks, COM
 * gate, ACCESS_DENIED, deauthorization with revocation, controller restart.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "node/buf.h"
#include "node/node_internal.h"
#include "node/network_internal.h"
#include "node/peer_internal.h"
#include "service/controller.h"
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

struct obs {
	unsigned ups, updates, downs, destroys;
	enum zt_network_status last_status;
	unsigned n_assigned;
	uint32_t ip4;
	unsigned arp_in, ip_in;
	uint64_t last_src_mac;
};

static struct obs obs[8];

static int on_netconf(struct sim_engine *e, uint64_t nwid, void **nuptr, enum zt_netconf_op op,
		      const struct zt_network_info *info)
{
	struct obs *o = &obs[e->idx];
	(void)nwid;
	(void)nuptr;
	if (op == ZT_NETCONF_UP)
		o->ups++;
	else if (op == ZT_NETCONF_UPDATE)
		o->updates++;
	else if (op == ZT_NETCONF_DOWN)
		o->downs++;
	else if (op == ZT_NETCONF_DESTROY)
		o->destroys++;
	o->last_status = info->status;
	o->n_assigned = info->n_assigned;
	if (info->n_assigned && info->assigned[0].ss_family == AF_INET)
		o->ip4 = ntohl(((const struct sockaddr_in *)&info->assigned[0])->sin_addr.s_addr);
	return 0;
}

static void on_frame(struct sim_engine *e, uint64_t nwid, void **nuptr, uint64_t src, uint64_t dst,
		     unsigned ethertype, unsigned vlan, const void *data, unsigned len)
{
	struct obs *o = &obs[e->idx];
	(void)nwid;
	(void)nuptr;
	(void)dst;
	(void)vlan;
	(void)data;
	(void)len;
	o->last_src_mac = src;
	if (ethertype == 0x0806)
		o->arp_in++;
	else if (ethertype == 0x0800)
		o->ip_in++;
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
	if (zt_node_network_info(w->e->node, w->nwid, &info) != ZT_OK)
		return 0;
	if (w->st == ZT_NETWORK_OK)
		return info.status == ZT_NETWORK_OK && info.n_assigned > 0;
	return info.status == w->st;
}

static unsigned *counter_ptr;
static unsigned counter_target;
static int counter_reached(struct sim *s, void *arg)
{
	(void)s;
	(void)arg;
	return *counter_ptr >= counter_target;
}

static int api(struct nc_ctl *ctl, struct sim *s, const char *method, const char *path, const char *body,
	       struct json_object **out)
{
	char *resp = NULL;
	int st = nc_ctl_api(ctl, s->now, method, path, body, body ? strlen(body) : 0, &resp);
	if (out)
		*out = resp ? json_tokener_parse(resp) : NULL;
	free(resp);
	return st;
}

static void arp_request(uint8_t *p, uint64_t src_mac, uint32_t src_ip, uint32_t dst_ip)
{
	memset(p, 0, 28);
	p[0] = 0; p[1] = 1;		/* Ethernet */
	p[2] = 0x08; p[3] = 0x00;	/* IPv4 */
	p[4] = 6; p[5] = 4;
	p[6] = 0; p[7] = 1;		/* request */
	for (int i = 0; i < 6; i++)
		p[8 + i] = (uint8_t)(src_mac >> (40 - 8 * i));
	p[14] = (uint8_t)(src_ip >> 24); p[15] = (uint8_t)(src_ip >> 16);
	p[16] = (uint8_t)(src_ip >> 8); p[17] = (uint8_t)src_ip;
	p[24] = (uint8_t)(dst_ip >> 24); p[25] = (uint8_t)(dst_ip >> 16);
	p[26] = (uint8_t)(dst_ip >> 8); p[27] = (uint8_t)dst_ip;
}

static void ipv4_packet(uint8_t *p, uint32_t src, uint32_t dst)
{
	memset(p, 0, 28);
	p[0] = 0x45; p[3] = 28; p[8] = 64; p[9] = 1;
	for (int i = 0; i < 4; i++) {
		p[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		p[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	p[20] = 8;	/* ICMP echo request */
}

static uint64_t drops(struct sim_engine *e, enum zt_drop_reason r)
{
	struct zt_node_counters c;
	zt_node_counters(e->node, &c);
	return c.drops[r];
}

/* net_setup() - the observers on engines 0..n-1, and engine 0 as the root
 * of a moon they all orbit. Return: 1 if every step worked */
static int net_setup(struct sim *s, int n)
{
	uint8_t moon[1024];
	int ml, ok = 1;

	for (int i = 0; i < n; i++) {
		s->e[i]->on_netconf = on_netconf;
		s->e[i]->on_frame = on_frame;
	}
	ml = sim_make_moon(s, 0, 1000, moon, sizeof(moon));
	if (ml <= 0)
		return 0;
	for (int i = 0; i < n; i++)
		ok &= zt_node_add_moon(s->e[i]->node, s->now, moon, (unsigned)ml) == ZT_OK;
	return ok;
}

/* net_create() - a private network on the controller at caddr, addresses
 * from NET3.1-254 and a route to NET3.0/24. Return: its id, 0 if refused */
static uint64_t net_create(struct nc_ctl *ctl, struct sim *s, uint64_t caddr, const char *name, const char *net3)
{
	char path[64], body[512];
	struct json_object *o = NULL, *v;
	uint64_t nwid = 0;

	snprintf(path, sizeof(path), "/controller/network/%010llx______", (unsigned long long)caddr);
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"private\":true,\"v4AssignMode\":{\"zt\":true},"
		 "\"ipAssignmentPools\":[{\"ipRangeStart\":\"%s.1\",\"ipRangeEnd\":\"%s.254\"}],"
		 "\"routes\":[{\"target\":\"%s.0/24\",\"via\":null}]}", name, net3, net3, net3);
	if (api(ctl, s, "POST", path, body, &o) == 200 && o && json_object_object_get_ex(o, "id", &v))
		nwid = strtoull(json_object_get_string(v), NULL, 16);
	json_object_put(o);
	return nwid;
}

/* test_directory_reachable() - with the only root down but the controller
 * (another node) up, a member's multicast goes to the subscribers the
 * controller names, not to every peer it has a direct path to: X, a member
 * that reaches A directly but does not subscribe to the ARP group, gets
 * nothing, and B, the one asked for, gets the ARP request. */
static void test_directory_reachable(void)
{
	struct sim *s = sim_new(7);
	struct sim_engine *r, *c, *a, *b, *x;
	char dir[] = "/tmp/netcon-ctl2-XXXXXX";
	struct nc_ctl *ctl = NULL;
	uint8_t p[28];
	char path[256];
	uint64_t nwid = 0;
	struct want w;

	memset(obs, 0, sizeof(obs));
	r = sim_engine_new(s, idents[4]);
	c = sim_engine_new(s, idents[5]);
	a = sim_engine_new(s, idents[6]);
	b = sim_engine_new(s, idents[7]);
	x = sim_engine_new(s, idents[8]);
	CHECK_BEGIN("sim net: root down, controller up: multicast goes to the subscribers it names, not to every direct peer");
	CHECK(r && c && a && b && x && mkdtemp(dir) != NULL);
	if (!r || !c || !a || !b || !x) {
		CHECK_END();
		sim_free(s);
		return;
	}
	CHECK(net_setup(s, 5));
	CHECK(nc_ctl_new(c->node, dir, &ctl) == 0);
	nwid = net_create(ctl, s, c->address, "rootdown", "10.147.19");
	CHECK(nwid != 0);
	for (int i = 2; i < 5; i++) {
		snprintf(path, sizeof(path), "/controller/network/%016llx/member/%010llx",
			 (unsigned long long)nwid, (unsigned long long)s->e[i]->address);
		CHECK(api(ctl, s, "POST", path, "{\"authorized\":true}", NULL) == 200);
		CHECK(zt_node_join(s->e[i]->node, nwid, NULL, s->now) == ZT_OK);
	}
	for (int i = 2; i < 5; i++) {
		w = (struct want){ s->e[i], nwid, ZT_NETWORK_OK };
		CHECK(sim_run_until(s, 30000, has_status, &w));
	}
	/* A reaches the controller and B, and X reaches A, directly (static
	 * paths: with the root down, nobody relays); B's address makes it a
	 * subscriber of its ARP group, which the controller knows from B's LIKE */
	CHECK(zt_node_add_static_path(a->node, s->now, c->address, &c->addr) == ZT_OK);
	CHECK(zt_node_add_static_path(b->node, s->now, a->address, &a->addr) == ZT_OK);
	CHECK(zt_node_add_static_path(x->node, s->now, a->address, &a->addr) == ZT_OK);
	sim_run(s, 3000);
	CHECK(zt_peer_has_direct_path((struct zt_node *)a->node, s->now, x->address));
	CHECK(zt_peer_has_direct_path((struct zt_node *)a->node, s->now, b->address));
	r->up = 0;
	sim_run(s, 30000);	/* A's path to the root dies; the controller still answers */
	CHECK(zt_topo_best_root((struct zt_node *)a->node, s->now) == NULL);
	{
		uint64_t amac = zt_mac_from_address(a->address, nwid);
		unsigned xarp = obs[4].arp_in;
		int64_t dl;

		counter_ptr = &obs[3].arp_in;
		counter_target = obs[3].arp_in + 1;
		arp_request(p, amac, obs[2].ip4, obs[3].ip4);
		CHECK(zt_node_frame_in(a->node, s->now, nwid, amac, 0xffffffffffffULL, 0x0806, 0, p, 28, &dl) == ZT_OK);
		CHECK_MSG(sim_run_until(s, 5000, counter_reached, NULL), "B never got A's ARP request");
		sim_run(s, 2000);
		CHECK_MSG(obs[4].arp_in == xarp, "X got %u ARP requests it did not subscribe to",
			  obs[4].arp_in - xarp);
	}
	CHECK_END();
	nc_ctl_free(ctl);
	sim_free(s);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		printf("# could not remove %s\n", dir);
}

int main(void)
{
	struct sim *s;
	struct sim_engine *c, *a, *b, *x;
	char dir[] = "/tmp/netcon-ctl-XXXXXX";
	struct nc_ctl *ctl = NULL;
	struct json_object *o, *v;
	char path[256];
	uint64_t nwid = 0;
	struct want w;

	load_identities();
	s = sim_new(42);
	c = sim_engine_new(s, idents[0]);
	a = sim_engine_new(s, idents[1]);
	b = sim_engine_new(s, idents[2]);
	x = sim_engine_new(s, idents[3]);
	CHECK_BEGIN("sim net: setup (moon root = controller, temp controller.d)");
	CHECK(c && a && b && x);
	if (!c || !a || !b || !x) {
		CHECK_END();
		return CHECK_EXIT();
	}
	CHECK(net_setup(s, 4));
	CHECK(mkdtemp(dir) != NULL);
	CHECK(nc_ctl_new(c->node, dir, &ctl) == 0);
	CHECK_END();

	CHECK_BEGIN("sim net: controller API creates a network and authorizes A and B");
	CHECK(api(ctl, s, "GET", "/controller", NULL, &o) == 200);
	CHECK(o && json_object_object_get_ex(o, "controller", &v) && json_object_get_boolean(v));
	json_object_put(o);
	nwid = net_create(ctl, s, c->address, "simnet", "10.147.17");
	CHECK((nwid >> 24) == c->address && (nwid & 0xffffff) != 0);
	snprintf(path, sizeof(path), "/controller/network/%010llx______", (unsigned long long)c->address);
	CHECK(api(ctl, s, "POST", path, "{bad json", &o) == 400);
	json_object_put(o);
	snprintf(path, sizeof(path), "/controller/network/%010llx______", (unsigned long long)a->address);
	CHECK(api(ctl, s, "POST", path, "{}", NULL) == 400);	/* not our address */
	CHECK(api(ctl, s, "GET", "/controller/network/0000000000000001", NULL, NULL) == 404);
	CHECK(api(ctl, s, "GET", "/controller/nothing", NULL, NULL) == 404);
	for (int i = 1; i <= 2; i++) {
		snprintf(path, sizeof(path), "/controller/network/%016llx/member/%010llx",
			 (unsigned long long)nwid, (unsigned long long)s->e[i]->address);
		CHECK(api(ctl, s, "POST", path, "{\"authorized\":true}", NULL) == 200);
	}
	CHECK_END();

	CHECK_BEGIN("sim net: A and B get configs with pool addresses; X is denied");
	int64_t t_join = s->now;
	for (int i = 1; i <= 3; i++)
		CHECK(zt_node_join(s->e[i]->node, nwid, NULL, s->now) == ZT_OK);
	w = (struct want){ a, nwid, ZT_NETWORK_OK };
	CHECK(sim_run_until(s, 30000, has_status, &w));
	/* joined before the controller had answered a single HELLO: the request
	 * is repeated as soon as it does, not at the 5 s retry */
	CHECK_MSG(s->now - t_join < 2000, "config after %lld ms", (long long)(s->now - t_join));
	w = (struct want){ b, nwid, ZT_NETWORK_OK };
	CHECK(sim_run_until(s, 30000, has_status, &w));
	w = (struct want){ x, nwid, ZT_NETWORK_ACCESS_DENIED };
	CHECK(sim_run_until(s, 30000, has_status, &w));
	CHECK(obs[1].ups == 1 && obs[2].ups == 1 && obs[3].ups == 0);
	CHECK((obs[1].ip4 >> 8) == 0x0a9311 && (obs[2].ip4 >> 8) == 0x0a9311 && obs[1].ip4 != obs[2].ip4);
	CHECK(sim_state_find(a, ZT_STATE_NETWORK_CONFIG, nwid) != NULL);
	{
		struct zt_network_info info;
		CHECK(zt_node_network_info(a->node, nwid, &info) == ZT_OK);
		CHECK(info.mac == zt_mac_from_address(a->address, nwid));
		CHECK(info.type == ZT_NETWORK_PRIVATE && info.mtu == 2800 && strcmp(info.name, "simnet") == 0);
		CHECK(info.n_routes == 1);
	}
	/* the controller recorded the assignment and the identity */
	snprintf(path, sizeof(path), "/controller/network/%016llx/member/%010llx",
		 (unsigned long long)nwid, (unsigned long long)a->address);
	CHECK(api(ctl, s, "GET", path, NULL, &o) == 200);
	CHECK(o && json_object_object_get_ex(o, "ipAssignments", &v) && json_object_array_length(v) == 1);
	CHECK(o && json_object_object_get_ex(o, "identity", &v) && strlen(json_object_get_string(v)) > 100);
	json_object_put(o);
	snprintf(path, sizeof(path), "/controller/network/%016llx/member/%010llx",
		 (unsigned long long)nwid, (unsigned long long)x->address);
	CHECK(api(ctl, s, "GET", path, NULL, &o) == 200);	/* X's record exists, unauthorized */
	CHECK(o && json_object_object_get_ex(o, "authorized", &v) && !json_object_get_boolean(v));
	json_object_put(o);
	CHECK_END();

	uint64_t amac = zt_mac_from_address(a->address, nwid), bmac = zt_mac_from_address(b->address, nwid);
	CHECK_BEGIN("sim net: ARP request A->B by multicast (gather via controller), reply by FRAME");
	{
		uint8_t p[64];
		int64_t dl;
		sim_run(s, 2000);
		arp_request(p, amac, obs[1].ip4, obs[2].ip4);
		CHECK(zt_node_frame_in(a->node, s->now, nwid, amac, 0xffffffffffffULL, 0x0806, 0, p, 28, &dl) == ZT_OK);
		counter_ptr = &obs[2].arp_in;
		counter_target = 1;
		CHECK(sim_run_until(s, 10000, counter_reached, NULL));
		CHECK(obs[2].last_src_mac == amac);
		CHECK(b->last_frame_dst == 0xffffffffffffULL && b->last_frame_len == 28);
		arp_request(p, bmac, obs[2].ip4, obs[1].ip4);
		p[7] = 2;	/* reply */
		CHECK(zt_node_frame_in(b->node, s->now, nwid, bmac, amac, 0x0806, 0, p, 28, &dl) == ZT_OK);
		counter_ptr = &obs[1].arp_in;
		CHECK(sim_run_until(s, 10000, counter_reached, NULL));
		CHECK(obs[1].last_src_mac == bmac && a->last_frame_dst == amac);
	}
	CHECK_END();

	CHECK_BEGIN("sim net: IPv4 frames both ways, large frame (2800) fragmented on the wire");
	{
		uint8_t p[2800];
		int64_t dl, due = 0;
		ipv4_packet(p, obs[1].ip4, obs[2].ip4);
		zt_node_background(a->node, s->now, &due);
		CHECK(zt_node_frame_in(a->node, s->now, nwid, amac, bmac, 0x0800, 0, p, 28, &dl) == ZT_OK);
		/* a frame to a known peer leaves background nothing to do sooner:
		 * the daemon's loop must not be woken for it */
		CHECK_MSG(dl == due, "frame_in reported background due in %lld ms, background asked for %lld",
			  (long long)(dl - s->now), (long long)(due - s->now));
		counter_ptr = &obs[2].ip_in;
		counter_target = 1;
		CHECK(sim_run_until(s, 5000, counter_reached, NULL));
		memset(p + 28, 0x5a, sizeof(p) - 28);
		CHECK(zt_node_frame_in(b->node, s->now, nwid, bmac, amac, 0x0800, 0, p, 2800, &dl) == ZT_OK);
		counter_ptr = &obs[1].ip_in;
		CHECK(sim_run_until(s, 5000, counter_reached, NULL));
		CHECK(a->last_frame_len == 2800 && a->last_frame[100] == 0x5a);
	}
	CHECK_END();

	CHECK_BEGIN("sim net: a frame failing the gate is parked, ERROR 0x06 makes the sender push, frame delivered");
	{
		uint8_t p[64];
		int64_t dl;
		struct zt_network *bn = zt_net_find((struct zt_node *)b->node, nwid);
		struct zt_member *bm = bn ? zt_net_member_find(bn, a->address) : NULL;
		uint64_t d0 = drops(b, ZT_DROP_NOT_MEMBER);
		CHECK(bm && bm->has_com);
		if (bm) {
			bm->has_com = 0;	/* B forgets A's COM */
			bm->last_cred_rx = 0;
		}
		sim_run(s, 1500);
		ipv4_packet(p, obs[1].ip4, obs[2].ip4);
		counter_ptr = &obs[2].ip_in;
		counter_target = obs[2].ip_in + 1;
		CHECK(zt_node_frame_in(a->node, s->now, nwid, amac, bmac, 0x0800, 0, p, 28, &dl) == ZT_OK);
		CHECK(sim_run_until(s, 3000, counter_reached, NULL));
		CHECK(drops(b, ZT_DROP_NOT_MEMBER) == d0 + 1);
		CHECK(bm && bm->has_com);
	}
	CHECK_END();

	CHECK_BEGIN("sim net: frames from unauthorized X are dropped by B (COM gate)");
	{
		uint8_t pkt[64];
		uint64_t before = drops(b, ZT_DROP_NOT_MEMBER);
		unsigned before_ip = obs[2].ip_in;
		zt_store_be(pkt, nwid, 8);
		zt_store_be(pkt + 8, 0x0800, 2);
		ipv4_packet(pkt + 10, 0x0a931163, obs[2].ip4);
		CHECK(zt_send_packet((struct zt_node *)x->node, s->now, b->address, ZT_VERB_FRAME, pkt, 38, 0, NULL) == 0);
		sim_run(s, 8000);
		CHECK(obs[2].ip_in == before_ip);
		CHECK(drops(b, ZT_DROP_NOT_MEMBER) > before);
	}
	CHECK_END();

	CHECK_BEGIN("sim net: deauthorizing B cuts it off (ACCESS_DENIED, COM revoked at A)");
	{
		uint8_t p[64];
		int64_t dl;
		unsigned before_ip = obs[1].ip_in;
		uint64_t before_drops = drops(a, ZT_DROP_NOT_MEMBER);
		struct zt_network *an = zt_net_find((struct zt_node *)a->node, nwid);
		struct zt_member *am = an ? zt_net_member_find(an, b->address) : NULL;
		CHECK(am && am->has_com && am->com_revoked_before == 0);
		snprintf(path, sizeof(path), "/controller/network/%016llx/member/%010llx",
			 (unsigned long long)nwid, (unsigned long long)b->address);
		CHECK(api(ctl, s, "POST", path, "{\"authorized\":false}", NULL) == 200);
		w = (struct want){ b, nwid, ZT_NETWORK_ACCESS_DENIED };
		CHECK(sim_run_until(s, 65000, has_status, &w));
		sim_run(s, 1000);
		ipv4_packet(p, obs[2].ip4, obs[1].ip4);
		zt_node_frame_in(b->node, s->now, nwid, bmac, amac, 0x0800, 0, p, 28, &dl);
		sim_run(s, 8000);
		CHECK(obs[1].ip_in == before_ip);
		CHECK(drops(a, ZT_DROP_NOT_MEMBER) > before_drops);
		am = an ? zt_net_member_find(an, b->address) : NULL;
		CHECK(am && !am->has_com && am->com_revoked_before > 0);
		/* A still talks to the controller fine */
		w = (struct want){ a, nwid, ZT_NETWORK_OK };
		CHECK(has_status(s, &w));
	}
	CHECK_END();

	CHECK_BEGIN("sim net: controller state survives a restart");
	{
		struct zt_network_info before, after;
		nc_ctl_free(ctl);
		ctl = NULL;
		CHECK(nc_ctl_new(c->node, dir, &ctl) == 0);
		snprintf(path, sizeof(path), "/controller/network/%016llx", (unsigned long long)nwid);
		CHECK(api(ctl, s, "GET", path, NULL, &o) == 200);
		CHECK(o && json_object_object_get_ex(o, "name", &v) && !strcmp(json_object_get_string(v), "simnet"));
		json_object_put(o);
		snprintf(path, sizeof(path), "/controller/network/%016llx/member", (unsigned long long)nwid);
		CHECK(api(ctl, s, "GET", path, NULL, &o) == 200);
		CHECK(o && json_object_object_length(o) == 3);
		json_object_put(o);
		CHECK(api(ctl, s, "GET", "/unstable/controller/network", NULL, &o) == 200);
		CHECK(o && json_object_object_get_ex(o, "data", &v) && json_object_array_length(v) == 1);
		json_object_put(o);
		zt_node_network_info(a->node, nwid, &before);
		sim_run(s, 70000);	/* at least one refresh from the new controller object */
		CHECK(zt_node_network_info(a->node, nwid, &after) == ZT_OK);
		CHECK(after.status == ZT_NETWORK_OK && after.n_assigned == 1);
		CHECK(!memcmp(&after.assigned[0], &before.assigned[0], sizeof(struct sockaddr_in)));
	}
	CHECK_END();

	CHECK_BEGIN("sim net: the controller's own node is a member too (local config, ARP to it)");
	{
		uint8_t p[64];
		int64_t dl;
		uint64_t cmac = zt_mac_from_address(c->address, nwid);
		snprintf(path, sizeof(path), "/controller/network/%016llx/member/%010llx",
			 (unsigned long long)nwid, (unsigned long long)c->address);
		CHECK(api(ctl, s, "POST", path, "{\"authorized\":true,\"ipAssignments\":[\"10.147.17.77\"]}", NULL) == 200);
		CHECK(zt_node_join(c->node, nwid, NULL, s->now) == ZT_OK);
		w = (struct want){ c, nwid, ZT_NETWORK_OK };
		CHECK(has_status(s, &w));
		CHECK(obs[0].ip4 == 0x0a93114d);
		sim_run(s, 1000);
		arp_request(p, amac, obs[1].ip4, obs[0].ip4);
		CHECK(zt_node_frame_in(a->node, s->now, nwid, amac, 0xffffffffffffULL, 0x0806, 0, p, 28, &dl) == ZT_OK);
		counter_ptr = &obs[0].arp_in;
		counter_target = 1;
		CHECK(sim_run_until(s, 10000, counter_reached, NULL));
		ipv4_packet(p, obs[0].ip4, obs[1].ip4);
		counter_ptr = &obs[1].ip_in;
		counter_target = obs[1].ip_in + 1;
		CHECK(zt_node_frame_in(c->node, s->now, nwid, cmac, amac, 0x0800, 0, p, 28, &dl) == ZT_OK);
		CHECK(sim_run_until(s, 5000, counter_reached, NULL));
	}
	CHECK_END();

	CHECK_BEGIN("sim net: a restarted member uses its cached config while the controller is down");
	{
		struct zt_network_info info;
		unsigned ups = obs[1].ups;
		c->up = 0;
		zt_node_delete(a->node);
		a->node = NULL;
		CHECK(zt_node_new(&a->node, a, &sim_callbacks, s->now) == ZT_OK);
		CHECK(zt_node_join(a->node, nwid, NULL, s->now) == ZT_OK);
		CHECK(obs[1].ups == ups + 1);
		CHECK(zt_node_network_info(a->node, nwid, &info) == ZT_OK && info.n_assigned == 1);
		sim_run(s, 20000);
		CHECK(zt_node_network_info(a->node, nwid, &info) == ZT_OK && info.n_assigned == 1);
	}
	CHECK_END();

	CHECK_BEGIN("sim net: with the controller (the only root) down, the restarted member reaches B: peer cache, ARP to direct peers");
	{
		uint64_t amac = zt_mac_from_address(a->address, nwid);
		uint8_t p[28];
		int64_t dl;
		/* nobody can gather subscribers for A now; B is in A's peer cache */
		CHECK(zt_node_hint_peer(a->node, s->now, b->address) == ZT_OK);
		CHECK(zt_node_hint_peer(a->node, s->now, 0x0102030405ULL) == ZT_ERR_BAD_PARAMETER);
		counter_ptr = &obs[2].arp_in;
		counter_target = obs[2].arp_in + 1;
		arp_request(p, amac, obs[1].ip4, obs[2].ip4);
		int got = 0;
		for (int i = 0; i < 10 && !got; i++) {	/* a stack repeats its ARP request */
			CHECK(zt_node_frame_in(a->node, s->now, nwid, amac, 0xffffffffffffULL, 0x0806, 0, p, 28, &dl) == ZT_OK);
			got = sim_run_until(s, 1000, counter_reached, NULL);
		}
		CHECK_MSG(got, "B never got A's ARP request");
		CHECK(obs[2].last_src_mac == amac);
	}
	CHECK_END();

	CHECK_BEGIN("sim net: the controller back, the restarted member is OK again");
	{
		struct zt_network_info info;
		c->up = 1;
		c->deadline = s->now;
		sim_run(s, 70000);
		CHECK(zt_node_network_info(a->node, nwid, &info) == ZT_OK && info.status == ZT_NETWORK_OK);
	}
	CHECK_END();

	CHECK_BEGIN("sim net: malformed network verbs are dropped and counted, never crash");
	{
		struct zt_node *an = (struct zt_node *)b->node;
		static const uint8_t verbs[] = { ZT_VERB_FRAME, ZT_VERB_EXT_FRAME, ZT_VERB_MULTICAST_LIKE,
			ZT_VERB_NETWORK_CREDENTIALS, ZT_VERB_NETWORK_CONFIG_REQUEST, ZT_VERB_NETWORK_CONFIG,
			ZT_VERB_MULTICAST_GATHER, ZT_VERB_MULTICAST_FRAME };
		uint8_t buf[600];
		struct zt_node_counters before, after;
		zt_node_counters(b->node, &before);
		for (int round = 0; round < 400; round++) {
			struct zt_rx rx;
			unsigned len = (unsigned)(sim_rand(s) % sizeof(buf));
			for (unsigned i = 0; i < len; i++)
				buf[i] = (uint8_t)sim_rand(s);
			if (len >= 8 && (round & 1))
				zt_store_be(buf, nwid, 8);	/* make it about our network */
			memset(&rx, 0, sizeof(rx));
			rx.source = (round & 2) ? a->address : x->address;
			rx.packet_id = sim_rand(s);
			rx.verb = verbs[round % 8];
			rx.payload = buf;
			rx.len = len;
			zt_net_on_verb(an, s->now, &rx);
			zt_net_on_ok(an, s->now, &rx, verbs[(round / 8) % 8], 1, buf, len);
			zt_net_on_error(an, s->now, &rx, ZT_VERB_NETWORK_CONFIG_REQUEST, 1, (uint8_t)(round % 10), buf, len);
		}
		zt_node_counters(b->node, &after);
		CHECK(after.drops[ZT_DROP_MALFORMED] > before.drops[ZT_DROP_MALFORMED]);
		/* errors from anyone but the controller do not change the status */
		w = (struct want){ b, nwid, ZT_NETWORK_ACCESS_DENIED };
		CHECK(has_status(s, &w));
		sim_run(s, 10000);
	}
	CHECK_END();

	CHECK_BEGIN("sim net: leave reports DOWN then DESTROY and deletes the cached config");
	{
		void *nu = (void *)1;
		unsigned downs = obs[1].downs;
		CHECK(obs[1].downs == 1);	/* from zt_node_delete() at the restart */
		CHECK(zt_node_leave(a->node, nwid, &nu, s->now) == ZT_OK);
		CHECK(obs[1].downs == downs + 1 && obs[1].destroys == 1 && nu == NULL);
		CHECK(sim_state_find(a, ZT_STATE_NETWORK_CONFIG, nwid) == NULL);
		CHECK(zt_node_networks(a->node, NULL, 0) == 0);
		CHECK(zt_node_leave(a->node, nwid, NULL, s->now) == ZT_ERR_NETWORK_NOT_FOUND);
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
	test_directory_reachable();
	return CHECK_EXIT();
}
