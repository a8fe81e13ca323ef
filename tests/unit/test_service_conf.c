/* test_service_conf.c - service/ parsers: local.conf, IP/PORT, CIDR, scope
 * guard, per-network settings, state file names, hex ids. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include "tests/check.h"
#include "service/svc.h"

static unsigned port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
					      : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

static void test_localconf(void)
{
	const char *good =
		"{ \"settings\": { \"primaryPort\": 9994, \"noPlanet\": true,"
		"  \"allowManagementFrom\": [\"10.0.0.0/8\", \"fd00::/8\"] },"
		"  \"virtual\": { \"1e0f3b10e3\": { \"try\": [\"10.99.0.1/9993\", \"fd00::1/9993\"] },"
		"               \"2c6e7a2b12\": { \"try\": [\"127.0.0.1/4000\"] } } }";
	struct svc_conf c;
	char err[256], ip[80];
	int r;

	CHECK_BEGIN("local.conf: settings and virtual static paths");
	r = svc_conf_parse(good, strlen(good), &c, err, sizeof(err));
	CHECK_MSG(r == 0, "parse: %d %s", r, err);
	CHECK(c.primary_port == 9994);
	CHECK(c.no_planet == 1);
	CHECK(c.n_mgmt == 2);
	CHECK(c.n_static == 3);
	if (c.n_static == 3) {
		int found = 0;

		for (int i = 0; i < 3; i++) {
			svc_format_ipport(&c.statics[i].ep, ip, sizeof(ip));
			if (c.statics[i].address == 0x1e0f3b10e3ULL && !strcmp(ip, "fd00::1/9993"))
				found++;
			if (c.statics[i].address == 0x2c6e7a2b12ULL && !strcmp(ip, "127.0.0.1/4000"))
				found++;
		}
		CHECK(found == 2);
	}
	CHECK_END();

	CHECK_BEGIN("local.conf: errors are reported, empty object is defaults");
	CHECK(svc_conf_parse("{", 1, &c, err, sizeof(err)) == -EINVAL && strstr(err, "local.conf"));
	CHECK(svc_conf_parse("[]", 2, &c, err, sizeof(err)) == -EINVAL);
	CHECK(svc_conf_parse("{\"settings\":{\"primaryPort\":70000}}", 34, &c, err, sizeof(err)) == -EINVAL);
	CHECK(svc_conf_parse("{\"virtual\":{\"xyz\":{\"try\":[]}}}", 30, &c, err, sizeof(err)) == -EINVAL);
	CHECK(svc_conf_parse("{\"virtual\":{\"1e0f3b10e3\":{\"try\":[\"nonsense\"]}}}", 46, &c, err,
			     sizeof(err)) == -EINVAL);
	CHECK(svc_conf_parse("{}", 2, &c, err, sizeof(err)) == 0 && c.primary_port == -1 &&
	      !c.no_planet && !c.n_static && !c.port_lo && !c.port_hi);
	CHECK_END();

	CHECK_BEGIN("local.conf: netconLocalPortRange");
	const char *pr = "{\"settings\":{\"netconLocalPortRange\":[40000,40099]}}";
	CHECK(svc_conf_parse(pr, strlen(pr), &c, err, sizeof(err)) == 0 && c.port_lo == 40000 &&
	      c.port_hi == 40099);
	static const char *const bad[] = {
		"{\"settings\":{\"netconLocalPortRange\":[40099,40000]}}",
		"{\"settings\":{\"netconLocalPortRange\":[0,100]}}",
		"{\"settings\":{\"netconLocalPortRange\":[1,70000]}}",
		"{\"settings\":{\"netconLocalPortRange\":[1]}}",
		"{\"settings\":{\"netconLocalPortRange\":\"1-2\"}}",
		"{\"settings\":{\"netconLocalPortRange\":[\"1\",2]}}",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(svc_conf_parse(bad[i], strlen(bad[i]), &c, err, sizeof(err)) == -EINVAL &&
			  strstr(err, "netconLocalPortRange"), "%s", bad[i]);
	CHECK_END();
}

static void test_addrs(void)
{
	struct sockaddr_storage ss;
	struct svc_cidr c;
	char out[80];

	CHECK_BEGIN("IP/PORT parsing and formatting");
	CHECK(svc_parse_ipport("10.1.2.3/9993", &ss) == 0 && ss.ss_family == AF_INET &&
	      port_of(&ss) == 9993);
	svc_format_ipport(&ss, out, sizeof(out));
	CHECK(!strcmp(out, "10.1.2.3/9993"));
	CHECK(svc_parse_ipport("[::1]:80", &ss) == 0 && ss.ss_family == AF_INET6 && port_of(&ss) == 80);
	CHECK(svc_parse_ipport("fd00::1/1", &ss) == 0 && ss.ss_family == AF_INET6);
	CHECK(svc_parse_ipport("10.1.2.3", &ss) < 0);
	CHECK(svc_parse_ipport("10.1.2.3/99999", &ss) < 0);
	CHECK(svc_parse_ipport("10.1.2/5", &ss) < 0);
	CHECK(svc_parse_ipport("/5", &ss) < 0);
	CHECK_END();

	CHECK_BEGIN("CIDR match and the noPlanet scope guard");
	CHECK(svc_parse_cidr("10.0.0.0/8", &c) == 0);
	svc_parse_ipport("10.200.1.1/1", &ss);
	CHECK(svc_cidr_match(&c, &ss));
	svc_parse_ipport("11.0.0.1/1", &ss);
	CHECK(!svc_cidr_match(&c, &ss));
	svc_parse_ipport("[::ffff:10.1.1.1]:1", &ss);
	CHECK(svc_cidr_match(&c, &ss));
	CHECK(svc_parse_cidr("10.0.0.0/33", &c) < 0);
	CHECK(svc_parse_cidr("garbage", &c) < 0);
	svc_parse_ipport("127.0.0.1/9993", &ss);
	CHECK(svc_addr_is_local_scope(&ss));
	svc_parse_ipport("10.77.0.3/9993", &ss);
	CHECK(svc_addr_is_local_scope(&ss));
	svc_parse_ipport("[::1]:9993", &ss);
	CHECK(svc_addr_is_local_scope(&ss));
	/* the official roots' addresses are public: refused under noPlanet */
	svc_parse_ipport("103.195.103.66/9993", &ss);
	CHECK(!svc_addr_is_local_scope(&ss));
	svc_parse_ipport("[2605:9880:400:c3:254:f2bc:a1f7:19]:9993", &ss);
	CHECK(!svc_addr_is_local_scope(&ss));
	CHECK_END();
}

