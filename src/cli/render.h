#pragma once
// Turning service results into JSON objects and text lines.

#include <string>

#include <nlohmann/json.hpp>

#include "ca/authority.h"
#include "servercert/inventory.h"

namespace ck::cli {

nlohmann::json to_json(const ca::CertView& v);
/// Appends exactly what to_json(v).dump() gives, without building the object:
/// `expiring --json` writes tens of thousands of rows, and the object's map,
/// key lookups and per-character escaping were most of its time. Strings that
/// need escaping still go through nlohmann.
void append_json(std::string& out, const ca::CertView& v);
nlohmann::json to_json(const ca::Issued& v, bool with_password);
nlohmann::json to_json(const store::UserProfile& p);
nlohmann::json to_json(const ca::CaInfo& v);

/// One aligned text line per certificate.
std::string cert_line(const ca::CertView& v);
/// A server certificate, with "kind": "server" (never its key).
nlohmann::json to_json(const servercert::ServerCertView& v);
std::string cert_line(const servercert::ServerCertView& v);

}  // namespace ck::cli
