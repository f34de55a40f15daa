// RAPL energy counters through Linux powercap (/sys/class/powercap/intel-rapl:*): Intel, and AMD
// Zen, whose counters recent kernels publish under the same zone names. Package zones of every
// socket by default. Linux only; elsewhere open() says "not Linux".
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "sparq/core/status.hpp"
#include "sparq/energy/sysfs.hpp"

#if defined(__linux__)
#include <dirent.h>
#endif

namespace sparq::energy {

inline constexpr const char* default_powercap_root = "/sys/class/powercap";

// The energy a counter gained from `before` to `now`. A RAPL counter runs from 0 to its
// max_energy_range_uj and starts again at 0, so a smaller reading means it wrapped once. Two
// wraps between reads cannot be seen: read at least once per wrap period (minutes at full power).
constexpr std::uint64_t rapl_delta_uj(std::uint64_t before, std::uint64_t now, std::uint64_t max_range_uj) noexcept {
    return now >= before ? now - before : max_range_uj - before + now;
}

// "intel-rapl:N" (a top-level zone) or "intel-rapl:N:M" (a subzone). Not "intel-rapl" (the
// control type) and not "intel-rapl-mmio:N": the MMIO interface publishes the package counters
// a second time, and summing both would count each package twice.
constexpr bool is_rapl_zone_dir(const char* name) noexcept {
    const char prefix[] = "intel-rapl:";
    for (std::size_t i = 0; i + 1 < sizeof prefix; ++i)
        if (name[i] != prefix[i]) return false;
    const char* p = name + sizeof prefix - 1;
    for (int part = 0; part < 2; ++part) {
        if (*p < '0' || *p > '9') return false;
        while (*p >= '0' && *p <= '9') ++p;
        if (*p == '\0') return true;
        if (*p++ != ':') return false;
    }
    return false;
}

// A zone named "package-0" (or "package-0-die-1") belongs to domain "package"; "dram" to "dram".
constexpr bool rapl_domain_matches(const char* zone_name, const char* domain) noexcept {
    std::size_t i = 0;
    for (; domain[i] != '\0'; ++i)
        if (zone_name[i] != domain[i]) return false;
    return zone_name[i] == '\0' || zone_name[i] == '-';
}

// Sums one domain over all sockets. One domain per reader is what prevents double counting: a
// package zone already contains its core and uncore subzones (and psys contains the packages), so
// a reader never adds a zone to one of its parents. Measure "dram" with a second reader.
class rapl_reader {
public:
    static constexpr std::size_t max_zones = 32;
    static constexpr std::size_t max_path = 256;

    static result<rapl_reader> open(const char* root = default_powercap_root,
                                    const char* domain = "package") noexcept;

    std::size_t zones() const noexcept { return count_; }
    const char* domain() const noexcept { return domain_; }
    const char* root() const noexcept { return root_; }

    status start() noexcept;
    // Energy of all zones since start(). Each call also folds the counters' progress into the
    // totals, so calling it more often than the wrap period keeps long measurements right.
    result<std::uint64_t> microjoules_since_start() noexcept;

private:
    struct zone {
        char dir[40] = {};  // "intel-rapl:N:M", validated by is_rapl_zone_dir
        std::uint64_t max_range_uj = 0;
        std::uint64_t last_uj = 0;
        std::uint64_t total_uj = 0;
    };

    result<std::uint64_t> read_energy(const zone& z) const noexcept;

