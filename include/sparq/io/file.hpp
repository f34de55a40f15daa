// Whole-file reads with a size limit checked before anything is allocated, and writes that
// never leave a half-written file behind (a temporary next to the target, renamed at the end).
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "sparq/core/status.hpp"

namespace sparq::io {

inline result<std::vector<unsigned char>> read_file(const char* path, std::size_t max_bytes) {
    std::FILE* f = std::fopen(path, "rb");
    if (!f) return status(errc::io_error, "%s: cannot open: %s", path, std::strerror(errno));
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

inline status write_file(const char* path, const std::string& bytes) {
    const std::string tmp = std::string(path) + ".tmp-sparq";
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) return status(errc::io_error, "%s: cannot create: %s", tmp.c_str(), std::strerror(errno));
    const bool wrote = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    const bool closed = std::fclose(f) == 0;
    if (!wrote || !closed || std::rename(tmp.c_str(), path) != 0) {
        const int e = errno;
        std::remove(tmp.c_str());
        return status(errc::io_error, "%s: write failed: %s", path, std::strerror(e));
    }
    return status::success();
}

}  // namespace sparq::io
