/* zerotier-idtool - identity and moon tool, command-compatible with the
 * official one: generate, validate, getpublic, sign, verify, initmoon,
 * genmoon. A table of {name, handler, args, help} drives dispatch and usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <json-c/json.h>
#include <sodium.h>

#include "zt_node.h"
#include "node/identity.h"
#include "node/inaddr.h"
#include "node/world.h"

struct idtool_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	int min_args;
	const char *args;
};

static const struct idtool_cmd idtool_cmds[];

/* idtool_usage() - version line and the command table */
static void idtool_usage(FILE *out, const char *pn)
{
	fprintf(out, "zerotier-idtool version %d.%d.%d (netcon)\n", ZT_VERSION_MAJOR, ZT_VERSION_MINOR,
		ZT_VERSION_REVISION);
	fprintf(out, "Usage: %s <command> [<args>]\n\nCommands:\n", pn);
	for (const struct idtool_cmd *c = idtool_cmds; c->name; c++)
		fprintf(out, "  %s %s\n", c->name, c->args);
}

/* idtool_read_file() - whole file, NUL-terminated; caller frees. NULL on error */
static char *idtool_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t r = fread(buf + n, 1, 4096, f);
		n += r;
		if (r < 4096)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	if (!buf && !(buf = malloc(1)))
		return NULL;
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

/* idtool_write_file() - write a file with the given mode (created, or
 * narrowed to it if it existed). Return 0 or -1. */
static int idtool_write_file_mode(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || fchmod(fd, mode) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	FILE *f = fdopen(fd, "wb");
	if (!f) {
		close(fd);
		return -1;
	}
	int ok = fwrite(data, 1, len, f) == len;
	ok &= fclose(f) == 0;
	return ok ? 0 : -1;
}

/* idtool_write_file() - a public file (0644) */
static int idtool_write_file(const char *path, const void *data, size_t len)
{
	return idtool_write_file_mode(path, data, len, 0644);
}

/* idtool_get_identity() - a literal "addr:0:..." argument or a file holding one */
static int idtool_get_identity(const char *arg, struct zt_identity *id)
{
	if (strlen(arg) > 32 && arg[10] == ':')
		return zt_identity_from_string(id, arg);
	char *s = idtool_read_file(arg, NULL);
	if (!s)
		return -ENOENT;
	int rc = zt_identity_from_string(id, s);
	free(s);
	return rc;
}

