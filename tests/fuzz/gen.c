// SPDX-License-Identifier: GPL-2.0-only
/*
 * Seeded frame generator (see gen.h): builds a well-formed frame byte by
 * byte with correct checksums, then maybe mutates it. A splitmix64 stream
 * drives every choice, so a seed names a sequence of frames.
 */
#include <string.h>

#include "gen.h"

#define ET_IPV4 0x0800
#define ET_IPV6 0x86dd
#define ET_ARP  0x0806

static __u64 next64(struct gen *g)
{
	__u64 z = (g->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static __u32 below(struct gen *g, __u32 n)
{
	return n ? (__u32)(next64(g) % n) : 0;
}

/* True with probability pct/100. */
static bool chance(struct gen *g, __u32 pct)
{
	return below(g, 100) < pct;
}

static void fill_random(struct gen *g, __u8 *p, __u32 n)
{
	__u32 i;

	for (i = 0; i < n; i++)
		p[i] = (__u8)next64(g);
}

static void wr16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static __u16 rd16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static __u32 sum16(__u32 sum, const __u8 *p, __u32 n)
{
	__u32 i;

	for (i = 0; i + 1 < n; i += 2)
		sum += rd16(p + i);
	if (n & 1)
		sum += (__u32)p[n - 1] << 8;
	return sum;
}

static __u16 finish(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

void gen_init(struct gen *g, const struct gen_cfg *cfg, __u64 seed)
{
	memset(g, 0, sizeof(*g));
	g->rng = seed;
	g->cfg = *cfg;
}

static const char *const kind_names[GEN_K_MAX] = {
	"v4-echo", "v4-icmp", "v4-tcp", "v4-udp", "v4-other",
	"v6-echo", "v6-icmp", "v6-tcp", "v6-udp", "v6-other",
	"arp", "l2-other", "random",
};

static const char *const mut_names[GEN_M_MAX] = {
	"none", "trunc", "sweep", "len-big", "len-small", "ihl", "version",
	"flip", "random", "pad",
};

const char *gen_kind_name(unsigned int kind)
{
	return kind < GEN_K_MAX ? kind_names[kind] : "?";
}

const char *gen_mut_name(unsigned int mut)
{
	return mut < GEN_M_MAX ? mut_names[mut] : "?";
}

/* Where the builder put things, for the mutations. */
struct layout {
	__u32 l3;       /* 0: no IP header */
	int family;
	__u32 l3_end;
};

static void pick_addr(struct gen *g, __u8 *out, int family, bool want_src)
{
	const struct xdpctl_addr *pool = want_src ? g->cfg.src : g->cfg.dst;
	int n = want_src ? g->cfg.nsrc : g->cfg.ndst, i, tries;
	__u8 fam = family == 4 ? XDPCTL_AF_INET : XDPCTL_AF_INET6;

	/* Now and then a source no echo reply may go to (the kernel's martians). */
	if (want_src && chance(g, 6)) {
		static const __u8 m4[][4] = { { 0, 0, 0, 0 }, { 0, 1, 2, 3 }, { 127, 0, 0, 1 },
					      { 224, 0, 0, 1 }, { 239, 255, 255, 250 },
					      { 255, 255, 255, 255 }, { 240, 0, 0, 1 } };
		static const __u8 m6[][16] = { { 0 }, { [15] = 1 }, { 0xff, 0x02, [15] = 1 },
					       { 0xfe, 0x80, [15] = 1 } };

		if (family == 4)
			memcpy(out, m4[below(g, sizeof(m4) / sizeof(m4[0]))], 4);
		else
			memcpy(out, m6[below(g, sizeof(m6) / sizeof(m6[0]))], 16);
		return;
	}
	/* Mostly a configured address of the family, else a random miss. */
	if (n && chance(g, want_src ? 45 : 80)) {
		for (tries = 0; tries < 8; tries++) {
			i = below(g, n);
			if (pool[i].family == fam) {
				memcpy(out, pool[i].addr, family == 4 ? 4 : 16);
				return;
			}
		}
	}
	if (family == 4) {
		out[0] = 198;
		out[1] = 18 + below(g, 2);
		out[2] = (__u8)below(g, 256);
		out[3] = (__u8)below(g, 256);
	} else {
		memset(out, 0, 16);
		out[0] = 0x20;
		out[1] = 0x01;
		out[2] = 0x0d;
		out[3] = 0xb8;
		fill_random(g, out + 4, chance(g, 50) ? 2 : 12);
		if (chance(g, 50))
			out[15] = (__u8)below(g, 8);
	}
}

static void pick_dmac(struct gen *g, __u8 *mac)
{
	__u32 r = below(g, 100);

	if (r < 75) {
		memcpy(mac, g->cfg.mac_ours, 6);
	} else if (r < 85) {
		fill_random(g, mac, 6);
		mac[0] &= 0xfe; /* another unicast address */
	} else if (r < 92) {
		memset(mac, 0xff, 6);
	} else if (r < 96) {
		static const __u8 m4[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };

		memcpy(mac, m4, 6);
	} else {
		static const __u8 m6[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };

		memcpy(mac, m6, 6);
	}
}

static __u8 pick_ttl(struct gen *g)
{
	switch (below(g, 10)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return 2;
	case 3:
		return 255;
	default:
		return 64;
	}
}

/* Payload length so that the L3 packet lands near an MTU, or small, or random. */
static __u32 pick_payload(struct gen *g, __u32 hdrs)
{
	__u32 r = below(g, 100), target;

	if (r < 55)
		return below(g, 65);
	if (r < 75 || !g->cfg.nmtu)
		return below(g, 1000);
	target = g->cfg.mtu[below(g, g->cfg.nmtu)] + below(g, 7) - 3;
	return target > hdrs ? target - hdrs : 0;
}

/* One IPv6 extension header of @type at @p, @len bytes, next header @nh. */
static void put_ext(struct gen *g, __u8 *p, __u8 type, __u32 len, __u8 nh)
{
	memset(p, 0, len);
	p[0] = nh;
	if (type == 51) {              /* AH: length in 4-octet units minus 2 */
		p[1] = (__u8)(len / 4 - 2);
		fill_random(g, p + 4, len - 4);
	} else if (type == 44) {       /* fragment: filled by the caller */
		p[1] = 0;
	} else {                       /* hop-by-hop, routing, destination options */
		p[1] = (__u8)(len / 8 - 1);
		if (type == 43) {
			p[2] = 4;      /* segment routing header, mostly segments left 0 */
			p[3] = chance(g, 30) ? (__u8)(1 + below(g, 3)) : 0;
		} else {
			p[2] = 1;      /* PadN over the rest */
			p[3] = (__u8)(len - 4);
		}
	}
}

/*
 * Build a well-formed frame of @kind into @f. Returns the layout, or an
 * empty one for non-IP kinds.
 */
static struct layout build(struct gen *g, struct gen_frame *f, enum gen_kind kind)
{
	struct layout lo = {};
	__u8 *b = f->data;
	__u32 off = 12, ntags = 0, i;
	int family = 0;
	__u8 proto = 0, icmp_type = 0;
	bool frag = false, late = false, mf = false;

	pick_dmac(g, b);
	b[6] = 0x02;
	b[7] = 0x00;
	fill_random(g, b + 8, 4);
	if (chance(g, 4)) /* a group-bit source MAC: broadcast or multicast */
		b[6] = chance(g, 50) ? 0xff : 0x01;
	if (b[6] == 0xff)
		memset(b + 6, 0xff, 6);

	if (kind == GEN_K_RANDOM) {
		f->len = below(g, 200) + (chance(g, 10) ? below(g, 1400) : 0);
		fill_random(g, b, f->len);
		if (chance(g, 50) && f->len >= 6)
			memcpy(b, g->cfg.mac_ours, 6);
		if (chance(g, 50) && f->len >= 14)
			wr16(b + 12, chance(g, 50) ? ET_IPV4 : ET_IPV6);
		return lo;
	}

	/* VLAN tags: mostly none, up to three (one more than the bound). */
	i = below(g, 100);
	ntags = i < 75 ? 0 : i < 86 ? 1 : i < 94 ? 2 : 3;
	for (i = 0; i < ntags; i++) {
		wr16(b + off, chance(g, 60) ? 0x8100 : 0x88a8);
		wr16(b + off + 2, (__u16)below(g, 4096));
		off += 4;
	}

	switch (kind) {
	case GEN_K_ARP:
		wr16(b + off, ET_ARP);
		off += 2;
		wr16(b + off, 1);            /* Ethernet */
		wr16(b + off + 2, ET_IPV4);
		b[off + 4] = 6;
		b[off + 5] = 4;
		wr16(b + off + 6, 1 + below(g, 2));
		memcpy(b + off + 8, b + 6, 6);
		pick_addr(g, b + off + 14, 4, true);
		memset(b + off + 18, 0, 6);
		pick_addr(g, b + off + 24, 4, false);
		f->len = off + 28;
		return lo;
	case GEN_K_L2_OTHER: {
		static const __u16 types[] = { 0x88cc, 0x8847, 0x9000, 0x88e5, 0x0800 - 1, 0x05dc,
					       0x0060, 0x86dc, 0x0801 };

		wr16(b + off, types[below(g, sizeof(types) / sizeof(types[0]))]);
		off += 2;
		i = below(g, 120);
		fill_random(g, b + off, i);
		f->len = off + i;
		return lo;
	}
	case GEN_K_V4_ECHO:
	case GEN_K_V4_ICMP:
	case GEN_K_V4_TCP:
	case GEN_K_V4_UDP:
	case GEN_K_V4_OTHER:
		family = 4;
		break;
	default:
		family = 6;
		break;
	}

	switch (kind) {
	case GEN_K_V4_ECHO:
		proto = 1;
		icmp_type = 8;
		break;
	case GEN_K_V4_ICMP: {
		static const __u8 t[] = { 0, 3, 11, 13, 5 };

		proto = 1;
		icmp_type = t[below(g, sizeof(t))];
		break;
	}
	case GEN_K_V6_ECHO:
		proto = 58;
		icmp_type = 128;
		break;
	case GEN_K_V6_ICMP: {
		static const __u8 t[] = { 129, 135, 136, 1, 2, 3, 8 };

		proto = 58;
		icmp_type = t[below(g, sizeof(t))];
		break;
	}
	case GEN_K_V4_TCP:
	case GEN_K_V6_TCP:
		proto = 6;
		break;
	case GEN_K_V4_UDP:
	case GEN_K_V6_UDP:
		proto = 17;
		break;
	default: {
		/* Other protocols, the other family's ICMP included. */
		static const __u8 p4[] = { 47, 50, 132, 58, 4, 41, 0, 255 };
		static const __u8 p6[] = { 59, 50, 132, 1, 47, 17 };

		proto = family == 4 ? p4[below(g, sizeof(p4))] : p6[below(g, sizeof(p6))];
		if (proto == 58 || proto == 1)
			icmp_type = chance(g, 50) ? 8 : 128;
		break;
	}
	}

	/* Fragments: first or later, about one frame in seven. */
	if (chance(g, 14)) {
		frag = true;
		late = chance(g, 50);
		mf = late ? chance(g, 50) : true;
	}

	wr16(b + off, family == 4 ? ET_IPV4 : ET_IPV6);
	off += 2;
	lo.l3 = off;
	lo.family = family;

	if (family == 4) {
		__u8 *ip = b + off;
		__u32 optlen = chance(g, 25) ? 4 * (1 + below(g, 10)) : 0;
		__u32 hl = 20 + optlen, l4len, pay;
		__u16 fo = 0;

		memset(ip, 0, hl);
		ip[0] = 0x40 | (hl / 4);
		ip[1] = (__u8)below(g, 256) & 0xfc;
		wr16(ip + 4, (__u16)next64(g));
		if (frag) {
			fo = late ? (__u16)(1 + below(g, 0x1ffe)) : 0;
			if (mf)
				fo |= 0x2000;
		} else if (chance(g, 50)) {
			fo = 0x4000; /* DF */
		}
		wr16(ip + 6, fo);
		ip[8] = pick_ttl(g);
		ip[9] = proto;
		pick_addr(g, ip + 12, 4, true);
		pick_addr(g, ip + 16, 4, false);
		/* Options: NOPs, a record-route, an end of list. */
		for (i = 0; i < optlen; i++)
			ip[20 + i] = 1;
		if (optlen >= 8 && chance(g, 50)) {
			ip[20] = 7;
			ip[21] = (__u8)(optlen - 1 > 39 ? 39 : optlen - 1);
			ip[22] = 4;
		}
		if (optlen && chance(g, 30))
			ip[20 + optlen - 1] = 0;

		off += hl;
		l4len = late ? 0 : proto == 6 ? 20 : (proto == 1 || proto == 58 || proto == 17) ? 8 : 0;
		pay = pick_payload(g, hl + l4len);
		if (off + l4len + pay > GEN_MAX_FRAME - 64)
			pay = GEN_MAX_FRAME - 64 - off - l4len;
		memset(b + off, 0, l4len);
		fill_random(g, b + off + l4len, pay);
		wr16(ip + 2, (__u16)(hl + l4len + pay));
		lo.l3_end = off + l4len + pay;
	} else {
		__u8 *ip6 = b + off;
		__u32 next = off + 40, n = 0, hdrs, l4len, pay;
		__u8 types[9];
		__u32 lens[9];
		__u8 *nhp = ip6 + 6;

		memset(ip6, 0, 40);
		ip6[0] = 0x60 | (__u8)below(g, 16);
		ip6[1] = (__u8)next64(g) & 0x0f;
		ip6[7] = pick_ttl(g);
		pick_addr(g, ip6 + 8, 6, true);
		pick_addr(g, ip6 + 24, 6, false);

		/* Extension headers: often none, sometimes more than the bound. */
		if (chance(g, 30)) {
			static const __u8 et[] = { 0, 60, 43, 51, 60 };

			n = 1 + below(g, chance(g, 25) ? 8 : 4);
			for (i = 0; i < n; i++) {
				types[i] = i == 0 && chance(g, 50) ? 0 : et[1 + below(g, 4)];
				lens[i] = types[i] == 51 ? 4 * (3 + below(g, 4)) : 8 * (1 + below(g, 3));
			}
		}
		if (frag) {
			/* The fragment header somewhere in the chain (routing before it). */
			i = n ? below(g, n + 1) : 0;
			memmove(types + i + 1, types + i, n - i);
			memmove(lens + i + 1, lens + i, (n - i) * sizeof(lens[0]));
			types[i] = 44;
			lens[i] = 8;
			n++;
		}
		hdrs = 0;
		for (i = 0; i < n; i++) {
			*nhp = types[i];
			put_ext(g, b + next, types[i], lens[i], 0);
			if (types[i] == 44) {
				wr16(b + next + 2,
				     (__u16)((late ? 1 + below(g, 0x1ffe) : 0) << 3 | (mf ? 1 : 0)));
				fill_random(g, b + next + 4, 4);
			}
			nhp = b + next;
			next += lens[i];
			hdrs += lens[i];
			if (types[i] == 44 && late)
				break;
		}
		if (i < n) /* a later fragment: the rest is opaque payload */
			n = i + 1;
		*nhp = proto;
		l4len = late ? 0 : proto == 6 ? 20 : (proto == 1 || proto == 58 || proto == 17) ? 8 : 0;
		pay = pick_payload(g, 40 + hdrs + l4len);
		if (next + l4len + pay > GEN_MAX_FRAME - 64)
			pay = GEN_MAX_FRAME - 64 - next - l4len;
		memset(b + next, 0, l4len);
		fill_random(g, b + next + l4len, pay);
		wr16(ip6 + 4, (__u16)(hdrs + l4len + pay));
		off = next;
		lo.l3_end = next + l4len + pay;
	}

	/* L4 header and its checksum (over whatever the datagram holds). */
	if (!late) {
		__u8 *l4 = b + off;
		__u32 l4total = lo.l3_end - off, sum = 0;
		int csum_off = -1;

		if (proto == 1 || proto == 58) {
			l4[0] = icmp_type;
			l4[1] = (__u8)(chance(g, 90) ? 0 : below(g, 16));
			wr16(l4 + 4, (__u16)next64(g));
			wr16(l4 + 6, (__u16)next64(g));
			csum_off = 2;
		} else if (proto == 6) {
			wr16(l4, (__u16)next64(g));
			wr16(l4 + 2, chance(g, 50) ? 80 : (__u16)next64(g));
			fill_random(g, l4 + 4, 8);
			l4[12] = 5 << 4;
			l4[13] = 0x02;
			wr16(l4 + 14, 65535);
			csum_off = 16;
		} else if (proto == 17) {
			wr16(l4, (__u16)next64(g));
			wr16(l4 + 2, 53);
			wr16(l4 + 4, (__u16)l4total);
			csum_off = 6;
		}
		if (csum_off >= 0) {
			__u8 ph[8] = {};
			bool pseudo = !(proto == 1 && family == 4);

			if (pseudo && family == 4) {
				sum = sum16(sum, b + lo.l3 + 12, 8);
				ph[1] = proto;
				wr16(ph + 2, (__u16)l4total);
				sum = sum16(sum, ph, 4);
			} else if (pseudo) {
				sum = sum16(sum, b + lo.l3 + 8, 32);
				ph[0] = l4total >> 24;
				ph[1] = l4total >> 16;
				ph[2] = l4total >> 8;
				ph[3] = l4total;
				ph[7] = proto;
				sum = sum16(sum, ph, 8);
			}
			sum = sum16(sum, l4, l4total);
			wr16(l4 + csum_off, finish(sum));
		}
	}
	if (family == 4) {
		__u8 *ip = b + lo.l3;

		wr16(ip + 10, finish(sum16(0, ip, (ip[0] & 15) * 4u)));
	}
	f->len = lo.l3_end;
	/* Half the short frames come padded to the Ethernet minimum, as on a wire. */
	if (f->len < 60 && chance(g, 50)) {
		memset(b + f->len, 0, 60 - f->len);
		f->len = 60;
	}
	return lo;
}

static void fix_ipv4_csum(__u8 *ip)
{
	__u32 hl = (ip[0] & 15) * 4u;

	if (hl < 20)
		return;
	ip[10] = ip[11] = 0;
	wr16(ip + 10, finish(sum16(0, ip, hl)));
}

static void mutate(struct gen *g, struct gen_frame *f, const struct layout *lo)
{
	__u8 *b = f->data;
	__u32 i, n;

	switch (f->mut) {
	case GEN_M_TRUNC:
		f->len = below(g, f->len + 1);
		break;
	case GEN_M_LEN_BIG:
	case GEN_M_LEN_SMALL: {
		__u32 field = lo->family == 4 ? lo->l3 + 2 : lo->l3 + 4;
		__u16 v = rd16(b + field), d = (__u16)(1 + (chance(g, 50) ? below(g, 4) : below(g, 600)));

		if (!lo->l3) {
			f->mut = GEN_M_FLIP;
			mutate(g, f, lo);
			return;
		}
		wr16(b + field, f->mut == GEN_M_LEN_BIG ? (__u16)(v + d) : (__u16)(v > d ? v - d : 0));
		if (lo->family == 4 && chance(g, 50))
			fix_ipv4_csum(b + lo->l3);
		break;
	}
	case GEN_M_IHL:
		if (lo->family != 4) {
			f->mut = GEN_M_VERSION;
			mutate(g, f, lo);
			return;
		}
		b[lo->l3] = (b[lo->l3] & 0xf0) | (__u8)below(g, 16);
		if (chance(g, 50))
			fix_ipv4_csum(b + lo->l3);
		break;
	case GEN_M_VERSION:
		if (!lo->l3) {
			f->mut = GEN_M_FLIP;
			mutate(g, f, lo);
			return;
		}
		b[lo->l3] = (b[lo->l3] & 0x0f) | (__u8)(below(g, 16) << 4);
		break;
	case GEN_M_FLIP:
		n = 1 + below(g, 4);
		for (i = 0; i < n && f->len; i++) {
			/* Mostly in the headers, where decisions are made. */
			__u32 at = below(g, f->len < 96 || chance(g, 80) ? (f->len < 96 ? f->len : 96)
									  : f->len);

			if (chance(g, 50))
				b[at] ^= (__u8)(1u << below(g, 8));
			else
				b[at] = (__u8)next64(g);
		}
		break;
	case GEN_M_RANDOM:
		if (f->len > 14) {
			__u32 at = 12 + below(g, f->len - 12), len = 1 + below(g, 24);

			if (at + len > f->len)
				len = f->len - at;
			fill_random(g, b + at, len);
		}
		break;
	case GEN_M_PAD:
		n = 1 + below(g, chance(g, 80) ? 16 : 64);
		if (f->len + n <= GEN_MAX_FRAME) {
			fill_random(g, b + f->len, n);
			if (chance(g, 50))
				b[f->len] = chance(g, 50) ? 8 : 128; /* an echo type for a cut-off ICMP */
			f->len += n;
		}
		break;
	default:
		break;
	}
}

static __u8 pick_iface(struct gen *g)
{
	__u32 r = below(g, 100);

	return r < 15 ? 0 : r < 40 ? 1 : r < 50 ? 2 : r < 60 ? 3 : r < 75 ? 4 : r < 88 ? 5 : 6;
}

void gen_next(struct gen *g, struct gen_frame *f)
{
	struct layout lo;
	__u32 r;

	if (g->sweep_next < g->sweep_end) {
		*f = g->sweep;
		f->len = g->sweep_next++;
		f->index = g->index++;
		f->iface = pick_iface(g);
		return;
	}

	f->len = 0;
	f->mut = GEN_M_NONE;
	r = below(g, 100);
	/* Kinds: a third echo, the rest spread; a little pure noise. */
	if (r < 17)
		f->kind = GEN_K_V4_ECHO;
	else if (r < 32)
		f->kind = GEN_K_V6_ECHO;
	else if (r < 38)
		f->kind = GEN_K_V4_ICMP;
	else if (r < 44)
		f->kind = GEN_K_V6_ICMP;
	else if (r < 52)
		f->kind = GEN_K_V4_TCP;
	else if (r < 60)
		f->kind = GEN_K_V6_TCP;
	else if (r < 68)
		f->kind = GEN_K_V4_UDP;
	else if (r < 76)
		f->kind = GEN_K_V6_UDP;
	else if (r < 81)
		f->kind = GEN_K_V4_OTHER;
	else if (r < 86)
		f->kind = GEN_K_V6_OTHER;
	else if (r < 90)
		f->kind = GEN_K_ARP;
	else if (r < 94)
		f->kind = GEN_K_L2_OTHER;
	else
		f->kind = GEN_K_RANDOM;

	lo = build(g, f, f->kind);

	r = below(g, 1000);
	if (r < 450)
		f->mut = GEN_M_NONE;
	else if (r < 530)
		f->mut = GEN_M_TRUNC;
	else if (r < 534)
		f->mut = GEN_M_SWEEP;
	else if (r < 600)
		f->mut = GEN_M_LEN_BIG;
	else if (r < 670)
		f->mut = GEN_M_LEN_SMALL;
	else if (r < 710)
		f->mut = GEN_M_IHL;
	else if (r < 740)
		f->mut = GEN_M_VERSION;
	else if (r < 880)
		f->mut = GEN_M_FLIP;
	else if (r < 930)
		f->mut = GEN_M_RANDOM;
	else
		f->mut = GEN_M_PAD;
	if (f->kind == GEN_K_RANDOM && f->mut == GEN_M_SWEEP)
		f->mut = GEN_M_NONE;
	mutate(g, f, &lo);
	f->iface = pick_iface(g);
	f->index = g->index++;

	if (f->mut == GEN_M_SWEEP) {
		/* This frame whole, then cut at every offset below GEN_SWEEP_MAX. */
		g->sweep = *f;
		g->sweep_next = 0;
		g->sweep_end = f->len < GEN_SWEEP_MAX ? f->len : GEN_SWEEP_MAX;
	}
}