static void test_files(void)
{
	char dir[] = "/tmp/test_service_conf.XXXXXX", p[1100], err[256], tok[64];
	uint64_t id[2] = { 0x8056c2e21c000001ULL, 0 };
	struct svc_netset s;
	struct stat st;
	uint64_t v;

	CHECK_BEGIN("hex ids: exactly N digits");
	CHECK(svc_hex_u64("8056c2e21c000001", 16, &v) == 0 && v == 0x8056c2e21c000001ULL);
	CHECK(svc_hex_u64("8056C2E21C000001", 16, &v) == 0 && v == 0x8056c2e21c000001ULL);
	CHECK(svc_hex_u64("8056c2e21c00000", 16, &v) < 0);
	CHECK(svc_hex_u64("8056c2e21c0000011", 16, &v) < 0);
	CHECK(svc_hex_u64("8056c2e21c00000x", 16, &v) < 0);
	CHECK(svc_hex_u64("1e0f3b10e3", 10, &v) == 0 && v == 0x1e0f3b10e3ULL);
	CHECK_END();

	CHECK_BEGIN("home: state file names, secrets 0600, settings round trip");
	CHECK(mkdtemp(dir) != NULL);
	CHECK(svc_home_prepare(dir, err, sizeof(err)) == 0);
	svc_state_path(dir, ZT_STATE_NETWORK_CONFIG, id, p, sizeof(p));
	CHECK(strstr(p, "/networks.d/8056c2e21c000001.netconf") != NULL);
	id[0] = 0x1e0f3b10e3ULL;
	svc_state_path(dir, ZT_STATE_PEER, id, p, sizeof(p));
	CHECK(strstr(p, "/peers.d/1e0f3b10e3.peer") != NULL);
	id[0] = 0x0000001e0f3b10e3ULL;
	svc_state_path(dir, ZT_STATE_MOON, id, p, sizeof(p));
	CHECK(strstr(p, "/moons.d/0000001e0f3b10e3.moon") != NULL);
	svc_state_path(dir, ZT_STATE_IDENTITY_SECRET, id, p, sizeof(p));
	CHECK(strstr(p, "/identity.secret") != NULL);
	CHECK(svc_home_authtoken(dir, tok, sizeof(tok), err, sizeof(err)) == 0 && strlen(tok) == 24);
	snprintf(p, sizeof(p), "%s/authtoken.secret", dir);
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
	{
		char tok2[64];

		CHECK(svc_home_authtoken(dir, tok2, sizeof(tok2), err, sizeof(err)) == 0 &&
		      !strcmp(tok, tok2));
	}
	chmod(p, 0644);
	CHECK(svc_home_authtoken(dir, tok, sizeof(tok), err, sizeof(err)) == -EPERM &&
	      strstr(err, "chmod 600"));
	svc_netset_defaults(&s);
	CHECK(s.allow_managed == 1 && !s.allow_global && !s.allow_default && !s.allow_dns);
	s.allow_managed = 0;
	s.allow_dns = 1;
	CHECK(svc_netset_save(dir, 0x8056c2e21c000001ULL, &s) == 0);
	svc_netset_defaults(&s);
	svc_netset_load(dir, 0x8056c2e21c000001ULL, &s);
	CHECK(s.allow_managed == 0 && s.allow_dns == 1 && !s.allow_global);
	CHECK_END();
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	CHECK(system(p) == 0);
}

