// A stand-in libusb-1.0.so.0 that forwards to the simulator's USB socket
// (../shared/notes/usb-socket.md), so that unmodified programs such as dfu-util talk to a
// simulated board: LD_LIBRARY_PATH=build/libusb-shim QSPIBOOT_SIM_SOCKET=/path dfu-util -l
// It implements the 22 functions dfu-util 0.11 imports, with libusb's own types (libusb.h),
// presents one device when the board has one on the bus, enforces request timeouts itself
// and maps a STALL to LIBUSB_ERROR_PIPE.
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <libusb-1.0/libusb.h>

#define EXPORT __attribute__((visibility("default")))

enum { OP_CONTROL = 1, OP_RESET = 2 };

struct libusb_context { int unused; };
struct libusb_device {
  int refs;
  struct libusb_device_descriptor desc;
};
struct libusb_device_handle { struct libusb_device* dev; };

static int sock_fd = -1;
// Replies the server still owes for requests whose timeout expired here: each is read and
// dropped before the next reply is expected (the socket answers every request, in order).
static int owed_replies;
static int owed_in[64];

static int connect_socket(void) {
  if (sock_fd >= 0) return 0;
  const char* path = getenv("QSPIBOOT_SIM_SOCKET");
  if (!path || strlen(path) >= sizeof(((struct sockaddr_un*)0)->sun_path)) return LIBUSB_ERROR_NOT_FOUND;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return LIBUSB_ERROR_IO;
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  strcpy(sa.sun_path, path);
  if (connect(fd, (struct sockaddr*)&sa, sizeof sa) < 0) { close(fd); return LIBUSB_ERROR_NOT_FOUND; }
  sock_fd = fd;
  return 0;
}