/* idtool_unhex() - lenient hex decode (stops at the first non-hex pair) */
static size_t idtool_unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	while (n < cap) {
		while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
			s++;
		unsigned v;
		if (!s[0] || !s[1] || sscanf(s, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", s[0]) ||
		    !strchr("0123456789abcdefABCDEF", s[1]))
			break;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void idtool_hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = 0;
}

static int cmd_generate(int argc, char **argv)
{
	struct zt_identity id;
	char s[ZT_IDENTITY_STRING_MAX];
	if (zt_identity_generate(&id) < 0) {
		fprintf(stderr, "identity generation failed\n");
		return 1;
	}
	int l = zt_identity_to_string(&id, 1, s, sizeof(s));
	if (argc < 3) {
		printf("%s", s);
		return 0;
	}
	/* the secret is 0600: the daemon refuses a readable identity.secret */
	if (idtool_write_file_mode(argv[2], s, (size_t)l, 0600) < 0) {
		fprintf(stderr, "Error writing to %s\n", argv[2]);
		return 1;
	}
	printf("%s written\n", argv[2]);
	if (argc >= 4) {
		l = zt_identity_to_string(&id, 0, s, sizeof(s));
		if (idtool_write_file(argv[3], s, (size_t)l) < 0) {
			fprintf(stderr, "Error writing to %s\n", argv[3]);
			return 1;
		}
		printf("%s written\n", argv[3]);
	}
	return 0;
}

static int cmd_validate(int argc, char **argv)
{
	struct zt_identity id;
	(void)argc;
	if (idtool_get_identity(argv[2], &id) < 0) {
		fprintf(stderr, "Identity argument invalid or file unreadable: %s\n", argv[2]);
		return 1;
	}
	if (!zt_identity_validate(&id)) {
		fprintf(stderr, "%s FAILED validation.\n", argv[2]);
		return 1;
	}
	/* a secret identity must also hold the private halves of its keys */
	if (id.has_private) {
		uint8_t pub[64], sk[64];
		crypto_scalarmult_base(pub, id.priv);
		crypto_sign_seed_keypair(pub + 32, sk, id.priv + 32);
		if (memcmp(pub, id.pub, 64) != 0) {
			fprintf(stderr, "%s FAILED validation.\n", argv[2]);
			return 1;
		}
	}
	printf("%s is a valid identity\n", argv[2]);
	return 0;
}

static int cmd_getpublic(int argc, char **argv)
{
	struct zt_identity id;
	char s[ZT_IDENTITY_STRING_MAX];
	(void)argc;
	if (idtool_get_identity(argv[2], &id) < 0) {
		fprintf(stderr, "Identity argument invalid or file unreadable: %s\n", argv[2]);
		return 1;
	}
	zt_identity_to_string(&id, 0, s, sizeof(s));
	printf("%s", s);
	return 0;
}

static int cmd_sign(int argc, char **argv)
{
	struct zt_identity id;
	uint8_t sig[ZT_SIGNATURE_LEN];
	char hex[2 * ZT_SIGNATURE_LEN + 1];
	size_t len;
	(void)argc;
	if (idtool_get_identity(argv[2], &id) < 0) {
		fprintf(stderr, "Identity argument invalid or file unreadable: %s\n", argv[2]);
		return 1;
	}
	if (!id.has_private) {
		fprintf(stderr, "%s does not contain a private key (must use private to sign)\n", argv[2]);
		return 1;
	}
	char *data = idtool_read_file(argv[3], &len);
	if (!data) {
		fprintf(stderr, "%s is not readable\n", argv[3]);
		return 1;
	}
	zt_identity_sign(&id, data, len, sig);
	free(data);
	idtool_hex(sig, sizeof(sig), hex);
	printf("%s", hex);
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	struct zt_identity id;
	uint8_t sig[4096];
	size_t len, sl;
	int ok;
	(void)argc;
	if (idtool_get_identity(argv[2], &id) < 0) {
		fprintf(stderr, "Identity argument invalid or file unreadable: %s\n", argv[2]);
		return 1;
	}
	char *data = idtool_read_file(argv[3], &len);
	if (!data) {
		fprintf(stderr, "%s is not readable\n", argv[3]);
		return 1;
	}
	sl = idtool_unhex(argv[4], sig, sizeof(sig));
	ok = sl > 5 && zt_identity_verify(&id, data, len, sig, sl);
	if (!ok) {
		/* the signature argument may also name a file holding the hex */
		char *sf = idtool_read_file(argv[4], NULL);
		if (sf) {
			sl = idtool_unhex(sf, sig, sizeof(sig));
			ok = sl > 5 && zt_identity_verify(&id, data, len, sig, sl);
			free(sf);
		}
	}
	free(data);
	if (!ok) {
		fprintf(stderr, "%s signature check FAILED\n", argv[3]);
		return 1;
	}
	printf("%s signature valid\n", argv[3]);
	return 0;
}

static int cmd_initmoon(int argc, char **argv)
{
	struct zt_identity id;
	uint8_t pub[64], priv[64], sk[64];
	char pubhex[129], privhex[129], ids[ZT_IDENTITY_STRING_MAX];
	(void)argc;
	if (idtool_get_identity(argv[2], &id) < 0) {
		fprintf(stderr, "%s is not a valid identity\n", argv[2]);
		return 1;
	}
	/* a fresh C25519 signing pair (X25519 secret || Ed25519 seed) */
	randombytes_buf(priv, 64);
	crypto_scalarmult_base(pub, priv);
	crypto_sign_seed_keypair(pub + 32, sk, priv + 32);
	idtool_hex(pub, 64, pubhex);
	idtool_hex(priv, 64, privhex);
	zt_identity_to_string(&id, 0, ids, sizeof(ids));
	/* same layout as the official tool: keys sorted, two-space indent */
	printf("{\n"
	       "  \"id\": \"%010llx\",\n"
	       "  \"objtype\": \"world\",\n"
	       "  \"roots\": [\n"
	       "    {\n"
	       "      \"identity\": \"%s\",\n"
	       "      \"stableEndpoints\": []\n"
	       "    }\n"
	       "  ],\n"
	       "  \"signingKey\": \"%s\",\n"
	       "  \"signingKey_SECRET\": \"%s\",\n"
	       "  \"updatesMustBeSignedBy\": \"%s\",\n"
	       "  \"worldType\": \"moon\"\n"
	       "}\n",
	       (unsigned long long)id.address, ids, pubhex, privhex, pubhex);
	sodium_memzero(priv, sizeof(priv));
	sodium_memzero(sk, sizeof(sk));
	return 0;
}

/* idtool_inaddr_less() - the official InetAddress ordering: family, then
 * port, then address, compared as the raw in-memory values */
static int idtool_inaddr_less(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return a->ss_family < b->ss_family;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		if (x->sin_port != y->sin_port)
			return x->sin_port < y->sin_port;
		return x->sin_addr.s_addr < y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		if (x->sin6_port != y->sin6_port)
			return x->sin6_port < y->sin6_port;
		return memcmp(&x->sin6_addr, &y->sin6_addr, 16) < 0;
	}
	return 0;
}

