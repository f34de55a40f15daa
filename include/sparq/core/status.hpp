// status and result<T>: how sparq reports bad input without exceptions. A status carries an
// error code and a message that names the problem (the shape, the dtype, the file offset);
// the message lives in a fixed buffer inside the status, so reporting an error never allocates.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <type_traits>
#include <utility>

#include "sparq/core/config.hpp"

namespace sparq {

enum class errc : std::uint8_t {
    ok = 0,
    invalid_argument,  // a value outside what the function accepts
    shape_mismatch,    // extents that do not fit together
    out_of_range,      // an index or a byte range outside its container
    overflow,          // a size or offset that does not fit its integer type
    misaligned,        // a pointer that does not meet an alignment the path needs
    out_of_memory,     // an allocation (heap or arena) that could not be served
    unsupported,       // valid, but not implemented by this backend / build
    not_available,     // a resource that this machine or build does not have
    io_error,          // the operating system refused a read or write
    parse_error,       // a file whose bytes are not what its format says
    dtype_mismatch,    // an element type that the operation does not take
};

constexpr const char* to_string(errc code) noexcept {
    switch (code) {
        case errc::ok: return "ok";
        case errc::invalid_argument: return "invalid argument";
        case errc::shape_mismatch: return "shape mismatch";
        case errc::out_of_range: return "out of range";
        case errc::overflow: return "overflow";
        case errc::misaligned: return "misaligned";
        case errc::out_of_memory: return "out of memory";
        case errc::unsupported: return "unsupported";
        case errc::not_available: return "not available";
        case errc::io_error: return "i/o error";
        case errc::parse_error: return "parse error";
        case errc::dtype_mismatch: return "dtype mismatch";
    }
    return "unknown error";
}

class [[nodiscard]] status {
public:
    static constexpr std::size_t max_message = 200;  // longer messages are cut, never overflow

    constexpr status() noexcept = default;  // ok

    // A failed status; the message is printf-formatted.
    // (Without SPARQ_STATUS_FORMAT, the format string itself: see core/config.hpp.)
    SPARQ_PRINTF_FORMAT(3, 4) status(errc code, const char* format, ...) noexcept : code_(code) {
#if SPARQ_STATUS_FORMAT
        std::va_list args;
        va_start(args, format);
        std::vsnprintf(message_, sizeof message_, format, args);
        va_end(args);
#else
        std::size_t i = 0;
        for (; format[i] != '\0' && i + 1 < sizeof message_; ++i) message_[i] = format[i];
        message_[i] = '\0';
#endif
    }

    static constexpr status success() noexcept { return status(); }

    constexpr bool ok() const noexcept { return code_ == errc::ok; }
    constexpr explicit operator bool() const noexcept { return ok(); }
    constexpr errc code() const noexcept { return code_; }
    // The message alone ("" for ok). what() prefixes it with the code's name.
    constexpr const char* message() const noexcept { return message_; }

    // "<code>: <message>", into the caller's buffer (no allocation).
    const char* what(char* buffer, std::size_t size) const noexcept {
        if (size == 0) return buffer;
        // Truncation is the intent here; only an encoding error leaves nothing to show.
        if (std::snprintf(buffer, size, "%s: %s", to_string(code_), message_) < 0) buffer[0] = '\0';
        return buffer;
    }

private:
    errc code_ = errc::ok;
    char message_[max_message] = {};
};

// Either a T or the status that explains why there is none.
template <class T>
class [[nodiscard]] result {
    static_assert(!std::is_reference_v<T>, "result<T&> is not supported; use result<T*>");

public:
    result(T value) noexcept(std::is_nothrow_move_constructible_v<T>) : value_(std::move(value)) {}
    result(status error) noexcept : error_(error) {
        SPARQ_CHECK(!error_.ok(), "a result made from a status must hold an error");
        if (error_.ok()) error_ = status(errc::invalid_argument, "result made from an ok status");
    }

    bool ok() const noexcept { return value_.has_value(); }
    explicit operator bool() const noexcept { return ok(); }
    const status& error() const noexcept { return error_; }

    // Access to the value requires ok(); on an error it aborts with the error's message (in
    // every build: one branch, and the alternative would be reading an empty optional).
    T& value() & noexcept { SPARQ_ALWAYS_CHECK(ok(), error_.message()); return *value_; }
    const T& value() const& noexcept { SPARQ_ALWAYS_CHECK(ok(), error_.message()); return *value_; }
    T&& value() && noexcept { SPARQ_ALWAYS_CHECK(ok(), error_.message()); return std::move(*value_); }
    T* operator->() noexcept { return &value(); }
    const T* operator->() const noexcept { return &value(); }
    T& operator*() & noexcept { return value(); }
    const T& operator*() const& noexcept { return value(); }
    T&& operator*() && noexcept { return std::move(*this).value(); }

    template <class U>
    T value_or(U&& fallback) const& { return ok() ? *value_ : static_cast<T>(std::forward<U>(fallback)); }

private:
    std::optional<T> value_;
    status error_;
};

}  // namespace sparq

// Return early from a function returning status (or result<T>) when an expression fails.
#define SPARQ_TRY(expr)                          \
    do {                                         \
        ::sparq::status sparq_try_status_ = (expr); \
        if (!sparq_try_status_.ok()) return sparq_try_status_; \
    } while (0)