static int write_all(const void* buf, size_t n) {
  const uint8_t* p = buf;
  while (n) {
    ssize_t w = write(sock_fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return LIBUSB_ERROR_IO;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

// Read exactly n bytes; deadline_ms 0 = wait forever. Returns 0, or LIBUSB_ERROR_TIMEOUT/IO.
static int read_all(void* buf, size_t n, long deadline_ms) {
  uint8_t* p = buf;
  while (n) {
    if (deadline_ms) {
      long left = deadline_ms - now_ms();
      if (left <= 0) return LIBUSB_ERROR_TIMEOUT;
      struct pollfd pfd = { sock_fd, POLLIN, 0 };
      int r = poll(&pfd, 1, (int)left);
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) return LIBUSB_ERROR_TIMEOUT;
      if (r < 0) return LIBUSB_ERROR_IO;
    }
    ssize_t got = read(sock_fd, p, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return LIBUSB_ERROR_IO;
    p += got;
    n -= (size_t)got;
  }
  return 0;
}

static int32_t le32(const uint8_t* p) { return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24); }

// Read one reply: result, then `result` data bytes when it is a device-to-host CONTROL.
static int read_reply(int is_in, uint8_t* data, int max, long deadline_ms, int32_t* result) {
  uint8_t head[4];
  int r = read_all(head, 4, deadline_ms);
  if (r) return r;
  *result = le32(head);
  if (is_in && *result > 0) {
    uint8_t scratch[256];
    int left = *result;
    while (left > 0) {
      int chunk = data && max > 0 ? (left < max ? left : max) : (left < (int)sizeof scratch ? left : (int)sizeof scratch);
      // The reply must be read whole once started: no deadline inside it.
      r = read_all(data && max > 0 ? data : scratch, (size_t)chunk, 0);
      if (r) return r;
      if (data && max > 0) { data += chunk; max -= chunk; }
      left -= chunk;
    }
  }
  return 0;
}

static int drain_owed(void) {
  while (owed_replies > 0) {
    int32_t ignored;
    int r = read_reply(owed_in[0], NULL, 0, 0, &ignored);
    if (r) return r;
    memmove(owed_in, owed_in + 1, sizeof owed_in - sizeof owed_in[0]);
    owed_replies--;
  }
  return 0;
}

static int control(uint8_t bmRequestType, uint8_t bRequest, uint16_t wValue, uint16_t wIndex,
                   uint8_t* data, uint16_t wLength, unsigned timeout_ms) {
  int r = connect_socket();
  if (r) return r;
  if ((r = drain_owed())) return r;
  uint8_t req[13] = { OP_CONTROL, bmRequestType, bRequest, (uint8_t)wValue, (uint8_t)(wValue >> 8),
    (uint8_t)wIndex, (uint8_t)(wIndex >> 8), (uint8_t)wLength, (uint8_t)(wLength >> 8),
    (uint8_t)timeout_ms, (uint8_t)(timeout_ms >> 8), (uint8_t)(timeout_ms >> 16), (uint8_t)(timeout_ms >> 24) };
  int is_in = (bmRequestType & 0x80) != 0;
  if ((r = write_all(req, sizeof req))) return r;
  if (!is_in && wLength && (r = write_all(data, wLength))) return r;
  int32_t result;
  r = read_reply(is_in, is_in ? data : NULL, wLength, timeout_ms ? now_ms() + timeout_ms : 0, &result);
  if (r == LIBUSB_ERROR_TIMEOUT) {
    if (owed_replies < (int)(sizeof owed_in / sizeof owed_in[0])) owed_in[owed_replies++] = is_in;
    return LIBUSB_ERROR_TIMEOUT;
  }
  if (r) return r;
  return result;
}

// ---- library ----
static struct libusb_context default_context;

EXPORT int libusb_init(libusb_context** ctx) {
  if (ctx) *ctx = &default_context;
  return 0;
}

EXPORT void libusb_exit(libusb_context* ctx) {
  (void)ctx;
  if (sock_fd >= 0) { close(sock_fd); sock_fd = -1; }
  owed_replies = 0;
}

EXPORT int libusb_set_option(libusb_context* ctx, enum libusb_option option, ...) {
  (void)ctx;
  (void)option;
  return 0;
}

EXPORT const struct libusb_version* libusb_get_version(void) {
  static const struct libusb_version v = { 1, 0, 26, 0, "", "https://libusb.info (qspiboot simulator stand-in)" };
  return &v;
}

EXPORT const char* libusb_error_name(int code) {
  switch (code) {
    case LIBUSB_SUCCESS: return "LIBUSB_SUCCESS";
    case LIBUSB_ERROR_IO: return "LIBUSB_ERROR_IO";
    case LIBUSB_ERROR_INVALID_PARAM: return "LIBUSB_ERROR_INVALID_PARAM";
    case LIBUSB_ERROR_ACCESS: return "LIBUSB_ERROR_ACCESS";
    case LIBUSB_ERROR_NO_DEVICE: return "LIBUSB_ERROR_NO_DEVICE";
    case LIBUSB_ERROR_NOT_FOUND: return "LIBUSB_ERROR_NOT_FOUND";
    case LIBUSB_ERROR_BUSY: return "LIBUSB_ERROR_BUSY";
    case LIBUSB_ERROR_TIMEOUT: return "LIBUSB_ERROR_TIMEOUT";
    case LIBUSB_ERROR_OVERFLOW: return "LIBUSB_ERROR_OVERFLOW";
    case LIBUSB_ERROR_PIPE: return "LIBUSB_ERROR_PIPE";
    case LIBUSB_ERROR_INTERRUPTED: return "LIBUSB_ERROR_INTERRUPTED";
    case LIBUSB_ERROR_NO_MEM: return "LIBUSB_ERROR_NO_MEM";
    case LIBUSB_ERROR_NOT_SUPPORTED: return "LIBUSB_ERROR_NOT_SUPPORTED";
    default: return "LIBUSB_ERROR_OTHER";
  }
}

// ---- devices ----
EXPORT ssize_t libusb_get_device_list(libusb_context* ctx, libusb_device*** list) {
  (void)ctx;
  *list = calloc(2, sizeof **list);
  if (!*list) return LIBUSB_ERROR_NO_MEM;
  uint8_t d[18];
  int r = control(0x80, LIBUSB_REQUEST_GET_DESCRIPTOR, LIBUSB_DT_DEVICE << 8, 0, d, sizeof d, 1000);
  if (r != (int)sizeof d) return 0; // no device on the bus (the board runs its application)
  libusb_device* dev = calloc(1, sizeof *dev);
  if (!dev) return LIBUSB_ERROR_NO_MEM;
  dev->refs = 1;
  struct libusb_device_descriptor* dd = &dev->desc;
  dd->bLength = d[0]; dd->bDescriptorType = d[1]; dd->bcdUSB = (uint16_t)(d[2] | d[3] << 8);
  dd->bDeviceClass = d[4]; dd->bDeviceSubClass = d[5]; dd->bDeviceProtocol = d[6]; dd->bMaxPacketSize0 = d[7];
  dd->idVendor = (uint16_t)(d[8] | d[9] << 8); dd->idProduct = (uint16_t)(d[10] | d[11] << 8);
  dd->bcdDevice = (uint16_t)(d[12] | d[13] << 8); dd->iManufacturer = d[14]; dd->iProduct = d[15];
  dd->iSerialNumber = d[16]; dd->bNumConfigurations = d[17];
  (*list)[0] = dev;
  return 1;
}

EXPORT void libusb_free_device_list(libusb_device** list, int unref) {
  if (!list) return;
  if (unref) for (libusb_device** p = list; *p; p++) libusb_unref_device(*p);
  free(list);
}

EXPORT libusb_device* libusb_ref_device(libusb_device* dev) { dev->refs++; return dev; }
EXPORT void libusb_unref_device(libusb_device* dev) { if (dev && --dev->refs == 0) free(dev); }

EXPORT int libusb_get_device_descriptor(libusb_device* dev, struct libusb_device_descriptor* desc) {
  *desc = dev->desc;
  return 0;
}

EXPORT uint8_t libusb_get_bus_number(libusb_device* dev) { (void)dev; return 1; }
EXPORT uint8_t libusb_get_device_address(libusb_device* dev) { (void)dev; return 7; }
EXPORT int libusb_get_port_numbers(libusb_device* dev, uint8_t* ports, int len) {
  (void)dev;
  if (len < 1) return LIBUSB_ERROR_OVERFLOW;
  ports[0] = 1;
  return 1;
}

// Parse a configuration descriptor as libusb does: interfaces grouped with their alternate
// settings, endpoints, and each descriptor's trailing class-specific bytes in `extra`.
static int parse_config(const uint8_t* b, int len, struct libusb_config_descriptor** out) {
  struct libusb_config_descriptor* c = calloc(1, sizeof *c);
  if (!c) return LIBUSB_ERROR_NO_MEM;
  c->bLength = b[0]; c->bDescriptorType = b[1]; c->wTotalLength = (uint16_t)(b[2] | b[3] << 8);
  c->bNumInterfaces = b[4]; c->bConfigurationValue = b[5]; c->iConfiguration = b[6];
  c->bmAttributes = b[7]; c->MaxPower = b[8];
  struct libusb_interface* itfs = calloc(c->bNumInterfaces ? c->bNumInterfaces : 1, sizeof *itfs);
  if (!itfs) { free(c); return LIBUSB_ERROR_NO_MEM; }
  c->interface = itfs;
  struct libusb_interface_descriptor* cur = NULL;
  for (int o = b[0]; o + 2 <= len && b[o] >= 2 && o + b[o] <= len; o += b[o]) {
    const uint8_t* d = b + o;
    if (d[1] == LIBUSB_DT_INTERFACE && d[0] >= 9 && d[2] < c->bNumInterfaces) {
      struct libusb_interface* itf = &itfs[d[2]];
      struct libusb_interface_descriptor* alts = realloc((void*)itf->altsetting, (size_t)(itf->num_altsetting + 1) * sizeof *alts);
      if (!alts) return LIBUSB_ERROR_NO_MEM;
      itf->altsetting = alts;
      cur = &alts[itf->num_altsetting++];
      memset(cur, 0, sizeof *cur);
      cur->bLength = d[0]; cur->bDescriptorType = d[1]; cur->bInterfaceNumber = d[2]; cur->bAlternateSetting = d[3];
      cur->bNumEndpoints = 0; cur->bInterfaceClass = d[5]; cur->bInterfaceSubClass = d[6];
      cur->bInterfaceProtocol = d[7]; cur->iInterface = d[8];
    } else if (cur) {
      // Class-specific descriptors after an interface (the DFU functional descriptor) are its extra bytes.
      unsigned char* extra = realloc((void*)cur->extra, (size_t)cur->extra_length + d[0]);
      if (!extra) return LIBUSB_ERROR_NO_MEM;
      memcpy(extra + cur->extra_length, d, d[0]);
      cur->extra = extra;
      cur->extra_length += d[0];
    } else {
      unsigned char* extra = realloc((void*)c->extra, (size_t)c->extra_length + d[0]);
      if (!extra) return LIBUSB_ERROR_NO_MEM;
      memcpy(extra + c->extra_length, d, d[0]);
      c->extra = extra;
      c->extra_length += d[0];
    }
  }
  *out = c;
  return 0;
}

EXPORT int libusb_get_config_descriptor(libusb_device* dev, uint8_t index, struct libusb_config_descriptor** config) {
  (void)dev;
  uint8_t head[9];
  int r = control(0x80, LIBUSB_REQUEST_GET_DESCRIPTOR, (uint16_t)(LIBUSB_DT_CONFIG << 8 | index), 0, head, sizeof head, 1000);
  if (r < 0) return r == LIBUSB_ERROR_PIPE ? LIBUSB_ERROR_NOT_FOUND : r;
  if (r < 9) return LIBUSB_ERROR_IO;
  int total = head[2] | head[3] << 8;
  uint8_t* buf = malloc((size_t)total);
  if (!buf) return LIBUSB_ERROR_NO_MEM;
  r = control(0x80, LIBUSB_REQUEST_GET_DESCRIPTOR, (uint16_t)(LIBUSB_DT_CONFIG << 8 | index), 0, buf, (uint16_t)total, 1000);
  if (r < 9) { free(buf); return r < 0 ? r : LIBUSB_ERROR_IO; }
  r = parse_config(buf, r, config);
  free(buf);
  return r;
}

EXPORT void libusb_free_config_descriptor(struct libusb_config_descriptor* c) {
  if (!c) return;
  for (int i = 0; i < c->bNumInterfaces; i++) {
    const struct libusb_interface* itf = &c->interface[i];
    for (int a = 0; a < itf->num_altsetting; a++) free((void*)itf->altsetting[a].extra);
    free((void*)itf->altsetting);
  }
  free((void*)c->interface);
  free((void*)c->extra);
  free(c);
}

// ---- handles ----
EXPORT int libusb_open(libusb_device* dev, libusb_device_handle** handle) {
  libusb_device_handle* h = calloc(1, sizeof *h);
  if (!h) return LIBUSB_ERROR_NO_MEM;
  h->dev = libusb_ref_device(dev);
  *handle = h;
  return 0;
}

EXPORT void libusb_close(libusb_device_handle* h) {
  if (!h) return;
  libusb_unref_device(h->dev);
  free(h);
}

EXPORT int libusb_claim_interface(libusb_device_handle* h, int n) { (void)h; (void)n; return 0; }
EXPORT int libusb_release_interface(libusb_device_handle* h, int n) { (void)h; (void)n; return 0; }

EXPORT int libusb_set_interface_alt_setting(libusb_device_handle* h, int itf, int alt) {
  (void)h;
  int r = control(0x01, LIBUSB_REQUEST_SET_INTERFACE, (uint16_t)alt, (uint16_t)itf, NULL, 0, 1000);
  return r < 0 ? (r == LIBUSB_ERROR_PIPE ? LIBUSB_ERROR_NOT_FOUND : r) : 0;
}

EXPORT int libusb_control_transfer(libusb_device_handle* h, uint8_t bmRequestType, uint8_t bRequest,
                                   uint16_t wValue, uint16_t wIndex, unsigned char* data, uint16_t wLength,
                                   unsigned int timeout) {
  (void)h;
  // The socket already speaks libusb's error codes (a STALL is LIBUSB_ERROR_PIPE).
  return control(bmRequestType, bRequest, wValue, wIndex, data, wLength, timeout);
}

EXPORT int libusb_reset_device(libusb_device_handle* h) {
  (void)h;
  int r = connect_socket();
  if (r) return r;
  if ((r = drain_owed())) return r;
  uint8_t op = OP_RESET;
  if ((r = write_all(&op, 1))) return r;
  int32_t result;
  if ((r = read_reply(0, NULL, 0, 0, &result))) return r;
  return result == 0 ? 0 : LIBUSB_ERROR_NOT_FOUND;
}
