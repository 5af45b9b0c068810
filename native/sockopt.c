/*
 * sockopt.node: a minimal Node-API addon giving haproxy-ts access to setsockopt(2) and
 * getsockopt(2) on file descriptors that Node.js already owns (listening sockets created
 * by net.Server, accepted sockets). Node has no public API for these socket options.
 *
 * Exports:
 *   setIntOpt(fd, level, optname, value)   -> undefined   (int option)
 *   setStrOpt(fd, level, optname, string)  -> undefined   (string option, e.g. SO_BINDTODEVICE)
 *   getIntOpt(fd, level, optname)          -> number      (int option)
 *   getStrOpt(fd, level, optname)          -> string      (string option, e.g. SO_BINDTODEVICE)
 *   getTcpInfo(fd)                         -> Float64Array (TCP_INFO fields, see TCPI_* below;
 *                                             Linux only: absent when TCP_INFO is not defined)
 *   unixDgramSocket()                      -> number      (a non-blocking AF_UNIX datagram socket fd)
 *   unixDgramSend(fd, path, buffer)        -> number      (bytes sent, or -errno: EAGAIN when the
 *                                             receiver's queue is full, so the caller drops the log)
 *   udpSocket(family)                      -> number      (a non-blocking UDP socket fd, family 4 or 6)
 *   udpSend(fd, ip, port, buffer)          -> number      (bytes sent or -errno; one sendto(), no
 *                                             JS request object: syslog datagrams at request rate)
 *   setNonBlocking(fd)                     -> undefined   (O_NONBLOCK on a descriptor: log lines to a
 *                                             stalled pipe are dropped instead of blocking)
 *   closeFd(fd)                            -> undefined
 *   SOL_SOCKET, IPPROTO_TCP, IPPROTO_IP, ... (numbers; absent when the platform lacks them)
 *
 * Failures throw a JS Error whose message carries strerror(errno), with `code` set to the
 * errno name (e.g. "EPERM") when known and `errno` set to the number.
 *
 * Plain C against node_api.h only: no node-addon-api dependency.
 */
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <sys/resource.h>
#include <unistd.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <fcntl.h>

/* Returns NULL after throwing if a Node-API call failed (an exception is then pending). */
#define NAPI_OK(env, call)                                                   \
  do {                                                                       \
    if ((call) != napi_ok) {                                                 \
      bool pending_ = false;                                                 \
      napi_is_exception_pending((env), &pending_);                           \
      if (!pending_) napi_throw_error((env), NULL, "Node-API call failed");  \
      return NULL;                                                           \
    }                                                                        \
  } while (0)

static const char *errno_name(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EBADF: return "EBADF";
    case EFAULT: return "EFAULT";
    case EINVAL: return "EINVAL";
    case ENOTSOCK: return "ENOTSOCK";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case ENODEV: return "ENODEV";
    case ENOMEM: return "ENOMEM";
    case ENOBUFS: return "ENOBUFS";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EADDRINUSE: return "EADDRINUSE";
    default: return NULL;
  }
}

/* Throws Error("<what>: <strerror> (fd=<fd>, level=<l>, optname=<o>)") with code/errno. */
static void throw_errno(napi_env env, const char *what, int err, int fd, int level, int optname) {
  char msg[256];
  napi_value jmsg, jerr, jcode, jerrno;
  const char *name = errno_name(err);

  if (fd < 0 && level == 0 && optname == 0)
    snprintf(msg, sizeof(msg), "%s: %s", what, strerror(err));
  else
    snprintf(msg, sizeof(msg), "%s: %s (fd=%d, level=%d, optname=%d)", what, strerror(err), fd, level, optname);
  if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &jmsg) != napi_ok ||
      napi_create_error(env, NULL, jmsg, &jerr) != napi_ok) {
    napi_throw_error(env, name, msg);
    return;
  }
  if (name && napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &jcode) == napi_ok)
    napi_set_named_property(env, jerr, "code", jcode);
  if (napi_create_int32(env, err, &jerrno) == napi_ok)
    napi_set_named_property(env, jerr, "errno", jerrno);
  napi_throw(env, jerr);
}