static const char *idtool_jstr(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static int cmd_genmoon(int argc, char **argv)
{
	struct zt_world w;
	struct zt_identity signer;
	uint8_t out[ZT_WORLD_MAX_SERIALIZED];
	char fn[64];
	struct timeval tv;
	(void)argc;
	char *text = idtool_read_file(argv[2], NULL);
	if (!text) {
		fprintf(stderr, "cannot read %s\n", argv[2]);
		return 1;
	}
	struct json_object *mj = json_tokener_parse(text);
	free(text);
	if (!mj || !json_object_is_type(mj, json_type_object)) {
		fprintf(stderr, "cannot parse %s\n", argv[2]);
		json_object_put(mj);
		return 1;
	}
	memset(&w, 0, sizeof(w));
	memset(&signer, 0, sizeof(signer));
	w.id = strtoull(idtool_jstr(mj, "id"), NULL, 16);
	if (!w.id) {
		fprintf(stderr, "ID in %s is invalid\n", argv[2]);
		json_object_put(mj);
		return 1;
	}
	const char *wt = idtool_jstr(mj, "worldType");
	if (!strcmp(wt, "moon")) {
		w.type = ZT_WORLD_TYPE_MOON;
	} else if (!strcmp(wt, "planet")) {
		w.type = ZT_WORLD_TYPE_PLANET;
	} else {
		fprintf(stderr, "invalid worldType\n");
		json_object_put(mj);
		return 1;
	}
	idtool_unhex(idtool_jstr(mj, "signingKey"), signer.pub, 64);
	idtool_unhex(idtool_jstr(mj, "signingKey_SECRET"), signer.priv, 64);
	idtool_unhex(idtool_jstr(mj, "updatesMustBeSignedBy"), w.update_key, 64);
	signer.has_private = 1;

	struct json_object *roots;
	if (json_object_object_get_ex(mj, "roots", &roots) && json_object_is_type(roots, json_type_array)) {
		size_t nr = json_object_array_length(roots);
		for (size_t i = 0; i < nr; i++) {
			struct json_object *r = json_object_array_get_idx(roots, i), *eps;
			if (!json_object_is_type(r, json_type_object))
				continue;
			if (w.n_roots >= ZT_WORLD_MAX_ROOTS) {
				fprintf(stderr, "too many roots (max %d)\n", ZT_WORLD_MAX_ROOTS);
				json_object_put(mj);
				return 1;
			}
			struct zt_world_root *root = &w.roots[w.n_roots];
			memset(root, 0, sizeof(*root));
			if (zt_identity_from_string(&root->id, idtool_jstr(r, "identity")) < 0) {
				fprintf(stderr, "root %zu: invalid identity\n", i);
				json_object_put(mj);
				return 1;
			}
			root->id.has_private = 0;
			memset(root->id.priv, 0, 64);
			if (json_object_object_get_ex(r, "stableEndpoints", &eps) &&
			    json_object_is_type(eps, json_type_array)) {
				size_t ne = json_object_array_length(eps);
				for (size_t k = 0; k < ne; k++) {
					struct json_object *e = json_object_array_get_idx(eps, k);
					struct sockaddr_storage a;
					if (!json_object_is_type(e, json_type_string) ||
					    zt_inaddr_parse(&a, json_object_get_string(e)) < 0)
						continue;
					if (root->n_endpoints < ZT_WORLD_MAX_ENDPOINTS)
						root->endpoints[root->n_endpoints++] = a;
				}
				/* sorted like the official tool */
				for (unsigned x = 1; x < root->n_endpoints; x++)
					for (unsigned y = x; y > 0 && idtool_inaddr_less(&root->endpoints[y],
											 &root->endpoints[y - 1]); y--) {
						struct sockaddr_storage t = root->endpoints[y];
						root->endpoints[y] = root->endpoints[y - 1];
						root->endpoints[y - 1] = t;
					}
			}
			w.n_roots++;
		}
	}
	json_object_put(mj);
	for (unsigned x = 1; x < w.n_roots; x++)
		for (unsigned y = x; y > 0 && w.roots[y].id.address < w.roots[y - 1].id.address; y--) {
			struct zt_world_root t = w.roots[y];
			w.roots[y] = w.roots[y - 1];
			w.roots[y - 1] = t;
		}
	gettimeofday(&tv, NULL);
	w.ts = (uint64_t)tv.tv_sec * 1000ULL + (uint64_t)tv.tv_usec / 1000ULL;
	if (getenv("ZT_IDTOOL_TIMESTAMP"))	/* reproducible output for tests */
		w.ts = strtoull(getenv("ZT_IDTOOL_TIMESTAMP"), NULL, 10);
	if (zt_world_sign(&w, &signer) < 0) {
		fprintf(stderr, "signing failed\n");
		return 1;
	}
	sodium_memzero(&signer, sizeof(signer));
	int l = zt_world_serialize(&w, 0, out, sizeof(out));
	if (l < 0) {
		fprintf(stderr, "world too large\n");
		return 1;
	}
	snprintf(fn, sizeof(fn), "%.16llx.moon", (unsigned long long)w.id);
	if (idtool_write_file(fn, out, (size_t)l) < 0) {
		fprintf(stderr, "Error writing to %s\n", fn);
		return 1;
	}
	printf("wrote %s (signed world with timestamp %llu)\n", fn, (unsigned long long)w.ts);
	return 0;
}

static const struct idtool_cmd idtool_cmds[] = {
	{ "generate", cmd_generate, 0, "[<identity.secret>] [<identity.public>]" },
	{ "validate", cmd_validate, 1, "<identity.secret/public>" },
	{ "getpublic", cmd_getpublic, 1, "<identity.secret>" },
	{ "sign", cmd_sign, 2, "<identity.secret> <file>" },
	{ "verify", cmd_verify, 3, "<identity.secret/public> <file> <signature>" },
	{ "initmoon", cmd_initmoon, 1, "<identity.public of first seed>" },
	{ "genmoon", cmd_genmoon, 1, "<moon json>" },
	{ NULL, NULL, 0, NULL },
};

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))) {
		idtool_usage(stdout, argv[0]);
		return 0;
	}
	if (sodium_init() < 0)
		return 1;
	if (argc >= 2)
		for (const struct idtool_cmd *c = idtool_cmds; c->name; c++)
			if (!strcmp(argv[1], c->name)) {
				if (argc - 2 < c->min_args)
					break;
				return c->fn(argc, argv);
			}
	idtool_usage(stderr, argv[0]);
	return 1;
}
