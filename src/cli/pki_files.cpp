#include "cli/pki_files.hpp"

#include <cerrno>
#include <cstring>
#include <set>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace certauth::cli {
namespace {

namespace fs = std::filesystem;

// Writes `content` to `path`, replacing a file that is there; the mode is set
// before any byte is written, so a key is never readable by others.
Result<void> write_one(const fs::path& path, const std::string& content, Secrecy secrecy) {
    const mode_t mode = secrecy == Secrecy::private_key ? 0600 : 0644;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) return Error{path.string() + ": cannot write: " + std::strerror(errno)};
    bool ok = ::fchmod(fd, mode) == 0; // an existing file keeps its mode through open()
    for (std::size_t done = 0; ok && done < content.size();) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        ok = n > 0;
        if (ok) done += static_cast<std::size_t>(n);
    }
    const int saved = errno;
    ok = ::close(fd) == 0 && ok;
    if (!ok) return Error{path.string() + ": write error: " + std::strerror(saved != 0 ? saved : errno)};
    return {};
}

} // namespace

Result<void> write_pki_files(const fs::path& dir, const std::vector<PkiFile>& files, Overwrite overwrite) {
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
        return Error{dir.string() + ": exists and is not a directory"};
    if (overwrite == Overwrite::refuse) {
        std::size_t existing = 0;
        std::string first;
        for (const PkiFile& file : files) {
            if (!fs::exists(fs::symlink_status(dir / file.path, ec))) continue;
            if (existing++ == 0) first = (dir / file.path).string();
        }
        if (existing > 0)
            return Error{first + " exists" +
                         (existing > 1 ? " (and " + std::to_string(existing - 1) + " more of the files to write)"
                                       : std::string()) +
                         "; nothing was written: give --force to overwrite"};
    }
    std::set<fs::path> made;
    for (const PkiFile& file : files) {
        const fs::path target = dir / file.path;
        const fs::path parent = target.parent_path();
        if (!parent.empty() && made.insert(parent).second) {
            fs::create_directories(parent, ec);
            if (ec) return Error{parent.string() + ": cannot create the directory: " + ec.message()};
        }
        if (Result<void> r = write_one(target, file.content, file.secrecy); !r) return r;
    }
    return {};
}

} // namespace certauth::cli
