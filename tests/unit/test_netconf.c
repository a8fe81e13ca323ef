/* test_netconf.c - the real trace1 configs parse; build/parse round trip;
 * rules evaluation. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "node/dictionary.h"
#include "node/identity.h"
#include "node/inaddr.h"
#include "node/netconf.h"
#include "node/network_internal.h"
#include "node/rules.h"

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	if (fread(b, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(b);
		return NULL;
	}
	fclose(f);
	b[n] = 0;
	*len = (size_t)n;
	return b;
}

static uint32_t ip4(const struct sockaddr_storage *a)
{
	return ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr);
}

static void check_trace_conf(const char *path, uint64_t me, uint32_t myip, const struct zt_identity *ctl)
{
	size_t len;
	uint8_t *d = slurp(path, &len);
	struct zt_netconf *nc = malloc(sizeof(*nc));
	struct zt_network_info info;

	CHECK(d != NULL);
	if (!d) {
		free(nc);
		return;
	}
	CHECK(zt_netconf_parse(nc, d, len) == 0);
	CHECK(nc->version == 7);
	CHECK(nc->nwid == 0x1e0f3b10e3477308ULL);
	CHECK(nc->issued_to == me);
	CHECK(nc->revision == 1);
	CHECK(nc->ctmd == 1800000);
	CHECK(nc->mtu == 2800);
	CHECK(nc->multicast_limit == 32);
	CHECK(nc->type == ZT_NETWORK_PRIVATE);
	CHECK(strcmp(nc->name, "ztref") == 0);
	CHECK(nc->flags == 2);
	CHECK(nc->n_ips == 1);
	CHECK(nc->ips[0].ss_family == AF_INET && ip4(&nc->ips[0]) == myip);
	CHECK(zt_inaddr_port(&nc->ips[0]) == 24);
	CHECK(nc->n_routes == 1);
	CHECK(ip4(&nc->routes[0].target) == 0x0a931100 && zt_inaddr_port(&nc->routes[0].target) == 24);
	CHECK(nc->routes[0].via.ss_family == 0);
	CHECK(nc->n_rules == 1 && nc->rules[0].t == ZT_RULE_ACTION_ACCEPT);
	CHECK(nc->has_com);
	CHECK(zt_com_nwid(&nc->com) == nc->nwid);
	CHECK(zt_com_issued_to(&nc->com) == me);
	CHECK(zt_com_timestamp(&nc->com) == nc->ts);
	CHECK(zt_com_verify(&nc->com, ctl) == 1);
	CHECK(nc->has_dns && nc->n_dns == 0);
	memset(&info, 0, sizeof(info));
	zt_netconf_to_info(nc, &info);
	CHECK(info.n_assigned == 1 && info.n_routes == 1 && info.mtu == 2800 && info.broadcast_enabled);

	/* every truncation is handled (parses or is rejected, never crashes) */
	for (size_t l = 0; l < len; l += 7)
		(void)zt_netconf_parse(nc, d, l);
	free(nc);
	free(d);
}

