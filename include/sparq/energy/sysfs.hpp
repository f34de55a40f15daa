// Reading the one-line text attributes of sysfs (powercap zones, perf PMUs). Every failure is a
// not_available status that names the file and the reason: a meter that cannot read must say so,
// never report 0 J. Linux only; elsewhere this header declares nothing.
#pragma once

#include "sparq/core/status.hpp"

#if defined(__linux__)
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sparq::energy::sysfs {

inline status read_error(const char* path, int error, const char* eacces_hint) noexcept {
    if (error == ENOENT) return status(errc::not_available, "%s does not exist", path);
    const bool denied = error == EACCES || error == EPERM;
    return status(errc::not_available, "cannot read %s: %s%s", path, std::strerror(error),
                  denied ? eacces_hint : "");
}

// The whole file into buf, trailing newline and blanks cut. sysfs serves an attribute in one
// read, but a regular file (the tests' fake trees) may need several.
inline status read_text(const char* path, char* buf, std::size_t size, const char* eacces_hint = "") noexcept {
    SPARQ_CHECK(size > 1, "read_text needs room for one byte and the terminator");
    int fd = -1;
    do fd = ::open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return read_error(path, errno, eacces_hint);
    std::size_t used = 0;
    for (;;) {
        char extra = 0;  // once buf is full, one more byte tells "too long" from "exactly full"
        const bool full = used == size - 1;
        const ssize_t n = full ? ::read(fd, &extra, 1) : ::read(fd, buf + used, size - 1 - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {  // EISDIR lands here: open() accepts a directory, read() does not
            const int error = errno;
            ::close(fd);
            return read_error(path, error, eacces_hint);
        }
        if (n == 0) break;
        if (full) {
            ::close(fd);
            return status(errc::not_available, "%s is longer than %zu bytes: not a sysfs attribute", path, size - 1);
        }
        used += static_cast<std::size_t>(n);
    }
    ::close(fd);
    while (used > 0 && (buf[used - 1] == '\n' || buf[used - 1] == ' ' || buf[used - 1] == '\t')) --used;
    buf[used] = '\0';
    return status::success();
}

// Digits only: strtoull would take "-1" as 2^64 - 1, and a counter must not read as garbage.
inline result<std::uint64_t> parse_u64(const char* text, const char* path) noexcept {
    std::uint64_t value = 0;
    const char* p = text;
    for (; *p >= '0' && *p <= '9'; ++p) {
        const auto digit = static_cast<std::uint64_t>(*p - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return status(errc::not_available, "%s holds \"%.40s\": larger than 64 bits", path, text);
        value = value * 10 + digit;
    }
    if (p == text || *p != '\0')
        return status(errc::not_available, "%s holds \"%.40s\", not a whole number", path, text);
    return value;
}

inline result<std::uint64_t> read_u64(const char* path, const char* eacces_hint = "") noexcept {
    char text[64];
    SPARQ_TRY(read_text(path, text, sizeof text, eacces_hint));
    return parse_u64(text, path);
}

// "<a>/<b>[/<c>]" into out, or a status when it does not fit.
template <std::size_t N>
status join(char (&out)[N], const char* a, const char* b, const char* c = nullptr) noexcept {
    const int n = c ? std::snprintf(out, N, "%s/%s/%s", a, b, c) : std::snprintf(out, N, "%s/%s", a, b);
    if (n < 0 || static_cast<std::size_t>(n) >= N)
        return status(errc::not_available, "path %s/%s%s%s is longer than %zu bytes", a, b, c ? "/" : "",
                      c ? c : "", N - 1);
    return status::success();
}

inline bool is_directory(const char* path) noexcept {
    struct stat info {};
    return ::stat(path, &info) == 0 && S_ISDIR(info.st_mode);
}

}  // namespace sparq::energy::sysfs

#endif  // __linux__
