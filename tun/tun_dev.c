/*
 * tun_dev.c — create a TUN interface and configure it through rtnetlink.
 *
 * Steps, in the order the kernel needs them:
 *   1. open /dev/net/tun and TUNSETIFF with IFF_TUN | IFF_NO_PI: the
 *      interface exists from now until the descriptor is closed;
 *   2. RTM_NEWLINK: set its MTU and the IFF_UP flag;
 *   3. RTM_NEWADDR: give the kernel its address and prefix on it, which also
 *      installs the route to the subnet (so 10.7.0.2 goes into the device).
 * Netlink requests are built and sent with libmnl and each one is
 * acknowledged (NLM_F_ACK), so a refusal comes back as an errno.
 */
#include "tun_dev.h"

#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../stack/wire.h"

struct tun_dev {
    int fd;
    int ifindex;
    unsigned mtu;
    char name[IFNAMSIZ];
};

void tun_dev_config_defaults(struct tun_dev_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->name, sizeof cfg->name, "tl0");
    cfg->kernel_addr = 0x0a070001; /* 10.7.0.1 */
    cfg->prefix_len = 24;
    cfg->mtu = 1500;
}

/* Send one request on a fresh rtnetlink socket and wait for its ACK.
 * Returns 0 or the negative errno the kernel answered with. */
static int rtnl_request(struct nlmsghdr *nlh)
{
    struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
    if (!nl)
        return -errno;
    int rc = 0;
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        rc = -errno;
        goto out;
    }
    unsigned portid = mnl_socket_get_portid(nl);
    nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = (unsigned)time(NULL);
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
        rc = -errno;
        goto out;
    }
    char buf[8192];
    for (int tries = 0; tries < 16; tries++) {
        ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
        if (n < 0) {
            rc = -errno;
            break;
        }
        /* mnl_cb_run turns an NLMSG_ERROR with a non-zero code into -1/errno
         * and the final ACK (error 0) into MNL_CB_STOP. */
        int r = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, NULL, NULL);
        if (r == MNL_CB_ERROR) {
            rc = -errno;
            break;
        }
        if (r == MNL_CB_STOP)
            break;
    }
out:
    mnl_socket_close(nl);
    return rc;
}

/* RTM_NEWLINK on our interface: `flags` (IFF_UP) and optionally the MTU and
 * "no IPv6 link-local address" (so the kernel does not send router
 * solicitations and MLD reports into a device that only speaks IPv4). */
static int link_set(int ifindex, unsigned flags, unsigned mtu, bool no_ipv6_ll)
{
    /* Zeroed: libmnl does not clear the padding after a 1-byte attribute, and
     * uninitialised stack bytes would be sent to the kernel (valgrind). */
    char buf[8192] = {0};
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWLINK;
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    ifi->ifi_flags = flags;
    ifi->ifi_change = flags;
    if (mtu)
        mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
    if (no_ipv6_ll) {
        struct nlattr *spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
        struct nlattr *in6 = mnl_attr_nest_start(nlh, AF_INET6);
        mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
        mnl_attr_nest_end(nlh, in6);
        mnl_attr_nest_end(nlh, spec);
    }
    return rtnl_request(nlh);
}

static int link_set_mtu_up(int ifindex, unsigned mtu)
{
    /* Without IPv6 in the kernel the AF_SPEC part is refused: retry without. */
    int rc = link_set(ifindex, 0, mtu, true);
    if (rc < 0 && rc != -EPERM)
        rc = link_set(ifindex, 0, mtu, false);
    if (rc < 0)
        return rc;
    return link_set(ifindex, IFF_UP, 0, false);
}

static int addr_add(int ifindex, uint32_t addr, uint8_t prefix_len)
{
    char buf[8192] = {0};
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWADDR;
    nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = prefix_len;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = (unsigned)ifindex;
    uint32_t be = htonl(addr);
    mnl_attr_put(nlh, IFA_LOCAL, sizeof be, &be);
    mnl_attr_put(nlh, IFA_ADDRESS, sizeof be, &be);
    return rtnl_request(nlh);
}

/* Another interface with an address in our subnet (typically a second tcplab
 * on another --tun name with the default addresses) would take the kernel's
 * route for it, and this device would silently get no traffic. Say so instead. */
