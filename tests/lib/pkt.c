// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test packet builder (see pkt.h): lays out each header byte by byte and
 * computes every checksum from scratch over the finished bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/if_ether.h>

#include "pkt.h"

const __u8 PB_MAC_CLIENT[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
const __u8 PB_MAC_HOST[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

__u32 pb_csum_add(__u32 sum, const void *buf, size_t len)
{
	const __u8 *b = buf;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (__u32)(b[len - 1] << 8);
	return sum;
}

__u16 pb_csum_finish(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((__u16)~sum);
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(__u8 *p, __u32 v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Sum of the IPv4 / IPv6 pseudo-header for an upper layer of @len bytes. */
static __u32 pseudo_sum(const struct pb_spec *s, __u8 proto, __u32 len)
{
	__u8 ph[40];

	if (s->family == 4) {
		memcpy(ph, s->src, 4);
		memcpy(ph + 4, s->dst, 4);
		ph[8] = 0;
		ph[9] = proto;
		put16(ph + 10, (__u16)len);
		return pb_csum_add(0, ph, 12);
	}
	memcpy(ph, s->src, 16);
	memcpy(ph + 16, s->dst, 16);
	put32(ph + 32, len);
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = proto;
	return pb_csum_add(0, ph, 40);
}

/*
 * The upper layer (header and payload) into @l4; its checksum needs the
 * pseudo-header of @s. A non-first fragment carries payload only.
 */
static int build_l4(const struct pb_spec *s, __u8 *l4, size_t cap)
{
	int hlen = 0, len;
	int csum_off = -1;
	bool pseudo = true;

	if (s->payload_len < 0 || s->payload_len > PB_MAX_PAYLOAD)
		return -EINVAL;
	if (s->frag_offset) {
		if ((size_t)s->payload_len > cap)
			return -ENOSPC;
		memcpy(l4, s->payload, s->payload_len);
		return s->payload_len;
	}
	switch (s->l4proto) {
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		hlen = 8;
		break;
	case IPPROTO_UDP:
		hlen = 8;
		break;
	case IPPROTO_TCP:
		hlen = 20;
		break;
	default:
		hlen = 0;
		break;
	}
	len = hlen + s->payload_len;
	if ((size_t)len > cap)
		return -ENOSPC;
	memset(l4, 0, hlen);
	switch (s->l4proto) {
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		l4[0] = s->icmp_type;
		l4[1] = s->icmp_code;
		put16(l4 + 4, s->icmp_id);
		put16(l4 + 6, s->icmp_seq);
		csum_off = 2;
		/* ICMPv4 has no pseudo-header; ICMPv6 has one. */
		pseudo = s->l4proto == IPPROTO_ICMPV6;
		break;
	case IPPROTO_UDP:
		memcpy(l4, &s->sport, 2);
		memcpy(l4 + 2, &s->dport, 2);
		put16(l4 + 4, (__u16)len);
		csum_off = 6;
		break;
	case IPPROTO_TCP:
		memcpy(l4, &s->sport, 2);
		memcpy(l4 + 2, &s->dport, 2);
		put32(l4 + 4, s->tcp_seq);
		l4[12] = 5 << 4;
		l4[13] = s->tcp_flags;
		put16(l4 + 14, 65535);
		csum_off = 16;
		break;
	default:
		break;
	}
	memcpy(l4 + hlen, s->payload, s->payload_len);
	if (csum_off >= 0 && s->family && !(s->udp_nocsum && s->l4proto == IPPROTO_UDP)) {
		__u32 sum = pseudo ? pseudo_sum(s, s->l4proto, len) : 0;
		__u16 c;

		sum = pb_csum_add(sum, l4, len);
		c = pb_csum_finish(sum);
		/* UDP sends a computed zero as all ones (zero means "none"). */
		if (s->l4proto == IPPROTO_UDP && c == 0)
			c = 0xffff;
		memcpy(l4 + csum_off, &c, 2);
	}
	return len;
}

/* IPv6 extension headers into @p; @return their length or -errno. */
static int build_ext(const struct pb_spec *s, __u8 *p, size_t cap)
{
	int i, off = 0;

	for (i = 0; i < s->next_ext; i++) {
		__u8 nh = i + 1 < s->next_ext ? s->ext[i + 1].type : s->l4proto;
		int len;

		if (s->ext[i].type == IPPROTO_FRAGMENT)
			len = 8;
		else
			len = (s->ext[i].len8 + 1) * 8;
		if ((size_t)(off + len) > cap)
			return -ENOSPC;
		memset(p + off, 0, len);
		p[off] = nh;
		switch (s->ext[i].type) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_DSTOPTS:
			p[off + 1] = s->ext[i].len8;
			/* One PadN option filling the rest (at most 255 + 2 bytes). */
			if (len - 2 > 257)
				return -EINVAL;
			p[off + 2] = 1;
			p[off + 3] = (__u8)(len - 4);
			break;
		case IPPROTO_ROUTING:
			p[off + 1] = s->ext[i].len8;
			p[off + 2] = 4; /* segment routing header */
			/* segments left: 0 unless asked (then the destination is not final) */
			p[off + 3] = s->ext[i].segleft;
			/* Segment list left zero: a reply keeps it unchanged. */
			break;
		case 51: /* IPPROTO_AH: payload length in 4-octet units minus 2 */
			p[off + 1] = (__u8)(len / 4 - 2);
			put32(p + off + 4, 0x100); /* SPI; sequence and ICV left zero */
			break;
		case IPPROTO_FRAGMENT:
			put16(p + off + 2, (__u16)(s->frag_offset << 3 | (s->frag_more ? 1 : 0)));
			put32(p + off + 4, s->frag_id);
			break;
		default:
			return -EINVAL;
		}
		off += len;
	}
	return off;
}

int pb_build(const struct pb_spec *s, __u8 *buf, size_t cap)
{
	__u8 l4[PB_MAX_FRAME];
	size_t off = 0;
	int i, l4len, extlen = 0;
	__u16 etype;

	if (s->nvlan < 0 || s->nvlan > PB_MAX_VLAN || s->next_ext < 0 ||
	    s->next_ext > PB_MAX_EXT || s->ip_opts_len < 0 || s->ip_opts_len > 40 ||
	    s->ip_opts_len % 4)
		return -EINVAL;
	if (cap < 14 + 4 * (size_t)s->nvlan)
		return -ENOSPC;
	memcpy(buf, s->dmac, 6);
	memcpy(buf + 6, s->smac, 6);
	off = 12;
	for (i = 0; i < s->nvlan; i++) {
		put16(buf + off, s->vlan[i].tpid);
		put16(buf + off + 2, s->vlan[i].tci);
		off += 4;
	}
	etype = s->ethertype;
	if (!etype)
		etype = s->family == 6 ? ETH_P_IPV6 : s->family == 4 ? ETH_P_IP : 0;
	put16(buf + off, etype);
	off += 2;

	if (s->family != 4 && s->family != 6) {
		if (s->payload_len < 0 || off + s->payload_len > cap)
			return -ENOSPC;
		memcpy(buf + off, s->payload, s->payload_len);
		return off + s->payload_len;
	}

	l4len = build_l4(s, l4, sizeof(l4));
	if (l4len < 0)
		return l4len;

	if (s->family == 4) {
		size_t hlen = 20 + s->ip_opts_len;
		__u8 *ip = buf + off;
		__u16 frag = (s->df ? 0x4000 : 0) | (s->frag_more ? 0x2000 : 0) |
			     (s->frag_offset & 0x1fff);
		__u16 c;

		if (off + hlen + l4len > cap)
			return -ENOSPC;
		memset(ip, 0, hlen);
		ip[0] = (s->version ? s->version : 4) << 4 | (s->ihl ? s->ihl : hlen / 4);
		ip[1] = s->tos;
		put16(ip + 2, s->tot_len ? s->tot_len : (__u16)(hlen + l4len));
		put16(ip + 4, s->ip_id);
		put16(ip + 6, frag);
		ip[8] = s->ttl;
		ip[9] = s->l4proto;
		memcpy(ip + 12, s->src, 4);
		memcpy(ip + 16, s->dst, 4);
		memcpy(ip + 20, s->ip_opts, s->ip_opts_len);
		c = pb_csum_finish(pb_csum_add(0, ip, hlen));
		memcpy(ip + 10, &c, 2);
		off += hlen;
	} else {
		__u8 *ip6 = buf + off;
		__u32 w0;

		if (off + 40 > cap)
			return -ENOSPC;
		extlen = build_ext(s, ip6 + 40, cap - off - 40);
		if (extlen < 0)
			return extlen;
		if (off + 40 + extlen + l4len > cap)
			return -ENOSPC;
		w0 = (__u32)(s->version ? s->version : 6) << 28 | (__u32)s->tos << 20 |
		     (s->flowlabel & 0xfffff);
		put32(ip6, w0);
		put16(ip6 + 4, s->tot_len ? s->tot_len : (__u16)(extlen + l4len));
		ip6[6] = s->next_ext ? s->ext[0].type : s->l4proto;
		ip6[7] = s->ttl;
		memcpy(ip6 + 8, s->src, 16);
		memcpy(ip6 + 24, s->dst, 16);
		off += 40 + extlen;
	}
	memcpy(buf + off, l4, l4len);
	return off + l4len;
}

int pb_addr4(__u8 out[16], const char *text)
{
	memset(out, 0, 16);
	return inet_pton(AF_INET, text, out) == 1 ? 0 : -EINVAL;
}

int pb_addr6(__u8 out[16], const char *text)
{
	memset(out, 0, 16);
	return inet_pton(AF_INET6, text, out) == 1 ? 0 : -EINVAL;
}

static int base(struct pb_spec *s, const char *src, const char *dst)
{
	int i;

	memset(s, 0, sizeof(*s));
	memcpy(s->dmac, PB_MAC_HOST, 6);
	memcpy(s->smac, PB_MAC_CLIENT, 6);
	s->family = strchr(src, ':') ? 6 : 4;
	if (s->family == 4) {
		if (pb_addr4(s->src, src) || pb_addr4(s->dst, dst))
			return -EINVAL;
	} else {
		if (pb_addr6(s->src, src) || pb_addr6(s->dst, dst))
			return -EINVAL;
	}
	s->ttl = 64;
	s->ip_id = 0x1234;
	s->payload_len = 32;
	for (i = 0; i < s->payload_len; i++)
		s->payload[i] = (__u8)(0x10 + i * 7);
	return 0;
}

int pb_echo_request(struct pb_spec *s, const char *src, const char *dst)
{
	if (base(s, src, dst))
		return -EINVAL;
	s->l4proto = s->family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	s->icmp_type = s->family == 4 ? 8 : 128;
	s->icmp_id = 0x4d2;
	s->icmp_seq = 7;
	return 0;
}

int pb_udp(struct pb_spec *s, const char *src, const char *dst)
{
	if (base(s, src, dst))
		return -EINVAL;
	s->l4proto = IPPROTO_UDP;
	s->sport = htons(4242);
	s->dport = htons(53);
	return 0;
}

int pb_tcp(struct pb_spec *s, const char *src, const char *dst)
{
	if (base(s, src, dst))
		return -EINVAL;
	s->l4proto = IPPROTO_TCP;
	s->sport = htons(4242);
	s->dport = htons(80);
	s->tcp_seq = 1000;
	s->tcp_flags = 0x02; /* SYN */
	s->payload_len = 0;
	return 0;
}

void pb_spec_echo_reply(const struct pb_spec *req, struct pb_spec *rep, __u8 ttl)
{
	*rep = *req;
	memcpy(rep->dmac, req->smac, 6);
	memcpy(rep->smac, req->dmac, 6);
	memcpy(rep->src, req->dst, 16);
	memcpy(rep->dst, req->src, 16);
	rep->ttl = ttl;
	rep->icmp_type = req->family == 4 ? 0 : 129;
}

void pb_hex(const __u8 *buf, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;

	if (!cap)
		return;
	out[0] = 0;
	for (i = 0; i < len && o + 3 < cap; i++)
		o += snprintf(out + o, cap - o, "%02x", buf[i]);
}

int pb_first_diff(const __u8 *a, size_t alen, const __u8 *b, size_t blen)
{
	size_t i, n = alen < blen ? alen : blen;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return (int)i;
	return alen == blen ? -1 : (int)n;
}
