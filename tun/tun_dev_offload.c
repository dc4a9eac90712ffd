/*
 * tun_dev_offload.c — the TUN device's offload switches (tun_dev.h).
 *
 * With IFF_VNET_HDR each packet crossing the device carries a struct
 * virtio_net_hdr in front (flags, gso_type, hdr_len, gso_size, csum_start,
 * csum_offset). TUNSETOFFLOAD tells the kernel what the reader can take:
 * TUN_F_CSUM — packets whose checksum is left partial (only the pseudo-header
 * sum filled in); TUN_F_TSO4 — TCP/IPv4 super-packets of up to 64 KB that
 * stand for several MSS-sized segments. Kept apart from tun_dev.c's device
 * creation so the two can change independently.
 */
#include <errno.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include "tun_dev.h"

int tun_dev_setup_offload(int fd, const struct tun_dev_config *cfg)
{
    int sz = (int)sizeof(struct virtio_net_hdr);
    if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
        return -errno;
    if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)cfg->offload) < 0)
        return -errno;
    return 0;
}

int tun_dev_write_hdr(struct tun_dev *d, const uint8_t *hdr, size_t hlen, const uint8_t *pkt,
                      size_t len)
{
    /* One system call, and the packet is not copied to put the header in
     * front of it. */
    struct iovec iov[2] = {{(void *)hdr, hlen}, {(void *)pkt, len}};
    ssize_t n = writev(tun_dev_fd(d), iov, 2);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return 0;
}
