/*
 * addr.c -- parsing, resolving and classifying cluster addresses.
 *
 * The port is parsed here, not by getaddrinfo, so that "host:99999" or
 * "host:7x" is refused with a message instead of being looked up as a
 * service name.
 */
#include "cluster/addr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits text into host (copied into host[hostcap]) and port. */
static dvm_status addr_split(const char *text, char *host, size_t hostcap,
                             uint16_t *port)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text)
        return status_set(DVM_EINVAL, "%s: address is not HOST:PORT", text);
    const char *h = text;
    size_t hlen = (size_t)(colon - text);
    if (h[0] == '[') {
        if (hlen < 3 || h[hlen - 1] != ']')
            return status_set(DVM_EINVAL, "%s: unbalanced [ in address", text);
        h++;
        hlen -= 2;
    }
    if (hlen >= hostcap)
        return status_set(DVM_EINVAL, "%s: host name too long", text);
    const char *p = colon + 1;
    char *end;
    unsigned long v = strtoul(p, &end, 10);
    if (*p < '0' || *p > '9' || *end || v > 65535)
        return status_set(DVM_EINVAL, "%s: port is not a number 0..65535",
                          text);
    memcpy(host, h, hlen);
    host[hlen] = 0;
    *port = (uint16_t)v;
    return DVM_OK;
}

dvm_status addr_parse(const char *text, addr *out)
{
    char host[256];
    uint16_t port;
    dvm_status st = addr_split(text, host, sizeof host, &port);
    if (st)
        return st;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc)
        return status_set(DVM_ENOENT, "%s: cannot resolve %s: %s", text, host,
                          gai_strerror(rc));
    memset(out, 0, sizeof *out);
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    if (out->ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&out->ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)&out->ss)->sin6_port = htons(port);
    return DVM_OK;
}

int addr_is_loopback(const struct sockaddr *a)
{
    if (a->sa_family == AF_INET) {
        uint32_t ip = ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr);
        return (ip >> 24) == 127;
    }
    if (a->sa_family == AF_INET6) {
        const struct in6_addr *ip = &((const struct sockaddr_in6 *)a)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(ip))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(ip) && ip->s6_addr[12] == 127;
    }
    return 0;
}

uint16_t addr_port(const struct sockaddr *a)
{
    if (a->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)a)->sin_port);
    if (a->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
    return 0;
}

char *addr_format(const struct sockaddr *a, char buf[ADDR_TEXT_MAX])
{
    char host[INET6_ADDRSTRLEN];
    if (a->sa_family == AF_INET &&
        inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, host,
                  sizeof host))
        snprintf(buf, ADDR_TEXT_MAX, "%s:%u", host, addr_port(a));
    else if (a->sa_family == AF_INET6 &&
             inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr,
                       host, sizeof host))
        snprintf(buf, ADDR_TEXT_MAX, "[%s]:%u", host, addr_port(a));
    else
        snprintf(buf, ADDR_TEXT_MAX, "?");
    return buf;
}