static int subnet_in_use(const struct tun_dev_config *cfg, char *msg, size_t msglen)
{
    struct ifaddrs *list;
    if (getifaddrs(&list) < 0)
        return 0; /* cannot tell: the route will show it */
    uint32_t mask = cfg->prefix_len ? ~0u << (32 - cfg->prefix_len) : 0;
    uint32_t net = cfg->kernel_addr & mask;
    int rc = 0;
    for (struct ifaddrs *a = list; a && rc == 0; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET)
            continue;
        uint32_t addr =
            ntohl(((const struct sockaddr_in *)(const void *)a->ifa_addr)->sin_addr.s_addr);
        if ((addr & mask) != net)
            continue;
        char n[16], k[16];
        snprintf(msg, msglen,
                 "the subnet %s/%u is already on interface %s (address %s; another tcplab?) — "
                 "give this one its own, e.g. --kernel-addr 10.8.0.1/24 --addr 10.8.0.2",
                 wire_addr_str(net, n), cfg->prefix_len, a->ifa_name, wire_addr_str(addr, k));
        rc = -EEXIST;
    }
    freeifaddrs(list);
    return rc;
}

static void perm_message(char *msg, size_t msglen, const char *name)
{
    snprintf(msg, msglen,
             "cannot create TUN device %s: operation not permitted — creating one needs "
             "CAP_NET_ADMIN: run as root, e.g. `sudo tcplab listen`, or in a network namespace "
             "of your own, `unshare -rn`",
             name);
}

/* open("/dev/net/tun") refused: the device file's permissions, not a
 * missing capability (inside `unshare -rn` root of the namespace has
 * CAP_NET_ADMIN, yet a 0600 device owned by the real root stays closed). */
static void open_perm_message(char *msg, size_t msglen, const char *name)
{
    struct stat st;
    if (stat("/dev/net/tun", &st) != 0) {
        perm_message(msg, msglen, name);
        return;
    }
    snprintf(msg, msglen,
             "cannot create TUN device %s: not permitted to open /dev/net/tun (mode %04o, "
             "owner uid %u as seen here; this process is uid %u) — run as root, e.g. "
             "`sudo tcplab listen`, or have an administrator make the device usable "
             "(chmod 0666 /dev/net/tun, as Debian ships it); creating a device also needs "
             "CAP_NET_ADMIN",
             name, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)getuid());
}

/* /dev/net/tun, opened for one device; a negative errno and the message
 * when it cannot be (creating and attaching say the same). */
static int open_dev_net_tun(const char *name, char *msg, size_t msglen)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    int e = errno;
    if (e == EPERM || e == EACCES)
        open_perm_message(msg, msglen, name);
    else
        snprintf(msg, msglen, "cannot open /dev/net/tun: %s — is the tun module available?",
                 strerror(e));
    return e == EACCES ? -EPERM : -e;
}

/* TUNSETIFF: a raw-IPv4 TUN device named cfg->name, with the vnet header if
 * asked; creates it, or attaches to it if it exists. -1 with errno. */
static int tunsetiff(int fd, const struct tun_dev_config *cfg, size_t nlen, struct ifreq *ifr)
{
    memset(ifr, 0, sizeof *ifr);
    ifr->ifr_flags = IFF_TUN | IFF_NO_PI | (cfg->vnet_hdr ? IFF_VNET_HDR : 0);
    memcpy(ifr->ifr_name, cfg->name, nlen);
    return ioctl(fd, TUNSETIFF, ifr);
}

static int tun_dev_attach(const struct tun_dev_config *cfg, struct tun_dev **out, char *msg,
                          size_t msglen);