static void test_tapname(void)
{
	char a[16], b[16];

	CHECK_BEGIN("tap names: zt + 8 base32, stable, distinct");
	svc_tap_name(0x8056c2e21c000001ULL, a);
	svc_tap_name(0x8056c2e21c000002ULL, b);
	CHECK(strlen(a) == 10 && !strncmp(a, "zt", 2));
	CHECK(strcmp(a, b) != 0);
	svc_tap_name(0x8056c2e21c000001ULL, b);
	CHECK(!strcmp(a, b));
	CHECK_END();
}

/* test_localconf_mutations() - hostile local.conf: never crash, always a verdict */
static void test_localconf_mutations(void)
{
	const char *base =
		"{ \"settings\": { \"primaryPort\": 9994, \"noPlanet\": true,"
		"  \"allowManagementFrom\": [\"10.0.0.0/8\"] },"
		"  \"virtual\": { \"1e0f3b10e3\": { \"try\": [\"10.99.0.1/9993\"] } } }";
	size_t bl = strlen(base);
	char buf[512], err[256];
	unsigned seed = 12345;
	int i, ok = 0, bad = 0;

	CHECK_BEGIN("local.conf: 20000 random mutations parse or fail cleanly");
	for (i = 0; i < 20000; i++) {
		struct svc_conf c;
		size_t len = bl;
		int k, r;

		memcpy(buf, base, bl);
		for (k = 0; k < 1 + i % 8; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % len] = (char)(seed >> 20);
		}
		if (i % 5 == 0)
			len = (seed >> 4) % bl;	/* truncated */
		err[0] = 0;
		r = svc_conf_parse(buf, len, &c, err, sizeof(err));
		if (r == 0) {
			ok++;
			CHECK(c.n_static <= SVC_MAX_STATIC && c.n_mgmt <= SVC_MAX_MGMT);
			CHECK(c.primary_port >= -1 && c.primary_port <= 65535);
		} else {
			bad++;
			CHECK(r == -EINVAL && err[0]);
		}
	}
	CHECK(ok > 0 && bad > 0);
	CHECK_END();
}

int main(void)
{
	test_localconf_mutations();
	test_localconf();
	test_addrs();
	test_files();
	test_tapname();
	return CHECK_EXIT();
}
