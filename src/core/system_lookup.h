#pragma once
// Users, groups and programs as this system knows them: what a plan names is
// checked before anything runs, and a file's owner is set by name.

#include <sys/types.h>

#include <string>

#include "core/error.h"

namespace ck {

/// Whether `program` can be executed: a path (with a '/') as given, else
/// searched in PATH ("/usr/bin:/bin" when PATH is not set), as execvp would.
[[nodiscard]] bool program_found(const std::string& program);

/// The uid of user `name`; NotFound "no user 'NAME'" when there is none.
[[nodiscard]] Result<uid_t> user_id(const std::string& name);

/// The gid of group `name`; NotFound "no group 'NAME'" when there is none.
[[nodiscard]] Result<gid_t> group_id(const std::string& name);

}  // namespace ck
