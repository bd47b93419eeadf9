// SPDX-License-Identifier: GPL-2.0-only
/* The streaming JSON writer of xdpctl (see json.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define JW_DEPTH_MAX 32

struct jw {
	FILE *f;
	bool pretty;
	int depth;
	bool after_key;              /* a key was written: the value follows, no comma */
	bool first[JW_DEPTH_MAX];    /* no member written yet at this depth */
	char close[JW_DEPTH_MAX];    /* '}' or ']' */
};

struct jw *jw_new(FILE *f, bool pretty)
{
	struct jw *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->f = f;
	w->pretty = pretty;
	return w;
}

void jw_free(struct jw *w)
{
	if (!w)
		return;
	jw_close_all(w);
	free(w);
}

static void indent(struct jw *w)
{
	int i;

	if (!w->pretty)
		return;
	fputc('\n', w->f);
	for (i = 0; i < w->depth; i++)
		fputs("  ", w->f);
}

/* Before any value or key: comma and indentation as the position needs. */
static void sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->depth)
		return;
	if (!w->first[w->depth - 1])
		fputc(',', w->f);
	w->first[w->depth - 1] = false;
	indent(w);
}

/* After a complete value: at the top level, end the line and flush. */
static void done(struct jw *w)
{
	if (!w->depth) {
		fputc('\n', w->f);
		fflush(w->f);
	}
}

static void open_(struct jw *w, char open, char close)
{
	sep(w);
	fputc(open, w->f);
	if (w->depth < JW_DEPTH_MAX) {
		w->first[w->depth] = true;
		w->close[w->depth] = close;
	}
	w->depth++;
}

static void close_(struct jw *w)
{
	bool empty;

	if (w->depth <= 0)
		return;
	w->depth--;
	empty = w->depth < JW_DEPTH_MAX && w->first[w->depth];
	if (!empty)
		indent(w);
	fputc(w->depth < JW_DEPTH_MAX ? w->close[w->depth] : '}', w->f);
	done(w);
}

void jw_obj_open(struct jw *w) { open_(w, '{', '}'); }
void jw_obj_close(struct jw *w) { close_(w); }
void jw_arr_open(struct jw *w) { open_(w, '[', ']'); }
void jw_arr_close(struct jw *w) { close_(w); }

void jw_close_all(struct jw *w)
{
	w->after_key = false;
	while (w->depth > 0)
		close_(w);
}

bool jw_at_top(const struct jw *w)
{
	return w->depth == 0;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static int utf8_len(const unsigned char *s)
{
	int n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong or surrogate forms */
	if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
		return 0;
	if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
		return 0;
	return n;
}

static void put_string(struct jw *w, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', w->f);
	while (*s) {
		int n;

		switch (*s) {
		case '"': fputs("\\\"", w->f); s++; continue;
		case '\\': fputs("\\\\", w->f); s++; continue;
		case '\n': fputs("\\n", w->f); s++; continue;
		case '\r': fputs("\\r", w->f); s++; continue;
		case '\t': fputs("\\t", w->f); s++; continue;
		default: break;
		}
		if (*s < 0x20 || *s == 0x7f) {
			fprintf(w->f, "\\u%04x", *s);
			s++;
			continue;
		}
		n = utf8_len(s);
		if (!n) {
			fputs("\\ufffd", w->f); /* not UTF-8: the replacement character */
			s++;
			continue;
		}
		fwrite(s, 1, n, w->f);
		s += n;
	}
	fputc('"', w->f);
}

void jw_key(struct jw *w, const char *key)
{
	sep(w);
	put_string(w, key);
	fputs(w->pretty ? ": " : ":", w->f);
	w->after_key = true;
}

void jw_str(struct jw *w, const char *s)
{
	if (!s) {
		jw_null(w);
		return;
	}
	sep(w);
	put_string(w, s);
	done(w);
}

void jw_u64(struct jw *w, unsigned long long v)
{
	sep(w);
	fprintf(w->f, "%llu", v);
	done(w);
}

void jw_i64(struct jw *w, long long v)
{
	sep(w);
	fprintf(w->f, "%lld", v);
	done(w);
}

void jw_double(struct jw *w, double v)
{
	if (!isfinite(v)) {
		jw_null(w);
		return;
	}
	sep(w);
	fprintf(w->f, "%.15g", v);
	done(w);
}

void jw_bool(struct jw *w, bool v)
{
	sep(w);
	fputs(v ? "true" : "false", w->f);
	done(w);
}

void jw_null(struct jw *w)
{
	sep(w);
	fputs("null", w->f);
	done(w);
}

void jw_kstr(struct jw *w, const char *key, const char *s) { jw_key(w, key); jw_str(w, s); }
void jw_ku64(struct jw *w, const char *key, unsigned long long v) { jw_key(w, key); jw_u64(w, v); }
void jw_ki64(struct jw *w, const char *key, long long v) { jw_key(w, key); jw_i64(w, v); }
void jw_kdouble(struct jw *w, const char *key, double v) { jw_key(w, key); jw_double(w, v); }
void jw_kbool(struct jw *w, const char *key, bool v) { jw_key(w, key); jw_bool(w, v); }