int main(void)
{
	struct zt_identity a;
	char idstr[512];
	size_t l;
	uint8_t *s = slurp("tests/vectors/trace1/nodeA/identity.public", &l);

	CHECK_BEGIN("load node A identity");
	CHECK(s != NULL);
	if (s) {
		snprintf(idstr, sizeof(idstr), "%.*s", (int)strcspn((char *)s, "\r\n"), (char *)s);
		CHECK(zt_identity_from_string(&a, idstr) == 0);
		free(s);
	}
	CHECK_END();

	CHECK_BEGIN("trace1 nodeB config parses, COM verifies with A");
	check_trace_conf("tests/vectors/trace1/nodeB/networks.d/1e0f3b10e3477308.conf",
			 0x2c6e7a2b12ULL, 0x0a9311a8, &a);
	CHECK_END();

	CHECK_BEGIN("trace1 nodeA config parses, COM verifies with A");
	check_trace_conf("tests/vectors/trace1/nodeA/networks.d/1e0f3b10e3477308.conf",
			 0x1e0f3b10e3ULL, 0x0a9311c8, &a);
	CHECK_END();

	CHECK_BEGIN("build -> parse round trip");
	{
		struct zt_netconf *nc = calloc(1, sizeof(*nc)), *p2 = calloc(1, sizeof(*p2));
		uint8_t *buf = malloc(65536);
		struct zt_wbuf w;
		struct sockaddr_storage ip;
		nc->nwid = 0x1e0f3b10e3477308ULL;
		nc->ts = 12345;
		nc->ctmd = 1800000;
		nc->revision = 9;
		nc->issued_to = 0x2c6e7a2b12ULL;
		nc->flags = 2;
		nc->multicast_limit = 32;
		nc->mtu = 2800;
		nc->type = ZT_NETWORK_PUBLIC;
		strcpy(nc->name, "a=b\\c\nd");
		zt_inaddr_parse(&ip, "10.147.17.9/24");
		nc->ips[nc->n_ips++] = ip;
		zt_inaddr_parse(&nc->routes[0].target, "10.147.17.0/24");
		nc->n_routes = 1;
		nc->rules[0].t = ZT_RULE_MATCH_ETHERTYPE | ZT_RULE_NOT;
		nc->rules[0].len = 2;
		nc->rules[0].v[0] = 0x08;
		nc->rules[0].v[1] = 0x00;
		nc->rules[1].t = ZT_RULE_ACTION_DROP;
		nc->rules[2].t = ZT_RULE_ACTION_ACCEPT;
		nc->n_rules = 3;
		nc->specialists[nc->n_specialists++] = 0x2c6e7a2b12ULL | ZT_SPECIALIST_ACTIVE_BRIDGE;
		zt_wbuf_init(&w, buf, 65536);
		CHECK(zt_netconf_build(nc, &w) == 0);
		CHECK(zt_netconf_parse(p2, buf, w.len) == 0);
		CHECK(p2->nwid == nc->nwid && p2->issued_to == nc->issued_to && p2->revision == 9);
		CHECK(strcmp(p2->name, nc->name) == 0);
		CHECK(p2->type == ZT_NETWORK_PUBLIC);
		CHECK(p2->n_ips == 1 && ip4(&p2->ips[0]) == 0x0a931109);
		CHECK(p2->n_rules == 3 && p2->rules[0].t == (ZT_RULE_MATCH_ETHERTYPE | ZT_RULE_NOT));
		CHECK(zt_netconf_is_bridge(p2, 0x2c6e7a2b12ULL));
		CHECK(!p2->has_com);
		free(nc);
		free(p2);
		free(buf);
	}
	CHECK_END();

	CHECK_BEGIN("config rejected without nwid, id or with v < 6");
	{
		struct zt_netconf *nc = calloc(1, sizeof(*nc));
		const char *d1 = "v=7\nid=2c6e7a2b12";
		const char *d2 = "v=7\nnwid=1e0f3b10e3477308";
		const char *d3 = "v=5\nnwid=1e0f3b10e3477308\nid=2c6e7a2b12";
		const char *d4 = "v=7\nnwid=1e0f3b10e3477308\nid=2c6e7a2b12\nI=\\0\\0";
		const char *d5 = "v=7\nnwid=1e0f3b10e3477308\nid=2c6e7a2b12\nR=\\0";
		CHECK(zt_netconf_parse(nc, d1, strlen(d1)) < 0);
		CHECK(zt_netconf_parse(nc, d2, strlen(d2)) < 0);
		CHECK(zt_netconf_parse(nc, d3, strlen(d3)) < 0);
		CHECK(zt_netconf_parse(nc, d4, strlen(d4)) == 0 && nc->n_ips == 0);	/* 0x00 = null address, skipped */
		CHECK(zt_netconf_parse(nc, d5, strlen(d5)) < 0);	/* truncated rule */
		free(nc);
	}
	CHECK_END();

	CHECK_BEGIN("rules: accept, drop, not, or, break, unknown match");
	{
		struct zt_rule r[8];
		uint8_t ipv4[20] = { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2 };
		struct zt_rule_frame f = { .ethertype = 0x0800, .data = ipv4, .len = 20 };
		const uint8_t accept[] = { 0x01, 0x00 };
		const uint8_t drop_arp[] = { 37, 2, 0x08, 0x06, 0x00, 0x00, 0x01, 0x00 };
		const uint8_t only_arp_or_v4[] = { 37 | 0x80, 2, 0x08, 0x06, 37 | 0x80, 2, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00 };
		const uint8_t arp_or_v6[] = { 37, 2, 0x08, 0x06, 37 | 0x40, 2, 0x86, 0xdd, 0x01, 0x00 };
		const uint8_t brk[] = { 37, 2, 0x08, 0x00, 0x05, 0x00, 0x01, 0x00 };
		const uint8_t unknown[] = { 63, 3, 0, 0, 0, 0x01, 0x00 };
		int n;
		CHECK(zt_rules_eval(r, 0, 0, &f) == 0);
		n = zt_rules_parse(accept, sizeof(accept), r, 8);
		CHECK(n == 1 && zt_rules_eval(r, (unsigned)n, 0, &f) == 1);
		n = zt_rules_parse(drop_arp, sizeof(drop_arp), r, 8);
		CHECK(n == 3 && zt_rules_eval(r, (unsigned)n, 0, &f) == 1);
		f.ethertype = 0x0806;
		CHECK(zt_rules_eval(r, (unsigned)n, 0, &f) == 0);
		n = zt_rules_parse(only_arp_or_v4, sizeof(only_arp_or_v4), r, 8);
		CHECK(n == 4 && zt_rules_eval(r, (unsigned)n, 0, &f) == 1);
		f.ethertype = 0x86dd;
		CHECK(zt_rules_eval(r, (unsigned)n, 0, &f) == 0);
		n = zt_rules_parse(arp_or_v6, sizeof(arp_or_v6), r, 8);
		CHECK(n == 3 && zt_rules_eval(r, (unsigned)n, 0, &f) == 1);	/* accepted by OR */
		f.ethertype = 0x0800;
		CHECK(zt_rules_eval(r, (unsigned)n, 0, &f) == 0);	/* matches nothing: default drop */
		n = zt_rules_parse(brk, sizeof(brk), r, 8);
		CHECK(n == 3 && zt_rules_eval(r, (unsigned)n, 0, &f) == 0);
		f.ethertype = 0x0806;
		CHECK(zt_rules_eval(r, (unsigned)n, 0, &f) == 1);
		n = zt_rules_parse(unknown, sizeof(unknown), r, 8);
		CHECK(n == 2);
		CHECK(zt_rules_eval(r, (unsigned)n, 0, &f) == 0);	/* unknown = false: ACCEPT skipped, drop */
		CHECK(zt_rules_eval(r, (unsigned)n, 1, &f) == 1);	/* unknown = true (flag 0x08): accept */
		CHECK(zt_rules_parse(unknown, 4, r, 8) < 0);
		CHECK(zt_rules_parse(only_arp_or_v4, sizeof(only_arp_or_v4), r, 2) == -E2BIG);
	}
	CHECK_END();

	CHECK_BEGIN("MAC derivation (§6.2, §14.7) and ARP/NDP groups (§6.4)");
	{
		const uint64_t nw = 0xbd091a62a9123456ULL;
		struct zt_network *net = calloc(1, sizeof(*net));
		struct zt_mc_group g[8];
		unsigned k;
		CHECK(zt_mac_from_address(0x538993822bULL, nw) == 0x56679b3ae031ULL);
		CHECK(zt_address_from_mac(0x56679b3ae031ULL, nw) == 0x538993822bULL);
		CHECK(zt_address_from_mac(0x57679b3ae031ULL, nw) == 0);	/* not derived: bridged */
		/* trace1: node A and B MACs from nodes.txt */
		CHECK(zt_mac_from_address(0x1e0f3b10e3ULL, 0x1e0f3b10e3477308ULL) == 0x0a6d48d800d8ULL);
		CHECK(zt_mac_from_address(0x2c6e7a2b12ULL, 0x1e0f3b10e3477308ULL) == 0x0a5f29993b29ULL);
		/* first byte 0x52 becomes 0x32 */
		CHECK((zt_mac_from_address(1, 0x50) >> 40) == 0x32);
		CHECK(zt_address_from_mac(zt_mac_from_address(0x1234567890ULL, 0x50), 0x50) == 0x1234567890ULL);
		net->conf = calloc(1, sizeof(*net->conf));
		net->conf->flags = ZT_NETCONF_FLAG_BROADCAST;
		zt_inaddr_parse(&net->conf->ips[0], "10.147.17.5/24");
		zt_inaddr_parse(&net->conf->ips[1], "fd00::12:3456/88");
		net->conf->n_ips = 2;
		k = zt_mc_our_groups(net, g, 8);
		CHECK(k == 3);
		CHECK(g[0].mac == 0xffffffffffffULL && g[0].adi == 0);
		CHECK(g[1].mac == 0xffffffffffffULL && g[1].adi == 0x0a931105);
		CHECK(g[2].mac == 0x3333ff123456ULL && g[2].adi == 0);
		free(net->conf);
		free(net);
	}
	CHECK_END();

	CHECK_BEGIN("rules: IPv4 prefix, protocol, port range, characteristics, frame size");
	{
		struct zt_rule r[8];
		uint8_t pkt[40] = { 0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 1, 2, 3,
				    0x30, 0x39, 0x00, 0x50, 0,0,0,0, 0,0,0,0, 0x50, 0x02, 0,0, 0,0,0,0 };
		struct zt_rule_frame f = { .ethertype = 0x0800, .data = pkt, .len = 40, .inbound = 1 };
		const uint8_t v4dst[] = { 32, 5, 10, 1, 2, 0, 24, 1, 0 };
		const uint8_t v4miss[] = { 32, 5, 10, 1, 3, 0, 24, 1, 0 };
		const uint8_t tcp80[] = { 36, 1, 6, 40, 4, 0, 80, 0, 80, 1, 0 };
		const uint8_t syn_in[] = { 41, 8, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 1, 0 };
		const uint8_t small[] = { 42, 4, 0, 0, 0, 39, 1, 0 };
		int n;
		n = zt_rules_parse(v4dst, sizeof(v4dst), r, 8);
		CHECK(zt_rules_eval(r, (unsigned)n, 0, &f) == 1);
		n = zt_rules_parse(v4miss, sizeof(v4miss), r, 8);
		CHECK(zt_rules_eval(r, (unsigned)n, 0, &f) == 0);
		n = zt_rules_parse(tcp80, sizeof(tcp80), r, 8);
		CHECK(zt_rules_eval(r, (unsigned)n, 0, &f) == 1);
		pkt[23] = 81;
		CHECK(zt_rules_eval(r, (unsigned)n, 0, &f) == 0);
		n = zt_rules_parse(syn_in, sizeof(syn_in), r, 8);
		CHECK(zt_rules_eval(r, (unsigned)n, 0, &f) == 1);
		pkt[33] = 0x10;	/* ACK only, but still inbound */
		CHECK(zt_rules_eval(r, (unsigned)n, 0, &f) == 1);
		f.inbound = 0;
		CHECK(zt_rules_eval(r, (unsigned)n, 0, &f) == 0);
		{
			/* a match that does not apply is false even with NOT (official "hardNo") */
			const uint8_t not_v4[] = { 32 | 0x80, 5, 10, 1, 2, 0, 24, 1, 0 };
			/* integer range: 1 byte (format 7) at window 2 + (8 - 1) = byte 9, the IP protocol, in 6..6 */
			const uint8_t intr[] = { 51, 19, 0,0,0,0,0,0,0,6, 0,0,0,0,0,0,0,6, 0,2, 7, 1, 0 };
			struct zt_rule_frame arp = { .ethertype = 0x0806, .data = pkt, .len = 28 };
			n = zt_rules_parse(not_v4, sizeof(not_v4), r, 8);
			CHECK(n == 2 && zt_rules_eval(r, (unsigned)n, 0, &arp) == 0);
			n = zt_rules_parse(intr, sizeof(intr), r, 8);
			CHECK(n == 2 && zt_rules_eval(r, (unsigned)n, 0, &f) == 1);
			pkt[9] = 17;
			CHECK(zt_rules_eval(r, (unsigned)n, 0, &f) == 0);
			pkt[9] = 6;
		}
		n = zt_rules_parse(small, sizeof(small), r, 8);
		CHECK(zt_rules_eval(r, (unsigned)n, 0, &f) == 0);	/* 40-byte payload > 39 */
		f.len = 39;
		CHECK(zt_rules_eval(r, (unsigned)n, 0, &f) == 1);
	}
	CHECK_END();

	return CHECK_EXIT();
}
