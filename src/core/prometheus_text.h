#pragma once
// Prometheus' text exposition format 0.0.4, written family by family: HELP
// and TYPE once, then the samples. A sample whose name and labels were
// written already is dropped instead of repeated, so a duplicate in the data
// (one endpoint in two targets files) never makes the whole scrape invalid.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

namespace ck {

/// A label value escaped for the exposition format (backslash, double quote,
/// newline).
[[nodiscard]] std::string prometheus_label_value(std::string_view value);

class PrometheusText {
 public:
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;
  enum class Type { Gauge, Counter };

  /// Starts a family; `help` is one line of plain text.
  void family(std::string_view name, Type type, std::string_view help);
  void sample(Labels labels, double value);
  void sample(double value) { sample({}, value); }

  /// Samples dropped as duplicates so far.
  [[nodiscard]] std::int64_t duplicates() const { return duplicates_; }
  [[nodiscard]] std::string take() { return std::move(out_); }
  [[nodiscard]] const std::string& text() const { return out_; }

 private:
  std::string out_;
  std::string name_;
  std::string line_;
  std::unordered_set<std::string> seen_;
  std::int64_t duplicates_ = 0;
};

}  // namespace ck
