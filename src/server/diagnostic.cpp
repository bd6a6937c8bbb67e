#include "diagnostic.hpp"

#include <array>
#include <cstring>

#include <unistd.h>

namespace certauth::server::detail {

void diagnostic(std::string_view text) noexcept {
    // A fixed buffer: a diagnostic must not fail for want of memory (it
    // reports out-of-memory conditions too). Longer texts are cut.
    constexpr std::string_view prefix = "certauth: ";
    std::array<char, 4096> line{};
    std::size_t size = prefix.copy(line.data(), prefix.size());
    size += text.copy(line.data() + size, line.size() - size - 1);
    line[size++] = '\n';
    std::size_t done = 0;
    while (done < size) {
        const ssize_t n = ::write(2, line.data() + done, size - done);
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

} // namespace certauth::server::detail
