#include "acme/document.h"

namespace ck::acme {

nlohmann::json parse_document(std::string_view body) {
  bool too_deep = false;
  // The callback sees every value with its depth; dropping the deep ones
  // keeps them from being built at all, and the flag refuses the document.
  auto j = nlohmann::json::parse(
      body,
      [&too_deep](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
        if (depth > kMaxDocumentDepth)
          too_deep = true;
        return !too_deep;
      },
      false);
  if (too_deep)
    return nlohmann::json(nlohmann::json::value_t::discarded);
  return j;
}

}  // namespace ck::acme
