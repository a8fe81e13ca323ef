/* zerotier-cli - drive a running zerotier-netcon-service / zerotier-one
 * through its local HTTP API (127.0.0.1:PORT, X-ZT1-Auth).
 *
 * Commands are a table of {name, handler, help}; usage is printed from it.
 * Output follows ZeroTier One's CLI ("200 info ADDR VERSION ONLINE", ...);
 * -j prints the API's JSON instead. Any failure is one line on stderr and
 * exit status 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <json-c/json.h>

#define CLI_DEFAULT_HOME "/var/lib/zerotier-one"
#define CLI_DEFAULT_PORT 9993
#define CLI_MAX_RESPONSE (16 * 1024 * 1024)

struct cli {
	const char *home;
	const char *host;
	int port;
	char token[256];
	int json;
	const char *cmd;
};

struct cli_resp {
	int status;
	char *body;
	size_t len;
};

static void cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void cli_die(const char *fmt, ...)
{
	va_list ap;

	fputs("zerotier-cli: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int read_small(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return (int)n;
}

static int cli_connect(struct cli *c)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[16];
	int fd = -1, e = ECONNREFUSED, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", c->port);
	r = getaddrinfo(c->host, port, &hints, &res);
	if (r)
		cli_die("cannot resolve %s: %s", c->host, gai_strerror(r));
	for (ai = res; ai; ai = ai->ai_next) {
		struct timeval tv = { .tv_sec = 30 };

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		cli_die("cannot connect to the service at %s:%d (%s): is the daemon running%s%s?",
			c->host, c->port, strerror(e), c->home ? " with home " : "",
			c->home ? c->home : "");
	return fd;
}

/* cli_request() - one HTTP request, Connection: close; the whole response */
static struct cli_resp cli_request(struct cli *c, const char *method, const char *path,
				   const char *body)
{
	struct cli_resp rsp = { 0 };
	size_t blen = body ? strlen(body) : 0, cap = 65536, len = 0;
	char *head, *buf = malloc(cap + 1), *sep;
	int fd = cli_connect(c), n;

	if (!buf)
		cli_die("out of memory");
	n = asprintf(&head,
		     "%s %s HTTP/1.1\r\nHost: %s\r\nX-ZT1-Auth: %s\r\nConnection: close\r\n"
		     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
		     method, path, c->host, c->token, blen);
	if (n < 0)
		cli_die("out of memory");
	if (send(fd, head, (size_t)n, MSG_NOSIGNAL) != n ||
	    (blen && send(fd, body, blen, MSG_NOSIGNAL) != (ssize_t)blen))
		cli_die("sending to the service failed: %s", strerror(errno));
	free(head);
	for (;;) {
		ssize_t r;

		if (len == cap) {
			if (cap >= CLI_MAX_RESPONSE)
				cli_die("response from the service is too large");
			cap *= 2;
			buf = realloc(buf, cap + 1);
			if (!buf)
				cli_die("out of memory");
		}
		r = recv(fd, buf + len, cap - len, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			cli_die("reading from the service failed: %s", strerror(errno));
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = 0;
	if (len < 12 || strncmp(buf, "HTTP/1.", 7))
		cli_die("malformed response from the service");
	rsp.status = atoi(buf + 9);
	sep = strstr(buf, "\r\n\r\n");
	if (!sep)
		cli_die("malformed response from the service");
	rsp.body = strdup(sep + 4);
	if (!rsp.body)
		cli_die("out of memory");
	rsp.len = len - (size_t)(sep + 4 - buf);
	free(buf);
	return rsp;
}

/* cli_json() - parse (and free) the response body; invalid JSON exits */
static struct json_object *cli_json(struct cli_resp *r)
{
	struct json_object *o = json_tokener_parse(r->body);

	free(r->body);
	r->body = NULL;
	if (!o)
		cli_die("the service answered with invalid JSON");
	return o;
}

/* jstr() - the string member key of o, or dflt */
static const char *jstr(struct json_object *o, const char *key, const char *dflt)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return dflt;
	return json_object_get_string(v);
}

/* jint() - the integer member key of o, or dflt */
static int64_t jint(struct json_object *o, const char *key, int64_t dflt)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return dflt;
	return json_object_get_int64(v);
}

