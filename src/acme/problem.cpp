#include "acme/problem.h"

#include "acme/document.h"

namespace ck::acme {
namespace {

constexpr std::string_view kPrefix = "urn:ietf:params:acme:error:";

std::string text_of(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string one(const nlohmann::json& problem) {
  std::string out = problem_type(problem);
  const std::string detail = text_of(problem, "detail");
  if (!detail.empty())
    out += (out.empty() ? "" : ": ") + detail;
  return out.empty() ? "(empty problem document)" : out;
}

}  // namespace

std::string problem_type(const nlohmann::json& problem) {
  std::string type = text_of(problem, "type");
  if (type.starts_with(kPrefix))
    type.erase(0, kPrefix.size());
  return type;
}

std::string describe_problem(const nlohmann::json& problem) {
  std::string out = one(problem);
  const auto subs = problem.find("subproblems");
  if (subs != problem.end() && subs->is_array()) {
    for (const auto& sub : *subs) {
      std::string who = "(no identifier)";
      if (const auto id = sub.find("identifier"); id != sub.end() && id->is_object())
        who = text_of(*id, "value");
      out += "; " + who + ": " + one(sub);
    }
  }
  return out;
}

Error problem_error(std::string_view what, long status, std::string_view body) {
  const auto doc = parse_document(body);
  if (!doc.is_discarded() && doc.is_object() && doc.contains("type")) {
    const std::string type = problem_type(doc);
    Code code = Code::Protocol;
    if (type == "unauthorized" || type == "accountDoesNotExist" || type == "userActionRequired")
      code = Code::PermissionDenied;
    else if (type == "rateLimited")
      code = Code::Unavailable;
    else if (type == "malformed" || type == "rejectedIdentifier" ||
             type == "unsupportedIdentifier" || type == "badCSR")
      code = Code::InvalidArgument;
    return Error{code, std::string(what) + ": " + describe_problem(doc), {}};
  }
  std::string start(body.substr(0, 200));
  for (auto& ch : start) {
    if (ch == '\n' || ch == '\r')
      ch = ' ';
  }
  return Error{Code::Protocol,
               std::string(what) + ": HTTP " + std::to_string(status) +
                   (start.empty() ? "" : " (" + start + ")"),
               {}};
}

}  // namespace ck::acme
