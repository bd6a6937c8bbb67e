#pragma once
// Files for tests: the committed fixtures, reading and replacing files, and
// temporary folders that clean up after themselves.

#include <filesystem>
#include <string>

namespace certauth::test {

// The path of a committed fixture: source_path("fixtures/" + name).
std::string fixture(const std::string& name);

// A whole file as bytes; REQUIREs that it can be read.
std::string read_text(const std::filesystem::path& path);

// Writes a temporary file, then renames it over `path`: a reader (a reload)
// sees the old file or the new one, never half of one.
void write_atomically(const std::filesystem::path& path, const std::string& text);

// A new empty folder under the system's temporary folder, removed with what
// it holds (even files a test made unreadable) when the object goes.
struct TempDir {
    std::filesystem::path path;

    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    // Writes `content` to `name` in the folder; returns the file's path.
    std::string write(const std::string& name, const std::string& content) const;
};

} // namespace certauth::test
