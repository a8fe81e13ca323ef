/* test_network_trace.c - the network layer against the official code's own
 * output in tests/vectors/trace1: the signed config chunks node A's official
 * controller sent (OK(NETWORK_CONFIG_REQUEST) and NETWORK_CONFIG, from
 * trace-plaintext.csv) are accepted by our member engine with B's identity;
 * a flipped byte is refused; and our controller, loaded with the official
 * controller.d/ of node A, serves B the same network and address. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/buf.h"
#include "node/dictionary.h"
#include "node/network_internal.h"
#include "node/peer_internal.h"
#include "service/controller.h"
#include "tests/check.h"
#include "tests/sim.h"

#define NWID 0x1e0f3b10e3477308ULL

static char *slurp_line(const char *path)
{
	static char buf[8][600];
	static int k;
	FILE *f = fopen(path, "r");
	char *b = buf[k++ & 7];

	b[0] = 0;
	if (f) {
		if (!fgets(b, 600, f))
			b[0] = 0;
		fclose(f);
	}
	b[strcspn(b, "\r\n")] = 0;
	return b;
}

/* trace_packet() - decompressed plaintext (verb byte first) of trace row idx */
static int trace_packet(const char *idx, uint8_t *out, size_t cap)
{
	FILE *f = fopen("tests/vectors/trace1/trace-plaintext.csv", "r");
	static char line[40000];
	int len = -1;

	while (f && fgets(line, sizeof(line), f)) {
		char *fields[7];
		int n = 0;
		char *p = line;
		fields[n++] = p;
		while (n < 7 && (p = strchr(p, ','))) {
			*p++ = 0;
			fields[n++] = p;
		}
		if (n < 7 || strcmp(fields[0], idx))
			continue;
		fields[6][strcspn(fields[6], "\r\n")] = 0;
		len = check_unhex(fields[6][0] ? fields[6] : fields[5], out, cap);
		break;
	}
	if (f)
		fclose(f);
	return len;
}

static unsigned ups;
static uint32_t ip4;
static int on_netconf(struct sim_engine *e, uint64_t nwid, void **nuptr, enum zt_netconf_op op,
		      const struct zt_network_info *info)
{
	(void)e; (void)nwid; (void)nuptr;
	if (op == ZT_NETCONF_UP)
		ups++;
	if (info->n_assigned && info->assigned[0].ss_family == AF_INET)
		ip4 = ntohl(((const struct sockaddr_in *)&info->assigned[0])->sin_addr.s_addr);
	return 0;
}

static int status_ok(struct sim *s, void *arg)
{
	struct zt_network_info info;
	(void)s;
	return zt_node_network_info(((struct sim_engine *)arg)->node, NWID, &info) == ZT_OK &&
	       info.status == ZT_NETWORK_OK && info.n_assigned;
}

/* member_engine() - an engine with B's identity that knows A's */
static struct sim_engine *member_engine(struct sim *s)
{
	struct sim_engine *e = sim_engine_new(s, slurp_line("tests/vectors/trace1/nodeB/identity.secret"));
	struct zt_identity a;
	int fresh;

	if (!e)
		return NULL;
	e->on_netconf = on_netconf;
	zt_identity_from_string(&a, slurp_line("tests/vectors/trace1/nodeA/identity.public"));
	zt_topo_add((struct zt_node *)e->node, s->now, &a, &fresh);
	zt_node_join(e->node, NWID, NULL, s->now);
	return e;
}

