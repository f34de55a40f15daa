// Facts about the process and the machine a benchmark states beside its figures.
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace sparq_cli {

// The process's peak resident set so far in bytes (getrusage's ru_maxrss, which Linux gives in
// KiB); 0 when the call fails.
inline std::uint64_t peak_rss_bytes() {
    rusage u{};
    if (getrusage(RUSAGE_SELF, &u) != 0 || u.ru_maxrss < 0) return 0;
#if defined(__APPLE__)
    return std::uint64_t(u.ru_maxrss);  // bytes there
#else
    return std::uint64_t(u.ru_maxrss) * 1024;
#endif
}

// The CPU's model name from /proc/cpuinfo ("model name" on x86), or empty where there is none
// (aarch64 kernels list only part numbers). The text is the kernel's: callers escape it.
inline std::string cpu_model_name() {
    std::FILE* f = std::fopen("/proc/cpuinfo", "r");
    if (!f) return {};
    char line[512];
    std::string name;
    while (std::fgets(line, sizeof line, f)) {
        if (std::strncmp(line, "model name", 10) != 0) continue;
        const char* colon = std::strchr(line, ':');
        if (!colon) continue;
        name = colon + 1;
        const std::size_t b = name.find_first_not_of(" \t"), e = name.find_last_not_of(" \t\r\n");
        name = b == std::string::npos ? std::string() : name.substr(b, e - b + 1);
        break;
    }
    std::fclose(f);
    return name;
}

}  // namespace sparq_cli
