/* svc_log.c - one line per event that matters, to stderr or HOME/node.log.
 *
 * The log sink is the only process-global in service/: log lines may come
 * from any module (and from start-up before struct svc exists), and the
 * daemon has exactly one log. It is written from the loop thread only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <sys/time.h>

#include "service/svc.h"

static FILE *svc_log_fp;

/**
 * svc_log_open() - send log lines to a file (append) instead of stderr
 * @path:	file to append to, NULL for stderr
 */
void svc_log_open(const char *path)
{
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "a");
	if (f) {
		setvbuf(f, NULL, _IOLBF, 0);
		svc_log_fp = f;
	}
}

/**
 * svc_log() - print one timestamped line
 * @fmt:	printf format, no trailing newline
 */
void svc_log(const char *fmt, ...)
{
	FILE *f = svc_log_fp ? svc_log_fp : stderr;
	struct timeval tv;
	struct tm tm;
	char ts[32];
	va_list ap;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "%s.%03dZ ", ts, (int)(tv.tv_usec / 1000));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

/**
 * svc_log_close() - close the log file, back to stderr
 */
void svc_log_close(void)
{
	if (svc_log_fp)
		fclose(svc_log_fp);
	svc_log_fp = NULL;
}
