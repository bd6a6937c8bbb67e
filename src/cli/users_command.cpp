// `certauth users init|import|export|add|remove|list|lint|watch`: manages a user
// directory (docs/directory.md). Options in, src/directory calls, results on
// stdout, exit code out.
#include "cli/commands.hpp"
#include "cli/output.hpp"

#include <certauth/directory/directory.hpp>
#include <certauth/directory/location.hpp>
#include <certauth/directory/rows.hpp>
#include <certauth/directory/watcher.hpp>
#include <certauth/json_text.hpp>
#include <certauth/plural.hpp>
#include <certauth/policy/match_key.hpp>
#include <certauth/policy/user_list_builder.hpp>
#include <certauth/x509/time_text.hpp>

#include <array>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <csignal>
#include <pthread.h>
#include <unistd.h>

namespace certauth::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;
using policy::MatchKey;

struct MatchOptions {
    std::array<std::string, policy::k_match_key_count> values;
    std::array<CLI::Option*, policy::k_match_key_count> options{};

    // The match keys given on the command line.
    policy::MatchTexts given() const {
        policy::MatchTexts texts;
        for (std::size_t i = 0; i < values.size(); ++i)
            if (options[i] != nullptr && options[i]->count() > 0) texts[i] = values[i];
        return texts;
    }
};

struct UsersOptions {
    std::string directory;
    std::string file;
    bool json = false;
    double interval = 1;       // users watch: seconds between SQLite polls
    MatchOptions add_match;    // users add's match key options
    MatchOptions remove_match; // users remove's
    std::vector<std::string> roles;
    std::vector<std::string> set;
};

constexpr std::array<const char*, policy::k_match_key_count> k_match_help{
    "the subject's CN",
    "the subject's O",
    "one of the subject's OUs",
    "the subject's emailAddress or a SAN email",
    "a SAN DNS name",
    "a SAN URI",
    "a SAN IP address",
    "the certificate's SHA-256 fingerprint (hex, colons optional)",
    "the certificate's serial number (hex)",
    "the issuer's CN"};

void add_match_options(CLI::App& command, MatchOptions& match) {
    for (MatchKey key : policy::k_match_keys) {
        const std::size_t i = policy::index_of(key);
        std::string flag = "--" + std::string(policy::name_of(key));
        if (key == MatchKey::issuer_cn) flag = "--issuer-cn,--issuer_cn";
        match.options[i] = command.add_option(flag, match.values[i], std::string("match key: ") + k_match_help[i])
                               ->type_name("VALUE")
                               ->group("Match keys");
    }
}

// The location of DIRECTORY; nullopt (after printing the error) when it
// cannot be one, or is a JSON file where `command` needs a database.
std::optional<directory::Location> location_for(const std::string& text, std::string_view command,
                                                bool json_file_allowed) {
    if (text.empty() && !json_file_allowed) {
        // The library's message offers a JSON file as well, which this command refuses.
        print_error("the location of the users is empty; 'certauth users " + std::string(command) +
                    "' needs a database: sqlite:PATH, postgresql://... or \"host=... dbname=...\"");
        return std::nullopt;
    }
    Result<directory::Location> location = directory::parse_location(text);
    if (!location) {
        print_error(location.error());
        return std::nullopt;
    }
    if (!json_file_allowed && !location->is_database()) {
        print_error(location->name() + " is a JSON file; 'certauth users " + std::string(command) +
                    "' needs a database: sqlite:PATH or postgresql://... (list, export and lint read JSON files "
                    "too; edit a JSON file itself)");
        return std::nullopt;
    }
    return *location;
}

std::optional<directory::Directory> open_directory(const directory::Location& location,
                                                   directory::OpenMode mode = directory::OpenMode::existing) {
    Result<directory::Directory> opened = directory::Directory::open(location, mode);
    if (!opened) {
        print_error(opened.error());
        return std::nullopt;
    }
    return std::move(*opened);
}

// Results on stdout, checked: a listing that did not reach its reader is not a success.
int finish_stdout(int code) {
    std::cout.flush();
    if (!std::cout) {
        print_error("standard output: write error");
        return 2;
    }
    return code;
}

int run_init(const UsersOptions& options) {
    const auto location = location_for(options.directory, "init", false);
    if (!location) return 2;
    auto directory = open_directory(*location, directory::OpenMode::create);
    if (!directory) return 2;
    Result<directory::Directory::InitOutcome> outcome = directory->init();
    if (!outcome) {
        print_error(outcome.error());
        return 2;
    }
    const std::string version = std::to_string(directory::k_schema_version);
    std::cout << directory->name()
              << (*outcome == directory::Directory::InitOutcome::created
                      ? ": created a user directory (schema version " + version + ")\n"
                      : ": already a user directory (schema version " + version + "); nothing changed\n");
    return finish_stdout(0);
}