/* cli_check() - non-2xx: one line, exit 1 */
static void cli_check(struct cli *c, const struct cli_resp *r)
{
	struct json_object *o;
	const char *msg = NULL;

	if (r->status >= 200 && r->status < 300)
		return;
	if (r->status == 401)
		cli_die("%d %s: unauthorized: bad or missing auth token (%s%s)", r->status, c->cmd,
			c->home ? c->home : "", c->home ? "/authtoken.secret or -T" : "use -T");
	o = json_tokener_parse(r->body);
	if (o)
		msg = jstr(o, "error", NULL);
	fprintf(stderr, "zerotier-cli: %d %s: %s\n", r->status, c->cmd,
		msg ? msg : r->status == 404 ? "not found" : "request failed");
	json_object_put(o);	/* NULL-safe; LeakSanitizer would turn exit 1 into 23 */
	exit(1);
}

/* print_json() - the response body pretty-printed as ZeroTier One's CLI does */
static void print_json(struct cli_resp *r)
{
	struct json_object *o = cli_json(r);

	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_SPACED |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* check_hex() - s is exactly digits hex digits, or exit with a message naming what */
static void check_hex(const char *what, const char *s, size_t digits)
{
	size_t i;

	if (!s || strlen(s) != digits)
		cli_die("invalid %s '%s' (must be exactly %zu hex digits)", what, s ? s : "",
			digits);
	for (i = 0; i < digits; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			cli_die("invalid %s '%s' (must be exactly %zu hex digits)", what, s,
				digits);
}

/* cli_simple() - a request whose answer is "200 <what> OK" (or, with -j, the
 * JSON the service returned); a non-2xx answer exits via cli_check() */
static int cli_simple(struct cli *c, const char *method, const char *path, const char *body,
		      const char *what)
{
	struct cli_resp r = cli_request(c, method, path, body);

	cli_check(c, &r);
	if (c->json)
		print_json(&r);
	else
		printf("200 %s OK\n", what);
	free(r.body);
	return 0;
}

/* ---- commands ---- */

static int cmd_info(struct cli *c, int argc, char **argv)
{
	struct cli_resp r = cli_request(c, "GET", "/status", NULL);
	struct json_object *o;

	cli_check(c, &r);
	if (c->json) {
		print_json(&r);
		return 0;
	}
	o = cli_json(&r);
	printf("200 info %s %s %s\n", jstr(o, "address", "-"), jstr(o, "version", "-"),
	       json_object_get_boolean(json_object_object_get(o, "online")) ? "ONLINE"
									  : "OFFLINE");
	json_object_put(o);
	return 0;
}

static int cmd_listnetworks(struct cli *c, int argc, char **argv)
{
	struct cli_resp r = cli_request(c, "GET", "/network", NULL);
	struct json_object *arr;
	size_t i, n;

	cli_check(c, &r);
	if (c->json) {
		print_json(&r);
		return 0;
	}
	arr = cli_json(&r);
	printf("200 listnetworks <nwid> <name> <mac> <status> <type> <dev> <ZT assigned ips>\n");
	n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *nw = json_object_array_get_idx(arr, i), *aa;
		char ips[4096] = "";
		const char *name = jstr(nw, "name", "");
		const char *dev = jstr(nw, "portDeviceName", "");
		size_t k, na;

		if (json_object_object_get_ex(nw, "assignedAddresses", &aa)) {
			na = json_object_array_length(aa);
			for (k = 0; k < na; k++) {
				size_t l = strlen(ips);

				snprintf(ips + l, sizeof(ips) - l, "%s%s", l ? "," : "",
					 json_object_get_string(json_object_array_get_idx(aa, k)));
			}
		}
		/* as ZeroTier One prints it: an empty name or device stays empty */
		printf("200 listnetworks %s %s %s %s %s %s %s\n", jstr(nw, "nwid", "-"), name,
		       jstr(nw, "mac", "-"), jstr(nw, "status", "-"), jstr(nw, "type", "-"), dev,
		       ips[0] ? ips : "-");
	}
	json_object_put(arr);
	return 0;
}

/* pick_path() - a peer's preferred path, else its first (live, if
 * skip_expired) one; NULL when it has none */
static struct json_object *pick_path(struct json_object *p, int skip_expired)
{
	struct json_object *paths, *best = NULL;
	size_t i, n;

	if (!json_object_object_get_ex(p, "paths", &paths))
		return NULL;
	n = json_object_array_length(paths);
	for (i = 0; i < n; i++) {
		struct json_object *pp = json_object_array_get_idx(paths, i);

		if (skip_expired && json_object_get_boolean(json_object_object_get(pp, "expired")))
			continue;
		if (!best || json_object_get_boolean(json_object_object_get(pp, "preferred")))
			best = pp;
	}
	return best;
}

static int64_t now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* peer_array() - GET /peer for listpeers and peers. Return: the peers to
 * print (the caller puts it), or NULL when --json already printed them */
static struct json_object *peer_array(struct cli *c)
{
	struct cli_resp r = cli_request(c, "GET", "/peer", NULL);

	cli_check(c, &r);
	if (c->json) {
		print_json(&r);
		return NULL;
	}
	return cli_json(&r);
}

static int cmd_listpeers(struct cli *c, int argc, char **argv)
{
	struct json_object *arr = peer_array(c);
	int64_t now = now_ms();
	size_t i, n;

	if (!arr)
		return 0;
	printf("200 listpeers <ztaddr> <path> <latency> <version> <role>\n");
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(arr, i);
		struct json_object *best = pick_path(p, 1);
		const char *ver = jstr(p, "version", "-");
		char path[256] = "-";

		if (best)	/* "IP/PORT;SINCE_TX;SINCE_RX" */
			snprintf(path, sizeof(path), "%s;%lld;%lld", jstr(best, "address", "?"),
				 (long long)(now - jint(best, "lastSend", now)),
				 (long long)(now - jint(best, "lastReceive", now)));
		printf("200 listpeers %s %s %lld %s %s\n", jstr(p, "address", "-"), path,
		       (long long)jint(p, "latency", -1),
		       jint(p, "versionMajor", -1) < 0 ? "-" : ver, jstr(p, "role", "-"));
	}
	json_object_put(arr);
	return 0;
}

