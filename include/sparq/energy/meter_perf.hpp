// The same package counters through perf (the "power" PMU, event energy-pkg): works where
// perf_event_paranoid or CAP_PERFMON allow system-wide events even if powercap files are root-only,
// and the kernel extends the counter to 64 bits, so there is no wrap to handle. Linux only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "sparq/core/status.hpp"
#include "sparq/energy/sysfs.hpp"

#if defined(__linux__)
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace sparq::energy {

inline constexpr const char* default_perf_pmu_dir = "/sys/bus/event_source/devices/power";

// What perf_event_open needs, read from the PMU's sysfs directory.
struct perf_event_spec {
    static constexpr std::size_t max_cpus = 32;
    char event[32] = {};              // "energy-pkg"
    std::uint32_t type = 0;           // <pmu>/type: the PMU's dynamic type number
    std::uint64_t config = 0;         // <pmu>/events/<event>: "event=0x02"
    double joules_per_count = 0;      // <pmu>/events/<event>.scale
    int cpus[max_cpus] = {};          // <pmu>/cpumask: one CPU per package
    std::size_t cpu_count = 0;
};

// "event=0x02". The power PMU's format has one field, event (config bits 0-7); any other term
// would need the format/ files to place it, so it is refused rather than misread.
inline result<std::uint64_t> parse_perf_event_config(const char* text, const char* path) noexcept {
    if (std::strncmp(text, "event=", 6) != 0)
        return status(errc::not_available, "%s holds \"%.40s\", not \"event=<number>\"", path, text);
    char* end = nullptr;
    const unsigned long long value = std::strtoull(text + 6, &end, 0);  // 0x02 or 2
    if (text[6] < '0' || text[6] > '9' || *end != '\0')
        return status(errc::not_available, "%s holds \"%.40s\", not \"event=<number>\"", path, text);
    return static_cast<std::uint64_t>(value);
}

// A CPU list as sysfs writes it: "0", "0,24", "0-1,8".
inline status parse_cpu_list(const char* text, perf_event_spec& spec, const char* path) noexcept {
    spec.cpu_count = 0;
    const char* p = text;
    for (;;) {
        char* end = nullptr;
        const long first = std::strtol(p, &end, 10);
        long last = first;
        if (end == p || first < 0) break;
        p = end;
        if (*p == '-') {
            last = std::strtol(p + 1, &end, 10);
            if (end == p + 1 || last < first) break;
            p = end;
        }
        for (long cpu = first; cpu <= last; ++cpu) {
            if (spec.cpu_count == perf_event_spec::max_cpus)
                return status(errc::not_available, "%s lists more than %zu CPUs", path, perf_event_spec::max_cpus);
            spec.cpus[spec.cpu_count++] = static_cast<int>(cpu);
        }
        if (*p == '\0') return status::success();
        if (*p++ != ',') break;
    }
    return status(errc::not_available, "%s holds \"%.40s\", not a CPU list", path, text);
}

#if defined(__linux__)

inline result<perf_event_spec> read_perf_event_spec(const char* pmu_dir = default_perf_pmu_dir,
                                                    const char* event = "energy-pkg") noexcept {
    perf_event_spec spec;
    if (std::strlen(event) >= sizeof spec.event)
        return status(errc::invalid_argument, "perf event name \"%.40s\" is too long", event);
    std::memcpy(spec.event, event, std::strlen(event) + 1);
    if (!sysfs::is_directory(pmu_dir))
        return status(errc::not_available, "%s does not exist: the kernel has no RAPL power PMU here (a VM?)", pmu_dir);

    char path[256], text[128], file[64];
    SPARQ_TRY(sysfs::join(path, pmu_dir, "type"));
    auto type = sysfs::read_u64(path);
    if (!type) return type.error();
    if (*type > UINT32_MAX) return status(errc::not_available, "%s holds %llu: not a PMU type", path,
                                          static_cast<unsigned long long>(*type));
    spec.type = static_cast<std::uint32_t>(*type);

    SPARQ_TRY(sysfs::join(path, pmu_dir, "events", event));
    SPARQ_TRY(sysfs::read_text(path, text, sizeof text));
    auto config = parse_perf_event_config(text, path);
    if (!config) return config.error();
    spec.config = *config;

    std::snprintf(file, sizeof file, "%.31s.scale", event);
    SPARQ_TRY(sysfs::join(path, pmu_dir, "events", file));
    SPARQ_TRY(sysfs::read_text(path, text, sizeof text));
    char* end = nullptr;
    spec.joules_per_count = std::strtod(text, &end);
    if (end == text || *end != '\0' || !(spec.joules_per_count > 0))
        return status(errc::not_available, "%s holds \"%.40s\", not a positive scale", path, text);

    // The scale is joules only if the unit says so; an older kernel without the file meant joules.
    std::snprintf(file, sizeof file, "%.31s.unit", event);
    SPARQ_TRY(sysfs::join(path, pmu_dir, "events", file));
    status unit = sysfs::read_text(path, text, sizeof text);
    if (unit.ok() && std::strcmp(text, "Joules") != 0)
        return status(errc::not_available, "%s says \"%.40s\", not Joules", path, text);

    SPARQ_TRY(sysfs::join(path, pmu_dir, "cpumask"));
    SPARQ_TRY(sysfs::read_text(path, text, sizeof text));
    SPARQ_TRY(parse_cpu_list(text, spec, path));
    return spec;
}

#else

inline result<perf_event_spec> read_perf_event_spec(const char* = default_perf_pmu_dir,
                                                    const char* = "energy-pkg") noexcept {
    return status(errc::not_available, "perf: not Linux");
}

#endif

// One open counter per package (the cpumask CPUs). Owns file descriptors: move-only.
class perf_reader {
public:
    perf_reader() noexcept = default;
    perf_reader(perf_reader&& other) noexcept { *this = std::move(other); }
    perf_reader& operator=(perf_reader&& other) noexcept {
        if (this != &other) {
            close_all();
            std::memcpy(fds_, other.fds_, sizeof fds_);
            std::memcpy(base_, other.base_, sizeof base_);
            count_ = std::exchange(other.count_, 0);
            joules_per_count_ = other.joules_per_count_;
            started_ = other.started_;
        }
        return *this;
    }
    perf_reader(const perf_reader&) = delete;
    perf_reader& operator=(const perf_reader&) = delete;
    ~perf_reader() { close_all(); }

    static result<perf_reader> open(const perf_event_spec& spec) noexcept;

    std::size_t packages() const noexcept { return count_; }
    status start() noexcept;
    result<double> joules_since_start() noexcept;

private:
    result<std::uint64_t> read_count(std::size_t i) const noexcept;
    void close_all() noexcept {
#if defined(__linux__)
        for (std::size_t i = 0; i < count_; ++i) ::close(fds_[i]);
#endif
        count_ = 0;
    }

    int fds_[perf_event_spec::max_cpus] = {};
    std::uint64_t base_[perf_event_spec::max_cpus] = {};
    std::size_t count_ = 0;
    double joules_per_count_ = 0;
    bool started_ = false;
};

#if defined(__linux__)

inline result<perf_reader> perf_reader::open(const perf_event_spec& spec) noexcept {
    perf_reader reader;
    reader.joules_per_count_ = spec.joules_per_count;
    for (std::size_t i = 0; i < spec.cpu_count; ++i) {
        perf_event_attr attr{};
        attr.type = spec.type;
        attr.size = sizeof attr;
        attr.config = spec.config;
        // pid -1 with a CPU: the whole package that CPU belongs to, every process (system-wide).
        const long fd = ::syscall(SYS_perf_event_open, &attr, -1, spec.cpus[i], -1, PERF_FLAG_FD_CLOEXEC);
        if (fd < 0) {
            const int error = errno;
            char paranoid[16] = "?";
            if (!sysfs::read_text("/proc/sys/kernel/perf_event_paranoid", paranoid, sizeof paranoid).ok())
                std::strcpy(paranoid, "?");
            return status(errc::not_available,
                          "perf_event_open(power/%s, cpu %d): %s (perf_event_paranoid is %s: system-wide "
                          "events need root, CAP_PERFMON or a value <= 0)",
                          spec.event, spec.cpus[i], std::strerror(error), paranoid);
        }
        reader.fds_[reader.count_++] = static_cast<int>(fd);
    }
    if (reader.count_ == 0) return status(errc::not_available, "perf: power/%s lists no CPU to count on", spec.event);
    return result<perf_reader>(std::move(reader));
}

inline result<std::uint64_t> perf_reader::read_count(std::size_t i) const noexcept {
    std::uint64_t count = 0;
    const ssize_t n = ::read(fds_[i], &count, sizeof count);
    if (n != static_cast<ssize_t>(sizeof count))
        return status(errc::not_available, "reading the perf energy counter: %s",
                      n < 0 ? std::strerror(errno) : "short read");
    return count;
}

inline status perf_reader::start() noexcept {
    for (std::size_t i = 0; i < count_; ++i) {
        auto count = read_count(i);
        if (!count) return count.error();
        base_[i] = *count;
    }
    started_ = true;
    return status::success();
}

inline result<double> perf_reader::joules_since_start() noexcept {
    if (!started_) return status(errc::invalid_argument, "perf reader: joules_since_start() before start()");
    std::uint64_t counts = 0;
    for (std::size_t i = 0; i < count_; ++i) {
        auto count = read_count(i);
        if (!count) return count.error();
        counts += *count - base_[i];
    }
    return static_cast<double>(counts) * joules_per_count_;
}

#else

inline result<perf_reader> perf_reader::open(const perf_event_spec&) noexcept {
    return status(errc::not_available, "perf: not Linux");
}
inline result<std::uint64_t> perf_reader::read_count(std::size_t) const noexcept {
    return status(errc::not_available, "perf: not Linux");
}
inline status perf_reader::start() noexcept { return status(errc::not_available, "perf: not Linux"); }
inline result<double> perf_reader::joules_since_start() noexcept { return status(errc::not_available, "perf: not Linux"); }

#endif

}  // namespace sparq::energy