/* Reads argument i as an int32, throwing a TypeError naming it when it is not a number. */
static int get_int_arg(napi_env env, napi_value *argv, size_t argc, size_t i, const char *name, int *out) {
  napi_valuetype t;
  char msg[96];

  if (i >= argc || napi_typeof(env, argv[i], &t) != napi_ok || t != napi_number) {
    snprintf(msg, sizeof(msg), "argument '%s' must be a number", name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  if (napi_get_value_int32(env, argv[i], out) != napi_ok) {
    napi_throw_type_error(env, NULL, "invalid number");
    return 0;
  }
  return 1;
}

static int get_common_args(napi_env env, const char *what, napi_value *argv, size_t argc, int *fd, int *level, int *optname) {
  if (!get_int_arg(env, argv, argc, 0, "fd", fd)) return 0;
  if (!get_int_arg(env, argv, argc, 1, "level", level)) return 0;
  if (!get_int_arg(env, argv, argc, 2, "optname", optname)) return 0;
  if (*fd < 0) {
    throw_errno(env, what, EBADF, *fd, *level, *optname);
    return 0;
  }
  return 1;
}

static napi_value set_int_opt(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int fd, level, optname, value;

  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_common_args(env, "setsockopt", argv, argc, &fd, &level, &optname)) return NULL;
  if (!get_int_arg(env, argv, argc, 3, "value", &value)) return NULL;
  if (setsockopt(fd, level, optname, &value, (socklen_t)sizeof(value)) != 0) {
    throw_errno(env, "setsockopt", errno, fd, level, optname);
    return NULL;
  }
  return NULL; /* undefined */
}

static napi_value set_str_opt(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_valuetype t;
  int fd, level, optname;
  char buf[256];
  size_t len = 0;

  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_common_args(env, "setsockopt", argv, argc, &fd, &level, &optname)) return NULL;
  if (argc < 4 || napi_typeof(env, argv[3], &t) != napi_ok || t != napi_string) {
    napi_throw_type_error(env, NULL, "argument 'value' must be a string");
    return NULL;
  }
  /* first query the length so that an over-long string is rejected rather than truncated */
  NAPI_OK(env, napi_get_value_string_utf8(env, argv[3], NULL, 0, &len));
  if (len >= sizeof(buf)) {
    napi_throw_range_error(env, NULL, "string option value too long");
    return NULL;
  }
  NAPI_OK(env, napi_get_value_string_utf8(env, argv[3], buf, sizeof(buf), &len));
  if (setsockopt(fd, level, optname, buf, (socklen_t)len) != 0) {
    throw_errno(env, "setsockopt", errno, fd, level, optname);
    return NULL;
  }
  return NULL;
}

static napi_value get_int_opt(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  int fd, level, optname, value = 0;
  socklen_t vlen = (socklen_t)sizeof(value);

  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_common_args(env, "getsockopt", argv, argc, &fd, &level, &optname)) return NULL;
  if (getsockopt(fd, level, optname, &value, &vlen) != 0) {
    throw_errno(env, "getsockopt", errno, fd, level, optname);
    return NULL;
  }
  NAPI_OK(env, napi_create_int32(env, value, &result));
  return result;
}

static napi_value get_str_opt(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  int fd, level, optname;
  char buf[256];
  socklen_t vlen = (socklen_t)sizeof(buf);

  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_common_args(env, "getsockopt", argv, argc, &fd, &level, &optname)) return NULL;
  memset(buf, 0, sizeof(buf));
  if (getsockopt(fd, level, optname, buf, &vlen) != 0) {
    throw_errno(env, "getsockopt", errno, fd, level, optname);
    return NULL;
  }
  if (vlen >= sizeof(buf)) vlen = sizeof(buf) - 1;
  buf[vlen] = '\0';
  /* the kernel may or may not count the terminating NUL: stop at the first one */
  NAPI_OK(env, napi_create_string_utf8(env, buf, strlen(buf), &result));
  return result;
}

#if defined(TCP_INFO) && defined(__linux__)
/* getTcpInfo(fd): reads struct tcp_info with getsockopt(IPPROTO_TCP, TCP_INFO) and returns the
 * fields the sample fetches need in a Float64Array, in this order (the TCPI_* constants give the
 * indexes): rtt (us), rttvar (us), unacked, sacked, lost, retrans (segments retransmitted and not
 * yet acknowledged), fackets, reordering, retransmits (unrecovered RTO timeouts), total_retrans,
 * state. A typed array keeps the call to one allocation. */
enum {
  TCPI_RTT, TCPI_RTTVAR, TCPI_UNACKED, TCPI_SACKED, TCPI_LOST, TCPI_RETRANS, TCPI_FACKETS,
  TCPI_REORDERING, TCPI_RETRANSMITS, TCPI_TOTAL_RETRANS, TCPI_STATE, TCPI_COUNT
};