int run_import(const UsersOptions& options) {
    const auto location = location_for(options.directory, "import", false);
    if (!location) return 2;
    // The file is validated whole, as --users FILE would read it, before
    // anything is written.
    Result<std::string> text = policy::read_user_list_text(options.file);
    if (!text) {
        print_error(text.error());
        return 2;
    }
    Result<json> document = parse_json(*text, options.file, DuplicateKeys::refused);
    if (!document) {
        print_error(document.error());
        return 2;
    }
    policy::UserListBuilder builder(options.file);
    std::optional<Error> invalid;
    builder.add_document(*document, [&invalid](const Error& problem) {
        invalid = problem;
        return false;
    });
    if (invalid) {
        print_error(invalid->message);
        return 2;
    }
    auto directory = open_directory(*location);
    if (!directory) return 2;
    Result<directory::Counts> replaced = directory->replace(*document);
    if (!replaced) {
        print_error(replaced.error());
        return 2;
    }
    const std::size_t routes = document->contains("routes") ? document->at("routes").size() : 0;
    std::cout << directory->name() << ": imported " << plural(document->at("users").size(), "user", "users") << " and "
              << plural(routes, "route", "routes") << " from " << options.file << " (replacing "
              << plural(replaced->users, "user", "users") << " and " << plural(replaced->routes, "route", "routes")
              << ")\n";
    return finish_stdout(0);
}

// Writes the users.json export to `out`: one entry per line.
Result<directory::Counts> write_export(const directory::Location& location, std::ostream& out) {
    directory::Counts counts;
    out << "{\n  \"users\": [";
    bool routes_begun = false;
    auto each_user = [&](std::string_view, const ordered_json& entry) -> Result<void> {
        out << (counts.users++ ? ",\n    " : "\n    ") << json_text(entry);
        return {};
    };
    auto each_route = [&](std::string_view, const ordered_json& entry) -> Result<void> {
        if (!routes_begun) out << "\n  ],\n  \"routes\": [";
        routes_begun = true;
        out << (counts.routes++ ? ",\n    " : "\n    ") << json_text(entry);
        return {};
    };
    if (Result<void> read = directory::read_entries(location, each_user, each_route); !read) return read.error();
    out << (routes_begun ? "\n  ]\n}\n" : "\n  ],\n  \"routes\": []\n}\n");
    return counts;
}

int run_export(const UsersOptions& options) {
    const auto location = location_for(options.directory, "export", true);
    if (!location) return 2;
    if (options.file.empty() || options.file == "-") {
        Result<directory::Counts> counts = write_export(*location, std::cout);
        if (!counts) {
            std::cout.flush();
            print_error(counts.error());
            return 2;
        }
        return finish_stdout(0);
    }
    // Written beside the target, then renamed over it: a reader never sees half a file.
    const fs::path target(options.file);
    const fs::path temporary = target.string() + ".tmp-" + std::to_string(::getpid());
    Result<directory::Counts> counts = Error{""};
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out) {
            print_error(temporary.string() + ": cannot create: " + std::strerror(errno));
            return 2;
        }
        counts = write_export(*location, out);
        out.close();
        if (counts && !out) counts = Error{target.string() + ": write error"};
    }
    std::error_code ec;
    if (counts) fs::rename(temporary, target, ec);
    if (!counts || ec) {
        fs::remove(temporary, ec);
        print_error(counts ? target.string() + ": cannot replace: " + ec.message() : counts.error().message);
        return 2;
    }
    std::cout << location->name() << ": exported " << plural(counts->users, "user", "users") << " and "
              << plural(counts->routes, "route", "routes") << " to " << options.file << "\n";
    return finish_stdout(0);
}

// The entry `users add` writes, from the match key options, --role and --set.
Result<json> new_entry(const UsersOptions& options) {
    json entry = json::object();
    const policy::MatchTexts match = options.add_match.given();
    for (MatchKey key : policy::k_match_keys)
        if (const auto& value = match[policy::index_of(key)]) entry[std::string(policy::name_of(key))] = *value;
    if (entry.empty())
        return Error{"users add needs at least one match key (" + policy::match_key_names() +
                     ") as an option: --cn joe, --fingerprint256 ..."};
    for (const std::string& assignment : options.set) {
        const std::size_t equals = assignment.find('=');
        if (equals == std::string::npos || equals == 0)
            return Error{"--set " + assignment + ": expected NAME=VALUE, e.g. --set name=\"Joe Example\""};
        const std::string name = assignment.substr(0, equals);
        if (policy::match_key_named(name))
            return Error{"--set " + assignment + ": " + name + " is a match key; give it as --" + name};
        if (name == "roles") return Error{"--set " + assignment + ": give roles as --role ROLE (repeatable)"};
        if (entry.contains(name)) return Error{"--set " + assignment + ": " + name + " is given twice"};
        entry[name] = assignment.substr(equals + 1);
    }
    if (!options.roles.empty()) entry["roles"] = options.roles;
    return entry;
}

