#pragma once
// What serve's status listener (--status) shows of a user directory it
// follows (--users sqlite:PATH or postgresql://...): a "directory" object in
// /status and the certauth_directory_* families in /metrics
// (docs/directory.md "In /status and /metrics"). The state is the
// watcher's (directory::WatchStatus), read at each request.

#include "cli/followed_users.hpp"

#include <certauth/server/metrics_writer.hpp>

#include <memory>

#include <nlohmann/json.hpp>

namespace certauth::cli {

class DirectoryStatus final : public server::StatusSource {
  public:
    explicit DirectoryStatus(std::shared_ptr<const FollowedUsers> users) : m_users(std::move(users)) {}

    void write_metrics(server::MetricsWriter& out) const override;
    void write_status(nlohmann::ordered_json& status) const override;

  private:
    std::shared_ptr<const FollowedUsers> m_users;
};

} // namespace certauth::cli