    char root_[max_path] = {};
    char domain_[32] = {};
    zone zones_[max_zones];
    std::size_t count_ = 0;
    bool started_ = false;
};

#if defined(__linux__)

// energy_uj became root-only with the fix for PLATYPUS (CVE-2020-8694), a power side channel.
inline constexpr const char* rapl_eacces_hint =
    " (root-only since the PLATYPUS fix, CVE-2020-8694: run as root or chmod o+r)";

inline result<std::uint64_t> rapl_reader::read_energy(const zone& z) const noexcept {
    char path[max_path];
    SPARQ_TRY(sysfs::join(path, root_, z.dir, "energy_uj"));
    auto energy = sysfs::read_u64(path, rapl_eacces_hint);
    if (energy.ok() && *energy > z.max_range_uj)  // the wrap arithmetic would be meaningless
        return status(errc::not_available, "%s holds %llu, above its max_energy_range_uj %llu", path,
                      static_cast<unsigned long long>(*energy), static_cast<unsigned long long>(z.max_range_uj));
    return energy;
}

inline result<rapl_reader> rapl_reader::open(const char* root, const char* domain) noexcept {
    rapl_reader reader;
    const std::size_t domain_length = std::strlen(domain);
    if (domain_length == 0 || domain_length >= sizeof reader.domain_)
        return status(errc::invalid_argument, "RAPL domain \"%.40s\" must have 1 to %zu characters", domain,
                      sizeof reader.domain_ - 1);
    if (std::strlen(root) >= sizeof reader.root_)
        return status(errc::not_available, "powercap root %.60s... is longer than %zu bytes", root, max_path - 1);
    std::memcpy(reader.domain_, domain, domain_length + 1);
    std::memcpy(reader.root_, root, std::strlen(root) + 1);

    DIR* dir = ::opendir(root);
    if (dir == nullptr) {
        if (errno == ENOENT)
            return status(errc::not_available, "%s does not exist: no powercap RAPL driver (a VM, or intel_rapl_msr not loaded)",
                          root);
        return status(errc::not_available, "cannot list %s: %s", root, std::strerror(errno));
    }
    // A plain function would need the DIR* closed on every return below: this does it once.
    struct dir_closer {
        DIR* d;
        ~dir_closer() { ::closedir(d); }
    } closer{dir};

    std::size_t mmio_skipped = 0, other_domains = 0;
    // Only the entries directly under root: sysfs lists every zone there once (subzones too) and
    // again inside its parent's directory; recursing would meet each subzone twice.
    while (const dirent* entry = ::readdir(dir)) {
        const char* name = entry->d_name;
        if (std::strncmp(name, "intel-rapl-mmio", 15) == 0) {
            ++mmio_skipped;
            continue;
        }
        if (!is_rapl_zone_dir(name)) continue;
        char path[max_path];
        char zone_name[64];
        SPARQ_TRY(sysfs::join(path, root, name, "name"));
        SPARQ_TRY(sysfs::read_text(path, zone_name, sizeof zone_name));
        if (!rapl_domain_matches(zone_name, domain)) {
            ++other_domains;
            continue;
        }
        if (reader.count_ == max_zones)
            return status(errc::not_available, "more than %zu RAPL %s zones under %s", max_zones, domain, root);
        zone& z = reader.zones_[reader.count_];
        if (std::strlen(name) >= sizeof z.dir)
            return status(errc::not_available, "RAPL zone directory %s/%.60s has an implausibly long name", root, name);
        std::memcpy(z.dir, name, std::strlen(name) + 1);
        SPARQ_TRY(sysfs::join(path, root, name, "max_energy_range_uj"));
        auto range = sysfs::read_u64(path);
        if (!range) return range.error();
        if (*range == 0) return status(errc::not_available, "%s is 0: no counter range to wrap at", path);
        z.max_range_uj = *range;
        auto energy = reader.read_energy(z);  // now, so "permission denied" shows at open, not mid-run
        if (!energy) return energy.error();
        z.last_uj = *energy;
        ++reader.count_;
    }
    if (reader.count_ == 0)
        return status(errc::not_available, "no RAPL zone named %s-* under %s (%zu zones of other domains, %zu intel-rapl-mmio entries skipped)",
                      domain, root, other_domains, mmio_skipped);
    return reader;
}

inline status rapl_reader::start() noexcept {
    for (std::size_t i = 0; i < count_; ++i) {
        auto energy = read_energy(zones_[i]);
        if (!energy) return energy.error();
        zones_[i].last_uj = *energy;
        zones_[i].total_uj = 0;
    }
    started_ = true;
    return status::success();
}

inline result<std::uint64_t> rapl_reader::microjoules_since_start() noexcept {
    if (!started_) return status(errc::invalid_argument, "RAPL reader: microjoules_since_start() before start()");
    std::uint64_t now[max_zones];
    for (std::size_t i = 0; i < count_; ++i) {  // all or nothing: a failed read changes no total
        auto energy = read_energy(zones_[i]);
        if (!energy) return energy.error();
        now[i] = *energy;
    }
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < count_; ++i) {
        zone& z = zones_[i];
        z.total_uj += rapl_delta_uj(z.last_uj, now[i], z.max_range_uj);
        z.last_uj = now[i];
        sum += z.total_uj;
    }
    return sum;
}

#else  // not Linux

inline result<rapl_reader> rapl_reader::open(const char*, const char*) noexcept {
    return status(errc::not_available, "RAPL: not Linux");
}
inline status rapl_reader::start() noexcept { return status(errc::not_available, "RAPL: not Linux"); }
inline result<std::uint64_t> rapl_reader::microjoules_since_start() noexcept {
    return status(errc::not_available, "RAPL: not Linux");
}
inline result<std::uint64_t> rapl_reader::read_energy(const zone&) const noexcept {
    return status(errc::not_available, "RAPL: not Linux");
}

#endif

}  // namespace sparq::energy