static napi_value get_tcp_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], ab, result;
  int fd;
  struct tcp_info ti;
  socklen_t tlen = (socklen_t)sizeof(ti);
  void *data = NULL;
  double *v;

  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_int_arg(env, argv, argc, 0, "fd", &fd)) return NULL;
  if (fd < 0) {
    throw_errno(env, "getsockopt", EBADF, fd, IPPROTO_TCP, TCP_INFO);
    return NULL;
  }
  memset(&ti, 0, sizeof(ti));
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) != 0) {
    throw_errno(env, "getsockopt", errno, fd, IPPROTO_TCP, TCP_INFO);
    return NULL;
  }
  NAPI_OK(env, napi_create_arraybuffer(env, TCPI_COUNT * sizeof(double), &data, &ab));
  v = (double *)data;
  v[TCPI_RTT] = (double)ti.tcpi_rtt;
  v[TCPI_RTTVAR] = (double)ti.tcpi_rttvar;
  v[TCPI_UNACKED] = (double)ti.tcpi_unacked;
  v[TCPI_SACKED] = (double)ti.tcpi_sacked;
  v[TCPI_LOST] = (double)ti.tcpi_lost;
  v[TCPI_RETRANS] = (double)ti.tcpi_retrans;
  v[TCPI_FACKETS] = (double)ti.tcpi_fackets;
  v[TCPI_REORDERING] = (double)ti.tcpi_reordering;
  v[TCPI_RETRANSMITS] = (double)ti.tcpi_retransmits;
  v[TCPI_TOTAL_RETRANS] = (double)ti.tcpi_total_retrans;
  v[TCPI_STATE] = (double)ti.tcpi_state;
  NAPI_OK(env, napi_create_typedarray(env, napi_float64_array, TCPI_COUNT, ab, 0, &result));
  return result;
}
#endif

/* setNofileLimit(n): sets RLIMIT_NOFILE's soft limit to n, raising the hard limit too when n
 * exceeds it (which needs privileges). Used by the global "ulimit-n" keyword. */
static napi_value set_nofile_limit(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int n;
  struct rlimit rl;

  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_int_arg(env, argv, argc, 0, "limit", &n)) return NULL;
  if (n <= 0) { napi_throw_range_error(env, NULL, "limit must be positive"); return NULL; }
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) { throw_errno(env, "getrlimit", errno, -1, 0, 0); return NULL; }
  rl.rlim_cur = (rlim_t)n;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)n) rl.rlim_max = (rlim_t)n;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) { throw_errno(env, "setrlimit", errno, -1, 0, 0); return NULL; }
  return NULL;
}

/* getNofileLimit(): [soft, hard] of RLIMIT_NOFILE (-1 for unlimited). */
static napi_value get_nofile_limit(napi_env env, napi_callback_info info) {
  napi_value arr, v;
  struct rlimit rl;
  (void)info;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) { throw_errno(env, "getrlimit", errno, -1, 0, 0); return NULL; }
  NAPI_OK(env, napi_create_array_with_length(env, 2, &arr));
  NAPI_OK(env, napi_create_double(env, rl.rlim_cur == RLIM_INFINITY ? -1.0 : (double)rl.rlim_cur, &v));
  NAPI_OK(env, napi_set_element(env, arr, 0, v));
  NAPI_OK(env, napi_create_double(env, rl.rlim_max == RLIM_INFINITY ? -1.0 : (double)rl.rlim_max, &v));
  NAPI_OK(env, napi_set_element(env, arr, 1, v));
  return arr;
}

/* chrootTo(path): chroot(path) then chdir("/"), for the global "chroot" keyword. */
static napi_value chroot_to(napi_env env, napi_callback_info info) {
  size_t argc = 1, len = 0;
  napi_value argv[1];
  napi_valuetype t;
  char buf[4096];

  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_string) {
    napi_throw_type_error(env, NULL, "argument 'path' must be a string");
    return NULL;
  }
  NAPI_OK(env, napi_get_value_string_utf8(env, argv[0], NULL, 0, &len));
  if (len >= sizeof(buf)) { napi_throw_range_error(env, NULL, "path too long"); return NULL; }
  NAPI_OK(env, napi_get_value_string_utf8(env, argv[0], buf, sizeof(buf), &len));
  if (chroot(buf) != 0 || chdir("/") != 0) { throw_errno(env, "chroot", errno, -1, 0, 0); return NULL; }
  return NULL;
}

