// SPDX-License-Identifier: GPL-2.0-only
/*
 * Arguments from the tables: parsing, validation of each type (once, here)
 * and the help text, all from the same struct arg_spec declarations.
 * Nothing here touches kernel state; devices are checked for existence
 * by args_check_devices() after the network namespace is entered.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "xdpctl.h"

int global_opt(struct ctx *c, int argc, char **argv, int *i);

static bool is_end(const struct arg_spec *s)
{
	return !s->name && !s->metavar;
}

static bool is_option(const struct arg_spec *s)
{
	return s->name && s->name[0] == '-';
}

static bool is_keyword(const struct arg_spec *s)
{
	return s->name && s->name[0] != '-';
}

/* How an argument reads in a usage line: "ADDR", "dev VETH", "--mode native|generic". */
static void spec_words(const struct arg_spec *s, char *buf, size_t len)
{
	char meta[128] = "";
	size_t o = 0;

	if (s->type == ARG_ENUM && s->choices && !s->metavar) {
		const char *const *ch;

		for (ch = s->choices; *ch && o < sizeof(meta); ch++)
			o += snprintf(meta + o, sizeof(meta) - o, "%s%s", ch == s->choices ? "" : "|", *ch);
	} else if (s->metavar) {
		snprintf(meta, sizeof(meta), "%s", s->metavar);
	}
	if (!s->name)
		snprintf(buf, len, "%s", meta);
	else if (s->type == ARG_FLAG)
		snprintf(buf, len, "%s", s->name);
	else
		snprintf(buf, len, "%s %s", s->name, meta);
}

static void usage_line(FILE *f, const char *path, const struct cmd *cmd)
{
	const struct arg_spec *s;

	fprintf(f, "xdpctl %s", path);
	for (s = cmd->args; s && !is_end(s); s++) {
		char w[160];

		spec_words(s, w, sizeof(w));
		if (s->group && s != cmd->args && s[-1].group == s->group)
			continue; /* printed with the first of its group */
		if (s->group) {
			const struct arg_spec *g;

			fputs(s->required ? " (" : " [", f);
			for (g = s; !is_end(g) && g->group == s->group; g++) {
				spec_words(g, w, sizeof(w));
				fprintf(f, "%s%s", g == s ? "" : " | ", w);
			}
			fputs(s->required ? ")" : "]", f);
		} else if (s->required) {
			fprintf(f, " %s", w);
		} else {
			fprintf(f, " [%s]", w);
		}
	}
	fputc('\n', f);
}

void help_cmd(FILE *f, const char *path, const struct cmd *cmd)
{
	const struct arg_spec *s;

	fputs("Usage: ", f);
	usage_line(f, path, cmd);
	fprintf(f, "\n%s\n", cmd->summary);
	if (cmd->details)
		fprintf(f, "\n%s\n", cmd->details);
	if (cmd->args && !is_end(cmd->args)) {
		fputc('\n', f);
		for (s = cmd->args; !is_end(s); s++) {
			char w[160];

			spec_words(s, w, sizeof(w));
			fprintf(f, "  %-30s %s\n", w, s->help);
		}
	}
	if (cmd->alias)
		fprintf(f, "\nAlias: %s\n", cmd->alias);
}

void help_group(FILE *f, const char *path, const struct cmd *group)
{
	const struct cmd *sub;

	fprintf(f, "Usage:\n");
	for (sub = group->sub; sub->name; sub++) {
		char p[128];

		snprintf(p, sizeof(p), "%s %s", path, sub->name);
		fputs("  ", f);
		usage_line(f, p, sub);
	}
	fprintf(f, "\n%s\n\n", group->summary);
	for (sub = group->sub; sub->name; sub++)
		fprintf(f, "  %-10s %s\n", sub->name, sub->summary);
	fprintf(f, "\nRun 'xdpctl help %s COMMAND' for the arguments of one.\n", path);
}

const char *arg_choice(const struct arg_spec *spec, const struct arg_val *v)
{
	return v->set && spec->choices ? spec->choices[v->choice] : NULL;
}

