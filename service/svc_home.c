/* svc_home.c - the home directory: layout, secrets, small files.
 *
 * Files are written atomically (temporary name, fsync, rename) so a crash
 * never leaves a half identity. Secrets are created 0600 and the daemon
 * refuses to start when an existing one is readable by group or others.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/random.h>

#include "service/svc.h"

/**
 * svc_hex_u64() - parse exactly @digits hex digits (the whole string)
 * @s:		text
 * @digits:	required length (10 for addresses, 16 for network ids)
 * @out:	value
 * Return: 0, or -EINVAL
 */
int svc_hex_u64(const char *s, int digits, uint64_t *out)
{
	uint64_t v = 0;
	int i;

	if (!s || (int)strlen(s) != digits)
		return -EINVAL;
	for (i = 0; i < digits; i++) {
		char c = s[i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EINVAL;
		v = (v << 4) | (uint64_t)d;
	}
	*out = v;
	return 0;
}

/**
 * svc_home_prepare() - create HOME and its subdirectories if missing
 * @home:	home directory
 * @err:	message buffer on failure
 * Return: 0 or -errno
 */
int svc_home_prepare(const char *home, char *err, size_t errlen)
{
	static const char *const sub[] = { "networks.d", "moons.d", "peers.d", "controller.d" };
	char p[1024];
	size_t i;

	if (mkdir(home, 0700) < 0 && errno != EEXIST) {
		int e = errno;

		snprintf(err, errlen, "cannot create home %s: %s", home, strerror(e));
		return -e;
	}
	if (access(home, R_OK | W_OK | X_OK) < 0) {
		int e = errno;

		snprintf(err, errlen, "home %s is not usable: %s", home, strerror(e));
		return -e;
	}
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", home, sub[i]);
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			int e = errno;

			snprintf(err, errlen, "cannot create %s: %s", p, strerror(e));
			return -e;
		}
	}
	return 0;
}

/**
 * svc_home_check_secret_mode() - refuse secrets readable by group or others
 * @path:	file (absent is fine)
 * Return: 0, or -EPERM with @err set
 */
int svc_home_check_secret_mode(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return 0;
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "%s is accessible by group or others (mode %03o); fix with: chmod 600 %s",
			 path, (unsigned)(st.st_mode & 0777), path);
		return -EPERM;
	}
	return 0;
}

/**
 * svc_file_read() - read a whole small file
 * @path:	file
 * @buf:	destination
 * @cap:	capacity
 * Return: bytes read, or -errno (-ENOENT if absent, -EFBIG if larger than cap)
 */
int svc_file_read(const char *path, void *buf, size_t cap)
{
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t r;

		if (got == cap) {
			char extra;

			r = read(fd, &extra, 1);
			close(fd);
			return r > 0 ? -EFBIG : (int)got;
		}
		r = read(fd, (char *)buf + got, cap - got);
		if (r < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	return (int)got;
}

/**
 * svc_file_read_all() - read a file into a NUL-terminated malloc'd buffer
 * @path:	file
 * @max:	refuse files larger than this
 * @len:	length out (may be NULL)
 * Return: buffer (caller frees), or NULL with errno set
 */
char *svc_file_read_all(const char *path, size_t max, size_t *len)
{
	char *buf = malloc(max + 1);
	int r;

	if (!buf)
		return NULL;
	r = svc_file_read(path, buf, max);
	if (r < 0) {
		free(buf);
		errno = -r;
		return NULL;
	}
	buf[r] = 0;
	if (len)
		*len = (size_t)r;
	return buf;
}

/**
 * svc_file_write() - write a file atomically with the given mode
 * @path:	destination
 * @data:	bytes
 * @len:	length
 * @mode:	permission bits (0600 for secrets)
 * Return: 0 or -errno
 */
int svc_file_write(const char *path, const void *data, size_t len, int mode)
{
	char tmp[4200];
	size_t off = 0;
	int fd, e;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, (mode_t)mode) < 0)
		goto fail;
	while (off < len) {
		ssize_t w = write(fd, (const char *)data + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0)
		goto fail;
	close(fd);
	if (rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		return -e;
	}
	return 0;
fail:
	e = errno;
	close(fd);
	unlink(tmp);
	return -e;
}

/**
 * svc_home_authtoken() - read HOME/authtoken.secret, creating it if absent
 * @home:	home directory
 * @tok:	token out (NUL-terminated, whitespace trimmed)
 * @cap:	capacity of @tok
 * Return: 0 or -errno with @err set
 */
int svc_home_authtoken(const char *home, char *tok, size_t cap, char *err, size_t errlen)
{
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	char path[1024], buf[256];
	int r;

	snprintf(path, sizeof(path), "%s/authtoken.secret", home);
	r = svc_home_check_secret_mode(path, err, errlen);
	if (r < 0)
		return r;
	r = svc_file_read(path, buf, sizeof(buf) - 1);
	if (r == -ENOENT) {
		unsigned char rnd[24];
		int i;

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			snprintf(err, errlen, "getrandom failed: %s", strerror(errno));
			return -EIO;
		}
		for (i = 0; i < 24; i++)
			buf[i] = alpha[rnd[i] % (sizeof(alpha) - 1)];
		r = svc_file_write(path, buf, 24, 0600);
		if (r < 0) {
			snprintf(err, errlen, "cannot write %s: %s", path, strerror(-r));
			return r;
		}
		r = 24;
	} else if (r < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-r));
		return r;
	}
	buf[r] = 0;
	while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == '\r' || buf[r - 1] == ' ' ||
			 buf[r - 1] == '\t'))
		buf[--r] = 0;
	if (r == 0 || (size_t)r >= cap) {
		snprintf(err, errlen, "%s is empty or too long", path);
		return -EINVAL;
	}
	memcpy(tok, buf, (size_t)r + 1);
	return 0;
}

/**
 * svc_state_path() - the file that holds one engine state object
 * @home:	home directory
 * @type:	object type
 * @id:		object id (see enum zt_state_type)
 * @out:	path out
 * Return: 0, or -EINVAL for an unknown type
 */
int svc_state_path(const char *home, enum zt_state_type type, const uint64_t id[2], char *out,
		   size_t cap)
{
	switch (type) {
	case ZT_STATE_IDENTITY_PUBLIC:
		snprintf(out, cap, "%s/identity.public", home);
		return 0;
	case ZT_STATE_IDENTITY_SECRET:
		snprintf(out, cap, "%s/identity.secret", home);
		return 0;
	case ZT_STATE_PLANET:
		snprintf(out, cap, "%s/planet", home);
		return 0;
	case ZT_STATE_MOON:
		snprintf(out, cap, "%s/moons.d/%016llx.moon", home, (unsigned long long)id[0]);
		return 0;
	case ZT_STATE_PEER:
		snprintf(out, cap, "%s/peers.d/%010llx.peer", home,
			 (unsigned long long)(id[0] & 0xffffffffffULL));
		return 0;
	case ZT_STATE_NETWORK_CONFIG:
		snprintf(out, cap, "%s/networks.d/%016llx.netconf", home, (unsigned long long)id[0]);
		return 0;
	}
	return -EINVAL;
}
