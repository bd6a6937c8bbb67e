#include "cli/config_file.hpp"

#include <certauth/directory/location.hpp>
#include <certauth/x509/certificate.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

namespace certauth::cli {
namespace {

namespace fs = std::filesystem;

// Keys whose values are file paths, resolved relative to the file.
constexpr std::array<std::string_view, 8> k_path_keys{"ca",  "crl",    "users",     "cert",
                                                      "key", "cacert", "scenarios", "intermediate"};

// Top-level keys shared by the subcommands that decide (serve, check); a
// subcommand without them (probe) ignores them.
constexpr std::array<std::string_view, 6> k_shared_keys{"ca",    "crl",         "crl-required", "security-level",
                                                        "users", "intermediate"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& keys, std::string_view key) {
    for (auto k : keys)
        if (k == key) return true;
    return false;
}

// CLI11's TOML reader, plus: the top-level (shared) keys move into the
// section of the subcommand that runs (so one file configures serve and
// check alike), and relative paths become relative to the file's directory.
class ResolvingConfig : public CLI::ConfigTOML {
  public:
    explicit ResolvingConfig(const CLI::App& root) : m_root(root) {}

    bool from_file(const std::string& option_name) const { return m_from_file.count(option_name) > 0; }

    std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
        // CLI11 merges a key repeated on consecutive lines into one item:
        // repeats are found in the text first.
        const std::string text(std::istreambuf_iterator<char>(input), {});
        refuse_repeated_keys(text);
        std::istringstream again(text);
        std::vector<CLI::ConfigItem> items = CLI::ConfigTOML::from_config(again);
        const fs::path base = config_directory();
        const CLI::App* active = nullptr;
        for (const CLI::App* sub : m_root.get_subcommands())
            active = sub;

        std::vector<CLI::ConfigItem> out;
        out.reserve(items.size());
        std::set<std::string> seen; // full names after the move into the section
        for (CLI::ConfigItem& item : items) {
            if (item.name == "++" || item.name == "--") {
                out.push_back(std::move(item));
                continue;
            }
            // CLI11 also takes a key spelled as the option ("--cert" for
            // cert): one spelling from here on, so that its path resolves too.
            if (const auto start = item.name.find_first_not_of('-'); start != 0 && start != std::string::npos)
                item.name.erase(0, start);
            // The top level holds the shared keys only, whichever subcommand
            // runs: a file that serve takes, check takes too (a top-level
            // `listen` would be serve's and an unknown key for check).
            if (item.parents.empty() && contains(k_shared_keys, item.name)) {
                if (active == nullptr || active->get_option_no_throw("--" + item.name) == nullptr)
                    continue; // not this subcommand's concern (probe), or no subcommand
                item.parents = {active->get_name()};
            }
            // anything else at the top level is reported as unknown below
            // CLI11 reads the file after the command line and takes a key
            // only for an option the command line left unset.
            if (active != nullptr && item.parents.size() == 1 && item.parents[0] == active->get_name()) {
                const CLI::Option* option = active->get_option_no_throw("--" + item.name);
                if (option != nullptr && option->count() == 0) m_from_file.insert("--" + item.name);
            }
            if (item.name == "users") {
                // sqlite:PATH too; a postgresql:// URI stays as it is.
                for (std::string& value : item.inputs)
                    if (!value.empty()) value = directory::resolve_relative(value, base);
            } else if (contains(k_path_keys, item.name)) {
                for (std::string& value : item.inputs)
                    if (!value.empty() && value != "-" && fs::path(value).is_relative())
                        value = (base / value).lexically_normal().string();
            }
            if (!known(item)) throw CLI::ConfigError(unknown_key_message(item));
            // Repeats within a section were refused above; what is left is a
            // shared key at the top level and in the running subcommand's
            // section (CLI11 let the top-level one hide the section's).
            if (!seen.insert(item.fullname()).second)
                throw CLI::ConfigError(config_file() + ": \"" + item.name + "\" is given at the top level and in [" +
                                       item.parents.front() + "]; the top-level key is [" + item.parents.front() +
                                       "]'s too: give it once");
            out.push_back(std::move(item));
        }
        return out;
    }

