// Whole-file reads with a size limit checked before anything is allocated, and writes that
// never leave a half-written file behind (a temporary next to the target, renamed at the end).
// Hosted builds only: firmware has no files and never includes this header.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sparq/core/status.hpp"

// POSIX gives the temporary a unique name created with O_EXCL (mkstemp: never an existing file,
// never through a planted symlink) and fsync; elsewhere C11's exclusive "x" mode is the fallback.
#if defined(__unix__) || defined(__APPLE__)
#define SPARQ_IO_POSIX 1
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#else
#define SPARQ_IO_POSIX 0
#endif

namespace sparq::io {

inline result<std::vector<unsigned char>> read_file(const char* path, std::size_t max_bytes) {
    std::FILE* f = std::fopen(path, "rb");
    if (!f) return status(errc::io_error, "%s: cannot open: %s", path, std::strerror(errno));
#if SPARQ_IO_POSIX
    // glibc opens a directory for reading and seeks its end to LONG_MAX: ask what it is first.
    struct stat st;
    if (::fstat(::fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        std::fclose(f);
        return status(errc::io_error, "%s: is a directory", path);
    }
#endif
    long size = -1;
    if (std::fseek(f, 0, SEEK_END) == 0) size = std::ftell(f);
    if (size < 0 || std::fseek(f, 0, SEEK_SET) != 0) {
        std::fclose(f);
        return status(errc::io_error, "%s: not a regular file (cannot find its size)", path);
    }
    if (std::size_t(size) > max_bytes) {
        std::fclose(f);
        return status(errc::out_of_memory, "%s: %ld bytes, over the limit of %zu", path, size, max_bytes);
    }
    std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
    const std::size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f);
    const bool failed = got != bytes.size() || std::ferror(f);
    std::fclose(f);
    if (failed) return status(errc::io_error, "%s: read %zu of %ld bytes", path, got, size);
    return bytes;
}

#if SPARQ_IO_POSIX
namespace detail {

// The permissions a plain creat() would have given the file: mkstemp makes it 0600, which would
// hide a model from the other users of a shared directory. The umask is read, not set and
// restored, because umask() changes it for every thread of the process meanwhile.
inline mode_t new_file_mode(const char* path) {
    struct stat st;
    // replacing a regular file (not through a link): keep its permission bits, never set-id bits
    if (::lstat(path, &st) == 0 && S_ISREG(st.st_mode)) return st.st_mode & 0777;
    mode_t mask = 022;
    if (std::FILE* s = std::fopen("/proc/self/status", "r")) {
        char line[128];
        unsigned m = 0;
        while (std::fgets(line, sizeof line, s))
            if (std::sscanf(line, "Umask: %o", &m) == 1) {
                mask = mode_t(m);
                break;
            }
        std::fclose(s);
    }
    return 0666 & ~mask;
}

}  // namespace detail

inline status write_file(const char* path, const std::string& bytes) {
    // Next to the target, so that rename() is one atomic step on one file system; unique, so
    // concurrent writers of one output each write their own file and the last rename wins whole.
    std::string tmp = std::string(path) + ".tmp-sparq-XXXXXX";
    const int fd = ::mkstemp(&tmp[0]);
    if (fd < 0) return status(errc::io_error, "%s: cannot create a temporary next to it: %s", path, std::strerror(errno));
    auto fail = [&](const char* what, int e) {
        ::unlink(tmp.c_str());
        return status(errc::io_error, "%s: %s: %s", path, what, std::strerror(e));
    };
    const char* p = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int e = n < 0 ? errno : EIO;
            ::close(fd);
            return fail("write failed", e);
        }
        p += n, left -= std::size_t(n);
    }
    // The mode is best effort: file systems without POSIX permissions (vfat on a USB stick for
    // firmware, SMB) refuse fchmod, and the file is still right.
    (void)::fchmod(fd, detail::new_file_mode(path));
    // fsync before rename: otherwise a crash may leave the new name pointing at an empty file
    // (some file systems cannot sync a file: EINVAL / ENOTSUP is not a failed write).
    if (::fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP) {
        const int e = errno;
        ::close(fd);
        return fail("write failed", e);
    }
    if (::close(fd) != 0) return fail("write failed", errno);
    if (std::rename(tmp.c_str(), path) != 0) return fail("cannot replace it", errno);
    return status::success();
}
#else
inline status write_file(const char* path, const std::string& bytes) {
    // No mkstemp: "x" (C11) still refuses an existing file or link at the temporary's name, so a
    // second writer fails with a status instead of sharing the temporary.
    const std::string tmp = std::string(path) + ".tmp-sparq";
    std::FILE* f = std::fopen(tmp.c_str(), "wbx");
    if (!f) return status(errc::io_error, "%s: cannot create: %s", tmp.c_str(), std::strerror(errno));
    const bool wrote = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0;
    const int write_errno = errno;
    const bool closed = std::fclose(f) == 0;
    if (!wrote || !closed || std::rename(tmp.c_str(), path) != 0) {
        const int e = !wrote ? write_errno : errno;
        std::remove(tmp.c_str());
        return status(errc::io_error, "%s: write failed: %s", path, std::strerror(e));
    }
    return status::success();
}
#endif

}  // namespace sparq::io
