// A users.json file where a directory is expected: read_entries and lint
// (include/certauth/directory/directory.hpp) for the JSON form.
#include <certauth/directory/directory.hpp>

#include <certauth/json_text.hpp>
#include <certauth/policy/user_list_builder.hpp>

namespace certauth::directory {
namespace {

using nlohmann::json;

Result<json> read_document(const std::string& file) {
    Result<std::string> text = policy::read_user_list_text(file);
    if (!text) return text.error();
    return parse_json(*text, file, DuplicateKeys::refused);
}

Result<void> read_file_entries(const std::string& file, const Directory::EntryCallback& each_user,
                               const Directory::EntryCallback& each_route) {
    if (Result<policy::UserList> valid = policy::UserList::load(file); !valid) return valid.error();
    Result<json> document = read_document(file);
    if (!document) return document.error();
    for (const auto& [key, each] : {std::pair{"users", &each_user}, std::pair{"routes", &each_route}}) {
        const auto items = document->find(key);
        if (items == document->end()) continue;
        for (std::size_t i = 0; i < items->size(); ++i)
            if (Result<void> handled = (*each)(std::to_string(i), nlohmann::ordered_json((*items)[i])); !handled)
                return handled;
    }
    return {};
}

Result<LintReport> lint_file(const std::string& file) {
    LintReport report;
    Result<std::string> text = policy::read_user_list_text(file);
    if (!text) return text.error();
    Result<json> document = parse_json(*text, file, DuplicateKeys::refused);
    if (!document) {
        report.problems.push_back(document.error().message);
        return report;
    }
    policy::UserListBuilder builder(file);
    builder.add_document(*document, [&report](const Error& problem) {
        report.problems.push_back(problem.message);
        return true;
    });
    if (document->is_object()) {
        for (const auto& [key, count] :
             {std::pair{"users", &report.counts.users}, std::pair{"routes", &report.counts.routes}})
            if (const auto items = document->find(key); items != document->end() && items->is_array())
                *count = items->size();
    }
    return report;
}

} // namespace

Result<void> read_entries(const Location& location, const Directory::EntryCallback& each_user,
                          const Directory::EntryCallback& each_route) {
    if (location.kind == Kind::json_file) return read_file_entries(location.target, each_user, each_route);
    Result<Directory> directory = Directory::open(location);
    if (!directory) return directory.error();
    return directory->read_entries(each_user, each_route);
}

Result<LintReport> lint(const Location& location) {
    if (location.kind == Kind::json_file) return lint_file(location.target);
    Result<Directory> directory = Directory::open(location);
    if (!directory) return directory.error();
    return directory->lint();
}

} // namespace certauth::directory