int run_add(const UsersOptions& options) {
    const auto location = location_for(options.directory, "add", false);
    if (!location) return 2;
    Result<json> entry = new_entry(options);
    if (!entry) {
        print_error(entry.error());
        return 2;
    }
    policy::UserListBuilder check(location->name());
    if (Result<void> valid = check.add_user(*entry, "new entry"); !valid) {
        print_error(valid.error());
        return 2;
    }
    auto directory = open_directory(*location);
    if (!directory) return 2;
    Result<std::string> id = directory->add(*entry);
    if (!id) {
        print_error(id.error());
        return 2;
    }
    std::cout << directory->name() << ": added " << directory::row_where("users", *id) << " " << json_text(*entry)
              << "\n";
    return finish_stdout(0);
}

int run_remove(const UsersOptions& options) {
    const auto location = location_for(options.directory, "remove", false);
    if (!location) return 2;
    const policy::MatchTexts match = options.remove_match.given();
    json keys = json::object();
    for (MatchKey key : policy::k_match_keys)
        if (const auto& value = match[policy::index_of(key)]) keys[std::string(policy::name_of(key))] = *value;
    if (keys.empty()) {
        print_error("users remove needs the match keys of the entries to remove: --cn joe, --fingerprint256 ... "
                    "(entries with exactly these match keys are removed)");
        return 2;
    }
    policy::UserListBuilder check(location->name());
    if (Result<void> valid = check.add_user(keys, "match keys"); !valid) {
        print_error(valid.error());
        return 2;
    }
    auto directory = open_directory(*location);
    if (!directory) return 2;
    Result<std::size_t> removed = directory->remove(match);
    if (!removed) {
        print_error(removed.error());
        return 2;
    }
    std::cout << directory->name() << ": removed " << plural(*removed, "entry", "entries") << " with exactly "
              << json_text(keys) << "\n";
    return finish_stdout(0);
}

long long id_number(std::string_view id) {
    long long number = 0;
    std::from_chars(id.data(), id.data() + id.size(), number);
    return number;
}

int run_list(const UsersOptions& options) {
    const auto location = location_for(options.directory, "list", true);
    if (!location) return 2;
    auto printer = [&](std::string_view table) {
        return [&options, &location, table](std::string_view id, const ordered_json& entry) -> Result<void> {
            if (options.json) {
                ordered_json line = ordered_json::object();
                line["table"] = table;
                line["id"] = id_number(id);
                line["entry"] = entry;
                std::cout << json_text(line) << '\n';
            } else {
                const std::string where = location->is_database() ? directory::row_where(table, id)
                                                                  : std::string(table) + "[" + std::string(id) + "]";
                std::cout << where << "  " << json_text(entry) << '\n';
            }
            return {};
        };
    };
    if (Result<void> read = directory::read_entries(*location, printer("users"), printer("routes")); !read) {
        std::cout.flush();
        print_error(read.error());
        return 2;
    }
    return finish_stdout(0);
}

constexpr std::size_t k_lint_shown = 100;

int run_lint(const UsersOptions& options) {
    const auto location = location_for(options.directory, "lint", true);
    if (!location) return 2;
    Result<directory::LintReport> report = directory::lint(*location);
    if (!report) {
        print_error(report.error());
        return 2;
    }
    const std::string counted =
        plural(report->counts.users, "user", "users") + " and " + plural(report->counts.routes, "route", "routes");
    for (std::size_t i = 0; i < report->problems.size() && i < k_lint_shown; ++i)
        std::cout << report->problems[i] << '\n';
    if (report->problems.size() > k_lint_shown)
        std::cout << "... and " << report->problems.size() - k_lint_shown << " more\n";
    if (report->problems.empty())
        std::cout << location->name() << ": " << counted << ", no problems\n";
    else
        std::cout << location->name() << ": " << plural(report->problems.size(), "problem", "problems") << " in "
                  << counted << "\n";
    return finish_stdout(report->problems.empty() ? 0 : 1);
}