  private:
    // A key given twice in one section ("ca" on two lines): TOML allows a key
    // once. Only lines of the form `key = ...` with a bare key count, so the
    // continuation of a value is never taken for a key.
    void refuse_repeated_keys(const std::string& text) const {
        std::istringstream lines(text);
        std::map<std::string, std::size_t> first_line; // "section.key" -> line
        std::string section;
        std::string line;
        for (std::size_t number = 1; std::getline(lines, line); ++number) {
            const auto start = line.find_first_not_of(" \t");
            if (start == std::string::npos || line[start] == '#') continue;
            if (line[start] == '[') {
                const auto end = line.find(']', start);
                section = line.substr(start + 1, end == std::string::npos ? std::string::npos : end - start - 1);
                continue;
            }
            const auto equals = line.find('=', start);
            if (equals == std::string::npos) continue;
            std::string key = line.substr(start, equals - start);
            key.erase(key.find_last_not_of(" \t") + 1);
            key.erase(0, key.find_first_not_of('-'));
            const bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
            });
            if (!bare) continue;
            const std::string name = section.empty() ? key : section + "." + key;
            const auto [it, added] = first_line.emplace(name, number);
            if (!added)
                throw CLI::ConfigError(config_file() + ":" + std::to_string(number) + ": \"" + name +
                                       "\" is given twice (first on line " + std::to_string(it->second) +
                                       "); TOML allows a key once, and a list goes in one: " + key +
                                       " = [\"a\", \"b\"]");
        }
    }

    std::string config_file() const {
        const CLI::Option* option = m_root.get_config_ptr();
        return option ? option->as<std::string>() : std::string{};
    }

    fs::path config_directory() const {
        const std::string file = config_file();
        if (file.empty()) return {};
        return fs::absolute(fs::path(file)).parent_path();
    }

    // Whether CLI11 will find an option for `item` (its own lookup, in
    // App::_parse_single_config): else it reports "INI was not able to parse
    // KEY", naming neither the file nor what is wrong.
    bool known(const CLI::ConfigItem& item) const {
        const CLI::App* app = &m_root;
        for (const std::string& section : item.parents) {
            try {
                app = app->get_subcommand(section);
            } catch (const CLI::OptionNotFound&) {
                return false;
            }
        }
        return app->get_option_no_throw("--" + item.name) != nullptr ||
               (item.name.size() == 1 && app->get_option_no_throw("-" + item.name) != nullptr) ||
               app->get_option_no_throw(item.name) != nullptr;
    }

    std::string unknown_key_message(const CLI::ConfigItem& item) const {
        const std::string key = item.fullname();
        std::string text = config_file() + ": unknown key \"" + key + "\"";
        if (!item.parents.empty()) {
            const std::string& section = item.parents.front();
            const CLI::App* sub = nullptr;
            try {
                sub = m_root.get_subcommand(section);
            } catch (const CLI::OptionNotFound&) {
            }
            if (sub == nullptr || item.parents.size() > 1)
                return text + ": there is no section [" + key.substr(0, key.rfind('.')) +
                       "]; sections are [serve], [check] and [probe]";
            return text + ": not an option of certauth " + section + " (keys are named as its long options)";
        }
        return text + ": the top-level keys are ca, crl, crl-required, security-level and users; a subcommand's own "
                      "keys go in "
                      "its section ([serve], [check], [probe]), named as its long options";
    }

    const CLI::App& m_root;
    // Options of the running subcommand whose value came from the file
    // (recorded by from_config(), which CLI11 declares const).
    mutable std::set<std::string> m_from_file;
};

// Whether `file` is there (a name in the directory) but cannot be read as a
// file: a directory, a dangling link, no permission.
bool present_but_unreadable(const fs::path& file) {
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(file, ec))) return false;
    if (!fs::is_regular_file(fs::status(file, ec))) return true;
    return !std::ifstream(file).good();
}

} // namespace

void use_config_file(CLI::App& root) {
    CLI::Option* config =
        root.set_config("--config", k_default_config,
                        "TOML configuration file (default: ./certauth.toml when present); "
                        "top-level keys ca, crl, crl-required, security-level, users; [serve] for serve's own keys",
                        false);
    // CLI11 skips a default file it cannot read as silently as an absent one;
    // a certauth.toml that is there but unreadable must stop the command, not
    // leave it to run without the configuration the server uses.
    if (present_but_unreadable(k_default_config)) config->required();
    root.config_formatter(std::make_shared<ResolvingConfig>(root));
    root.allow_config_extras(CLI::config_extras_mode::error);
}

std::optional<std::string> config_file_used(const CLI::App& root) {
    const CLI::Option* option = root.get_config_ptr();
    if (option == nullptr || option->count() == 0) return std::nullopt;
    auto file = option->as<std::string>();
    if (file.empty()) return std::nullopt;
    return file;
}

std::string unreadable_config_message(const CLI::App& root) {
    const CLI::Option* option = root.get_config_ptr();
    const std::string file = option ? option->as<std::string>() : std::string(k_default_config);
    Result<std::string> bytes = x509::read_file(file);
    std::string message = bytes ? file + ": cannot be read as a configuration file" : bytes.error().message;
    // The default file: CLI11 2.1 counts it as not given, 2.4 as given.
    if (option == nullptr || option->count() == 0 || file == k_default_config)
        message += " (the configuration file read by default when present; --config FILE names another, "
                   "--config /dev/null none)";
    return message;
}

bool set_on_command_line(const CLI::App& root, const CLI::App& cmd, const std::string& option_name) {
    if (cmd.count(option_name) == 0) return false;
    const auto reader = std::dynamic_pointer_cast<ResolvingConfig>(root.get_config_formatter());
    return reader == nullptr || !reader->from_file(option_name);
}

} // namespace certauth::cli
