// A fresh directory for a test's files, under $TMPDIR (or /tmp), removed with whatever is left in
// it: tests never share a fixed name, so two builds' suites can run at once.
#pragma once

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace sparq_test {

struct temp_dir {
    std::string path;
    temp_dir() {
        const char* base = std::getenv("TMPDIR");
        std::string name = std::string(base && *base ? base : "/tmp") + "/sparq_test_XXXXXX";
        REQUIRE(::mkdtemp(&name[0]) != nullptr);
        path = name;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        ::chmod(path.c_str(), 0700);
        for (const std::string& e : entries()) ::unlink((path + "/" + e).c_str());
        ::rmdir(path.c_str());
    }
    std::string operator/(const char* name) const { return path + "/" + name; }
    std::vector<std::string> entries() const {
        std::vector<std::string> out;
        if (DIR* d = ::opendir(path.c_str())) {
            while (dirent* e = ::readdir(d))
                if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") out.push_back(e->d_name);
            ::closedir(d);
        }
        return out;
    }
};

}  // namespace sparq_test