// Follows the directory as a server does, printing a line per snapshot and
// per state change, until SIGINT or SIGTERM.
int run_watch(const UsersOptions& options) {
    const auto location = location_for(options.directory, "watch", false);
    if (!location) return 2;
    // Blocked here, so that the watcher's thread inherits the mask and the
    // signals wait for sigwait below.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    directory::WatchOptions watch;
    watch.poll_interval = std::chrono::milliseconds(static_cast<long long>(options.interval * 1000));
    watch.on_event = [now = watch.now](const std::string& line) {
        const std::string text = x509::timestamp_text(now()) + " " + line + "\n";
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
    };
    Result<std::unique_ptr<directory::Watcher>> watcher = directory::Watcher::start(*location, watch);
    if (!watcher) {
        print_error(watcher.error());
        return 2;
    }
    int signal = 0;
    sigwait(&stop_signals, &signal);
    watcher->reset(); // stops and joins the watcher's thread
    return 0;
}

constexpr const char* k_footer = R"(DIRECTORY: sqlite:PATH, postgresql://USER@HOST/DB (a libpq URI) or
"host=HOST dbname=DB ..." (libpq's keyword/value form); the password from it,
PGPASSFILE or ~/.pgpass. list, export and lint also read a users.json file;
init, import, add, remove and watch need a database.

Examples:
  certauth users init sqlite:/var/lib/certauth/users.db
  certauth users import users.json sqlite:/var/lib/certauth/users.db
  certauth users add postgresql://certauth@db/certauth --cn joe --role admin --set name="Joe Example"
  certauth users remove sqlite:users.db --cn joe
  certauth users export sqlite:users.db users.json
  certauth users lint users.json
  certauth users watch postgresql://certauth@db/certauth     # a line per change and per state change
  certauth serve --users sqlite:/var/lib/certauth/users.db ...   # followed: changes in force within a second

Read next: docs/directory.md)";

} // namespace

Command add_users_command(CLI::App& root) {
    auto options = std::make_shared<UsersOptions>();
    auto runners = std::make_shared<std::map<const CLI::App*, std::function<int()>>>();
    CLI::App* users = root.add_subcommand("users", "Manage a user directory (SQLite or PostgreSQL)");
    users->require_subcommand(1);
    users->footer(k_footer);
    auto directory_argument = [&options](CLI::App* command, const char* what) {
        command->add_option("DIRECTORY", options->directory, what)->type_name("")->required();
    };
    auto add = [&](const char* name, const char* help, int (*run)(const UsersOptions&)) {
        CLI::App* command = users->add_subcommand(name, help);
        runners->emplace(command, [options, run] { return run(*options); });
        return command;
    };

    CLI::App* init =
        add("init", "Create the schema in a database (a new SQLite file, or an empty PostgreSQL database)", run_init);
    directory_argument(init, "sqlite:PATH or postgresql://...");

    CLI::App* import = add("import", "Replace a directory's users and routes with a users.json's", run_import);
    import->add_option("FILE", options->file, "the users.json to import")->type_name("")->required();
    directory_argument(import, "sqlite:PATH or postgresql://...");

    CLI::App* exported = add("export", "Write a directory as users.json", run_export);
    directory_argument(exported, "sqlite:PATH, postgresql://... or a users.json");
    exported->add_option("FILE", options->file, "where to write (default: standard output)")->type_name("");

    CLI::App* added = add("add", "Append an entry", run_add);
    directory_argument(added, "sqlite:PATH or postgresql://...");
    add_match_options(*added, options->add_match);
    added->add_option("--role", options->roles, "a role of the entry (repeatable)")
        ->type_name("ROLE")
        ->allow_extra_args(false);
    added->add_option("--set", options->set, "an attribute of the entry, a string (repeatable)")
        ->type_name("NAME=VALUE")
        ->allow_extra_args(false);

    CLI::App* removed = add("remove", "Remove the entries with exactly the given match keys", run_remove);
    directory_argument(removed, "sqlite:PATH or postgresql://...");
    add_match_options(*removed, options->remove_match);

    CLI::App* list = add("list", "List the entries and routes with their ids", run_list);
    directory_argument(list, "sqlite:PATH, postgresql://... or a users.json");
    list->add_flag("--json", options->json, "one JSON object per line: {\"table\",\"id\",\"entry\"}");

    CLI::App* watch = add("watch",
                          "Follow a directory's changes, a line per snapshot and per state change, until "
                          "interrupted",
                          run_watch);
    directory_argument(watch, "sqlite:PATH or postgresql://...");
    watch->add_option("--interval", options->interval, "SQLite: seconds between polls for a commit")
        ->check(CLI::Range(0.01, 3600.0))
        ->capture_default_str();

    CLI::App* lint = add("lint", "Validate every entry and route, as loading does; report every problem", run_lint);
    directory_argument(lint, "sqlite:PATH, postgresql://... or a users.json");

    return {users, [users, runners]() -> int {
                for (const CLI::App* command : users->get_subcommands())
                    return runners->at(command)();
                return 2;
            }};
}

} // namespace certauth::cli