static int bad_value(struct ctx *c, const struct arg_spec *s, const char *word)
{
	const char *name = s->name ? s->name : s->metavar;

	switch (s->type) {
	case ARG_ADDR:
		return fail(c, "%s: not an IPv4 or IPv6 address", word);
	case ARG_MAC:
		return fail(c, "%s: not a MAC address (expected aa:bb:cc:dd:ee:ff)", word);
	case ARG_DEVICE:
	case ARG_DEVNAME:
		return fail(c, "'%s' is not a device name (1 to %d characters, no '/', ':' or spaces)",
			    word, IF_NAMESIZE - 1);
	case ARG_UINT:
		return fail_usage(c, "%s: expected a whole number from %llu to %llu, got '%s'", name,
				  s->min, s->max, word);
	case ARG_CONTAINER:
		return fail(c, "'%s' is not a container name, id or process id", word);
	case ARG_ENUM: {
		char list[256];
		const char *const *ch;
		size_t o = 0;
		int n = 0;

		for (ch = s->choices; *ch; ch++)
			n++;
		for (ch = s->choices; *ch && o < sizeof(list); ch++) {
			long k = ch - s->choices;

			o += snprintf(list + o, sizeof(list) - o, "%s'%s'",
				      !k ? "" : k == n - 1 ? " or " : ", ", *ch);
		}
		return fail_usage(c, "%s: expected %s, got '%s'", name, list, word);
	}
	default:
		return fail_usage(c, "%s: bad value '%s'", name, word);
	}
}

static bool devname_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return false;
	return true;
}

