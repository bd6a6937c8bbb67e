#include "support/files.hpp"

#include "support/process.hpp"

#include "support/catch.hpp"

#include <fstream>
#include <sstream>
#include <system_error>

#include <stdlib.h>

namespace fs = std::filesystem;

namespace certauth::test {

std::string fixture(const std::string& name) { return source_path("fixtures/" + name); }

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    INFO("reading " << path.string());
    REQUIRE(in);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_atomically(const fs::path& path, const std::string& text) {
    const fs::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        REQUIRE(out.good());
    }
    fs::rename(tmp, path);
}

TempDir::TempDir() {
    std::string pattern = (fs::temp_directory_path() / "certauth-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
}

TempDir::~TempDir() {
    std::error_code ignored;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ignored);
    fs::remove_all(path, ignored);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
    const fs::path file = path / name;
    std::ofstream(file, std::ios::binary) << content;
    return file.string();
}

} // namespace certauth::test