/* unixDgramSocket(): a non-blocking, close-on-exec AF_UNIX datagram socket for syslog sockets
 * such as /dev/log (Node's dgram module has no unix datagram sockets). */
/* A non-blocking, close-on-exec datagram socket of `domain` as a JS number, or NULL after
 * throwing. */
static napi_value new_dgram_socket(napi_env env, int domain) {
  napi_value r;
  int fd = socket(domain, SOCK_DGRAM, 0);
  if (fd < 0) { throw_errno(env, "socket", errno, -1, 0, 0); return NULL; }
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
    int e = errno;
    close(fd);
    throw_errno(env, "fcntl", e, -1, 0, 0);
    return NULL;
  }
  NAPI_OK(env, napi_create_int32(env, fd, &r));
  return r;
}

static napi_value unix_dgram_socket(napi_env env, napi_callback_info info) {
  (void)info;
  return new_dgram_socket(env, AF_UNIX);
}

/* unixDgramSend(fd, path, buffer): one sendto(); returns the bytes sent or -errno (never throws
 * on a send failure: a log that cannot be sent is dropped and counted by the caller). */
static napi_value unix_dgram_send(napi_env env, napi_callback_info info) {
  size_t argc = 3, len = 0, dlen = 0;
  napi_value argv[3], r;
  napi_valuetype t;
  struct sockaddr_un sun;
  void *data = NULL;
  bool isbuf = false;
  int fd;
  ssize_t n;

  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_int_arg(env, argv, argc, 0, "fd", &fd)) return NULL;
  if (argc < 3 || napi_typeof(env, argv[1], &t) != napi_ok || t != napi_string) {
    napi_throw_type_error(env, NULL, "argument 'path' must be a string");
    return NULL;
  }
  memset(&sun, 0, sizeof(sun));
  sun.sun_family = AF_UNIX;
  NAPI_OK(env, napi_get_value_string_utf8(env, argv[1], NULL, 0, &len));
  if (len >= sizeof(sun.sun_path)) { napi_throw_range_error(env, NULL, "path too long"); return NULL; }
  NAPI_OK(env, napi_get_value_string_utf8(env, argv[1], sun.sun_path, sizeof(sun.sun_path), &len));
  NAPI_OK(env, napi_is_buffer(env, argv[2], &isbuf));
  if (!isbuf) { napi_throw_type_error(env, NULL, "argument 'data' must be a Buffer"); return NULL; }
  NAPI_OK(env, napi_get_buffer_info(env, argv[2], &data, &dlen));
  n = sendto(fd, data, dlen, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sun, sizeof(sun));
  NAPI_OK(env, napi_create_int32(env, n < 0 ? -errno : (int)n, &r));
  return r;
}

/* udpSocket(family): a non-blocking, close-on-exec UDP socket (family 4 or 6). */
static napi_value udp_socket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int fam;
  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_int_arg(env, argv, argc, 0, "family", &fam)) return NULL;
  return new_dgram_socket(env, fam == 6 ? AF_INET6 : AF_INET);
}

/* udpSend(fd, ip, port, buffer): one sendto(); returns the bytes sent or -errno. */
static napi_value udp_send(napi_env env, napi_callback_info info) {
  size_t argc = 4, len = 0, dlen = 0;
  napi_value argv[4], r;
  napi_valuetype t;
  char ip[64];
  void *data = NULL;
  bool isbuf = false;
  int fd, port;
  ssize_t n;
  struct sockaddr_in sin;
  struct sockaddr_in6 sin6;

  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_int_arg(env, argv, argc, 0, "fd", &fd)) return NULL;
  if (!get_int_arg(env, argv, argc, 2, "port", &port)) return NULL;
  if (argc < 4 || napi_typeof(env, argv[1], &t) != napi_ok || t != napi_string) {
    napi_throw_type_error(env, NULL, "argument 'ip' must be a string");
    return NULL;
  }
  NAPI_OK(env, napi_get_value_string_utf8(env, argv[1], ip, sizeof(ip), &len));
  NAPI_OK(env, napi_is_buffer(env, argv[3], &isbuf));
  if (!isbuf) { napi_throw_type_error(env, NULL, "argument 'data' must be a Buffer"); return NULL; }
  NAPI_OK(env, napi_get_buffer_info(env, argv[3], &data, &dlen));
  memset(&sin, 0, sizeof(sin));
  memset(&sin6, 0, sizeof(sin6));
  if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1) {
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)port);
    n = sendto(fd, data, dlen, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sin, sizeof(sin));
  } else if (inet_pton(AF_INET6, ip, &sin6.sin6_addr) == 1) {
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons((unsigned short)port);
    n = sendto(fd, data, dlen, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sin6, sizeof(sin6));
  } else {
    n = -1;
    errno = EINVAL;
  }
  NAPI_OK(env, napi_create_int32(env, n < 0 ? -errno : (int)n, &r));
  return r;
}