static bool container_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || n >= 128 || !isalnum((unsigned char)s[0]))
		return false;
	for (i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* Check one value by its type and store what it means. @return 0 or 1 (printed). */
static int take_value(struct ctx *c, const struct arg_spec *s, struct arg_val *v, const char *word)
{
	v->str = word;
	switch (s->type) {
	case ARG_FLAG:
		break;
	case ARG_ADDR:
		if (xdpctl_addr_parse(word, &v->addr))
			return bad_value(c, s, word);
		break;
	case ARG_MAC:
		if (xdpctl_mac_parse(word, v->mac))
			return bad_value(c, s, word);
		break;
	case ARG_DEVICE:
	case ARG_DEVNAME:
		if (!devname_ok(word))
			return bad_value(c, s, word);
		break;
	case ARG_ENUM: {
		int i;

		for (i = 0; s->choices[i]; i++)
			if (!strcmp(word, s->choices[i]))
				break;
		if (!s->choices[i])
			return bad_value(c, s, word);
		v->choice = i;
		break;
	}
	case ARG_UINT: {
		char *end;

		errno = 0;
		if (!isdigit((unsigned char)word[0]))
			return bad_value(c, s, word);
		v->u = strtoull(word, &end, 10);
		if (errno || *end || v->u < s->min || v->u > s->max)
			return bad_value(c, s, word);
		break;
	}
	case ARG_STRING:
		if (!*word)
			return fail_usage(c, "%s: empty", s->name ? s->name : s->metavar);
		break;
	case ARG_CONTAINER:
		if (!container_ok(word))
			return bad_value(c, s, word);
		break;
	}
	v->set = true;
	return 0;
}

/*
 * Parse the words after the command name. @return 0, 1 on an error (printed)
 * or 2 when help was asked for ("help" first, -h or --help anywhere).
 */
int args_parse(struct ctx *c, const struct cmd *cmd, int argc, char **argv, struct args *a)
{
	const struct arg_spec *specs = cmd->args, *s;
	bool dashdash = false;
	int i, k, r, npos = 0, nspec = 0;

	memset(a, 0, sizeof(*a));
	for (s = specs; s && !is_end(s); s++)
		nspec++;
	if (argc > 0 && !strcmp(argv[0], "help"))
		return 2;
	for (i = 0; i < argc; i++) {
		const char *w = argv[i], *val = NULL;
		char name[64];

		if (!dashdash && !strcmp(w, "--")) {
			dashdash = true;
			continue;
		}
		if (!dashdash && (!strcmp(w, "-h") || !strcmp(w, "--help")))
			return 2;
		if (!dashdash && w[0] == '-' && w[1]) {
			const char *eq = strchr(w, '=');
			size_t n = eq ? (size_t)(eq - w) : strlen(w);

			r = global_opt(c, argc, argv, &i);
			if (r < 0)
				return 1;
			if (r > 0)
				continue;
			snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1), w);
			for (k = 0; k < nspec; k++)
				if (is_option(&specs[k]) && !strcmp(specs[k].name, name))
					break;
			if (k == nspec)
				return fail_usage(c, "unknown option '%s' for '%s'", name, c->path);
			s = &specs[k];
			if (s->type == ARG_FLAG) {
				if (eq)
					return fail_usage(c, "%s takes no value", s->name);
			} else if (eq) {
				val = eq + 1;
			} else if (i + 1 < argc) {
				val = argv[++i];
			} else {
				return fail_usage(c, "%s needs a value (%s)", s->name,
						  s->metavar ? s->metavar : "see the choices");
			}
		} else {
			for (k = 0; k < nspec; k++)
				if (!dashdash && is_keyword(&specs[k]) && !strcmp(specs[k].name, w))
					break;
			if (k < nspec) {
				s = &specs[k];
				if (i + 1 >= argc)
					return fail_usage(c, "%s needs a value (%s)", s->name, s->metavar);
				val = argv[++i];
			} else {
				int seen = 0;

				for (k = 0; k < nspec; k++)
					if (!specs[k].name && seen++ == npos)
						break;
				if (k == nspec)
					return fail_usage(c, "unexpected argument '%s' for '%s'", w, c->path);
				npos++;
				s = &specs[k];
				val = w;
			}
		}
		if (a->v[k].set)
			return fail_usage(c, "%s given twice", s->name ? s->name : s->metavar);
		r = take_value(c, s, &a->v[k], val ? val : "");
		if (r)
			return r;
	}

	/* required arguments and groups */
	for (k = 0; k < nspec; k++) {
		s = &specs[k];
		if (s->group) {
			int j, given = 0;
			bool need = false;

			if (k > 0 && specs[k - 1].group == s->group)
				continue;
			for (j = k; j < nspec && specs[j].group == s->group; j++) {
				need |= specs[j].required;
				if (a->v[j].set)
					given++;
			}
			if (given > 1) {
				char w1[160], w2[160];

				spec_words(&specs[k], w1, sizeof(w1));
				spec_words(&specs[k + 1], w2, sizeof(w2));
				return fail_usage(c, "give either '%s' or '%s', not both", w1, w2);
			}
			if (need && !given) {
				char w1[160], w2[160];

				spec_words(&specs[k], w1, sizeof(w1));
				spec_words(&specs[k + 1], w2, sizeof(w2));
				return fail_usage(c, "missing '%s' or '%s'", w1, w2);
			}
			continue;
		}
		if (s->required && !a->v[k].set) {
			char w[160];

			spec_words(s, w, sizeof(w));
			return fail_usage(c, "missing %s", w);
		}
	}
	return 0;
}

/* After entering the namespace: every ARG_DEVICE must exist there. */
int args_check_devices(struct ctx *c, const struct cmd *cmd, struct args *a)
{
	const struct arg_spec *s;
	int k = 0;

	for (s = cmd->args; s && !is_end(s); s++, k++) {
		if (s->type != ARG_DEVICE || !a->v[k].set)
			continue;
		a->v[k].ifindex = if_nametoindex(a->v[k].str);
		if (!a->v[k].ifindex) {
			if (c->netns)
				return fail(c, "no such device: %s (in network namespace %s)",
					    a->v[k].str, c->netns);
			return fail(c, "no such device: %s", a->v[k].str);
		}
	}
	return 0;
}
