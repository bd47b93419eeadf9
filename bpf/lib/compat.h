/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * Includes and small definitions every BPF program here needs: kernel UAPI
 * headers, libbpf helpers, and constants in network byte order so the hot
 * path compares with constants instead of converting each packet.
 */
#ifndef XDPCTL_COMPAT_H
#define XDPCTL_COMPAT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "abi.h"

#define BE_ETH_P_IP     bpf_htons(ETH_P_IP)
#define BE_ETH_P_IPV6   bpf_htons(ETH_P_IPV6)
#define BE_ETH_P_8021Q  bpf_htons(ETH_P_8021Q)
#define BE_ETH_P_8021AD bpf_htons(ETH_P_8021AD)
#define BE_IP_MF        bpf_htons(0x2000)
#define BE_IP_OFFSET    bpf_htons(0x1fff)

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

/* Parser bounds; overridable at build time. */
#ifndef VLAN_MAX_DEPTH
#define VLAN_MAX_DEPTH 2
#endif
/*
 * IPv6: the walk looks at most IPV6_EXT_MAX_CHAIN next headers, the
 * upper-layer one included, so at most IPV6_EXT_MAX_CHAIN - 1 extension
 * headers are accepted; a longer chain is malformed.
 */
#ifndef IPV6_EXT_MAX_CHAIN
#define IPV6_EXT_MAX_CHAIN 6
#endif

/*
 * ICMP and ICMPv6 share this 8-byte echo header. Defined here because
 * <linux/icmp.h> drags in libc headers that a BPF target cannot use.
 */
struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};

/* TTL / hop limit of an echo reply generated here (as the kernel's default). */
#define XDPCTL_REPLY_TTL 64

#endif /* XDPCTL_COMPAT_H */