/* setNonBlocking(fd): sets O_NONBLOCK (for fd@N/stdout/stderr log targets). */
static napi_value set_non_blocking(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int fd, fl;
  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_int_arg(env, argv, argc, 0, "fd", &fd)) return NULL;
  fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) { throw_errno(env, "fcntl", errno, fd, 0, 0); return NULL; }
  return NULL;
}

/* closeFd(fd) */
static napi_value close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int fd;
  NAPI_OK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_int_arg(env, argv, argc, 0, "fd", &fd)) return NULL;
  close(fd);
  return NULL;
}

static int export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, name, fn) == napi_ok;
}

static int export_int(napi_env env, napi_value exports, const char *name, int v) {
  napi_value n;
  return napi_create_int32(env, v, &n) == napi_ok &&
         napi_set_named_property(env, exports, name, n) == napi_ok;
}

#define EXPORT_CONST(c) do { if (!export_int(env, exports, #c, (c))) return NULL; } while (0)

static napi_value init(napi_env env, napi_value exports) {
  if (!export_fn(env, exports, "setIntOpt", set_int_opt) ||
      !export_fn(env, exports, "setStrOpt", set_str_opt) ||
      !export_fn(env, exports, "getIntOpt", get_int_opt) ||
      !export_fn(env, exports, "getStrOpt", get_str_opt) ||
      !export_fn(env, exports, "setNofileLimit", set_nofile_limit) ||
      !export_fn(env, exports, "getNofileLimit", get_nofile_limit) ||
      !export_fn(env, exports, "chrootTo", chroot_to) ||
      !export_fn(env, exports, "unixDgramSocket", unix_dgram_socket) ||
      !export_fn(env, exports, "unixDgramSend", unix_dgram_send) ||
      !export_fn(env, exports, "udpSocket", udp_socket) ||
      !export_fn(env, exports, "udpSend", udp_send) ||
      !export_fn(env, exports, "setNonBlocking", set_non_blocking) ||
      !export_fn(env, exports, "closeFd", close_fd))
    return NULL;
#if defined(TCP_INFO) && defined(__linux__)
  if (!export_fn(env, exports, "getTcpInfo", get_tcp_info)) return NULL;
  EXPORT_CONST(TCP_INFO);
  EXPORT_CONST(TCPI_RTT);
  EXPORT_CONST(TCPI_RTTVAR);
  EXPORT_CONST(TCPI_UNACKED);
  EXPORT_CONST(TCPI_SACKED);
  EXPORT_CONST(TCPI_LOST);
  EXPORT_CONST(TCPI_RETRANS);
  EXPORT_CONST(TCPI_FACKETS);
  EXPORT_CONST(TCPI_REORDERING);
  EXPORT_CONST(TCPI_RETRANSMITS);
  EXPORT_CONST(TCPI_TOTAL_RETRANS);
  EXPORT_CONST(TCPI_STATE);
#endif

  EXPORT_CONST(SOL_SOCKET);
  EXPORT_CONST(IPPROTO_TCP);
  EXPORT_CONST(IPPROTO_IP);
  EXPORT_CONST(IPPROTO_IPV6);
#ifdef TCP_DEFER_ACCEPT
  EXPORT_CONST(TCP_DEFER_ACCEPT);
#endif
#ifdef TCP_FASTOPEN
  EXPORT_CONST(TCP_FASTOPEN);
#endif
#ifdef TCP_MAXSEG
  EXPORT_CONST(TCP_MAXSEG);
#endif
#ifdef SO_BINDTODEVICE
  EXPORT_CONST(SO_BINDTODEVICE);
#endif
#ifdef IP_FREEBIND
  EXPORT_CONST(IP_FREEBIND);
#endif
#ifdef IP_TRANSPARENT
  EXPORT_CONST(IP_TRANSPARENT);
#endif
#ifdef IPV6_TRANSPARENT
  EXPORT_CONST(IPV6_TRANSPARENT);
#endif
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
