/* fuzz_localconf.c - libFuzzer target for HOME/local.conf (svc_conf_parse),
 * its IP/PORT and CIDR fields (svc_parse_ipport, svc_parse_cidr,
 * svc_cidr_match) and networks.d/NWID.local.conf (svc_netset_load, through
 * a real file as the daemon reads it).
 *
 * Checks: any input parses or is rejected with a message; what parses is
 * within the table bounds, and every static path formats and parses back to
 * the same address; a parsed CIDR matches its own network address.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>

#include "service/svc.h"
#include "tests/fuzz/fuzz_home.h"

static void fz_check_ipport(const struct sockaddr_storage *ep)
{
	struct sockaddr_storage back;
	char txt[96];

	svc_format_ipport(ep, txt, sizeof(txt));
	if (svc_parse_ipport(txt, &back) != 0)
		abort();
	if (back.ss_family != ep->ss_family)
		abort();
	if (ep->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ep, *b = (const void *)&back;

		if (a->sin_port != b->sin_port || a->sin_addr.s_addr != b->sin_addr.s_addr)
			abort();
	} else if (ep->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ep, *b = (const void *)&back;

		if (a->sin6_port != b->sin6_port || memcmp(&a->sin6_addr, &b->sin6_addr, 16))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct svc_conf c;
	struct svc_cidr cidr;
	struct sockaddr_storage ss;
	struct svc_netset set;
	char err[256], *str, p[128];
	FILE *f;
	int i;

	memset(&c, 0xa5, sizeof(c));
	err[0] = 0;
	if (svc_conf_parse((const char *)data, size, &c, err, sizeof(err)) == 0) {
		if (c.n_static < 0 || c.n_static > SVC_MAX_STATIC || c.n_mgmt < 0 ||
		    c.n_mgmt > SVC_MAX_MGMT || c.primary_port < -1 || c.primary_port > 65535)
			abort();
		for (i = 0; i < c.n_static; i++)
			fz_check_ipport(&c.statics[i].ep);
		for (i = 0; i < c.n_mgmt; i++)
			if (c.mgmt[i].bits > 128)
				abort();
	} else if (!err[0]) {
		abort();	/* a refusal always says why */
	}

	/* the same bytes as one IP/PORT or CIDR string */
	str = malloc(size + 1);
	if (!str)
		return 0;
	memcpy(str, data, size);
	str[size] = 0;
	if (svc_parse_ipport(str, &ss) == 0) {
		fz_check_ipport(&ss);
		(void)svc_addr_is_local_scope(&ss);
	}
	if (svc_parse_cidr(str, &cidr) == 0) {
		if (cidr.bits > (cidr.net.ss_family == AF_INET ? 32u : 128u))
			abort();
		if (!svc_cidr_match(&cidr, &cidr.net))
			abort();
	}
	free(str);

	/* and as networks.d/NWID.local.conf, read from a file like the daemon does */
	if (!fz_home[0]) {
		fz_home_make("fuzz_localconf");
		snprintf(p, sizeof(p), "%s/networks.d", fz_home);
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			abort();
	}
	snprintf(p, sizeof(p), "%s/networks.d/00000000000000ff.local.conf", fz_home);
	f = fopen(p, "wb");
	if (!f)
		abort();
	if (size)
		fwrite(data, 1, size, f);
	fclose(f);
	svc_netset_load(fz_home, 0xff, &set);
	if ((set.allow_managed | set.allow_global | set.allow_default | set.allow_dns) & ~1)
		abort();
	return 0;
}
