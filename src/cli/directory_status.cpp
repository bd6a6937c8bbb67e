#include "cli/directory_status.hpp"

#include <certauth/x509/time_text.hpp>

#include <string>
#include <utility>

namespace certauth::cli {

using server::MetricType;
using server::unix_seconds;

void DirectoryStatus::write_metrics(server::MetricsWriter& out) const {
    const std::optional<FollowedUsers::Followed> followed = m_users->followed();
    if (!followed) return;
    const directory::WatchStatus& status = followed->status;
    out.family("certauth_directory_info",
               "The user directory followed (--users), by name (a postgresql:// URI without its password); always 1",
               MetricType::gauge);
    out.sample({{"directory", followed->name}}, 1);
    out.family("certauth_directory_up",
               "1 while the connection to the user directory's database stands, 0 while it cannot be reached (the "
               "snapshot in force keeps deciding)",
               MetricType::gauge);
    out.sample(status.connected ? 1 : 0);
    out.family("certauth_directory_fresh",
               "1 when the user list in force is the directory's content as last seen; 0 when stale: the database "
               "cannot be reached, or its last change did not load (a bad row)",
               MetricType::gauge);
    out.sample(status.fresh ? 1 : 0);
    if (!status.fresh) {
        out.family("certauth_directory_stale_since_timestamp_seconds",
                   "Unix time at which the user list in force turned stale (present only while it is)",
                   MetricType::gauge);
        out.sample(unix_seconds(status.stale_since));
    }
    out.family("certauth_directory_reloads_total",
               "Reads of the whole user directory by result: success (it became the list in force; the first, at "
               "start-up, included) or failure (a bad row, or the connection lost while reading: the list in force "
               "stays)",
               MetricType::counter);
    out.sample({{"result", "success"}}, static_cast<double>(status.loads_succeeded));
    out.sample({{"result", "failure"}}, static_cast<double>(status.loads_failed));
    out.family("certauth_directory_generation",
               "Snapshots of the user directory built so far: 1 at start-up, one more per change that loaded",
               MetricType::gauge);
    out.sample(static_cast<double>(status.generation));
    out.family("certauth_directory_entries", "Entries (users) of the user directory's snapshot in force",
               MetricType::gauge);
    out.sample(static_cast<double>(status.users));
    out.family("certauth_directory_routes", "Routes of the user directory's snapshot in force", MetricType::gauge);
    out.sample(static_cast<double>(status.routes));
    out.family("certauth_directory_last_load_timestamp_seconds",
               "Unix time at which the user directory's snapshot in force was read", MetricType::gauge);
    out.sample(unix_seconds(status.loaded_at));
}

void DirectoryStatus::write_status(nlohmann::ordered_json& out) const {
    using Json = nlohmann::ordered_json;
    const std::optional<FollowedUsers::Followed> followed = m_users->followed();
    if (!followed) return;
    const directory::WatchStatus& status = followed->status;
    Json directory = Json::object();
    directory["name"] = followed->name;
    directory["state"] = status.fresh ? "fresh" : "stale";
    directory["stale_since"] = status.fresh ? Json(nullptr) : Json(x509::timestamp_text(status.stale_since));
    directory["connected"] = status.connected;
    directory["generation"] = status.generation;
    directory["entries"] = status.users;
    directory["routes"] = status.routes;
    directory["loaded"] = x509::timestamp_text(status.loaded_at);
    Json reloads = Json::object();
    reloads["success"] = status.loads_succeeded;
    reloads["failure"] = status.loads_failed;
    directory["reloads"] = std::move(reloads);
    if (status.last_error.empty()) {
        directory["last_error"] = nullptr;
    } else {
        Json error = Json::object();
        error["time"] = x509::timestamp_text(status.last_error_at);
        error["message"] = status.last_error;
        directory["last_error"] = std::move(error);
    }
    out["directory"] = std::move(directory);
}

} // namespace certauth::cli
