#pragma once
// Turning service results into JSON objects and text lines.

#include <string>

#include <nlohmann/json.hpp>

#include "ca/authority.h"

namespace ck::cli {

nlohmann::json to_json(const ca::CertView& v);
/// to_json into an existing object: for long listings, one object is reused
/// and its strings overwritten in place instead of allocated per row.
void assign_json(nlohmann::json& j, const ca::CertView& v);
nlohmann::json to_json(const ca::Issued& v, bool with_password);
nlohmann::json to_json(const store::UserProfile& p);
nlohmann::json to_json(const ca::CaInfo& v);

/// One aligned text line per certificate.
std::string cert_line(const ca::CertView& v);

}  // namespace ck::cli