int tun_dev_open(const struct tun_dev_config *cfg, struct tun_dev **out, char *msg, size_t msglen)
{
    *out = NULL;
    if (cfg->attach)
        return tun_dev_attach(cfg, out, msg, msglen);
    size_t nlen = strnlen(cfg->name, sizeof cfg->name);
    if (nlen == 0 || nlen >= IFNAMSIZ || strchr(cfg->name, '/') || strchr(cfg->name, ' ')) {
        snprintf(msg, msglen,
                 "bad interface name '%.15s': use 1 to 15 characters, no '/' or spaces", cfg->name);
        return -EINVAL;
    }
    if (cfg->mtu < 100 || cfg->mtu > 65535) {
        snprintf(msg, msglen, "bad MTU %u: use a value from 100 to 65535", cfg->mtu);
        return -EINVAL;
    }
    /* Refuse a name in use rather than attach to someone else's device. */
    if (if_nametoindex(cfg->name) != 0) {
        snprintf(msg, msglen,
                 "interface %s already exists (another tcplab, or something else) — "
                 "choose another name with --tun NAME, or remove it",
                 cfg->name);
        return -EEXIST;
    }
    int fd = open_dev_net_tun(cfg->name, msg, msglen);
    if (fd < 0)
        return fd;
    struct ifreq ifr;
    if (tunsetiff(fd, cfg, nlen, &ifr) < 0) {
        int e = errno;
        close(fd);
        if (e == EPERM || e == EACCES)
            perm_message(msg, msglen, cfg->name);
        else if (e == EBUSY || e == EEXIST || e == EINVAL)
            snprintf(msg, msglen,
                     "cannot create TUN device %s: %s — choose another name with --tun", cfg->name,
                     strerror(e));
        else
            snprintf(msg, msglen, "cannot create TUN device %s: %s", cfg->name, strerror(e));
        return e == EACCES ? -EPERM : (e == EBUSY ? -EEXIST : -e);
    }
    if (cfg->vnet_hdr && tun_dev_setup_offload(fd, cfg) < 0) {
        int e = errno;
        close(fd);
        snprintf(msg, msglen, "cannot enable offloads on TUN device %s: %s — try --no-offload",
                 cfg->name, strerror(e));
        return -e;
    }
    /* After the permission checks, so not being allowed is what is said first;
     * the new device has no address yet, so it does not find itself. */
    int rc = subnet_in_use(cfg, msg, msglen);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    struct tun_dev *d = calloc(1, sizeof *d);
    if (!d) {
        close(fd);
        snprintf(msg, msglen, "out of memory");
        return -ENOMEM;
    }
    d->fd = fd;
    d->mtu = cfg->mtu;
    memcpy(d->name, ifr.ifr_name, IFNAMSIZ);
    d->name[IFNAMSIZ - 1] = 0;
    d->ifindex = (int)if_nametoindex(d->name);
    rc = d->ifindex > 0 ? 0 : -ENODEV;
    const char *what = "find";
    if (rc == 0) {
        what = "set MTU / bring up";
        rc = link_set_mtu_up(d->ifindex, cfg->mtu);
    }
    if (rc == 0) {
        what = "add the kernel's address to";
        rc = addr_add(d->ifindex, cfg->kernel_addr, cfg->prefix_len);
    }
    if (rc < 0) {
        char a[16];
        if (rc == -EPERM)
            perm_message(msg, msglen, d->name);
        else
            snprintf(msg, msglen, "cannot %s interface %s (kernel address %s/%u): %s", what,
                     d->name, wire_addr_str(cfg->kernel_addr, a), cfg->prefix_len, strerror(-rc));
        tun_dev_close(d);
        return rc;
    }
    *out = d;
    return 0;
}

void tun_dev_close(struct tun_dev *d)
{
    if (!d)
        return;
    close(d->fd);
    free(d);
}

int tun_dev_fd(const struct tun_dev *d)
{
    return d->fd;
}
int tun_dev_ifindex(const struct tun_dev *d)
{
    return d->ifindex;
}
const char *tun_dev_name(const struct tun_dev *d)
{
    return d->name;
}
unsigned tun_dev_mtu(const struct tun_dev *d)
{
    return d->mtu;
}

ssize_t tun_dev_read(struct tun_dev *d, uint8_t *buf, size_t cap)
{
    ssize_t n = read(d->fd, buf, cap);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return n;
}

int tun_dev_write(struct tun_dev *d, const uint8_t *pkt, size_t len)
{
    ssize_t n = write(d->fd, pkt, len);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return 0;
}

bool tun_dev_alive(const struct tun_dev *d)
{
    return (int)if_nametoindex(d->name) == d->ifindex;
}

int tun_netns_fresh(void)
{
    if (unshare(CLONE_NEWNET) < 0)
        return -errno;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0; /* the namespace is ours; only loopback stays down */
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    close(fd);
    return 0;
}

/* ---- attaching to a persistent device (cfg.attach) ------------------------- */

