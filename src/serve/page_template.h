#pragma once
// Shared by the page renderers (pages*.cpp): the embedded templates and the
// helpers that put values into kainjow-mustache data. Not a public header of
// the module: only the renderers include it.

#include <kainjow/mustache.hpp>

#include <string>
#include <string_view>

#include "core/clock.h"
#include "serve/pages.h"

namespace ck::serve::page {

using Data = kainjow::mustache::data;

/// A list for {{#name}}…{{/name}}.
[[nodiscard]] inline Data list() {
  return Data{Data::type::list};
}

/// Sets `key` only when `value` is not empty: kainjow treats every string,
/// even "", as true, and sections like {{#ticket}} must not show for none.
void set_text(Data& data, const std::string& key, std::string_view value);

/// The embedded template `name` (without .mustache) rendered with `data`
/// (HTML-escaped), wrapped in the layout with `title`.
[[nodiscard]] Page render(int status, std::string_view name, const std::string& title,
                          const Data& data, const Snapshot& snap, Seconds now);

/// "2026-11-23 08:13 UTC"
[[nodiscard]] std::string when(Seconds t);
/// Whole days from `now` to `t`, rounded down (negative once past).
[[nodiscard]] long days_until(Seconds t, Seconds now);
/// "12 days", "1 day", "3 hours", "expired 2 days ago"
[[nodiscard]] std::string days_text(Seconds t, Seconds now);
/// The colour band of a notAfter: band-expired, band-7d, band-30d, band-ok.
[[nodiscard]] std::string_view band(Seconds not_after, Seconds now);
/// A path segment or query value, percent-encoded (RFC 3986 unreserved kept).
[[nodiscard]] std::string url_part(std::string_view text);
[[nodiscard]] std::string client_href(std::string_view serial_hex);
[[nodiscard]] std::string server_href(std::string_view name);
/// Case-insensitive (ASCII) substring test for the search box.
[[nodiscard]] bool matches(std::string_view haystack, std::string_view needle);

}  // namespace ck::serve::page