static int cmd_peers(struct cli *c, int argc, char **argv)
{
	struct json_object *arr = peer_array(c);
	int64_t now = now_ms();
	size_t i, n;

	if (!arr)
		return 0;
	printf("200 peers\n<ztaddr>   <ver>  <role> <lat> <link>   <lastTX> <lastRX> <path>\n");
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(arr, i), *pp = pick_path(p, 0);

		printf("%s %-6s %-6s %5lld %-8s %8lld %8lld   %s\n", jstr(p, "address", "-"),
		       jint(p, "versionMajor", -1) < 0 ? "-" : jstr(p, "version", "-"),
		       jstr(p, "role", "-"), (long long)jint(p, "latency", -1),
		       pp ? "DIRECT" : "RELAY",
		       pp ? (long long)(now - jint(pp, "lastSend", now)) : -1LL,
		       pp ? (long long)(now - jint(pp, "lastReceive", now)) : -1LL,
		       pp ? jstr(pp, "address", "-") : "");
	}
	json_object_put(arr);
	return 0;
}

static int cmd_join(struct cli *c, int argc, char **argv)
{
	char path[64];

	if (argc < 1)
		cli_die("usage: join <network id>");
	check_hex("network id", argv[0], 16);
	snprintf(path, sizeof(path), "/network/%s", argv[0]);
	return cli_simple(c, "POST", path, "{}", "join");
}

static int cmd_leave(struct cli *c, int argc, char **argv)
{
	char path[64];

	if (argc < 1)
		cli_die("usage: leave <network id>");
	check_hex("network id", argv[0], 16);
	snprintf(path, sizeof(path), "/network/%s", argv[0]);
	return cli_simple(c, "DELETE", path, NULL, "leave");
}