int tun_dev_lookup(const char *name, uint32_t *addr, uint8_t *prefix_len, unsigned *mtu, bool *up)
{
    if (if_nametoindex(name) == 0)
        return -ENODEV;
    int rc = -ENOENT;
    struct ifaddrs *list;
    if (getifaddrs(&list) == 0) {
        for (struct ifaddrs *a = list; a; a = a->ifa_next) {
            if (strcmp(a->ifa_name, name) != 0)
                continue;
            *up = (a->ifa_flags & IFF_UP) != 0;
            if (rc == 0 || !a->ifa_addr || a->ifa_addr->sa_family != AF_INET || !a->ifa_netmask)
                continue;
            *addr = ntohl(((const struct sockaddr_in *)(const void *)a->ifa_addr)->sin_addr.s_addr);
            uint32_t m =
                ntohl(((const struct sockaddr_in *)(const void *)a->ifa_netmask)->sin_addr.s_addr);
            *prefix_len = (uint8_t)__builtin_popcount(m);
            rc = 0;
        }
        freeifaddrs(list);
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
        if (ioctl(fd, SIOCGIFMTU, &ifr) == 0)
            *mtu = (unsigned)ifr.ifr_mtu;
        close(fd);
    }
    return rc;
}

/* Not the owner: say whose it is (sysfs, when this namespace's is mounted)
 * and how the administrator hands it over. */
static void not_owner_message(char *msg, size_t msglen, const char *name)
{
    char path[64], owner[32] = "";
    snprintf(path, sizeof path, "/sys/class/net/%s/owner", name);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fgets(owner, sizeof owner, f))
            owner[strcspn(owner, "\n")] = 0;
        fclose(f);
    }
    snprintf(msg, msglen,
             "cannot attach to TUN device %s: it is not yours (owner uid %s; this process is "
             "uid %u) — an administrator gives it to you with `sudo ip tuntap del %s mode tun; "
             "sudo ip tuntap add %s mode tun user $USER`",
             name, owner[0] ? (strcmp(owner, "-1") ? owner : "none: root only") : "unknown",
             (unsigned)getuid(), name, name);
}

static int tun_dev_attach(const struct tun_dev_config *cfg, struct tun_dev **out, char *msg,
                          size_t msglen)
{
    size_t nlen = strnlen(cfg->name, sizeof cfg->name);
    if (nlen == 0 || nlen >= IFNAMSIZ || strchr(cfg->name, '/') || strchr(cfg->name, ' ')) {
        snprintf(msg, msglen,
                 "bad interface name '%.15s': use 1 to 15 characters, no '/' or spaces", cfg->name);
        return -EINVAL;
    }
    int ifindex = (int)if_nametoindex(cfg->name);
    if (ifindex == 0) {
        snprintf(msg, msglen,
                 "no interface %s to attach to — an administrator makes it once with `sudo ip "
                 "tuntap add %s mode tun user $USER`, `sudo ip addr add 10.7.0.1/24 dev %s` and "
                 "`sudo ip link set %s up`",
                 cfg->name, cfg->name, cfg->name, cfg->name);
        return -ENODEV;
    }
    int fd = open_dev_net_tun(cfg->name, msg, msglen);
    if (fd < 0)
        return fd;
    struct ifreq ifr;
    if (tunsetiff(fd, cfg, nlen, &ifr) < 0) {
        int e = errno;
        close(fd);
        if (e == EPERM || e == EACCES)
            not_owner_message(msg, msglen, cfg->name);
        else if (e == EINVAL)
            snprintf(msg, msglen,
                     "cannot attach to %s: it is not a TUN device (a TAP device, or another "
                     "kind of interface) — give --dev a device made with `ip tuntap add %s "
                     "mode tun`",
                     cfg->name, cfg->name);
        else
            snprintf(msg, msglen, "cannot attach to TUN device %s: %s", cfg->name, strerror(e));
        return e == EACCES ? -EPERM : -e;
    }
    if (cfg->vnet_hdr && tun_dev_setup_offload(fd, cfg) < 0) {
        int e = errno;
        close(fd);
        snprintf(msg, msglen, "cannot enable offloads on TUN device %s: %s — try --no-offload",
                 cfg->name, strerror(e));
        return -e;
    }
    struct tun_dev *d = calloc(1, sizeof *d);
    if (!d) {
        close(fd);
        snprintf(msg, msglen, "out of memory");
        return -ENOMEM;
    }
    uint32_t addr = 0;
    uint8_t prefix = 0;
    bool up = false;
    d->fd = fd;
    d->ifindex = ifindex;
    d->mtu = cfg->mtu;
    tun_dev_lookup(cfg->name, &addr, &prefix, &d->mtu, &up);
    memcpy(d->name, ifr.ifr_name, IFNAMSIZ);
    d->name[IFNAMSIZ - 1] = 0;
    *out = d;
    return 0;
}