int main(void)
{
	static uint8_t pkt[12000];
	struct sim *s = sim_new(3);
	struct sim_engine *e;
	struct zt_rx rx;
	int l;

	CHECK_BEGIN("trace1: official NETWORK_CONFIG (signed chunk) accepted by our member");
	e = member_engine(s);
	CHECK(e != NULL);
	l = trace_packet("27", pkt, sizeof(pkt));
	CHECK(l > 100 && pkt[0] == ZT_VERB_NETWORK_CONFIG);
	if (e && l > 100) {
		memset(&rx, 0, sizeof(rx));
		rx.source = 0x1e0f3b10e3ULL;
		rx.packet_id = 0x13dc16038a9c71f4ULL;
		rx.verb = ZT_VERB_NETWORK_CONFIG;
		rx.payload = pkt + 1;
		rx.len = (unsigned)l - 1;
		/* the same chunk with one byte of the dictionary changed is refused */
		pkt[40] ^= 1;
		zt_net_on_verb((struct zt_node *)e->node, s->now, &rx);
		CHECK(!status_ok(s, e) && ups == 0);
		pkt[40] ^= 1;
		zt_net_on_verb((struct zt_node *)e->node, s->now, &rx);
		CHECK(status_ok(s, e) && ups == 1);
		CHECK(ip4 == 0x0a9311a8);	/* 10.147.17.168 */
		CHECK(sim_state_find(e, ZT_STATE_NETWORK_CONFIG, NWID) != NULL);
	}
	CHECK_END();

	CHECK_BEGIN("trace1: official OK(NETWORK_CONFIG_REQUEST) accepted by our member");
	ups = 0;
	ip4 = 0;
	e = member_engine(s);
	l = trace_packet("26", pkt, sizeof(pkt));
	CHECK(e && l > 100 && pkt[0] == ZT_VERB_OK && pkt[1] == ZT_VERB_NETWORK_CONFIG_REQUEST);
	if (e && l > 100) {
		memset(&rx, 0, sizeof(rx));
		rx.source = 0x1e0f3b10e3ULL;
		rx.verb = ZT_VERB_OK;
		rx.payload = pkt + 1;
		rx.len = (unsigned)l - 1;
		zt_net_on_ok((struct zt_node *)e->node, s->now, &rx, ZT_VERB_NETWORK_CONFIG_REQUEST,
			     zt_load_be(pkt + 2, 8), pkt + 10, (unsigned)l - 10);
		CHECK(status_ok(s, e) && ups == 1 && ip4 == 0x0a9311a8);
	}
	CHECK_END();

	CHECK_BEGIN("trace1: the official NETWORK_CONFIG_REQUEST metadata (§7.3)");
	l = trace_packet("9", pkt, sizeof(pkt));
	CHECK(l > 40 && pkt[0] == ZT_VERB_NETWORK_CONFIG_REQUEST);
	if (l > 40) {
		unsigned ml = (unsigned)zt_load_be(pkt + 9, 2);
		const uint8_t *m = pkt + 11;
		CHECK(zt_load_be(pkt + 1, 8) == NWID && 11 + ml + 16 == (unsigned)l);
		CHECK(zt_dict_get_u64_def(m, ml, "pv", 0) == 12 && zt_dict_get_u64_def(m, ml, "revr", 0) == 1);
		CHECK(zt_dict_get_u64_def(m, ml, "majv", 0) == 1 && zt_dict_get_u64_def(m, ml, "minv", 0) == 14);
	}
	CHECK_END();
	sim_free(s);

	CHECK_BEGIN("trace1: our controller on node A's official controller.d serves B");
	{
		char dir[] = "/tmp/netcon-trace-XXXXXX", cmd[600];
		struct sim *s2 = sim_new(4);
		struct sim_engine *a, *b;
		struct nc_ctl *ctl = NULL;
		CHECK(mkdtemp(dir) != NULL);
		snprintf(cmd, sizeof(cmd), "cp -r tests/vectors/trace1/nodeA/controller.d %s/ && chmod -R u+w %s", dir, dir);
		CHECK(system(cmd) == 0);
		a = sim_engine_new(s2, slurp_line("tests/vectors/trace1/nodeA/identity.secret"));
		b = sim_engine_new(s2, slurp_line("tests/vectors/trace1/nodeB/identity.secret"));
		CHECK(a && b);
		if (a && b) {
			ups = 0;
			ip4 = 0;
			b->on_netconf = on_netconf;
			CHECK(nc_ctl_new(a->node, dir, &ctl) == 0);
			struct zt_identity aid;
			int fresh;
			/* a static path needs the peer's identity (as in the official node) */
			zt_identity_from_string(&aid, slurp_line("tests/vectors/trace1/nodeA/identity.public"));
			zt_topo_add((struct zt_node *)b->node, s2->now, &aid, &fresh);
			CHECK(zt_node_add_static_path(b->node, s2->now, a->address, &a->addr) == ZT_OK);
			CHECK(zt_node_join(b->node, NWID, NULL, s2->now) == ZT_OK);
			CHECK(sim_run_until(s2, 30000, status_ok, b));
			CHECK(ip4 == 0x0a9311a8);	/* the address the official controller had stored */
			{
				struct zt_network_info info;
				zt_node_network_info(b->node, NWID, &info);
				CHECK(!strcmp(info.name, "ztref") && info.type == ZT_NETWORK_PRIVATE);
			}
			nc_ctl_free(ctl);
		}
		sim_free(s2);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	CHECK_END();
	return CHECK_EXIT();
}