static int cmd_listmoons(struct cli *c, int argc, char **argv)
{
	struct cli_resp r = cli_request(c, "GET", "/moon", NULL);

	cli_check(c, &r);
	print_json(&r);	/* ZeroTier One prints the JSON here too */
	return 0;
}

static int cmd_orbit(struct cli *c, int argc, char **argv)
{
	char path[64], body[96];

	if (argc < 2)
		cli_die("usage: orbit <world id> <seed>");
	check_hex("world id", argv[0], 16);
	check_hex("seed address", argv[1], 10);
	snprintf(path, sizeof(path), "/moon/%s", argv[0]);
	snprintf(body, sizeof(body), "{\"seed\":\"%s\"}", argv[1]);
	return cli_simple(c, "POST", path, body, "orbit");
}

static int cmd_deorbit(struct cli *c, int argc, char **argv)
{
	char path[64];

	if (argc < 1)
		cli_die("usage: deorbit <world id>");
	check_hex("world id", argv[0], 16);
	snprintf(path, sizeof(path), "/moon/%s", argv[0]);
	return cli_simple(c, "DELETE", path, NULL, "deorbit");
}

static int cmd_set(struct cli *c, int argc, char **argv)
{
	static const char *const keys[] = { "allowManaged", "allowGlobal", "allowDefault",
					    "allowDNS" };
	char path[64], body[128], key[32];
	const char *eq, *val;
	struct cli_resp r;
	size_t i, kl;
	int on = -1;

	if (argc < 2)
		cli_die("usage: set <network id> <setting>=<0|1>");
	check_hex("network id", argv[0], 16);
	eq = strchr(argv[1], '=');
	if (eq) {
		kl = (size_t)(eq - argv[1]);
		val = eq + 1;
	} else if (argc >= 3) {
		kl = strlen(argv[1]);
		val = argv[2];
	} else {
		cli_die("usage: set <network id> <setting>=<0|1>");
	}
	if (kl >= sizeof(key))
		cli_die("unknown setting '%s'", argv[1]);
	memcpy(key, argv[1], kl);
	key[kl] = 0;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i], key))
			break;
	if (i == sizeof(keys) / sizeof(keys[0]))
		cli_die("unknown setting '%s' (allowManaged, allowGlobal, allowDefault, allowDNS)",
			key);
	if (!strcmp(val, "1") || !strcasecmp(val, "true"))
		on = 1;
	else if (!strcmp(val, "0") || !strcasecmp(val, "false"))
		on = 0;
	else
		cli_die("setting %s needs 0 or 1, not '%s'", key, val);
	snprintf(path, sizeof(path), "/network/%s", argv[0]);
	/* only change networks we are in: POST would join */
	r = cli_request(c, "GET", path, NULL);
	cli_check(c, &r);
	free(r.body);
	snprintf(body, sizeof(body), "{\"%s\":%s}", key, on ? "true" : "false");
	r = cli_request(c, "POST", path, body);
	cli_check(c, &r);
	print_json(&r);	/* ZeroTier One prints the updated network */
	return 0;
}

