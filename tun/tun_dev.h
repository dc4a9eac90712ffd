/*
 * tun_dev.h — a Linux TUN device for the stack, configured over rtnetlink.
 *
 * In docs/architecture.md's data flow this is the real wire under tun_loop.h: the kernel
 * sees a point-to-point-ish interface (default tl0) with its own address
 * (default 10.7.0.1/24); whatever it routes into that subnet comes out of the
 * device's file descriptor as a raw IPv4 packet (IFF_TUN | IFF_NO_PI), and
 * whatever we write into it the kernel receives as if from the wire.
 *
 * The device is not persistent: closing it (tun_dev_close(), or the process
 * dying) removes the interface — unless it was attached to (cfg.attach): a
 * persistent device an administrator made for the user stays.
 */
#ifndef TCPLAB_TUN_DEV_H
#define TCPLAB_TUN_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tun_dev_config {
    char name[16];        /* interface name (IFNAMSIZ), "tl0" */
    uint32_t kernel_addr; /* the kernel's address on it, host order (10.7.0.1) */
    uint8_t prefix_len;   /* its prefix length (24) */
    unsigned mtu;         /* 1500 */
    /* Offloads (tun_dev_offload.c): with vnet_hdr every packet read or
     * written starts with a struct virtio_net_hdr (10 bytes), and the
     * TUNSETOFFLOAD flags (TUN_F_CSUM, TUN_F_TSO4) let the kernel hand over
     * GSO super-packets and partial checksums. Off by default. */
    bool vnet_hdr;
    unsigned offload;
    /* Attach to an existing persistent device (`ip tuntap add NAME mode tun
     * user USER`) instead of creating one: TUNSETIFF on a device the caller
     * owns needs no CAP_NET_ADMIN; its address, MTU and up/down are the
     * administrator's and are left alone (kernel_addr, prefix_len and mtu are
     * not used). Closing leaves the device in place. */
    bool attach;
};
void tun_dev_config_defaults(struct tun_dev_config *cfg);

struct tun_dev;

/* Create, address and bring up the interface. Returns 0 and *out, or a
 * negative errno with a message in msg saying what to do:
 *   -EEXIST  an interface of that name already exists
 *   -EPERM   not permitted (needs root or CAP_NET_ADMIN)
 *   -ENOENT  no /dev/net/tun
 *   -EINVAL  bad name or MTU */
int tun_dev_open(const struct tun_dev_config *cfg, struct tun_dev **out, char *msg, size_t msglen);
/* What an existing interface has: its first IPv4 address and prefix, its
 * MTU and whether it is up. 0, -ENODEV (no such interface) or -ENOENT (it
 * has no IPv4 address; *mtu and *up are still set). */
int tun_dev_lookup(const char *name, uint32_t *addr, uint8_t *prefix_len, unsigned *mtu, bool *up);
/* The device's offload setup, right after TUNSETIFF (IFF_VNET_HDR was
 * given): TUNSETVNETHDRSZ and TUNSETOFFLOAD. 0 or a negative errno. */
int tun_dev_setup_offload(int fd, const struct tun_dev_config *cfg);
/* One packet with a header in front (the vnet header): 0 or a negative errno. */
int tun_dev_write_hdr(struct tun_dev *d, const uint8_t *hdr, size_t hlen, const uint8_t *pkt,
                      size_t len);
/* Close the descriptor, which removes the interface. */
void tun_dev_close(struct tun_dev *d);

int tun_dev_fd(const struct tun_dev *d); /* non-blocking */
int tun_dev_ifindex(const struct tun_dev *d);
const char *tun_dev_name(const struct tun_dev *d);
unsigned tun_dev_mtu(const struct tun_dev *d);

/* One packet: bytes read, -EAGAIN when drained, or another negative errno. */
ssize_t tun_dev_read(struct tun_dev *d, uint8_t *buf, size_t cap);
/* One packet: 0 or a negative errno. */
int tun_dev_write(struct tun_dev *d, const uint8_t *pkt, size_t len);
/* True if the interface still exists (it may be deleted with `ip link del`). */
bool tun_dev_alive(const struct tun_dev *d);

/* Move the calling process into a new, private network namespace and bring
 * its loopback up, so a run's kernel sockets and TUN device meet nothing of
 * the caller's network (and nothing left by an earlier run). Returns 0, or a
 * negative errno (e.g. -EPERM) and the current namespace stays in use. */
int tun_netns_fresh(void);

#endif
