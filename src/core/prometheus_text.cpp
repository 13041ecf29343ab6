#include "core/prometheus_text.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace ck {

std::string prometheus_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void PrometheusText::family(std::string_view name, Type type, std::string_view help) {
  name_.assign(name);
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  // HELP escapes backslash and newline only.
  for (const char c : help) {
    if (c == '\\')
      out_ += "\\\\";
    else if (c == '\n')
      out_ += "\\n";
    else
      out_ += c;
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += type == Type::Counter ? " counter\n" : " gauge\n";
}

void PrometheusText::sample(Labels labels, double value) {
  line_ = name_;
  if (labels.size() > 0) {
    line_ += '{';
    bool first = true;
    for (const auto& [key, val] : labels) {
      if (!first)
        line_ += ',';
      first = false;
      line_ += key;
      line_ += "=\"";
      line_ += prometheus_label_value(val);
      line_ += '"';
    }
    line_ += '}';
  }
  if (!seen_.insert(line_).second) {
    ++duplicates_;
    return;
  }
  out_ += line_;
  out_ += ' ';
  char number[32];
  if (std::isnan(value)) {
    out_ += "NaN";
  } else if (std::isinf(value)) {
    out_ += value > 0 ? "+Inf" : "-Inf";
  } else if (value == std::floor(value) && std::fabs(value) < 1e15) {
    std::snprintf(number, sizeof number, "%.0f", value);
    out_ += number;
  } else {
    // The shortest text that reads back as the same double ("0.1", not
    // "0.10000000000000001").
    const auto r = std::to_chars(number, number + sizeof number, value);
    out_.append(number, r.ptr);
  }
  out_ += '\n';
}

}  // namespace ck
