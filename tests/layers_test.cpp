// The layers (docs/architecture.md): x509 -> policy -> directory -> client ->
// server -> cli; a lower layer never includes a higher one (the server uses
// the client side for its upstream connections; the client never uses the
// server). OpenSSL and Boost headers are reachable from every target, so
// linking alone would not catch a wrong include: this test reads every source
// and header of the tree. SQLite's and libpq's headers stay in directory.
#include "support/catch.hpp"

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

int layer_of_path(const fs::path& relative) {
    const std::string p = relative.generic_string();
    for (auto [prefix, layer] : std::vector<std::pair<std::string, int>>{{"include/certauth/x509/", 1},
                                                                         {"src/x509/", 1},
                                                                         {"include/certauth/policy/", 2},
                                                                         {"src/policy/", 2},
                                                                         {"include/certauth/directory/", 3},
                                                                         {"src/directory/", 3},
                                                                         {"include/certauth/client/", 4},
                                                                         {"src/client/", 4},
                                                                         {"include/certauth/server/", 5},
                                                                         {"src/server/", 5},
                                                                         {"src/asio/", 4},
                                                                         {"src/cli/", 6},
                                                                         {"include/certauth/", 0},
                                                                         {"src/", 0}})
        if (p.rfind(prefix, 0) == 0) return layer;
    return -1;
}

int layer_of_include(const std::string& header) {
    if (header.rfind("certauth/x509/", 0) == 0) return 1;
    if (header.rfind("certauth/policy/", 0) == 0) return 2;
    if (header.rfind("certauth/directory/", 0) == 0) return 3;
    if (header == "sqlite3.h" || header == "libpq-fe.h") return 3; // the databases stay inside directory
    if (header.rfind("certauth/client/", 0) == 0) return 4;
    if (header.rfind("certauth/server/", 0) == 0) return 5;
    if (header.rfind("cli/", 0) == 0) return 6;
    if (header.rfind("boost/", 0) == 0) return 4; // Asio and Beast stay inside client and server
    if (header.rfind("CLI/", 0) == 0) return 6;   // CLI11 stays inside cli
    return 0;
}

// Every line of the tree's sources and headers (src/main.cpp aside) with
// its file, relative to the root, and the file's layer; the number of files.
std::size_t for_each_source_line(
    const std::function<void(const std::string& file, int layer, int number, const std::string& line)>& visit) {
    const fs::path root = CERTAUTH_SOURCE_DIR;
    std::size_t files = 0;
    for (const auto& dir : {root / "include", root / "src"}) {
        for (const auto& entry : fs::recursive_directory_iterator(dir)) {
            if (!entry.is_regular_file()) continue;
            const std::string relative = fs::relative(entry.path(), root).generic_string();
            const int layer = layer_of_path(relative);
            if (layer < 0 || relative == "src/main.cpp") continue;
            ++files;
            std::ifstream in(entry.path());
            std::string line;
            int number = 0;
            while (std::getline(in, line))
                visit(relative, layer, ++number, line);
        }
    }
    return files;
}

std::string listed(const std::vector<std::string>& violations) {
    std::string s;
    for (const auto& v : violations)
        s += "  " + v + "\n";
    return s;
}

} // namespace

TEST_CASE("no layer includes a higher one, Boost stays in src/client and src/server, SQLite and libpq in "
          "src/directory, CLI11 in cli",
          "[layers]") {
    const std::regex include_re(R"(^\s*#\s*include\s*[<"]([^>"]+)[>"])");
    std::vector<std::string> violations;
    const std::size_t files =
        for_each_source_line([&](const std::string& file, int layer, int number, const std::string& line) {
            std::smatch m;
            if (!std::regex_search(line, m, include_re)) return;
            const int target = layer_of_include(m[1]);
            // Public headers never expose Asio/Beast: they would cost every file that
            // includes them a minute of compile time (docs/architecture.md).
            const bool boost_in_public_header = file.rfind("include/", 0) == 0 && m[1].str().rfind("boost/", 0) == 0;
            if (target > layer || boost_in_public_header)
                violations.push_back(file + ":" + std::to_string(number) + ": " + m[1].str());
        });
    CHECK(files > 5);
    INFO("violations:\n" << listed(violations));
    CHECK(violations.empty());
}

// The library says what is wrong; the CLI says which flag gave it
// (src/cli/setting_flag.hpp), since a configuration file, a scenario file or
// a program calling the library gives the same setting another way. A string
// literal below the CLI that spells a long option ("--cacert") or -k fails.
TEST_CASE("no string of the library names a command-line flag", "[layers]") {
    const std::regex literal_re(R"re("(?:[^"\\]|\\.)*")re");
    const std::regex flag_re(R"re((^|[^A-Za-z0-9-])(--[a-z][a-z-]+|-k\b))re");
    std::vector<std::string> violations;
    const std::size_t files =
        for_each_source_line([&](const std::string& file, int layer, int number, const std::string& line) {
            if (layer > 5) return; // the CLI names its flags; below it, the shared vocabulary (0) to the server
            const std::size_t first = line.find_first_not_of(" \t");
            if (first != std::string::npos && line.compare(first, 2, "//") == 0) return;
            for (std::sregex_iterator it(line.begin(), line.end(), literal_re), end; it != end; ++it) {
                const std::string literal = it->str();
                std::smatch flag;
                if (std::regex_search(literal, flag, flag_re))
                    violations.push_back(file + ":" + std::to_string(number) + ": " + flag[2].str() + " in " + literal);
            }
        });
    CHECK(files > 50);
    INFO("violations:\n" << listed(violations));
    CHECK(violations.empty());
}