static int cmd_get(struct cli *c, int argc, char **argv)
{
	char path[64];
	struct cli_resp r;
	struct json_object *o, *v;

	if (argc < 2)
		cli_die("usage: get <network id> <field>");
	check_hex("network id", argv[0], 16);
	snprintf(path, sizeof(path), "/network/%s", argv[0]);
	r = cli_request(c, "GET", path, NULL);
	cli_check(c, &r);
	o = cli_json(&r);
	if (!json_object_object_get_ex(o, argv[1], &v))
		cli_die("network has no field '%s'", argv[1]);
	printf("%s\n", json_object_is_type(v, json_type_string)
			       ? json_object_get_string(v)
			       : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return 0;
}

struct cli_cmd {
	const char *name;
	int (*handler)(struct cli *c, int argc, char **argv);
	const char *args;
	const char *help;
};

static const struct cli_cmd cli_cmds[] = {
	{ "info", cmd_info, "", "node address, version and ONLINE/OFFLINE" },
	{ "listnetworks", cmd_listnetworks, "", "joined networks" },
	{ "listpeers", cmd_listpeers, "", "known peers" },
	{ "peers", cmd_peers, "", "known peers as a table" },
	{ "join", cmd_join, "<network>", "join a network (16 hex digits)" },
	{ "leave", cmd_leave, "<network>", "leave a network" },
	{ "set", cmd_set, "<network> <setting>=<0|1>",
	  "allowManaged, allowGlobal, allowDefault or allowDNS" },
	{ "get", cmd_get, "<network> <field>", "one field of a network's JSON" },
	{ "listmoons", cmd_listmoons, "", "moons we orbit" },
	{ "orbit", cmd_orbit, "<world id> <seed>", "orbit a moon, asking root <seed> for it" },
	{ "deorbit", cmd_deorbit, "<world id>", "stop orbiting a moon" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: zerotier-cli [-D<home>] [-p<port>] [-T<token>] [-H<host>] [-j] [-h] "
		   "<command> [args]\n"
		   "  -D<home>   daemon home (default %s): port and token come from it\n"
		   "  -p<port>   API port (default: HOME/zerotier-one.port, else %d)\n"
		   "  -T<token>  auth token (default: HOME/authtoken.secret)\n"
		   "  -H<host>   API address (default 127.0.0.1)\n"
		   "  -j         print the API's JSON\n"
		   "commands:\n",
		CLI_DEFAULT_HOME, CLI_DEFAULT_PORT);
	for (i = 0; i < sizeof(cli_cmds) / sizeof(cli_cmds[0]); i++) {
		char a[64];

		snprintf(a, sizeof(a), "%s %s", cli_cmds[i].name, cli_cmds[i].args);
		fprintf(f, "  %-34s %s\n", a, cli_cmds[i].help);
	}
}

static const char *optval(int argc, char **argv, int *i)
{
	if (argv[*i][2])
		return argv[*i] + 2;
	if (*i + 1 < argc)
		return argv[++*i];
	usage(stderr);
	exit(1);
}

int main(int argc, char **argv)
{
	struct cli c;
	const char *token = NULL;
	int i, port = -1;
	size_t k;

	memset(&c, 0, sizeof(c));
	c.host = "127.0.0.1";
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		switch (argv[i][1]) {
		case 'D':
			c.home = optval(argc, argv, &i);
			break;
		case 'p':
			port = atoi(optval(argc, argv, &i));
			if (port <= 0 || port > 65535)
				cli_die("bad port '%s'", argv[i]);
			break;
		case 'T':
			token = optval(argc, argv, &i);
			break;
		case 'H':
			c.host = optval(argc, argv, &i);
			break;
		case 'j':
			c.json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'v':
			printf("1.14.1\n");
			return 0;
		default:
			fprintf(stderr, "zerotier-cli: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 1;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 1;
	}
	c.cmd = argv[i];
	for (k = 0; k < sizeof(cli_cmds) / sizeof(cli_cmds[0]); k++)
		if (!strcmp(cli_cmds[k].name, c.cmd))
			break;
	if (k == sizeof(cli_cmds) / sizeof(cli_cmds[0])) {
		fprintf(stderr, "zerotier-cli: unknown command '%s'\n", c.cmd);
		usage(stderr);
		return 1;
	}
	{
		const char *home = c.home ? c.home : CLI_DEFAULT_HOME;
		char p[1024], buf[64];
		int r;

		if (port < 0) {
			snprintf(p, sizeof(p), "%s/zerotier-one.port", home);
			port = read_small(p, buf, sizeof(buf)) > 0 ? atoi(buf) : CLI_DEFAULT_PORT;
			if (port <= 0 || port > 65535)
				port = CLI_DEFAULT_PORT;
		}
		if (token) {
			snprintf(c.token, sizeof(c.token), "%s", token);
		} else {
			snprintf(p, sizeof(p), "%s/authtoken.secret", home);
			r = read_small(p, c.token, sizeof(c.token));
			if (r <= 0)
				cli_die("cannot read %s: %s (is -D right? use -T<token> otherwise)",
					p, r == 0 ? "empty file" : strerror(-r));
		}
		if (!c.home)
			c.home = home;
	}
	c.port = port;
	return cli_cmds[k].handler(&c, argc - i - 1, argv + i + 1);
}
