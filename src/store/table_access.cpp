#include "store/table_access.h"

namespace ck::store {

std::string quoted_identifier(std::string_view name) {
  std::string out = "\"";
  for (const char c : name) {
    if (c == '"')
      out += '"';
    out += c;
  }
  return out + "\"";
}

std::string_view to_string(ColumnType type) {
  switch (type) {
    case ColumnType::Integer:
      return "integer";
    case ColumnType::Boolean:
      return "boolean";
    case ColumnType::Text:
      return "text";
    case ColumnType::Bytes:
      return "bytes";
  }
  return "?";
}

std::string_view to_string(Cell::Kind kind) {
  switch (kind) {
    case Cell::Kind::Null:
      return "null";
    case Cell::Kind::Integer:
      return "integer";
    case Cell::Kind::Text:
      return "text";
    case Cell::Kind::Bytes:
      return "bytes";
  }
  return "?";
}

}  // namespace ck::store
