/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small streaming JSON writer: it places the commas, escapes strings
 * (and replaces bytes that are not UTF-8), and indents when pretty. Each
 * top-level value ends with a newline and a flush, so a stream of values
 * (trace, stats --watch) is one JSON document per line when compact.
 */
#ifndef XDPCTL_CTL_JSON_H
#define XDPCTL_CTL_JSON_H

#include <stdbool.h>
#include <stdio.h>

struct jw;

struct jw *jw_new(FILE *f, bool pretty);
void jw_free(struct jw *w); /* accepts NULL */

void jw_obj_open(struct jw *w);
void jw_obj_close(struct jw *w);
void jw_arr_open(struct jw *w);
void jw_arr_close(struct jw *w);
/* Closes every open object and array (after an error mid-stream). */
void jw_close_all(struct jw *w);
bool jw_at_top(const struct jw *w);

void jw_key(struct jw *w, const char *key);
void jw_str(struct jw *w, const char *s); /* NULL writes null */
void jw_u64(struct jw *w, unsigned long long v);
void jw_i64(struct jw *w, long long v);
void jw_double(struct jw *w, double v); /* NaN and infinities write null */
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);

/* Member shorthands: key then value. */
void jw_kstr(struct jw *w, const char *key, const char *s);
void jw_ku64(struct jw *w, const char *key, unsigned long long v);
void jw_ki64(struct jw *w, const char *key, long long v);
void jw_kdouble(struct jw *w, const char *key, double v);
void jw_kbool(struct jw *w, const char *key, bool v);

#endif /* XDPCTL_CTL_JSON_H */
