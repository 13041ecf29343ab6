#pragma once

#include <string>

#include <openssl/asn1.h>

#include "core/clock.h"
#include "core/error.h"

namespace ck {

/// "2026-11-23T08:13:39Z"
[[nodiscard]] std::string format_iso8601(Seconds t);
[[nodiscard]] Result<Seconds> parse_iso8601(std::string_view text);
/// Converts an X.509 time (UTCTime or GeneralizedTime) to seconds since the epoch.
[[nodiscard]] Result<Seconds> from_asn1_time(const ASN1_TIME& t);

}  // namespace ck
