/* main.c - zerotier-netcon-service (NC_NETCON=1) and zerotier-one (NC_NETCON=0).
 *
 * Parses the command line and hands over to svc_run(); everything else
 * lives in service/svc_*.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/svc.h"

#ifndef NC_NETCON
#define NC_NETCON 1
#endif

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"%s %d.%d.%d (%s ports)\n"
		"usage: %s [-d] [-pPORT] [-U] [-h] [HOME]\n"
		"  -d       run in the background (logs to HOME/node.log)\n"
		"  -pPORT   primary UDP port and local API TCP port (default %d, 0 = any)\n"
		"  -U       accepted for compatibility (never needs root%s)\n"
		"  -v       print the version\n"
		"  -h       this help\n"
		"  HOME     home directory (default %s)\n"
		"environment: NC_NO_PLANET=1 never contacts the public roots\n",
		prog, ZT_VERSION_MAJOR, ZT_VERSION_MINOR, ZT_VERSION_REVISION,
		NC_NETCON ? "netcon" : "tap", prog, ZT_DEFAULT_PORT,
		NC_NETCON ? "" : " except for taps", SVC_DEFAULT_HOME);
}

int main(int argc, char **argv)
{
	struct svc_opts o;
	const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	int i;

	memset(&o, 0, sizeof(o));
	o.home = SVC_DEFAULT_HOME;
	o.port = -1;
	o.netcon = NC_NETCON;
	/* name only our own port, so the other one is not linked in */
#if NC_NETCON
	o.port_ops = &svc_port_netcon_ops;
#else
	o.port_ops = &svc_port_tap_ops;
#endif
	o.progname = prog;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || !a[1]) {
			o.home = a;
			continue;
		}
		switch (a[1]) {
		case 'd':
			o.daemonize = 1;
			break;
		case 'p': {
			char *end;
			long p = strtol(a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : ""), &end, 10);

			if (*end || p < 0 || p > 65535 || end == a + 2) {
				fprintf(stderr, "%s: bad port in '%s'\n", prog, a);
				return 1;
			}
			o.port = (int)p;
			break;
		}
		case 'U':
			break;
		case 'v':
			printf("%d.%d.%d\n", ZT_VERSION_MAJOR, ZT_VERSION_MINOR, ZT_VERSION_REVISION);
			return 0;
		case 'h':
			usage(stdout, prog);
			return 0;
		default:
			fprintf(stderr, "%s: unknown option '%s'\n", prog, a);
			usage(stderr, prog);
			return 1;
		}
	}
	return svc_run(&o);
}
