// Inputs fuzz/users (fuzz/users.cpp) found to crash UserList, replayed
// through the normal build: each must give a clean error naming the file and
// the position.
#include <certauth/policy/user_list.hpp>

#include "support/catch.hpp"

#include <filesystem>
#include <string>

using certauth::policy::UserList;

namespace {

const std::filesystem::path k_regressions = std::filesystem::path(CERTAUTH_SOURCE_DIR) / "fuzz/regressions/users";

std::string users_load_error(const std::string& name) {
    const std::filesystem::path file = k_regressions / name;
    REQUIRE(std::filesystem::exists(file));
    auto list = UserList::load(file);
    REQUIRE_FALSE(list);
    return list.error().message;
}

} // namespace

TEST_CASE("a number too large for a double is an error with its position, not an exception", "[policy]") {
    // It escaped as nlohmann's out_of_range: check exited 2 without naming the
    // file, and a reload by SIGHUP left serve deaf to later signals.
    const std::string message = users_load_error("number-overflow.json");
    CHECK(message == (k_regressions / "number-overflow.json").string() +
                         ":1:54: number overflow parsing "
                         "'999999999999999999999e9999999999999999999999999999995'");

    auto inline_list = UserList::parse(R"({"users": [{"cn": "joe", "n": 1e400}]})", "users.json");
    REQUIRE_FALSE(inline_list);
    CHECK(inline_list.error().message == "users.json:1:35: number overflow parsing '1e400'");
    CHECK_FALSE(UserList::parse("-1e99999", "users.json"));
}

TEST_CASE("every fuzz regression input of the user list loads without throwing", "[policy]") {
    for (const auto& entry : std::filesystem::directory_iterator(k_regressions)) {
        if (!entry.is_regular_file() || entry.path().filename().string().front() == '.') continue;
        INFO(entry.path().string());
        CHECK_NOTHROW(UserList::load(entry.path()));
    }
}

TEST_CASE("arrays and objects nested deeper than 64 levels are an error, not a stack overflow", "[policy]") {
    // 100,000 levels overflowed the stack copying the entry's attributes
    // (check crashed; a SIGHUP reload crashed serve).
    const auto nested = [](std::size_t levels) {
        return R"({"users": [{"cn": "joe", "x": )" + std::string(levels, '[') + std::string(levels, ']') + "}]}";
    };
    REQUIRE(UserList::parse(nested(61), "users.json")); // 64 levels with the document, "users" and the entry
    auto deep = UserList::parse(nested(62), "users.json");
    REQUIRE_FALSE(deep);
    CHECK(deep.error().message == "users.json:1:92: arrays and objects nested deeper than 64 levels");
    auto very_deep = UserList::parse(nested(200000), "users.json");
    REQUIRE_FALSE(very_deep);
    CHECK(very_deep.error().message == "users.json:1:92: arrays and objects nested deeper than 64 levels");
    // Brackets inside strings are text.
    CHECK(UserList::parse(R"({"users": [{"cn": ")" + std::string(1000, '[') + R"(\"{"}]})", "users.json"));

    CHECK(users_load_error("deep-nesting.json") ==
          (k_regressions / "deep-nesting.json").string() + ":1:92: arrays and objects nested deeper than 64 levels");
}
