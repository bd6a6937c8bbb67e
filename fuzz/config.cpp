// Fuzz target: the TOML configuration file as the CLI reads it. The bytes are
// written to a file and parsed, without running anything, by the root app
// run() builds (make_root_app: every subcommand's options, --config with the
// resolving reader), with a `check`, `serve` or `probe` command line. CLI11's
// ParseError is the expected failure (run() turns it into exit 2); any other
// exception would escape run() and is a finding, as are crashes and UB.
// The bytes, and check's `at` from the file, also go through parse_time, as
// `check --at` reads them.
#include "cli/check_time.hpp"
#include "cli/config_file.hpp"
#include "cli/root_app.hpp"

#include <certauth/directory/location.hpp>
#include <certauth/x509/time_text.hpp>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;

const std::string k_file = [] {
    const char* tmp = std::getenv("TMPDIR");
    return (fs::path(tmp && *tmp ? tmp : "/tmp") / ("certauth-fuzz-" + std::to_string(::getpid()) + ".toml")).string();
}();

void write_file(const std::uint8_t* data, std::size_t size) {
    std::FILE* f = std::fopen(k_file.c_str(), "wb");
    if (f == nullptr) __builtin_trap();
    if (size > 0 && std::fwrite(data, 1, size, f) != size) __builtin_trap();
    std::fclose(f);
}

// check --at TEXT: a time read is printed back (whole seconds, UTC) as a
// time that reads as the same second.
void check_time(std::string_view text) {
    using namespace std::chrono;
    const system_clock::time_point now = sys_days{year{2025} / 6 / 1};
    const auto time = certauth::cli::parse_time(text, now);
    if (!time) return;
    const std::string printed = certauth::x509::timestamp_text(*time);
    const auto again = certauth::cli::parse_time(printed, now);
    if (!again || *again != floor<seconds>(*time)) __builtin_trap();
    (void)certauth::x509::date_text(*time);
}

void parse(std::vector<const char*> argv) {
    certauth::cli::RootApp root = certauth::cli::make_root_app();
    CLI::App& app = *root.app;
    try {
        app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
        std::ostringstream out, err;
        (void)app.exit(e, out, err); // the message run() prints
        return;
    }
    if (certauth::cli::config_file_used(app) != k_file) __builtin_trap();
    // Paths from the file are resolved against its directory: absolute. A
    // user directory's is the path in sqlite:PATH (a postgresql:// URI has
    // none; a location that does not parse is refused when it is loaded).
    for (const CLI::App* sub : app.get_subcommands())
        for (const char* name : {"--ca", "--crl", "--users", "--cert", "--key", "--cacert", "--scenarios"})
            if (const CLI::Option* option = sub->get_option_no_throw(name))
                for (const std::string& value : option->results()) {
                    std::string path = value;
                    if (std::string_view(name) == "--users") {
                        const auto location = certauth::directory::parse_location(value);
                        if (!location || location->kind == certauth::directory::Kind::postgresql) continue;
                        path = location->target;
                    }
                    if (!path.empty() && path != "-" && fs::path(path).is_relative()) __builtin_trap();
                }
    if (const CLI::App* check = app.get_subcommand("check"); check->parsed())
        for (const std::string& value : check->get_option("--at")->results())
            check_time(value);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check_time(std::string_view(reinterpret_cast<const char*>(data), size));
    write_file(data, size);
    const char* file = k_file.c_str();
    // One command line per input (building the app is most of the cost),
    // chosen by the input's size so that every input replays the same way.
    switch (size % 3) {
    case 0: parse({"certauth", "check", "--config", file, "joe.crt"}); break;
    case 1: parse({"certauth", "serve", "--config", file}); break;
    default: parse({"certauth", "probe", "--config", file, "https://localhost:3443/"}); break;
    }
    return 0;
}
